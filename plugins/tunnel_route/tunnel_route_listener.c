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

#include "tunnel_route_listener.h"
#include "tunnel_route_config.h"
#include "tunnel_route_nft.h"
#include "tunnel_route_rtnl.h"

#include <net/if.h>
#include <stdio.h>
#include <linux/rtnetlink.h>

#include <daemon.h>
#include <collections/hashtable.h>
#include <networking/tun_device.h>
#include <threading/mutex.h>
#include <threading/condvar.h>
#include <threading/thread.h>
#include <tunnel_util.h>
#include <sw_compat.h>
#include <child_track.h>
#include <event_stats.h>
#include <nl_monitor.h>
#include <linux/netfilter/nfnetlink.h>

typedef struct private_tunnel_route_listener_t private_tunnel_route_listener_t;

/**
 * Where a destination's route points.
 */
typedef struct {
	/** refuse (fail-closed) */
	bool prohibit;
	/** outgoing interface, 0 for none */
	uint32_t oif;
	/** gateway, 0 for none */
	uint32_t gw;
} target_t;

/**
 * A destination prefix in the plugin's routing table.
 */
typedef struct {
	/** prefix, the hash key */
	uint32_t net;
	uint8_t len;
	/** children that list it as a destination */
	u_int known;
	/** up_t*, CHILD_SAs that route it, the first one wins */
	array_t *ups;
	/** what the kernel has */
	target_t installed;
	/** collected in the current change */
	bool touched;
} dest_t;

/**
 * A CHILD_SA routing a destination.
 */
typedef struct {
	uint32_t sa;
	target_t target;
} up_t;

/**
 * A CHILD_SA config with sources.
 */
typedef struct {
	char *name;
	/** known_t*, its known destination ranges: configured or negotiated */
	hashtable_t *known;
	/** tunnel_route_range_t*, the configured ones, sorted */
	array_t *configured;
	/** sa_t* of its installed CHILD_SAs (owned by the sas hashtable) */
	array_t *sas;
} child_t;

/**
 * A known destination range of a child, with the number of reasons to know
 * it (its config, and each CHILD_SA that negotiated it), so that a CHILD_SA
 * event costs the same whatever the number of CHILD_SAs of the child.
 */
typedef struct {
	tunnel_route_range_t range;
	u_int refs;
} known_t;

/**
 * An installed CHILD_SA.
 */
typedef struct {
	uint32_t id;
	/** name of its config */
	char *child;
	/** dest_t* it routes */
	array_t *dests;
	/** tunnel_route_range_t*, negotiated remote ranges */
	array_t *ranges;
} sa_t;

/**
 * An element of the set of pairs that get the mark.
 */
typedef struct {
	/** key: the set, and the element */
	bool bypass;
	tunnel_route_range_t src, dst;
	/** children that need it */
	u_int refs;
	/** in the kernel's set */
	bool installed;
	/** collected in the current change */
	bool touched;
	/** comment */
	char comment[64];
} pair_t;

/**
 * Private data of a tunnel_route_listener_t object.
 */
struct private_tunnel_route_listener_t {

	/**
	 * Public interface.
	 */
	tunnel_route_listener_t public;

	/**
	 * Netlink sockets, not owned
	 */
	nl_socket_t *rtnl, *nfnl;

	/**
	 * Settings, NULL until started
	 */
	tunnel_route_config_t *config;

	/**
	 * dest_t, by prefix
	 */
	hashtable_t *dests;

	/**
	 * child_t, by name
	 */
	hashtable_t *children;

	/**
	 * sa_t, by unique id
	 */
	hashtable_t *sas;

	/**
	 * The CHILD_SAs the hooks took up, so each is released once
	 */
	child_track_t *track;

	/**
	 * pair_t, by key
	 */
	hashtable_t *pairs;

	/**
	 * Serializes events, the scanner and netlink
	 */
	mutex_t *mutex;

	/**
	 * Wakes the scanner early (to stop)
	 */
	condvar_t *condvar;

	/**
	 * Thread scanning the configured CHILD_SAs
	 */
	thread_t *scanner;

	/**
	 * Tell the scanner to stop
	 */
	bool stopping;

	/**
	 * The start-up guard is in place
	 */
	bool guarding;

	/**
	 * When the guard was put in place
	 */
	time_t guard_started;

	/**
	 * Watch for deletions of our nftables table, rules and routes
	 */
	nl_monitor_t *nft_monitor, *rt_monitor;

	/**
	 * What they look for (fixed while they run)
	 */
	char nft_table[128];
	uint32_t table, protocol;

	/**
	 * Time spent per event, if latency_log is set
	 */
	event_stats_t *stats;

	/**
	 * Where to write it when stopping
	 */
	char *latency_log;
};

/**
 * Record the time an event took (the caller holds the mutex)
 */
static void record(private_tunnel_route_listener_t *this, event_kind_t kind,
				   uint64_t start)
{
	if (this->stats)
	{
		this->stats->add(this->stats, kind, event_stats_now() - start);
	}
}

/**
 * A change being built: dests and pairs touched
 */
typedef struct {
	array_t *dests;
	array_t *pairs;
} change_t;

static u_int dest_hash(const void *key)
{
	const dest_t *d = key;
	uint64_t v = ((uint64_t)d->net << 8) | d->len;

	return chunk_hash(chunk_from_thing(v));
}

static bool dest_equals(const void *a, const void *b)
{
	const dest_t *x = a, *y = b;

	return x->net == y->net && x->len == y->len;
}

static u_int pair_hash(const void *key)
{
	const pair_t *p = key;
	uint32_t v[] = { p->src.from, p->src.to, p->dst.from, p->dst.to,
					 p->bypass };

	return chunk_hash(chunk_create((u_char*)v, sizeof(v)));
}

static bool pair_equals(const void *a, const void *b)
{
	const pair_t *x = a, *y = b;

	return x->bypass == y->bypass &&
		   x->src.from == y->src.from && x->src.to == y->src.to &&
		   x->dst.from == y->dst.from && x->dst.to == y->dst.to;
}

static bool target_equals(target_t *a, target_t *b)
{
	return a->prohibit == b->prohibit && a->oif == b->oif && a->gw == b->gw;
}

static bool target_none(target_t *t)
{
	return !t->prohibit && !t->oif;
}

static void change_init(change_t *c)
{
	c->dests = array_create(0, 4);
	c->pairs = array_create(0, 4);
}

static void touch_pair(change_t *c, pair_t *pair)
{
	if (!pair->touched)
	{
		pair->touched = TRUE;
		array_insert(c->pairs, ARRAY_TAIL, pair);
	}
}

static void touch(change_t *c, dest_t *dest)
{
	if (!dest->touched)
	{
		dest->touched = TRUE;
		array_insert(c->dests, ARRAY_TAIL, dest);
	}
}

/**
 * Get (or create) a destination
 */
static dest_t *get_dest(private_tunnel_route_listener_t *this, uint32_t net,
						uint8_t len)
{
	dest_t key = { .net = net, .len = len }, *dest;

	dest = this->dests->get(this->dests, &key);
	if (!dest)
	{
		INIT(dest,
			.net = net,
			.len = len,
			.ups = array_create(0, 1),
		);
		this->dests->put(this->dests, dest, dest);
	}
	return dest;
}

static int range_cmp(const void *a, const void *b, void *user)
{
	const tunnel_route_range_t *x = a, *y = b;

	if (x->from != y->from)
	{
		return x->from < y->from ? -1 : 1;
	}
	if (x->to != y->to)
	{
		return x->to < y->to ? -1 : 1;
	}
	return 0;
}

/**
 * Add a range to a sorted list of ranges, unless it is there
 */
static void ranges_add(array_t *ranges, uint32_t from, uint32_t to)
{
	tunnel_route_range_t key = { .from = from, .to = to }, *range;

	if (array_bsearch(ranges, &key, (void*)range_cmp, NULL) == -1)
	{
		INIT(range,
			.from = from,
			.to = to,
		);
		array_insert(ranges, ARRAY_TAIL, range);
		array_sort(ranges, range_cmp, NULL);
	}
}

/**
 * A copy of a list of ranges (or an empty list for NULL)
 */
