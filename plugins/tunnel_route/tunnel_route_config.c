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

#include "tunnel_route_config.h"

#include <errno.h>
#include <stdlib.h>

#include <utils/debug.h>
#include <collections/hashtable.h>
#include <tunnel_util.h>
#include <tunnel_nat_config.h>

/**
 * Top-level keys (load is charon's own)
 */
static const char *plugin_keys[] = {
	"load", "table", "priority", "mark", "bypass_mark", "protocol", "nft_table",
	"fail_closed", "refresh_interval", "guard_timeout", "tunnel_nat_sources", "latency_log",
	"ha_takeover_rekey",
};

typedef struct private_tunnel_route_config_t private_tunnel_route_config_t;

/**
 * Private data of a tunnel_route_config_t object.
 */
struct private_tunnel_route_config_t {

	/**
	 * Public interface.
	 */
	tunnel_route_config_t public;

	/**
	 * child name (char*, owned) => array_t of tunnel_route_range_t*
	 */
	hashtable_t *sources;

	/**
	 * References held
	 */
	refcount_t ref;
};

/**
 * Add a source range to a child, merging nothing: duplicates are harmless
 */
static void add_source(private_tunnel_route_config_t *this, const char *child,
					   uint32_t from, uint32_t to)
{
	tunnel_route_range_t *range;
	array_t *list;

	list = this->sources->get(this->sources, child);
	if (!list)
	{
		list = array_create(0, 2);
		this->sources->put(this->sources, strdup(child), list);
	}
	INIT(range,
		.from = from,
		.to = to,
	);
	array_insert(list, ARRAY_TAIL, range);
}

/**
 * Sources from tunnel-nat's mappings: their private prefixes, whose traffic
 * tunnel-nat translates to P, and P itself, for the gateway's own traffic
 */
static void load_nat_sources(private_tunnel_route_config_t *this,
							 settings_t *settings, const char *ns)
{
	tunnel_nat_config_t *nat;
	tunnel_nat_mapping_t *map;
	tunnel_nat_forward_t *fwd;
	enumerator_t *children;
	char *child;
	u_int i, j;

	/* tunnel-nat logs its own errors */
	nat = tunnel_nat_config_load(settings, ns, FALSE);
	if (!nat)
	{
		return;
	}
	for (i = 0; i < array_count(nat->mappings); i++)
	{
		array_get(nat->mappings, i, &map);
		children = array_create_enumerator(map->children);
		while (children->enumerate(children, &child))
		{
			if (map->has_private)
			{
				add_source(this, child, map->priv,
						   map->priv | ~tunnel_mask(map->privlen));
			}
			for (j = 0; j < array_count(map->forwards); j++)
			{	/* replies of a port forward leave from its host */
				array_get(map->forwards, j, &fwd);
				add_source(this, child, fwd->host, fwd->host);
			}
			add_source(this, child, map->pub,
					   map->pub | ~tunnel_mask(map->prefixlen));
		}
		children->destroy(children);
	}
	nat->destroy(nat);
}

/**
 * Sources listed in children.<child>.sources
 */
static void load_own_sources(private_tunnel_route_config_t *this,
							 settings_t *settings, const char *ns)
{
	enumerator_t *enumerator, *keys, *tokens;
	char *child, *key, *value, *token;
	const char *err;
	uint32_t addr;
	uint8_t len;

	enumerator = settings->create_section_enumerator(settings,
							"%s.plugins.tunnel-route.children", ns);
	while (enumerator->enumerate(enumerator, &child))
	{
		keys = settings->create_key_value_enumerator(settings,
							"%s.plugins.tunnel-route.children.%s", ns, child);
		while (keys->enumerate(keys, &key, &value))
		{
			if (!streq(key, "sources"))
			{
				DBG1(DBG_CFG, "tunnel-route: unknown key children.%s.%s = "
					 "'%s' ignored", child, key, value);
				this->public.errors++;
				continue;
			}
			tokens = enumerator_create_token(value, ",", " \t");
			while (tokens->enumerate(tokens, &token))
			{
				err = tunnel_parse_prefix(token, &addr, &len);
				if (err)
				{
					DBG1(DBG_CFG, "tunnel-route: children.%s.sources = '%s': "
						 "'%s' is invalid: %s; skipped", child, value, token,
						 err);
					this->public.errors++;
					continue;
				}
				add_source(this, child, addr, addr | ~tunnel_mask(len));
			}
			tokens->destroy(tokens);
		}
		keys->destroy(keys);
	}
	enumerator->destroy(enumerator);
}

