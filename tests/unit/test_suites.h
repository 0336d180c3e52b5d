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

#ifndef TEST_SUITES_H_
#define TEST_SUITES_H_

#include <check.h>
#include <library.h>

Suite *make_config_suite(void);
Suite *make_partner_suite(void);
Suite *make_mapping_suite(void);
Suite *make_sa_suite(void);
Suite *make_state_suite(void);
Suite *make_change_suite(void);
Suite *make_nft_suite(void);
Suite *make_nft_partner_suite(void);
Suite *make_nat_kernel_suite(void);
Suite *make_zones_suite(void);
Suite *make_index_suite(void);
Suite *make_route_config_suite(void);
Suite *make_route_state_suite(void);
Suite *make_rtnl_suite(void);
Suite *make_child_track_suite(void);
Suite *make_ha_takeover_suite(void);
Suite *make_monitor_suite(void);
Suite *make_batch_suite(void);
Suite *make_route_restore_suite(void);
Suite *make_ct_suite(void);

/**
 * Log messages captured from DBG*() since the last test_log_reset()
 */
const char *test_log(void);

/**
 * Forget captured log messages
 */
void test_log_reset(void);

/**
 * Check that a captured log message contains a string
 */
#define ck_assert_logged(str) \
	ck_assert_msg(strstr(test_log(), str), "not logged: \"%s\"\nlog:\n%s", \
				  str, test_log())

#endif
