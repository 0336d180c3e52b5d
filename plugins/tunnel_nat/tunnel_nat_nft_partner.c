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

#include "tunnel_nat_nft_partner.h"
#include "tunnel_nat_nft.h"
#include "tunnel_nat_partner.h"

#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>

#include <nft_util.h>
#include <tunnel_util.h>

#include <collections/hashtable.h>

/**
 * Chain priorities: raw, mangle, dstnat; the guard runs after srcnat, once
 * the XFRM bundle of the translated packet is known
 */
#define PRIO_RAW -300
#define PRIO_MANGLE -150
#define PRIO_DSTNAT -100
#define PRIO_GUARD 200

/**
 * Set ids in the table creating transaction, after the P side's (1-7): the
 * maps keyed by reqid, then five per length class
 */
#define ID_PZONE 8
#define ID_PMARK 9
#define ID_CLASS(len, k) (10 + 5 * (len) + (k))
/* the sets of configured remote blocks, after the classes' ids */
#define ID_RCFG(len) (10 + 5 * 33 + (len))

/**
 * The objects of a length class, in the order of their ids
 */
enum {
	CLASS_AZONE,
	CLASS_AMARK,
	CLASS_ADNAT,
	CLASS_PSNAT,
	CLASS_ACFG,
};

static const char *class_names[] = {
	[CLASS_AZONE] = "azone4",
	[CLASS_AMARK] = "amark4",
	[CLASS_ADNAT] = "adnat4",
	[CLASS_PSNAT] = "psnat4",
	[CLASS_ACFG] = "acfg4",
};

/**
 * Name of the set of configured remote blocks of a length
 */
static char *rcfg_name(char *buf, uint8_t len)
{
	snprintf(buf, 32, "rcfg4_l%u", len);
	return buf;
}

/**
 * Maximum length of an object name, with its class
 */
#define NAME_LEN 32

/**
 * Name of an object of a length class, e.g. azone4_l24
 */
static char *class_name(char *buf, int k, uint8_t len)
{
	snprintf(buf, NAME_LEN, "%s_l%u", class_names[k], len);
	return buf;
}

/**
 * Enumerate the length classes of a bit field, shortest first
 */
#define for_each_class(classes, len) \
	for ((len) = 0; (len) <= 32; (len)++) \
		if ((classes) & (1ULL << (len)))

/*
 * Described in header
 */
bool tunnel_nat_nft_partner_init(tunnel_nat_config_t *config,
								 uint32_t route_mask,
								 tunnel_nat_nft_partner_t *partner)
{
	tunnel_nat_mapping_t *map;
	u_int i;

	*partner = (tunnel_nat_nft_partner_t){
		.zone_first = config->zone_first,
		.zone_last = config->zone_last,
		.ct_mark = config->partner_ct_mark,
		.mark_mask = ~route_mask,
		.mappings = config->mappings,
	};
	for (i = 0; i < array_count(config->mappings); i++)
	{
		array_get(config->mappings, i, &map);
		if (map->has_partner)
		{
			partner->classes |= 1ULL << map->partnerlen;
		}
	}
	return partner->classes != 0;
}

/**
 * The elements of a set of configured blocks of a length: the alias
 * blocks (remote FALSE) or the partners' remote blocks, each once (they
 * are the same for partners that share an address space)
 */
static void cfg_elems(nl_batch_t *batch, const char *table, uint8_t len,
					  array_t *mappings, bool remote)
{
	tunnel_nat_mapping_t *map;
	hashtable_t *seen;
	nft_elem_t *out;
	char name[NAME_LEN], (*descs)[48];
	uint32_t block;
	u_int i, n = 0;

	out = calloc(array_count(mappings) ?: 1, sizeof(*out));
	descs = calloc(array_count(mappings) ?: 1, sizeof(*descs));
	seen = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr, 8);
	for (i = 0; i < array_count(mappings); i++)
	{
		array_get(mappings, i, &map);
		if (!map->has_partner || map->partnerlen != len)
		{
			continue;
		}
		block = remote ? map->remote : map->alias;
		/* + 1: never NULL, and unique on 64-bit and 32-bit alike as the
		 * blocks of one length differ in their network bits */
		if (seen->put(seen, (void*)((uintptr_t)block + 1), map))
		{
			continue;
		}
		tunnel_nat_partner_fmt(descs[n], sizeof(descs[n]), block, len);
		out[n] = (nft_elem_t){
			.comment = map->name,
			.desc = descs[n],
		};
		nft_elem_addr(out[n].key, &out[n].key_len, block);
		n++;
	}
	nft_msg_elems(batch, table, remote ? rcfg_name(name, len)
					: class_name(name, CLASS_ACFG, len), TRUE, out, n);
	seen->destroy(seen);
	free(descs);
	free(out);
}

