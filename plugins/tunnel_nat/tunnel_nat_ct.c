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

#include "tunnel_nat_ct.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <utils/debug.h>
#include <collections/hashtable.h>
#include <tunnel_util.h>

static inline bool in(uint32_t a, uint32_t from, uint32_t to)
{
	return from <= a && a <= to;
}

/**
 * Whether an entry is stale after an alias's zone (TUNNEL_NAT_AZONE) was
 * added or removed
 */
static bool alias_stale(tunnel_nat_elem_t *elem, bool added, uint16_t zone,
						uint32_t odst, uint32_t rdst)
{
	if (added)
	{
		return zone != elem->value && in(odst, elem->dst_from, elem->dst_to);
	}
	return zone == elem->value && (in(odst, elem->dst_from, elem->dst_to) ||
								   in(rdst, elem->dst_from, elem->dst_to));
}

/**
 * How a P-side element sees a conntrack entry
 */
typedef enum {
	/** not its key (or the element does not translate) */
	CT_OTHER,
	/** its key, carrying its translation */
	CT_TRANSLATED,
	/** its key, without its translation */
	CT_UNTRANSLATED,
} ct_view_t;

/**
 * Whether a P-side element's key matches an entry, and whether the entry
 * carries the element's translation. The P side's translations are not
 * keyed by zone: the entries of every zone are looked at.
 */
static ct_view_t view(tunnel_nat_elem_t *elem, tunnel_nat_ct_flow_t *flow)
{
	bool translated;

	if (!in(flow->osrc, elem->src_from, elem->src_to) ||
		!in(flow->odst, elem->dst_from, elem->dst_to))
	{
		return CT_OTHER;
	}
	switch (elem->map)
	{
		case TUNNEL_NAT_FWD:
			/* a forward is keyed by its port: the flows to P's other ports
			 * are other forwards' (or closed) */
			if (flow->proto != elem->proto || flow->odport != elem->port)
			{
				return CT_OTHER;
			}
			translated = in(flow->rsrc, elem->nat_from, elem->nat_to) &&
						 flow->rsport == elem->nat_port;
			break;
		case TUNNEL_NAT_SNAT:
		case TUNNEL_NAT_PAT:
			/* SNAT changes where replies go to; ports are not looked at */
			translated = in(flow->rdst, elem->nat_from, elem->nat_to);
			break;
		case TUNNEL_NAT_DNAT:
			/* DNAT changes where replies come from, never the port (one
			 * that changed is a forward's) */
			translated = in(flow->rsrc, elem->nat_from, elem->nat_to) &&
						 flow->rsport == flow->odport;
			break;
		default:
			return CT_OTHER;
	}
	return translated ? CT_TRANSLATED : CT_UNTRANSLATED;
}

/*
 * Described in header
 */
bool tunnel_nat_ct_stale(tunnel_nat_elem_t *elem, bool added,
						 tunnel_nat_ct_flow_t *flow)
{
	if (elem->map == TUNNEL_NAT_AZONE)
	{
		return alias_stale(elem, added, flow->zone, flow->odst, flow->rdst);
	}
	if (tunnel_nat_map_is_partner(elem->map))
	{	/* the alias's zone stands for the binding's other elements */
		return FALSE;
	}
	if (elem->map == TUNNEL_NAT_CLOSED)
	{	/* flows to a P that is now closed (ports are not looked at: a
		 * forwarded port's flow is translated, caught by its element) */
		return added && in(flow->osrc, elem->src_from, elem->src_to) &&
			   in(flow->odst, elem->dst_from, elem->dst_to) &&
			   in(flow->rsrc, elem->dst_from, elem->dst_to);
	}
	return view(elem, flow) == (added ? CT_UNTRANSLATED : CT_TRANSLATED);
}

/**
 * Whether an element is among others (tunnel_nat_elem_t*)
 */
