#!/bin/sh
# Install the Debian packages this project needs to build and test, and fetch
# the strongSwan sources (Debian's source packages, with apt-get source) into
# build/sw-VERSION/, for every supported version or those named in
# STRONGSWAN_VERSIONS.
#
# Idempotent: packages already present are not reinstalled, a source already
# unpacked is not fetched again.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
SW_TOP=$top . "$top/scripts/sw-env.sh"

PACKAGES="build-essential autoconf automake libtool pkg-config bzip2 xz-utils
dpkg-dev ca-certificates libnftnl-dev libmnl-dev libnetfilter-conntrack-dev check
libssl-dev libgmp-dev nftables iproute2 iputils-ping tcpdump socat procps psmisc
kmod jq util-linux valgrind clang libclang-rt-14-dev"
# the HA pair's lab (tests/integration/test_ha.sh): VRRP and the connection
# table's sync, Debian's own packages (no service of theirs is started)
PACKAGES="$PACKAGES keepalived conntrackd conntrack"
# the distribution suite's clean roots (tests/distro/lib-root.sh)
PACKAGES="$PACKAGES debootstrap"

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

# have_src SUITE: apt has a deb-src entry for SUITE
have_src()
{
	apt-get indextargets --format '$(CREATED_BY) $(RELEASE)' 2>/dev/null |
		grep -qx "Sources $1"
}

# deb-src entries for the suites of every supported version (source only:
# the machine's binary packages are not affected); our file holds those that
# no other entry provides
src=/etc/apt/sources.list.d/tunnel-plugins-deb-src.sources
old=$(cat "$src" 2>/dev/null || true)
rm -f "$src"
main="" security=""
for suite in bookworm bookworm-updates bookworm-security trixie \
		trixie-updates trixie-security sid; do
	have_src "$suite" && continue
	case $suite in
		*-security) security="$security $suite" ;;
		*) main="$main $suite" ;;
	esac
done
if [ -n "$main$security" ]; then
	{
		[ -z "$main" ] || printf '%s\n' "Types: deb-src" \
			"URIs: http://deb.debian.org/debian" "Suites:$main" \
			"Components: main" \
			"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" ""
		[ -z "$security" ] || printf '%s\n' "Types: deb-src" \
			"URIs: http://deb.debian.org/debian-security" "Suites:$security" \
			"Components: main" \
			"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	} > "$src"
fi
if [ "$(cat "$src" 2>/dev/null || true)" != "$old" ]; then
	echo "install-deps: deb-src entries added for:$main$security"
	apt_updated=no
fi

# fetch VERSION: Debian's source package of strongSwan VERSION, unpacked
# with its patches into build/sw-VERSION/strongswan-VERSION
fetch()
{
	local v=$1 dir=$SW_BUILD/sw-$1 tmp suite got
	[ -f "$dir/source.txt" ] && [ -d "$dir/strongswan-$v/debian" ] && return 0
	apt_update
	mkdir -p "$dir"
	for suite in $(sw_suites "$v"); do
		tmp=$(mktemp -d "$dir/fetch.XXXXXX")
		# as the _apt user if it can write there, else as root (warned)
		chmod 755 "$tmp"
		if (cd "$tmp" && apt-get source -q "strongswan/$suite") \
				> "$tmp.log" 2>&1 &&
		   [ -d "$tmp/strongswan-$v/debian" ]; then
			got=$(cd "$tmp" && ls strongswan_*.dsc)
			rm -rf "$dir/strongswan-$v"
			mv "$tmp/strongswan-$v" "$dir/"
			echo "${got%.dsc} from $suite" > "$dir/source.txt"
			rm -rf "$tmp" "$tmp.log"
			echo "install-deps: strongSwan $v: $(cat "$dir/source.txt")"
			return 0
		fi
		echo "install-deps: strongSwan $v not fetched from $suite:" \
			"$(grep -E '^(E|Err):' "$tmp.log" | head -n 2 | tr '\n' ' ')"
		rm -rf "$tmp" "$tmp.log"
	done
	echo "install-deps: could not fetch strongSwan $v with apt-get source" \
		"(suites: $(sw_suites "$v"))" >&2
	return 1
}

mkdir -p "$SW_BUILD"
for v in ${STRONGSWAN_VERSIONS:-$SW_VERSIONS}; do
	fetch "$v"
done
echo "install-deps: ok"
