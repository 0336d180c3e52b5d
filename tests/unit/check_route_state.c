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

#include <tunnel_route_state.h>
#include <tunnel_route_ranges.h>
#include <tunnel_util.h>

#include <settings/settings.h>

/**
 * A route in the simulated routing table
 */
typedef struct {
	uint32_t net;
	uint8_t len;
	tunnel_route_target_t target;
} route_t;

/**
 * A simulated kernel: the nftables sets and the routing table
 */
typedef struct {
	/** tunnel_route_pair_t* */
	array_t *pairs;
	/** route_t* */
	array_t *routes;
	/** pairs added and deleted by the last commit */
	u_int added, deleted;
	/** routes replaced and deleted by the last commit */
	u_int replaced, removed;
	/** calls of each commit function */
	u_int pair_commits, route_commits;
	/** refuse the pairs' transaction, or every route */
	bool fail_pairs, fail_routes;
} kernel_t;

static kernel_t kernel;
static tunnel_route_state_t *state;
static tunnel_route_config_t *config;

static bool pair_same(tunnel_route_pair_t *a, tunnel_route_pair_t *b)
{
	return a->bypass == b->bypass &&
		   a->src.from == b->src.from && a->src.to == b->src.to &&
		   a->dst.from == b->dst.from && a->dst.to == b->dst.to;
}

static int find_pair(tunnel_route_pair_t *pair)
{
	tunnel_route_pair_t *cur;
	u_int i;

	for (i = 0; i < array_count(kernel.pairs); i++)
	{
		array_get(kernel.pairs, i, &cur);
		if (pair_same(cur, pair))
		{
			return i;
		}
	}
	return -1;
}

static int find_route(uint32_t net, uint8_t len)
{
	route_t *cur;
	u_int i;

	for (i = 0; i < array_count(kernel.routes); i++)
	{
		array_get(kernel.routes, i, &cur);
		if (cur->net == net && cur->len == len)
		{
			return i;
		}
	}
	return -1;
}

/**
 * Applies the pairs like nftables: whole or not at all
 */
static bool fake_pairs(void *user, array_t *add, array_t *del)
{
	tunnel_route_pair_t *pair, *copy;
	u_int i;
	int idx;

	ck_assert_ptr_eq(user, &kernel);
	kernel.pair_commits++;
	ck_assert_msg(array_count(add) || array_count(del), "an empty commit");
	if (kernel.fail_pairs)
	{
		return FALSE;
	}
	for (i = 0; i < array_count(del); i++)
	{
		array_get(del, i, &pair);
		idx = find_pair(pair);
		ck_assert_msg(idx >= 0, "deleting a pair that is not installed");
		array_remove(kernel.pairs, idx, &copy);
		free(copy);
		kernel.deleted++;
	}
	for (i = 0; i < array_count(add); i++)
	{
		array_get(add, i, &pair);
		ck_assert_msg(find_pair(pair) < 0, "adding a pair twice");
		copy = malloc(sizeof(*copy));
		*copy = *pair;
		array_insert(kernel.pairs, ARRAY_TAIL, copy);
		kernel.added++;
	}
	return TRUE;
}

/**
 * Applies routes like rtnetlink: each on its own, replaced atomically
 */
static bool fake_routes(void *user, tunnel_route_update_t *updates,
						u_int count)
{
	tunnel_route_update_t *u;
	route_t *route;
	u_int i;
	int idx;

	ck_assert_ptr_eq(user, &kernel);
	kernel.route_commits++;
	ck_assert_uint_gt(count, 0);
	for (i = 0; i < count; i++)
	{
		u = &updates[i];
		ck_assert_msg(!tunnel_route_target_equals(&u->from, &u->to),
					  "an update that changes nothing");
		if (kernel.fail_routes)
		{
			continue;
		}
		idx = find_route(u->net, u->len);
		if (tunnel_route_target_none(&u->to))
		{
			ck_assert_msg(idx >= 0, "deleting a route that is not there");
			array_remove(kernel.routes, idx, &route);
			ck_assert(tunnel_route_target_equals(&route->target, &u->from));
			free(route);
			kernel.removed++;
		}
		else
		{
			if (idx < 0)
			{
				INIT(route,
					.net = u->net,
					.len = u->len,
				);
				array_insert(kernel.routes, ARRAY_TAIL, route);
			}
			else
			{
				array_get(kernel.routes, idx, &route);
			}
			route->target = u->to;
			kernel.replaced++;
		}
		u->acked = TRUE;
	}
	return !kernel.fail_routes;
}

