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

#include "test_suites.h"
#include "nft_msgs.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_nat.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include <tunnel_nat_nft.h>
#include <nft_util.h>

static void check_table(struct nlmsghdr *nlh, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();

	ck_assert_uint_eq(nft_msgs_type(nlh), type);
	ck_assert_uint_eq(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), flags);
	ck_assert_int_eq(nftnl_table_nlmsg_parse(nlh, t), 0);
	ck_assert_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "tn_test");
	ck_assert_uint_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_IPV4);
	nftnl_table_free(t);
}

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
	uint32_t *seen = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_DATA_INTERVAL)
	{
		*seen = nftnl_udata_get_u32(attr);
	}
	return 0;
}

static void check_map(struct nlmsghdr *nlh, const char *name, bool ranges)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const void *udata;
	uint32_t len, interval = 0;

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWSET);
	ck_assert_int_eq(nftnl_set_nlmsg_parse(nlh, s), 0);
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_TABLE), "tn_test");
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
	/* exact pairs in a hash, ranges in an interval map */
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
					  NFT_SET_MAP |
					  (ranges ? NFT_SET_INTERVAL | NFT_SET_CONCAT : 0));
	/* the concat description makes the kernel pick pipapo: ranges only */
	ck_assert(nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT) == ranges);
	/* ipv4_addr . ipv4_addr as nft encodes it */
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), (7 << 6) | 7);
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 8);
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE), 7);
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN), 8);
	udata = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
	ck_assert(udata);
	ck_assert_int_ge(nftnl_udata_parse(udata, len, udata_cb, &interval), 0);
	ck_assert_uint_eq(interval, 1);
	nftnl_set_free(s);
}

static void check_chain(struct nlmsghdr *nlh, const char *name, uint32_t hook,
						int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWCHAIN);
	ck_assert_int_eq(nftnl_chain_nlmsg_parse(nlh, c), 0);
	ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), name);
	ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "nat");
	ck_assert_uint_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), hook);
	ck_assert_int_eq(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), prio);
	ck_assert_uint_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	nftnl_chain_free(c);
}

/**
 * Check a rule's expressions: payload saddr, payload daddr, lookup, nat
 */
static void check_rule(struct nlmsghdr *nlh, const char *chain,
					   uint32_t nat_type, const char *map)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const char *names[8];
	struct nftnl_expr *exprs[8];
	int n = 0;

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWRULE);
	ck_assert_int_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
	ck_assert_str_eq(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain);
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)))
	{
		ck_assert_int_lt(n, 8);
		exprs[n] = e;
		names[n++] = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	}
	nftnl_expr_iter_destroy(it);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(names[0], "payload");
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[0], NFTNL_EXPR_PAYLOAD_OFFSET), 12);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[0], NFTNL_EXPR_PAYLOAD_DREG), NFT_REG_1);
	ck_assert_str_eq(names[1], "payload");
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[1], NFTNL_EXPR_PAYLOAD_OFFSET), 16);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[1], NFTNL_EXPR_PAYLOAD_DREG), NFT_REG32_01);
	ck_assert_str_eq(names[2], "lookup");
	ck_assert_str_eq(nftnl_expr_get_str(exprs[2], NFTNL_EXPR_LOOKUP_SET), map);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[2], NFTNL_EXPR_LOOKUP_SREG), NFT_REG_1);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[2], NFTNL_EXPR_LOOKUP_DREG), NFT_REG_1);
	ck_assert_str_eq(names[3], "nat");
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[3], NFTNL_EXPR_NAT_TYPE), nat_type);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[3], NFTNL_EXPR_NAT_FAMILY), NFPROTO_IPV4);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[3], NFTNL_EXPR_NAT_REG_ADDR_MIN), NFT_REG_1);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[3], NFTNL_EXPR_NAT_REG_ADDR_MAX), NFT_REG32_01);
	ck_assert_uint_eq(nftnl_expr_get_u32(exprs[3], NFTNL_EXPR_NAT_FLAGS), NF_NAT_RANGE_NETMAP);
	ck_assert(nftnl_rule_is_set(r, NFTNL_RULE_USERDATA));
	nftnl_rule_free(r);
}

/**
 * Check a set's name, flags, key and data length
 */
