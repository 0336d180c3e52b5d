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
#include "nft_checks.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <settings/settings.h>

#include <tunnel_nat_nft.h>
#include <nft_util.h>

#define PRE "charon { plugins { tunnel-nat { "
#define POST " } } }"

/**
 * Two partners in two length classes (/24 and /16), and a P side only
 * mapping, which has no alias
 */
#define PARTNERS PRE "partner_zones = 100-199 \n partner_ct_mark = 0x10 \n " \
	"mappings { " \
	"acme { child = acme-net \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 } " \
	"globex { child = globex-net \n remote = 10.8.0.0/16 \n alias = 100.65.0.0/16 } " \
	"web { child = web-net \n public = 192.0.2.100 \n private = 10.1.0.10 } " \
	"} " POST

/**
 * tunnel-route's mark mask in these tests
 */
#define ROUTE_MASK 0xff000000

static tunnel_nat_config_t *load(const char *text)
{
	settings_t *settings;
	tunnel_nat_config_t *config;

	settings = settings_create_string((char*)text);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	settings->destroy(settings);
	ck_assert(config);
	return config;
}

START_TEST(test_partner_init)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;

	config = load(PARTNERS);
	ck_assert(tunnel_nat_nft_partner_init(config, ROUTE_MASK, &partner));
	/* one class per prefix length of the aliases */
	ck_assert_uint_eq(partner.classes, (1ULL << 24) | (1ULL << 16));
	ck_assert_uint_eq(partner.zone_first, 100);
	ck_assert_uint_eq(partner.zone_last, 199);
	ck_assert_uint_eq(partner.ct_mark, 0x10);
	/* the SAs' marks are outside tunnel-route's bits */
	ck_assert_uint_eq(partner.mark_mask, 0x00ffffff);
	ck_assert(partner.mappings == config->mappings);
	config->destroy(config);

	/* no partner side, no partner objects */
	config = load(PRE "mappings { web { child = web-net \n public = 192.0.2.100 "
				  "\n private = 10.1.0.10 } }" POST);
	ck_assert(!tunnel_nat_nft_partner_init(config, 0, &partner));
	config->destroy(config);
}
END_TEST

/**
 * The rules of the table of PARTNERS, in the order they are added
 */
