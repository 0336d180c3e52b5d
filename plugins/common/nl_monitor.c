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

#include "nl_monitor.h"

#include <errno.h>
#include <poll.h>
#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <stddef.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <utils/debug.h>
#include <threading/thread.h>

typedef struct private_nl_monitor_t private_nl_monitor_t;

/**
 * How long events must stop coming before a restore, in ms
 */
#define QUIET_MS 20

/**
 * Most port ids to ignore
 */
#define MAX_IGNORE NL_MONITOR_MAX_IGNORE

/**
 * Most message types to wake for
 */
#define MAX_TYPES NL_MONITOR_MAX_TYPES

/**
 * Words of an nftables table's name the socket filter compares
 */
#define NAME_WORDS NL_MONITOR_NAME_WORDS

/**
 * Where the table's name starts in an nftables event: after the netlink and
 * nfnetlink headers and the attribute's header
 */
#define NAME_OFFSET (NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + NLA_HDRLEN)

struct private_nl_monitor_t {

	/**
	 * Public interface.
	 */
	nl_monitor_t public;

	/**
	 * Socket joined to the groups
	 */
	struct mnl_socket *nl;

	/**
	 * Port ids of the plugin's own sockets
	 */
	uint32_t ignore[MAX_IGNORE];

	nl_monitor_filter_t filter;
	nl_monitor_heal_t heal;
	void *data;
	char *name;

	/**
	 * The thread reading events
	 */
	thread_t *thread;
};

/**
 * Read what is pending; TRUE if an event asks for a restore (or events
 * were lost)
 */
static bool read_events(private_nl_monitor_t *this, char *why, size_t len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	struct nlmsghdr *nlh;
	ssize_t n;
	bool relevant = FALSE;
	int i, rem;

	/* with MSG_TRUNC, the length of the whole datagram */
	n = recv(mnl_socket_get_fd(this->nl), buf, sizeof(buf),
			 MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
	{
		if (errno == ENOBUFS)
		{	/* the kernel dropped events: can't tell what changed */
			snprintf(why, len, "possibly changed: netlink events were lost "
					 "(ENOBUFS)");
			return TRUE;
		}
		return FALSE;
	}
	if ((size_t)n > sizeof(buf))
	{	/* the rest of the datagram is gone: as if events were lost */
		snprintf(why, len, "possibly changed: a netlink event of %zd bytes "
				 "was cut to %zu", n, sizeof(buf));
		return TRUE;
	}
	rem = n;
	for (nlh = (struct nlmsghdr*)buf; mnl_nlmsg_ok(nlh, rem);
		 nlh = mnl_nlmsg_next(nlh, &rem))
	{
		for (i = 0; i < MAX_IGNORE && this->ignore[i]; i++)
		{
			if (nlh->nlmsg_pid == this->ignore[i])
			{
				break;
			}
		}
		if (i < MAX_IGNORE && this->ignore[i])
		{
			continue;
		}
		if (this->filter(this->data, nlh))
		{
			if (!relevant)
			{
				snprintf(why, len, "changed by another program (netlink port "
						 "%u)", nlh->nlmsg_pid);
			}
			relevant = TRUE;
		}
	}
	return relevant;
}

static void *monitor(private_nl_monitor_t *this)
{
	struct pollfd pfd = {
		.fd = mnl_socket_get_fd(this->nl),
		.events = POLLIN,
	};
	char why[128];
	bool heal = FALSE, old;
	int ret;

	while (TRUE)
	{
		/* block until events come; once one asks for a restore, wait until
		 * they stop for a moment (a flush comes as many events) */
		old = thread_cancelability(TRUE);
		ret = poll(&pfd, 1, heal ? QUIET_MS : -1);
		thread_cancelability(old);
		if (ret > 0)
		{
			heal = read_events(this, why, sizeof(why)) || heal;
		}
		else if (ret == 0 && heal)
		{
			heal = FALSE;
			this->heal(this->data, why);
		}
		else if (ret < 0 && errno != EINTR)
		{
			DBG1(DBG_CFG, "%s: polling netlink events failed: %s", this->name,
				 strerror(errno));
			sleep(1);
		}
	}
	return NULL;
}

/*
 * Described in header
 */
const uint16_t nl_monitor_nft_deletions[] = {
	NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELTABLE,
	NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELCHAIN,
	NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELRULE,
	NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSET,
	NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSETELEM,
	0
};

/*
 * Described in header
 */
bool nl_monitor_nft_deleted(const struct nlmsghdr *nlh, const char *table)
{
	const struct nfgenmsg *nfg;
	const struct nlattr *attr;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
	{
		return FALSE;
	}
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type))
	{
		case NFT_MSG_DELTABLE:
		case NFT_MSG_DELCHAIN:
		case NFT_MSG_DELRULE:
		case NFT_MSG_DELSET:
		case NFT_MSG_DELSETELEM:
			break;
		default:
			return FALSE;
	}
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*nfg)))
	{
		return FALSE;
	}
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_IPV4)
	{
		return FALSE;
	}
	/* the table's name is attribute 1 in all of these messages
	 * (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE,
	 * NFTA_SET_ELEM_LIST_TABLE) */
	mnl_attr_for_each(attr, nlh, sizeof(*nfg))
	{
		if (mnl_attr_get_type(attr) == 1 &&
			mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		{
			return streq(mnl_attr_get_str(attr), table);
		}
	}
	return FALSE;
}

