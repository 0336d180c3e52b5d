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

#include "tunnel_route_rtnl.h"

#include <arpa/inet.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <libmnl/libmnl.h>

/*
 * Described in header
 */
void tunnel_route_rtnl_route(nl_batch_t *batch, bool add,
							 tunnel_route_route_t *route, const char *desc)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = mnl_nlmsg_put_header(batch->reserve(batch, 256));
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (add)
	{	/* replacing keeps the destination routed at all times */
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	}
	nlh->nlmsg_seq = batch->next_seq(batch);

	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = route->len;
	rtm->rtm_table = route->table < 256 ? route->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = route->protocol;
	if (!add)
	{	/* match any type and scope, only our protocol */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
		rtm->rtm_type = RTN_UNSPEC;
	}
	else if (route->prohibit)
	{
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
		rtm->rtm_type = RTN_PROHIBIT;
	}
	else
	{
		rtm->rtm_scope = route->gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
		rtm->rtm_type = RTN_UNICAST;
	}
	mnl_attr_put_u32(nlh, RTA_TABLE, route->table);
	if (route->len)
	{
		mnl_attr_put_u32(nlh, RTA_DST, htonl(route->dst));
	}
	if (add && !route->prohibit)
	{
		if (route->gateway)
		{
			mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(route->gateway));
		}
		if (route->oif)
		{
			mnl_attr_put_u32(nlh, RTA_OIF, route->oif);
		}
	}
	batch->push(batch, nlh, "%s route %s table %u", add ? "replace" : "delete",
				desc, route->table);
}

/*
 * Described in header
 */
void tunnel_route_rtnl_rule(nl_batch_t *batch, bool add,
							tunnel_route_rule_t *rule)
{
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(batch->reserve(batch, 256));
	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (add)
	{
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	}
	nlh->nlmsg_seq = batch->next_seq(batch);

	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	frh->action = FR_ACT_TO_TBL;
	frh->table = rule->table < 256 ? rule->table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_TABLE, rule->table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, rule->priority);
	mnl_attr_put_u32(nlh, FRA_FWMARK, rule->mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, rule->mask);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, rule->protocol);
	batch->push(batch, nlh, "%s rule priority %u fwmark 0x%x/0x%x lookup %u",
				add ? "add" : "delete", rule->priority, rule->mark, rule->mask,
				rule->table);
}

/*
 * Described in header
 */
struct nlmsghdr *tunnel_route_rtnl_dump_req(char *buf, uint16_t type)
{
	struct nlmsghdr *nlh;
	struct rtgenmsg *gen;

	memset(buf, 0, 256);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (type == RTM_GETROUTE)
	{
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = AF_INET;
	}
	else if (type == RTM_GETRULE)
	{
		struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
		frh->family = AF_INET;
	}
	else
	{
		gen = mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
		gen->rtgen_family = AF_UNSPEC;
	}
	return nlh;
}

/*
 * Described in header
 */
bool tunnel_route_rtnl_parse_route(const struct nlmsghdr *nlh,
								   tunnel_route_route_t *route)
{
	const struct rtmsg *rtm;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
		nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
	{
		return FALSE;
	}
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET)
	{
		return FALSE;
	}
	memset(route, 0, sizeof(*route));
	route->len = rtm->rtm_dst_len;
	route->table = rtm->rtm_table;
	route->protocol = rtm->rtm_protocol;
	route->prohibit = rtm->rtm_type == RTN_PROHIBIT;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
	{
		switch (mnl_attr_get_type(attr))
		{
			case RTA_TABLE:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					route->table = mnl_attr_get_u32(attr);
				}
				break;
			case RTA_DST:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					route->dst = ntohl(mnl_attr_get_u32(attr));
				}
				break;
			case RTA_GATEWAY:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					route->gateway = ntohl(mnl_attr_get_u32(attr));
				}
				break;
			case RTA_OIF:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					route->oif = mnl_attr_get_u32(attr);
				}
				break;
			default:
				break;
		}
	}
	return TRUE;
}

/*
 * Described in header
 */
bool tunnel_route_rtnl_parse_rule(const struct nlmsghdr *nlh,
								  tunnel_route_rule_t *rule)
{
	const struct fib_rule_hdr *frh;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWRULE ||
		nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)))
	{
		return FALSE;
	}
	frh = mnl_nlmsg_get_payload(nlh);
	if (frh->family != AF_INET)
	{
		return FALSE;
	}
	memset(rule, 0, sizeof(*rule));
	rule->table = frh->table;
	mnl_attr_for_each(attr, nlh, sizeof(*frh))
	{
		switch (mnl_attr_get_type(attr))
		{
			case FRA_TABLE:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					rule->table = mnl_attr_get_u32(attr);
				}
				break;
			case FRA_PRIORITY:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					rule->priority = mnl_attr_get_u32(attr);
				}
				break;
			case FRA_FWMARK:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					rule->mark = mnl_attr_get_u32(attr);
				}
				break;
			case FRA_FWMASK:
				if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				{
					rule->mask = mnl_attr_get_u32(attr);
				}
				break;
			case FRA_PROTOCOL:
				if (mnl_attr_validate(attr, MNL_TYPE_U8) >= 0)
				{
					rule->protocol = mnl_attr_get_u8(attr);
				}
				break;
			default:
				break;
		}
	}
	return TRUE;
}