static array_t *ranges_copy(array_t *ranges)
{
	tunnel_route_range_t *range;
	array_t *copy;
	u_int i;

	copy = array_create(0, array_count(ranges));
	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, &range);
		ranges_add(copy, range->from, range->to);
	}
	return copy;
}

static bool ranges_equal(array_t *a, array_t *b)
{
	tunnel_route_range_t *x, *y;
	u_int i;

	if (array_count(a) != array_count(b))
	{
		return FALSE;
	}
	for (i = 0; i < array_count(a); i++)
	{
		array_get(a, i, &x);
		array_get(b, i, &y);
		if (range_cmp(x, y, NULL))
		{
			return FALSE;
		}
	}
	return TRUE;
}

static void ranges_destroy(array_t *ranges)
{
	array_destroy_function(ranges, (void*)free, NULL);
}

/**
 * Add the IPv4 ranges of a list of traffic selectors, dynamic ones aside
 */
static void ranges_add_ts(array_t *ranges, traffic_selector_t *ts)
{
	chunk_t from, to;

	if (ts->get_type(ts) != TS_IPV4_ADDR_RANGE || ts->is_dynamic(ts))
	{
		return;
	}
	from = ts->get_from_address(ts);
	to = ts->get_to_address(ts);
	if (from.len == 4 && to.len == 4)
	{
		ranges_add(ranges, untoh32(from.ptr), untoh32(to.ptr));
	}
}

typedef struct {
	private_tunnel_route_listener_t *this;
	array_t *dests;
} prefix_ctx_t;

static void collect_prefix(prefix_ctx_t *ctx, uint32_t net, uint8_t len)
{
	array_insert(ctx->dests, ARRAY_TAIL, get_dest(ctx->this, net, len));
}

/**
 * The destinations (prefixes) of a list of ranges
 */
static array_t *ranges_to_dests(private_tunnel_route_listener_t *this,
								array_t *ranges)
{
	tunnel_route_range_t *range;
	prefix_ctx_t ctx = { .this = this, .dests = array_create(0, 2) };
	u_int i;

	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, &range);
		tunnel_range_to_prefixes(range->from, range->to,
								 (void*)collect_prefix, &ctx);
	}
	return ctx.dests;
}

/**
 * Take a reference on a pair, note it if it is new
 */
static void pair_ref(private_tunnel_route_listener_t *this, change_t *c,
					 bool bypass, tunnel_route_range_t *src,
					 tunnel_route_range_t *dst, const char *child)
{
	pair_t key = { .bypass = bypass, .src = *src, .dst = *dst }, *pair;

	pair = this->pairs->get(this->pairs, &key);
	if (!pair)
	{
		INIT(pair,
			.bypass = bypass,
			.src = *src,
			.dst = *dst,
		);
		snprintf(pair->comment, sizeof(pair->comment), "child %s", child);
		this->pairs->put(this->pairs, pair, pair);
	}
	pair->refs++;
	touch_pair(c, pair);
}

static void pair_unref(private_tunnel_route_listener_t *this, change_t *c,
					   bool bypass, tunnel_route_range_t *src,
					   tunnel_route_range_t *dst)
{
	pair_t key = { .bypass = bypass, .src = *src, .dst = *dst }, *pair;

	pair = this->pairs->get(this->pairs, &key);
	if (pair && pair->refs)
	{
		pair->refs--;
		touch_pair(c, pair);
	}
}

/**
 * Pairs of a child's sources (in a config) and a destination range, and of
 * any source and that range (bypass)
 */
static void range_pairs(private_tunnel_route_listener_t *this, change_t *c,
						tunnel_route_config_t *config, child_t *child,
						tunnel_route_range_t *dst, bool ref)
{
	tunnel_route_range_t *src, any = { .from = 0, .to = 0xffffffff };
	array_t *sources;
	u_int i;

	sources = config->get_sources(config, child->name);
	for (i = 0; sources && i < array_count(sources); i++)
	{
		array_get(sources, i, &src);
		if (ref)
		{
			pair_ref(this, c, FALSE, src, dst, child->name);
		}
		else
		{
			pair_unref(this, c, FALSE, src, dst);
		}
	}
	if (ref)
	{
		pair_ref(this, c, TRUE, &any, dst, child->name);
	}
	else
	{
		pair_unref(this, c, TRUE, &any, dst);
	}
}

static u_int known_hash(const void *key)
{
	return chunk_hash(chunk_create((u_char*)key, sizeof(tunnel_route_range_t)));
}

static bool known_equals(const void *a, const void *b)
{
	return range_cmp(a, b, NULL) == 0;
}

/**
 * Mark the destinations of a range as known (or no longer)
 */
static void range_dests(private_tunnel_route_listener_t *this, change_t *c,
						tunnel_route_range_t *range, int delta)
{
	prefix_ctx_t ctx = { .this = this, .dests = array_create(0, 2) };
	dest_t *dest;
	u_int i;

	tunnel_range_to_prefixes(range->from, range->to,
							 (void*)collect_prefix, &ctx);
	for (i = 0; i < array_count(ctx.dests); i++)
	{
		array_get(ctx.dests, i, &dest);
		dest->known += delta;
		touch(c, dest);
	}
	array_destroy(ctx.dests);
}

/**
 * A child knows a destination range for one more reason
 */
static void known_ref(private_tunnel_route_listener_t *this, change_t *c,
					  child_t *child, tunnel_route_range_t *range)
{
	known_t *known;

	known = child->known->get(child->known, range);
	if (!known)
	{
		INIT(known,
			.range = *range,
		);
		child->known->put(child->known, &known->range, known);
	}
	if (known->refs++ == 0)
	{
		range_pairs(this, c, this->config, child, range, TRUE);
		range_dests(this, c, range, 1);
	}
}

/**
 * A child knows a destination range for one reason less
 */
static void known_unref(private_tunnel_route_listener_t *this, change_t *c,
						child_t *child, tunnel_route_range_t *range)
{
	known_t *known;

	known = child->known->get(child->known, range);
	if (known && --known->refs == 0)
	{
		range_pairs(this, c, this->config, child, &known->range, FALSE);
		range_dests(this, c, &known->range, -1);
		child->known->remove(child->known, &known->range);
		free(known);
	}
}

/**
 * Give a child a new set of configured ranges (takes ownership)
 */
static void set_child_configured(private_tunnel_route_listener_t *this,
								 change_t *c, child_t *child, array_t *ranges)
{
	tunnel_route_range_t *range;
	u_int i;

	if (ranges_equal(child->configured, ranges))
	{
		ranges_destroy(ranges);
		return;
	}
	/* new references first: what stays is never withdrawn */
	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, &range);
		known_ref(this, c, child, range);
	}
	for (i = 0; i < array_count(child->configured); i++)
	{
		array_get(child->configured, i, &range);
		known_unref(this, c, child, range);
	}
	ranges_destroy(child->configured);
	child->configured = ranges;
}

static child_t *get_child(private_tunnel_route_listener_t *this,
						  const char *name)
{
	child_t *child;

	child = this->children->get(this->children, name);
	if (!child)
	{
		INIT(child,
			.name = strdup(name),
			.known = hashtable_create(known_hash, known_equals, 4),
			.configured = array_create(0, 2),
			.sas = array_create(0, 1),
		);
		this->children->put(this->children, child->name, child);
	}
	return child;
}

/**
 * What a destination's route should be
 */
static target_t desired(private_tunnel_route_listener_t *this, dest_t *dest)
{
	up_t *up;

	if (array_get(dest->ups, ARRAY_HEAD, &up))
	{
		return up->target;
	}
	if (dest->known && this->config->fail_closed)
	{
		return (target_t){ .prohibit = TRUE };
	}
	return (target_t){};
}

static tunnel_route_route_t make_route(private_tunnel_route_listener_t *this,
									   dest_t *dest, target_t *t)
{
	return (tunnel_route_route_t){
		.dst = dest->net,
		.len = dest->len,
		.table = this->config->table,
		.protocol = this->config->protocol,
		.prohibit = t->prohibit,
		.oif = t->oif,
		.gateway = t->gw,
	};
}

