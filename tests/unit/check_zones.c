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

#include <stdio.h>
#include <stdarg.h>

#include <settings/settings.h>
#include <tunnel_nat_zones.h>

#define ACME "acme { child = acme-net \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 } "
#define ACME2 "acme2 { child = acme-net \n remote = 10.8.0.0/24 \n alias = 100.64.3.0/24 } "
#define GLOBEX "globex { child = globex-net \n remote = 10.9.0.0/24 \n alias = 100.64.2.0/24 } "
#define INITECH "initech { child = initech-net \n remote = 10.9.0.0/24 \n alias = 100.64.4.0/24 } "
#define WEB "web { child = web-net \n public = 192.0.2.100 \n private = 10.1.0.10 } "

static tunnel_nat_config_t *load(const char *zones, const char *mappings)
{
	tunnel_nat_config_t *config;
	settings_t *settings;
	char *text;

	ck_assert(asprintf(&text, "charon { plugins { tunnel-nat { partner_zones "
					   "= %s \n mappings { %s } } } }", zones, mappings) > 0);
	settings = settings_create_string(text);
	config = tunnel_nat_config_load(settings, "charon", FALSE);
	ck_assert(config);
	ck_assert_uint_eq(config->errors, 0);
	settings->destroy(settings);
	free(text);
	return config;
}

/**
 * Whether the retired zones of an assignment are the count given (in any
 * order)
 */
static bool retired_are(tunnel_nat_zones_t *zones, u_int count, ...)
{
	array_t *retired;
	uint16_t zone, z;
	va_list args;
	u_int i, j;
	bool found;

	retired = zones->get_retired(zones);
	if (array_count(retired) != count)
	{
		return FALSE;
	}
	va_start(args, count);
	for (i = 0; i < count; i++)
	{
		zone = va_arg(args, u_int);
		found = FALSE;
		for (j = 0; j < array_count(retired); j++)
		{
			array_get(retired, j, &z);
			found = found || z == zone;
		}
		if (!found)
		{
			va_end(args);
			return FALSE;
		}
	}
	va_end(args);
	return TRUE;
}

START_TEST(test_lowest_free)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones;

	/* one zone per partner-side CHILD_SA config, in the order of their
	 * first mapping; none for a P side only config */
	config = load("10-12", WEB ACME GLOBEX ACME2);
	test_log_reset();
	zones = tunnel_nat_zones_assign(NULL, config, TRUE);
	ck_assert(zones);
	ck_assert_uint_eq(zones->get_count(zones), 2);
	ck_assert_uint_eq(zones->get(zones, "acme-net"), 10);
	ck_assert_uint_eq(zones->get(zones, "globex-net"), 11);
	ck_assert_uint_eq(zones->get(zones, "web-net"), 0);
	ck_assert_uint_eq(zones->get(zones, "nobody"), 0);
	ck_assert_logged("tunnel-nat: partner acme-net: conntrack zone 10");
	ck_assert_logged("tunnel-nat: partner globex-net: conntrack zone 11");
	zones->destroy(zones);
	config->destroy(config);
}
END_TEST

START_TEST(test_stable_across_reloads)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones, *next;

	config = load("10-12", ACME GLOBEX);
	zones = tunnel_nat_zones_assign(NULL, config, FALSE);
	config->destroy(config);

	/* acme-net removed, initech-net new, globex-net listed first: globex
	 * keeps its zone, initech gets the lowest free one, not acme's: that
	 * one is retired until its conntrack entries are deleted */
	config = load("10-12", GLOBEX INITECH);
	test_log_reset();
	next = tunnel_nat_zones_assign(zones, config, TRUE);
	ck_assert(next);
	ck_assert_uint_eq(next->get(next, "globex-net"), 11);
	ck_assert_uint_eq(next->get(next, "initech-net"), 12);
	ck_assert_uint_eq(next->get(next, "acme-net"), 0);
	ck_assert_uint_eq(next->get_count(next), 2);
	ck_assert(retired_are(next, 1, 10));
	/* only the new one is logged */
	ck_assert_logged("partner initech-net: conntrack zone 12");
	ck_assert(!strstr(test_log(), "globex-net"));
	/* the previous assignment is unchanged */
	ck_assert_uint_eq(zones->get(zones, "acme-net"), 10);
	ck_assert(retired_are(zones, 0));
	zones->destroy(zones);
	zones = next;
	config->destroy(config);

	/* acme's entries deleted: acme-net back gets the zone free again */
	zones->release(zones);
	ck_assert(retired_are(zones, 0));
	config = load("10-12", ACME GLOBEX INITECH);
	next = tunnel_nat_zones_assign(zones, config, FALSE);
	ck_assert_uint_eq(next->get(next, "acme-net"), 10);
	ck_assert_uint_eq(next->get(next, "globex-net"), 11);
	ck_assert_uint_eq(next->get(next, "initech-net"), 12);
	ck_assert(retired_are(next, 0));
	next->destroy(next);
	zones->destroy(zones);
	config->destroy(config);
}
END_TEST

START_TEST(test_range_changed)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones, *next;

	config = load("10-12", ACME GLOBEX);
	zones = tunnel_nat_zones_assign(NULL, config, FALSE);
	config->destroy(config);

	/* a zone outside the new range moves, one inside stays */
	config = load("11-20", ACME GLOBEX);
	next = tunnel_nat_zones_assign(zones, config, FALSE);
	ck_assert_uint_eq(next->get(next, "globex-net"), 11);
	ck_assert_uint_eq(next->get(next, "acme-net"), 12);
	ck_assert(retired_are(next, 1, 10));
	next->destroy(next);
	zones->destroy(zones);
	config->destroy(config);
}
END_TEST

