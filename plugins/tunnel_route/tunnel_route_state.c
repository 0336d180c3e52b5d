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

#include "tunnel_route_state.h"

#include <stdio.h>

#include <tunnel_util.h>

typedef struct private_tunnel_route_state_t private_tunnel_route_state_t;

/**
 * A destination prefix in the plugin's routing table.
 */
typedef struct {
	/** prefix and installed route, first member: the hash key */
	tunnel_route_dest_t public;
	/** children that list it as a destination */
	u_int known;
	/** up_t*, CHILD_SAs that route it, the first one wins */
	array_t *ups;
	/** collected in the current change */
	bool touched;
} dest_t;

/**
 * A CHILD_SA routing a destination.
 */
typedef struct {
	uint32_t sa;
	tunnel_route_target_t target;
} up_t;

/**
 * A CHILD_SA config with sources.
 */
typedef struct {
	char *name;
	/** known_t*, its known destination ranges: configured or negotiated */
	hashtable_t *known;
	/** tunnel_route_range_t*, the configured ones, sorted */
	array_t *configured;
	/** sa_t* of its installed CHILD_SAs (owned by the sas hashtable) */
	array_t *sas;
} child_t;

/**
 * A known destination range of a child, with the number of reasons to know
 * it (its config, and each CHILD_SA that negotiated it), so that a CHILD_SA
 * event costs the same whatever the number of CHILD_SAs of the child.
 */
typedef struct {
	tunnel_route_range_t range;
	u_int refs;
} known_t;

/**
 * An installed CHILD_SA.
 */
typedef struct {
	uint32_t id;
	/** name of its config */
	char *child;
	/** dest_t* it routes */
	array_t *dests;
	/** tunnel_route_range_t*, negotiated remote ranges */
	array_t *ranges;
} sa_t;

/**
 * Private data of a tunnel_route_state_t object.
 */
struct private_tunnel_route_state_t {

	/**
	 * Public interface.
	 */
	tunnel_route_state_t public;

	/**
	 * Settings in use, not owned
	 */
	tunnel_route_config_t *config;

	/**
	 * dest_t, by prefix
	 */
	hashtable_t *dests;

	/**
	 * child_t, by name
	 */
	hashtable_t *children;

	/**
	 * sa_t, by unique id
	 */
	hashtable_t *sas;

	/**
	 * The pairs of the nftables sets
	 */
	tunnel_route_pairs_t *pairs;

	/**
	 * The change being built: dest_t* touched (the pairs keep their own)
	 */
	array_t *touched_dests;
};

static u_int dest_hash(const void *key)
{
	const tunnel_route_dest_t *d = key;
	uint64_t v = ((uint64_t)d->net << 8) | d->len;

	return chunk_hash(chunk_from_thing(v));
}

static bool dest_equals(const void *a, const void *b)
{
	const tunnel_route_dest_t *x = a, *y = b;

	return x->net == y->net && x->len == y->len;
}

/*
 * Described in header
 */
bool tunnel_route_target_equals(tunnel_route_target_t *a,
								tunnel_route_target_t *b)
{
	return a->prohibit == b->prohibit && a->oif == b->oif && a->gw == b->gw;
}

/*
 * Described in header
 */
bool tunnel_route_target_none(tunnel_route_target_t *t)
{
	return !t->prohibit && !t->oif;
}

static void touch(private_tunnel_route_state_t *this, dest_t *dest)
{
	if (!dest->touched)
	{
		dest->touched = TRUE;
		array_insert(this->touched_dests, ARRAY_TAIL, dest);
	}
}

/**
 * Get (or create) a destination
 */
static dest_t *get_dest(private_tunnel_route_state_t *this, uint32_t net,
						uint8_t len)
{
	tunnel_route_dest_t key = { .net = net, .len = len };
	dest_t *dest;

	dest = this->dests->get(this->dests, &key);
	if (!dest)
	{
		INIT(dest,
			.public = {
				.net = net,
				.len = len,
			},
			.ups = array_create(0, 1),
		);
		this->dests->put(this->dests, &dest->public, dest);
	}
	return dest;
}

typedef struct {
	private_tunnel_route_state_t *this;
	array_t *dests;
} prefix_ctx_t;

static void collect_prefix(prefix_ctx_t *ctx, uint32_t net, uint8_t len)
{
	array_insert(ctx->dests, ARRAY_TAIL, get_dest(ctx->this, net, len));
}

