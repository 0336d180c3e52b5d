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
 * @defgroup tunnel_nat_state tunnel_nat_state
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_STATE_H_
#define TUNNEL_NAT_STATE_H_

#include <library.h>
#include <collections/array.h>

typedef struct tunnel_nat_state_t tunnel_nat_state_t;
typedef struct tunnel_nat_elem_t tunnel_nat_elem_t;
typedef enum tunnel_nat_map_t tunnel_nat_map_t;

/**
 * The nftables maps translations live in.
 */
enum tunnel_nat_map_t {
	/** ip saddr . ip daddr => new daddr prefix */
	TUNNEL_NAT_DNAT = 0,
	/** ip saddr . ip daddr => new saddr prefix */
	TUNNEL_NAT_SNAT = 1,
	/** ip saddr . ip daddr . meta l4proto . th dport => new daddr . dport
	 *  (a port forward) */
	TUNNEL_NAT_FWD = 2,
	/** ip saddr . ip daddr => one new saddr, source ports as the kernel
	 *  picks them (many-to-one) */
	TUNNEL_NAT_PAT = 3,
	/** ip saddr . ip daddr: new flows dropped (a public address reachable
	 *  only on its forwarded ports) */
	TUNNEL_NAT_CLOSED = 4,
	/** partner side: ipsec in reqid (bind) => ct zone (value) */
	TUNNEL_NAT_PZONE = 5,
	/** partner side: ipsec in reqid (bind) => meta mark (value, the SA's
	 *  mark_in) */
	TUNNEL_NAT_PMARK = 6,
	/** partner side: alias block (dst, len) => ct zone (value) */
	TUNNEL_NAT_AZONE = 7,
	/** partner side: alias block (dst, len) => meta mark (value, the SA's
	 *  mark_out) */
	TUNNEL_NAT_AMARK = 8,
	/** partner side: alias block (dst, len) => remote block (nat) */
	TUNNEL_NAT_ADNAT = 9,
	/** partner side: the SA's mark_in (bind) . remote block (src, len) =>
	 *  alias block (nat) */
	TUNNEL_NAT_PSNAT = 10,
};

/**
 * Number of kinds of tunnel_nat_map_t of the P side (public prefixes)
 */
#define TUNNEL_NAT_MAPS 5

/**
 * Number of kinds of tunnel_nat_map_t, P side and partner side
 */
#define TUNNEL_NAT_KINDS 11

/**
 * Check if a kind of element belongs to the partner side (twice NAT).
 */
static inline bool tunnel_nat_map_is_partner(tunnel_nat_map_t map)
{
	return map >= TUNNEL_NAT_PZONE && map < TUNNEL_NAT_KINDS;
}

/**
 * Maximum length of an element comment, including the terminator.
 */
#define TUNNEL_NAT_COMMENT_LEN 64

/**
 * One element of a translation map: an interval key of two address ranges,
 * and the prefix the matching address is translated into (host bits are
 * kept, NF_NAT_RANGE_NETMAP). Addresses in host byte order.
 *
 * Partner-side elements use the fields their kind names: bind (a reqid or a
 * mark, part of the key), the key's block in src or dst with its prefix
 * length len (the length class of its map), and the data in value (a zone
 * or a mark) or nat (a block of the same length). The unused fields are 0.
 */
struct tunnel_nat_elem_t {
	/** map the element belongs to */
	tunnel_nat_map_t map;
	/** source address range */
	uint32_t src_from, src_to;
	/** destination address range */
	uint32_t dst_from, dst_to;
	/** translated prefix, first and last address */
	uint32_t nat_from, nat_to;
	/** TUNNEL_NAT_FWD: IP protocol and destination port of the key, and the
	 *  port it is translated to; 0 for the other maps */
	uint8_t proto;
	uint16_t port, nat_port;
	/** partner side: reqid (PZONE, PMARK) or mark_in (PSNAT) of the key */
	uint32_t bind;
	/** partner side: ct zone (PZONE, AZONE) or meta mark (PMARK, AMARK) */
	uint32_t value;
	/** partner side: prefix length of the blocks (AZONE to PSNAT) */
	uint8_t len;
	/** comment shown by nft, not part of the identity */
	char comment[TUNNEL_NAT_COMMENT_LEN];
};

/**
 * Apply a change to the kernel.
 *
 * @param user		user data
 * @param add		tunnel_nat_elem_t* to add
 * @param del		tunnel_nat_elem_t* to delete
 * @return			TRUE if applied whole, FALSE if nothing was applied
 */
