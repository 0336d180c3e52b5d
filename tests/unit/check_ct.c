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

#include <tunnel_nat_ct.h>

#include <netinet/in.h>

#define C 0xc633640a		/* 198.51.100.10, the partner */
#define P 0xc0000264		/* 192.0.2.100 */
#define APP 0x0a01000a		/* 10.1.0.10 */
#define HOST 0x0a010014		/* 10.1.0.20, a many-to-one host */

/* many-to-one: 10.1.0.0/24 to C leaves as P */
static tunnel_nat_elem_t pat = {
	.map = TUNNEL_NAT_PAT,
	.src_from = 0x0a010000, .src_to = 0x0a0100ff,
	.dst_from = C, .dst_to = C,
	.nat_from = P, .nat_to = P,
};

/* P:443 from C to APP:8443 */
static tunnel_nat_elem_t fwd = {
	.map = TUNNEL_NAT_FWD,
	.src_from = C, .src_to = C,
	.dst_from = P, .dst_to = P,
	.nat_from = APP, .nat_to = APP,
	.proto = IPPROTO_TCP, .port = 443, .nat_port = 8443,
};

/* P:22 from C to APP2:22 */
#define APP2 0x0a01000b		/* 10.1.0.11 */
static tunnel_nat_elem_t fwd22 = {
	.map = TUNNEL_NAT_FWD,
	.src_from = C, .src_to = C,
	.dst_from = P, .dst_to = P,
	.nat_from = APP2, .nat_to = APP2,
	.proto = IPPROTO_TCP, .port = 22, .nat_port = 22,
};

/* the rest of P is closed to C */
static tunnel_nat_elem_t closed = {
	.map = TUNNEL_NAT_CLOSED,
	.src_from = C, .src_to = C,
	.dst_from = P, .dst_to = P,
};

/* whether a TCP entry is stale: ODPORT its original destination port,
 * RSPORT its reply source port */
static bool stale_tcp(tunnel_nat_elem_t *elem, bool added, uint16_t zone,
					  uint32_t osrc, uint32_t odst, uint32_t rsrc, uint32_t rdst,
					  uint16_t odport, uint16_t rsport)
{
	tunnel_nat_ct_flow_t flow = {
		.zone = zone,
		.proto = IPPROTO_TCP,
		.osrc = osrc,
		.odst = odst,
		.rsrc = rsrc,
		.rdst = rdst,
		.odport = odport,
		.rsport = rsport,
	};

	return tunnel_nat_ct_stale(elem, added, &flow);
}

/* the same for an entry to port 7000 whose port no translation changed (a
 * forward looks at ports, and no forward here has 7000) */
static bool stale(tunnel_nat_elem_t *elem, bool added, uint16_t zone,
				  uint32_t osrc, uint32_t odst, uint32_t rsrc, uint32_t rdst)
{
	return stale_tcp(elem, added, zone, osrc, odst, rsrc, rdst, 7000, 7000);
}

START_TEST(test_ct_pat)
{
	/* added: a flow of the LAN to C tracked untranslated goes */
	ck_assert(stale(&pat, TRUE, 0, HOST, C, C, HOST));
	/* one already translated stays */
	ck_assert(!stale(&pat, TRUE, 0, HOST, C, C, P));
	/* removed: a translated flow goes, an untranslated one stays */
	ck_assert(stale(&pat, FALSE, 0, HOST, C, C, P));
	ck_assert(!stale(&pat, FALSE, 0, HOST, C, C, HOST));
	/* other flows are not touched */
	ck_assert(!stale(&pat, TRUE, 0, 0x0a020001, C, C, 0x0a020001));
	ck_assert(!stale(&pat, FALSE, 0, HOST, 0xc6336414, 0xc6336414, P));
}
END_TEST

START_TEST(test_ct_forward)
{
	/* added: C's flow to P:443 tracked untranslated goes */
	ck_assert(stale_tcp(&fwd, TRUE, 0, C, P, P, C, 443, 443));
	/* one forwarded already stays */
	ck_assert(!stale_tcp(&fwd, TRUE, 0, C, P, APP, C, 443, 8443));
	/* one to the right host but another port is not this forward's */
	ck_assert(stale_tcp(&fwd, TRUE, 0, C, P, APP, C, 443, 443));
	/* removed: the forwarded flow goes, an untranslated one stays */
	ck_assert(stale_tcp(&fwd, FALSE, 0, C, P, APP, C, 443, 8443));
	ck_assert(!stale_tcp(&fwd, FALSE, 0, C, P, P, C, 443, 443));
	/* UDP to P:443 is not the TCP forward's */
	ck_assert(!tunnel_nat_ct_stale(&fwd, TRUE, &(tunnel_nat_ct_flow_t){
		.proto = IPPROTO_UDP, .osrc = C, .odst = P, .rsrc = P, .rdst = C,
		.odport = 443, .rsport = 443,
	}));
}
END_TEST

