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
 * @defgroup tunnel_nat tunnel_nat
 * @ingroup cplugins
 *
 * @defgroup tunnel_nat_plugin tunnel_nat_plugin
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_PLUGIN_H_
#define TUNNEL_NAT_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct tunnel_nat_plugin_t tunnel_nat_plugin_t;

/**
 * Publishes private hosts on public addresses through CHILD_SAs: DNAT of
 * packets that arrive through a tunnel for a public address P, SNAT of the
 * private hosts' traffic to the tunnel's remote traffic selectors, with
 * nftables maps kept per CHILD_SA.
 */
struct tunnel_nat_plugin_t {

	/**
	 * Implements plugin interface.
	 */
	plugin_t plugin;
};

#endif /** TUNNEL_NAT_PLUGIN_H_ @}*/
