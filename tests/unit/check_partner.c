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

#include <tunnel_nat_config.h>
#include <tunnel_util.h>

#include <settings/settings.h>

#define PRE "charon { plugins { tunnel-nat { "
#define POST " } } }"

/**
 * One settings text with partner-side mappings and what parsing gives
 */
typedef struct {
	/** the plugin's section */
	char *conf;
	/** mappings accepted */
	u_int mappings;
	/** settings rejected */
	u_int errors;
	/** text that must be logged, NULL for none */
	char *logged;
	/** first accepted mapping: remote, alias, their length, or NULL */
	char *remote, *alias;
	uint8_t len;
	/** whether the first accepted mapping has a P side */
	bool has_public;
} partner_test_t;

#define A "acme { child = acme-net \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 } "
#define G "globex { child = globex-net \n remote = 10.9.0.0/24 \n alias = 100.64.2.0/24 } "

static partner_test_t partner_tests[] = {
	/* valid: partner side only, and beside a P side */
	{ "mappings { " A "}", 1, 0, NULL, "10.9.0.0", "100.64.1.0", 24, FALSE },
	{ "mappings { acme { child = acme-net \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 \n public = 192.0.2.100 \n private = 10.1.0.10 } }",
	  1, 0, NULL, "10.9.0.0", "100.64.1.0", 24, TRUE },
	/* two partners with the same remote space, each with its alias */
	{ "mappings { " A G "}", 2, 0, NULL, "10.9.0.0", "100.64.1.0", 24, FALSE },
	{ "mappings { h { child = c \n remote = 10.9.0.5 \n alias = 100.64.1.5 } }",
	  1, 0, NULL, "10.9.0.5", "100.64.1.5", 32, FALSE },
	/* one half missing */
	{ "mappings { bad { child = c \n remote = 10.9.0.0/24 } }",
	  0, 1, "mappings.bad.alias is missing: a partner-side mapping needs both remote and alias (remote = '10.9.0.0/24')", NULL, NULL, 0, FALSE },
	{ "mappings { bad { child = c \n alias = 100.64.1.0/24 } }",
	  0, 1, "mappings.bad.remote is missing: a partner-side mapping needs both remote and alias (alias = '100.64.1.0/24')", NULL, NULL, 0, FALSE },
	/* invalid prefixes */
	{ "mappings { bad { child = c \n remote = 10.9.0.1/24 \n alias = 100.64.1.0/24 } }",
	  0, 1, "mappings.bad.remote = '10.9.0.1/24' is invalid: host bits are set", NULL, NULL, 0, FALSE },
	{ "mappings { bad { child = c \n remote = 10.9.0.0/24 \n alias = 100.64.1.256/24 } }",
	  0, 1, "mappings.bad.alias = '100.64.1.256/24' is invalid: not an IPv4 address", NULL, NULL, 0, FALSE },
	{ "mappings { bad { child = c \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/33 } }",
	  0, 1, "mappings.bad.alias = '100.64.1.0/33' is invalid: invalid prefix length", NULL, NULL, 0, FALSE },
	/* sizes */
	{ "mappings { bad { child = c \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/25 } }",
	  0, 1, "mappings.bad.alias = '100.64.1.0/25': must be the size of remote (/24)", NULL, NULL, 0, FALSE },
	{ "mappings { bad { child = c \n remote = 10.9.0.0/16 \n alias = 100.64.1.0/24 } }",
	  0, 1, "mappings.bad.alias = '100.64.1.0/24': must be the size of remote (/16)", NULL, NULL, 0, FALSE },
	/* exactly one child */
	{ "mappings { bad { child = a, b \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 } }",
	  0, 1, "mappings.bad.child = 'a, b': a partner-side mapping (remote, alias) applies to exactly one CHILD_SA config", NULL, NULL, 0, FALSE },
	/* a P-side key without public */
	{ "mappings { bad { child = c \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.public = '' is invalid: empty value", NULL, NULL, 0, FALSE },
	/* overlapping aliases, either order and either containing the other */
	{ "mappings { " A "b { child = b-net \n remote = 10.8.0.0/25 \n alias = 100.64.1.128/25 } }",
	  1, 1, "mappings.b.alias = '100.64.1.128/25' overlaps mappings.acme.alias", "10.9.0.0", "100.64.1.0", 24, FALSE },
	{ "mappings { b { child = b-net \n remote = 10.8.0.0/25 \n alias = 100.64.1.128/25 } " A "}",
	  1, 1, "mappings.acme.alias = '100.64.1.0/24' overlaps mappings.b.alias", "10.8.0.0", "100.64.1.128", 25, FALSE },
	/* an alias overlapping its own remote, or another mapping's addresses */
	{ "mappings { bad { child = c \n remote = 10.9.0.0/24 \n alias = 10.9.0.0/24 } }",
	  0, 1, "mappings.bad.alias = '10.9.0.0/24' overlaps its own remote ('10.9.0.0/24')", NULL, NULL, 0, FALSE },
	{ "mappings { bad { child = c \n remote = 10.9.0.0/24 \n alias = 192.0.2.0/24 \n public = 192.0.2.100 \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.alias = '192.0.2.0/24' overlaps its own public ('192.0.2.100/32')", NULL, NULL, 0, FALSE },
	{ "mappings { p { child = other \n public = 192.0.2.100 \n private = 10.1.0.10 } \n bad { child = c \n remote = 10.9.0.0/24 \n alias = 10.1.0.0/24 } }",
	  1, 1, "mappings.bad.alias = '10.1.0.0/24' overlaps mappings.p.private", NULL, NULL, 0, TRUE },
	{ "mappings { p { child = other \n public = 192.0.2.100 \n forward = 443:100.64.1.7 } \n " A "}",
	  1, 1, "mappings.acme.alias = '100.64.1.0/24' overlaps mappings.p.forward", NULL, NULL, 0, TRUE },
	{ "mappings { " A "b { child = b-net \n remote = 100.64.1.0/28 \n alias = 100.64.9.0/28 } }",
	  1, 1, "mappings.b.remote: '100.64.1.0/28' overlaps mappings.acme.alias = '100.64.1.0/24'", "10.9.0.0", "100.64.1.0", 24, FALSE },
	/* a P side taking an accepted alias */
	{ "mappings { " A "p { child = other \n public = 100.64.1.9 \n private = 10.1.0.10 } }",
	  1, 1, "mappings.p.public: '100.64.1.9/32' overlaps mappings.acme.alias = '100.64.1.0/24'", "10.9.0.0", "100.64.1.0", 24, FALSE },
	/* remotes of one child are disjoint; of different children they may not be */
	{ "mappings { " A "b { child = acme-net \n remote = 10.9.0.128/25 \n alias = 100.64.3.0/25 } }",
	  1, 1, "mappings.b.remote = '10.9.0.128/25' overlaps mappings.acme.remote = '10.9.0.0/24' for child 'acme-net'", "10.9.0.0", "100.64.1.0", 24, FALSE },
	{ "mappings { " A "b { child = acme-net \n remote = 10.9.1.0/24 \n alias = 100.64.3.0/24 } }",
	  2, 0, NULL, "10.9.0.0", "100.64.1.0", 24, FALSE },
	/* partner_zones */
	{ "partner_zones = 100-200 \n mappings { " A "}", 1, 0, NULL, "10.9.0.0", "100.64.1.0", 24, FALSE },
	{ "partner_zones = 0-10 \n mappings { " A "}",
	  0, 2, "partner_zones = '0-10' is invalid: zones are 1 to 65535, FIRST not above LAST", NULL, NULL, 0, FALSE },
	{ "partner_zones = 20-10", 0, 1, "partner_zones = '20-10' is invalid: zones are 1 to 65535", NULL, NULL, 0, FALSE },
	{ "partner_zones = 4096-65536", 0, 1, "partner_zones = '4096-65536' is invalid: zones are 1 to 65535", NULL, NULL, 0, FALSE },
	{ "partner_zones = 4096", 0, 1, "partner_zones = '4096' is invalid: expected FIRST-LAST, e.g. 4096-65535", NULL, NULL, 0, FALSE },
	{ "partner_zones = -5-10", 0, 1, "partner_zones = '-5-10' is invalid: expected FIRST-LAST", NULL, NULL, 0, FALSE },
	{ "partner_zones = 10-x", 0, 1, "partner_zones = '10-x' is invalid: expected FIRST-LAST", NULL, NULL, 0, FALSE },
	/* too small for the partner configs; a second mapping of the same child needs no zone */
	{ "partner_zones = 7-7 \n mappings { " A G "}",
	  1, 1, "partner_zones = '7-7' has room for 1 partner-side CHILD_SA configs, child 'globex-net' of mappings.globex is one more", "10.9.0.0", "100.64.1.0", 24, FALSE },
	{ "partner_zones = 7-7 \n mappings { " A "b { child = acme-net \n remote = 10.9.1.0/24 \n alias = 100.64.3.0/24 } }",
	  2, 0, NULL, "10.9.0.0", "100.64.1.0", 24, FALSE },
	/* partner_ct_mark */
	{ "partner_ct_mark = 0x80000000 \n mappings { " A "}", 1, 0, NULL, "10.9.0.0", "100.64.1.0", 24, FALSE },
	{ "partner_ct_mark = 0x03000000 \n mappings { " A "}",
	  0, 2, "partner_ct_mark = '0x03000000' is invalid: exactly one bit must be set, e.g. 0x01000000", NULL, NULL, 0, FALSE },
	{ "partner_ct_mark = 0", 0, 1, "partner_ct_mark = '0' is invalid: exactly one bit must be set", NULL, NULL, 0, FALSE },
	{ "partner_ct_mark = 0x100000000", 0, 1, "partner_ct_mark = '0x100000000' is invalid: not a 32-bit number", NULL, NULL, 0, FALSE },
	{ "partner_ct_mark = bit24", 0, 1, "partner_ct_mark = 'bit24' is invalid: not a number", NULL, NULL, 0, FALSE },
	/* an invalid partner key costs the partner-side mappings, not the others */
	{ "partner_ct_mark = 3 \n mappings { " A "p { child = other \n public = 192.0.2.100 \n private = 10.1.0.10 } }",
	  1, 2, "mappings.acme is partner-side, and partner_zones or partner_ct_mark is invalid (see above)", NULL, NULL, 0, TRUE },
};