typedef bool (*tunnel_nat_commit_t)(void *user, array_t *add, array_t *del);

/**
 * Reference counted set of translation elements, owned by CHILD_SAs.
 *
 * An element is added to the kernel when the first CHILD_SA needs it, and
 * removed when the last one that needs it goes away. Not thread-safe: the
 * caller serializes all calls.
 */
struct tunnel_nat_state_t {

	/**
	 * Give a CHILD_SA a new set of elements, and/or drop one.
	 *
	 * - up:    update(this, 0, id, elems, ...)
	 * - down:  update(this, id, 0, NULL, ...)
	 * - rekey: update(this, old, new, elems, ...)
	 *
	 * Elements that overlap (but are not equal to) an element that stays
	 * installed are refused and logged. The partner-side elements go in all
	 * or nothing: if one of them is refused, none is installed (the P side
	 * still is). The change is committed as one call to commit(); if that
	 * fails, the state is left as it was.
	 *
	 * @param old_id	unique id of the CHILD_SA that goes away, 0 for none
	 * @param new_id	unique id of the CHILD_SA to own elems, 0 for none
	 * @param elems		tunnel_nat_elem_t* the new CHILD_SA needs, or NULL
	 * @param commit	function applying the change
	 * @param user		user data passed to commit
	 * @return			TRUE if the change was committed (or was empty)
	 */
	bool (*update)(tunnel_nat_state_t *this, uint32_t old_id, uint32_t new_id,
				   array_t *elems, tunnel_nat_commit_t commit, void *user);

	/**
	 * Drop the state of a CHILD_SA without committing anything.
	 *
	 * @param id		unique id of the CHILD_SA
	 * @param del		receives the elements no longer needed, or NULL
	 */
	void (*forget)(tunnel_nat_state_t *this, uint32_t id, array_t *del);

	/**
	 * Move the ownership of a CHILD_SA's elements to another id.
	 *
	 * @param old_id	current owner
	 * @param new_id	new owner
	 */
	void (*rename)(tunnel_nat_state_t *this, uint32_t old_id, uint32_t new_id);

	/**
	 * Enumerate the installed elements.
	 *
	 * @return			enumerator over tunnel_nat_elem_t*
	 */
	enumerator_t *(*create_enumerator)(tunnel_nat_state_t *this);

	/**
	 * Reference count of an element.
	 *
	 * @param elem		element to look up
	 * @return			number of CHILD_SAs that need it, 0 if not installed
	 */
	u_int (*get_refs)(tunnel_nat_state_t *this, tunnel_nat_elem_t *elem);

	/**
	 * Number of installed elements.
	 */
	u_int (*get_count)(tunnel_nat_state_t *this);

	/**
	 * Number of CHILD_SAs that own elements.
	 */
	u_int (*get_sa_count)(tunnel_nat_state_t *this);

	/**
	 * Destroy the state.
	 */
	void (*destroy)(tunnel_nat_state_t *this);
};

/**
 * Create an empty state.
 */
tunnel_nat_state_t *tunnel_nat_state_create();

/**
 * Format an element for logs, e.g. "DNAT 192.0.2.0/24 . 192.0.2.10 => 10.1.0.10".
 *
 * @param elem		element
 * @param buf		buffer
 * @param len		buffer size
 * @return			buf
 */
char *tunnel_nat_elem_str(tunnel_nat_elem_t *elem, char *buf, size_t len);

/**
 * Check if two elements are the same translation (comments aside).
 */
bool tunnel_nat_elem_equals(tunnel_nat_elem_t *a, tunnel_nat_elem_t *b);

/**
 * Hash an element, consistent with tunnel_nat_elem_equals().
 */
u_int tunnel_nat_elem_hash(tunnel_nat_elem_t *elem);

/**
 * Add a new element to a list: its map and comment set, the rest 0.
 *
 * @param elems		list to add it to, of allocated tunnel_nat_elem_t*
 * @param map		map it belongs to
 * @param comment	its comment (truncated to TUNNEL_NAT_COMMENT_LEN)
 * @return			the element, to fill in
 */
tunnel_nat_elem_t *tunnel_nat_elem_add(array_t *elems, tunnel_nat_map_t map,
									   const char *comment);

#endif /** TUNNEL_NAT_STATE_H_ @}*/
