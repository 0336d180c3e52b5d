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

#ifndef TEST_ELEMS_H_
#define TEST_ELEMS_H_

#include <stdarg.h>

#include <tunnel_nat_state.h>

/**
 * Element n: DNAT from remote 198.51.100.n to P 192.0.2.100 => 10.1.0.n,
 * comment "child cN"
 */
tunnel_nat_elem_t test_elem(int n);

/**
 * An array of allocated copies of the given elements, terminated by a
 * negative n
 */
array_t *test_elems(int n, ...);

/**
 * Add allocated copies of elements n and those of args, up to a negative
 * one, to a list.
 *
 * @return			list
 */
array_t *test_elems_add(array_t *list, int n, va_list args);

#endif