static void check_set_name(struct nlmsghdr *nlh, const char *name,
						   uint32_t flags, uint32_t klen, uint32_t dlen)
{
	struct nftnl_set *s = nftnl_set_alloc();

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWSET);
	ck_assert_int_eq(nftnl_set_nlmsg_parse(nlh, s), 0);
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), flags);
	ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), klen);
	if (dlen)
	{
		ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN), dlen);
	}
	nftnl_set_free(s);
}

/**
 * Check that a rule is in a chain, looks up a set and ends in a NAT of a
 * type (or, nat -1, a drop verdict)
 */
static void check_rule_lookup(struct nlmsghdr *nlh, const char *chain,
							  const char *set, int nat)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const char *name;
	bool lookup = FALSE, end = FALSE;

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWRULE);
	ck_assert_int_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
	ck_assert_str_eq(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain);
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)))
	{
		name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		if (streq(name, "lookup"))
		{
			ck_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), set);
			lookup = TRUE;
		}
		else if (streq(name, "nat") && nat >= 0)
		{
			ck_assert(lookup);
			ck_assert_uint_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE), nat);
			/* many-to-one and port forwards keep no host bits */
			ck_assert(!nftnl_expr_is_set(e, NFTNL_EXPR_NAT_FLAGS));
			end = TRUE;
		}
		else if (streq(name, "immediate") && nat < 0)
		{
			ck_assert(lookup);
			ck_assert_int_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT), NF_DROP);
			end = TRUE;
		}
	}
	nftnl_expr_iter_destroy(it);
	ck_assert(end);
	nftnl_rule_free(r);
}

/**
 * Check that a message creates a regular chain (no hook, no type)
 */
static void check_regular_chain(struct nlmsghdr *nlh, const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWCHAIN);
	ck_assert_int_eq(nftnl_chain_nlmsg_parse(nlh, c), 0);
	ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), name);
	ck_assert(!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM));
	ck_assert(!nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE));
	nftnl_chain_free(c);
}

static void check_whole_table(const char *iface)
{
	nl_batch_t *batch = nl_batch_create();
	char buf[256];
	int i;

	nft_msg_begin(batch);
	tunnel_nat_nft_table(batch, "tn_test", iface, NULL, FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	/* with an interface one goto to the decrypted chain, else two */
	ck_assert_int_eq(nft_nmsgs, iface ? 23 : 24);
	nft_msgs_check_seq_and_acks();
	/* replace in one transaction: add (no error if it exists), delete, create */
	check_table(nft_msgs[1], NFT_MSG_NEWTABLE, NLM_F_CREATE);
	check_table(nft_msgs[2], NFT_MSG_DELTABLE, 0);
	check_table(nft_msgs[3], NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	check_map(nft_msgs[4], "dnat4", FALSE);
	check_map(nft_msgs[5], "dnat4_ranges", TRUE);
	check_map(nft_msgs[6], "snat4", FALSE);
	check_map(nft_msgs[7], "snat4_ranges", TRUE);
	check_set_name(nft_msgs[8], "forward4", NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT, 16, 8);
	check_set_name(nft_msgs[9], "pat4", NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT, 8, 8);
	check_set_name(nft_msgs[10], "closed4", NFT_SET_INTERVAL | NFT_SET_CONCAT, 8, 0);
	check_chain(nft_msgs[11], "prerouting", NF_INET_PRE_ROUTING, -100);
	check_chain(nft_msgs[12], "postrouting", NF_INET_POST_ROUTING, 100);
	check_regular_chain(nft_msgs[13], "decrypted");
	/* what came out of IPsec goes to the decrypted chain: decrypted by
	 * XFRM, or out of a VTI (which drops the secpath); with kernel-libipsec
	 * what arrives on its TUN device */
	if (iface)
	{
		ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[14], buf, sizeof(buf)),
			"prerouting: meta iifname>1 | cmp eq 1 'ipsec0' | "
			"verdict goto decrypted");
		i = 15;
	}
	else
	{
		ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[14], buf, sizeof(buf)),
			"prerouting: meta secpath>1 | cmp eq 1 0x1 | "
			"verdict goto decrypted");
		ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[15], buf, sizeof(buf)),
			"prerouting: meta iifkind>1 | cmp eq 1 0x697476 | "
			"verdict goto decrypted");
		i = 16;
	}
	/* a fixed number of rules per chain, whatever the number of tunnels:
	 * port forwards, exact pairs, ranges, the closed addresses, none
	 * matching the inbound interface again; SNAT of exact pairs, ranges,
	 * many-to-one */
	check_rule_lookup(nft_msgs[i], "decrypted", "forward4", NFT_NAT_DNAT);
	check_rule(nft_msgs[i + 1], "decrypted", NFT_NAT_DNAT, "dnat4");
	check_rule(nft_msgs[i + 2], "decrypted", NFT_NAT_DNAT, "dnat4_ranges");
	check_rule_lookup(nft_msgs[i + 3], "decrypted", "closed4", -1);
	check_rule(nft_msgs[i + 4], "postrouting", NFT_NAT_SNAT, "snat4");
	check_rule(nft_msgs[i + 5], "postrouting", NFT_NAT_SNAT, "snat4_ranges");
	check_rule_lookup(nft_msgs[i + 6], "postrouting", "pat4", NFT_NAT_SNAT);
	ck_assert_str_eq(batch->describe(batch, 2), "delete stale table ip tn_test");
	batch->destroy(batch);
}

