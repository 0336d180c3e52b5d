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

#include "tunnel_nat_listener.h"
#include "tunnel_nat_kernel.h"
#include "tunnel_nat_change.h"
#include "tunnel_nat_sa.h"
#include "tunnel_nat_zones.h"
#include "tunnel_nat_backend.h"

#include <tunnel_util.h>
#include <sw_compat.h>
#include <child_track.h>
#include <ha_takeover.h>
#include <event_stats.h>
#include <nl_monitor.h>

#include <linux/netfilter/nfnetlink.h>

#include <daemon.h>
#include <threading/mutex.h>
#include <threading/condvar.h>
#include <threading/thread.h>
#include <collections/hashtable.h>
#include <processing/jobs/callback_job.h>

typedef struct private_tunnel_nat_listener_t private_tunnel_nat_listener_t;

/**
 * Private data of a tunnel_nat_listener_t object.
 */
struct private_tunnel_nat_listener_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_listener_t public;

	/**
	 * Netlink socket to nftables, not owned
	 */
	nl_socket_t *socket;

	/**
	 * The table, its elements and the conntrack clean-up in the kernel
	 */
	tunnel_nat_kernel_t *kernel;

	/**
	 * Current settings, NULL until started
	 */
	tunnel_nat_config_t *config;

	/**
	 * Interface the DNAT rule matches, NULL for meta secpath
	 */
	char *iface;

	/**
	 * Conntrack zones of the partner-side CHILD_SA configs of config
	 */
	tunnel_nat_zones_t *zones;

	/**
	 * Installed translations and who needs them
	 */
	tunnel_nat_state_t *state;

	/**
	 * Serializes events, state and netlink transactions
	 */
	mutex_t *mutex;

	/**
	 * tunnel_nat_sa_t of the CHILD_SAs owning translations, by unique id
	 */
	hashtable_t *sas;

	/**
	 * op_t, events waiting for the committer
	 */
	array_t *queue;

	/**
	 * The CHILD_SAs the hooks took up, so each is released once (under
	 * queue_mutex)
	 */
	child_track_t *track;

	/**
	 * Protects the queue and track, wakes the committer
	 */
	mutex_t *queue_mutex;
	condvar_t *queue_condvar;

	/**
	 * The committer runs
	 */
	bool running;

	/**
	 * Holders of mutex and those waiting for it (under queue_mutex). While
	 * there are any, hooks queue their events for the committer, so events
	 * keep their order and a hook never waits for a reload or a restore.
	 */
	u_int busy;

	/**
	 * The committer thread
	 */
	thread_t *committer;

	/**
	 * Watches for deletions of our table by other programs
	 */
	nl_monitor_t *monitor;

	/**
	 * Name of our table, for the monitor's thread (fixed while it runs)
	 */
	char table[128];

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
 * Remember (or forget, rec NULL) the record of a CHILD_SA
 */
static void set_rec(private_tunnel_nat_listener_t *this, uint32_t id,
					tunnel_nat_sa_t *rec)
{
	tunnel_nat_sa_t *old;

	if (rec)
	{
		old = this->sas->put(this->sas, (void*)(uintptr_t)id, rec);
	}
	else
	{
		old = this->sas->remove(this->sas, (void*)(uintptr_t)id);
	}
	if (old)
	{
		tunnel_nat_sa_destroy(old);
	}
}

static void elems_destroy(array_t *elems)
{
	array_destroy_function(elems, (void*)free, NULL);
}

/**
 * A CHILD_SA event waiting for the committer
 */
typedef struct {
	event_kind_t kind;
	/** CHILD_SA going away (down, rekey), 0 for none */
	uint32_t old_id;
	/** CHILD_SA coming up (up, rekey), 0 for none */
	uint32_t new_id;
	/** what the new CHILD_SA negotiated */
	tunnel_nat_sa_t *rec;
	/** name of the CHILD_SA, for logs */
	char *name;
	/** when the event happened */
	uint64_t start;
} op_t;

static void op_destroy(op_t *op)
{
	free(op->name);
	if (op->rec)
	{
		tunnel_nat_sa_destroy(op->rec);
	}
	free(op);
}

static void apply_ops(private_tunnel_nat_listener_t *this, array_t *ops,
					  uint64_t begin, bool in_hook);

