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
 * @defgroup tunnel_nat_listener tunnel_nat_listener
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_LISTENER_H_
#define TUNNEL_NAT_LISTENER_H_

#include "tunnel_nat_config.h"
#include "tunnel_nat_state.h"

#include <bus/listeners/listener.h>
#include <nl_socket.h>

typedef struct tunnel_nat_listener_t tunnel_nat_listener_t;

/**
 * Listener installing and removing a CHILD_SA's translations.
 */
struct tunnel_nat_listener_t {

	/**
	 * Implements listener_t.
	 */
	listener_t listener;

	/**
	 * Load the settings and create the nftables table, replacing a stale one.
	 *
	 * @return			TRUE if the table is in place
	 */
	bool (*start)(tunnel_nat_listener_t *this);

	/**
	 * Apply reloaded settings to the live CHILD_SAs in one transaction:
	 * added, removed and changed mappings; unchanged translations are not
	 * touched. Invalid settings are rejected as a whole.
	 *
	 * @return			TRUE if applied
	 */
	bool (*reload)(tunnel_nat_listener_t *this);

	/**
	 * Delete the nftables table and forget all state.
	 */
	void (*stop)(tunnel_nat_listener_t *this);

	/**
	 * Destroy the listener.
	 */
	void (*destroy)(tunnel_nat_listener_t *this);
};

/**
 * Create the listener.
 *
 * @param socket		NETLINK_NETFILTER socket to use, not owned
 * @return				listener
 */
tunnel_nat_listener_t *tunnel_nat_listener_create(nl_socket_t *socket);

#endif /** TUNNEL_NAT_LISTENER_H_ @}*/
