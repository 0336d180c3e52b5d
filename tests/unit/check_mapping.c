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

#include <arpa/inet.h>

#include <tunnel_nat_config.h>

static uint32_t a(const char *str)
{
	struct in_addr in;

	ck_assert(inet_pton(AF_INET, str, &in) == 1);
	return ntohl(in.s_addr);
}

/**
 * A mapping, negotiated selectors, and the elements they must give
 */
typedef struct {
	char *pub, *priv;
	uint8_t len;
	char *lfrom, *lto, *rfrom, *rto;
	bool covered;
	/* DNAT: src range, dst range, nat range */
	char *d_src_from, *d_src_to, *d_dst_from, *d_dst_to, *d_nat_from, *d_nat_to;
	/* SNAT: src range, dst range, nat range */
	char *s_src_from, *s_src_to, *s_dst_from, *s_dst_to, *s_nat_from, *s_nat_to;
} mapping_test_t;

static mapping_test_t mapping_tests[] = {
	/* host mapping, host selectors */
	{ "192.0.2.100", "10.1.0.10", 32,
	  "192.0.2.100", "192.0.2.100", "198.51.100.10", "198.51.100.10", TRUE,
	  "198.51.100.10", "198.51.100.10", "192.0.2.100", "192.0.2.100", "10.1.0.10", "10.1.0.10",
	  "10.1.0.10", "10.1.0.10", "198.51.100.10", "198.51.100.10", "192.0.2.100", "192.0.2.100" },
	/* /28 mapping, local selector wider than P, remote a subnet */
	{ "192.0.2.16", "10.1.2.0", 28,
	  "192.0.2.0", "192.0.2.255", "198.51.100.0", "198.51.100.255", TRUE,
	  "198.51.100.0", "198.51.100.255", "192.0.2.16", "192.0.2.31", "10.1.2.0", "10.1.2.15",
	  "10.1.2.0", "10.1.2.15", "198.51.100.0", "198.51.100.255", "192.0.2.16", "192.0.2.31" },
	/* /28 mapping, local selector narrowed to part of P: only that part is
	 * translated, host bits kept, the NAT prefix stays whole */
	{ "192.0.2.16", "10.1.2.0", 28,
	  "192.0.2.20", "192.0.2.23", "198.51.100.10", "198.51.100.10", TRUE,
	  "198.51.100.10", "198.51.100.10", "192.0.2.20", "192.0.2.23", "10.1.2.0", "10.1.2.15",
	  "10.1.2.4", "10.1.2.7", "198.51.100.10", "198.51.100.10", "192.0.2.16", "192.0.2.31" },
	/* a remote range that is no prefix */
	{ "192.0.2.100", "10.1.0.10", 32,
	  "192.0.2.100", "192.0.2.100", "198.51.100.3", "198.51.100.9", TRUE,
	  "198.51.100.3", "198.51.100.9", "192.0.2.100", "192.0.2.100", "10.1.0.10", "10.1.0.10",
	  "10.1.0.10", "10.1.0.10", "198.51.100.3", "198.51.100.9", "192.0.2.100", "192.0.2.100" },
	/* local selector that does not hold P */
	{ "192.0.2.100", "10.1.0.10", 32,
	  "192.0.2.101", "192.0.2.200", "198.51.100.10", "198.51.100.10", FALSE },
	/* the whole address space */
	{ "0.0.0.0", "0.0.0.0", 0,
	  "0.0.0.0", "255.255.255.255", "198.51.100.10", "198.51.100.10", TRUE,
	  "198.51.100.10", "198.51.100.10", "0.0.0.0", "255.255.255.255", "0.0.0.0", "255.255.255.255",
	  "0.0.0.0", "255.255.255.255", "198.51.100.10", "198.51.100.10", "0.0.0.0", "255.255.255.255" },
};

START_TEST(test_mapping_elems)
{
	mapping_test_t *t = &mapping_tests[_i];
	tunnel_nat_mapping_t map = {
		.name = "test",
		.pub = a(t->pub),
		.priv = a(t->priv),
		.prefixlen = t->len,
		.privlen = t->len,
		.has_private = TRUE,
	};
	tunnel_nat_elem_t *d, *s;
	array_t *elems = array_create(0, 0);

	ck_assert(tunnel_nat_mapping_elems(&map, a(t->lfrom), a(t->lto),
					a(t->rfrom), a(t->rto), "child test", elems) == t->covered);
	if (!t->covered)
	{
		ck_assert_uint_eq(array_count(elems), 0);
		array_destroy(elems);
		return;
	}
	ck_assert_uint_eq(array_count(elems), 2);
	array_get(elems, 0, &d);
	array_get(elems, 1, &s);

	ck_assert_int_eq(d->map, TUNNEL_NAT_DNAT);
	ck_assert_uint_eq(d->src_from, a(t->d_src_from));
	ck_assert_uint_eq(d->src_to, a(t->d_src_to));
	ck_assert_uint_eq(d->dst_from, a(t->d_dst_from));
	ck_assert_uint_eq(d->dst_to, a(t->d_dst_to));
	ck_assert_uint_eq(d->nat_from, a(t->d_nat_from));
	ck_assert_uint_eq(d->nat_to, a(t->d_nat_to));
	ck_assert_str_eq(d->comment, "child test");

	ck_assert_int_eq(s->map, TUNNEL_NAT_SNAT);
	ck_assert_uint_eq(s->src_from, a(t->s_src_from));
	ck_assert_uint_eq(s->src_to, a(t->s_src_to));
	ck_assert_uint_eq(s->dst_from, a(t->s_dst_from));
	ck_assert_uint_eq(s->dst_to, a(t->s_dst_to));
	ck_assert_uint_eq(s->nat_from, a(t->s_nat_from));
	ck_assert_uint_eq(s->nat_to, a(t->s_nat_to));
	array_destroy_function(elems, (void*)free, NULL);
}
END_TEST

START_TEST(test_elem_str)
{
	tunnel_nat_elem_t e = {
		.map = TUNNEL_NAT_DNAT,
		.src_from = 0xc6336400, .src_to = 0xc63364ff,
		.dst_from = 0xc0000264, .dst_to = 0xc0000264,
		.nat_from = 0x0a01000a, .nat_to = 0x0a01000a,
	};
	char buf[128];

	ck_assert_str_eq(tunnel_nat_elem_str(&e, buf, sizeof(buf)),
					 "DNAT 198.51.100.0/24 . 192.0.2.100 => 10.1.0.10");
	e.src_from = 0xc6336403;
	e.src_to = 0xc6336409;
	e.map = TUNNEL_NAT_SNAT;
	ck_assert_str_eq(tunnel_nat_elem_str(&e, buf, sizeof(buf)),
		"SNAT 198.51.100.3-198.51.100.9 . 192.0.2.100 => 10.1.0.10");
}
END_TEST

Suite *make_mapping_suite(void)
{
	Suite *s = suite_create("mapping");
	TCase *tc;

	tc = tcase_create("elements from mappings and selectors");
	tcase_add_loop_test(tc, test_mapping_elems, 0, countof(mapping_tests));
	tcase_add_test(tc, test_elem_str);
	suite_add_tcase(s, tc);
	return s;
}
