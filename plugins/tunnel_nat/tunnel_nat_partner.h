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
 * @defgroup tunnel_nat_partner tunnel_nat_partner
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_PARTNER_H_
#define TUNNEL_NAT_PARTNER_H_

#include "tunnel_nat_config.h"
#include "tunnel_nat_claims.h"

/**
 * Parse the partner side of a mapping section (remote and alias), if set.
 * Needs the mapping's name and children.
 *
 * @param settings		settings to read
 * @param ns			namespace, usually "charon"
 * @param map			mapping to complete
 * @param log			whether to log what is rejected
 * @return				FALSE if the partner side is invalid (logged)
 */
bool tunnel_nat_partner_parse(settings_t *settings, const char *ns,
							  tunnel_nat_mapping_t *map, bool log);

/**
 * Parse partner_zones, "FIRST-LAST" with 1 <= FIRST <= LAST <= 65535.
 *
 * @param value			value of the setting
 * @param first			first zone
 * @param last			last zone
 * @return				NULL, or why the value is invalid
 */
const char *tunnel_nat_partner_parse_zones(const char *value, uint16_t *first,
										   uint16_t *last);

/**
 * Parse partner_ct_mark, a number with exactly one bit set.
 *
 * @param value			value of the setting
 * @param mark			the bit
 * @return				NULL, or why the value is invalid
 */
const char *tunnel_nat_partner_parse_ct_mark(const char *value,
											 uint32_t *mark);

/**
 * Prefix lengths a mapping claims, a bit per length, for the claim index.
 *
 * @param map			mapping
 * @return				bit L set for each length L
 */
uint64_t tunnel_nat_partner_lens(tunnel_nat_mapping_t *map);

/**
 * Check a mapping's aliases and remotes against the mappings accepted
 * before it: aliases are disjoint from each other and from every public,
 * private, forward host and remote; the remotes of one CHILD_SA config are
 * disjoint. Applies to every mapping (a P-side-only mapping must not take
 * an alias either). Claims nothing.
 *
 * @param claims		index of the accepted mappings' prefixes
 * @param map			mapping to check
 * @param log			whether to log a conflict
 * @return				FALSE on a conflict (logged)
 */
bool tunnel_nat_partner_check(tunnel_nat_claims_t *claims,
							  tunnel_nat_mapping_t *map, bool log);

/**
 * Claim the prefixes of an accepted mapping that later mappings' partner
 * checks look for.
 *
 * @param claims		index of the accepted mappings' prefixes
 * @param map			accepted mapping
 */
void tunnel_nat_partner_claim(tunnel_nat_claims_t *claims,
							  tunnel_nat_mapping_t *map);

/**
 * Format an IPv4 prefix as a.b.c.d/n.
 *
 * @param buf			buffer, at least 19 bytes
 * @param len			size of buf
 * @param net			network address (host order)
 * @param plen			prefix length
 * @return				buf
 */
char *tunnel_nat_partner_fmt(char *buf, size_t len, uint32_t net, uint8_t plen);

#endif /** TUNNEL_NAT_PARTNER_H_ @}*/