/**
 * The maps of a length class, and for a class of the settings the set of
 * configured aliases with its elements
 */
static void class_maps(nl_batch_t *batch, const char *table, uint8_t len,
					   tunnel_nat_nft_partner_t *partner)
{
	char name[NAME_LEN];

	nft_msg_typeof_map(batch, table, class_name(name, CLASS_AZONE, len),
					   ID_CLASS(len, CLASS_AZONE), NFT_TYPEOF_DADDR,
					   NFT_TYPEOF_CT_ZONE, TRUE);
	nft_msg_typeof_map(batch, table, class_name(name, CLASS_AMARK, len),
					   ID_CLASS(len, CLASS_AMARK), NFT_TYPEOF_DADDR,
					   NFT_TYPEOF_META_MARK, FALSE);
	nft_msg_prefix_map(batch, table, class_name(name, CLASS_ADNAT, len),
					   ID_CLASS(len, CLASS_ADNAT), FALSE);
	nft_msg_prefix_map(batch, table, class_name(name, CLASS_PSNAT, len),
					   ID_CLASS(len, CLASS_PSNAT), TRUE);
	if (partner->classes & (1ULL << len))
	{
		nft_msg_addr_set(batch, table, class_name(name, CLASS_ACFG, len),
						 ID_CLASS(len, CLASS_ACFG));
		cfg_elems(batch, table, len, partner->mappings, FALSE);
	}
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_maps(nl_batch_t *batch, const char *table,
								 tunnel_nat_nft_partner_t *partner)
{
	char name[NAME_LEN];
	int len;

	/* the counters of pzone4 count per CHILD_SA inbound, those of azone4
	 * per alias block outbound: every packet passes these lookups anyway */
	nft_msg_typeof_map(batch, table, "pzone4", ID_PZONE, NFT_TYPEOF_REQID,
					   NFT_TYPEOF_CT_ZONE, TRUE);
	nft_msg_typeof_map(batch, table, "pmark4", ID_PMARK, NFT_TYPEOF_REQID,
					   NFT_TYPEOF_META_MARK, FALSE);
	for_each_class(partner->classes | partner->lazy, len)
	{
		class_maps(batch, table, len, partner);
	}
	/* the partners' remote blocks of the settings, for the guard */
	for_each_class(partner->classes, len)
	{
		nft_msg_addr_set(batch, table, rcfg_name(name, len), ID_RCFG(len));
		cfg_elems(batch, table, len, partner->mappings, TRUE);
	}
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_chains(nl_batch_t *batch, const char *table)
{
	nft_msg_chain(batch, table, TUNNEL_NAT_CHAIN_RAW_PRE, NF_INET_PRE_ROUTING,
				  PRIO_RAW, "filter");
	/* a route chain, so that a mark it sets re-routes the packet */
	nft_msg_chain(batch, table, TUNNEL_NAT_CHAIN_RAW_OUT, NF_INET_LOCAL_OUT,
				  PRIO_RAW, "route");
	nft_msg_chain(batch, table, TUNNEL_NAT_CHAIN_MANGLE_PRE,
				  NF_INET_PRE_ROUTING, PRIO_MANGLE, "filter");
	nft_msg_chain(batch, table, TUNNEL_NAT_CHAIN_OUTPUT_NAT, NF_INET_LOCAL_OUT,
				  PRIO_DSTNAT, "nat");
	nft_msg_chain(batch, table, TUNNEL_NAT_CHAIN_GUARD, NF_INET_POST_ROUTING,
				  PRIO_GUARD, "filter");
}

/**
 * ct zone set / meta mark set KEY map @map, the key in reg 1
 */
static void set_from_map(struct nftnl_rule *r, const char *map, uint32_t id,
						 bool zone)
{
	nft_expr_lookup_reg(r, map, id, NFT_REG_1, NFT_REG_1);
	if (zone)
	{
		nft_expr_ct_set(r, NFT_CT_ZONE, NFT_REG_1);
	}
	else
	{
		nft_expr_meta_set(r, NFT_META_MARK, NFT_REG_1);
	}
}

/**
 * ct zone set ipsec in reqid map @pzone4 meta mark set ipsec in reqid map
 * @pmark4: one rule, so that a packet of an SA that is not a partner's (a
 * miss in pzone4 ends the rule) costs one lookup, not two; the two maps get
 * their elements in the same transaction
 */
static void reqid_rule(nl_batch_t *batch, const char *table)
{
	struct nftnl_rule *r;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_RAW_PRE);
	nft_expr_xfrm_reqid(r, NFT_REG_1);
	set_from_map(r, "pzone4", ID_PZONE, TRUE);
	nft_expr_xfrm_reqid(r, NFT_REG_1);
	set_from_map(r, "pmark4", ID_PMARK, FALSE);
	nft_msg_rule(batch, r, "tunnel-nat: the partner's zone and the SA's "
				 "mark_in, by the SA that decrypted the packet");
}

/**
 * ct zone set ip daddr & mask map @azone4_lL
 * meta mark set ip daddr & mask map @amark4_lL
 *
 * One rule: a packet to no alias of the class (most packets) ends it at the
 * miss in azone4 and costs one lookup, not two; an alias block's zone and
 * mark come and go in the same transaction. The key is loaded again for
 * the second lookup, as nft writes such a rule, so that nft lists it.
 */
static void alias_rule(nl_batch_t *batch, const char *table, const char *chain,
					   uint8_t len)
{
	struct nftnl_rule *r;
	char name[NAME_LEN];

	r = nft_rule_alloc(table, chain);
	nft_expr_daddr_masked(r, len, NFT_REG_1);
	set_from_map(r, class_name(name, CLASS_AZONE, len),
				 ID_CLASS(len, CLASS_AZONE), TRUE);
	nft_expr_daddr_masked(r, len, NFT_REG_1);
	set_from_map(r, class_name(name, CLASS_AMARK, len),
				 ID_CLASS(len, CLASS_AMARK), FALSE);
	nft_msg_rule(batch, r, "tunnel-nat: the partner's zone and the SA's "
				 "mark_out, by the alias");
}

/**
 * ct state new meta secpath exists ct zone FIRST-LAST
 * ct mark set ct mark | BIT
 */
static void mark_partner_flows_rule(nl_batch_t *batch, const char *table,
									tunnel_nat_nft_partner_t *partner)
{
	struct nftnl_rule *r;
	uint32_t zero = 0;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_MANGLE_PRE);
	nft_expr_ct_load(r, NFT_CT_STATE, NFT_REG_1);
	nft_expr_bitwise(r, NFT_REG_1, NF_CT_STATE_BIT(IP_CT_NEW), 0);
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, sizeof(zero));
	nft_expr_secpath_exists(r);
	nft_expr_ct_zone_range(r, partner->zone_first, partner->zone_last);
	nft_expr_ct_load(r, NFT_CT_MARK, NFT_REG_1);
	nft_expr_bitwise(r, NFT_REG_1, ~partner->ct_mark, partner->ct_mark);
	nft_expr_ct_set(r, NFT_CT_MARK, NFT_REG_1);
	nft_msg_rule(batch, r, "tunnel-nat: flows a partner started");
}

