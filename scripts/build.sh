#!/bin/sh
# Install what is missing, build strongSwan (reused when already built), then
# build our plugins against that tree and install them into its plugin dir.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$top/build}
sw_version=${STRONGSWAN_VERSION:-5.9.8}

"$top/scripts/install-deps.sh"
"$top/scripts/build-strongswan.sh"

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ m4/strongswan.m4 -nt configure ]; then
	autoreconf -fi > "$builddir/autoreconf.log" 2>&1 || {
		cat "$builddir/autoreconf.log" >&2
		exit 1
	}
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ] ||
   [ "$builddir/.strongswan-built" -nt Makefile ]; then
	./configure --with-strongswan-source="$builddir/strongswan-$sw_version" \
		> "$builddir/configure.log" 2>&1 || {
		tail -n 30 "$builddir/configure.log" >&2
		exit 1
	}
	make clean > /dev/null
fi
make -j"$(nproc)" > "$builddir/make.log" 2>&1 || {
	grep -E "error|Error" "$builddir/make.log" | head -n 40 >&2
	exit 1
}
make install > "$builddir/make-install.log" 2>&1 || {
	tail -n 30 "$builddir/make-install.log" >&2
	exit 1
}
echo "build: plugins installed into $(sed -n 's/^plugindir = //p' plugins/tunnel_nat/Makefile)"
