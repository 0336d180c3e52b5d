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
 * Helpers of the tests of nftables messages: split a batch into its
 * messages, check their framing, parse them back with libnftnl.
 */

#ifndef NFT_MSGS_H_
#define NFT_MSGS_H_

#include <library.h>

#include <linux/netlink.h>
#include <libnftnl/rule.h>

#include <nl_batch.h>

/**
 * The messages of the last batch split, in order
 */
extern struct nlmsghdr *nft_msgs[1024];
extern int nft_nmsgs;

/**
 * Split a batch into nft_msgs, checking that nothing is left over and that
 * every message is counted.
 */
void nft_msgs_split(nl_batch_t *batch);

/**
 * The nftables message type of a message (checking its subsystem).
 */
uint16_t nft_msgs_type(struct nlmsghdr *nlh);

/**
 * Check that the messages are numbered in order, and ask for an ack except
 * the batch begin and end.
 */
void nft_msgs_check_seq_and_acks(void);

/**
 * Renumber the nested elements of an element message so that libnftnl's
 * parser takes messages of more than one element.
 */
void nft_msgs_renumber_list(struct nlmsghdr *nlh);

/**
 * Describe a rule in one line, its chain and its expressions, e.g.
 * "prerouting: payload nh@16>1 | bitwise 1&0xffffff^0x0 | lookup adnat4_l24
 * 1>1 | nat dnat 1-9 flags 0x40", for comparisons. Data of a cmp or bitwise
 * is printed as a number of its length, read in host byte order.
 *
 * @param nlh		NFT_MSG_NEWRULE message
 * @param buf		buffer
 * @param len		size of buf
 * @return			buf
 */
char *nft_msgs_rule_str(struct nlmsghdr *nlh, char *buf, size_t len);

#endif /** NFT_MSGS_H_ */
