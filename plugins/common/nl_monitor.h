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
 * @defgroup nl_monitor nl_monitor
 * @{ @ingroup tunnel_common
 */

#ifndef NL_MONITOR_H_
#define NL_MONITOR_H_

#include <library.h>
#include <linux/filter.h>
#include <linux/netlink.h>

typedef struct nl_monitor_t nl_monitor_t;

/**
 * Most port ids a monitor ignores.
 */
#define NL_MONITOR_MAX_IGNORE 4

/**
 * Most message types a monitor wakes for.
 */
#define NL_MONITOR_MAX_TYPES 8

/**
 * Words (of 4 bytes) of an nftables table's name the socket filter
 * compares: a longer name is compared by its start.
 */
#define NL_MONITOR_NAME_WORDS 8

/**
 * Instructions of the socket filter that let an skb of several messages
 * through: thirteen to load the first message's length byte by byte (it is
 * in host byte order, BPF loads big-endian words), five to compare it with
 * the skb's length and return.
 */
#define NL_MONITOR_FILTER_MULTI (13 + 5)

/**
 * Most instructions of the socket filter: loading the port id, two per
 * ignored port id, the check for several messages, loading the type, one
 * per type, a return, six to find the name, three per word of the name and
 * the final return.
 */
#define NL_MONITOR_FILTER_MAX (1 + 2 * NL_MONITOR_MAX_IGNORE + \
							   NL_MONITOR_FILTER_MULTI + 1 + \
							   NL_MONITOR_MAX_TYPES + 1 + 6 + \
							   3 * NL_MONITOR_NAME_WORDS + 1)

/**
 * Tell whether an event concerns the plugin's state (a deletion of
 * something it installed). Events caused through the plugin's own sockets
 * never get here.
 *
 * @param data		user data
 * @param nlh		event
 * @return			TRUE if the state must be checked and restored
 */
typedef bool (*nl_monitor_filter_t)(void *data, const struct nlmsghdr *nlh);

/**
 * Restore the state, called from the monitor's thread once the events
 * that asked for it have stopped coming for a moment.
 *
 * @param data		user data
 * @param why		what happened, completing "... was <why>" in log messages
 */
typedef void (*nl_monitor_heal_t)(void *data, const char *why);

/**
 * A thread listening to netlink multicast events (nftables, routing rules
 * and routes), so that the plugins notice at once when another program
 * deletes what they installed ("nft flush ruleset", "ip rule flush").
 */
struct nl_monitor_t {

	/**
	 * Stop the thread and destroy the monitor.
	 */
	void (*destroy)(nl_monitor_t *this);
};

/**
 * Start monitoring.
 *
 * @param protocol	NETLINK_NETFILTER or NETLINK_ROUTE
 * @param groups	multicast groups to join, 0 terminated
 * @param ignore	port ids whose events are the plugin's own, 0 terminated
 *					(at most 4)
 * @param types		message types to wake for, 0 terminated (at most 8); the
 *					kernel drops the others before they reach the socket
 * @param nft_table	for nftables events: the kernel drops those about
 *					other tables already (the filter still decides),
 *					NULL for none
 * @param filter	decides which events ask for a restore
 * @param heal		restores
 * @param data		user data for filter and heal
 * @param name		name for log messages
 * @return			monitor, NULL if the socket could not be opened (logged)
 */
nl_monitor_t *nl_monitor_create(int protocol, const uint32_t *groups,
								const uint32_t *ignore, const uint16_t *types,
								const char *nft_table,
								nl_monitor_filter_t filter,
								nl_monitor_heal_t heal, void *data,
								const char *name);

/**
 * Build the classic BPF socket filter a monitor attaches to its socket.
 *
 * The kernel runs it on each skb of events, which starts with the first
 * message's header. It drops the skb if that message carries one of the
 * ignored port ids (the plugin's own changes: the kernel puts the events
 * of one nftables transaction, all of which carry the port id of the
 * socket that sent it, in skbs of their own). An skb that holds more than
 * one message (since Linux 5.10 the events of an nftables transaction share
 * skbs, e.g. those of "nft flush ruleset" about all tables) is let through
 * whole: a relevant deletion may follow a first message about anything.
 * An skb of a single message is dropped if its type is not one of types,
 * and, with nft_table, if its first attribute, the table's name in all
 * nftables deletions, names another table. An skb too short to hold the
 * name, or whose first attribute is not of type 1, is let through for the
 * filter callback to decide. With no types, everything not ignored passes.
 *
 * @param ignore	port ids to drop the events of, 0 terminated (at most
 *					NL_MONITOR_MAX_IGNORE are used)
 * @param types		message types to let through, 0 terminated (at most
 *					NL_MONITOR_MAX_TYPES are used)
 * @param nft_table	name of the nftables table, NULL for none
 * @param code		array of NL_MONITOR_FILTER_MAX instructions to fill
 * @return			number of instructions written
 */
u_int nl_monitor_build_filter(const uint32_t *ignore, const uint16_t *types,
							  const char *nft_table, struct sock_filter *code);

/**
 * Whether an nftables event deletes something in a table of family ip
 * (the table, a chain, a rule, a set or set elements).
 *
 * @param nlh		event
 * @param table		name of the table
 * @return			TRUE if so
 */
bool nl_monitor_nft_deleted(const struct nlmsghdr *nlh, const char *table);

/**
 * The nftables message types of deletions, 0 terminated, for
 * nl_monitor_create().
 */
extern const uint16_t nl_monitor_nft_deletions[];

#endif /** NL_MONITOR_H_ @}*/
