#!/bin/bash
# Benchmark: the plugins' settings loaded with N mappings, at start and on a
# reload (tests/load/settings_bench.c), against libstrongswan's parse of the
# same settings text in the same run. Release build (-O2, no sanitizers)
# against the default version's libstrongswan (scripts/sw-env.sh).
#
#   tests/load/settings_bench.sh [N...]    (default: 1000 3000 10000 30000)
#
# Environment: RUNS (default 5) repetitions, medians reported; SHAPES
# (default "spread shared kinds partner": a mapping per child, all on one child,
# many-to-one with port forwards per child, partner-side per child with the
# same remote and an alias /24 each). Prints a table; "N passed, N failed" counts the
# sizes whose mappings were all accepted and whose load + reload took less
# than LIMIT_MS (default 1000) at N <= 10,000.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SW_TOP=$TOP . "$TOP/scripts/sw-env.sh"
SIZES=${*:-1000 3000 10000 30000}
RUNS=${RUNS:-5}
SHAPES=${SHAPES:-spread shared kinds partner}
LIMIT_MS=${LIMIT_MS:-1000}
OUT=${OUT:-$TOP/build/bench}
mkdir -p "$OUT"
BIN=$OUT/settings_bench
SS=$(sed -n 's/^STRONGSWAN_CPPFLAGS = //p' "$SW_OBJ/Makefile")
# shellcheck disable=SC2086
cc -O2 $SS -I"$TOP/plugins/common" -I"$TOP/plugins/tunnel_nat" \
	-I"$TOP/plugins/tunnel_route" "$TOP/tests/load/settings_bench.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_config.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_mapping.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_claims.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_partner.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_state.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_index.c" \
	"$TOP/plugins/tunnel_route/tunnel_route_config.c" \
	"$TOP/plugins/tunnel_route/tunnel_route_ranges.c" \
	"$TOP/plugins/common/tunnel_util.c" \
	-L"$SW_PREFIX/lib/ipsec" -Wl,-rpath,"$SW_PREFIX/lib/ipsec" -lstrongswan \
	-o "$BIN" || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
printf '%-7s %-7s %9s %9s %9s %9s %14s\n' N shape accepted "parse ms" \
	"load ms" "reload ms" "(load+reload)/parse"
for shape in $SHAPES; do
	for n in $SIZES; do
		line=$("$BIN" "$n" "$shape" "$RUNS")
		rc=$?
		read -r _ _ acc parse load reload <<< "$line"
		printf '%-7s %-7s %9s %9s %9s %9s %14s\n' "$n" "$shape" "$acc" \
			"$parse" "$load" "$reload" \
			"$(awk "BEGIN { printf \"%.2f\", ($load + $reload) / $parse }")"
		if [ $rc -ne 0 ]; then
			echo "FAIL $n $shape: $acc of $n mappings accepted"
			failed=$((failed + 1))
		elif [ "$n" -le 10000 ] &&
			 awk "BEGIN { exit !($load + $reload >= $LIMIT_MS) }"; then
			echo "FAIL $n $shape: load + reload ${load} + ${reload} ms >= $LIMIT_MS ms"
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
		fi
	done
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