static void describe_route(dest_t *dest, target_t *t, char *buf, size_t len)
{
	char net[32], gw[32], ifname[IF_NAMESIZE] = "?";

	tunnel_range_str(net, sizeof(net), dest->net,
					 dest->net | ~tunnel_mask(dest->len));
	if (t->prohibit)
	{
		snprintf(buf, len, "prohibit %s", net);
	}
	else if (target_none(t))
	{
		snprintf(buf, len, "%s", net);
	}
	else
	{
		if_indextoname(t->oif, ifname);
		if (t->gw)
		{
			tunnel_range_str(gw, sizeof(gw), t->gw, t->gw);
			snprintf(buf, len, "%s via %s dev %s", net, gw, ifname);
		}
		else
		{
			snprintf(buf, len, "%s dev %s", net, ifname);
		}
	}
}

static nft_concat_elem_t pair_elem(pair_t *pair)
{
	return (nft_concat_elem_t){
		.key_from = { pair->src.from, pair->dst.from },
		.key_to = { pair->src.to, pair->dst.to },
		.comment = pair->comment,
		.desc = pair->comment,
	};
}

/**
 * The set a pair goes to: exact ones to hashes, ranges to interval sets
 */
static const char *pair_set(pair_t *pair)
{
	if (pair->bypass)
	{
		return pair->dst.from == pair->dst.to ? TUNNEL_ROUTE_BYPASS_HOSTS_SET
											  : TUNNEL_ROUTE_BYPASS_SET;
	}
	return pair->src.from == pair->src.to && pair->dst.from == pair->dst.to
				? TUNNEL_ROUTE_HOSTS_SET : TUNNEL_ROUTE_SET;
}

static void pairs_msgs(private_tunnel_route_listener_t *this, nl_batch_t *batch,
					   array_t *pairs, bool add)
{
	static const char *sets[] = { TUNNEL_ROUTE_BYPASS_HOSTS_SET,
		TUNNEL_ROUTE_BYPASS_SET, TUNNEL_ROUTE_HOSTS_SET, TUNNEL_ROUTE_SET };
	nft_concat_elem_t *elems;
	pair_t *pair;
	u_int i, n, s;

	elems = calloc(array_count(pairs) ?: 1, sizeof(*elems));
	for (s = 0; s < countof(sets); s++)
	{
		for (i = n = 0; i < array_count(pairs); i++)
		{
			array_get(pairs, i, &pair);
			if (streq(pair_set(pair), sets[s]))
			{
				elems[n] = pair_elem(pair);
				if (s == 0)
				{	/* ip daddr */
					elems[n].key_from[0] = pair->dst.from;
					elems[n].single = TRUE;
				}
				elems[n].exact = s == 2;
				n++;
			}
		}
		nft_msg_concat_elems(batch, this->config->nft_table, sets[s], add,
							 elems, n);
	}
	free(elems);
}

/**
 * Rewrite the set of pairs to hold exactly the current state
 */
static bool resync_pairs(private_tunnel_route_listener_t *this, const char *what)
{
	enumerator_t *enumerator;
	nl_batch_t *batch;
	array_t *all;
	pair_t *pair;
	bool ok;

	all = array_create(0, this->pairs->get_count(this->pairs));
	enumerator = this->pairs->create_enumerator(this->pairs);
	while (enumerator->enumerate(enumerator, NULL, &pair))
	{
		if (pair->refs)
		{
			array_insert(all, ARRAY_TAIL, pair);
		}
	}
	enumerator->destroy(enumerator);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	nft_msg_flush_set(batch, this->config->nft_table, TUNNEL_ROUTE_SET);
	nft_msg_flush_set(batch, this->config->nft_table, TUNNEL_ROUTE_BYPASS_SET);
	nft_msg_flush_set(batch, this->config->nft_table, TUNNEL_ROUTE_HOSTS_SET);
	nft_msg_flush_set(batch, this->config->nft_table,
					  TUNNEL_ROUTE_BYPASS_HOSTS_SET);
	pairs_msgs(this, batch, all, TRUE);
	nft_msg_end(batch);
	ok = this->nfnl->send(this->nfnl, batch, what);
	batch->destroy(batch);
	array_destroy(all);
	return ok;
}

/**
 * Send a change to the kernel: the pairs in one nftables transaction, then
 * the routes whose target changed. Returns FALSE if a route failed.
 */
static bool apply(private_tunnel_route_listener_t *this, change_t *c,
				  const char *what)
{
	tunnel_route_route_t route;
	nl_batch_t *batch;
	target_t *targets;
	dest_t *dest, **sent;
	array_t *add, *del;
	pair_t *pair;
	char desc[128];
	bool ok = TRUE, *acked;
	u_int i, n = 0;

	/* pairs: one nftables transaction for what changed */
	add = array_create(0, 4);
	del = array_create(0, 4);
	for (i = 0; i < array_count(c->pairs); i++)
	{
		array_get(c->pairs, i, &pair);
		pair->touched = FALSE;
		if (pair->refs && !pair->installed)
		{
			array_insert(add, ARRAY_TAIL, pair);
		}
		else if (!pair->refs && pair->installed)
		{
			array_insert(del, ARRAY_TAIL, pair);
		}
	}
	if (array_count(add) || array_count(del))
	{
		batch = nl_batch_create();
		nft_msg_begin(batch);
		pairs_msgs(this, batch, del, FALSE);
		pairs_msgs(this, batch, add, TRUE);
		nft_msg_end(batch);
		if (this->nfnl->send(this->nfnl, batch, what) ||
			resync_pairs(this, what))
		{
			for (i = 0; i < array_count(c->pairs); i++)
			{
				array_get(c->pairs, i, &pair);
				pair->installed = pair->refs > 0;
			}
		}
		batch->destroy(batch);
	}
	array_destroy(add);
	array_destroy(del);
	for (i = 0; i < array_count(c->pairs); i++)
	{
		array_get(c->pairs, i, &pair);
		if (!pair->refs && !pair->installed)
		{
			this->pairs->remove(this->pairs, pair);
			free(pair);
		}
	}

	/* routes, one message per destination whose target changes */
	batch = nl_batch_create();
	sent = calloc(array_count(c->dests) ?: 1, sizeof(*sent));
	targets = calloc(array_count(c->dests) ?: 1, sizeof(*targets));
	for (i = 0; i < array_count(c->dests); i++)
	{
		array_get(c->dests, i, &dest);
		dest->touched = FALSE;
		targets[n] = desired(this, dest);
		if (target_equals(&targets[n], &dest->installed))
		{
			continue;
		}
		if (target_none(&targets[n]))
		{
			route = make_route(this, dest, &dest->installed);
			describe_route(dest, &dest->installed, desc, sizeof(desc));
			tunnel_route_rtnl_route(batch, FALSE, &route, desc);
		}
		else
		{
			route = make_route(this, dest, &targets[n]);
			describe_route(dest, &targets[n], desc, sizeof(desc));
			tunnel_route_rtnl_route(batch, TRUE, &route, desc);
		}
		sent[n++] = dest;
	}
	if (n)
	{
		acked = calloc(n, sizeof(bool));
		ok = this->rtnl->send_acked(this->rtnl, batch, what, acked);
		for (i = 0; i < n; i++)
		{
			if (acked[i])
			{
				sent[i]->installed = targets[i];
			}
		}
		free(acked);
	}
	batch->destroy(batch);

	/* forget destinations nobody needs anymore */
	for (i = 0; i < array_count(c->dests); i++)
	{
		array_get(c->dests, i, &dest);
		if (!dest->known && !array_count(dest->ups) &&
			target_none(&dest->installed))
		{
			this->dests->remove(this->dests, dest);
			array_destroy(dest->ups);
			free(dest);
		}
	}
	free(sent);
	free(targets);
	array_destroy(c->dests);
	array_destroy(c->pairs);
	change_init(c);
	return ok;
}

static void change_done(change_t *c)
{
	array_destroy(c->dests);
	array_destroy(c->pairs);
}

/**
 * Find the XFRM interface carrying an if_id
 */
typedef struct {
	uint32_t if_id;
	uint32_t ifindex;
} xfrm_find_t;

static void find_xfrm(const struct nlmsghdr *nlh, xfrm_find_t *find)
{
	uint32_t if_id, ifindex;

	if (tunnel_route_rtnl_parse_xfrm_link(nlh, &if_id, &ifindex) &&
		if_id == find->if_id && !find->ifindex)
	{
		find->ifindex = ifindex;
	}
}

/**
 * Where the traffic of a CHILD_SA goes
 */
