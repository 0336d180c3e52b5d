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

/*
 * The socket filter of nl_monitor, run by the kernel: the filter is
 * attached (SO_ATTACH_FILTER, which the kernel checks) to one end of a UNIX
 * datagram socketpair, and each event, built with libnftnl and libmnl the
 * way the kernel sends it, is sent through the pair. It arrived if the
 * filter let it through. No netlink socket, no privileges.
 */

#include "test_suites.h"

#include <errno.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include <nl_monitor.h>

/**
 * Port ids of the plugin's own sockets (nftables, rtnetlink), bytes that
 * differ when swapped
 */
#define OWN_NFT 0x12345678
#define OWN_RT 0x0badf00d

/**
 * Port id of another program
 */
#define OTHER 0x00c0ffee

/**
 * A table name of 39 characters: the filter compares its first 32
 */
#define LONG_NAME "tunnel_nat_with_a_name_longer_than_32_c"

/**
 * The port ids both plugins' monitors ignore
 */
static const uint32_t ignore[] = { OWN_NFT, OWN_RT, 0 };

/**
 * The message types tunnel-route's rtnetlink monitor wakes for
 */
static const uint16_t rt_types[] = { RTM_DELROUTE, RTM_DELRULE, 0 };

/**
 * Sending end and receiving end (with the filter) of a socketpair
 */
static int pair[2] = { -1, -1 };

/**
 * Buffer for an event
 */
static char buf[8192];

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
}

static void teardown(void)
{
	close(pair[0]);
	close(pair[1]);
	pair[0] = pair[1] = -1;
}

/**
 * Build the filter and attach it to the receiving end
 */
static u_int attach(const uint32_t *ports, const uint16_t *types,
					const char *table)
{
	struct sock_filter code[NL_MONITOR_FILTER_MAX];
	struct sock_fprog prog = {
		.filter = code,
	};

	prog.len = nl_monitor_build_filter(ports, types, table, code);
	ck_assert_uint_gt(prog.len, 0);
	ck_assert_uint_le(prog.len, NL_MONITOR_FILTER_MAX);
	ck_assert_msg(setsockopt(pair[1], SOL_SOCKET, SO_ATTACH_FILTER, &prog,
							 sizeof(prog)) == 0,
				  "the kernel refused the filter: %s", strerror(errno));
	return prog.len;
}

/**
 * Send a datagram of events through the pair, TRUE if it arrived (whole and
 * unchanged)
 */
static bool passes_buf(const void *data, size_t size)
{
	char got[2 * sizeof(buf)];
	ssize_t len;

	ck_assert_int_eq(send(pair[0], data, size, 0), size);
	len = recv(pair[1], got, sizeof(got), MSG_DONTWAIT);
	if (len < 0)
	{
		ck_assert_msg(errno == EAGAIN, "recv: %s", strerror(errno));
		return FALSE;
	}
	ck_assert_int_eq(len, size);
	ck_assert(memeq(got, data, len));
	return TRUE;
}

/**
 * Send an event through the pair, TRUE if it arrived (whole and unchanged)
 */
static bool passes(const struct nlmsghdr *nlh)
{
	return passes_buf(nlh, nlh->nlmsg_len);
}

/**
 * How an nftables event is laid out
 */
typedef enum {
	/** as the kernel sends it: the table's name, then the rest */
	EVENT_FULL,
	/** the table's name only */
	EVENT_BARE,
	/** set elements with the set's name before the table's */
	EVENT_SET_FIRST,
} event_shape_t;

/**
 * An nftables event naming a table, with the attributes the kernel puts in
 * first: the table's name, then the object's name or handle. Tables,
 * chains, rules and sets are built with libnftnl, set elements with libmnl
 * (libnftnl puts the set's name first there, the kernel the table's).
 */
