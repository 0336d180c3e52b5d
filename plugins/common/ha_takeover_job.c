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

#include <daemon.h>
#include <processing/jobs/callback_job.h>

/**
 * How long the rekey waits for the IKE_SA's local address (ms), and how
 * often it looks
 */
#define ADDRESS_WAIT 10000
#define ADDRESS_POLL 20

/**
 * The IKE_SA to act on, and who asked
 */
typedef struct {
	ike_sa_id_t *id;
	char *who;
	/** ms waited for the IKE_SA's local address so far */
	u_int waited;
} takeover_t;

CALLBACK(takeover_destroy, void,
	takeover_t *this)
{
	this->id->destroy(this->id);
	free(this->who);
	free(this);
}

/**
 * What identifies an installed CHILD_SA to its IKE_SA
 */
typedef struct {
	protocol_id_t protocol;
	uint32_t spi;
} child_ref_t;

CALLBACK(takeover_run, job_requeue_t,
	takeover_t *this)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	ha_takeover_child_t *plan = NULL;
	child_ref_t *refs = NULL;
	ike_sa_t *ike_sa;
	status_t status = SUCCESS;
	u_int count = 0, i, rekeys;

	ike_sa = charon->ike_sa_manager->checkout(charon->ike_sa_manager,
											  this->id);
	if (!ike_sa)
	{
		return JOB_REQUEUE_NONE;
	}
	if (ike_sa->get_state(ike_sa) != IKE_ESTABLISHED)
	{	/* passive again, or going away: nothing to resync */
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		return JOB_REQUEUE_NONE;
	}
	if (!charon->kernel->get_interface(charon->kernel,
									   ike_sa->get_my_host(ike_sa), NULL))
	{	/* the ha plugin activates the segment when the other node drops
		 * it, possibly before VRRP moved the address here: a request sent
		 * now would be lost, and retransmitted seconds later */
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		if (this->waited < ADDRESS_WAIT)
		{
			this->waited += ADDRESS_POLL;
			return JOB_RESCHEDULE_MS(ADDRESS_POLL);
		}
		DBG1(DBG_CHD, "%s: took over an IKE_SA whose address %H is not "
			 "local after %u ms, not rekeying its CHILD_SAs", this->who,
			 ike_sa->get_my_host(ike_sa), this->waited);
		return JOB_REQUEUE_NONE;
	}
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		if (child_sa->get_state(child_sa) != CHILD_INSTALLED)
		{
			continue;
		}
		plan = realloc(plan, (count + 1) * sizeof(*plan));
		refs = realloc(refs, (count + 1) * sizeof(*refs));
		plan[count] = (ha_takeover_child_t){
			.reqid = child_sa->get_reqid(child_sa),
			.id = child_sa->get_unique_id(child_sa),
		};
		refs[count++] = (child_ref_t){
			.protocol = child_sa->get_protocol(child_sa),
			.spi = child_sa->get_spi(child_sa, TRUE),
		};
	}
	enumerator->destroy(enumerator);

	rekeys = ha_takeover_plan(plan, count);
	DBG1(DBG_CHD, "%s: took over IKE_SA %s[%u]: rekeying %u CHILD_SA(s) "
		 "(ESP sequence numbers are not synced), deleting %u replaced one(s)"
		 "%s", this->who, ike_sa->get_name(ike_sa),
		 ike_sa->get_unique_id(ike_sa), rekeys, count - rekeys,
		 this->waited ? " once its address is local" : "");
	/* the rekeys first: until they are done, the peer drops what this node
	 * sends; the replaced ones are not in use */
	for (i = 0; i < count && status != DESTROY_ME; i++)
	{
		if (plan[i].rekey)
		{
			status = ike_sa->rekey_child_sa(ike_sa, refs[i].protocol,
											refs[i].spi);
		}
	}
	for (i = 0; i < count && status != DESTROY_ME; i++)
	{
		if (!plan[i].rekey)
		{
			status = ike_sa->delete_child_sa(ike_sa, refs[i].protocol,
											 refs[i].spi, FALSE);
		}
	}
	free(plan);
	free(refs);
	if (status == DESTROY_ME)
	{
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
	}
	else
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
	return JOB_REQUEUE_NONE;
}

/*
 * Described in header
 */
bool ha_takeover_by_tunnel_nat()
{
	if (!lib->settings->get_bool(lib->settings,
						"%s.plugins.tunnel-nat.ha_takeover_rekey", TRUE, lib->ns))
	{
		return FALSE;
	}
	return !lib->plugins->has_feature(lib->plugins,
							PLUGIN_PROVIDE(CUSTOM, "tunnel-route")) ||
		   !lib->settings->get_bool(lib->settings,
						"%s.plugins.tunnel-route.ha_takeover_rekey", TRUE, lib->ns);
}

/*
 * Described in header
 */
void ha_takeover_queue(ike_sa_t *ike_sa, const char *who)
{
	takeover_t *this;

	INIT(this,
		.id = ike_sa->get_id(ike_sa)->clone(ike_sa->get_id(ike_sa)),
		.who = strdup(who),
	);
	lib->processor->queue_job(lib->processor,
		(job_t*)callback_job_create_with_prio(takeover_run, this,
				takeover_destroy, NULL, JOB_PRIO_HIGH));
}