/* 1:1: P is APP for C */
static tunnel_nat_elem_t dnat = {
	.map = TUNNEL_NAT_DNAT,
	.src_from = C, .src_to = C,
	.dst_from = P, .dst_to = P,
	.nat_from = APP, .nat_to = APP,
};

START_TEST(test_ct_dnat)
{
	/* added: C's flow to P tracked untranslated goes, a translated one
	 * stays */
	ck_assert(stale_tcp(&dnat, TRUE, 0, C, P, P, C, 7000, 7000));
	ck_assert(!stale_tcp(&dnat, TRUE, 0, C, P, APP, C, 7000, 7000));
	/* removed: the translated flow goes, an untranslated one stays */
	ck_assert(stale_tcp(&dnat, FALSE, 0, C, P, APP, C, 7000, 7000));
	ck_assert(!stale_tcp(&dnat, FALSE, 0, C, P, P, C, 7000, 7000));
	/* a flow P:444 -> APP:8444 is a forward's, not the 1:1 mapping's: a
	 * reload replacing the one by the other keeps it */
	ck_assert(!stale_tcp(&dnat, FALSE, 0, C, P, APP, C, 444, 8444));
}
END_TEST

START_TEST(test_ct_forward_other_port)
{
	/* a forward added or removed beside another leaves the other's flows
	 * alone: C -> P:443, forwarded to APP:8443, is no flow of P:22 */
	ck_assert(!stale_tcp(&fwd22, TRUE, 0, C, P, APP, C, 443, 8443));
	ck_assert(!stale_tcp(&fwd22, FALSE, 0, C, P, APP, C, 443, 8443));
	/* while P:22's own flows are judged as before */
	ck_assert(!stale_tcp(&fwd22, TRUE, 0, C, P, APP2, C, 22, 22));
	ck_assert(stale_tcp(&fwd22, TRUE, 0, C, P, P, C, 22, 22));
	ck_assert(stale_tcp(&fwd22, FALSE, 0, C, P, APP2, C, 22, 22));
}
END_TEST

START_TEST(test_ct_closed)
{
	/* closed: C's untranslated flows to P go, forwarded ones stay */
	ck_assert(stale(&closed, TRUE, 0, C, P, P, C));
	ck_assert(!stale(&closed, TRUE, 0, C, P, APP, C));
	/* opened again: nothing to delete for it */
	ck_assert(!stale(&closed, FALSE, 0, C, P, P, C));
	/* another partner's flows are not touched */
	ck_assert(!stale(&closed, TRUE, 0, 0xc6336414, P, P, 0xc6336414));
}
END_TEST

#define ALIAS 0x64400100		/* 100.64.1.0/24, partner A's alias */
#define REMOTE 0x0a090000		/* 10.9.0.0/24, A's (and B's) prefix */
#define ZONE_A 4096
#define ZONE_B 4097

/* A's alias block in A's zone */
static tunnel_nat_elem_t azone = {
	.map = TUNNEL_NAT_AZONE,
	.dst_from = ALIAS, .dst_to = ALIAS | 0xff,
	.len = 24, .value = ZONE_A,
};

START_TEST(test_ct_alias_down)
{
	/* the app's flow to A's alias: 10.1.0.10 -> 100.64.1.5, replies from
	 * 10.9.0.5 to P */
	ck_assert(stale(&azone, FALSE, ZONE_A, APP, ALIAS | 5, REMOTE | 5, P));
	/* A's flow to P, SNATed to the alias: replies to 100.64.1.5 */
	ck_assert(stale(&azone, FALSE, ZONE_A, REMOTE | 5, P, APP, ALIAS | 5));
	/* the identical flows of B, in B's zone, are not A's */
	ck_assert(!stale(&azone, FALSE, ZONE_B, REMOTE | 5, P, APP, 0x64400205));
	ck_assert(!stale(&azone, FALSE, ZONE_B, REMOTE | 5, P, APP, ALIAS | 5));
	/* A's zone, nothing of the alias (cannot happen, but not A's alias) */
	ck_assert(!stale(&azone, FALSE, ZONE_A, REMOTE | 5, P, APP, 0x64400205));
	/* zone 0: flows that never were A's */
	ck_assert(!stale(&azone, FALSE, 0, APP, ALIAS | 5, ALIAS | 5, APP));
}
END_TEST

