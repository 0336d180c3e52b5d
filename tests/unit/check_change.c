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

#include <tunnel_nat_change.h>

static tunnel_nat_state_t *state;
static tunnel_nat_change_t *change;
static array_t *add, *del;

static void setup(void)
{
	state = tunnel_nat_state_create();
	change = tunnel_nat_change_create();
	add = del = NULL;
}

static void teardown(void)
{
	if (add)
	{
		array_destroy(add);
		array_destroy(del);
	}
	change->destroy(change);
	state->destroy(state);
}

/**
 * One event of the batch: CHILD_SA old goes, new comes with the elements
 */
static void event(tunnel_nat_state_t *on, uint32_t old, uint32_t new,
				  array_t *list)
{
	ck_assert(on->update(on, old, new, list, tunnel_nat_change_collect,
						 change));
	if (list)
	{
		array_destroy_function(list, (void*)free, NULL);
	}
}

/**
 * Whether element n is in a list, and only once
 */
static bool has(array_t *list, int n)
{
	tunnel_nat_elem_t e = test_elem(n), *cur;
	u_int i, found = 0;

	for (i = 0; i < array_count(list); i++)
	{
		array_get(list, i, &cur);
		if (tunnel_nat_elem_equals(cur, &e))
		{
			found++;
		}
	}
	return found == 1;
}

START_TEST(test_empty)
{
	change->get(change, &add, &del);
	ck_assert_uint_eq(array_count(add), 0);
	ck_assert_uint_eq(array_count(del), 0);
}
END_TEST

START_TEST(test_ups)
{
	/* two CHILD_SAs sharing element 2: each element added once */
	event(state, 0, 1, test_elems(1, 2, -1));
	event(state, 0, 2, test_elems(2, 3, -1));
	change->get(change, &add, &del);
	ck_assert_uint_eq(array_count(add), 3);
	ck_assert(has(add, 1) && has(add, 2) && has(add, 3));
	ck_assert_uint_eq(array_count(del), 0);
}
END_TEST

START_TEST(test_up_down_in_one_batch)
{
	/* up and down before the commit: the kernel is not touched */
	event(state, 0, 1, test_elems(1, 2, -1));
	event(state, 1, 0, NULL);
	change->get(change, &add, &del);
	ck_assert_uint_eq(array_count(add), 0);
	ck_assert_uint_eq(array_count(del), 0);
	ck_assert_uint_eq(state->get_count(state), 0);
}
END_TEST

START_TEST(test_handover)
{
	tunnel_nat_change_t *first = change;

	/* installed in an earlier batch */
	event(state, 0, 1, test_elems(1, 2, -1));
	change = tunnel_nat_change_create();
	/* break-before-make in one batch: 1 goes, 2 comes with 2 and 3. The
	 * element both need stays in place, 1 is deleted, 3 added */
	event(state, 1, 0, NULL);
	event(state, 0, 2, test_elems(2, 3, -1));
	change->get(change, &add, &del);
	ck_assert_uint_eq(array_count(add), 1);
	ck_assert(has(add, 3));
	ck_assert_uint_eq(array_count(del), 1);
	ck_assert(has(del, 1));
	first->destroy(first);
}
END_TEST

START_TEST(test_rekey_same)
{
	tunnel_nat_change_t *first = change;

	event(state, 0, 1, test_elems(1, 2, -1));
	change = tunnel_nat_change_create();
	event(state, 1, 2, test_elems(1, 2, -1));
	change->get(change, &add, &del);
	ck_assert_uint_eq(array_count(add), 0);
	ck_assert_uint_eq(array_count(del), 0);
	/* owned by the new CHILD_SA alone */
	ck_assert_uint_eq(state->get_sa_count(state), 1);
	first->destroy(first);
}
END_TEST

START_TEST(test_down_up_down)
{
	tunnel_nat_change_t *first = change;

	/* down, up again and down in one batch: deleted, once */
	event(state, 0, 1, test_elems(1, -1));
	change = tunnel_nat_change_create();
	event(state, 1, 0, NULL);
	event(state, 0, 2, test_elems(1, -1));
	event(state, 2, 0, NULL);
	change->get(change, &add, &del);
	ck_assert_uint_eq(array_count(add), 0);
	ck_assert_uint_eq(array_count(del), 1);
	ck_assert(has(del, 1));
	first->destroy(first);
}
END_TEST

START_TEST(test_between)
{
	tunnel_nat_state_t *next;
	tunnel_nat_elem_t e;

	event(state, 0, 1, test_elems(1, 2, -1));
	event(state, 0, 2, test_elems(5, -1));
	next = tunnel_nat_state_create();
	/* the same CHILD_SAs under other settings: 2 and 5 stay, 1 goes, 3
	 * and 4 come */
	event(next, 0, 1, test_elems(2, 3, -1));
	event(next, 0, 2, test_elems(4, 5, -1));
	tunnel_nat_change_between(state, next, &add, &del);
	ck_assert_uint_eq(array_count(add), 2);
	ck_assert(has(add, 3) && has(add, 4));
	ck_assert_uint_eq(array_count(del), 1);
	ck_assert(has(del, 1));
	/* the elements are the states' own */
	e = test_elem(3);
	ck_assert_uint_eq(next->get_refs(next, &e), 1);
	next->destroy(next);
}
END_TEST

Suite *make_change_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("change");
	tc = tcase_create("net change of a batch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_ups);
	tcase_add_test(tc, test_up_down_in_one_batch);
	tcase_add_test(tc, test_handover);
	tcase_add_test(tc, test_rekey_same);
	tcase_add_test(tc, test_down_up_down);
	tcase_add_test(tc, test_between);
	suite_add_tcase(s, tc);
	return s;
}