START_TEST(test_table_secpath)
{
	check_whole_table(NULL);
}
END_TEST

START_TEST(test_table_iface)
{
	check_whole_table("ipsec0");
}
END_TEST

static int counter_cb(struct nftnl_expr *e, void *data)
{
	int *n = data;

	ck_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter");
	(*n)++;
	return 0;
}

/**
 * Check a counting set: name, kind, key length, no data, a counter
 */
static void check_count_set(struct nlmsghdr *nlh, const char *name,
							uint32_t flags, uint32_t klen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	int n = 0;

	check_set_name(nlh, name, flags, klen, 0);
	ck_assert_int_eq(nftnl_set_nlmsg_parse(nlh, s), 0);
	ck_assert(!nftnl_set_is_set(s, NFTNL_SET_DATA_LEN));
	ck_assert_int_eq(nftnl_set_expr_foreach(s, counter_cb, &n), 0);
	ck_assert_int_eq(n, 1);
	nftnl_set_free(s);
}

START_TEST(test_table_counters)
{
	nl_batch_t *batch = nl_batch_create();
	struct nftnl_chain *c;
	char buf[512];
	/* ct status & X == X, then the original tuple as the NAT chains read
	 * the packet, a lookup in the counting set, accept */
	const char *rules[] = {
		"count: ct status>1 | bitwise 1&0x20^0x0 | cmp eq 1 0x20 | "
		"ct original protocol>1 | cmp eq 1 0x6 | ct original ip saddr>1 | "
		"ct original ip daddr>9 | ct original protocol>10 | "
		"ct original proto-dst>11 | lookup forward4_count 1 | "
		"verdict accept",
		"count: ct status>1 | bitwise 1&0x20^0x0 | cmp eq 1 0x20 | "
		"ct original protocol>1 | cmp eq 1 0x11 | ct original ip saddr>1 | "
		"ct original ip daddr>9 | ct original protocol>10 | "
		"ct original proto-dst>11 | lookup forward4_count 1 | "
		"verdict accept",
		"count: ct status>1 | bitwise 1&0x20^0x0 | cmp eq 1 0x20 | "
		"ct original ip saddr>1 | ct original ip daddr>9 | "
		"lookup dnat4_count 1 | verdict accept",
		"count: ct status>1 | bitwise 1&0x20^0x0 | cmp eq 1 0x20 | "
		"ct original ip saddr>1 | ct original ip daddr>9 | "
		"lookup dnat4_ranges_count 1 | verdict accept",
		"count: ct status>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x10 | "
		"ct original ip saddr>1 | ct original ip daddr>9 | "
		"lookup snat4_count 1 | verdict accept",
		"count: ct status>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x10 | "
		"ct original ip saddr>1 | ct original ip daddr>9 | "
		"lookup snat4_ranges_count 1 | verdict accept",
		"count: ct status>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x10 | "
		"ct original ip saddr>1 | ct original ip daddr>9 | "
		"lookup pat4_count 1 | verdict accept",
	};
	int i;

	nft_msg_begin(batch);
	tunnel_nat_nft_table(batch, "tn_test", NULL, NULL, TRUE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	/* the table without counters (22 messages), then 6 counting sets, the
	 * chain and 7 rules, the same number at any number of tunnels */
	ck_assert_int_eq(nft_nmsgs, 38);
	check_rule_lookup(nft_msgs[22], "postrouting", "pat4", NFT_NAT_SNAT);
	check_count_set(nft_msgs[23], "dnat4_count", 0, 8);
	check_count_set(nft_msgs[24], "dnat4_ranges_count",
					NFT_SET_INTERVAL | NFT_SET_CONCAT, 8);
	check_count_set(nft_msgs[25], "snat4_count", 0, 8);
	check_count_set(nft_msgs[26], "snat4_ranges_count",
					NFT_SET_INTERVAL | NFT_SET_CONCAT, 8);
	check_count_set(nft_msgs[27], "forward4_count",
					NFT_SET_INTERVAL | NFT_SET_CONCAT, 16);
	check_count_set(nft_msgs[28], "pat4_count",
					NFT_SET_INTERVAL | NFT_SET_CONCAT, 8);
	c = nftnl_chain_alloc();
	ck_assert_uint_eq(nft_msgs_type(nft_msgs[29]), NFT_MSG_NEWCHAIN);
	ck_assert_int_eq(nftnl_chain_nlmsg_parse(nft_msgs[29], c), 0);
	ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "count");
	ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
	ck_assert_uint_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), NF_INET_FORWARD);
	ck_assert_int_eq(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), 0);
	nftnl_chain_free(c);
	for (i = 0; i < countof(rules); i++)
	{
		ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[30 + i], buf, sizeof(buf)),
						 rules[i]);
	}
	batch->destroy(batch);
}
END_TEST