START_TEST(test_ct_alias_up)
{
	/* to the alias, tracked untranslated in zone 0 while A was down */
	ck_assert(stale(&azone, TRUE, 0, APP, ALIAS | 5, ALIAS | 5, APP));
	/* already in A's zone: translated, kept */
	ck_assert(!stale(&azone, TRUE, ZONE_A, APP, ALIAS | 5, REMOTE | 5, P));
	/* A's own flows (replies to the alias) are not looked at when added */
	ck_assert(!stale(&azone, TRUE, ZONE_A, REMOTE | 5, P, APP, ALIAS | 5));
	/* zone 0, elsewhere */
	ck_assert(!stale(&azone, TRUE, 0, APP, 0x64400205, 0x64400205, APP));
}
END_TEST

/* 1:1 SNAT of HOST to C as P, the other half of a 1:1 mapping of HOST */
static tunnel_nat_elem_t snat = {
	.map = TUNNEL_NAT_SNAT,
	.src_from = HOST, .src_to = HOST,
	.dst_from = C, .dst_to = C,
	.nat_from = P, .nat_to = P,
};

/**
 * Whether a TCP entry is stale after a change of single elements, each may
 * be NULL; the entry's port is unchanged (7000)
 */
static bool flow_stale(tunnel_nat_elem_t *add, tunnel_nat_elem_t *add2,
					   tunnel_nat_elem_t *del, uint32_t osrc, uint32_t odst,
					   uint32_t rsrc, uint32_t rdst, uint16_t port)
{
	tunnel_nat_ct_flow_t flow = {
		.proto = IPPROTO_TCP,
		.osrc = osrc, .odst = odst, .rsrc = rsrc, .rdst = rdst,
		.odport = port, .rsport = port,
	};
	array_t *added, *removed;
	bool stale;

	added = array_create(0, 0);
	removed = array_create(0, 0);
	if (add)
	{
		array_insert(added, ARRAY_TAIL, add);
	}
	if (add2)
	{
		array_insert(added, ARRAY_TAIL, add2);
	}
	if (del)
	{
		array_insert(removed, ARRAY_TAIL, del);
	}
	stale = tunnel_nat_ct_flow_stale(added, removed, &flow);
	array_destroy(added);
	array_destroy(removed);
	return stale;
}

START_TEST(test_ct_replaced)
{
	tunnel_nat_elem_t pat2 = pat, fwd7000 = fwd;
	tunnel_nat_ct_flow_t flow;
	array_t *added, *removed;

	/* HOST's flow to C, SNATed to P (before the reload by the 1:1 mapping,
	 * or after it by many-to-one): the removed SNAT alone makes it stale */
	ck_assert(flow_stale(NULL, NULL, &snat, HOST, C, C, P, 7000));
	/* a reload replacing 1:1 by many-to-one of HOST's prefix keeps it: the
	 * new element SNATs it to P as well */
	ck_assert(!flow_stale(&pat, NULL, &snat, HOST, C, C, P, 7000));
	/* and the other way round */
	ck_assert(!flow_stale(&snat, NULL, &pat, HOST, C, C, P, 7000));
	/* but not the prefix's other hosts, which the 1:1 mapping leaves
	 * untranslated */
	ck_assert(flow_stale(&snat, NULL, &pat, HOST + 1, C, C, P, 7000));
	/* many-to-one to another address: the flow's P is stale */
	pat2.nat_from = pat2.nat_to = P + 1;
	ck_assert(flow_stale(&pat2, NULL, &snat, HOST, C, C, P, 7000));
	/* an element added and removed again before the clean-up (it is on
	 * both sides of the queue's net-out) keeps nothing */
	ck_assert(flow_stale(&pat, NULL, &pat, HOST, C, C, P, 7000));

	/* 1:1 DNAT replaced by a forward of the same host and port: C's flow
	 * to P:7000 is translated alike and kept; one to another port is not
	 * the forward's and goes */
	fwd7000.port = fwd7000.nat_port = 7000;
	ck_assert(!flow_stale(&fwd7000, NULL, &dnat, C, P, APP, C, 7000));
	ck_assert(flow_stale(&fwd7000, NULL, &dnat, C, P, APP, C, 7001));
	/* a forward to another port of the host carries another translation */
	ck_assert(flow_stale(&fwd, NULL, &dnat, C, P, APP, C, 443));

	/* an alias's zone removed: its flows go, even if an added P-side
	 * element translated them alike */
	pat2 = pat;
	pat2.dst_from = ALIAS;
	pat2.dst_to = ALIAS | 0xff;
	flow = (tunnel_nat_ct_flow_t){
		.zone = ZONE_A, .proto = IPPROTO_TCP,
		.osrc = HOST, .odst = ALIAS | 5, .rsrc = REMOTE | 5, .rdst = P,
	};
	added = array_create(0, 0);
	removed = array_create(0, 0);
	array_insert(added, ARRAY_TAIL, &pat2);
	array_insert(removed, ARRAY_TAIL, &azone);
	ck_assert(tunnel_nat_ct_flow_stale(added, removed, &flow));
	/* without the zone's removal the flow is kept */
	array_remove(removed, ARRAY_HEAD, NULL);
	ck_assert(!tunnel_nat_ct_flow_stale(added, removed, &flow));
	array_destroy(added);
	array_destroy(removed);
}
END_TEST

