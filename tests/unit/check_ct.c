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

/* the rest of P is closed to C */
static tunnel_nat_elem_t closed = {
	.map = TUNNEL_NAT_CLOSED,
	.src_from = C, .src_to = C,
	.dst_from = P, .dst_to = P,
};

START_TEST(test_ct_pat)
{
	/* added: a flow of the LAN to C tracked untranslated goes */
	ck_assert(tunnel_nat_ct_stale(&pat, TRUE, HOST, C, C, HOST));
	/* one already translated stays */
	ck_assert(!tunnel_nat_ct_stale(&pat, TRUE, HOST, C, C, P));
	/* removed: a translated flow goes, an untranslated one stays */
	ck_assert(tunnel_nat_ct_stale(&pat, FALSE, HOST, C, C, P));
	ck_assert(!tunnel_nat_ct_stale(&pat, FALSE, HOST, C, C, HOST));
	/* other flows are not touched */
	ck_assert(!tunnel_nat_ct_stale(&pat, TRUE, 0x0a020001, C, C, 0x0a020001));
	ck_assert(!tunnel_nat_ct_stale(&pat, FALSE, HOST, 0xc6336414, 0xc6336414, P));
}
END_TEST

START_TEST(test_ct_forward)
{
	/* added: C's flow to P tracked untranslated goes */
	ck_assert(tunnel_nat_ct_stale(&fwd, TRUE, C, P, P, C));
	/* one forwarded already stays */
	ck_assert(!tunnel_nat_ct_stale(&fwd, TRUE, C, P, APP, C));
	/* removed: the forwarded flow goes */
	ck_assert(tunnel_nat_ct_stale(&fwd, FALSE, C, P, APP, C));
	ck_assert(!tunnel_nat_ct_stale(&fwd, FALSE, C, P, P, C));
}
END_TEST

START_TEST(test_ct_closed)
{
	/* closed: C's untranslated flows to P go, forwarded ones stay */
	ck_assert(tunnel_nat_ct_stale(&closed, TRUE, C, P, P, C));
	ck_assert(!tunnel_nat_ct_stale(&closed, TRUE, C, P, APP, C));
	/* opened again: nothing to delete for it */
	ck_assert(!tunnel_nat_ct_stale(&closed, FALSE, C, P, P, C));
	/* another partner's flows are not touched */
	ck_assert(!tunnel_nat_ct_stale(&closed, TRUE, 0xc6336414, P, P, 0xc6336414));
}
END_TEST

Suite *make_ct_suite(void)
{
	Suite *s = suite_create("conntrack hygiene");
	TCase *tc;

	tc = tcase_create("port forwards and many-to-one");
	tcase_add_test(tc, test_ct_pat);
	tcase_add_test(tc, test_ct_forward);
	tcase_add_test(tc, test_ct_closed);
	suite_add_tcase(s, tc);
	return s;
}
