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
 * @defgroup nft_util nft_util
 * @{ @ingroup tunnel_common
 */

#ifndef NFT_UTIL_H_
#define NFT_UTIL_H_

#include "nl_batch.h"

#include <libnftnl/rule.h>

/**
 * An element of a set or map keyed by two concatenated IPv4 address ranges,
 * e.g. ip saddr . ip daddr. Addresses in host byte order.
 */
typedef struct {
	/** first address of each key field */
	uint32_t key_from[2];
	/** last address of each key field */
	uint32_t key_to[2];
	/** map data (a prefix as first and last address), if data is TRUE */
	uint32_t data[2];
	bool has_data;
	/** comment shown by nft, may be NULL */
	const char *comment;
	/** description for log messages, may be NULL */
	const char *desc;
	/** for a set of exact pairs: key_to is not sent */
	bool exact;
	/** for a set of single addresses (nft_msg_addr_set()): key_from[0] */
	bool single;
} nft_concat_elem_t;

/**
 * Start a transaction.
 */
void nft_msg_begin(nl_batch_t *batch);

/**
 * End a transaction.
 */
void nft_msg_end(nl_batch_t *batch);

/**
 * Add a table message (NFT_MSG_NEWTABLE or NFT_MSG_DELTABLE).
 *
 * @param desc		verb for the log, e.g. "add"
 */
void nft_msg_table(nl_batch_t *batch, const char *name, uint16_t type,
				   uint16_t flags, const char *desc);

/**
 * Add a message deleting a table.
 */
void nft_msg_delete_table(nl_batch_t *batch, const char *name);

/**
 * Add messages replacing a table in one transaction: add (no error if it
 * exists), delete, create.
 */
void nft_msg_replace_table(nl_batch_t *batch, const char *name);

/**
 * Create a set (or map to a prefix) keyed by ipv4_addr . ipv4_addr.
 *
 * An interval set (pipapo in the kernel) holds ranges, and its lookup cost
 * grows with the number of elements; an exact one (a hash) holds single
 * address pairs at a cost independent of their number.
 *
 * @param id		set id, unique in the transaction
 * @param map		TRUE for a map with "interval ipv4_addr" data
 * @param interval	TRUE for a set of ranges, FALSE for exact pairs
 */
void nft_msg_concat_set(nl_batch_t *batch, const char *table, const char *name,
						uint32_t id, bool map, bool interval);

/**
 * Create a set of single IPv4 addresses (a hash).
 *
 * @param id		set id, unique in the transaction
 */
void nft_msg_addr_set(nl_batch_t *batch, const char *table, const char *name,
					  uint32_t id);

/**
 * Create a base chain.
 *
 * @param type		"nat", "filter" or "route"
 */
void nft_msg_chain(nl_batch_t *batch, const char *table, const char *name,
				   uint32_t hook, int32_t prio, const char *type);

/**
 * Allocate a rule for a table and chain, to add expressions to.
 */
struct nftnl_rule *nft_rule_alloc(const char *table, const char *chain);

/**
 * Add a rule message, with a comment, and free the rule.
 */
void nft_msg_rule(nl_batch_t *batch, struct nftnl_rule *r, const char *comment);

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
 * Add messages removing every element of a set.
 */
void nft_msg_flush_set(nl_batch_t *batch, const char *table, const char *set);

/**
 * Add messages adding or deleting elements: one message per element for
 * short lists (so an error names the element), many per message for long
 * ones.
 */
void nft_msg_concat_elems(nl_batch_t *batch, const char *table,
						  const char *set, bool add,
						  nft_concat_elem_t *elems, u_int count);

/**
 * An element of the port forward map (nft_msg_port_map()): key ip saddr
 * range . ip daddr . IP protocol . port, data address . port. Host byte
 * order.
 */
typedef struct {
	uint32_t src_from, src_to, dst;
	uint8_t proto;
	uint16_t port;
	uint32_t nat_addr;
	uint16_t nat_port;
	/** comment shown by nft, may be NULL */
	const char *comment;
	/** description for log messages, may be NULL */
	const char *desc;
} nft_port_elem_t;

/**
 * Create an interval map "ipv4_addr . ipv4_addr . inet_proto . inet_service :
 * ipv4_addr . inet_service", for port forwards.
 *
 * @param id		set id, unique in the transaction
 */
void nft_msg_port_map(nl_batch_t *batch, const char *table, const char *name,
					  uint32_t id);

/**
 * Add messages adding or deleting elements of a port forward map.
 */
void nft_msg_port_elems(nl_batch_t *batch, const char *table, const char *set,
						bool add, nft_port_elem_t *elems, u_int count);

/**
 * ip saddr . ip daddr . meta l4proto . th dport => reg 1 (16 bytes)
 */
void nft_expr_saddr_daddr_proto_dport(struct nftnl_rule *r);

#endif /** NFT_UTIL_H_ @}*/