/**
 * Answer of a route lookup
 */
typedef struct {
	uint32_t gw, oif;
} via_t;

static void parse_via(const struct nlmsghdr *nlh, via_t *via)
{
	tunnel_route_rtnl_parse_via(nlh, &via->gw, &via->oif);
}

static bool resolve_target(private_tunnel_route_listener_t *this,
						   ike_sa_t *ike_sa, child_sa_t *child_sa, target_t *t)
{
	xfrm_find_t find = { .if_id = child_sa->get_if_id(child_sa, FALSE) };
	host_t *me, *other, *gw;
	tun_device_t *tun;
	char buf[256], *ifname = NULL;

	*t = (target_t){};
	if (find.if_id)
	{	/* route-based: via the XFRM interface with that if_id */
		this->rtnl->dump(this->rtnl, tunnel_route_rtnl_dump_req(buf, RTM_GETLINK),
						 (nl_dump_cb_t)find_xfrm, &find,
						 "tunnel-route: looking up XFRM interfaces");
		if (!find.ifindex)
		{
			DBG1(DBG_CHD, "tunnel-route: no XFRM interface with if_id %u "
				 "(0x%x) for CHILD_SA %s{%u}", find.if_id, find.if_id,
				 child_sa->get_name(child_sa),
				 child_sa->get_unique_id(child_sa));
			return FALSE;
		}
		t->oif = find.ifindex;
		return TRUE;
	}
	tun = lib->get(lib, "kernel-libipsec-tun");
	if (tun)
	{	/* kernel-libipsec: via its TUN device */
		t->oif = if_nametoindex(tun->get_name(tun));
		return t->oif != 0;
	}
	/* policy-based XFRM: toward the peer, as charon reaches it, so the packet
	 * gets to the XFRM output path. The kernel's own lookup (one request;
	 * charon's get_nexthop() dumps every route, our table's too, which costs
	 * more the more tunnels there are) */
	me = ike_sa->get_my_host(ike_sa);
	other = ike_sa->get_other_host(ike_sa);
	if (other->get_family(other) == AF_INET && me->get_family(me) == AF_INET)
	{
		via_t via = {};

		if (this->rtnl->request(this->rtnl,
				tunnel_route_rtnl_get_req(buf,
					untoh32(other->get_address(other).ptr),
					untoh32(me->get_address(me).ptr)),
				(nl_dump_cb_t)parse_via, &via,
				"tunnel-route: looking up the route to the peer") && via.oif)
		{
			t->oif = via.oif;
			t->gw = via.gw ?: untoh32(other->get_address(other).ptr);
			return TRUE;
		}
	}
	gw = charon->kernel->get_nexthop(charon->kernel, other, -1, me, &ifname);
	if (!ifname)
	{
		charon->kernel->get_interface(charon->kernel, me, &ifname);
	}
	if (gw && gw->get_family(gw) == AF_INET && !gw->is_anyaddr(gw) &&
		!gw->ip_equals(gw, other))
	{	/* 6.0.5+ return %any if only the interface is known: no gateway */
		t->gw = untoh32(gw->get_address(gw).ptr);
	}
	else if (other->get_family(other) == AF_INET)
	{	/* on-link peer */
		t->gw = untoh32(other->get_address(other).ptr);
	}
	DESTROY_IF(gw);
	if (ifname)
	{
		t->oif = if_nametoindex(ifname);
		free(ifname);
	}
	if (!t->oif)
	{
		DBG1(DBG_CHD, "tunnel-route: no interface toward %H for CHILD_SA "
			 "%s{%u}", other, child_sa->get_name(child_sa),
			 child_sa->get_unique_id(child_sa));
		return FALSE;
	}
	return TRUE;
}

/**
 * Take an SA's routes out of the state (the change carries what to update)
 */
static void sa_remove(private_tunnel_route_listener_t *this, change_t *c,
					  uint32_t id)
{
	tunnel_route_range_t *range;
	child_t *child;
	dest_t *dest;
	up_t *up;
	sa_t *sa, *other;
	u_int i, j;

	sa = this->sas->remove(this->sas, (void*)(uintptr_t)id);
	if (!sa)
	{
		return;
	}
	child = this->children->get(this->children, sa->child);
	for (i = 0; child && i < array_count(child->sas); i++)
	{
		array_get(child->sas, i, &other);
		if (other == sa)
		{
			array_remove(child->sas, i, NULL);
			break;
		}
	}
	for (i = 0; child && i < array_count(sa->ranges); i++)
	{
		array_get(sa->ranges, i, &range);
		known_unref(this, c, child, range);
	}
	for (i = 0; i < array_count(sa->dests); i++)
	{
		array_get(sa->dests, i, &dest);
		for (j = 0; j < array_count(dest->ups); j++)
		{
			array_get(dest->ups, j, &up);
			if (up->sa == id)
			{
				array_remove(dest->ups, j, NULL);
				free(up);
				break;
			}
		}
		touch(c, dest);
	}
	array_destroy(sa->dests);
	ranges_destroy(sa->ranges);
	free(sa->child);
	free(sa);
}

/**
 * Install the routes of a CHILD_SA
 */
static void sa_up(private_tunnel_route_listener_t *this, change_t *c,
				  ike_sa_t *ike_sa, child_sa_t *child_sa, const char *what)
{
	child_cfg_t *cfg = child_sa->get_config(child_sa);
	uint32_t id = child_sa->get_unique_id(child_sa);
	char *name = child_sa->get_name(child_sa);
	tunnel_route_range_t *range;
	traffic_selector_t *ts;
	enumerator_t *enumerator;
	linked_list_t *list;
	array_t *configured;
	target_t target;
	child_t *child;
	dest_t *dest;
	up_t *up;
	sa_t *sa;
	u_int i;

	if (!this->config->get_sources(this->config, name))
	{
		return;
	}
	INIT(sa,
		.id = id,
		.child = strdup(name),
		.ranges = array_create(0, 1),
	);
	enumerator = child_sa->create_ts_enumerator(child_sa, FALSE);
	while (enumerator->enumerate(enumerator, &ts))
	{
		ranges_add_ts(sa->ranges, ts);
	}
	enumerator->destroy(enumerator);
	sa_remove(this, c, id);
	this->sas->put(this->sas, (void*)(uintptr_t)id, sa);
	child = get_child(this, name);
	array_insert(child->sas, ARRAY_TAIL, sa);

	/* what the config says, plus what was negotiated */
	configured = array_create(0, 1);
	list = sw_child_cfg_ts(cfg, FALSE);
	enumerator = list->create_enumerator(list);
	while (enumerator->enumerate(enumerator, &ts))
	{
		ranges_add_ts(configured, ts);
	}
	enumerator->destroy(enumerator);
	list->destroy_offset(list, offsetof(traffic_selector_t, destroy));
	set_child_configured(this, c, child, configured);
	for (i = 0; i < array_count(sa->ranges); i++)
	{
		array_get(sa->ranges, i, &range);
		known_ref(this, c, child, range);
	}

	if (!resolve_target(this, ike_sa, child_sa, &target))
	{	/* leave its destinations refused */
		sa->dests = array_create(0, 0);
		return;
	}
	sa->dests = ranges_to_dests(this, sa->ranges);
	for (i = 0; i < array_count(sa->dests); i++)
	{
		array_get(sa->dests, i, &dest);
		INIT(up,
			.sa = id,
			.target = target,
		);
		array_insert(dest->ups, ARRAY_TAIL, up);
		touch(c, dest);
	}
}

/**
 * Apply what a hook's event means, as the tracker of CHILD_SAs judged it:
 * one batch (called with the lock held)
 */
