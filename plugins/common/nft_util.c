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

#include "nft_util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/xfrm.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

/**
 * nftables' datatype ids (src/datatype.h), so nft shows our sets by type
 */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_BITS 6
#define NFT_BYTEORDER_BIG_ENDIAN 2

/**
 * Most elements put in one message
 */
#define ELEMS_PER_MSG 256

/**
 * Build a message header at the tail of the batch
 */
static struct nlmsghdr *msg_hdr(nl_batch_t *batch, size_t len, uint16_t type,
								uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(batch->reserve(batch, len), type,
								 NFPROTO_IPV4, flags | NLM_F_ACK,
								 batch->next_seq(batch));
}

void nft_msg_begin(nl_batch_t *batch)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_batch_begin(batch->reserve(batch, 64), batch->next_seq(batch));
	batch->push(batch, nlh, "begin of transaction");
}

void nft_msg_end(nl_batch_t *batch)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_batch_end(batch->reserve(batch, 64), batch->next_seq(batch));
	batch->push(batch, nlh, "end of transaction");
}

void nft_msg_table(nl_batch_t *batch, const char *name, uint16_t type,
				   uint16_t flags, const char *desc)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	t = nftnl_table_alloc();
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = msg_hdr(batch, 256, type, flags);
	nftnl_table_nlmsg_build_payload(nlh, t);
	batch->push(batch, nlh, "%s table ip %s", desc, name);
	nftnl_table_free(t);
}

void nft_msg_delete_table(nl_batch_t *batch, const char *name)
{
	nft_msg_table(batch, name, NFT_MSG_DELTABLE, 0, "delete");
}

void nft_msg_replace_table(nl_batch_t *batch, const char *name)
{
	/* adding a table that exists is no error, deleting one that does not
	 * is: so add, delete and add again to replace whatever is there */
	nft_msg_table(batch, name, NFT_MSG_NEWTABLE, NLM_F_CREATE, "add");
	nft_msg_table(batch, name, NFT_MSG_DELTABLE, 0, "delete stale");
	nft_msg_table(batch, name, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
				  "create");
}

/**
 * Create a set or map keyed by ipv4_addr . ipv4_addr, optionally counting
 */
static void concat_set(nl_batch_t *batch, const char *table, const char *name,
					   uint32_t id, bool map, bool interval, bool counter)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint8_t fields[] = { sizeof(uint32_t), sizeof(uint32_t) };

	s = nftnl_set_alloc();
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	/* the concat flag and field description make the kernel pick pipapo,
	 * whose updates and lookups cost more the more elements it holds: only
	 * for ranges. Exact pairs get a hash. */
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
					  (interval ? NFT_SET_INTERVAL | NFT_SET_CONCAT : 0) |
					  (map ? NFT_SET_MAP : 0));
	/* ipv4_addr . ipv4_addr */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
					  NFT_TYPE_IPADDR << NFT_TYPE_BITS | NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 2 * sizeof(uint32_t));
	if (interval)
	{
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	}
	if (counter)
	{	/* every element gets a clone, updated by each lookup that hits it */
		nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
	}

	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER,
						NFT_BYTEORDER_BIG_ENDIAN);
	if (map)
	{	/* : interval ipv4_addr, i.e. first and last address of a prefix */
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_TYPE_IPADDR);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2 * sizeof(uint32_t));
		nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATABYTEORDER,
							NFT_BYTEORDER_BIG_ENDIAN);
		nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATA_INTERVAL, 1);
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
					   nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);

	nlh = msg_hdr(batch, 512, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch->push(batch, nlh, "add %s ip %s %s", map ? "map" : "set", table, name);
	nftnl_set_free(s);
}

void nft_msg_concat_set(nl_batch_t *batch, const char *table, const char *name,
						uint32_t id, bool map, bool interval)
{
	concat_set(batch, table, name, id, map, interval, FALSE);
}

void nft_msg_addr_set(nl_batch_t *batch, const char *table, const char *name,
					  uint32_t id)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	s = nftnl_set_alloc();
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint32_t));
	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER,
						NFT_BYTEORDER_BIG_ENDIAN);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
					   nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);

	nlh = msg_hdr(batch, 512, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch->push(batch, nlh, "add set ip %s %s", table, name);
	nftnl_set_free(s);
}

/**
 * Allocate a chain of a table
 */
static struct nftnl_chain *chain_alloc(const char *table, const char *name)
{
	struct nftnl_chain *c;

	c = nftnl_chain_alloc();
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	return c;
}

/**
 * Add the message creating a chain, and free it
 */
