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

#include "tunnel_nat_zones.h"

#include <utils/debug.h>
#include <collections/hashtable.h>

typedef struct private_tunnel_nat_zones_t private_tunnel_nat_zones_t;

/**
 * Private data of a tunnel_nat_zones_t object.
 */
struct private_tunnel_nat_zones_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_zones_t public;

	/**
	 * Zone by name of the CHILD_SA config (owned key), as uintptr_t
	 */
	hashtable_t *zones;

	/**
	 * uint16_t, zones retired and not yet released
	 */
	array_t *retired;
};

METHOD(tunnel_nat_zones_t, get, uint16_t,
	private_tunnel_nat_zones_t *this, const char *child)
{
	return (uintptr_t)this->zones->get(this->zones, child);
}

METHOD(tunnel_nat_zones_t, get_count, u_int,
	private_tunnel_nat_zones_t *this)
{
	return this->zones->get_count(this->zones);
}

METHOD(tunnel_nat_zones_t, get_retired, array_t*,
	private_tunnel_nat_zones_t *this)
{
	return this->retired;
}

METHOD(tunnel_nat_zones_t, release, void,
	private_tunnel_nat_zones_t *this)
{
	array_destroy(this->retired);
	this->retired = array_create(sizeof(uint16_t), 0);
}

METHOD(tunnel_nat_zones_t, destroy, void,
	private_tunnel_nat_zones_t *this)
{
	enumerator_t *enumerator;
	char *key;

	enumerator = this->zones->create_enumerator(this->zones);
	while (enumerator->enumerate(enumerator, &key, NULL))
	{
		free(key);
	}
	enumerator->destroy(enumerator);
	this->zones->destroy(this->zones);
	array_destroy(this->retired);
	free(this);
}

/**
 * The partner-side CHILD_SA configs of a config, in the order of their
 * first mapping, each once (borrowed names), with that mapping
 */
static array_t *partner_children(tunnel_nat_config_t *config, array_t **maps)
{
	tunnel_nat_mapping_t *map;
	array_t *children;
	char *child, *seen;
	u_int i, j;

	children = array_create(0, 0);
	*maps = array_create(0, 0);
	for (i = 0; i < array_count(config->mappings); i++)
	{
		array_get(config->mappings, i, &map);
		if (!map->has_partner || !array_get(map->children, 0, &child))
		{
			continue;
		}
		for (j = 0; j < array_count(children); j++)
		{
			array_get(children, j, &seen);
			if (streq(seen, child))
			{
				break;
			}
		}
		if (j == array_count(children))
		{
			array_insert(children, ARRAY_TAIL, child);
			array_insert(*maps, ARRAY_TAIL, map);
		}
	}
	return children;
}

/**
 * Retire the zones of prev that this does not keep, with those prev had
 * retired; mark those within the range in used
 */
static void retire(private_tunnel_nat_zones_t *this,
				   private_tunnel_nat_zones_t *prev,
				   tunnel_nat_config_t *config, uint8_t *used)
{
	enumerator_t *enumerator;
	uintptr_t zone;
	uint16_t z;
	char *child;
	u_int i;

	for (i = 0; i < array_count(prev->retired); i++)
	{
		array_get(prev->retired, i, &z);
		array_insert(this->retired, ARRAY_TAIL, &z);
	}
	enumerator = prev->zones->create_enumerator(prev->zones);
	while (enumerator->enumerate(enumerator, &child, &zone))
	{
		if (this->zones->get(this->zones, child) != (void*)zone)
		{
			z = zone;
			array_insert(this->retired, ARRAY_TAIL, &z);
		}
	}
	enumerator->destroy(enumerator);
	for (i = 0; i < array_count(this->retired); i++)
	{
		array_get(this->retired, i, &z);
		if (z >= config->zone_first && z <= config->zone_last)
		{
			used[z - config->zone_first] = 1;
		}
	}
}

/*
 * Described in header
 */
