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
#include "nft_expr.h"

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
 * Create a regular chain (no hook), for rules that base chains jump or go
 * to.
 */
void nft_msg_regular_chain(nl_batch_t *batch, const char *table,
						   const char *name);

/**
 * Allocate a rule for a table and chain, to add expressions to.
 */
struct nftnl_rule *nft_rule_alloc(const char *table, const char *chain);

/**
 * Add a rule message, with a comment, and free the rule.
 */
void nft_msg_rule(nl_batch_t *batch, struct nftnl_rule *r, const char *comment);

/**
 * Add a rule message that puts the rule at the head of its chain, with a
 * comment, and free the rule.
 */
void nft_msg_rule_first(nl_batch_t *batch, struct nftnl_rule *r,
						const char *comment);

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
	/** for a set with the key only (nft_msg_counter_set()): no data */
	bool key_only;
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
 * Keys of a counting set (nft_msg_counter_set())
 */
typedef enum {
	/** ipv4_addr . ipv4_addr, exact pairs (a hash) */
	NFT_COUNTER_PAIRS,
	/** ipv4_addr . ipv4_addr, ranges (pipapo) */
	NFT_COUNTER_RANGES,
	/** the key of the port forward map (nft_msg_port_map()), ranges */
	NFT_COUNTER_PORTS,
} nft_counter_key_t;

/**
 * Create a set without data whose elements count the packets and bytes of
 * the lookups that hit them (a set-level counter expression, cloned into
 * each element), e.g. "counter packets 12 bytes 1008" in nft's listing.
 * Elements are added with nft_msg_concat_elems() (has_data FALSE) or
 * nft_msg_port_elems() (key_only TRUE).
 *
 * @param id		set id, unique in the transaction
 * @param key		the key and the kind of set
 */
void nft_msg_counter_set(nl_batch_t *batch, const char *table,
						 const char *name, uint32_t id, nft_counter_key_t key);

/**
 * Add messages adding or deleting elements of a port forward map.
 */
void nft_msg_port_elems(nl_batch_t *batch, const char *table, const char *set,
						bool add, nft_port_elem_t *elems, u_int count);

/**
 * What a key or data field of a typed map (nft_msg_typeof_map()) holds, by
 * the expression it is compared with; nft lists the map with "typeof".
 */
typedef enum {
	/** ipsec in reqid: 4 bytes, host byte order */
	NFT_TYPEOF_REQID,
	/** ip daddr: 4 bytes, network byte order */
	NFT_TYPEOF_DADDR,
	/** ct zone: 2 bytes, host byte order */
	NFT_TYPEOF_CT_ZONE,
	/** meta mark: 4 bytes, host byte order */
	NFT_TYPEOF_META_MARK,
} nft_typeof_t;

/**
 * Create a map without intervals (a hash in the kernel), keyed and valued
 * as the expressions it is used with.
 *
 * @param id		set id, unique in the transaction
 * @param key		what the key holds
 * @param data		what the data holds
 * @param counter	TRUE to give every element a counter, updated by
 *					lookups (a set-level counter expression)
 */
void nft_msg_typeof_map(nl_batch_t *batch, const char *table, const char *name,
						uint32_t id, nft_typeof_t key, nft_typeof_t data,
						bool counter);

/**
 * Create a map without intervals from ipv4_addr, or from mark . ipv4_addr,
 * to "interval ipv4_addr" (a prefix, first and last address, for
 * NF_NAT_RANGE_NETMAP).
 *
 * @param id		set id, unique in the transaction
 * @param mark		TRUE for a mark . ipv4_addr key
 */
void nft_msg_prefix_map(nl_batch_t *batch, const char *table, const char *name,
						uint32_t id, bool mark);

/**
 * An element of a hash set or map, key and data as the kernel compares and
 * copies them (nft_elem_host*(), nft_elem_addr() append a field).
 */
typedef struct {
	uint8_t key[8];
	uint8_t key_len;
	uint8_t data[8];
	uint8_t data_len;
	/** comment shown by nft, may be NULL */
	const char *comment;
	/** description for log messages, may be NULL */
	const char *desc;
} nft_elem_t;

/** Append a 32-bit value in host byte order (reqid, mark) */
void nft_elem_host32(uint8_t *buf, uint8_t *len, uint32_t value);
/** Append a 16-bit value in host byte order (zone) */
void nft_elem_host16(uint8_t *buf, uint8_t *len, uint16_t value);
/** Append an IPv4 address given in host byte order */
void nft_elem_addr(uint8_t *buf, uint8_t *len, uint32_t addr);

/**
 * Add messages adding or deleting elements of a hash set or map (the data
 * is sent only when adding).
 */
void nft_msg_elems(nl_batch_t *batch, const char *table, const char *set,
				   bool add, nft_elem_t *elems, u_int count);

#endif /** NFT_UTIL_H_ @}*/
