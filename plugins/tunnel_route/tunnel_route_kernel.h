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
 * @defgroup tunnel_route_kernel tunnel_route_kernel
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_KERNEL_H_
#define TUNNEL_ROUTE_KERNEL_H_

#include "tunnel_route_config.h"
#include "tunnel_route_state.h"
#include "tunnel_route_guard.h"

#include <nl_socket.h>

typedef struct tunnel_route_kernel_t tunnel_route_kernel_t;

/**
 * What tunnel-route keeps in the kernel: its nftables table, its two FIB
 * rules and the routes of its table, over netlink. Each failure is logged
 * where it happens. Not thread-safe: the caller serializes all calls.
 */
struct tunnel_route_kernel_t {

	/**
	 * Remove what an earlier run left behind, then create the nftables
	 * table and add the rules. If the rules fail, the table is removed
	 * again.
	 *
	 * @param config	settings
	 * @return			TRUE if everything is in place
	 */
	bool (*install)(tunnel_route_kernel_t *this, tunnel_route_config_t *config);

	/**
	 * Remove the rules, every route tagged as ours or in our table, and the
	 * nftables table.
	 *
	 * @param config	settings
	 */
	void (*uninstall)(tunnel_route_kernel_t *this,
					  tunnel_route_config_t *config);

	/**
	 * Send the state's change: the pairs in one nftables transaction (if it
	 * fails, the sets are rewritten whole), then one message per route
	 * whose target changes.
	 *
	 * @param config	settings
	 * @param state		state whose change to commit
	 * @param what		what the change is, for logs
	 * @return			FALSE if a route failed
	 */
	bool (*commit)(tunnel_route_kernel_t *this, tunnel_route_config_t *config,
				   tunnel_route_state_t *state, const char *what);

	/**
	 * Restore the nftables table, the rules and the routes after another
	 * program deleted some of them, and log it, with the reason of the
	 * first failure if a step failed.
	 *
	 * Fail-closed throughout: a prohibit default route goes into our
	 * table first and stays until every route is restored (marked
	 * traffic to a destination without its route would fall through to
	 * the main table); the rules come next, then the nftables table in one
	 * transaction; if that fails, the table is put back with every source
	 * in the guard's set (all their traffic is refused); the routes last.
	 *
	 * @param config	settings
	 * @param state		state to restore
	 * @param guard		start-up guard, restored if it is up
	 * @param why		what happened, for the log
	 * @return			TRUE if everything was restored
	 */
	bool (*restore)(tunnel_route_kernel_t *this, tunnel_route_config_t *config,
					tunnel_route_state_t *state, tunnel_route_guard_t *guard,
					const char *why);

	/**
	 * Destroy the object (what is in the kernel stays).
	 */
	void (*destroy)(tunnel_route_kernel_t *this);
};

/**
 * Create the object.
 *
 * @param rtnl		NETLINK_ROUTE socket, not owned
 * @param nfnl		NETLINK_NETFILTER socket, not owned
 */
tunnel_route_kernel_t *tunnel_route_kernel_create(nl_socket_t *rtnl,
												  nl_socket_t *nfnl);

#endif /** TUNNEL_ROUTE_KERNEL_H_ @}*/
