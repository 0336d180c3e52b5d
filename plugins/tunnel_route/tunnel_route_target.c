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
 * The route-based interface a CHILD_SA's packets take
 */
typedef struct {
	/** look for a VTI (else an XFRM interface) */
	bool vti;
	/** if_id of the XFRM interface, or mark_out value the VTI's key has */
	uint32_t key;
	/** mark_out mask (VTI) */
	uint32_t mask;
	/** peer's address (VTI), host byte order, 0 if not IPv4 */
	uint32_t peer;
	/** index of the first interface found, 0 if none */
	uint32_t ifindex;
} link_find_t;

static void find_link(const struct nlmsghdr *nlh, link_find_t *find)
{
	tunnel_route_link_t link;

	if (find->ifindex || !tunnel_route_rtnl_parse_ipsec_link(nlh, &link) ||
		link.vti != find->vti)
	{
		return;
	}
	if (find->vti)
	{	/* the VTI marks its packets with its key for the XFRM lookup */
		if ((link.key & find->mask) == find->key &&
			(!link.remote || link.remote == find->peer))
		{
			find->ifindex = link.ifindex;
		}
	}
	else if (link.key == find->key)
	{
		find->ifindex = link.ifindex;
	}
}

/**
 * Look for a route-based interface, return its index or 0
 */
static uint32_t lookup_link(nl_socket_t *rtnl, link_find_t *find)
{
	char buf[256];

	rtnl->dump(rtnl, tunnel_route_rtnl_dump_req(buf, RTM_GETLINK),
			   (nl_dump_cb_t)find_link, find,
			   "tunnel-route: looking up XFRM interfaces and VTIs");
	return find->ifindex;
}

typedef struct {
	uint32_t gw, oif;
} via_t;

static void parse_via(const struct nlmsghdr *nlh, via_t *via)
{
	tunnel_route_rtnl_parse_via(nlh, &via->gw, &via->oif);
}

bool tunnel_route_target_resolve(nl_socket_t *rtnl,
								 tunnel_route_config_t *config,
								 ike_sa_t *ike_sa, child_sa_t *child_sa,
								 tunnel_route_target_t *t)
{
	link_find_t find = { .key = child_sa->get_if_id(child_sa, FALSE) };
	mark_t mark = child_sa->get_mark(child_sa, FALSE);
	host_t *me, *other, *gw;
	tun_device_t *tun;
	char buf[256], *ifname = NULL;

	*t = (tunnel_route_target_t){};
	me = ike_sa->get_my_host(ike_sa);
	other = ike_sa->get_other_host(ike_sa);
	if (find.key)
	{	/* route-based: via the XFRM interface with that if_id */
		if (!lookup_link(rtnl, &find))
		{
			DBG1(DBG_CHD, "tunnel-route: no XFRM interface with if_id %u "
				 "(0x%x) for CHILD_SA %s{%u}", find.key, find.key,
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
	if (mark.mask)
	{	/* the out policy matches only packets with that mark: a VTI whose
		 * key the mark matches sets it; else only the plugin's own mark
		 * can, and if it does not, the packets would match no policy and
		 * leave in clear toward the peer */
		find = (link_find_t){
			.vti = TRUE,
			.key = mark.value,
			.mask = mark.mask,
		};
		if (other->get_family(other) == AF_INET)
		{
			find.peer = untoh32(other->get_address(other).ptr);
		}
		if (lookup_link(rtnl, &find))
		{
			t->oif = find.ifindex;
			return TRUE;
		}
		if (!tunnel_route_config_mark_matches(config, mark.value, mark.mask))
		{
			DBG1(DBG_CHD, "tunnel-route: CHILD_SA %s{%u} has mark_out "
				 "0x%08x/0x%08x and no VTI has that key: the packets routed "
				 "to it (mark 0x%08x/0x%08x) would match none of its "
				 "policies and leave in clear; its destinations stay refused",
				 child_sa->get_name(child_sa),
				 child_sa->get_unique_id(child_sa), mark.value, mark.mask,
				 config->mark, config->mask);
			return FALSE;
		}
	}
	/* policy-based XFRM: toward the peer, as charon reaches it, so the packet
	 * gets to the XFRM output path. The kernel's own lookup (one request;
	 * charon's get_nexthop() dumps every route, our table's too, which costs
	 * more the more tunnels there are) */
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
