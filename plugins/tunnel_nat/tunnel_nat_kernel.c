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

#include "tunnel_nat_kernel.h"
#include "tunnel_nat_nft.h"
#include "tunnel_nat_ct.h"

#include <nft_util.h>
#include <event_stats.h>
#include <tunnel_util.h>

#include <utils/debug.h>
#include <threading/mutex.h>
#include <threading/condvar.h>
#include <threading/thread.h>

typedef struct private_tunnel_nat_kernel_t private_tunnel_nat_kernel_t;

/**
 * Private data of a tunnel_nat_kernel_t object.
 */
struct private_tunnel_nat_kernel_t {

	/**
	 * Public interface.
	 */
	tunnel_nat_kernel_t public;

	/**
	 * Netlink socket to nftables, not owned
	 */
	nl_socket_t *socket;

	/**
	 * Delete conntrack entries made stale by a change
	 */
	bool conntrack;

	/**
	 * Interface decrypted packets arrive on, NULL for meta secpath, as the
	 * table was created with
	 */
	char *iface;

	/**
	 * Whether the table has a partner side, and which (its mappings are
	 * those of the config of the moment, not kept)
	 */
	bool has_partner;
	tunnel_nat_nft_partner_t partner;

	/**
	 * Whether the table has the counting sets and chain (counters)
	 */
	bool counters;

	/**
	 * Changes whose conntrack entries are yet to be cleaned up
	 */
	tunnel_nat_ct_queue_t *ct_queue;

	/**
	 * Changes were queued since the last walk
	 */
	bool ct_pending;

	/**
	 * The cleaner runs, and its thread
	 */
	bool ct_running;
	thread_t *ct_thread;

	/**
	 * Protects the above, wakes the cleaner
	 */
	mutex_t *ct_mutex;
	condvar_t *ct_condvar;
};

/**
 * Delay of the conntrack clean-up after a change, in ms
 */
#define CT_DELAY_MS 100

/**
 * Least time between two walks of the conntrack table, in ms
 */
#define CT_INTERVAL_MS 1000

/**
 * The conntrack cleaner: its own thread, as a walk of the conntrack table
 * takes milliseconds (the kernel's table is shared by all network
 * namespaces). It gathers the changes of CT_DELAY_MS into one walk.
 */
static void *ct_cleaner(private_tunnel_nat_kernel_t *this)
{
	uint64_t start, deadline, now, last = 0;
	array_t *added, *removed;
	int deleted;
	u_int changes;

	this->ct_mutex->lock(this->ct_mutex);
	while (this->ct_running)
	{
		if (!this->ct_pending)
		{
			this->ct_condvar->wait(this->ct_condvar, this->ct_mutex);
			continue;
		}
		/* gather a burst of events (their signals don't cut this short),
		 * and walk at most once per CT_INTERVAL_MS */
		deadline = max(event_stats_now() + CT_DELAY_MS * 1000000ULL,
					   last + CT_INTERVAL_MS * 1000000ULL);
		while (this->ct_running && (now = event_stats_now()) < deadline)
		{
			this->ct_condvar->timed_wait(this->ct_condvar, this->ct_mutex,
										 (deadline - now) / 1000000 + 1);
		}
		changes = this->ct_queue->take(this->ct_queue, &added, &removed);
		this->ct_pending = FALSE;
		this->ct_mutex->unlock(this->ct_mutex);

		start = event_stats_now();
		deleted = tunnel_nat_ct_flush(added, removed, NULL, "tunnel-nat");
		last = event_stats_now();
		if (deleted > 0)
		{
			DBG1(DBG_CHD, "tunnel-nat: deleted %d conntrack entries of flows "
				 "whose translation changed (%u changes)", deleted, changes);
		}
		DBG2(DBG_CHD, "tunnel-nat: conntrack table walked in %llu us for %u "
			 "changes", (unsigned long long)(event_stats_now() - start) / 1000,
			 changes);
		array_destroy_function(added, (void*)free, NULL);
		array_destroy_function(removed, (void*)free, NULL);
		this->ct_mutex->lock(this->ct_mutex);
	}
	this->ct_mutex->unlock(this->ct_mutex);
	return NULL;
}

/**
 * Hand the conntrack clean-up of a change to the cleaner
 */
