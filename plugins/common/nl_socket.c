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

#include "nl_socket.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <utils/debug.h>
#include <threading/mutex.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/**
 * Most we raise the socket buffers to for one batch
 */
#define NL_SOCKET_BUFSIZE_MAX (256 * 1024 * 1024)

/**
 * Room beyond a batch's length in the send buffer
 */
#define NL_SOCKET_SLACK 4096

/**
 * What an ack costs in the receive buffer (the skb's truesize): an ack
 * capped with NETLINK_CAP_ACK takes a few dozen bytes, its skb about 1 KiB
 */
#define NL_SOCKET_ACK_TRUESIZE 2048

/**
 * How long to wait for the kernel's answers, in ms
 */
#define NL_SOCKET_TIMEOUT 5000

typedef struct private_nl_socket_t private_nl_socket_t;

/**
 * Private data of an nl_socket_t object.
 */
struct private_nl_socket_t {

	/**
	 * Public interface.
	 */
	nl_socket_t public;

	/**
	 * libmnl socket
	 */
	struct mnl_socket *nl;

	/**
	 * Our port id
	 */
	uint32_t portid;

	/**
	 * Next sequence base
	 */
	uint32_t seq;

	/**
	 * Whether the protocol applies a batch as one transaction (nfnetlink),
	 * else each message applies on its own and batches go in chunks
	 */
	bool transactions;

	/**
	 * What the socket buffers are set to
	 */
	int bufsize;

	/**
	 * Serializes send() calls, so answers are not mixed up
	 */
	mutex_t *mutex;
};

/**
 * Find the extended ack message in an error answer, if any.
 */
static const char *get_extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t offset;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
	{
		return NULL;
	}
	offset = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
	{
		offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	mnl_attr_for_each(attr, nlh, offset)
	{
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
			mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		{
			return mnl_attr_get_str(attr);
		}
	}
	return NULL;
}

/*
 * Described in header
 */
int nl_socket_bufsize(size_t len, u_int acks)
{
	size_t size = NL_SOCKET_BUFSIZE;

	/* the kernel doubles what we set, and refuses a message longer than the
	 * send buffer less a few bytes: what we set covers the batch itself */
	size = max(size, len + NL_SOCKET_SLACK);
	/* every ack is an skb of its own in the receive buffer, charged with its
	 * truesize, not its length */
	size = max(size, (size_t)acks * NL_SOCKET_ACK_TRUESIZE / 2);
	return min(size, (size_t)NL_SOCKET_BUFSIZE_MAX);
}

/**
 * Make the socket's buffers large enough for a batch of len bytes with acks
 * answers (the way nft sizes its send buffer to each batch)
 */