/**
 * Settings with the given sources for child "claims", and 10.2.0.10 for
 * child "other"
 */
static tunnel_route_config_t *load_config(const char *claims)
{
	tunnel_route_config_t *loaded;
	settings_t *settings;
	char *text;

	ck_assert(asprintf(&text, "charon { plugins { tunnel-route { children {"
					   " claims { sources = %s } other { sources = 10.2.0.10 }"
					   " } } } }", claims) > 0);
	settings = settings_create_string(text);
	ck_assert(settings);
	loaded = tunnel_route_config_load(settings, "charon");
	ck_assert(loaded);
	settings->destroy(settings);
	free(text);
	return loaded;
}

/**
 * Reload the settings with the given sources for claims
 */
static void reload(const char *claims)
{
	tunnel_route_config_t *reloaded = load_config(claims);

	state->set_config(state, reloaded);
	config->destroy(config);
	config = reloaded;
}

static void setup(void)
{
	kernel = (kernel_t){
		.pairs = array_create(0, 0),
		.routes = array_create(0, 0),
	};
	config = load_config("10.1.0.0/24");
	state = tunnel_route_state_create();
	state->set_config(state, config);
	test_log_reset();
}

static void teardown(void)
{
	state->destroy(state);
	config->destroy(config);
	array_destroy_function(kernel.pairs, (void*)free, NULL);
	array_destroy_function(kernel.routes, (void*)free, NULL);
}

/**
 * Commit the state's change to the simulated kernel
 */
static bool commit()
{
	kernel.added = kernel.deleted = kernel.replaced = kernel.removed = 0;
	return state->commit(state, fake_pairs, fake_routes, &kernel);
}

/**
 * Parse "a.b.c.d[/n], ..." into a sorted list of ranges
 */
static array_t *ranges(const char *list)
{
	enumerator_t *enumerator;
	array_t *parsed;
	uint32_t addr;
	uint8_t len;
	char *token;

	parsed = array_create(0, 0);
	enumerator = enumerator_create_token(list ?: "", ",", " ");
	while (enumerator->enumerate(enumerator, &token))
	{
		ck_assert_msg(!tunnel_parse_prefix(token, &addr, &len), "%s", token);
		tunnel_route_ranges_add(parsed, addr, addr | ~tunnel_mask(len));
	}
	enumerator->destroy(enumerator);
	return parsed;
}

static bool up(uint32_t id, const char *child, const char *ts,
			   const char *cfg, uint32_t oif)
{
	tunnel_route_target_t target = { .oif = oif, .gw = 0xc0a80001 };

	return state->sa_up(state, id, child, ranges(ts), ranges(cfg),
						oif ? &target : NULL);
}

static int str_cmp(const void *a, const void *b, void *user)
{
	return strcmp(a, b);
}

/**
 * Join the strings of a list, sorted, with " ", and destroy them
 */
static char *join(array_t *list, char *buf, size_t len)
{
	char *str;
	size_t pos = 0;
	u_int i;

	array_sort(list, str_cmp, NULL);
	buf[0] = '\0';
	for (i = 0; i < array_count(list); i++)
	{
		array_get(list, i, &str);
		pos += snprintf(buf + pos, len - pos, "%s%s", i ? " " : "", str);
		ck_assert_uint_lt(pos, len);
	}
	array_destroy_function(list, (void*)free, NULL);
	return buf;
}

/**
 * Sort the words of a string
 */
static char *sorted(const char *words, char *buf, size_t len)
{
	enumerator_t *enumerator;
	array_t *list;
	char *word;

	list = array_create(0, 0);
	enumerator = enumerator_create_token(words, " ", "");
	while (enumerator->enumerate(enumerator, &word))
	{
		array_insert(list, ARRAY_TAIL, strdup(word));
	}
	enumerator->destroy(enumerator);
	return join(list, buf, len);
}

