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
 * @defgroup tunnel_route_state tunnel_route_state
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_STATE_H_
#define TUNNEL_ROUTE_STATE_H_

#include "tunnel_route_config.h"
#include "tunnel_route_pairs.h"
#include "tunnel_route_ranges.h"

#include <library.h>
#include <collections/array.h>
#include <collections/hashtable.h>

typedef struct tunnel_route_state_t tunnel_route_state_t;
typedef struct tunnel_route_target_t tunnel_route_target_t;
typedef struct tunnel_route_dest_t tunnel_route_dest_t;
typedef struct tunnel_route_update_t tunnel_route_update_t;

/**
 * Where a destination's route points. All zero: no route.
 */
struct tunnel_route_target_t {
	/** refuse (fail-closed) */
	bool prohibit;
	/** outgoing interface, 0 for none */
	uint32_t oif;
	/** gateway, 0 for none (host byte order) */
	uint32_t gw;
};

/**
 * A destination prefix of the plugin's routing table.
 */
struct tunnel_route_dest_t {
	/** prefix (host byte order) */
	uint32_t net;
	uint8_t len;
	/** the route the kernel has */
	tunnel_route_target_t installed;
};

/**
 * A route to change: a destination whose desired target is not the
 * installed one.
 */
struct tunnel_route_update_t {
	/** destination prefix (host byte order) */
	uint32_t net;
	uint8_t len;
	/** the route the kernel has */
	tunnel_route_target_t from;
	/** the route it gets; none means delete the route "from" */
	tunnel_route_target_t to;
	/** set by the commit function if the kernel took it */
	bool acked;
};

/**
 * Apply the routes of a change to the kernel, each on its own.
 *
 * @param user		user data
 * @param updates	routes to change, each's acked set if it was applied
 * @param count		number of updates, at least 1
 * @return			TRUE if every route was applied
 */
typedef bool (*tunnel_route_commit_routes_t)(void *user,
									tunnel_route_update_t *updates, u_int count);

/**
 * The routing state of tunnel-route: the destinations of the plugin's
 * routing table and the CHILD_SAs routing them, the CHILD_SA configs with
 * sources and the destination ranges they know (configured or negotiated),
 * the (source . destination) pairs of the nftables sets, each with its
 * reference count, and the change being built.
 *
 * Every operation adds to the change; commit() sends it (pairs first, then
 * the routes whose target changed) and starts the next. No netlink, no
 * threads: the caller serializes all calls.
 */
struct tunnel_route_state_t {

	/**
	 * Use a (new) config: its sources and fail_closed. With a config in
	 * use already, the pairs of every known destination change to the new
	 * sources (new references first, so that what stays is never
	 * withdrawn).
	 *
	 * @param config	config, not owned, must live until replaced
	 */
	void (*set_config)(tunnel_route_state_t *this,
					   tunnel_route_config_t *config);

	/**
	 * A CHILD_SA comes up (again: its earlier state is replaced).
	 *
	 * Its child learns its configured ranges and the negotiated ones; with
	 * a target, the CHILD_SA routes the destinations of the negotiated
	 * ranges, behind the CHILD_SAs that already do.
	 *
	 * @param id		unique id of the CHILD_SA
	 * @param child		name of its config
	 * @param negotiated	tunnel_route_range_t*, its remote ranges (sorted,
	 *					see tunnel_route_ranges.h), owned
	 * @param configured	tunnel_route_range_t*, the config's remote ranges
	 *					(sorted), owned
	 * @param target	where its traffic goes, NULL if unknown: its
	 *					destinations stay refused
	 * @return			FALSE if the child has no sources (nothing changes)
	 */
	bool (*sa_up)(tunnel_route_state_t *this, uint32_t id, const char *child,
				  array_t *negotiated, array_t *configured,
				  tunnel_route_target_t *target);

	/**
	 * A CHILD_SA goes down: it routes nothing, and its child knows its
	 * negotiated ranges for one reason less.
	 *
	 * @param id		unique id of the CHILD_SA
	 */
	void (*sa_down)(tunnel_route_state_t *this, uint32_t id);

	/**
	 * Check if a CHILD_SA is in the state.
	 */
	bool (*has_sa)(tunnel_route_state_t *this, uint32_t id);

	/**
	 * Give the children the configured ranges found in the loaded configs.
	 *
	 * @param found		child name => array_t of tunnel_route_range_t*
	 *					(sorted), not modified; a child that is not in it
	 *					has none
	 */
	void (*set_configured)(tunnel_route_state_t *this, hashtable_t *found);

	/**
	 * Send the change to the kernel and start the next one.
	 *
	 * pairs() is called if pairs are to be added or deleted, routes() if
	 * routes are to change. Destinations and pairs that are no longer
	 * needed are forgotten once the kernel has none of them.
	 *
	 * @param pairs		function applying the pairs
	 * @param routes	function applying the routes
	 * @param user		user data passed to both
	 * @return			FALSE if a route failed
	 */
	bool (*commit)(tunnel_route_state_t *this,
				   tunnel_route_commit_pairs_t pairs,
				   tunnel_route_commit_routes_t routes, void *user);

	/**
	 * Enumerate the pairs.
	 *
	 * @param installed	TRUE for those in the kernel, FALSE for the needed ones
	 * @return			enumerator over tunnel_route_pair_t*
	 */
	enumerator_t *(*create_pair_enumerator)(tunnel_route_state_t *this,
											bool installed);

	/**
	 * Enumerate the routes in the kernel.
	 *
	 * @return			enumerator over tunnel_route_dest_t* with a route
	 */
	enumerator_t *(*create_route_enumerator)(tunnel_route_state_t *this);

	/**
	 * Check if a destination is in the state (known, routed or installed).
	 */
	bool (*has_dest)(tunnel_route_state_t *this, uint32_t net, uint8_t len);

	/**
	 * The route a destination should have.
	 *
	 * @param target	receives the target
	 * @return			FALSE if the destination is not in the state
	 */
	bool (*get_desired)(tunnel_route_state_t *this, uint32_t net, uint8_t len,
						tunnel_route_target_t *target);

	/**
	 * Reference count of a pair.
	 *
	 * @return			number of (child, known range) needing it, 0 if none
	 */
	u_int (*get_pair_refs)(tunnel_route_state_t *this, bool bypass,
						   tunnel_route_range_t *src,
						   tunnel_route_range_t *dst);

	/**
	 * Number of reasons a child knows a destination range (its config, and
	 * each of its CHILD_SAs that negotiated it).
	 */
	u_int (*get_known_refs)(tunnel_route_state_t *this, const char *child,
							tunnel_route_range_t *range);

	/**
	 * Number of pairs, destinations, CHILD_SAs and CHILD_SA configs held.
	 */
	u_int (*get_pair_count)(tunnel_route_state_t *this);
	u_int (*get_dest_count)(tunnel_route_state_t *this);
	u_int (*get_sa_count)(tunnel_route_state_t *this);
	u_int (*get_child_count)(tunnel_route_state_t *this);

	/**
	 * Destroy the state.
	 */
	void (*destroy)(tunnel_route_state_t *this);
};

/**
 * Create an empty state.
 */
tunnel_route_state_t *tunnel_route_state_create();

/**
 * Check if two targets are the same.
 */
bool tunnel_route_target_equals(tunnel_route_target_t *a,
								tunnel_route_target_t *b);

/**
 * Check if a target is no route at all.
 */
bool tunnel_route_target_none(tunnel_route_target_t *t);

#endif /** TUNNEL_ROUTE_STATE_H_ @}*/