static bool elem_in(array_t *elems, tunnel_nat_elem_t *elem)
{
	tunnel_nat_elem_t *other;
	u_int i;

	for (i = 0; i < array_count(elems); i++)
	{
		array_get(elems, i, &other);
		if (tunnel_nat_elem_equals(other, elem))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Whether an added element that is still in place (not removed again
 * before the clean-up) translates an entry
 */
static bool kept_by(array_t *added, array_t *removed,
					tunnel_nat_ct_flow_t *flow)
{
	tunnel_nat_elem_t *elem;
	u_int i;

	for (i = 0; i < array_count(added); i++)
	{
		array_get(added, i, &elem);
		if (!tunnel_nat_map_is_partner(elem->map) &&
			view(elem, flow) == CT_TRANSLATED && !elem_in(removed, elem))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/*
 * Described in header
 */
bool tunnel_nat_ct_flow_stale(array_t *added, array_t *removed,
							  tunnel_nat_ct_flow_t *flow)
{
	tunnel_nat_elem_t *elem;
	u_int i;

	for (i = 0; i < array_count(added); i++)
	{
		array_get(added, i, &elem);
		if (tunnel_nat_ct_stale(elem, TRUE, flow))
		{
			return TRUE;
		}
	}
	for (i = 0; i < array_count(removed); i++)
	{
		array_get(removed, i, &elem);
		if (tunnel_nat_ct_stale(elem, FALSE, flow) &&
			(tunnel_nat_map_is_partner(elem->map) ||
			 !kept_by(added, removed, flow)))
		{
			return TRUE;
		}
	}
	return FALSE;
}

static int owner_cmp(const void *a, const void *b)
{
	const uint32_t *addr = a;
	const tunnel_nat_ct_owner_t *owner = b;

	if (*addr < owner->from)
	{
		return -1;
	}
	return *addr > owner->to ? 1 : 0;
}

/**
 * Whether an address lies in an alias block of a zone
 */
static bool owned(array_t *owners, uint16_t zone, uint32_t addr)
{
	tunnel_nat_ct_owner_t owner;

	return array_bsearch(owners, &addr, owner_cmp, &owner) >= 0 &&
		   owner.zone == zone;
}

/*
 * Described in header
 */
bool tunnel_nat_ct_foreign(array_t *owners, uint16_t first, uint16_t last,
						   uint16_t zone, uint32_t odst, uint32_t rdst)
{
	if (!zone || zone < first || zone > last)
	{
		return FALSE;
	}
	return !owned(owners, zone, odst) && !owned(owners, zone, rdst);
}

/**
 * What the dump looks for, and what it found
 */
typedef struct {
	array_t *added;
	array_t *removed;
	/** uint16_t, zones whose entries are all stale, or NULL */
	array_t *zones;
	/** tunnel_nat_ct_owner_t, with first and last: entries of partner_zones
	 * foreign to them are stale; or NULL */
	array_t *owners;
	uint16_t first, last;
	/** struct nf_conntrack*, clones of stale entries */
	array_t *stale;
} ct_ctx_t;

static bool zone_in(array_t *zones, uint16_t zone)
{
	uint16_t z;
	u_int i;

	for (i = 0; i < array_count(zones); i++)
	{
		array_get(zones, i, &z);
		if (z == zone)
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * A port of the entry (host order), 0 if it has none
 */
static uint16_t ct_port(struct nf_conntrack *ct, enum nf_conntrack_attr attr)
{
	return nfct_attr_is_set(ct, attr) > 0 ? ntohs(nfct_get_attr_u16(ct, attr))
										  : 0;
}

static int dump_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
				   void *data)
{
	ct_ctx_t *ctx = data;
	tunnel_nat_ct_flow_t flow;

	if (nfct_get_attr_u8(ct, ATTR_L3PROTO) != AF_INET)
	{
		return NFCT_CB_CONTINUE;
	}
	flow = (tunnel_nat_ct_flow_t){
		/* 0 if the entry has no zone, and it has the same in both
		 * directions on the partner side */
		.zone = nfct_get_attr_u16(ct, ATTR_ZONE),
		.proto = nfct_get_attr_u8(ct, ATTR_L4PROTO),
		.osrc = ntohl(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC)),
		.odst = ntohl(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST)),
		.rsrc = ntohl(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC)),
		.rdst = ntohl(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_DST)),
		.odport = ct_port(ct, ATTR_ORIG_PORT_DST),
		.rsport = ct_port(ct, ATTR_REPL_PORT_SRC),
	};
	if ((flow.zone && zone_in(ctx->zones, flow.zone)) ||
		tunnel_nat_ct_flow_stale(ctx->added, ctx->removed, &flow) ||
		(ctx->owners && tunnel_nat_ct_foreign(ctx->owners, ctx->first,
											  ctx->last, flow.zone, flow.odst,
											  flow.rdst)))
	{
		array_insert(ctx->stale, ARRAY_TAIL, nfct_clone(ct));
	}
	return NFCT_CB_CONTINUE;
}

/**
 * Number of conntrack entries in our network namespace, 1 if unknown
 */
static u_int ct_count()
{
	char buf[32] = "";
	FILE *file;
	u_int count = 1;

	file = fopen("/proc/sys/net/netfilter/nf_conntrack_count", "r");
	if (file)
	{
		if (fgets(buf, sizeof(buf), file))
		{
			count = strtoul(buf, NULL, 10);
		}
		fclose(file);
	}
	return count;
}

/**
 * Dump the IPv4 table, delete the entries the context finds stale
 */
static int flush(ct_ctx_t *ctx, const char *what)
{
	struct nfct_handle *h;
	struct nf_conntrack *ct;
	uint32_t family = AF_INET;
	int deleted = 0;

	h = nfct_open(CONNTRACK, 0);
	if (!h)
	{
		DBG1(DBG_CHD, "%s: opening conntrack netlink socket failed: %s",
			 what, strerror(errno));
		return -1;
	}
	ctx->stale = array_create(0, 0);
	nfct_callback_register(h, NFCT_T_ALL, dump_cb, ctx);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0)
	{
		DBG1(DBG_CHD, "%s: reading the conntrack table failed: %s", what,
			 strerror(errno));
		deleted = -1;
	}
	nfct_callback_unregister(h);
	while (array_remove(ctx->stale, ARRAY_HEAD, &ct))
	{
		if (deleted >= 0)
		{
			if (nfct_query(h, NFCT_Q_DESTROY, ct) == 0)
			{
				deleted++;
			}
			else if (errno != ENOENT)
			{	/* ENOENT: it timed out meanwhile */
				DBG1(DBG_CHD, "%s: deleting a conntrack entry failed: %s",
					 what, strerror(errno));
			}
		}
		nfct_destroy(ct);
	}
	array_destroy(ctx->stale);
	nfct_close(h);
	return deleted;
}

