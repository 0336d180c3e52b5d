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
 * @defgroup tunnel_nat_nft tunnel_nat_nft
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_NFT_H_
#define TUNNEL_NAT_NFT_H_

#include "tunnel_nat_state.h"
#include "tunnel_nat_nft_partner.h"

#include <nl_batch.h>

/**
 * Names of the maps, indexed by tunnel_nat_map_t
 */
extern const char *tunnel_nat_map_names[];

/**
 * Names of the chains
 */
#define TUNNEL_NAT_CHAIN_PRE "prerouting"
#define TUNNEL_NAT_CHAIN_POST "postrouting"
#define TUNNEL_NAT_CHAIN_DECRYPTED "decrypted"

/**
 * Messages go between nft_msg_begin() and nft_msg_end() (nft_util.h).
 *
 * Add messages that create the table from scratch, replacing any table of
 * that name: add table, delete table, add table, its maps, chains and rules.
 *
 * Only packets that came out of IPsec (tunnel_nat_nft_decrypted()) get to
 * the DNAT rules, in the chain decrypted, gone to first in prerouting; they
 * see no other rule of prerouting, so never the partner side's alias DNAT.
 *
 * With partner-side mappings, the table also gets the chains, the maps and
 * the rules of the partner side, for each length class of the settings;
 * without, it is the same as without that support.
 *
 * With counters, every map of translations but the partner side's (which
 * count by themselves) gets a counting set with its keys, and a filter
 * chain at the forward hook looks up each packet of a translated flow in
 * them, by the original direction's tuple of its conntrack entry.
 *
 * @param table		table name
 * @param iface		interface decrypted packets arrive on, NULL for secpath
 * @param partner	partner side, NULL for none
 * @param counters	TRUE for the counting sets and chain
 */
void tunnel_nat_nft_table(nl_batch_t *batch, const char *table,
						  const char *iface, tunnel_nat_nft_partner_t *partner,
						  bool counters);

/**
 * Add the rules that end, in a chain, the packets that came out of IPsec
 * (one verdict, each rule one way of coming out): decrypted by XFRM (meta
 * secpath exists: policy-based tunnels and XFRM interfaces) or arriving on
 * a VTI (meta iifkind "vti": its decapsulation drops the secpath, and only
 * decrypted packets come out of it); or, if iface is given, instead of
 * both, those that arrived on that interface (kernel-libipsec's TUN
 * device).
 *
 * @param chain		chain to add them to
 * @param iface		interface decrypted packets arrive on, NULL for XFRM
 * @param to		chain to go to, NULL to return
 * @param comment	what the rules are for, the start of their comments
 */
void tunnel_nat_nft_decrypted(nl_batch_t *batch, const char *table,
							  const char *chain, const char *iface,
							  const char *to, const char *comment);

/**
 * Add a message deleting the table.
 */
void tunnel_nat_nft_delete_table(nl_batch_t *batch, const char *table);

/**
 * Add messages that remove every element of the P side's maps (and of their
 * counting sets, if the table has them).
 *
 * @param counters	TRUE if the table has counting sets
 */
void tunnel_nat_nft_flush(nl_batch_t *batch, const char *table, bool counters);

/**
 * Add messages that add or delete elements, the P side's and the partner
 * side's (whose maps of a length class must exist).
 *
 * @param table		table name
 * @param add		TRUE to add the elements, FALSE to delete them
 * @param elems		tunnel_nat_elem_t*
 * @param counters	TRUE if the table has counting sets: the P side's
 *					elements go to them too
 */
void tunnel_nat_nft_elems(nl_batch_t *batch, const char *table, bool add,
						  array_t *elems, bool counters);

#endif /** TUNNEL_NAT_NFT_H_ @}*/
