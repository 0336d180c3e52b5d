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

#include "test_suites.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <libmnl/libmnl.h>

#include <tunnel_route_rtnl.h>
#include <tunnel_util.h>

/**
 * The attributes of a message, by type
 */
static const struct nlattr *attrs[64];

static void attrs_of(const struct nlmsghdr *nlh, size_t hdrlen)
{
	const struct nlattr *attr;

	memset(attrs, 0, sizeof(attrs));
	mnl_attr_for_each(attr, nlh, hdrlen)
	{
		ck_assert_int_lt(mnl_attr_get_type(attr), countof(attrs));
		ck_assert_msg(!attrs[mnl_attr_get_type(attr)], "attribute %d twice",
					  mnl_attr_get_type(attr));
		attrs[mnl_attr_get_type(attr)] = attr;
	}
}

static uint32_t attr_u32(int type)
{
	ck_assert_msg(attrs[type], "attribute %d missing", type);
	ck_assert_uint_eq(mnl_attr_get_payload_len(attrs[type]), 4);
	return mnl_attr_get_u32(attrs[type]);
}

static struct nlmsghdr *first_msg(nl_batch_t *batch)
{
	chunk_t data = batch->get_data(batch);
	struct nlmsghdr *nlh = (struct nlmsghdr*)data.ptr;

	ck_assert_uint_eq(batch->get_count(batch), 1);
	ck_assert(mnl_nlmsg_ok(nlh, data.len));
	ck_assert_uint_eq(NLMSG_ALIGN(nlh->nlmsg_len), data.len);
	ck_assert_uint_eq(nlh->nlmsg_seq, 0);
	ck_assert(nlh->nlmsg_flags & NLM_F_ACK);
	return nlh;
}

/**
 * A route, how it must look on the wire
 */
typedef struct {
	tunnel_route_route_t route;
	bool add;
	uint8_t type, scope, table_hdr;
	bool has_dst, has_gw, has_oif;
} route_test_t;

static route_test_t route_tests[] = {
	/* via the tunnel's interface, no gateway (TUN, XFRM interface) */
	{ { .dst = 0xc633640a, .len = 32, .table = 4242, .protocol = 242, .oif = 7 },
	  TRUE, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_UNSPEC, TRUE, FALSE, TRUE },
	/* toward the peer's nexthop (policy-based XFRM) */
	{ { .dst = 0xc6336400, .len = 24, .table = 100, .protocol = 242, .oif = 3, .gateway = 0xc0000202 },
	  TRUE, RTN_UNICAST, RT_SCOPE_UNIVERSE, 100, TRUE, TRUE, TRUE },
	/* fail-closed */
	{ { .dst = 0xc633640a, .len = 32, .table = 4242, .protocol = 242, .prohibit = TRUE },
	  TRUE, RTN_PROHIBIT, RT_SCOPE_UNIVERSE, RT_TABLE_UNSPEC, TRUE, FALSE, FALSE },
	/* a default route has no RTA_DST */
	{ { .dst = 0, .len = 0, .table = 4242, .protocol = 242, .prohibit = TRUE },
	  TRUE, RTN_PROHIBIT, RT_SCOPE_UNIVERSE, RT_TABLE_UNSPEC, FALSE, FALSE, FALSE },
	/* delete: any type and scope, our protocol, no nexthop */
	{ { .dst = 0xc633640a, .len = 32, .table = 4242, .protocol = 242, .oif = 7, .gateway = 1 },
	  FALSE, RTN_UNSPEC, RT_SCOPE_NOWHERE, RT_TABLE_UNSPEC, TRUE, FALSE, FALSE },
};

