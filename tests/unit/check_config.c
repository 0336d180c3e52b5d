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

#include <netinet/in.h>

#define PRE "charon { plugins { tunnel-nat { "
#define POST " } } }"

/**
 * One settings text and what parsing it must give
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
	/** first accepted mapping: public, private, prefix length */
	char *pub, *priv;
	uint8_t len;
	/** table name, NULL if the config as a whole is rejected */
	char *table;
} config_test_t;

static config_test_t config_tests[] = {
	/* valid */
	{ "mappings { a { child = claims \n public = 192.0.2.10 \n private = 10.1.0.10 } }",
	  1, 0, NULL, "192.0.2.10", "10.1.0.10", 32, "tunnel_nat" },
	{ "mappings { a { child = claims \n public = 192.0.2.16/28 \n private = 10.1.2.0/28 } }",
	  1, 0, NULL, "192.0.2.16", "10.1.2.0", 28, "tunnel_nat" },
	{ "table = my_nat \n mappings { a { child = x, y \n public = 192.0.2.10/32 \n private = 10.1.0.10/32 } }",
	  1, 0, NULL, "192.0.2.10", "10.1.0.10", 32, "my_nat" },
	{ "mappings { }", 0, 0, NULL, NULL, NULL, 0, "tunnel_nat" },
	{ "load = yes", 0, 0, NULL, NULL, NULL, 0, "tunnel_nat" },
	/* a mapping inheriting another's keys through a section reference */
	{ "mappings { base { child = claims \n public = 192.0.2.64/27 \n private = 10.9.0.0/27 } \n copy : charon.plugins.tunnel-nat.mappings.base { child = other } }",
	  2, 0, NULL, "192.0.2.64", "10.9.0.0", 27, "tunnel_nat" },
	{ "mappings { base { child = claims \n public = 192.0.2.64/27 \n private = 10.9.0.0/27 } \n copy : charon.plugins.tunnel-nat.mappings.base { private = 10.9.1.0/27 } }",
	  1, 1, "mappings.copy.public overlaps mappings.base.public for child 'claims'", "192.0.2.64", "10.9.0.0", 27, "tunnel_nat" },
	/* invalid addresses */
	{ "mappings { bad { child = claims \n public = 192.0.2.300 \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.public = '192.0.2.300' is invalid: not an IPv4 address", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n public = 192.0.2.10 \n private = ten } }",
	  0, 1, "mappings.bad.private = 'ten' is invalid: not an IPv4 address", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n public = 192.0.2.10/33 \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.public = '192.0.2.10/33' is invalid: invalid prefix length", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n public = 192.0.2.10/ \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.public = '192.0.2.10/' is invalid: invalid prefix length", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n public = 192.0.2.10/-1 \n private = 10.1.0.10 } }",
	  0, 1, "invalid prefix length", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n public = 192.0.2.17/28 \n private = 10.1.2.0/28 } }",
	  0, 1, "mappings.bad.public = '192.0.2.17/28' is invalid: host bits are set", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n public = 2001:db8::1 \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.public = '2001:db8::1' is invalid: IPv6 is not supported", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.public = '' is invalid: empty value", NULL, NULL, 0, "tunnel_nat" },
	/* size mismatch */
	{ "mappings { bad { child = claims \n public = 192.0.2.16/28 \n private = 10.1.2.0/29 } }",
	  0, 1, "mappings.bad: public = '192.0.2.16/28' (/28) and private = '10.1.2.0/29' (/29) differ in size", NULL, NULL, 0, "tunnel_nat" },
	/* unknown keys and sections */
	{ "mappings { bad { child = claims \n public = 192.0.2.10 \n private = 10.1.0.10 \n prviate = 10.1.0.11 } }",
	  0, 1, "unknown key mappings.bad.prviate = '10.1.0.11'", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = claims \n public = 192.0.2.10 \n private = 10.1.0.10 \n sub { } } }",
	  0, 1, "unknown section mappings.bad.sub", NULL, NULL, 0, "tunnel_nat" },
	{ "tabel = foo", 0, 1, "unknown key tabel = 'foo' ignored", NULL, NULL, 0, "tunnel_nat" },
	/* the plugin's other keys are known */
	{ "conntrack = no \n ha_takeover_rekey = no \n latency_log = /tmp/x", 0, 0, NULL, NULL, NULL, 0, "tunnel_nat" },
	{ "mapings { }", 0, 1, "unknown section mapings ignored", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { stray = 1 }", 0, 1, "mappings.stray = '1' is not a mapping section", NULL, NULL, 0, "tunnel_nat" },
	/* missing child */
	{ "mappings { bad { public = 192.0.2.10 \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.child = '' names no CHILD_SA config", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { bad { child = , \n public = 192.0.2.10 \n private = 10.1.0.10 } }",
	  0, 1, "mappings.bad.child = ',' names no CHILD_SA config", NULL, NULL, 0, "tunnel_nat" },
	/* an invalid mapping beside a valid one: the valid one is kept */
	{ "mappings { bad { child = claims \n public = 192.0.2.300 \n private = 10.1.0.11 } \n good { child = claims \n public = 192.0.2.10 \n private = 10.1.0.10 } }",
	  1, 1, "mappings.bad.public = '192.0.2.300'", "192.0.2.10", "10.1.0.10", 32, "tunnel_nat" },
	/* conflicts within a child */
	{ "mappings { a { child = claims \n public = 192.0.2.16/28 \n private = 10.1.2.0/28 } \n b { child = claims \n public = 192.0.2.20 \n private = 10.1.3.1 } }",
	  1, 1, "mappings.b.public overlaps mappings.a.public for child 'claims'", "192.0.2.16", "10.1.2.0", 28, "tunnel_nat" },
	{ "mappings { a { child = claims \n public = 192.0.2.10 \n private = 10.1.0.10 } \n b { child = claims \n public = 192.0.2.11 \n private = 10.1.0.10 } }",
	  1, 1, "mappings.b.private overlaps mappings.a.private for child 'claims'", "192.0.2.10", "10.1.0.10", 32, "tunnel_nat" },
	/* the same public address for different children is fine */
	{ "mappings { a { child = claims \n public = 192.0.2.10 \n private = 10.1.0.10 } \n b { child = other \n public = 192.0.2.10 \n private = 10.1.0.20 } }",
	  2, 0, NULL, "192.0.2.10", "10.1.0.10", 32, "tunnel_nat" },
	/* port forwards and many-to-one */
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 443/tcp:10.1.0.10:8443, 22:10.1.0.11, 53/udp:10.1.0.12 } }",
	  1, 0, NULL, "192.0.2.10", NULL, 32, "tunnel_nat" },
	{ "mappings { o { child = claims \n public = 192.0.2.10 \n private = 10.1.0.0/24 \n pat = yes } }",
	  1, 0, NULL, "192.0.2.10", "10.1.0.0", 32, "tunnel_nat" },
	{ "mappings { o { child = claims \n public = 192.0.2.10 \n private = 10.1.0.0/16 \n pat = yes \n forward = 443:10.1.0.10:8443 } }",
	  1, 0, NULL, "192.0.2.10", "10.1.0.0", 32, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 0/tcp:10.1.0.10 } }",
	  0, 1, "mappings.w.forward = '0/tcp:10.1.0.10': '0/tcp:10.1.0.10' is invalid: the public port is not a number from 1 to 65535", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 65536:10.1.0.10 } }",
	  0, 1, "'65536:10.1.0.10' is invalid: the public port is not a number from 1 to 65535", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 443/sctp:10.1.0.10 } }",
	  0, 1, "'443/sctp:10.1.0.10' is invalid: the protocol is tcp or udp", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 443:10.1.0.10:70000 } }",
	  0, 1, "'443:10.1.0.10:70000' is invalid: the host's port is not a number from 1 to 65535", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 443:10.1.0.0/24 } }",
	  0, 1, "'443:10.1.0.0/24' is invalid: the host is not an IPv4 address", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 443 } }",
	  0, 1, "mappings.w.forward = '443': '443' is invalid: expected PORT[/PROTO]:HOST[:PORT]", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 443:10.1.0.10, 443/tcp:10.1.0.11 } }",
	  0, 1, "'443/tcp:10.1.0.11' is invalid: the port is forwarded twice", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = 443:10.1.0.10, 443/udp:10.1.0.11 } }",
	  1, 0, NULL, "192.0.2.10", NULL, 32, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n forward = , } }",
	  0, 1, "mappings.w.forward = ',' names no port", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.10 \n private = 10.1.0.10 \n forward = 443:10.1.0.10 } }",
	  0, 1, "mappings.w.forward = '443:10.1.0.10' needs pat = yes or no private", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { w { child = claims \n public = 192.0.2.16/28 \n forward = 443:10.1.0.10 } }",
	  0, 1, "mappings.w.public = '192.0.2.16/28' is invalid with forward and no private", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { o { child = claims \n public = 192.0.2.16/28 \n private = 10.1.0.0/24 \n pat = yes } }",
	  0, 1, "mappings.o.public = '192.0.2.16/28' is invalid with pat = yes", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { o { child = claims \n public = 192.0.2.10 \n private = 10.1.0.0/24 \n pat = maybe } }",
	  0, 1, "mappings.o.pat = 'maybe' is invalid: use yes or no", NULL, NULL, 0, "tunnel_nat" },
	{ "mappings { o { child = claims \n public = 192.0.2.10 \n pat = yes } }",
	  0, 1, "mappings.o.private = '' is invalid", NULL, NULL, 0, "tunnel_nat" },
	/* many-to-one prefixes overlap as private sides do */
	{ "mappings { a { child = claims \n public = 192.0.2.10 \n private = 10.1.0.0/16 \n pat = yes } \n b { child = claims \n public = 192.0.2.11 \n private = 10.1.5.0/24 \n pat = yes } }",
	  1, 1, "mappings.b.private overlaps mappings.a.private for child 'claims'", "192.0.2.10", "10.1.0.0", 32, "tunnel_nat" },
	{ "mappings { a { child = claims \n public = 192.0.2.10 \n private = 10.1.5.0/24 \n pat = yes } \n b { child = claims \n public = 192.0.2.11 \n private = 10.1.0.0/16 \n pat = yes } }",
	  1, 1, "mappings.b.private overlaps mappings.a.private for child 'claims'", "192.0.2.10", "10.1.5.0", 32, "tunnel_nat" },
	/* a port forward's P overlaps a 1:1 mapping's */
	{ "mappings { a { child = claims \n public = 192.0.2.0/24 \n private = 10.1.0.0/24 } \n b { child = claims \n public = 192.0.2.10 \n forward = 22:10.2.0.1 } }",
	  1, 1, "mappings.b.public overlaps mappings.a.public for child 'claims'", "192.0.2.0", "10.1.0.0", 24, "tunnel_nat" },
	/* invalid global settings reject the config */
	{ "table = 1bad", 0, 0, "table = '1bad' is invalid", NULL, NULL, 0, NULL },
	{ "table = bad-name", 0, 0, "table = 'bad-name' is invalid", NULL, NULL, 0, NULL },
	{ "table = \"\"", 0, 0, "table = '' is invalid", NULL, NULL, 0, NULL },
	{ "inbound_interface = a/b", 0, 0, "inbound_interface = 'a/b' is not a valid interface name", NULL, NULL, 0, NULL },
	{ "inbound_interface = averylonginterfacename", 0, 0, "is not a valid interface name", NULL, NULL, 0, NULL },
};