static int expected_rules(const char **exp)
{
	uint32_t m16 = htonl(0xffff0000), m24 = htonl(0xffffff00);
	uint32_t masks[] = { m16, m24 }, lens[] = { 16, 24 };
	const char *zones = fmt("ct zone>1 | hton 1>1 2/2 | cmp gte 1 0x%x | "
							"cmp lte 1 0x%x", htons(100), htons(199));
	const char *chain;
	int n = 0, i, c;

	/* first, what came out of IPsec goes to the P side's chain of
	 * decrypted packets, and sees no alias DNAT */
	exp[n++] = "prerouting: meta secpath>1 | cmp eq 1 0x1 | "
			   "verdict goto decrypted";
	exp[n++] = "prerouting: meta iifkind>1 | cmp eq 1 0x697476 | "
			   "verdict goto decrypted";
	/* zone and mark in one rule: a miss in the zone map ends it */
	exp[n++] = "raw_pre: xfrm reqid in 0>1 | lookup pzone4 1>1 | "
			   "ct set zone<1 | xfrm reqid in 0>1 | lookup pmark4 1>1 | "
			   "meta set mark<1";
	/* decrypted packets, also out of a VTI (no secpath), get no alias zone */
	exp[n++] = "raw_pre: meta secpath>1 | cmp eq 1 0x1 | verdict return";
	exp[n++] = "raw_pre: meta iifkind>1 | cmp eq 1 0x697476 | verdict return";
	for (c = 0; c < 2; c++)
	{
		chain = c ? "raw_out" : "raw_pre";
		for (i = 0; i < 2; i++)
		{
			exp[n++] = fmt("%s: payload nh@16>1 | bitwise 1&0x%x^0x0 | "
						   "lookup azone4_l%u 1>1 | ct set zone<1 | "
						   "payload nh@16>1 | bitwise 1&0x%x^0x0 | "
						   "lookup amark4_l%u 1>1 | meta set mark<1", chain,
						   masks[i], lens[i], masks[i], lens[i]);
		}
	}
	exp[n++] = fmt("mangle_pre: ct state>1 | bitwise 1&0x8^0x0 | "
				   "cmp neq 1 0x0 | meta secpath>1 | cmp eq 1 0x1 | %s | "
				   "ct mark>1 | bitwise 1&0xffffffef^0x10 | ct set mark<1",
				   zones);
	for (c = 0; c < 2; c++)
	{
		for (i = 0; i < 2; i++)
		{
			exp[n++] = fmt("%s: payload nh@16>1 | bitwise 1&0x%x^0x0 | "
						   "lookup adnat4_l%u 1>1 | nat dnat 1-9 flags 0x40",
						   c ? "output_nat" : "prerouting", masks[i], lens[i]);
		}
	}
	/* the P side's other seven rules, as without partners */
	exp[n++] = "decrypted: payload nh@12>1 | payload nh@16>9 | "
			   "meta l4proto>10 | payload th@2>11 | "
			   "lookup forward4 1>1 | nat dnat 1-0 flags 0x0";
	exp[n++] = "decrypted: payload nh@12>1 | payload nh@16>9 | "
			   "lookup dnat4 1>1 | nat dnat 1-9 flags 0x40";
	exp[n++] = "decrypted: payload nh@12>1 | payload nh@16>9 | "
			   "lookup dnat4_ranges 1>1 | nat dnat 1-9 flags 0x40";
	exp[n++] = "decrypted: payload nh@12>1 | payload nh@16>9 | "
			   "lookup closed4 1 | counter | verdict drop";
	exp[n++] = "postrouting: payload nh@12>1 | payload nh@16>9 | "
			   "lookup snat4 1>1 | nat snat 1-9 flags 0x40";
	exp[n++] = "postrouting: payload nh@12>1 | payload nh@16>9 | "
			   "lookup snat4_ranges 1>1 | nat snat 1-9 flags 0x40";
	exp[n++] = "postrouting: payload nh@12>1 | payload nh@16>9 | "
			   "lookup pat4 1>1 | nat snat 1-9 flags 0x0";
	/* after them, the partner SNAT keyed by mark & ~ROUTE_MASK . saddr */
	for (i = 0; i < 2; i++)
	{
		exp[n++] = fmt("postrouting: ct mark>1 | bitwise 1&0x10^0x0 | "
					   "cmp eq 1 0x10 | meta mark>1 | "
					   "bitwise 1&0xffffff^0x0 | payload nh@12>9 | "
					   "bitwise 9&0x%x^0x0 | lookup psnat4_l%u 1>1 | "
					   "nat snat 1-9 flags 0x40", masks[i], lens[i]);
	}
	exp[n++] = fmt("guard_post: %s | ct direction>1 | cmp eq 1 0x0 | "
				   "ct mark>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x0 | "
				   "rt ipsec>1 | cmp eq 1 0x0 | counter | verdict drop", zones);
	exp[n++] = fmt("guard_post: %s | ct direction>1 | cmp eq 1 0x1 | "
				   "ct mark>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x10 | "
				   "rt ipsec>1 | cmp eq 1 0x0 | counter | verdict drop", zones);
	exp[n++] = fmt("guard_post: %s | ct direction>1 | cmp eq 1 0x0 | "
				   "ct mark>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x10 | "
				   "ct status>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x0 | "
				   "counter | verdict drop", zones);
	for (i = 0; i < 2; i++)
	{
		exp[n++] = fmt("guard_post: payload nh@16>1 | bitwise 1&0x%x^0x0 | "
					   "lookup acfg4_l%u 1 | counter | verdict drop", masks[i], lens[i]);
	}
	/* route-based tunnels skip the rest; per class of the settings, a
	 * partner's real address without an SA, translated or without a
	 * conntrack entry (invalid or untracked: the gateway's own ICMP errors
	 * about a partner's invalid packets) */
	exp[n++] = "guard_post: meta oifkind>1 | cmp eq 1 'xfrm' | verdict return";
	exp[n++] = "guard_post: meta oifkind>1 | cmp eq 1 0x697476 | verdict return";
	for (i = 0; i < 2; i++)
	{
		exp[n++] = fmt("guard_post: payload nh@16>1 | bitwise 1&0x%x^0x0 | "
					   "lookup rcfg4_l%u 1 | ct status>1 | "
					   "bitwise 1&0x10^0x0 | cmp eq 1 0x10 | rt ipsec>1 | "
					   "cmp eq 1 0x0 | counter | verdict drop", masks[i], lens[i]);
		exp[n++] = fmt("guard_post: payload nh@16>1 | bitwise 1&0x%x^0x0 | "
					   "lookup rcfg4_l%u 1 | ct state>1 | "
					   "bitwise 1&0x41^0x0 | cmp neq 1 0x0 | rt ipsec>1 | "
					   "cmp eq 1 0x0 | counter | verdict drop", masks[i], lens[i]);
	}
	return n;
}

