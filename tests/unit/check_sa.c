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

#include <arpa/inet.h>

#include <tunnel_nat_sa.h>
#include <tunnel_nat_zones.h>
#include <tunnel_util.h>

#include <settings/settings.h>

#define PRE "charon { plugins { tunnel-nat { "
#define POST " } } }"

#define ACME "acme { child = acme-net \n remote = 10.9.0.0/24 \n alias = 100.64.1.0/24 } "

static uint32_t a(const char *str)
{
	struct in_addr in;

	ck_assert(inet_pton(AF_INET, str, &in) == 1);
	return ntohl(in.s_addr);
}

/**
 * A CHILD_SA and its config, with what tunnel_nat_sa_create() reads
 */
typedef struct {
	child_sa_t sa;
	child_cfg_t cfg;
	char *name;
	uint32_t reqid, if_id_in, if_id_out;
	mark_t mark_in, mark_out;
	/** traffic_selector_t*: negotiated local, remote; configured local */
	linked_list_t *lts, *rts, *cfg_lts;
} fake_child_t;

#define FAKE(cfg) ((fake_child_t*)((char*)(cfg) - offsetof(fake_child_t, cfg)))

static char *fake_get_name(child_sa_t *sa)
{
	return ((fake_child_t*)sa)->name;
}

static uint32_t fake_get_reqid(child_sa_t *sa)
{
	return ((fake_child_t*)sa)->reqid;
}

static mark_t fake_get_mark(child_sa_t *sa, bool inbound)
{
	fake_child_t *f = (fake_child_t*)sa;

	return inbound ? f->mark_in : f->mark_out;
}

static uint32_t fake_get_if_id(child_sa_t *sa, bool inbound)
{
	fake_child_t *f = (fake_child_t*)sa;

	return inbound ? f->if_id_in : f->if_id_out;
}

static child_cfg_t *fake_get_config(child_sa_t *sa)
{
	return &((fake_child_t*)sa)->cfg;
}

static enumerator_t *fake_ts_enumerator(child_sa_t *sa, bool local)
{
	fake_child_t *f = (fake_child_t*)sa;

	return (local ? f->lts : f->rts)->create_enumerator(local ? f->lts : f->rts);
}

#ifdef HAVE_SW_SELECT_TRAFFIC_SELECTORS
static linked_list_t *fake_get_ts(child_cfg_t *cfg, bool local,
								  linked_list_t *hosts)
#else
static linked_list_t *fake_get_ts(child_cfg_t *cfg, bool local,
								  linked_list_t *supplied, linked_list_t *hosts,
								  bool log)
#endif
{
	fake_child_t *f = FAKE(cfg);

	ck_assert(local);
	return f->cfg_lts->clone_offset(f->cfg_lts,
									offsetof(traffic_selector_t, clone));
}

static traffic_selector_t *ts(const char *from, const char *to)
{
	traffic_selector_t *ts;

	ts = traffic_selector_create_from_string(0, TS_IPV4_ADDR_RANGE,
											 (char*)from, 0, (char*)to, 65535);
	ck_assert(ts);
	return ts;
}

/**
 * A fake CHILD_SA acme-net with reqid 5 and marks 0x11, 0x12
 * (mask 0x00ffffff), local_ts 192.0.2.100 (configured and negotiated)
 */
static fake_child_t *fake_create()
{
	fake_child_t *f;

	INIT(f,
		.sa = {
			.get_name = fake_get_name,
			.get_reqid = fake_get_reqid,
			.get_mark = fake_get_mark,
			.get_if_id = fake_get_if_id,
			.get_config = fake_get_config,
			.create_ts_enumerator = fake_ts_enumerator,
		},
		.cfg = {
			.get_traffic_selectors = fake_get_ts,
		},
		.name = "acme-net",
		.reqid = 5,
		.mark_in = { .value = 0x11, .mask = 0x00ffffff },
		.mark_out = { .value = 0x12, .mask = 0x00ffffff },
		.lts = linked_list_create(),
		.rts = linked_list_create(),
		.cfg_lts = linked_list_create(),
	);
	f->lts->insert_last(f->lts, ts("192.0.2.100", "192.0.2.100"));
	f->cfg_lts->insert_last(f->cfg_lts, ts("192.0.2.100", "192.0.2.100"));
	return f;
}

