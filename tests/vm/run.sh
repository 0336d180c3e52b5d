#!/bin/bash
# Host side of the kernel XFRM suite: boot the VM and run test_xfrm.sh in it.
# A VM that cannot boot is a failure, said plainly, never a pass.
#
#   tests/vm/run.sh [SCRIPT NAME]
#
# SCRIPT (default tests/vm/test_xfrm.sh) is run in the VM instead, NAME
# (default "kernel XFRM suite") names it when the VM does not run it; SCRIPT
# ends with "N passed, N failed" like the suite. VM_TIMEOUT (default 2400).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
script=${1:-tests/vm/test_xfrm.sh}
name=${2:-kernel XFRM suite}
out=$(mktemp)
"$here/vm-run.sh" --timeout "${VM_TIMEOUT:-2400}" -- bash "$script" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out"; then
	echo "$name: the VM did not run it (exit $rc): counted as failed"
	echo "0 passed, 1 failed"
	rc=1
fi
rm -f "$out"
exit "$rc"