/**
 * The simulated routing table, e.g. "198.51.100.0/24:prohibit 198.51.100.10:5"
 */
static char *kernel_routes(char *buf, size_t len)
{
	array_t *list = array_create(0, 0);
	char net[32], *str;
	route_t *route;
	u_int i;

	for (i = 0; i < array_count(kernel.routes); i++)
	{
		array_get(kernel.routes, i, &route);
		tunnel_range_str(net, sizeof(net), route->net,
						 route->net | ~tunnel_mask(route->len));
		if (route->target.prohibit)
		{
			ck_assert(asprintf(&str, "%s:prohibit", net) > 0);
		}
		else
		{
			ck_assert(asprintf(&str, "%s:%u", net, route->target.oif) > 0);
		}
		array_insert(list, ARRAY_TAIL, str);
	}
	return join(list, buf, len);
}

/**
 * The simulated sets, e.g. "*>198.51.100.10 10.1.0.0/24>198.51.100.10"
 */
static char *kernel_pairs(char *buf, size_t len)
{
	array_t *list = array_create(0, 0);
	tunnel_route_pair_t *pair;
	char src[32], dst[32], *str;
	u_int i;

	for (i = 0; i < array_count(kernel.pairs); i++)
	{
		array_get(kernel.pairs, i, &pair);
		tunnel_range_str(src, sizeof(src), pair->src.from, pair->src.to);
		tunnel_range_str(dst, sizeof(dst), pair->dst.from, pair->dst.to);
		ck_assert(asprintf(&str, "%s>%s", pair->bypass ? "*" : src, dst) > 0);
		array_insert(list, ARRAY_TAIL, str);
	}
	return join(list, buf, len);
}

/**
 * The kernel has what the state wants: each route is the desired one, and
 * the installed pairs are the needed ones
 */
static void assert_in_sync()
{
	tunnel_route_target_t desired;
	tunnel_route_pair_t *pair;
	enumerator_t *enumerator;
	route_t *route;
	u_int i, needed = 0;

	for (i = 0; i < array_count(kernel.routes); i++)
	{
		array_get(kernel.routes, i, &route);
		ck_assert(state->get_desired(state, route->net, route->len, &desired));
		ck_assert(tunnel_route_target_equals(&desired, &route->target));
	}
	enumerator = state->create_pair_enumerator(state, FALSE);
	while (enumerator->enumerate(enumerator, &pair))
	{
		ck_assert_int_ge(find_pair(pair), 0);
		needed++;
	}
	enumerator->destroy(enumerator);
	ck_assert_uint_eq(needed, array_count(kernel.pairs));
}

/**
 * One step of a scenario, and what the kernel holds after it
 */
typedef struct {
	/** 'u'p, 'd'own, 'r'ekey, 'c'onfigs scanned, re'l'oad */
	char op;
	/** CHILD_SA (up, down, rekey's old one), rekey's new one */
	uint32_t id, new;
	/** its config */
	char *child;
	/** negotiated ranges (up, rekey), configured ones (scan), claims'
	 * sources (reload) */
	char *ts;
	/** configured ranges of the child config (up, rekey) */
	char *cfg;
	/** outgoing interface of the new CHILD_SA, 0 if unresolved */
	uint32_t oif;
	/** expected routes and pairs */
	char *routes;
	char *pairs;
} step_t;

typedef struct {
	char *name;
	step_t steps[8];
} scenario_t;

#define C  "198.51.100.10"
#define N  "198.51.100.0/24"
#define PC "*>" C " 10.1.0.0/24>" C
#define PN "*>" N " 10.1.0.0/24>" N