static uint32_t addr(const char *str)
{
	uint32_t a;
	uint8_t len;

	ck_assert(tunnel_parse_prefix(str, &a, &len) == NULL);
	return a;
}

START_TEST(test_partner_table)
{
	partner_test_t *t = &partner_tests[_i];
	tunnel_nat_config_t *config;
	tunnel_nat_mapping_t *map;
	settings_t *settings;
	char *text;

	test_log_reset();
	ck_assert(asprintf(&text, "%s%s%s", PRE, t->conf, POST) > 0);
	settings = settings_create_string(text);
	ck_assert_msg(settings, "settings did not parse: %s", text);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert_msg(config != NULL, "config rejected: %s\n%s", t->conf,
				  test_log());
	ck_assert_msg(array_count(config->mappings) == t->mappings,
				  "%u mappings for %s\n%s", array_count(config->mappings),
				  t->conf, test_log());
	ck_assert_msg(config->errors == t->errors, "%u errors for %s\n%s",
				  config->errors, t->conf, test_log());
	if (t->mappings)
	{
		ck_assert(array_get(config->mappings, 0, &map));
		ck_assert(map->partner_only == !t->has_public);
		ck_assert(map->has_partner == (t->remote != NULL));
		if (t->remote)
		{
			ck_assert_uint_eq(map->remote, addr(t->remote));
			ck_assert_uint_eq(map->alias, addr(t->alias));
			ck_assert_uint_eq(map->partnerlen, t->len);
		}
	}
	if (t->logged)
	{
		ck_assert_logged(t->logged);
	}
	config->destroy(config);
	settings->destroy(settings);
	free(text);
}
END_TEST