static void queue_ct(private_tunnel_nat_kernel_t *this, array_t *add,
					 array_t *del)
{
	if (!this->conntrack || (!array_count(add) && !array_count(del)))
	{
		return;
	}
	this->ct_mutex->lock(this->ct_mutex);
	this->ct_queue->queue(this->ct_queue, add, del);
	this->ct_pending = TRUE;
	this->ct_condvar->signal(this->ct_condvar);
	this->ct_mutex->unlock(this->ct_mutex);
}

/**
 * The partner side of the table, for the mappings of a config; NULL if the
 * table has none
 */
static tunnel_nat_nft_partner_t *table_partner(
						private_tunnel_nat_kernel_t *this,
						tunnel_nat_config_t *config, tunnel_nat_nft_partner_t *buf)
{
	if (!this->has_partner)
	{
		return NULL;
	}
	*buf = this->partner;
	buf->mappings = config->mappings;
	return buf;
}

/**
 * The partner side a config needs, NULL for none
 */
static tunnel_nat_nft_partner_t *config_partner(tunnel_nat_config_t *config,
												tunnel_nat_nft_partner_t *buf)
{
	return tunnel_nat_nft_partner_init(config, config->route_mask, buf) ? buf
																		: NULL;
}

/**
 * Whether the table must be rebuilt for a config: its partner side is not
 * the one the config needs (classes of the settings, zones, ct mark bit,
 * tunnel-route's mark mask)
 */
static bool needs_rebuild(private_tunnel_nat_kernel_t *this,
						  tunnel_nat_config_t *config)
{
	tunnel_nat_nft_partner_t want, have;

	return config->counters != this->counters ||
		   !tunnel_nat_nft_partner_same(config_partner(config, &want),
										table_partner(this, config, &have));
}

/**
 * Add messages deleting and adding elements, after creating the length
 * classes the added ones need; partner is updated with them
 */
static void change_msgs(nl_batch_t *batch, const char *table,
						tunnel_nat_nft_partner_t *partner, bool counters,
						array_t *add, array_t *del)
{
	/* deletes first, a rekey may replace an element by an overlapping one */
	tunnel_nat_nft_elems(batch, table, FALSE, del, counters);
	if (partner)
	{
		tunnel_nat_nft_partner_add_classes(batch, table, partner,
							tunnel_nat_nft_partner_elem_classes(add));
	}
	tunnel_nat_nft_elems(batch, table, TRUE, add, counters);
}

/**
 * End a transaction, send it and destroy it; on failure the kernel's
 * reason goes to error, if given
 */
static bool send_batch(private_tunnel_nat_kernel_t *this, nl_batch_t *batch,
					   const char *what, char *error, size_t len)
{
	bool ok;

	nft_msg_end(batch);
	ok = this->socket->send(this->socket, batch, what);
	if (!ok && error)
	{
		snprintf(error, len, "%s", batch->get_error(batch) ?: "unknown reason");
	}
	batch->destroy(batch);
	return ok;
}

METHOD(tunnel_nat_kernel_t, commit, bool,
	private_tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
	array_t *add, array_t *del, const char *what, char *error, size_t len)
{
	nl_batch_t *batch;
	tunnel_nat_nft_partner_t buf, *partner;
	bool ok;

	partner = table_partner(this, config, &buf);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	change_msgs(batch, config->table, partner, this->counters, add, del);
	ok = send_batch(this, batch, what, error, len);
	if (ok)
	{
		if (partner)
		{	/* the classes created for the added elements stay */
			this->partner.lazy = partner->lazy;
		}
		queue_ct(this, add, del);
	}
	return ok;
}

/**
 * The installed elements of a state (not copies)
 */
static array_t *all_elems(tunnel_nat_state_t *state)
{
	enumerator_t *enumerator;
	tunnel_nat_elem_t *elem;
	array_t *all;

	all = tunnel_array_create(0, state->get_count(state));
	enumerator = state->create_enumerator(state);
	while (enumerator->enumerate(enumerator, &elem))
	{
		array_insert(all, ARRAY_TAIL, elem);
	}
	enumerator->destroy(enumerator);
	return all;
}

/**
 * Create the table from scratch with elements, one transaction, with the
 * partner side the config needs and a lazy class for each other length of
 * the elements
 */
