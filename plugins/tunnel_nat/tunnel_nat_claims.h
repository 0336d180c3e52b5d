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
 * @defgroup tunnel_nat_claims tunnel_nat_claims
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_CLAIMS_H_
#define TUNNEL_NAT_CLAIMS_H_

#include <library.h>

typedef struct tunnel_nat_claims_t tunnel_nat_claims_t;

/**
 * An index of the IPv4 prefixes the accepted mappings claim, per scope (a
 * CHILD_SA config name, or "" for prefixes that must be unique across all
 * of them) and side (what kind of prefix it is), for the overlap checks of
 * the config parser.
 *
 * Prefixes overlap if one contains the other. A lookup costs one hash probe
 * per prefix length in use that is shorter or equal, plus one, so a whole
 * load stays linear in the number of mappings.
 */
struct tunnel_nat_claims_t {

	/**
	 * The owner of a claimed prefix that overlaps net/len in a scope and side.
	 *
	 * @param scope		CHILD_SA config name, or ""
	 * @param side		kind of prefix, as given to add()
	 * @param net		network address, host bits clear (host order)
	 * @param len		prefix length, one of the lengths in use
	 * @return			owner given to add(), NULL if none overlaps
	 */
	void *(*find)(tunnel_nat_claims_t *this, const char *scope, uint8_t side,
				  uint32_t net, uint8_t len);

	/**
	 * Claim a prefix. The first claim of a prefix stays; the scope string
	 * must outlive the index.
	 *
	 * @param scope		CHILD_SA config name, or ""
	 * @param side		kind of prefix
	 * @param net		network address, host bits clear (host order)
	 * @param len		prefix length, one of the lengths in use
	 * @param owner		what find() returns for it
	 */
	void (*add)(tunnel_nat_claims_t *this, const char *scope, uint8_t side,
				uint32_t net, uint8_t len, void *owner);

	/**
	 * Destroy the index.
	 */
	void (*destroy)(tunnel_nat_claims_t *this);
};

/**
 * Create an index.
 *
 * @param lens			prefix lengths in use, bit L for length L (0..32)
 * @param size			expected number of claims
 * @return				index
 */
tunnel_nat_claims_t *tunnel_nat_claims_create(uint64_t lens, u_int size);

#endif /** TUNNEL_NAT_CLAIMS_H_ @}*/
