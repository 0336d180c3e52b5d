/*
 * Benchmark of tunnel-nat's state (tunnel_nat_state.c): N CHILD_SAs up, one
 * at a time, then down, with a commit that does nothing, so that only the
 * bookkeeping is measured (the overlap check, the reference counts).
 *
 *   state_bench N SHAPE RUNS
 *
 * Shapes, each CHILD_SA with one element:
 * - exact:  a partner address /32 to P (the cheapest key, the baseline);
 * - alias:  an alias block /24 of its own (a partner-side zone element);
 * - wide:   a partner prefix /16 of its own, all to the same P.
 * Prints "N SHAPE UP_US DOWN_US": the medians over RUNS of the time per up
 * and per down, in microseconds. Exits 1 if an element was refused.
 *
 * Copyright (C) 2026 The tunnel-nat authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <library.h>
#include <utils/debug.h>

#include <tunnel_nat_state.h>

#include <stdio.h>
#include <time.h>

static void dbg_quiet(debug_t group, level_t level, char *fmt, ...)
{
}

static double now_us()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double*)a, y = *(const double*)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static bool commit(void *user, array_t *add, array_t *del)
{
	u_int *count = user;

	*count += array_count(add);
	return TRUE;
}

static void make_elem(tunnel_nat_elem_t *e, int i, const char *shape)
{
	*e = (tunnel_nat_elem_t){};
	if (streq(shape, "alias"))
	{	/* 100.64.0.0/24, 100.64.1.0/24, ... (synthetic past 100.127) */
		e->map = TUNNEL_NAT_AZONE;
		e->dst_from = 0x64400000 + ((uint32_t)i << 8);
		e->dst_to = e->dst_from + 0xff;
		e->len = 24;
		e->value = 4096 + i;
	}
	else if (streq(shape, "wide"))
	{	/* 1.0.0.0/16, 1.1.0.0/16, ... to 192.0.2.10 */
		e->map = TUNNEL_NAT_DNAT;
		e->src_from = 0x01000000 + ((uint32_t)i << 16);
		e->src_to = e->src_from + 0xffff;
		e->dst_from = e->dst_to = 0xc000020a;
		e->nat_from = e->nat_to = 0x0a01000a;
	}
	else
	{	/* 1.0.0.1, 1.0.0.2, ... to 192.0.2.10 */
		e->map = TUNNEL_NAT_DNAT;
		e->src_from = e->src_to = 0x01000000 + i;
		e->dst_from = e->dst_to = 0xc000020a;
		e->nat_from = e->nat_to = 0x0a01000a;
	}
	snprintf(e->comment, sizeof(e->comment), "child-%d", i);
}

int main(int argc, char *argv[])
{
	tunnel_nat_state_t *state;
	tunnel_nat_elem_t *elems;
	array_t *one;
	double *up, *down, t;
	u_int added = 0;
	int n, runs, i, r;

	if (argc != 4)
	{
		fprintf(stderr, "usage: %s N exact|alias|wide RUNS\n", argv[0]);
		return 2;
	}
	n = atoi(argv[1]);
	runs = atoi(argv[3]);
	dbg = dbg_quiet;
	if (n < 1 || runs < 1 || !library_init(NULL, "state_bench"))
	{
		return 2;
	}
	elems = calloc(n, sizeof(*elems));
	for (i = 0; i < n; i++)
	{
		make_elem(&elems[i], i, argv[2]);
	}
	up = calloc(runs, sizeof(double));
	down = calloc(runs, sizeof(double));
	one = array_create(0, 1);
	for (r = 0; r < runs; r++)
	{
		state = tunnel_nat_state_create();
		t = now_us();
		for (i = 0; i < n; i++)
		{
			array_insert(one, ARRAY_HEAD, &elems[i]);
			state->update(state, 0, i + 1, one, commit, &added);
			array_remove(one, ARRAY_HEAD, NULL);
		}
		up[r] = (now_us() - t) / n;
		t = now_us();
		for (i = 0; i < n; i++)
		{
			state->update(state, i + 1, 0, NULL, commit, &added);
		}
		down[r] = (now_us() - t) / n;
		if (state->get_count(state))
		{
			added = 0;
		}
		state->destroy(state);
	}
	printf("%d %s %.2f %.2f\n", n, argv[2], median(up, runs),
		   median(down, runs));
	array_destroy(one);
	free(up);
	free(down);
	free(elems);
	library_deinit();
	return added == (u_int)n * runs ? 0 : 1;
}
