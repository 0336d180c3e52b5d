#!/bin/bash
# Fuzz the plugins' settings parsing with libFuzzer (clang, ASan, UBSan).
#
#   tests/fuzz/run.sh [SECONDS]      (default 60; FUZZ_SECONDS too)
#
# Replays every regression case (inputs that once crashed or hung), then
# fuzzes for a bounded time from the corpus. Crashes land in
# build/fuzz/crashes; turn each into a regression case after fixing it.
# Prints "N passed, N failed".
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-${FUZZ_SECONDS:-60}}
OUT=$TOP/build/fuzz
SW_TOP=$TOP . "$TOP/scripts/sw-env.sh"
SS=$(sed -n 's/^STRONGSWAN_CPPFLAGS = //p' "$SW_OBJ/Makefile")
PREFIX=$SW_PREFIX
mkdir -p "$OUT/crashes" "$OUT/corpus"
passed=0; failed=0

if ! command -v clang > /dev/null; then
	echo "fuzz: clang is missing"
	echo "0 passed, 1 failed"
	exit 1
fi
# the harness and the code under test with sanitizers; libstrongswan as built
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$SS -I"$TOP/plugins/common" -I"$TOP/plugins/tunnel_nat" -I"$TOP/plugins/tunnel_route" \
	"$TOP/tests/fuzz/fuzz_settings.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_config.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_state.c" \
	"$TOP/plugins/tunnel_route/tunnel_route_config.c" \
	"$TOP/plugins/common/tunnel_util.c" \
	-L"$PREFIX/lib/ipsec" -Wl,-rpath,"$PREFIX/lib/ipsec" -lstrongswan \
	-o "$OUT/fuzz_settings" 2> "$OUT/build.log" ||
	{ cat "$OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1

n=0
for f in "$TOP"/tests/fuzz/regressions/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if "$OUT/fuzz_settings" "$f" > "$OUT/regression.log" 2>&1; then
		passed=$((passed + 1))
	else
		echo "FAIL regression case $(basename "$f")"
		tail -n 30 "$OUT/regression.log"
		failed=$((failed + 1))
	fi
done
echo "regression cases: $n replayed"

cp -n "$TOP"/tests/fuzz/corpus/* "$OUT/corpus/" 2>/dev/null
"$OUT/fuzz_settings" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	-max_len=4096 -artifact_prefix="$OUT/crashes/" -print_final_stats=1 \
	"$OUT/corpus" > "$OUT/fuzz.log" 2>&1
rc=$?
grep -E "^stat::number_of_executed_units|^stat::peak_rss|Done [0-9]+ runs" "$OUT/fuzz.log"
if [ $rc = 0 ]; then
	echo "ok   fuzzed for ${SECS}s: $(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz.log") executions, corpus $(ls "$OUT/corpus" | wc -l) inputs"
	passed=$((passed + 1))
else
	echo "FAIL fuzzing found a crash: $(ls -t "$OUT/crashes" | head -1)"
	grep -A25 "ERROR: \|runtime error" "$OUT/fuzz.log" | head -40
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