tunnel_nat_zones_t *tunnel_nat_zones_assign(tunnel_nat_zones_t *prev,
											tunnel_nat_config_t *config,
											bool log)
{
	private_tunnel_nat_zones_t *this;
	tunnel_nat_mapping_t *map;
	array_t *children, *maps;
	uint8_t *used;
	uint16_t zone;
	u_int size, i, next = 0;
	char *child;

	INIT(this,
		.public = {
			.get = _get,
			.get_count = _get_count,
			.get_retired = _get_retired,
			.release = _release,
			.destroy = _destroy,
		},
		.zones = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8),
		.retired = array_create(sizeof(uint16_t), 0),
	);
	children = partner_children(config, &maps);
	size = config->zone_last - config->zone_first + 1;
	used = calloc(size, 1);

	/* first the configs that keep their zone */
	for (i = 0; prev && i < array_count(children); i++)
	{
		array_get(children, i, &child);
		zone = prev->get(prev, child);
		if (zone && zone >= config->zone_first && zone <= config->zone_last)
		{
			used[zone - config->zone_first] = 1;
			this->zones->put(this->zones, strdup(child),
							 (void*)(uintptr_t)zone);
		}
	}
	/* the zones of configs that left, and of those that got another (when
	 * partner_zones changed), are not given to others until released */
	if (prev)
	{
		retire(this, (private_tunnel_nat_zones_t*)prev, config, used);
	}
	/* then the lowest free zones for the others */
	for (i = 0; i < array_count(children); i++)
	{
		array_get(children, i, &child);
		if (this->zones->get(this->zones, child))
		{
			continue;
		}
		while (next < size && used[next])
		{
			next++;
		}
		if (next == size)
		{
			array_get(maps, i, &map);
			if (log)
			{
				DBG1(DBG_CFG, "tunnel-nat: partner_zones = '%u-%u': no "
					 "conntrack zone left for CHILD_SA config '%s' "
					 "(mappings.%s): %u zones for %u partner-side CHILD_SA "
					 "configs", config->zone_first, config->zone_last, child,
					 map->name, size, array_count(children));
			}
			free(used);
			array_destroy(children);
			array_destroy(maps);
			destroy(this);
			return NULL;
		}
		used[next] = 1;
		zone = config->zone_first + next;
		this->zones->put(this->zones, strdup(child), (void*)(uintptr_t)zone);
		if (log)
		{
			DBG1(DBG_CFG, "tunnel-nat: partner %s: conntrack zone %u", child,
				 zone);
		}
	}
	free(used);
	array_destroy(children);
	array_destroy(maps);
	return &this->public;
}

/*
 * Described in header
 */
tunnel_nat_zones_t *tunnel_nat_zones_prepare(tunnel_nat_zones_t *prev,
											 tunnel_nat_config_t *config,
											 const char *why_not, bool log)
{
	tunnel_nat_zones_t *zones;

	if (why_not)
	{
		config->refuse_partners(config, why_not, log);
	}
	zones = tunnel_nat_zones_assign(prev, config, log);
	if (!zones)
	{
		config->refuse_partners(config, "no conntrack zone for its CHILD_SA "
								"config in partner_zones (see above)", log);
		zones = tunnel_nat_zones_assign(prev, config, log);
	}
	return zones;
}

/*
 * Described in header
 */
array_t *tunnel_nat_zones_elems(tunnel_nat_zones_t *zones,
								tunnel_nat_config_t *config,
								tunnel_nat_sa_t *sa, uint32_t id, bool log)
{
	array_t *elems, *blocks;
	uint16_t zone;

	elems = tunnel_nat_sa_elems(config, sa, id, log);
	zone = zones->get(zones, sa->name);
	if (!elems || !zone)
	{
		return elems;
	}
	blocks = array_create(sizeof(tunnel_nat_block_t), 0);
	if (tunnel_nat_sa_partner(config, sa, id, config->route_mask, log, blocks))
	{
		tunnel_nat_sa_partner_elems(sa, id, blocks, zone, elems);
	}
	array_destroy(blocks);
	return elems;
}

static int owner_sort(const void *a, const void *b, void *user)
{
	const tunnel_nat_ct_owner_t *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

/*
 * Described in header
 */
array_t *tunnel_nat_zones_owners(tunnel_nat_zones_t *zones,
								 tunnel_nat_config_t *config)
{
	tunnel_nat_mapping_t *map;
	tunnel_nat_ct_owner_t owner;
	array_t *owners;
	char *child;
	u_int i;

	owners = array_create(sizeof(tunnel_nat_ct_owner_t), 0);
	for (i = 0; i < array_count(config->mappings); i++)
	{
		array_get(config->mappings, i, &map);
		if (!map->has_partner ||
			array_get(map->children, ARRAY_HEAD, &child) != TRUE)
		{
			continue;
		}
		owner = (tunnel_nat_ct_owner_t){
			.from = map->alias,
			.to = map->alias | (map->partnerlen ?
								0xffffffff >> map->partnerlen : 0xffffffff),
			.zone = zones->get(zones, child),
		};
		if (owner.zone)
		{
			array_insert(owners, ARRAY_TAIL, &owner);
		}
	}
	array_sort(owners, owner_sort, NULL);
	return owners;
}
