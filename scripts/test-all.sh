#!/bin/bash
# All the tests: installs what is missing, builds, runs the unit tests (Check)
# and every integration suite, and closes with one "N passed, N failed" line.
# Run as root on Debian 12; .ci/run runs exactly this.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -ne 0 ]; then
	echo "test-all: run as root (the integration suites build network namespaces)" >&2
	exit 1
fi

passed=0
failed=0

if ! ./scripts/build.sh; then
	echo "test-all: build failed"
	echo "total: 0 passed, 1 failed"
	exit 1
fi

echo "== unit tests (Check)"
make check > build/make-check.log 2>&1
grep -v '^$' tests/unit/test_runner.log 2>/dev/null
summary=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' tests/unit/test_runner.log)
if [ -z "$summary" ]; then
	tail -n 30 build/make-check.log
	failed=$((failed + 1))
else
	set -- $(echo "$summary" | tr -dc '0-9 ')
	passed=$((passed + $1 - $2 - $3))
	failed=$((failed + $2 + $3))
fi

# run_suite NAME TIMEOUT COMMAND...: run a suite, add up its closing line
run_suite()
{
	local name=$1 limit=$2 out line start=$SECONDS
	shift 2
	echo "== $name"
	out=$(mktemp)
	timeout "$limit" "$@" 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no result line"
		failed=$((failed + 1))
	else
		set -- $(echo "$line" | tr -dc '0-9 ')
		passed=$((passed + $1))
		failed=$((failed + $2))
	fi
	rm -f "$out"
	echo "== $name: $((SECONDS - start))s"
}

# this kernel: kernel-libipsec
for suite in tests/integration/test_*.sh; do
	run_suite "$suite (backend libipsec)" 900 bash "$suite"
done

# many CHILD_SAs (strongSwan's load-tester, fake_kernel): churn with a crash
# and restart, the same under valgrind (smaller), the benchmark's smoke run
run_suite "churn: 3 rounds of 200 CHILD_SAs, SIGKILL and restart" 1200 \
	tests/load/test_churn.sh
run_suite "churn under valgrind" 1200 \
	env CHURN_N=40 CHURN_ROUNDS=2 VALGRIND=1 tests/load/test_churn.sh
run_suite "benchmark smoke run, N=100 (correctness only)" 600 \
	tests/load/bench.sh --smoke 100
# hostile settings: the regression cases, then a bounded fuzzing run
run_suite "settings fuzzer (libFuzzer, ${FUZZ_SECONDS:-60}s)" 900 \
	tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"

# Debian's kernel in a VM: kernel-netlink, real ESP, XFRM interfaces
run_suite "kernel XFRM suite in the VM" 3000 tests/vm/run.sh

echo "total: $passed passed, $failed failed"
[ "$passed" -gt 0 ] && [ "$failed" -eq 0 ]
