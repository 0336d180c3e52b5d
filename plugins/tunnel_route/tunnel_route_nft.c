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

#include "tunnel_route_nft.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

/**
 * Priority of nftables' mangle chains
 */
#define PRIO_MANGLE -150

static void mark_rule(nl_batch_t *batch, const char *table, const char *chain,
					  const char *set, uint32_t id, uint32_t mark,
					  uint32_t mask, const char *comment)
{
	struct nftnl_rule *r;

	r = nft_rule_alloc(table, chain);
	if (id == 4)
	{	/* ip daddr @bypass_hosts */
		nft_expr_payload4(r, 16, NFT_REG_1);
	}
	else
	{	/* ip saddr . ip daddr @set */
		nft_expr_saddr_daddr(r);
	}
	nft_expr_lookup(r, set, id, FALSE);
	/* meta mark set meta mark & ~mask | mark */
	nft_expr_meta_load(r, NFT_META_MARK, NFT_REG_1);
	nft_expr_bitwise(r, NFT_REG_1, ~mask, mark);
	nft_expr_meta_set(r, NFT_META_MARK, NFT_REG_1);
	nft_msg_rule(batch, r, comment);
}

static void mark_rules(nl_batch_t *batch, const char *table, const char *chain,
					   uint32_t mark, uint32_t bypass_mark, uint32_t mask)
{
	/* single addresses and pairs in hashes, ranges in interval sets: the
	 * common case costs the same whatever the number of tunnels */
	mark_rule(batch, table, chain, TUNNEL_ROUTE_BYPASS_HOSTS_SET, 4,
			  bypass_mark, mask, "tunnel-route: other traffic to a tunnel's "
			  "destinations uses the main table");
	mark_rule(batch, table, chain, TUNNEL_ROUTE_BYPASS_SET, 2, bypass_mark,
			  mask, "tunnel-route: other traffic to a tunnel's destinations "
			  "uses the main table, ranges");
	mark_rule(batch, table, chain, TUNNEL_ROUTE_HOSTS_SET, 5, mark, mask,
			  "tunnel-route: a tunnel's sources to its destinations use the "
			  "tunnel's routing table");
	mark_rule(batch, table, chain, TUNNEL_ROUTE_SET, 1, mark, mask,
			  "tunnel-route: a tunnel's sources to its destinations use the "
			  "tunnel's routing table, ranges");
	mark_rule(batch, table, chain, TUNNEL_ROUTE_GUARD_SET, 3, mark, mask,
			  "tunnel-route: start-up guard, until the tunnels' destinations "
			  "are known");
}

/*
 * Described in header
 */
void tunnel_route_nft_table(nl_batch_t *batch, const char *table,
							uint32_t mark, uint32_t bypass_mark, uint32_t mask)
{
	nft_msg_replace_table(batch, table);
	nft_msg_concat_set(batch, table, TUNNEL_ROUTE_SET, 1, FALSE, TRUE);
	nft_msg_concat_set(batch, table, TUNNEL_ROUTE_BYPASS_SET, 2, FALSE, TRUE);
	nft_msg_concat_set(batch, table, TUNNEL_ROUTE_GUARD_SET, 3, FALSE, TRUE);
	nft_msg_addr_set(batch, table, TUNNEL_ROUTE_BYPASS_HOSTS_SET, 4);
	nft_msg_concat_set(batch, table, TUNNEL_ROUTE_HOSTS_SET, 5, FALSE, FALSE);
	nft_msg_chain(batch, table, "prerouting", NF_INET_PRE_ROUTING,
				  PRIO_MANGLE, "filter");
	nft_msg_chain(batch, table, "output", NF_INET_LOCAL_OUT, PRIO_MANGLE,
				  "route");
	mark_rules(batch, table, "prerouting", mark, bypass_mark, mask);
	mark_rules(batch, table, "output", mark, bypass_mark, mask);
}

static nft_concat_elem_t pair_elem(tunnel_route_pair_t *pair)
{
	return (nft_concat_elem_t){
		.key_from = { pair->src.from, pair->dst.from },
		.key_to = { pair->src.to, pair->dst.to },
		.comment = pair->comment,
		.desc = pair->comment,
	};
}

/**
 * The set a pair goes to: exact ones to hashes, ranges to interval sets
 */
static const char *pair_set(tunnel_route_pair_t *pair)
{
	if (pair->bypass)
	{
		return pair->dst.from == pair->dst.to ? TUNNEL_ROUTE_BYPASS_HOSTS_SET
											  : TUNNEL_ROUTE_BYPASS_SET;
	}
	return pair->src.from == pair->src.to && pair->dst.from == pair->dst.to
				? TUNNEL_ROUTE_HOSTS_SET : TUNNEL_ROUTE_SET;
}

/*
 * Described in header
 */
void tunnel_route_nft_pairs(nl_batch_t *batch, const char *table,
							array_t *pairs, bool add)
{
	static const char *sets[] = { TUNNEL_ROUTE_BYPASS_HOSTS_SET,
		TUNNEL_ROUTE_BYPASS_SET, TUNNEL_ROUTE_HOSTS_SET, TUNNEL_ROUTE_SET };
	tunnel_route_pair_t *pair;
	nft_concat_elem_t *elems;
	u_int i, n, s;

	elems = calloc(array_count(pairs) ?: 1, sizeof(*elems));
	for (s = 0; s < countof(sets); s++)
	{
		for (i = n = 0; i < array_count(pairs); i++)
		{
			array_get(pairs, i, &pair);
			if (streq(pair_set(pair), sets[s]))
			{
				elems[n] = pair_elem(pair);
				if (s == 0)
				{	/* ip daddr */
					elems[n].key_from[0] = pair->dst.from;
					elems[n].single = TRUE;
				}
				elems[n].exact = s == 2;
				n++;
			}
		}
		nft_msg_concat_elems(batch, table, sets[s], add, elems, n);
	}
	free(elems);
}

/*
 * Described in header
 */
void tunnel_route_nft_guard(nl_batch_t *batch, const char *table,
							array_t *sources)
{
	tunnel_route_range_t *range;
	nft_concat_elem_t *elems;
	u_int i;

	elems = calloc(array_count(sources) ?: 1, sizeof(*elems));
	for (i = 0; i < array_count(sources); i++)
	{
		array_get(sources, i, &range);
		elems[i] = (nft_concat_elem_t){
			.key_from = { range->from, 0 },
			.key_to = { range->to, 0xffffffff },
			.comment = "start-up guard",
			.desc = "start-up guard",
		};
	}
	nft_msg_concat_elems(batch, table, TUNNEL_ROUTE_GUARD_SET, TRUE, elems, i);
	free(elems);
}
