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
 * @defgroup event_stats event_stats
 * @{ @ingroup tunnel_common
 */

#ifndef EVENT_STATS_H_
#define EVENT_STATS_H_

#include <library.h>

#include <time.h>

typedef struct event_stats_t event_stats_t;
typedef enum event_kind_t event_kind_t;

/**
 * Kinds of CHILD_SA events a plugin handles.
 */
enum event_kind_t {
	EVENT_UP = 0,
	EVENT_DOWN,
	EVENT_REKEY,
	/** time spent in the listener hook itself */
	EVENT_HOOK,
	/** work done for the event outside the hook (its share of a batch) */
	EVENT_COST,
	/** monotonic time a hook was entered (not a duration) */
	EVENT_ENTER,
	/** monotonic time a hook was left (not a duration) */
	EVENT_LEAVE,
};

/**
 * Time spent handling each event, for benchmarks: kept in memory while
 * enabled, written to a file (one line "<kind> <ns>" per event) on request.
 * Thread-safe.
 */
struct event_stats_t {

	/**
	 * Record the time one event took.
	 *
	 * @param kind		kind of event
	 * @param ns		nanoseconds spent
	 */
	void (*add)(event_stats_t *this, event_kind_t kind, uint64_t ns);

	/**
	 * Number of events recorded.
	 */
	u_int (*get_count)(event_stats_t *this);

	/**
	 * Write the events recorded so far to a file (replacing it).
	 *
	 * @param path		file to write
	 * @return			TRUE if written (failures are logged)
	 */
	bool (*write)(event_stats_t *this, const char *path);

	/**
	 * Destroy the recorder.
	 */
	void (*destroy)(event_stats_t *this);
};

/**
 * Create an empty recorder.
 */
event_stats_t *event_stats_create();

/**
 * Monotonic time in nanoseconds, to measure an event with.
 */
static inline uint64_t event_stats_now()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif /** EVENT_STATS_H_ @}*/
