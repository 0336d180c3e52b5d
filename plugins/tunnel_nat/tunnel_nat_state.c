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
#include "tunnel_nat_index.h"

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
	 * The entries by the parts of their keys that decide an overlap
	 */
	tunnel_nat_index_t *index;
};

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
		   a->nat_port == b->nat_port && a->bind == b->bind &&
		   a->value == b->value && a->len == b->len;
}

/*
 * Described in header
 */
u_int tunnel_nat_elem_hash(tunnel_nat_elem_t *e)
{
	uint32_t v[] = { e->map, e->src_from, e->src_to, e->dst_from, e->dst_to,
					 e->nat_from, e->nat_to, (uint32_t)e->proto << 16 | e->port,
					 (uint32_t)e->len << 16 | e->nat_port, e->bind, e->value };

	return chunk_hash(chunk_create((u_char*)v, sizeof(v)));
}

/*
 * Described in header
 */
tunnel_nat_elem_t *tunnel_nat_elem_add(array_t *elems, tunnel_nat_map_t map,
									   const char *comment)
{
	tunnel_nat_elem_t *elem;

	INIT(elem,
		.map = map,
	);
	snprintf(elem->comment, sizeof(elem->comment), "%s", comment);
	array_insert(elems, ARRAY_TAIL, elem);
	return elem;
}

static u_int elem_hash(const void *key)
{
	return tunnel_nat_elem_hash((tunnel_nat_elem_t*)key);
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
		[TUNNEL_NAT_PZONE] = "partner zone",
		[TUNNEL_NAT_PMARK] = "partner mark",
		[TUNNEL_NAT_AZONE] = "alias zone",
		[TUNNEL_NAT_AMARK] = "alias mark",
		[TUNNEL_NAT_ADNAT] = "alias DNAT",
		[TUNNEL_NAT_PSNAT] = "partner SNAT",
	};
	char src[40], dst[40], nat[40];
	const char *name = e->map < countof(names) ? names[e->map] : "?";

	tunnel_range_str(src, sizeof(src), e->src_from, e->src_to);
	tunnel_range_str(dst, sizeof(dst), e->dst_from, e->dst_to);
	tunnel_range_str(nat, sizeof(nat), e->nat_from, e->nat_to);
	switch (e->map)
	{
		case TUNNEL_NAT_PZONE:
			snprintf(buf, len, "%s reqid %u => %u", name, e->bind, e->value);
			return buf;
		case TUNNEL_NAT_PMARK:
			snprintf(buf, len, "%s reqid %u => 0x%08x", name, e->bind,
					 e->value);
			return buf;
		case TUNNEL_NAT_AZONE:
			snprintf(buf, len, "%s %s => %u", name, dst, e->value);
			return buf;
		case TUNNEL_NAT_AMARK:
			snprintf(buf, len, "%s %s => 0x%08x", name, dst, e->value);
			return buf;
		case TUNNEL_NAT_ADNAT:
			snprintf(buf, len, "%s %s => %s", name, dst, nat);
			return buf;
		case TUNNEL_NAT_PSNAT:
			snprintf(buf, len, "%s 0x%08x . %s => %s", name, e->bind, src,
					 nat);
			return buf;
		default:
			break;
	}
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
		   a->bind == b->bind &&
		   a->src_from <= b->src_to && b->src_from <= a->src_to &&
		   a->dst_from <= b->dst_to && b->dst_from <= a->dst_to;
}

/**
 * Remove an entry from the entries and the index
 */
static void entry_remove(private_tunnel_nat_state_t *this, entry_t *entry)
{
	this->entries->remove(this->entries, entry);
	this->index->remove(this->index, &entry->elem);
}

/**
 * Whether an entry stays installed and its key overlaps an element's
 */
CALLBACK(active_overlap, bool,
	tunnel_nat_elem_t *elem, tunnel_nat_elem_t *candidate)
{
	entry_t *entry = (entry_t*)candidate;

	return (int)entry->refs + entry->delta > 0 &&
		   keys_overlap(&entry->elem, elem);
}

/**
 * Find an element that stays installed and overlaps a new one, among the
 * index's candidates
 */
static entry_t *find_overlap(private_tunnel_nat_state_t *this,
							 tunnel_nat_elem_t *elem)
{
	return (entry_t*)this->index->find(this->index, elem, active_overlap,
									   elem);
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

/**
 * Check that none of the partner-side elements of a CHILD_SA conflicts with
 * an element that stays installed: they go in all or nothing. Each conflict
 * is logged.
 */
static bool partner_fits(private_tunnel_nat_state_t *this, array_t *elems)
{
	enumerator_t *enumerator;
	tunnel_nat_elem_t *elem;
	entry_t *other;
	char buf[128], obuf[128];
	const char *comment = NULL;

	enumerator = array_create_enumerator(elems);
	while (enumerator->enumerate(enumerator, &elem))
	{
		if (!tunnel_nat_map_is_partner(elem->map) ||
			this->entries->get(this->entries, elem))
		{
			continue;
		}
		other = find_overlap(this, elem);
		if (other)
		{
			DBG1(DBG_CHD, "tunnel-nat: %s (%s) conflicts with installed "
				 "%s (%s)",
				 tunnel_nat_elem_str(elem, buf, sizeof(buf)), elem->comment,
				 tunnel_nat_elem_str(&other->elem, obuf, sizeof(obuf)),
				 other->elem.comment);
			comment = elem->comment;
		}
	}
	enumerator->destroy(enumerator);
	if (comment)
	{
		DBG1(DBG_CHD, "tunnel-nat: no partner-side element of %s installed "
			 "(all or nothing)", comment);
	}
	return !comment;
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
	bool ok = TRUE, partner_ok;

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
		partner_ok = partner_fits(this, elems);
		enumerator = array_create_enumerator(elems);
		while (enumerator->enumerate(enumerator, &elem))
		{
			if (!partner_ok && tunnel_nat_map_is_partner(elem->map))
			{
				continue;
			}
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
			this->index->add(this->index, &entry->elem);
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

METHOD(tunnel_nat_state_t, destroy, void,
	private_tunnel_nat_state_t *this)
{
	this->records->destroy_function(this->records, destroy_record);
	this->entries->destroy_function(this->entries, destroy_entry);
	this->index->destroy(this->index);
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
		.index = tunnel_nat_index_create(),
	);
	return &this->public;
}