START_TEST(test_route_msg)
{
	route_test_t *t = &route_tests[_i];
	tunnel_route_route_t parsed;
	nl_batch_t *batch = nl_batch_create();
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	tunnel_route_rtnl_route(batch, t->add, &t->route, "test");
	nlh = first_msg(batch);
	ck_assert_uint_eq(nlh->nlmsg_type, t->add ? RTM_NEWROUTE : RTM_DELROUTE);
	if (t->add)
	{	/* replace: no moment without a route */
		ck_assert_uint_eq(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE),
						  NLM_F_CREATE | NLM_F_REPLACE);
	}
	rtm = mnl_nlmsg_get_payload(nlh);
	ck_assert_uint_eq(rtm->rtm_family, AF_INET);
	ck_assert_uint_eq(rtm->rtm_dst_len, t->route.len);
	ck_assert_uint_eq(rtm->rtm_type, t->type);
	ck_assert_uint_eq(rtm->rtm_scope, t->scope);
	ck_assert_uint_eq(rtm->rtm_table, t->table_hdr);
	ck_assert_uint_eq(rtm->rtm_protocol, t->route.protocol);

	attrs_of(nlh, sizeof(*rtm));
	ck_assert_uint_eq(attr_u32(RTA_TABLE), t->route.table);
	ck_assert(!!attrs[RTA_DST] == t->has_dst);
	if (t->has_dst)
	{
		ck_assert_uint_eq(ntohl(attr_u32(RTA_DST)), t->route.dst);
	}
	ck_assert(!!attrs[RTA_GATEWAY] == t->has_gw);
	if (t->has_gw)
	{
		ck_assert_uint_eq(ntohl(attr_u32(RTA_GATEWAY)), t->route.gateway);
	}
	ck_assert(!!attrs[RTA_OIF] == t->has_oif);
	if (t->has_oif)
	{
		ck_assert_uint_eq(attr_u32(RTA_OIF), t->route.oif);
	}

	/* and what the kernel sends back in a dump reads the same */
	nlh->nlmsg_type = RTM_NEWROUTE;
	ck_assert(tunnel_route_rtnl_parse_route(nlh, &parsed));
	ck_assert_uint_eq(parsed.dst, t->has_dst ? t->route.dst : 0);
	ck_assert_uint_eq(parsed.len, t->route.len);
	ck_assert_uint_eq(parsed.table, t->route.table);
	ck_assert_uint_eq(parsed.protocol, t->route.protocol);
	ck_assert(parsed.prohibit == (t->type == RTN_PROHIBIT));
	batch->destroy(batch);
}
END_TEST

START_TEST(test_rule_msg)
{
	tunnel_route_rule_t rule = {
		.table = 4242, .priority = 210, .mark = 0x4000000, .mask = 0xc000000,
		.protocol = 242,
	}, parsed;
	nl_batch_t *batch = nl_batch_create();
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;
	bool add = _i;

	tunnel_route_rtnl_rule(batch, add, &rule);
	nlh = first_msg(batch);
	ck_assert_uint_eq(nlh->nlmsg_type, add ? RTM_NEWRULE : RTM_DELRULE);
	if (add)
	{	/* never a second copy of the rule */
		ck_assert(nlh->nlmsg_flags & NLM_F_EXCL);
	}
	frh = mnl_nlmsg_get_payload(nlh);
	ck_assert_uint_eq(frh->family, AF_INET);
	ck_assert_uint_eq(frh->action, FR_ACT_TO_TBL);
	ck_assert_uint_eq(frh->table, RT_TABLE_UNSPEC);
	attrs_of(nlh, sizeof(*frh));
	ck_assert_uint_eq(attr_u32(FRA_TABLE), 4242);
	ck_assert_uint_eq(attr_u32(FRA_PRIORITY), 210);
	ck_assert_uint_eq(attr_u32(FRA_FWMARK), 0x4000000);
	ck_assert_uint_eq(attr_u32(FRA_FWMASK), 0xc000000);
	ck_assert(attrs[FRA_PROTOCOL]);
	ck_assert_uint_eq(mnl_attr_get_u8(attrs[FRA_PROTOCOL]), 242);

	nlh->nlmsg_type = RTM_NEWRULE;
	ck_assert(tunnel_route_rtnl_parse_rule(nlh, &parsed));
	ck_assert_uint_eq(parsed.table, rule.table);
	ck_assert_uint_eq(parsed.priority, rule.priority);
	ck_assert_uint_eq(parsed.mark, rule.mark);
	ck_assert_uint_eq(parsed.mask, rule.mask);
	ck_assert_uint_eq(parsed.protocol, rule.protocol);
	batch->destroy(batch);
}
END_TEST

/**
 * An RTM_NEWLINK of an interface of KIND, with the data an XFRM interface
 * (if_id KEY) or a VTI (keys KEY, network byte order, remote REMOTE) has
 */
static struct nlmsghdr *link_msg(char *buf, int index, const char *kind,
								 uint32_t key, uint32_t remote)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;

	memset(buf, 0, 512);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = index;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "link-test");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (streq(kind, "vti"))
	{	/* as ip_vti fills it: IKEY has the type of XFRM_IF_ID */
		mnl_attr_put_u32(nlh, IFLA_VTI_LINK, 0);
		mnl_attr_put_u32(nlh, IFLA_VTI_IKEY, htonl(key + 1));
		mnl_attr_put_u32(nlh, IFLA_VTI_OKEY, htonl(key));
		mnl_attr_put_u32(nlh, IFLA_VTI_LOCAL, htonl(0xc0000211));
		mnl_attr_put_u32(nlh, IFLA_VTI_REMOTE, htonl(remote));
	}
	else
	{
		mnl_attr_put_u32(nlh, IFLA_XFRM_LINK, 2);
		mnl_attr_put_u32(nlh, IFLA_XFRM_IF_ID, key);
	}
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

