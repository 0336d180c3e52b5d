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

#include "tunnel_nat_nft.h"

#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <libnftnl/expr.h>

#include <nft_util.h>

/**
 * Chain priorities of nftables' dstnat and srcnat
 */
#define PRIO_DSTNAT -100
#define PRIO_SRCNAT 100

/**
 * The maps, per kind of translation: exact address pairs in a hash (the
 * common case, a lookup cost independent of their number), ranges in an
 * interval map. Set ids within the table creating transaction.
 */
typedef struct {
	const char *name;
	uint32_t id;
	bool interval;
} map_def_t;

static const map_def_t maps[2][2] = {
	[TUNNEL_NAT_DNAT] = {
		{ "dnat4", 1, FALSE },
		{ "dnat4_ranges", 2, TRUE },
	},
	[TUNNEL_NAT_SNAT] = {
		{ "snat4", 3, FALSE },
		{ "snat4_ranges", 4, TRUE },
	},
};

const char *tunnel_nat_map_names[] = {
	[TUNNEL_NAT_DNAT] = "dnat4",
	[TUNNEL_NAT_SNAT] = "snat4",
	[TUNNEL_NAT_FWD] = "forward4",
	[TUNNEL_NAT_PAT] = "pat4",
	[TUNNEL_NAT_CLOSED] = "closed4",
};

/**
 * Set ids of the maps of port forwards and many-to-one, and of the set of
 * closed public addresses, in the table creating transaction. All three
 * hold ranges (a partner's selectors): interval sets.
 */
#define ID_FWD 5
#define ID_PAT 6
#define ID_CLOSED 7

/**
 * The counting chain and the set ids of the counting sets (counters = yes):
 * one set per map of translations, keyed like it, without data
 */
#define CHAIN_COUNT "count"
#define PRIO_FILTER 0
#define ID_COUNT(id) (300 + (id))

/**
 * Name of the counting set of a map
 */
static char *count_name(char *buf, size_t len, const char *map)
{
	snprintf(buf, len, "%s_count", map);
	return buf;
}

/**
 * Whether an element goes to the map of exact pairs
 */
static bool elem_exact(tunnel_nat_elem_t *elem)
{
	return elem->src_from == elem->src_to && elem->dst_from == elem->dst_to;
}

/**
 * One rule of tunnel_nat_nft_decrypted(): MATCH, then goto TO or return
 */
static void decrypted_rule(nl_batch_t *batch, const char *table,
						   const char *chain, uint32_t key, const char *name,
						   const char *to, const char *comment, const char *why)
{
	struct nftnl_rule *r;
	char buf[128];

	r = nft_rule_alloc(table, chain);
	if (name)
	{
		nft_expr_meta_name(r, key, name);
	}
	else
	{
		nft_expr_secpath_exists(r);
	}
	if (to)
	{
		nft_expr_goto(r, to);
	}
	else
	{
		nft_expr_verdict(r, NFT_RETURN);
	}
	snprintf(buf, sizeof(buf), "tunnel-nat: %s%s", comment, why);
	nft_msg_rule(batch, r, buf);
}

/*
 * Described in header
 */
void tunnel_nat_nft_decrypted(nl_batch_t *batch, const char *table,
							  const char *chain, const char *iface,
							  const char *to, const char *comment)
{
	if (iface)
	{
		decrypted_rule(batch, table, chain, NFT_META_IIFNAME, iface, to,
					   comment, ", decrypted on this interface");
		return;
	}
	decrypted_rule(batch, table, chain, 0, NULL, to, comment,
				   ", decrypted by IPsec");
	decrypted_rule(batch, table, chain, NFT_META_IIFKIND, "vti", to, comment,
				   ", out of a VTI (decrypted, its secpath dropped)");
}

/**
 * ip saddr . ip daddr . meta l4proto . th dport => lookup the forwards =>
 * dnat to address . port
 */