static void handle(private_tunnel_route_listener_t *this,
				   child_track_event_t ev, ike_sa_t *ike_sa, uint32_t old_id,
				   child_sa_t *new, uint64_t start)
{
	uint32_t new_id = new->get_unique_id(new);
	char *name = new->get_name(new);
	char what[BUF_LEN];
	change_t c;

	if (this->stats)
	{	/* when the previous listener on the bus was done with the event */
		this->stats->add(this->stats, EVENT_ENTER, start);
	}
	change_init(&c);
	switch (ev)
	{
		case CHILD_TRACK_UP:
			snprintf(what, sizeof(what), "tunnel-route: CHILD_SA %s{%u} up",
					 name, new_id);
			sa_up(this, &c, ike_sa, new, what);
			if (!apply(this, &c, what))
			{	/* don't leave it half routed: back to fail-closed */
				sa_remove(this, &c, new_id);
				apply(this, &c, what);
				DBG1(DBG_CHD, "tunnel-route: routes of CHILD_SA %s{%u} not "
					 "installed", name, new_id);
			}
			else if (this->sas->get(this->sas, (void*)(uintptr_t)new_id))
			{
				DBG1(DBG_CHD, "tunnel-route: routes of CHILD_SA %s{%u} "
					 "installed in table %u", name, new_id,
					 this->config->table);
			}
			break;
		case CHILD_TRACK_DOWN:
			snprintf(what, sizeof(what), "tunnel-route: CHILD_SA %s{%u} down",
					 name, old_id);
			if (this->sas->get(this->sas, (void*)(uintptr_t)old_id))
			{
				DBG1(DBG_CHD, "tunnel-route: removing routes of CHILD_SA "
					 "%s{%u}", name, old_id);
			}
			sa_remove(this, &c, old_id);
			apply(this, &c, what);
			break;
		case CHILD_TRACK_REKEY:
			snprintf(what, sizeof(what), "tunnel-route: CHILD_SA %s{%u} "
					 "rekeyed to {%u}", name, old_id, new_id);
			/* the new SA queues behind the old one on each destination, so
			 * when the old one goes the route stays unless the target
			 * changed: no gap */
			sa_up(this, &c, ike_sa, new, what);
			sa_remove(this, &c, old_id);
			apply(this, &c, what);
			break;
		case CHILD_TRACK_NONE:
			break;
	}
	change_done(&c);
	record(this, ev == CHILD_TRACK_UP ? EVENT_UP :
				 ev == CHILD_TRACK_DOWN ? EVENT_DOWN : EVENT_REKEY, start);
}