static void fake_destroy(fake_child_t *f)
{
	f->lts->destroy_offset(f->lts, offsetof(traffic_selector_t, destroy));
	f->rts->destroy_offset(f->rts, offsetof(traffic_selector_t, destroy));
	f->cfg_lts->destroy_offset(f->cfg_lts,
							   offsetof(traffic_selector_t, destroy));
	free(f);
}

static tunnel_nat_config_t *load(const char *mappings)
{
	tunnel_nat_config_t *config;
	settings_t *settings;
	char *text;

	ck_assert(asprintf(&text, PRE "mappings { %s }" POST, mappings) > 0);
	settings = settings_create_string(text);
	config = tunnel_nat_config_load(settings, "charon", FALSE);
	ck_assert(config);
	ck_assert_uint_eq(config->errors, 0);
	settings->destroy(settings);
	free(text);
	return config;
}

START_TEST(test_record)
{
	fake_child_t *f = fake_create();
	tunnel_nat_ts_pair_t pair;
	tunnel_nat_sa_t *rec;
	uint32_t range[2];

	f->lts->insert_last(f->lts, ts("192.0.2.200", "192.0.2.201"));
	f->rts->insert_last(f->rts, ts("10.9.0.0", "10.9.0.255"));
	f->if_id_in = 7;
	f->if_id_out = 8;
	rec = tunnel_nat_sa_create(&f->sa);
	ck_assert_str_eq(rec->name, "acme-net");
	ck_assert_uint_eq(rec->reqid, 5);
	ck_assert_uint_eq(rec->mark_in.value, 0x11);
	ck_assert_uint_eq(rec->mark_in.mask, 0x00ffffff);
	ck_assert_uint_eq(rec->mark_out.value, 0x12);
	ck_assert_uint_eq(rec->mark_out.mask, 0x00ffffff);
	ck_assert_uint_eq(rec->if_id_in, 7);
	ck_assert_uint_eq(rec->if_id_out, 8);
	ck_assert_uint_eq(array_count(rec->pairs), 2);
	array_get(rec->pairs, 1, &pair);
	ck_assert_uint_eq(pair.lfrom, a("192.0.2.200"));
	ck_assert_uint_eq(pair.lto, a("192.0.2.201"));
	ck_assert_uint_eq(pair.rfrom, a("10.9.0.0"));
	ck_assert_uint_eq(pair.rto, a("10.9.0.255"));
	ck_assert_uint_eq(array_count(rec->configured), 1);
	array_get(rec->configured, 0, range);
	ck_assert_uint_eq(range[0], a("192.0.2.100"));
	ck_assert_uint_eq(range[1], a("192.0.2.100"));
	tunnel_nat_sa_destroy(rec);
	fake_destroy(f);
}
END_TEST

/**
 * Negotiated remote selectors (first, last; NULL ends), the blocks they
 * must give (remote/len => alias), and a text that must be logged
 */
typedef struct {
	char *mappings;
	char *rts[4][2];
	struct {
		char *remote, *alias;
		uint8_t len;
	} blocks[6];
	char *logged, *logged2;
} block_test_t;

#define ACME2 "acme2 { child = acme-net \n remote = 10.9.1.0/24 \n alias = 100.64.3.0/24 } "

