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

#include <utils/debug.h>

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
		.reqid = child_sa->get_reqid(child_sa),
		.mark_in = child_sa->get_mark(child_sa, TRUE),
		.mark_out = child_sa->get_mark(child_sa, FALSE),
		.if_id_in = child_sa->get_if_id(child_sa, TRUE),
		.if_id_out = child_sa->get_if_id(child_sa, FALSE),
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
		if (!map->partner_only)
		{
			check_configured_ts(rec->name, rec->configured, map);
		}
	}
	mappings->destroy(mappings);
}

/**
 * Check one XFRM mark of a CHILD_SA with partner-side mappings
 */
static bool check_mark(tunnel_nat_sa_t *rec, tunnel_nat_mapping_t *map,
					   uint32_t id, const char *key, mark_t mark,
					   uint32_t route_mask, bool log)
{
	if (mark.value & ~mark.mask)
	{
		if (log)
		{
			DBG1(DBG_CHD, "tunnel-nat: CHILD_SA %s{%u}: partner-side mapping "
				 "'%s' refused: %s value 0x%08x is outside its mask 0x%08x, "
				 "the kernel would never match its policies", rec->name, id,
				 map->name, key, mark.value, mark.mask);
		}
		return FALSE;
	}
	if (mark.mask & route_mask)
	{
		if (log)
		{
			DBG1(DBG_CHD, "tunnel-nat: CHILD_SA %s{%u}: partner-side mapping "
				 "'%s' refused: the mask 0x%08x of %s overlaps tunnel-route's "
				 "mark mask 0x%08x; give %s a mask without those bits in its "
				 "swanctl.conf child", rec->name, id, map->name, mark.mask,
				 key, route_mask, key);
		}
		return FALSE;
	}
	return TRUE;
}

/**
 * Check that a CHILD_SA can be steered to by the partner-side data path:
 * marks on its policies, no XFRM interface (a policy with an if_id is not
 * matched by a packet that carries only the mark)
 */
static bool check_binding(tunnel_nat_sa_t *rec, tunnel_nat_mapping_t *map,
						  uint32_t id, uint32_t route_mask, bool log)
{
	if (rec->if_id_in || rec->if_id_out)
	{
		if (log)
		{
			DBG1(DBG_CHD, "tunnel-nat: CHILD_SA %s{%u}: partner-side mapping "
				 "'%s' cannot use if_id_in/if_id_out (XFRM interfaces, here "
				 "%u/%u); remove them from its swanctl.conf child", rec->name,
				 id, map->name, rec->if_id_in, rec->if_id_out);
		}
		return FALSE;
	}
	if (!rec->mark_in.value || !rec->mark_out.value)
	{
		if (log)
		{
			DBG1(DBG_CHD, "tunnel-nat: CHILD_SA %s{%u}: partner-side mapping "
				 "'%s' needs mark_in and mark_out (e.g. %%unique/0x00ffffff) "
				 "in its swanctl.conf child", rec->name, id, map->name);
		}
		return FALSE;
	}
	return check_mark(rec, map, id, "mark_in", rec->mark_in, route_mask,
					  log) &&
		   check_mark(rec, map, id, "mark_out", rec->mark_out, route_mask,
					  log);
}

/**
 * Order ranges (uint32_t[2]) by their first, then their last address
 */
static int range_cmp(const void *a, const void *b, void *user)
{
	const uint32_t *ra = a, *rb = b;

	if (ra[0] != rb[0])
	{
		return ra[0] < rb[0] ? -1 : 1;
	}
	return ra[1] < rb[1] ? -1 : ra[1] > rb[1];
}

/**
 * Sort ranges (uint32_t[2]) and merge those that overlap or touch
 */
static array_t *merge_ranges(array_t *ranges)
{
	array_t *merged;
	uint32_t cur[2], next[2];
	u_int i;

	merged = tunnel_array_create(sizeof(cur), array_count(ranges));
	array_sort(ranges, range_cmp, NULL);
	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, next);
		if (i && (uint64_t)cur[1] + 1 >= next[0])
		{
			cur[1] = max(cur[1], next[1]);
			continue;
		}
		if (i)
		{
			array_insert(merged, ARRAY_TAIL, cur);
		}
		memcpy(cur, next, sizeof(cur));
	}
	if (i)
	{
		array_insert(merged, ARRAY_TAIL, cur);
	}
	return merged;
}

