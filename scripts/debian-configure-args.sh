#!/bin/sh
# Print the configure options Debian's build of strongSwan uses: the
# CONFIGUREARGS of the source package's own debian/rules, evaluated by make
# under dpkg-architecture's variables (as dpkg-buildpackage would), so no
# list is copied by hand.
#
#   scripts/debian-configure-args.sh TREE     (an unpacked source package)
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

tree=${1:?usage: $0 TREE}
[ -f "$tree/debian/rules" ] || {
	echo "debian-configure-args: $tree/debian/rules not found" >&2
	exit 1
}
printmk=$(mktemp)
trap 'rm -f "$printmk"' EXIT
printf 'print-configureargs:\n\t@echo $(CONFIGUREARGS)\n' > "$printmk"
args=$(cd "$tree" && dpkg-architecture -c make -s --no-print-directory \
	-f debian/rules -f "$printmk" print-configureargs)
[ -n "$args" ] || {
	echo "debian-configure-args: $tree/debian/rules defines no CONFIGUREARGS" >&2
	exit 1
}
echo "$args"