static struct nlmsghdr *nft_event(uint16_t type, uint32_t portid,
								  const char *table, event_shape_t shape)
{
	struct nlmsghdr *nlh;
	struct nftnl_table *t;
	struct nftnl_chain *c;
	struct nftnl_rule *r;
	struct nftnl_set *s;
	struct nlattr *list, *elem, *key;
	bool bare = shape == EVENT_BARE;

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_IPV4, 0, 7);
	nlh->nlmsg_pid = portid;
	switch (type)
	{
		case NFT_MSG_NEWTABLE:
		case NFT_MSG_DELTABLE:
			t = nftnl_table_alloc();
			nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
			if (!bare)
			{
				nftnl_table_set_u64(t, NFTNL_TABLE_HANDLE, 3);
				nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
			}
			nftnl_table_nlmsg_build_payload(nlh, t);
			nftnl_table_free(t);
			break;
		case NFT_MSG_DELCHAIN:
			c = nftnl_chain_alloc();
			nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
			nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "postrouting");
			nftnl_chain_set_u64(c, NFTNL_CHAIN_HANDLE, 5);
			nftnl_chain_nlmsg_build_payload(nlh, c);
			nftnl_chain_free(c);
			break;
		case NFT_MSG_NEWRULE:
		case NFT_MSG_DELRULE:
			r = nftnl_rule_alloc();
			nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
			nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "postrouting");
			nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, 42);
			nftnl_rule_nlmsg_build_payload(nlh, r);
			nftnl_rule_free(r);
			break;
		case NFT_MSG_NEWSET:
		case NFT_MSG_DELSET:
			s = nftnl_set_alloc();
			nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
			nftnl_set_set_str(s, NFTNL_SET_NAME, "snat4");
			nftnl_set_set_u64(s, NFTNL_SET_HANDLE, 9);
			nftnl_set_nlmsg_build_payload(nlh, s);
			nftnl_set_free(s);
			break;
		case NFT_MSG_NEWSETELEM:
		case NFT_MSG_DELSETELEM:
			if (shape == EVENT_SET_FIRST)
			{
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "snat4");
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
			}
			else
			{
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "snat4");
			}
			list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
			elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
			key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
			mnl_attr_put_u32(nlh, NFTA_DATA_VALUE, htonl(0x0a01000a));
			mnl_attr_nest_end(nlh, key);
			mnl_attr_nest_end(nlh, elem);
			mnl_attr_nest_end(nlh, list);
			break;
		case NFT_MSG_NEWGEN:
			mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(1234));
			mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(4321));
			mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, "nft");
			break;
		default:
			ck_abort_msg("no builder for nftables message type %u", type);
	}
	if (shape != EVENT_SET_FIRST && type != NFT_MSG_NEWGEN)
	{	/* what the filter relies on: the table's name comes first */
		struct nlattr *first = mnl_nlmsg_get_payload_offset(nlh,
												sizeof(struct nfgenmsg));

		ck_assert_uint_eq(mnl_attr_get_type(first), 1);
		ck_assert_str_eq(mnl_attr_get_str(first), table);
	}
	return nlh;
}

/**
 * An rtnetlink route or rule event
 */
static struct nlmsghdr *rt_event(uint16_t type, uint32_t portid)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct fib_rule_hdr *frh;
	struct ifaddrmsg *ifa;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = 7;
	nlh->nlmsg_pid = portid;
	switch (type)
	{
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
			rtm->rtm_family = AF_INET;
			rtm->rtm_dst_len = 32;
			rtm->rtm_table = RT_TABLE_UNSPEC;
			rtm->rtm_protocol = 242;
			rtm->rtm_type = RTN_PROHIBIT;
			mnl_attr_put_u32(nlh, RTA_TABLE, 4242);
			mnl_attr_put_u32(nlh, RTA_DST, htonl(0xc6336410));
			break;
		case RTM_NEWRULE:
		case RTM_DELRULE:
			frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
			frh->family = AF_INET;
			frh->action = FR_ACT_TO_TBL;
			mnl_attr_put_u32(nlh, FRA_TABLE, 4242);
			mnl_attr_put_u32(nlh, FRA_PRIORITY, 210);
			mnl_attr_put_u32(nlh, FRA_FWMARK, 0x4000000);
			mnl_attr_put_u32(nlh, FRA_FWMASK, 0xc000000);
			mnl_attr_put_u8(nlh, FRA_PROTOCOL, 242);
			break;
		case RTM_DELADDR:
			ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
			ifa->ifa_family = AF_INET;
			ifa->ifa_prefixlen = 32;
			ifa->ifa_index = 1;
			mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(0xc0000264));
			break;
		default:
			ck_abort_msg("no builder for rtnetlink message type %u", type);
	}
	return nlh;
}

/**
 * nftables events against a monitor of a table, as tunnel-nat and
 * tunnel-route set theirs up
 */