START_TEST(test_partner_defaults)
{
	tunnel_nat_config_t *config;
	settings_t *settings;

	settings = settings_create_string(PRE "mappings { " A "}" POST);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert(config);
	ck_assert_uint_eq(config->zone_first, 4096);
	ck_assert_uint_eq(config->zone_last, 65535);
	ck_assert_uint_eq(config->partner_ct_mark, 0x01000000);
	config->destroy(config);
	settings->destroy(settings);

	settings = settings_create_string(PRE "partner_zones = 100-199 \n "
									  "partner_ct_mark = 0x10" POST);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert(config);
	ck_assert_uint_eq(config->errors, 0);
	ck_assert_uint_eq(config->zone_first, 100);
	ck_assert_uint_eq(config->zone_last, 199);
	ck_assert_uint_eq(config->partner_ct_mark, 0x10);
	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

/**
 * Count the mappings of a child
 */
static int count_child(tunnel_nat_config_t *config, const char *child)
{
	enumerator_t *enumerator;
	tunnel_nat_mapping_t *map;
	int count = 0;

	enumerator = config->create_mapping_enumerator(config, child);
	while (enumerator->enumerate(enumerator, &map))
	{
		ck_assert(!map->has_partner);
		count++;
	}
	enumerator->destroy(enumerator);
	return count;
}

START_TEST(test_partner_refused)
{
	tunnel_nat_config_t *config;
	tunnel_nat_mapping_t *map;
	settings_t *settings;

	/* the partner-side mapping is the first of child x's list, which owns
	 * the index key: the others of x stay reachable */
	settings = settings_create_string(PRE "mappings { "
		"acme { child = x \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 \n "
		"public = 192.0.2.100 \n private = 10.1.0.10 } "
		"p { child = x, y \n public = 192.0.2.101 \n private = 10.1.0.11 } "
		"q { child = x \n public = 192.0.2.102 \n private = 10.1.0.12 } "
		"g { child = z \n remote = 10.9.0.0/24 \n alias = 100.64.2.0/24 } }" POST);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert(config);
	ck_assert_uint_eq(array_count(config->mappings), 4);
	ck_assert_uint_eq(config->errors, 0);

	test_log_reset();
	ck_assert_uint_eq(config->refuse_partners(config, "no way", TRUE), 2);
	ck_assert_logged("tunnel-nat: mappings.acme.remote = '10.9.0.0/24': "
		"no way: mapping 'acme' skipped");
	ck_assert_logged("mappings.g.remote = '10.9.0.0/24': no way: mapping 'g' "
					 "skipped");
	ck_assert_uint_eq(config->errors, 2);
	ck_assert_uint_eq(array_count(config->mappings), 2);
	ck_assert(array_get(config->mappings, 0, &map));
	ck_assert_str_eq(map->name, "p");
	ck_assert_int_eq(count_child(config, "x"), 2);
	ck_assert_int_eq(count_child(config, "y"), 1);
	ck_assert_int_eq(count_child(config, "z"), 0);
	/* nothing left to refuse */
	ck_assert_uint_eq(config->refuse_partners(config, "no way", TRUE), 0);
	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

START_TEST(test_partner_no_p_side_elems)
{
	tunnel_nat_config_t *config;
	tunnel_nat_mapping_t *map;
	settings_t *settings;
	array_t *elems;

	settings = settings_create_string(PRE "mappings { " A "}" POST);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert(config);
	ck_assert(array_get(config->mappings, 0, &map));
	elems = array_create(0, 0);
	ck_assert(tunnel_nat_mapping_elems(map, addr("192.0.2.0"),
				addr("192.0.2.255"), addr("10.9.0.0"), addr("10.9.0.255"),
				"c", elems));
	ck_assert_uint_eq(array_count(elems), 0);
	array_destroy(elems);
	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

Suite *make_partner_suite(void)
{
	Suite *s = suite_create("partner-side settings");
	TCase *tc;

	tc = tcase_create("settings table");
	tcase_add_loop_test(tc, test_partner_table, 0, countof(partner_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("defaults and values");
	tcase_add_test(tc, test_partner_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused (kernel-libipsec)");
	tcase_add_test(tc, test_partner_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("no P side, no P-side elements");
	tcase_add_test(tc, test_partner_no_p_side_elems);
	suite_add_tcase(s, tc);
	return s;
}
