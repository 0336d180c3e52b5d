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

#include "tunnel_nat_state.h"

#include <stdio.h>
#include <netinet/in.h>

#include <utils/debug.h>
#include <tunnel_util.h>
#include <collections/hashtable.h>

typedef struct private_tunnel_nat_state_t private_tunnel_nat_state_t;
typedef struct entry_t entry_t;

/**
 * An installed (or about to be installed) element.
 */
struct entry_t {
	/** the element, first member so entry_t* is a tunnel_nat_elem_t* */
	tunnel_nat_elem_t elem;
	/** CHILD_SAs that need it */
	u_int refs;
	/** planned change of refs during update() */
	int delta;
	/** collected in the touched list during update() */
	bool touched;
};

/**
 * Private data of a tunnel_nat_state_t object.
 */
struct private_tunnel_nat_state_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_state_t public;

	/**
	 * Elements, entry_t* => entry_t*
	 */
	hashtable_t *entries;

	/**
	 * CHILD_SA unique id => array_t of entry_t*
	 */
	hashtable_t *records;

	/**
	 * Entries by key (without the translated prefix), elem_key_t* => array_t of
	 * entry_t*, so that a conflict with an exact pair is found at once
	 */
	hashtable_t *by_key;

	/**
	 * entry_t* whose keys are ranges (not exact address pairs)
	 */
	array_t *ranges;
};

/**
 * Key of an element: map and address ranges
 */
typedef struct {
	uint32_t map, src_from, src_to, dst_from, dst_to, proto_port;
} elem_key_t;

static u_int key_hash(const void *key)
{
	return chunk_hash(chunk_create((u_char*)key, sizeof(elem_key_t)));
}

static bool key_equals(const void *a, const void *b)
{
	return memeq(a, b, sizeof(elem_key_t));
}

/**
 * Entries of a key
 */
typedef struct {
	elem_key_t key;
	/** entry_t* */
	array_t *list;
} by_key_t;

static bool is_exact(tunnel_nat_elem_t *e)
{
	return e->src_from == e->src_to && e->dst_from == e->dst_to;
}

static elem_key_t key_of(tunnel_nat_elem_t *e)
{
	return (elem_key_t){ e->map, e->src_from, e->src_to, e->dst_from, e->dst_to,
						 (uint32_t)e->proto << 16 | e->port };
}

/*
 * Described in header
 */
bool tunnel_nat_elem_equals(tunnel_nat_elem_t *a, tunnel_nat_elem_t *b)
{
	return a->map == b->map &&
		   a->src_from == b->src_from && a->src_to == b->src_to &&
		   a->dst_from == b->dst_from && a->dst_to == b->dst_to &&
		   a->nat_from == b->nat_from && a->nat_to == b->nat_to &&
		   a->proto == b->proto && a->port == b->port &&
		   a->nat_port == b->nat_port;
}

static u_int elem_hash(const void *key)
{
	const tunnel_nat_elem_t *e = key;
	uint32_t v[] = { e->map, e->src_from, e->src_to, e->dst_from, e->dst_to,
					 e->nat_from, e->nat_to, (uint32_t)e->proto << 16 | e->port,
					 e->nat_port };

	return chunk_hash(chunk_create((u_char*)v, sizeof(v)));
}

static bool elem_equals(const void *a, const void *b)
{
	return tunnel_nat_elem_equals((tunnel_nat_elem_t*)a, (tunnel_nat_elem_t*)b);
}

/*
 * Described in header
 */