/* nftables' ids: datatypes, byte orders, typeof expressions and keys */
#define T_INTEGER 4
#define T_IPADDR 7
#define T_MARK 19
#define HOST 1
#define BIG 2
#define E_PAYLOAD 7
#define E_META 9
#define E_CT 12
#define E_XFRM 27
#define PROTO_IP 12

/**
 * The maps and sets expected of the table of PARTNERS, by name
 */
static set_t expected_sets[] = {
	{ "pzone4", NFT_SET_MAP, T_INTEGER, 4, T_INTEGER, 2, 1,
	  { HOST, HOST, 0, { E_XFRM, NFT_XFRM_KEY_REQID }, { E_CT, NFT_CT_ZONE } } },
	{ "pmark4", NFT_SET_MAP, T_INTEGER, 4, T_MARK, 4, 0,
	  { HOST, HOST, 0, { E_XFRM, NFT_XFRM_KEY_REQID }, { E_META, NFT_META_MARK } } },
	{ "azone4_l16", NFT_SET_MAP, T_IPADDR, 4, T_INTEGER, 2, 1,
	  { BIG, HOST, 0, { E_PAYLOAD, PROTO_IP }, { E_CT, NFT_CT_ZONE } } },
	{ "amark4_l16", NFT_SET_MAP, T_IPADDR, 4, T_MARK, 4, 0,
	  { BIG, HOST, 0, { E_PAYLOAD, PROTO_IP }, { E_META, NFT_META_MARK } } },
	/* ipv4_addr : interval ipv4_addr, mark . ipv4_addr : interval ... */
	{ "adnat4_l16", NFT_SET_MAP, T_IPADDR, 4, T_IPADDR, 8, 0,
	  { BIG, BIG, 1, {}, {} } },
	{ "psnat4_l16", NFT_SET_MAP, (T_MARK << 6) | T_IPADDR, 8, T_IPADDR, 8, 0,
	  { 0, BIG, 1, {}, {} } },
	{ "acfg4_l16", 0, T_IPADDR, 4, 0, 0, 0, { BIG, 0, 0, {}, {} } },
	{ "azone4_l24", NFT_SET_MAP, T_IPADDR, 4, T_INTEGER, 2, 1,
	  { BIG, HOST, 0, { E_PAYLOAD, PROTO_IP }, { E_CT, NFT_CT_ZONE } } },
	{ "amark4_l24", NFT_SET_MAP, T_IPADDR, 4, T_MARK, 4, 0,
	  { BIG, HOST, 0, { E_PAYLOAD, PROTO_IP }, { E_META, NFT_META_MARK } } },
	{ "adnat4_l24", NFT_SET_MAP, T_IPADDR, 4, T_IPADDR, 8, 0,
	  { BIG, BIG, 1, {}, {} } },
	{ "psnat4_l24", NFT_SET_MAP, (T_MARK << 6) | T_IPADDR, 8, T_IPADDR, 8, 0,
	  { 0, BIG, 1, {}, {} } },
	{ "acfg4_l24", 0, T_IPADDR, 4, 0, 0, 0, { BIG, 0, 0, {}, {} } },
};

