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
 * @defgroup tunnel_nat_backend tunnel_nat_backend
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_BACKEND_H_
#define TUNNEL_NAT_BACKEND_H_

#include "tunnel_nat_config.h"
#include "tunnel_nat_zones.h"

/**
 * Find the interface decrypted packets arrive on: inbound_interface if
 * set, else kernel-libipsec's TUN device if it is there.
 *
 * @param config		settings
 * @return				interface name (allocated), NULL for meta secpath
 */
char *tunnel_nat_backend_inbound_iface(tunnel_nat_config_t *config);

/**
 * Why charon cannot carry partner-side mappings, NULL if it can: with
 * kernel-libipsec as its IPsec backend.
 *
 * @return				reason (static), NULL if the backend is kernel XFRM
 */
const char *tunnel_nat_backend_partner_refusal();

/**
 * Get tunnel-route's mark mask if tunnel-route is loaded.
 *
 * @return				the mask, 0 if tunnel-route is not loaded
 */
uint32_t tunnel_nat_backend_route_mask();

/**
 * Load the settings with what the partner side needs from charon:
 * tunnel-route's mark mask, the partner-side mappings refused if the
 * backend cannot carry them, and the zones (from prev).
 *
 * @param prev			current zone assignment, NULL for none
 * @param zones			the new assignment, set if the settings load
 * @return				settings, NULL if they do not load (logged)
 */
tunnel_nat_config_t *tunnel_nat_backend_load_config(tunnel_nat_zones_t *prev,
													tunnel_nat_zones_t **zones);

#endif /** TUNNEL_NAT_BACKEND_H_ @}*/