static bool build(private_tunnel_nat_kernel_t *this,
				  tunnel_nat_config_t *config, const char *iface,
				  array_t *elems, const char *what, char *error, size_t len)
{
	nl_batch_t *batch;
	tunnel_nat_nft_partner_t buf, *partner;
	bool ok;

	partner = config_partner(config, &buf);
	if (partner)
	{
		partner->lazy = tunnel_nat_nft_partner_elem_classes(elems) &
						~partner->classes;
	}
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_table(batch, config->table, iface, partner,
						 config->counters);
	tunnel_nat_nft_elems(batch, config->table, TRUE, elems, config->counters);
	ok = send_batch(this, batch, what, error, len);
	if (ok)
	{
		this->has_partner = partner != NULL;
		this->counters = config->counters;
		if (partner)
		{
			this->partner = *partner;
			this->partner.mappings = NULL;
		}
		if (iface != this->iface)
		{
			free(this->iface);
			this->iface = strdupnull(iface);
		}
	}
	return ok;
}

METHOD(tunnel_nat_kernel_t, resync, bool,
	private_tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
	tunnel_nat_state_t *state, const char *what)
{
	nl_batch_t *batch;
	tunnel_nat_nft_partner_t buf, *partner;
	array_t *all;
	bool ok;

	all = all_elems(state);
	if (needs_rebuild(this, config))
	{
		ok = build(this, config, this->iface, all, what, NULL, 0);
	}
	else
	{
		partner = table_partner(this, config, &buf);
		batch = nl_batch_create();
		nft_msg_begin(batch);
		tunnel_nat_nft_flush(batch, config->table, this->counters);
		if (partner)
		{
			tunnel_nat_nft_partner_flush(batch, config->table, partner);
		}
		change_msgs(batch, config->table, partner, this->counters, all, NULL);
		ok = send_batch(this, batch, what, NULL, 0);
		if (ok && partner)
		{
			this->partner.lazy = partner->lazy;
		}
	}
	array_destroy(all);
	if (ok)
	{
		DBG1(DBG_CHD, "tunnel-nat: rewrote table ip %s with %u translations",
			 config->table, state->get_count(state));
	}
	return ok;
}

METHOD(tunnel_nat_kernel_t, reload, bool,
	private_tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
	tunnel_nat_state_t *state, array_t *add, array_t *del, const char *what,
	char *error, size_t len)
{
	nl_batch_t *batch;
	tunnel_nat_nft_partner_t buf, *partner;
	array_t *all;
	bool ok;

	if (needs_rebuild(this, config))
	{
		all = all_elems(state);
		ok = build(this, config, this->iface, all, what, error, len);
		array_destroy(all);
		if (ok)
		{
			DBG1(DBG_CFG, "tunnel-nat: rebuilt table ip %s for the reloaded "
				 "settings (counters, or the partner side's length classes, "
				 "zones, ct mark or tunnel-route's mark mask changed)",
				 config->table);
			queue_ct(this, add, del);
		}
		return ok;
	}
	partner = table_partner(this, config, &buf);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	if (partner)
	{	/* the configured aliases may have changed within their classes */
		tunnel_nat_nft_partner_acfg(batch, config->table, partner);
	}
	change_msgs(batch, config->table, partner, this->counters, add, del);
	ok = send_batch(this, batch, what, error, len);
	if (ok)
	{
		if (partner)
		{
			this->partner.lazy = partner->lazy;
		}
		queue_ct(this, add, del);
	}
	return ok;
}

METHOD(tunnel_nat_kernel_t, restore, bool,
	private_tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
	const char *iface, tunnel_nat_state_t *state, const char *why)
{
	array_t *all;
	char what[BUF_LEN], error[BUF_LEN] = "";
	timeval_t start, end;
	bool ok;

	all = all_elems(state);
	snprintf(what, sizeof(what), "tunnel-nat: restoring table ip %s",
			 config->table);
	time_monotonic(&start);
	ok = build(this, config, iface, all, what, error, sizeof(error));
	if (ok)
	{
		time_monotonic(&end);
		DBG1(DBG_CFG, "tunnel-nat: table ip %s was %s: restored it with its "
			 "%u translations in %u ms", config->table, why,
			 array_count(all), (u_int)((end.tv_sec - start.tv_sec) * 1000 +
									   (end.tv_usec - start.tv_usec) / 1000));
	}
	else
	{
		DBG1(DBG_CFG, "tunnel-nat: table ip %s was %s: restoring it with its "
			 "%u translations failed: %s", config->table, why,
			 array_count(all), error);
	}
	array_destroy(all);
	return ok;
}