/**
 * The destinations (prefixes) of a list of ranges
 */
static array_t *ranges_to_dests(private_tunnel_route_state_t *this,
								array_t *ranges)
{
	tunnel_route_range_t *range;
	prefix_ctx_t ctx = { .this = this, .dests = array_create(0, 2) };
	u_int i;

	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, &range);
		tunnel_range_to_prefixes(range->from, range->to,
								 (void*)collect_prefix, &ctx);
	}
	return ctx.dests;
}

/**
 * Take a reference on a pair, or drop one
 */
static void pair_ref(tunnel_route_pairs_t *pairs, bool bypass,
					 tunnel_route_range_t *src, tunnel_route_range_t *dst,
					 const char *child, bool ref)
{
	if (ref)
	{
		pairs->ref(pairs, bypass, src, dst, child);
	}
	else
	{
		pairs->unref(pairs, bypass, src, dst);
	}
}

/**
 * Pairs of a child's sources (in a config) and a destination range, and of
 * any source and that range (bypass)
 */
static void range_pairs(private_tunnel_route_state_t *this,
						tunnel_route_config_t *config, child_t *child,
						tunnel_route_range_t *dst, bool ref)
{
	tunnel_route_range_t *src, any = { .from = 0, .to = 0xffffffff };
	array_t *sources;
	u_int i;

	sources = config->get_sources(config, child->name);
	for (i = 0; sources && i < array_count(sources); i++)
	{
		array_get(sources, i, &src);
		pair_ref(this->pairs, FALSE, src, dst, child->name, ref);
	}
	pair_ref(this->pairs, TRUE, &any, dst, child->name, ref);
}

static u_int known_hash(const void *key)
{
	return chunk_hash(chunk_create((u_char*)key, sizeof(tunnel_route_range_t)));
}

static bool known_equals(const void *a, const void *b)
{
	return tunnel_route_range_cmp(a, b, NULL) == 0;
}

/**
 * Mark the destinations of a range as known (or no longer)
 */
static void range_dests(private_tunnel_route_state_t *this,
						tunnel_route_range_t *range, int delta)
{
	prefix_ctx_t ctx = { .this = this, .dests = array_create(0, 2) };
	dest_t *dest;
	u_int i;

	tunnel_range_to_prefixes(range->from, range->to,
							 (void*)collect_prefix, &ctx);
	for (i = 0; i < array_count(ctx.dests); i++)
	{
		array_get(ctx.dests, i, &dest);
		dest->known += delta;
		touch(this, dest);
	}
	array_destroy(ctx.dests);
}

/**
 * A child knows a destination range for one more reason
 */
static void known_ref(private_tunnel_route_state_t *this, child_t *child,
					  tunnel_route_range_t *range)
{
	known_t *known;

	known = child->known->get(child->known, range);
	if (!known)
	{
		INIT(known,
			.range = *range,
		);
		child->known->put(child->known, &known->range, known);
	}
	if (known->refs++ == 0)
	{
		range_pairs(this, this->config, child, range, TRUE);
		range_dests(this, range, 1);
	}
}

/**
 * A child knows a destination range for one reason less
 */
static void known_unref(private_tunnel_route_state_t *this, child_t *child,
						tunnel_route_range_t *range)
{
	known_t *known;

	known = child->known->get(child->known, range);
	if (known && --known->refs == 0)
	{
		range_pairs(this, this->config, child, &known->range, FALSE);
		range_dests(this, &known->range, -1);
		child->known->remove(child->known, &known->range);
		free(known);
	}
}

/**
 * Give a child a new set of configured ranges (takes ownership)
 */
static void set_child_configured(private_tunnel_route_state_t *this,
								 child_t *child, array_t *ranges)
{
	tunnel_route_range_t *range;
	u_int i;

	if (tunnel_route_ranges_equal(child->configured, ranges))
	{
		tunnel_route_ranges_destroy(ranges);
		return;
	}
	/* new references first: what stays is never withdrawn */
	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, &range);
		known_ref(this, child, range);
	}
	for (i = 0; i < array_count(child->configured); i++)
	{
		array_get(child->configured, i, &range);
		known_unref(this, child, range);
	}
	tunnel_route_ranges_destroy(child->configured);
	child->configured = ranges;
}

