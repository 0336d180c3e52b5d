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
 * @defgroup tunnel_nat_ct tunnel_nat_ct
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_CT_H_
#define TUNNEL_NAT_CT_H_

#include "tunnel_nat_state.h"

typedef struct tunnel_nat_ct_flow_t tunnel_nat_ct_flow_t;

/**
 * What the clean-up looks at of a conntrack entry. Addresses and ports in
 * host order; ports are 0 for protocols without them.
 */
struct tunnel_nat_ct_flow_t {
	/** conntrack zone, 0 for none */
	uint16_t zone;
	/** IP protocol */
	uint8_t proto;
	/** original source and destination address */
	uint32_t osrc, odst;
	/** reply source and destination address */
	uint32_t rsrc, rdst;
	/** original destination port */
	uint16_t odport;
	/** reply source port */
	uint16_t rsport;
};

/**
 * Whether a conntrack entry is stale after translations were added or
 * removed, so that deleting it lets the flow's next packet be translated
 * (or no longer translated) and routed anew.
 *
 * - added element: the entry matches its key but is not translated by it
 *   (tracked before the tunnel was up, or translated otherwise)
 * - removed element: the entry carries its translation
 *
 * A port forward's key includes its protocol and port: flows to other
 * ports of P, forwarded by other elements, are not its own.
 *
 * Of the partner side, only the alias's zone (TUNNEL_NAT_AZONE) is looked
 * at, as it names both the zone and the alias block of a binding:
 *
 * - added: an entry to the alias block outside its zone (tracked
 *   untranslated while the partner was down)
 * - removed: an entry of its zone to or from the alias block (flows the app
 *   started to the alias, flows the partner started, SNATed to the alias)
 *
 * @param elem		element added or removed
 * @param added		TRUE if added, FALSE if removed
 * @param flow		the conntrack entry
 * @return			TRUE if the entry is to be deleted
 */
bool tunnel_nat_ct_stale(tunnel_nat_elem_t *elem, bool added,
						 tunnel_nat_ct_flow_t *flow);

/**
 * Whether a conntrack entry is stale after a change (or the net-out of
 * queued changes): an added element finds it stale, or a removed one does
 * and no added element still in place carries the same translation of it.
 *
 * The latter keeps the flows a reload gives another element of the same
 * effect: when a 1:1 mapping of a host is replaced by many-to-one of its
 * prefix, the host's flows SNATed to P are SNATed to P by the new element
 * too, whether they started before the reload or after it, before the
 * clean-up. An added element that is also among the removed ones (added,
 * then removed again before the clean-up) keeps nothing.
 *
 * @param added		tunnel_nat_elem_t*, elements added, or NULL
 * @param removed	tunnel_nat_elem_t*, elements removed, or NULL
 * @param flow		the conntrack entry
 * @return			TRUE if the entry is to be deleted
 */
bool tunnel_nat_ct_flow_stale(array_t *added, array_t *removed,
							  tunnel_nat_ct_flow_t *flow);

/**
 * Delete the conntrack entries made stale by a change, through
 * libnetfilter_conntrack: one dump of the IPv4 table, then one delete per
 * stale entry. Entries of other flows are not touched.
 *
 * @param added		tunnel_nat_elem_t, elements added
 * @param removed	tunnel_nat_elem_t, elements removed
 * @param zones		uint16_t, zones whose entries are all deleted (of
 *					CHILD_SA configs no longer in the settings), or NULL
 * @param what		what changed, for log messages
 * @return			number of entries deleted, -1 if the table could not be
 *					read (logged)
 */
int tunnel_nat_ct_flush(array_t *added, array_t *removed, array_t *zones,
						const char *what);

/**
 * A partner's alias block and the conntrack zone of its CHILD_SA config
 */
typedef struct {
	/** first address of the alias block (host order) */
	uint32_t from;
	/** last address of the alias block */
	uint32_t to;
	/** zone of the block's CHILD_SA config */
	uint16_t zone;
} tunnel_nat_ct_owner_t;

/**
 * Whether an entry of a partner zone is foreign to the current zone
 * assignment: neither its original destination (a flow our side started to
 * an alias) nor its reply destination (a flow the partner started, SNATed
 * to its alias) lies in an alias block whose CHILD_SA config has the entry's
 * zone. Such entries are left by an earlier run whose assignment differed
 * (the zones are given in the settings' order): a partner that got another
 * one's zone would meet that partner's flows.
 *
 * @param owners	tunnel_nat_ct_owner_t, sorted by from, disjoint
 * @param first		first zone of partner_zones
 * @param last		last zone of partner_zones
 * @param zone		conntrack zone of the entry
 * @param odst		original destination address (host order)
 * @param rdst		reply destination address
 * @return			TRUE if the entry is in partner_zones and foreign
 */
bool tunnel_nat_ct_foreign(array_t *owners, uint16_t first, uint16_t last,
						   uint16_t zone, uint32_t odst, uint32_t rdst);

/**
 * Delete the entries of partner_zones that are foreign to the current zone
 * assignment (tunnel_nat_ct_foreign()): one dump of the IPv4 table, one
 * delete per such entry.
 *
 * @param owners	tunnel_nat_ct_owner_t, sorted by from, disjoint
 * @param first		first zone of partner_zones
 * @param last		last zone of partner_zones
 * @param what		for log messages
 * @return			number of entries deleted, -1 if the table could not be
 *					read (logged)
 */
int tunnel_nat_ct_flush_foreign(array_t *owners, uint16_t first,
								uint16_t last, const char *what);

typedef struct tunnel_nat_ct_queue_t tunnel_nat_ct_queue_t;

/**
 * Changes waiting for the conntrack clean-up, with the net-out of an
 * element removed and added again before the clean-up (a break-before-make
 * reauthentication): the pair cancels out, so the flows of the element
 * keep their entries. An element added and then removed is kept on both
 * sides (entries with and without its translation may both be stale). Not
 * thread-safe.
 */
struct tunnel_nat_ct_queue_t {

	/**
	 * Queue a change.
	 *
	 * @param add		tunnel_nat_elem_t*, elements added (copied)
	 * @param del		tunnel_nat_elem_t*, elements removed (copied)
	 */
	void (*queue)(tunnel_nat_ct_queue_t *this, array_t *add, array_t *del);

	/**
	 * Take the queued changes, leaving the queue empty.
	 *
	 * @param add		receives the added elements (tunnel_nat_elem_t*,
	 *					free() them)
	 * @param del		receives the removed elements (the same)
	 * @return			number of changes queued
	 */
	u_int (*take)(tunnel_nat_ct_queue_t *this, array_t **add, array_t **del);

	/**
	 * Destroy the queue and the elements in it.
	 */
	void (*destroy)(tunnel_nat_ct_queue_t *this);
};

/**
 * Create an empty queue.
 */
tunnel_nat_ct_queue_t *tunnel_nat_ct_queue_create();

#endif /** TUNNEL_NAT_CT_H_ @}*/
