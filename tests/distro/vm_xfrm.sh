#!/bin/bash
# Inside the VM (tests/vm/vm-run.sh, Debian's kernel with ESP): kernel XFRM
# scenarios with the charon and swanctl of the distribution root ROOT, where
# the package is installed. tests/distro/run.sh starts it; ends with
# "N passed, N failed".
#
#   tests/distro/vm_xfrm.sh ROOT [full]
#
# By default the core of the policy-based suites (under TCG the VM is slow:
# the full set, tests/vm/test_xfrm.sh's policy-based and route-based suites
# and NAT traversal, took 21 minutes here): the clearinghouse both ways, the
# wire check, rekey under traffic, terminate, SIGKILL and restart, live
# reload with tunnels up (tunnel-nat); fail-closed before the first up and
# on terminate, and the dual identity (tunnel-route). "full" runs all of
# test_xfrm.sh (test-all does: DISTRO_VM_FULL=1).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
root=${1:?usage: $0 ROOT [full]}
[ -x "$root/usr/lib/ipsec/charon" ] &&
	[ -f "$root/usr/lib/ipsec/plugins/libstrongswan-tunnel-nat.so" ] || {
	echo "vm_xfrm: no charon with the package in $root"
	echo "0 passed, 1 failed"
	exit 1
}
echo "kernel $(uname -r), the charon of $root: strongSwan $(chroot "$root" dpkg-query -W -f='${Version}' strongswan-charon), libcharon-tunnel-plugins $(chroot "$root" dpkg-query -W -f='${Version}' libcharon-tunnel-plugins)"
export DISTRO_ROOT=$root DISTRO_BINDS="/tmp $top"
export CHARON=$here/chroot-charon SWANCTL=$here/chroot-swanctl
if [ "${2:-}" = full ]; then
	bash "$top/tests/vm/test_xfrm.sh" 2>&1 | tee /tmp/vm_xfrm.log
	rc=${PIPESTATUS[0]}
	grep -aE '^[0-9]+ passed, [0-9]+ failed$' /tmp/vm_xfrm.log | tail -n 1 | sed 's/^/vm: /'
	exit "$rc"
fi

modprobe esp4 2>/dev/null || {
	echo "vm_xfrm: this kernel has no ESP"
	echo "0 passed, 1 failed"
	exit 1
}
passed=0
failed=0
# scenario ONLY-REGEX SUITE
scenario()
{
	local out line
	out=$(mktemp)
	env BACKEND=xfrm ONLY="$1" bash "$top/tests/integration/$2" 2>&1 | tee "$out"
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "$2: no result line"
		failed=$((failed + 1))
		return
	fi
	set -- $(echo "$line" | tr -dc '0-9 ')
	passed=$((passed + $1))
	failed=$((failed + $2))
}
scenario '^test_(clearinghouse_reaches_app|app_reaches_clearinghouse|wire_only_esp|rekey_keeps_translations|terminate_removes_translations|sigkill_restart_replaces_stale_table|reload_under_traffic)$' \
	test_tunnel_nat.sh
scenario '^test_(fail_closed_before_first_up|app_to_c_through_tunnel|gateway_own_traffic_internet|fail_closed_on_terminate)$' \
	test_tunnel_route.sh
echo "vm: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