START_TEST(test_delete_table)
{
	nl_batch_t *batch = nl_batch_create();

	nft_msg_begin(batch);
	tunnel_nat_nft_delete_table(batch, "tn_test");
	nft_msg_end(batch);
	nft_msgs_split(batch);
	ck_assert_int_eq(nft_nmsgs, 3);
	nft_msgs_check_seq_and_acks();
	check_table(nft_msgs[1], NFT_MSG_DELTABLE, 0);
	batch->destroy(batch);
}
END_TEST

static tunnel_nat_elem_t *new_elem(tunnel_nat_map_t map, uint32_t n)
{
	tunnel_nat_elem_t *e;

	INIT(e,
		.map = map,
		.src_from = 0xc6336400 + n, .src_to = 0xc63364ff,
		.dst_from = 0xc0000264, .dst_to = 0xc0000267,
		.nat_from = 0x0a010000, .nat_to = 0x0a010003,
	);
	snprintf(e->comment, sizeof(e->comment), "child c%u", n);
	return e;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_COMMENT)
	{
		*comment = nftnl_udata_get(attr);
	}
	return 0;
}

/**
 * Parse an element message, check its elements against e[first...]
 */
static int check_elems_data(struct nlmsghdr *nlh, bool add, const char *map,
							tunnel_nat_elem_t **e, int first, bool has_data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;
	const uint32_t *key, *data;
	const void *udata;
	const char *comment;
	uint32_t len;
	int i = first;

	ck_assert_uint_eq(nft_msgs_type(nlh), add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
	nft_msgs_renumber_list(nlh);
	ck_assert_int_eq(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_NAME), map);
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_TABLE), "tn_test");
	it = nftnl_set_elems_iter_create(s);
	while ((el = nftnl_set_elems_iter_next(it)))
	{
		key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
		ck_assert_uint_eq(len, 8);
		ck_assert_uint_eq(ntohl(key[0]), e[i]->src_from);
		ck_assert_uint_eq(ntohl(key[1]), e[i]->dst_from);
		if (e[i]->src_from == e[i]->src_to && e[i]->dst_from == e[i]->dst_to)
		{	/* exact pair, hash map: no interval end */
			ck_assert(!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_KEY_END));
		}
		else
		{
			key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY_END, &len);
			ck_assert_uint_eq(len, 8);
			ck_assert_uint_eq(ntohl(key[0]), e[i]->src_to);
			ck_assert_uint_eq(ntohl(key[1]), e[i]->dst_to);
		}
		if (add && !has_data)
		{	/* a counting set: the key and the comment */
			ck_assert(!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_DATA));
		}
		if (add && has_data)
		{
			data = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &len);
			ck_assert_uint_eq(len, 8);
			ck_assert_uint_eq(ntohl(data[0]), e[i]->nat_from);
			ck_assert_uint_eq(ntohl(data[1]), e[i]->nat_to);
		}
		if (add)
		{
			udata = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &len);
			ck_assert(udata);
			comment = NULL;
			ck_assert_int_ge(nftnl_udata_parse(udata, len, comment_cb, &comment), 0);
			ck_assert_str_eq(comment, e[i]->comment);
		}
		else
		{
			ck_assert(!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_DATA));
		}
		i++;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return i - first;
}

