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
 * @defgroup tunnel_nat_change tunnel_nat_change
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_CHANGE_H_
#define TUNNEL_NAT_CHANGE_H_

#include <library.h>
#include <collections/array.h>

#include "tunnel_nat_state.h"

typedef struct tunnel_nat_change_t tunnel_nat_change_t;

/**
 * The net change of a batch of events to the state: what the kernel gets
 * added and deleted once all of them are applied, in one transaction. An
 * element one event adds and another deletes (or the reverse) is not
 * touched. No netlink, no threads.
 */
struct tunnel_nat_change_t {

	/**
	 * Get the net change collected so far.
	 *
	 * @param add		receives a new array of the tunnel_nat_elem_t* to
	 *					add (owned by this, valid until destroy)
	 * @param del		receives a new array of the tunnel_nat_elem_t* to
	 *					delete (owned by this, valid until destroy)
	 */
	void (*get)(tunnel_nat_change_t *this, array_t **add, array_t **del);

	/**
	 * Destroy the change.
	 */
	void (*destroy)(tunnel_nat_change_t *this);
};

/**
 * Create an empty change.
 */
tunnel_nat_change_t *tunnel_nat_change_create();

/**
 * Collect one commit of tunnel_nat_state_t.update() into a change: pass
 * it as the commit function, the change as its user data.
 *
 * @param user		tunnel_nat_change_t
 * @param add		tunnel_nat_elem_t* added
 * @param del		tunnel_nat_elem_t* deleted
 * @return			TRUE
 */
bool tunnel_nat_change_collect(void *user, array_t *add, array_t *del);

/**
 * The change from one state to another: the elements of to that are not in
 * from, and the reverse. What both have is not touched.
 *
 * @param from		current state
 * @param to		next state
 * @param add		receives a new array of elements of to (not owned)
 * @param del		receives a new array of elements of from (not owned)
 */
void tunnel_nat_change_between(tunnel_nat_state_t *from, tunnel_nat_state_t *to,
							   array_t **add, array_t **del);

#endif /** TUNNEL_NAT_CHANGE_H_ @}*/
