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

#include "nft_msgs.h"

#include <check.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>

struct nlmsghdr *nft_msgs[1024];
int nft_nmsgs;

void nft_msgs_split(nl_batch_t *batch)
{
	chunk_t data = batch->get_data(batch);
	struct nlmsghdr *nlh;
	int len = data.len;

	nft_nmsgs = 0;
	for (nlh = (struct nlmsghdr*)data.ptr; mnl_nlmsg_ok(nlh, len);
		 nlh = mnl_nlmsg_next(nlh, &len))
	{
		ck_assert_int_lt(nft_nmsgs, countof(nft_msgs));
		nft_msgs[nft_nmsgs++] = nlh;
	}
	/* nothing left over, every message accounted and numbered in order */
	ck_assert_int_eq(len, 0);
	ck_assert_uint_eq(nft_nmsgs, batch->get_count(batch));
}

uint16_t nft_msgs_type(struct nlmsghdr *nlh)
{
	ck_assert_uint_eq(nlh->nlmsg_type >> 8, NFNL_SUBSYS_NFTABLES);
	return nlh->nlmsg_type & 0xff;
}

void nft_msgs_check_seq_and_acks(void)
{
	int i;

	for (i = 0; i < nft_nmsgs; i++)
	{
		ck_assert_uint_eq(nft_msgs[i]->nlmsg_seq, i);
		if (i == 0 || i == nft_nmsgs - 1)
		{	/* batch begin and end: no ack */
			ck_assert(!(nft_msgs[i]->nlmsg_flags & NLM_F_ACK));
		}
		else
		{
			ck_assert(nft_msgs[i]->nlmsg_flags & NLM_F_ACK);
		}
	}
	ck_assert_uint_eq(nft_msgs[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	ck_assert_uint_eq(nft_msgs[nft_nmsgs - 1]->nlmsg_type, NFNL_MSG_BATCH_END);
}

/**
 * libnftnl's builder numbers the nested elements of a list 1, 2, 3..., which
 * the kernel accepts (it ignores the type), but its parser wants every one to
 * be NFTA_LIST_ELEM: renumber them so multi-element messages parse.
 */
void nft_msgs_renumber_list(struct nlmsghdr *nlh)
{
	struct nlattr *attr, *elem;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(attr) == NFTA_SET_ELEM_LIST_ELEMENTS)
		{
			mnl_attr_for_each_nested(elem, attr)
			{
				elem->nla_type = (elem->nla_type & ~NLA_TYPE_MASK) |
								 NFTA_LIST_ELEM;
			}
		}
	}
}

/**
 * A number of 1, 2 or 4 bytes in host byte order, or a string
 */
static int data_str(char *buf, size_t len, struct nftnl_expr *e, uint16_t attr)
{
	const void *data;
	uint32_t dlen, u32;
	uint16_t u16;
	uint8_t u8;

	data = nftnl_expr_get(e, attr, &dlen);
	if (!data)
	{
		return snprintf(buf, len, "-");
	}
	switch (dlen)
	{
		case 1:
			memcpy(&u8, data, 1);
			return snprintf(buf, len, "0x%x", u8);
		case 2:
			memcpy(&u16, data, 2);
			return snprintf(buf, len, "0x%x", u16);
		case 4:
			memcpy(&u32, data, 4);
			return snprintf(buf, len, "0x%x", u32);
		default:
			return snprintf(buf, len, "'%.*s'", (int)dlen, (const char*)data);
	}
}

static const char *ct_keys[] = {
	[NFT_CT_STATE] = "state",
	[NFT_CT_DIRECTION] = "direction",
	[NFT_CT_STATUS] = "status",
	[NFT_CT_MARK] = "mark",
	[NFT_CT_ZONE] = "zone",
	[NFT_CT_PROTOCOL] = "protocol",
	[NFT_CT_PROTO_DST] = "proto-dst",
	[NFT_CT_SRC_IP] = "ip saddr",
	[NFT_CT_DST_IP] = "ip daddr",
};

static const char *meta_key(uint32_t key)
{
	switch (key)
	{
		case NFT_META_MARK:
			return "mark";
		case NFT_META_SECPATH:
			return "secpath";
		case NFT_META_IIFNAME:
			return "iifname";
		case NFT_META_L4PROTO:
			return "l4proto";
		case NFT_META_OIFKIND:
			return "oifkind";
		case NFT_META_IIFKIND:
			return "iifkind";
		default:
			return "?";
	}
}

static const char *cmp_ops[] = {
	[NFT_CMP_EQ] = "eq",
	[NFT_CMP_NEQ] = "neq",
	[NFT_CMP_LT] = "lt",
	[NFT_CMP_LTE] = "lte",
	[NFT_CMP_GT] = "gt",
	[NFT_CMP_GTE] = "gte",
};

