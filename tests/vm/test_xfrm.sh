#!/bin/bash
# The kernel XFRM scenarios, run inside the VM (see vm-run.sh): kernel-netlink,
# real ESP, both plugins, P not a local address.
#
#   1. policy-based: the tunnel-nat suite (incl. the wire check) and the
#      tunnel-route suite
#   2. route-based with XFRM interfaces (if_id_in/if_id_out): the
#      tunnel-route suite; with VTIs (mark_in/mark_out): its core
#   3. NAT traversal: the gateway behind a masquerading NAT router
#   4. the HA pair (tests/integration/test_ha.sh): two gateway nodes with
#      the ha plugin, keepalived and conntrackd
#   5. twice NAT (tests/integration/test_twice_nat.sh): partner-side
#      mappings, three partners with the same network, %unique marks
#
# Closes with one "N passed, N failed" line over all of them.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
passed=0
failed=0
times=""

grep -q '^CONFIG_INET_ESP=[ym]' "/boot/config-$(uname -r)" 2>/dev/null ||
	modprobe esp4 2>/dev/null || {
	echo "test_xfrm: this kernel has no ESP: run it in the VM (tests/vm/vm-run.sh)"
	echo "0 passed, 1 failed"
	exit 1
}

scenario()
{
	local name=$1 start=$SECONDS out line
	shift
	echo "== $name"
	out=$(mktemp)
	env BACKEND=xfrm "$@" 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "$name: no result line"
		failed=$((failed + 1))
	else
		set -- $(echo "$line" | tr -dc '0-9 ')
		passed=$((passed + $1))
		failed=$((failed + $2))
	fi
	times="$times  $name: $((SECONDS - start))s\n"
}

scenario "policy-based: tunnel-nat" bash tests/integration/test_tunnel_nat.sh
scenario "policy-based: tunnel-route" bash tests/integration/test_tunnel_route.sh
scenario "route-based (XFRM interfaces): tunnel-route" \
	env LAB_XFRMI=1 bash tests/integration/test_tunnel_route.sh
# VTIs: what depends on the interface the routes take (found by the
# CHILD_SA's mark_out, on every up: rekeys and reauthentication included),
# and a mark_out no VTI has
scenario "route-based (VTIs): tunnel-route" \
	env LAB_VTI=1 ONLY='^test_(fail_closed_before_first_up|constant_rules|app_to_c_through_tunnel|gateway_own_traffic_internet|clearinghouse_reaches_app|wire_only_esp|rekey_keeps_route|reauth_keeps_route|fail_closed_on_terminate|mark_without_vti)$' \
	bash tests/integration/test_tunnel_route.sh
scenario "NAT traversal" bash tests/integration/test_nat_traversal.sh
# the HA pair (ha plugin, keepalived, conntrackd) with kernel SAs
scenario "HA pair: takeover, failback, restarts" bash tests/integration/test_ha.sh
scenario "twice NAT: partners with the same network" \
	bash tests/integration/test_twice_nat.sh

printf "time per scenario (kernel %s):\n$times" "$(uname -r)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
