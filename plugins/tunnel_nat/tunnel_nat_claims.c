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

#include "tunnel_nat_claims.h"

#include <tunnel_util.h>

#include <collections/hashtable.h>

typedef struct private_tunnel_nat_claims_t private_tunnel_nat_claims_t;

/**
 * Private data of a tunnel_nat_claims_t object.
 */
struct private_tunnel_nat_claims_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_claims_t public;

	/**
	 * claim_t => claim_t
	 */
	hashtable_t *claims;

	/**
	 * Prefix lengths in use, a bit per length
	 */
	uint64_t lens;
};

/**
 * A claimed prefix, or one that contains a claimed prefix (an ancestor)
 */
typedef struct {
	/** scope, owned by the caller */
	const char *scope;
	/** hash of the scope */
	u_int scope_hash;
	/** network address, host bits clear */
	uint32_t net;
	/** prefix length */
	uint8_t len;
	/** kind of prefix */
	uint8_t side;
	/** TRUE for the prefix itself, FALSE for an ancestor */
	bool exact;
	/** who claims it (or a prefix below it) */
	void *owner;
} claim_t;

static u_int claim_hash(const void *key)
{
	const claim_t *c = key;
	uint32_t v[] = { c->net, c->len | (c->side << 8) | (c->exact << 16) };

	return chunk_hash_inc(chunk_create((u_char*)v, sizeof(v)), c->scope_hash);
}

static bool claim_equals(const void *a, const void *b)
{
	const claim_t *x = a, *y = b;

	return x->net == y->net && x->len == y->len && x->side == y->side &&
		   x->exact == y->exact && streq(x->scope, y->scope);
}

CALLBACK(claim_destroy, void,
	claim_t *claim, const void *key)
{
	free(claim);
}

METHOD(tunnel_nat_claims_t, find, void*,
	private_tunnel_nat_claims_t *this, const char *scope, uint8_t side,
	uint32_t net, uint8_t len)
{
	claim_t key = {
		.scope = scope,
		.scope_hash = chunk_hash(chunk_from_str((char*)scope)),
		.side = side,
	}, *found;
	int l;

	key.exact = TRUE;
	for (l = 0; l <= len; l++)
	{
		if (!(this->lens & (1ULL << l)))
		{
			continue;
		}
		key.net = net & tunnel_mask(l);
		key.len = l;
		found = this->claims->get(this->claims, &key);
		if (found)
		{
			return found->owner;
		}
	}
	key.exact = FALSE;
	key.net = net;
	key.len = len;
	found = this->claims->get(this->claims, &key);
	return found ? found->owner : NULL;
}

METHOD(tunnel_nat_claims_t, add, void,
	private_tunnel_nat_claims_t *this, const char *scope, uint8_t side,
	uint32_t net, uint8_t len, void *owner)
{
	u_int hash = chunk_hash(chunk_from_str((char*)scope));
	claim_t *claim;
	int l;

	/* the prefix, and its ancestors of the lengths in use (where a shorter
	 * prefix looks for it) */
	for (l = len; l >= 0; l--)
	{
		if (l < len && !(this->lens & (1ULL << l)))
		{
			continue;
		}
		INIT(claim,
			.scope = scope,
			.scope_hash = hash,
			.net = net & tunnel_mask(l),
			.len = l,
			.side = side,
			.exact = l == len,
			.owner = owner,
		);
		if (this->claims->get(this->claims, claim))
		{	/* the first one recorded stays */
			free(claim);
			continue;
		}
		this->claims->put(this->claims, claim, claim);
	}
}

METHOD(tunnel_nat_claims_t, destroy, void,
	private_tunnel_nat_claims_t *this)
{
	this->claims->destroy_function(this->claims, claim_destroy);
	free(this);
}

/*
 * Described in header
 */
tunnel_nat_claims_t *tunnel_nat_claims_create(uint64_t lens, u_int size)
{
	private_tunnel_nat_claims_t *this;

	INIT(this,
		.public = {
			.find = _find,
			.add = _add,
			.destroy = _destroy,
		},
		.claims = hashtable_create(claim_hash, claim_equals, max(64, size)),
		.lens = lens,
	);
	return &this->public;
}