static const char *verdict(int v)
{
	switch (v)
	{
		case NF_DROP:
			return "drop";
		case NF_ACCEPT:
			return "accept";
		case NFT_RETURN:
			return "return";
		default:
			return "?";
	}
}

/**
 * Describe one expression
 */
static int expr_str(char *buf, size_t len, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t key;
	int n;

	if (streq(name, "payload"))
	{
		return snprintf(buf, len, "payload %s@%u>%u",
			nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) ==
				NFT_PAYLOAD_NETWORK_HEADER ? "nh" : "th",
			nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
			nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG));
	}
	if (streq(name, "bitwise"))
	{
		n = snprintf(buf, len, "bitwise %u&",
					 nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
		n += data_str(buf + n, len - n, e, NFTNL_EXPR_BITWISE_MASK);
		n += snprintf(buf + n, len - n, "^");
		return n + data_str(buf + n, len - n, e, NFTNL_EXPR_BITWISE_XOR);
	}
	if (streq(name, "cmp"))
	{
		n = snprintf(buf, len, "cmp %s %u ",
					 cmp_ops[nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP)],
					 nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
		return n + data_str(buf + n, len - n, e, NFTNL_EXPR_CMP_DATA);
	}
	if (streq(name, "lookup"))
	{
		n = snprintf(buf, len, "lookup %s %u",
					 nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET),
					 nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
		{
			n += snprintf(buf + n, len - n, ">%u",
						  nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
		}
		return n;
	}
	if (streq(name, "ct"))
	{
		key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG))
		{
			return snprintf(buf, len, "ct set %s<%u", ct_keys[key],
							nftnl_expr_get_u32(e, NFTNL_EXPR_CT_SREG));
		}
		ck_assert(key < countof(ct_keys) && ct_keys[key]);
		return snprintf(buf, len, "ct %s%s>%u",
						nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR) ?
							(nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR) ?
								"reply " : "original ") : "",
						ct_keys[key],
						nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG));
	}
	if (streq(name, "meta"))
	{
		key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG))
		{
			return snprintf(buf, len, "meta set %s<%u", meta_key(key),
							nftnl_expr_get_u32(e, NFTNL_EXPR_META_SREG));
		}
		return snprintf(buf, len, "meta %s>%u", meta_key(key),
						nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG));
	}
	if (streq(name, "xfrm"))
	{
		return snprintf(buf, len, "xfrm %s %s %u>%u",
			nftnl_expr_get_u32(e, NFTNL_EXPR_XFRM_KEY) == NFT_XFRM_KEY_REQID ?
				"reqid" : "?",
			nftnl_expr_get_u8(e, NFTNL_EXPR_XFRM_DIR) ? "out" : "in",
			nftnl_expr_get_u32(e, NFTNL_EXPR_XFRM_SPNUM),
			nftnl_expr_get_u32(e, NFTNL_EXPR_XFRM_DREG));
	}
	if (streq(name, "rt"))
	{
		return snprintf(buf, len, "rt %s>%u",
			nftnl_expr_get_u32(e, NFTNL_EXPR_RT_KEY) == NFT_RT_XFRM ?
				"ipsec" : "?",
			nftnl_expr_get_u32(e, NFTNL_EXPR_RT_DREG));
	}
	if (streq(name, "byteorder"))
	{
		return snprintf(buf, len, "%s %u>%u %u/%u",
			nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_OP) ==
				NFT_BYTEORDER_HTON ? "hton" : "ntoh",
			nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_SREG),
			nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_DREG),
			nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_LEN),
			nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_SIZE));
	}
	if (streq(name, "immediate"))
	{
		int v = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);

		if (v == NFT_JUMP || v == NFT_GOTO)
		{
			return snprintf(buf, len, "verdict %s %s",
				v == NFT_JUMP ? "jump" : "goto",
				nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
		}
		return snprintf(buf, len, "verdict %s",
			verdict(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT)));
	}
	if (streq(name, "nat"))
	{
		return snprintf(buf, len, "nat %s %u-%u flags 0x%x",
			nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT ?
				"dnat" : "snat",
			nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN),
			nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX),
			nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FLAGS));
	}
	return snprintf(buf, len, "%s", name);
}

char *nft_msgs_rule_str(struct nlmsghdr *nlh, char *buf, size_t len)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	bool first = TRUE;
	size_t n;

	ck_assert_uint_eq(nft_msgs_type(nlh), NFT_MSG_NEWRULE);
	ck_assert_int_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
	n = snprintf(buf, len, "%s:", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)) && n < len)
	{
		n += snprintf(buf + n, len - n, first ? " " : " | ");
		first = FALSE;
		n += expr_str(buf + n, len - n, e);
	}
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
	ck_assert_uint_lt(n, len);
	return buf;
}
