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

#ifndef NFT_CHECKS_H_
#define NFT_CHECKS_H_

#include <library.h>

#include <linux/netlink.h>

#include <nl_batch.h>

/**
 * What nft's typeof userdata of a field names: the expression type and its
 * first attribute (the key of meta, ct and xfrm, the protocol of payload)
 */
typedef struct {
	uint32_t expr;
	uint32_t attr0;
} typeof_t;

/**
 * nft's userdata of a set: byte orders, interval data, typeof of key and
 * data
 */
typedef struct {
	uint32_t key_order, data_order, interval;
	typeof_t key, data;
} set_udata_t;

/**
 * A set as created: name, flags, types and lengths, counters, userdata
 */
typedef struct {
	const char *name;
	uint32_t flags;
	uint32_t key_type, key_len, data_type, data_len;
	int counters;
	set_udata_t udata;
} set_t;

/**
 * Format a string, kept until free_strs().
 */
char *fmt(const char *format, ...);

/**
 * Free the strings of fmt().
 */
void free_strs(void);

/**
 * Check a message creating a set of table tn_test against what is expected:
 * a hash (no intervals, no concat description), with exp's name, flags,
 * types and lengths, counters and userdata.
 */
void check_set(struct nlmsghdr *nlh, set_t *exp);

/**
 * Check a message creating a base chain with policy accept.
 */
void check_chain(struct nlmsghdr *nlh, const char *name, const char *type,
				 uint32_t hook, int32_t prio);

/**
 * Check a message holding one element of a hash: its set, key, data (NULL
 * for none) and comment (NULL for none).
 */
void check_elem(struct nlmsghdr *nlh, bool add, const char *set,
				const void *key, uint32_t klen, const void *data,
				uint32_t dlen, const char *comment);

/**
 * Descriptions of the messages of a batch between begin and end, one line
 * each.
 *
 * @param batch		batch
 * @param buf		buffer
 * @param len		size of buf
 * @return			buf
 */
char *describe_all(nl_batch_t *batch, char *buf, size_t len);

#endif /** NFT_CHECKS_H_ */