char *tunnel_nat_elem_str(tunnel_nat_elem_t *e, char *buf, size_t len)
{
	static const char *names[] = {
		[TUNNEL_NAT_DNAT] = "DNAT",
		[TUNNEL_NAT_SNAT] = "SNAT",
		[TUNNEL_NAT_FWD] = "forward",
		[TUNNEL_NAT_PAT] = "SNAT many-to-one",
		[TUNNEL_NAT_CLOSED] = "closed",
	};
	char src[40], dst[40], nat[40];
	const char *name = e->map < countof(names) ? names[e->map] : "?";

	tunnel_range_str(src, sizeof(src), e->src_from, e->src_to);
	tunnel_range_str(dst, sizeof(dst), e->dst_from, e->dst_to);
	tunnel_range_str(nat, sizeof(nat), e->nat_from, e->nat_to);
	if (e->map == TUNNEL_NAT_FWD)
	{
		snprintf(buf, len, "%s %s . %s . %s . %u => %s . %u", name, src, dst,
				 e->proto == IPPROTO_UDP ? "udp" : "tcp", e->port, nat,
				 e->nat_port);
	}
	else if (e->map == TUNNEL_NAT_CLOSED)
	{
		snprintf(buf, len, "%s %s . %s", name, src, dst);
	}
	else
	{
		snprintf(buf, len, "%s %s . %s => %s", name, src, dst, nat);
	}
	return buf;
}

/**
 * Check if two elements' keys overlap
 */
static bool keys_overlap(tunnel_nat_elem_t *a, tunnel_nat_elem_t *b)
{
	return a->map == b->map && a->proto == b->proto && a->port == b->port &&
		   a->src_from <= b->src_to && b->src_from <= a->src_to &&
		   a->dst_from <= b->dst_to && b->dst_from <= a->dst_to;
}

/**
 * Add an entry to the indexes
 */
static void index_add(private_tunnel_nat_state_t *this, entry_t *entry)
{
	elem_key_t key = key_of(&entry->elem);
	by_key_t *bk;

	bk = this->by_key->get(this->by_key, &key);
	if (!bk)
	{
		INIT(bk,
			.key = key,
			.list = array_create(0, 1),
		);
		this->by_key->put(this->by_key, &bk->key, bk);
	}
	array_insert(bk->list, ARRAY_TAIL, entry);
	if (!is_exact(&entry->elem))
	{
		array_insert(this->ranges, ARRAY_TAIL, entry);
	}
}

static void array_remove_ptr(array_t *list, void *ptr)
{
	void *cur;
	int i;

	for (i = 0; i < array_count(list); i++)
	{
		array_get(list, i, &cur);
		if (cur == ptr)
		{
			array_remove(list, i, NULL);
			return;
		}
	}
}

/**
 * Remove an entry from the entries and the indexes
 */
static void entry_remove(private_tunnel_nat_state_t *this, entry_t *entry)
{
	elem_key_t key = key_of(&entry->elem);
	by_key_t *bk;

	this->entries->remove(this->entries, entry);
	bk = this->by_key->get(this->by_key, &key);
	if (bk)
	{
		array_remove_ptr(bk->list, entry);
		if (!array_count(bk->list))
		{
			this->by_key->remove(this->by_key, &key);
			array_destroy(bk->list);
			free(bk);
		}
	}
	if (!is_exact(&entry->elem))
	{
		array_remove_ptr(this->ranges, entry);
	}
}

static bool active_overlap(entry_t *entry, tunnel_nat_elem_t *elem)
{
	return (int)entry->refs + entry->delta > 0 &&
		   keys_overlap(&entry->elem, elem);
}

/**
 * Find an element that stays installed and overlaps a new one: for an exact
 * pair, those with the same key and the ranges; a range is checked against
 * all elements
 */
static entry_t *find_overlap(private_tunnel_nat_state_t *this,
							 tunnel_nat_elem_t *elem)
{
	enumerator_t *enumerator;
	entry_t *entry, *found = NULL;
	elem_key_t key = key_of(elem);
	by_key_t *bk;
	u_int i;

	if (!is_exact(elem))
	{
		enumerator = this->entries->create_enumerator(this->entries);
		while (enumerator->enumerate(enumerator, NULL, &entry))
		{
			if (active_overlap(entry, elem))
			{
				found = entry;
				break;
			}
		}
		enumerator->destroy(enumerator);
		return found;
	}
	bk = this->by_key->get(this->by_key, &key);
	for (i = 0; bk && i < array_count(bk->list); i++)
	{
		array_get(bk->list, i, &entry);
		if (active_overlap(entry, elem))
		{
			return entry;
		}
	}
	for (i = 0; i < array_count(this->ranges); i++)
	{
		array_get(this->ranges, i, &entry);
		if (active_overlap(entry, elem))
		{
			return entry;
		}
	}
	return NULL;
}