static struct {
	/** what the case shows */
	const char *desc;
	/** table the monitor watches */
	const char *monitor;
	/** NFT_MSG_* */
	uint16_t type;
	/** port id the event carries */
	uint32_t portid;
	/** table the event names */
	const char *table;
	/** how the event is laid out */
	event_shape_t shape;
	/** whether the filter lets it through */
	bool pass;
} nft_tests[] = {
	/* deletions in our table by another program wake the monitor */
	{ "table deleted", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "tunnel_nat", EVENT_FULL, TRUE },
	{ "chain deleted", "tunnel_nat", NFT_MSG_DELCHAIN, OTHER, "tunnel_nat", EVENT_FULL, TRUE },
	{ "rule deleted", "tunnel_nat", NFT_MSG_DELRULE, OTHER, "tunnel_nat", EVENT_FULL, TRUE },
	{ "set deleted", "tunnel_nat", NFT_MSG_DELSET, OTHER, "tunnel_nat", EVENT_FULL, TRUE },
	{ "set elements deleted", "tunnel_nat", NFT_MSG_DELSETELEM, OTHER, "tunnel_nat", EVENT_FULL, TRUE },
	{ "table deleted by the kernel (port 0)", "tunnel_nat", NFT_MSG_DELTABLE, 0, "tunnel_nat", EVENT_FULL, TRUE },
	{ "a port id that is ours byte-swapped", "tunnel_nat", NFT_MSG_DELTABLE, 0x78563412, "tunnel_nat", EVENT_FULL, TRUE },
	{ "tunnel-route's table", "tunnel_route", NFT_MSG_DELSETELEM, OTHER, "tunnel_route", EVENT_FULL, TRUE },
	/* our own deletions (both of the plugin's port ids) are dropped */
	{ "own table deletion", "tunnel_nat", NFT_MSG_DELTABLE, OWN_NFT, "tunnel_nat", EVENT_FULL, FALSE },
	{ "own element deletion", "tunnel_nat", NFT_MSG_DELSETELEM, OWN_NFT, "tunnel_nat", EVENT_FULL, FALSE },
	{ "own rule deletion, second port id", "tunnel_nat", NFT_MSG_DELRULE, OWN_RT, "tunnel_nat", EVENT_FULL, FALSE },
	/* anything but a deletion is dropped */
	{ "table added", "tunnel_nat", NFT_MSG_NEWTABLE, OTHER, "tunnel_nat", EVENT_FULL, FALSE },
	{ "rule added", "tunnel_nat", NFT_MSG_NEWRULE, OTHER, "tunnel_nat", EVENT_FULL, FALSE },
	{ "set added", "tunnel_nat", NFT_MSG_NEWSET, OTHER, "tunnel_nat", EVENT_FULL, FALSE },
	{ "set elements added", "tunnel_nat", NFT_MSG_NEWSETELEM, OTHER, "tunnel_nat", EVENT_FULL, FALSE },
	{ "new generation", "tunnel_nat", NFT_MSG_NEWGEN, OTHER, NULL, EVENT_FULL, FALSE },
	/* deletions in other tables are dropped */
	{ "other table deleted", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "filter", EVENT_FULL, FALSE },
	{ "other chain deleted", "tunnel_nat", NFT_MSG_DELCHAIN, OTHER, "filter", EVENT_FULL, FALSE },
	{ "other rule deleted", "tunnel_nat", NFT_MSG_DELRULE, OTHER, "filter", EVENT_FULL, FALSE },
	{ "other set deleted", "tunnel_nat", NFT_MSG_DELSET, OTHER, "filter", EVENT_FULL, FALSE },
	{ "other set elements deleted", "tunnel_nat", NFT_MSG_DELSETELEM, OTHER, "filter", EVENT_FULL, FALSE },
	{ "the other plugin's table", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "tunnel_route", EVENT_FULL, FALSE },
	{ "a table our name is the start of", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "tunnel_nat2", EVENT_FULL, FALSE },
	{ "a table whose name is the start of ours", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "tunnel_na", EVENT_FULL, FALSE },
	{ "our name in capitals", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "TUNNEL_NAT", EVENT_FULL, FALSE },
	{ "our name with one more word", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "tunnel_nat_abcd", EVENT_FULL, FALSE },
	{ "other elements of tunnel-route's", "tunnel_route", NFT_MSG_DELSETELEM, OTHER, "tunnel_nat", EVENT_FULL, FALSE },
	/* what the filter can't tell, the callback decides */
	{ "other table, too short to compare", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "x", EVENT_BARE, TRUE },
	{ "other table, name only but long enough", "tunnel_nat", NFT_MSG_DELTABLE, OTHER, "filter_x", EVENT_BARE, FALSE },
	{ "other elements, set name first", "tunnel_nat", NFT_MSG_DELSETELEM, OTHER, "filter", EVENT_SET_FIRST, TRUE },
	/* names of 32 characters and more are compared by their first 32 */
	{ "long name, ours", LONG_NAME, NFT_MSG_DELTABLE, OTHER, LONG_NAME, EVENT_FULL, TRUE },
	{ "long name, differs in the 33rd", LONG_NAME, NFT_MSG_DELTABLE, OTHER, "tunnel_nat_with_a_name_longer_thXn_32_c", EVENT_FULL, TRUE },
	{ "long name, differs in the 32nd", LONG_NAME, NFT_MSG_DELTABLE, OTHER, "tunnel_nat_with_a_name_longer_tXan_32_c", EVENT_FULL, FALSE },
	{ "long name, differs in the 1st", LONG_NAME, NFT_MSG_DELTABLE, OTHER, "Xunnel_nat_with_a_name_longer_than_32_c", EVENT_FULL, FALSE },
	{ "31 characters, ours", "abcdefghijklmnopqrstuvwxyz01234", NFT_MSG_DELSET, OTHER, "abcdefghijklmnopqrstuvwxyz01234", EVENT_FULL, TRUE },
	{ "31 characters, one more", "abcdefghijklmnopqrstuvwxyz01234", NFT_MSG_DELSET, OTHER, "abcdefghijklmnopqrstuvwxyz012345", EVENT_FULL, FALSE },
};