METHOD(tunnel_route_config_t, get_sources, array_t*,
	private_tunnel_route_config_t *this, const char *child)
{
	return this->sources->get(this->sources, child);
}

CALLBACK(filter_names, bool,
	void *data, enumerator_t *orig, va_list args)
{
	const char **name;
	array_t *list;
	char *key;

	VA_ARGS_VGET(args, name);
	if (orig->enumerate(orig, &key, &list))
	{
		*name = key;
		return TRUE;
	}
	return FALSE;
}

METHOD(tunnel_route_config_t, create_child_enumerator, enumerator_t*,
	private_tunnel_route_config_t *this)
{
	return enumerator_create_filter(
					this->sources->create_enumerator(this->sources),
					filter_names, NULL, NULL);
}

CALLBACK(source_lists, enumerator_t*,
	array_t *list, void *data)
{
	return array_create_enumerator(list);
}

CALLBACK(filter_lists, bool,
	void *data, enumerator_t *orig, va_list args)
{
	array_t **out;
	array_t *list;

	VA_ARGS_VGET(args, out);
	if (orig->enumerate(orig, NULL, &list))
	{
		*out = list;
		return TRUE;
	}
	return FALSE;
}

METHOD(tunnel_route_config_t, create_source_enumerator, enumerator_t*,
	private_tunnel_route_config_t *this)
{
	return enumerator_create_nested(
				enumerator_create_filter(
					this->sources->create_enumerator(this->sources),
					filter_lists, NULL, NULL),
				source_lists, NULL, NULL);
}

CALLBACK(destroy_sources, void,
	array_t *list, const void *key)
{
	array_destroy_function(list, (void*)free, NULL);
	free((void*)key);
}

METHOD(tunnel_route_config_t, get_ref, tunnel_route_config_t*,
	private_tunnel_route_config_t *this)
{
	ref_get(&this->ref);
	return &this->public;
}

METHOD(tunnel_route_config_t, destroy, void,
	private_tunnel_route_config_t *this)
{
	if (!ref_put(&this->ref))
	{
		return;
	}
	this->sources->destroy_function(this->sources, destroy_sources);
	free(this->public.nft_table);
	free(this);
}

/*
 * Described in header
 */
bool tunnel_route_config_mark_matches(tunnel_route_config_t *config,
									  uint32_t value, uint32_t mask)
{
	if (!mask)
	{
		return TRUE;
	}
	return !(mask & ~config->mask) && (config->mark & mask) == value;
}

/*
 * Described in header
 */
