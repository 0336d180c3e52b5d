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

#include "ha_takeover.h"


/*
 * Described in header
 */
u_int ha_takeover_plan(ha_takeover_child_t *children, u_int count)
{
	u_int i, j, rekeys = 0;

	for (i = 0; i < count; i++)
	{
		children[i].rekey = TRUE;
		for (j = 0; j < count; j++)
		{
			if (j != i && children[j].reqid == children[i].reqid &&
				children[j].id > children[i].id)
			{	/* a later CHILD_SA of the same policies replaced it */
				children[i].rekey = FALSE;
				break;
			}
		}
		if (children[i].rekey)
		{
			rekeys++;
		}
	}
	return rekeys;
}

/*
 * Described in header
 */
bool ha_takeover_is_takeover(ike_sa_t *ike_sa, ike_sa_state_t state)
{
	return ike_sa && state == IKE_ESTABLISHED &&
		   ike_sa->get_state(ike_sa) == IKE_PASSIVE;
}
