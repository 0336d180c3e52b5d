#!/bin/bash
# Source coverage of the settings validators reached by the fuzz harness.
#
#   tests/fuzz/coverage.sh [DIR...]   (default: corpus and regressions)
#
# Builds the harness with clang's source-based coverage (no sanitizers),
# runs every input of the given directories once and prints the coverage
# of each function of the validators (tunnel_nat_config.c,
# tunnel_nat_mapping.c, tunnel_route_config.c, tunnel_util.c). Everything
# lands in build/fuzz/coverage; the HTML report is index.html there.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$TOP/build/fuzz/coverage
source "$TOP/tests/fuzz/harness.sh"
if [ $# = 0 ]; then
	set -- "$TOP/tests/fuzz/corpus" "$TOP/tests/fuzz/regressions"
fi
# the validators' files (not the state and its index, which they only use)
SOURCES=$(echo "$HARNESS_SOURCES" | grep -v -e tunnel_nat_state.c -e tunnel_nat_index.c)
rm -rf "$OUT"
mkdir -p "$OUT"

harness_build "$OUT/fuzz_settings" -g -O0 -fsanitize=fuzzer \
	-fprofile-instr-generate -fcoverage-mapping

# -runs=0 with directories: each input once, nothing mutated
LLVM_PROFILE_FILE="$OUT/fuzz.profraw" "$OUT/fuzz_settings" -runs=0 "$@" \
	> "$OUT/run.log" 2>&1
llvm-profdata merge -sparse "$OUT/fuzz.profraw" -o "$OUT/fuzz.profdata"
llvm-cov report -show-functions -instr-profile="$OUT/fuzz.profdata" \
	"$OUT/fuzz_settings" $SOURCES
llvm-cov show -format=html -output-dir="$OUT" \
	-instr-profile="$OUT/fuzz.profdata" "$OUT/fuzz_settings" $SOURCES
