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

#include "tunnel_nat_backend.h"

#include <tunnel_util.h>

#include <daemon.h>
#include <networking/tun_device.h>

/*
 * Described in header
 */
char *tunnel_nat_backend_inbound_iface(tunnel_nat_config_t *config)
{
	tun_device_t *tun;

	if (config->inbound_interface)
	{
		return strdup(config->inbound_interface);
	}
	tun = lib->get(lib, "kernel-libipsec-tun");
	if (tun)
	{
		return strdupnull(tun->get_name(tun));
	}
	return NULL;
}

/*
 * Described in header: kernel-libipsec's TUN device is there, and the
 * backend is not kernel-netlink's XFRM, the only one with policy SPIs
 */
const char *tunnel_nat_backend_partner_refusal()
{
	if (lib->get(lib, "kernel-libipsec-tun") &&
		!(charon->kernel->get_features(charon->kernel) & KERNEL_POLICY_SPI))
	{
		return "partner-side mappings need kernel XFRM (kernel-netlink); "
			   "kernel-libipsec cannot tell which CHILD_SA decrypted a "
			   "packet, nor steer by mark";
	}
	return NULL;
}

/*
 * Described in header
 */
uint32_t tunnel_nat_backend_route_mask()
{
	uint32_t mask = 0;

	if (lib->plugins->has_feature(lib->plugins,
								  PLUGIN_PROVIDE(CUSTOM, "tunnel-route")) &&
		!tunnel_route_mark_mask(lib->settings, lib->ns, &mask))
	{
		mask = TUNNEL_ROUTE_DEFAULT_MASK;
		DBG1(DBG_CFG, "tunnel-nat: tunnel-route's mark is invalid, its "
			 "default mask 0x%08x assumed", mask);
	}
	return mask;
}

/*
 * Described in header
 */
tunnel_nat_config_t *tunnel_nat_backend_load_config(tunnel_nat_zones_t *prev,
													tunnel_nat_zones_t **zones)
{
	tunnel_nat_config_t *config;

	config = tunnel_nat_config_load(lib->settings, lib->ns, TRUE);
	if (config)
	{
		config->route_mask = tunnel_nat_backend_route_mask();
		*zones = tunnel_nat_zones_prepare(prev, config,
									tunnel_nat_backend_partner_refusal(), TRUE);
	}
	return config;
}
