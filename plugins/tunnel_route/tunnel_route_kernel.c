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

#include "tunnel_route_kernel.h"
#include "tunnel_route_nft.h"
#include "tunnel_route_rtnl.h"

#include <net/if.h>
#include <stdio.h>
#include <linux/rtnetlink.h>

#include <utils/debug.h>
#include <tunnel_util.h>

typedef struct private_tunnel_route_kernel_t private_tunnel_route_kernel_t;

/**
 * Private data of a tunnel_route_kernel_t object.
 */
struct private_tunnel_route_kernel_t {

	/**
	 * Public interface.
	 */
	tunnel_route_kernel_t public;

	/**
	 * Netlink sockets, not owned
	 */
	nl_socket_t *rtnl, *nfnl;
};

static tunnel_route_route_t make_route(tunnel_route_config_t *config,
									   uint32_t net, uint8_t len,
									   tunnel_route_target_t *t)
{
	return (tunnel_route_route_t){
		.dst = net,
		.len = len,
		.table = config->table,
		.protocol = config->protocol,
		.prohibit = t->prohibit,
		.oif = t->oif,
		.gateway = t->gw,
	};
}

static void describe_route(uint32_t dst, uint8_t prefixlen,
						   tunnel_route_target_t *t, char *buf, size_t len)
{
	char net[32], gw[32], ifname[IF_NAMESIZE] = "?";

	tunnel_range_str(net, sizeof(net), dst, dst | ~tunnel_mask(prefixlen));
	if (t->prohibit)
	{
		snprintf(buf, len, "prohibit %s", net);
	}
	else if (tunnel_route_target_none(t))
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

/**
 * Add the message replacing a route to a target, or deleting it
 */
static void route_msg(tunnel_route_config_t *config, nl_batch_t *batch,
					  bool add, uint32_t net, uint8_t len,
					  tunnel_route_target_t *t)
{
	tunnel_route_route_t route = make_route(config, net, len, t);
	char desc[128];

	describe_route(net, len, t, desc, sizeof(desc));
	tunnel_route_rtnl_route(batch, add, &route, desc);
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
static void remove_stale(private_tunnel_route_kernel_t *this,
						 tunnel_route_config_t *config)
{
	stale_t stale = { .config = config, .batch = nl_batch_create() };
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
			 "behind in table %u", stale.rules, stale.routes, config->table);
	}
	stale.batch->destroy(stale.batch);
}

/**
 * The plugin's rules: the tunnel mark selects its table, the bypass mark the
 * main table (ahead of strongSwan's table 220, which may route every packet
 * to a tunnel's destinations into the tunnel)
 */
static void our_rules(tunnel_route_config_t *config, nl_batch_t *batch)
{
	tunnel_route_rule_t rule = {
		.table = config->table,
		.priority = config->priority,
		.mark = config->mark,
		.mask = config->mask,
		.protocol = config->protocol,
	};

	tunnel_route_rtnl_rule(batch, TRUE, &rule);
	rule.table = RT_TABLE_MAIN;
	rule.mark = config->bypass_mark;
	tunnel_route_rtnl_rule(batch, TRUE, &rule);
}

/**
 * Delete the nftables table
 */
static void delete_table(private_tunnel_route_kernel_t *this,
						 tunnel_route_config_t *config, const char *what)
{
	nl_batch_t *batch;

	batch = nl_batch_create();
	nft_msg_begin(batch);
	nft_msg_delete_table(batch, config->nft_table);
	nft_msg_end(batch);
	this->nfnl->send(this->nfnl, batch, what);
	batch->destroy(batch);
}

METHOD(tunnel_route_kernel_t, install, bool,
	private_tunnel_route_kernel_t *this, tunnel_route_config_t *config)
{
	nl_batch_t *batch;
	bool ok;

	remove_stale(this, config);
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
		our_rules(config, batch);
		ok = this->rtnl->send(this->rtnl, batch, "tunnel-route: adding rules");
		batch->destroy(batch);
		if (!ok)
		{
			remove_stale(this, config);
			delete_table(this, config, "tunnel-route: cleaning up");
		}
	}
	return ok;
}