/*
 * Described in header
 */
bool tunnel_route_rtnl_parse_ipsec_link(const struct nlmsghdr *nlh,
										tunnel_route_link_t *link)
{
	const struct ifinfomsg *ifi;
	const struct nlattr *attr, *info, *data = NULL;
	bool xfrm = FALSE, vti = FALSE, have_key = FALSE;
	uint32_t key = 0, remote = 0;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
		nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
	{
		return FALSE;
	}
	ifi = mnl_nlmsg_get_payload(nlh);
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(attr) != IFLA_LINKINFO)
		{
			continue;
		}
		mnl_attr_for_each_nested(info, attr)
		{
			if (mnl_attr_get_type(info) == IFLA_INFO_KIND &&
				mnl_attr_validate(info, MNL_TYPE_NUL_STRING) >= 0)
			{
				xfrm = streq(mnl_attr_get_str(info), "xfrm");
				vti = streq(mnl_attr_get_str(info), "vti");
			}
			if (mnl_attr_get_type(info) == IFLA_INFO_DATA)
			{
				data = info;
			}
		}
	}
	if ((!xfrm && !vti) || !data)
	{
		return FALSE;
	}
	/* the attribute types of the data depend on the kind */
	mnl_attr_for_each_nested(attr, data)
	{
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		{
			continue;
		}
		switch (mnl_attr_get_type(attr))
		{
			case IFLA_XFRM_IF_ID:
				if (xfrm)
				{
					key = mnl_attr_get_u32(attr);
					have_key = TRUE;
				}
				break;
			case IFLA_VTI_OKEY:
				if (vti)
				{	/* network byte order; the VTI marks its packets with
					 * the key in host byte order */
					key = ntohl(mnl_attr_get_u32(attr));
					have_key = TRUE;
				}
				break;
			case IFLA_VTI_REMOTE:
				if (vti)
				{
					remote = ntohl(mnl_attr_get_u32(attr));
				}
				break;
			default:
				break;
		}
	}
	if (!have_key)
	{
		return FALSE;
	}
	*link = (tunnel_route_link_t){
		.vti = vti,
		.key = key,
		.remote = remote,
		.ifindex = ifi->ifi_index,
	};
	return TRUE;
}

/*
 * Described in header
 */
struct nlmsghdr *tunnel_route_rtnl_get_req(char *buf, uint32_t dst,
										   uint32_t src)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(buf, 0, 256);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
	if (src)
	{
		rtm->rtm_src_len = 32;
		mnl_attr_put_u32(nlh, RTA_SRC, htonl(src));
	}
	return nlh;
}

/*
 * Described in header
 */
bool tunnel_route_rtnl_parse_via(const struct nlmsghdr *nlh, uint32_t *gw,
								 uint32_t *oif)
{
	const struct nlattr *attr;
	const struct rtmsg *rtm;

	*gw = *oif = 0;
	if (nlh->nlmsg_type != RTM_NEWROUTE ||
		nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
	{
		return FALSE;
	}
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET)
	{
		return FALSE;
	}
	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
	{
		switch (mnl_attr_get_type(attr))
		{
			case RTA_GATEWAY:
				if (mnl_attr_get_payload_len(attr) == 4)
				{
					*gw = ntohl(mnl_attr_get_u32(attr));
				}
				break;
			case RTA_OIF:
				if (mnl_attr_get_payload_len(attr) == 4)
				{
					*oif = mnl_attr_get_u32(attr);
				}
				break;
		}
	}
	return *oif != 0;
}

/*
 * Described in header
 */
bool tunnel_route_rtnl_deleted(const struct nlmsghdr *nlh, uint32_t table,
							   uint32_t protocol)
{
	tunnel_route_route_t route;
	tunnel_route_rule_t rule;
	struct nlmsghdr *copy;
	bool ours = FALSE;

	if (nlh->nlmsg_type != RTM_DELRULE && nlh->nlmsg_type != RTM_DELROUTE)
	{
		return FALSE;
	}
	/* the parsers read what a dump returns */
	copy = malloc(nlh->nlmsg_len);
	memcpy(copy, nlh, nlh->nlmsg_len);
	if (nlh->nlmsg_type == RTM_DELRULE)
	{
		copy->nlmsg_type = RTM_NEWRULE;
		ours = tunnel_route_rtnl_parse_rule(copy, &rule) &&
			   (rule.protocol == protocol || rule.table == table);
	}
	else
	{
		copy->nlmsg_type = RTM_NEWROUTE;
		ours = tunnel_route_rtnl_parse_route(copy, &route) &&
			   route.table == table;
	}
	free(copy);
	return ours;
}
