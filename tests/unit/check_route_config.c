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

#include <tunnel_route_config.h>

#include <settings/settings.h>

/**
 * One settings text and what parsing it must give
 */
typedef struct {
	char *conf;
	/** NULL if the config must be rejected, else the expected nft table */
	char *nft_table;
	uint32_t table, priority, mark, mask, bypass;
	uint8_t protocol;
	u_int errors;
	char *logged;
} route_config_test_t;

#define DEF 4242, 210, 0x4000000, 0xc000000, 0x8000000, 242

static route_config_test_t route_config_tests[] = {
	/* defaults */
	{ "", "tunnel_route", DEF, 0, NULL },
	{ "load = yes", "tunnel_route", DEF, 0, NULL },
	/* valid settings */
	{ "table = 100 \n priority = 100 \n protocol = 99 \n nft_table = rt",
	  "rt", 100, 100, 0x4000000, 0xc000000, 0x8000000, 99, 0, NULL },
	{ "table = 0x10000", "tunnel_route", 65536, 210, 0x4000000, 0xc000000, 0x8000000, 242, 0, NULL },
	{ "mark = 0x10/0x30 \n bypass_mark = 0x20", "tunnel_route", 4242, 210, 0x10, 0x30, 0x20, 242, 0, NULL },
	{ "fail_closed = no \n refresh_interval = 0 \n guard_timeout = 5", "tunnel_route", DEF, 0, NULL },
	/* invalid table */
	{ "table = 254", NULL, DEF, 0, "table = '254' is invalid: it is one of the kernel's tables" },
	{ "table = 220", NULL, DEF, 0, "table = '220' is invalid: it is strongSwan's own routing table" },
	{ "table = 0", NULL, DEF, 0, "table = '0' is invalid" },
	{ "table = main", NULL, DEF, 0, "table = 'main' is invalid" },
	{ "table = -5", NULL, DEF, 0, "table = '-5' is invalid" },
	{ "table = 4294967296", NULL, DEF, 0, "table = '4294967296' is invalid" },
	/* invalid priority */
	{ "priority = 0", NULL, DEF, 0, "priority = '0' is invalid" },
	{ "priority = 32766", NULL, DEF, 0, "priority = '32766' is invalid" },
	{ "priority = 220", NULL, DEF, 0, "priority = '220' is invalid" },
	/* invalid marks */
	{ "mark = 0", NULL, DEF, 0, "mark = '0' is invalid" },
	{ "mark = 0x10/0x0f", NULL, DEF, 0, "mark = '0x10/0x0f' is invalid" },
	{ "mark = fw", NULL, DEF, 0, "mark = 'fw' is invalid" },
	{ "bypass_mark = 0x4000000", NULL, DEF, 0, "bypass_mark = '0x4000000' is invalid" },
	{ "bypass_mark = 0x1", NULL, DEF, 0, "bypass_mark = '0x1' is invalid" },
	/* invalid protocol */
	{ "protocol = 4", NULL, DEF, 0, "protocol = '4' is invalid" },
	{ "protocol = 256", NULL, DEF, 0, "protocol = '256' is invalid" },
	/* invalid nft table */
	{ "nft_table = my-table", NULL, DEF, 0, "nft_table = 'my-table' is invalid" },
	/* unknown keys and bad sources are skipped */
	{ "tabel = 5", "tunnel_route", DEF, 1, "unknown key tabel = '5' ignored" },
	{ "child { }", "tunnel_route", DEF, 1, "unknown section child ignored" },
	{ "children { claims { sources = 10.1.0.0/24, 10.1.0.300 } }", "tunnel_route", DEF, 1,
	  "children.claims.sources = '10.1.0.0/24, 10.1.0.300': '10.1.0.300' is invalid: not an IPv4 address" },
	{ "children { claims { source = 10.1.0.0/24 } }", "tunnel_route", DEF, 1,
	  "unknown key children.claims.source = '10.1.0.0/24' ignored" },
};

