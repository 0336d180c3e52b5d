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

#include "tunnel_nat_index.h"

#include <collections/hashtable.h>

typedef struct private_tunnel_nat_index_t private_tunnel_nat_index_t;

/**
 * Block sizes: an element is filed at the finest level (block of 2^shift
 * addresses) where its range touches at most MAX_BLOCKS blocks
 */
#define SHIFT_STEP 4
#define SHIFT_MIN 4
#define SHIFT_MAX 32
#define MAX_BLOCKS 16

/**
 * The two dimensions of a key
 */
enum {
	DIM_SRC,
	DIM_DST,
	DIMS,
};

/**
 * Key of a list: the partition (map, protocol and port, bind), a dimension,
 * a level and, for a block's list, the block; level lists have all = 1
 */
typedef struct {
	uint32_t map, proto_port, bind;
	uint8_t dim, shift, all;
	uint32_t block;
} list_key_t;

/**
 * A list holding more elements than this keeps them in a set, so that
 * removing one stays cheap (e.g. the block of a P that thousands of partners
 * reach)
 */
#define ARRAY_MAX 32

/**
 * The elements under a key: a few in an array, many in a set
 */
typedef struct {
	list_key_t key;
	/** tunnel_nat_elem_t*, while there are few */
	array_t *elems;
	/** tunnel_nat_elem_t* => tunnel_nat_elem_t*, once there are many */
	hashtable_t *set;
} list_t;

/**
 * Number of elements in a list
 */
static u_int list_count(list_t *list)
{
	return list->set ? list->set->get_count(list->set)
					 : array_count(list->elems);
}

/**
 * Private data of a tunnel_nat_index_t object.
 */
struct private_tunnel_nat_index_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_index_t public;

	/**
	 * list_key_t* => list_t*, for blocks and levels
	 */
	hashtable_t *lists;
};

static u_int list_hash(const void *key)
{
	const list_key_t *k = key;
	uint32_t v[] = { k->map, k->proto_port, k->bind,
					 (uint32_t)k->dim << 16 | k->shift << 8 | k->all,
					 k->block };

	return chunk_hash(chunk_create((u_char*)v, sizeof(v)));
}

static bool list_equals(const void *a, const void *b)
{
	const list_key_t *x = a, *y = b;

	return x->map == y->map && x->proto_port == y->proto_port &&
		   x->bind == y->bind && x->dim == y->dim && x->shift == y->shift &&
		   x->all == y->all && x->block == y->block;
}

/**
 * Range of an element in a dimension
 */
static void range_of(tunnel_nat_elem_t *elem, int dim, uint32_t *from,
					 uint32_t *to)
{
	*from = dim == DIM_SRC ? elem->src_from : elem->dst_from;
	*to = dim == DIM_SRC ? elem->src_to : elem->dst_to;
}

static uint32_t block_of(uint32_t addr, u_int shift)
{
	return shift >= 32 ? 0 : addr >> shift;
}

/**
 * Number of blocks a range touches at a level
 */
static uint64_t blocks(uint32_t from, uint32_t to, u_int shift)
{
	return (uint64_t)block_of(to, shift) - block_of(from, shift) + 1;
}

/**
 * The level an element's range is filed at in a dimension
 */
static u_int level_of(tunnel_nat_elem_t *elem, int dim)
{
	uint32_t from, to;
	u_int shift;

	range_of(elem, dim, &from, &to);
	for (shift = SHIFT_MIN; shift < SHIFT_MAX; shift += SHIFT_STEP)
	{
		if (blocks(from, to, shift) <= MAX_BLOCKS)
		{
			break;
		}
	}
	return shift;
}

static list_key_t key_for(tunnel_nat_elem_t *elem, int dim, u_int shift,
						  bool all, uint32_t block)
{
	return (list_key_t){
		.map = elem->map,
		.proto_port = (uint32_t)elem->proto << 16 | elem->port,
		.bind = elem->bind,
		.dim = dim,
		.shift = shift,
		.all = all,
		.block = block,
	};
}

static list_t *get_list(private_tunnel_nat_index_t *this, list_key_t *key)
{
	return this->lists->get(this->lists, key);
}

static void list_add(private_tunnel_nat_index_t *this, list_key_t key,
					 tunnel_nat_elem_t *elem)
{
	tunnel_nat_elem_t *cur;
	list_t *list;

	list = get_list(this, &key);
	if (!list)
	{
		INIT(list,
			.key = key,
			.elems = array_create(0, 1),
		);
		this->lists->put(this->lists, &list->key, list);
	}
	if (!list->set && array_count(list->elems) >= ARRAY_MAX)
	{
		list->set = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr,
									 2 * ARRAY_MAX);
		while (array_remove(list->elems, ARRAY_TAIL, &cur))
		{
			list->set->put(list->set, cur, cur);
		}
		array_destroy(list->elems);
		list->elems = NULL;
	}
	if (list->set)
	{
		list->set->put(list->set, elem, elem);
	}
	else
	{
		array_insert(list->elems, ARRAY_TAIL, elem);
	}
}

static void list_free(list_t *list)
{
	if (list->set)
	{
		list->set->destroy(list->set);
	}
	array_destroy(list->elems);
	free(list);
}