START_TEST(test_table_partner)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;
	nl_batch_t *batch;
	const char *exp[40];
	char buf[1024];
	uint32_t alias;
	int i, n, rules = 0;

	config = load(PARTNERS);
	ck_assert(tunnel_nat_nft_partner_init(config, ROUTE_MASK, &partner));
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_table(batch, "tn_test", NULL, &partner, FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	ck_assert_int_eq(nft_nmsgs, 72);

	/* the P side's table first (begin, 3 table messages, 7 maps), then the
	 * maps keyed by reqid, then per class its five objects and the element
	 * of its configured alias */
	check_set(nft_msgs[11], &expected_sets[0]);
	check_set(nft_msgs[12], &expected_sets[1]);
	for (i = 0; i < 5; i++)
	{
		check_set(nft_msgs[13 + i], &expected_sets[2 + i]);
		check_set(nft_msgs[19 + i], &expected_sets[7 + i]);
	}
	alias = htonl(0x64410000);
	check_elem(nft_msgs[18], TRUE, "acfg4_l16", &alias, 4, NULL, 0, "globex");
	alias = htonl(0x64400100);
	check_elem(nft_msgs[24], TRUE, "acfg4_l24", &alias, 4, NULL, 0, "acme");
	/* then the sets of the partners' remote blocks, for the guard */
	alias = htonl(0x0a080000);
	check_elem(nft_msgs[26], TRUE, "rcfg4_l16", &alias, 4, NULL, 0, "globex");
	alias = htonl(0x0a090000);
	check_elem(nft_msgs[28], TRUE, "rcfg4_l24", &alias, 4, NULL, 0, "acme");

	check_chain(nft_msgs[29], "prerouting", "nat", NF_INET_PRE_ROUTING, -100);
	check_chain(nft_msgs[30], "postrouting", "nat", NF_INET_POST_ROUTING, 100);
	ck_assert_str_eq(batch->describe(batch, 31),
					 "add chain ip tn_test decrypted");
	/* 4 fixed rules, 5 per class, 3 guard rules, 1 fail-closed per class,
	 * 2 returns and 2 real-address guards per class; the P side's 9
	 * unchanged, its two gotos first, before the partner side's chains */
	n = expected_rules(exp);
	ck_assert_int_eq(n, 9 + 4 + 2 * 5 + 3 + 2 * 1 + 2 + 2 * 2);
	for (i = 32; i < 34; i++)
	{
		ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[i], buf, sizeof(buf)),
						 exp[rules]);
		rules++;
	}
	check_chain(nft_msgs[34], "raw_pre", "filter", NF_INET_PRE_ROUTING, -300);
	check_chain(nft_msgs[35], "raw_out", "route", NF_INET_LOCAL_OUT, -300);
	check_chain(nft_msgs[36], "mangle_pre", "filter", NF_INET_PRE_ROUTING,
				-150);
	check_chain(nft_msgs[37], "output_nat", "nat", NF_INET_LOCAL_OUT, -100);
	check_chain(nft_msgs[38], "guard_post", "filter", NF_INET_POST_ROUTING,
				200);
	for (i = 39; i < nft_nmsgs - 1; i++)
	{
		ck_assert_int_lt(rules, n);
		ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[i], buf, sizeof(buf)),
						 exp[rules]);
		rules++;
	}
	ck_assert_int_eq(rules, n);
	ck_assert_str_eq(batch->describe(batch, 18),
					 "add element 100.65.0.0/16 to set ip tn_test acfg4_l16");
	free_strs();
	batch->destroy(batch);
	config->destroy(config);
}
END_TEST

START_TEST(test_table_partner_counters)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;
	nl_batch_t *batch;
	char buf[1024];
	int i, count = 0;

	config = load(PARTNERS);
	ck_assert(tunnel_nat_nft_partner_init(config, ROUTE_MASK, &partner));
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_table(batch, "tn_test", NULL, &partner, TRUE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	for (i = 1; i < nft_nmsgs - 1; i++)
	{
		if (nft_msgs_type(nft_msgs[i]) != NFT_MSG_NEWRULE ||
			strncmp(nft_msgs_rule_str(nft_msgs[i], buf, sizeof(buf)),
					"count: ", 7))
		{
			continue;
		}
		if (count++ == 0)
		{	/* first, flows our hosts started to an alias (a partner zone
			 * without the bit of partner-started flows) leave the chain */
			ck_assert_str_eq(buf, fmt("count: ct zone>1 | hton 1>1 2/2 | "
				"cmp gte 1 0x%x | cmp lte 1 0x%x | ct mark>1 | "
				"bitwise 1&0x10^0x0 | cmp eq 1 0x0 | verdict return",
				htons(100), htons(199)));
		}
		else
		{	/* then the P side's counting rules, as without partners */
			ck_assert(strstr(buf, "_count 1 | verdict accept"));
		}
	}
	ck_assert_int_eq(count, 1 + 7);
	free_strs();
	batch->destroy(batch);
	config->destroy(config);
}
END_TEST