static void chain_msg(nl_batch_t *batch, struct nftnl_chain *c,
					  const char *table, const char *name)
{
	struct nlmsghdr *nlh;

	nlh = msg_hdr(batch, 512, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	batch->push(batch, nlh, "add chain ip %s %s", table, name);
	nftnl_chain_free(c);
}

void nft_msg_chain(nl_batch_t *batch, const char *table, const char *name,
				   uint32_t hook, int32_t prio, const char *type)
{
	struct nftnl_chain *c;

	c = chain_alloc(table, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	chain_msg(batch, c, table, name);
}

void nft_msg_regular_chain(nl_batch_t *batch, const char *table,
						   const char *name)
{
	chain_msg(batch, chain_alloc(table, name), table, name);
}

struct nftnl_rule *nft_rule_alloc(const char *table, const char *chain)
{
	struct nftnl_rule *r;

	r = nftnl_rule_alloc();
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

/**
 * Add a rule message, appended to its chain or inserted at its head
 */
static void rule_msg(nl_batch_t *batch, struct nftnl_rule *r,
					 const char *comment, bool first)
{
	struct nftnl_udata_buf *udata;
	struct nlmsghdr *nlh;

	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_strz(udata, NFTNL_UDATA_RULE_COMMENT, comment);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata),
						nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);

	/* without NLM_F_APPEND (and a position), the kernel puts the rule first */
	nlh = msg_hdr(batch, 1024, NFT_MSG_NEWRULE,
				  NLM_F_CREATE | (first ? 0 : NLM_F_APPEND));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch->push(batch, nlh, "%s rule ip %s %s (%s)", first ? "insert" : "add",
				nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
				nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), comment);
	nftnl_rule_free(r);
}

void nft_msg_rule(nl_batch_t *batch, struct nftnl_rule *r, const char *comment)
{
	rule_msg(batch, r, comment, FALSE);
}

void nft_msg_rule_first(nl_batch_t *batch, struct nftnl_rule *r,
						const char *comment)
{
	rule_msg(batch, r, comment, TRUE);
}

static struct nftnl_set *set_alloc(const char *table, const char *name)
{
	struct nftnl_set *s;

	s = nftnl_set_alloc();
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	return s;
}

void nft_msg_flush_set(nl_batch_t *batch, const char *table, const char *set)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	s = set_alloc(table, set);
	nlh = msg_hdr(batch, 256, NFT_MSG_DELSETELEM, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	batch->push(batch, nlh, "flush set ip %s %s", table, set);
	nftnl_set_free(s);
}

/**
 * Attach a comment (if any) to an element, as nft lists it
 */
static void elem_comment(struct nftnl_set_elem *e, const char *comment)
{
	struct nftnl_udata_buf *udata;

	if (!comment || !comment[0])
	{
		return;
	}
	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_strz(udata, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(udata),
					   nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);
}

static struct nftnl_set_elem *elem_alloc(nft_concat_elem_t *elem, bool add)
{
	struct nftnl_set_elem *e;
	uint32_t key[2], data[2];

	e = nftnl_set_elem_alloc();
	key[0] = htonl(elem->key_from[0]);
	key[1] = htonl(elem->key_from[1]);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key,
					   elem->single ? sizeof(key[0]) : sizeof(key));
	if (!elem->exact && !elem->single)
	{
		key[0] = htonl(elem->key_to[0]);
		key[1] = htonl(elem->key_to[1]);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key, sizeof(key));
	}
	if (add && elem->has_data)
	{
		data[0] = htonl(elem->data[0]);
		data[1] = htonl(elem->data[1]);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, sizeof(data));
	}
	if (add)
	{
		elem_comment(e, elem->comment);
	}
	return e;
}

/**
 * Allocate the element at index i of an array of elements
 */
typedef struct nftnl_set_elem *(*elem_alloc_t)(void *elems, u_int i, bool add);

/**
 * Add or delete elements, in messages of ELEMS_PER_MSG (one each for a few);
 * what says "map" or "set" and desc(i) describes a lone element in the log
 */