/**
 * dnat ip prefix to ip daddr & mask map @adnat4_lL
 */
static void alias_dnat_rule(nl_batch_t *batch, const char *table,
							const char *chain, uint8_t len, bool first)
{
	struct nftnl_rule *r;
	char name[NAME_LEN];

	r = nft_rule_alloc(table, chain);
	nft_expr_daddr_masked(r, len, NFT_REG_1);
	nft_expr_lookup_reg(r, class_name(name, CLASS_ADNAT, len),
						ID_CLASS(len, CLASS_ADNAT), NFT_REG_1, NFT_REG_1);
	nft_expr_nat_prefix(r, NFT_NAT_DNAT);
	(first ? nft_msg_rule_first : nft_msg_rule)(batch, r, "tunnel-nat: DNAT "
				 "of an alias to its partner's prefix");
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_rules_pre(nl_batch_t *batch, const char *table,
									  tunnel_nat_nft_partner_t *partner)
{
	uint64_t all = partner->classes | partner->lazy;
	int len;

	reqid_rule(batch, table);
	/* a decrypted packet has its zone (from the reqid, or none): it gets
	 * no alias zone (the partner side is XFRM only: no interface) */
	tunnel_nat_nft_decrypted(batch, table, TUNNEL_NAT_CHAIN_RAW_PRE, NULL,
							 NULL, "no alias zone");
	for_each_class(all, len)
	{
		alias_rule(batch, table, TUNNEL_NAT_CHAIN_RAW_PRE, len);
	}
	for_each_class(all, len)
	{
		alias_rule(batch, table, TUNNEL_NAT_CHAIN_RAW_OUT, len);
	}
	mark_partner_flows_rule(batch, table, partner);
	for_each_class(all, len)
	{
		alias_dnat_rule(batch, table, TUNNEL_NAT_CHAIN_PRE, len, FALSE);
	}
	for_each_class(all, len)
	{
		alias_dnat_rule(batch, table, TUNNEL_NAT_CHAIN_OUTPUT_NAT, len, FALSE);
	}
}

/**
 * ct mark & BIT == BIT
 * snat ip prefix to meta mark & MM . ip saddr & mask map @psnat4_lL
 */
static void partner_snat_rule(nl_batch_t *batch, const char *table,
							  tunnel_nat_nft_partner_t *partner, uint8_t len)
{
	struct nftnl_rule *r;
	char name[NAME_LEN];

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_POST);
	nft_expr_ct_bits(r, NFT_CT_MARK, partner->ct_mark, partner->ct_mark);
	nft_expr_meta_load(r, NFT_META_MARK, NFT_REG_1);
	nft_expr_bitwise(r, NFT_REG_1, partner->mark_mask, 0);
	/* offset of saddr in struct iphdr */
	nft_expr_payload4(r, 12, NFT_REG32_01);
	nft_expr_bitwise(r, NFT_REG32_01, htonl(tunnel_mask(len)), 0);
	nft_expr_lookup_reg(r, class_name(name, CLASS_PSNAT, len),
						ID_CLASS(len, CLASS_PSNAT), NFT_REG_1, NFT_REG_1);
	nft_expr_nat_prefix(r, NFT_NAT_SNAT);
	nft_msg_rule(batch, r, "tunnel-nat: SNAT of a partner's prefix to its "
				 "alias, on flows it started");
}

