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

#include "tunnel_nat_config.h"
#include "tunnel_nat_claims.h"
#include "tunnel_nat_partner.h"

#include <tunnel_util.h>

#include <ctype.h>
#include <net/if.h>
#include <stdlib.h>

#include <utils/debug.h>
#include <collections/hashtable.h>

/**
 * Top-level keys of the plugin's section (load is charon's own)
 */
static const char *plugin_keys[] = { "load", "table", "inbound_interface",
									  "latency_log", "conntrack",
									  "ha_takeover_rekey", "partner_zones",
									  "partner_ct_mark", "counters" };

/**
 * Log a configuration error, if logging is on
 */
#define CFG_LOG(log, fmt, ...) \
	do { if (log) { DBG1(DBG_CFG, fmt, ##__VA_ARGS__); } } while (0)

typedef struct private_tunnel_nat_config_t private_tunnel_nat_config_t;

/**
 * Private data of a tunnel_nat_config_t object.
 */
struct private_tunnel_nat_config_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_config_t public;

	/**
	 * CHILD_SA config name => array_t of tunnel_nat_mapping_t*
	 */
	hashtable_t *by_child;
};

/**
 * Check if an interface name is valid
 */
static bool valid_ifname(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len >= IFNAMSIZ)
	{
		return FALSE;
	}
	for (i = 0; i < len; i++)
	{
		if (name[i] == '/' || isspace((unsigned char)name[i]) ||
			!isprint((unsigned char)name[i]))
		{
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * Check a new mapping against the ones accepted for the same children, and
 * if it fits, record its prefixes. Linear in the number of mappings over a
 * whole load: a few hash lookups per prefix length in use (lens, a bit per
 * length) for each mapping.
 */
static bool check_conflicts(tunnel_nat_claims_t *claims,
							tunnel_nat_mapping_t *map, bool log)
{
	tunnel_nat_mapping_t *other;
	char *child;
	u_int i;

	for (i = 0; i < array_count(map->children); i++)
	{
		array_get(map->children, i, &child);
		other = map->partner_only ? NULL :
			claims->find(claims, child, 0, map->pub, map->prefixlen);
		if (other)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.public overlaps "
				 "mappings.%s.public for child '%s'; mapping '%s' skipped",
				 map->name, other->name, child, map->name);
			return FALSE;
		}
		other = map->has_private ?
			claims->find(claims, child, 1, map->priv, map->privlen) : NULL;
		if (other)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.private overlaps "
				 "mappings.%s.private for child '%s'; mapping '%s' skipped",
				 map->name, other->name, child, map->name);
			return FALSE;
		}
	}
	for (i = 0; i < array_count(map->children); i++)
	{
		array_get(map->children, i, &child);
		if (!map->partner_only)
		{
			claims->add(claims, child, 0, map->pub, map->prefixlen, map);
		}
		if (map->has_private)
		{
			claims->add(claims, child, 1, map->priv, map->privlen, map);
		}
	}
	return TRUE;
}

METHOD(tunnel_nat_config_t, create_mapping_enumerator, enumerator_t*,
	private_tunnel_nat_config_t *this, const char *child)
{
	array_t *list;

	list = this->by_child->get(this->by_child, child);
	if (!list)
	{
		return enumerator_create_empty();
	}
	return array_create_enumerator(list);
}

CALLBACK(destroy_list, void,
	array_t *list, const void *key)
{
	array_destroy(list);
}

/**
 * Remove a mapping from the per-child index
 */
static void unindex_mapping(private_tunnel_nat_config_t *this,
							tunnel_nat_mapping_t *map)
{
	tunnel_nat_mapping_t *other;
	array_t *list;
	char *child, *key;
	u_int i, j;

	for (i = 0; i < array_count(map->children); i++)
	{
		array_get(map->children, i, &child);
		list = this->by_child->remove(this->by_child, child);
		if (!list)
		{
			continue;
		}
		for (j = 0; j < array_count(list); j++)
		{
			array_get(list, j, &other);
			if (other == map)
			{
				array_remove(list, j, NULL);
				break;
			}
		}
		if (!array_count(list))
		{
			array_destroy(list);
			continue;
		}
		/* the key was owned by some mapping of the list, maybe this one:
		 * re-key the list by the first remaining mapping's copy */
		array_get(list, 0, &other);
		for (j = 0; j < array_count(other->children); j++)
		{
			array_get(other->children, j, &key);
			if (streq(key, child))
			{
				this->by_child->put(this->by_child, key, list);
				break;
			}
		}
	}
}

