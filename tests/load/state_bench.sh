#!/bin/bash
# Benchmark: tunnel-nat's state (tests/load/state_bench.c), N CHILD_SAs up
# and down one at a time, per shape of element: exact (/32 partner address
# to P, the baseline of the same run), alias (a /24 alias block each) and
# wide (a /16 partner prefix each, all to the same P). Release build (-O2)
# against the default version's libstrongswan (scripts/sw-env.sh).
#
#   tests/load/state_bench.sh [N...]     (default: 1000 10000 30000)
#
# Environment: RUNS (default 5) repetitions, medians reported; BASE, a git
# revision whose tunnel_nat_state.c (with its index, if it has one) is
# built too and measured in the same run, for a before/after ratio.
# Prints a table and "N passed, N failed": a size and shape passes if every
# element was accepted.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SW_TOP=$TOP . "$TOP/scripts/sw-env.sh"
SIZES=${*:-1000 10000 30000}
RUNS=${RUNS:-5}
BASE=${BASE:-}
OUT=${OUT:-$TOP/build/bench}
SHAPES="exact alias wide"
mkdir -p "$OUT"
SS=$(sed -n 's/^STRONGSWAN_CPPFLAGS = //p' "$SW_OBJ/Makefile")

# build NAME DIR: the benchmark with the state sources in DIR
build()
{
	local srcs="$2/tunnel_nat_state.c"
	[ -f "$2/tunnel_nat_index.c" ] && srcs="$srcs $2/tunnel_nat_index.c"
	# shellcheck disable=SC2086
	cc -O2 $SS -I"$TOP/plugins/common" -I"$2" -I"$TOP/plugins/tunnel_nat" \
		"$TOP/tests/load/state_bench.c" $srcs \
		"$TOP/plugins/common/tunnel_util.c" \
		-L"$SW_PREFIX/lib/ipsec" -Wl,-rpath,"$SW_PREFIX/lib/ipsec" \
		-lstrongswan -o "$OUT/$1"
}
build state_bench "$TOP/plugins/tunnel_nat" || { echo "0 passed, 1 failed"; exit 1; }
if [ -n "$BASE" ]; then
	rm -rf "$OUT/base" && mkdir -p "$OUT/base"
	for f in tunnel_nat_state.c tunnel_nat_state.h tunnel_nat_index.c \
			 tunnel_nat_index.h; do
		git -C "$TOP" show "$BASE:plugins/tunnel_nat/$f" > "$OUT/base/$f" \
			2> /dev/null || rm -f "$OUT/base/$f"
	done
	build state_bench_base "$OUT/base" ||
		{ echo "base $BASE does not build"; echo "0 passed, 1 failed"; exit 1; }
fi

passed=0; failed=0
printf '%-7s %-6s %10s %10s %12s' N shape "up us" "down us" "up/exact"
[ -n "$BASE" ] && printf ' %12s %12s %10s' "base up us" "base down" "base/this"
echo
for n in $SIZES; do
	exact=""
	for shape in $SHAPES; do
		line=$("$OUT/state_bench" "$n" "$shape" "$RUNS")
		rc=$?
		read -r _ _ up down <<< "$line"
		[ "$shape" = exact ] && exact=$up
		printf '%-7s %-6s %10s %10s %12s' "$n" "$shape" "$up" "$down" \
			"$(awk "BEGIN { printf \"%.2f\", $up / $exact }")"
		if [ -n "$BASE" ]; then
			bline=$("$OUT/state_bench_base" "$n" "$shape" "$RUNS")
			rc=$((rc | $?))
			read -r _ _ bup bdown <<< "$bline"
			printf ' %12s %12s %10s' "$bup" "$bdown" \
				"$(awk "BEGIN { printf \"%.2f\", ($bup + $bdown) / ($up + $down) }")"
		fi
		echo
		if [ $rc -ne 0 ]; then
			echo "FAIL $n $shape: an element was refused"
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
		fi
	done
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