static child_t *get_child(private_tunnel_route_state_t *this, const char *name)
{
	child_t *child;

	child = this->children->get(this->children, name);
	if (!child)
	{
		INIT(child,
			.name = strdup(name),
			.known = hashtable_create(known_hash, known_equals, 4),
			.configured = array_create(0, 2),
			.sas = array_create(0, 1),
		);
		this->children->put(this->children, child->name, child);
	}
	return child;
}

/**
 * What a destination's route should be
 */
static tunnel_route_target_t desired(private_tunnel_route_state_t *this,
									 dest_t *dest)
{
	up_t *up;

	if (array_get(dest->ups, ARRAY_HEAD, &up))
	{
		return up->target;
	}
	if (dest->known && this->config->fail_closed)
	{
		return (tunnel_route_target_t){ .prohibit = TRUE };
	}
	return (tunnel_route_target_t){};
}

METHOD(tunnel_route_state_t, set_config, void,
	private_tunnel_route_state_t *this, tunnel_route_config_t *config)
{
	enumerator_t *children, *known;
	child_t *child;
	known_t *k;

	if (this->config)
	{
		/* the pairs of every known destination under the new sources: new
		 * references first, so that what stays is never withdrawn */
		children = this->children->create_enumerator(this->children);
		while (children->enumerate(children, NULL, &child))
		{
			known = child->known->create_enumerator(child->known);
			while (known->enumerate(known, NULL, &k))
			{
				range_pairs(this, config, child, &k->range, TRUE);
				range_pairs(this, this->config, child, &k->range, FALSE);
			}
			known->destroy(known);
		}
		children->destroy(children);
	}
	this->config = config;
}

/**
 * Take an SA's routes out of the state (the change carries what to update)
 */
static void sa_remove(private_tunnel_route_state_t *this, uint32_t id)
{
	tunnel_route_range_t *range;
	child_t *child;
	dest_t *dest;
	up_t *up;
	sa_t *sa, *other;
	u_int i, j;

	sa = this->sas->remove(this->sas, (void*)(uintptr_t)id);
	if (!sa)
	{
		return;
	}
	child = this->children->get(this->children, sa->child);
	for (i = 0; child && i < array_count(child->sas); i++)
	{
		array_get(child->sas, i, &other);
		if (other == sa)
		{
			array_remove(child->sas, i, NULL);
			break;
		}
	}
	for (i = 0; child && i < array_count(sa->ranges); i++)
	{
		array_get(sa->ranges, i, &range);
		known_unref(this, child, range);
	}
	for (i = 0; i < array_count(sa->dests); i++)
	{
		array_get(sa->dests, i, &dest);
		for (j = 0; j < array_count(dest->ups); j++)
		{
			array_get(dest->ups, j, &up);
			if (up->sa == id)
			{
				array_remove(dest->ups, j, NULL);
				free(up);
				break;
			}
		}
		touch(this, dest);
	}
	array_destroy(sa->dests);
	tunnel_route_ranges_destroy(sa->ranges);
	free(sa->child);
	free(sa);
}

METHOD(tunnel_route_state_t, sa_down, void,
	private_tunnel_route_state_t *this, uint32_t id)
{
	sa_remove(this, id);
}

METHOD(tunnel_route_state_t, sa_up, bool,
	private_tunnel_route_state_t *this, uint32_t id, const char *name,
	array_t *negotiated, array_t *configured, tunnel_route_target_t *target)
{
	tunnel_route_range_t *range;
	child_t *child;
	dest_t *dest;
	up_t *up;
	sa_t *sa;
	u_int i;

	if (!this->config->get_sources(this->config, name))
	{
		tunnel_route_ranges_destroy(negotiated);
		tunnel_route_ranges_destroy(configured);
		return FALSE;
	}
	INIT(sa,
		.id = id,
		.child = strdup(name),
		.ranges = negotiated,
	);
	sa_remove(this, id);
	this->sas->put(this->sas, (void*)(uintptr_t)id, sa);
	child = get_child(this, name);
	array_insert(child->sas, ARRAY_TAIL, sa);

	/* what the config says, plus what was negotiated */
	set_child_configured(this, child, configured);
	for (i = 0; i < array_count(sa->ranges); i++)
	{
		array_get(sa->ranges, i, &range);
		known_ref(this, child, range);
	}

	if (!target)
	{	/* leave its destinations refused */
		sa->dests = array_create(0, 0);
		return TRUE;
	}
	sa->dests = ranges_to_dests(this, sa->ranges);
	for (i = 0; i < array_count(sa->dests); i++)
	{
		array_get(sa->dests, i, &dest);
		INIT(up,
			.sa = id,
			.target = *target,
		);
		array_insert(dest->ups, ARRAY_TAIL, up);
		touch(this, dest);
	}
	return TRUE;
}

