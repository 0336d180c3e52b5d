#!/bin/bash
# The demo: installs what is missing, builds, and runs the clearinghouse
# scenario in network namespaces. Run as root on Debian 12.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it builds network namespaces)" >&2
	exit 1
fi
# the demo runs one version (STRONGSWAN_VERSION, default 5.9.8): build only it
STRONGSWAN_VERSIONS=${STRONGSWAN_VERSION:-5.9.8} "$top/scripts/build.sh"
exec bash "$top/tests/integration/demo.sh"
