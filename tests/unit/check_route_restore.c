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

/*
 * tunnel-route's self-healing restore against fake netlink sockets: the
 * order of its steps (fail-closed throughout), what it falls back to when
 * a step fails, and the first failure's reason in its summary.
 */

#include "test_suites.h"

#include <stdio.h>
#include <linux/rtnetlink.h>

#include <settings/settings.h>
#include <tunnel_util.h>
#include <tunnel_route_kernel.h>
#include <tunnel_route_ranges.h>

/**
 * A fake socket: records every batch's descriptions, fails on request
 */
typedef struct {
	nl_socket_t public;
	const char *name;
	/** fail a batch that has a message whose description contains this */
	const char *fail;
} fake_socket_t;

/**
 * What was sent, one line per message: "rtnl: ..." or "nfnl: ..."
 */
static char sent[64 * 1024];

static fake_socket_t rtnl, nfnl;

static bool fake_send_acked(fake_socket_t *this, nl_batch_t *batch,
							const char *what, bool *acked)
{
	const char *desc;
	bool fail = FALSE;
	u_int i;
	size_t len;

	for (i = 0; i < batch->get_count(batch); i++)
	{
		desc = batch->describe(batch, i) ?: "?";
		len = strlen(sent);
		snprintf(sent + len, sizeof(sent) - len, "%s: %s\n", this->name, desc);
		if (this->fail && strstr(desc, this->fail))
		{
			fail = TRUE;
			batch->set_error(batch, "%s failed: No buffer space available "
							 "(105)", desc);
		}
		if (acked)
		{
			acked[i] = !fail;
		}
	}
	return !fail;
}

static bool fake_send(fake_socket_t *this, nl_batch_t *batch,
					  const char *what)
{
	return fake_send_acked(this, batch, what, NULL);
}

static bool fake_dump(fake_socket_t *this, struct nlmsghdr *req,
					  nl_dump_cb_t cb, void *data, const char *what)
{	/* nothing there: no rules */
	return TRUE;
}

static void fake_init(fake_socket_t *this, const char *name)
{
	*this = (fake_socket_t){
		.public = {
			.send = (void*)fake_send,
			.send_acked = (void*)fake_send_acked,
			.dump = (void*)fake_dump,
		},
		.name = name,
	};
}

static tunnel_route_config_t *config;
static tunnel_route_state_t *state;
static tunnel_route_guard_t *guard;
static tunnel_route_kernel_t *kernel;

/**
 * Position of a line in what was sent, -1 if absent
 */
static int sent_at(const char *line)
{
	char *pos = strstr(sent, line);

	return pos ? (int)(pos - sent) : -1;
}

#define ck_assert_sent(line) \
	ck_assert_msg(sent_at(line) >= 0, "not sent: \"%s\"\nsent:\n%s", line, sent)
#define ck_assert_not_sent(line) \
	ck_assert_msg(sent_at(line) < 0, "sent: \"%s\"\nsent:\n%s", line, sent)
#define ck_assert_sent_before(a, b) \
	ck_assert_msg(sent_at(a) >= 0 && sent_at(b) >= 0 && sent_at(a) < sent_at(b), \
				  "not \"%s\" before \"%s\"\nsent:\n%s", a, b, sent)

static bool nop_pairs(void *user, array_t *add, array_t *del)
{
	return TRUE;
}

static bool ack_routes(void *user, tunnel_route_update_t *updates, u_int count)
{
	u_int i;

	for (i = 0; i < count; i++)
	{
		updates[i].acked = TRUE;
	}
	return TRUE;
}

