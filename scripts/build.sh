#!/bin/sh
# Install what is missing, build strongSwan (reused when already built), then
# build our plugins against that tree (out of tree, in build/sw-VERSION/
# plugins) and install them into its plugin directory.
#
#   scripts/build.sh                       every supported version
#   STRONGSWAN_VERSIONS=6.0.1 scripts/build.sh   only these
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
SW_TOP=$top . "$top/scripts/sw-env.sh"
versions=${STRONGSWAN_VERSIONS:-$SW_VERSIONS}

STRONGSWAN_VERSIONS=$versions "$top/scripts/install-deps.sh"

cd "$top"
if [ -f config.status ]; then
	# configured in the source tree (by hand, or by an older build.sh):
	# the per-version builds below need it clean
	echo "build: cleaning the in-tree configuration (make distclean)"
	make distclean > /dev/null 2>&1 || rm -f config.status
fi
mkdir -p "$SW_BUILD"
if [ ! -x configure ] || [ configure.ac -nt configure ] ||
   [ m4/strongswan.m4 -nt configure ]; then
	autoreconf -fi > "$SW_BUILD/autoreconf.log" 2>&1 || {
		cat "$SW_BUILD/autoreconf.log" >&2
		exit 1
	}
fi

for v in $versions; do
	STRONGSWAN_VERSION=$v "$top/scripts/build-strongswan.sh"
	SW_TOP=$top STRONGSWAN_VERSION=$v . "$top/scripts/sw-env.sh"
	mkdir -p "$SW_OBJ"
	cd "$SW_OBJ"
	if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ] ||
	   [ "$SW_DIR/.built" -nt Makefile ]; then
		"$top/configure" --with-strongswan-source="$SW_SRC" \
			> "$SW_DIR/log/plugins-configure.log" 2>&1 || {
			tail -n 30 "$SW_DIR/log/plugins-configure.log" >&2
			exit 1
		}
		make clean > /dev/null
	fi
	make -j"$(nproc)" > "$SW_DIR/log/plugins-make.log" 2>&1 || {
		grep -E "error|Error" "$SW_DIR/log/plugins-make.log" | head -n 40 >&2
		exit 1
	}
	make install > "$SW_DIR/log/plugins-install.log" 2>&1 || {
		tail -n 30 "$SW_DIR/log/plugins-install.log" >&2
		exit 1
	}
	echo "build: plugins for strongSwan $v installed into $(sed -n 's/^plugindir = //p' plugins/tunnel_nat/Makefile)"
	cd "$top"
done