/**
 * Lock the state (meanwhile events queue for the committer)
 */
static void state_lock(private_tunnel_nat_listener_t *this)
{
	this->queue_mutex->lock(this->queue_mutex);
	this->busy++;
	this->queue_mutex->unlock(this->queue_mutex);
	this->mutex->lock(this->mutex);
}

static void state_unlock(private_tunnel_nat_listener_t *this)
{
	this->mutex->unlock(this->mutex);
	this->queue_mutex->lock(this->queue_mutex);
	this->busy--;
	this->queue_mutex->unlock(this->queue_mutex);
}

/**
 * Handle an event. The hook records what the CHILD_SA negotiated; if
 * nothing else holds or waits for the state (no queued events, no commit,
 * reload or restore in progress), it applies the event itself, one
 * nftables transaction (a thread switch to the committer would cost the
 * event more than the transaction, whenever the CPUs are busy). Otherwise
 * it queues the event for the committer, which applies all queued events
 * in one transaction: the hook never waits for other work.
 */
static void submit(private_tunnel_nat_listener_t *this, event_kind_t kind,
				   uint32_t old_id, uint32_t new_id, child_sa_t *child_sa,
				   uint64_t start)
{
	array_t *ops;
	op_t *op;
	bool in_hook = FALSE;

	INIT(op,
		.kind = kind,
		.old_id = old_id,
		.new_id = new_id,
		.rec = child_sa && new_id ? tunnel_nat_sa_create(child_sa) : NULL,
		.name = child_sa ? strdup(child_sa->get_name(child_sa)) : NULL,
		.start = start,
	);
	this->queue_mutex->lock(this->queue_mutex);
	if (this->running && !this->busy && !array_count(this->queue))
	{	/* free: nobody holds or waits for the state lock; taken before the
		 * queue is released, so no later event overtakes this one */
		this->busy++;
		this->mutex->lock(this->mutex);
		in_hook = TRUE;
	}
	else if (this->running)
	{
		array_insert(this->queue, ARRAY_TAIL, op);
		this->queue_condvar->signal(this->queue_condvar);
		op = NULL;
	}
	this->queue_mutex->unlock(this->queue_mutex);
	if (in_hook)
	{
		if (this->config)
		{
			ops = array_create(0, 1);
			array_insert(ops, ARRAY_TAIL, op);
			apply_ops(this, ops, start, TRUE);
			array_destroy(ops);
		}
		state_unlock(this);
	}
	if (op)
	{
		op_destroy(op);
	}
	if (this->stats)
	{	/* and when the next listener on the bus gets the event */
		uint64_t now = event_stats_now();

		this->stats->add(this->stats, EVENT_HOOK, now - start);
		this->stats->add(this->stats, EVENT_LEAVE, now);
	}
}

/**
 * Submit what a hook's event means, as the tracker of CHILD_SAs judged it
 */
static void submit_tracked(private_tunnel_nat_listener_t *this,
						   child_track_event_t ev, uint32_t old_id,
						   uint32_t new_id, child_sa_t *new, uint64_t start)
{
	switch (ev)
	{
		case CHILD_TRACK_UP:
			submit(this, EVENT_UP, 0, new_id, new, start);
			break;
		case CHILD_TRACK_DOWN:
			submit(this, EVENT_DOWN, old_id, 0, new, start);
			break;
		case CHILD_TRACK_REKEY:
			submit(this, EVENT_REKEY, old_id, new_id, new, start);
			break;
		case CHILD_TRACK_NONE:
			break;
	}
}

METHOD(listener_t, child_updown, bool,
	private_tunnel_nat_listener_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
	bool up)
{
	uint64_t start = event_stats_now();
	uint32_t id = child_sa->get_unique_id(child_sa);
	child_track_event_t ev;

	this->queue_mutex->lock(this->queue_mutex);
	ev = up ? this->track->up(this->track, id)
			: this->track->down(this->track, id);
	this->queue_mutex->unlock(this->queue_mutex);
	submit_tracked(this, ev, id, id, child_sa, start);
	return TRUE;
}

