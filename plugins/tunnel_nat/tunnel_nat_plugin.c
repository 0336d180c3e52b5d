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

#include "tunnel_nat_plugin.h"
#include "tunnel_nat_listener.h"

#include <linux/netlink.h>

#include <daemon.h>
#include <sw_compat.h>

typedef struct private_tunnel_nat_plugin_t private_tunnel_nat_plugin_t;

/**
 * Private data of the tunnel-nat plugin
 */
struct private_tunnel_nat_plugin_t {

	/**
	 * Implements plugin interface
	 */
	tunnel_nat_plugin_t public;

	/**
	 * Netlink socket to nftables
	 */
	nl_socket_t *socket;

	/**
	 * Listener installing the translations
	 */
	tunnel_nat_listener_t *listener;
};

METHOD(plugin_t, get_name, char*,
	private_tunnel_nat_plugin_t *this)
{
	return "tunnel-nat";
}

/**
 * Create the table and register the listener, or undo that
 */
static bool plugin_cb(private_tunnel_nat_plugin_t *this,
					  plugin_feature_t *feature, bool reg, void *cb_data)
{
	if (reg)
	{
		if (!this->listener->start(this->listener))
		{
			DBG1(DBG_CFG, "tunnel-nat: not started, no translations will be "
				 "installed");
			return FALSE;
		}
		charon->bus->add_listener(charon->bus, &this->listener->listener);
	}
	else
	{
		charon->bus->remove_listener(charon->bus, &this->listener->listener);
		this->listener->stop(this->listener);
	}
	return TRUE;
}

METHOD(plugin_t, reload, bool,
	private_tunnel_nat_plugin_t *this)
{
	return this->listener->reload(this->listener);
}

METHOD(plugin_t, get_features, int,
	private_tunnel_nat_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "tunnel-nat"),
				/* so kernel-libipsec's TUN device is there to match on, and
				 * the IPsec backend known (partner-side mappings need XFRM) */
				PLUGIN_SDEPEND(CUSTOM, "kernel-ipsec"),
				/* so that its mark mask is known if it is loaded */
				PLUGIN_SDEPEND(CUSTOM, "tunnel-route"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	private_tunnel_nat_plugin_t *this)
{
	this->listener->destroy(this->listener);
	this->socket->destroy(this->socket);
	free(this);
}

/*
 * See header
 */
PLUGIN_DEFINE(tunnel_nat)
{
	private_tunnel_nat_plugin_t *this;
	nl_socket_t *socket;

	if (!lib->caps->keep(lib->caps, CAP_NET_ADMIN))
	{
		DBG1(DBG_NET, "tunnel-nat plugin requires CAP_NET_ADMIN capability");
		return NULL;
	}
	socket = nl_socket_create(NETLINK_NETFILTER);
	if (!socket)
	{
		return NULL;
	}

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.reload = _reload,
				.destroy = _destroy,
			},
		},
		.socket = socket,
		.listener = tunnel_nat_listener_create(socket),
	);

	return &this->public.plugin;
}
