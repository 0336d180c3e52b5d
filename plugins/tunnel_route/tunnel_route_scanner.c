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

#include "tunnel_route_scanner.h"
#include "tunnel_route_state.h"

#include <daemon.h>
#include <threading/condvar.h>
#include <threading/thread.h>
#include <sw_compat.h>

typedef struct private_tunnel_route_scanner_t private_tunnel_route_scanner_t;

/**
 * Private data of a tunnel_route_scanner_t object.
 */
struct private_tunnel_route_scanner_t {

	/**
	 * Public interface.
	 */
	tunnel_route_scanner_t public;

	/**
	 * The plugin's mutex, not owned
	 */
	mutex_t *mutex;

	/**
	 * Wakes the thread early (to scan, or to stop)
	 */
	condvar_t *condvar;

	/**
	 * The plugin's settings in use
	 */
	tunnel_route_config_t **config;

	/**
	 * Reports what a scan found
	 */
	tunnel_route_scanned_t cb;
	void *user;

	/**
	 * The thread
	 */
	thread_t *thread;

	/**
	 * Tell the thread to stop
	 */
	bool stopping;
};

/**
 * Configured destination ranges of the children that have sources:
 * child name (owned) => array_t of tunnel_route_range_t*
 */
static hashtable_t *scan_configured(tunnel_route_config_t *config)
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
			if (!config->get_sources(config, name))
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
				tunnel_route_ranges_add_ts(ranges, ts);
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
	tunnel_route_ranges_destroy(ranges);
	free((void*)key);
}

static void *scan(private_tunnel_route_scanner_t *this)
{
	tunnel_route_config_t *config;
	hashtable_t *found;
	u_int refresh;

	this->mutex->lock(this->mutex);
	while (!this->stopping && *this->config)
	{
		/* read charon's config without our lock: loading a config may
		 * raise CHILD_SA events, which take our lock. Our reference keeps
		 * the settings alive if a reload replaces them meanwhile */
		config = (*this->config)->get_ref(*this->config);
		this->mutex->unlock(this->mutex);
		found = scan_configured(config);
		config->destroy(config);
		this->mutex->lock(this->mutex);
		if (!this->stopping)
		{
			this->cb(this->user, found);
		}
		found->destroy_function(found, destroy_found);
		if (!this->stopping && *this->config)
		{
			refresh = (*this->config)->refresh;
			this->condvar->timed_wait(this->condvar, this->mutex,
									  refresh * 1000);
		}
	}
	this->mutex->unlock(this->mutex);
	return NULL;
}

METHOD(tunnel_route_scanner_t, wake, void,
	private_tunnel_route_scanner_t *this)
{
	this->condvar->signal(this->condvar);
}

METHOD(tunnel_route_scanner_t, destroy, void,
	private_tunnel_route_scanner_t *this)
{
	this->mutex->lock(this->mutex);
	this->stopping = TRUE;
	this->condvar->signal(this->condvar);
	this->mutex->unlock(this->mutex);
	if (this->thread)
	{
		this->thread->join(this->thread);
	}
	this->condvar->destroy(this->condvar);
	free(this);
}

/*
 * Described in header
 */
tunnel_route_scanner_t *tunnel_route_scanner_create(mutex_t *mutex,
								tunnel_route_config_t **config,
								tunnel_route_scanned_t cb, void *user)
{
	private_tunnel_route_scanner_t *this;

	INIT(this,
		.public = {
			.wake = _wake,
			.destroy = _destroy,
		},
		.mutex = mutex,
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
		.config = config,
		.cb = cb,
		.user = user,
	);
	this->thread = thread_create((thread_main_t)scan, this);
	return &this->public;
}
