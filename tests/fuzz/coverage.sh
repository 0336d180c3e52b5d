#!/bin/bash
# Source coverage of the settings validators reached by the fuzz harness.
#
#   tests/fuzz/coverage.sh [DIR...]   (default: corpus and regressions)
#
# Builds the harness with clang's source-based coverage (no sanitizers),
# runs every input of the given directories once and prints the coverage
# of each function of the validators (tunnel_nat_config.c,
# tunnel_route_config.c, tunnel_util.c). Everything lands in
# build/fuzz/coverage; the HTML report is index.html there.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$TOP/build/fuzz/coverage
SW_TOP=$TOP . "$TOP/scripts/sw-env.sh"
SS=$(sed -n 's/^STRONGSWAN_CPPFLAGS = //p' "$SW_OBJ/Makefile")
PREFIX=$SW_PREFIX
if [ $# = 0 ]; then
	set -- "$TOP/tests/fuzz/corpus" "$TOP/tests/fuzz/regressions"
fi
SOURCES="$TOP/plugins/tunnel_nat/tunnel_nat_config.c
$TOP/plugins/tunnel_route/tunnel_route_config.c
$TOP/plugins/common/tunnel_util.c"
rm -rf "$OUT"
mkdir -p "$OUT"

clang -g -O0 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
	$SS -I"$TOP/plugins/common" -I"$TOP/plugins/tunnel_nat" -I"$TOP/plugins/tunnel_route" \
	"$TOP/tests/fuzz/fuzz_settings.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_config.c" \
	"$TOP/plugins/tunnel_nat/tunnel_nat_state.c" \
	"$TOP/plugins/tunnel_route/tunnel_route_config.c" \
	"$TOP/plugins/common/tunnel_util.c" \
	-L"$PREFIX/lib/ipsec" -Wl,-rpath,"$PREFIX/lib/ipsec" -lstrongswan \
	-o "$OUT/fuzz_settings"

# -runs=0 with directories: each input once, nothing mutated
LLVM_PROFILE_FILE="$OUT/fuzz.profraw" "$OUT/fuzz_settings" -runs=0 "$@" \
	> "$OUT/run.log" 2>&1
llvm-profdata merge -sparse "$OUT/fuzz.profraw" -o "$OUT/fuzz.profdata"
llvm-cov report -show-functions -instr-profile="$OUT/fuzz.profdata" \
	"$OUT/fuzz_settings" $SOURCES
llvm-cov show -format=html -output-dir="$OUT" \
	-instr-profile="$OUT/fuzz.profdata" "$OUT/fuzz_settings" $SOURCES