METHOD(tunnel_nat_kernel_t, install, bool,
	private_tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
	const char *iface, bool conntrack)
{
	char what[BUF_LEN];
	bool ok;

	this->conntrack = conntrack;
	snprintf(what, sizeof(what), "tunnel-nat: creating table ip %s",
			 config->table);
	ok = build(this, config, iface, NULL, what, NULL, 0);
	if (ok)
	{
		this->ct_mutex->lock(this->ct_mutex);
		this->ct_running = TRUE;
		this->ct_mutex->unlock(this->ct_mutex);
		this->ct_thread = thread_create((thread_main_t)ct_cleaner, this);
	}
	return ok;
}

METHOD(tunnel_nat_kernel_t, flush_zones, bool,
	private_tunnel_nat_kernel_t *this, array_t *zones)
{
	int deleted;

	if (!this->conntrack || !array_count(zones))
	{
		return this->conntrack;
	}
	deleted = tunnel_nat_ct_flush(NULL, NULL, zones, "tunnel-nat");
	if (deleted > 0)
	{
		DBG1(DBG_CFG, "tunnel-nat: deleted %d conntrack entries of the "
			 "%u zones of partners no longer configured", deleted,
			 array_count(zones));
	}
	return deleted >= 0;
}

METHOD(tunnel_nat_kernel_t, flush_foreign, bool,
	private_tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
	array_t *owners)
{
	int deleted;

	if (!this->conntrack || !config->partner_keys_valid)
	{	/* with an invalid partner_zones, the range is not the user's */
		return TRUE;
	}
	deleted = tunnel_nat_ct_flush_foreign(owners, config->zone_first,
										  config->zone_last, "tunnel-nat");
	if (deleted > 0)
	{
		DBG1(DBG_CFG, "tunnel-nat: deleted %d conntrack entries of "
			 "partner_zones %u-%u that no partner-side mapping of these "
			 "settings owns (left by an earlier run)", deleted,
			 config->zone_first, config->zone_last);
	}
	return deleted >= 0;
}

METHOD(tunnel_nat_kernel_t, stop_cleaner, void,
	private_tunnel_nat_kernel_t *this)
{
	this->ct_mutex->lock(this->ct_mutex);
	this->ct_running = FALSE;
	this->ct_condvar->signal(this->ct_condvar);
	this->ct_mutex->unlock(this->ct_mutex);
	if (this->ct_thread)
	{
		this->ct_thread->join(this->ct_thread);
		this->ct_thread = NULL;
	}
}

METHOD(tunnel_nat_kernel_t, uninstall, void,
	private_tunnel_nat_kernel_t *this, tunnel_nat_config_t *config)
{
	nl_batch_t *batch;
	char what[BUF_LEN];

	snprintf(what, sizeof(what), "tunnel-nat: deleting table ip %s",
			 config->table);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_nat_nft_delete_table(batch, config->table);
	send_batch(this, batch, what, NULL, 0);
}

METHOD(tunnel_nat_kernel_t, destroy, void,
	private_tunnel_nat_kernel_t *this)
{
	stop_cleaner(this);
	this->ct_mutex->destroy(this->ct_mutex);
	this->ct_condvar->destroy(this->ct_condvar);
	this->ct_queue->destroy(this->ct_queue);
	free(this->iface);
	free(this);
}

/*
 * Described in header
 */
tunnel_nat_kernel_t *tunnel_nat_kernel_create(nl_socket_t *socket)
{
	private_tunnel_nat_kernel_t *this;

	INIT(this,
		.public = {
			.install = _install,
			.stop_cleaner = _stop_cleaner,
			.flush_zones = _flush_zones,
			.flush_foreign = _flush_foreign,
			.uninstall = _uninstall,
			.commit = _commit,
			.resync = _resync,
			.reload = _reload,
			.restore = _restore,
			.destroy = _destroy,
		},
		.socket = socket,
		.ct_mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.ct_condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
		.ct_queue = tunnel_nat_ct_queue_create(),
	);
	return &this->public;
}
