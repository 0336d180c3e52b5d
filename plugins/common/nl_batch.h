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
 * @defgroup nl_batch nl_batch
 * @{ @ingroup tunnel_common
 */

#ifndef NL_BATCH_H_
#define NL_BATCH_H_

#include <library.h>
#include <linux/netlink.h>

typedef struct nl_batch_t nl_batch_t;

/**
 * A growing buffer of netlink messages that is sent with one sendmsg(), so
 * that nfnetlink applies it as one transaction.
 *
 * Messages are numbered from 0 in the order they are pushed. The socket that
 * sends the batch adds its own sequence base to every message, so the numbers
 * stay monotonic on the wire and every answer maps back to its message and
 * the description given here.
 */
struct nl_batch_t {

	/**
	 * Get room for one more message at the tail of the batch.
	 *
	 * The returned buffer is zeroed and valid until the next call to
	 * reserve() or push().
	 *
	 * @param len		maximum length of the message to build
	 * @return			buffer to build the message in
	 */
	char *(*reserve)(nl_batch_t *this, size_t len);

	/**
	 * Sequence number (relative to the batch) of the next message.
	 *
	 * @return			sequence number to put in the next message
	 */
	uint32_t (*next_seq)(nl_batch_t *this);

	/**
	 * Account the message just built in the reserved buffer.
	 *
	 * @param nlh		message built in the buffer returned by reserve()
	 * @param fmt		printf() style description, for error messages
	 */
	void (*push)(nl_batch_t *this, struct nlmsghdr *nlh, char *fmt, ...);

	/**
	 * Describe the message with the given relative sequence number.
	 *
	 * @param seq		relative sequence number
	 * @return			description, NULL if none
	 */
	const char *(*describe)(nl_batch_t *this, uint32_t seq);

	/**
	 * Number of messages in the batch.
	 *
	 * @return			message count
	 */
	u_int (*get_count)(nl_batch_t *this);

	/**
	 * Encoded messages.
	 *
	 * @return			data of all messages, pointing to internal data
	 */
	chunk_t (*get_data)(nl_batch_t *this);

	/**
	 * Record why sending the batch failed; only the first reason is kept,
	 * so that a summary can name the failure that came first.
	 *
	 * @param fmt		printf() style reason
	 */
	void (*set_error)(nl_batch_t *this, char *fmt, ...);

	/**
	 * The first reason recorded by set_error().
	 *
	 * @return			reason, NULL if none was recorded
	 */
	const char *(*get_error)(nl_batch_t *this);

	/**
	 * Destroy the batch.
	 */
	void (*destroy)(nl_batch_t *this);
};

/**
 * Create an empty batch.
 *
 * @return			batch
 */
nl_batch_t *nl_batch_create();

/**
 * The next chunk of a batch's messages to send on its own, for protocols
 * without transactions (rtnetlink): at most max_msgs messages and, unless a
 * single message is larger, at most max_bytes bytes, so that the kernel's
 * answers to them fit the socket's receive buffer and the chunk its send
 * buffer.
 *
 * @param data			messages not sent yet
 * @param max_msgs		most messages in a chunk (at least 1)
 * @param max_bytes		most bytes in a chunk
 * @param msgs			number of messages in the chunk
 * @return				the chunk, at the start of data; empty if data
 *						holds no complete message
 */
chunk_t nl_batch_next_chunk(chunk_t data, u_int max_msgs, size_t max_bytes,
							u_int *msgs);

#endif /** NL_BATCH_H_ @}*/
