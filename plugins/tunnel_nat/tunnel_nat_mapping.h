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
 * @defgroup tunnel_nat_mapping tunnel_nat_mapping
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_MAPPING_H_
#define TUNNEL_NAT_MAPPING_H_

#include <library.h>
#include <settings/settings.h>
#include <collections/array.h>

#include "tunnel_nat_state.h"

typedef struct tunnel_nat_mapping_t tunnel_nat_mapping_t;
typedef struct tunnel_nat_forward_t tunnel_nat_forward_t;

/**
 * A port forward: P:port/proto to host:host_port.
 */
struct tunnel_nat_forward_t {
	/** IPPROTO_TCP or IPPROTO_UDP */
	uint8_t proto;
	/** port on P */
	uint16_t port;
	/** private host (host byte order) */
	uint32_t host;
	/** port on the host */
	uint16_t host_port;
};

/**
 * A mapping of a public prefix P (the P side), one of three kinds:
 *
 * - 1:1: a private prefix of the same size, host bits kept, both ways;
 * - many-to-one (pat): a private prefix leaves as the one address P, source
 *   ports as the kernel picks them; inbound only the forwarded ports;
 * - port forwards only (no private side): P's forwarded ports go to their
 *   hosts, other ports of P are closed.
 *
 * Port forwards may come with pat. A mapping may also, or instead, be
 * partner-side: the partner's prefix (remote) is seen by our hosts as an
 * alias prefix of the same size, for exactly one CHILD_SA config. Addresses
 * are IPv4, in host byte order, with the host bits cleared.
 */
struct tunnel_nat_mapping_t {

	/**
	 * Name of the settings section that defines the mapping
	 */
	char *name;

	/**
	 * Names of the CHILD_SA configs the mapping applies to, char*
	 */
	array_t *children;

	/**
	 * Public network address (P)
	 */
	uint32_t pub;

	/**
	 * Private network address
	 */
	uint32_t priv;

	/**
	 * Prefix length of the public side (of both for 1:1), 0..32
	 */
	uint8_t prefixlen;

	/**
	 * Prefix length of the private side
	 */
	uint8_t privlen;

	/**
	 * Whether the mapping has a private side (not only port forwards)
	 */
	bool has_private;

	/**
	 * Many-to-one: the private prefix leaves as the one address pub
	 */
	bool pat;

	/**
	 * Port forwards, tunnel_nat_forward_t
	 */
	array_t *forwards;

	/**
	 * Whether the mapping has no P side (a partner-side mapping without
	 * public); pub, prefixlen, priv and forwards are then unset
	 */
	bool partner_only;

	/**
	 * Whether the mapping is partner-side (remote and alias)
	 */
	bool has_partner;

	/**
	 * Partner-side: the partner's prefix, as negotiated in remote_ts
	 */
	uint32_t remote;

	/**
	 * Partner-side: our alias prefix for remote
	 */
	uint32_t alias;

	/**
	 * Partner-side: prefix length of remote and alias
	 */
	uint8_t partnerlen;
};

/**
 * Parse and validate one mapping section, mappings.NAME below
 * "<ns>.plugins.tunnel-nat". What is invalid is logged, naming the key and
 * the value; the checks against other mappings are the config's.
 *
 * @param settings		settings to read
 * @param ns			namespace, usually lib->ns ("charon")
 * @param name			name of the mapping section
 * @param log			whether to log what is rejected
 * @return				parsed mapping, NULL if invalid
 */
tunnel_nat_mapping_t *tunnel_nat_mapping_parse(settings_t *settings,
											   const char *ns, char *name,
											   bool log);

/**
 * Destroy a mapping.
 *
 * @param this			mapping to destroy
 */
void tunnel_nat_mapping_destroy(tunnel_nat_mapping_t *this);

/**
 * Build the elements of one mapping for one pair of address ranges.
 *
 * @param map			mapping
 * @param local_from	first address of a negotiated local selector
 * @param local_to		last address of a negotiated local selector
 * @param remote_from	first address of a negotiated remote selector
 * @param remote_to		last address of a negotiated remote selector
 * @param comment		comment for the elements
 * @param elems			array to add the elements to (DNAT and SNAT for 1:1;
 *						many-to-one SNAT, the forwards and the closed P)
 * @return				FALSE if the public prefix is outside the local range
 */
bool tunnel_nat_mapping_elems(tunnel_nat_mapping_t *map, uint32_t local_from,
							  uint32_t local_to, uint32_t remote_from,
							  uint32_t remote_to, const char *comment,
							  array_t *elems);

#endif /** TUNNEL_NAT_MAPPING_H_ @}*/