METHOD(tunnel_route_kernel_t, uninstall, void,
	private_tunnel_route_kernel_t *this, tunnel_route_config_t *config)
{
	/* the rule and every route tagged as ours */
	remove_stale(this, config);
	delete_table(this, config, "tunnel-route: deleting table");
}

/**
 * A commit in progress
 */
typedef struct {
	private_tunnel_route_kernel_t *this;
	tunnel_route_config_t *config;
	tunnel_route_state_t *state;
	const char *what;
} commit_t;

/**
 * Rewrite the set of pairs to hold exactly the current state
 */
static bool resync_pairs(commit_t *c)
{
	tunnel_route_config_t *config = c->config;
	enumerator_t *enumerator;
	tunnel_route_pair_t *pair;
	nl_batch_t *batch;
	array_t *all;
	bool ok;

	all = tunnel_array_create(0, c->state->get_pair_count(c->state));
	enumerator = c->state->create_pair_enumerator(c->state, FALSE);
	while (enumerator->enumerate(enumerator, &pair))
	{
		array_insert(all, ARRAY_TAIL, pair);
	}
	enumerator->destroy(enumerator);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	nft_msg_flush_set(batch, config->nft_table, TUNNEL_ROUTE_SET);
	nft_msg_flush_set(batch, config->nft_table, TUNNEL_ROUTE_BYPASS_SET);
	nft_msg_flush_set(batch, config->nft_table, TUNNEL_ROUTE_HOSTS_SET);
	nft_msg_flush_set(batch, config->nft_table, TUNNEL_ROUTE_BYPASS_HOSTS_SET);
	tunnel_route_nft_pairs(batch, config->nft_table, all, TRUE);
	nft_msg_end(batch);
	ok = c->this->nfnl->send(c->this->nfnl, batch, c->what);
	batch->destroy(batch);
	array_destroy(all);
	return ok;
}

/**
 * The pairs of a change, in one nftables transaction
 */
CALLBACK(commit_pairs, bool,
	commit_t *c, array_t *add, array_t *del)
{
	nl_batch_t *batch;
	bool ok;

	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_route_nft_pairs(batch, c->config->nft_table, del, FALSE);
	tunnel_route_nft_pairs(batch, c->config->nft_table, add, TRUE);
	nft_msg_end(batch);
	ok = c->this->nfnl->send(c->this->nfnl, batch, c->what) ||
		 resync_pairs(c);
	batch->destroy(batch);
	return ok;
}

/**
 * The routes of a change, one message per destination
 */
CALLBACK(commit_routes, bool,
	commit_t *c, tunnel_route_update_t *updates, u_int count)
{
	tunnel_route_update_t *u;
	nl_batch_t *batch;
	bool ok, *acked;
	u_int i;

	batch = nl_batch_create();
	for (i = 0; i < count; i++)
	{
		u = &updates[i];
		if (tunnel_route_target_none(&u->to))
		{
			route_msg(c->config, batch, FALSE, u->net, u->len, &u->from);
		}
		else
		{
			route_msg(c->config, batch, TRUE, u->net, u->len, &u->to);
		}
	}
	acked = calloc(count, sizeof(bool));
	ok = c->this->rtnl->send_acked(c->this->rtnl, batch, c->what, acked);
	for (i = 0; i < count; i++)
	{
		updates[i].acked = acked[i];
	}
	free(acked);
	batch->destroy(batch);
	return ok;
}

