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
 * @defgroup tunnel_nat_sa tunnel_nat_sa
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_SA_H_
#define TUNNEL_NAT_SA_H_

#include "tunnel_nat_config.h"

#include <sa/child_sa.h>

typedef struct tunnel_nat_sa_t tunnel_nat_sa_t;
typedef struct tunnel_nat_ts_pair_t tunnel_nat_ts_pair_t;
typedef struct tunnel_nat_block_t tunnel_nat_block_t;

/**
 * A pair of negotiated traffic selector ranges of a CHILD_SA
 */
struct tunnel_nat_ts_pair_t {
	uint32_t lfrom, lto, rfrom, rto;
};

/**
 * What the translations of a CHILD_SA are built from, recorded in the
 * event's hook and kept while it is installed, so that a reload can
 * rebuild them.
 */
struct tunnel_nat_sa_t {
	/** name of the CHILD_SA (its config) */
	char *name;
	/** tunnel_nat_ts_pair_t, the negotiated IPv4 selectors */
	array_t *pairs;
	/** uint32_t[2], the configured local_ts ranges (for a warning) */
	array_t *configured;
	/** reqid of the CHILD_SA (shared by its rekeyed successors) */
	uint32_t reqid;
	/** XFRM marks of the inbound (in, fwd) and outbound policies */
	mark_t mark_in, mark_out;
	/** XFRM interface ids, 0 for none */
	uint32_t if_id_in, if_id_out;
};

/**
 * An alias block of a partner-side mapping: a prefix of the partner's
 * remote prefix that the CHILD_SA negotiated, and the prefix of the same
 * length at the same offset in the alias. Addresses in host byte order.
 */
struct tunnel_nat_block_t {
	/** partner-side mapping the block belongs to */
	tunnel_nat_mapping_t *map;
	/** network address of the block in remote */
	uint32_t remote;
	/** network address of the block in alias */
	uint32_t alias;
	/** prefix length of both */
	uint8_t len;
};

/**
 * Record what a CHILD_SA negotiated.
 *
 * @param child_sa		CHILD_SA
 * @return				record
 */
tunnel_nat_sa_t *tunnel_nat_sa_create(child_sa_t *child_sa);

/**
 * Destroy a record.
 */
void tunnel_nat_sa_destroy(tunnel_nat_sa_t *sa);

/**
 * Build the elements a CHILD_SA needs under a config.
 *
 * @param config		settings
 * @param sa			record of the CHILD_SA
 * @param id			its unique id, for logs
 * @param log			whether to log mappings the selectors don't cover
 * @return				tunnel_nat_elem_t*, NULL if it has no mappings
 */
array_t *tunnel_nat_sa_elems(tunnel_nat_config_t *config, tunnel_nat_sa_t *sa,
							 uint32_t id, bool log);

/**
 * Warn about the CHILD_SA's mappings whose public side is outside the
 * configured local_ts.
 *
 * @param config		settings
 * @param sa			record of the CHILD_SA
 */
void tunnel_nat_sa_check(tunnel_nat_config_t *config, tunnel_nat_sa_t *sa);

/**
 * Check that a CHILD_SA can carry its config's partner-side mappings, and
 * build their alias blocks.
 *
 * The CHILD_SA needs mark_in and mark_out, each value within its mask and
 * the masks disjoint from route_mask, and no XFRM interface id; otherwise
 * it is refused, logged naming the CHILD_SA, the mapping and the swanctl.conf
 * key. Each negotiated remote selector is intersected with the remote
 * prefix of each mapping, and the intersection split into prefixes: a
 * mapping whose remote no selector overlaps is logged and gets no block, and
 * so is each part of a selector outside every remote of the config (flows
 * the partner starts from there cannot be translated).
 *
 * @param config		settings
 * @param sa			record of the CHILD_SA
 * @param id			its unique id, for logs
 * @param route_mask	mark mask of tunnel-route, 0 if it is not loaded
 * @param log			whether to log refusals and warnings
 * @param blocks		array to add the tunnel_nat_block_t to
 * @return				FALSE if the CHILD_SA is refused (no block added)
 */
bool tunnel_nat_sa_partner(tunnel_nat_config_t *config, tunnel_nat_sa_t *sa,
						   uint32_t id, uint32_t route_mask, bool log,
						   array_t *blocks);

/**
 * Build the partner-side elements of a CHILD_SA from its alias blocks:
 * its reqid to the zone and to mark_in, and per block the alias to the
 * zone, to mark_out and to the remote block (DNAT), and mark_in with the
 * remote block to the alias (SNAT). Nothing if there is no block.
 *
 * @param sa			record of the CHILD_SA, accepted by
 *						tunnel_nat_sa_partner()
 * @param id			its unique id, for the comments
 * @param blocks		tunnel_nat_block_t from tunnel_nat_sa_partner()
 * @param zone			conntrack zone of the CHILD_SA's config
 * @param elems			array to add the tunnel_nat_elem_t* to
 */
void tunnel_nat_sa_partner_elems(tunnel_nat_sa_t *sa, uint32_t id,
								 array_t *blocks, uint16_t zone,
								 array_t *elems);

#endif /** TUNNEL_NAT_SA_H_ @}*/
