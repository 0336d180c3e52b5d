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
#include "test_elems.h"

#include <tunnel_nat_state.h>

/**
 * A simulated kernel map: the elements committed so far
 */
typedef struct {
	array_t *installed;
	u_int commits;
	bool fail;
} kernel_t;

static kernel_t kernel;
static tunnel_nat_state_t *state;

static int kernel_find(tunnel_nat_elem_t *elem)
{
	tunnel_nat_elem_t *cur;
	u_int i;

	for (i = 0; i < array_count(kernel.installed); i++)
	{
		array_get(kernel.installed, i, &cur);
		if (tunnel_nat_elem_equals(cur, elem))
		{
			return i;
		}
	}
	return -1;
}

/**
 * Applies a change like nftables would: whole or not at all
 */
static bool fake_commit(void *user, array_t *add, array_t *del)
{
	tunnel_nat_elem_t *elem, *copy;
	u_int i;
	int idx;

	ck_assert_ptr_eq(user, &kernel);
	kernel.commits++;
	if (kernel.fail)
	{
		return FALSE;
	}
	for (i = 0; i < array_count(del); i++)
	{
		array_get(del, i, &elem);
		idx = kernel_find(elem);
		ck_assert_msg(idx >= 0, "deleting an element that is not installed");
		array_remove(kernel.installed, idx, &copy);
		free(copy);
	}
	for (i = 0; i < array_count(add); i++)
	{
		array_get(add, i, &elem);
		ck_assert_msg(kernel_find(elem) < 0, "adding an element twice");
		copy = malloc(sizeof(*copy));
		*copy = *elem;
		array_insert(kernel.installed, ARRAY_TAIL, copy);
	}
	return TRUE;
}

static void setup(void)
{
	kernel.installed = array_create(0, 0);
	kernel.commits = 0;
	kernel.fail = FALSE;
	state = tunnel_nat_state_create();
	test_log_reset();
}

static void teardown(void)
{
	state->destroy(state);
	array_destroy_function(kernel.installed, (void*)free, NULL);
}

static bool up(uint32_t id, array_t *list)
{
	bool ok = state->update(state, 0, id, list, fake_commit, &kernel);
	array_destroy_function(list, (void*)free, NULL);
	return ok;
}

static bool down(uint32_t id)
{
	return state->update(state, id, 0, NULL, fake_commit, &kernel);
}

static bool rekey(uint32_t old, uint32_t new, array_t *list)
{
	bool ok = state->update(state, old, new, list, fake_commit, &kernel);
	array_destroy_function(list, (void*)free, NULL);
	return ok;
}

static u_int refs(int n)
{
	tunnel_nat_elem_t e = test_elem(n);
	return state->get_refs(state, &e);
}

static bool installed(int n)
{
	tunnel_nat_elem_t e = test_elem(n);
	return kernel_find(&e) >= 0;
}

START_TEST(test_up_down)
{
	ck_assert(up(1, test_elems(1, 2, -1)));
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert(installed(1) && installed(2));
	ck_assert_uint_eq(refs(1), 1);
	ck_assert_uint_eq(state->get_count(state), 2);

	ck_assert(down(1));
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert_uint_eq(array_count(kernel.installed), 0);
	ck_assert_uint_eq(state->get_count(state), 0);
	ck_assert_uint_eq(state->get_sa_count(state), 0);
}
END_TEST

START_TEST(test_make_before_break)
{
	/* reauthentication: the new IKE_SA's CHILD_SA comes up before the old
	 * one goes down, both need the same translations */
	ck_assert(up(1, test_elems(1, -1)));
	ck_assert(up(2, test_elems(1, -1)));
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert_uint_eq(refs(1), 2);

	ck_assert(down(1));
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert(installed(1));
	ck_assert_uint_eq(refs(1), 1);

	ck_assert(down(2));
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert(!installed(1));
}
END_TEST

START_TEST(test_break_before_make)
{
	ck_assert(up(1, test_elems(1, -1)));
	ck_assert(down(1));
	ck_assert(up(2, test_elems(1, -1)));
	ck_assert_uint_eq(kernel.commits, 3);
	ck_assert(installed(1));
	ck_assert_uint_eq(refs(1), 1);
}
END_TEST

