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
 * tunnel-nat's kernel object over a fake netlink socket: the transactions
 * that create length classes lazily, rewrite the partner side, and rebuild
 * the table when its partner side changes.
 */

#include "test_suites.h"

#include <stdio.h>

#include <settings/settings.h>
#include <tunnel_nat_kernel.h>

/**
 * A socket that records the descriptions of the messages it is given, and
 * fails a batch holding a message whose description contains fail
 */
typedef struct {
	nl_socket_t public;
	const char *fail;
} fake_socket_t;

/**
 * What was sent since the last reset, one line per message
 */
static char sent[64 * 1024];

static fake_socket_t nfnl;

static bool fake_send(fake_socket_t *this, nl_batch_t *batch,
					  const char *what)
{
	const char *desc;
	bool fail = FALSE;
	u_int i;
	size_t len;

	for (i = 0; i < batch->get_count(batch); i++)
	{
		desc = batch->describe(batch, i) ?: "?";
		len = strlen(sent);
		snprintf(sent + len, sizeof(sent) - len, "%s\n", desc);
		if (this->fail && strstr(desc, this->fail))
		{
			fail = TRUE;
			batch->set_error(batch, "%s failed: No buffer space available "
							 "(105)", desc);
		}
	}
	return !fail;
}

/**
 * The end of what was sent, for a failure message
 */
static char *sent_tail(void)
{
	size_t len = strlen(sent);

	return len > 2000 ? sent + len - 2000 : sent;
}

#define ck_assert_sent(text) \
	ck_assert_msg(strstr(sent, text), "not sent: \"%s\"\nsent:\n...%s", text, \
				  sent_tail())
#define ck_assert_not_sent(text) \
	ck_assert_msg(!strstr(sent, text), "sent: \"%s\"\nsent:\n...%s", text, \
				  sent_tail())

/**
 * Two partners in the /24 and /16 classes of the settings
 */
#define SETTINGS "charon { plugins { tunnel-nat { table = tn_test \n " \
	"partner_zones = 100-199 \n mappings { " \
	"acme { child = acme-net \n remote = 10.9.0.0/%u \n alias = %s/%u } " \
	"globex { child = globex-net \n remote = 10.8.0.0/16 \n " \
	"alias = 100.65.0.0/16 } } } } }"

static tunnel_nat_kernel_t *kernel;
static tunnel_nat_config_t *config;
static tunnel_nat_state_t *state;

static tunnel_nat_config_t *load(const char *alias, u_int len,
								 uint32_t route_mask)
{
	settings_t *settings;
	tunnel_nat_config_t *cfg;
	char text[1024];

	snprintf(text, sizeof(text), SETTINGS, len, alias, len);
	settings = settings_create_string(text);
	cfg = tunnel_nat_config_load(settings, "charon", TRUE);
	settings->destroy(settings);
	ck_assert(cfg);
	ck_assert_uint_eq(cfg->errors, 0);
	cfg->route_mask = route_mask;
	return cfg;
}

static void setup(void)
{
	nfnl = (fake_socket_t){
		.public = {
			.send = (void*)fake_send,
		},
	};
	sent[0] = '\0';
	config = load("100.64.1.0", 24, 0);
	state = tunnel_nat_state_create();
	kernel = tunnel_nat_kernel_create(&nfnl.public);
	ck_assert(kernel->install(kernel, config, NULL, FALSE));
	ck_assert_sent("add map ip tn_test psnat4_l24\n");
	ck_assert_not_sent("psnat4_l32");
	sent[0] = '\0';
}

static void teardown(void)
{
	kernel->destroy(kernel);
	state->destroy(state);
	config->destroy(config);
}

/**
 * An alias zone element of a block of a length, owned by the CHILD_SA id
 * in the state
 */
static array_t *alias_elems(uint32_t alias, uint8_t len)
{
	tunnel_nat_elem_t *e;
	array_t *elems = array_create(0, 0);

	INIT(e,
		.map = TUNNEL_NAT_AZONE,
		.dst_from = alias,
		.dst_to = alias | (len < 32 ? 0xffffffff >> len : 0),
		.value = 100,
		.len = len,
		.comment = "acme",
	);
	array_insert(elems, ARRAY_TAIL, e);
	return elems;
}

static bool commit_nothing(void *user, array_t *add, array_t *del)
{
	return TRUE;
}

/**
 * Give a CHILD_SA a block in the state only
 */
static void own_block(uint32_t id, uint32_t alias, uint8_t len)
{
	array_t *elems = alias_elems(alias, len);

	ck_assert(state->update(state, 0, id, elems, commit_nothing, NULL));
	array_destroy_function(elems, (void*)free, NULL);
}

/**
 * Commit a block for a CHILD_SA, and keep it in the state if that worked
 */
