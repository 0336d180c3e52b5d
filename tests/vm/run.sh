#!/bin/bash
# Host side of the kernel XFRM suite: boot the VM and run test_xfrm.sh in it.
# A VM that cannot boot is a failure, said plainly, never a pass.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
"$here/vm-run.sh" --timeout "${VM_TIMEOUT:-2400}" -- bash tests/vm/test_xfrm.sh 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out"; then
	echo "kernel XFRM suite: the VM did not run the tests (exit $rc): counted as failed"
	echo "0 passed, 1 failed"
	rc=1
fi
rm -f "$out"
exit "$rc"
