# Sourced by run.sh and coverage.sh (which set TOP): strongSwan's flags and
# library (the default version's trees, scripts/sw-env.sh) and the build of
# the harness with the code under test.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

SW_TOP=$TOP . "$TOP/scripts/sw-env.sh"
SS=$(sed -n 's/^STRONGSWAN_CPPFLAGS = //p' "$SW_OBJ/Makefile")
PREFIX=$SW_PREFIX
# the validators, and what they use
HARNESS_SOURCES="$TOP/plugins/tunnel_nat/tunnel_nat_config.c
$TOP/plugins/tunnel_nat/tunnel_nat_mapping.c
$TOP/plugins/tunnel_nat/tunnel_nat_claims.c
$TOP/plugins/tunnel_nat/tunnel_nat_partner.c
$TOP/plugins/tunnel_nat/tunnel_nat_state.c
$TOP/plugins/tunnel_nat/tunnel_nat_index.c
$TOP/plugins/tunnel_route/tunnel_route_config.c
$TOP/plugins/common/tunnel_util.c"

# harness_build OUTPUT CFLAGS...: the harness and HARNESS_SOURCES, built
# with CFLAGS, linked against libstrongswan as built
harness_build()
{
	local out=$1
	shift
	# shellcheck disable=SC2086
	clang "$@" $SS -I"$TOP/plugins/common" -I"$TOP/plugins/tunnel_nat" \
		-I"$TOP/plugins/tunnel_route" "$TOP/tests/fuzz/fuzz_settings.c" \
		$HARNESS_SOURCES \
		-L"$PREFIX/lib/ipsec" -Wl,-rpath,"$PREFIX/lib/ipsec" -lstrongswan \
		-o "$out"
}
