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
 * @defgroup tunnel_nat_nft_partner tunnel_nat_nft_partner
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_NFT_PARTNER_H_
#define TUNNEL_NAT_NFT_PARTNER_H_

#include "tunnel_nat_config.h"
#include "tunnel_nat_state.h"

#include <nl_batch.h>

typedef struct tunnel_nat_nft_partner_t tunnel_nat_nft_partner_t;

/**
 * Names of the chains of the partner side (twice NAT)
 */
#define TUNNEL_NAT_CHAIN_RAW_PRE "raw_pre"
#define TUNNEL_NAT_CHAIN_RAW_OUT "raw_out"
#define TUNNEL_NAT_CHAIN_MANGLE_PRE "mangle_pre"
#define TUNNEL_NAT_CHAIN_OUTPUT_NAT "output_nat"
#define TUNNEL_NAT_CHAIN_GUARD "guard_post"

/**
 * What the table holds for partner-side mappings: their chains, and per
 * length class (the prefix length of an alias block) a set of maps and
 * rules.
 */
struct tunnel_nat_nft_partner_t {

	/**
	 * Length classes of the settings: bit L set for each prefix length L of
	 * an alias; each has the objects of a class and a set of configured
	 * aliases
	 */
	uint64_t classes;

	/**
	 * Length classes created for alias blocks of other lengths (a narrower
	 * remote_ts), without a set of configured aliases; kept until the table
	 * is rebuilt
	 */
	uint64_t lazy;

	/**
	 * First and last conntrack zone of partner-side CHILD_SA configs
	 */
	uint16_t zone_first, zone_last;

	/**
	 * ct mark bit of partner-started flows
	 */
	uint32_t ct_mark;

	/**
	 * The bits of meta mark that hold an SA's mark (the complement of
	 * tunnel-route's mark mask, all bits without it)
	 */
	uint32_t mark_mask;

	/**
	 * The mappings, tunnel_nat_mapping_t*: the alias blocks of those with a
	 * partner side are the configured aliases (fail-closed while their
	 * partner is down)
	 */
	array_t *mappings;
};

/**
 * Get what the table needs for the partner-side mappings of a config.
 *
 * @param config		settings
 * @param route_mask	mark mask of tunnel-route, 0 if it is not loaded
 * @param partner		filled in, mappings borrowed from config, no lazy
 *						classes
 * @return				FALSE if the config has no partner-side mapping
 */
bool tunnel_nat_nft_partner_init(tunnel_nat_config_t *config,
								 uint32_t route_mask,
								 tunnel_nat_nft_partner_t *partner);

/**
 * Add messages creating the maps and sets of the partner side, and the
 * elements of the sets of configured aliases.
 */
void tunnel_nat_nft_partner_maps(nl_batch_t *batch, const char *table,
								 tunnel_nat_nft_partner_t *partner);

/**
 * Add messages creating the chains of the partner side.
 */
void tunnel_nat_nft_partner_chains(nl_batch_t *batch, const char *table);

/**
 * Add the rules that go before the rules of the P side: raw_pre, raw_out,
 * mangle_pre, and the alias DNAT in prerouting and output_nat.
 */
void tunnel_nat_nft_partner_rules_pre(nl_batch_t *batch, const char *table,
									  tunnel_nat_nft_partner_t *partner);

/**
 * Add the rules that go after the rules of the P side: the partner SNAT in
 * postrouting, and the leak guard in guard_post.
 */
void tunnel_nat_nft_partner_rules_post(nl_batch_t *batch, const char *table,
									   tunnel_nat_nft_partner_t *partner);

/**
 * Add the first rule of the counting chain: flows our hosts started to an
 * alias (in a partner zone, without the ct mark bit of partner-started
 * flows) leave it. They are counted per alias block in azone4, and their
 * original tuple (a host of ours and an alias) is no key of the P side's
 * counting sets, whose lookups they would only miss.
 *
 * @param table		table name
 * @param chain		name of the counting chain
 * @param partner	the partner side (zones, ct mark bit)
 */
void tunnel_nat_nft_partner_count_rule(nl_batch_t *batch, const char *table,
									   const char *chain,
									   tunnel_nat_nft_partner_t *partner);

/**
 * Add messages that add or delete the partner-side elements of a list (the
 * others are skipped).
 *
 * @param table		table name
 * @param add		TRUE to add the elements, FALSE to delete them
 * @param elems		tunnel_nat_elem_t*
 */
void tunnel_nat_nft_partner_elems(nl_batch_t *batch, const char *table,
								  bool add, array_t *elems);

/**
 * Length classes of the partner-side elements of a list that go to maps
 * per class.
 *
 * @param elems		tunnel_nat_elem_t*
 * @return			bit L set for each length L
 */
uint64_t tunnel_nat_nft_partner_elem_classes(array_t *elems);

/**
 * Whether two partner sides build the same table, lazy classes aside: the
 * same classes of the settings, zones, ct mark bit and mark mask. If not,
 * the table must be rebuilt to go from one to the other.
 *
 * @param a			partner side, NULL for none
 * @param b			partner side, NULL for none
 * @return			TRUE if the same
 */
bool tunnel_nat_nft_partner_same(tunnel_nat_nft_partner_t *a,
								 tunnel_nat_nft_partner_t *b);

/**
 * Add messages creating the maps and rules of the length classes the table
 * does not have yet, to a transaction that adds their first elements, and
 * record them as lazy classes of partner.
 *
 * @param table		table name
 * @param partner	partner side of the table, lazy updated
 * @param classes	classes the elements need
 */
void tunnel_nat_nft_partner_add_classes(nl_batch_t *batch, const char *table,
										tunnel_nat_nft_partner_t *partner,
										uint64_t classes);

/**
 * Add messages that remove every element of the partner side's maps, and
 * write the sets of configured aliases again (from partner's mappings).
 *
 * @param table		table name
 * @param partner	partner side of the table
 */
void tunnel_nat_nft_partner_flush(nl_batch_t *batch, const char *table,
								  tunnel_nat_nft_partner_t *partner);

/**
 * Add messages that write the sets of configured aliases again, from
 * partner's mappings (the classes of the settings stay the same).
 *
 * @param table		table name
 * @param partner	partner side of the table
 */
void tunnel_nat_nft_partner_acfg(nl_batch_t *batch, const char *table,
								 tunnel_nat_nft_partner_t *partner);

#endif /** TUNNEL_NAT_NFT_PARTNER_H_ @}*/