START_TEST(test_route_config_table)
{
	route_config_test_t *t = &route_config_tests[_i];
	tunnel_route_config_t *config;
	settings_t *settings;
	char *text;

	test_log_reset();
	ck_assert(asprintf(&text, "charon { plugins { tunnel-route { %s } } }",
					   t->conf) > 0);
	settings = settings_create_string(text);
	ck_assert(settings);
	config = tunnel_route_config_load(settings, "charon");
	if (!t->nft_table)
	{
		ck_assert_msg(!config, "accepted: %s", t->conf);
	}
	else
	{
		ck_assert_msg(config, "rejected: %s\n%s", t->conf, test_log());
		ck_assert_str_eq(config->nft_table, t->nft_table);
		ck_assert_uint_eq(config->table, t->table);
		ck_assert_uint_eq(config->priority, t->priority);
		ck_assert_uint_eq(config->mark, t->mark);
		ck_assert_uint_eq(config->mask, t->mask);
		ck_assert_uint_eq(config->bypass_mark, t->bypass);
		ck_assert_uint_eq(config->protocol, t->protocol);
		ck_assert_uint_eq(config->errors, t->errors);
		config->destroy(config);
	}
	if (t->logged)
	{
		ck_assert_logged(t->logged);
	}
	settings->destroy(settings);
	free(text);
}
END_TEST

static bool has_range(array_t *list, uint32_t from, uint32_t to)
{
	tunnel_route_range_t *range;
	u_int i;

	for (i = 0; list && i < array_count(list); i++)
	{
		array_get(list, i, &range);
		if (range->from == from && range->to == to)
		{
			return TRUE;
		}
	}
	return FALSE;
}

