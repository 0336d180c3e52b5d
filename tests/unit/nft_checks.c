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

#include "nft_checks.h"
#include "nft_msgs.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

/**
 * Strings of fmt(), until free_strs()
 */
static char *strs[64];
static int nstrs;

/*
 * Described in header
 */
char *fmt(const char *format, ...)
{
	va_list args;
	char *str;

	va_start(args, format);
	ck_assert_int_ge(vasprintf(&str, format, args), 0);
	va_end(args);
	ck_assert_int_lt(nstrs, countof(strs));
	strs[nstrs++] = str;
	return str;
}

/*
 * Described in header
 */
void free_strs(void)
{
	while (nstrs)
	{
		free(strs[--nstrs]);
	}
}

static int typeof_data_cb(const struct nftnl_udata *attr, void *data)
{
	typeof_t *t = data;

	if (nftnl_udata_type(attr) == 0)
	{
		t->attr0 = nftnl_udata_get_u32(attr);
	}
	return 0;
}

static int typeof_cb(const struct nftnl_udata *attr, void *data)
{
	typeof_t *t = data;

	switch (nftnl_udata_type(attr))
	{
		case NFTNL_UDATA_SET_TYPEOF_EXPR:
			t->expr = nftnl_udata_get_u32(attr);
			break;
		case NFTNL_UDATA_SET_TYPEOF_DATA:
			ck_assert_int_ge(nftnl_udata_parse(nftnl_udata_get(attr),
							 nftnl_udata_len(attr), typeof_data_cb, t), 0);
			break;
	}
	return 0;
}

static int set_udata_cb(const struct nftnl_udata *attr, void *data)
{
	set_udata_t *u = data;

	switch (nftnl_udata_type(attr))
	{
		case NFTNL_UDATA_SET_KEYBYTEORDER:
			u->key_order = nftnl_udata_get_u32(attr);
			break;
		case NFTNL_UDATA_SET_DATABYTEORDER:
			u->data_order = nftnl_udata_get_u32(attr);
			break;
		case NFTNL_UDATA_SET_DATA_INTERVAL:
			u->interval = nftnl_udata_get_u32(attr);
			break;
		case NFTNL_UDATA_SET_KEY_TYPEOF:
		case NFTNL_UDATA_SET_DATA_TYPEOF:
			ck_assert_int_ge(nftnl_udata_parse(nftnl_udata_get(attr),
							 nftnl_udata_len(attr), typeof_cb,
							 nftnl_udata_type(attr) == NFTNL_UDATA_SET_KEY_TYPEOF ?
							 &u->key : &u->data), 0);
			break;
	}
	return 0;
}

static int count_counters(struct nftnl_expr *e, void *data)
{
	ck_assert_str_eq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter");
	(*(int*)data)++;
	return 0;
}


static void parse_set(struct nlmsghdr *nlh, set_t *out)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const void *udata;
	uint32_t len;

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWSET);
	ck_assert_int_eq(nftnl_set_nlmsg_parse(nlh, s), 0);
	*out = (set_t){
		.name = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME)),
		.flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
		.key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
		.key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
		.data_type = nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE),
		.data_len = nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN),
	};
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_TABLE), "tn_test");
	/* hashes: neither intervals nor the concat description of pipapo */
	ck_assert(!(out->flags & NFT_SET_INTERVAL));
	ck_assert(!nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT));
	nftnl_set_expr_foreach(s, count_counters, &out->counters);
	udata = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
	ck_assert(udata);
	ck_assert_int_ge(nftnl_udata_parse(udata, len, set_udata_cb, &out->udata),
					 0);
	nftnl_set_free(s);
}

/*
 * Described in header
 */
void check_set(struct nlmsghdr *nlh, set_t *exp)
{
	set_t got;

	parse_set(nlh, &got);
	ck_assert_str_eq(got.name, exp->name);
	ck_assert_uint_eq(got.flags, exp->flags);
	ck_assert_uint_eq(got.key_type, exp->key_type);
	ck_assert_uint_eq(got.key_len, exp->key_len);
	ck_assert_uint_eq(got.data_type, exp->data_type);
	ck_assert_uint_eq(got.data_len, exp->data_len);
	ck_assert_int_eq(got.counters, exp->counters);
	ck_assert_uint_eq(got.udata.key_order, exp->udata.key_order);
	ck_assert_uint_eq(got.udata.data_order, exp->udata.data_order);
	ck_assert_uint_eq(got.udata.interval, exp->udata.interval);
	ck_assert_uint_eq(got.udata.key.expr, exp->udata.key.expr);
	ck_assert_uint_eq(got.udata.key.attr0, exp->udata.key.attr0);
	ck_assert_uint_eq(got.udata.data.expr, exp->udata.data.expr);
	ck_assert_uint_eq(got.udata.data.attr0, exp->udata.data.attr0);
	free((char*)got.name);
}

/*
 * Described in header
 */
void check_chain(struct nlmsghdr *nlh, const char *name, const char *type,
				 uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWCHAIN);
	ck_assert_int_eq(nftnl_chain_nlmsg_parse(nlh, c), 0);
	ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), name);
	ck_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), type);
	ck_assert_uint_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), hook);
	ck_assert_int_eq(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), prio);
	ck_assert_uint_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	nftnl_chain_free(c);
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_COMMENT)
	{
		*(const char**)data = nftnl_udata_get(attr);
	}
	return 0;
}

/*
 * Described in header
 */
void check_elem(struct nlmsghdr *nlh, bool add, const char *set,
				const void *key, uint32_t klen, const void *data,
				uint32_t dlen, const char *comment)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;
	const void *got, *udata;
	const char *text = NULL;
	uint32_t len;

	ck_assert_uint_eq(nft_msgs_type(nlh),
					  add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
	nft_msgs_renumber_list(nlh);
	ck_assert_int_eq(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
	ck_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_NAME), set);
	it = nftnl_set_elems_iter_create(s);
	el = nftnl_set_elems_iter_next(it);
	ck_assert(el);
	got = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
	ck_assert_uint_eq(len, klen);
	ck_assert(memeq(got, key, klen));
	/* hashes: no interval end */
	ck_assert(!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_KEY_END));
	if (add && data)
	{
		got = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &len);
		ck_assert_uint_eq(len, dlen);
		ck_assert(memeq(got, data, dlen));
	}
	else
	{
		ck_assert(!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_DATA));
	}
	if (add && comment)
	{
		udata = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &len);
		ck_assert(udata);
		ck_assert_int_ge(nftnl_udata_parse(udata, len, comment_cb, &text), 0);
		ck_assert_str_eq(text, comment);
	}
	else
	{
		ck_assert(!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_USERDATA));
	}
	/* one element per message */
	ck_assert(!nftnl_set_elems_iter_next(it));
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
}

/*
 * Described in header
 */
char *describe_all(nl_batch_t *batch, char *buf, size_t len)
{
	u_int i;
	size_t used = 0;

	buf[0] = '\0';
	for (i = 1; i + 1 < batch->get_count(batch); i++)
	{
		used += snprintf(buf + used, len - used, "%s\n",
						 batch->describe(batch, i));
		ck_assert_uint_lt(used, len);
	}
	return buf;
}
