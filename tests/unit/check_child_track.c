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

#include "test_suites.h"

#include <child_track.h>

/**
 * One hook call
 */
typedef enum {
	END = 0,
	UPDOWN_UP,
	UPDOWN_DOWN,
	REKEY,
	STATE,
} hook_t;

typedef struct {
	hook_t hook;
	/** CHILD_SA (old one for REKEY) */
	uint32_t id;
	/** new CHILD_SA for REKEY */
	uint32_t new;
	/** STATE: from, to */
	child_sa_state_t from, to;
	/** what the tracker must make of it */
	child_track_event_t expect;
	/** REKEY: the ids it must leave (0 for a side that changes nothing) */
	uint32_t expect_old, expect_new;
} step_t;

#define UP(id, ev) { UPDOWN_UP, id, 0, 0, 0, ev }
#define DOWN(id, ev) { UPDOWN_DOWN, id, 0, 0, 0, ev }
#define RK(o, n, ev, eo, en) { REKEY, o, n, 0, 0, ev, eo, en }
#define ST(id, f, t, ev) { STATE, id, 0, CHILD_##f, CHILD_##t, ev }

#define T_NONE CHILD_TRACK_NONE
#define T_UP CHILD_TRACK_UP
#define T_DOWN CHILD_TRACK_DOWN
#define T_REKEY CHILD_TRACK_REKEY

/**
 * Event sequences as strongSwan's versions raise them, and how many
 * CHILD_SAs must count as up at the end
 */
static struct {
	const char *name;
	step_t steps[16];
	u_int left;
} seqs[] = {
	{ "rekey, child_rekey() with the new SA (5.9, 6.0 initiator)", {
		ST(1, INSTALLING, INSTALLED, T_UP),
		UP(1, T_NONE),
		ST(2, INSTALLING, INSTALLED, T_UP),
		ST(1, INSTALLED, REKEYING, T_NONE),
		RK(1, 2, T_DOWN, 1, 0),
		ST(1, REKEYING, REKEYED, T_NONE),
		ST(1, REKEYED, DELETING, T_NONE),
		ST(1, DELETING, DELETED, T_NONE),
		ST(1, DELETED, DESTROYING, T_NONE),
		}, 1 },
	{ "6.0 rekey responder, DELETE lost, IKE_SA terminated", {
		ST(1, INSTALLING, INSTALLED, T_UP),
		UP(1, T_NONE),
		ST(1, INSTALLED, REKEYED, T_NONE),
		ST(2, INSTALLING, INSTALLED, T_UP),
		/* ike_updown() downs CHILD_SAs that are not REKEYED */
		DOWN(2, T_DOWN),
		ST(2, INSTALLED, DESTROYING, T_NONE),
		ST(1, REKEYED, DESTROYING, T_DOWN),
		}, 0 },
	{ "6.0 rekey responder, DELETE arrives late", {
		ST(1, INSTALLING, INSTALLED, T_UP),
		ST(1, INSTALLED, REKEYED, T_NONE),
		ST(2, INSTALLING, INSTALLED, T_UP),
		RK(1, 2, T_DOWN, 1, 0),
		ST(1, REKEYED, DELETED, T_NONE),
		ST(1, DELETED, DESTROYING, T_NONE),
		}, 1 },
	{ "rekey collision, the peer's SA wins", {
		ST(1, INSTALLING, INSTALLED, T_UP),
		ST(2, INSTALLING, INSTALLED, T_UP),
		ST(3, INSTALLING, INSTALLED, T_UP),
		RK(1, 3, T_DOWN, 1, 0),
		ST(2, INSTALLED, DELETING, T_NONE),
		ST(2, DELETING, DELETED, T_DOWN),
		RK(2, 3, T_NONE, 0, 0),
		ST(2, DELETED, DESTROYING, T_NONE),
		ST(1, REKEYED, DESTROYING, T_NONE),
		}, 1 },
	{ "hooks without state changes (child_updown, child_rekey only)", {
		UP(1, T_UP),
		UP(1, T_NONE),
		RK(1, 2, T_REKEY, 1, 2),
		DOWN(1, T_NONE),
		DOWN(2, T_DOWN),
		DOWN(2, T_NONE),
		}, 0 },
	{ "failed rekey, then down: not taken up again", {
		ST(1, INSTALLING, INSTALLED, T_UP),
		ST(1, INSTALLED, REKEYING, T_NONE),
		ST(1, REKEYING, INSTALLED, T_NONE),
		DOWN(1, T_DOWN),
		ST(1, UPDATING, INSTALLED, T_NONE),
		ST(1, INSTALLED, DESTROYING, T_NONE),
		}, 0 },
	{ "passive HA node: state changes only", {
		ST(7, CREATED, INSTALLING, T_NONE),
		ST(7, INSTALLING, INSTALLED, T_UP),
		ST(8, CREATED, INSTALLED, T_UP),
		ST(7, INSTALLED, DESTROYING, T_DOWN),
		}, 1 },
	{ "destroyed without ever being installed", {
		ST(4, CREATED, INSTALLING, T_NONE),
		ST(4, INSTALLING, DESTROYING, T_NONE),
		DOWN(4, T_NONE),
		}, 0 },
	{ "no unique id", {
		UP(0, T_NONE),
		ST(0, INSTALLING, INSTALLED, T_NONE),
		}, 0 },
};

START_TEST(test_sequence)
{
	child_track_t *track = child_track_create();
	child_track_event_t ev;
	uint32_t old, new;
	step_t *s;
	u_int i;

	for (i = 0; seqs[_i].steps[i].hook != END; i++)
	{
		s = &seqs[_i].steps[i];
		switch (s->hook)
		{
			case UPDOWN_UP:
				ev = track->up(track, s->id);
				break;
			case UPDOWN_DOWN:
				ev = track->down(track, s->id);
				break;
			case REKEY:
				old = s->id;
				new = s->new;
				ev = track->rekey(track, &old, &new);
				ck_assert_msg(old == s->expect_old && new == s->expect_new,
							  "%s, step %u: rekey left {%u} -> {%u}",
							  seqs[_i].name, i, old, new);
				break;
			case STATE:
			default:
				ev = track->state(track, s->id, s->from, s->to);
				break;
		}
		ck_assert_msg(ev == s->expect, "%s, step %u: event %d, expected %d",
					  seqs[_i].name, i, ev, s->expect);
		if (s->hook != REKEY && s->id)
		{	/* up after an up, not after a down */
			if (ev == T_UP)
			{
				ck_assert(track->is_up(track, s->id));
			}
			else if (ev == T_DOWN)
			{
				ck_assert(!track->is_up(track, s->id));
			}
		}
	}
	ck_assert_msg(track->count(track) == seqs[_i].left,
				  "%s: %u CHILD_SAs up at the end, expected %u",
				  seqs[_i].name, track->count(track), seqs[_i].left);
	track->destroy(track);
}
END_TEST

Suite *make_child_track_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("child_track");
	tc = tcase_create("event orders");
	tcase_add_loop_test(tc, test_sequence, 0, countof(seqs));
	suite_add_tcase(s, tc);
	return s;
}
