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
 * @defgroup tunnel_nat_zones tunnel_nat_zones
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_ZONES_H_
#define TUNNEL_NAT_ZONES_H_

#include "tunnel_nat_config.h"
#include "tunnel_nat_sa.h"
#include "tunnel_nat_ct.h"

typedef struct tunnel_nat_zones_t tunnel_nat_zones_t;

/**
 * The conntrack zones of the partner-side CHILD_SA configs (one per config
 * that has partner-side mappings), from partner_zones. Immutable: a reload
 * creates the next assignment from the current one, so that a config that
 * stays keeps its zone, and the caller swaps them once the reload is
 * applied.
 */
struct tunnel_nat_zones_t {

	/**
	 * Get the zone of a CHILD_SA config.
	 *
	 * @param child		name of the CHILD_SA config
	 * @return			its zone, 0 if it has none
	 */
	uint16_t (*get)(tunnel_nat_zones_t *this, const char *child);

	/**
	 * Number of CHILD_SA configs with a zone.
	 */
	u_int (*get_count)(tunnel_nat_zones_t *this);

	/**
	 * Get the retired zones: those of CHILD_SA configs that left the
	 * settings (in this or an earlier assignment) whose conntrack entries
	 * are not known to be deleted. They are not given to other configs
	 * until released, so that no partner's packets meet another partner's
	 * entries.
	 *
	 * @return			uint16_t, the retired zones (borrowed)
	 */
	array_t *(*get_retired)(tunnel_nat_zones_t *this);

	/**
	 * Free the retired zones, once their conntrack entries are deleted.
	 */
	void (*release)(tunnel_nat_zones_t *this);

	/**
	 * Destroy the assignment.
	 */
	void (*destroy)(tunnel_nat_zones_t *this);
};

/**
 * Give each partner-side CHILD_SA config of a config a zone: the one it has
 * in prev if that is within partner_zones, else the lowest free one that is
 * not retired. A config not in the new settings retires its zone, and the
 * zones retired in prev stay retired.
 *
 * @param prev			current assignment, NULL for none
 * @param config		settings
 * @param log			whether to log new zones and exhaustion
 * @return				the assignment, NULL if partner_zones is too small
 *						(logged naming partner_zones, its value and the
 *						CHILD_SA config left without one)
 */
tunnel_nat_zones_t *tunnel_nat_zones_assign(tunnel_nat_zones_t *prev,
											tunnel_nat_config_t *config,
											bool log);

/**
 * Assign the zones of a config for the partner side, refusing its
 * partner-side mappings (config->refuse_partners(), counted in errors) if
 * why_not is given, or all of them if partner_zones is too small.
 *
 * @param prev			current assignment, NULL for none
 * @param config		settings, partner-side mappings removed if refused
 * @param why_not		why charon cannot carry partner-side mappings, NULL
 *						if it can
 * @param log			whether to log
 * @return				the assignment
 */
tunnel_nat_zones_t *tunnel_nat_zones_prepare(tunnel_nat_zones_t *prev,
											 tunnel_nat_config_t *config,
											 const char *why_not, bool log);

/**
 * Build the elements of a CHILD_SA under a config: the P side's, and the
 * partner side's if its config has a zone and the CHILD_SA passes the
 * checks of tunnel_nat_sa_partner() (with config->route_mask).
 *
 * @param zones			zone assignment for config
 * @param config		settings
 * @param sa			record of the CHILD_SA
 * @param id			its unique id, for logs and comments
 * @param log			whether to log refusals and warnings
 * @return				tunnel_nat_elem_t*, NULL if it has no mappings
 */
array_t *tunnel_nat_zones_elems(tunnel_nat_zones_t *zones,
								tunnel_nat_config_t *config,
								tunnel_nat_sa_t *sa, uint32_t id, bool log);

/**
 * The alias blocks of a config's partner-side mappings with the zones of
 * their CHILD_SA configs, for tunnel_nat_ct_foreign().
 *
 * @param zones			zone assignment for config
 * @param config		settings
 * @return				tunnel_nat_ct_owner_t, sorted by first address
 *						(array_destroy() it)
 */
array_t *tunnel_nat_zones_owners(tunnel_nat_zones_t *zones,
								 tunnel_nat_config_t *config);

#endif /** TUNNEL_NAT_ZONES_H_ @}*/