/**
 * ct zone FIRST-LAST ct direction DIR ct mark & BIT == BIT|0, then
 * rt ipsec missing or ct status & snat == 0, drop
 */
static void guard_rule(nl_batch_t *batch, const char *table,
					   tunnel_nat_nft_partner_t *partner, uint8_t dir,
					   bool partner_flow, bool no_snat, const char *comment)
{
	struct nftnl_rule *r;
	uint8_t none = 0;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_GUARD);
	nft_expr_ct_zone_range(r, partner->zone_first, partner->zone_last);
	nft_expr_ct_load(r, NFT_CT_DIRECTION, NFT_REG_1);
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &dir, sizeof(dir));
	nft_expr_ct_bits(r, NFT_CT_MARK, partner->ct_mark,
					 partner_flow ? partner->ct_mark : 0);
	if (no_snat)
	{
		nft_expr_ct_bits(r, NFT_CT_STATUS, IPS_SRC_NAT, 0);
	}
	else
	{
		nft_expr_rt_load(r, NFT_RT_XFRM, NFT_REG_1);
		nft_expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &none, sizeof(none));
	}
	nft_expr_counted_drop(r);
	nft_msg_rule(batch, r, comment);
}

/**
 * ip daddr & mask @acfg4_lL drop
 */
static void fail_closed_rule(nl_batch_t *batch, const char *table, uint8_t len)
{
	struct nftnl_rule *r;
	char name[NAME_LEN];

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_GUARD);
	nft_expr_daddr_masked(r, len, NFT_REG_1);
	nft_expr_lookup_reg(r, class_name(name, CLASS_ACFG, len),
						ID_CLASS(len, CLASS_ACFG), NFT_REG_1, NFT_REG_VERDICT);
	nft_expr_counted_drop(r);
	nft_msg_rule(batch, r, "tunnel-nat: an alias whose partner is down");
}