static int check_elems(struct nlmsghdr *nlh, bool add, const char *map,
					   tunnel_nat_elem_t **e, int first)
{
	return check_elems_data(nlh, add, map, e, first, TRUE);
}

START_TEST(test_elems_few)
{
	nl_batch_t *batch = nl_batch_create();
	tunnel_nat_elem_t *e[3];
	array_t *list = array_create(0, 0);
	bool add = _i;

	e[0] = new_elem(TUNNEL_NAT_SNAT, 1);
	e[1] = new_elem(TUNNEL_NAT_DNAT, 2);
	e[2] = new_elem(TUNNEL_NAT_DNAT, 3);
	array_insert(list, ARRAY_TAIL, e[0]);
	array_insert(list, ARRAY_TAIL, e[1]);
	array_insert(list, ARRAY_TAIL, e[2]);

	nft_msg_begin(batch);
	tunnel_nat_nft_elems(batch, "tn_test", add, list, FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	/* one message per element, DNAT first, so errors name the element */
	ck_assert_int_eq(nft_nmsgs, 5);
	ck_assert_int_eq(check_elems(nft_msgs[1], add, "dnat4_ranges", e, 1), 1);
	ck_assert_int_eq(check_elems(nft_msgs[2], add, "dnat4_ranges", e, 2), 1);
	ck_assert_int_eq(check_elems(nft_msgs[3], add, "snat4_ranges", e, 0), 1);
	ck_assert(strstr(batch->describe(batch, 1), "DNAT 198.51.100.2-198.51.100.255 . 192.0.2.100/30 => 10.1.0.0/30 (child c2)"));
	batch->destroy(batch);
	array_destroy_function(list, (void*)free, NULL);
}
END_TEST

START_TEST(test_elems_exact)
{
	nl_batch_t *batch = nl_batch_create();
	tunnel_nat_elem_t *e[3];
	array_t *list = array_create(0, 0);

	/* a host pair goes to the exact map, a range pair to the ranges map */
	e[0] = new_elem(TUNNEL_NAT_DNAT, 1);
	e[0]->src_to = e[0]->src_from;
	e[0]->dst_to = e[0]->dst_from;
	e[1] = new_elem(TUNNEL_NAT_DNAT, 2);
	e[2] = new_elem(TUNNEL_NAT_SNAT, 3);
	e[2]->src_to = e[2]->src_from;
	e[2]->dst_to = e[2]->dst_from;
	array_insert(list, ARRAY_TAIL, e[0]);
	array_insert(list, ARRAY_TAIL, e[1]);
	array_insert(list, ARRAY_TAIL, e[2]);

	nft_msg_begin(batch);
	tunnel_nat_nft_elems(batch, "tn_test", TRUE, list, FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	ck_assert_int_eq(nft_nmsgs, 5);
	ck_assert_int_eq(check_elems(nft_msgs[1], TRUE, "dnat4", e, 0), 1);
	ck_assert_int_eq(check_elems(nft_msgs[2], TRUE, "dnat4_ranges", e, 1), 1);
	ck_assert_int_eq(check_elems(nft_msgs[3], TRUE, "snat4", e, 2), 1);
	batch->destroy(batch);
	array_destroy_function(list, (void*)free, NULL);
}
END_TEST

START_TEST(test_elems_counters)
{
	nl_batch_t *batch = nl_batch_create();
	tunnel_nat_elem_t *e[3];
	array_t *list = array_create(0, 0);
	bool add = _i;

	/* each map's message is followed by one with the same keys for its
	 * counting set; the closed addresses have none */
	e[0] = new_elem(TUNNEL_NAT_DNAT, 1);
	e[0]->src_to = e[0]->src_from;
	e[0]->dst_to = e[0]->dst_from;
	e[1] = new_elem(TUNNEL_NAT_SNAT, 2);
	e[2] = new_elem(TUNNEL_NAT_CLOSED, 3);
	array_insert(list, ARRAY_TAIL, e[0]);
	array_insert(list, ARRAY_TAIL, e[1]);
	array_insert(list, ARRAY_TAIL, e[2]);

	nft_msg_begin(batch);
	tunnel_nat_nft_elems(batch, "tn_test", add, list, TRUE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	ck_assert_int_eq(nft_nmsgs, 7);
	ck_assert_int_eq(check_elems(nft_msgs[1], add, "dnat4", e, 0), 1);
	ck_assert_int_eq(check_elems_data(nft_msgs[2], add, "dnat4_count", e, 0,
									  FALSE), 1);
	ck_assert_int_eq(check_elems(nft_msgs[3], add, "snat4_ranges", e, 1), 1);
	ck_assert_int_eq(check_elems_data(nft_msgs[4], add, "snat4_ranges_count",
									  e, 1, FALSE), 1);
	ck_assert_int_eq(check_elems_data(nft_msgs[5], add, "closed4", e, 2,
									  FALSE), 1);
	batch->destroy(batch);
	array_destroy_function(list, (void*)free, NULL);
}
END_TEST

START_TEST(test_elems_many)
{
	nl_batch_t *batch = nl_batch_create();
	tunnel_nat_elem_t *e[600];
	array_t *list = array_create(0, 0);
	int i, seen = 0;

	for (i = 0; i < countof(e); i++)
	{
		e[i] = new_elem(TUNNEL_NAT_DNAT, i % 250);
		e[i]->dst_from = e[i]->dst_to = i;
		array_insert(list, ARRAY_TAIL, e[i]);
	}
	nft_msg_begin(batch);
	tunnel_nat_nft_elems(batch, "tn_test", TRUE, list, FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	/* 256 + 256 + 88 */
	ck_assert_int_eq(nft_nmsgs, 5);
	for (i = 1; i < 4; i++)
	{
		seen += check_elems(nft_msgs[i], TRUE, "dnat4_ranges", e, seen);
	}
	ck_assert_int_eq(seen, 600);
	ck_assert_str_eq(batch->describe(batch, 3), "add 88 elements to map ip tn_test dnat4_ranges");
	batch->destroy(batch);
	array_destroy_function(list, (void*)free, NULL);
}
END_TEST

START_TEST(test_flush)
{
	nl_batch_t *batch = nl_batch_create();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set *s;
	int i;

	const char *names[] = { "", "dnat4", "dnat4_ranges", "snat4",
							"snat4_ranges", "forward4", "pat4", "closed4" };
	const char *counting[] = { "", "dnat4", "dnat4_count", "dnat4_ranges",
							"dnat4_ranges_count", "snat4", "snat4_count",
							"snat4_ranges", "snat4_ranges_count", "forward4",
							"forward4_count", "pat4", "pat4_count", "closed4" };
	bool counters = _i;
	int n = counters ? countof(counting) : countof(names);

	nft_msg_begin(batch);
	tunnel_nat_nft_flush(batch, "tn_test", counters);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	ck_assert_int_eq(nft_nmsgs, n + 1);
	for (i = 1; i < n; i++)
	{
		ck_assert_uint_eq(nft_msgs_type(nft_msgs[i]), NFT_MSG_DELSETELEM);
		s = nftnl_set_alloc();
		ck_assert_int_eq(nftnl_set_elems_nlmsg_parse(nft_msgs[i], s), 0);
		ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_NAME),
						 counters ? counting[i] : names[i]);
		/* no elements: the kernel removes them all */
		it = nftnl_set_elems_iter_create(s);
		ck_assert(nftnl_set_elems_iter_next(it) == NULL);
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(s);
	}
	batch->destroy(batch);
}
END_TEST

Suite *make_nft_suite(void)
{
	Suite *s = suite_create("nft");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_table_secpath);
	tcase_add_test(tc, test_table_iface);
	tcase_add_test(tc, test_table_counters);
	tcase_add_test(tc, test_delete_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("elements");
	tcase_add_loop_test(tc, test_elems_few, 0, 2);
	tcase_add_test(tc, test_elems_exact);
	tcase_add_loop_test(tc, test_elems_counters, 0, 2);
	tcase_add_test(tc, test_elems_many);
	tcase_add_loop_test(tc, test_flush, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