METHOD(tunnel_route_kernel_t, commit, bool,
	private_tunnel_route_kernel_t *this, tunnel_route_config_t *config,
	tunnel_route_state_t *state, const char *what)
{
	commit_t c = {
		.this = this,
		.config = config,
		.state = state,
		.what = what,
	};

	return state->commit(state, commit_pairs, commit_routes, &c);
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
 * Milliseconds from start to end
 */
static u_int ms_between(timeval_t *start, timeval_t *end)
{
	return (end->tv_sec - start->tv_sec) * 1000 +
		   (end->tv_usec - start->tv_usec) / 1000;
}

/**
 * A restore in progress: how many steps failed, and the first reason
 */
typedef struct {
	u_int failed;
	char first[256];
} restore_result_t;

/**
 * Send a batch of a restore, note the reason if it fails
 */
static bool restore_send(restore_result_t *res, nl_socket_t *socket,
						 nl_batch_t *batch, const char *what)
{
	if (socket->send(socket, batch, what))
	{
		return TRUE;
	}
	if (!res->failed++)
	{
		snprintf(res->first, sizeof(res->first), "%s: %s", what,
				 batch->get_error(batch) ?: "failed");
	}
	return FALSE;
}

METHOD(tunnel_route_kernel_t, restore, bool,
	private_tunnel_route_kernel_t *this, tunnel_route_config_t *config,
	tunnel_route_state_t *state, tunnel_route_guard_t *guard, const char *why)
{
	restore_result_t res = {};
	rules_t rules;
	enumerator_t *enumerator;
	tunnel_route_pair_t *pair;
	tunnel_route_dest_t *dest;
	nl_batch_t *batch;
	array_t *all;
	char buf[256];
	u_int routes = 0;
	timeval_t start, end;
	bool table_ok, routes_ok = TRUE, closed = FALSE, blocked = FALSE;

	time_monotonic(&start);

	/* fail-closed first: while a destination's route is missing (not
	 * restored yet, or its message failed), its marked traffic would fall
	 * through our table to the next rules, i.e. the main table. A prohibit
	 * default route in our table refuses it instead. Unless a tunnel routes
	 * the default itself: its route is restored below. */
	if (!state->has_dest(state, 0, 0))
	{
		batch = nl_batch_create();
		tunnel_route_guard_default_route(config, batch, TRUE);
		closed = restore_send(&res, this->rtnl, batch,
							  "tunnel-route: prohibit default route");
		batch->destroy(batch);
	}

	/* the rules: unless both are there, replace what is left */
	rules = (rules_t){ .config = config, .batch = nl_batch_create() };
	if (!this->rtnl->dump(this->rtnl,
						  tunnel_route_rtnl_dump_req(buf, RTM_GETRULE),
						  (nl_dump_cb_t)count_rule, &rules,
						  "tunnel-route: listing rules") && !res.failed++)
	{
		snprintf(res.first, sizeof(res.first), "listing the rules failed");
	}
	if (rules.count != 2)
	{
		if (rules.count)
		{
			restore_send(&res, this->rtnl, rules.batch,
						 "tunnel-route: removing incomplete rules");
		}
		batch = nl_batch_create();
		our_rules(config, batch);
		restore_send(&res, this->rtnl, batch, "tunnel-route: restoring rules");
		batch->destroy(batch);
	}
	rules.batch->destroy(rules.batch);

	/* the table with its sets, in one transaction (the socket sizes its
	 * buffers to it) */
	all = array_create(0, 0);
	enumerator = state->create_pair_enumerator(state, TRUE);
	while (enumerator->enumerate(enumerator, &pair))
	{
		array_insert(all, ARRAY_TAIL, pair);
	}
	enumerator->destroy(enumerator);
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_route_nft_table(batch, config->nft_table, config->mark,
						   config->bypass_mark, config->mask);
	tunnel_route_nft_pairs(batch, config->nft_table, all, TRUE);
	guard->restore_elems(guard, config, batch);
	nft_msg_end(batch);
	table_ok = restore_send(&res, this->nfnl, batch,
							"tunnel-route: restoring table");
	batch->destroy(batch);
	if (!table_ok)
	{	/* without the table, the sources' traffic goes unmarked to the main
		 * table: put the table back with every source in the guard's set
		 * (a small transaction), so all of it meets the prohibit route */
		batch = nl_batch_create();
		nft_msg_begin(batch);
		tunnel_route_nft_table(batch, config->nft_table, config->mark,
							   config->bypass_mark, config->mask);
		guard->block_elems(guard, config, batch);
		nft_msg_end(batch);
		blocked = restore_send(&res, this->nfnl, batch,
							   "tunnel-route: blocking the sources");
		batch->destroy(batch);
		if (blocked)
		{
			DBG1(DBG_CFG, "tunnel-route: restoring table ip %s failed (%s): "
				 "traffic from the sources is refused until a restore "
				 "succeeds", config->nft_table, res.first);
		}
	}

	/* the routes, replaced (no gap where they still exist); the socket
	 * sends them in chunks whose acks fit its buffer */
	batch = nl_batch_create();
	enumerator = state->create_route_enumerator(state);
	while (enumerator->enumerate(enumerator, &dest))
	{
		route_msg(config, batch, TRUE, dest->net, dest->len, &dest->installed);
		routes++;
	}
	enumerator->destroy(enumerator);
	if (routes)
	{
		routes_ok = restore_send(&res, this->rtnl, batch,
								 "tunnel-route: restoring routes");
	}
	batch->destroy(batch);

	/* lift the prohibit default route once every route is in place, unless
	 * the start-up guard needs it or the sources are blocked */
	if (closed && table_ok && routes_ok && !guard->is_up(guard))
	{
		batch = nl_batch_create();
		tunnel_route_guard_default_route(config, batch, FALSE);
		restore_send(&res, this->rtnl, batch,
					 "tunnel-route: lifting the prohibit default route");
		batch->destroy(batch);
	}
	else if (guard->is_up(guard) && !closed)
	{
		batch = nl_batch_create();
		guard->restore_route(guard, config, batch);
		restore_send(&res, this->rtnl, batch,
					 "tunnel-route: restoring the start-up guard's route");
		batch->destroy(batch);
	}
	time_monotonic(&end);

	if (!res.failed)
	{
		DBG1(DBG_CFG, "tunnel-route: state was %s: restored table ip %s with "
			 "%u pairs, %s, %u routes in table %u, in %u ms", why,
			 config->nft_table, array_count(all),
			 rules.count == 2 ? "rules intact" : "2 rules", routes,
			 config->table, ms_between(&start, &end));
	}
	else
	{
		DBG1(DBG_CFG, "tunnel-route: state was %s: restoring failed in %u "
			 "step%s, first: %s; table ip %s with %u pairs: %s, %u routes in "
			 "table %u: %s, %s; %s, in %u ms", why, res.failed,
			 res.failed == 1 ? "" : "s", res.first, config->nft_table,
			 array_count(all), table_ok ? "in place" : "failed",
			 routes, config->table, routes_ok ? "in place" : "not all in",
			 rules.count == 2 ? "rules intact" : "2 rules",
			 blocked ? "sources blocked (fail-closed) until a retry succeeds" :
			 closed ? "prohibit default route kept (fail-closed)" :
			 "not held closed", ms_between(&start, &end));
	}
	array_destroy(all);
	return !res.failed;
}

METHOD(tunnel_route_kernel_t, destroy, void,
	private_tunnel_route_kernel_t *this)
{
	free(this);
}

/*
 * Described in header
 */
tunnel_route_kernel_t *tunnel_route_kernel_create(nl_socket_t *rtnl,
												  nl_socket_t *nfnl)
{
	private_tunnel_route_kernel_t *this;

	INIT(this,
		.public = {
			.install = _install,
			.uninstall = _uninstall,
			.commit = _commit,
			.restore = _restore,
			.destroy = _destroy,
		},
		.rtnl = rtnl,
		.nfnl = nfnl,
	);
	return &this->public;
}