START_TEST(test_ct_partner_others)
{
	tunnel_nat_elem_t elem = {
		.src_from = 0, .src_to = 0xffffffff,
		.dst_from = 0, .dst_to = 0xffffffff,
		.nat_from = 0, .nat_to = 0xffffffff,
		.value = ZONE_A,
	};
	tunnel_nat_map_t map;

	/* the other kinds of the partner side make nothing stale, whatever
	 * their fields hold: the alias's zone stands for them */
	for (map = TUNNEL_NAT_PZONE; map < TUNNEL_NAT_KINDS; map++)
	{
		if (map == TUNNEL_NAT_AZONE)
		{
			continue;
		}
		elem.map = map;
		ck_assert(!stale(&elem, TRUE, ZONE_A, REMOTE | 5, P, APP, ALIAS | 5));
		ck_assert(!stale(&elem, FALSE, ZONE_A, REMOTE | 5, P, APP, ALIAS | 5));
	}
	/* a P side element with the same fields would */
	elem.map = TUNNEL_NAT_DNAT;
	ck_assert(stale(&elem, FALSE, ZONE_A, REMOTE | 5, P, APP, ALIAS | 5));
}
END_TEST

START_TEST(test_ct_foreign)
{
	tunnel_nat_ct_owner_t owner;
	array_t *owners;

	/* A's alias 100.64.1.0/24 in zone 4096, C's 100.64.3.0/25 in 4098 (B
	 * left the settings, its zone 4097 owns nothing) */
	owners = array_create(sizeof(owner), 0);
	owner = (tunnel_nat_ct_owner_t){ ALIAS, ALIAS | 0xff, ZONE_A };
	array_insert(owners, ARRAY_TAIL, &owner);
	owner = (tunnel_nat_ct_owner_t){ 0x64400300, 0x6440037f, 4098 };
	array_insert(owners, ARRAY_TAIL, &owner);

	/* A's flows in A's zone are A's: to the alias, and SNATed to it */
	ck_assert(!tunnel_nat_ct_foreign(owners, 4096, 4100, ZONE_A, ALIAS | 5,
									 REMOTE | 5));
	ck_assert(!tunnel_nat_ct_foreign(owners, 4096, 4100, ZONE_A, P,
									 ALIAS | 5));
	/* C's at both ends of its block */
	ck_assert(!tunnel_nat_ct_foreign(owners, 4096, 4100, 4098, 0x64400300,
									 REMOTE | 1));
	ck_assert(!tunnel_nat_ct_foreign(owners, 4096, 4100, 4098, P,
									 0x6440037f));
	/* B's zone: whatever the entry holds, nobody owns it now */
	ck_assert(tunnel_nat_ct_foreign(owners, 4096, 4100, ZONE_B, P,
									ALIAS | 5));
	ck_assert(tunnel_nat_ct_foreign(owners, 4096, 4100, ZONE_B, ALIAS | 5,
									REMOTE | 5));
	/* A's zone given to C by a new order: C's alias in A's zone is not C's,
	 * nor A's */
	ck_assert(tunnel_nat_ct_foreign(owners, 4096, 4100, ZONE_A, P,
									0x64400305));
	/* just past C's block (100.64.3.128/25 is nobody's) */
	ck_assert(tunnel_nat_ct_foreign(owners, 4096, 4100, 4098, P,
									0x64400380));
	/* zone 0 and zones outside partner_zones are not the plugin's */
	ck_assert(!tunnel_nat_ct_foreign(owners, 4096, 4100, 0, APP, C));
	ck_assert(!tunnel_nat_ct_foreign(owners, 4096, 4100, 4095, P, C));
	ck_assert(!tunnel_nat_ct_foreign(owners, 4096, 4100, 4101, P, C));
	/* in range, with no partner-side mapping at all, every entry goes */
	array_destroy(owners);
	owners = array_create(sizeof(owner), 0);
	ck_assert(tunnel_nat_ct_foreign(owners, 4096, 4100, 4100, P, ALIAS | 5));
	array_destroy(owners);
}
END_TEST