START_TEST(test_nft)
{
	struct nlmsghdr *nlh;
	bool pass, own;

	attach(ignore, nl_monitor_nft_deletions, nft_tests[_i].monitor);
	nlh = nft_event(nft_tests[_i].type, nft_tests[_i].portid,
					nft_tests[_i].table, nft_tests[_i].shape);
	pass = passes(nlh);
	ck_assert_msg(pass == nft_tests[_i].pass, "%s: %s, expected %s",
				  nft_tests[_i].desc, pass ? "let through" : "dropped",
				  nft_tests[_i].pass ? "let through" : "dropped");
	/* the filter only drops what the callback would refuse as well */
	own = nlh->nlmsg_pid == OWN_NFT || nlh->nlmsg_pid == OWN_RT;
	ck_assert_msg(pass || own ||
				  !nl_monitor_nft_deleted(nlh, nft_tests[_i].monitor),
				  "%s: dropped, but the callback wants it",
				  nft_tests[_i].desc);
}
END_TEST

/**
 * One message of an skb of several
 */
typedef struct {
	/** NFT_MSG_* for nftables, RTM_* for rtnetlink */
	uint16_t type;
	/** port id the message carries */
	uint32_t portid;
	/** table the message names (nftables) */
	const char *table;
} msg_t;

/**
 * Kind of messages in an skb
 */
#define MSGS_NFT FALSE
#define MSGS_RT TRUE

/**
 * skbs of several messages, as the kernel sends a transaction's events
 * since Linux 5.10 (nftables only, but the filter can't tell), against a
 * monitor of tunnel_nat (nftables) or tunnel-route's rtnetlink monitor
 */