METHOD(listener_t, child_rekey, bool,
	private_tunnel_nat_listener_t *this, ike_sa_t *ike_sa, child_sa_t *old,
	child_sa_t *new)
{
	uint64_t start = event_stats_now();
	uint32_t old_id = old->get_unique_id(old), new_id = new->get_unique_id(new);
	child_track_event_t ev;

	this->queue_mutex->lock(this->queue_mutex);
	ev = this->track->rekey(this->track, &old_id, &new_id);
	this->queue_mutex->unlock(this->queue_mutex);
	submit_tracked(this, ev, old_id, new_id, new, start);
	return TRUE;
}

/**
 * A CHILD_SA is installed the first time (with 6.0's make-before-break on
 * the rekey responder before child_rekey(), which comes late or not at all),
 * or deleted, or destroyed (rekeyed CHILD_SAs get no child_updown() when
 * their IKE_SA goes down): what child_updown() and child_rekey() missed.
 */
METHOD(listener_t, child_state_change, bool,
	private_tunnel_nat_listener_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
	child_sa_state_t state)
{
	uint64_t start = event_stats_now();
	uint32_t id = child_sa->get_unique_id(child_sa);
	child_track_event_t ev;

	this->queue_mutex->lock(this->queue_mutex);
	ev = this->track->state(this->track, id, child_sa->get_state(child_sa),
							state);
	this->queue_mutex->unlock(this->queue_mutex);
	submit_tracked(this, ev, id, id, child_sa, start);
	return TRUE;
}

/**
 * An HA node takes over an IKE_SA (ha plugin, PASSIVE -> ESTABLISHED): the
 * translations of its CHILD_SAs are in place since they were synced; their
 * ESP sequence numbers are not synced, so they are rekeyed, by tunnel-route
 * if it is loaded and does it, else here (plugins/common/ha_takeover.c)
 */
METHOD(listener_t, ike_state_change, bool,
	private_tunnel_nat_listener_t *this, ike_sa_t *ike_sa,
	ike_sa_state_t state)
{
	if (ha_takeover_is_takeover(ike_sa, state) && ha_takeover_by_tunnel_nat())
	{
		ha_takeover_queue(ike_sa, "tunnel-nat");
	}
	return TRUE;
}

/**
 * Apply one event to the state, collecting its changes
 */
static void apply_op(private_tunnel_nat_listener_t *this, op_t *op,
					 tunnel_nat_change_t *change)
{
	array_t *elems = NULL;

	if (op->rec)
	{
		tunnel_nat_sa_check(this->config, op->rec);
		elems = tunnel_nat_zones_elems(this->zones, this->config, op->rec,
									   op->new_id, TRUE);
	}
	switch (op->kind)
	{
		case EVENT_UP:
			if (elems && this->state->update(this->state, 0, op->new_id, elems,
											 tunnel_nat_change_collect, change))
			{
				set_rec(this, op->new_id, op->rec);
				op->rec = NULL;
			}
			break;
		case EVENT_DOWN:
			if (this->sas->get(this->sas, (void*)(uintptr_t)op->old_id))
			{
				DBG1(DBG_CHD, "tunnel-nat: removing translations of CHILD_SA "
					 "%s{%u}", op->name ?: "", op->old_id);
			}
			set_rec(this, op->old_id, NULL);
			this->state->update(this->state, op->old_id, 0, NULL,
								tunnel_nat_change_collect, change);
			break;
		case EVENT_REKEY:
			if (!elems)
			{	/* no mappings for the new one */
				break;
			}
			if (this->state->update(this->state, op->old_id, op->new_id, elems,
									tunnel_nat_change_collect, change))
			{
				set_rec(this, op->old_id, NULL);
				set_rec(this, op->new_id, op->rec);
				op->rec = NULL;
			}
			else
			{	/* keep what the old SA had in place for the new one */
				this->state->rename(this->state, op->old_id, op->new_id);
				set_rec(this, op->new_id,
						this->sas->remove(this->sas,
										  (void*)(uintptr_t)op->old_id));
			}
			break;
		default:
			break;
	}
	if (elems)
	{
		elems_destroy(elems);
	}
}

/**
 * Apply a batch of events: the state first, then the net change in one
 * nftables transaction (if it fails, the maps are rewritten to the state)
 */
