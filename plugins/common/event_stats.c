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

#include "event_stats.h"

#include <errno.h>
#include <stdio.h>

#include <utils/debug.h>
#include <threading/mutex.h>

typedef struct private_event_stats_t private_event_stats_t;

/**
 * One recorded event, packed.
 */
typedef struct {
	uint64_t ns:61;
	uint64_t kind:3;
} sample_t;

/**
 * Private data of an event_stats_t object.
 */
struct private_event_stats_t {

	/**
	 * Public interface.
	 */
	event_stats_t public;

	/**
	 * Samples, grown by doubling
	 */
	sample_t *samples;

	/**
	 * Used and allocated samples
	 */
	u_int count, size;

	/**
	 * Protects the samples
	 */
	mutex_t *mutex;
};

METHOD(event_stats_t, add, void,
	private_event_stats_t *this, event_kind_t kind, uint64_t ns)
{
	this->mutex->lock(this->mutex);
	if (this->count == this->size)
	{
		this->size = this->size ? this->size * 2 : 1024;
		this->samples = realloc(this->samples,
								this->size * sizeof(*this->samples));
	}
	this->samples[this->count++] = (sample_t){ .ns = ns, .kind = kind };
	this->mutex->unlock(this->mutex);
}

METHOD(event_stats_t, get_count, u_int,
	private_event_stats_t *this)
{
	return this->count;
}

METHOD(event_stats_t, write_, bool,
	private_event_stats_t *this, const char *path)
{
	static const char *names[] = { "up", "down", "rekey", "hook", "cost",
								   "enter", "leave", "?" };
	FILE *file;
	u_int i;
	bool ok;

	file = fopen(path, "w");
	if (!file)
	{
		DBG1(DBG_LIB, "writing event times to '%s' failed: %s", path,
			 strerror(errno));
		return FALSE;
	}
	this->mutex->lock(this->mutex);
	for (i = 0; i < this->count; i++)
	{
		fprintf(file, "%s %llu\n", names[this->samples[i].kind],
				(unsigned long long)this->samples[i].ns);
	}
	this->mutex->unlock(this->mutex);
	ok = fclose(file) == 0;
	if (!ok)
	{
		DBG1(DBG_LIB, "writing event times to '%s' failed: %s", path,
			 strerror(errno));
	}
	return ok;
}

METHOD(event_stats_t, destroy, void,
	private_event_stats_t *this)
{
	free(this->samples);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
event_stats_t *event_stats_create()
{
	private_event_stats_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.get_count = _get_count,
			.write = _write_,
			.destroy = _destroy,
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
