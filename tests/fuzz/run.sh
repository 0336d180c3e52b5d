#!/bin/bash
# Fuzz the plugins' settings parsing with libFuzzer (clang, ASan, UBSan).
#
#   tests/fuzz/run.sh [SECONDS]      (default 60; FUZZ_SECONDS too)
#
# Replays every regression case (tests/fuzz/regressions: inputs for each
# error path of the validators, and any that once crashed or hung); a case
# fails if it crashes or if the harness's output lacks one of its
# "# expect: TEXT" lines. Then fuzzes for a bounded time from the seed
# corpus (tests/fuzz/corpus) and the regression cases, with the keys in
# tests/fuzz/settings.dict, and reports how far it got: corpus size before
# and after, libFuzzer's coverage (cov) and features (ft), and which
# validator functions the run reached. Missing or empty seeds or cases, or
# a validator not reached, count as failures: from nothing the fuzzer never
# gets past libstrongswan's (uninstrumented) settings parser.
#
# Crashes land in build/fuzz/crashes; turn each into a regression case after
# fixing it. Prints "N passed, N failed".
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-${FUZZ_SECONDS:-60}}
OUT=$TOP/build/fuzz
source "$TOP/tests/fuzz/harness.sh"
SEEDS=$TOP/tests/fuzz/corpus
CASES=$TOP/tests/fuzz/regressions
DICT=$TOP/tests/fuzz/settings.dict
# functions that must be reached (those the compiler inlined are not listed
# by libFuzzer and not checked)
VALIDATORS="tunnel_nat_config_load tunnel_nat_mapping_elems
	tunnel_route_config_load parse_u32 parse_mark load_nat_sources
	load_own_sources tunnel_parse_prefix tunnel_nft_name_valid"
mkdir -p "$OUT/crashes" "$OUT/corpus"
passed=0; failed=0

if ! command -v clang > /dev/null; then
	echo "fuzz: clang is missing"
	echo "0 passed, 1 failed"
	exit 1
fi
# the harness and the code under test with sanitizers; libstrongswan as built
harness_build "$OUT/fuzz_settings" -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined 2> "$OUT/build.log" ||
	{ cat "$OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1

# what the fuzzer starts from is part of the tree
for need in "$SEEDS" "$CASES" "$DICT"; do
	if [ -z "$(ls -A "$need" 2> /dev/null)" ] || [ ! -s "$need" ]; then
		echo "FAIL ${need#"$TOP"/} is missing or empty"
		failed=$((failed + 1))
	fi
done

n=0; bad=0
for f in "$CASES"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if ! FUZZ_VERBOSE=1 "$OUT/fuzz_settings" "$f" > "$OUT/regression.log" 2>&1; then
		echo "FAIL regression case $(basename "$f")"
		tail -n 30 "$OUT/regression.log"
		bad=$((bad + 1))
		continue
	fi
	# a message libstrongswan's parser quotes the input in does not count
	missing=$(sed -n 's/^# expect: //p' "$f" | while IFS= read -r want; do
		grep -v '^# expect: ' "$OUT/regression.log" | grep -qF -- "$want" ||
			echo "  expected: $want"
	done)
	if [ -n "$missing" ]; then
		echo "FAIL regression case $(basename "$f"): output differs"
		echo "$missing"
		grep -E '^(tunnel-|fuzz:)' "$OUT/regression.log" | sed 's/^/  got: /' |
			cut -c1-300
		bad=$((bad + 1))
	fi
done
passed=$((passed + n - bad))
failed=$((failed + bad))
echo "regression cases: $n replayed, $bad failed"

cp -n "$SEEDS"/* "$OUT/corpus/" 2> /dev/null
before=$(find "$OUT/corpus" -type f | wc -l)
cases=$(find "$CASES" -type f 2> /dev/null | wc -l)
# new inputs go to the first directory; the regression cases are seeds too
"$OUT/fuzz_settings" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	-max_len=4096 -artifact_prefix="$OUT/crashes/" -print_final_stats=1 \
	-print_coverage=1 $([ -s "$DICT" ] && echo "-dict=$DICT") \
	"$OUT/corpus" $([ -d "$CASES" ] && echo "$CASES") > "$OUT/fuzz.log" 2>&1
rc=$?
after=$(find "$OUT/corpus" -type f | wc -l)
grep -E "^stat::number_of_executed_units|^stat::peak_rss|Done [0-9]+ runs" "$OUT/fuzz.log"
# libFuzzer's stats lines: "#N INITED cov: C ft: F corp: N/SIZE ..."
stats()
{
	sed -n "s/^#[0-9]*[[:space:]]*$1 *\(cov: [0-9]* ft: [0-9]* corp: [^ ]*\).*/\1/p" \
		"$OUT/fuzz.log" | tail -n 1
}
echo "corpus: $before inputs + $cases regression cases before, $after inputs after"
echo "coverage at start: $(stats INITED)"
echo "coverage at end:   $(stats DONE)"
if [ $rc = 0 ]; then
	echo "ok   fuzzed for ${SECS}s: $(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz.log") executions, corpus $before -> $after inputs"
	passed=$((passed + 1))
else
	echo "FAIL fuzzing found a crash: $(ls -t "$OUT/crashes" | head -1)"
	grep -A25 "ERROR: \|runtime error" "$OUT/fuzz.log" | head -40
	failed=$((failed + 1))
fi

# did the run get past the settings parser into both plugins' validators?
if [ $rc = 0 ]; then
	reached=""; missed=""
	for fn in $VALIDATORS; do
		if grep -qE "^COVERED_FUNC: .* $fn [^ ]*$" "$OUT/fuzz.log"; then
			reached="$reached $fn"
		elif grep -qE "^UNCOVERED_FUNC: .* $fn [^ ]*$" "$OUT/fuzz.log"; then
			missed="$missed $fn"
		fi
	done
	if [ -z "$missed" ]; then
		echo "ok   validators reached:$reached"
		passed=$((passed + 1))
	else
		echo "FAIL validators never reached:$missed (reached:$reached)"
		failed=$((failed + 1))
	fi
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