/**
 * Write the part of the socket filter that lets an skb through if it holds
 * more than one message: if its length is at least the first message's
 * nlmsg_len plus a header. nlmsg_len is in host byte order while BPF loads
 * words big-endian, so it is put together from its bytes. Returns the
 * number of instructions written, NL_MONITOR_FILTER_MULTI.
 */
static u_int multi_message(struct sock_filter *code)
{
	const uint16_t probe = 1;
	const int bytes = sizeof(uint32_t);
	bool little = *(const uint8_t*)&probe == 1;
	int i, shift, n = 0;

	/* A = nlmsg_len of the first message, ORed together in X */
	for (i = 0; i < bytes; i++)
	{
		shift = 8 * (little ? i : bytes - 1 - i);
		code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
								offsetof(struct nlmsghdr, nlmsg_len) + i);
		if (shift)
		{
			code[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_LSH | BPF_K,
													 shift);
		}
		if (i)
		{
			code[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_OR | BPF_X,
													 0);
		}
		if (i < bytes - 1)
		{
			code[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
		}
	}
	/* X = the length of the first message and a second one's header */
	code[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_K,
											 NLMSG_HDRLEN);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
	/* A = length of the skb; if it holds that much, let it through */
	code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0);
	code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_X, 0,
											 0, 1);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
	return n;
}

/*
 * Described in header
 */
