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

SW_TOP=$top . "$top/scripts/sw-env.sh"
# the versions whose churn test runs (every version's unit tests run);
# valgrind, the benchmark's smoke run and the fuzzer run against the default
# one. The integration suites of 5.9.8 and 6.0.1, on this kernel and in the
# VM, run with the distributions' own charon of those versions
# (tests/distro/run.sh, below), the one users run: running them also with
# our builds of the same versions would repeat them
CHURN_VERSIONS="5.9.8 6.0.1"
declare -A v_passed=() v_failed=()

# count VERSION PASSED FAILED: add to the total and to VERSION's
count()
{
	passed=$((passed + $2))
	failed=$((failed + $3))
	v_passed[$1]=$(( ${v_passed[$1]:-0} + $2 ))
	v_failed[$1]=$(( ${v_failed[$1]:-0} + $3 ))
}

# Debian's packages first (apt one at a time); then the distribution
# suite's clean roots are made in the background while strongSwan and the
# plugins build (debootstrap mostly waits for the mirror). The suite uses
# them from the cache, and makes any that failed here itself.
if ! ./scripts/install-deps.sh; then
	echo "test-all: installing the dependencies failed"
	echo "total: 0 passed, 1 failed"
	exit 1
fi
mkdir -p "$SW_BUILD"
(
	source tests/distro/lib-root.sh
	rc=0
	for s in bookworm trixie; do
		root_build "$s" > /dev/null || rc=1
	done
	exit $rc
) > "$SW_BUILD/roots-early.log" 2>&1 &
roots_pid=$!

if ! ./scripts/build.sh; then
	echo "test-all: build failed"
	echo "total: 0 passed, 1 failed"
	wait "$roots_pid"
	exit 1
fi

for v in $SW_VERSIONS; do
	obj=$SW_BUILD/sw-$v/plugins
	echo "== unit tests (Check), strongSwan $v"
	make -C "$obj" check > "$SW_BUILD/sw-$v/log/make-check.log" 2>&1
	grep -v '^$' "$obj/tests/unit/test_runner.log" 2>/dev/null
	summary=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
		"$obj/tests/unit/test_runner.log" 2>/dev/null)
	if [ -z "$summary" ]; then
		tail -n 30 "$SW_BUILD/sw-$v/log/make-check.log"
		count "$v" 0 1
	else
		set -- $(echo "$summary" | tr -dc '0-9 ')
		count "$v" $(($1 - $2 - $3)) $(($2 + $3))
	fi
done

# run_suite VERSION NAME TIMEOUT COMMAND...: run a suite against strongSwan
# VERSION, add up its closing line
run_suite()
{
	local v=$1 name=$2 limit=$3 out line start=$SECONDS
	shift 3
	local env_v=$v
	# not one of our builds (the distributions' own strongSwan)
	case " $SW_VERSIONS " in *" $v "*) ;; *) env_v=$SW_VERSION ;; esac
	echo "== $name (strongSwan $v)"
	out=$(mktemp)
	STRONGSWAN_VERSION=$env_v timeout "$limit" "$@" 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no result line"
		count "$v" 0 1
	else
		set -- $(echo "$line" | tr -dc '0-9 ')
		count "$v" "$1" "$2"
	fi
	rm -f "$out"
	echo "== $name (strongSwan $v): $((SECONDS - start))s"
}

# the same unit tests with ASan, LeakSanitizer and UBSan (Debian 12's
# version: the plugins' code is the same for all)
run_suite "$SW_VERSION" "unit tests with sanitizers" 900 tests/unit/sanitize.sh

# 6.1.0 (no integration suites): its charon loads the plugins only if their
# version symbol matches; the clearinghouse both ways and the rekey cases
run_suite 6.1.0 "tunnel-nat: load, translate, rekey (subset)" 600 \
	env ONLY='clearinghouse_reaches_app|app_reaches_clearinghouse|rekey' \
	bash tests/integration/test_tunnel_nat.sh