static bool commit_block(uint32_t id, uint32_t alias, uint8_t len)
{
	array_t *elems = alias_elems(alias, len);
	bool ok;

	ok = kernel->commit(kernel, config, elems, NULL, "test", NULL, 0);
	if (ok)
	{
		state->update(state, 0, id, elems, commit_nothing, NULL);
	}
	array_destroy_function(elems, (void*)free, NULL);
	return ok;
}

START_TEST(test_commit_lazy_class)
{
	/* a block of a class of the settings: no new objects */
	ck_assert(commit_block(1, 0x64400100, 24));
	ck_assert_sent("to map ip tn_test azone4_l24\n");
	ck_assert_not_sent("add map");
	ck_assert_not_sent("rule");
	sent[0] = '\0';

	/* the first /32 creates its class in the same transaction, before its
	 * element */
	ck_assert(commit_block(2, 0x64400105, 32));
	ck_assert_sent("begin of transaction\n"
				   "add map ip tn_test azone4_l32\n"
				   "add map ip tn_test amark4_l32\n"
				   "add map ip tn_test adnat4_l32\n"
				   "add map ip tn_test psnat4_l32\n");
	ck_assert_sent("insert rule ip tn_test prerouting");
	ck_assert_sent("to map ip tn_test azone4_l32\nend of transaction\n");
	ck_assert_not_sent("acfg4_l32");
	sent[0] = '\0';

	/* the second finds it */
	ck_assert(commit_block(3, 0x64400106, 32));
	ck_assert_sent("to map ip tn_test azone4_l32\n");
	ck_assert_not_sent("add map");
	ck_assert_not_sent("rule");
}
END_TEST

START_TEST(test_commit_lazy_class_failed)
{
	/* the transaction fails: its class is not there */
	nfnl.fail = "azone4_l32";
	ck_assert(!commit_block(2, 0x64400105, 32));
	nfnl.fail = NULL;
	sent[0] = '\0';
	ck_assert(commit_block(2, 0x64400105, 32));
	ck_assert_sent("add map ip tn_test azone4_l32\n");
}
END_TEST

START_TEST(test_restore_classes)
{
	ck_assert(commit_block(2, 0x64400105, 32));
	sent[0] = '\0';

	/* the table is rebuilt with the classes its elements need */
	ck_assert(kernel->restore(kernel, config, NULL, state, "deleted"));
	ck_assert_sent("delete stale table ip tn_test\n");
	ck_assert_sent("add map ip tn_test psnat4_l32\n");
	ck_assert_sent("add set ip tn_test acfg4_l24\n");
	ck_assert_not_sent("acfg4_l32");
	ck_assert_sent("to map ip tn_test azone4_l32\n");
	sent[0] = '\0';

	/* ... and then knows it has it */
	ck_assert(commit_block(3, 0x64400106, 32));
	ck_assert_not_sent("add map");

	/* once no element needs it, the next rebuild leaves it out */
	state->update(state, 2, 0, NULL, commit_nothing, NULL);
	state->update(state, 3, 0, NULL, commit_nothing, NULL);
	ck_assert(kernel->restore(kernel, config, NULL, state, "deleted"));
	sent[0] = '\0';
	ck_assert(commit_block(2, 0x64400105, 32));
	ck_assert_sent("add map ip tn_test psnat4_l32\n");
}
END_TEST

START_TEST(test_resync_partner)
{
	ck_assert(commit_block(1, 0x64400100, 24));
	sent[0] = '\0';
	/* the state holds a block whose class the table lacks (as after a
	 * failed commit) */
	own_block(2, 0x64400205, 32);
	ck_assert(kernel->resync(kernel, config, state, "test"));
	ck_assert_not_sent("table");
	/* the partner maps are flushed along with the P side's, the
	 * configured aliases written again */
	ck_assert_sent("flush set ip tn_test dnat4\n");
	ck_assert_sent("flush set ip tn_test pzone4\n");
	ck_assert_sent("flush set ip tn_test psnat4_l16\n");
	ck_assert_sent("flush set ip tn_test azone4_l24\n");
	ck_assert_sent("flush set ip tn_test acfg4_l24\n"
				   "add element 100.64.1.0/24 to set ip tn_test acfg4_l24\n");
	ck_assert_sent("add map ip tn_test azone4_l32\n");
	ck_assert_sent("to map ip tn_test azone4_l24\n");
	ck_assert_sent("to map ip tn_test azone4_l32\n");
}
END_TEST

START_TEST(test_reload_same_classes)
{
	tunnel_nat_config_t *reloaded;
	array_t *none = array_create(0, 0);

	/* another alias of the same length: the configured aliases are
	 * written again, the table stays */
	reloaded = load("100.64.9.0", 24, 0);
	ck_assert(kernel->reload(kernel, reloaded, state, none, none, "test",
							 NULL, 0));
	ck_assert_not_sent("table");
	ck_assert_sent("flush set ip tn_test acfg4_l24\n"
				   "add element 100.64.9.0/24 to set ip tn_test acfg4_l24\n");
	config->destroy(config);
	config = reloaded;
	array_destroy(none);
}
END_TEST

