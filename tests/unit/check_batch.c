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

/*
 * Sizing and chunking of netlink batches: what lets a restore of the whole
 * state go through at any scale (no kernel needed).
 */

#include "test_suites.h"

#include <stdio.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include <nl_batch.h>
#include <nl_socket.h>
#include <nft_util.h>
#include <tunnel_route_nft.h>

/**
 * Push count messages of len bytes of payload each (len % 7 varies it when
 * vary is set)
 */
static nl_batch_t *make_batch(u_int count, size_t len, bool vary)
{
	nl_batch_t *batch = nl_batch_create();
	struct nlmsghdr *nlh;
	size_t l;
	u_int i;

	for (i = 0; i < count; i++)
	{
		l = vary ? len + (i * 13) % 97 : len;
		nlh = mnl_nlmsg_put_header(batch->reserve(batch, MNL_NLMSG_HDRLEN + l));
		nlh->nlmsg_type = RTM_NEWROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = batch->next_seq(batch);
		mnl_nlmsg_put_extra_header(nlh, l);
		batch->push(batch, nlh, "message %u", i);
	}
	return batch;
}

static struct {
	u_int count;
	size_t len;
	bool vary;
	u_int max_msgs;
	size_t max_bytes;
} chunk_tests[] = {
	{ 1, 40, FALSE, 1024, 256 * 1024 },
	{ 1024, 40, FALSE, 1024, 256 * 1024 },
	{ 1025, 40, FALSE, 1024, 256 * 1024 },
	{ 50000, 60, TRUE, NL_SOCKET_CHUNK_MSGS, NL_SOCKET_CHUNK_BYTES },
	{ 5000, 200, TRUE, 4096, 64 * 1024 },
	{ 10, 100, FALSE, 1, 1 },
	{ 10, 5000, FALSE, 100, 4096 },
	{ 300, 52, TRUE, 7, 1000 },
	{ 3, 40, FALSE, 0, 0 },
};

START_TEST(test_next_chunk)
{
	nl_batch_t *batch;
	struct nlmsghdr *nlh;
	chunk_t data, part;
	u_int msgs, total = 0, chunks = 0, expect_seq = 0, max_msgs;
	int remain;

	batch = make_batch(chunk_tests[_i].count, chunk_tests[_i].len,
					   chunk_tests[_i].vary);
	max_msgs = max(chunk_tests[_i].max_msgs, 1);
	data = batch->get_data(batch);
	while (data.len)
	{
		part = nl_batch_next_chunk(data, chunk_tests[_i].max_msgs,
								   chunk_tests[_i].max_bytes, &msgs);
		ck_assert(msgs >= 1);
		ck_assert(msgs <= max_msgs);
		ck_assert(part.ptr == data.ptr);
		ck_assert(part.len <= data.len);
		if (msgs > 1)
		{
			ck_assert_int_le(part.len, chunk_tests[_i].max_bytes);
		}
		/* whole messages, in order, none skipped */
		remain = part.len;
		for (nlh = (struct nlmsghdr*)part.ptr; mnl_nlmsg_ok(nlh, remain);
			 nlh = mnl_nlmsg_next(nlh, &remain))
		{
			ck_assert_int_eq(nlh->nlmsg_seq, expect_seq++);
		}
		ck_assert_int_eq(remain, 0);
		/* full unless the next message would not have fit, or the last */
		if (msgs < max_msgs && part.len < data.len)
		{
			nlh = (struct nlmsghdr*)(part.ptr + part.len);
			ck_assert_int_gt(part.len + NLMSG_ALIGN(nlh->nlmsg_len),
							 chunk_tests[_i].max_bytes);
		}
		total += msgs;
		chunks++;
		data = chunk_skip(data, part.len);
	}
	ck_assert_int_eq(total, chunk_tests[_i].count);
	ck_assert_int_eq(expect_seq, chunk_tests[_i].count);
	ck_assert_int_ge(chunks, (chunk_tests[_i].count + max_msgs - 1) / max_msgs);
	batch->destroy(batch);
}
END_TEST

START_TEST(test_next_chunk_empty)
{
	u_int msgs = 42;
	chunk_t part;
	char junk[8] = {};

	part = nl_batch_next_chunk(chunk_empty, 10, 1000, &msgs);
	ck_assert_int_eq(msgs, 0);
	ck_assert_int_eq(part.len, 0);
	/* less than a header: no complete message */
	part = nl_batch_next_chunk(chunk_create(junk, sizeof(junk)), 10, 1000,
							   &msgs);
	ck_assert_int_eq(msgs, 0);
	ck_assert_int_eq(part.len, 0);
}
END_TEST

