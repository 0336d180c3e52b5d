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

#include "tunnel_nat_nft.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <netinet/ip.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_nat.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

/**
 * Chain priorities of nftables' dstnat and srcnat
 */
#define PRIO_DSTNAT -100
#define PRIO_SRCNAT 100

#ifndef NF_NAT_RANGE_NETMAP
#define NF_NAT_RANGE_NETMAP (1 << 6)
#endif

/**
 * nftables' datatype ids (src/datatype.h), as nft shows them
 */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_BITS 6
#define NFT_BYTEORDER_BIG_ENDIAN 2

/**
 * Most elements put in one message
 */
#define ELEMS_PER_MSG 256

/**
 * Set ids within the table creating transaction
 */
#define SET_ID_BASE 1

const char *tunnel_nat_map_names[] = {
	[TUNNEL_NAT_DNAT] = "dnat4",
	[TUNNEL_NAT_SNAT] = "snat4",
};

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

/*
 * Described in header
 */
void tunnel_nat_nft_begin(nl_batch_t *batch)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_batch_begin(batch->reserve(batch, 64), batch->next_seq(batch));
	batch->push(batch, nlh, "begin of transaction");
}

/*
 * Described in header
 */
void tunnel_nat_nft_end(nl_batch_t *batch)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_batch_end(batch->reserve(batch, 64), batch->next_seq(batch));
	batch->push(batch, nlh, "end of transaction");
}

static void table_msg(nl_batch_t *batch, const char *name, uint16_t type,
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

static void map_msg(nl_batch_t *batch, const char *table, tunnel_nat_map_t map)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint8_t fields[] = { sizeof(uint32_t), sizeof(uint32_t) };

	s = nftnl_set_alloc();
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, tunnel_nat_map_names[map]);
	nftnl_set_set_u32(s, NFTNL_SET_ID, SET_ID_BASE + map);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
					  NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	/* ipv4_addr . ipv4_addr */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
					  NFT_TYPE_IPADDR << NFT_TYPE_BITS | NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 2 * sizeof(uint32_t));
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	/* : interval ipv4_addr, i.e. first and last address of a prefix */
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2 * sizeof(uint32_t));

	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER,
						NFT_BYTEORDER_BIG_ENDIAN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATABYTEORDER,
						NFT_BYTEORDER_BIG_ENDIAN);
	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_DATA_INTERVAL, 1);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
					   nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);

	nlh = msg_hdr(batch, 512, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch->push(batch, nlh, "add map ip %s %s", table,
				tunnel_nat_map_names[map]);
	nftnl_set_free(s);
}

static void chain_msg(nl_batch_t *batch, const char *table, const char *name,
					  uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;

	c = nftnl_chain_alloc();
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = msg_hdr(batch, 512, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	batch->push(batch, nlh, "add chain ip %s %s", table, name);
	nftnl_chain_free(c);
}

static void add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

static void add_cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data,
					   uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void add_payload(struct nftnl_rule *r, uint32_t offset, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, sizeof(uint32_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

static void add_lookup(struct nftnl_rule *r, tunnel_nat_map_t map)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, tunnel_nat_map_names[map]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, SET_ID_BASE + map);
	nftnl_rule_add_expr(r, e);
}

static void add_nat(struct nftnl_rule *r, uint32_t type)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG32_01);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_NETMAP);
	nftnl_rule_add_expr(r, e);
}

/**
 * [inbound match] ip saddr . ip daddr => lookup map => dnat/snat prefix
 */
static void rule_msg(nl_batch_t *batch, const char *table, const char *chain,
					 tunnel_nat_map_t map, const char *iface,
					 const char *comment)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	char ifname[IFNAMSIZ] = {};
	uint8_t one = 1;

	r = nftnl_rule_alloc();
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);

	if (map == TUNNEL_NAT_DNAT)
	{
		if (iface)
		{
			strncpy(ifname, iface, sizeof(ifname) - 1);
			add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
			add_cmp_eq(r, NFT_REG_1, ifname, strlen(ifname) + 1);
		}
		else
		{
			add_meta(r, NFT_META_SECPATH, NFT_REG_1);
			add_cmp_eq(r, NFT_REG_1, &one, sizeof(one));
		}
	}
	add_payload(r, offsetof(struct iphdr, saddr), NFT_REG_1);
	add_payload(r, offsetof(struct iphdr, daddr), NFT_REG32_01);
	add_lookup(r, map);
	add_nat(r, map == TUNNEL_NAT_DNAT ? NFT_NAT_DNAT : NFT_NAT_SNAT);

	udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	nftnl_udata_put_strz(udata, NFTNL_UDATA_RULE_COMMENT, comment);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata),
						nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);

	nlh = msg_hdr(batch, 1024, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch->push(batch, nlh, "add rule ip %s %s (%s)", table, chain, comment);
	nftnl_rule_free(r);
}

/*
 * Described in header
 */
