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

#include "nl_batch.h"

#include <stdarg.h>
#include <stdio.h>

#include <libmnl/libmnl.h>

#include <collections/array.h>

typedef struct private_nl_batch_t private_nl_batch_t;

/**
 * Private data of an nl_batch_t object.
 */
struct private_nl_batch_t {

	/**
	 * Public interface.
	 */
	nl_batch_t public;

	/**
	 * Buffer holding the messages.
	 */
	char *buf;

	/**
	 * Bytes used in buf.
	 */
	size_t len;

	/**
	 * Allocated size of buf.
	 */
	size_t size;

	/**
	 * Descriptions of the messages, char*, indexed by relative sequence.
	 */
	array_t *descs;

	/**
	 * First reason sending failed, if any
	 */
	char *error;
};

METHOD(nl_batch_t, reserve, char*,
	private_nl_batch_t *this, size_t len)
{
	len = NLMSG_ALIGN(len);
	if (this->len + len > this->size)
	{
		this->size = max(this->size * 2, this->len + len);
		this->buf = realloc(this->buf, this->size);
	}
	memset(this->buf + this->len, 0, len);
	return this->buf + this->len;
}

METHOD(nl_batch_t, next_seq, uint32_t,
	private_nl_batch_t *this)
{
	return array_count(this->descs);
}

METHOD(nl_batch_t, push, void,
	private_nl_batch_t *this, struct nlmsghdr *nlh, char *fmt, ...)
{
	char *desc = NULL;
	va_list args;

	va_start(args, fmt);
	if (vasprintf(&desc, fmt, args) < 0)
	{
		desc = NULL;
	}
	va_end(args);

	this->len += NLMSG_ALIGN(nlh->nlmsg_len);
	array_insert(this->descs, ARRAY_TAIL, desc);
}

METHOD(nl_batch_t, describe, const char*,
	private_nl_batch_t *this, uint32_t seq)
{
	char *desc = NULL;

	array_get(this->descs, seq, &desc);
	return desc;
}

METHOD(nl_batch_t, get_count, u_int,
	private_nl_batch_t *this)
{
	return array_count(this->descs);
}

METHOD(nl_batch_t, get_data, chunk_t,
	private_nl_batch_t *this)
{
	return chunk_create(this->buf, this->len);
}

METHOD(nl_batch_t, set_error, void,
	private_nl_batch_t *this, char *fmt, ...)
{
	va_list args;

	if (this->error)
	{	/* the first one counts */
		return;
	}
	va_start(args, fmt);
	if (vasprintf(&this->error, fmt, args) < 0)
	{
		this->error = NULL;
	}
	va_end(args);
}

METHOD(nl_batch_t, get_error, const char*,
	private_nl_batch_t *this)
{
	return this->error;
}

METHOD(nl_batch_t, destroy, void,
	private_nl_batch_t *this)
{
	free(this->error);
	array_destroy_function(this->descs, (void*)free, NULL);
	free(this->buf);
	free(this);
}

/*
 * Described in header
 */
nl_batch_t *nl_batch_create()
{
	private_nl_batch_t *this;

	INIT(this,
		.public = {
			.reserve = _reserve,
			.next_seq = _next_seq,
			.push = _push,
			.describe = _describe,
			.get_count = _get_count,
			.get_data = _get_data,
			.set_error = _set_error,
			.get_error = _get_error,
			.destroy = _destroy,
		},
		.size = 4096,
		.descs = array_create(0, 8),
	);
	this->buf = malloc(this->size);

	return &this->public;
}

/*
 * Described in header
 */
chunk_t nl_batch_next_chunk(chunk_t data, u_int max_msgs, size_t max_bytes,
							u_int *msgs)
{
	struct nlmsghdr *nlh;
	size_t len = 0, size;
	int remain = data.len;
	u_int n = 0;

	for (nlh = (struct nlmsghdr*)data.ptr; n < max(max_msgs, 1) &&
		 mnl_nlmsg_ok(nlh, remain); nlh = mnl_nlmsg_next(nlh, &remain))
	{
		size = min(NLMSG_ALIGN(nlh->nlmsg_len), data.len - len);
		if (n && len + size > max_bytes)
		{
			break;
		}
		len += size;
		n++;
	}
	*msgs = n;
	return chunk_create(data.ptr, len);
}
