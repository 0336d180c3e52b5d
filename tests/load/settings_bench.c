/*
 * Benchmark: loading the plugins' settings with N mappings, as charon does
 * at start and on every reload (tunnel_nat_config_load(), and
 * tunnel_route_config_load(), which reads tunnel-nat's mappings too), against
 * the baseline of libstrongswan parsing the same settings text, measured in
 * the same run.
 *
 *   settings_bench N SHAPE RUNS
 *
 * SHAPE: "spread" (each mapping names its own CHILD_SA config, as with one
 * partner per mapping), "shared" (all mappings name one CHILD_SA config, the
 * worst case for the overlap checks), "kinds" (each names its own
 * CHILD_SA config, and is many-to-one with two port forwards) or "partner"
 * (each names its own CHILD_SA config and is partner-side: the same remote
 * 10.9.0.0/24 for all, an alias /24 of its own in 100.64.0.0/10, and the P
 * side 192.0.2.100 to 10.1.0.10).
 * Prints one line: "N SHAPE accepted parse_ms load_ms reload_ms", each time
 * the median of RUNS; load is both plugins' config loads (and the set of
 * sources of tunnel-route's start-up guard), reload the same
 * again on a second settings object parsed from the same text (what a
 * reload does). Exits 1 if a mapping was rejected.
 *
 * Copyright (C) 2026 The tunnel-nat authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <library.h>
#include <utils/debug.h>
#include <settings/settings.h>

#include <tunnel_nat_config.h>
#include <tunnel_route_config.h>
#include <tunnel_route_ranges.h>

#include <stdio.h>
#include <time.h>

static void dbg_quiet(debug_t group, level_t lvl, char *fmt, ...)
{
}

static double now_ms()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000.0;
}

/* N mappings: public 192.0.2.0/24 and 198.51.100.0/24 are too small for
 * 10,000 distinct /32s, so the public side of mapping i is 100.64.0.0/10's
 * i-th address and the private side 10.0.0.0/8's (both plain prefixes to
 * the parser; only the overlap checks care) */
static char *make_text(int n, const char *shape)
{
	char *buf, *pos;
	size_t len = (size_t)n * 400 + 256;
	int i;

	buf = pos = malloc(len);
	pos += sprintf(pos, "charon {\n plugins {\n  tunnel-nat {\n   mappings {\n");
	for (i = 0; i < n; i++)
	{
		uint32_t pub = 0x64400000 + i, priv = 0x0a000000 + i;
		char child[32];

		if (streq(shape, "shared"))
		{
			snprintf(child, sizeof(child), "partners");
		}
		else
		{
			snprintf(child, sizeof(child), "p%d", i);
		}
		if (streq(shape, "partner"))
		{	/* identical partner networks, one alias /24 each */
			uint32_t alias = 0x64400000 + ((uint32_t)i << 8);

			pos += sprintf(pos, "    m%d {\n     child = %s\n"
					"     remote = 10.9.0.0/24\n     alias = %u.%u.%u.0/24\n"
					"     public = 192.0.2.100\n     private = 10.1.0.10\n"
					"    }\n", i, child, alias >> 24, (alias >> 16) & 0xff,
					(alias >> 8) & 0xff);
			continue;
		}
		if (streq(shape, "kinds"))
		{	/* each partner's LAN leaves as its P, two ports forwarded */
			pos += sprintf(pos, "    m%d {\n     child = %s\n"
					"     public = %u.%u.%u.%u\n     private = 10.1.0.0/24\n"
					"     pat = yes\n     forward = 443/tcp:10.1.0.10:8443, "
					"22:10.1.0.11\n    }\n", i, child, pub >> 24,
					(pub >> 16) & 0xff, (pub >> 8) & 0xff, pub & 0xff);
			continue;
		}
		pos += sprintf(pos, "    m%d {\n     child = %s\n"
				"     public = %u.%u.%u.%u\n     private = %u.%u.%u.%u\n"
				"    }\n", i, child, pub >> 24, (pub >> 16) & 0xff,
				(pub >> 8) & 0xff, pub & 0xff, priv >> 24,
				(priv >> 16) & 0xff, (priv >> 8) & 0xff, priv & 0xff);
	}
	pos += sprintf(pos, "   }\n  }\n  tunnel-route {\n  }\n }\n}\n");
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double*)a, y = *(const double*)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* the set of all sources tunnel-route's start-up guard installs, built as
 * tunnel_route_guard.c's guard_elems() does */
static void guard_set(tunnel_route_config_t *config)
{
	tunnel_route_range_t *src, *range;
	enumerator_t *enumerator;
	array_t *ranges;

	ranges = array_create(0, 4);
	enumerator = config->create_source_enumerator(config);
	while (enumerator->enumerate(enumerator, &src))
	{
		INIT(range,
			.from = src->from,
			.to = src->to,
		);
		array_insert(ranges, ARRAY_TAIL, range);
	}
	enumerator->destroy(enumerator);
	tunnel_route_ranges_sort(ranges);
	tunnel_route_ranges_destroy(ranges);
}

/* both plugins' loads, as charon's start or a reload; returns the number
 * of mappings tunnel-nat accepted */
static int load_both(settings_t *settings)
{
	tunnel_nat_config_t *nat;
	tunnel_route_config_t *route;
	int accepted = -1;

	nat = tunnel_nat_config_load(settings, "charon", TRUE);
	if (nat)
	{
		accepted = nat->errors ? -1 : (int)array_count(nat->mappings);
		nat->destroy(nat);
	}
	route = tunnel_route_config_load(settings, "charon");
	if (!route)
	{
		return -1;
	}
	guard_set(route);
	route->destroy(route);
	return accepted;
}

int main(int argc, char *argv[])
{
	settings_t *settings, *again;
	double *parse, *load, *reload, t;
	char *text;
	int n, runs, i, accepted = 0;

	if (argc != 4)
	{
		fprintf(stderr, "usage: %s N spread|shared|kinds RUNS\n", argv[0]);
		return 2;
	}
	n = atoi(argv[1]);
	runs = atoi(argv[3]);
	dbg = dbg_quiet;
	if (!library_init(NULL, "settings_bench"))
	{
		return 2;
	}
	text = make_text(n, argv[2]);
	parse = calloc(runs, sizeof(double));
	load = calloc(runs, sizeof(double));
	reload = calloc(runs, sizeof(double));
	for (i = 0; i < runs; i++)
	{
		t = now_ms();
		settings = settings_create_string(text);
		parse[i] = now_ms() - t;
		again = settings_create_string(text);

		t = now_ms();
		accepted = load_both(settings);
		load[i] = now_ms() - t;
		t = now_ms();
		if (load_both(again) != accepted)
		{
			accepted = -1;
		}
		reload[i] = now_ms() - t;
		settings->destroy(settings);
		again->destroy(again);
	}
	printf("%d %s %d %.1f %.1f %.1f\n", n, argv[2], accepted,
		   median(parse, runs), median(load, runs), median(reload, runs));
	free(text);
	free(parse);
	free(load);
	free(reload);
	library_deinit();
	return accepted == n ? 0 : 1;
}
