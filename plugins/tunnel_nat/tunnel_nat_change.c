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

#include "tunnel_nat_change.h"

#include <collections/hashtable.h>

typedef struct private_tunnel_nat_change_t private_tunnel_nat_change_t;

/**
 * Private data of a tunnel_nat_change_t object.
 */
struct private_tunnel_nat_change_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_change_t public;

	/**
	 * pend_t by their element
	 */
	hashtable_t *pending;
};

/**
 * Net change of one element over the batch
 */
typedef struct {
	tunnel_nat_elem_t elem;
	int delta;
} pend_t;

static u_int pend_hash(const void *key)
{
	return tunnel_nat_elem_hash((tunnel_nat_elem_t*)key);
}

static bool pend_equals(const void *a, const void *b)
{
	return tunnel_nat_elem_equals((tunnel_nat_elem_t*)a, (tunnel_nat_elem_t*)b);
}

static void pend(private_tunnel_nat_change_t *this, array_t *elems, int delta)
{
	tunnel_nat_elem_t *elem;
	pend_t *p;
	u_int i;

	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &elem);
		p = this->pending->get(this->pending, elem);
		if (!p)
		{
			INIT(p,
				.elem = *elem,
			);
			this->pending->put(this->pending, &p->elem, p);
		}
		p->delta += delta;
	}
}

/*
 * Described in header
 */
bool tunnel_nat_change_collect(void *user, array_t *add, array_t *del)
{
	private_tunnel_nat_change_t *this = user;

	pend(this, del, -1);
	pend(this, add, 1);
	return TRUE;
}

METHOD(tunnel_nat_change_t, get, void,
	private_tunnel_nat_change_t *this, array_t **add, array_t **del)
{
	enumerator_t *enumerator;
	pend_t *p;

	*add = array_create(0, 0);
	*del = array_create(0, 0);
	enumerator = this->pending->create_enumerator(this->pending);
	while (enumerator->enumerate(enumerator, NULL, &p))
	{
		if (p->delta > 0)
		{
			array_insert(*add, ARRAY_TAIL, &p->elem);
		}
		else if (p->delta < 0)
		{
			array_insert(*del, ARRAY_TAIL, &p->elem);
		}
	}
	enumerator->destroy(enumerator);
}

METHOD(tunnel_nat_change_t, destroy, void,
	private_tunnel_nat_change_t *this)
{
	this->pending->destroy_function(this->pending, (void*)free);
	free(this);
}

/*
 * Described in header
 */
tunnel_nat_change_t *tunnel_nat_change_create()
{
	private_tunnel_nat_change_t *this;

	INIT(this,
		.public = {
			.get = _get,
			.destroy = _destroy,
		},
		.pending = hashtable_create(pend_hash, pend_equals, 8),
	);
	return &this->public;
}

/**
 * Elements in a state that are not in another
 */
static array_t *state_minus(tunnel_nat_state_t *a, tunnel_nat_state_t *b)
{
	enumerator_t *enumerator;
	tunnel_nat_elem_t *elem;
	array_t *out;

	out = array_create(0, 0);
	enumerator = a->create_enumerator(a);
	while (enumerator->enumerate(enumerator, &elem))
	{
		if (!b->get_refs(b, elem))
		{
			array_insert(out, ARRAY_TAIL, elem);
		}
	}
	enumerator->destroy(enumerator);
	return out;
}

/*
 * Described in header
 */
void tunnel_nat_change_between(tunnel_nat_state_t *from, tunnel_nat_state_t *to,
							   array_t **add, array_t **del)
{
	*add = state_minus(to, from);
	*del = state_minus(from, to);
}
