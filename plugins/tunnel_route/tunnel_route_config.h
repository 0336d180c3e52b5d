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
 * @defgroup tunnel_route_config tunnel_route_config
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_CONFIG_H_
#define TUNNEL_ROUTE_CONFIG_H_

#include <library.h>
#include <settings/settings.h>
#include <collections/array.h>
#include <tunnel_util.h>

typedef struct tunnel_route_config_t tunnel_route_config_t;
typedef struct tunnel_route_range_t tunnel_route_range_t;

/**
 * Defaults
 */
#define TUNNEL_ROUTE_DEFAULT_TABLE 4242
#define TUNNEL_ROUTE_DEFAULT_PRIORITY 210
#define TUNNEL_ROUTE_DEFAULT_BYPASS_MARK 0x8000000
#define TUNNEL_ROUTE_DEFAULT_PROTOCOL 242
#define TUNNEL_ROUTE_DEFAULT_NFT_TABLE "tunnel_route"
#define TUNNEL_ROUTE_DEFAULT_REFRESH 2
#define TUNNEL_ROUTE_DEFAULT_GUARD_TIMEOUT 30

/**
 * An IPv4 address range, host byte order.
 */
struct tunnel_route_range_t {
	uint32_t from;
	uint32_t to;
};

/**
 * The plugin's settings, parsed and validated.
 */
struct tunnel_route_config_t {

	/** routing table holding the routes */
	uint32_t table;
	/** priority of the FIB rule selecting the table */
	uint32_t priority;
	/** mark value selecting the table, mask of the plugin's mark bits */
	uint32_t mark, mask;
	/** mark value of other traffic to a tunnel's destinations: main table */
	uint32_t bypass_mark;
	/** routing protocol number routes and the rule are tagged with */
	uint8_t protocol;
	/** nftables table setting the marks */
	char *nft_table;
	/** refuse traffic to a tunnel's destinations while it is down */
	bool fail_closed;
	/** seconds between scans of the configured CHILD_SAs, 0 for none */
	u_int refresh;
	/** seconds the start-up guard waits for the configs at most, 0: no guard */
	u_int guard_timeout;
	/** rekey the CHILD_SAs of an IKE_SA this HA node takes over */
	bool ha_takeover_rekey;
	/** settings rejected (each one logged) */
	u_int errors;

	/**
	 * Sources of a CHILD_SA config.
	 *
	 * @param child		name of the CHILD_SA config
	 * @return			tunnel_route_range_t*, NULL if it has none
	 */
	array_t *(*get_sources)(tunnel_route_config_t *this, const char *child);

	/**
	 * Enumerate the names of the CHILD_SA configs that have sources.
	 *
	 * @return			enumerator over const char*
	 */
	enumerator_t *(*create_child_enumerator)(tunnel_route_config_t *this);

	/**
	 * Enumerate all sources (of any child).
	 *
	 * @return			enumerator over tunnel_route_range_t*
	 */
	enumerator_t *(*create_source_enumerator)(tunnel_route_config_t *this);

	/**
	 * Get a reference to the config, released with destroy().
	 *
	 * A thread that reads the config without the listener's lock holds one,
	 * so that a reload can't free it underneath.
	 *
	 * @return			this, with one more reference
	 */
	tunnel_route_config_t *(*get_ref)(tunnel_route_config_t *this);

	/**
	 * Release a reference, destroying the config with the last one.
	 */
	void (*destroy)(tunnel_route_config_t *this);
};

/**
 * Parse and validate the settings below "<ns>.plugins.tunnel-route".
 *
 * Sources of a child are both sides of tunnel-nat's mappings for it
 * (unless tunnel_nat_sources = no) and the prefixes listed in
 * children.<child>.sources. Invalid entries are logged naming the key and
 * the value and skipped; invalid global settings (table, priority, mark,
 * protocol, nft_table) make the whole config fail.
 *
 * @param settings		settings to read
 * @param ns			namespace, usually lib->ns
 * @return				config, NULL if unusable
 */
tunnel_route_config_t *tunnel_route_config_load(settings_t *settings,
												const char *ns);

/**
 * Tell whether the packets the plugin routes through its table match an
 * outbound XFRM policy with the given mark (a CHILD_SA's mark_out).
 *
 * The plugin sets its mark value in the bits of its mask; the other bits of
 * a packet's mark are not known. So a policy with a mark matches them for
 * certain only if its mask lies within the plugin's, and the plugin's value
 * is the policy's there. A mask of 0 (no mark_out) matches every packet.
 *
 * @param config		settings in use
 * @param value			mark value of the policy
 * @param mask			mark mask of the policy
 * @return				TRUE if the policy matches the routed packets
 */
bool tunnel_route_config_mark_matches(tunnel_route_config_t *config,
									  uint32_t value, uint32_t mask);

#endif /** TUNNEL_ROUTE_CONFIG_H_ @}*/
