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
 * @defgroup tunnel_route_pairs tunnel_route_pairs
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_PAIRS_H_
#define TUNNEL_ROUTE_PAIRS_H_

#include "tunnel_route_ranges.h"

#include <library.h>
#include <collections/array.h>

typedef struct tunnel_route_pairs_t tunnel_route_pairs_t;
typedef struct tunnel_route_pair_t tunnel_route_pair_t;

/**
 * Maximum length of a pair's comment, including the terminator.
 */
#define TUNNEL_ROUTE_COMMENT_LEN 64

/**
 * An element of the nftables sets: traffic from src to dst gets the tunnel
 * mark, or (bypass, src is any address) the bypass mark.
 */
struct tunnel_route_pair_t {
	/** the bypass set, not the tunnel's pairs */
	bool bypass;
	/** source and destination range */
	tunnel_route_range_t src, dst;
	/** comment shown by nft, not part of the identity */
	char comment[TUNNEL_ROUTE_COMMENT_LEN];
};

/**
 * Apply the pairs of a change to the kernel, in one transaction.
 *
 * @param user		user data
 * @param add		tunnel_route_pair_t* to add
 * @param del		tunnel_route_pair_t* to delete
 * @return			TRUE if the kernel now holds exactly the needed pairs
 */
typedef bool (*tunnel_route_commit_pairs_t)(void *user, array_t *add,
											array_t *del);

/**
 * The pairs of tunnel-route's nftables sets: each with the number of
 * reasons that need it (a CHILD_SA config's known destination range, with
 * one of its sources or, for bypass, any source), whether the kernel holds
 * it, and the pairs touched since the last commit.
 *
 * No netlink, no threads: the caller serializes all calls.
 */
struct tunnel_route_pairs_t {

	/**
	 * Take a reference on a pair, creating it.
	 *
	 * @param bypass	the bypass set
	 * @param src		source range
	 * @param dst		destination range
	 * @param child		CHILD_SA config, named in a new pair's comment
	 */
	void (*ref)(tunnel_route_pairs_t *this, bool bypass,
				tunnel_route_range_t *src, tunnel_route_range_t *dst,
				const char *child);

	/**
	 * Drop a reference on a pair, if it has any.
	 */
	void (*unref)(tunnel_route_pairs_t *this, bool bypass,
				  tunnel_route_range_t *src, tunnel_route_range_t *dst);

	/**
	 * Send the touched pairs that are needed but not installed, or
	 * installed but no longer needed, in one call of commit (none if there
	 * are none). If it succeeds, they count as installed or deleted. Then
	 * forget the pairs neither needed nor installed, and start the next
	 * change.
	 *
	 * @param commit	function applying the pairs
	 * @param user		its user data
	 */
	void (*commit)(tunnel_route_pairs_t *this,
				   tunnel_route_commit_pairs_t commit, void *user);

	/**
	 * Enumerate the pairs.
	 *
	 * @param installed	TRUE for those in the kernel, FALSE for the needed ones
	 * @return			enumerator over tunnel_route_pair_t*
	 */
	enumerator_t *(*create_enumerator)(tunnel_route_pairs_t *this,
									   bool installed);

	/**
	 * Reference count of a pair.
	 *
	 * @return			number of references, 0 if none
	 */
	u_int (*get_refs)(tunnel_route_pairs_t *this, bool bypass,
					  tunnel_route_range_t *src, tunnel_route_range_t *dst);

	/**
	 * Number of pairs held (needed, installed or both).
	 */
	u_int (*get_count)(tunnel_route_pairs_t *this);

	/**
	 * Destroy the pairs.
	 */
	void (*destroy)(tunnel_route_pairs_t *this);
};

/**
 * Create an empty set of pairs.
 */
tunnel_route_pairs_t *tunnel_route_pairs_create();

#endif /** TUNNEL_ROUTE_PAIRS_H_ @}*/