static scenario_t scenarios[] = {
	{ "up, down", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "up, down, configured destination stays refused", {
		{ 'u', 1, 0, "claims", C, C, 5, C ":5", PC },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, C ":prohibit", PC },
		{ 'c', 0, 0, "claims", "", NULL, 0, "", "" },
	}},
	{ "child without sources", {
		{ 'u', 1, 0, "nosources", C, C, 5, "", "" },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "unresolved target: refused", {
		{ 'u', 1, 0, "claims", C, NULL, 0, C ":prohibit", PC },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "a range: one route per prefix", {
		{ 'u', 1, 0, "claims", "198.51.100.10/31,198.51.100.12", NULL, 5,
		  "198.51.100.10/31:5 198.51.100.12:5",
		  "*>198.51.100.10/31 *>198.51.100.12 "
		  "10.1.0.0/24>198.51.100.10/31 10.1.0.0/24>198.51.100.12" },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "rekey, same target", {
		{ 'u', 1, 0, "claims", C, C, 5, C ":5", PC },
		{ 'r', 1, 2, "claims", C, C, 5, C ":5", PC },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, C ":prohibit", PC },
	}},
	{ "rekey, new target", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'r', 1, 2, "claims", C, NULL, 6, C ":6", PC },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "rekey, new target unresolved", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'r', 1, 2, "claims", C, NULL, 0, C ":prohibit", PC },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "reauth, make-before-break", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'u', 2, 0, "claims", C, NULL, 6, C ":5", PC },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, C ":6", PC },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "reauth, make-before-break, the new SA goes first", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'u', 2, 0, "claims", C, NULL, 6, C ":5", PC },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, C ":5", PC },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "reauth, break-before-make", {
		{ 'u', 1, 0, "claims", C, C, 5, C ":5", PC },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, C ":prohibit", PC },
		{ 'u', 2, 0, "claims", C, C, 6, C ":6", PC },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, C ":prohibit", PC },
	}},
	{ "up again replaces the SA's state", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'u', 1, 0, "claims", N, NULL, 5, N ":5", PN },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "two children, one destination", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'u', 2, 0, "other", C, NULL, 6, C ":5", PC " 10.2.0.10>" C },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, C ":6", "*>" C " 10.2.0.10>" C },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "configs scanned before the first up", {
		{ 'c', 0, 0, "claims", N, NULL, 0, N ":prohibit", PN },
		{ 'u', 1, 0, "claims", C, N, 5, C ":5 " N ":prohibit", PN " " PC },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, N ":prohibit", PN },
		{ 'c', 0, 0, "claims", "", NULL, 0, "", "" },
	}},
	{ "scan finds a config changed", {
		{ 'c', 0, 0, "claims", C, NULL, 0, C ":prohibit", PC },
		{ 'c', 0, 0, "claims", N, NULL, 0, N ":prohibit", PN },
		{ 'c', 0, 0, "claims", "", NULL, 0, "", "" },
	}},
	{ "reload adds a source", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'l', 0, 0, NULL, "10.1.0.0/24, 10.1.9.9", NULL, 0, C ":5",
		  PC " 10.1.9.9>" C },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, "", "" },
	}},
	{ "reload replaces the sources", {
		{ 'u', 1, 0, "claims", C, NULL, 5, C ":5", PC },
		{ 'l', 0, 0, NULL, "10.3.0.0/16", NULL, 0, C ":5",
		  "*>" C " 10.3.0.0/16>" C },
		{ 'u', 2, 0, "claims", N, NULL, 6, C ":5 " N ":6",
		  "*>" C " 10.3.0.0/16>" C " *>" N " 10.3.0.0/16>" N },
		{ 'd', 1, 0, NULL, NULL, NULL, 0, N ":6", "*>" N " 10.3.0.0/16>" N },
		{ 'd', 2, 0, NULL, NULL, NULL, 0, "", "" },
	}},
};