METHOD(listener_t, child_updown, bool,
	private_tunnel_route_listener_t *this, ike_sa_t *ike_sa,
	child_sa_t *child_sa, bool up)
{
	uint64_t start = event_stats_now();
	uint32_t id = child_sa->get_unique_id(child_sa);
	child_track_event_t ev;

	this->mutex->lock(this->mutex);
	if (this->config)
	{
		ev = up ? this->track->up(this->track, id)
				: this->track->down(this->track, id);
		if (ev != CHILD_TRACK_NONE)
		{
			handle(this, ev, ike_sa, id, child_sa, start);
		}
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(listener_t, child_rekey, bool,
	private_tunnel_route_listener_t *this, ike_sa_t *ike_sa,
	child_sa_t *old, child_sa_t *new)
{
	uint64_t start = event_stats_now();
	uint32_t old_id = old->get_unique_id(old), new_id = new->get_unique_id(new);
	child_track_event_t ev;

	this->mutex->lock(this->mutex);
	if (this->config)
	{
		ev = this->track->rekey(this->track, &old_id, &new_id);
		if (ev != CHILD_TRACK_NONE)
		{
			handle(this, ev, ike_sa, old_id, ev == CHILD_TRACK_DOWN ? old : new,
				   start);
		}
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

/**
 * A CHILD_SA is installed the first time (with 6.0's make-before-break on
 * the rekey responder before child_rekey(), which comes late or not at all),
 * or deleted, or destroyed (rekeyed CHILD_SAs get no child_updown() when
 * their IKE_SA goes down): what child_updown() and child_rekey() missed.
 */
METHOD(listener_t, child_state_change, bool,
	private_tunnel_route_listener_t *this, ike_sa_t *ike_sa,
	child_sa_t *child_sa, child_sa_state_t state)
{
	uint64_t start = event_stats_now();
	uint32_t id = child_sa->get_unique_id(child_sa);
	child_track_event_t ev;

	if (!ike_sa && state == CHILD_INSTALLED)
	{	/* its target needs the IKE_SA: child_updown() takes it up */
		return TRUE;
	}
	this->mutex->lock(this->mutex);
	if (this->config)
	{
		ev = this->track->state(this->track, id,
								child_sa->get_state(child_sa), state);
		if (ev != CHILD_TRACK_NONE)
		{
			handle(this, ev, ike_sa, id, child_sa, start);
		}
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

/**
 * Configured destination ranges of the children that have sources:
 * child name (owned) => array_t of tunnel_route_range_t*
 */
static hashtable_t *scan_configured(private_tunnel_route_listener_t *this)
{
	enumerator_t *peers, *children, *enumerator;
	traffic_selector_t *ts;
	child_cfg_t *child_cfg;
	peer_cfg_t *peer_cfg;
	linked_list_t *list;
	hashtable_t *found;
	array_t *ranges;
	char *name;

	found = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8);
	peers = charon->backends->create_peer_cfg_enumerator(charon->backends,
											NULL, NULL, NULL, NULL, IKE_ANY);
	while (peers->enumerate(peers, &peer_cfg))
	{
		children = peer_cfg->create_child_cfg_enumerator(peer_cfg);
		while (children->enumerate(children, &child_cfg))
		{
			name = child_cfg->get_name(child_cfg);
			if (!this->config->get_sources(this->config, name))
			{
				continue;
			}
			ranges = found->get(found, name);
			if (!ranges)
			{
				ranges = array_create(0, 1);
				found->put(found, strdup(name), ranges);
			}
			list = sw_child_cfg_ts(child_cfg, FALSE);
			enumerator = list->create_enumerator(list);
			while (enumerator->enumerate(enumerator, &ts))
			{
				ranges_add_ts(ranges, ts);
			}
			enumerator->destroy(enumerator);
			list->destroy_offset(list, offsetof(traffic_selector_t, destroy));
		}
		children->destroy(children);
	}
	peers->destroy(peers);
	return found;
}

CALLBACK(destroy_found, void,
	array_t *ranges, const void *key)
{
	ranges_destroy(ranges);
	free((void*)key);
}

/**
 * Bring the known destinations in line with the configuration
 */
static void apply_configured(private_tunnel_route_listener_t *this,
							 hashtable_t *found)
{
	enumerator_t *enumerator;
	child_t *child;
	array_t *ranges;
	char *name;
	change_t c;

	change_init(&c);
	enumerator = found->create_enumerator(found);
	while (enumerator->enumerate(enumerator, &name, &ranges))
	{
		get_child(this, name);
	}
	enumerator->destroy(enumerator);
	enumerator = this->children->create_enumerator(this->children);
	while (enumerator->enumerate(enumerator, NULL, &child))
	{
		ranges = found->get(found, child->name);
		set_child_configured(this, &c, child,
							 ranges_copy(ranges));
	}
	enumerator->destroy(enumerator);
	apply(this, &c, "tunnel-route: applying the configured CHILD_SAs");
	change_done(&c);
}

/**
 * Elements of the guard set: every source, to any destination
 */
static array_t *guard_elems(private_tunnel_route_listener_t *this)
{
	tunnel_route_range_t *src;
	enumerator_t *enumerator;
	array_t *ranges;

	ranges = array_create(0, 4);
	enumerator = this->config->create_source_enumerator(this->config);
	while (enumerator->enumerate(enumerator, &src))
	{
		ranges_add(ranges, src->from, src->to);
	}
	enumerator->destroy(enumerator);
	return ranges;
}

/**
 * Messages adding the guard set's elements: each source, to any destination
 */
static void guard_msgs(private_tunnel_route_listener_t *this, nl_batch_t *batch,
					   array_t *ranges)
{
	tunnel_route_range_t *range;
	nft_concat_elem_t *elems;
	u_int i;

	elems = calloc(array_count(ranges) ?: 1, sizeof(*elems));
	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, &range);
		elems[i] = (nft_concat_elem_t){
			.key_from = { range->from, 0 },
			.key_to = { range->to, 0xffffffff },
			.comment = "start-up guard",
			.desc = "start-up guard",
		};
	}
	nft_msg_concat_elems(batch, this->config->nft_table,
						 TUNNEL_ROUTE_GUARD_SET, TRUE, elems, i);
	free(elems);
}

/**
 * Until the configs are known, refuse the sources' traffic to anywhere: the
 * guard set gives it the tunnel mark, the table's default route prohibits
 */
static void guard_up(private_tunnel_route_listener_t *this)
{
	tunnel_route_route_t route = {
		.table = this->config->table,
		.protocol = this->config->protocol,
		.prohibit = TRUE,
	};
	array_t *ranges;
	nl_batch_t *batch;
	bool ok;

	ranges = guard_elems(this);
	if (!array_count(ranges))
	{
		ranges_destroy(ranges);
		return;
	}
	batch = nl_batch_create();
	nft_msg_begin(batch);
	guard_msgs(this, batch, ranges);
	nft_msg_end(batch);
	ok = this->nfnl->send(this->nfnl, batch, "tunnel-route: start-up guard");
	batch->destroy(batch);
	if (ok)
	{
		batch = nl_batch_create();
		tunnel_route_rtnl_route(batch, TRUE, &route, "prohibit default");
		ok = this->rtnl->send(this->rtnl, batch, "tunnel-route: start-up guard");
		batch->destroy(batch);
	}
	ranges_destroy(ranges);
	if (ok)
	{
		this->guarding = TRUE;
		this->guard_started = time_monotonic(NULL);
		DBG1(DBG_CFG, "tunnel-route: start-up guard: traffic from the sources "
			 "is refused until the configs of their CHILD_SAs are loaded "
			 "(at most %us)", this->config->guard_timeout);
	}
}

/**
 * Lift the start-up guard
 */
static void guard_down(private_tunnel_route_listener_t *this, const char *why)
{
	tunnel_route_route_t route = {
		.table = this->config->table,
		.protocol = this->config->protocol,
	};
	dest_t key = { .net = 0, .len = 0 };
	nl_batch_t *batch;

	batch = nl_batch_create();
	nft_msg_begin(batch);
	nft_msg_flush_set(batch, this->config->nft_table, TUNNEL_ROUTE_GUARD_SET);
	nft_msg_end(batch);
	this->nfnl->send(this->nfnl, batch, "tunnel-route: lifting start-up guard");
	batch->destroy(batch);
	if (!this->dests->get(this->dests, &key))
	{	/* unless a tunnel routes the default itself */
		batch = nl_batch_create();
		tunnel_route_rtnl_route(batch, FALSE, &route, "prohibit default");
		this->rtnl->send(this->rtnl, batch, "tunnel-route: lifting start-up guard");
		batch->destroy(batch);
	}
	this->guarding = FALSE;
	DBG1(DBG_CFG, "tunnel-route: start-up guard lifted: %s", why);
}

/**
 * Lift the guard once every child with sources is configured, or on timeout
 */
static void guard_check(private_tunnel_route_listener_t *this,
						hashtable_t *found)
{
	enumerator_t *enumerator;
	const char *name;
	char missing[256] = "";
	u_int total = 0, absent = 0;
	size_t len;

	enumerator = this->config->create_child_enumerator(this->config);
	while (enumerator->enumerate(enumerator, &name))
	{
		total++;
		if (!found->get(found, name))
		{
			absent++;
			len = strlen(missing);
			snprintf(missing + len, sizeof(missing) - len, "%s'%s'",
					 len ? ", " : "", name);
		}
	}
	enumerator->destroy(enumerator);
	if (!absent)
	{
		snprintf(missing, sizeof(missing), "the %u CHILD_SA configs with "
				 "sources are loaded", total);
		guard_down(this, missing);
	}
	else if (time_monotonic(NULL) - this->guard_started >=
			 this->config->guard_timeout)
	{
		DBG1(DBG_CFG, "tunnel-route: no config loaded for CHILD_SA %s, named "
			 "by sources, after %us", missing, this->config->guard_timeout);
		guard_down(this, "timeout");
	}
}

static void *scanner(private_tunnel_route_listener_t *this)
{
	hashtable_t *found;

	this->mutex->lock(this->mutex);
	while (!this->stopping)
	{
		/* read charon's config without our lock: loading a config may
		 * raise CHILD_SA events, which take our lock */
		this->mutex->unlock(this->mutex);
		found = scan_configured(this);
		this->mutex->lock(this->mutex);
		if (!this->stopping)
		{
			apply_configured(this, found);
			if (this->guarding)
			{
				guard_check(this, found);
			}
		}
		found->destroy_function(found, destroy_found);
		if (!this->stopping)
		{
			this->condvar->timed_wait(this->condvar, this->mutex,
									  this->config->refresh * 1000);
		}
	}
	this->mutex->unlock(this->mutex);
	return NULL;
}

/**
 * Collect what an earlier run left behind
 */
typedef struct {
	tunnel_route_config_t *config;
	nl_batch_t *batch;
	u_int rules, routes;
} stale_t;

static void stale_rule(const struct nlmsghdr *nlh, stale_t *stale)
{
	tunnel_route_rule_t rule;

	if (tunnel_route_rtnl_parse_rule(nlh, &rule) &&
		(rule.protocol == stale->config->protocol ||
		 (rule.table == stale->config->table &&
		  rule.priority == stale->config->priority)))
	{
		tunnel_route_rtnl_rule(stale->batch, FALSE, &rule);
		stale->rules++;
	}
}

static void stale_route(const struct nlmsghdr *nlh, stale_t *stale)
{
	tunnel_route_route_t route;
	char desc[64];

	if (tunnel_route_rtnl_parse_route(nlh, &route) &&
		(route.table == stale->config->table ||
		 route.protocol == stale->config->protocol))
	{
		tunnel_range_str(desc, sizeof(desc), route.dst,
						 route.dst | ~tunnel_mask(route.len));
		tunnel_route_rtnl_route(stale->batch, FALSE, &route, desc);
		stale->routes++;
	}
}

/**
 * Remove rules and routes tagged as ours, or in our table
 */
static void remove_stale(private_tunnel_route_listener_t *this)
{
	stale_t stale = { .config = this->config, .batch = nl_batch_create() };
	char buf[256];

	this->rtnl->dump(this->rtnl, tunnel_route_rtnl_dump_req(buf, RTM_GETRULE),
					 (nl_dump_cb_t)stale_rule, &stale,
					 "tunnel-route: listing rules");
	this->rtnl->dump(this->rtnl, tunnel_route_rtnl_dump_req(buf, RTM_GETROUTE),
					 (nl_dump_cb_t)stale_route, &stale,
					 "tunnel-route: listing routes");
	if (stale.rules || stale.routes)
	{
		this->rtnl->send(this->rtnl, stale.batch,
						 "tunnel-route: removing stale state");
		DBG1(DBG_CFG, "tunnel-route: removed %u rules and %u routes left "
			 "behind in table %u", stale.rules, stale.routes,
			 this->config->table);
	}
	stale.batch->destroy(stale.batch);
}

/**
 * The plugin's rules: the tunnel mark selects its table, the bypass mark the
 * main table (ahead of strongSwan's table 220, which may route every packet
 * to a tunnel's destinations into the tunnel)
 */
static void our_rules(private_tunnel_route_listener_t *this, nl_batch_t *batch)
{
	tunnel_route_rule_t rule = {
		.table = this->config->table,
		.priority = this->config->priority,
		.mark = this->config->mark,
		.mask = this->config->mask,
		.protocol = this->config->protocol,
	};

	tunnel_route_rtnl_rule(batch, TRUE, &rule);
	rule.table = RT_TABLE_MAIN;
	rule.mark = this->config->bypass_mark;
	tunnel_route_rtnl_rule(batch, TRUE, &rule);
}

CALLBACK(nft_filter, bool,
	private_tunnel_route_listener_t *this, const struct nlmsghdr *nlh)
{
	return nl_monitor_nft_deleted(nlh, this->nft_table);
}

CALLBACK(rt_filter, bool,
	private_tunnel_route_listener_t *this, const struct nlmsghdr *nlh)
{
	tunnel_route_route_t route;
	tunnel_route_rule_t rule;
	struct nlmsghdr *copy;
	bool ours = FALSE;

	if (nlh->nlmsg_type != RTM_DELRULE && nlh->nlmsg_type != RTM_DELROUTE)
	{
		return FALSE;
	}
	/* the parsers read what a dump returns */
	copy = malloc(nlh->nlmsg_len);
	memcpy(copy, nlh, nlh->nlmsg_len);
	if (nlh->nlmsg_type == RTM_DELRULE)
	{
		copy->nlmsg_type = RTM_NEWRULE;
		ours = tunnel_route_rtnl_parse_rule(copy, &rule) &&
			   (rule.protocol == this->protocol || rule.table == this->table);
	}
	else
	{
		copy->nlmsg_type = RTM_NEWROUTE;
		ours = tunnel_route_rtnl_parse_route(copy, &route) &&
			   route.table == this->table;
	}
	free(copy);
	return ours;
}

/**
 * Count our rules, and collect them for deletion
 */
typedef struct {
	tunnel_route_config_t *config;
	nl_batch_t *batch;
	u_int count;
} rules_t;

static void count_rule(const struct nlmsghdr *nlh, rules_t *rules)
{
	tunnel_route_rule_t rule;

	if (tunnel_route_rtnl_parse_rule(nlh, &rule) &&
		rule.protocol == rules->config->protocol)
	{
		tunnel_route_rtnl_rule(rules->batch, FALSE, &rule);
		rules->count++;
	}
}

/**
 * Restore the nftables table, the rules and the routes after another
 * program deleted some of them
 */
CALLBACK(heal, void,
	private_tunnel_route_listener_t *this, const char *why)
{
	tunnel_route_route_t route;
	rules_t rules;
	enumerator_t *enumerator;
	nl_batch_t *batch;
	array_t *all, *guard;
	pair_t *pair;
	dest_t *dest;
	char buf[256], desc[128];
	u_int routes = 0;
	bool ok;

	this->mutex->lock(this->mutex);
	if (!this->config)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	/* the table with its sets, in one transaction */
	all = array_create(0, 0);
	enumerator = this->pairs->create_enumerator(this->pairs);
	while (enumerator->enumerate(enumerator, NULL, &pair))
	{
		if (pair->installed)
		{
			array_insert(all, ARRAY_TAIL, pair);
		}
	}
	enumerator->destroy(enumerator);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_route_nft_table(batch, this->config->nft_table, this->config->mark,
						   this->config->bypass_mark, this->config->mask);
	pairs_msgs(this, batch, all, TRUE);
	if (this->guarding)
	{
		guard = guard_elems(this);
		guard_msgs(this, batch, guard);
		ranges_destroy(guard);
	}
	nft_msg_end(batch);
	ok = this->nfnl->send(this->nfnl, batch, "tunnel-route: restoring table");
	batch->destroy(batch);

	/* the rules: unless both are there, replace what is left */
	rules = (rules_t){ .config = this->config, .batch = nl_batch_create() };
	this->rtnl->dump(this->rtnl, tunnel_route_rtnl_dump_req(buf, RTM_GETRULE),
					 (nl_dump_cb_t)count_rule, &rules,
					 "tunnel-route: listing rules");
	if (rules.count != 2)
	{
		if (rules.count)
		{
			this->rtnl->send(this->rtnl, rules.batch,
							 "tunnel-route: removing incomplete rules");
		}
		batch = nl_batch_create();
		our_rules(this, batch);
		ok = this->rtnl->send(this->rtnl, batch,
							  "tunnel-route: restoring rules") && ok;
		batch->destroy(batch);
	}
	rules.batch->destroy(rules.batch);

	/* the routes, replaced (no gap where they still exist) */
	batch = nl_batch_create();
	enumerator = this->dests->create_enumerator(this->dests);
	while (enumerator->enumerate(enumerator, NULL, &dest))
	{
		if (!target_none(&dest->installed))
		{
			route = make_route(this, dest, &dest->installed);
			describe_route(dest, &dest->installed, desc, sizeof(desc));
			tunnel_route_rtnl_route(batch, TRUE, &route, desc);
			routes++;
		}
	}
	enumerator->destroy(enumerator);
	if (this->guarding)
	{
		route = (tunnel_route_route_t){
			.table = this->config->table,
			.protocol = this->config->protocol,
			.prohibit = TRUE,
		};
		tunnel_route_rtnl_route(batch, TRUE, &route, "prohibit default");
		routes++;
	}
	if (routes)
	{
		ok = this->rtnl->send(this->rtnl, batch,
							  "tunnel-route: restoring routes") && ok;
	}
	batch->destroy(batch);
	DBG1(DBG_CFG, "tunnel-route: state was %s: %s table ip %s with %u "
		 "pairs, %s, %u routes in table %u", why,
		 ok ? "restored" : "restoring failed partly (see above),",
		 this->config->nft_table, array_count(all),
		 rules.count == 2 ? "rules intact" : "2 rules", routes,
		 this->config->table);
	array_destroy(all);
	this->mutex->unlock(this->mutex);
}

METHOD(tunnel_route_listener_t, start, bool,
	private_tunnel_route_listener_t *this)
{
	tunnel_route_config_t *config;
	nl_batch_t *batch;
	bool ok;

	config = tunnel_route_config_load(lib->settings, lib->ns);
	if (!config)
	{
		return FALSE;
	}
	this->mutex->lock(this->mutex);
	this->config = config;
	free(this->latency_log);
	this->latency_log = strdupnull(lib->settings->get_str(lib->settings,
						"%s.plugins.tunnel-route.latency_log", NULL, lib->ns));
	DESTROY_IF(this->stats);
	this->stats = this->latency_log ? event_stats_create() : NULL;
	remove_stale(this);

	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_route_nft_table(batch, config->nft_table, config->mark,
						   config->bypass_mark, config->mask);
	nft_msg_end(batch);
	ok = this->nfnl->send(this->nfnl, batch, "tunnel-route: creating table");
	batch->destroy(batch);
	if (ok)
	{
		batch = nl_batch_create();
		our_rules(this, batch);
		ok = this->rtnl->send(this->rtnl, batch, "tunnel-route: adding rules");
		batch->destroy(batch);
		if (!ok)
		{
			remove_stale(this);
			batch = nl_batch_create();
			nft_msg_begin(batch);
			nft_msg_delete_table(batch, config->nft_table);
			nft_msg_end(batch);
			this->nfnl->send(this->nfnl, batch, "tunnel-route: cleaning up");
			batch->destroy(batch);
		}
	}
	if (!ok)
	{
		this->config = NULL;
		config->destroy(config);
		this->mutex->unlock(this->mutex);
		return FALSE;
	}
	DBG1(DBG_CFG, "tunnel-route: fwmark 0x%x/0x%x lookup %u, fwmark "
		 "0x%x/0x%x lookup main (priority %u), protocol %u, table ip %s, "
		 "fail-closed %s", config->mark, config->mask, config->table,
		 config->bypass_mark, config->mask, config->priority,
		 config->protocol, config->nft_table,
		 config->fail_closed ? "on" : "off");
	this->stopping = FALSE;
	{
		uint32_t nft_groups[] = { NFNLGRP_NFTABLES, 0 };
		uint32_t rt_groups[] = { RTNLGRP_IPV4_RULE, RTNLGRP_IPV4_ROUTE, 0 };
		uint16_t rt_types[] = { RTM_DELROUTE, RTM_DELRULE, 0 };
		uint32_t ignore[] = { this->nfnl->get_portid(this->nfnl),
							  this->rtnl->get_portid(this->rtnl), 0 };

		snprintf(this->nft_table, sizeof(this->nft_table), "%s",
				 config->nft_table);
		this->table = config->table;
		this->protocol = config->protocol;
		this->nft_monitor = nl_monitor_create(NETLINK_NETFILTER, nft_groups,
								ignore, nl_monitor_nft_deletions,
								this->nft_table, nft_filter,
								heal, this, "tunnel-route");
		this->rt_monitor = nl_monitor_create(NETLINK_ROUTE, rt_groups,
								ignore, rt_types, NULL, rt_filter, heal, this,
								"tunnel-route");
	}
	if (config->refresh)
	{
		if (config->fail_closed && config->guard_timeout)
		{
			guard_up(this);
		}
		this->scanner = thread_create((thread_main_t)scanner, this);
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

/**
 * Keep the running values of settings that need a restart, and say so
 */
static void keep_restart_settings(tunnel_route_config_t *old,
								  tunnel_route_config_t *new)
{
#define KEEP(field, key) \
	if (old->field != new->field) \
	{ \
		DBG1(DBG_CFG, "tunnel-route: changing %s needs a restart, keeping %u", \
			 key, (u_int)old->field); \
		new->field = old->field; \
	}
	KEEP(table, "table");
	KEEP(priority, "priority");
	KEEP(mark, "mark");
	KEEP(mask, "mark (mask)");
	KEEP(bypass_mark, "bypass_mark");
	KEEP(protocol, "protocol");
	KEEP(fail_closed, "fail_closed");
	KEEP(refresh, "refresh_interval");
	KEEP(guard_timeout, "guard_timeout");
#undef KEEP
	if (!streq(old->nft_table, new->nft_table))
	{
		DBG1(DBG_CFG, "tunnel-route: changing nft_table needs a restart, "
			 "keeping %s", old->nft_table);
		free(new->nft_table);
		new->nft_table = strdup(old->nft_table);
	}
}

/**
 * Route the installed CHILD_SAs of children that had no sources before
 */
static void adopt_children(private_tunnel_route_listener_t *this,
						   tunnel_route_config_t *old)
{
	enumerator_t *ikes, *children;
	child_sa_t *child_sa;
	ike_sa_t *ike_sa;
	char *name, what[BUF_LEN];
	change_t c;
	u_int count = 0;

	/* no lock of ours while IKE_SAs are checked out, as in the hooks */
	ikes = charon->ike_sa_manager->create_enumerator(charon->ike_sa_manager,
													 TRUE);
	while (ikes->enumerate(ikes, &ike_sa))
	{
		children = ike_sa->create_child_sa_enumerator(ike_sa);
		while (children->enumerate(children, &child_sa))
		{
			name = child_sa->get_name(child_sa);
			if (child_sa->get_state(child_sa) != CHILD_INSTALLED ||
				old->get_sources(old, name))
			{
				continue;
			}
			this->mutex->lock(this->mutex);
			if (this->config && this->config->get_sources(this->config, name) &&
				this->track->is_up(this->track,
								   child_sa->get_unique_id(child_sa)))
			{
				snprintf(what, sizeof(what), "tunnel-route: CHILD_SA %s{%u} "
						 "gets sources", name,
						 child_sa->get_unique_id(child_sa));
				change_init(&c);
				sa_up(this, &c, ike_sa, child_sa, what);
				apply(this, &c, what);
				change_done(&c);
				count++;
			}
			this->mutex->unlock(this->mutex);
		}
		children->destroy(children);
	}
	ikes->destroy(ikes);
	if (count)
	{
		DBG1(DBG_CFG, "tunnel-route: routed %u installed CHILD_SAs that got "
			 "sources", count);
	}
}

METHOD(tunnel_route_listener_t, reload, bool,
	private_tunnel_route_listener_t *this)
{
	tunnel_route_config_t *config, *old;
	enumerator_t *children, *known;
	known_t *k;
	child_t *child;
	change_t c;
	bool ok;

	config = tunnel_route_config_load(lib->settings, lib->ns);
	if (!config || config->errors)
	{
		DBG1(DBG_CFG, "tunnel-route: reloaded settings rejected (see above), "
			 "the current sources stay in force");
		DESTROY_IF(config);
		return FALSE;
	}
	this->mutex->lock(this->mutex);
	old = this->config;
	if (!old)
	{
		this->mutex->unlock(this->mutex);
		config->destroy(config);
		return FALSE;
	}
	keep_restart_settings(old, config);
	/* the pairs of every known destination under the new sources: new
	 * references first, so that what stays is never withdrawn */
	change_init(&c);
	children = this->children->create_enumerator(this->children);
	while (children->enumerate(children, NULL, &child))
	{
		known = child->known->create_enumerator(child->known);
		while (known->enumerate(known, NULL, &k))
		{
			range_pairs(this, &c, config, child, &k->range, TRUE);
			range_pairs(this, &c, old, child, &k->range, FALSE);
		}
		known->destroy(known);
	}
	children->destroy(children);
	this->config = config;
	ok = apply(this, &c, "tunnel-route: applying reloaded settings");
	change_done(&c);
	DBG1(DBG_CFG, "tunnel-route: reloaded settings: sources of %u CHILD_SA "
		 "configs applied", this->children->get_count(this->children));
	this->mutex->unlock(this->mutex);
	/* the scanner picks up the configured destinations of new children;
	 * route their installed CHILD_SAs now */
	adopt_children(this, old);
	this->mutex->lock(this->mutex);
	this->condvar->signal(this->condvar);
	this->mutex->unlock(this->mutex);
	old->destroy(old);
	return ok;
}

CALLBACK(destroy_dest, void,
	dest_t *dest, const void *key)
{
	array_destroy_function(dest->ups, (void*)free, NULL);
	free(dest);
}

CALLBACK(destroy_child, void,
	child_t *child, const void *key)
{
	array_destroy(child->sas);
	child->known->destroy_function(child->known, (void*)free);
	ranges_destroy(child->configured);
	free(child->name);
	free(child);
}

CALLBACK(destroy_sa, void,
	sa_t *sa, const void *key)
{
	array_destroy(sa->dests);
	ranges_destroy(sa->ranges);
	free(sa->child);
	free(sa);
}

CALLBACK(destroy_pair, void,
	pair_t *pair, const void *key)
{
	free(pair);
}

static void destroy_state(private_tunnel_route_listener_t *this)
{
	this->sas->destroy_function(this->sas, destroy_sa);
	this->track->destroy(this->track);
	this->children->destroy_function(this->children, destroy_child);
	this->dests->destroy_function(this->dests, destroy_dest);
	this->pairs->destroy_function(this->pairs, destroy_pair);
}

static void clear_state(private_tunnel_route_listener_t *this)
{
	destroy_state(this);
	this->sas = hashtable_create(tunnel_id_hash, tunnel_id_equals, 32);
	this->track = child_track_create();
	this->children = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8);
	this->dests = hashtable_create(dest_hash, dest_equals, 32);
	this->pairs = hashtable_create(pair_hash, pair_equals, 32);
}

METHOD(tunnel_route_listener_t, stop, void,
	private_tunnel_route_listener_t *this)
{
	nl_batch_t *batch;

	/* not under our lock: a restore in progress takes it */
	DESTROY_IF(this->nft_monitor);
	DESTROY_IF(this->rt_monitor);
	this->nft_monitor = this->rt_monitor = NULL;
	this->mutex->lock(this->mutex);
	this->stopping = TRUE;
	this->condvar->signal(this->condvar);
	this->mutex->unlock(this->mutex);
	if (this->scanner)
	{
		this->scanner->join(this->scanner);
		this->scanner = NULL;
	}
	this->mutex->lock(this->mutex);
	if (this->config)
	{
		/* the rule and every route tagged as ours */
		remove_stale(this);
		batch = nl_batch_create();
		nft_msg_begin(batch);
		nft_msg_delete_table(batch, this->config->nft_table);
		nft_msg_end(batch);
		this->nfnl->send(this->nfnl, batch, "tunnel-route: deleting table");
		batch->destroy(batch);
		this->config->destroy(this->config);
		this->config = NULL;
	}
	clear_state(this);
	this->guarding = FALSE;
	if (this->stats)
	{
		this->stats->write(this->stats, this->latency_log);
		this->stats->destroy(this->stats);
		this->stats = NULL;
	}
	this->mutex->unlock(this->mutex);
}

METHOD(tunnel_route_listener_t, destroy, void,
	private_tunnel_route_listener_t *this)
{
	destroy_state(this);
	DESTROY_IF(this->config);
	DESTROY_IF(this->stats);
	free(this->latency_log);
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
tunnel_route_listener_t *tunnel_route_listener_create(nl_socket_t *rtnl,
													  nl_socket_t *nfnl)
{
	private_tunnel_route_listener_t *this;

	INIT(this,
		.public = {
			.listener = {
				.child_updown = _child_updown,
				.child_rekey = _child_rekey,
				.child_state_change = _child_state_change,
			},
			.start = _start,
			.reload = _reload,
			.stop = _stop,
			.destroy = _destroy,
		},
		.rtnl = rtnl,
		.nfnl = nfnl,
		.sas = hashtable_create(tunnel_id_hash, tunnel_id_equals, 32),
		.track = child_track_create(),
		.children = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8),
		.dests = hashtable_create(dest_hash, dest_equals, 32),
		.pairs = hashtable_create(pair_hash, pair_equals, 32),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	return &this->public;
}