static void ensure_bufsize(private_nl_socket_t *this, size_t len, u_int acks,
						   const char *what)
{
	int size, fd = mnl_socket_get_fd(this->nl);

	size = nl_socket_bufsize(len, acks);
	if (size <= this->bufsize)
	{
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
	{
		DBG1(DBG_KNL, "%s: raising the netlink socket buffers to %d bytes "
			 "failed: %s", what, size, strerror(errno));
		return;
	}
	this->bufsize = size;
}

/**
 * Receive the answers to sent messages until pending is 0
 */
static bool receive_acks(private_nl_socket_t *this, nl_batch_t *batch,
						 const char *what, uint32_t base, uint32_t count,
						 bool *answered, bool *acked, u_int pending,
						 bool *broken)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t seq;
	bool ok = TRUE, done = FALSE;
	int len;

	while (pending && !done)
	{
		len = mnl_socket_recvfrom(this->nl, buf, sizeof(buf));
		if (len < 0)
		{
			if (errno == EINTR)
			{
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
			{
				DBG1(DBG_KNL, "%s: the kernel did not answer %u of %u netlink "
					 "messages within %d ms", what, pending, count,
					 NL_SOCKET_TIMEOUT);
				batch->set_error(batch, "the kernel did not answer %u of %u "
								 "netlink messages within %d ms", pending,
								 count, NL_SOCKET_TIMEOUT);
			}
			else
			{
				DBG1(DBG_KNL, "%s: receiving netlink answers failed: %s", what,
					 strerror(errno));
				batch->set_error(batch, "receiving netlink answers failed "
								 "(%u of %u missing): %s", pending, count,
								 strerror(errno));
			}
			*broken = TRUE;
			return FALSE;
		}
		for (nlh = (struct nlmsghdr*)buf; mnl_nlmsg_ok(nlh, len);
			 nlh = mnl_nlmsg_next(nlh, &len))
		{
			const struct nlmsgerr *err;
			const char *desc, *ext;

			if (nlh->nlmsg_type != NLMSG_ERROR)
			{
				continue;
			}
			seq = nlh->nlmsg_seq - base;
			if (nlh->nlmsg_seq < base || seq >= count)
			{	/* a late answer to an earlier batch */
				continue;
			}
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
			{
				DBG1(DBG_KNL, "%s: truncated netlink error message", what);
				batch->set_error(batch, "truncated netlink error message");
				*broken = TRUE;
				return FALSE;
			}
			err = mnl_nlmsg_get_payload(nlh);
			if (!answered[seq])
			{
				answered[seq] = TRUE;
				pending--;
			}
			else
			{	/* an answer to a message that asked for none (the batch
				 * header, e.g. on EPERM or ENOMEM): the kernel handled nothing
				 * more, so don't wait for other answers */
				done = TRUE;
			}
			if (acked)
			{
				acked[seq] = !err->error;
			}
			if (err->error)
			{
				desc = batch->describe(batch, seq);
				ext = get_extack_msg(nlh);
				DBG1(DBG_KNL, "%s: %s failed: %s (%d)%s%s", what,
					 desc ?: "netlink message", strerror(-err->error),
					 -err->error, ext ? ", kernel says: " : "", ext ?: "");
				batch->set_error(batch, "%s failed: %s (%d)%s%s",
					 desc ?: "netlink message", strerror(-err->error),
					 -err->error, ext ? ", kernel says: " : "", ext ?: "");
				ok = FALSE;
			}
		}
	}
	return ok;
}

/**
 * Send messages in one sendmsg(), FALSE if that failed (logged)
 */
static bool send_data(private_nl_socket_t *this, nl_batch_t *batch,
					  const char *what, chunk_t data, u_int msgs)
{
	if (mnl_socket_sendto(this->nl, data.ptr, data.len) < 0)
	{
		DBG1(DBG_KNL, "%s: sending %u netlink messages (%zu bytes) failed: %s",
			 what, msgs, data.len, strerror(errno));
		batch->set_error(batch, "sending %u netlink messages (%zu bytes) "
						 "failed: %s", msgs, data.len, strerror(errno));
		return FALSE;
	}
	return TRUE;
}

METHOD(nl_socket_t, send_acked, bool,
	private_nl_socket_t *this, nl_batch_t *batch, const char *what,
	bool *acked)
{
	struct nlmsghdr *nlh;
	chunk_t data, part;
	uint32_t base, count;
	u_int pending = 0, i, msgs;
	bool *answered, ok = TRUE, broken = FALSE;
	int remain;

	count = batch->get_count(batch);
	if (!count)
	{
		return TRUE;
	}
	if (acked)
	{
		memset(acked, 0, count * sizeof(bool));
	}
	data = batch->get_data(batch);
	answered = calloc(count, sizeof(bool));

	this->mutex->lock(this->mutex);
	base = this->seq;
	this->seq += count;

	/* rebase the sequence numbers, count the answers we expect */
	remain = data.len;
	for (nlh = (struct nlmsghdr*)data.ptr, i = 0; mnl_nlmsg_ok(nlh, remain);
		 nlh = mnl_nlmsg_next(nlh, &remain), i++)
	{
		nlh->nlmsg_pid = 0;
		nlh->nlmsg_seq += base;
		if (nlh->nlmsg_flags & NLM_F_ACK)
		{
			pending++;
		}
		else
		{	/* nothing to wait for, e.g. batch begin/end */
			answered[i] = TRUE;
		}
	}

	if (this->transactions)
	{	/* one sendmsg(), one transaction, whatever its size */
		ensure_bufsize(this, data.len, pending, what);
		ok = send_data(this, batch, what, data, count) &&
			 receive_acks(this, batch, what, base, count, answered, acked,
						  pending, &broken);
	}
	else
	{	/* each message applies on its own: send chunks whose answers fit
		 * the receive buffer, a refused message does not stop the others */
		while (data.len && !broken)
		{
			part = nl_batch_next_chunk(data, NL_SOCKET_CHUNK_MSGS,
									   NL_SOCKET_CHUNK_BYTES, &msgs);
			if (!msgs)
			{
				break;
			}
			pending = 0;
			remain = part.len;
			for (nlh = (struct nlmsghdr*)part.ptr; mnl_nlmsg_ok(nlh, remain);
				 nlh = mnl_nlmsg_next(nlh, &remain))
			{
				if (!answered[nlh->nlmsg_seq - base])
				{
					pending++;
				}
			}
			if (!send_data(this, batch, what, part, msgs))
			{
				ok = FALSE;
				break;
			}
			if (!receive_acks(this, batch, what, base, count, answered, acked,
							  pending, &broken))
			{
				ok = FALSE;
			}
			data = chunk_skip(data, part.len);
		}
	}
	this->mutex->unlock(this->mutex);
	free(answered);
	return ok;
}

METHOD(nl_socket_t, send_, bool,
	private_nl_socket_t *this, nl_batch_t *batch, const char *what)
{
	return send_acked(this, batch, what, NULL);
}

/**
 * Send a dump request or a plain request, pass the answers to a callback
 */
static bool query(private_nl_socket_t *this, struct nlmsghdr *req,
				  nl_dump_cb_t cb, void *data, const char *what, bool dump)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	bool ok = dump, done = FALSE;
	uint32_t seq;
	int len;

	this->mutex->lock(this->mutex);
	seq = this->seq++;
	req->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	req->nlmsg_seq = seq;
	req->nlmsg_pid = 0;
	if (mnl_socket_sendto(this->nl, req, req->nlmsg_len) < 0)
	{
		DBG1(DBG_KNL, "%s: sending the request failed: %s", what,
			 strerror(errno));
		this->mutex->unlock(this->mutex);
		return FALSE;
	}
	while (!done)
	{
		len = mnl_socket_recvfrom(this->nl, buf, sizeof(buf));
		if (len < 0)
		{
			if (errno == EINTR)
			{
				continue;
			}
			DBG1(DBG_KNL, "%s: receiving the answer failed: %s", what,
				 strerror(errno));
			ok = FALSE;
			break;
		}
		for (nlh = (struct nlmsghdr*)buf; mnl_nlmsg_ok(nlh, len);
			 nlh = mnl_nlmsg_next(nlh, &len))
		{
			if (nlh->nlmsg_seq != seq)
			{	/* a late answer to something else */
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
			{
				done = TRUE;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR)
			{
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

				if (err->error)
				{
					DBG1(DBG_KNL, "%s failed: %s (%d)", what,
						 strerror(-err->error), -err->error);
				}
				ok = !err->error;
				done = TRUE;
				break;
			}
			cb(nlh, data);
			if (!dump)
			{	/* a plain request has one answer */
				ok = done = TRUE;
				break;
			}
		}
	}
	this->mutex->unlock(this->mutex);
	return ok;
}

METHOD(nl_socket_t, dump, bool,
	private_nl_socket_t *this, struct nlmsghdr *req, nl_dump_cb_t cb,
	void *data, const char *what)
{
	return query(this, req, cb, data, what, TRUE);
}

METHOD(nl_socket_t, request, bool,
	private_nl_socket_t *this, struct nlmsghdr *req, nl_dump_cb_t cb,
	void *data, const char *what)
{
	return query(this, req, cb, data, what, FALSE);
}

METHOD(nl_socket_t, get_portid, uint32_t,
	private_nl_socket_t *this)
{
	return this->portid;
}

METHOD(nl_socket_t, destroy, void,
	private_nl_socket_t *this)
{
	mnl_socket_close(this->nl);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
nl_socket_t *nl_socket_create(int protocol)
{
	private_nl_socket_t *this;
	struct timeval tv = {
		.tv_sec = NL_SOCKET_TIMEOUT / 1000,
		.tv_usec = (NL_SOCKET_TIMEOUT % 1000) * 1000,
	};
	int on = 1, size = NL_SOCKET_BUFSIZE, fd;

	INIT(this,
		.public = {
			.send = _send_,
			.send_acked = _send_acked,
			.dump = _dump,
			.request = _request,
			.get_portid = _get_portid,
			.destroy = _destroy,
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.seq = time(NULL),
		.transactions = protocol == NETLINK_NETFILTER,
		.bufsize = size,
	);

	this->nl = mnl_socket_open(protocol);
	if (!this->nl)
	{
		DBG1(DBG_KNL, "unable to open netlink socket: %s", strerror(errno));
		this->mutex->destroy(this->mutex);
		free(this);
		return NULL;
	}
	if (mnl_socket_bind(this->nl, 0, MNL_SOCKET_AUTOPID) < 0)
	{
		DBG1(DBG_KNL, "unable to bind netlink socket: %s", strerror(errno));
		destroy(this);
		return NULL;
	}
	this->portid = mnl_socket_get_portid(this->nl);
	fd = mnl_socket_get_fd(this->nl);

	/* best effort: older kernels lack extended acks */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
	/* FORCE variants need CAP_NET_ADMIN, which we have; fall back if not */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
	{
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
	{
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	return &this->public;
}