/**
 * meta oifkind KIND return: packets to a route-based tunnel (XFRM interface
 * or VTI) get their SA after postrouting, in the device, so the rule below
 * does not apply to them (a device without a kind, as most NICs, does not
 * match: the expression breaks)
 */
static void route_based_return_rule(nl_batch_t *batch, const char *table,
									const char *kind)
{
	struct nftnl_rule *r;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_GUARD);
	nft_expr_meta_name(r, NFT_META_OIFKIND, kind);
	nft_expr_verdict(r, NFT_RETURN);
	nft_msg_rule(batch, r, "tunnel-nat: route-based tunnels get their SA "
				 "later");
}

/**
 * The rules for a partner's real address without an SA, ip daddr & mask
 * @rcfg4_lL ... rt ipsec missing drop, with in the middle:
 * - ct status & snat == snat (no_entry FALSE): a packet that was
 *   source-NATed (to a P, by the P side) but got no SA. Our hosts' packets
 *   to a partner's real address (not its alias) get no zone and no mark, so
 *   none of the marked policies matches them; without this rule they would
 *   take the plain route in clear. Untranslated packets (our own hosts in
 *   the same space) pass.
 * - ct state invalid,untracked (no_entry TRUE): a packet without a
 *   conntrack entry. These are the gateway's own ICMP errors about a
 *   partner's packets that conntrack found invalid (e.g. a RST with another
 *   partner's tuple): they got no translation, so the error quotes the real
 *   address and would take the plain route in clear. Conntrack attaches no
 *   entry to an ICMP error whose inner packet has none, so no other rule
 *   matches it.
 */
static void real_address_rule(nl_batch_t *batch, const char *table,
							  uint8_t len, bool no_entry)
{
	struct nftnl_rule *r;
	char name[NAME_LEN];
	uint32_t zero = 0;
	uint8_t none = 0;

	r = nft_rule_alloc(table, TUNNEL_NAT_CHAIN_GUARD);
	nft_expr_daddr_masked(r, len, NFT_REG_1);
	nft_expr_lookup_reg(r, rcfg_name(name, len), ID_RCFG(len), NFT_REG_1,
						NFT_REG_VERDICT);
	if (no_entry)
	{
		nft_expr_ct_load(r, NFT_CT_STATE, NFT_REG_1);
		nft_expr_bitwise(r, NFT_REG_1,
						 NF_CT_STATE_INVALID_BIT | NF_CT_STATE_UNTRACKED_BIT, 0);
		nft_expr_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, sizeof(zero));
	}
	else
	{
		nft_expr_ct_bits(r, NFT_CT_STATUS, IPS_SRC_NAT, IPS_SRC_NAT);
	}
	nft_expr_rt_load(r, NFT_RT_XFRM, NFT_REG_1);
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &none, sizeof(none));
	nft_expr_counted_drop(r);
	nft_msg_rule(batch, r, no_entry ? "tunnel-nat: a partner's real address, "
				 "without a conntrack entry, without an SA"
				 : "tunnel-nat: a partner's real address, translated, "
				 "without an SA");
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_rules_post(nl_batch_t *batch, const char *table,
									   tunnel_nat_nft_partner_t *partner)
{
	int len;

	for_each_class(partner->classes | partner->lazy, len)
	{
		partner_snat_rule(batch, table, partner, len);
	}
	guard_rule(batch, table, partner, IP_CT_DIR_ORIGINAL, FALSE, FALSE,
			   "tunnel-nat: a flow to a partner without its SA");
	guard_rule(batch, table, partner, IP_CT_DIR_REPLY, TRUE, FALSE,
			   "tunnel-nat: a reply to a partner without its SA");
	guard_rule(batch, table, partner, IP_CT_DIR_ORIGINAL, TRUE, TRUE,
			   "tunnel-nat: a partner's flow from outside its remote "
			   "prefixes");
	for_each_class(partner->classes, len)
	{
		fail_closed_rule(batch, table, len);
	}
	route_based_return_rule(batch, table, "xfrm");
	route_based_return_rule(batch, table, "vti");
	for_each_class(partner->classes, len)
	{
		real_address_rule(batch, table, len, FALSE);
		real_address_rule(batch, table, len, TRUE);
	}
}

