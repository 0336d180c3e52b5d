#!/bin/bash
# Host side of the twice NAT probes (issue 14, commit 0): boot the VM and run
# twice_nat.sh in it. A VM that cannot boot is a failure, never a pass.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
"$here/../vm-run.sh" --timeout "${VM_TIMEOUT:-900}" -- bash tests/vm/probes/twice_nat.sh 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out"; then
	echo "twice NAT probes: the VM did not run them (exit $rc): counted as failed"
	echo "0 passed, 1 failed"
	rc=1
fi
rm -f "$out"
exit "$rc"
