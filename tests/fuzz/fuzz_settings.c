/*
 * libFuzzer harness: arbitrary settings text through the plugins' parsing
 * and validation (tunnel-nat's mappings, tunnel-route's options and
 * sources), as charon would read it from strongswan.conf.
 *
 * The input is parsed by libstrongswan's settings parser; whatever it
 * accepts is handed to tunnel_nat_config_load() and
 * tunnel_route_config_load(), with logging on (the error messages quote
 * the offending values, so their formatting is exercised too). A mapping's
 * elements are built for a few selector ranges, as an event would, and
 * tunnel-route's sources are walked per child and as a whole.
 *
 * Inputs with an include statement or a section reference are skipped
 * (see skip_input()). With FUZZ_VERBOSE set, the parsers' messages
 * and a summary of what was accepted are printed to stderr; run.sh checks
 * the "# expect:" lines of the regression cases against that output.
 *
 * Copyright (C) 2026 The tunnel-nat authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <library.h>
#include <utils/debug.h>
#include <settings/settings.h>

#include <tunnel_util.h>
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
	if (verbose && lvl <= 2)
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

/**
 * Whether the text has a section reference ("name : other {"), by a scan
 * that follows libstrongswan's lexer: a ':' outside a value, a quoted string
 * and a comment. When in doubt it says yes.
 */
static bool has_reference(const char *text)
{
	enum { NORMAL, VALUE, STRING, COMMENT } state = NORMAL;
	const char *pos;

	for (pos = text; *pos; pos++)
	{
		switch (state)
		{
			case NORMAL:
				if (*pos == ':')
				{
					return TRUE;
				}
				state = *pos == '#' ? COMMENT : *pos == '=' ? VALUE : NORMAL;
				break;
			case VALUE:
				if (*pos == '\n' || *pos == '}')
				{
					state = NORMAL;
				}
				else if (*pos == '#')
				{
					state = COMMENT;
				}
				else if (*pos == '"')
				{
					state = STRING;
				}
				break;
			case STRING:
				if (*pos == '\\' && pos[1])
				{
					pos++;
				}
				else if (*pos == '"')
				{
					state = VALUE;
				}
				break;
			case COMMENT:
				if (*pos == '\n')
				{
					state = NORMAL;
				}
				break;
		}
	}
	return FALSE;
}

/**
 * Inputs that would test libstrongswan's settings parser rather than the
 * plugins, which only see what a lookup returns:
 * - an include statement reads files (the fuzzer could name /dev/zero);
 * - a section reference: libstrongswan (5.9.8 to 6.1.0) recurses without end
 *   resolving one that leads back through its own section ("charon :
 *   charon.x {" crashes any lookup under charon, charon's and swanctl's too),
 *   and 5.9.8 uses a reference's name as a format string ('%' crashes it).
 * How the plugins read mappings inherited through a reference is in the
 * Check suite (check_config.c).
 */
static bool skip_input(const char *text)
{
	return strstr(text, "include") || has_reference(text);
}

/**
 * Check that a mapping is found through each of its children, abort if not
 */
static void check_index(tunnel_nat_config_t *config, tunnel_nat_mapping_t *map)
{
	tunnel_nat_mapping_t *other;
	enumerator_t *enumerator;
	char *child;
	bool found;
	u_int i;

	for (i = 0; i < array_count(map->children); i++)
	{
		array_get(map->children, i, &child);
		found = FALSE;
		enumerator = config->create_mapping_enumerator(config, child);
		while (enumerator->enumerate(enumerator, &other))
		{
			found = found || other == map;
		}
		enumerator->destroy(enumerator);
		if (!found)
		{
			fprintf(stderr, "fuzz: mapping %s not found for child %s\n",
					map->name, child);
			abort();
		}
	}
}