static struct {
	/** what the case shows */
	const char *desc;
	/** rtnetlink messages rather than nftables ones */
	bool rt;
	/** number of messages */
	u_int count;
	/** the messages, in this order */
	msg_t msgs[3];
	/** bytes of padding after the last message */
	int pad;
	/** whether the filter lets the skb through */
	bool pass;
} multi_tests[] = {
	/* the first message would be dropped alone, a later one is ours */
	{ "other table's deletion, then ours", MSGS_NFT, 2,
	  {{ NFT_MSG_DELTABLE, OTHER, "filter" },
	   { NFT_MSG_DELTABLE, OTHER, "tunnel_nat" }}, 0, TRUE },
	{ "table added, then ours deleted (one transaction)", MSGS_NFT, 2,
	  {{ NFT_MSG_NEWTABLE, OTHER, "zzz" },
	   { NFT_MSG_DELTABLE, OTHER, "tunnel_nat" }}, 0, TRUE },
	{ "flush: other table's chain and table, then our rule", MSGS_NFT, 3,
	  {{ NFT_MSG_DELCHAIN, OTHER, "firewall" },
	   { NFT_MSG_DELTABLE, OTHER, "firewall" },
	   { NFT_MSG_DELRULE, OTHER, "tunnel_nat" }}, 0, TRUE },
	{ "the other plugin's elements, then ours", MSGS_NFT, 2,
	  {{ NFT_MSG_DELSETELEM, OTHER, "tunnel_route" },
	   { NFT_MSG_DELSETELEM, OTHER, "tunnel_nat" }}, 0, TRUE },
	{ "rule added in our table, then our set deleted", MSGS_NFT, 2,
	  {{ NFT_MSG_NEWRULE, OTHER, "tunnel_nat" },
	   { NFT_MSG_DELSET, OTHER, "tunnel_nat" }}, 0, TRUE },
	{ "route added, then one deleted", MSGS_RT, 2,
	  {{ RTM_NEWROUTE, OTHER },
	   { RTM_DELROUTE, OTHER }}, 0, TRUE },
	/* which the filter can't look into: the callback decides */
	{ "several deletions in other tables only", MSGS_NFT, 2,
	  {{ NFT_MSG_DELRULE, OTHER, "filter" },
	   { NFT_MSG_DELTABLE, OTHER, "filter" }}, 0, TRUE },
	/* our own transactions (one port id per skb) stay dropped */
	{ "own transaction", MSGS_NFT, 2,
	  {{ NFT_MSG_DELSETELEM, OWN_NFT, "tunnel_nat" },
	   { NFT_MSG_NEWSETELEM, OWN_NFT, "tunnel_nat" }}, 0, FALSE },
	{ "own message first, another after it", MSGS_NFT, 2,
	  {{ NFT_MSG_NEWSETELEM, OWN_NFT, "tunnel_nat" },
	   { NFT_MSG_DELTABLE, OTHER, "filter" }}, 0, FALSE },
	{ "own transaction, second port id", MSGS_NFT, 2,
	  {{ NFT_MSG_DELRULE, OWN_RT, "tunnel_nat" },
	   { NFT_MSG_DELCHAIN, OWN_RT, "tunnel_nat" }}, 0, FALSE },
	{ "own routes", MSGS_RT, 2,
	  {{ RTM_DELROUTE, OWN_RT },
	   { RTM_DELROUTE, OWN_RT }}, 0, FALSE },
	/* a single message with padding shorter than a header is judged alone */
	{ "other table's deletion, padded", MSGS_NFT, 1,
	  {{ NFT_MSG_DELTABLE, OTHER, "filter" }}, NLMSG_HDRLEN - 4, FALSE },
	{ "table added, padded", MSGS_NFT, 1,
	  {{ NFT_MSG_NEWTABLE, OTHER, "tunnel_nat" }}, NLMSG_HDRLEN - 1, FALSE },
	{ "route added, padded", MSGS_RT, 1,
	  {{ RTM_NEWROUTE, OTHER }}, NLMSG_HDRLEN - 1, FALSE },
	{ "our table's deletion, padded", MSGS_NFT, 1,
	  {{ NFT_MSG_DELTABLE, OTHER, "tunnel_nat" }}, NLMSG_HDRLEN - 4, TRUE },
};

START_TEST(test_multi)
{
	char skb[2 * sizeof(buf)];
	struct nlmsghdr *nlh;
	size_t len = 0;
	bool pass, wanted = FALSE;
	msg_t *msg;
	int i;

	if (multi_tests[_i].rt)
	{
		attach(ignore, rt_types, NULL);
	}
	else
	{
		attach(ignore, nl_monitor_nft_deletions, "tunnel_nat");
	}
	memset(skb, 0, sizeof(skb));
	for (i = 0; i < multi_tests[_i].count; i++)
	{
		msg = &multi_tests[_i].msgs[i];
		if (multi_tests[_i].rt)
		{
			nlh = rt_event(msg->type, msg->portid);
		}
		else
		{
			nlh = nft_event(msg->type, msg->portid, msg->table, EVENT_FULL);
			wanted = wanted || (msg->portid != OWN_NFT &&
								msg->portid != OWN_RT &&
								nl_monitor_nft_deleted(nlh, "tunnel_nat"));
		}
		/* the kernel puts the messages one after the other, aligned */
		ck_assert_uint_eq(nlh->nlmsg_len, NLMSG_ALIGN(nlh->nlmsg_len));
		ck_assert_uint_le(len + nlh->nlmsg_len, sizeof(skb));
		memcpy(skb + len, nlh, nlh->nlmsg_len);
		len += nlh->nlmsg_len;
	}
	len += multi_tests[_i].pad;
	pass = passes_buf(skb, len);
	ck_assert_msg(pass == multi_tests[_i].pass, "%s: %s, expected %s",
				  multi_tests[_i].desc, pass ? "let through" : "dropped",
				  multi_tests[_i].pass ? "let through" : "dropped");
	/* the filter never drops an skb with a message the callback wants */
	ck_assert_msg(pass || !wanted, "%s: dropped, but the callback wants "
				  "one of its messages", multi_tests[_i].desc);
}
END_TEST

