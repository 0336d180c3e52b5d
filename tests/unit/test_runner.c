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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <utils/debug.h>

static char log_buf[65536];
static size_t log_len;

const char *test_log(void)
{
	return log_buf;
}

void test_log_reset(void)
{
	log_len = 0;
	log_buf[0] = '\0';
}

/**
 * Capture libstrongswan's log messages, so tests can assert on them
 */
static void capture_dbg(debug_t group, level_t level, char *fmt, ...)
{
	va_list args;
	int len;

	if (level > 2 || log_len >= sizeof(log_buf) - 2)
	{
		return;
	}
	va_start(args, fmt);
	len = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len - 1, fmt,
					args);
	va_end(args);
	if (len > 0)
	{
		log_len = min(log_len + len, sizeof(log_buf) - 2);
		log_buf[log_len++] = '\n';
		log_buf[log_len] = '\0';
	}
}

int main(void)
{
	SRunner *runner;
	char conf[] = "/tmp/tunnel-tests-XXXXXX";
	int failed, fd;

	/* an empty strongswan.conf, not the machine's: tests bring their own */
	fd = mkstemp(conf);
	if (fd < 0)
	{
		perror("mkstemp");
		return EXIT_FAILURE;
	}
	close(fd);
	setenv("STRONGSWAN_CONF", conf, 1);
	if (!library_init(NULL, "tunnel-tests"))
	{
		library_deinit();
		fprintf(stderr, "library_init() failed\n");
		return EXIT_FAILURE;
	}
	dbg = capture_dbg;

	runner = srunner_create(make_config_suite());
	srunner_add_suite(runner, make_partner_suite());
	srunner_add_suite(runner, make_mapping_suite());
	srunner_add_suite(runner, make_sa_suite());
	srunner_add_suite(runner, make_state_suite());
	srunner_add_suite(runner, make_change_suite());
	srunner_add_suite(runner, make_nft_suite());
	srunner_add_suite(runner, make_nft_partner_suite());
	srunner_add_suite(runner, make_nat_kernel_suite());
	srunner_add_suite(runner, make_zones_suite());
	srunner_add_suite(runner, make_index_suite());
	srunner_add_suite(runner, make_route_config_suite());
	srunner_add_suite(runner, make_route_state_suite());
	srunner_add_suite(runner, make_rtnl_suite());
	srunner_add_suite(runner, make_child_track_suite());
	srunner_add_suite(runner, make_ha_takeover_suite());
	srunner_add_suite(runner, make_monitor_suite());
	srunner_add_suite(runner, make_batch_suite());
	srunner_add_suite(runner, make_route_restore_suite());
	srunner_add_suite(runner, make_ct_suite());
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	library_deinit();
	unlink(conf);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
