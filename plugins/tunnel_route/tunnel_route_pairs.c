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

#include "tunnel_route_pairs.h"

#include <stdio.h>

#include <collections/hashtable.h>

typedef struct private_tunnel_route_pairs_t private_tunnel_route_pairs_t;

/**
 * A pair with its references.
 */
typedef struct {
	/** the element and its comment, first member: the hash key */
	tunnel_route_pair_t public;
	/** reasons that need it */
	u_int refs;
	/** in the kernel's set */
	bool installed;
	/** collected in the current change */
	bool touched;
} pair_t;

/**
 * Private data of a tunnel_route_pairs_t object.
 */
struct private_tunnel_route_pairs_t {

	/**
	 * Public interface.
	 */
	tunnel_route_pairs_t public;

	/**
	 * pair_t, by key
	 */
	hashtable_t *pairs;

	/**
	 * pair_t*, touched in the change being built
	 */
	array_t *touched;
};

static u_int pair_hash(const void *key)
{
	const tunnel_route_pair_t *p = key;
	uint32_t v[] = { p->src.from, p->src.to, p->dst.from, p->dst.to,
					 p->bypass };

	return chunk_hash(chunk_create((u_char*)v, sizeof(v)));
}

static bool pair_equals(const void *a, const void *b)
{
	const tunnel_route_pair_t *x = a, *y = b;

	return x->bypass == y->bypass &&
		   x->src.from == y->src.from && x->src.to == y->src.to &&
		   x->dst.from == y->dst.from && x->dst.to == y->dst.to;
}

static void touch(private_tunnel_route_pairs_t *this, pair_t *pair)
{
	if (!pair->touched)
	{
		pair->touched = TRUE;
		array_insert(this->touched, ARRAY_TAIL, pair);
	}
}

static pair_t *get(private_tunnel_route_pairs_t *this, bool bypass,
				   tunnel_route_range_t *src, tunnel_route_range_t *dst)
{
	tunnel_route_pair_t key = { .bypass = bypass, .src = *src, .dst = *dst };

	return this->pairs->get(this->pairs, &key);
}

METHOD(tunnel_route_pairs_t, ref, void,
	private_tunnel_route_pairs_t *this, bool bypass, tunnel_route_range_t *src,
	tunnel_route_range_t *dst, const char *child)
{
	pair_t *pair;

	pair = get(this, bypass, src, dst);
	if (!pair)
	{
		INIT(pair,
			.public = {
				.bypass = bypass,
				.src = *src,
				.dst = *dst,
			},
		);
		snprintf(pair->public.comment, sizeof(pair->public.comment),
				 "child %s", child);
		this->pairs->put(this->pairs, &pair->public, pair);
	}
	pair->refs++;
	touch(this, pair);
}

METHOD(tunnel_route_pairs_t, unref, void,
	private_tunnel_route_pairs_t *this, bool bypass, tunnel_route_range_t *src,
	tunnel_route_range_t *dst)
{
	pair_t *pair;

	pair = get(this, bypass, src, dst);
	if (pair && pair->refs)
	{
		pair->refs--;
		touch(this, pair);
	}
}

METHOD(tunnel_route_pairs_t, commit, void,
	private_tunnel_route_pairs_t *this, tunnel_route_commit_pairs_t commit,
	void *user)
{
	array_t *add, *del;
	pair_t *pair;
	u_int i;

	add = array_create(0, 4);
	del = array_create(0, 4);
	for (i = 0; i < array_count(this->touched); i++)
	{
		array_get(this->touched, i, &pair);
		pair->touched = FALSE;
		if (pair->refs && !pair->installed)
		{
			array_insert(add, ARRAY_TAIL, &pair->public);
		}
		else if (!pair->refs && pair->installed)
		{
			array_insert(del, ARRAY_TAIL, &pair->public);
		}
	}
	if ((array_count(add) || array_count(del)) && commit(user, add, del))
	{
		for (i = 0; i < array_count(this->touched); i++)
		{
			array_get(this->touched, i, &pair);
			pair->installed = pair->refs > 0;
		}
	}
	array_destroy(add);
	array_destroy(del);
	for (i = 0; i < array_count(this->touched); i++)
	{
		array_get(this->touched, i, &pair);
		if (!pair->refs && !pair->installed)
		{
			this->pairs->remove(this->pairs, &pair->public);
			free(pair);
		}
	}
	array_destroy(this->touched);
	this->touched = array_create(0, 4);
}

CALLBACK(filter_pairs, bool,
	bool *installed, enumerator_t *orig, va_list args)
{
	tunnel_route_pair_t **out;
	pair_t *pair;

	VA_ARGS_VGET(args, out);
	while (orig->enumerate(orig, NULL, &pair))
	{
		if (*installed ? pair->installed : pair->refs > 0)
		{
			*out = &pair->public;
			return TRUE;
		}
	}
	return FALSE;
}

METHOD(tunnel_route_pairs_t, create_enumerator, enumerator_t*,
	private_tunnel_route_pairs_t *this, bool installed)
{
	bool *filter = malloc_thing(bool);

	*filter = installed;
	return enumerator_create_filter(
						this->pairs->create_enumerator(this->pairs),
						filter_pairs, filter, free);
}

METHOD(tunnel_route_pairs_t, get_refs, u_int,
	private_tunnel_route_pairs_t *this, bool bypass, tunnel_route_range_t *src,
	tunnel_route_range_t *dst)
{
	pair_t *pair;

	pair = get(this, bypass, src, dst);
	return pair ? pair->refs : 0;
}

METHOD(tunnel_route_pairs_t, get_count, u_int,
	private_tunnel_route_pairs_t *this)
{
	return this->pairs->get_count(this->pairs);
}

CALLBACK(destroy_pair, void,
	pair_t *pair, const void *key)
{
	free(pair);
}

METHOD(tunnel_route_pairs_t, destroy, void,
	private_tunnel_route_pairs_t *this)
{
	array_destroy(this->touched);
	this->pairs->destroy_function(this->pairs, destroy_pair);
	free(this);
}

/*
 * Described in header
 */
tunnel_route_pairs_t *tunnel_route_pairs_create()
{
	private_tunnel_route_pairs_t *this;

	INIT(this,
		.public = {
			.ref = _ref,
			.unref = _unref,
			.commit = _commit,
			.create_enumerator = _create_enumerator,
			.get_refs = _get_refs,
			.get_count = _get_count,
			.destroy = _destroy,
		},
		.pairs = hashtable_create(pair_hash, pair_equals, 32),
		.touched = array_create(0, 4),
	);
	return &this->public;
}
