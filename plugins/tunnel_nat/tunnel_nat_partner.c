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

#include "tunnel_nat_partner.h"

#include <tunnel_util.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <utils/debug.h>

/**
 * Log a configuration error, if logging is on
 */
#define CFG_LOG(log, fmt, ...) \
	do { if (log) { DBG1(DBG_CFG, fmt, ##__VA_ARGS__); } } while (0)

/**
 * Kinds of prefixes in the claim index (0 and 1 are the P side's per-child
 * public and private, see tunnel_nat_config.c). All but REMOTE_CHILD are
 * claimed in the scope "", across all CHILD_SA configs.
 */
enum {
	SIDE_ALIAS = 2,
	SIDE_PUBLIC = 3,
	SIDE_PRIVATE = 4,
	SIDE_FORWARD = 5,
	SIDE_REMOTE = 6,
	/** per CHILD_SA config */
	SIDE_REMOTE_CHILD = 7,
};

/**
 * The setting a kind of prefix comes from
 */
static const char *side_key(int side)
{
	switch (side)
	{
		case SIDE_ALIAS:
			return "alias";
		case SIDE_PUBLIC:
			return "public";
		case SIDE_PRIVATE:
			return "private";
		case SIDE_FORWARD:
			return "forward";
		default:
			return "remote";
	}
}

/*
 * Described in header
 */
char *tunnel_nat_partner_fmt(char *buf, size_t len, uint32_t net, uint8_t plen)
{
	snprintf(buf, len, "%u.%u.%u.%u/%u", net >> 24, (net >> 16) & 0xff,
			 (net >> 8) & 0xff, net & 0xff, plen);
	return buf;
}

/*
 * Described in header
 */
bool tunnel_nat_partner_parse(settings_t *settings, const char *ns,
							  tunnel_nat_mapping_t *map, bool log)
{
	char *remote, *alias, *child;
	const char *err;
	uint8_t rlen, alen;

	remote = settings->get_str(settings,
					"%s.plugins.tunnel-nat.mappings.%s.remote", NULL, ns, map->name);
	alias = settings->get_str(settings,
					"%s.plugins.tunnel-nat.mappings.%s.alias", NULL, ns, map->name);
	if (!remote && !alias)
	{
		return TRUE;
	}
	if (!remote || !alias)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.%s is missing: a partner-side "
			 "mapping needs both remote and alias (%s = '%s'); mapping '%s' "
			 "skipped", map->name, remote ? "alias" : "remote",
			 remote ? "remote" : "alias", remote ?: alias, map->name);
		return FALSE;
	}
	err = tunnel_parse_prefix(remote, &map->remote, &rlen);
	if (err)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.remote = '%s' is invalid: %s; "
			 "mapping '%s' skipped", map->name, remote, err, map->name);
		return FALSE;
	}
	err = tunnel_parse_prefix(alias, &map->alias, &alen);
	if (err)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.alias = '%s' is invalid: %s; "
			 "mapping '%s' skipped", map->name, alias, err, map->name);
		return FALSE;
	}
	if (alen != rlen)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.alias = '%s': must be the size "
			 "of remote (/%u); mapping '%s' skipped", map->name, alias, rlen,
			 map->name);
		return FALSE;
	}
	if (array_count(map->children) != 1)
	{
		child = settings->get_str(settings,
					"%s.plugins.tunnel-nat.mappings.%s.child", "", ns, map->name);
		CFG_LOG(log, "tunnel-nat: mappings.%s.child = '%s': a partner-side "
			 "mapping (remote, alias) applies to exactly one CHILD_SA config; "
			 "mapping '%s' skipped", map->name, child, map->name);
		return FALSE;
	}
	map->has_partner = TRUE;
	map->partnerlen = rlen;
	return TRUE;
}

/*
 * Described in header
 */
const char *tunnel_nat_partner_parse_zones(const char *value, uint16_t *first,
										   uint16_t *last)
{
	unsigned long a, b;
	char *end;

	if (!isdigit((unsigned char)value[0]))
	{
		return "expected FIRST-LAST, e.g. 4096-65535";
	}
	errno = 0;
	a = strtoul(value, &end, 10);
	if (errno || *end != '-' || !isdigit((unsigned char)end[1]))
	{
		return "expected FIRST-LAST, e.g. 4096-65535";
	}
	b = strtoul(end + 1, &end, 10);
	if (errno || *end)
	{
		return "expected FIRST-LAST, e.g. 4096-65535";
	}
	if (a < 1 || b > 65535 || a > b)
	{
		return "zones are 1 to 65535, FIRST not above LAST";
	}
	*first = a;
	*last = b;
	return NULL;
}

/*
 * Described in header
 */
const char *tunnel_nat_partner_parse_ct_mark(const char *value, uint32_t *mark)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)value[0]))
	{
		return "not a number";
	}
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno || *end || v > 0xffffffffULL)
	{
		return "not a 32-bit number";
	}
	if (!v || (v & (v - 1)))
	{
		return "exactly one bit must be set, e.g. 0x01000000";
	}
	*mark = v;
	return NULL;
}

/*
 * Described in header
 */