METHOD(tunnel_route_state_t, has_sa, bool,
	private_tunnel_route_state_t *this, uint32_t id)
{
	return this->sas->get(this->sas, (void*)(uintptr_t)id) != NULL;
}

METHOD(tunnel_route_state_t, set_configured, void,
	private_tunnel_route_state_t *this, hashtable_t *found)
{
	enumerator_t *enumerator;
	child_t *child;
	array_t *ranges;
	char *name;

	enumerator = found->create_enumerator(found);
	while (enumerator->enumerate(enumerator, &name, &ranges))
	{
		get_child(this, name);
	}
	enumerator->destroy(enumerator);
	enumerator = this->children->create_enumerator(this->children);
	while (enumerator->enumerate(enumerator, NULL, &child))
	{
		ranges = found->get(found, child->name);
		set_child_configured(this, child, tunnel_route_ranges_copy(ranges));
	}
	enumerator->destroy(enumerator);
}

/**
 * Send the routes of touched destinations whose target changes, forget
 * those nobody needs anymore
 */
static bool commit_routes(private_tunnel_route_state_t *this,
						  tunnel_route_commit_routes_t commit, void *user)
{
	tunnel_route_update_t *updates;
	dest_t *dest, **sent;
	bool ok = TRUE;
	u_int i, n = 0, count = array_count(this->touched_dests);

	sent = calloc(count ?: 1, sizeof(*sent));
	updates = calloc(count ?: 1, sizeof(*updates));
	for (i = 0; i < count; i++)
	{
		array_get(this->touched_dests, i, &dest);
		dest->touched = FALSE;
		updates[n] = (tunnel_route_update_t){
			.net = dest->public.net,
			.len = dest->public.len,
			.from = dest->public.installed,
			.to = desired(this, dest),
		};
		if (!tunnel_route_target_equals(&updates[n].to, &updates[n].from))
		{
			sent[n++] = dest;
		}
	}
	if (n)
	{
		ok = commit(user, updates, n);
		for (i = 0; i < n; i++)
		{
			if (updates[i].acked)
			{
				sent[i]->public.installed = updates[i].to;
			}
		}
	}
	for (i = 0; i < count; i++)
	{
		array_get(this->touched_dests, i, &dest);
		if (!dest->known && !array_count(dest->ups) &&
			tunnel_route_target_none(&dest->public.installed))
		{
			this->dests->remove(this->dests, &dest->public);
			array_destroy(dest->ups);
			free(dest);
		}
	}
	free(sent);
	free(updates);
	array_destroy(this->touched_dests);
	this->touched_dests = array_create(0, 4);
	return ok;
}

METHOD(tunnel_route_state_t, commit, bool,
	private_tunnel_route_state_t *this, tunnel_route_commit_pairs_t pairs,
	tunnel_route_commit_routes_t routes, void *user)
{
	this->pairs->commit(this->pairs, pairs, user);
	return commit_routes(this, routes, user);
}

METHOD(tunnel_route_state_t, create_pair_enumerator, enumerator_t*,
	private_tunnel_route_state_t *this, bool installed)
{
	return this->pairs->create_enumerator(this->pairs, installed);
}

CALLBACK(filter_routes, bool,
	void *data, enumerator_t *orig, va_list args)
{
	tunnel_route_dest_t **out;
	dest_t *dest;

	VA_ARGS_VGET(args, out);
	while (orig->enumerate(orig, NULL, &dest))
	{
		if (!tunnel_route_target_none(&dest->public.installed))
		{
			*out = &dest->public;
			return TRUE;
		}
	}
	return FALSE;
}

METHOD(tunnel_route_state_t, create_route_enumerator, enumerator_t*,
	private_tunnel_route_state_t *this)
{
	return enumerator_create_filter(
						this->dests->create_enumerator(this->dests),
						filter_routes, NULL, NULL);
}