static uint32_t addr(const char *str)
{
	uint32_t a;
	uint8_t len;

	ck_assert(tunnel_parse_prefix(str, &a, &len) == NULL);
	return a;
}

START_TEST(test_config_table)
{
	config_test_t *t = &config_tests[_i];
	tunnel_nat_config_t *config;
	tunnel_nat_mapping_t *map;
	settings_t *settings;
	char *text;

	test_log_reset();
	ck_assert(asprintf(&text, "%s%s%s", PRE, t->conf, POST) > 0);
	settings = settings_create_string(text);
	ck_assert_msg(settings, "settings did not parse: %s", text);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	if (!t->table)
	{
		ck_assert_msg(config == NULL, "config accepted: %s", t->conf);
	}
	else
	{
		ck_assert_msg(config != NULL, "config rejected: %s\n%s", t->conf,
					  test_log());
		ck_assert_str_eq(config->table, t->table);
		ck_assert_uint_eq(array_count(config->mappings), t->mappings);
		ck_assert_uint_eq(config->errors, t->errors);
		if (t->pub)
		{
			ck_assert(array_get(config->mappings, 0, &map));
			ck_assert_uint_eq(map->pub, addr(t->pub));
			ck_assert(map->has_private == (t->priv != NULL));
			if (t->priv)
			{
				ck_assert_uint_eq(map->priv, addr(t->priv));
			}
			ck_assert_uint_eq(map->prefixlen, t->len);
		}
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

/**
 * The counters key: its value, whether counting, errors, what is logged
 */
static struct {
	char *conf;
	bool counters;
	u_int errors;
	char *logged;
} counters_tests[] = {
	{ "", TRUE, 0, NULL },
	{ "counters = yes", TRUE, 0, NULL },
	{ "counters = no", FALSE, 0, NULL },
	{ "counters = false", FALSE, 0, NULL },
	{ "counters = 0", FALSE, 0, NULL },
	{ "counters = maybe", TRUE, 1,
	  "tunnel-nat: counters = 'maybe' is invalid: use yes or no; counting (yes)" },
	{ "counters = \"\"", TRUE, 1, "counters = '' is invalid: use yes or no" },
};

START_TEST(test_config_counters)
{
	tunnel_nat_config_t *config;
	settings_t *settings;
	char *text;

	test_log_reset();
	ck_assert(asprintf(&text, "%s%s%s", PRE, counters_tests[_i].conf, POST) > 0);
	settings = settings_create_string(text);
	ck_assert(settings);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert(config);
	ck_assert(config->counters == counters_tests[_i].counters);
	ck_assert_uint_eq(config->errors, counters_tests[_i].errors);
	if (counters_tests[_i].logged)
	{
		ck_assert_logged(counters_tests[_i].logged);
	}
	config->destroy(config);
	settings->destroy(settings);
	free(text);
}
END_TEST

START_TEST(test_config_by_child)
{
	tunnel_nat_config_t *config;
	tunnel_nat_mapping_t *map;
	enumerator_t *enumerator;
	settings_t *settings;
	int count = 0;

	settings = settings_create_string(PRE
		"mappings { a { child = x, y, x \n public = 192.0.2.10 \n private = 10.1.0.10 } "
		"b { child = y \n public = 192.0.2.11 \n private = 10.1.0.11 } }" POST);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert(config);

	enumerator = config->create_mapping_enumerator(config, "x");
	while (enumerator->enumerate(enumerator, &map))
	{
		ck_assert_str_eq(map->name, "a");
		count++;
	}
	enumerator->destroy(enumerator);
	/* listed twice, indexed once */
	ck_assert_int_eq(count, 1);

	count = 0;
	enumerator = config->create_mapping_enumerator(config, "y");
	while (enumerator->enumerate(enumerator, &map))
	{
		count++;
	}
	enumerator->destroy(enumerator);
	ck_assert_int_eq(count, 2);

	enumerator = config->create_mapping_enumerator(config, "z");
	ck_assert(!enumerator->enumerate(enumerator, &map));
	enumerator->destroy(enumerator);

	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

START_TEST(test_config_forward_pat_elems)
{
	tunnel_nat_config_t *config;
	tunnel_nat_mapping_t *map;
	tunnel_nat_elem_t *e;
	settings_t *settings;
	array_t *elems;

	settings = settings_create_string(PRE
		"mappings { o { child = x \n public = 192.0.2.10 \n "
		"private = 10.1.0.0/24 \n pat = yes \n "
		"forward = 443/tcp:10.1.0.10:8443, 53/udp:10.1.0.11 } }" POST);
	config = tunnel_nat_config_load(settings, "charon", TRUE);
	ck_assert(config);
	ck_assert(array_get(config->mappings, 0, &map));
	ck_assert(map->pat);
	ck_assert_uint_eq(map->privlen, 24);
	ck_assert_uint_eq(array_count(map->forwards), 2);

	elems = array_create(0, 0);
	/* a local selector without P: nothing */
	ck_assert(!tunnel_nat_mapping_elems(map, addr("192.0.2.11"),
				addr("192.0.2.11"), addr("198.51.100.0"), addr("198.51.100.255"),
				"c", elems));
	ck_assert_uint_eq(array_count(elems), 0);
	ck_assert(tunnel_nat_mapping_elems(map, addr("192.0.2.0"), addr("192.0.2.255"),
				addr("198.51.100.0"), addr("198.51.100.255"), "c", elems));
	ck_assert_uint_eq(array_count(elems), 4);
	/* the LAN leaves as P */
	array_get(elems, 0, &e);
	ck_assert_int_eq(e->map, TUNNEL_NAT_PAT);
	ck_assert_uint_eq(e->src_from, addr("10.1.0.0"));
	ck_assert_uint_eq(e->src_to, addr("10.1.0.255"));
	ck_assert_uint_eq(e->dst_from, addr("198.51.100.0"));
	ck_assert_uint_eq(e->dst_to, addr("198.51.100.255"));
	ck_assert_uint_eq(e->nat_from, addr("192.0.2.10"));
	ck_assert_uint_eq(e->nat_to, addr("192.0.2.10"));
	/* P:443 to 10.1.0.10:8443, P:53/udp to 10.1.0.11:53 */
	array_get(elems, 1, &e);
	ck_assert_int_eq(e->map, TUNNEL_NAT_FWD);
	ck_assert_uint_eq(e->src_from, addr("198.51.100.0"));
	ck_assert_uint_eq(e->dst_from, addr("192.0.2.10"));
	ck_assert_uint_eq(e->dst_to, addr("192.0.2.10"));
	ck_assert_uint_eq(e->proto, IPPROTO_TCP);
	ck_assert_uint_eq(e->port, 443);
	ck_assert_uint_eq(e->nat_from, addr("10.1.0.10"));
	ck_assert_uint_eq(e->nat_port, 8443);
	array_get(elems, 2, &e);
	ck_assert_int_eq(e->map, TUNNEL_NAT_FWD);
	ck_assert_uint_eq(e->proto, IPPROTO_UDP);
	ck_assert_uint_eq(e->port, 53);
	ck_assert_uint_eq(e->nat_from, addr("10.1.0.11"));
	ck_assert_uint_eq(e->nat_port, 53);
	/* the rest of P is closed */
	array_get(elems, 3, &e);
	ck_assert_int_eq(e->map, TUNNEL_NAT_CLOSED);
	ck_assert_uint_eq(e->src_from, addr("198.51.100.0"));
	ck_assert_uint_eq(e->src_to, addr("198.51.100.255"));
	ck_assert_uint_eq(e->dst_from, addr("192.0.2.10"));
	ck_assert_uint_eq(e->dst_to, addr("192.0.2.10"));
	array_destroy_function(elems, (void*)free, NULL);
	config->destroy(config);
	settings->destroy(settings);
}
END_TEST

Suite *make_config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("settings table");
	tcase_add_loop_test(tc, test_config_table, 0, countof(config_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("port forwards and many-to-one: elements");
	tcase_add_test(tc, test_config_forward_pat_elems);
	tcase_add_loop_test(tc, test_config_counters, 0, countof(counters_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("mappings by child");
	tcase_add_test(tc, test_config_by_child);
	suite_add_tcase(s, tc);
	return s;
}