START_TEST(test_table_without_partner)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;
	nl_batch_t *batch;
	char buf[1024];
	int i;

	config = load(PRE "mappings { web { child = web-net \n public = "
				  "192.0.2.100 \n private = 10.1.0.10 } }" POST);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_table(batch, "tn_test", NULL,
		tunnel_nat_nft_partner_init(config, 0, &partner) ? &partner : NULL,
		FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	/* the P side's table alone: its three chains and nine rules */
	ck_assert_int_eq(nft_nmsgs, 24);
	for (i = 14; i < 23; i++)
	{
		nft_msgs_rule_str(nft_msgs[i], buf, sizeof(buf));
		ck_assert(strpfx(buf, "prerouting:") || strpfx(buf, "decrypted:") ||
				  strpfx(buf, "postrouting:"));
		ck_assert(!strstr(buf, "4_l"));
	}
	batch->destroy(batch);
	config->destroy(config);
}
END_TEST

static tunnel_nat_elem_t *new_elem(tunnel_nat_map_t map, uint32_t bind,
								   uint32_t value, uint32_t key, uint32_t nat,
								   uint8_t len)
{
	tunnel_nat_elem_t *e;
	uint32_t last = len ? ~(0xffffffff << (32 - len)) : 0xffffffff;

	INIT(e,
		.map = map,
		.bind = bind,
		.value = value,
		.len = len,
	);
	switch (map)
	{
		case TUNNEL_NAT_PZONE:
		case TUNNEL_NAT_PMARK:
			e->len = 0;
			break;
		case TUNNEL_NAT_PSNAT:
			e->src_from = key;
			e->src_to = key | last;
			e->nat_from = nat;
			e->nat_to = nat | last;
			break;
		default:
			e->dst_from = key;
			e->dst_to = key | last;
			if (map == TUNNEL_NAT_ADNAT)
			{
				e->nat_from = nat;
				e->nat_to = nat | last;
			}
			break;
	}
	snprintf(e->comment, sizeof(e->comment), "acme acme-net{%u}", len);
	return e;
}

START_TEST(test_elems_partner)
{
	nl_batch_t *batch = nl_batch_create();
	array_t *list = array_create(0, 0);
	tunnel_nat_elem_t *p;
	uint32_t key[2], data[2];
	uint16_t zone = 100;
	bool add = _i;

	/* a P side element: its messages come first */
	INIT(p,
		.map = TUNNEL_NAT_DNAT,
		.src_from = 0x0a090000, .src_to = 0x0a0900ff,
		.dst_from = 0xc0000264, .dst_to = 0xc0000264,
		.nat_from = 0x0a01000a, .nat_to = 0x0a01000a,
	);
	array_insert(list, ARRAY_TAIL, p);
	/* out of order, in two classes: grouped by map */
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_PSNAT, 0x11, 0,
											0x0a090000, 0x64400100, 24));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_AZONE, 0, 100,
											0x64400100, 0, 24));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_PZONE, 5, 100, 0, 0, 0));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_AZONE, 0, 100,
											0x64410000, 0, 16));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_PMARK, 5, 0x11, 0, 0, 0));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_AMARK, 0, 0x22,
											0x64400100, 0, 24));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_ADNAT, 0, 0,
											0x64400100, 0x0a090000, 24));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_PSNAT, 0x11, 0,
											0x0a080000, 0x64410000, 16));

	nft_msg_begin(batch);
	tunnel_nat_nft_elems(batch, "tn_test", add, list, FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	ck_assert_int_eq(nft_nmsgs, 11);
	ck_assert_uint_eq(nft_msgs_type(nft_msgs[1]),
					  add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);

	/* reqid => zone (2 bytes) and mark, host byte order */
	key[0] = 5;
	check_elem(nft_msgs[2], add, "pzone4", key, 4, &zone, 2, "acme acme-net{0}");
	data[0] = 0x11;
	check_elem(nft_msgs[3], add, "pmark4", key, 4, data, 4, "acme acme-net{0}");
	/* alias => zone, mark_out; alias => remote block (first, last) */
	key[0] = htonl(0x64410000);
	check_elem(nft_msgs[4], add, "azone4_l16", key, 4, &zone, 2,
			   "acme acme-net{16}");
	key[0] = htonl(0x64400100);
	check_elem(nft_msgs[5], add, "azone4_l24", key, 4, &zone, 2,
			   "acme acme-net{24}");
	data[0] = 0x22;
	check_elem(nft_msgs[6], add, "amark4_l24", key, 4, data, 4,
			   "acme acme-net{24}");
	data[0] = htonl(0x0a090000);
	data[1] = htonl(0x0a0900ff);
	check_elem(nft_msgs[7], add, "adnat4_l24", key, 4, data, 8,
			   "acme acme-net{24}");
	/* mark_in . remote block => alias block */
	key[0] = 0x11;
	key[1] = htonl(0x0a080000);
	data[0] = htonl(0x64410000);
	data[1] = htonl(0x6441ffff);
	check_elem(nft_msgs[8], add, "psnat4_l16", key, 8, data, 8,
			   "acme acme-net{16}");
	key[1] = htonl(0x0a090000);
	data[0] = htonl(0x64400100);
	data[1] = htonl(0x644001ff);
	check_elem(nft_msgs[9], add, "psnat4_l24", key, 8, data, 8,
			   "acme acme-net{24}");
	ck_assert(strpfx(batch->describe(batch, 2), add ? "add element " :
					 "delete element "));
	ck_assert(strstr(batch->describe(batch, 2), "map ip tn_test pzone4"));
	batch->destroy(batch);
	array_destroy_function(list, (void*)free, NULL);
}
END_TEST

