/*
 * libFuzzer harness: arbitrary settings text through the plugins' parsing
 * and validation (tunnel-nat's mappings, tunnel-route's options and
 * sources), as charon would read it from strongswan.conf.
 *
 * The input is parsed by libstrongswan's settings parser; whatever it
 * accepts is handed to tunnel_nat_config_load() and
 * tunnel_route_config_load(), with logging on (the error messages quote
 * the offending values, so their formatting is exercised too). A mapping's
 * elements are built for a few selector ranges, as an event would.
 *
 * Copyright (C) 2026 The tunnel-nat authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <library.h>
#include <utils/debug.h>
#include <settings/settings.h>

#include <tunnel_nat_config.h>
#include <tunnel_route_config.h>

#include <stdio.h>

static int level, verbose;

/* log into a buffer: formats every message, prints nothing */
static void dbg_buf(debug_t group, level_t lvl, char *fmt, ...)
{
	char buf[1024];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	level += buf[0] != 0;
	if (verbose)
	{	/* FUZZ_VERBOSE=1: show what a replayed input makes the parsers say */
		fprintf(stderr, "%s\n", buf);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dbg = dbg_buf;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (!library_init(NULL, "fuzz"))
	{
		return 1;
	}
	return 0;
}

static void use_mappings(tunnel_nat_config_t *config)
{
	tunnel_nat_mapping_t *map;
	array_t *elems;
	u_int i;

	for (i = 0; i < array_count(config->mappings); i++)
	{
		array_get(config->mappings, i, &map);
		elems = array_create(0, 0);
		tunnel_nat_mapping_elems(map, 0, 0xffffffff, 0xc6336400, 0xc63364ff,
								 "fuzz", elems);
		tunnel_nat_mapping_elems(map, map->pub, map->pub, 0, 0, "fuzz", elems);
		array_destroy_function(elems, (void*)free, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tunnel_nat_config_t *nat;
	tunnel_route_config_t *route;
	settings_t *settings;
	enumerator_t *enumerator;
	const char *name;
	char *text;

	text = strndup((const char*)data, size);
	settings = settings_create_string(text);
	free(text);
	if (!settings)
	{
		return 0;
	}
	nat = tunnel_nat_config_load(settings, "charon", TRUE);
	if (nat)
	{
		use_mappings(nat);
		nat->destroy(nat);
	}
	route = tunnel_route_config_load(settings, "charon");
	if (route)
	{
		enumerator = route->create_child_enumerator(route);
		while (enumerator->enumerate(enumerator, &name))
		{
			route->get_sources(route, name);
		}
		enumerator->destroy(enumerator);
		route->destroy(route);
	}
	settings->destroy(settings);
	return 0;
}
