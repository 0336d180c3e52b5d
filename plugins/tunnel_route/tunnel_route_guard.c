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

#include "tunnel_route_guard.h"
#include "tunnel_route_nft.h"
#include "tunnel_route_rtnl.h"

#include <stdio.h>

#include <utils/debug.h>

typedef struct private_tunnel_route_guard_t private_tunnel_route_guard_t;

/**
 * Private data of a tunnel_route_guard_t object.
 */
struct private_tunnel_route_guard_t {

	/**
	 * Public interface.
	 */
	tunnel_route_guard_t public;

	/**
	 * Netlink sockets, not owned
	 */
	nl_socket_t *rtnl, *nfnl;

	/**
	 * The guard is in place
	 */
	bool guarding;

	/**
	 * When it was put in place
	 */
	time_t started;
};

/**
 * Elements of the guard set: every source, to any destination
 */
static array_t *guard_elems(tunnel_route_config_t *config)
{
	tunnel_route_range_t *src, *range;
	enumerator_t *enumerator;
	array_t *ranges;

	ranges = array_create(0, 4);
	enumerator = config->create_source_enumerator(config);
	while (enumerator->enumerate(enumerator, &src))
	{
		INIT(range,
			.from = src->from,
			.to = src->to,
		);
		array_insert(ranges, ARRAY_TAIL, range);
	}
	enumerator->destroy(enumerator);
	/* one sort: sorting on each insertion was quadratic in the sources */
	tunnel_route_ranges_sort(ranges);
	return ranges;
}

/*
 * Described in header
 */
void tunnel_route_guard_default_route(tunnel_route_config_t *config,
									  nl_batch_t *batch, bool add)
{
	tunnel_route_route_t route = {
		.table = config->table,
		.protocol = config->protocol,
		.prohibit = add,
	};

	tunnel_route_rtnl_route(batch, add, &route, "prohibit default");
}

/**
 * Until the configs are known, refuse the sources' traffic to anywhere: the
 * guard set gives it the tunnel mark, the table's default route prohibits
 */
METHOD(tunnel_route_guard_t, up, void,
	private_tunnel_route_guard_t *this, tunnel_route_config_t *config)
{
	array_t *ranges;
	nl_batch_t *batch;
	bool ok;

	ranges = guard_elems(config);
	if (!array_count(ranges))
	{
		tunnel_route_ranges_destroy(ranges);
		return;
	}
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_route_nft_guard(batch, config->nft_table, ranges);
	nft_msg_end(batch);
	ok = this->nfnl->send(this->nfnl, batch, "tunnel-route: start-up guard");
	batch->destroy(batch);
	if (ok)
	{
		batch = nl_batch_create();
		tunnel_route_guard_default_route(config, batch, TRUE);
		ok = this->rtnl->send(this->rtnl, batch, "tunnel-route: start-up guard");
		batch->destroy(batch);
	}
	tunnel_route_ranges_destroy(ranges);
	if (ok)
	{
		this->guarding = TRUE;
		this->started = time_monotonic(NULL);
		DBG1(DBG_CFG, "tunnel-route: start-up guard: traffic from the sources "
			 "is refused until the configs of their CHILD_SAs are loaded "
			 "(at most %us)", config->guard_timeout);
	}
}

/**
 * Lift the start-up guard
 */
static void down(private_tunnel_route_guard_t *this,
				 tunnel_route_config_t *config, tunnel_route_state_t *state,
				 const char *why)
{
	nl_batch_t *batch;

	batch = nl_batch_create();
	nft_msg_begin(batch);
	nft_msg_flush_set(batch, config->nft_table, TUNNEL_ROUTE_GUARD_SET);
	nft_msg_end(batch);
	this->nfnl->send(this->nfnl, batch, "tunnel-route: lifting start-up guard");
	batch->destroy(batch);
	if (!state->has_dest(state, 0, 0))
	{	/* unless a tunnel routes the default itself */
		batch = nl_batch_create();
		tunnel_route_guard_default_route(config, batch, FALSE);
		this->rtnl->send(this->rtnl, batch, "tunnel-route: lifting start-up guard");
		batch->destroy(batch);
	}
	this->guarding = FALSE;
	DBG1(DBG_CFG, "tunnel-route: start-up guard lifted: %s", why);
}

METHOD(tunnel_route_guard_t, check, void,
	private_tunnel_route_guard_t *this, tunnel_route_config_t *config,
	hashtable_t *found, tunnel_route_state_t *state)
{
	enumerator_t *enumerator;
	const char *name;
	char missing[256] = "";
	u_int total = 0, absent = 0;
	size_t len;

	if (!this->guarding)
	{
		return;
	}
	enumerator = config->create_child_enumerator(config);
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
		down(this, config, state, missing);
	}
	else if (time_monotonic(NULL) - this->started >= config->guard_timeout)
	{
		DBG1(DBG_CFG, "tunnel-route: no config loaded for CHILD_SA %s, named "
			 "by sources, after %us", missing, config->guard_timeout);
		down(this, config, state, "timeout");
	}
}

METHOD(tunnel_route_guard_t, is_up, bool,
	private_tunnel_route_guard_t *this)
{
	return this->guarding;
}

METHOD(tunnel_route_guard_t, restore_elems, void,
	private_tunnel_route_guard_t *this, tunnel_route_config_t *config,
	nl_batch_t *batch)
{
	array_t *ranges;

	if (this->guarding)
	{
		ranges = guard_elems(config);
		tunnel_route_nft_guard(batch, config->nft_table, ranges);
		tunnel_route_ranges_destroy(ranges);
	}
}

METHOD(tunnel_route_guard_t, block_elems, void,
	private_tunnel_route_guard_t *this, tunnel_route_config_t *config,
	nl_batch_t *batch)
{
	array_t *ranges;

	ranges = guard_elems(config);
	tunnel_route_nft_guard(batch, config->nft_table, ranges);
	tunnel_route_ranges_destroy(ranges);
}

METHOD(tunnel_route_guard_t, restore_route, bool,
	private_tunnel_route_guard_t *this, tunnel_route_config_t *config,
	nl_batch_t *batch)
{
	if (this->guarding)
	{
		tunnel_route_guard_default_route(config, batch, TRUE);
	}
	return this->guarding;
}

METHOD(tunnel_route_guard_t, forget, void,
	private_tunnel_route_guard_t *this)
{
	this->guarding = FALSE;
}

METHOD(tunnel_route_guard_t, destroy, void,
	private_tunnel_route_guard_t *this)
{
	free(this);
}

/*
 * Described in header
 */
tunnel_route_guard_t *tunnel_route_guard_create(nl_socket_t *rtnl,
												nl_socket_t *nfnl)
{
	private_tunnel_route_guard_t *this;

	INIT(this,
		.public = {
			.up = _up,
			.check = _check,
			.is_up = _is_up,
			.restore_elems = _restore_elems,
			.block_elems = _block_elems,
			.restore_route = _restore_route,
			.forget = _forget,
			.destroy = _destroy,
		},
		.rtnl = rtnl,
		.nfnl = nfnl,
	);
	return &this->public;
}
