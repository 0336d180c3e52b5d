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
 * @defgroup ha_takeover ha_takeover
 * @{ @ingroup tunnel_common
 */

#ifndef HA_TAKEOVER_H_
#define HA_TAKEOVER_H_

#include <library.h>
#include <sa/ike_sa.h>

/**
 * A CHILD_SA of an IKE_SA that a node of an HA pair takes over.
 */
typedef struct {
	/** reqid (the policies it shares with its rekeyed predecessors) */
	uint32_t reqid;
	/** unique id on this node (a later synced CHILD_SA has a higher one) */
	uint32_t id;
	/** set by ha_takeover_plan(): TRUE to rekey it, FALSE to delete it */
	bool rekey;
} ha_takeover_child_t;

/**
 * What a node that takes over does with the synced CHILD_SAs of an IKE_SA.
 *
 * ESP sequence numbers are not synced (without ClusterIP): the new active
 * node's outbound SAs start at 1 again, and the peer's replay window drops
 * their packets until they pass the old node's last sequence number. A rekey
 * of each CHILD_SA gives both ends fresh SAs. A rekey on the old active node
 * shortly before its death can leave its predecessor installed on the new
 * one: the ha plugin syncs the delete only when the old node destroys it,
 * seconds after the rekey. Of the CHILD_SAs with the same reqid, the newest
 * (highest unique id) is the one the peer uses: it is rekeyed, the others are
 * deleted. Pure: no charon, no kernel.
 *
 * @param children	the installed CHILD_SAs, rekey set on return
 * @param count		number of children
 * @return			number of CHILD_SAs to rekey
 */
u_int ha_takeover_plan(ha_takeover_child_t *children, u_int count);

/**
 * Check if an IKE_SA state change is a takeover by this node.
 *
 * @param ike_sa	IKE_SA, in its old state
 * @param state		its new state
 * @return			TRUE for PASSIVE -> ESTABLISHED
 */
bool ha_takeover_is_takeover(ike_sa_t *ike_sa, ike_sa_state_t state);

/**
 * Check if tunnel-nat does the takeover rekeys: if its ha_takeover_rekey
 * is set and tunnel-route does not do them (not loaded, or its own
 * ha_takeover_rekey is off). With both plugins loaded, one rekey, not two.
 *
 * @return			TRUE if tunnel-nat rekeys on a takeover
 */
bool ha_takeover_by_tunnel_nat();

/**
 * Rekey the synced CHILD_SAs of an IKE_SA this node took over (and delete
 * the predecessors of rekeyed ones), in a job of its own: the caller is a
 * listener hook, under the bus lock with the IKE_SA checked out.
 *
 * @param ike_sa	the IKE_SA taken over
 * @param who		plugin name, for the log
 */
void ha_takeover_queue(ike_sa_t *ike_sa, const char *who);

#endif /** HA_TAKEOVER_H_ @}*/
