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
 * @defgroup tunnel_nat_sa tunnel_nat_sa
 * @{ @ingroup tunnel_nat
 */

#ifndef TUNNEL_NAT_SA_H_
#define TUNNEL_NAT_SA_H_

#include "tunnel_nat_config.h"

#include <sa/child_sa.h>

typedef struct tunnel_nat_sa_t tunnel_nat_sa_t;
typedef struct tunnel_nat_ts_pair_t tunnel_nat_ts_pair_t;

/**
 * A pair of negotiated traffic selector ranges of a CHILD_SA
 */
struct tunnel_nat_ts_pair_t {
	uint32_t lfrom, lto, rfrom, rto;
};

/**
 * What the translations of a CHILD_SA are built from, recorded in the
 * event's hook and kept while it is installed, so that a reload can
 * rebuild them.
 */
struct tunnel_nat_sa_t {
	/** name of the CHILD_SA (its config) */
	char *name;
	/** tunnel_nat_ts_pair_t, the negotiated IPv4 selectors */
	array_t *pairs;
	/** uint32_t[2], the configured local_ts ranges (for a warning) */
	array_t *configured;
};

/**
 * Record what a CHILD_SA negotiated.
 *
 * @param child_sa		CHILD_SA
 * @return				record
 */
tunnel_nat_sa_t *tunnel_nat_sa_create(child_sa_t *child_sa);

/**
 * Destroy a record.
 */
void tunnel_nat_sa_destroy(tunnel_nat_sa_t *sa);

/**
 * Build the elements a CHILD_SA needs under a config.
 *
 * @param config		settings
 * @param sa			record of the CHILD_SA
 * @param id			its unique id, for logs
 * @param log			whether to log mappings the selectors don't cover
 * @return				tunnel_nat_elem_t*, NULL if it has no mappings
 */
array_t *tunnel_nat_sa_elems(tunnel_nat_config_t *config, tunnel_nat_sa_t *sa,
							 uint32_t id, bool log);

/**
 * Warn about the CHILD_SA's mappings whose public side is outside the
 * configured local_ts.
 *
 * @param config		settings
 * @param sa			record of the CHILD_SA
 */
void tunnel_nat_sa_check(tunnel_nat_config_t *config, tunnel_nat_sa_t *sa);

#endif /** TUNNEL_NAT_SA_H_ @}*/
