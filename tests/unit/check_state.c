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

/**
 * Element n: DNAT from remote 198.51.100.n to P 192.0.2.100 => 10.1.0.n
 */
static tunnel_nat_elem_t elem(int n)
{
	tunnel_nat_elem_t e = {
		.map = TUNNEL_NAT_DNAT,
		.src_from = 0xc6336400 + n, .src_to = 0xc6336400 + n,
		.dst_from = 0xc0000264, .dst_to = 0xc0000264,
		.nat_from = 0x0a010000 + n, .nat_to = 0x0a010000 + n,
	};
	snprintf(e.comment, sizeof(e.comment), "child c%d", n);
	return e;
}

/**
 * An array of copies of the given elements, terminated by a negative n
 */
static array_t *elems(int n, ...)
{
	tunnel_nat_elem_t *e;
	array_t *list = array_create(0, 0);
	va_list args;

	va_start(args, n);
	while (n >= 0)
	{
		e = malloc(sizeof(*e));
		*e = elem(n);
		array_insert(list, ARRAY_TAIL, e);
		n = va_arg(args, int);
	}
	va_end(args);
	return list;
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
	tunnel_nat_elem_t e = elem(n);
	return state->get_refs(state, &e);
}

static bool installed(int n)
{
	tunnel_nat_elem_t e = elem(n);
	return kernel_find(&e) >= 0;
}

START_TEST(test_up_down)
{
	ck_assert(up(1, elems(1, 2, -1)));
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
	ck_assert(up(1, elems(1, -1)));
	ck_assert(up(2, elems(1, -1)));
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
	ck_assert(up(1, elems(1, -1)));
	ck_assert(down(1));
	ck_assert(up(2, elems(1, -1)));
	ck_assert_uint_eq(kernel.commits, 3);
	ck_assert(installed(1));
	ck_assert_uint_eq(refs(1), 1);
}
END_TEST

START_TEST(test_rekey_same)
{
	ck_assert(up(1, elems(1, 2, -1)));
	ck_assert(rekey(1, 2, elems(1, 2, -1)));
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
	ck_assert(up(1, elems(1, -1)));
	list = array_create(0, 0);
	e = malloc(sizeof(*e));
	*e = elem(1);
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
	ck_assert(up(1, elems(1, -1)));
	ck_assert(up(2, elems(1, -1)));
	ck_assert(rekey(1, 3, elems(1, -1)));
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
	ck_assert(!up(1, elems(1, 2, -1)));
	ck_assert_uint_eq(state->get_count(state), 0);
	ck_assert_uint_eq(state->get_sa_count(state), 0);
	kernel.fail = FALSE;
	/* nothing to remove, so nothing is sent */
	ck_assert(down(1));
	ck_assert_uint_eq(kernel.commits, 1);
	/* and a later up installs everything */
	ck_assert(up(1, elems(1, 2, -1)));
	ck_assert(installed(1) && installed(2));
}
END_TEST

START_TEST(test_commit_fails_shared)
{
	ck_assert(up(1, elems(1, -1)));
	kernel.fail = TRUE;
	/* element 1 is there already, element 2 fails: all or nothing */
	ck_assert(!up(2, elems(1, 2, -1)));
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
	ck_assert(up(1, elems(1, -1)));
	kernel.fail = TRUE;
	ck_assert(!rekey(1, 2, elems(2, -1)));
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

	ck_assert(up(1, elems(1, -1)));
	/* same key, different translation: refused, the rest installed */
	list = elems(2, -1);
	e = malloc(sizeof(*e));
	*e = elem(1);
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
	*e = elem(1);
	e->src_from = 0xc6336400;
	e->src_to = 0xc63364ff;
	array_insert(list, ARRAY_TAIL, e);
	ck_assert(up(1, list));
	ck_assert(up(2, elems(5, -1)));
	ck_assert_logged("conflicts with installed");
	ck_assert(!installed(5));
	ck_assert(down(1));
	ck_assert(down(2));
	ck_assert_uint_eq(array_count(kernel.installed), 0);

	/* an exact pair installed: a range over it is refused */
	ck_assert(up(3, elems(5, -1)));
	list = array_create(0, 0);
	e = malloc(sizeof(*e));
	*e = elem(1);
	e->src_from = 0xc6336400;
	e->src_to = 0xc63364ff;
	array_insert(list, ARRAY_TAIL, e);
	ck_assert(up(4, list));
	ck_assert_uint_eq(array_count(kernel.installed), 1);
	ck_assert(installed(5));

	/* once gone, the same key with another translation is fine */
	ck_assert(down(3));
	list = elems(5, -1);
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
	ck_assert(up(1, elems(1, 1, 1, -1)));
	ck_assert_uint_eq(refs(1), 1);
	ck_assert_uint_eq(array_count(kernel.installed), 1);
	ck_assert(down(1));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_up_again_replaces)
{
	ck_assert(up(1, elems(1, 2, -1)));
	ck_assert(up(1, elems(2, 3, -1)));
	ck_assert(!installed(1) && installed(2) && installed(3));
	ck_assert_uint_eq(refs(2), 1);
	ck_assert(down(1));
	ck_assert_uint_eq(array_count(kernel.installed), 0);
}
END_TEST

START_TEST(test_forget)
{
	array_t *del = array_create(0, 0);

	ck_assert(up(1, elems(1, 2, -1)));
	ck_assert(up(2, elems(2, -1)));
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
		ck_assert(up(id, elems(1, id % 2 ? 2 : 3, -1)));
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
	return s;
}
