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
 * @defgroup tunnel_nat_config tunnel_nat_config
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_CONFIG_H_
#define TUNNEL_NAT_CONFIG_H_

#include <library.h>
#include <settings/settings.h>
#include <collections/array.h>
#include <collections/enumerator.h>

#include "tunnel_nat_mapping.h"

/**
 * Default name of the nftables table the plugin owns.
 */
#define TUNNEL_NAT_DEFAULT_TABLE "tunnel_nat"

/**
 * Default conntrack zones for partner-side CHILD_SA configs (partner_zones)
 */
#define TUNNEL_NAT_DEFAULT_ZONE_FIRST 4096
#define TUNNEL_NAT_DEFAULT_ZONE_LAST 65535

/**
 * Default ct mark bit of partner-started flows (partner_ct_mark)
 */
#define TUNNEL_NAT_DEFAULT_PARTNER_CT_MARK 0x01000000

typedef struct tunnel_nat_config_t tunnel_nat_config_t;

/**
 * The plugin's settings, parsed and validated.
 */
struct tunnel_nat_config_t {

	/**
	 * Name of the nftables table
	 */
	char *table;

	/**
	 * Interface decrypted packets arrive on, NULL to match IPsec metadata
	 * (meta secpath) or auto-detect kernel-libipsec's TUN device
	 */
	char *inbound_interface;

	/**
	 * Valid mappings, tunnel_nat_mapping_t*
	 */
	array_t *mappings;

	/**
	 * Number of settings rejected while parsing (each one logged)
	 */
	u_int errors;

	/**
	 * First and last conntrack zone for partner-side CHILD_SA configs
	 */
	uint16_t zone_first, zone_last;

	/**
	 * Whether partner_zones and partner_ct_mark are valid (if not, every
	 * partner-side mapping is skipped, and the zones are the defaults)
	 */
	bool partner_keys_valid;

	/**
	 * The ct mark bit of partner-started flows
	 */
	uint32_t partner_ct_mark;

	/**
	 * Count the packets and bytes of each P side translation (counters)
	 */
	bool counters;

	/**
	 * Mark mask of tunnel-route, 0 if it is not loaded. Not a setting of
	 * this plugin: 0 after loading, set by the caller (the table's SNAT of
	 * partners keys on the other bits of the mark).
	 */
	uint32_t route_mask;

	/**
	 * Refuse the partner-side mappings, e.g. because charon's IPsec backend
	 * cannot carry them. Each one is logged, naming its remote key and
	 * value and why, removed (P side included) and counted in errors.
	 *
	 * @param why		why they are refused, for the log
	 * @param log		whether to log each refusal
	 * @return			number of mappings refused
	 */
	u_int (*refuse_partners)(tunnel_nat_config_t *this, const char *why,
							 bool log);

	/**
	 * Enumerate the mappings of a CHILD_SA config.
	 *
	 * @param child		name of the CHILD_SA config
	 * @return			enumerator over tunnel_nat_mapping_t*
	 */
	enumerator_t *(*create_mapping_enumerator)(tunnel_nat_config_t *this,
											   const char *child);

	/**
	 * Destroy the config and its mappings.
	 */
	void (*destroy)(tunnel_nat_config_t *this);
};

/**
 * Parse and validate the plugin's settings.
 *
 * Settings are read below "<ns>.plugins.tunnel-nat". Each invalid entry is
 * logged, naming the key and the value, and skipped; valid ones are kept.
 * A configuration error that leaves no usable table name makes this fail.
 *
 * @param settings		settings to read
 * @param ns			namespace, usually lib->ns ("charon")
 * @param log			whether to log what is rejected
 * @return				parsed config, NULL if unusable
 */
tunnel_nat_config_t *tunnel_nat_config_load(settings_t *settings,
											const char *ns, bool log);

#endif /** TUNNEL_NAT_CONFIG_H_ @}*/
