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
 * @defgroup tunnel_route_target tunnel_route_target
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_TARGET_H_
#define TUNNEL_ROUTE_TARGET_H_

#include "tunnel_route_state.h"

#include <sa/ike_sa.h>
#include <sa/child_sa.h>
#include <nl_socket.h>

/**
 * Find where the traffic of a CHILD_SA goes: the XFRM interface with its
 * if_id (route-based), kernel-libipsec's TUN device, the VTI whose key its
 * mark_out matches, or (policy-based XFRM) the nexthop and interface toward
 * the peer, so the packet reaches the XFRM output path. A CHILD_SA with a
 * mark_out that neither a VTI nor the plugin's own mark gives its packets
 * has none: they would match none of its policies. A failure is logged.
 *
 * @param rtnl		NETLINK_ROUTE socket for the lookups
 * @param config	settings in use (the plugin's mark)
 * @param ike_sa	IKE_SA of the CHILD_SA
 * @param child_sa	CHILD_SA
 * @param target	receives the target
 * @return			FALSE if there is none
 */
bool tunnel_route_target_resolve(nl_socket_t *rtnl,
								 tunnel_route_config_t *config,
								 ike_sa_t *ike_sa, child_sa_t *child_sa,
								 tunnel_route_target_t *target);

#endif /** TUNNEL_ROUTE_TARGET_H_ @}*/
