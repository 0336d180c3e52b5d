#!/bin/sh
# Build a Debian package of the tunnel-nat and tunnel-route plugins for the
# distribution's strongSwan installed on this machine (Debian 12 or 13), e.g.
# on the gateway itself. Run as root in a clone of this repository:
#
#   ./scripts/build-deb.sh            then: apt install ./build/deb/<file>.deb
#
# What it does (README, "On your gateway", explains why):
# 1. reads the installed strongSwan version (strongswan-libcharon);
# 2. fetches the distribution's source package of exactly that version with
#    apt-get source (trying the suites in turn; adds deb-src entries for this
#    release if there are none) and installs its build-deps;
# 3. configures it (configure only, nothing is compiled) with the configure
#    options of its own debian/rules, printed by make from debian/rules;
# 4. builds our package with dpkg-buildpackage against that tree; the build
#    stops if the tree does not match the installed charon
#    (debian/strongswan-abi-check), and the package depends on exactly the
#    installed strongSwan version;
# 5. runs lintian on the result when lintian is installed.
#
# Environment: SOURCE_REVISION_FALLBACK=1 (when the installed revision's
# source cannot be fetched, use another Debian revision of the same upstream
# version; the ABI check still compares it with the installed binaries),
# BUILDDIR (default build/ of this repository), NO_APT=1 (do not
# install anything: the build-deps must be there), LINTIAN=0 (skip lintian).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${BUILDDIR:-$top/build}/deb
export DEBIAN_FRONTEND=noninteractive

say() { echo "build-deb: $*"; }
die() { echo "build-deb: $*" >&2; exit 1; }
# step NAME: time the steps
t_step=$(date +%s)
step()
{
	now=$(date +%s)
	[ -z "${step_name:-}" ] || say "$step_name took $((now - t_step)) s"
	step_name=$1; t_step=$now
	[ -z "$1" ] || say "== $1"
}

sw_version=$(dpkg-query -W -f='${Version}' strongswan-libcharon 2>/dev/null) || true
[ -n "$sw_version" ] ||
	die "strongSwan is not installed: apt install strongswan-charon (or charon-systemd) first"
. /etc/os-release
codename=${VERSION_CODENAME:-}
say "building for the installed strongSwan $sw_version ($PRETTY_NAME)"
case $codename in
bookworm|trixie) ;;
*) say "warning: $codename is not a tested release (tested: Debian 12 bookworm, 13 trixie)" ;;
esac
if [ "${NO_APT:-0}" != 1 ] && [ "$(id -u)" -ne 0 ]; then
	die "run as root (apt-get source/build-dep), or set NO_APT=1 with the build-deps installed"
fi
mkdir -p "$out"

# --- 1. the distribution's source of exactly the installed version ----------
step "strongSwan source $sw_version"
swdir=$out/strongswan-$sw_version
have_deb_src()
{
	grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ ||
		grep -qs '^deb-src' /etc/apt/sources.list
}
# a source fetched earlier is reused if it is the installed revision's (or,
# with the fallback allowed, of the same upstream version)
if [ -f "$swdir/.unpacked" ]; then
	cached=$(cat "$swdir/.source-version" 2>/dev/null || true)
	if [ "$cached" != "$sw_version" ] && { [ "${SOURCE_REVISION_FALLBACK:-0}" != 1 ] ||
	   [ "${cached%-*}" != "${sw_version%-*}" ]; }; then
		rm -f "$swdir/.unpacked"
	fi