START_TEST(test_scenario)
{
	scenario_t *sc = &scenarios[_i];
	hashtable_t *found;
	array_t *configured;
	step_t *s;
	char routes[512], pairs[512], expected[512];
	u_int i;

	for (i = 0; i < countof(sc->steps) && sc->steps[i].op; i++)
	{
		s = &sc->steps[i];
		switch (s->op)
		{
			case 'u':
				up(s->id, s->child, s->ts, s->cfg, s->oif);
				break;
			case 'd':
				state->sa_down(state, s->id);
				break;
			case 'r':
				/* the new SA first, behind the old one: no gap */
				up(s->new, s->child, s->ts, s->cfg, s->oif);
				state->sa_down(state, s->id);
				break;
			case 'c':
				found = hashtable_create(hashtable_hash_str,
										 hashtable_equals_str, 4);
				configured = ranges(s->ts);
				if (array_count(configured))
				{
					found->put(found, s->child, configured);
				}
				state->set_configured(state, found);
				found->destroy(found);
				tunnel_route_ranges_destroy(configured);
				break;
			case 'l':
				reload(s->ts);
				break;
		}
		ck_assert_msg(commit(), "%s, step %u: a route failed", sc->name, i);
		sorted(s->routes, expected, sizeof(expected));
		ck_assert_msg(streq(kernel_routes(routes, sizeof(routes)), expected),
					  "%s, step %u: routes \"%s\", expected \"%s\"", sc->name,
					  i, routes, expected);
		sorted(s->pairs, expected, sizeof(expected));
		ck_assert_msg(streq(kernel_pairs(pairs, sizeof(pairs)), expected),
					  "%s, step %u: pairs \"%s\", expected \"%s\"", sc->name,
					  i, pairs, expected);
		if (s->op == 'r')
		{
			ck_assert_msg(kernel.removed == 0 && kernel.deleted == 0,
						  "%s, step %u: a rekey withdrew a route or a pair",
						  sc->name, i);
		}
		assert_in_sync();
	}
	/* after the last step of each scenario nothing is routed */
	ck_assert_uint_eq(state->get_sa_count(state), 0);
}
END_TEST

static tunnel_route_range_t range(const char *prefix)
{
	array_t *list = ranges(prefix);
	tunnel_route_range_t *r, copy;

	ck_assert(array_get(list, ARRAY_HEAD, &r));
	copy = *r;
	tunnel_route_ranges_destroy(list);
	return copy;
}

START_TEST(test_refs_drop_to_nothing)
{
	tunnel_route_range_t src = range("10.1.0.0/24"), any = range("0.0.0.0/0");
	tunnel_route_range_t other = range("10.2.0.10"), dst = range(C);
	hashtable_t *found;
	u_int id;

	/* three SAs of claims and two of other, all to C */
	for (id = 1; id <= 5; id++)
	{
		ck_assert(up(id, id <= 3 ? "claims" : "other", C, C, 4 + id));
		ck_assert(commit());
	}
	ck_assert_uint_eq(state->get_known_refs(state, "claims", &dst), 4);
	ck_assert_uint_eq(state->get_known_refs(state, "other", &dst), 3);
	ck_assert_uint_eq(state->get_pair_refs(state, FALSE, &src, &dst), 1);
	ck_assert_uint_eq(state->get_pair_refs(state, FALSE, &other, &dst), 1);
	ck_assert_uint_eq(state->get_pair_refs(state, TRUE, &any, &dst), 2);
	ck_assert_uint_eq(state->get_sa_count(state), 5);
	ck_assert_uint_eq(state->get_child_count(state), 2);

	for (id = 1; id <= 5; id++)
	{
		state->sa_down(state, id);
		ck_assert(commit());
	}
	/* the configs still name C: refused */
	ck_assert_uint_eq(state->get_known_refs(state, "claims", &dst), 1);
	ck_assert_uint_eq(state->get_pair_refs(state, TRUE, &any, &dst), 2);
	ck_assert_uint_eq(state->get_dest_count(state), 1);

	/* the configs are gone */
	found = hashtable_create(hashtable_hash_str, hashtable_equals_str, 1);
	state->set_configured(state, found);
	found->destroy(found);
	ck_assert(commit());
	ck_assert_uint_eq(state->get_known_refs(state, "claims", &dst), 0);
	ck_assert_uint_eq(state->get_known_refs(state, "other", &dst), 0);
	ck_assert_uint_eq(state->get_pair_refs(state, TRUE, &any, &dst), 0);
	ck_assert_uint_eq(state->get_pair_count(state), 0);
	ck_assert_uint_eq(state->get_dest_count(state), 0);
	ck_assert_uint_eq(state->get_sa_count(state), 0);
	ck_assert_uint_eq(array_count(kernel.pairs), 0);
	ck_assert_uint_eq(array_count(kernel.routes), 0);
}
END_TEST

