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
#include "tunnel_route_guard.h"
#include "tunnel_route_kernel.h"
#include "tunnel_route_rtnl.h"
#include "tunnel_route_scanner.h"
#include "tunnel_route_state.h"
#include "tunnel_route_target.h"

#include <stdio.h>
#include <linux/rtnetlink.h>

#include <daemon.h>
#include <threading/mutex.h>
#include <sw_compat.h>
#include <child_track.h>
#include <ha_takeover.h>
#include <event_stats.h>
#include <nl_monitor.h>
#include <linux/netfilter/nfnetlink.h>

typedef struct private_tunnel_route_listener_t private_tunnel_route_listener_t;

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
	 * Destinations, CHILD_SAs, children and pairs
	 */
	tunnel_route_state_t *state;

	/**
	 * The CHILD_SAs the hooks took up, so each is released once
	 */
	child_track_t *track;

	/**
	 * Our table, rules and routes in the kernel
	 */
	tunnel_route_kernel_t *kernel;

	/**
	 * The start-up guard
	 */
	tunnel_route_guard_t *guard;

	/**
	 * Serializes events, the scanner and netlink
	 */
	mutex_t *mutex;

	/**
	 * Thread scanning the configured CHILD_SAs, if any
	 */
	tunnel_route_scanner_t *scanner;

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
	 * The last restore failed (fail-closed state in place): the scanner
	 * retries it
	 */
	bool restore_failed;

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
 * Send the change built in the state to the kernel, as one batch
 */
static bool apply(private_tunnel_route_listener_t *this, const char *what)
{
	return this->kernel->commit(this->kernel, this->config, this->state, what);
}

/**
 * The remote ranges of a list of traffic selectors
 */
static array_t *ts_ranges(enumerator_t *enumerator)
{
	traffic_selector_t *ts;
	array_t *ranges;

	ranges = array_create(0, 1);
	while (enumerator->enumerate(enumerator, &ts))
	{
		tunnel_route_ranges_add_ts(ranges, ts);
	}
	enumerator->destroy(enumerator);
	return ranges;
}

/**
 * Route the destinations of a CHILD_SA (in the state)
 */