START_TEST(test_first_error)
{
	nl_batch_t *batch = nl_batch_create();

	ck_assert(batch->get_error(batch) == NULL);
	batch->set_error(batch, "%s failed: %s", "add route 10.64.0.1/32",
					 "No buffer space available");
	batch->set_error(batch, "a later failure");
	ck_assert_str_eq(batch->get_error(batch),
					 "add route 10.64.0.1/32 failed: No buffer space available");
	batch->destroy(batch);
}
END_TEST

/**
 * The kernel refuses a message longer than its send buffer (twice what was
 * set) less 32 bytes; the receive buffer must hold every ack of a batch
 */
static bool fits(int size, size_t len, u_int acks)
{
	return len <= (size_t)size * 2 - 32 &&
		   (size_t)acks * 2048 <= (size_t)size * 2;
}

static struct {
	size_t len;
	u_int acks;
} size_tests[] = {
	{ 0, 0 },
	{ 100, 3 },
	{ 4 * 1024 * 1024, 100 },
	{ 8 * 1024 * 1024, 600 },
	{ 20 * 1024 * 1024, 2000 },
	{ 1024, 50000 },
};

START_TEST(test_bufsize)
{
	int size;

	size = nl_socket_bufsize(size_tests[_i].len, size_tests[_i].acks);
	ck_assert_int_ge(size, NL_SOCKET_BUFSIZE);
	ck_assert(fits(size, size_tests[_i].len, size_tests[_i].acks));
}
END_TEST

START_TEST(test_chunk_acks_fit)
{
	/* the acks of a full chunk fit the default receive buffer */
	ck_assert(fits(NL_SOCKET_BUFSIZE, NL_SOCKET_CHUNK_BYTES,
				   NL_SOCKET_CHUNK_MSGS));
}
END_TEST

/**
 * tunnel-route's restore of 50,000 tunnels (three pairs each, with
 * comments, as the load lab's): one transaction, larger than the default
 * buffers allow; the size the socket sets fits it
 */
START_TEST(test_restore_50000)
{
	tunnel_route_pair_t *pairs;
	nl_batch_t *batch;
	array_t *all;
	size_t len;
	u_int i, n = 50000;

	if (getenv("TEST_SANITIZERS"))
	{	/* 150,000 inserts grow the array one by one (its reserve is a
		 * uint8_t), and ASan's realloc always copies: quadratic, minutes.
		 * The size is checked by the plain runs, memory errors here */
		n = 5000;
	}

	pairs = calloc(3 * n, sizeof(*pairs));
	all = array_create(0, 3 * n);
	for (i = 0; i < n; i++)
	{
		uint32_t dst = 0x0a400000 + i + 1;

		pairs[3 * i] = (tunnel_route_pair_t){
			.src = { 0xc0000264, 0xc0000264 }, .dst = { dst, dst },
		};
		pairs[3 * i + 1] = (tunnel_route_pair_t){
			.src = { 0x0a01000a, 0x0a01000a }, .dst = { dst, dst },
		};
		pairs[3 * i + 2] = (tunnel_route_pair_t){
			.bypass = TRUE, .src = { 0, 0xffffffff }, .dst = { dst, dst },
		};
		snprintf(pairs[3 * i].comment, TUNNEL_ROUTE_COMMENT_LEN,
				 "load-test #%u", i + 1);
		strcpy(pairs[3 * i + 1].comment, pairs[3 * i].comment);
		strcpy(pairs[3 * i + 2].comment, pairs[3 * i].comment);
		array_insert(all, ARRAY_TAIL, &pairs[3 * i]);
		array_insert(all, ARRAY_TAIL, &pairs[3 * i + 1]);
		array_insert(all, ARRAY_TAIL, &pairs[3 * i + 2]);
	}
	batch = nl_batch_create();
	nft_msg_begin(batch);
	tunnel_route_nft_table(batch, "tunnel_route", 0x4000000, 0x8000000,
						   0xc000000);
	tunnel_route_nft_pairs(batch, "tunnel_route", all, TRUE);
	nft_msg_end(batch);
	len = batch->get_data(batch).len;
	if (getenv("CHECK_BATCH_SIZES"))
	{
		fprintf(stderr, "restore of %u tunnels: %zu bytes, %u messages\n", n,
				len, batch->get_count(batch));
	}
	ck_assert(fits(nl_socket_bufsize(len, batch->get_count(batch)), len,
				   batch->get_count(batch)));
	batch->destroy(batch);
	array_destroy(all);
	free(pairs);
}
END_TEST

Suite *make_batch_suite()
{
	Suite *s;
	TCase *tc;

	s = suite_create("nl_batch sizing");

	tc = tcase_create("chunks");
	tcase_add_loop_test(tc, test_next_chunk, 0, countof(chunk_tests));
	tcase_add_test(tc, test_next_chunk_empty);
	tcase_add_test(tc, test_first_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffers");
	tcase_add_loop_test(tc, test_bufsize, 0, countof(size_tests));
	tcase_add_test(tc, test_chunk_acks_fit);
	tcase_add_test(tc, test_restore_50000);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	return s;
}