static void forward_rule(nl_batch_t *batch, const char *table)
{
	struct nftnl_rule *r;
	struct nftnl_expr *e;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_DECRYPTED);
	nft_expr_saddr_daddr_proto_dport(r);
	nft_expr_lookup(r, tunnel_nat_map_names[TUNNEL_NAT_FWD], ID_FWD, TRUE);
	e = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	nftnl_rule_add_expr(r, e);
	nft_msg_rule(batch, r, "tunnel-nat: port forwards");
}

/**
 * ip saddr . ip daddr in the closed set => counter drop (a nat chain sees
 * the first packet of each flow only: new flows are refused)
 */
static void closed_rule(nl_batch_t *batch, const char *table)
{
	struct nftnl_rule *r;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_DECRYPTED);
	nft_expr_saddr_daddr(r);
	nft_expr_lookup(r, tunnel_nat_map_names[TUNNEL_NAT_CLOSED], ID_CLOSED,
					FALSE);
	nft_expr_counted_drop(r);
	nft_msg_rule(batch, r, "tunnel-nat: new flows to a public address on a "
				 "port not forwarded");
}

/**
 * ip saddr . ip daddr => lookup many-to-one => snat to the one address
 */
static void pat_rule(nl_batch_t *batch, const char *table)
{
	struct nftnl_rule *r;
	struct nftnl_expr *e;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_POST);
	nft_expr_saddr_daddr(r);
	nft_expr_lookup(r, tunnel_nat_map_names[TUNNEL_NAT_PAT], ID_PAT, TRUE);
	e = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG32_01);
	nftnl_rule_add_expr(r, e);
	nft_msg_rule(batch, r, "tunnel-nat: many-to-one SNAT of private "
				 "prefixes to their public address");
}

/**
 * ip saddr . ip daddr => lookup map => dnat/snat prefix
 */
static void nat_rule(nl_batch_t *batch, const char *table, const char *chain,
					 tunnel_nat_map_t map, const map_def_t *def,
					 const char *comment)
{
	struct nftnl_rule *r;

	r = nft_rule_alloc(table, chain);
	nft_expr_saddr_daddr(r);
	nft_expr_lookup(r, def->name, def->id, TRUE);
	nft_expr_nat_prefix(r, map == TUNNEL_NAT_DNAT ? NFT_NAT_DNAT
											 : NFT_NAT_SNAT);
	nft_msg_rule(batch, r, comment);
}

/**
 * ct status has STATUS (dnat or snat), ct original key in the counting set
 * of a map => accept (the rest of this chain only)
 */
static void count_rule(nl_batch_t *batch, const char *table, uint32_t status,
					   const char *map, uint32_t id, uint8_t proto)
{
	struct nftnl_rule *r;
	char name[64], comment[128];

	r = nft_rule_alloc(table, CHAIN_COUNT);
	nft_expr_ct_bits(r, NFT_CT_STATUS, status, status);
	if (proto)
	{	/* nft lists the port with the protocol's type, which it takes
		 * from this compare */
		nft_expr_ct_orig_load(r, NFT_CT_PROTOCOL, NFT_REG_1);
		nft_expr_cmp_eq(r, NFT_REG_1, &proto, sizeof(proto));
		nft_expr_ct_orig_saddr_daddr_proto_dport(r);
	}
	else
	{
		nft_expr_ct_orig_saddr_daddr(r);
	}
	nft_expr_lookup(r, count_name(name, sizeof(name), map), ID_COUNT(id),
					FALSE);
	nft_expr_verdict(r, NF_ACCEPT);
	snprintf(comment, sizeof(comment), "tunnel-nat: count the packets of "
			 "flows translated by %s%s", map,
			 proto == IPPROTO_TCP ? ", TCP" : proto == IPPROTO_UDP ? ", UDP" : "");
	nft_msg_rule(batch, r, comment);
}

