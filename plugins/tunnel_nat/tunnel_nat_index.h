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
 * @defgroup tunnel_nat_index tunnel_nat_index
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_INDEX_H_
#define TUNNEL_NAT_INDEX_H_

#include "tunnel_nat_state.h"

typedef struct tunnel_nat_index_t tunnel_nat_index_t;

/**
 * Callback testing a candidate of tunnel_nat_index_t.find().
 *
 * @param ctx		context passed to find()
 * @param elem		candidate element
 * @return			TRUE to stop and return the candidate
 */
typedef bool (*tunnel_nat_index_match_t)(void *ctx, tunnel_nat_elem_t *elem);

/**
 * Index of elements by the parts of their keys that decide an overlap, so
 * that the overlap check of a new element looks at a few candidates instead
 * of every installed element.
 *
 * Two keys can only overlap with the same map, protocol, port and bind (a
 * partition). Within a partition, in each dimension (source and destination
 * range), an element is filed at the finest of 8 levels (blocks of 2^4 to
 * 2^32 addresses) at which its range touches at most 16 blocks: under each
 * of those blocks, and in the level's list of all its elements. A lookup
 * takes the dimension that gives fewer candidates and walks every level
 * there: the blocks its range touches, or the level's whole list where
 * that is shorter.
 *
 * The index stores pointers; the caller owns the elements and removes each
 * before freeing it. Pure: no netlink, no threads, not thread-safe.
 */
struct tunnel_nat_index_t {

	/**
	 * File an element.
	 *
	 * @param elem		element, not yet filed
	 */
	void (*add)(tunnel_nat_index_t *this, tunnel_nat_elem_t *elem);

	/**
	 * Remove a filed element (the same pointer).
	 *
	 * @param elem		element
	 */
	void (*remove)(tunnel_nat_index_t *this, tunnel_nat_elem_t *elem);

	/**
	 * Find a filed element that matches, among those whose keys may overlap
	 * elem's. Every filed element whose key overlaps elem's is offered to
	 * match (some may be offered twice, others that do not overlap too).
	 *
	 * @param elem		element to check
	 * @param match		callback deciding on a candidate
	 * @param ctx		context for match
	 * @return			the first candidate match accepted, NULL if none
	 */
	tunnel_nat_elem_t *(*find)(tunnel_nat_index_t *this,
							   tunnel_nat_elem_t *elem,
							   tunnel_nat_index_match_t match, void *ctx);

	/**
	 * Destroy the index (not the elements).
	 */
	void (*destroy)(tunnel_nat_index_t *this);
};

/**
 * Create an empty index.
 */
tunnel_nat_index_t *tunnel_nat_index_create();

#endif /** TUNNEL_NAT_INDEX_H_ @}*/