run_suite 6.1.0 "tunnel-route: load, fail-closed, dual identity (subset)" 600 \
	env ONLY='fail_closed|app_to_c|own_traffic' \
	bash tests/integration/test_tunnel_route.sh

# the distribution suite's packages (build-deb.sh in each clean root, about
# 3 min of CPU each) build in the background beside the lighter suites that
# follow (churn, valgrind: about 12% CPU); the suite below reuses them from
# its cache and builds any that failed here itself
wait "$roots_pid" ||
	echo "test-all: making the clean roots early failed (the suite tries again): $(tail -n 3 "$SW_BUILD/roots-early.log" | tr '\n' ' ')"
sed 's/^/  /' "$SW_BUILD/roots-early.log"
DISTRO_PACKAGES_ONLY=1 DISTRO_VM= tests/distro/run.sh \
	> "$SW_BUILD/packages-early.log" 2>&1 &
packages_pid=$!

# many CHILD_SAs (strongSwan's load-tester, fake_kernel): churn with a crash
# and restart, on each version (its events come in each version's order)
for v in $CHURN_VERSIONS; do
	run_suite "$v" "churn: 3 rounds of 200 CHILD_SAs, SIGKILL and restart" \
		1200 tests/load/test_churn.sh
done
d=$SW_VERSION
# the same under valgrind (smaller), the benchmark's smoke run
run_suite "$d" "churn under valgrind" 1200 \
	env CHURN_N=40 CHURN_ROUNDS=2 VALGRIND=1 tests/load/test_churn.sh
run_suite "$d" "benchmark smoke run, N=100 (correctness only)" 600 \
	tests/load/bench.sh --smoke 100
# settings at scale: both plugins load and reload 1,000 and 10,000
# mappings (1:1, all on one child, many-to-one with port forwards), each
# load + reload under a second (tests/load/settings_bench.sh)
run_suite "$d" "settings at scale, 1,000 and 10,000 mappings" 600 \
	env RUNS=1 tests/load/settings_bench.sh 1000 10000
# tunnel-nat's state: 1,000 and 10,000 CHILD_SAs up and down, /32, /24 and
# /16 elements, all accepted (tests/load/state_bench.sh; times reported)
run_suite "$d" "state at scale, 1,000 and 10,000 CHILD_SAs" 600 \
	env RUNS=1 tests/load/state_bench.sh 1000 10000
# self-healing at 20,000 tunnels (the restore failed above ~11,000 before
# the buffers were sized to each batch; make heal-scale runs 50,000)
run_suite "$d" "self-healing at 20,000 tunnels" 1200 \
	env HEAL_N=20000 tests/load/test_heal_scale.sh
# hostile settings: the regression cases, then a bounded fuzzing run
run_suite "$d" "settings fuzzer (libFuzzer, ${FUZZ_SECONDS:-60}s)" 900 \
	tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"

# the distributions' own charon (Debian 12: 5.9.8, Debian 13: 6.0.1) with
# our package, in clean roots: every integration suite but twice NAT on this
# kernel (kernel-libipsec); then Debian 12's charon runs the whole kernel
# XFRM suite (tests/vm/test_xfrm.sh: policy- and route-based, NAT
# traversal, the HA pair, twice NAT) in the VM, on Debian's kernel
wait "$packages_pid" ||
	echo "test-all: building the packages early failed (the suite tries again)"
sed 's/^/  /' "$SW_BUILD/packages-early.log"
run_suite "of Debian 12 and 13" "the stock charon with our package" \
	4800 env DISTRO_VM_FULL=1 tests/distro/run.sh

for v in $SW_VERSIONS "of Debian 12 and 13"; do
	echo "strongSwan $v: ${v_passed[$v]:-0} passed, ${v_failed[$v]:-0} failed"
done
echo "total: $passed passed, $failed failed"
[ "$passed" -gt 0 ] && [ "$failed" -eq 0 ]
