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
 * @defgroup tunnel_route_listener tunnel_route_listener
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_LISTENER_H_
#define TUNNEL_ROUTE_LISTENER_H_

#include <bus/listeners/listener.h>
#include <nl_socket.h>

typedef struct tunnel_route_listener_t tunnel_route_listener_t;

/**
 * Listener installing per-tunnel policy routes.
 */
struct tunnel_route_listener_t {

	/**
	 * Implements listener_t.
	 */
	listener_t listener;

	/**
	 * Load the settings, remove what an earlier run left behind, install the
	 * nftables table and the FIB rule, and start watching the configuration.
	 *
	 * @return			TRUE if everything is in place
	 */
	bool (*start)(tunnel_route_listener_t *this);

	/**
	 * Remove the rule, the routes and the nftables table.
	 */
	void (*stop)(tunnel_route_listener_t *this);

	/**
	 * Apply reloaded sources to the live state in one nftables transaction;
	 * settings that need a restart keep their running values (logged).
	 * Invalid settings are rejected as a whole.
	 *
	 * @return			TRUE if applied
	 */
	bool (*reload)(tunnel_route_listener_t *this);

	/**
	 * Destroy the listener.
	 */
	void (*destroy)(tunnel_route_listener_t *this);
};

/**
 * Create the listener.
 *
 * @param rtnl		NETLINK_ROUTE socket, not owned
 * @param nfnl		NETLINK_NETFILTER socket, not owned
 */
tunnel_route_listener_t *tunnel_route_listener_create(nl_socket_t *rtnl,
													  nl_socket_t *nfnl);

#endif /** TUNNEL_ROUTE_LISTENER_H_ @}*/