fi
if [ ! -f "$swdir/.unpacked" ]; then
	[ "${NO_APT:-0}" != 1 ] || die "no strongSwan source in $swdir and NO_APT=1"
	if ! have_deb_src; then
		say "no deb-src entries: adding /etc/apt/sources.list.d/strongswan-tunnel-plugins-src.sources for $codename"
		cat > /etc/apt/sources.list.d/strongswan-tunnel-plugins-src.sources <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	fi
	apt-get update -q > "$out/apt-update.log" 2>&1 || { tail -n 20 "$out/apt-update.log" >&2; exit 1; }
	rm -rf "$swdir.tmp"
	mkdir -p "$swdir.tmp"
	# the exact version first; if its files answer 404 from the suite apt
	# picks, each suite in turn, keeping what has the installed version
	got=""
	try_source()
	{
		rm -rf "$swdir.tmp"/*
		(cd "$swdir.tmp" && apt-get source -q "$1") >> "$out/apt-source.log" 2>&1 || return 1
		d=$(find "$swdir.tmp" -mindepth 1 -maxdepth 1 -type d -name 'strongswan-*' | head -n 1)
		[ -n "$d" ] && got=$(dpkg-parsechangelog -l "$d/debian/changelog" -S Version)
		[ "$got" = "$2" ] && say "fetched with apt-get source $1"
	}
	: > "$out/apt-source.log"
	for spec in "strongswan=$sw_version" "strongswan/$codename-security" \
		"strongswan/$codename-updates" "strongswan/$codename"; do
		try_source "$spec" "$sw_version" && break
		got=""
	done
	if [ -z "$got" ] && [ "${SOURCE_REVISION_FALLBACK:-0}" = 1 ]; then
		# the newest other Debian revision of the same upstream version
		up=${sw_version#*:}; up=${up%-*}
		for v in $(apt-cache showsrc strongswan | sed -n 's/^Version: //p' | sort -u |
			sort -r -V); do
			vu=${v#*:}; vu=${vu%-*}
			[ "$vu" = "$up" ] && [ "$v" != "$sw_version" ] || continue
			if try_source "strongswan=$v" "$v"; then
				say "WARNING: the source of $sw_version could not be fetched; using Debian's revision $v of the same upstream version (SOURCE_REVISION_FALLBACK=1); the ABI check compares it with the installed binaries"
				break
			fi
			got=""
		done
	fi
	[ -n "$got" ] || {
		tail -n 20 "$out/apt-source.log" >&2
		die "could not fetch the source of strongswan $sw_version (the installed version) with apt-get source. A mirror that lacks that revision's .dsc: try another mirror, or set SOURCE_REVISION_FALLBACK=1 to build from another Debian revision of the same upstream version (checked against the installed binaries)"
	}
	echo "$got" > "$swdir.tmp/.source-version"
	rm -rf "$swdir"
	mv "$swdir.tmp" "$swdir"
	touch "$swdir/.unpacked"
fi
tree=$(find "$swdir" -mindepth 1 -maxdepth 1 -type d -name 'strongswan-*' | head -n 1)

# --- 2. our source tree, versioned for this strongSwan ----------------------
step "package source"
upstream=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
# 0.1.0+sw5.9.8.5+deb12u6: native version, so '-' (and an epoch's ':') become '.'
pkgver=$upstream+sw$(echo "$sw_version" | tr ':-' '..')
pkgdir=$out/strongswan-tunnel-plugins-$pkgver
rm -rf "$pkgdir"
mkdir -p "$pkgdir"
if git -C "$top" rev-parse --git-dir > /dev/null 2>&1; then
	(cd "$top" && git ls-files -z -c -o --exclude-standard | tar --null -T - -cf -) |
		tar -C "$pkgdir" -xf -
else
	# no git: leave out what a build in the tree made (.gitignore's list)
	(cd "$top" && tar --exclude=./build --exclude-vcs --exclude-vcs-ignores \
		--exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude=.libs \
		--exclude=.deps -cf - .) | tar -C "$pkgdir" -xf -
fi
{
	cat <<EOC
strongswan-tunnel-plugins ($pkgver) $codename; urgency=medium

  * Built by scripts/build-deb.sh for strongSwan $sw_version.

 -- The tunnel-nat authors <tunnel-nat@example.org>  $(date -R)

EOC
	cat "$top/debian/changelog"
} > "$pkgdir/debian/changelog"

# --- 3. build-deps: strongswan's (to configure it like Debian) and ours ------
step "build-deps"
if [ "${NO_APT:-0}" != 1 ]; then
	dpkg-query -W -f='${Package}\n' | sort > "$out/packages-before"
	apt-get build-dep -y -q "$tree" > "$out/build-dep.log" 2>&1 &&
		apt-get build-dep -y -q "$pkgdir" >> "$out/build-dep.log" 2>&1 ||
		{ tail -n 20 "$out/build-dep.log" >&2; die "apt-get build-dep failed"; }
	# what this run installed, to remove once the package is built
	dpkg-query -W -f='${Package}\n' | sort | comm -13 "$out/packages-before" - \
		>> "$out/build-deps-installed"
	sort -u -o "$out/build-deps-installed" "$out/build-deps-installed"
	grep -E "newly installed|^Need to get" "$out/build-dep.log" | sed 's/^/  /'
fi

# --- 4. configure strongSwan with debian/rules' own options -----------------
step "configure strongSwan $sw_version as debian/rules does"
args=$("$top/scripts/debian-configure-args.sh" "$tree") ||
	die "no configure options from $tree/debian/rules"
stamp=$swdir/.configured
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$args" ] && [ -f "$tree/config.h" ]; then
	say "reusing the configured tree $tree"
else
	rm -f "$stamp"
	# what dh runs up to its configure step, with debian/rules' arguments
	(cd "$tree" && dh_update_autotools_config && dh_autoreconf &&
		dh_auto_configure -- $args) > "$out/strongswan-configure.log" 2>&1 ||
		{ tail -n 30 "$out/strongswan-configure.log" >&2; die "configuring strongSwan failed"; }
	printf '%s\n' "$args" > "$stamp"
fi
say "configure options from debian/rules: $args"
printf '%s\n' "$args" > "$pkgdir/debian/strongswan-configureargs"

# --- 5. the package ---------------------------------------------------------
step "dpkg-buildpackage"
src_version=$(cat "$swdir/.source-version")
[ "$src_version" = "$sw_version" ] || say "WARNING: building from the source of $src_version for the installed $sw_version"
(cd "$pkgdir" && SW_SRC=$tree SW_SOURCE_FALLBACK=${SOURCE_REVISION_FALLBACK:-0} dpkg-buildpackage -us -uc -b) > "$out/dpkg-buildpackage.log" 2>&1 || {
	grep -E "MISMATCH|strongswan-abi-check:|error:" "$out/dpkg-buildpackage.log" | tail -n 30 >&2
	die "dpkg-buildpackage failed ($out/dpkg-buildpackage.log)"
}
grep -E '^(ok|MISMATCH|strongswan-abi-check):' "$out/dpkg-buildpackage.log" | sed 's/^/  /'
deb=$out/libcharon-tunnel-plugins_${pkgver}_$(dpkg --print-architecture).deb
changes=$out/strongswan-tunnel-plugins_${pkgver}_$(dpkg --print-architecture).changes
[ -f "$deb" ] || die "no $deb"

if [ "${LINTIAN:-1}" != 0 ] && command -v lintian > /dev/null; then
	step "lintian"
	lintian --fail-on error "$changes" > "$out/lintian.log" 2>&1 ||
		{ cat "$out/lintian.log" >&2; die "lintian found errors"; }
	sed 's/^/  /' "$out/lintian.log"
fi
step ""
say "built $deb"
dpkg-deb -f "$deb" Package Version Depends | sed 's/^/  /'
say "install it with: apt install $deb"
if [ -s "$out/build-deps-installed" ]; then
	say "the build-deps it installed ($(wc -l < "$out/build-deps-installed") packages) are listed in $out/build-deps-installed; to remove them: apt-get purge \$(cat $out/build-deps-installed)"
fi
