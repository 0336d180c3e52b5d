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
 * @defgroup tunnel_route_nft tunnel_route_nft
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_NFT_H_
#define TUNNEL_ROUTE_NFT_H_

#include "tunnel_route_state.h"

#include <nl_batch.h>
#include <nft_util.h>

/**
 * Name of the set of (source . destination) pairs that get the mark
 */
#define TUNNEL_ROUTE_SET "pairs"

/**
 * Name of the set of exact source . destination pairs (a hash)
 */
#define TUNNEL_ROUTE_HOSTS_SET "pairs_hosts"

/**
 * Name of the set of (any . destination) pairs: the rest of the traffic to
 * a tunnel's destinations, which gets the bypass mark
 */
#define TUNNEL_ROUTE_BYPASS_SET "bypass"

/**
 * Name of the set of single destination addresses to bypass (a hash)
 */
#define TUNNEL_ROUTE_BYPASS_HOSTS_SET "bypass_hosts"

/**
 * Name of the set of (source . any) pairs of the start-up guard: until the
 * configs are known, the sources' traffic to anywhere gets the tunnel mark
 * (and meets the prohibit default route of the plugin's table)
 */
#define TUNNEL_ROUTE_GUARD_SET "guard"

/**
 * Add messages that create the table from scratch, replacing any table of
 * that name: the three sets and, in prerouting (forwarded traffic) and
 * output (the gateway's own), three rules each: packets whose ip saddr .
 * ip daddr is in the bypass set get the bypass mark, then those in the pairs
 * or the guard set get the tunnel mark (within mask; other bits of the mark
 * are kept).
 */
void tunnel_route_nft_table(nl_batch_t *batch, const char *table,
							uint32_t mark, uint32_t bypass_mark, uint32_t mask);

/**
 * Add messages adding pairs to their sets, or deleting them: exact pairs to
 * the hashes, ranges to the interval sets, one message per set (or per
 * batch of elements) in the order bypass_hosts, bypass, pairs_hosts, pairs.
 *
 * @param table		nftables table
 * @param pairs		tunnel_route_pair_t*
 * @param add		TRUE to add, FALSE to delete
 */
void tunnel_route_nft_pairs(nl_batch_t *batch, const char *table,
							array_t *pairs, bool add);

/**
 * Add messages adding the guard set's elements: each source range, to any
 * destination.
 *
 * @param table		nftables table
 * @param sources	tunnel_route_range_t*
 */
void tunnel_route_nft_guard(nl_batch_t *batch, const char *table,
							array_t *sources);

#endif /** TUNNEL_ROUTE_NFT_H_ @}*/
