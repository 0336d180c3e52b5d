#!/bin/sh
# Configure and build strongSwan from Debian's source tarball into a prefix of
# our own (build/install), with the plugins the demo and the tests need.
# Our plugins are then built against exactly this configured tree.
#
# Re-runs reuse the built tree: nothing is rebuilt while the configure
# options and the tarball are unchanged.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$top/build}
sw_version=${STRONGSWAN_VERSION:-5.9.8}
tarball="$builddir/strongswan_${sw_version}.orig.tar.bz2"
srcdir="$builddir/strongswan-${sw_version}"
prefix="$builddir/install"

CONFIGURE_OPTS="--prefix=$prefix --sysconfdir=$prefix/etc
--disable-defaults --enable-charon --enable-swanctl --enable-vici
--enable-kernel-netlink --enable-kernel-libipsec --enable-libipsec
--enable-socket-default --enable-openssl --enable-nonce --enable-random
--enable-pem --enable-x509 --enable-pubkey --enable-pkcs1 --enable-sha1
--enable-sha2 --enable-hmac --enable-kdf --enable-aes --enable-updown
--enable-ikev2 --enable-load-tester --enable-gmp
--with-systemdsystemunitdir=no --with-capabilities=native"

stamp="$builddir/.strongswan-built"
want=$(printf '%s\n%s\n' "$CONFIGURE_OPTS" "$(cksum < "$tarball")")

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -x "$prefix/libexec/ipsec/charon" ]; then
	echo "build-strongswan: reusing $srcdir"
	exit 0
fi

if [ ! -f "$srcdir/configure" ]; then
	tar -C "$builddir" -xjf "$tarball"
fi
cd "$srcdir"
# shellcheck disable=SC2086
./configure $CONFIGURE_OPTS > "$builddir/strongswan-configure.log" 2>&1 || {
	tail -n 30 "$builddir/strongswan-configure.log" >&2
	exit 1
}
make -j"$(nproc)" > "$builddir/strongswan-make.log" 2>&1 || {
	tail -n 30 "$builddir/strongswan-make.log" >&2
	exit 1
}
make install > "$builddir/strongswan-install.log" 2>&1 || {
	tail -n 30 "$builddir/strongswan-install.log" >&2
	exit 1
}
printf '%s\n' "$want" > "$stamp"
echo "build-strongswan: built into $prefix"