static void apply_ops(private_tunnel_nat_listener_t *this, array_t *ops,
					  uint64_t begin, bool in_hook)
{
	tunnel_nat_change_t *change;
	array_t *add, *del;
	op_t *op;
	char what[BUF_LEN];
	uint64_t now;
	u_int i;

	if (array_count(ops) == 1)
	{
		array_get(ops, 0, &op);
		snprintf(what, sizeof(what), "tunnel-nat: CHILD_SA %s{%u} %s",
				 op->name ?: "", op->new_id ?: op->old_id,
				 op->kind == EVENT_UP ? "up" :
				 op->kind == EVENT_DOWN ? "down" : "rekeyed");
	}
	else
	{
		snprintf(what, sizeof(what), "tunnel-nat: %u CHILD_SA events",
				 array_count(ops));
	}
	change = tunnel_nat_change_create();
	for (i = 0; i < array_count(ops); i++)
	{
		array_get(ops, i, &op);
		apply_op(this, op, change);
	}
	change->get(change, &add, &del);
	if ((array_count(add) || array_count(del)) &&
		!this->kernel->commit(this->kernel, this->config, add, del, what,
							  NULL, 0))
	{	/* make the kernel match what the CHILD_SAs need */
		this->kernel->resync(this->kernel, this->config, this->state, what);
	}
	now = event_stats_now();
	for (i = 0; i < array_count(ops); i++)
	{
		array_get(ops, i, &op);
		if (op->kind == EVENT_UP)
		{
			tunnel_nat_sa_t *rec = this->sas->get(this->sas,
										   (void*)(uintptr_t)op->new_id);
			if (rec)
			{
				DBG1(DBG_CHD, "tunnel-nat: translations of CHILD_SA %s{%u} "
					 "installed (%u in table ip %s)", rec->name, op->new_id,
					 this->state->get_count(this->state), this->config->table);
			}
		}
		if (this->stats)
		{	/* from the event to the translations in place; and the
			 * event's share of the work outside the hook (in a hook, the
			 * hook's time is all of it) */
			this->stats->add(this->stats, op->kind, now - op->start);
			if (!in_hook)
			{
				this->stats->add(this->stats, EVENT_COST,
								 (now - begin) / array_count(ops));
			}
		}
	}
	if (array_count(ops) > 1 || array_count(add) || array_count(del))
	{
		DBG2(DBG_CHD, "%s: %u translations added, %u removed, %u installed",
			 what, array_count(add), array_count(del),
			 this->state->get_count(this->state));
	}
	array_destroy(add);
	array_destroy(del);
	change->destroy(change);
}

/**
 * The committer: takes the queued events, all at once, and applies them
 */
static void *committer(private_tunnel_nat_listener_t *this)
{
	array_t *ops;
	uint64_t begin;

	this->queue_mutex->lock(this->queue_mutex);
	while (this->running)
	{
		if (!array_count(this->queue))
		{
			this->queue_condvar->wait(this->queue_condvar, this->queue_mutex);
			continue;
		}
		/* take the events and the state at once: a hook seeing the queue
		 * empty must not overtake them */
		ops = this->queue;
		this->queue = array_create(0, 8);
		this->busy++;
		this->queue_mutex->unlock(this->queue_mutex);

		begin = event_stats_now();
		this->mutex->lock(this->mutex);
		if (this->config)
		{
			apply_ops(this, ops, begin, FALSE);
		}
		state_unlock(this);
		array_destroy_function(ops, (void*)op_destroy, NULL);

		this->queue_mutex->lock(this->queue_mutex);
	}
	this->queue_mutex->unlock(this->queue_mutex);
	return NULL;
}

CALLBACK(monitor_filter, bool,
	private_tunnel_nat_listener_t *this, const struct nlmsghdr *nlh)
{
	return nl_monitor_nft_deleted(nlh, this->table);
}

/**
 * Restore the table with all current translations, one transaction
 */
CALLBACK(monitor_heal, void,
	private_tunnel_nat_listener_t *this, const char *why)
{
	state_lock(this);
	if (this->config)
	{
		this->kernel->restore(this->kernel, this->config, this->iface,
							  this->state, why);
	}
	state_unlock(this);
}