START_TEST(test_rekey_never_without_target)
{
	tunnel_route_target_t target;
	uint32_t id;

	ck_assert(up(1, "claims", C "," N, NULL, 5));
	ck_assert(commit());
	for (id = 2; id <= 10; id++)
	{
		/* between the new SA's up and the old one's down */
		ck_assert(up(id, "claims", C "," N, NULL, 4 + id % 2));
		ck_assert(state->get_desired(state, 0xc633640a, 32, &target));
		ck_assert_uint_eq(target.oif, 4 + (id - 1) % 2);
		state->sa_down(state, id - 1);
		ck_assert(state->get_desired(state, 0xc633640a, 32, &target));
		ck_assert_uint_eq(target.oif, 4 + id % 2);
		ck_assert(state->get_desired(state, 0xc6336400, 24, &target));
		ck_assert_uint_eq(target.oif, 4 + id % 2);
		ck_assert(commit());
		/* the route is replaced, never deleted */
		ck_assert_uint_eq(kernel.removed, 0);
		ck_assert_uint_eq(kernel.replaced, 2);
		ck_assert_uint_eq(array_count(kernel.routes), 2);
	}
	state->sa_down(state, 10);
	ck_assert(commit());
	ck_assert_uint_eq(kernel.removed, 2);
	ck_assert_uint_eq(array_count(kernel.routes), 0);
}
END_TEST

START_TEST(test_reload_changes_exactly)
{
	ck_assert(up(1, "claims", C, NULL, 5));
	ck_assert(up(2, "other", N, NULL, 6));
	ck_assert(commit());
	ck_assert_uint_eq(array_count(kernel.pairs), 4);

	/* claims: 10.1.0.0/24 => 10.1.0.0/24, 10.1.9.9: one pair more */
	reload("10.1.0.0/24, 10.1.9.9");
	ck_assert(commit());
	ck_assert_uint_eq(kernel.added, 1);
	ck_assert_uint_eq(kernel.deleted, 0);
	ck_assert_uint_eq(kernel.replaced + kernel.removed, 0);
	ck_assert_int_ge(find_pair(&(tunnel_route_pair_t){
			.src = range("10.1.9.9"), .dst = range(C) }), 0);
	ck_assert_uint_eq(array_count(kernel.pairs), 5);
	assert_in_sync();
}
END_TEST

START_TEST(test_reload_same_sources)
{
	u_int commits;

	ck_assert(up(1, "claims", C, NULL, 5));
	ck_assert(commit());
	commits = kernel.pair_commits;
	reload("10.1.0.0/24");
	ck_assert(commit());
	ck_assert_uint_eq(kernel.pair_commits, commits);
	ck_assert_uint_eq(array_count(kernel.pairs), 2);
}
END_TEST

START_TEST(test_pairs_failed)
{
	tunnel_route_pair_t *pair;
	enumerator_t *enumerator;
	u_int installed = 0, needed = 0;

	kernel.fail_pairs = TRUE;
	ck_assert(up(1, "claims", C, NULL, 5));
	/* the routes go in anyway: the sets decide which traffic uses them */
	ck_assert(commit());
	ck_assert_uint_eq(kernel.pair_commits, 1);
	ck_assert_uint_eq(array_count(kernel.routes), 1);
	enumerator = state->create_pair_enumerator(state, TRUE);
	while (enumerator->enumerate(enumerator, &pair))
	{
		installed++;
	}
	enumerator->destroy(enumerator);
	enumerator = state->create_pair_enumerator(state, FALSE);
	while (enumerator->enumerate(enumerator, &pair))
	{
		needed++;
	}
	enumerator->destroy(enumerator);
	ck_assert_uint_eq(installed, 0);
	ck_assert_uint_eq(needed, 2);

	/* nothing in the kernel to delete on down */
	kernel.fail_pairs = FALSE;
	state->sa_down(state, 1);
	ck_assert(commit());
	ck_assert_uint_eq(kernel.pair_commits, 1);
	ck_assert_uint_eq(state->get_pair_count(state), 0);
}
END_TEST