void tunnel_nat_nft_table(nl_batch_t *batch, const char *table,
						  const char *iface)
{
	/* adding a table that exists is no error, deleting one that does not
	 * is: so add, delete and add again to replace whatever is there */
	table_msg(batch, table, NFT_MSG_NEWTABLE, NLM_F_CREATE, "add");
	table_msg(batch, table, NFT_MSG_DELTABLE, 0, "delete stale");
	table_msg(batch, table, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
			  "create");
	map_msg(batch, table, TUNNEL_NAT_DNAT);
	map_msg(batch, table, TUNNEL_NAT_SNAT);
	chain_msg(batch, table, TUNNEL_NAT_CHAIN_PRE, NF_INET_PRE_ROUTING,
			  PRIO_DSTNAT);
	chain_msg(batch, table, TUNNEL_NAT_CHAIN_POST, NF_INET_POST_ROUTING,
			  PRIO_SRCNAT);
	rule_msg(batch, table, TUNNEL_NAT_CHAIN_PRE, TUNNEL_NAT_DNAT, iface,
			 iface ? "tunnel-nat: DNAT of packets decrypted on this interface"
				   : "tunnel-nat: DNAT of packets decrypted by IPsec");
	rule_msg(batch, table, TUNNEL_NAT_CHAIN_POST, TUNNEL_NAT_SNAT, NULL,
			 "tunnel-nat: SNAT of mapped private hosts to their public address");
}

/*
 * Described in header
 */
void tunnel_nat_nft_delete_table(nl_batch_t *batch, const char *table)
{
	table_msg(batch, table, NFT_MSG_DELTABLE, 0, "delete");
}

static struct nftnl_set *map_alloc(const char *table, tunnel_nat_map_t map)
{
	struct nftnl_set *s;

	s = nftnl_set_alloc();
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, tunnel_nat_map_names[map]);
	return s;
}

/*
 * Described in header
 */
void tunnel_nat_nft_flush(nl_batch_t *batch, const char *table)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	tunnel_nat_map_t map;

	for (map = TUNNEL_NAT_DNAT; map <= TUNNEL_NAT_SNAT; map++)
	{
		s = map_alloc(table, map);
		nlh = msg_hdr(batch, 256, NFT_MSG_DELSETELEM, 0);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		batch->push(batch, nlh, "flush map ip %s %s", table,
					tunnel_nat_map_names[map]);
		nftnl_set_free(s);
	}
}

static struct nftnl_set_elem *elem_alloc(tunnel_nat_elem_t *elem, bool add)
{
	struct nftnl_udata_buf *udata;
	struct nftnl_set_elem *e;
	uint32_t key[2], data[2];

	e = nftnl_set_elem_alloc();
	key[0] = htonl(elem->src_from);
	key[1] = htonl(elem->dst_from);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
	key[0] = htonl(elem->src_to);
	key[1] = htonl(elem->dst_to);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key, sizeof(key));
	if (add)
	{
		data[0] = htonl(elem->nat_from);
		data[1] = htonl(elem->nat_to);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, sizeof(data));
		if (elem->comment[0])
		{
			udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
			nftnl_udata_put_strz(udata, NFTNL_UDATA_SET_ELEM_COMMENT,
								 elem->comment);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
							   nftnl_udata_buf_data(udata),
							   nftnl_udata_buf_len(udata));
			nftnl_udata_buf_free(udata);
		}
	}
	return e;
}

/**
 * Put elements of one map in messages, one per element for short lists
 * (so an error names the element), up to ELEMS_PER_MSG for long ones
 */
static void elems_msgs(nl_batch_t *batch, const char *table, bool add,
					   tunnel_nat_map_t map, array_t *elems)
{
	tunnel_nat_elem_t *elem, *first = NULL;
	struct nftnl_set *s = NULL;
	struct nlmsghdr *nlh;
	u_int i, count = 0, per_msg, total = 0;
	char buf[128];

	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		total += elem->map == map;
	}
	per_msg = total <= 16 ? 1 : ELEMS_PER_MSG;

	for (i = 0; i <= array_count(elems); i++)
	{
		elem = NULL;
		if (i < array_count(elems))
		{
			array_get(elems, i, &elem);
			if (elem->map != map)
			{
				continue;
			}
			if (!s)
			{
				s = map_alloc(table, map);
				first = elem;
			}
			nftnl_set_elem_add(s, elem_alloc(elem, add));
			count++;
		}
		if (s && (count == per_msg || !elem))
		{
			nlh = msg_hdr(batch, 256 + count * 256,
						  add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
						  add ? NLM_F_CREATE : 0);
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			if (count == 1)
			{
				batch->push(batch, nlh, "%s element %s (%s) %s map ip %s %s",
							add ? "add" : "delete",
							tunnel_nat_elem_str(first, buf, sizeof(buf)),
							first->comment, add ? "to" : "from", table,
							tunnel_nat_map_names[map]);
			}
			else
			{
				batch->push(batch, nlh, "%s %u elements %s map ip %s %s",
							add ? "add" : "delete", count, add ? "to" : "from",
							table, tunnel_nat_map_names[map]);
			}
			nftnl_set_free(s);
			s = NULL;
			count = 0;
		}
	}
}

/*
 * Described in header
 */
void tunnel_nat_nft_elems(nl_batch_t *batch, const char *table, bool add,
						  array_t *elems)
{
	elems_msgs(batch, table, add, TUNNEL_NAT_DNAT, elems);
	elems_msgs(batch, table, add, TUNNEL_NAT_SNAT, elems);
}
