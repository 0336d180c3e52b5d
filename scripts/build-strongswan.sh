#!/bin/sh
# Configure and build strongSwan from Debian's source package (fetched by
# install-deps.sh into build/sw-VERSION/) into a prefix of our own
# (build/sw-VERSION/install), with the plugins the demo and the tests need.
# Our plugins are then built against exactly this configured tree.
#
#   STRONGSWAN_VERSION=6.0.1 scripts/build-strongswan.sh   (default 5.9.8)
#
# Re-runs reuse the built tree: nothing is rebuilt while the configure
# options and the source package are unchanged.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
SW_TOP=$top . "$top/scripts/sw-env.sh"

# The plugins the demo and the tests need (ha: the HA pair of
# tests/integration/test_ha.sh; Debian's debian/rules enables it too, and
# libcharon-extra-plugins ships it), and Debian's own choice (from
# the source package's debian/rules) of every option that changes the layout
# of the headers the plugins use: --enable-mediation (ME) inserts methods
# into ike_sa_t's vtable and fields into daemon_t. So the tests run against
# the ABI Debian's charon has (the package, scripts/build-deb.sh, takes all
# of Debian's options).
ABI_OPTS="--enable-mediation"
CONFIGURE_OPTS="--prefix=$SW_PREFIX --sysconfdir=$SW_PREFIX/etc
--disable-defaults --enable-charon --enable-swanctl --enable-vici
--enable-kernel-netlink --enable-kernel-libipsec --enable-libipsec
--enable-socket-default --enable-openssl --enable-nonce --enable-random
--enable-pem --enable-x509 --enable-pubkey --enable-pkcs1 --enable-sha1
--enable-sha2 --enable-hmac --enable-kdf --enable-aes --enable-updown
--enable-ikev2 --enable-load-tester --enable-gmp --enable-ha
--with-systemdsystemunitdir=no --with-capabilities=native"

log=$SW_DIR/log
stamp=$SW_DIR/.built
if [ ! -f "$SW_DIR/source.txt" ] || [ ! -d "$SW_SRC" ]; then
	echo "build-strongswan: no source of $SW_VERSION in $SW_DIR (run scripts/install-deps.sh)" >&2
	exit 1
fi
debian=$("$top/scripts/debian-configure-args.sh" "$SW_SRC")
for opt in $ABI_OPTS; do
	case " $debian " in
		*" $opt "*) CONFIGURE_OPTS="$CONFIGURE_OPTS $opt" ;;
	esac
done
want=$(printf '%s\n%s\n' "$CONFIGURE_OPTS" "$(cat "$SW_DIR/source.txt")")

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -x "$SW_PREFIX/libexec/ipsec/charon" ]; then
	echo "build-strongswan: reusing strongSwan $SW_VERSION ($(cat "$SW_DIR/source.txt"))"
	exit 0
fi

mkdir -p "$log"
rm -f "$stamp"
cd "$SW_SRC"
[ ! -f Makefile ] || make distclean > /dev/null 2>&1 || true
# shellcheck disable=SC2086
./configure $CONFIGURE_OPTS > "$log/configure.log" 2>&1 || {
	tail -n 30 "$log/configure.log" >&2
	exit 1
}
make -j"$(nproc)" > "$log/make.log" 2>&1 || {
	tail -n 30 "$log/make.log" >&2
	exit 1
}
rm -rf "$SW_PREFIX"
make install > "$log/install.log" 2>&1 || {
	tail -n 30 "$log/install.log" >&2
	exit 1
}
printf '%s\n' "$want" > "$stamp"
echo "build-strongswan: built strongSwan $SW_VERSION into $SW_PREFIX"
