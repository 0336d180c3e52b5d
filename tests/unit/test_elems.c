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

#include "test_elems.h"

#include <stdio.h>

/*
 * Described in header
 */
tunnel_nat_elem_t test_elem(int n)
{
	tunnel_nat_elem_t e = {
		.map = TUNNEL_NAT_DNAT,
		.src_from = 0xc6336400 + n, .src_to = 0xc6336400 + n,
		.dst_from = 0xc0000264, .dst_to = 0xc0000264,
		.nat_from = 0x0a010000 + n, .nat_to = 0x0a010000 + n,
	};
	snprintf(e.comment, sizeof(e.comment), "child c%d", n);
	return e;
}

/*
 * Described in header
 */
array_t *test_elems_add(array_t *list, int n, va_list args)
{
	tunnel_nat_elem_t *e;

	while (n >= 0)
	{
		e = malloc(sizeof(*e));
		*e = test_elem(n);
		array_insert(list, ARRAY_TAIL, e);
		n = va_arg(args, int);
	}
	return list;
}

/*
 * Described in header
 */
array_t *test_elems(int n, ...)
{
	array_t *list = array_create(0, 0);
	va_list args;

	va_start(args, n);
	test_elems_add(list, n, args);
	va_end(args);
	return list;
}