static void elems_msgs(nl_batch_t *batch, const char *table, const char *set,
					   bool add, void *elems, u_int count, elem_alloc_t alloc,
					   const char *what, const char *(*desc)(void*, u_int))
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	u_int i, j, n, per_msg;

	per_msg = count <= 16 ? 1 : ELEMS_PER_MSG;
	for (i = 0; i < count; i += n)
	{
		n = min(per_msg, count - i);
		s = set_alloc(table, set);
		for (j = 0; j < n; j++)
		{
			nftnl_set_elem_add(s, alloc(elems, i + j, add));
		}
		nlh = msg_hdr(batch, 256 + n * 256,
					  add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
					  add ? NLM_F_CREATE : 0);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		if (n == 1)
		{
			batch->push(batch, nlh, "%s element %s %s %s ip %s %s",
						add ? "add" : "delete", desc(elems, i) ?: "",
						add ? "to" : "from", what, table, set);
		}
		else
		{
			batch->push(batch, nlh, "%s %u elements %s %s ip %s %s",
						add ? "add" : "delete", n, add ? "to" : "from",
						what, table, set);
		}
		nftnl_set_free(s);
	}
}

static struct nftnl_set_elem *concat_alloc(void *elems, u_int i, bool add)
{
	return elem_alloc(&((nft_concat_elem_t*)elems)[i], add);
}

static const char *concat_desc(void *elems, u_int i)
{
	return ((nft_concat_elem_t*)elems)[i].desc;
}

void nft_msg_concat_elems(nl_batch_t *batch, const char *table,
						  const char *set, bool add,
						  nft_concat_elem_t *elems, u_int count)
{
	if (count)
	{	/* the elements of one call go to the same set or map */
		elems_msgs(batch, table, set, add, elems, count, concat_alloc,
				   elems[0].has_data ? "map" : "set", concat_desc);
	}
}

/* nftables' data types of a port forward map's fields */
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_INET_SERVICE 13

/**
 * Create the port forward map, or a set with its key that counts
 */
static void port_set(nl_batch_t *batch, const char *table, const char *name,
					 uint32_t id, bool map)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint8_t fields[] = { sizeof(uint32_t), sizeof(uint32_t), 1,
						 sizeof(uint16_t) };

	s = nftnl_set_alloc();
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
					  NFT_SET_INTERVAL | NFT_SET_CONCAT | (map ? NFT_SET_MAP : 0));
	/* each field takes a 32-bit register */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
		((NFT_TYPE_IPADDR << NFT_TYPE_BITS | NFT_TYPE_IPADDR) << NFT_TYPE_BITS |
		 NFT_TYPE_INET_PROTOCOL) << NFT_TYPE_BITS | NFT_TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4 * sizeof(uint32_t));
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	if (map)
	{
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE,
					NFT_TYPE_IPADDR << NFT_TYPE_BITS | NFT_TYPE_INET_SERVICE);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2 * sizeof(uint32_t));
	}
	else
	{	/* a counter on every element, as in concat_set() */
		nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
	}

	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER,
						NFT_BYTEORDER_BIG_ENDIAN);
	if (map)
	{
		nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATABYTEORDER,
							NFT_BYTEORDER_BIG_ENDIAN);
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
					   nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);

	nlh = msg_hdr(batch, 512, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch->push(batch, nlh, "add %s ip %s %s", map ? "map" : "set", table,
				name);
	nftnl_set_free(s);
}

void nft_msg_port_map(nl_batch_t *batch, const char *table, const char *name,
					  uint32_t id)
{
	port_set(batch, table, name, id, TRUE);
}

void nft_msg_counter_set(nl_batch_t *batch, const char *table,
						 const char *name, uint32_t id, nft_counter_key_t key)
{
	switch (key)
	{
		case NFT_COUNTER_PAIRS:
			concat_set(batch, table, name, id, FALSE, FALSE, TRUE);
			break;
		case NFT_COUNTER_RANGES:
			concat_set(batch, table, name, id, FALSE, TRUE, TRUE);
			break;
		case NFT_COUNTER_PORTS:
			port_set(batch, table, name, id, FALSE);
			break;
	}
}

/**
 * Key of a port forward: four 32-bit registers, network byte order, the
 * protocol and the port in the first bytes of theirs
 */
static void port_key(uint32_t key[4], uint32_t src, uint32_t dst,
					 uint8_t proto, uint16_t port)
{
	memset(key, 0, 4 * sizeof(uint32_t));
	key[0] = htonl(src);
	key[1] = htonl(dst);
	memcpy(&key[2], &proto, 1);
	port = htons(port);
	memcpy(&key[3], &port, 2);
}

static struct nftnl_set_elem *port_elem_alloc(nft_port_elem_t *elem, bool add)
{
	struct nftnl_set_elem *e;
	uint32_t key[4], data[2];
	uint16_t port;