METHOD(tunnel_nat_config_t, refuse_partners, u_int,
	private_tunnel_nat_config_t *this, const char *why, bool log)
{
	tunnel_nat_mapping_t *map;
	char remote[20];
	u_int i = 0, refused = 0;

	while (i < array_count(this->public.mappings))
	{
		array_get(this->public.mappings, i, &map);
		if (!map->has_partner)
		{
			i++;
			continue;
		}
		CFG_LOG(log, "tunnel-nat: mappings.%s.remote = '%s': %s: mapping "
			 "'%s' skipped", map->name, tunnel_nat_partner_fmt(remote,
			 sizeof(remote), map->remote, map->partnerlen), why, map->name);
		unindex_mapping(this, map);
		array_remove(this->public.mappings, i, NULL);
		tunnel_nat_mapping_destroy(map);
		this->public.errors++;
		refused++;
	}
	return refused;
}

METHOD(tunnel_nat_config_t, destroy, void,
	private_tunnel_nat_config_t *this)
{
	this->by_child->destroy_function(this->by_child, destroy_list);
	array_destroy_function(this->public.mappings,
						   (void*)tunnel_nat_mapping_destroy, NULL);
	free(this->public.table);
	free(this->public.inbound_interface);
	free(this);
}

/**
 * Add an accepted mapping to the per-child index
 */
static void index_mapping(private_tunnel_nat_config_t *this,
						  tunnel_nat_mapping_t *map)
{
	enumerator_t *enumerator;
	array_t *list;
	char *child;

	enumerator = array_create_enumerator(map->children);
	while (enumerator->enumerate(enumerator, &child))
	{
		list = this->by_child->get(this->by_child, child);
		if (!list)
		{
			list = array_create(0, 1);
			/* the key is owned by the mapping, which outlives the index */
			this->by_child->put(this->by_child, child, list);
		}
		array_insert(list, ARRAY_TAIL, map);
	}
	enumerator->destroy(enumerator);
}

/**
 * Parse partner_zones and partner_ct_mark, FALSE if one is invalid (logged)
 */
static bool parse_partner_keys(private_tunnel_nat_config_t *this,
							   settings_t *settings, const char *ns, bool log)
{
	const char *err;
	char *value;
	bool ok = TRUE;

	value = settings->get_str(settings, "%s.plugins.tunnel-nat.partner_zones",
							  NULL, ns);
	if (value && (err = tunnel_nat_partner_parse_zones(value,
							&this->public.zone_first, &this->public.zone_last)))
	{
		CFG_LOG(log, "tunnel-nat: partner_zones = '%s' is invalid: %s", value,
			 err);
		this->public.errors++;
		ok = FALSE;
	}
	value = settings->get_str(settings, "%s.plugins.tunnel-nat.partner_ct_mark",
							  NULL, ns);
	if (value && (err = tunnel_nat_partner_parse_ct_mark(value,
												&this->public.partner_ct_mark)))
	{
		CFG_LOG(log, "tunnel-nat: partner_ct_mark = '%s' is invalid: %s", value,
			 err);
		this->public.errors++;
		ok = FALSE;
	}
	return ok;
}

/**
 * Whether partner_zones has room for the CHILD_SA config of a partner-side
 * mapping (one zone per config; zones: names of the configs counted so far)
 */
static bool zone_available(private_tunnel_nat_config_t *this, hashtable_t *zones,
						   tunnel_nat_mapping_t *map, bool log)
{
	u_int room = this->public.zone_last - this->public.zone_first + 1;
	char *child;

	if (!map->has_partner)
	{
		return TRUE;
	}
	array_get(map->children, 0, &child);
	if (zones->get(zones, child))
	{
		return TRUE;
	}
	if (zones->get_count(zones) >= room)
	{
		CFG_LOG(log, "tunnel-nat: partner_zones = '%u-%u' has room for %u "
			 "partner-side CHILD_SA configs, child '%s' of mappings.%s is one "
			 "more; mapping '%s' skipped", this->public.zone_first,
			 this->public.zone_last, room, child, map->name, map->name);
		return FALSE;
	}
	return TRUE;
}

/*
 * Described in header
 */