static void touch(array_t *touched, entry_t *entry, int delta)
{
	entry->delta += delta;
	if (!entry->touched)
	{
		entry->touched = TRUE;
		array_insert(touched, ARRAY_TAIL, entry);
	}
}

static void release_record(array_t *touched, array_t *record)
{
	enumerator_t *enumerator;
	entry_t *entry;

	if (record)
	{
		enumerator = array_create_enumerator(record);
		while (enumerator->enumerate(enumerator, &entry))
		{
			touch(touched, entry, -1);
		}
		enumerator->destroy(enumerator);
	}
}

static bool record_has(array_t *record, entry_t *entry)
{
	enumerator_t *enumerator;
	entry_t *current;
	bool found = FALSE;

	enumerator = array_create_enumerator(record);
	while (!found && enumerator->enumerate(enumerator, &current))
	{
		found = current == entry;
	}
	enumerator->destroy(enumerator);
	return found;
}

METHOD(tunnel_nat_state_t, update, bool,
	private_tunnel_nat_state_t *this, uint32_t old_id, uint32_t new_id,
	array_t *elems, tunnel_nat_commit_t commit, void *user)
{
	array_t *old_rec = NULL, *cur_rec = NULL, *new_rec, *touched, *add, *del;
	enumerator_t *enumerator;
	tunnel_nat_elem_t *elem;
	entry_t *entry, *other;
	char buf[128], obuf[128];
	bool ok = TRUE;

	if (old_id)
	{
		old_rec = this->records->get(this->records, (void*)(uintptr_t)old_id);
	}
	if (new_id && new_id != old_id)
	{
		cur_rec = this->records->get(this->records, (void*)(uintptr_t)new_id);
	}
	touched = array_create(0, 8);
	new_rec = array_create(0, 4);
	add = array_create(0, 4);
	del = array_create(0, 4);

	release_record(touched, old_rec);
	release_record(touched, cur_rec);

	if (new_id && elems)
	{
		enumerator = array_create_enumerator(elems);
		while (enumerator->enumerate(enumerator, &elem))
		{
			entry = this->entries->get(this->entries, elem);
			if (entry)
			{
				if (!record_has(new_rec, entry))
				{
					touch(touched, entry, 1);
					array_insert(new_rec, ARRAY_TAIL, entry);
				}
				continue;
			}
			other = find_overlap(this, elem);
			if (other)
			{
				DBG1(DBG_CHD, "tunnel-nat: %s (%s) conflicts with installed "
					 "%s (%s), not installed",
					 tunnel_nat_elem_str(elem, buf, sizeof(buf)), elem->comment,
					 tunnel_nat_elem_str(&other->elem, obuf, sizeof(obuf)),
					 other->elem.comment);
				continue;
			}
			INIT(entry,
				.elem = *elem,
			);
			this->entries->put(this->entries, entry, entry);
			index_add(this, entry);
			touch(touched, entry, 1);
			array_insert(new_rec, ARRAY_TAIL, entry);
			array_insert(add, ARRAY_TAIL, &entry->elem);
		}
		enumerator->destroy(enumerator);
	}

	enumerator = array_create_enumerator(touched);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->refs && (int)entry->refs + entry->delta == 0)
		{
			array_insert(del, ARRAY_TAIL, &entry->elem);
		}
	}
	enumerator->destroy(enumerator);

	if (array_count(add) || array_count(del))
	{
		ok = commit(user, add, del);
	}

	/* apply or roll back the planned reference counts */
	enumerator = array_create_enumerator(touched);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (ok)
		{
			entry->refs += entry->delta;
		}
		entry->delta = 0;
		entry->touched = FALSE;
		if (!entry->refs)
		{
			entry_remove(this, entry);
			free(entry);
		}
	}
	enumerator->destroy(enumerator);

	if (ok)
	{
		if (old_rec)
		{
			this->records->remove(this->records, (void*)(uintptr_t)old_id);
			array_destroy(old_rec);
		}
		if (cur_rec)
		{
			this->records->remove(this->records, (void*)(uintptr_t)new_id);
			array_destroy(cur_rec);
		}
		if (new_id && array_count(new_rec))
		{
			this->records->put(this->records, (void*)(uintptr_t)new_id, new_rec);
			new_rec = NULL;
		}
	}
	array_destroy(new_rec);
	array_destroy(touched);
	array_destroy(add);
	array_destroy(del);
	return ok;
}

