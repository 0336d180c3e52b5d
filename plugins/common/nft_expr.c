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

#include "nft_expr.h"
#include "tunnel_util.h"

#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/xfrm.h>

#include <libnftnl/expr.h>

#ifndef NF_NAT_RANGE_NETMAP
#define NF_NAT_RANGE_NETMAP (1 << 6)
#endif

void nft_expr_meta_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data,
					 uint32_t len)
{
	nft_expr_cmp(r, sreg, NFT_CMP_EQ, data, len);
}

void nft_expr_payload4(struct nftnl_rule *r, uint32_t offset, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, sizeof(uint32_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_saddr_daddr(struct nftnl_rule *r)
{
	/* offsets of saddr and daddr in struct iphdr */
	nft_expr_payload4(r, 12, NFT_REG_1);
	nft_expr_payload4(r, 16, NFT_REG32_01);
}

void nft_expr_lookup(struct nftnl_rule *r, const char *set, uint32_t id,
					 bool map)
{
	nft_expr_lookup_reg(r, set, id, NFT_REG_1,
						map ? NFT_REG_1 : NFT_REG_VERDICT);
}

void nft_expr_bitwise(struct nftnl_rule *r, uint32_t reg, uint32_t mask,
					  uint32_t xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
	/* meta mark is in host byte order */
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, sizeof(xor));
	nftnl_rule_add_expr(r, e);
}

void nft_expr_saddr_daddr_proto_dport(struct nftnl_rule *r)
{
	struct nftnl_expr *e;

	nft_expr_saddr_daddr(r);
	nft_expr_meta_load(r, NFT_META_L4PROTO, NFT_REG32_02);
	e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE,
					   NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, sizeof(uint16_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_03);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op,
				  const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_ct_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_ct_orig_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, IP_CT_DIR_ORIGINAL);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_ct_orig_saddr_daddr(struct nftnl_rule *r)
{
	nft_expr_ct_orig_load(r, NFT_CT_SRC_IP, NFT_REG_1);
	nft_expr_ct_orig_load(r, NFT_CT_DST_IP, NFT_REG32_01);
}

void nft_expr_ct_orig_saddr_daddr_proto_dport(struct nftnl_rule *r)
{
	/* the kernel zeroes each 32-bit register before storing the 8-bit
	 * protocol and the 16-bit port in its first bytes, as the meta and
	 * payload loads of the packet's key do */
	nft_expr_ct_orig_saddr_daddr(r);
	nft_expr_ct_orig_load(r, NFT_CT_PROTOCOL, NFT_REG32_02);
	nft_expr_ct_orig_load(r, NFT_CT_PROTO_DST, NFT_REG32_03);
}

void nft_expr_ct_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, sreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_xfrm_reqid(struct nftnl_rule *r, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("xfrm");

	nftnl_expr_set_u32(e, NFTNL_EXPR_XFRM_KEY, NFT_XFRM_KEY_REQID);
	/* the SA of the secpath's first (outermost) transform, inbound */
	nftnl_expr_set_u8(e, NFTNL_EXPR_XFRM_DIR, XFRM_POLICY_IN);
	nftnl_expr_set_u32(e, NFTNL_EXPR_XFRM_SPNUM, 0);
	nftnl_expr_set_u32(e, NFTNL_EXPR_XFRM_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_rt_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("rt");

	nftnl_expr_set_u32(e, NFTNL_EXPR_RT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RT_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_hton16(struct nftnl_rule *r, uint32_t reg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("byteorder");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, sizeof(uint16_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, sizeof(uint16_t));
	nftnl_rule_add_expr(r, e);
}

void nft_expr_lookup_reg(struct nftnl_rule *r, const char *set, uint32_t id,
						 uint32_t sreg, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg != NFT_REG_VERDICT)
	{
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
	}
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_goto(struct nftnl_rule *r, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_GOTO);
	nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

void nft_expr_counted_drop(struct nftnl_rule *r)
{
	nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
	nft_expr_verdict(r, NF_DROP);
}

void nft_expr_meta_name(struct nftnl_rule *r, uint32_t key, const char *name)
{
	char buf[IFNAMSIZ] = {};

	strncpy(buf, name, sizeof(buf) - 1);
	nft_expr_meta_load(r, key, NFT_REG_1);
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, buf, strlen(buf) + 1);
}

void nft_expr_secpath_exists(struct nftnl_rule *r)
{
	uint8_t one = 1;

	nft_expr_meta_load(r, NFT_META_SECPATH, NFT_REG_1);
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &one, sizeof(one));
}

void nft_expr_ct_zone_range(struct nftnl_rule *r, uint16_t first,
							uint16_t last)
{
	nft_expr_ct_load(r, NFT_CT_ZONE, NFT_REG_1);
	nft_expr_hton16(r, NFT_REG_1);
	first = htons(first);
	last = htons(last);
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_GTE, &first, sizeof(first));
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_LTE, &last, sizeof(last));
}

void nft_expr_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask,
					  uint32_t value)
{
	nft_expr_ct_load(r, key, NFT_REG_1);
	nft_expr_bitwise(r, NFT_REG_1, mask, 0);
	nft_expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &value, sizeof(value));
}

void nft_expr_daddr_masked(struct nftnl_rule *r, uint8_t len, uint32_t dreg)
{
	uint32_t mask = htonl(tunnel_mask(len));

	/* offset of daddr in struct iphdr */
	nft_expr_payload4(r, 16, dreg);
	nft_expr_bitwise(r, dreg, mask, 0);
}

void nft_expr_nat_prefix(struct nftnl_rule *r, uint32_t type)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG32_01);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_NETMAP);
	nftnl_rule_add_expr(r, e);
}