/**
 * The negotiated remote selectors of a CHILD_SA, sorted and merged
 */
static array_t *remote_ranges(tunnel_nat_sa_t *rec)
{
	tunnel_nat_ts_pair_t pair;
	array_t *ranges, *merged;
	uint32_t range[2];
	u_int i;

	ranges = tunnel_array_create(sizeof(range), array_count(rec->pairs));
	for (i = 0; i < array_count(rec->pairs); i++)
	{
		array_get(rec->pairs, i, &pair);
		range[0] = pair.rfrom;
		range[1] = pair.rto;
		array_insert(ranges, ARRAY_TAIL, range);
	}
	merged = merge_ranges(ranges);
	array_destroy(ranges);
	return merged;
}

/**
 * Last address of a mapping's remote prefix
 */
static inline uint32_t remote_last(tunnel_nat_mapping_t *map)
{
	return map->remote | ~tunnel_mask(map->partnerlen);
}

/**
 * Data for add_block()
 */
typedef struct {
	tunnel_nat_mapping_t *map;
	array_t *blocks;
} block_data_t;

/**
 * Add the alias block of one prefix of a remote prefix
 */
static void add_block(void *data, uint32_t net, uint8_t len)
{
	block_data_t *bd = data;
	tunnel_nat_block_t block = {
		.map = bd->map,
		.remote = net,
		.alias = bd->map->alias + (net - bd->map->remote),
		.len = len,
	};

	array_insert(bd->blocks, ARRAY_TAIL, &block);
}

/**
 * Log a part of a negotiated remote selector outside every remote prefix
 */
static void log_gap(tunnel_nat_sa_t *rec, uint32_t id, uint32_t *sel,
					uint32_t from, uint32_t to, const char *keys)
{
	char sbuf[40], gbuf[40];

	tunnel_range_str(sbuf, sizeof(sbuf), sel[0], sel[1]);
	tunnel_range_str(gbuf, sizeof(gbuf), from, to);
	DBG1(DBG_CHD, "tunnel-nat: CHILD_SA %s{%u}: remote traffic selector %s "
		 "is not within %s: flows the partner starts from %s cannot be "
		 "translated and are dropped", rec->name, id, sbuf, keys, gbuf);
}

/**
 * Log the parts of the negotiated remote selectors (merged) outside every
 * remote prefix of the config (merged)
 */
static void log_uncovered(tunnel_nat_sa_t *rec, uint32_t id, array_t *remotes,
						  array_t *covered, const char *keys)
{
	uint32_t sel[2], cov[2];
	uint64_t cur;
	u_int i, j;

	for (i = 0; i < array_count(remotes); i++)
	{
		array_get(remotes, i, sel);
		cur = sel[0];
		for (j = 0; j < array_count(covered) && cur <= sel[1]; j++)
		{
			array_get(covered, j, cov);
			if (cov[1] < cur)
			{
				continue;
			}
			if (cov[0] > sel[1])
			{
				break;
			}
			if (cov[0] > cur)
			{
				log_gap(rec, id, sel, cur, cov[0] - 1, keys);
			}
			cur = (uint64_t)cov[1] + 1;
		}
		if (cur <= sel[1])
		{
			log_gap(rec, id, sel, cur, sel[1], keys);
		}
	}
}

/*
 * Described in header
 */