/**
 * Key and data of a partner-side element
 */
static void partner_elem(tunnel_nat_elem_t *elem, nft_elem_t *out)
{
	switch (elem->map)
	{
		case TUNNEL_NAT_PZONE:
			nft_elem_host32(out->key, &out->key_len, elem->bind);
			nft_elem_host16(out->data, &out->data_len, elem->value);
			break;
		case TUNNEL_NAT_PMARK:
			nft_elem_host32(out->key, &out->key_len, elem->bind);
			nft_elem_host32(out->data, &out->data_len, elem->value);
			break;
		case TUNNEL_NAT_AZONE:
			nft_elem_addr(out->key, &out->key_len, elem->dst_from);
			nft_elem_host16(out->data, &out->data_len, elem->value);
			break;
		case TUNNEL_NAT_AMARK:
			nft_elem_addr(out->key, &out->key_len, elem->dst_from);
			nft_elem_host32(out->data, &out->data_len, elem->value);
			break;
		case TUNNEL_NAT_ADNAT:
			nft_elem_addr(out->key, &out->key_len, elem->dst_from);
			nft_elem_addr(out->data, &out->data_len, elem->nat_from);
			nft_elem_addr(out->data, &out->data_len, elem->nat_to);
			break;
		case TUNNEL_NAT_PSNAT:
		default:
			nft_elem_host32(out->key, &out->key_len, elem->bind);
			nft_elem_addr(out->key, &out->key_len, elem->src_from);
			nft_elem_addr(out->data, &out->data_len, elem->nat_from);
			nft_elem_addr(out->data, &out->data_len, elem->nat_to);
			break;
	}
}

/**
 * Name of the map of a partner-side element
 */
static char *partner_map_name(char *buf, tunnel_nat_map_t kind, uint8_t len)
{
	switch (kind)
	{
		case TUNNEL_NAT_PZONE:
			return strcpy(buf, "pzone4");
		case TUNNEL_NAT_PMARK:
			return strcpy(buf, "pmark4");
		case TUNNEL_NAT_AZONE:
			return class_name(buf, CLASS_AZONE, len);
		case TUNNEL_NAT_AMARK:
			return class_name(buf, CLASS_AMARK, len);
		case TUNNEL_NAT_ADNAT:
			return class_name(buf, CLASS_ADNAT, len);
		case TUNNEL_NAT_PSNAT:
		default:
			return class_name(buf, CLASS_PSNAT, len);
	}
}

/**
 * Whether a kind of element goes to a map per length class
 */
static bool kind_per_class(tunnel_nat_map_t kind)
{
	return kind != TUNNEL_NAT_PZONE && kind != TUNNEL_NAT_PMARK;
}

/**
 * Put the elements of one map in messages
 */
static void partner_msgs(nl_batch_t *batch, const char *table, bool add,
						 tunnel_nat_map_t kind, uint8_t len, array_t *elems)
{
	tunnel_nat_elem_t *elem;
	nft_elem_t *out;
	char name[NAME_LEN], (*descs)[160];
	u_int i, n = 0;

	out = calloc(array_count(elems) ?: 1, sizeof(*out));
	descs = calloc(array_count(elems) ?: 1, sizeof(*descs));
	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		if (elem->map != kind || (kind_per_class(kind) && elem->len != len))
		{
			continue;
		}
		tunnel_nat_elem_str(elem, descs[n], sizeof(descs[n]));
		snprintf(descs[n] + strlen(descs[n]), sizeof(descs[n]) - strlen(descs[n]),
				 " (%s)", elem->comment);
		out[n] = (nft_elem_t){
			.comment = elem->comment,
			.desc = descs[n],
		};
		partner_elem(elem, &out[n]);
		n++;
	}
	nft_msg_elems(batch, table, partner_map_name(name, kind, len), add, out, n);
	free(descs);
	free(out);
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_count_rule(nl_batch_t *batch, const char *table,
									   const char *chain,
									   tunnel_nat_nft_partner_t *partner)
{
	struct nftnl_rule *r;

	r = nft_rule_alloc(table, chain);
	nft_expr_ct_zone_range(r, partner->zone_first, partner->zone_last);
	nft_expr_ct_bits(r, NFT_CT_MARK, partner->ct_mark, 0);
	nft_expr_verdict(r, NFT_RETURN);
	nft_msg_rule(batch, r, "tunnel-nat: flows our hosts started to an alias "
				 "are counted in azone4");
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_elems(nl_batch_t *batch, const char *table,
								  bool add, array_t *elems)
{
	tunnel_nat_elem_t *elem;
	uint64_t classes[TUNNEL_NAT_KINDS] = {};
	tunnel_nat_map_t kind;
	u_int i;
	int len;

	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		if (tunnel_nat_map_is_partner(elem->map))
		{
			classes[elem->map] |= 1ULL << (kind_per_class(elem->map) ?
										   min(elem->len, 32) : 0);
		}
	}
	for (kind = TUNNEL_NAT_PZONE; kind < TUNNEL_NAT_KINDS; kind++)
	{
		for_each_class(classes[kind], len)
		{
			partner_msgs(batch, table, add, kind, len, elems);
		}
	}
}

