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
 * @defgroup tunnel_nat_kernel tunnel_nat_kernel
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_KERNEL_H_
#define TUNNEL_NAT_KERNEL_H_

#include "tunnel_nat_config.h"
#include "tunnel_nat_state.h"

#include <nl_socket.h>

typedef struct tunnel_nat_kernel_t tunnel_nat_kernel_t;

/**
 * What tunnel-nat keeps in the kernel: its nftables table and its maps'
 * elements, over netlink, and the conntrack entries its changes made
 * stale (deleted by a thread of its own, CT_DELAY_MS after a change, at
 * most once per CT_INTERVAL_MS). Each failure is logged where it happens.
 * Not thread-safe: the caller serializes all calls but destroy().
 */
struct tunnel_nat_kernel_t {

	/**
	 * Create the table from scratch (replacing a stale one), and start the
	 * conntrack cleaner if it succeeded.
	 *
	 * @param config	settings
	 * @param iface		interface decrypted packets arrive on, NULL for
	 *					meta secpath
	 * @param conntrack	whether to delete stale conntrack entries
	 * @return			TRUE if the table is in place
	 */
	bool (*install)(tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
					const char *iface, bool conntrack);

	/**
	 * Stop the conntrack cleaner (its pending changes are dropped). Not
	 * under the caller's lock: the cleaner does not take it.
	 */
	void (*stop_cleaner)(tunnel_nat_kernel_t *this);

	/**
	 * Delete all conntrack entries of some zones now (of partner-side
	 * CHILD_SA configs that left the settings, whose elements are already
	 * removed from the table).
	 *
	 * @param zones		uint16_t, the zones
	 * @return			TRUE if their entries are gone, FALSE if the
	 *					conntrack clean-up is off or failed (logged)
	 */
	bool (*flush_zones)(tunnel_nat_kernel_t *this, array_t *zones);

	/**
	 * Delete the conntrack entries of partner_zones that no partner-side
	 * binding of the settings owns (tunnel_nat_ct_foreign()): those an
	 * earlier run left, whose zones went to other partners as the settings
	 * changed. At start, before any CHILD_SA is bound.
	 *
	 * @param config	settings
	 * @param owners	tunnel_nat_ct_owner_t, the alias blocks and their
	 *					zones (tunnel_nat_zones_owners())
	 * @return			FALSE if the conntrack table could not be read
	 *					(logged)
	 */
	bool (*flush_foreign)(tunnel_nat_kernel_t *this,
						  tunnel_nat_config_t *config, array_t *owners);

	/**
	 * Delete the table.
	 *
	 * @param config	settings
	 */
	void (*uninstall)(tunnel_nat_kernel_t *this, tunnel_nat_config_t *config);

	/**
	 * Commit a change as one nftables transaction (deletes first, then the
	 * length classes that added partner-side elements need), and hand its
	 * conntrack clean-up to the cleaner.
	 *
	 * @param config	settings
	 * @param add		tunnel_nat_elem_t* to add
	 * @param del		tunnel_nat_elem_t* to delete
	 * @param what		what the change is, for logs
	 * @param error		receives why it failed, or NULL
	 * @param len		size of error
	 * @return			TRUE if applied whole, FALSE if nothing was
	 */
	bool (*commit)(tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
				   array_t *add, array_t *del, const char *what, char *error,
				   size_t len);

	/**
	 * Rewrite the maps to hold exactly the state's elements, and the sets
	 * of configured aliases, one transaction (the table is created again
	 * if its partner side is not the one config needs).
	 *
	 * @param config	settings
	 * @param state		state to write
	 * @param what		what it is for, for logs
	 * @return			TRUE if done
	 */
	bool (*resync)(tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
				   tunnel_nat_state_t *state, const char *what);

	/**
	 * Apply reloaded settings, one transaction: delete and add the
	 * elements that changed, and write the configured aliases again; or,
	 * if the partner side of the table must change (classes of the
	 * settings, zones, ct mark bit, tunnel-route's mark mask), create the
	 * table again with all of the new state's elements.
	 *
	 * @param config	reloaded settings
	 * @param state		elements under the reloaded settings
	 * @param add		tunnel_nat_elem_t* in state that are not installed
	 * @param del		tunnel_nat_elem_t* installed that are not in state
	 * @param what		what the change is, for logs
	 * @param error		receives why it failed, or NULL
	 * @param len		size of error
	 * @return			TRUE if applied whole, FALSE if nothing was
	 */
	bool (*reload)(tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
				   tunnel_nat_state_t *state, array_t *add, array_t *del,
				   const char *what, char *error, size_t len);

	/**
	 * Restore the table with all the state's elements after another program
	 * deleted it, one transaction, and log it (with the reason if it
	 * failed).
	 *
	 * @param config	settings
	 * @param iface		as for install()
	 * @param state		state to restore
	 * @param why		what happened, for the log
	 * @return			TRUE if restored
	 */
	bool (*restore)(tunnel_nat_kernel_t *this, tunnel_nat_config_t *config,
					const char *iface, tunnel_nat_state_t *state,
					const char *why);

	/**
	 * Destroy the object (stops the cleaner; what is in the kernel stays).
	 */
	void (*destroy)(tunnel_nat_kernel_t *this);
};

/**
 * Create the object.
 *
 * @param socket		NETLINK_NETFILTER socket, not owned
 */
tunnel_nat_kernel_t *tunnel_nat_kernel_create(nl_socket_t *socket);

#endif /** TUNNEL_NAT_KERNEL_H_ @}*/