/**
 * The counting sets and the chain that looks up every forwarded packet of a
 * translated flow in them, by the addresses (and the protocol and port of a
 * port forward) of the packet that created the flow: the key of the
 * translation, for packets in both directions. The NAT chains see only
 * the first packet of a flow; the forward hook sees all of them. With a
 * partner side, its rule goes first (app-started flows to an alias leave).
 */
static void count_table(nl_batch_t *batch, const char *table,
						tunnel_nat_nft_partner_t *partner)
{
	char name[64];
	int m, k;

	for (m = 0; m < 2; m++)
	{
		for (k = 0; k < 2; k++)
		{
			nft_msg_counter_set(batch, table,
								count_name(name, sizeof(name), maps[m][k].name),
								ID_COUNT(maps[m][k].id),
								maps[m][k].interval ? NFT_COUNTER_RANGES
													: NFT_COUNTER_PAIRS);
		}
	}
	nft_msg_counter_set(batch, table, count_name(name, sizeof(name),
						tunnel_nat_map_names[TUNNEL_NAT_FWD]), ID_COUNT(ID_FWD),
						NFT_COUNTER_PORTS);
	nft_msg_counter_set(batch, table, count_name(name, sizeof(name),
						tunnel_nat_map_names[TUNNEL_NAT_PAT]), ID_COUNT(ID_PAT),
						NFT_COUNTER_RANGES);
	nft_msg_chain(batch, table, CHAIN_COUNT, NF_INET_FORWARD, PRIO_FILTER,
				  "filter");
	if (partner)
	{
		tunnel_nat_nft_partner_count_rule(batch, table, CHAIN_COUNT, partner);
	}
	/* in the order of the NAT chains: a flow is counted where it was
	 * translated */
	count_rule(batch, table, IPS_DST_NAT, tunnel_nat_map_names[TUNNEL_NAT_FWD],
			   ID_FWD, IPPROTO_TCP);
	count_rule(batch, table, IPS_DST_NAT, tunnel_nat_map_names[TUNNEL_NAT_FWD],
			   ID_FWD, IPPROTO_UDP);
	for (m = 0; m < 2; m++)
	{
		for (k = 0; k < 2; k++)
		{
			count_rule(batch, table, m == TUNNEL_NAT_DNAT ? IPS_DST_NAT
														  : IPS_SRC_NAT,
					   maps[m][k].name, maps[m][k].id, 0);
		}
	}
	count_rule(batch, table, IPS_SRC_NAT, tunnel_nat_map_names[TUNNEL_NAT_PAT],
			   ID_PAT, 0);
}

/*
 * Described in header
 */
