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

#include <ha_takeover.h>

/**
 * The installed CHILD_SAs of a taken-over IKE_SA, and which of them must be
 * rekeyed (the others deleted)
 */
static struct {
	const char *name;
	u_int count;
	ha_takeover_child_t children[6];
	bool expect[6];
	u_int rekeys;
} plans[] = {
	{ "none", 0, {}, {}, 0 },
	{ "one CHILD_SA", 1, { { 1, 7 } }, { TRUE }, 1 },
	{ "rekeyed shortly before the takeover: the newer one stays", 2,
	  { { 1, 3 }, { 1, 5 } }, { FALSE, TRUE }, 1 },
	{ "order of the enumerator does not matter", 2,
	  { { 1, 5 }, { 1, 3 } }, { TRUE, FALSE }, 1 },
	{ "rekeyed twice", 3,
	  { { 4, 9 }, { 4, 2 }, { 4, 6 } }, { TRUE, FALSE, FALSE }, 1 },
	{ "two children of their own", 2,
	  { { 1, 3 }, { 2, 4 } }, { TRUE, TRUE }, 2 },
	{ "two children, one rekeyed", 4,
	  { { 1, 3 }, { 2, 4 }, { 1, 8 }, { 2, 1 } },
	  { FALSE, TRUE, TRUE, FALSE }, 2 },
};

START_TEST(test_plan)
{
	ha_takeover_child_t children[6];
	u_int i, rekeys;

	memcpy(children, plans[_i].children, sizeof(children));
	for (i = 0; i < countof(children); i++)
	{	/* whatever it held before */
		children[i].rekey = !plans[_i].expect[i];
	}
	rekeys = ha_takeover_plan(children, plans[_i].count);
	ck_assert_msg(rekeys == plans[_i].rekeys, "%s: %u rekeys, expected %u",
				  plans[_i].name, rekeys, plans[_i].rekeys);
	for (i = 0; i < plans[_i].count; i++)
	{
		ck_assert_msg(children[i].rekey == plans[_i].expect[i],
					  "%s: CHILD_SA %u (reqid %u): %s, expected %s",
					  plans[_i].name, children[i].id, children[i].reqid,
					  children[i].rekey ? "rekey" : "delete",
					  plans[_i].expect[i] ? "rekey" : "delete");
	}
}
END_TEST

Suite *make_ha_takeover_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("ha_takeover");
	tc = tcase_create("plan");
	tcase_add_loop_test(tc, test_plan, 0, countof(plans));
	suite_add_tcase(s, tc);
	return s;
}