START_TEST(test_rekey_same)
{
	ck_assert(up(1, test_elems(1, 2, -1)));
	ck_assert(rekey(1, 2, test_elems(1, 2, -1)));
	/* nothing to change in the kernel: no gap */
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert_uint_eq(refs(1), 1);
	ck_assert_uint_eq(state->get_sa_count(state), 1);

	/* the old SA is gone: a late down for it changes nothing */
	ck_assert(down(1));
	ck_assert(installed(1) && installed(2));
	ck_assert(down(2));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_rekey_changed)
{
	tunnel_nat_elem_t *e;
	array_t *list;

	/* the new SA negotiated a narrower remote selector, overlapping the old */
	ck_assert(up(1, test_elems(1, -1)));
	list = array_create(0, 0);
	e = malloc(sizeof(*e));
	*e = test_elem(1);
	e->src_from -= 1;
	e->src_to += 1;
	array_insert(list, ARRAY_TAIL, e);
	ck_assert(rekey(1, 2, list));
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert(!installed(1));
	ck_assert_uint_eq(array_count(kernel.installed), 1);
	ck_assert(down(2));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_rekey_of_shared)
{
	ck_assert(up(1, test_elems(1, -1)));
	ck_assert(up(2, test_elems(1, -1)));
	ck_assert(rekey(1, 3, test_elems(1, -1)));
	ck_assert_uint_eq(refs(1), 2);
	ck_assert(down(2));
	ck_assert(installed(1));
	ck_assert(down(3));
	ck_assert(!installed(1));
	ck_assert_uint_eq(kernel.commits, 2);
}
END_TEST

START_TEST(test_commit_fails_up)
{
	kernel.fail = TRUE;
	ck_assert(!up(1, test_elems(1, 2, -1)));
	ck_assert_uint_eq(state->get_count(state), 0);
	ck_assert_uint_eq(state->get_sa_count(state), 0);
	kernel.fail = FALSE;
	/* nothing to remove, so nothing is sent */
	ck_assert(down(1));
	ck_assert_uint_eq(kernel.commits, 1);
	/* and a later up installs everything */
	ck_assert(up(1, test_elems(1, 2, -1)));
	ck_assert(installed(1) && installed(2));
}
END_TEST

START_TEST(test_commit_fails_shared)
{
	ck_assert(up(1, test_elems(1, -1)));
	kernel.fail = TRUE;
	/* element 1 is there already, element 2 fails: all or nothing */
	ck_assert(!up(2, test_elems(1, 2, -1)));
	ck_assert_uint_eq(refs(1), 1);
	ck_assert_uint_eq(refs(2), 0);
	ck_assert_uint_eq(state->get_sa_count(state), 1);
	/* a failing down leaves the state as it was */
	ck_assert(!down(1));
	ck_assert_uint_eq(refs(1), 1);
	kernel.fail = FALSE;
	ck_assert(down(1));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_commit_fails_rekey)
{
	ck_assert(up(1, test_elems(1, -1)));
	kernel.fail = TRUE;
	ck_assert(!rekey(1, 2, test_elems(2, -1)));
	ck_assert_uint_eq(refs(1), 1);
	ck_assert_uint_eq(refs(2), 0);
	/* what the listener does then: keep the old translations for the new SA */
	state->rename(state, 1, 2);
	kernel.fail = FALSE;
	ck_assert(down(1));
	ck_assert(installed(1));
	ck_assert(down(2));
	ck_assert(!installed(1));
}
END_TEST