START_TEST(test_routes_failed)
{
	tunnel_route_dest_t *dest;
	enumerator_t *enumerator;

	kernel.fail_routes = TRUE;
	ck_assert(up(1, "claims", C, C, 5));
	ck_assert(!commit());
	enumerator = state->create_route_enumerator(state);
	ck_assert(!enumerator->enumerate(enumerator, &dest));
	enumerator->destroy(enumerator);

	/* back to fail-closed, as the listener does */
	kernel.fail_routes = FALSE;
	state->sa_down(state, 1);
	ck_assert(commit());
	ck_assert_uint_eq(array_count(kernel.routes), 1);
	enumerator = state->create_route_enumerator(state);
	ck_assert(enumerator->enumerate(enumerator, &dest));
	ck_assert(dest->installed.prohibit);
	ck_assert(!enumerator->enumerate(enumerator, &dest));
	enumerator->destroy(enumerator);
}
END_TEST

START_TEST(test_commit_nothing)
{
	ck_assert(commit());
	ck_assert(!up(1, "nosources", C, C, 5));
	state->sa_down(state, 7);
	ck_assert(commit());
	ck_assert_uint_eq(kernel.pair_commits, 0);
	ck_assert_uint_eq(kernel.route_commits, 0);
	ck_assert(!state->has_sa(state, 1));
	ck_assert_uint_eq(state->get_child_count(state), 0);
}
END_TEST

START_TEST(test_fail_open)
{
	tunnel_route_config_t *open_config;
	settings_t *settings;

	settings = settings_create_string("charon { plugins { tunnel-route { "
				"fail_closed = no\n children { claims { sources = 10.1.0.0/24 "
				"} } } } }");
	open_config = tunnel_route_config_load(settings, "charon");
	settings->destroy(settings);
	ck_assert(open_config);
	state->set_config(state, open_config);
	config->destroy(config);
	config = open_config;

	ck_assert(up(1, "claims", C, C, 5));
	ck_assert(commit());
	ck_assert_uint_eq(array_count(kernel.routes), 1);
	state->sa_down(state, 1);
	ck_assert(commit());
	/* known, but not refused */
	ck_assert_uint_eq(array_count(kernel.routes), 0);
	ck_assert(state->has_dest(state, 0xc633640a, 32));
}
END_TEST

START_TEST(test_ranges_sort)
{
	uint32_t in[][2] = { { 5, 9 }, { 1, 1 }, { 5, 9 }, { 5, 6 }, { 1, 1 },
						 { 0, 100 } };
	uint32_t out[][2] = { { 0, 100 }, { 1, 1 }, { 5, 6 }, { 5, 9 } };
	tunnel_route_range_t *range;
	array_t *ranges;
	u_int i;

	ranges = array_create(0, 0);
	for (i = 0; i < countof(in); i++)
	{
		INIT(range,
			.from = in[i][0],
			.to = in[i][1],
		);
		array_insert(ranges, ARRAY_TAIL, range);
	}
	tunnel_route_ranges_sort(ranges);
	/* sorted by first, then last address, each range once */
	ck_assert_uint_eq(array_count(ranges), countof(out));
	for (i = 0; i < countof(out); i++)
	{
		array_get(ranges, i, &range);
		ck_assert_uint_eq(range->from, out[i][0]);
		ck_assert_uint_eq(range->to, out[i][1]);
	}
	tunnel_route_ranges_destroy(ranges);
}
END_TEST

/**
 * What the pairs' commit was given
 */
typedef struct {
	u_int calls, added, deleted;
	bool fail;
	char comment[TUNNEL_ROUTE_COMMENT_LEN];
} pairs_seen_t;

static bool see_pairs(void *user, array_t *add, array_t *del)
{
	pairs_seen_t *seen = user;
	tunnel_route_pair_t *pair;

	seen->calls++;
	seen->added += array_count(add);
	seen->deleted += array_count(del);
	if (array_get(add, ARRAY_HEAD, &pair))
	{
		snprintf(seen->comment, sizeof(seen->comment), "%s", pair->comment);
	}
	return !seen->fail;
}