tunnel_route_config_t *tunnel_route_config_load(settings_t *settings,
												const char *ns)
{
	private_tunnel_route_config_t *this;
	enumerator_t *enumerator;
	char *key, *value, *str;
	uint32_t table, prio, mark, mask, bypass, bmask, proto, sw_table, sw_prio;
	bool known;
	int i;

	str = settings->get_str(settings, "%s.plugins.tunnel-route.table", NULL, ns);
	table = TUNNEL_ROUTE_DEFAULT_TABLE;
	if (str && !tunnel_parse_u32(str, 1, 0xffffffff, &table))
	{
		DBG1(DBG_CFG, "tunnel-route: table = '%s' is invalid: give a routing "
			 "table id from 1 to 4294967295", str);
		return NULL;
	}
	sw_table = settings->get_int(settings, "%s.routing_table", 220, ns);
	if (table == 253 || table == 254 || table == 255 || table == sw_table)
	{
		DBG1(DBG_CFG, "tunnel-route: table = '%u' is invalid: %s", table,
			 table == sw_table ? "it is strongSwan's own routing table "
			 "(charon.routing_table)" : "it is one of the kernel's tables "
			 "(default, main, local)");
		return NULL;
	}
	str = settings->get_str(settings, "%s.plugins.tunnel-route.priority", NULL, ns);
	prio = TUNNEL_ROUTE_DEFAULT_PRIORITY;
	sw_prio = settings->get_int(settings, "%s.routing_table_prio", 220, ns);
	if ((str && !tunnel_parse_u32(str, 1, 32765, &prio)) || prio == sw_prio)
	{
		DBG1(DBG_CFG, "tunnel-route: priority = '%s' is invalid: give a rule "
			 "priority from 1 to 32765 other than strongSwan's own "
			 "(charon.routing_table_prio = %u)", str ?: "", sw_prio);
		return NULL;
	}
	str = settings->get_str(settings, "%s.plugins.tunnel-route.mark", NULL, ns);
	mark = TUNNEL_ROUTE_DEFAULT_MARK;
	mask = TUNNEL_ROUTE_DEFAULT_MASK;
	if (str && !tunnel_parse_mark(str, &mark, &mask))
	{
		DBG1(DBG_CFG, "tunnel-route: mark = '%s' is invalid: give VALUE or "
			 "VALUE/MASK, non-zero, with no bit of VALUE outside MASK", str);
		return NULL;
	}
	str = settings->get_str(settings, "%s.plugins.tunnel-route.bypass_mark",
							NULL, ns);
	bypass = TUNNEL_ROUTE_DEFAULT_BYPASS_MARK;
	bmask = mask;
	if ((str && !tunnel_parse_mark(str, &bypass, &bmask)) || (bypass & ~mask) ||
		bypass == mark)
	{
		DBG1(DBG_CFG, "tunnel-route: bypass_mark = '%s' is invalid: give a "
			 "non-zero VALUE within the mask of mark (0x%x) and other than "
			 "mark (0x%x)", str ?: "", mask, mark);
		return NULL;
	}
	str = settings->get_str(settings, "%s.plugins.tunnel-route.protocol", NULL, ns);
	proto = TUNNEL_ROUTE_DEFAULT_PROTOCOL;
	if (str && !tunnel_parse_u32(str, 5, 255, &proto))
	{
		DBG1(DBG_CFG, "tunnel-route: protocol = '%s' is invalid: give a "
			 "routing protocol number from 5 to 255 (0 to 4 are the "
			 "kernel's)", str);
		return NULL;
	}
	str = settings->get_str(settings, "%s.plugins.tunnel-route.nft_table",
							TUNNEL_ROUTE_DEFAULT_NFT_TABLE, ns);
	if (!tunnel_nft_name_valid(str))
	{
		DBG1(DBG_CFG, "tunnel-route: nft_table = '%s' is invalid: use 1 to 64 "
			 "letters, digits or '_', starting with a letter", str);
		return NULL;
	}

	INIT(this,
		.public = {
			.table = table,
			.priority = prio,
			.mark = mark,
			.mask = mask,
			.bypass_mark = bypass,
			.protocol = proto,
			.nft_table = strdup(str),
			.fail_closed = settings->get_bool(settings,
							"%s.plugins.tunnel-route.fail_closed", TRUE, ns),
			.refresh = settings->get_int(settings,
							"%s.plugins.tunnel-route.refresh_interval",
							TUNNEL_ROUTE_DEFAULT_REFRESH, ns),
			.guard_timeout = settings->get_int(settings,
							"%s.plugins.tunnel-route.guard_timeout",
							TUNNEL_ROUTE_DEFAULT_GUARD_TIMEOUT, ns),
			.ha_takeover_rekey = settings->get_bool(settings,
							"%s.plugins.tunnel-route.ha_takeover_rekey", TRUE, ns),
			.get_sources = _get_sources,
			.create_child_enumerator = _create_child_enumerator,
			.create_source_enumerator = _create_source_enumerator,
			.get_ref = _get_ref,
			.destroy = _destroy,
		},
		.sources = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8),
		.ref = 1,
	);

	enumerator = settings->create_key_value_enumerator(settings,
							"%s.plugins.tunnel-route", ns);
	while (enumerator->enumerate(enumerator, &key, &value))
	{
		known = FALSE;
		for (i = 0; i < countof(plugin_keys); i++)
		{
			known = known || streq(key, plugin_keys[i]);
		}
		if (!known)
		{
			DBG1(DBG_CFG, "tunnel-route: unknown key %s = '%s' ignored", key,
				 value);
			this->public.errors++;
		}
	}
	enumerator->destroy(enumerator);
	enumerator = settings->create_section_enumerator(settings,
							"%s.plugins.tunnel-route", ns);
	while (enumerator->enumerate(enumerator, &key))
	{
		if (!streq(key, "children"))
		{
			DBG1(DBG_CFG, "tunnel-route: unknown section %s ignored", key);
			this->public.errors++;
		}
	}
	enumerator->destroy(enumerator);

	if (settings->get_bool(settings, "%s.plugins.tunnel-route.tunnel_nat_sources",
						   TRUE, ns))
	{
		load_nat_sources(this, settings, ns);
	}
	load_own_sources(this, settings, ns);
	return &this->public;
}
