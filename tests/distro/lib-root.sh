#!/bin/bash
# Clean Debian roots for the distribution suite, made with debootstrap and
# cached under build/roots, keyed by everything that goes into them.
#
#   root_base SUITE     the clean root: minbase, the distribution's
#                       strongSwan (charon, swanctl, extra plugins), with the
#                       suite's security updates applied; prints its path
#   root_build SUITE    a copy of the base root with what building our
#                       package needs (Debian's build-deps of strongswan,
#                       ours, lintian); prints its path
#   in_root ROOT CMD... run CMD chrooted in ROOT, in a private mount
#                       namespace with /proc, /dev, /sys and a tmpfs on /run
#                       (the host's mounts are never touched); BIND="SRC:DST
#                       ..." adds bind mounts (DST inside the root)
#
# A root is made in DIR.tmp and renamed when complete, so an interrupted run
# leaves nothing that looks finished. Roots are re-made when a key input
# changes (suite, package list, mirrors, ROOT_FORMAT); ROOTS_MAX_AGE (days, default 7)
# bounds how stale the security updates of a cached root may get.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ROOTS=${ROOTS:-$TOP/build/roots}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# what a gateway with the distribution's strongSwan has
# (libstrongswan-standard-plugins: what apt installs with libstrongswan, as
# its Recommends)
ROOT_PACKAGES="strongswan-charon,strongswan-swanctl,libcharon-extra-plugins,libstrongswan-standard-plugins,nftables,iproute2"
# what building our package needs besides strongswan's own build-deps
# (debian/control's Build-Depends are installed by scripts/build-deb.sh)
BUILD_PACKAGES="lintian"

# bump when the way roots are made changes
ROOT_FORMAT=1

rlog() { printf 'roots: %s\n' "$*" >&2; }

root_key()
{
	echo "$ROOT_FORMAT $1 $2 $MIRROR $SECURITY_MIRROR" | sha256sum | cut -c1-12
}

# in_root ROOT CMD...
in_root()
{
	local root=$1; shift
	unshare -m --propagation private /bin/bash -c '
		set -e
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mount --rbind /sys "$root/sys"
		mount -t tmpfs -o mode=755 tmpfs "$root/run"
		for b in $BIND; do
			mkdir -p "$root/${b#*:}"
			mount --bind "${b%%:*}" "$root/${b#*:}"
		done
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' in_root "$root" "$@"
}

sources_of()
{
	local suite=$1
	cat <<EOS
Types: deb deb-src
URIs: $MIRROR
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: $SECURITY_MIRROR
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
}

# fresh DIR: a cached root exists and is young enough
fresh()
{
	[ -f "$1/.complete" ] &&
		[ -z "$(find "$1/.complete" -mtime +"${ROOTS_MAX_AGE:-7}")" ]
}

# need_debootstrap: install debootstrap if it is missing (run.sh calls it
# before it makes the roots of several releases at once: two apt-get at a
# time, the second fails on dpkg's lock)
need_debootstrap()
{
	command -v debootstrap > /dev/null && return 0
	mkdir -p "$ROOTS"
	rlog "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		debootstrap > "$ROOTS/apt-debootstrap.log" 2>&1 || {
		tail -n 5 "$ROOTS/apt-debootstrap.log" >&2
		return 1
	}
}

root_base()
{
	local suite=$1 dir t0=$SECONDS
	dir=$ROOTS/$suite-base-$(root_key "$suite" "$ROOT_PACKAGES")
	if fresh "$dir"; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$ROOTS"
	# roots of this release made from other inputs are stale
	rm -rf "$ROOTS/$suite"-base-* "$ROOTS/$suite"-build-*
	need_debootstrap || return 1
	rlog "debootstrap $suite into $dir"
	debootstrap --variant=minbase --include="$ROOT_PACKAGES" "$suite" "$dir.tmp" \
		"$MIRROR" > "$ROOTS/$suite-debootstrap.log" 2>&1 || {
		tail -n 20 "$ROOTS/$suite-debootstrap.log" >&2
		rlog "debootstrap $suite failed"
		return 1
	}
	rlog "debootstrap $suite: $((SECONDS - t0)) s"
	# the suite's updates and security updates, as on a maintained gateway
	rm -f "$dir.tmp/etc/apt/sources.list"
	sources_of "$suite" > "$dir.tmp/etc/apt/sources.list.d/debian.sources"
	# no daemons start in the root
	printf '#!/bin/sh\nexit 101\n' > "$dir.tmp/usr/sbin/policy-rc.d"
	chmod 755 "$dir.tmp/usr/sbin/policy-rc.d"
	in_root "$dir.tmp" sh -c 'apt-get update -q && apt-get -y -q dist-upgrade && apt-get clean' \
		> "$ROOTS/$suite-upgrade.log" 2>&1 || {
		tail -n 20 "$ROOTS/$suite-upgrade.log" >&2
		rlog "upgrading the $suite root failed"
		return 1
	}
	date -u > "$dir.tmp/.complete"
	mv "$dir.tmp" "$dir"
	rlog "root $suite ($(in_root "$dir" dpkg-query -W -f '${Version}' strongswan-libcharon)): $((SECONDS - t0)) s"
	echo "$dir"
}

root_build()
{
	local suite=$1 base dir t0=$SECONDS
	base=$(root_base "$suite") || return 1
	dir=$ROOTS/$suite-build-$(root_key "$suite" "$ROOT_PACKAGES $BUILD_PACKAGES")
	if fresh "$dir" && [ "$dir/.complete" -nt "$base/.complete" ]; then
		echo "$dir"
		return 0
	fi
	rm -rf "$ROOTS/$suite"-build-*
	cp -a "$base" "$dir.tmp"
	rm -f "$dir.tmp/.complete"
	in_root "$dir.tmp" sh -c "apt-get update -q &&
		apt-get -y -q --no-install-recommends install $BUILD_PACKAGES build-essential &&
		apt-get clean" > "$ROOTS/$suite-build.log" 2>&1 || {
		tail -n 20 "$ROOTS/$suite-build.log" >&2
		rlog "preparing the $suite build root failed"
		return 1
	}
	date -u > "$dir.tmp/.complete"
	mv "$dir.tmp" "$dir"
	rlog "build root $suite: $((SECONDS - t0)) s"
	echo "$dir"
}