START_TEST(test_elem_classes)
{
	array_t *list = array_create(0, 0);

	ck_assert_uint_eq(tunnel_nat_nft_partner_elem_classes(list), 0);
	/* the reqid maps and the P side have no class */
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_PZONE, 5, 100, 0, 0, 0));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_PMARK, 5, 0x11, 0, 0, 0));
	ck_assert_uint_eq(tunnel_nat_nft_partner_elem_classes(list), 0);
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_AZONE, 0, 100,
											0x64400100, 0, 24));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_PSNAT, 0x11, 0,
											0x0a090005, 0x64400105, 32));
	array_insert(list, ARRAY_TAIL, new_elem(TUNNEL_NAT_ADNAT, 0, 0,
											0x64400100, 0x0a090000, 24));
	ck_assert_uint_eq(tunnel_nat_nft_partner_elem_classes(list),
					  (1ULL << 24) | (1ULL << 32));
	array_destroy_function(list, (void*)free, NULL);
}
END_TEST

START_TEST(test_partner_same)
{
	tunnel_nat_nft_partner_t a, b;
	tunnel_nat_config_t *config;

	config = load(PARTNERS);
	ck_assert(tunnel_nat_nft_partner_init(config, ROUTE_MASK, &a));
	b = a;
	ck_assert(tunnel_nat_nft_partner_same(&a, &b));
	ck_assert(tunnel_nat_nft_partner_same(NULL, NULL));
	ck_assert(!tunnel_nat_nft_partner_same(&a, NULL));
	ck_assert(!tunnel_nat_nft_partner_same(NULL, &b));
	/* lazy classes and the mappings don't make another table */
	b.lazy = 1ULL << 32;
	b.mappings = NULL;
	ck_assert(tunnel_nat_nft_partner_same(&a, &b));
	/* tunnel-route loaded, unloaded, or its mask changed */
	ck_assert(tunnel_nat_nft_partner_init(config, 0, &b));
	ck_assert(!tunnel_nat_nft_partner_same(&a, &b));
	b = a;
	b.classes |= 1ULL << 8;
	ck_assert(!tunnel_nat_nft_partner_same(&a, &b));
	b = a;
	b.zone_last++;
	ck_assert(!tunnel_nat_nft_partner_same(&a, &b));
	b = a;
	b.zone_first--;
	ck_assert(!tunnel_nat_nft_partner_same(&a, &b));
	b = a;
	b.ct_mark = 0x20;
	ck_assert(!tunnel_nat_nft_partner_same(&a, &b));
	config->destroy(config);
}
END_TEST