START_TEST(test_xfrm_link)
{
	tunnel_route_link_t link = {};
	char buf[512];

	ck_assert(tunnel_route_rtnl_parse_ipsec_link(
				link_msg(buf, 9, "xfrm", 42, 0), &link));
	ck_assert(!link.vti);
	ck_assert_uint_eq(link.key, 42);
	ck_assert_uint_eq(link.ifindex, 9);
	/* neither an XFRM interface nor a VTI */
	ck_assert(!tunnel_route_rtnl_parse_ipsec_link(
				link_msg(buf, 5, "xfrmx", 42, 0), &link));
	ck_assert(!tunnel_route_rtnl_parse_ipsec_link(
				link_msg(buf, 5, "gre", 42, 0), &link));
	ck_assert_uint_eq(link.ifindex, 9);
}
END_TEST

START_TEST(test_vti_link)
{
	tunnel_route_link_t link = {};
	char buf[512];

	/* the output key in host byte order, not the input key (which has the
	 * attribute type of an XFRM interface's if_id) */
	ck_assert(tunnel_route_rtnl_parse_ipsec_link(
				link_msg(buf, 7, "vti", 0x02000000, 0xc0000222), &link));
	ck_assert(link.vti);
	ck_assert_uint_eq(link.key, 0x02000000);
	ck_assert_uint_eq(link.remote, 0xc0000222);
	ck_assert_uint_eq(link.ifindex, 7);
	ck_assert(tunnel_route_rtnl_parse_ipsec_link(
				link_msg(buf, 8, "vti", 42, 0), &link));
	ck_assert(link.vti);
	ck_assert_uint_eq(link.key, 42);
	ck_assert_uint_eq(link.remote, 0);
	ck_assert_uint_eq(link.ifindex, 8);
}
END_TEST

START_TEST(test_dump_requests)
{
	struct nlmsghdr *nlh;
	char buf[256];

	nlh = tunnel_route_rtnl_dump_req(buf, RTM_GETROUTE);
	ck_assert_uint_eq(nlh->nlmsg_type, RTM_GETROUTE);
	ck_assert(nlh->nlmsg_flags & NLM_F_DUMP);
	ck_assert_uint_eq(((struct rtmsg*)mnl_nlmsg_get_payload(nlh))->rtm_family, AF_INET);
	nlh = tunnel_route_rtnl_dump_req(buf, RTM_GETRULE);
	ck_assert_uint_eq(((struct fib_rule_hdr*)mnl_nlmsg_get_payload(nlh))->family, AF_INET);
}
END_TEST

/**
 * Ranges and the prefixes that cover them exactly
 */
typedef struct {
	uint32_t from, to;
	char *prefixes;
} split_test_t;

static split_test_t split_tests[] = {
	{ 0xc633640a, 0xc633640a, "198.51.100.10/32 " },
	{ 0xc6336400, 0xc63364ff, "198.51.100.0/24 " },
	{ 0xc6336403, 0xc6336409, "198.51.100.3/32 198.51.100.4/30 198.51.100.8/31 " },
	{ 0, 0xffffffff, "0.0.0.0/0 " },
	{ 0xfffffffe, 0xffffffff, "255.255.255.254/31 " },
	{ 0, 2, "0.0.0.0/31 0.0.0.2/32 " },
};

static void collect(char *buf, uint32_t net, uint8_t len)
{
	char str[32];

	tunnel_range_str(str, sizeof(str), net, net | ~tunnel_mask(len));
	if (len == 32)
	{
		strcat(str, "/32");
	}
	strcat(buf, str);
	strcat(buf, " ");
}

START_TEST(test_range_split)
{
	split_test_t *t = &split_tests[_i];
	char buf[512] = "";

	tunnel_range_to_prefixes(t->from, t->to, (void*)collect, buf);
	ck_assert_str_eq(buf, t->prefixes);
}
END_TEST

Suite *make_rtnl_suite(void)
{
	Suite *s = suite_create("rtnl");
	TCase *tc;

	tc = tcase_create("messages");
	tcase_add_loop_test(tc, test_route_msg, 0, countof(route_tests));
	tcase_add_loop_test(tc, test_rule_msg, 0, 2);
	tcase_add_test(tc, test_xfrm_link);
	tcase_add_test(tc, test_vti_link);
	tcase_add_test(tc, test_dump_requests);
	suite_add_tcase(s, tc);

	tc = tcase_create("ranges");
	tcase_add_loop_test(tc, test_range_split, 0, countof(split_tests));
	suite_add_tcase(s, tc);
	return s;
}