/**
 * Queue one change of single elements, each may be NULL
 */
static void queue_one(tunnel_nat_ct_queue_t *queue, tunnel_nat_elem_t *add,
					  tunnel_nat_elem_t *del)
{
	array_t *a, *d;

	a = array_create(0, 0);
	d = array_create(0, 0);
	if (add)
	{
		array_insert(a, ARRAY_TAIL, add);
	}
	if (del)
	{
		array_insert(d, ARRAY_TAIL, del);
	}
	queue->queue(queue, a, d);
	array_destroy(a);
	array_destroy(d);
}

/**
 * Take the queue's changes, check their counts, and whether the first of
 * each (if any) equals an element
 */
static void check_taken(tunnel_nat_ct_queue_t *queue, u_int changes,
						u_int added, tunnel_nat_elem_t *first_added,
						u_int removed, tunnel_nat_elem_t *first_removed)
{
	tunnel_nat_elem_t *elem;
	array_t *a, *d;

	ck_assert_uint_eq(queue->take(queue, &a, &d), changes);
	ck_assert_uint_eq(array_count(a), added);
	ck_assert_uint_eq(array_count(d), removed);
	if (first_added)
	{
		ck_assert(array_get(a, 0, &elem));
		ck_assert(tunnel_nat_elem_equals(elem, first_added));
	}
	if (first_removed)
	{
		ck_assert(array_get(d, 0, &elem));
		ck_assert(tunnel_nat_elem_equals(elem, first_removed));
	}
	array_destroy_function(a, (void*)free, NULL);
	array_destroy_function(d, (void*)free, NULL);
}

START_TEST(test_ct_queue_net_out)
{
	tunnel_nat_ct_queue_t *queue;
	tunnel_nat_elem_t other = azone;

	other.dst_from = 0x64400200;
	other.dst_to = 0x644002ff;
	other.value = ZONE_B;

	queue = tunnel_nat_ct_queue_create();
	/* removed, then added again in the window (BBM reauthentication):
	 * cancels out, the other change stays */
	queue_one(queue, NULL, &azone);
	queue_one(queue, &other, NULL);
	queue_one(queue, &azone, NULL);
	check_taken(queue, 3, 1, &other, 0, NULL);

	/* added again with another zone: not the same element, both stay */
	other = azone;
	other.value = ZONE_B;
	queue_one(queue, NULL, &azone);
	queue_one(queue, &other, NULL);
	check_taken(queue, 2, 1, &other, 1, &azone);

	/* added, then removed: both stay */
	queue_one(queue, &azone, NULL);
	queue_one(queue, NULL, &azone);
	check_taken(queue, 2, 1, &azone, 1, &azone);

	/* removed twice (from two changes): once */
	queue_one(queue, NULL, &pat);
	queue_one(queue, NULL, &pat);
	check_taken(queue, 2, 0, NULL, 1, &pat);

	/* an empty queue; destroy frees what it holds */
	check_taken(queue, 0, 0, NULL, 0, NULL);
	queue_one(queue, &fwd, &closed);
	queue->destroy(queue);
}
END_TEST

Suite *make_ct_suite(void)
{
	Suite *s = suite_create("conntrack hygiene");
	TCase *tc;

	tc = tcase_create("port forwards and many-to-one");
	tcase_add_test(tc, test_ct_pat);
	tcase_add_test(tc, test_ct_forward);
	tcase_add_test(tc, test_ct_forward_other_port);
	tcase_add_test(tc, test_ct_dnat);
	tcase_add_test(tc, test_ct_closed);
	tcase_add_test(tc, test_ct_replaced);
	suite_add_tcase(s, tc);

	tc = tcase_create("partner side, zones");
	tcase_add_test(tc, test_ct_alias_down);
	tcase_add_test(tc, test_ct_alias_up);
	tcase_add_test(tc, test_ct_partner_others);
	tcase_add_test(tc, test_ct_foreign);
	tcase_add_test(tc, test_ct_queue_net_out);
	suite_add_tcase(s, tc);
	return s;
}
