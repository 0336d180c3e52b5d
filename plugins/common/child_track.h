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

/**
 * @defgroup child_track child_track
 * @{ @ingroup tunnel_common
 */

#ifndef CHILD_TRACK_H_
#define CHILD_TRACK_H_

#include <library.h>
#include <sa/child_sa.h>

typedef struct child_track_t child_track_t;

/**
 * What a CHILD_SA event means to a plugin.
 */
typedef enum {
	/** nothing changes */
	CHILD_TRACK_NONE = 0,
	/** the CHILD_SA came up */
	CHILD_TRACK_UP,
	/** the CHILD_SA went away */
	CHILD_TRACK_DOWN,
	/** one CHILD_SA replaces another */
	CHILD_TRACK_REKEY,
} child_track_event_t;

/**
 * The CHILD_SAs a plugin holds state for, by unique id, so that each one is
 * taken up once and released once, whatever order the bus raises its events
 * in, and however many of them it raises.
 *
 * strongSwan's versions differ there: 6.0 raises child_rekey() on the rekey
 * responder only when the peer's DELETE of the old SA arrives (never, if it
 * is lost), and an IKE_SA going down raises child_updown() for none of its
 * rekeyed CHILD_SAs. What every version does is change a CHILD_SA's state:
 * to CHILD_INSTALLED once it is installed (also on a passive HA node), and
 * to CHILD_DELETED and CHILD_DESTROYING on its way out. Hooks report every
 * event here; the first that takes a CHILD_SA up and the first that takes it
 * down count, the others are no-ops. Not thread-safe: the caller locks.
 */
struct child_track_t {

	/**
	 * A CHILD_SA came up (child_updown() up).
	 *
	 * @param id		unique id of the CHILD_SA
	 * @return			CHILD_TRACK_UP, or CHILD_TRACK_NONE if it already was
	 */
	child_track_event_t (*up)(child_track_t *this, uint32_t id);

	/**
	 * A CHILD_SA went down (child_updown() down).
	 *
	 * @param id		unique id of the CHILD_SA
	 * @return			CHILD_TRACK_DOWN, or CHILD_TRACK_NONE if it was not up
	 */
	child_track_event_t (*down)(child_track_t *this, uint32_t id);

	/**
	 * A CHILD_SA was rekeyed (child_rekey()).
	 *
	 * @param old		unique id of the old CHILD_SA, set to 0 if it was not
	 *					up (it changes nothing)
	 * @param new		unique id of the new one, set to 0 if it already was
	 * @return			what changes: CHILD_TRACK_REKEY if both sides do,
	 *					otherwise CHILD_TRACK_UP (new), _DOWN (old) or _NONE
	 */
	child_track_event_t (*rekey)(child_track_t *this, uint32_t *old,
								 uint32_t *new);

	/**
	 * A CHILD_SA changes its state (child_state_change()).
	 *
	 * @param id		unique id of the CHILD_SA
	 * @param from		its current state (child_sa_t.get_state() in the hook)
	 * @param to		the new state
	 * @return			CHILD_TRACK_UP if it is now installed for the first
	 *					time, CHILD_TRACK_DOWN if it is deleted or destroyed
	 *					while up, otherwise CHILD_TRACK_NONE
	 */
	child_track_event_t (*state)(child_track_t *this, uint32_t id,
								 child_sa_state_t from, child_sa_state_t to);

	/**
	 * Check if a CHILD_SA counts as up.
	 */
	bool (*is_up)(child_track_t *this, uint32_t id);

	/**
	 * Number of CHILD_SAs that count as up.
	 */
	u_int (*count)(child_track_t *this);

	/**
	 * Destroy the tracker.
	 */
	void (*destroy)(child_track_t *this);
};

/**
 * Create a tracker with no CHILD_SA up.
 */
child_track_t *child_track_create();

#endif /** CHILD_TRACK_H_ @}*/