START_TEST(test_sources_from_tunnel_nat)
{
	tunnel_route_config_t *config;
	settings_t *settings;
	array_t *list;

	test_log_reset();
	settings = settings_create_string(
		"charon { plugins { "
		"tunnel-nat { mappings { "
		"  a { child = claims, claims-b \n public = 192.0.2.100 \n private = 10.1.0.10 } "
		"  b { child = claims \n public = 192.0.2.16/28 \n private = 10.1.2.0/28 } "
		"  bad { child = other \n public = 192.0.2.300 \n private = 10.1.3.1 } } } "
		"tunnel-route { children { claims { sources = 10.1.5.0/24 } "
		"                          extra { sources = 10.1.6.7 } } } } }");
	config = tunnel_route_config_load(settings, "charon");
	ck_assert(config);

	/* both sides of each mapping, and the prefixes listed */
	list = config->get_sources(config, "claims");
	ck_assert_uint_eq(array_count(list), 5);
	ck_assert(has_range(list, 0x0a01000a, 0x0a01000a));
	ck_assert(has_range(list, 0xc0000264, 0xc0000264));
	ck_assert(has_range(list, 0x0a010200, 0x0a01020f));
	ck_assert(has_range(list, 0xc0000210, 0xc000021f));
	ck_assert(has_range(list, 0x0a010500, 0x0a0105ff));

	list = config->get_sources(config, "claims-b");
	ck_assert_uint_eq(array_count(list), 2);
	ck_assert(has_range(list, 0x0a01000a, 0x0a01000a));

	list = config->get_sources(config, "extra");
	ck_assert_uint_eq(array_count(list), 1);
	ck_assert(has_range(list, 0x0a010607, 0x0a010607));

	/* the children with sources, and every source */
	{
		enumerator_t *enumerator;
		tunnel_route_range_t *range;
		const char *name;
		int children = 0, sources = 0;

		enumerator = config->create_child_enumerator(config);
		while (enumerator->enumerate(enumerator, &name))
		{
			ck_assert(streq(name, "claims") || streq(name, "claims-b") ||
					  streq(name, "extra"));
			children++;
		}
		enumerator->destroy(enumerator);
		ck_assert_int_eq(children, 3);
		enumerator = config->create_source_enumerator(config);
		while (enumerator->enumerate(enumerator, &range))
		{
			ck_assert_uint_le(range->from, range->to);
			sources++;
		}
		enumerator->destroy(enumerator);
		ck_assert_int_eq(sources, 8);
	}

	/* invalid mappings give no sources, and tunnel-nat logs them, not us */
	ck_assert(config->get_sources(config, "other") == NULL);
	ck_assert(!strstr(test_log(), "192.0.2.300"));
	ck_assert(config->get_sources(config, "nothing") == NULL);
	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

START_TEST(test_sources_without_tunnel_nat)
{
	tunnel_route_config_t *config;
	settings_t *settings;

	settings = settings_create_string(
		"charon { plugins { "
		"tunnel-nat { mappings { a { child = claims \n public = 192.0.2.100 \n private = 10.1.0.10 } } } "
		"tunnel-route { tunnel_nat_sources = no } } }");
	config = tunnel_route_config_load(settings, "charon");
	ck_assert(config);
	ck_assert(config->get_sources(config, "claims") == NULL);
	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

START_TEST(test_reference_outlives_reload)
{
	tunnel_route_config_t *config, *ref;
	settings_t *settings;
	array_t *list;

	settings = settings_create_string(
		"charon { plugins { tunnel-route { children { claims { "
		"sources = 10.1.0.0/24, 10.1.2.7 } } } } }");
	config = tunnel_route_config_load(settings, "charon");
	ck_assert(config);
	/* the scanner's reference, taken before a reload releases the
	 * listener's: the settings stay readable until the scanner is done */
	ref = config->get_ref(config);
	ck_assert(ref == config);
	config->destroy(config);
	settings->destroy(settings);
	list = ref->get_sources(ref, "claims");
	ck_assert(list);
	ck_assert_uint_eq(array_count(list), 2);
	ck_assert(streq(ref->nft_table, "tunnel_route"));
	ref->destroy(ref);
}
END_TEST

/**
 * tunnel-route's mark as tunnel-nat reads it: the mask (-1 if invalid)
 */
static struct {
	const char *mark;
	int64_t mask;
} mark_mask_tests[] = {
	{ NULL, TUNNEL_ROUTE_DEFAULT_MASK },
	{ "0x10/0x30", 0x30 },
	{ "0x4", 0x4 },
	{ "0x10/0x0f", -1 },
	{ "fw", -1 },
	{ "0", -1 },
};

START_TEST(test_mark_mask)
{
	settings_t *settings;
	uint32_t mask = 0x1234;
	char text[128];

	if (mark_mask_tests[_i].mark)
	{
		snprintf(text, sizeof(text), "charon { plugins { tunnel-route { "
				 "mark = %s } } }", mark_mask_tests[_i].mark);
	}
	else
	{
		snprintf(text, sizeof(text), "charon { }");
	}
	settings = settings_create_string(text);
	if (mark_mask_tests[_i].mask < 0)
	{
		ck_assert(!tunnel_route_mark_mask(settings, "charon", &mask));
		ck_assert_uint_eq(mask, 0x1234);
	}
	else
	{
		ck_assert(tunnel_route_mark_mask(settings, "charon", &mask));
		ck_assert_uint_eq(mask, mark_mask_tests[_i].mask);
	}
	settings->destroy(settings);
}
END_TEST

/**
 * Whether the packets the plugin routes (mark 0x4000000/0xc000000, the
 * default) match an out policy with a CHILD_SA's mark_out
 */
static struct {
	uint32_t value, mask;
	bool matches;
} policy_mark_tests[] = {
	/* no mark_out: every packet */
	{ 0, 0, TRUE },
	/* the plugin's own mark, or part of it */
	{ 0x4000000, 0xc000000, TRUE },
	{ 0x4000000, 0x4000000, TRUE },
	{ 0, 0x8000000, TRUE },
	/* another value in its bits */
	{ 0x8000000, 0xc000000, FALSE },
	{ 0xc000000, 0xc000000, FALSE },
	/* bits the plugin does not set: a VTI's key, %unique marks */
	{ 0x02000000, 0xffffffff, FALSE },
	{ 0x4000001, 0xffffffff, FALSE },
	{ 1, 0x00ffffff, FALSE },
	{ 0x4000000, 0xffffffff, FALSE },
};

START_TEST(test_policy_mark)
{
	tunnel_route_config_t *config;
	settings_t *settings;

	settings = settings_create_string("charon { }");
	config = tunnel_route_config_load(settings, "charon");
	ck_assert(config);
	ck_assert_uint_eq(config->mark, 0x4000000);
	ck_assert_uint_eq(config->mask, 0xc000000);
	ck_assert(tunnel_route_config_mark_matches(config,
							policy_mark_tests[_i].value,
							policy_mark_tests[_i].mask) ==
			  policy_mark_tests[_i].matches);
	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

Suite *make_route_config_suite(void)
{
	Suite *s = suite_create("route config");
	TCase *tc;

	tc = tcase_create("settings table");
	tcase_add_loop_test(tc, test_route_config_table, 0,
						countof(route_config_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("sources");
	tcase_add_test(tc, test_sources_from_tunnel_nat);
	tcase_add_test(tc, test_sources_without_tunnel_nat);
	suite_add_tcase(s, tc);

	tc = tcase_create("references");
	tcase_add_test(tc, test_reference_outlives_reload);
	suite_add_tcase(s, tc);

	tc = tcase_create("mark mask for tunnel-nat");
	tcase_add_loop_test(tc, test_mark_mask, 0, countof(mark_mask_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("policy marks the routed packets match");
	tcase_add_loop_test(tc, test_policy_mark, 0, countof(policy_mark_tests));
	suite_add_tcase(s, tc);
	return s;
}