static void use_mappings(tunnel_nat_config_t *config)
{
	tunnel_nat_mapping_t *map;
	enumerator_t *enumerator;
	array_t *elems;
	char pub[32], priv[32];
	char *child;
	u_int i, j;

	if (verbose)
	{
		fprintf(stderr, "fuzz: tunnel-nat: table %s, inbound_interface %s, "
				"%u mappings, %u rejected\n", config->table,
				config->inbound_interface ?: "(none)",
				array_count(config->mappings), config->errors);
	}
	for (i = 0; i < array_count(config->mappings); i++)
	{
		array_get(config->mappings, i, &map);
		elems = array_create(0, 0);
		tunnel_nat_mapping_elems(map, 0, 0xffffffff, 0xc6336400, 0xc63364ff,
								 "fuzz", elems);
		tunnel_nat_mapping_elems(map, map->pub, map->pub, 0, 0, "fuzz", elems);
		/* a negotiated local selector that may not cover P */
		tunnel_nat_mapping_elems(map, 0xc0000201, 0xc0000201, 0x0a000000,
								 0x0affffff, "fuzz", elems);
		array_destroy_function(elems, (void*)free, NULL);
		check_index(config, map);
		if (verbose)
		{
			tunnel_range_str(pub, sizeof(pub), map->pub,
							 map->pub | ~tunnel_mask(map->prefixlen));
			tunnel_range_str(priv, sizeof(priv), map->priv,
							 map->priv | ~tunnel_mask(map->privlen));
			if (map->pat || array_count(map->forwards))
			{
				fprintf(stderr, "fuzz: mapping %s: %s%s, %u port forwards\n",
						map->name, map->has_private ? "" : "no private side",
						map->pat ? "many-to-one" : "",
						array_count(map->forwards));
			}
			fprintf(stderr, "fuzz: mapping %s: %s => %s, children", map->name,
					pub, map->has_private ? priv : "(none)");
			for (j = 0; j < array_count(map->children); j++)
			{
				array_get(map->children, j, &child);
				fprintf(stderr, " %s", child);
			}
			fprintf(stderr, "\n");
		}
	}
	/* a child no mapping names, most likely */
	enumerator = config->create_mapping_enumerator(config, "fuzz-none");
	while (enumerator->enumerate(enumerator, &map))
	{
		continue;
	}
	enumerator->destroy(enumerator);
}

static void use_route(tunnel_route_config_t *config)
{
	tunnel_route_range_t *range;
	enumerator_t *enumerator;
	const char *name;
	array_t *list;
	char buf[32];
	u_int i, count = 0;

	if (verbose)
	{
		fprintf(stderr, "fuzz: tunnel-route: table %u, priority %u, mark "
				"0x%x/0x%x, bypass_mark 0x%x, protocol %u, nft_table %s, "
				"%u rejected\n", config->table, config->priority, config->mark,
				config->mask, config->bypass_mark, config->protocol,
				config->nft_table, config->errors);
	}
	enumerator = config->create_child_enumerator(config);
	while (enumerator->enumerate(enumerator, &name))
	{
		list = config->get_sources(config, name);
		if (verbose)
		{
			fprintf(stderr, "fuzz: sources of %s:", name);
			for (i = 0; i < array_count(list); i++)
			{
				array_get(list, i, &range);
				tunnel_range_str(buf, sizeof(buf), range->from, range->to);
				fprintf(stderr, " %s", buf);
			}
			fprintf(stderr, "\n");
		}
	}
	enumerator->destroy(enumerator);
	enumerator = config->create_source_enumerator(config);
	while (enumerator->enumerate(enumerator, &range))
	{
		count++;
	}
	enumerator->destroy(enumerator);
	if (verbose)
	{
		fprintf(stderr, "fuzz: tunnel-route: %u sources\n", count);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tunnel_nat_config_t *nat;
	tunnel_route_config_t *route;
	settings_t *settings;
	char *text;

	text = strndup((const char*)data, size);
	if (skip_input(text))
	{
		if (verbose)
		{
			fprintf(stderr, "fuzz: input skipped (include or a section "
					"reference)\n");
		}
		free(text);
		return 0;
	}
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
		/* as the plugin does right after loading with kernel-libipsec */
		if (nat->refuse_partners(nat, "partner-side mappings need kernel "
								 "XFRM (kernel-netlink)", TRUE))
		{
			use_mappings(nat);
		}
		nat->destroy(nat);
	}
	else if (verbose)
	{
		fprintf(stderr, "fuzz: tunnel-nat: settings rejected\n");
	}
	route = tunnel_route_config_load(settings, "charon");
	if (route)
	{
		use_route(route);
		route->destroy(route);
	}
	else if (verbose)
	{
		fprintf(stderr, "fuzz: tunnel-route: settings rejected\n");
	}
	settings->destroy(settings);
	return 0;
}