/*
 * Described in header
 */
uint64_t tunnel_nat_nft_partner_elem_classes(array_t *elems)
{
	tunnel_nat_elem_t *elem;
	uint64_t classes = 0;
	u_int i;

	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		if (tunnel_nat_map_is_partner(elem->map) &&
			kind_per_class(elem->map) && elem->len <= 32)
		{
			classes |= 1ULL << elem->len;
		}
	}
	return classes;
}

/*
 * Described in header
 */
bool tunnel_nat_nft_partner_same(tunnel_nat_nft_partner_t *a,
								 tunnel_nat_nft_partner_t *b)
{
	if (!a || !b)
	{
		return !a && !b;
	}
	return a->classes == b->classes && a->zone_first == b->zone_first &&
		   a->zone_last == b->zone_last && a->ct_mark == b->ct_mark &&
		   a->mark_mask == b->mark_mask;
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_add_classes(nl_batch_t *batch, const char *table,
										tunnel_nat_nft_partner_t *partner,
										uint64_t classes)
{
	int len;

	classes &= ~(partner->classes | partner->lazy);
	for_each_class(classes, len)
	{
		class_maps(batch, table, len, partner);
		alias_rule(batch, table, TUNNEL_NAT_CHAIN_RAW_PRE, len);
		alias_rule(batch, table, TUNNEL_NAT_CHAIN_RAW_OUT, len);
		/* before the P side's rules, as when the table is created; classes
		 * hold disjoint blocks, so their order does not matter */
		alias_dnat_rule(batch, table, TUNNEL_NAT_CHAIN_PRE, len, TRUE);
		alias_dnat_rule(batch, table, TUNNEL_NAT_CHAIN_OUTPUT_NAT, len, FALSE);
		/* after the P side's SNAT, the end of the chain */
		partner_snat_rule(batch, table, partner, len);
	}
	partner->lazy |= classes;
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_flush(nl_batch_t *batch, const char *table,
								  tunnel_nat_nft_partner_t *partner)
{
	char name[NAME_LEN];
	int len, k;

	nft_msg_flush_set(batch, table, "pzone4");
	nft_msg_flush_set(batch, table, "pmark4");
	for_each_class(partner->classes | partner->lazy, len)
	{
		for (k = CLASS_AZONE; k <= CLASS_PSNAT; k++)
		{
			nft_msg_flush_set(batch, table, class_name(name, k, len));
		}
	}
	tunnel_nat_nft_partner_acfg(batch, table, partner);
}

/*
 * Described in header
 */
void tunnel_nat_nft_partner_acfg(nl_batch_t *batch, const char *table,
								 tunnel_nat_nft_partner_t *partner)
{
	char name[NAME_LEN];
	int len;

	for_each_class(partner->classes, len)
	{
		nft_msg_flush_set(batch, table, class_name(name, CLASS_ACFG, len));
		cfg_elems(batch, table, len, partner->mappings, FALSE);
		nft_msg_flush_set(batch, table, rcfg_name(name, len));
		cfg_elems(batch, table, len, partner->mappings, TRUE);
	}
}
