#!/bin/bash
# The distribution suite: for Debian 12 and 13, a clean root with the
# distribution's strongSwan (debootstrap, cached under build/roots), our
# package built in a copy of it with scripts/build-deb.sh (cached under
# build/distro, keyed by its inputs), installed with apt into an overlay of
# the clean root, then the integration scenarios run with that root's own
# charon and swanctl (tests/distro/chroot-charon) on kernel-libipsec, in
# network namespaces. Ends with "N passed, N failed".
#
#   tests/distro/run.sh [bookworm] [trixie]     (default: both)
#
# Environment: DISTRO_TESTS (the integration suites to run, default
# test_tunnel_nat.sh test_tunnel_route.sh test_ha.sh test_nat_traversal.sh:
# the HA pair with the root's own ha plugin, from libcharon-extra-plugins;
# test_twice_nat.sh needs kernel XFRM: the VM runs it), DISTRO_VM (the releases whose
# root also runs tests/vm/test_xfrm.sh's kernel XFRM scenarios in the VM,
# default bookworm; empty for none; DISTRO_VM_FULL=1 for all of them rather
# than the core, see vm_xfrm.sh), ROOTS (the roots' cache, default
# build/roots), DISTRO_BUILD (the packages' cache, default build/distro),
# ONLY (lib.sh's filter), DISTRO_PACKAGES_ONLY (1: build the packages into
# the cache and stop there),
# SOURCE_REVISION_FALLBACK (0, 1 or auto: build-deb.sh's setting, see
# README ("On your gateway"); auto, the default, builds from the installed revision's
# source and falls back to another revision of the same upstream version only
# when the mirror does not have it, and says so).
#
# Nothing here touches the host's root network namespace or its mounts: the
# overlay lives in this script's private mount namespace, the scenarios in
# the lab's namespaces; everything made is removed on every exit path.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$TOP/tests/distro

if [ "$(id -u)" -ne 0 ]; then
	echo "distro: run as root (debootstrap, chroot, network namespaces)"
	echo "0 passed, 1 failed"
	exit 1
fi
# a private mount namespace for the overlays: gone with this process
if [ -z "${DISTRO_PRIVATE_NS:-}" ]; then
	DISTRO_PRIVATE_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

source "$HERE/lib-root.sh"
SUITES=${*:-bookworm trixie}
TESTS=${DISTRO_TESTS:-test_tunnel_nat.sh test_tunnel_route.sh test_ha.sh test_nat_traversal.sh}
VM_SUITES=${DISTRO_VM-bookworm}
# where packages are built and kept (ROOTS, in lib-root.sh, for the roots):
# outside the clone, both survive a CI run in a fresh clone
DISTRO_BUILD=${DISTRO_BUILD:-$TOP/build/distro}
# what swanctl loads in the scenarios (the stock test keeps Debian's default)
SWANCTL_LOAD="random nonce openssl pem pkcs1 x509 pubkey"
passed=0
failed=0
SCRATCH=$(mktemp -d /var/tmp/tn-distro.XXXXXX)