void tunnel_nat_nft_table(nl_batch_t *batch, const char *table,
						  const char *iface, tunnel_nat_nft_partner_t *partner,
						  bool counters)
{
	char comment[128];
	int m, k;

	nft_msg_replace_table(batch, table);
	for (m = 0; m < 2; m++)
	{
		for (k = 0; k < 2; k++)
		{
			nft_msg_concat_set(batch, table, maps[m][k].name, maps[m][k].id,
							   TRUE, maps[m][k].interval);
		}
	}
	nft_msg_port_map(batch, table, tunnel_nat_map_names[TUNNEL_NAT_FWD],
					 ID_FWD);
	nft_msg_concat_set(batch, table, tunnel_nat_map_names[TUNNEL_NAT_PAT],
					   ID_PAT, TRUE, TRUE);
	nft_msg_concat_set(batch, table, tunnel_nat_map_names[TUNNEL_NAT_CLOSED],
					   ID_CLOSED, FALSE, TRUE);
	if (partner)
	{
		tunnel_nat_nft_partner_maps(batch, table, partner);
	}
	nft_msg_chain(batch, table, TUNNEL_NAT_CHAIN_PRE, NF_INET_PRE_ROUTING,
				  PRIO_DSTNAT, "nat");
	nft_msg_chain(batch, table, TUNNEL_NAT_CHAIN_POST, NF_INET_POST_ROUTING,
				  PRIO_SRCNAT, "nat");
	nft_msg_regular_chain(batch, table, TUNNEL_NAT_CHAIN_DECRYPTED);
	/* what came out of IPsec goes to the decrypted chain, first and no
	 * further: the rest of prerouting, the partner side's DNAT of our
	 * hosts' packets to an alias, is not for them (a packet that a tunnel
	 * with wide selectors lets through to another partner's alias would
	 * get that partner's real address and no SA: it is left to the
	 * fail-closed rule) */
	tunnel_nat_nft_decrypted(batch, table, TUNNEL_NAT_CHAIN_PRE, iface,
							 TUNNEL_NAT_CHAIN_DECRYPTED, "DNAT");
	if (partner)
	{	/* the alias DNAT of our hosts' packets comes after the gotos, the
		 * partner SNAT after the P side's SNAT rules: an app-started flow
		 * to an alias gets its P and stops */
		tunnel_nat_nft_partner_chains(batch, table);
		tunnel_nat_nft_partner_rules_pre(batch, table, partner);
	}
	/* in the decrypted chain: port forwards, then exact pairs, then
	 * ranges; a NAT statement ends the chains for the packet; what is left
	 * for a closed P is dropped */
	forward_rule(batch, table);
	for (k = 0; k < 2; k++)
	{
		snprintf(comment, sizeof(comment), "tunnel-nat: DNAT of decrypted "
				 "packets%s", k ? ", address ranges" : "");
		nat_rule(batch, table, TUNNEL_NAT_CHAIN_DECRYPTED, TUNNEL_NAT_DNAT,
				 &maps[TUNNEL_NAT_DNAT][k], comment);
	}
	closed_rule(batch, table);
	for (k = 0; k < 2; k++)
	{
		snprintf(comment, sizeof(comment), "tunnel-nat: SNAT of mapped "
				 "private hosts to their public address%s",
				 k ? ", address ranges" : "");
		nat_rule(batch, table, TUNNEL_NAT_CHAIN_POST, TUNNEL_NAT_SNAT,
				 &maps[TUNNEL_NAT_SNAT][k], comment);
	}
	pat_rule(batch, table);
	if (partner)
	{
		tunnel_nat_nft_partner_rules_post(batch, table, partner);
	}
	if (counters)
	{
		count_table(batch, table, partner);
	}
}

/*
 * Described in header
 */
void tunnel_nat_nft_delete_table(nl_batch_t *batch, const char *table)
{
	nft_msg_delete_table(batch, table);
}

/*
 * Described in header
 */
void tunnel_nat_nft_flush(nl_batch_t *batch, const char *table, bool counters)
{
	char name[64];
	int m, k;

	for (m = 0; m < 2; m++)
	{
		for (k = 0; k < 2; k++)
		{
			nft_msg_flush_set(batch, table, maps[m][k].name);
			if (counters)
			{
				nft_msg_flush_set(batch, table, count_name(name, sizeof(name),
								  maps[m][k].name));
			}
		}
	}
	for (m = TUNNEL_NAT_FWD; m < TUNNEL_NAT_MAPS; m++)
	{
		nft_msg_flush_set(batch, table, tunnel_nat_map_names[m]);
		if (counters && m != TUNNEL_NAT_CLOSED)
		{
			nft_msg_flush_set(batch, table, count_name(name, sizeof(name),
							  tunnel_nat_map_names[m]));
		}
	}
}

/**
 * Put the elements of one map in messages
 */