	e = nftnl_set_elem_alloc();
	port_key(key, elem->src_from, elem->dst, elem->proto, elem->port);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
	port_key(key, elem->src_to, elem->dst, elem->proto, elem->port);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key, sizeof(key));
	if (add && !elem->key_only)
	{
		memset(data, 0, sizeof(data));
		data[0] = htonl(elem->nat_addr);
		port = htons(elem->nat_port);
		memcpy(&data[1], &port, 2);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, sizeof(data));
	}
	if (add)
	{
		elem_comment(e, elem->comment);
	}
	return e;
}

static struct nftnl_set_elem *port_alloc(void *elems, u_int i, bool add)
{
	return port_elem_alloc(&((nft_port_elem_t*)elems)[i], add);
}

static const char *port_desc(void *elems, u_int i)
{
	return ((nft_port_elem_t*)elems)[i].desc;
}

void nft_msg_port_elems(nl_batch_t *batch, const char *table, const char *set,
						bool add, nft_port_elem_t *elems, u_int count)
{
	/* key-only elements go to a counting set */
	elems_msgs(batch, table, set, add, elems, count, port_alloc,
			   count && elems[0].key_only ? "set" : "map", port_desc);
}

/**
 * nftables' ids in the typeof userdata of a set (its src/expression.h and
 * each expression's udata attributes): expression types, the IPv4 header
 * description and its daddr field
 */
#define TYPEOF_EXPR_PAYLOAD 7
#define TYPEOF_EXPR_META 9
#define TYPEOF_EXPR_CT 12
#define TYPEOF_EXPR_XFRM 27
#define TYPEOF_PROTO_IP 12
#define TYPEOF_IP_DADDR 12

/**
 * nftables' datatype ids and byte orders of the fields of typed maps
 */
#define NFT_TYPE_INTEGER 4
#define NFT_TYPE_MARK 19
#define NFT_BYTEORDER_HOST 1

/**
 * Put the typeof of a key or data field: the expression's type and its
 * attributes, nested
 */
static void put_typeof(struct nftnl_udata_buf *udata, uint8_t attr,
					   nft_typeof_t what)
{
	struct nftnl_udata *outer, *inner;

	outer = nftnl_udata_nest_start(udata, attr);
	switch (what)
	{
		case NFT_TYPEOF_REQID:
			nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_TYPEOF_EXPR,
								TYPEOF_EXPR_XFRM);
			inner = nftnl_udata_nest_start(udata, NFTNL_UDATA_SET_TYPEOF_DATA);
			/* key, direction, secpath index */
			nftnl_udata_put_u32(udata, 0, NFT_XFRM_KEY_REQID);
			nftnl_udata_put_u32(udata, 1, XFRM_POLICY_IN);
			nftnl_udata_put_u32(udata, 2, 0);
			break;
		case NFT_TYPEOF_DADDR:
			nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_TYPEOF_EXPR,
								TYPEOF_EXPR_PAYLOAD);
			inner = nftnl_udata_nest_start(udata, NFTNL_UDATA_SET_TYPEOF_DATA);
			/* protocol description, field */
			nftnl_udata_put_u32(udata, 0, TYPEOF_PROTO_IP);
			nftnl_udata_put_u32(udata, 1, TYPEOF_IP_DADDR);
			break;
		case NFT_TYPEOF_CT_ZONE:
			nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_TYPEOF_EXPR,
								TYPEOF_EXPR_CT);
			inner = nftnl_udata_nest_start(udata, NFTNL_UDATA_SET_TYPEOF_DATA);
			/* key, direction (none) */
			nftnl_udata_put_u32(udata, 0, NFT_CT_ZONE);
			nftnl_udata_put_u32(udata, 1, (uint32_t)-1);
			break;
		case NFT_TYPEOF_META_MARK:
		default:
			nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_TYPEOF_EXPR,
								TYPEOF_EXPR_META);
			inner = nftnl_udata_nest_start(udata, NFTNL_UDATA_SET_TYPEOF_DATA);
			nftnl_udata_put_u32(udata, 0, NFT_META_MARK);
			break;
	}
	nftnl_udata_nest_end(udata, inner);
	nftnl_udata_nest_end(udata, outer);
}

/**
 * Datatype id, length and byte order of a typed field
 */