cleanup()
{
	local m
	for m in $(awk '{ print $2 }' /proc/self/mounts | grep "^$SCRATCH/" | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { printf '%s\n' "$*"; }
ok() { passed=$((passed + 1)); say "ok   $*"; }
notok() { failed=$((failed + 1)); say "FAIL $*"; }
# timed NAME: the time of each step, in the log
T0=$SECONDS
timed() { say "   ($1: $((SECONDS - T0)) s)"; T0=$SECONDS; }

# package_key: the package's inputs (our sources) and the build root
package_key()
{
	local paths="configure.ac Makefile.am m4 plugins tests/Makefile.am tests/unit/Makefile.am
		debian scripts/build-deb.sh scripts/debian-configure-args.sh README COPYING
		swanctl.d"
	{
		if git -C "$TOP" rev-parse --git-dir > /dev/null 2>&1; then
			(cd "$TOP" && git ls-files -c -o --exclude-standard -- $paths |
				sort | xargs -d '\n' sha256sum)
		else
			(cd "$TOP" && find $paths -type f | sort | xargs -d '\n' sha256sum)
		fi
		cat "$1/.complete"
		echo "${SOURCE_REVISION_FALLBACK:-auto}"
	} | sha256sum | cut -c1-12
}

# build_package SUITE BUILDROOT: prints the .deb's path (reused when built
# from the same inputs)
build_package()
{
	local suite=$1 root=$2 key out cache deb
	key=$(package_key "$root")
	out=$DISTRO_BUILD/$suite
	cache=$out/pkg-$key
	deb=$(ls "$cache"/libcharon-tunnel-plugins_*.deb 2>/dev/null | head -n 1)
	if [ -n "$deb" ]; then
		say "   reusing $deb" >&2
		echo "$deb"
		return 0
	fi
	mkdir -p "$out"
	rm -f "$out"/deb/*.deb "$out"/deb/*.changes "$out"/deb/*.buildinfo
	# exactly the installed revision's source first; with "auto", another
	# revision of the same upstream version when the mirror lacks it
	fallback=${SOURCE_REVISION_FALLBACK:-auto}
	[ "$fallback" = auto ] && fallback=0
	while ! BIND="$TOP:/src $out:/out" in_root "$root" env BUILDDIR=/out \
		SOURCE_REVISION_FALLBACK="$fallback" \
		/src/scripts/build-deb.sh > "$out/build-deb.log" 2>&1; do
		if [ "${SOURCE_REVISION_FALLBACK:-auto}" = auto ] && [ "$fallback" = 0 ] &&
		   grep -q "could not fetch the source of strongswan" "$out/build-deb.log"; then
			say "   NOTE: the mirror has no source of the installed revision;" \
				"building from another revision of the same upstream version" >&2
			fallback=1
			continue
		fi
		grep -v "dpkg-source: info" "$out/build-deb.log" | tail -n 30 >&2
		return 1
	done
	grep -E "^build-deb: .*(took|WARNING)|^  (ok|MISMATCH|strongswan-abi-check|[EW]):" "$out/build-deb.log" >&2
	rm -rf "$out"/pkg-*
	mkdir -p "$cache"
	cp "$out"/deb/libcharon-tunnel-plugins_*.deb "$cache/"
	ls "$cache"/libcharon-tunnel-plugins_*.deb | head -n 1
}

# overlay BASE NAME: a writable copy of the clean root, for this run only
overlay()
{
	local d=$SCRATCH/$2
	mkdir -p "$d/upper" "$d/work" "$d/root"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$d/upper,workdir=$d/work" "$d/root" &&
		echo "$d/root"
}

# sum_suite LOG: add a suite's closing line to the totals
sum_suite()
{
	local line
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		notok "$2: no result line"
		return
	fi
	set -- $(echo "$line" | tr -dc '0-9 ')
	passed=$((passed + $1))
	failed=$((failed + $2))
}

# abi_negative SUITE BUILDROOT: the ABI check refuses trees that do not
# match the installed charon: copies of the tree's config.h, Makefile and
# debian/changelog as a tree configured without --enable-mediation, and as
# one of another strongSwan version, would have
abi_negative()
{
	local suite=$1 root=$2 tree fake out
	tree=$(ls -d "$DISTRO_BUILD/$suite"/deb/strongswan-*/strongswan-*/ 2>/dev/null | head -n 1)
	[ -n "$tree" ] || { notok "$suite: no configured tree for the ABI check's own test"; return; }
	fake=$SCRATCH/fake-$suite
	mkdir -p "$fake/debian"
	cp "$tree/Makefile" "$fake/"
	cp "$tree/debian/changelog" "$fake/debian/"
	sed '/^#define ME\b/d' "$tree/config.h" > "$fake/config.h"
	out=$(BIND="$TOP:/src $fake:/fake" in_root "$root" env SW_SOURCE_FALLBACK=1 \
		/src/debian/strongswan-abi-check --config /fake 2>&1)
	if [ $? -ne 0 ] && echo "$out" | grep -q "^MISMATCH: ME not defined in config.h, but mediation_manager_create is exported"; then
		ok "$suite: the ABI check refuses a tree configured without mediation (ME)"
	else
		notok "$suite: the ABI check accepted a tree without ME: $out"
	fi
	sed 's/^#define VERSION ".*"$/#define VERSION "9.9.9"/' "$tree/config.h" > "$fake/config.h"
	out=$(BIND="$TOP:/src $fake:/fake" in_root "$root" env SW_SOURCE_FALLBACK=1 \
		/src/debian/strongswan-abi-check --config /fake 2>&1)
	if [ $? -ne 0 ] && echo "$out" | grep -q "^MISMATCH: config.h VERSION '9.9.9'"; then
		ok "$suite: the ABI check refuses a tree of another strongSwan version"
	else
		notok "$suite: the ABI check accepted VERSION 9.9.9: $out"
	fi
}

# quiet: swanctl of a root without libstrongswan-extra-plugins names each
# plugin it cannot find, on every call
quiet() { grep -a --line-buffered -v "^ *plugin '[^']*': failed to load"; }

run_suite()
{
	local suite=$1 base build deb root sw v t
	say "== $suite"
	T0=$SECONDS
	base=$(root_base "$suite") || { notok "$suite: clean root"; return; }
	timed "clean root"
	build=$(root_build "$suite") || { notok "$suite: build root"; return; }
	timed "build root"
	sw=$(in_root "$base" dpkg-query -W -f='${Version}' strongswan-libcharon)
	say "   the root's strongSwan: $sw"

	if deb=$(build_package "$suite" "$build"); then
		ok "$suite: package built for $sw (${deb##*/})"
	else
		notok "$suite: package build"
		return
	fi
	timed "package"
	# DISTRO_PACKAGES_ONLY=1: the packages only, into the cache (test-all
	# builds them early, beside its light suites); nothing else runs
	[ -z "${DISTRO_PACKAGES_ONLY:-}" ] || return 0
	v=$(dpkg-deb -f "$deb" Depends)
	case $v in
	*"libstrongswan (= $sw)"*"strongswan-libcharon (= $sw)"*)
		ok "$suite: Depends pin strongSwan $sw exactly" ;;
	*) notok "$suite: Depends do not pin $sw: $v" ;;
	esac

	abi_negative "$suite" "$build"

	root=$(overlay "$base" "$suite") || { notok "$suite: overlay of the root"; return; }
	cp "$deb" "$root/root/"
	if in_root "$root" apt-get install -y -q "/root/${deb##*/}" > "$SCRATCH/$suite-install.log" 2>&1; then
		ok "$suite: apt install of the package into the clean root"
	else
		tail -n 20 "$SCRATCH/$suite-install.log"
		notok "$suite: apt install of the package"
		return
	fi
	timed "install"

	# the pin: an other strongSwan version would remove the package
	t=$(in_root "$root" apt-cache madison libstrongswan | awk -v sw="$sw" '$3 != sw { print $3; exit }')
	if [ -n "$t" ]; then
		if in_root "$root" apt-get -s install "libstrongswan=$t" "strongswan-libcharon=$t" 2>&1 |
			grep -q "^Remv libcharon-tunnel-plugins"; then
			ok "$suite: changing strongSwan to $t removes the package (apt -s)"
		else
			notok "$suite: changing strongSwan to $t would keep the package"
		fi
	else
		say "   (no other strongSwan version in the root's sources: pin not exercised)"
	fi

	export DISTRO_ROOT=$root DISTRO_BINDS="/tmp $TOP"
	bash "$HERE/test_stock_config.sh" 2>&1 | quiet | tee "$SCRATCH/$suite-stock.log"
	sum_suite "$SCRATCH/$suite-stock.log" "$suite: stock configuration"
	timed "stock configuration"
	for t in $TESTS; do
		say "-- $suite: $t with the distribution's charon"
		CHARON=$HERE/chroot-charon SWANCTL=$HERE/chroot-swanctl \
			DISTRO_SWANCTL_LOAD="$SWANCTL_LOAD" timeout 900 bash "$TOP/tests/integration/$t" 2>&1 | quiet | tee "$SCRATCH/$suite-$t.log"
		sum_suite "$SCRATCH/$suite-$t.log" "$suite: $t"
		timed "$t"
	done
	unset DISTRO_ROOT DISTRO_BINDS
	# kernel XFRM: the same root in the VM, which boots Debian's kernel over
	# this machine's root as this process sees it (the overlay included)
	case " $VM_SUITES " in
	*" $suite "*)
		say "-- $suite: kernel XFRM scenarios in the VM with the distribution's charon"
		# under TCG the whole suite took 1,467 s with our 5.9.8 (tests/vm/run.sh)
		vm_limit=1800
		[ -n "${DISTRO_VM_FULL:-}" ] && vm_limit=3600
		"$TOP/tests/vm/vm-run.sh" --timeout "${VM_TIMEOUT:-$vm_limit}" -- \
			env DISTRO_SWANCTL_LOAD="$SWANCTL_LOAD" \
			bash tests/distro/vm_xfrm.sh "$root" ${DISTRO_VM_FULL:+full} 2>&1 | quiet | tee "$SCRATCH/$suite-vm.log"
		# only the VM's own closing line counts (not a suite's inside it)
		if grep -aq '^vm: [0-9]* passed, [0-9]* failed$' "$SCRATCH/$suite-vm.log"; then
			grep -a '^vm: ' "$SCRATCH/$suite-vm.log" | tail -n 1 | sed 's/^vm: //' > "$SCRATCH/$suite-vm.sum"
			sum_suite "$SCRATCH/$suite-vm.sum" "$suite: kernel XFRM in the VM"
		else
			notok "$suite: the VM did not finish its scenarios"
		fi
		timed "kernel XFRM in the VM"
		;;
	esac
}

# the roots of all releases at once (mostly downloads): reused when cached
T0=$SECONDS
need_debootstrap || notok "debootstrap could not be installed"
for s in $SUITES; do
	root_build "$s" > /dev/null &
done
wait
timed "roots of $SUITES"
for s in $SUITES; do
	run_suite "$s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
