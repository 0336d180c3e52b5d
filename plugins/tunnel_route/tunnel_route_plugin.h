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
 * @defgroup tunnel_route tunnel_route
 * @ingroup cplugins
 *
 * @defgroup tunnel_route_plugin tunnel_route_plugin
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_PLUGIN_H_
#define TUNNEL_ROUTE_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct tunnel_route_plugin_t tunnel_route_plugin_t;

/**
 * Per-tunnel policy routes: traffic from a tunnel's sources (e.g. the
 * private hosts tunnel-nat publishes) to its remote traffic selectors takes
 * the tunnel, in a routing table of its own selected by one fwmark rule,
 * and is refused while the tunnel is down.
 */
struct tunnel_route_plugin_t {

	/**
	 * Implements plugin interface.
	 */
	plugin_t plugin;
};

#endif /** TUNNEL_ROUTE_PLUGIN_H_ @}*/