uint64_t tunnel_nat_partner_lens(tunnel_nat_mapping_t *map)
{
	uint64_t lens = 0;

	if (!map->partner_only)
	{
		lens |= 1ULL << map->prefixlen;
	}
	if (map->has_private)
	{
		lens |= 1ULL << map->privlen;
	}
	if (array_count(map->forwards))
	{
		lens |= 1ULL << 32;
	}
	if (map->has_partner)
	{
		lens |= 1ULL << map->partnerlen;
	}
	return lens;
}

/**
 * Whether two prefixes overlap (one contains the other)
 */
static bool overlap(uint32_t a, uint8_t alen, uint32_t b, uint8_t blen)
{
	uint32_t mask = tunnel_mask(min(alen, blen));

	return (a & mask) == (b & mask);
}

/**
 * Enumerate the prefixes a mapping uses besides its alias: kind, network,
 * length; FALSE when done (*i is the cursor, start at 0)
 */
static bool next_prefix(tunnel_nat_mapping_t *map, u_int *i, int *side,
						uint32_t *net, uint8_t *len)
{
	tunnel_nat_forward_t *fwd;
	u_int fwds = array_count(map->forwards);

	while (TRUE)
	{
		switch (*i)
		{
			case 0:
				(*i)++;
				if (!map->partner_only)
				{
					*side = SIDE_PUBLIC;
					*net = map->pub;
					*len = map->prefixlen;
					return TRUE;
				}
				continue;
			case 1:
				(*i)++;
				if (map->has_private)
				{
					*side = SIDE_PRIVATE;
					*net = map->priv;
					*len = map->privlen;
					return TRUE;
				}
				continue;
			case 2:
				(*i)++;
				if (map->has_partner)
				{
					*side = SIDE_REMOTE;
					*net = map->remote;
					*len = map->partnerlen;
					return TRUE;
				}
				continue;
			default:
				if (*i - 3 >= fwds)
				{
					return FALSE;
				}
				array_get(map->forwards, *i - 3, &fwd);
				(*i)++;
				*side = SIDE_FORWARD;
				*net = fwd->host;
				*len = 32;
				return TRUE;
		}
	}
}

/*
 * Described in header
 */
bool tunnel_nat_partner_check(tunnel_nat_claims_t *claims,
							  tunnel_nat_mapping_t *map, bool log)
{
	tunnel_nat_mapping_t *other;
	char a[20], b[20], *child;
	uint32_t net;
	uint8_t len;
	u_int i = 0;
	int side;

	/* whatever this mapping uses must not lie in an accepted alias */
	while (next_prefix(map, &i, &side, &net, &len))
	{
		other = claims->find(claims, "", SIDE_ALIAS, net, len);
		if (other)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.%s: '%s' overlaps "
				 "mappings.%s.alias = '%s'; mapping '%s' skipped", map->name,
				 side_key(side), tunnel_nat_partner_fmt(a, sizeof(a), net, len),
				 other->name, tunnel_nat_partner_fmt(b, sizeof(b), other->alias,
				 other->partnerlen), map->name);
			return FALSE;
		}
	}
	if (!map->has_partner)
	{
		return TRUE;
	}
	tunnel_nat_partner_fmt(a, sizeof(a), map->alias, map->partnerlen);
	/* the alias must not overlap what the mapping itself uses */
	i = 0;
	while (next_prefix(map, &i, &side, &net, &len))
	{
		if (overlap(map->alias, map->partnerlen, net, len))
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.alias = '%s' overlaps its own "
				 "%s ('%s'); mapping '%s' skipped", map->name, a,
				 side_key(side), tunnel_nat_partner_fmt(b, sizeof(b), net, len),
				 map->name);
			return FALSE;
		}
	}
	/* nor any alias or address of an accepted mapping */
	for (side = SIDE_ALIAS; side <= SIDE_REMOTE; side++)
	{
		other = claims->find(claims, "", side, map->alias, map->partnerlen);
		if (other)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.alias = '%s' overlaps "
				 "mappings.%s.%s; mapping '%s' skipped", map->name, a,
				 other->name, side_key(side), map->name);
			return FALSE;
		}
	}
	/* the remotes of one CHILD_SA config are disjoint */
	array_get(map->children, 0, &child);
	other = claims->find(claims, child, SIDE_REMOTE_CHILD, map->remote,
						 map->partnerlen);
	if (other)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.remote = '%s' overlaps "
			 "mappings.%s.remote = '%s' for child '%s': the partner-side "
			 "mappings of a CHILD_SA config need disjoint remotes; mapping '%s' "
			 "skipped", map->name,
			 tunnel_nat_partner_fmt(a, sizeof(a), map->remote, map->partnerlen),
			 other->name, tunnel_nat_partner_fmt(b, sizeof(b), other->remote,
			 other->partnerlen), child, map->name);
		return FALSE;
	}
	return TRUE;
}

/*
 * Described in header
 */
void tunnel_nat_partner_claim(tunnel_nat_claims_t *claims,
							  tunnel_nat_mapping_t *map)
{
	uint32_t net;
	uint8_t len;
	u_int i = 0;
	int side;
	char *child;

	while (next_prefix(map, &i, &side, &net, &len))
	{
		claims->add(claims, "", side, net, len, map);
	}
	if (map->has_partner)
	{
		claims->add(claims, "", SIDE_ALIAS, map->alias, map->partnerlen, map);
		array_get(map->children, 0, &child);
		claims->add(claims, child, SIDE_REMOTE_CHILD, map->remote,
					map->partnerlen, map);
	}
}
