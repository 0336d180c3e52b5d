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

/**
 * @defgroup nft_expr nft_expr
 * @{ @ingroup tunnel_common
 */

#ifndef NFT_EXPR_H_
#define NFT_EXPR_H_

#include <library.h>

#include <libnftnl/rule.h>

/** meta KEY => DREG */
void nft_expr_meta_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg);

/** meta KEY <= SREG */
void nft_expr_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg);

/** SREG == data */
void nft_expr_cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data,
					 uint32_t len);

/** network header at offset, 4 bytes => DREG */
void nft_expr_payload4(struct nftnl_rule *r, uint32_t offset, uint32_t dreg);

/** ip saddr => reg 1, ip daddr => reg 1 + 4 bytes */
void nft_expr_saddr_daddr(struct nftnl_rule *r);

/** lookup reg 1 in set, data to reg 1 if map */
void nft_expr_lookup(struct nftnl_rule *r, const char *set, uint32_t id,
					 bool map);

/** DREG = (SREG & mask) ^ xor, 4 bytes */
void nft_expr_bitwise(struct nftnl_rule *r, uint32_t reg, uint32_t mask,
					  uint32_t xor);

/**
 * ip saddr . ip daddr . meta l4proto . th dport => reg 1 (16 bytes)
 */
void nft_expr_saddr_daddr_proto_dport(struct nftnl_rule *r);

/** SREG OP data, op one of enum nft_cmp_ops */
void nft_expr_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op,
				  const void *data, uint32_t len);

/** ct KEY => DREG, of the packet's direction */
void nft_expr_ct_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg);

/** ct original KEY => DREG (a tuple field of the original direction) */
void nft_expr_ct_orig_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg);

/**
 * ct original ip saddr . ct original ip daddr => reg 1 and reg 1 + 4 bytes,
 * the key of nft_expr_saddr_daddr() for the packet that created the flow
 */
void nft_expr_ct_orig_saddr_daddr(struct nftnl_rule *r);

/**
 * ct original ip saddr . ct original ip daddr . ct original protocol .
 * ct original proto-dst, the key of nft_expr_saddr_daddr_proto_dport() for
 * the packet that created the flow
 */
void nft_expr_ct_orig_saddr_daddr_proto_dport(struct nftnl_rule *r);

/** ct KEY <= SREG (ct zone set, ct mark set) */
void nft_expr_ct_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg);

/** ipsec in reqid => DREG (the reqid of the SA that decrypted the packet) */
void nft_expr_xfrm_reqid(struct nftnl_rule *r, uint32_t dreg);

/** rt KEY => DREG */
void nft_expr_rt_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg);

/** REG = hton(REG), for a 2 byte value in host byte order */
void nft_expr_hton16(struct nftnl_rule *r, uint32_t reg);

/** lookup SREG in set, data to DREG if dreg is not NFT_REG_VERDICT */
void nft_expr_lookup_reg(struct nftnl_rule *r, const char *set, uint32_t id,
						 uint32_t sreg, uint32_t dreg);

/** immediate verdict (NF_DROP, NF_ACCEPT, NFT_RETURN...) */
void nft_expr_verdict(struct nftnl_rule *r, int verdict);

/** goto CHAIN (a regular chain of the same table; at its end the packet
 * leaves the base chain that went there, with its policy) */
void nft_expr_goto(struct nftnl_rule *r, const char *chain);

/**
 * counter drop: a drop the rule counts, so that "nft list" shows how many
 * packets it stopped (the counter costs only the packets dropped)
 */
void nft_expr_counted_drop(struct nftnl_rule *r);

/**
 * meta KEY "NAME": KEY one of the interface names or kinds (iifname,
 * oifkind...), compared as a string with its NUL (a device without a kind
 * does not match a kind: the expression breaks)
 */
void nft_expr_meta_name(struct nftnl_rule *r, uint32_t key, const char *name);

/**
 * meta secpath exists (nft 1.0.6 prints "meta ipsec exists")
 */
void nft_expr_secpath_exists(struct nftnl_rule *r);

/**
 * ct zone FIRST-LAST; the zone is in host byte order, the comparison is
 * bytewise: converted first, as nft does
 */
void nft_expr_ct_zone_range(struct nftnl_rule *r, uint16_t first,
							uint16_t last);

/**
 * ct KEY & mask == value, KEY a 32-bit value in host byte order (mark,
 * status)
 */
void nft_expr_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask,
					  uint32_t value);

/**
 * ip daddr & mask of a prefix length => DREG (the key of a block lookup)
 */
void nft_expr_daddr_masked(struct nftnl_rule *r, uint8_t len, uint32_t dreg);

/**
 * NAT (NFT_NAT_DNAT or NFT_NAT_SNAT) to the prefix in reg 1 (first address)
 * and reg 1 + 4 bytes (last address), host bits kept (NF_NAT_RANGE_NETMAP)
 */
void nft_expr_nat_prefix(struct nftnl_rule *r, uint32_t type);

#endif /** NFT_EXPR_H_ @}*/