METHOD(tunnel_nat_listener_t, start, bool,
	private_tunnel_nat_listener_t *this)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones;
	bool ok;

	config = tunnel_nat_backend_load_config(NULL, &zones);
	if (!config)
	{
		return FALSE;
	}
	state_lock(this);
	this->config = config;
	DESTROY_IF(this->zones);
	this->zones = zones;
	free(this->iface);
	this->iface = tunnel_nat_backend_inbound_iface(this->config);
	free(this->latency_log);
	this->latency_log = strdupnull(lib->settings->get_str(lib->settings,
							"%s.plugins.tunnel-nat.latency_log", NULL, lib->ns));
	DESTROY_IF(this->stats);
	this->stats = this->latency_log ? event_stats_create() : NULL;
	ok = this->kernel->install(this->kernel, config, this->iface,
							   lib->settings->get_bool(lib->settings,
							   "%s.plugins.tunnel-nat.conntrack", TRUE, lib->ns));
	if (ok)
	{
		array_t *owners;

		/* the zones are given in the settings' order: after a restart with
		 * other settings, a partner may get a zone whose entries are still
		 * another's */
		owners = tunnel_nat_zones_owners(zones, config);
		this->kernel->flush_foreign(this->kernel, config, owners);
		array_destroy(owners);
	}
	if (ok)
	{
		this->queue_mutex->lock(this->queue_mutex);
		this->running = TRUE;
		this->queue_mutex->unlock(this->queue_mutex);
		this->committer = thread_create((thread_main_t)committer, this);
	}
	if (ok)
	{
		uint32_t groups[] = { NFNLGRP_NFTABLES, 0 };
		uint32_t ignore[] = { this->socket->get_portid(this->socket), 0 };

		snprintf(this->table, sizeof(this->table), "%s", config->table);

		this->monitor = nl_monitor_create(NETLINK_NETFILTER, groups, ignore,
										  nl_monitor_nft_deletions, this->table,
										  monitor_filter, monitor_heal, this,
										  "tunnel-nat");
		DBG1(DBG_CFG, "tunnel-nat: table ip %s ready, %u mappings, DNAT of "
			 "packets %s%s", config->table, array_count(config->mappings),
			 this->iface ? "arriving on "
						 : "decrypted by IPsec (meta secpath, or out of a VTI)",
			 this->iface ?: "");
	}
	else
	{
		this->config = NULL;
		config->destroy(config);
		this->zones->destroy(this->zones);
		this->zones = NULL;
	}
	state_unlock(this);
	return ok;
}

static bool commit_nothing(void *user, array_t *add, array_t *del)
{
	return TRUE;
}

METHOD(tunnel_nat_listener_t, reload, bool,
	private_tunnel_nat_listener_t *this)
{
	tunnel_nat_config_t *config;
	tunnel_nat_zones_t *zones;
	tunnel_nat_state_t *state;
	enumerator_t *enumerator;
	array_t *elems, *add, *del;
	tunnel_nat_sa_t *rec;
	void *key;
	char error[256] = "";
	bool ok;

	/* under the lock: the new zones follow the current ones */
	state_lock(this);
	if (!this->config)
	{
		state_unlock(this);
		return FALSE;
	}
	config = tunnel_nat_backend_load_config(this->zones, &zones);
	if (!config)
	{
		DBG1(DBG_CFG, "tunnel-nat: reloaded settings rejected, the current "
			 "mappings stay in force");
		state_unlock(this);
		return FALSE;
	}
	if (config->errors ||
		!streq(config->table, this->config->table) ||
		!streq(config->inbound_interface ?: "",
			   this->config->inbound_interface ?: ""))
	{
		if (config->errors)
		{
			DBG1(DBG_CFG, "tunnel-nat: %u invalid settings (see above), "
				 "reloaded settings rejected, the current mappings stay in "
				 "force", config->errors);
		}
		else
		{
			DBG1(DBG_CFG, "tunnel-nat: changing table or inbound_interface "
				 "needs a restart, reloaded settings rejected, the current "
				 "mappings stay in force");
		}
		state_unlock(this);
		zones->destroy(zones);
		config->destroy(config);
		return FALSE;
	}

	/* what the live CHILD_SAs need under the new mappings */
	state = tunnel_nat_state_create();
	enumerator = this->sas->create_enumerator(this->sas);
	while (enumerator->enumerate(enumerator, &key, &rec))
	{
		elems = tunnel_nat_zones_elems(zones, config, rec, (uintptr_t)key,
									   TRUE);
		if (elems)
		{
			state->update(state, 0, (uintptr_t)key, elems, commit_nothing,
						  NULL);
			elems_destroy(elems);
		}
	}
	enumerator->destroy(enumerator);

	/* one transaction for the difference; what stays is not touched */
	tunnel_nat_change_between(this->state, state, &add, &del);
	ok = this->kernel->reload(this->kernel, config, state, add, del,
							  "tunnel-nat: applying reloaded settings", error,
							  sizeof(error));
	if (ok)
	{
		DBG1(DBG_CFG, "tunnel-nat: reloaded settings: %u mappings, %u "
			 "translations added, %u removed, %u kept",
			 array_count(config->mappings), array_count(add),
			 array_count(del), state->get_count(state) - array_count(add));
	}
	else
	{
		DBG1(DBG_CFG, "tunnel-nat: applying the reloaded settings failed (%s), "
			 "the current mappings stay in force", error);
	}
	array_destroy(add);
	array_destroy(del);
	if (ok)
	{
		this->state->destroy(this->state);
		this->state = state;
		this->config->destroy(this->config);
		this->config = config;
		this->zones->destroy(this->zones);
		this->zones = zones;
		/* the zones of partners that left are given to others only once
		 * their entries are gone (tried again at the next reload) */
		if (this->kernel->flush_zones(this->kernel, zones->get_retired(zones)))
		{
			zones->release(zones);
		}
	}
	else
	{
		state->destroy(state);
		zones->destroy(zones);
		config->destroy(config);
	}
	state_unlock(this);
	return ok;
}