static void setup(void)
{
	tunnel_route_target_t target = { .oif = 1, .gw = 0xc0a80001 };
	settings_t *settings;
	array_t *ts;
	uint32_t i;

	settings = settings_create_string("charon { plugins { tunnel-route { "
						"children { claims { sources = 10.1.0.10 } } } } }");
	config = tunnel_route_config_load(settings, "charon");
	settings->destroy(settings);
	ck_assert(config);
	state = tunnel_route_state_create();
	state->set_config(state, config);
	/* three tunnels up, routes in place */
	for (i = 1; i <= 3; i++)
	{
		ts = array_create(0, 0);
		tunnel_route_ranges_add(ts, 0x0a400000 + i, 0x0a400000 + i);
		ck_assert(state->sa_up(state, i, "claims", ts, array_create(0, 0),
							   &target));
	}
	ck_assert(state->commit(state, nop_pairs, ack_routes, NULL));
	fake_init(&rtnl, "rtnl");
	fake_init(&nfnl, "nfnl");
	guard = tunnel_route_guard_create(&rtnl.public, &nfnl.public);
	kernel = tunnel_route_kernel_create(&rtnl.public, &nfnl.public);
	sent[0] = '\0';
	test_log_reset();
}

static void teardown(void)
{
	kernel->destroy(kernel);
	guard->destroy(guard);
	state->destroy(state);
	config->destroy(config);
}

START_TEST(test_restore_order)
{
	ck_assert(kernel->restore(kernel, config, state, guard, "flushed"));
	/* the prohibit default route first, the rules, the table, the routes,
	 * then the prohibit default route goes */
	ck_assert_sent_before("rtnl: replace route prohibit default",
						  "rtnl: add rule");
	ck_assert_sent_before("rtnl: add rule", "nfnl: add table ip tunnel_route");
	ck_assert_sent_before("nfnl: add table ip tunnel_route",
						  "rtnl: replace route 10.64.0.1");
	ck_assert_sent_before("rtnl: replace route 10.64.0.3",
						  "rtnl: delete route prohibit default");
	ck_assert_not_sent("to set ip tunnel_route guard");
	ck_assert_logged("restored table ip tunnel_route with 6 pairs");
	ck_assert_logged("3 routes in table 4242");
}
END_TEST

START_TEST(test_restore_table_fails)
{
	nfnl.fail = "to set ip tunnel_route pairs_hosts";
	ck_assert(!kernel->restore(kernel, config, state, guard, "flushed"));
	/* the table again, with every source in the guard's set */
	ck_assert_sent("to set ip tunnel_route guard");
	ck_assert_sent_before("to set ip tunnel_route pairs_hosts",
						  "to set ip tunnel_route guard");
	/* the routes are restored, the prohibit default route stays */
	ck_assert_sent("rtnl: replace route 10.64.0.2");
	ck_assert_not_sent("delete route prohibit default");
	ck_assert_logged("restoring failed in 1 step, first: tunnel-route: "
					 "restoring table: add element child claims to set ip "
					 "tunnel_route pairs_hosts failed");
	ck_assert_logged("No buffer space available");
	ck_assert_logged("sources blocked (fail-closed)");
}
END_TEST

START_TEST(test_restore_routes_fail)
{
	rtnl.fail = "replace route 10.64.0.2";
	ck_assert(!kernel->restore(kernel, config, state, guard, "flushed"));
	ck_assert_not_sent("to set ip tunnel_route guard");
	/* a route is missing: its traffic meets the prohibit default route */
	ck_assert_not_sent("delete route prohibit default");
	ck_assert_logged("first: tunnel-route: restoring routes: replace route "
					 "10.64.0.2");
	ck_assert_logged("prohibit default route kept (fail-closed)");
}
END_TEST

START_TEST(test_restore_guard_up)
{
	/* the start-up guard needs the prohibit default route: it stays, and
	 * the guard's set is restored with the table */
	guard->up(guard, config);
	sent[0] = '\0';
	ck_assert(kernel->restore(kernel, config, state, guard, "flushed"));
	ck_assert_sent("rtnl: replace route prohibit default");
	ck_assert_sent("to set ip tunnel_route guard");
	ck_assert_not_sent("delete route prohibit default");
}
END_TEST

Suite *make_route_restore_suite()
{
	Suite *s;
	TCase *tc;

	s = suite_create("tunnel-route restore");

	tc = tcase_create("fail-closed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_restore_order);
	tcase_add_test(tc, test_restore_table_fails);
	tcase_add_test(tc, test_restore_routes_fail);
	tcase_add_test(tc, test_restore_guard_up);
	suite_add_tcase(s, tc);

	return s;
}
