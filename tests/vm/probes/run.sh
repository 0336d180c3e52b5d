#!/bin/bash
# Host side of the twice NAT probes (issue 14, commit 0): boot the VM and run
# twice_nat.sh in it (through tests/vm/run.sh: a VM that cannot boot is a
# failure, never a pass).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
VM_TIMEOUT=${VM_TIMEOUT:-900} exec "$here/../run.sh" tests/vm/probes/twice_nat.sh "twice NAT probes"
