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

#include "tunnel_nat_sa.h"

#include <tunnel_util.h>
#include <sw_compat.h>

#include <arpa/inet.h>

#include <daemon.h>

/**
 * Get the first and last address of an IPv4 traffic selector
 */
static bool ts_range(traffic_selector_t *ts, uint32_t *from, uint32_t *to)
{
	chunk_t a, b;

	if (ts->get_type(ts) != TS_IPV4_ADDR_RANGE)
	{
		return FALSE;
	}
	a = ts->get_from_address(ts);
	b = ts->get_to_address(ts);
	if (a.len != 4 || b.len != 4)
	{
		return FALSE;
	}
	*from = untoh32(a.ptr);
	*to = untoh32(b.ptr);
	return TRUE;
}

/**
 * Warn if a mapping's public prefix is not within the configured local_ts
 * (ranges: array of uint32_t from, to)
 */
static void check_configured_ts(const char *name, array_t *configured,
								tunnel_nat_mapping_t *map)
{
	uint32_t last, range[2];
	bool found = FALSE;
	u_int i;

	last = map->pub | ~tunnel_mask(map->prefixlen);
	for (i = 0; !found && i < array_count(configured); i++)
	{
		array_get(configured, i, range);
		found = range[0] <= map->pub && last <= range[1];
	}
	if (!found)
	{
		uint32_t pub = htonl(map->pub);
		host_t *host;

		host = host_create_from_chunk(AF_INET, chunk_from_thing(pub), 0);
		DBG1(DBG_CFG, "tunnel-nat: public address %H/%u of mapping '%s' is "
			 "not within local_ts of child '%s': the peer cannot reach it "
			 "through this tunnel", host, map->prefixlen, map->name, name);
		host->destroy(host);
	}
}

/*
 * Described in header
 */
void tunnel_nat_sa_destroy(tunnel_nat_sa_t *rec)
{
	array_destroy(rec->pairs);
	array_destroy(rec->configured);
	free(rec->name);
	free(rec);
}

/*
 * Described in header
 */
tunnel_nat_sa_t *tunnel_nat_sa_create(child_sa_t *child_sa)
{
	traffic_selector_t *lts, *rts;
	enumerator_t *locals, *remotes;
	tunnel_nat_sa_t *rec;
	tunnel_nat_ts_pair_t pair;

	child_cfg_t *cfg = child_sa->get_config(child_sa);
	linked_list_t *configured;
	enumerator_t *enumerator;
	uint32_t range[2];

	INIT(rec,
		.name = strdup(child_sa->get_name(child_sa)),
		.pairs = array_create(sizeof(tunnel_nat_ts_pair_t), 1),
		.configured = array_create(sizeof(range), 1),
	);
	configured = sw_child_cfg_ts(cfg, TRUE);
	enumerator = configured->create_enumerator(configured);
	while (enumerator->enumerate(enumerator, &lts))
	{
		if (ts_range(lts, &range[0], &range[1]))
		{
			array_insert(rec->configured, ARRAY_TAIL, range);
		}
	}
	enumerator->destroy(enumerator);
	configured->destroy_offset(configured, offsetof(traffic_selector_t, destroy));
	locals = child_sa->create_ts_enumerator(child_sa, TRUE);
	while (locals->enumerate(locals, &lts))
	{
		if (!ts_range(lts, &pair.lfrom, &pair.lto))
		{
			continue;
		}
		remotes = child_sa->create_ts_enumerator(child_sa, FALSE);
		while (remotes->enumerate(remotes, &rts))
		{
			if (ts_range(rts, &pair.rfrom, &pair.rto))
			{
				array_insert(rec->pairs, ARRAY_TAIL, &pair);
			}
		}
		remotes->destroy(remotes);
	}
	locals->destroy(locals);
	return rec;
}

/*
 * Described in header
 */
array_t *tunnel_nat_sa_elems(tunnel_nat_config_t *config, tunnel_nat_sa_t *rec,
							 uint32_t id, bool log)
{
	tunnel_nat_mapping_t *map;
	enumerator_t *mappings;
	array_t *elems = NULL;
	tunnel_nat_ts_pair_t pair;
	char comment[TUNNEL_NAT_COMMENT_LEN];
	bool covered;
	u_int i;

	snprintf(comment, sizeof(comment), "child %s", rec->name);
	mappings = config->create_mapping_enumerator(config, rec->name);
	while (mappings->enumerate(mappings, &map))
	{
		if (!elems)
		{
			elems = array_create(0, 4);
		}
		covered = FALSE;
		for (i = 0; i < array_count(rec->pairs); i++)
		{
			array_get(rec->pairs, i, &pair);
			if (tunnel_nat_mapping_elems(map, pair.lfrom, pair.lto,
										 pair.rfrom, pair.rto, comment,
										 elems))
			{
				covered = TRUE;
			}
		}
		if (!covered && log)
		{
			DBG1(DBG_CHD, "tunnel-nat: negotiated traffic selectors of "
				 "CHILD_SA %s{%u} do not cover mapping '%s', not applied",
				 rec->name, id, map->name);
		}
	}
	mappings->destroy(mappings);
	return elems;
}

/*
 * Described in header
 */
void tunnel_nat_sa_check(tunnel_nat_config_t *config, tunnel_nat_sa_t *rec)
{
	tunnel_nat_mapping_t *map;
	enumerator_t *mappings;

	mappings = config->create_mapping_enumerator(config, rec->name);
	while (mappings->enumerate(mappings, &map))
	{
		check_configured_ts(rec->name, rec->configured, map);
	}
	mappings->destroy(mappings);
}