START_TEST(test_add_classes)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;
	nl_batch_t *batch;
	char buf[1024], desc[4096];
	uint32_t m32 = 0xffffffff;
	int i;

	config = load(PARTNERS);
	ck_assert(tunnel_nat_nft_partner_init(config, ROUTE_MASK, &partner));
	batch = nl_batch_create();
	nft_msg_begin(batch);
	/* /24 is a class of the settings, /32 is new */
	tunnel_nat_nft_partner_add_classes(batch, "tn_test", &partner,
									   (1ULL << 24) | (1ULL << 32));
	nft_msg_end(batch);
	ck_assert_uint_eq(partner.lazy, 1ULL << 32);
	ck_assert_uint_eq(partner.classes, (1ULL << 24) | (1ULL << 16));
	nft_msgs_split(batch);
	nft_msgs_check_seq_and_acks();
	/* its four maps, no set of configured aliases, five rules */
	ck_assert_int_eq(nft_nmsgs, 2 + 4 + 5);
	ck_assert_str_eq(describe_all(batch, desc, sizeof(desc)),
		"add map ip tn_test azone4_l32\n"
		"add map ip tn_test amark4_l32\n"
		"add map ip tn_test adnat4_l32\n"
		"add map ip tn_test psnat4_l32\n"
		"add rule ip tn_test raw_pre (tunnel-nat: the partner's zone and the SA's mark_out, by the alias)\n"
		"add rule ip tn_test raw_out (tunnel-nat: the partner's zone and the SA's mark_out, by the alias)\n"
		"insert rule ip tn_test prerouting (tunnel-nat: DNAT of an alias to its partner's prefix)\n"
		"add rule ip tn_test output_nat (tunnel-nat: DNAT of an alias to its partner's prefix)\n"
		"add rule ip tn_test postrouting (tunnel-nat: SNAT of a partner's prefix to its alias, on flows it started)\n");
	for (i = 0; i < 4; i++)
	{
		check_set(nft_msgs[1 + i], &(set_t){
			.name = fmt("%s4_l32", (char*[]){"azone", "amark", "adnat",
											 "psnat"}[i]),
			.flags = expected_sets[7 + i].flags,
			.key_type = expected_sets[7 + i].key_type,
			.key_len = expected_sets[7 + i].key_len,
			.data_type = expected_sets[7 + i].data_type,
			.data_len = expected_sets[7 + i].data_len,
			.counters = expected_sets[7 + i].counters,
			.udata = expected_sets[7 + i].udata,
		});
	}
	ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[5], buf, sizeof(buf)),
		fmt("raw_pre: payload nh@16>1 | bitwise 1&0x%x^0x0 | "
			"lookup azone4_l32 1>1 | ct set zone<1 | payload nh@16>1 | "
			"bitwise 1&0x%x^0x0 | lookup amark4_l32 1>1 | meta set mark<1",
			m32, m32));
	/* the alias DNAT goes first in prerouting, before the P side's rules;
	 * the others are appended */
	ck_assert(!(nft_msgs[7]->nlmsg_flags & NLM_F_APPEND));
	for (i = 5; i < nft_nmsgs - 1; i++)
	{
		ck_assert(i == 7 || (nft_msgs[i]->nlmsg_flags & NLM_F_APPEND));
	}
	ck_assert_str_eq(nft_msgs_rule_str(nft_msgs[9], buf, sizeof(buf)),
		fmt("postrouting: ct mark>1 | bitwise 1&0x10^0x0 | cmp eq 1 0x10 | "
			"meta mark>1 | bitwise 1&0xffffff^0x0 | payload nh@12>9 | "
			"bitwise 9&0x%x^0x0 | lookup psnat4_l32 1>1 | "
			"nat snat 1-9 flags 0x40", m32));
	batch->destroy(batch);

	/* a class the table has, lazy or not, is not created again */
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_partner_add_classes(batch, "tn_test", &partner,
						(1ULL << 16) | (1ULL << 24) | (1ULL << 32));
	nft_msg_end(batch);
	ck_assert_uint_eq(batch->get_count(batch), 2);
	ck_assert_uint_eq(partner.lazy, 1ULL << 32);
	batch->destroy(batch);
	free_strs();
	config->destroy(config);
}
END_TEST

START_TEST(test_table_lazy)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;
	nl_batch_t *batch;
	char desc[16384];

	config = load(PARTNERS);
	ck_assert(tunnel_nat_nft_partner_init(config, ROUTE_MASK, &partner));
	partner.lazy = 1ULL << 32;
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_table(batch, "tn_test", NULL, &partner, FALSE);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	/* 72 with the two classes of the settings; the lazy one adds its four
	 * maps and five rules, but no set of configured aliases and no
	 * fail-closed rule */
	ck_assert_int_eq(nft_nmsgs, 72 + 4 + 5);
	describe_all(batch, desc, sizeof(desc));
	ck_assert(strstr(desc, "add map ip tn_test psnat4_l32\n"));
	ck_assert(!strstr(desc, "acfg4_l32"));
	ck_assert(strstr(desc, "add set ip tn_test acfg4_l24\n"));
	batch->destroy(batch);
	config->destroy(config);
}
END_TEST