START_TEST(test_pairs_own)
{
	tunnel_route_range_t src = { 0x0a010000, 0x0a0100ff },
						 dst = { 0xc6336400, 0xc63364ff },
						 any = { 0, 0xffffffff };
	tunnel_route_pairs_t *pairs;
	pairs_seen_t seen = {};

	pairs = tunnel_route_pairs_create();
	/* two children need the pair: one element, named after the first */
	pairs->ref(pairs, FALSE, &src, &dst, "claims");
	pairs->ref(pairs, FALSE, &src, &dst, "claims-b");
	pairs->ref(pairs, TRUE, &any, &dst, "claims");
	ck_assert_uint_eq(pairs->get_refs(pairs, FALSE, &src, &dst), 2);
	ck_assert_uint_eq(pairs->get_refs(pairs, TRUE, &any, &dst), 1);
	/* the bypass pair is another element */
	ck_assert_uint_eq(pairs->get_refs(pairs, TRUE, &src, &dst), 0);
	ck_assert_uint_eq(pairs->get_count(pairs), 2);

	/* the kernel refuses: nothing counts as installed, and nothing is sent
	 * again until the pairs change */
	seen.fail = TRUE;
	pairs->commit(pairs, see_pairs, &seen);
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.added, 2);
	seen.fail = FALSE;
	pairs->commit(pairs, see_pairs, &seen);
	ck_assert_uint_eq(seen.calls, 1);

	/* touched again, both go in, in one call */
	pairs->unref(pairs, FALSE, &src, &dst);
	pairs->ref(pairs, FALSE, &src, &dst, "claims-b");
	pairs->unref(pairs, TRUE, &any, &dst);
	pairs->ref(pairs, TRUE, &any, &dst, "claims");
	seen = (pairs_seen_t){};
	pairs->commit(pairs, see_pairs, &seen);
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.added, 2);
	ck_assert_str_eq(seen.comment, "child claims");

	/* one child goes: the pair stays, nothing is sent */
	seen = (pairs_seen_t){};
	pairs->unref(pairs, FALSE, &src, &dst);
	pairs->commit(pairs, see_pairs, &seen);
	ck_assert_uint_eq(seen.calls, 0);
	ck_assert_uint_eq(pairs->get_refs(pairs, FALSE, &src, &dst), 1);

	/* the last goes: deleted, then forgotten; dropping one that is not
	 * there changes nothing */
	pairs->unref(pairs, FALSE, &src, &dst);
	pairs->unref(pairs, FALSE, &src, &dst);
	pairs->unref(pairs, FALSE, &dst, &src);
	pairs->commit(pairs, see_pairs, &seen);
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.added, 0);
	ck_assert_uint_eq(seen.deleted, 1);
	ck_assert_uint_eq(pairs->get_count(pairs), 1);
	ck_assert_uint_eq(pairs->get_refs(pairs, TRUE, &any, &dst), 1);
	pairs->destroy(pairs);
}
END_TEST

Suite *make_route_state_suite()
{
	Suite *s;
	TCase *tc;

	s = suite_create("route state");

	tc = tcase_create("scenarios");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_scenario, 0, countof(scenarios));
	suite_add_tcase(s, tc);

	tc = tcase_create("ranges sorted once");
	tcase_add_test(tc, test_ranges_sort);
	suite_add_tcase(s, tc);

	tc = tcase_create("reference counts");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refs_drop_to_nothing);
	tcase_add_test(tc, test_rekey_never_without_target);
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reload_changes_exactly);
	tcase_add_test(tc, test_reload_same_sources);
	suite_add_tcase(s, tc);

	tc = tcase_create("pairs");
	tcase_add_test(tc, test_pairs_own);
	suite_add_tcase(s, tc);

	tc = tcase_create("commit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pairs_failed);
	tcase_add_test(tc, test_routes_failed);
	tcase_add_test(tc, test_commit_nothing);
	tcase_add_test(tc, test_fail_open);
	suite_add_tcase(s, tc);

	return s;
}
