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

#include "child_track.h"
#include "tunnel_util.h"

#include <collections/hashtable.h>

typedef struct private_child_track_t private_child_track_t;

/**
 * Private data of a child_track_t object.
 */
struct private_child_track_t {

	/**
	 * Public interface.
	 */
	child_track_t public;

	/**
	 * Unique ids of the CHILD_SAs that are up (keys and values)
	 */
	hashtable_t *ids;
};

METHOD(child_track_t, up, child_track_event_t,
	private_child_track_t *this, uint32_t id)
{
	void *key = (void*)(uintptr_t)id;

	if (!id || this->ids->get(this->ids, key))
	{
		return CHILD_TRACK_NONE;
	}
	this->ids->put(this->ids, key, key);
	return CHILD_TRACK_UP;
}

METHOD(child_track_t, down, child_track_event_t,
	private_child_track_t *this, uint32_t id)
{
	if (!id || !this->ids->remove(this->ids, (void*)(uintptr_t)id))
	{
		return CHILD_TRACK_NONE;
	}
	return CHILD_TRACK_DOWN;
}

METHOD(child_track_t, rekey, child_track_event_t,
	private_child_track_t *this, uint32_t *old, uint32_t *new)
{
	bool taken = up(this, *new) == CHILD_TRACK_UP;
	bool released = down(this, *old) == CHILD_TRACK_DOWN;

	if (!taken)
	{
		*new = 0;
	}
	if (!released)
	{
		*old = 0;
	}
	if (taken && released)
	{
		return CHILD_TRACK_REKEY;
	}
	return taken ? CHILD_TRACK_UP : released ? CHILD_TRACK_DOWN
											 : CHILD_TRACK_NONE;
}

METHOD(child_track_t, state, child_track_event_t,
	private_child_track_t *this, uint32_t id, child_sa_state_t from,
	child_sa_state_t to)
{
	switch (to)
	{
		case CHILD_INSTALLED:
			/* installed for the first time: not back from UPDATING, or
			 * from REKEYING after a failed rekey */
			if (from == CHILD_CREATED || from == CHILD_INSTALLING)
			{
				return up(this, id);
			}
			return CHILD_TRACK_NONE;
		case CHILD_DELETED:
		case CHILD_DESTROYING:
			return down(this, id);
		default:
			return CHILD_TRACK_NONE;
	}
}

METHOD(child_track_t, is_up, bool,
	private_child_track_t *this, uint32_t id)
{
	return id && this->ids->get(this->ids, (void*)(uintptr_t)id) != NULL;
}

METHOD(child_track_t, count, u_int,
	private_child_track_t *this)
{
	return this->ids->get_count(this->ids);
}

METHOD(child_track_t, destroy, void,
	private_child_track_t *this)
{
	this->ids->destroy(this->ids);
	free(this);
}

/*
 * Described in header
 */
child_track_t *child_track_create()
{
	private_child_track_t *this;

	INIT(this,
		.public = {
			.up = _up,
			.down = _down,
			.rekey = _rekey,
			.state = _state,
			.is_up = _is_up,
			.count = _count,
			.destroy = _destroy,
		},
		.ids = hashtable_create(tunnel_id_hash, tunnel_id_equals, 32),
	);
	return &this->public;
}
