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
 * @defgroup tunnel_route_guard tunnel_route_guard
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_GUARD_H_
#define TUNNEL_ROUTE_GUARD_H_

#include "tunnel_route_config.h"
#include "tunnel_route_state.h"

#include <nl_socket.h>

typedef struct tunnel_route_guard_t tunnel_route_guard_t;

/**
 * The start-up guard: until the configs of the CHILD_SAs that sources name
 * are loaded, the plugin cannot know their destinations, so it refuses the
 * sources' traffic to anywhere. The guard set gives that traffic the tunnel
 * mark, and a prohibit default route in the plugin's table refuses it.
 *
 * Not thread-safe: the caller serializes all calls.
 */
struct tunnel_route_guard_t {

	/**
	 * Put the guard in place (unless there are no sources), and log it.
	 *
	 * @param config	settings in use
	 */
	void (*up)(tunnel_route_guard_t *this, tunnel_route_config_t *config);

	/**
	 * Lift the guard once every CHILD_SA config with sources is loaded, or
	 * once guard_timeout has passed, and log why. Does nothing unless the
	 * guard is up.
	 *
	 * @param config	settings in use
	 * @param found		names of the loaded CHILD_SA configs with sources
	 *					(as keys)
	 * @param state		routing state: the default route stays if a tunnel
	 *					routes the default itself
	 */
	void (*check)(tunnel_route_guard_t *this, tunnel_route_config_t *config,
				  hashtable_t *found, tunnel_route_state_t *state);

	/**
	 * Check if the guard is in place.
	 */
	bool (*is_up)(tunnel_route_guard_t *this);

	/**
	 * If the guard is up, add the messages restoring its set's elements.
	 *
	 * @param config	settings in use
	 * @param batch		nftables batch (within a transaction)
	 */
	void (*restore_elems)(tunnel_route_guard_t *this,
						  tunnel_route_config_t *config, nl_batch_t *batch);

	/**
	 * Whether the guard is up or not, add the messages putting every
	 * source in the guard's set: all their traffic gets the tunnel mark and
	 * meets the prohibit default route. What a failed restore falls back to
	 * (fail-closed) when the table with the pairs could not be restored.
	 *
	 * @param config	settings in use
	 * @param batch		nftables batch (within a transaction)
	 */
	void (*block_elems)(tunnel_route_guard_t *this,
						tunnel_route_config_t *config, nl_batch_t *batch);

	/**
	 * If the guard is up, add the message restoring its default route.
	 *
	 * @param config	settings in use
	 * @param batch		rtnetlink batch
	 * @return			TRUE if a route was added to the batch
	 */
	bool (*restore_route)(tunnel_route_guard_t *this,
						  tunnel_route_config_t *config, nl_batch_t *batch);

	/**
	 * Forget the guard without lifting it (its set and route went with the
	 * table and the routes).
	 */
	void (*forget)(tunnel_route_guard_t *this);

	/**
	 * Destroy the guard.
	 */
	void (*destroy)(tunnel_route_guard_t *this);
};

/**
 * Add the message replacing our table's default route with a prohibit route
 * (add), or deleting it.
 *
 * @param config	settings in use
 * @param batch		rtnetlink batch
 * @param add		TRUE to add (replace), FALSE to delete
 */
void tunnel_route_guard_default_route(tunnel_route_config_t *config,
									  nl_batch_t *batch, bool add);

/**
 * Create a guard, not in place.
 *
 * @param rtnl		NETLINK_ROUTE socket, not owned
 * @param nfnl		NETLINK_NETFILTER socket, not owned
 */
tunnel_route_guard_t *tunnel_route_guard_create(nl_socket_t *rtnl,
												nl_socket_t *nfnl);

#endif /** TUNNEL_ROUTE_GUARD_H_ @}*/
