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
 * @defgroup tunnel_route_ranges tunnel_route_ranges
 * @{ @ingroup tunnel_route
 */

#ifndef TUNNEL_ROUTE_RANGES_H_
#define TUNNEL_ROUTE_RANGES_H_

#include "tunnel_route_config.h"

#include <library.h>
#include <collections/array.h>
#include <selectors/traffic_selector.h>

/**
 * Sorted lists of IPv4 ranges (array_t of tunnel_route_range_t*, each range
 * once, ordered by first then last address).
 */

/**
 * Compare two ranges (tunnel_route_range_t*), for array_sort()/_bsearch().
 */
int tunnel_route_range_cmp(const void *a, const void *b, void *user);

/**
 * Add a range to a sorted list of ranges, unless it is there.
 */
void tunnel_route_ranges_add(array_t *ranges, uint32_t from, uint32_t to);

/**
 * Make a list of ranges appended in any order (array_insert() at the tail)
 * sorted, each range once: one sort for any number of ranges, where
 * tunnel_route_ranges_add() sorts the list on each insertion.
 */
void tunnel_route_ranges_sort(array_t *ranges);

/**
 * Add the range of a traffic selector, unless it is not IPv4 or dynamic.
 */
void tunnel_route_ranges_add_ts(array_t *ranges, traffic_selector_t *ts);

/**
 * Copy a list of ranges (an empty list for NULL).
 */
array_t *tunnel_route_ranges_copy(array_t *ranges);

/**
 * Destroy a list of ranges.
 */
void tunnel_route_ranges_destroy(array_t *ranges);

/**
 * Check if two sorted lists hold the same ranges.
 */
bool tunnel_route_ranges_equal(array_t *a, array_t *b);

#endif /** TUNNEL_ROUTE_RANGES_H_ @}*/