static void typeof_field(nft_typeof_t what, uint32_t *type, uint32_t *len,
						 uint32_t *order)
{
	switch (what)
	{
		case NFT_TYPEOF_REQID:
			*type = NFT_TYPE_INTEGER;
			*len = sizeof(uint32_t);
			*order = NFT_BYTEORDER_HOST;
			break;
		case NFT_TYPEOF_DADDR:
			*type = NFT_TYPE_IPADDR;
			*len = sizeof(uint32_t);
			*order = NFT_BYTEORDER_BIG_ENDIAN;
			break;
		case NFT_TYPEOF_CT_ZONE:
			*type = NFT_TYPE_INTEGER;
			*len = sizeof(uint16_t);
			*order = NFT_BYTEORDER_HOST;
			break;
		case NFT_TYPEOF_META_MARK:
		default:
			*type = NFT_TYPE_MARK;
			*len = sizeof(uint32_t);
			*order = NFT_BYTEORDER_HOST;
			break;
	}
}

/**
 * Allocate a map of a table, with its id and flags
 */
static struct nftnl_set *map_alloc(const char *table, const char *name,
								   uint32_t id)
{
	struct nftnl_set *s;

	s = set_alloc(table, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	/* no interval flag: the kernel picks a hash */
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	return s;
}

/**
 * Add the message creating a set, and free it and its userdata
 */
static void set_msg(nl_batch_t *batch, struct nftnl_set *s,
					struct nftnl_udata_buf *udata)
{
	struct nlmsghdr *nlh;

	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
					   nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);
	nlh = msg_hdr(batch, 512, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch->push(batch, nlh, "add map ip %s %s",
				nftnl_set_get_str(s, NFTNL_SET_TABLE),
				nftnl_set_get_str(s, NFTNL_SET_NAME));
	nftnl_set_free(s);
}

void nft_msg_typeof_map(nl_batch_t *batch, const char *table, const char *name,
						uint32_t id, nft_typeof_t key, nft_typeof_t data,
						bool counter)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_set *s;
	uint32_t ktype, klen, korder, dtype, dlen, dorder;

	typeof_field(key, &ktype, &klen, &korder);
	typeof_field(data, &dtype, &dlen, &dorder);
	s = map_alloc(table, name, id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ktype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, dtype);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, dlen);
	if (counter)
	{	/* every element gets a clone, updated by each lookup that hits it */
		nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
	}
	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER, korder);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATABYTEORDER, dorder);
	put_typeof(udata, NFTNL_UDATA_SET_KEY_TYPEOF, key);
	put_typeof(udata, NFTNL_UDATA_SET_DATA_TYPEOF, data);
	set_msg(batch, s, udata);
}

void nft_msg_prefix_map(nl_batch_t *batch, const char *table, const char *name,
						uint32_t id, bool mark)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_set *s;

	s = map_alloc(table, name, id);
	if (mark)
	{	/* mark . ipv4_addr, a 32-bit register each */
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
						  NFT_TYPE_MARK << NFT_TYPE_BITS | NFT_TYPE_IPADDR);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 2 * sizeof(uint32_t));
	}
	else
	{
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IPADDR);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint32_t));
	}
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2 * sizeof(uint32_t));

	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!mark)
	{	/* nft gives a concatenation no key byte order */
		nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER,
							NFT_BYTEORDER_BIG_ENDIAN);
	}
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATABYTEORDER,
						NFT_BYTEORDER_BIG_ENDIAN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATA_INTERVAL, 1);
	set_msg(batch, s, udata);
}

void nft_elem_host32(uint8_t *buf, uint8_t *len, uint32_t value)
{
	memcpy(buf + *len, &value, sizeof(value));
	*len += sizeof(value);
}

void nft_elem_host16(uint8_t *buf, uint8_t *len, uint16_t value)
{
	memcpy(buf + *len, &value, sizeof(value));
	*len += sizeof(value);
}

void nft_elem_addr(uint8_t *buf, uint8_t *len, uint32_t addr)
{
	nft_elem_host32(buf, len, htonl(addr));
}

static struct nftnl_set_elem *hash_alloc(void *elems, u_int i, bool add)
{
	nft_elem_t *elem = &((nft_elem_t*)elems)[i];
	struct nftnl_set_elem *e;

	e = nftnl_set_elem_alloc();
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, elem->key, elem->key_len);
	if (add && elem->data_len)
	{
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, elem->data, elem->data_len);
	}
	if (add)
	{
		elem_comment(e, elem->comment);
	}
	return e;
}

static const char *hash_desc(void *elems, u_int i)
{
	return ((nft_elem_t*)elems)[i].desc;
}

void nft_msg_elems(nl_batch_t *batch, const char *table, const char *set,
				   bool add, nft_elem_t *elems, u_int count)
{
	if (count)
	{	/* the elements of one call go to the same set or map */
		elems_msgs(batch, table, set, add, elems, count, hash_alloc,
				   elems[0].data_len ? "map" : "set", hash_desc);
	}
}
