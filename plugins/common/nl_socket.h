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
 * @defgroup nl_socket nl_socket
 * @{ @ingroup tunnel_common
 */

#ifndef NL_SOCKET_H_
#define NL_SOCKET_H_

#include "nl_batch.h"

typedef struct nl_socket_t nl_socket_t;

/**
 * Called for each message of a dump.
 *
 * @param nlh		message
 * @param data		user data
 */
typedef void (*nl_dump_cb_t)(const struct nlmsghdr *nlh, void *data);

/**
 * A netlink socket that sends batches and collects every answer.
 *
 * Each message that carries NLM_F_ACK is answered by the kernel, either with
 * an ack or with an error. Errors are logged with the description of the
 * message that caused them, the kernel's reason and, where the kernel gives
 * one, its extended ack message.
 */
struct nl_socket_t {

	/**
	 * Send a batch and wait for its answers.
	 *
	 * On NETLINK_NETFILTER, the batch goes in one sendmsg(), so that
	 * nfnetlink applies it as one transaction; the socket's buffers are
	 * raised to its size first. On other protocols, where each message
	 * applies on its own, it goes in chunks of at most NL_SOCKET_CHUNK_MSGS
	 * messages, each sent once the answers to the previous one arrived.
	 * The first failure's reason is recorded in the batch (set_error()).
	 *
	 * @param batch		messages to send, sequence numbers relative
	 * @param what		what the batch does, for log messages
	 * @return			TRUE if every message was acknowledged without error
	 */
	bool (*send)(nl_socket_t *this, nl_batch_t *batch, const char *what);

	/**
	 * Like send(), and tell which messages succeeded.
	 *
	 * For protocols without transactions (rtnetlink), where each message
	 * applies on its own.
	 *
	 * @param batch		messages to send, sequence numbers relative
	 * @param what		what the batch does, for log messages
	 * @param acked		per message, set to TRUE if it was acknowledged
	 *					without error (array of get_count() entries)
	 * @return			TRUE if every message was acknowledged without error
	 */
	bool (*send_acked)(nl_socket_t *this, nl_batch_t *batch, const char *what,
					   bool *acked);

	/**
	 * Send a dump request and pass every answer to a callback.
	 *
	 * @param req		request (NLM_F_DUMP is added), sequence set here
	 * @param cb		callback for each message
	 * @param data		user data for cb
	 * @param what		what is dumped, for log messages
	 * @return			TRUE if the dump completed
	 */
	bool (*dump)(nl_socket_t *this, struct nlmsghdr *req, nl_dump_cb_t cb,
				 void *data, const char *what);

	/**
	 * Send a request (not a dump) and pass its answer to a callback.
	 *
	 * @param req		request, sequence set here
	 * @param cb		callback for the answer
	 * @param data		user data for cb
	 * @param what		what is asked, for log messages
	 * @return			TRUE if answered without error
	 */
	bool (*request)(nl_socket_t *this, struct nlmsghdr *req, nl_dump_cb_t cb,
					void *data, const char *what);

	/**
	 * The socket's netlink port id: events the kernel sends about the
	 * changes made through this socket carry it.
	 *
	 * @return			port id
	 */
	uint32_t (*get_portid)(nl_socket_t *this);

	/**
	 * Destroy the socket.
	 */
	void (*destroy)(nl_socket_t *this);
};

/**
 * Most messages sent in one sendmsg() by a socket for a protocol without
 * transactions (rtnetlink): their answers must fit its receive buffer
 */
#define NL_SOCKET_CHUNK_MSGS 1024

/**
 * Most bytes sent in one sendmsg() by such a socket
 */
#define NL_SOCKET_CHUNK_BYTES (256 * 1024)

/**
 * Socket buffer size we ask for by default
 */
#define NL_SOCKET_BUFSIZE (4 * 1024 * 1024)

/**
 * The socket buffer size (before the kernel doubles it) a batch of len bytes
 * with acks answers needs: the send buffer must hold the batch, the receive
 * buffer every answer. At least NL_SOCKET_BUFSIZE.
 *
 * @param len			length of the batch
 * @param acks			answers the kernel sends back
 * @return				size to set with SO_SNDBUFFORCE and SO_RCVBUFFORCE
 */
int nl_socket_bufsize(size_t len, u_int acks);

/**
 * Open a netlink socket.
 *
 * @param protocol		NETLINK_NETFILTER or NETLINK_ROUTE
 * @return				socket, NULL if it could not be opened (logged)
 */
nl_socket_t *nl_socket_create(int protocol);

#endif /** NL_SOCKET_H_ @}*/