METHOD(tunnel_nat_listener_t, stop, void,
	private_tunnel_nat_listener_t *this)
{
	/* not under our lock: the committer and a restore in progress take it */
	this->queue_mutex->lock(this->queue_mutex);
	this->running = FALSE;
	this->queue_condvar->signal(this->queue_condvar);
	this->queue_mutex->unlock(this->queue_mutex);
	if (this->committer)
	{
		this->committer->join(this->committer);
		this->committer = NULL;
	}
	array_destroy_function(this->queue, (void*)op_destroy, NULL);
	this->queue = array_create(0, 8);
	this->track->destroy(this->track);
	this->track = child_track_create();
	this->kernel->stop_cleaner(this->kernel);
	DESTROY_IF(this->monitor);
	this->monitor = NULL;
	state_lock(this);
	if (this->config)
	{
		this->kernel->uninstall(this->kernel, this->config);
		this->config->destroy(this->config);
		this->config = NULL;
	}
	DESTROY_IF(this->zones);
	this->zones = NULL;
	if (this->stats)
	{
		this->stats->write(this->stats, this->latency_log);
		this->stats->destroy(this->stats);
		this->stats = NULL;
	}
	this->state->destroy(this->state);
	this->state = tunnel_nat_state_create();
	this->sas->destroy_function(this->sas, (void*)tunnel_nat_sa_destroy);
	this->sas = hashtable_create(tunnel_id_hash, tunnel_id_equals, 32);
	state_unlock(this);
}

METHOD(tunnel_nat_listener_t, destroy, void,
	private_tunnel_nat_listener_t *this)
{
	DESTROY_IF(this->config);
	DESTROY_IF(this->zones);
	DESTROY_IF(this->stats);
	this->state->destroy(this->state);
	this->sas->destroy_function(this->sas, (void*)tunnel_nat_sa_destroy);
	this->kernel->destroy(this->kernel);
	this->mutex->destroy(this->mutex);
	array_destroy_function(this->queue, (void*)op_destroy, NULL);
	this->track->destroy(this->track);
	this->queue_mutex->destroy(this->queue_mutex);
	this->queue_condvar->destroy(this->queue_condvar);
	free(this->iface);
	free(this->latency_log);
	free(this);
}

/*
 * Described in header
 */
tunnel_nat_listener_t *tunnel_nat_listener_create(nl_socket_t *socket)
{
	private_tunnel_nat_listener_t *this;

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
		.socket = socket,
		.kernel = tunnel_nat_kernel_create(socket),
		.state = tunnel_nat_state_create(),
		.sas = hashtable_create(tunnel_id_hash, tunnel_id_equals, 32),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.queue = array_create(0, 8),
		.track = child_track_create(),
		.queue_mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.queue_condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	return &this->public;
}
