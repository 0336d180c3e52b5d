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
 * @defgroup tunnel_route_rtnl tunnel_route_rtnl
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_RTNL_H_
#define TUNNEL_ROUTE_RTNL_H_

#include <library.h>
#include <nl_batch.h>

typedef struct tunnel_route_route_t tunnel_route_route_t;
typedef struct tunnel_route_rule_t tunnel_route_rule_t;

/**
 * An IPv4 route in the plugin's table. Addresses in host byte order.
 */
struct tunnel_route_route_t {
	/** destination prefix */
	uint32_t dst;
	uint8_t len;
	/** routing table */
	uint32_t table;
	/** routing protocol tag */
	uint8_t protocol;
	/** a prohibit route (fail-closed), no oif/gateway */
	bool prohibit;
	/** outgoing interface index, 0 for none */
	uint32_t oif;
	/** gateway, 0 for none */
	uint32_t gateway;
};

/**
 * The FIB rule: fwmark MARK/MASK lookup TABLE, at PRIORITY.
 */
struct tunnel_route_rule_t {
	uint32_t table;
	uint32_t priority;
	uint32_t mark, mask;
	uint8_t protocol;
};

/**
 * Add a message replacing (creating) a route, or deleting it.
 *
 * @param add		TRUE to add/replace, FALSE to delete
 * @param route		route
 * @param desc		description for logs
 */
void tunnel_route_rtnl_route(nl_batch_t *batch, bool add,
							 tunnel_route_route_t *route, const char *desc);

/**
 * Add a message adding or deleting the rule.
 */
void tunnel_route_rtnl_rule(nl_batch_t *batch, bool add,
							tunnel_route_rule_t *rule);

/**
 * Build an IPv4 dump request for routes (RTM_GETROUTE), rules
 * (RTM_GETRULE) or links (RTM_GETLINK, any family) in buf (256 bytes).
 */
struct nlmsghdr *tunnel_route_rtnl_dump_req(char *buf, uint16_t type);

/**
 * Build the kernel's route lookup (not a dump) toward an address.
 *
 * @param buf		buffer of at least 256 bytes
 * @param dst		destination (host order)
 * @param src		source (host order), 0 for none
 * @return			request in buf
 */
struct nlmsghdr *tunnel_route_rtnl_get_req(char *buf, uint32_t dst,
										   uint32_t src);

/**
 * Parse the answer of a route lookup: gateway (0 if on-link) and interface.
 *
 * @param nlh		RTM_NEWROUTE answer
 * @param gw		gateway (host order), 0 if none
 * @param oif		outgoing interface index
 * @return			TRUE if it is an answer with an interface
 */
bool tunnel_route_rtnl_parse_via(const struct nlmsghdr *nlh, uint32_t *gw,
								 uint32_t *oif);

/**
 * Parse an IPv4 route message.
 *
 * @return			FALSE if not an IPv4 unicast/prohibit route we can parse
 */
bool tunnel_route_rtnl_parse_route(const struct nlmsghdr *nlh,
								   tunnel_route_route_t *route);

/**
 * Parse an IPv4 rule message.
 *
 * @return			FALSE if not an IPv4 rule
 */
bool tunnel_route_rtnl_parse_rule(const struct nlmsghdr *nlh,
								  tunnel_route_rule_t *rule);

/**
 * A route-based IPsec interface: an XFRM interface or a VTI.
 */
typedef struct {
	/** TRUE for a VTI, FALSE for an XFRM interface */
	bool vti;
	/** XFRM interface: its if_id; VTI: its output key, host byte order (the
	 *  mark its packets' XFRM lookup uses) */
	uint32_t key;
	/** VTI: its remote address, host byte order, 0 if any */
	uint32_t remote;
	/** interface index */
	uint32_t ifindex;
} tunnel_route_link_t;

/**
 * Parse a link message, and tell if it is an XFRM interface or a VTI, with
 * its if_id or output key.
 *
 * @param link		receives the interface, if it is one
 * @return			TRUE if it is an XFRM interface or a VTI
 */
bool tunnel_route_rtnl_parse_ipsec_link(const struct nlmsghdr *nlh,
										tunnel_route_link_t *link);

/**
 * Check if a message tells of the deletion of one of our rules (tagged with
 * our protocol, or looking up our table) or of a route in our table.
 *
 * @param nlh		message from an RTNLGRP_IPV4_RULE/_ROUTE subscription
 * @param table		our routing table
 * @param protocol	our routing protocol tag
 * @return			TRUE for an RTM_DELRULE or RTM_DELROUTE of ours
 */
bool tunnel_route_rtnl_deleted(const struct nlmsghdr *nlh, uint32_t table,
							   uint32_t protocol);

#endif /** TUNNEL_ROUTE_RTNL_H_ @}*/