tunnel_nat_config_t *tunnel_nat_config_load(settings_t *settings,
											const char *ns, bool log)
{
	private_tunnel_nat_config_t *this;
	tunnel_nat_mapping_t *map;
	enumerator_t *enumerator;
	tunnel_nat_claims_t *claims;
	hashtable_t *zones;
	array_t *parsed;
	char *child;
	bool partners_ok;
	uint64_t lens = 0;
	char *key, *value, *table, *iface;
	u_int i;

	table = settings->get_str(settings, "%s.plugins.tunnel-nat.table",
							  TUNNEL_NAT_DEFAULT_TABLE, ns);
	if (!tunnel_nft_name_valid(table))
	{
		CFG_LOG(log, "tunnel-nat: table = '%s' is invalid: use 1 to 64 "
			 "letters, digits or '_', starting with a letter", table);
		return NULL;
	}
	iface = settings->get_str(settings,
							  "%s.plugins.tunnel-nat.inbound_interface", NULL, ns);
	if (iface && !*iface)
	{
		iface = NULL;
	}
	if (iface && !valid_ifname(iface))
	{
		CFG_LOG(log, "tunnel-nat: inbound_interface = '%s' is not a valid "
			 "interface name", iface);
		return NULL;
	}

	INIT(this,
		.public = {
			.table = strdup(table),
			.inbound_interface = strdupnull(iface),
			.mappings = array_create(0, 4),
			.zone_first = TUNNEL_NAT_DEFAULT_ZONE_FIRST,
			.zone_last = TUNNEL_NAT_DEFAULT_ZONE_LAST,
			.partner_ct_mark = TUNNEL_NAT_DEFAULT_PARTNER_CT_MARK,
			.counters = TRUE,
			.create_mapping_enumerator = _create_mapping_enumerator,
			.refuse_partners = _refuse_partners,
			.destroy = _destroy,
		},
		.by_child = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8),
	);

	enumerator = settings->create_key_value_enumerator(settings,
							"%s.plugins.tunnel-nat", ns);
	while (enumerator->enumerate(enumerator, &key, &value))
	{
		if (!tunnel_key_known(key, plugin_keys, countof(plugin_keys)))
		{
			CFG_LOG(log, "tunnel-nat: unknown key %s = '%s' ignored", key,
				 value);
			this->public.errors++;
		}
	}
	enumerator->destroy(enumerator);
	enumerator = settings->create_section_enumerator(settings,
							"%s.plugins.tunnel-nat", ns);
	while (enumerator->enumerate(enumerator, &key))
	{
		if (!streq(key, "mappings"))
		{
			CFG_LOG(log, "tunnel-nat: unknown section %s ignored", key);
			this->public.errors++;
		}
	}
	enumerator->destroy(enumerator);

	value = settings->get_str(settings, "%s.plugins.tunnel-nat.counters",
							  NULL, ns);
	if (value && !tunnel_parse_yes_no(value, &this->public.counters))
	{
		CFG_LOG(log, "tunnel-nat: counters = '%s' is invalid: use yes or no; "
			 "counting (yes)", value);
		this->public.errors++;
	}
	partners_ok = parse_partner_keys(this, settings, ns, log);
	this->public.partner_keys_valid = partners_ok;

	/* parse all first: the overlap checks look at the prefix lengths in use */
	parsed = array_create(0, 0);
	enumerator = settings->create_section_enumerator(settings,
							"%s.plugins.tunnel-nat.mappings", ns);
	while (enumerator->enumerate(enumerator, &key))
	{
		map = tunnel_nat_mapping_parse(settings, ns, key, log);
		if (!map)
		{
			this->public.errors++;
			continue;
		}
		if (map->has_partner && !partners_ok)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s is partner-side, and "
				 "partner_zones or partner_ct_mark is invalid (see above); "
				 "mapping '%s' skipped", key, key);
			tunnel_nat_mapping_destroy(map);
			this->public.errors++;
			continue;
		}
		lens |= tunnel_nat_partner_lens(map);
		array_insert(parsed, ARRAY_TAIL, map);
	}
	enumerator->destroy(enumerator);

	claims = tunnel_nat_claims_create(lens, 4 * array_count(parsed));
	zones = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8);
	for (i = 0; i < array_count(parsed); i++)
	{
		array_get(parsed, i, &map);
		if (!tunnel_nat_partner_check(claims, map, log) ||
			!zone_available(this, zones, map, log) ||
			!check_conflicts(claims, map, log))
		{
			tunnel_nat_mapping_destroy(map);
			this->public.errors++;
			continue;
		}
		tunnel_nat_partner_claim(claims, map);
		if (map->has_partner)
		{	/* the key is owned by the mapping, which outlives the hashtable */
			array_get(map->children, 0, &child);
			zones->put(zones, child, child);
		}
		array_insert(this->public.mappings, ARRAY_TAIL, map);
		index_mapping(this, map);
	}
	array_destroy(parsed);
	claims->destroy(claims);
	zones->destroy(zones);

	enumerator = settings->create_key_value_enumerator(settings,
							"%s.plugins.tunnel-nat.mappings", ns);
	while (enumerator->enumerate(enumerator, &key, &value))
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s = '%s' is not a mapping "
			 "section (expected mappings.NAME { child, public, private }); "
			 "ignored", key, value);
		this->public.errors++;
	}
	enumerator->destroy(enumerator);

	DBG2(DBG_CFG, "tunnel-nat: %u mappings loaded, %u settings rejected",
		 array_count(this->public.mappings), this->public.errors);
	return &this->public;
}