START_TEST(test_retired_held)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones, *next;

	config = load("10-11", ACME GLOBEX);
	zones = tunnel_nat_zones_assign(NULL, config, FALSE);
	config->destroy(config);

	/* acme-net leaves: its zone 10 is held back, across assignments, so
	 * initech-net finds none while it is not released */
	config = load("10-11", GLOBEX);
	next = tunnel_nat_zones_assign(zones, config, FALSE);
	config->destroy(config);
	zones->destroy(zones);
	zones = next;
	config = load("10-11", GLOBEX INITECH);
	next = tunnel_nat_zones_assign(zones, config, FALSE);
	ck_assert(!next);
	ck_assert(retired_are(zones, 1, 10));

	/* released: initech-net gets it */
	zones->release(zones);
	next = tunnel_nat_zones_assign(zones, config, FALSE);
	ck_assert(next);
	ck_assert_uint_eq(next->get(next, "initech-net"), 10);
	ck_assert(retired_are(next, 0));
	next->destroy(next);
	zones->destroy(zones);
	config->destroy(config);
}
END_TEST

START_TEST(test_exhausted)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones;

	/* the parser skips the mappings of configs beyond the room of
	 * partner_zones, so this takes a range narrowed after loading */
	config = load("10-11", ACME GLOBEX);
	config->zone_last = 10;
	test_log_reset();
	ck_assert(!tunnel_nat_zones_assign(NULL, config, TRUE));
	ck_assert_logged("tunnel-nat: partner_zones = '10-10': no conntrack zone "
					 "left for CHILD_SA config 'globex-net' (mappings.globex): "
					 "1 zones for 2 partner-side CHILD_SA configs");

	/* prepared for use: all partner-side mappings refused, counted */
	test_log_reset();
	zones = tunnel_nat_zones_prepare(NULL, config, NULL, TRUE);
	ck_assert(zones);
	ck_assert_uint_eq(zones->get_count(zones), 0);
	ck_assert_uint_eq(config->errors, 2);
	ck_assert_uint_eq(array_count(config->mappings), 0);
	ck_assert_logged("tunnel-nat: mappings.acme.remote = '10.9.0.0/24': no "
					 "conntrack zone for its CHILD_SA config in partner_zones");
	ck_assert_logged("mappings.globex.remote = '10.9.0.0/24'");
	zones->destroy(zones);
	config->destroy(config);
}
END_TEST

START_TEST(test_prepare)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones;

	/* charon can carry them: nothing refused */
	config = load("10-12", WEB ACME);
	zones = tunnel_nat_zones_prepare(NULL, config, NULL, FALSE);
	ck_assert_uint_eq(zones->get(zones, "acme-net"), 10);
	ck_assert_uint_eq(config->errors, 0);
	zones->destroy(zones);
	config->destroy(config);

	/* it cannot: refused naming why, the P side stays */
	config = load("10-12", WEB ACME);
	test_log_reset();
	zones = tunnel_nat_zones_prepare(NULL, config, "no XFRM", TRUE);
	ck_assert_uint_eq(zones->get_count(zones), 0);
	ck_assert_uint_eq(config->errors, 1);
	ck_assert_uint_eq(array_count(config->mappings), 1);
	ck_assert_logged("tunnel-nat: mappings.acme.remote = '10.9.0.0/24': no "
					 "XFRM: mapping 'acme' skipped");
	zones->destroy(zones);
	config->destroy(config);
}
END_TEST

/**
 * Whether the owner at index i is the /24 alias block at from, with zone
 */
static bool owner_is(array_t *owners, u_int i, uint32_t from, uint16_t zone)
{
	tunnel_nat_ct_owner_t owner;

	return array_get(owners, i, &owner) && owner.from == from &&
		   owner.to == (from | 0xff) && owner.zone == zone;
}

START_TEST(test_owners)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones;
	array_t *owners;
	uint16_t acme;

	/* the alias blocks of the partner-side mappings, by first address, each
	 * with its config's zone (acme's two blocks share acme-net's); none of
	 * the P side */
	config = load("10-12", WEB INITECH ACME2 GLOBEX ACME);
	zones = tunnel_nat_zones_assign(NULL, config, FALSE);
	owners = tunnel_nat_zones_owners(zones, config);
	acme = zones->get(zones, "acme-net");
	ck_assert_uint_eq(zones->get(zones, "initech-net"), 10);
	ck_assert_uint_eq(array_count(owners), 4);
	ck_assert(owner_is(owners, 0, 0x64400100, acme));
	ck_assert(owner_is(owners, 1, 0x64400200, zones->get(zones, "globex-net")));
	ck_assert(owner_is(owners, 2, 0x64400300, acme));
	ck_assert(owner_is(owners, 3, 0x64400400, 10));
	/* what the conntrack walk decides with them: acme's flow in acme's
	 * zone stays, the same flow in initech's zone goes */
	ck_assert(!tunnel_nat_ct_foreign(owners, 10, 12, acme, 0xc0000264,
									 0x64400105));
	ck_assert(tunnel_nat_ct_foreign(owners, 10, 12, 10, 0xc0000264,
									0x64400105));
	array_destroy(owners);
	zones->destroy(zones);
	config->destroy(config);
}
END_TEST

Suite *make_zones_suite(void)
{
	Suite *s = suite_create("partner zones");
	TCase *tc;

	tc = tcase_create("allocation");
	tcase_add_test(tc, test_lowest_free);
	tcase_add_test(tc, test_stable_across_reloads);
	tcase_add_test(tc, test_range_changed);
	tcase_add_test(tc, test_retired_held);
	tcase_add_test(tc, test_exhausted);
	tcase_add_test(tc, test_prepare);
	tcase_add_test(tc, test_owners);
	suite_add_tcase(s, tc);
	return s;
}