START_TEST(test_partner_flush)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;
	nl_batch_t *batch;
	char desc[4096];
	uint32_t alias;

	config = load(PARTNERS);
	ck_assert(tunnel_nat_nft_partner_init(config, ROUTE_MASK, &partner));
	partner.lazy = 1ULL << 32;
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_partner_flush(batch, "tn_test", &partner);
	nft_msg_end(batch);
	nft_msgs_split(batch);
	/* every partner map of every class, lazy ones included; the sets of
	 * configured aliases are written again */
	ck_assert_str_eq(describe_all(batch, desc, sizeof(desc)),
		"flush set ip tn_test pzone4\n"
		"flush set ip tn_test pmark4\n"
		"flush set ip tn_test azone4_l16\n"
		"flush set ip tn_test amark4_l16\n"
		"flush set ip tn_test adnat4_l16\n"
		"flush set ip tn_test psnat4_l16\n"
		"flush set ip tn_test azone4_l24\n"
		"flush set ip tn_test amark4_l24\n"
		"flush set ip tn_test adnat4_l24\n"
		"flush set ip tn_test psnat4_l24\n"
		"flush set ip tn_test azone4_l32\n"
		"flush set ip tn_test amark4_l32\n"
		"flush set ip tn_test adnat4_l32\n"
		"flush set ip tn_test psnat4_l32\n"
		"flush set ip tn_test acfg4_l16\n"
		"add element 100.65.0.0/16 to set ip tn_test acfg4_l16\n"
		"flush set ip tn_test rcfg4_l16\n"
		"add element 10.8.0.0/16 to set ip tn_test rcfg4_l16\n"
		"flush set ip tn_test acfg4_l24\n"
		"add element 100.64.1.0/24 to set ip tn_test acfg4_l24\n"
		"flush set ip tn_test rcfg4_l24\n"
		"add element 10.9.0.0/24 to set ip tn_test rcfg4_l24\n");
	alias = htonl(0x64400100);
	check_elem(nft_msgs[20], TRUE, "acfg4_l24", &alias, 4, NULL, 0, "acme");
	batch->destroy(batch);
	config->destroy(config);
}
END_TEST

START_TEST(test_remote_once)
{
	tunnel_nat_nft_partner_t partner;
	tunnel_nat_config_t *config;
	nl_batch_t *batch;
	char desc[1024];

	/* two partners with the same network: its block once in rcfg4 */
	config = load(PRE "mappings { "
		"acme { child = acme-net \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 } "
		"globex { child = globex-net \n remote = 10.9.0.0/24 \n alias = 100.64.2.0/24 } "
		"} " POST);
	ck_assert(tunnel_nat_nft_partner_init(config, 0, &partner));
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_partner_acfg(batch, "tn_test", &partner);
	nft_msg_end(batch);
	ck_assert_str_eq(describe_all(batch, desc, sizeof(desc)),
		"flush set ip tn_test acfg4_l24\n"
		"add element 100.64.1.0/24 to set ip tn_test acfg4_l24\n"
		"add element 100.64.2.0/24 to set ip tn_test acfg4_l24\n"
		"flush set ip tn_test rcfg4_l24\n"
		"add element 10.9.0.0/24 to set ip tn_test rcfg4_l24\n");
	batch->destroy(batch);
	config->destroy(config);
}
END_TEST

Suite *make_nft_partner_suite(void)
{
	Suite *s = suite_create("nft partner");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_partner_init);
	tcase_add_test(tc, test_table_partner);
	tcase_add_test(tc, test_table_partner_counters);
	tcase_add_test(tc, test_table_without_partner);
	suite_add_tcase(s, tc);

	tc = tcase_create("elements");
	tcase_add_loop_test(tc, test_elems_partner, 0, 2);
	tcase_add_test(tc, test_elem_classes);
	suite_add_tcase(s, tc);

	tc = tcase_create("length classes");
	tcase_add_test(tc, test_partner_same);
	tcase_add_test(tc, test_add_classes);
	tcase_add_test(tc, test_table_lazy);
	tcase_add_test(tc, test_partner_flush);
	tcase_add_test(tc, test_remote_once);
	suite_add_tcase(s, tc);
	return s;
}