METHOD(tunnel_route_state_t, has_dest, bool,
	private_tunnel_route_state_t *this, uint32_t net, uint8_t len)
{
	tunnel_route_dest_t key = { .net = net, .len = len };

	return this->dests->get(this->dests, &key) != NULL;
}

METHOD(tunnel_route_state_t, get_desired, bool,
	private_tunnel_route_state_t *this, uint32_t net, uint8_t len,
	tunnel_route_target_t *target)
{
	tunnel_route_dest_t key = { .net = net, .len = len };
	dest_t *dest;

	dest = this->dests->get(this->dests, &key);
	if (!dest)
	{
		return FALSE;
	}
	*target = desired(this, dest);
	return TRUE;
}

METHOD(tunnel_route_state_t, get_pair_refs, u_int,
	private_tunnel_route_state_t *this, bool bypass, tunnel_route_range_t *src,
	tunnel_route_range_t *dst)
{
	return this->pairs->get_refs(this->pairs, bypass, src, dst);
}

METHOD(tunnel_route_state_t, get_known_refs, u_int,
	private_tunnel_route_state_t *this, const char *name,
	tunnel_route_range_t *range)
{
	child_t *child;
	known_t *known;

	child = this->children->get(this->children, name);
	known = child ? child->known->get(child->known, range) : NULL;
	return known ? known->refs : 0;
}

METHOD(tunnel_route_state_t, get_pair_count, u_int,
	private_tunnel_route_state_t *this)
{
	return this->pairs->get_count(this->pairs);
}

METHOD(tunnel_route_state_t, get_dest_count, u_int,
	private_tunnel_route_state_t *this)
{
	return this->dests->get_count(this->dests);
}

METHOD(tunnel_route_state_t, get_sa_count, u_int,
	private_tunnel_route_state_t *this)
{
	return this->sas->get_count(this->sas);
}

METHOD(tunnel_route_state_t, get_child_count, u_int,
	private_tunnel_route_state_t *this)
{
	return this->children->get_count(this->children);
}

CALLBACK(destroy_dest, void,
	dest_t *dest, const void *key)
{
	array_destroy_function(dest->ups, (void*)free, NULL);
	free(dest);
}

CALLBACK(destroy_child, void,
	child_t *child, const void *key)
{
	array_destroy(child->sas);
	child->known->destroy_function(child->known, (void*)free);
	tunnel_route_ranges_destroy(child->configured);
	free(child->name);
	free(child);
}

CALLBACK(destroy_sa, void,
	sa_t *sa, const void *key)
{
	array_destroy(sa->dests);
	tunnel_route_ranges_destroy(sa->ranges);
	free(sa->child);
	free(sa);
}

METHOD(tunnel_route_state_t, destroy, void,
	private_tunnel_route_state_t *this)
{
	array_destroy(this->touched_dests);
	this->sas->destroy_function(this->sas, destroy_sa);
	this->children->destroy_function(this->children, destroy_child);
	this->dests->destroy_function(this->dests, destroy_dest);
	this->pairs->destroy(this->pairs);
	free(this);
}

/*
 * Described in header
 */
tunnel_route_state_t *tunnel_route_state_create()
{
	private_tunnel_route_state_t *this;

	INIT(this,
		.public = {
			.set_config = _set_config,
			.sa_up = _sa_up,
			.sa_down = _sa_down,
			.has_sa = _has_sa,
			.set_configured = _set_configured,
			.commit = _commit,
			.create_pair_enumerator = _create_pair_enumerator,
			.create_route_enumerator = _create_route_enumerator,
			.has_dest = _has_dest,
			.get_desired = _get_desired,
			.get_pair_refs = _get_pair_refs,
			.get_known_refs = _get_known_refs,
			.get_pair_count = _get_pair_count,
			.get_dest_count = _get_dest_count,
			.get_sa_count = _get_sa_count,
			.get_child_count = _get_child_count,
			.destroy = _destroy,
		},
		.sas = hashtable_create(tunnel_id_hash, tunnel_id_equals, 32),
		.children = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8),
		.dests = hashtable_create(dest_hash, dest_equals, 32),
		.pairs = tunnel_route_pairs_create(),
		.touched_dests = array_create(0, 4),
	);
	return &this->public;
}