/*
 * Described in header
 */
int tunnel_nat_ct_flush(array_t *added, array_t *removed, array_t *zones,
						const char *what)
{
	ct_ctx_t ctx = {
		.added = added,
		.removed = removed,
		.zones = zones,
	};

	if ((!array_count(added) && !array_count(removed) &&
		 !array_count(zones)) || !ct_count())
	{	/* nothing to look for, or nothing tracked in this namespace: spare
		 * the walk of the kernel's hash table (shared by all namespaces,
		 * milliseconds for a quarter million buckets) */
		return 0;
	}
	return flush(&ctx, what);
}

/*
 * Described in header
 */
int tunnel_nat_ct_flush_foreign(array_t *owners, uint16_t first,
								uint16_t last, const char *what)
{
	ct_ctx_t ctx = {
		.owners = owners,
		.first = first,
		.last = last,
	};

	return ct_count() ? flush(&ctx, what) : 0;
}

typedef struct private_tunnel_nat_ct_queue_t private_tunnel_nat_ct_queue_t;

/**
 * Private data of a tunnel_nat_ct_queue_t object.
 */
struct private_tunnel_nat_ct_queue_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_ct_queue_t public;

	/**
	 * tunnel_nat_elem_t*, elements added (owned)
	 */
	array_t *added;

	/**
	 * tunnel_nat_elem_t*, elements removed, each once (owned, key = value)
	 */
	hashtable_t *removed;

	/**
	 * Number of changes queued
	 */
	u_int changes;
};

static u_int elem_hash(const void *key)
{
	return tunnel_nat_elem_hash((tunnel_nat_elem_t*)key);
}

static bool elem_equals(const void *a, const void *b)
{
	return tunnel_nat_elem_equals((tunnel_nat_elem_t*)a, (tunnel_nat_elem_t*)b);
}

static tunnel_nat_elem_t *elem_clone(tunnel_nat_elem_t *elem)
{
	tunnel_nat_elem_t *copy;

	copy = malloc_thing(tunnel_nat_elem_t);
	*copy = *elem;
	return copy;
}

METHOD(tunnel_nat_ct_queue_t, queue, void,
	private_tunnel_nat_ct_queue_t *this, array_t *add, array_t *del)
{
	tunnel_nat_elem_t *elem, *old;
	u_int i;

	for (i = 0; i < array_count(del); i++)
	{
		array_get(del, i, &elem);
		elem = elem_clone(elem);
		free(this->removed->put(this->removed, elem, elem));
	}
	for (i = 0; i < array_count(add); i++)
	{
		array_get(add, i, &elem);
		old = this->removed->remove(this->removed, elem);
		if (old)
		{	/* removed and added again: its flows' entries stay */
			free(old);
			continue;
		}
		array_insert(this->added, ARRAY_TAIL, elem_clone(elem));
	}
	this->changes++;
}

METHOD(tunnel_nat_ct_queue_t, take, u_int,
	private_tunnel_nat_ct_queue_t *this, array_t **add, array_t **del)
{
	enumerator_t *enumerator;
	tunnel_nat_elem_t *elem;
	u_int changes;

	*add = this->added;
	this->added = array_create(0, 0);
	*del = tunnel_array_create(0, this->removed->get_count(this->removed));
	enumerator = this->removed->create_enumerator(this->removed);
	while (enumerator->enumerate(enumerator, NULL, &elem))
	{
		this->removed->remove_at(this->removed, enumerator);
		array_insert(*del, ARRAY_TAIL, elem);
	}
	enumerator->destroy(enumerator);
	changes = this->changes;
	this->changes = 0;
	return changes;
}

METHOD(tunnel_nat_ct_queue_t, queue_destroy, void,
	private_tunnel_nat_ct_queue_t *this)
{
	array_t *add, *del;

	take(this, &add, &del);
	array_destroy_function(add, (void*)free, NULL);
	array_destroy_function(del, (void*)free, NULL);
	array_destroy(this->added);
	this->removed->destroy(this->removed);
	free(this);
}

/*
 * Described in header
 */
tunnel_nat_ct_queue_t *tunnel_nat_ct_queue_create()
{
	private_tunnel_nat_ct_queue_t *this;

	INIT(this,
		.public = {
			.queue = _queue,
			.take = _take,
			.destroy = _queue_destroy,
		},
		.added = array_create(0, 0),
		.removed = hashtable_create(elem_hash, elem_equals, 32),
	);
	return &this->public;
}