static block_test_t block_tests[] = {
	/* negotiated = configured */
	{ ACME, {{ "10.9.0.0", "10.9.0.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }}, NULL },
	/* a narrower selector translates only its part, host bits kept */
	{ ACME, {{ "10.9.0.5", "10.9.0.5" }},
	  {{ "10.9.0.5", "100.64.1.5", 32 }}, NULL },
	/* a range that is no prefix: the fewest prefixes */
	{ ACME, {{ "10.9.0.5", "10.9.0.12" }},
	  {{ "10.9.0.5", "100.64.1.5", 32 }, { "10.9.0.6", "100.64.1.6", 31 },
	   { "10.9.0.8", "100.64.1.8", 30 }, { "10.9.0.12", "100.64.1.12", 32 }},
	  NULL },
	/* adjacent and repeated selectors are merged first */
	{ ACME, {{ "10.9.0.128", "10.9.0.255" }, { "10.9.0.0", "10.9.0.127" },
			 { "10.9.0.0", "10.9.0.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }}, NULL },
	/* a wider selector: the rest cannot be carried */
	{ ACME, {{ "10.9.0.0", "10.9.1.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }},
	  "CHILD_SA acme-net{3}: remote traffic selector 10.9.0.0/23 is not within "
	  "mappings.acme.remote: flows the partner starts from 10.9.1.0/24 cannot "
	  "be translated and are dropped" },
	{ ACME, {{ "0.0.0.0", "255.255.255.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }},
	  "selector 0.0.0.0/0 is not within mappings.acme.remote: flows the "
	  "partner starts from 0.0.0.0-10.8.255.255 cannot",
	  "from 10.9.1.0-255.255.255.255 cannot" },
	/* one address outside, before and after */
	{ ACME, {{ "10.8.255.255", "10.9.0.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }},
	  "selector 10.8.255.255-10.9.0.255 is not within mappings.acme.remote: "
	  "flows the partner starts from 10.8.255.255 cannot" },
	{ ACME, {{ "10.9.0.0", "10.9.1.0" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }},
	  "flows the partner starts from 10.9.1.0 cannot" },
	/* no overlap: nothing, and the mapping is named */
	{ ACME, {{ "10.8.0.0", "10.8.0.255" }}, {},
	  "negotiated remote traffic selectors of CHILD_SA acme-net{3} do not "
	  "overlap mappings.acme.remote = 10.9.0.0/24, partner-side mapping not "
	  "applied",
	  "selector 10.8.0.0/24 is not within mappings.acme.remote" },
	/* two partner-side mappings of one child cover a selector together */
	{ ACME ACME2, {{ "10.9.0.0", "10.9.1.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }, { "10.9.1.0", "100.64.3.0", 24 }},
	  NULL },
	{ ACME ACME2, {{ "10.9.0.0", "10.9.3.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }, { "10.9.1.0", "100.64.3.0", 24 }},
	  "selector 10.9.0.0/22 is not within mappings.acme.remote or "
	  "mappings.acme2.remote: flows the partner starts from 10.9.2.0/23" },
	/* a gap between the two remotes */
	{ ACME "acme3 { child = acme-net \n remote = 10.9.2.0/24 \n alias = 100.64.4.0/24 } ",
	  {{ "10.9.0.0", "10.9.2.255" }},
	  {{ "10.9.0.0", "100.64.1.0", 24 }, { "10.9.2.0", "100.64.4.0", 24 }},
	  "flows the partner starts from 10.9.1.0/24 cannot" },
};

START_TEST(test_blocks)
{
	block_test_t *t = &block_tests[_i];
	tunnel_nat_config_t *config;
	tunnel_nat_sa_t *rec;
	fake_child_t *f;
	array_t *blocks;
	u_int i, n = 0;

	config = load(t->mappings);
	f = fake_create();
	for (i = 0; i < countof(t->rts) && t->rts[i][0]; i++)
	{
		f->rts->insert_last(f->rts, ts(t->rts[i][0], t->rts[i][1]));
	}
	/* a second local selector repeats each remote one */
	f->lts->insert_last(f->lts, ts("192.0.2.101", "192.0.2.101"));
	rec = tunnel_nat_sa_create(&f->sa);
	blocks = array_create(sizeof(tunnel_nat_block_t), 0);
	test_log_reset();
	ck_assert(tunnel_nat_sa_partner(config, rec, 3, 0, TRUE, blocks));
	while (n < countof(t->blocks) && t->blocks[n].remote)
	{
		n++;
	}
	ck_assert_uint_eq(array_count(blocks), n);
	for (i = 0; i < n; i++)
	{
		tunnel_nat_block_t b;

		array_get(blocks, i, &b);
		ck_assert_uint_eq(b.remote, a(t->blocks[i].remote));
		ck_assert_uint_eq(b.alias, a(t->blocks[i].alias));
		ck_assert_uint_eq(b.len, t->blocks[i].len);
		ck_assert(b.map && b.map->has_partner);
		ck_assert(b.remote >= b.map->remote &&
				  b.remote - b.map->remote == b.alias - b.map->alias);
	}
	if (t->logged)
	{
		ck_assert_logged(t->logged);
	}
	if (t->logged2)
	{
		ck_assert_logged(t->logged2);
	}
	if (!t->logged)
	{
		ck_assert_str_eq(test_log(), "");
	}
	/* a reload computes them again without logging */
	test_log_reset();
	array_destroy(blocks);
	blocks = array_create(sizeof(tunnel_nat_block_t), 0);
	ck_assert(tunnel_nat_sa_partner(config, rec, 3, 0, FALSE, blocks));
	ck_assert_uint_eq(array_count(blocks), n);
	ck_assert_str_eq(test_log(), "");
	array_destroy(blocks);
	tunnel_nat_sa_destroy(rec);
	fake_destroy(f);
	config->destroy(config);
}
END_TEST

/**
 * XFRM marks and interface ids of the CHILD_SA, tunnel-route's mark mask,
 * and the refusal that must be logged (NULL: accepted)
 */
typedef struct {
	uint32_t in, in_mask, out, out_mask, if_in, if_out, route_mask;
	char *logged;
} refusal_test_t;

static refusal_test_t refusal_tests[] = {
	{ 0x11, 0x00ffffff, 0x12, 0x00ffffff, 0, 0, 0, NULL },
	/* static marks without a mask (0xffffffff) */
	{ 0x101, 0xffffffff, 0x101, 0xffffffff, 0, 0, 0, NULL },
	/* tunnel-route's default bits outside the marks' masks */
	{ 0x11, 0x00ffffff, 0x12, 0x00ffffff, 0, 0, 0xff000000, NULL },
	{ 0, 0, 0, 0, 0, 0, 0,
	  "tunnel-nat: CHILD_SA acme-net{3}: partner-side mapping 'acme' needs "
	  "mark_in and mark_out (e.g. %unique/0x00ffffff) in its swanctl.conf child" },
	{ 0x11, 0x00ffffff, 0, 0, 0, 0, 0,
	  "partner-side mapping 'acme' needs mark_in and mark_out" },
	{ 0, 0, 0x12, 0x00ffffff, 0, 0, 0,
	  "partner-side mapping 'acme' needs mark_in and mark_out" },
	/* any if_id, with marks or without */
	{ 0x11, 0x00ffffff, 0x12, 0x00ffffff, 7, 7, 0,
	  "tunnel-nat: CHILD_SA acme-net{3}: partner-side mapping 'acme' cannot use "
	  "if_id_in/if_id_out (XFRM interfaces, here 7/7); remove them from its "
	  "swanctl.conf child" },
	{ 0x11, 0x00ffffff, 0x12, 0x00ffffff, 0, 9, 0,
	  "cannot use if_id_in/if_id_out (XFRM interfaces, here 0/9)" },
	{ 0, 0, 0, 0, 7, 0, 0,
	  "cannot use if_id_in/if_id_out (XFRM interfaces, here 7/0)" },
	/* a value outside its mask */
	{ 0x01000001, 0x00ffffff, 0x12, 0x00ffffff, 0, 0, 0,
	  "partner-side mapping 'acme' refused: mark_in value 0x01000001 is "
	  "outside its mask 0x00ffffff, the kernel would never match its policies" },
	{ 0x11, 0x00ffffff, 0x12, 0x0000000f, 0, 0, 0,
	  "mark_out value 0x00000012 is outside its mask 0x0000000f" },
	/* a mask overlapping tunnel-route's */
	{ 0x11, 0x000000ff, 0x12, 0x00ffffff, 0, 0, 0x0000ff00,
	  "partner-side mapping 'acme' refused: the mask 0x00ffffff of mark_out "
	  "overlaps tunnel-route's mark mask 0x0000ff00; give mark_out a mask "
	  "without those bits in its swanctl.conf child" },
	{ 0x11, 0xffffffff, 0x12, 0x000000ff, 0, 0, 0xff000000,
	  "the mask 0xffffffff of mark_in overlaps tunnel-route's mark mask 0xff000000" },
};

START_TEST(test_refusals)
{
	refusal_test_t *t = &refusal_tests[_i];
	tunnel_nat_config_t *config;
	tunnel_nat_sa_t *rec;
	fake_child_t *f;
	array_t *blocks;

	config = load(ACME);
	f = fake_create();
	f->rts->insert_last(f->rts, ts("10.9.0.0", "10.9.0.255"));
	f->mark_in = (mark_t){ .value = t->in, .mask = t->in_mask };
	f->mark_out = (mark_t){ .value = t->out, .mask = t->out_mask };
	f->if_id_in = t->if_in;
	f->if_id_out = t->if_out;
	rec = tunnel_nat_sa_create(&f->sa);
	blocks = array_create(sizeof(tunnel_nat_block_t), 0);
	test_log_reset();
	ck_assert(tunnel_nat_sa_partner(config, rec, 3, t->route_mask, TRUE,
									blocks) == !t->logged);
	if (t->logged)
	{
		ck_assert_logged(t->logged);
		ck_assert_uint_eq(array_count(blocks), 0);
		/* not logged again on a reload */
		test_log_reset();
		ck_assert(!tunnel_nat_sa_partner(config, rec, 3, t->route_mask, FALSE,
										 blocks));
		ck_assert_str_eq(test_log(), "");
	}
	else
	{
		ck_assert_str_eq(test_log(), "");
		ck_assert_uint_eq(array_count(blocks), 1);
	}
	ck_assert_uint_eq(array_count(blocks), t->logged ? 0 : 1);
	array_destroy(blocks);
	tunnel_nat_sa_destroy(rec);
	fake_destroy(f);
	config->destroy(config);
}
END_TEST

/**
 * A child without partner-side mappings needs no marks, and its P side is
 * built as before
 */
START_TEST(test_p_side_only)
{
	tunnel_nat_config_t *config;
	tunnel_nat_elem_t *elem;
	tunnel_nat_sa_t *rec;
	fake_child_t *f;
	array_t *blocks, *elems;

	config = load(ACME "p { child = acme-net \n public = 192.0.2.100 \n "
				  "private = 10.1.0.10 } other { child = other-net \n "
				  "remote = 10.9.0.0/24 \n alias = 100.64.2.0/24 }");
	f = fake_create();
	f->name = "p-net";
	f->mark_in = f->mark_out = (mark_t){};
	f->rts->insert_last(f->rts, ts("10.9.0.0", "10.9.0.255"));
	rec = tunnel_nat_sa_create(&f->sa);
	blocks = array_create(sizeof(tunnel_nat_block_t), 0);
	test_log_reset();
	ck_assert(tunnel_nat_sa_partner(config, rec, 3, 0, TRUE, blocks));
	ck_assert_uint_eq(array_count(blocks), 0);
	ck_assert_str_eq(test_log(), "");
	tunnel_nat_sa_destroy(rec);

	/* acme-net: refused for its partner side, its P side unchanged */
	f->name = "acme-net";
	rec = tunnel_nat_sa_create(&f->sa);
	ck_assert(!tunnel_nat_sa_partner(config, rec, 3, 0, TRUE, blocks));
	ck_assert_logged("needs mark_in and mark_out");
	elems = tunnel_nat_sa_elems(config, rec, 3, TRUE);
	ck_assert(elems);
	ck_assert_uint_eq(array_count(elems), 2);
	array_get(elems, 0, &elem);
	ck_assert_int_eq(elem->map, TUNNEL_NAT_DNAT);
	ck_assert_uint_eq(elem->dst_from, a("192.0.2.100"));
	ck_assert_uint_eq(elem->nat_from, a("10.1.0.10"));
	array_destroy_function(elems, (void*)free, NULL);
	array_destroy(blocks);
	tunnel_nat_sa_destroy(rec);
	fake_destroy(f);
	config->destroy(config);
}
END_TEST

/**
 * Remote selectors, and the partner-side elements they must give (as
 * tunnel_nat_elem_str() prints them, with their comment)
 */
typedef struct {
	char *mappings;
	char *rts[2][2];
	char *elems[12];
} elems_test_t;

static elems_test_t elems_tests[] = {
	{ ACME, {{ "10.9.0.0", "10.9.0.255" }}, {
		"partner zone reqid 5 => 4096 (acme acme-net{3})",
		"partner mark reqid 5 => 0x00000011 (acme acme-net{3})",
		"alias zone 100.64.1.0/24 => 4096 (acme acme-net{3})",
		"alias mark 100.64.1.0/24 => 0x00000012 (acme acme-net{3})",
		"alias DNAT 100.64.1.0/24 => 10.9.0.0/24 (acme acme-net{3})",
		"partner SNAT 0x00000011 . 10.9.0.0/24 => 100.64.1.0/24 (acme acme-net{3})",
	}},
	/* a /32 out of the mapping, as in the load lab */
	{ ACME, {{ "10.9.0.7", "10.9.0.7" }}, {
		"partner zone reqid 5 => 4096 (acme acme-net{3})",
		"partner mark reqid 5 => 0x00000011 (acme acme-net{3})",
		"alias zone 100.64.1.7 => 4096 (acme acme-net{3})",
		"alias mark 100.64.1.7 => 0x00000012 (acme acme-net{3})",
		"alias DNAT 100.64.1.7 => 10.9.0.7 (acme acme-net{3})",
		"partner SNAT 0x00000011 . 10.9.0.7 => 100.64.1.7 (acme acme-net{3})",
	}},
	/* two mappings: one binding, a block each */
	{ ACME ACME2, {{ "10.9.0.0", "10.9.1.255" }}, {
		"partner zone reqid 5 => 4096 (acme acme-net{3})",
		"partner mark reqid 5 => 0x00000011 (acme acme-net{3})",
		"alias zone 100.64.1.0/24 => 4096 (acme acme-net{3})",
		"alias mark 100.64.1.0/24 => 0x00000012 (acme acme-net{3})",
		"alias DNAT 100.64.1.0/24 => 10.9.0.0/24 (acme acme-net{3})",
		"partner SNAT 0x00000011 . 10.9.0.0/24 => 100.64.1.0/24 (acme acme-net{3})",
		"alias zone 100.64.3.0/24 => 4096 (acme2 acme-net{3})",
		"alias mark 100.64.3.0/24 => 0x00000012 (acme2 acme-net{3})",
		"alias DNAT 100.64.3.0/24 => 10.9.1.0/24 (acme2 acme-net{3})",
		"partner SNAT 0x00000011 . 10.9.1.0/24 => 100.64.3.0/24 (acme2 acme-net{3})",
	}},
	/* no overlap: nothing at all, not even the reqid's zone */
	{ ACME, {{ "10.8.0.0", "10.8.0.255" }}, {}},
};

START_TEST(test_partner_elems)
{
	elems_test_t *t = &elems_tests[_i];
	tunnel_nat_config_t *config;
	tunnel_nat_elem_t *elem;
	tunnel_nat_sa_t *rec;
	fake_child_t *f;
	array_t *blocks, *elems;
	char buf[160];
	u_int i, n = 0;
	int len;

	config = load(t->mappings);
	f = fake_create();
	for (i = 0; i < countof(t->rts) && t->rts[i][0]; i++)
	{
		f->rts->insert_last(f->rts, ts(t->rts[i][0], t->rts[i][1]));
	}
	rec = tunnel_nat_sa_create(&f->sa);
	blocks = array_create(sizeof(tunnel_nat_block_t), 0);
	elems = array_create(0, 0);
	ck_assert(tunnel_nat_sa_partner(config, rec, 3, 0, FALSE, blocks));
	tunnel_nat_sa_partner_elems(rec, 3, blocks, 4096, elems);
	while (n < countof(t->elems) && t->elems[n])
	{
		n++;
	}
	ck_assert_uint_eq(array_count(elems), n);
	for (i = 0; i < n; i++)
	{
		array_get(elems, i, &elem);
		ck_assert(tunnel_nat_map_is_partner(elem->map));
		tunnel_nat_elem_str(elem, buf, sizeof(buf));
		len = strlen(buf);
		snprintf(buf + len, sizeof(buf) - len, " (%s)", elem->comment);
		ck_assert_str_eq(buf, t->elems[i]);
	}
	array_destroy_function(elems, (void*)free, NULL);
	array_destroy(blocks);
	tunnel_nat_sa_destroy(rec);
	fake_destroy(f);
	config->destroy(config);
}
END_TEST

/**
 * The fields the nft layer will read, beyond what the string shows
 */
START_TEST(test_partner_elem_fields)
{
	tunnel_nat_config_t *config;
	tunnel_nat_elem_t *elem;
	tunnel_nat_sa_t *rec;
	fake_child_t *f;
	array_t *blocks, *elems;
	u_int i;

	config = load(ACME);
	f = fake_create();
	f->rts->insert_last(f->rts, ts("10.9.0.0", "10.9.0.255"));
	rec = tunnel_nat_sa_create(&f->sa);
	blocks = array_create(sizeof(tunnel_nat_block_t), 0);
	elems = array_create(0, 0);
	ck_assert(tunnel_nat_sa_partner(config, rec, 3, 0, FALSE, blocks));
	tunnel_nat_sa_partner_elems(rec, 3, blocks, 4096, elems);
	ck_assert_uint_eq(array_count(elems), 6);
	for (i = 0; i < 6; i++)
	{
		array_get(elems, i, &elem);
		ck_assert_int_eq(elem->map, TUNNEL_NAT_PZONE + i);
		ck_assert_uint_eq(elem->proto, 0);
		ck_assert_uint_eq(elem->port, 0);
		switch (elem->map)
		{
			case TUNNEL_NAT_PZONE:
			case TUNNEL_NAT_PMARK:
				ck_assert_uint_eq(elem->bind, 5);
				ck_assert_uint_eq(elem->len, 0);
				ck_assert_uint_eq(elem->dst_from | elem->src_from |
								  elem->nat_from, 0);
				break;
			case TUNNEL_NAT_PSNAT:
				ck_assert_uint_eq(elem->bind, 0x11);
				ck_assert_uint_eq(elem->len, 24);
				ck_assert_uint_eq(elem->value, 0);
				ck_assert_uint_eq(elem->src_from, a("10.9.0.0"));
				ck_assert_uint_eq(elem->src_to, a("10.9.0.255"));
				ck_assert_uint_eq(elem->dst_from | elem->dst_to, 0);
				ck_assert_uint_eq(elem->nat_from, a("100.64.1.0"));
				ck_assert_uint_eq(elem->nat_to, a("100.64.1.255"));
				break;
			default:
				ck_assert_uint_eq(elem->bind, 0);
				ck_assert_uint_eq(elem->len, 24);
				ck_assert_uint_eq(elem->src_from | elem->src_to, 0);
				ck_assert_uint_eq(elem->dst_from, a("100.64.1.0"));
				ck_assert_uint_eq(elem->dst_to, a("100.64.1.255"));
				break;
		}
	}
	array_destroy_function(elems, (void*)free, NULL);
	array_destroy(blocks);
	tunnel_nat_sa_destroy(rec);
	fake_destroy(f);
	config->destroy(config);
}
END_TEST

START_TEST(test_zones_elems)
{
	tunnel_nat_config_t *config, *other;
	tunnel_nat_zones_t *zones;
	tunnel_nat_elem_t *elem;
	tunnel_nat_sa_t *rec;
	fake_child_t *f;
	array_t *elems;
	u_int i, pzone = 0, dnat = 0;

	config = load(ACME "p { child = acme-net \n public = 192.0.2.100 \n "
				  "private = 10.1.0.10 }");
	zones = tunnel_nat_zones_assign(NULL, config, FALSE);
	f = fake_create();
	f->rts->insert_last(f->rts, ts("10.9.0.0", "10.9.0.255"));
	rec = tunnel_nat_sa_create(&f->sa);

	/* the P side and the partner side, with the config's zone */
	elems = tunnel_nat_zones_elems(zones, config, rec, 3, FALSE);
	ck_assert(elems);
	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		if (elem->map == TUNNEL_NAT_PZONE)
		{
			ck_assert_uint_eq(elem->bind, 5);
			ck_assert_uint_eq(elem->value, 4096);
			pzone++;
		}
		dnat += elem->map == TUNNEL_NAT_DNAT;
	}
	ck_assert_uint_eq(pzone, 1);
	ck_assert_uint_eq(dnat, 1);
	ck_assert_uint_eq(array_count(elems), 2 + 6);
	array_destroy_function(elems, (void*)free, NULL);
	tunnel_nat_sa_destroy(rec);

	/* marks in tunnel-route's bits: the partner side is refused */
	config->route_mask = 0x00ff0000;
	rec = tunnel_nat_sa_create(&f->sa);
	test_log_reset();
	elems = tunnel_nat_zones_elems(zones, config, rec, 3, TRUE);
	ck_assert_uint_eq(array_count(elems), 2);
	ck_assert_logged("overlaps tunnel-route's mark mask 0x00ff0000");
	array_destroy_function(elems, (void*)free, NULL);
	tunnel_nat_sa_destroy(rec);
	zones->destroy(zones);

	/* no zone for the config: no partner side */
	config->route_mask = 0;
	other = load("p { child = x \n public = 192.0.2.1 \n private = 10.1.0.1 }");
	zones = tunnel_nat_zones_assign(NULL, other, FALSE);
	other->destroy(other);
	rec = tunnel_nat_sa_create(&f->sa);
	elems = tunnel_nat_zones_elems(zones, config, rec, 3, FALSE);
	ck_assert_uint_eq(array_count(elems), 2);
	array_destroy_function(elems, (void*)free, NULL);
	tunnel_nat_sa_destroy(rec);
	zones->destroy(zones);
	fake_destroy(f);
	config->destroy(config);
}
END_TEST

Suite *make_sa_suite(void)
{
	Suite *s = suite_create("sa");
	TCase *tc;

	tc = tcase_create("CHILD_SA record");
	tcase_add_test(tc, test_record);
	suite_add_tcase(s, tc);

	tc = tcase_create("alias blocks from remote_ts and remote");
	tcase_add_loop_test(tc, test_blocks, 0, countof(block_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("partner-side refusals at up");
	tcase_add_loop_test(tc, test_refusals, 0, countof(refusal_tests));
	tcase_add_test(tc, test_p_side_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("partner-side elements from blocks");
	tcase_add_loop_test(tc, test_partner_elems, 0, countof(elems_tests));
	tcase_add_test(tc, test_partner_elem_fields);
	tcase_add_test(tc, test_zones_elems);
	suite_add_tcase(s, tc);
	return s;
}
