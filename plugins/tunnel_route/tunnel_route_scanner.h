/*
 * Copyright (C) 2026 The tunnel-nat authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 *
 * This program is distributed in the hope that it will be useful, but
 * WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
 * or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU General Public License
 * for more details.
 */

/**
 * @defgroup tunnel_route_scanner tunnel_route_scanner
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_SCANNER_H_
#define TUNNEL_ROUTE_SCANNER_H_

#include "tunnel_route_config.h"

#include <collections/hashtable.h>
#include <threading/mutex.h>

typedef struct tunnel_route_scanner_t tunnel_route_scanner_t;

/**
 * What a scan found, called with the mutex held.
 *
 * @param user		user data
 * @param found		child name => array_t of tunnel_route_range_t*, the
 *					configured destination ranges of the loaded CHILD_SA
 *					configs that have sources
 */
typedef void (*tunnel_route_scanned_t)(void *user, hashtable_t *found);

/**
 * A thread that reads the loaded CHILD_SA configs every refresh_interval
 * seconds, and reports their destinations.
 *
 * charon's configs are read without the mutex (loading a config may raise
 * CHILD_SA events, whose hooks take it), with a reference to the plugin's
 * settings taken under it, so a reload may replace them meanwhile; the
 * report is made with the mutex.
 */
struct tunnel_route_scanner_t {

	/**
	 * Scan now. The caller holds the mutex.
	 */
	void (*wake)(tunnel_route_scanner_t *this);

	/**
	 * Stop the thread, wait for it and destroy the scanner. The caller does
	 * not hold the mutex.
	 */
	void (*destroy)(tunnel_route_scanner_t *this);
};

/**
 * Start a scanner.
 *
 * @param mutex		the mutex serializing the plugin's state, not owned
 * @param config	where the settings in use are (read like the plugin's
 *					state: which children have sources, the interval)
 * @param cb		called with each scan's result
 * @param user		user data for cb
 */
tunnel_route_scanner_t *tunnel_route_scanner_create(mutex_t *mutex,
								tunnel_route_config_t **config,
								tunnel_route_scanned_t cb, void *user);

#endif /** TUNNEL_ROUTE_SCANNER_H_ @}*/