u_int nl_monitor_build_filter(const uint32_t *ignore, const uint16_t *types,
							  const char *nft_table, struct sock_filter *code)
{
	/* the filter drops the events whose first message carries one of our
	 * port ids (a transaction's events come in skbs of their own), lets
	 * through those of several messages, and drops single messages of
	 * other kinds and, for nftables, those about other tables */
	uint32_t want[NAME_WORDS] = {};
	int i, n = 0, count, words = 0, check;

	if (nft_table)
	{	/* compare the name, zero padded as in the attribute, as
		 * big-endian words (how BPF loads them); a longer name by its
		 * start */
		words = min((int)(strlen(nft_table) / 4 + 1), NAME_WORDS);
		memcpy(want, nft_table, min(strlen(nft_table), sizeof(want)));
		for (i = 0; i < words; i++)
		{
			want[i] = ntohl(want[i]);
		}
	}
	for (count = 0; count < MAX_IGNORE && ignore[count]; count++);
	/* A = nlmsg_pid of the first message (loaded big-endian) */
	code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
								offsetof(struct nlmsghdr, nlmsg_pid));
	for (i = 0; i < count; i++)
	{
		code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						__builtin_bswap32(ignore[i]), 0, 1);
		code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	}
	for (count = 0; count < MAX_TYPES && types[count]; count++);
	if (count)
	{	/* since Linux 5.10 an skb may hold several events of a transaction,
		 * and what the first one is about tells nothing about the others:
		 * let such an skb through whole, the filter callback judges each
		 * message */
		n += multi_message(&code[n]);
	}
	/* A = nlmsg_type; only the kinds of events asked for wake us */
	code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
								offsetof(struct nlmsghdr, nlmsg_type));
	for (i = 0; i < count; i++)
	{	/* on a match, to the name check after the final return */
		code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						__builtin_bswap16(types[i]), count - i, 0);
	}
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
											 count ? 0 : 0xffffffff);
	if (words)
	{	/* the table's name is the first attribute of all nftables
		 * deletions: length, type 1, then the string. If the event is
		 * too short or starts otherwise, the filter callback decides */
		check = NAME_OFFSET + 4 * words;
		code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0);
		code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
												 check, 1, 0);
		code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
		code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
												 NAME_OFFSET - 2);
		code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
												 __builtin_bswap16(1), 1, 0);
		code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
		for (i = 0; i < words; i++)
		{
			code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
													 NAME_OFFSET + 4 * i);
			code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
													 want[i], 1, 0);
			code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		}
	}
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
	return n;
}

METHOD(nl_monitor_t, destroy, void,
	private_nl_monitor_t *this)
{
	if (this->thread)
	{
		this->thread->cancel(this->thread);
		this->thread->join(this->thread);
	}
	mnl_socket_close(this->nl);
	free(this->name);
	free(this);
}

/*
 * Described in header
 */
nl_monitor_t *nl_monitor_create(int protocol, const uint32_t *groups,
								const uint32_t *ignore, const uint16_t *types,
								const char *nft_table,
								nl_monitor_filter_t filter,
								nl_monitor_heal_t heal, void *data,
								const char *name)
{
	private_nl_monitor_t *this;
	int i, size = 4 * 1024 * 1024;

	INIT(this,
		.public = {
			.destroy = _destroy,
		},
		.filter = filter,
		.heal = heal,
		.data = data,
		.name = strdup(name),
	);
	for (i = 0; ignore[i] && i < MAX_IGNORE; i++)
	{
		this->ignore[i] = ignore[i];
	}
	this->nl = mnl_socket_open(protocol);
	if (!this->nl || mnl_socket_bind(this->nl, 0, MNL_SOCKET_AUTOPID) < 0)
	{
		DBG1(DBG_CFG, "%s: opening a netlink socket for events failed: %s",
			 name, strerror(errno));
		if (this->nl)
		{
			mnl_socket_close(this->nl);
		}
		free(this->name);
		free(this);
		return NULL;
	}
	/* our own changes never wake the thread */
	{
		struct sock_filter code[NL_MONITOR_FILTER_MAX];
		struct sock_fprog prog = {
			.filter = code,
			.len = nl_monitor_build_filter(this->ignore, types, nft_table,
										   code),
		};

		if (setsockopt(mnl_socket_get_fd(this->nl), SOL_SOCKET,
					   SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		{
			DBG1(DBG_CFG, "%s: attaching a socket filter failed: %s", name,
				 strerror(errno));
		}
	}
	/* a flush of many elements makes many events */
	setsockopt(mnl_socket_get_fd(this->nl), SOL_SOCKET, SO_RCVBUFFORCE,
			   &size, sizeof(size));
	for (i = 0; groups[i]; i++)
	{
		if (mnl_socket_setsockopt(this->nl, NETLINK_ADD_MEMBERSHIP, (void*)&groups[i],
								  sizeof(groups[i])) < 0)
		{
			DBG1(DBG_CFG, "%s: joining netlink group %u failed: %s", name,
				 groups[i], strerror(errno));
			mnl_socket_close(this->nl);
			free(this->name);
			free(this);
			return NULL;
		}
	}
	this->thread = thread_create((thread_main_t)monitor, this);
	return &this->public;
}
