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

#include "tunnel_route_ranges.h"
#include <tunnel_util.h>

/*
 * Described in header
 */
int tunnel_route_range_cmp(const void *a, const void *b, void *user)
{
	const tunnel_route_range_t *x = a, *y = b;

	if (x->from != y->from)
	{
		return x->from < y->from ? -1 : 1;
	}
	if (x->to != y->to)
	{
		return x->to < y->to ? -1 : 1;
	}
	return 0;
}

/*
 * Described in header
 */
void tunnel_route_ranges_add(array_t *ranges, uint32_t from, uint32_t to)
{
	tunnel_route_range_t key = { .from = from, .to = to }, *range;

	if (array_bsearch(ranges, &key, (void*)tunnel_route_range_cmp, NULL) == -1)
	{
		INIT(range,
			.from = from,
			.to = to,
		);
		array_insert(ranges, ARRAY_TAIL, range);
		array_sort(ranges, tunnel_route_range_cmp, NULL);
	}
}

/*
 * Described in header
 */
void tunnel_route_ranges_sort(array_t *ranges)
{
	tunnel_route_range_t *range, *last = NULL;
	array_t *sorted;
	u_int i;

	array_sort(ranges, tunnel_route_range_cmp, NULL);
	sorted = tunnel_array_create(0, array_count(ranges));
	while (array_remove(ranges, ARRAY_HEAD, &range))
	{
		if (last && !tunnel_route_range_cmp(last, range, NULL))
		{
			free(range);
			continue;
		}
		array_insert(sorted, ARRAY_TAIL, range);
		last = range;
	}
	for (i = 0; i < array_count(sorted); i++)
	{
		array_get(sorted, i, &range);
		array_insert(ranges, ARRAY_TAIL, range);
	}
	array_destroy(sorted);
}

array_t *tunnel_route_ranges_copy(array_t *ranges)
{
	tunnel_route_range_t *range;
	array_t *copy;
	u_int i;

	copy = tunnel_array_create(0, array_count(ranges));
	for (i = 0; i < array_count(ranges); i++)
	{
		array_get(ranges, i, &range);
		tunnel_route_ranges_add(copy, range->from, range->to);
	}
	return copy;
}

/*
 * Described in header
 */
bool tunnel_route_ranges_equal(array_t *a, array_t *b)
{
	tunnel_route_range_t *x, *y;
	u_int i;

	if (array_count(a) != array_count(b))
	{
		return FALSE;
	}
	for (i = 0; i < array_count(a); i++)
	{
		array_get(a, i, &x);
		array_get(b, i, &y);
		if (tunnel_route_range_cmp(x, y, NULL))
		{
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * Described in header
 */
void tunnel_route_ranges_destroy(array_t *ranges)
{
	array_destroy_function(ranges, (void*)free, NULL);
}

/*
 * Described in header
 */
void tunnel_route_ranges_add_ts(array_t *ranges, traffic_selector_t *ts)
{
	chunk_t from, to;

	if (ts->get_type(ts) != TS_IPV4_ADDR_RANGE || ts->is_dynamic(ts))
	{
		return;
	}
	from = ts->get_from_address(ts);
	to = ts->get_to_address(ts);
	if (from.len == 4 && to.len == 4)
	{
		tunnel_route_ranges_add(ranges, untoh32(from.ptr), untoh32(to.ptr));
	}
}
