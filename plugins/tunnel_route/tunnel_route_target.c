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

#include "tunnel_route_target.h"
#include "tunnel_route_rtnl.h"

#include <net/if.h>
#include <linux/rtnetlink.h>

#include <daemon.h>
#include <networking/tun_device.h>

/**
 * Find the XFRM interface carrying an if_id
 */
typedef struct {
	uint32_t if_id;
	uint32_t ifindex;
} xfrm_find_t;

static void find_xfrm(const struct nlmsghdr *nlh, xfrm_find_t *find)
{
	uint32_t if_id, ifindex;

	if (tunnel_route_rtnl_parse_xfrm_link(nlh, &if_id, &ifindex) &&
		if_id == find->if_id && !find->ifindex)
	{
		find->ifindex = ifindex;
	}
}

/**
 * Answer of a route lookup
 */
typedef struct {
	uint32_t gw, oif;
} via_t;

static void parse_via(const struct nlmsghdr *nlh, via_t *via)
{
	tunnel_route_rtnl_parse_via(nlh, &via->gw, &via->oif);
}

/*
 * Described in header
 */
bool tunnel_route_target_resolve(nl_socket_t *rtnl, ike_sa_t *ike_sa,
								 child_sa_t *child_sa,
								 tunnel_route_target_t *t)
{
	xfrm_find_t find = { .if_id = child_sa->get_if_id(child_sa, FALSE) };
	host_t *me, *other, *gw;
	tun_device_t *tun;
	char buf[256], *ifname = NULL;

	*t = (tunnel_route_target_t){};
	if (find.if_id)
	{	/* route-based: via the XFRM interface with that if_id */
		rtnl->dump(rtnl, tunnel_route_rtnl_dump_req(buf, RTM_GETLINK),
				   (nl_dump_cb_t)find_xfrm, &find,
				   "tunnel-route: looking up XFRM interfaces");
		if (!find.ifindex)
		{
			DBG1(DBG_CHD, "tunnel-route: no XFRM interface with if_id %u "
				 "(0x%x) for CHILD_SA %s{%u}", find.if_id, find.if_id,
				 child_sa->get_name(child_sa),
				 child_sa->get_unique_id(child_sa));
			return FALSE;
		}
		t->oif = find.ifindex;
		return TRUE;
	}
	tun = lib->get(lib, "kernel-libipsec-tun");
	if (tun)
	{	/* kernel-libipsec: via its TUN device */
		t->oif = if_nametoindex(tun->get_name(tun));
		return t->oif != 0;
	}
	/* policy-based XFRM: toward the peer, as charon reaches it, so the packet
	 * gets to the XFRM output path. The kernel's own lookup (one request;
	 * charon's get_nexthop() dumps every route, our table's too, which costs
	 * more the more tunnels there are) */
	me = ike_sa->get_my_host(ike_sa);
	other = ike_sa->get_other_host(ike_sa);
	if (other->get_family(other) == AF_INET && me->get_family(me) == AF_INET)
	{
		via_t via = {};

		if (rtnl->request(rtnl,
				tunnel_route_rtnl_get_req(buf,
					untoh32(other->get_address(other).ptr),
					untoh32(me->get_address(me).ptr)),
				(nl_dump_cb_t)parse_via, &via,
				"tunnel-route: looking up the route to the peer") && via.oif)
		{
			t->oif = via.oif;
			t->gw = via.gw ?: untoh32(other->get_address(other).ptr);
			return TRUE;
		}
	}
	gw = charon->kernel->get_nexthop(charon->kernel, other, -1, me, &ifname);
	if (!ifname)
	{
		charon->kernel->get_interface(charon->kernel, me, &ifname);
	}
	if (gw && gw->get_family(gw) == AF_INET && !gw->is_anyaddr(gw) &&
		!gw->ip_equals(gw, other))
	{	/* 6.0.5+ return %any if only the interface is known: no gateway */
		t->gw = untoh32(gw->get_address(gw).ptr);
	}
	else if (other->get_family(other) == AF_INET)
	{	/* on-link peer */
		t->gw = untoh32(other->get_address(other).ptr);
	}
	DESTROY_IF(gw);
	if (ifname)
	{
		t->oif = if_nametoindex(ifname);
		free(ifname);
	}
	if (!t->oif)
	{
		DBG1(DBG_CHD, "tunnel-route: no interface toward %H for CHILD_SA "
			 "%s{%u}", other, child_sa->get_name(child_sa),
			 child_sa->get_unique_id(child_sa));
		return FALSE;
	}
	return TRUE;
}