bool tunnel_nat_sa_partner(tunnel_nat_config_t *config, tunnel_nat_sa_t *rec,
						   uint32_t id, uint32_t route_mask, bool log,
						   array_t *blocks)
{
	tunnel_nat_mapping_t *map;
	enumerator_t *mappings;
	array_t *partners, *remotes, *ranges, *covered;
	block_data_t bd = { .blocks = blocks };
	uint32_t sel[2], range[2];
	char keys[256] = "", rbuf[40];
	u_int i, j, n;
	size_t len;

	partners = array_create(0, 1);
	mappings = config->create_mapping_enumerator(config, rec->name);
	while (mappings->enumerate(mappings, &map))
	{
		if (map->has_partner)
		{
			array_insert(partners, ARRAY_TAIL, map);
		}
	}
	mappings->destroy(mappings);
	if (!array_count(partners))
	{
		array_destroy(partners);
		return TRUE;
	}
	array_get(partners, 0, &map);
	if (!check_binding(rec, map, id, route_mask, log))
	{
		array_destroy(partners);
		return FALSE;
	}

	remotes = remote_ranges(rec);
	ranges = tunnel_array_create(sizeof(range), array_count(partners));
	for (i = 0; i < array_count(partners); i++)
	{
		array_get(partners, i, &map);
		range[0] = map->remote;
		range[1] = remote_last(map);
		array_insert(ranges, ARRAY_TAIL, range);
		len = strlen(keys);
		snprintf(keys + len, sizeof(keys) - len, "%smappings.%s.remote",
				 i ? (i + 1 == array_count(partners) ? " or " : ", ") : "",
				 map->name);
		bd.map = map;
		n = array_count(blocks);
		for (j = 0; j < array_count(remotes); j++)
		{
			array_get(remotes, j, sel);
			if (sel[0] <= range[1] && range[0] <= sel[1])
			{
				tunnel_range_to_prefixes(max(sel[0], range[0]),
										 min(sel[1], range[1]), add_block, &bd);
			}
		}
		if (n == array_count(blocks) && log)
		{
			tunnel_range_str(rbuf, sizeof(rbuf), range[0], range[1]);
			DBG1(DBG_CHD, "tunnel-nat: negotiated remote traffic selectors of "
				 "CHILD_SA %s{%u} do not overlap mappings.%s.remote = %s, "
				 "partner-side mapping not applied", rec->name, id, map->name,
				 rbuf);
		}
	}
	if (log)
	{
		covered = merge_ranges(ranges);
		log_uncovered(rec, id, remotes, covered, keys);
		array_destroy(covered);
	}
	array_destroy(ranges);
	array_destroy(remotes);
	array_destroy(partners);
	return TRUE;
}

/*
 * Described in header
 */
void tunnel_nat_sa_partner_elems(tunnel_nat_sa_t *rec, uint32_t id,
								 array_t *blocks, uint16_t zone,
								 array_t *elems)
{
	tunnel_nat_block_t block;
	tunnel_nat_elem_t *elem;
	char comment[TUNNEL_NAT_COMMENT_LEN];
	uint32_t last;
	u_int i;

	for (i = 0; i < array_count(blocks); i++)
	{
		array_get(blocks, i, &block);
		snprintf(comment, sizeof(comment), "%s %s{%u}", block.map->name,
				 rec->name, id);
		if (i == 0)
		{	/* per CHILD_SA, named after its first mapping */
			elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_PZONE, comment);
			elem->bind = rec->reqid;
			elem->value = zone;
			elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_PMARK, comment);
			elem->bind = rec->reqid;
			elem->value = rec->mark_in.value;
		}
		last = ~tunnel_mask(block.len);

		elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_AZONE, comment);
		elem->dst_from = block.alias;
		elem->dst_to = block.alias | last;
		elem->len = block.len;
		elem->value = zone;

		elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_AMARK, comment);
		elem->dst_from = block.alias;
		elem->dst_to = block.alias | last;
		elem->len = block.len;
		elem->value = rec->mark_out.value;

		elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_ADNAT, comment);
		elem->dst_from = block.alias;
		elem->dst_to = block.alias | last;
		elem->len = block.len;
		elem->nat_from = block.remote;
		elem->nat_to = block.remote | last;

		elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_PSNAT, comment);
		elem->bind = rec->mark_in.value;
		elem->src_from = block.remote;
		elem->src_to = block.remote | last;
		elem->len = block.len;
		elem->nat_from = block.alias;
		elem->nat_to = block.alias | last;
	}
}