/**
 * Route and rule events against tunnel-route's rtnetlink monitor
 */
static struct {
	const char *desc;
	uint16_t type;
	uint32_t portid;
	bool pass;
} rt_tests[] = {
	{ "route deleted", RTM_DELROUTE, OTHER, TRUE },
	{ "rule deleted", RTM_DELRULE, OTHER, TRUE },
	{ "route deleted by the kernel (port 0)", RTM_DELROUTE, 0, TRUE },
	{ "a port id that is ours byte-swapped", RTM_DELRULE, 0x0df0ad0b, TRUE },
	{ "own route deletion", RTM_DELROUTE, OWN_RT, FALSE },
	{ "own rule deletion", RTM_DELRULE, OWN_RT, FALSE },
	{ "own route deletion, first port id", RTM_DELROUTE, OWN_NFT, FALSE },
	{ "route added", RTM_NEWROUTE, OTHER, FALSE },
	{ "rule added", RTM_NEWRULE, OTHER, FALSE },
	{ "address deleted", RTM_DELADDR, OTHER, FALSE },
};

START_TEST(test_rt)
{
	bool pass;

	attach(ignore, rt_types, NULL);
	pass = passes(rt_event(rt_tests[_i].type, rt_tests[_i].portid));
	ck_assert_msg(pass == rt_tests[_i].pass, "%s: %s, expected %s",
				  rt_tests[_i].desc, pass ? "let through" : "dropped",
				  rt_tests[_i].pass ? "let through" : "dropped");
}
END_TEST

/**
 * The filter at its limits: four port ids, eight types, a 64 character
 * name; what is given beyond them is not used
 */
START_TEST(test_limits)
{
	const uint32_t ports[] = { 101, 102, 103, 104, 105, 0 };
	const uint16_t types[] = {
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELTABLE,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELCHAIN,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELRULE,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSET,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELOBJ,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELFLOWTABLE,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSETELEM,
		NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE,
		0
	};
	char name[65], other[65];

	memset(name, 'n', 64);
	name[64] = '\0';
	strcpy(other, name);
	other[0] = 'o';

	ck_assert_uint_eq(attach(ports, types, name), NL_MONITOR_FILTER_MAX);
	/* the first and the fourth port id are ignored, not the fifth */
	ck_assert(!passes(nft_event(NFT_MSG_DELTABLE, 101, name, EVENT_FULL)));
	ck_assert(!passes(nft_event(NFT_MSG_DELTABLE, 104, name, EVENT_FULL)));
	ck_assert(passes(nft_event(NFT_MSG_DELTABLE, 105, name, EVENT_FULL)));
	/* the first and the eighth type wake, not the ninth */
	ck_assert(passes(nft_event(NFT_MSG_DELTABLE, OTHER, name, EVENT_FULL)));
	ck_assert(passes(nft_event(NFT_MSG_DELSETELEM, OTHER, name, EVENT_FULL)));
	ck_assert(!passes(nft_event(NFT_MSG_NEWTABLE, OTHER, name, EVENT_FULL)));
	/* and other tables are dropped */
	ck_assert(!passes(nft_event(NFT_MSG_DELSETELEM, OTHER, other, EVENT_FULL)));
}
END_TEST

/**
 * With no types, everything but our own events passes
 */
START_TEST(test_no_types)
{
	const uint16_t none[] = { 0 };

	attach(ignore, none, "tunnel_nat");
	ck_assert(passes(nft_event(NFT_MSG_NEWSETELEM, OTHER, "filter",
							   EVENT_FULL)));
	ck_assert(passes(rt_event(RTM_NEWROUTE, OTHER)));
	ck_assert(!passes(rt_event(RTM_DELROUTE, OWN_NFT)));
}
END_TEST

Suite *make_monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc;

	tc = tcase_create("socket filter, nftables events");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_nft, 0, countof(nft_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("socket filter, rtnetlink events");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_rt, 0, countof(rt_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("socket filter, skbs of several messages");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_multi, 0, countof(multi_tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("socket filter, limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_no_types);
	suite_add_tcase(s, tc);
	return s;
}