static void sa_up(private_tunnel_route_listener_t *this, ike_sa_t *ike_sa,
				  child_sa_t *child_sa)
{
	char *name = child_sa->get_name(child_sa);
	tunnel_route_target_t target;
	array_t *negotiated, *configured;
	linked_list_t *list;
	bool routed;

	if (!this->config->get_sources(this->config, name))
	{
		return;
	}
	negotiated = ts_ranges(child_sa->create_ts_enumerator(child_sa, FALSE));
	/* what the config says, plus what was negotiated */
	list = sw_child_cfg_ts(child_sa->get_config(child_sa), FALSE);
	configured = ts_ranges(list->create_enumerator(list));
	list->destroy_offset(list, offsetof(traffic_selector_t, destroy));
	/* if it has none, its destinations stay refused */
	routed = tunnel_route_target_resolve(this->rtnl, this->config, ike_sa,
										 child_sa, &target);
	this->state->sa_up(this->state, child_sa->get_unique_id(child_sa), name,
					   negotiated, configured, routed ? &target : NULL);
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

	if (this->stats)
	{	/* when the previous listener on the bus was done with the event */
		this->stats->add(this->stats, EVENT_ENTER, start);
	}
	switch (ev)
	{
		case CHILD_TRACK_UP:
			snprintf(what, sizeof(what), "tunnel-route: CHILD_SA %s{%u} up",
					 name, new_id);
			sa_up(this, ike_sa, new);
			if (!apply(this, what))
			{	/* don't leave it half routed: back to fail-closed */
				this->state->sa_down(this->state, new_id);
				apply(this, what);
				DBG1(DBG_CHD, "tunnel-route: routes of CHILD_SA %s{%u} not "
					 "installed", name, new_id);
			}
			else if (this->state->has_sa(this->state, new_id))
			{
				DBG1(DBG_CHD, "tunnel-route: routes of CHILD_SA %s{%u} "
					 "installed in table %u", name, new_id,
					 this->config->table);
			}
			break;
		case CHILD_TRACK_DOWN:
			snprintf(what, sizeof(what), "tunnel-route: CHILD_SA %s{%u} down",
					 name, old_id);
			if (this->state->has_sa(this->state, old_id))
			{
				DBG1(DBG_CHD, "tunnel-route: removing routes of CHILD_SA "
					 "%s{%u}", name, old_id);
			}
			this->state->sa_down(this->state, old_id);
			apply(this, what);
			break;
		case CHILD_TRACK_REKEY:
			snprintf(what, sizeof(what), "tunnel-route: CHILD_SA %s{%u} "
					 "rekeyed to {%u}", name, old_id, new_id);
			/* the new SA queues behind the old one on each destination, so
			 * when the old one goes the route stays unless the target
			 * changed: no gap */
			sa_up(this, ike_sa, new);
			this->state->sa_down(this->state, old_id);
			apply(this, what);
			break;
		case CHILD_TRACK_NONE:
			break;
	}
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
 * An HA node takes over an IKE_SA (ha plugin, PASSIVE -> ESTABLISHED): the
 * routes of its CHILD_SAs are in place since they were synced (their
 * child_state_change() took them up); their ESP sequence numbers are not
 * synced, so they are rekeyed (plugins/common/ha_takeover.c)
 */
METHOD(listener_t, ike_state_change, bool,
	private_tunnel_route_listener_t *this, ike_sa_t *ike_sa,
	ike_sa_state_t state)
{
	bool rekey;

	if (!ha_takeover_is_takeover(ike_sa, state))
	{
		return TRUE;
	}
	this->mutex->lock(this->mutex);
	rekey = this->config && this->config->ha_takeover_rekey;
	this->mutex->unlock(this->mutex);
	if (rekey)
	{
		ha_takeover_queue(ike_sa, "tunnel-route");
	}
	return TRUE;
}

/**
 * Bring the known destinations in line with the configuration, and lift the
 * start-up guard once it is complete (the scanner holds the lock)
 */
CALLBACK(scanned, void,
	private_tunnel_route_listener_t *this, hashtable_t *found)
{
	this->state->set_configured(this->state, found);
	apply(this, "tunnel-route: applying the configured CHILD_SAs");
	this->guard->check(this->guard, this->config, found, this->state);
	if (this->restore_failed)
	{	/* what is in place holds the sources' traffic back: retry */
		this->restore_failed = !this->kernel->restore(this->kernel,
							this->config, this->state, this->guard,
							"incomplete after a failed restore");
	}
}

CALLBACK(nft_filter, bool,
	private_tunnel_route_listener_t *this, const struct nlmsghdr *nlh)
{
	return nl_monitor_nft_deleted(nlh, this->nft_table);
}

CALLBACK(rt_filter, bool,
	private_tunnel_route_listener_t *this, const struct nlmsghdr *nlh)
{
	return tunnel_route_rtnl_deleted(nlh, this->table, this->protocol);
}

/**
 * Restore the nftables table, the rules and the routes after another
 * program deleted some of them
 */
CALLBACK(heal, void,
	private_tunnel_route_listener_t *this, const char *why)
{
	this->mutex->lock(this->mutex);
	if (this->config)
	{
		this->restore_failed = !this->kernel->restore(this->kernel,
							this->config, this->state, this->guard, why);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(tunnel_route_listener_t, start, bool,
	private_tunnel_route_listener_t *this)
{
	tunnel_route_config_t *config;

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
	if (!this->kernel->install(this->kernel, config))
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
	this->state->set_config(this->state, config);
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
			this->guard->up(this->guard, config);
		}
		this->scanner = tunnel_route_scanner_create(this->mutex, &this->config,
													scanned, this);
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
				sa_up(this, ike_sa, child_sa);
				apply(this, what);
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
	/* the pairs of every known destination under the new sources */
	this->state->set_config(this->state, config);
	this->config = config;
	ok = apply(this, "tunnel-route: applying reloaded settings");
	DBG1(DBG_CFG, "tunnel-route: reloaded settings: sources of %u CHILD_SA "
		 "configs applied", this->state->get_child_count(this->state));
	this->mutex->unlock(this->mutex);
	/* the scanner picks up the configured destinations of new children;
	 * route their installed CHILD_SAs now */
	adopt_children(this, old);
	this->mutex->lock(this->mutex);
	if (this->scanner)
	{
		this->scanner->wake(this->scanner);
	}
	this->mutex->unlock(this->mutex);
	old->destroy(old);
	return ok;
}

METHOD(tunnel_route_listener_t, stop, void,
	private_tunnel_route_listener_t *this)
{
	/* not under our lock: a restore in progress takes it */
	DESTROY_IF(this->nft_monitor);
	DESTROY_IF(this->rt_monitor);
	this->nft_monitor = this->rt_monitor = NULL;
	if (this->scanner)
	{	/* takes our lock to tell the thread */
		this->scanner->destroy(this->scanner);
		this->scanner = NULL;
	}
	this->mutex->lock(this->mutex);
	if (this->config)
	{
		this->kernel->uninstall(this->kernel, this->config);
		this->config->destroy(this->config);
		this->config = NULL;
	}
	this->state->destroy(this->state);
	this->state = tunnel_route_state_create();
	this->track->destroy(this->track);
	this->track = child_track_create();
	this->guard->forget(this->guard);
	this->restore_failed = FALSE;
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
	this->state->destroy(this->state);
	this->track->destroy(this->track);
	this->kernel->destroy(this->kernel);
	this->guard->destroy(this->guard);
	DESTROY_IF(this->config);
	DESTROY_IF(this->stats);
	free(this->latency_log);
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
				.ike_state_change = _ike_state_change,
			},
			.start = _start,
			.reload = _reload,
			.stop = _stop,
			.destroy = _destroy,
		},
		.rtnl = rtnl,
		.nfnl = nfnl,
		.state = tunnel_route_state_create(),
		.track = child_track_create(),
		.kernel = tunnel_route_kernel_create(rtnl, nfnl),
		.guard = tunnel_route_guard_create(rtnl, nfnl),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
