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

#include "test_suites.h"

#include <tunnel_nat_index.h>

/**
 * Whether two keys overlap (what the state asks of a candidate)
 */
static bool overlap(tunnel_nat_elem_t *a, tunnel_nat_elem_t *b)
{
	return a->map == b->map && a->proto == b->proto && a->port == b->port &&
		   a->bind == b->bind &&
		   a->src_from <= b->src_to && b->src_from <= a->src_to &&
		   a->dst_from <= b->dst_to && b->dst_from <= a->dst_to;
}

/**
 * Context of the match callback: the element checked, the candidates seen,
 * and whether to accept overlapping ones (else collect them all)
 */
typedef struct {
	tunnel_nat_elem_t *elem;
	u_int offered;
	bool accept;
	array_t *seen;
} match_ctx_t;

CALLBACK(match, bool,
	match_ctx_t *ctx, tunnel_nat_elem_t *candidate)
{
	ctx->offered++;
	if (!overlap(ctx->elem, candidate))
	{
		return FALSE;
	}
	if (ctx->seen)
	{
		array_insert(ctx->seen, ARRAY_TAIL, candidate);
	}
	return ctx->accept;
}

static bool seen_has(array_t *seen, tunnel_nat_elem_t *elem)
{
	tunnel_nat_elem_t *cur;
	u_int i;

	for (i = 0; i < array_count(seen); i++)
	{
		array_get(seen, i, &cur);
		if (cur == elem)
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * A random range of 1 to 2^(bits) addresses in a small part of the space,
 * so that ranges of every level meet
 */
static void random_range(uint32_t *from, uint32_t *to)
{
	static const uint32_t bases[] = { 0, 0x0a000000, 0xc0000200, 0xfffff000 };
	uint32_t base = bases[random() % countof(bases)], size;
	u_int bits = random() % 22;

	size = (1u << bits) - 1 + (random() % 3 == 0 ? random() % 300 : 0);
	*from = base + random() % 0x40000;
	if (base == 0xfffff000)
	{	/* the top of the space, every level at once */
		*from = 0xffffffff - size - random() % 0x800;
	}
	else if (random() % 20 == 0)
	{	/* the whole space */
		*from = 0;
		size = 0xffffffff;
	}
	*to = *from + size < *from ? 0xffffffff : *from + size;
}

static void random_elem(tunnel_nat_elem_t *e)
{
	*e = (tunnel_nat_elem_t){
		.map = random() % 2,
		.bind = random() % 2,
	};
	random_range(&e->src_from, &e->src_to);
	random_range(&e->dst_from, &e->dst_to);
}

/**
 * Every filed element whose key overlaps a query is offered to the match
 * callback, against a plain scan, with elements added and removed at random
 */
START_TEST(test_index_finds_every_overlap)
{
	tunnel_nat_index_t *index;
	tunnel_nat_elem_t *elems, query;
	bool filed[600] = {};
	match_ctx_t ctx;
	tunnel_nat_elem_t *hit;
	u_int i, j, round, found = 0, checked = 0;
	bool any;

	srandom(1 + _i);
	elems = calloc(countof(filed), sizeof(*elems));
	index = tunnel_nat_index_create();
	for (i = 0; i < countof(filed); i++)
	{
		random_elem(&elems[i]);
	}
	for (round = 0; round < 3000; round++)
	{
		i = random() % countof(filed);
		if (filed[i])
		{
			index->remove(index, &elems[i]);
		}
		else
		{
			index->add(index, &elems[i]);
		}
		filed[i] = !filed[i];

		random_elem(&query);
		ctx = (match_ctx_t){
			.elem = &query,
			.seen = array_create(0, 0),
		};
		ck_assert(index->find(index, &query, match, &ctx) == NULL);
		any = FALSE;
		for (j = 0; j < countof(filed); j++)
		{
			if (overlap(&query, &elems[j]))
			{
				ck_assert_msg(!filed[j] || seen_has(ctx.seen, &elems[j]),
							  "round %u: filed element %u overlaps the query "
							  "but was not offered", round, j);
				ck_assert_msg(filed[j] || !seen_has(ctx.seen, &elems[j]),
							  "round %u: removed element %u was offered",
							  round, j);
				found += filed[j];
				any = any || filed[j];
			}
		}
		checked++;
		array_destroy(ctx.seen);

		/* accepting returns an overlapping element if there is one */
		ctx = (match_ctx_t){
			.elem = &query,
			.accept = TRUE,
		};
		hit = index->find(index, &query, match, &ctx);
		ck_assert(any ? hit && overlap(&query, hit) : hit == NULL);
	}
	/* the random cases did meet */
	ck_assert_msg(found > 1000, "only %u overlaps in %u queries", found,
				  checked);
	for (i = 0; i < countof(filed); i++)
	{
		if (filed[i])
		{
			index->remove(index, &elems[i]);
		}
	}
	index->destroy(index);
	free(elems);
}
END_TEST

/**
 * An accepted candidate is returned, and one is found whenever a filed
 * element overlaps
 */
START_TEST(test_index_returns_a_hit)
{
	tunnel_nat_index_t *index;
	tunnel_nat_elem_t a = {
		.map = 7, .dst_from = 0x64400100, .dst_to = 0x644001ff,
	}, b = {
		.map = 7, .dst_from = 0x64400200, .dst_to = 0x644002ff,
	}, q = {
		.map = 7, .dst_from = 0x64400180, .dst_to = 0x64400180,
	}, other_map = q;
	match_ctx_t ctx = { .elem = &q, .accept = TRUE };

	other_map.map = 8;
	index = tunnel_nat_index_create();
	index->add(index, &a);
	index->add(index, &b);
	ck_assert(index->find(index, &q, match, &ctx) == &a);
	ctx.elem = &other_map;
	ck_assert(index->find(index, &other_map, match, &ctx) == NULL);
	index->remove(index, &a);
	ctx.elem = &q;
	ck_assert(index->find(index, &q, match, &ctx) == NULL);
	index->remove(index, &b);
	index->destroy(index);
}
END_TEST

/**
 * The point of the index: among 10,000 disjoint /24 alias blocks, or 10,000
 * partners' /16 prefixes that all reach the same P, a check is offered a
 * handful of candidates, not all of them
 */
START_TEST(test_index_narrows)
{
	tunnel_nat_index_t *index;
	tunnel_nat_elem_t *elems, q;
	match_ctx_t ctx = { .elem = &q };
	u_int i, n = 10000;

	elems = calloc(n, sizeof(*elems));
	index = tunnel_nat_index_create();
	for (i = 0; i < n; i++)
	{
		if (_i == 0)
		{	/* alias blocks 100.64.0.0/24, 100.64.1.0/24, ... */
			elems[i] = (tunnel_nat_elem_t){
				.map = 7,
				.dst_from = 0x64400000 + (i << 8),
				.dst_to = 0x64400000 + (i << 8) + 0xff,
			};
		}
		else
		{	/* partners 10.0.0.0/16, 10.1.0.0/16, ... to P 192.0.2.10 */
			elems[i] = (tunnel_nat_elem_t){
				.map = 0,
				.src_from = 0x0a000000 + (i << 16),
				.src_to = 0x0a000000 + (i << 16) + 0xffff,
				.dst_from = 0xc000020a,
				.dst_to = 0xc000020a,
			};
		}
		index->add(index, &elems[i]);
	}
	/* a new block next to the last */
	q = elems[n - 1];
	if (_i == 0)
	{
		q.dst_from += 0x100;
		q.dst_to += 0x100;
	}
	else
	{
		q.src_from += 0x10000;
		q.src_to += 0x10000;
	}
	ck_assert(index->find(index, &q, match, &ctx) == NULL);
	ck_assert_msg(ctx.offered <= 32, "%u candidates offered", ctx.offered);
	/* and the neighbour itself is among the few */
	q = elems[n - 1];
	ctx.offered = 0;
	ctx.accept = TRUE;
	ck_assert(index->find(index, &q, match, &ctx) == &elems[n - 1]);
	ck_assert_msg(ctx.offered <= 32, "%u candidates offered", ctx.offered);
	for (i = 0; i < n; i++)
	{
		index->remove(index, &elems[i]);
	}
	index->destroy(index);
	free(elems);
}
END_TEST

Suite *make_index_suite()
{
	Suite *s;
	TCase *tc;

	s = suite_create("tunnel-nat index");

	tc = tcase_create("overlaps");
	tcase_add_loop_test(tc, test_index_finds_every_overlap, 0, 3);
	tcase_add_test(tc, test_index_returns_a_hit);
	suite_add_tcase(s, tc);

	tc = tcase_create("narrows");
	tcase_add_loop_test(tc, test_index_narrows, 0, 2);
	suite_add_tcase(s, tc);

	return s;
}