static void list_remove(private_tunnel_nat_index_t *this, list_key_t key,
						tunnel_nat_elem_t *elem)
{
	tunnel_nat_elem_t *cur;
	list_t *list;
	int i;

	list = get_list(this, &key);
	if (!list)
	{
		return;
	}
	if (list->set)
	{
		list->set->remove(list->set, elem);
	}
	else
	{
		for (i = array_count(list->elems) - 1; i >= 0; i--)
		{
			array_get(list->elems, i, &cur);
			if (cur == elem)
			{
				array_remove(list->elems, i, NULL);
				break;
			}
		}
	}
	if (!list_count(list))
	{
		this->lists->remove(this->lists, &list->key);
		list_free(list);
	}
}

/**
 * Add or remove an element from the lists of its level in both dimensions
 */
static void file(private_tunnel_nat_index_t *this, tunnel_nat_elem_t *elem,
				 bool add)
{
	uint32_t from, to;
	uint64_t block;
	u_int shift;
	int dim;

	for (dim = 0; dim < DIMS; dim++)
	{
		range_of(elem, dim, &from, &to);
		shift = level_of(elem, dim);
		for (block = block_of(from, shift); block <= block_of(to, shift);
			 block++)
		{
			if (add)
			{
				list_add(this, key_for(elem, dim, shift, FALSE, block), elem);
			}
			else
			{
				list_remove(this, key_for(elem, dim, shift, FALSE, block), elem);
			}
		}
		if (add)
		{
			list_add(this, key_for(elem, dim, shift, TRUE, 0), elem);
		}
		else
		{
			list_remove(this, key_for(elem, dim, shift, TRUE, 0), elem);
		}
	}
}

METHOD(tunnel_nat_index_t, add, void,
	private_tunnel_nat_index_t *this, tunnel_nat_elem_t *elem)
{
	file(this, elem, TRUE);
}

METHOD(tunnel_nat_index_t, remove_, void,
	private_tunnel_nat_index_t *this, tunnel_nat_elem_t *elem)
{
	file(this, elem, FALSE);
}

/**
 * Offer the elements of a list to match, or count them
 */
static tunnel_nat_elem_t *offer(list_t *list, tunnel_nat_index_match_t match,
								void *ctx, uint64_t *count)
{
	enumerator_t *enumerator;
	tunnel_nat_elem_t *cur, *found = NULL;

	if (!list)
	{
		return NULL;
	}
	if (!match)
	{
		*count += list_count(list);
		return NULL;
	}
	if (list->set)
	{
		enumerator = list->set->create_enumerator(list->set);
		while (!found && enumerator->enumerate(enumerator, NULL, &cur))
		{
			found = match(ctx, cur) ? cur : NULL;
		}
	}
	else
	{
		enumerator = array_create_enumerator(list->elems);
		while (!found && enumerator->enumerate(enumerator, &cur))
		{
			found = match(ctx, cur) ? cur : NULL;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Walk the candidates of a dimension, level by level: the blocks the range
 * touches, or the level's whole list where that is shorter. Without match,
 * count the candidates instead.
 */
static tunnel_nat_elem_t *walk(private_tunnel_nat_index_t *this,
							   tunnel_nat_elem_t *elem, int dim,
							   tunnel_nat_index_match_t match, void *ctx,
							   uint64_t *count)
{
	tunnel_nat_elem_t *found;
	list_key_t key;
	list_t *level;
	uint32_t from, to;
	uint64_t block;
	u_int shift;

	range_of(elem, dim, &from, &to);
	for (shift = SHIFT_MIN; shift <= SHIFT_MAX; shift += SHIFT_STEP)
	{
		key = key_for(elem, dim, shift, TRUE, 0);
		level = get_list(this, &key);
		if (!level)
		{
			continue;
		}
		if (blocks(from, to, shift) >= list_count(level))
		{
			found = offer(level, match, ctx, count);
			if (found)
			{
				return found;
			}
			continue;
		}
		for (block = block_of(from, shift); block <= block_of(to, shift);
			 block++)
		{
			key = key_for(elem, dim, shift, FALSE, block);
			found = offer(get_list(this, &key), match, ctx, count);
			if (found)
			{
				return found;
			}
		}
	}
	return NULL;
}

METHOD(tunnel_nat_index_t, find, tunnel_nat_elem_t*,
	private_tunnel_nat_index_t *this, tunnel_nat_elem_t *elem,
	tunnel_nat_index_match_t match, void *ctx)
{
	uint64_t src = 0, dst = 0;

	walk(this, elem, DIM_SRC, NULL, NULL, &src);
	walk(this, elem, DIM_DST, NULL, NULL, &dst);
	return walk(this, elem, src <= dst ? DIM_SRC : DIM_DST, match, ctx, NULL);
}

CALLBACK(list_destroy, void,
	list_t *list, const void *key)
{
	list_free(list);
}

METHOD(tunnel_nat_index_t, destroy, void,
	private_tunnel_nat_index_t *this)
{
	this->lists->destroy_function(this->lists, list_destroy);
	free(this);
}

/*
 * Described in header
 */
tunnel_nat_index_t *tunnel_nat_index_create()
{
	private_tunnel_nat_index_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.remove = _remove_,
			.find = _find,
			.destroy = _destroy,
		},
		.lists = hashtable_create(list_hash, list_equals, 64),
	);
	return &this->public;
}
