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

/**
 * @defgroup sw_compat sw_compat
 * @{ @ingroup tunnel_common
 *
 * The differences between the strongSwan versions the plugins build against
 * (5.9.x, 6.0.x, 6.1.x), in one place. configure detects each one against
 * the strongSwan tree it builds for (m4/strongswan.m4) and passes a
 * -DHAVE_SW_* flag in STRONGSWAN_CPPFLAGS.
 */

#ifndef SW_COMPAT_H_
#define SW_COMPAT_H_

#include <plugins/plugin.h>
#include <config/child_cfg.h>

/**
 * Define a plugin's constructor and its version symbol,
 * <name>_plugin_version, which charon 6.0.3 and later require to equal its
 * own VERSION before they load a plugin. Older versions lack the macro and
 * ignore the symbol, which is then exported all the same.
 */
#ifndef PLUGIN_DEFINE
#define PLUGIN_DEFINE(name) \
	const char *name##_plugin_version = VERSION; \
	plugin_t *name##_plugin_create()
#endif

/**
 * The configured traffic selectors of a child config, unnarrowed, as a
 * list of traffic_selector_t the caller destroys.
 *
 * 6.0.2 dropped the narrowing arguments from get_traffic_selectors() (the
 * narrowing variant is now select_traffic_selectors()).
 */
static inline linked_list_t *sw_child_cfg_ts(child_cfg_t *cfg, bool local)
{
#ifdef HAVE_SW_SELECT_TRAFFIC_SELECTORS
	return cfg->get_traffic_selectors(cfg, local, NULL);
#else
	return cfg->get_traffic_selectors(cfg, local, NULL, NULL, FALSE);
#endif
}

#endif /** SW_COMPAT_H_ @}*/
