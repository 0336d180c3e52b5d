#!/bin/sh
# Install the Debian packages this project needs to build and test, and fetch
# the strongSwan source (Debian's source package) into build/.
#
# Idempotent: packages already present are not reinstalled, a source tarball
# already downloaded is not fetched again.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$top/build}
sw_version=${STRONGSWAN_VERSION:-5.9.8}

PACKAGES="build-essential autoconf automake libtool pkg-config bzip2 ca-certificates
libnftnl-dev libmnl-dev libnetfilter-conntrack-dev check libssl-dev libgmp-dev
nftables iproute2 iputils-ping tcpdump socat procps psmisc kmod jq util-linux valgrind
clang libclang-rt-14-dev"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ "$(id -u)" -ne 0 ] && [ -n "$missing" ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi

apt_updated=no
apt_update()
{
	if [ "$apt_updated" = no ]; then
		apt-get update -q
		apt_updated=yes
	fi
}

if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# strongSwan's source, from Debian's source package
mkdir -p "$builddir"
tarball="$builddir/strongswan_${sw_version}.orig.tar.bz2"
if [ ! -s "$tarball" ]; then
	if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
	   ! grep -qs '^deb-src' /etc/apt/sources.list; then
		echo "install-deps: adding deb-src entries for Debian 12"
		src=/etc/apt/sources.list.d/tunnel-nat-deb-src.sources
		cat > "$src" <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
		apt_updated=no
	fi
	apt_update
	# The newest security revision's .dsc has been seen to 404 while the orig
	# tarball still arrives: tolerate that, the tarball is what we need.
	(cd "$builddir" && apt-get source --download-only -q "strongswan" ) || true
	if [ ! -s "$tarball" ]; then
		(cd "$builddir" && apt-get source --download-only -q \
			"strongswan=${sw_version}-5+deb12u5") || true
	fi
	if [ ! -s "$tarball" ]; then
		echo "install-deps: could not fetch $tarball with apt-get source" >&2
		exit 1
	fi
fi
echo "install-deps: ok"