METHOD(tunnel_nat_state_t, forget, void,
	private_tunnel_nat_state_t *this, uint32_t id, array_t *del)
{
	enumerator_t *enumerator;
	array_t *record;
	entry_t *entry;

	record = this->records->remove(this->records, (void*)(uintptr_t)id);
	if (!record)
	{
		return;
	}
	enumerator = array_create_enumerator(record);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (--entry->refs == 0)
		{
			entry_remove(this, entry);
			if (del)
			{	/* pass ownership to the caller */
				array_insert(del, ARRAY_TAIL, entry);
			}
			else
			{
				free(entry);
			}
		}
	}
	enumerator->destroy(enumerator);
	array_destroy(record);
}

METHOD(tunnel_nat_state_t, rename_, void,
	private_tunnel_nat_state_t *this, uint32_t old_id, uint32_t new_id)
{
	array_t *record;

	if (old_id == new_id)
	{
		return;
	}
	record = this->records->remove(this->records, (void*)(uintptr_t)old_id);
	if (record)
	{
		forget(this, new_id, NULL);
		this->records->put(this->records, (void*)(uintptr_t)new_id, record);
	}
}

CALLBACK(filter_entries, bool,
	void *data, enumerator_t *orig, va_list args)
{
	tunnel_nat_elem_t **out;
	entry_t *entry;

	VA_ARGS_VGET(args, out);
	if (orig->enumerate(orig, NULL, &entry))
	{
		*out = &entry->elem;
		return TRUE;
	}
	return FALSE;
}

METHOD(tunnel_nat_state_t, create_enumerator, enumerator_t*,
	private_tunnel_nat_state_t *this)
{
	return enumerator_create_filter(
					this->entries->create_enumerator(this->entries),
					filter_entries, NULL, NULL);
}

METHOD(tunnel_nat_state_t, get_refs, u_int,
	private_tunnel_nat_state_t *this, tunnel_nat_elem_t *elem)
{
	entry_t *entry;

	entry = this->entries->get(this->entries, elem);
	return entry ? entry->refs : 0;
}

METHOD(tunnel_nat_state_t, get_count, u_int,
	private_tunnel_nat_state_t *this)
{
	return this->entries->get_count(this->entries);
}

METHOD(tunnel_nat_state_t, get_sa_count, u_int,
	private_tunnel_nat_state_t *this)
{
	return this->records->get_count(this->records);
}

CALLBACK(destroy_record, void,
	array_t *record, const void *key)
{
	array_destroy(record);
}

CALLBACK(destroy_entry, void,
	entry_t *entry, const void *key)
{
	free(entry);
}

CALLBACK(destroy_key, void,
	by_key_t *bk, const void *key)
{
	array_destroy(bk->list);
	free(bk);
}

METHOD(tunnel_nat_state_t, destroy, void,
	private_tunnel_nat_state_t *this)
{
	this->records->destroy_function(this->records, destroy_record);
	this->entries->destroy_function(this->entries, destroy_entry);
	this->by_key->destroy_function(this->by_key, destroy_key);
	array_destroy(this->ranges);
	free(this);
}

/*
 * Described in header
 */
tunnel_nat_state_t *tunnel_nat_state_create()
{
	private_tunnel_nat_state_t *this;

	INIT(this,
		.public = {
			.update = _update,
			.forget = _forget,
			.rename = _rename_,
			.create_enumerator = _create_enumerator,
			.get_refs = _get_refs,
			.get_count = _get_count,
			.get_sa_count = _get_sa_count,
			.destroy = _destroy,
		},
		.entries = hashtable_create(elem_hash, elem_equals, 32),
		.records = hashtable_create(tunnel_id_hash, tunnel_id_equals, 32),
		.by_key = hashtable_create(key_hash, key_equals, 32),
		.ranges = array_create(0, 0),
	);
	return &this->public;
}