START_TEST(test_conflict)
{
	tunnel_nat_elem_t *e;
	array_t *list;

	ck_assert(up(1, test_elems(1, -1)));
	/* same key, different translation: refused, the rest installed */
	list = test_elems(2, -1);
	e = malloc(sizeof(*e));
	*e = test_elem(1);
	e->nat_from = e->nat_to = 0x0a0100ff;
	array_insert(list, ARRAY_TAIL, e);
	ck_assert(up(2, list));
	ck_assert_logged("conflicts with installed");
	ck_assert_logged("DNAT 198.51.100.1 . 192.0.2.100 => 10.1.0.255");
	ck_assert(installed(1) && installed(2));
	ck_assert_uint_eq(array_count(kernel.installed), 2);
	ck_assert_uint_eq(refs(1), 1);
	ck_assert(down(1));
	ck_assert(down(2));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

/**
 * A port forward of the remote range 198.51.100.0/24 to P 192.0.2.100 on a
 * TCP port, to a host and port
 */
static tunnel_nat_elem_t *fwd(uint16_t port, uint32_t host, uint16_t hport)
{
	tunnel_nat_elem_t *e = malloc(sizeof(*e));

	*e = (tunnel_nat_elem_t){
		.map = TUNNEL_NAT_FWD,
		.src_from = 0xc6336400, .src_to = 0xc63364ff,
		.dst_from = 0xc0000264, .dst_to = 0xc0000264,
		.nat_from = host, .nat_to = host,
		.proto = 6, .port = port, .nat_port = hport,
	};
	snprintf(e->comment, sizeof(e->comment), "child f");
	return e;
}

START_TEST(test_forward_ports)
{
	tunnel_nat_elem_t *e;
	array_t *list;

	/* two ports of one P to two hosts: no conflict */
	list = array_create(0, 0);
	array_insert(list, ARRAY_TAIL, fwd(443, 0x0a01000a, 8443));
	array_insert(list, ARRAY_TAIL, fwd(22, 0x0a01000b, 22));
	ck_assert(up(1, list));
	ck_assert_uint_eq(array_count(kernel.installed), 2);
	/* the same forward from a second CHILD_SA: shared */
	list = array_create(0, 0);
	array_insert(list, ARRAY_TAIL, fwd(443, 0x0a01000a, 8443));
	ck_assert(up(2, list));
	ck_assert_uint_eq(array_count(kernel.installed), 2);
	e = fwd(443, 0x0a01000a, 8443);
	ck_assert_uint_eq(state->get_refs(state, e), 2);
	free(e);
	/* the same port to another host's port: refused */
	list = array_create(0, 0);
	array_insert(list, ARRAY_TAIL, fwd(22, 0x0a01000c, 2222));
	ck_assert(up(3, list));
	ck_assert_logged("conflicts with installed");
	ck_assert_logged("forward 198.51.100.0/24 . 192.0.2.100 . tcp . 22 => 10.1.0.12 . 2222");
	ck_assert_uint_eq(array_count(kernel.installed), 2);
	ck_assert(down(1));
	ck_assert_uint_eq(array_count(kernel.installed), 1);
	ck_assert(down(2));
	ck_assert(down(3));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_conflict_ranges)
{
	tunnel_nat_elem_t *e;
	array_t *list;

	/* a range installed: an exact pair inside it is refused */
	list = array_create(0, 0);
	e = malloc(sizeof(*e));
	*e = test_elem(1);
	e->src_from = 0xc6336400;
	e->src_to = 0xc63364ff;
	array_insert(list, ARRAY_TAIL, e);
	ck_assert(up(1, list));
	ck_assert(up(2, test_elems(5, -1)));
	ck_assert_logged("conflicts with installed");
	ck_assert(!installed(5));
	ck_assert(down(1));
	ck_assert(down(2));
	ck_assert_uint_eq(array_count(kernel.installed), 0);

	/* an exact pair installed: a range over it is refused */
	ck_assert(up(3, test_elems(5, -1)));
	list = array_create(0, 0);
	e = malloc(sizeof(*e));
	*e = test_elem(1);
	e->src_from = 0xc6336400;
	e->src_to = 0xc63364ff;
	array_insert(list, ARRAY_TAIL, e);
	ck_assert(up(4, list));
	ck_assert_uint_eq(array_count(kernel.installed), 1);
	ck_assert(installed(5));

	/* once gone, the same key with another translation is fine */
	ck_assert(down(3));
	list = test_elems(5, -1);
	array_get(list, 0, &e);
	e->nat_from = e->nat_to = 0x0a0100fe;
	ck_assert(up(5, list));
	ck_assert_uint_eq(array_count(kernel.installed), 1);
	ck_assert(down(5));
	ck_assert(down(4));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_duplicates_in_request)
{
	ck_assert(up(1, test_elems(1, 1, 1, -1)));
	ck_assert_uint_eq(refs(1), 1);
	ck_assert_uint_eq(array_count(kernel.installed), 1);
	ck_assert(down(1));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_up_again_replaces)
{
	ck_assert(up(1, test_elems(1, 2, -1)));
	ck_assert(up(1, test_elems(2, 3, -1)));
	ck_assert(!installed(1) && installed(2) && installed(3));
	ck_assert_uint_eq(refs(2), 1);
	ck_assert(down(1));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_forget)
{
	array_t *del = array_create(0, 0);

	ck_assert(up(1, test_elems(1, 2, -1)));
	ck_assert(up(2, test_elems(2, -1)));
	state->forget(state, 1, del);
	ck_assert_uint_eq(array_count(del), 1);
	ck_assert_uint_eq(refs(1), 0);
	ck_assert_uint_eq(refs(2), 1);
	array_destroy_function(del, (void*)free, NULL);
}
END_TEST

START_TEST(test_many_sharing)
{
	uint32_t id;

	for (id = 1; id <= 200; id++)
	{
		ck_assert(up(id, test_elems(1, id % 2 ? 2 : 3, -1)));
	}
	/* only the first SA of each distinct set of elements commits */
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert_uint_eq(refs(1), 200);
	ck_assert_uint_eq(refs(2), 100);
	/* down in an order unrelated to up */
	for (id = 200; id >= 1; id -= 2)
	{
		ck_assert(down(id));
	}
	ck_assert(!installed(3) && installed(2));
	for (id = 1; id <= 199; id += 2)
	{
		ck_assert(down(id));
	}
	ck_assert_uint_eq(array_count(kernel.installed), 0);
	ck_assert_uint_eq(state->get_count(state), 0);
	ck_assert_uint_eq(state->get_sa_count(state), 0);
	/* and only the last SA needing an element removes it */
	ck_assert_uint_eq(kernel.commits, 4);
}
END_TEST

/**
 * A partner-side binding of a CHILD_SA: what its six elements are built of
 */
typedef struct {
	uint32_t reqid, mark_in, mark_out, zone, remote, alias;
	uint8_t len;
	char *comment;
} binding_t;

/**
 * Partner A: reqid 5, marks 0x11/0x12, zone 4096, 10.9.0.0/24 as
 * 100.64.1.0/24
 */
static binding_t acme = {
	5, 0x11, 0x12, 4096, 0x0a090000, 0x64400100, 24, "acme acme-net{3}",
};

/**
 * Partner B: the same remote, reqid 6, marks 0x21/0x22, zone 4097,
 * as 100.64.2.0/24
 */
static binding_t globex = {
	6, 0x21, 0x22, 4097, 0x0a090000, 0x64400200, 24, "globex globex-net{9}",
};

static tunnel_nat_elem_t partner_elem(binding_t *b, tunnel_nat_map_t map)
{
	uint32_t last = ~(0xffffffffU << (32 - b->len));
	tunnel_nat_elem_t e = {
		.map = map,
	};

	switch (map)
	{
		case TUNNEL_NAT_PZONE:
		case TUNNEL_NAT_PMARK:
			e.bind = b->reqid;
			e.value = map == TUNNEL_NAT_PZONE ? b->zone : b->mark_in;
			break;
		case TUNNEL_NAT_AZONE:
		case TUNNEL_NAT_AMARK:
		case TUNNEL_NAT_ADNAT:
			e.dst_from = b->alias;
			e.dst_to = b->alias | last;
			e.len = b->len;
			if (map == TUNNEL_NAT_ADNAT)
			{
				e.nat_from = b->remote;
				e.nat_to = b->remote | last;
			}
			else
			{
				e.value = map == TUNNEL_NAT_AZONE ? b->zone : b->mark_out;
			}
			break;
		case TUNNEL_NAT_PSNAT:
			e.bind = b->mark_in;
			e.src_from = b->remote;
			e.src_to = b->remote | last;
			e.nat_from = b->alias;
			e.nat_to = b->alias | last;
			e.len = b->len;
			break;
		default:
			ck_abort();
	}
	snprintf(e.comment, sizeof(e.comment), "%s", b->comment);
	return e;
}

/**
 * The six partner-side elements of a binding, plus P-side elements n...
 * (terminated by a negative n)
 */
static array_t *binding_elems(binding_t *b, int n, ...)
{
	tunnel_nat_elem_t *e;
	array_t *list = array_create(0, 0);
	tunnel_nat_map_t map;
	va_list args;

	for (map = TUNNEL_NAT_PZONE; map < TUNNEL_NAT_KINDS; map++)
	{
		e = malloc(sizeof(*e));
		*e = partner_elem(b, map);
		array_insert(list, ARRAY_TAIL, e);
	}
	va_start(args, n);
	test_elems_add(list, n, args);
	va_end(args);
	return list;
}

static bool partner_installed(binding_t *b, tunnel_nat_map_t map)
{
	tunnel_nat_elem_t e = partner_elem(b, map);
	return kernel_find(&e) >= 0;
}

static u_int partner_refs(binding_t *b, tunnel_nat_map_t map)
{
	tunnel_nat_elem_t e = partner_elem(b, map);
	return state->get_refs(state, &e);
}

START_TEST(test_partner_str)
{
	struct {
		tunnel_nat_map_t map;
		char *str;
	} tests[] = {
		{ TUNNEL_NAT_PZONE, "partner zone reqid 5 => 4096" },
		{ TUNNEL_NAT_PMARK, "partner mark reqid 5 => 0x00000011" },
		{ TUNNEL_NAT_AZONE, "alias zone 100.64.1.0/24 => 4096" },
		{ TUNNEL_NAT_AMARK, "alias mark 100.64.1.0/24 => 0x00000012" },
		{ TUNNEL_NAT_ADNAT, "alias DNAT 100.64.1.0/24 => 10.9.0.0/24" },
		{ TUNNEL_NAT_PSNAT,
		  "partner SNAT 0x00000011 . 10.9.0.0/24 => 100.64.1.0/24" },
	};
	tunnel_nat_elem_t e;
	char buf[128];
	u_int i;

	for (i = 0; i < countof(tests); i++)
	{
		e = partner_elem(&acme, tests[i].map);
		ck_assert_str_eq(tunnel_nat_elem_str(&e, buf, sizeof(buf)),
						 tests[i].str);
		ck_assert(tunnel_nat_map_is_partner(tests[i].map));
	}
	ck_assert(!tunnel_nat_map_is_partner(TUNNEL_NAT_DNAT));
	ck_assert(!tunnel_nat_map_is_partner(TUNNEL_NAT_CLOSED));
}
END_TEST

START_TEST(test_partner_equals)
{
	tunnel_nat_elem_t a, b;
	tunnel_nat_map_t map;

	for (map = TUNNEL_NAT_PZONE; map < TUNNEL_NAT_KINDS; map++)
	{
		a = partner_elem(&acme, map);
		b = partner_elem(&acme, map);
		snprintf(b.comment, sizeof(b.comment), "another comment");
		ck_assert(tunnel_nat_elem_equals(&a, &b));
		ck_assert_uint_eq(tunnel_nat_elem_hash(&a), tunnel_nat_elem_hash(&b));
		b = partner_elem(&globex, map);
		ck_assert(!tunnel_nat_elem_equals(&a, &b));
	}
	/* each new field is part of the identity */
	a = partner_elem(&acme, TUNNEL_NAT_PZONE);
	b = a;
	b.bind++;
	ck_assert(!tunnel_nat_elem_equals(&a, &b));
	b = a;
	b.value++;
	ck_assert(!tunnel_nat_elem_equals(&a, &b));
	a = partner_elem(&acme, TUNNEL_NAT_AZONE);
	b = a;
	b.len = 25;
	ck_assert(!tunnel_nat_elem_equals(&a, &b));
	/* the same fields under another kind */
	b = a;
	b.map = TUNNEL_NAT_AMARK;
	ck_assert(!tunnel_nat_elem_equals(&a, &b));
}
END_TEST

START_TEST(test_partner_rekey)
{
	/* a rekey keeps reqid and marks: identical elements, no commit */
	ck_assert(up(3, binding_elems(&acme, 1, -1)));
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert_uint_eq(array_count(kernel.installed), 7);
	ck_assert(rekey(3, 4, binding_elems(&acme, 1, -1)));
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert_uint_eq(partner_refs(&acme, TUNNEL_NAT_PZONE), 1);
	ck_assert(down(4));
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_partner_make_before_break)
{
	tunnel_nat_map_t map;

	ck_assert(up(3, binding_elems(&acme, -1)));
	ck_assert(up(4, binding_elems(&acme, -1)));
	ck_assert_uint_eq(kernel.commits, 1);
	for (map = TUNNEL_NAT_PZONE; map < TUNNEL_NAT_KINDS; map++)
	{
		ck_assert_uint_eq(partner_refs(&acme, map), 2);
	}
	ck_assert(down(3));
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert_uint_eq(partner_refs(&acme, TUNNEL_NAT_PZONE), 1);
	ck_assert(down(4));
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_partner_new_marks)
{
	binding_t renewed = acme;

	/* break-before-make reauthentication with %unique: same reqid and
	 * zone, new marks; only the elements holding a mark change */
	renewed.mark_in = 0x31;
	renewed.mark_out = 0x32;
	ck_assert(up(3, binding_elems(&acme, -1)));
	ck_assert(rekey(3, 4, binding_elems(&renewed, -1)));
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert_uint_eq(array_count(kernel.installed), 6);
	ck_assert(partner_installed(&renewed, TUNNEL_NAT_PMARK));
	ck_assert(partner_installed(&renewed, TUNNEL_NAT_AMARK));
	ck_assert(partner_installed(&renewed, TUNNEL_NAT_PSNAT));
	ck_assert(!partner_installed(&acme, TUNNEL_NAT_PMARK));
	ck_assert(!partner_installed(&acme, TUNNEL_NAT_AMARK));
	ck_assert(!partner_installed(&acme, TUNNEL_NAT_PSNAT));
	/* untouched, so their counters continue */
	ck_assert_uint_eq(partner_refs(&acme, TUNNEL_NAT_PZONE), 1);
	ck_assert_uint_eq(partner_refs(&acme, TUNNEL_NAT_AZONE), 1);
	ck_assert_uint_eq(partner_refs(&acme, TUNNEL_NAT_ADNAT), 1);
	ck_assert_str_eq(test_log(), "");
}
END_TEST

START_TEST(test_partner_two_partners)
{
	/* the same remote prefix through two partners: disjoint keys */
	ck_assert(up(3, binding_elems(&acme, 1, -1)));
	ck_assert(up(9, binding_elems(&globex, 1, -1)));
	ck_assert_uint_eq(kernel.commits, 2);
	ck_assert_uint_eq(array_count(kernel.installed), 13);
	ck_assert_uint_eq(refs(1), 2);
	ck_assert_str_eq(test_log(), "");
	ck_assert(down(3));
	ck_assert_uint_eq(array_count(kernel.installed), 7);
	ck_assert(partner_installed(&globex, TUNNEL_NAT_PSNAT));
}
END_TEST

START_TEST(test_partner_reqid_conflict)
{
	binding_t other = globex;
	tunnel_nat_map_t map;

	/* a static reqid shared by two partner configs */
	other.reqid = acme.reqid;
	ck_assert(up(3, binding_elems(&acme, -1)));
	ck_assert(up(9, binding_elems(&other, 2, -1)));
	ck_assert_logged("tunnel-nat: partner zone reqid 5 => 4097 (globex "
					 "globex-net{9}) conflicts with installed partner zone "
					 "reqid 5 => 4096 (acme acme-net{3})");
	ck_assert_logged("tunnel-nat: no partner-side element of globex "
					 "globex-net{9} installed (all or nothing)");
	/* none of B's partner side, not even its disjoint alias; its P side */
	for (map = TUNNEL_NAT_PZONE; map < TUNNEL_NAT_KINDS; map++)
	{
		ck_assert(!partner_installed(&other, map));
		ck_assert(partner_installed(&acme, map));
	}
	ck_assert(installed(2));
	ck_assert_uint_eq(array_count(kernel.installed), 7);
	/* B's record holds only its P side */
	ck_assert(down(9));
	ck_assert_uint_eq(array_count(kernel.installed), 6);
}
END_TEST

START_TEST(test_partner_alias_conflict)
{
	binding_t second = acme, inner = globex;
	tunnel_nat_map_t map;

	/* a second peer using acme's config: another reqid and marks, the same
	 * alias (the alias zone element is equal, the mark one is not) */
	second.reqid = 7;
	second.mark_in = 0x41;
	second.mark_out = 0x42;
	second.comment = "acme acme-net{5}";
	ck_assert(up(3, binding_elems(&acme, -1)));
	ck_assert(up(5, binding_elems(&second, -1)));
	ck_assert_logged("tunnel-nat: alias mark 100.64.1.0/24 => 0x00000042 "
					 "(acme acme-net{5}) conflicts with installed alias mark "
					 "100.64.1.0/24 => 0x00000012 (acme acme-net{3})");
	ck_assert_logged("no partner-side element of acme acme-net{5} installed");
	ck_assert_uint_eq(kernel.commits, 1);
	ck_assert_uint_eq(partner_refs(&acme, TUNNEL_NAT_AZONE), 1);
	ck_assert(!partner_installed(&second, TUNNEL_NAT_PZONE));

	/* a block of another length inside an installed alias block */
	test_log_reset();
	inner.alias = 0x64400105;
	inner.remote = 0x0a090005;
	inner.len = 32;
	ck_assert(up(9, binding_elems(&inner, -1)));
	ck_assert_logged("alias zone 100.64.1.5 => 4097 (globex globex-net{9}) "
					 "conflicts with installed alias zone 100.64.1.0/24 => 4096");
	for (map = TUNNEL_NAT_PZONE; map < TUNNEL_NAT_KINDS; map++)
	{
		ck_assert(!partner_installed(&inner, map));
	}
	ck_assert_uint_eq(array_count(kernel.installed), 6);

	/* once acme is down, the second peer fits */
	ck_assert(down(3));
	ck_assert(up(5, binding_elems(&second, -1)));
	ck_assert_uint_eq(array_count(kernel.installed), 6);
	ck_assert(partner_installed(&second, TUNNEL_NAT_AMARK));
}
END_TEST

START_TEST(test_partner_many)
{
	binding_t b = acme;
	char comment[32];
	u_int i;

	/* the load lab's shape: one config, each CHILD_SA a /32 of the pool
	 * with its own reqid and marks, all in one zone */
	for (i = 1; i <= 200; i++)
	{
		b.reqid = i;
		b.mark_in = 0x1000 + 2 * i;
		b.mark_out = 0x1001 + 2 * i;
		b.remote = 0x0a400000 + i;
		b.alias = 0x64400000 + i;
		b.len = 32;
		snprintf(comment, sizeof(comment), "lt load-test{%u}", i);
		b.comment = comment;
		ck_assert(up(i, binding_elems(&b, -1)));
	}
	ck_assert_str_eq(test_log(), "");
	ck_assert_uint_eq(kernel.commits, 200);
	ck_assert_uint_eq(state->get_count(state), 1200);
	ck_assert_uint_eq(array_count(kernel.installed), 1200);
}
END_TEST

Suite *make_state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc;

	tc = tcase_create("reference counting");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_up_down);
	tcase_add_test(tc, test_make_before_break);
	tcase_add_test(tc, test_break_before_make);
	tcase_add_test(tc, test_rekey_same);
	tcase_add_test(tc, test_rekey_changed);
	tcase_add_test(tc, test_rekey_of_shared);
	tcase_add_test(tc, test_commit_fails_up);
	tcase_add_test(tc, test_commit_fails_shared);
	tcase_add_test(tc, test_commit_fails_rekey);
	tcase_add_test(tc, test_conflict);
	tcase_add_test(tc, test_conflict_ranges);
	tcase_add_test(tc, test_forward_ports);
	tcase_add_test(tc, test_duplicates_in_request);
	tcase_add_test(tc, test_up_again_replaces);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_many_sharing);
	suite_add_tcase(s, tc);

	tc = tcase_create("partner-side elements");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_partner_str);
	tcase_add_test(tc, test_partner_equals);
	tcase_add_test(tc, test_partner_rekey);
	tcase_add_test(tc, test_partner_make_before_break);
	tcase_add_test(tc, test_partner_new_marks);
	tcase_add_test(tc, test_partner_two_partners);
	tcase_add_test(tc, test_partner_reqid_conflict);
	tcase_add_test(tc, test_partner_alias_conflict);
	tcase_add_test(tc, test_partner_many);
	suite_add_tcase(s, tc);
	return s;
}