START_TEST(test_reload_rebuild)
{
	tunnel_nat_config_t *reloaded;
	array_t *none = array_create(0, 0);
	char rule[128];

	ck_assert(commit_block(1, 0x64400100, 24));
	sent[0] = '\0';
	if (_i == 0)
	{	/* tunnel-route loaded since: the SNAT keys on other mark bits */
		reloaded = load("100.64.1.0", 24, 0xff000000);
	}
	else
	{	/* a class of the settings more, the /25 */
		reloaded = load("100.64.1.0", 25, 0);
	}
	state->update(state, 1, 0, NULL, commit_nothing, NULL);
	own_block(1, 0x64400100, 25);
	ck_assert(kernel->reload(kernel, reloaded, state, none, none, "test",
							 NULL, 0));
	ck_assert_sent("delete stale table ip tn_test\n");
	ck_assert_sent("to map ip tn_test azone4_l25\n");
	snprintf(rule, sizeof(rule), "add set ip tn_test acfg4_l%u\n",
			 _i ? 25 : 24);
	ck_assert_sent(rule);
	config->destroy(config);
	config = reloaded;
	sent[0] = '\0';

	/* the same again: nothing to rebuild */
	ck_assert(kernel->reload(kernel, config, state, none, none, "test",
							 NULL, 0));
	ck_assert_not_sent("table");
	array_destroy(none);
}
END_TEST

START_TEST(test_reload_counters)
{
	tunnel_nat_config_t *reloaded;
	tunnel_nat_elem_t *e;
	array_t *none = array_create(0, 0), *elems = array_create(0, 0);

	/* a 1:1 translation of a CHILD_SA: with counters (the default), its
	 * keys go to the counting set too */
	INIT(e,
		.map = TUNNEL_NAT_DNAT,
		.src_from = 0xc6336402, .src_to = 0xc6336402,
		.dst_from = 0xc0000264, .dst_to = 0xc0000264,
		.nat_from = 0x0a01000a, .nat_to = 0x0a01000a,
		.comment = "child claims",
	);
	array_insert(elems, ARRAY_TAIL, e);
	ck_assert(kernel->commit(kernel, config, elems, NULL, "test", NULL, 0));
	ck_assert(state->update(state, 0, 1, elems, commit_nothing, NULL));
	ck_assert_sent("to map ip tn_test dnat4\n");
	ck_assert_sent("to set ip tn_test dnat4_count\n");

	/* counters = no: the table is rebuilt without the counting sets */
	sent[0] = '\0';
	reloaded = load("100.64.1.0", 24, 0);
	reloaded->counters = FALSE;
	ck_assert(kernel->reload(kernel, reloaded, state, none, none, "test",
							 NULL, 0));
	ck_assert_sent("delete stale table ip tn_test\n");
	ck_assert_sent("to map ip tn_test dnat4\n");
	ck_assert_not_sent("_count");
	config->destroy(config);
	config = reloaded;

	/* and so are the next commits, and a resync */
	sent[0] = '\0';
	ck_assert(kernel->commit(kernel, config, NULL, elems, "test", NULL, 0));
	ck_assert(kernel->resync(kernel, config, state, "test"));
	ck_assert_sent("from map ip tn_test dnat4\n");
	ck_assert_not_sent("_count");

	/* counters = yes again: rebuilt with them, the element counted */
	sent[0] = '\0';
	reloaded = load("100.64.1.0", 24, 0);
	ck_assert(kernel->reload(kernel, reloaded, state, none, none, "test",
							 NULL, 0));
	ck_assert_sent("delete stale table ip tn_test\n");
	ck_assert_sent("add set ip tn_test dnat4_count\n");
	ck_assert_sent("to set ip tn_test dnat4_count\n");
	config->destroy(config);
	config = reloaded;
	array_destroy_function(elems, (void*)free, NULL);
	array_destroy(none);
}
END_TEST

Suite *make_nat_kernel_suite(void)
{
	Suite *s = suite_create("tunnel-nat kernel");
	TCase *tc;

	tc = tcase_create("length classes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_commit_lazy_class);
	tcase_add_test(tc, test_commit_lazy_class_failed);
	tcase_add_test(tc, test_restore_classes);
	tcase_add_test(tc, test_resync_partner);
	tcase_add_test(tc, test_reload_same_classes);
	tcase_add_loop_test(tc, test_reload_rebuild, 0, 2);
	tcase_add_test(tc, test_reload_counters);
	suite_add_tcase(s, tc);
	return s;
}
