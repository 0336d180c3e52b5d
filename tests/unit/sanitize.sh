#!/bin/bash
# The unit tests (Check) once more, with the plugins' code and the tests
# built with AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer:
# an out-of-bounds access, a use after free, a leak or undefined behaviour
# on any path the unit tests take fails the run, where the plain build's
# run of the same tests may pass by luck. libstrongswan is not instrumented.
#
#   tests/unit/sanitize.sh       (strongSwan STRONGSWAN_VERSION, default 5.9.8)
#
# Built out of tree in build/sw-VERSION/sanitize (kept: make rebuilds what
# changed). The tests run in one process (CK_FORK=no): LeakSanitizer then
# sees what every test left at the end, and Check's fork per test, slow
# with the sanitizers' shadow memory, is saved. The last line is
# "N passed, N failed".
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SW_TOP=$top . "$top/scripts/sw-env.sh"
obj=$SW_DIR/sanitize
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"

give_up()
{
	echo "sanitize: $1"
	[ -f "$2" ] && tail -n 30 "$2"
	echo "0 passed, 1 failed"
	exit 1
}

[ -x "$SW_PREFIX/libexec/ipsec/charon" ] ||
	give_up "strongSwan $SW_VERSION is not built: run scripts/build.sh first"
mkdir -p "$obj" && cd "$obj" || give_up "cannot make $obj"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ] ||
   [ "$SW_DIR/.built" -nt Makefile ]; then
	"$top/configure" --with-strongswan-source="$SW_SRC" CFLAGS="$flags" \
		LDFLAGS="-fsanitize=address,undefined" > configure.log 2>&1 ||
		give_up "configure failed ($obj/configure.log)" configure.log
	make clean > /dev/null
fi
{ make -j"$(nproc)" && make -C tests/unit test_runner; } > make.log 2>&1 ||
	give_up "the build failed ($obj/make.log)" make.log

echo "unit tests with ASan, LeakSanitizer and UBSan, strongSwan $SW_VERSION"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CK_FORK=no \
	TEST_SANITIZERS=1 \
	tests/unit/test_runner > test_runner.log 2>&1
rc=$?
grep -v '^$' test_runner.log | grep -v '^ ' | head -n 60
summary=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' test_runner.log)
if [ -z "$summary" ]; then
	# a sanitizer's report ends the process before Check's summary
	grep -E -A 30 'ERROR: (Address|Leak)Sanitizer|runtime error' test_runner.log |
		head -n 40
	echo "0 passed, 1 failed"
	exit 1
fi
set -- $(echo "$summary" | tr -dc '0-9 ')
passed=$(($1 - $2 - $3)); failed=$(($2 + $3))
# a report after the summary (LeakSanitizer's, at exit) fails the run
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	grep -E -A 30 'ERROR: (Address|Leak)Sanitizer|runtime error' test_runner.log |
		head -n 40
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