static void elems_msgs(nl_batch_t *batch, const char *table, bool add,
					   tunnel_nat_map_t map, bool interval, array_t *elems,
					   bool counters)
{
	tunnel_nat_elem_t *elem;
	nft_concat_elem_t *out;
	const char *name;
	char (*descs)[160], count[64];
	u_int i, n = 0;

	out = calloc(array_count(elems) ?: 1, sizeof(*out));
	descs = calloc(array_count(elems) ?: 1, sizeof(*descs));
	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		if (elem->map != map ||
			(map <= TUNNEL_NAT_SNAT && elem_exact(elem) == interval))
		{
			continue;
		}
		tunnel_nat_elem_str(elem, descs[n], sizeof(descs[n]));
		snprintf(descs[n] + strlen(descs[n]), sizeof(descs[n]) - strlen(descs[n]),
				 " (%s)", elem->comment);
		out[n] = (nft_concat_elem_t){
			.key_from = { elem->src_from, elem->dst_from },
			.key_to = { elem->src_to, elem->dst_to },
			.data = { elem->nat_from, elem->nat_to },
			.has_data = map != TUNNEL_NAT_CLOSED,
			.comment = elem->comment,
			.desc = descs[n],
			.exact = !interval,
		};
		n++;
	}
	name = map <= TUNNEL_NAT_SNAT ? maps[map][interval].name
								  : tunnel_nat_map_names[map];
	nft_msg_concat_elems(batch, table, name, add, out, n);
	if (counters && map != TUNNEL_NAT_CLOSED)
	{	/* the same keys in the counting set */
		for (i = 0; i < n; i++)
		{
			out[i].has_data = FALSE;
		}
		nft_msg_concat_elems(batch, table, count_name(count, sizeof(count),
							 name), add, out, n);
	}
	free(descs);
	free(out);
}

/**
 * Put the port forwards in messages
 */
static void forward_msgs(nl_batch_t *batch, const char *table, bool add,
						 array_t *elems, bool counters)
{
	tunnel_nat_elem_t *elem;
	nft_port_elem_t *out;
	char (*descs)[160], count[64];
	u_int i, n = 0;

	out = calloc(array_count(elems) ?: 1, sizeof(*out));
	descs = calloc(array_count(elems) ?: 1, sizeof(*descs));
	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		if (elem->map != TUNNEL_NAT_FWD)
		{
			continue;
		}
		tunnel_nat_elem_str(elem, descs[n], sizeof(descs[n]));
		snprintf(descs[n] + strlen(descs[n]), sizeof(descs[n]) - strlen(descs[n]),
				 " (%s)", elem->comment);
		out[n] = (nft_port_elem_t){
			.src_from = elem->src_from,
			.src_to = elem->src_to,
			.dst = elem->dst_from,
			.proto = elem->proto,
			.port = elem->port,
			.nat_addr = elem->nat_from,
			.nat_port = elem->nat_port,
			.comment = elem->comment,
			.desc = descs[n],
		};
		n++;
	}
	nft_msg_port_elems(batch, table, tunnel_nat_map_names[TUNNEL_NAT_FWD], add,
					   out, n);
	if (counters)
	{
		for (i = 0; i < n; i++)
		{
			out[i].key_only = TRUE;
		}
		nft_msg_port_elems(batch, table, count_name(count, sizeof(count),
						   tunnel_nat_map_names[TUNNEL_NAT_FWD]), add, out, n);
	}
	free(descs);
	free(out);
}

/*
 * Described in header
 */
void tunnel_nat_nft_elems(nl_batch_t *batch, const char *table, bool add,
						  array_t *elems, bool counters)
{
	elems_msgs(batch, table, add, TUNNEL_NAT_DNAT, FALSE, elems, counters);
	elems_msgs(batch, table, add, TUNNEL_NAT_DNAT, TRUE, elems, counters);
	elems_msgs(batch, table, add, TUNNEL_NAT_SNAT, FALSE, elems, counters);
	elems_msgs(batch, table, add, TUNNEL_NAT_SNAT, TRUE, elems, counters);
	forward_msgs(batch, table, add, elems, counters);
	elems_msgs(batch, table, add, TUNNEL_NAT_PAT, TRUE, elems, counters);
	elems_msgs(batch, table, add, TUNNEL_NAT_CLOSED, TRUE, elems, FALSE);
	tunnel_nat_nft_partner_elems(batch, table, add, elems);
}
