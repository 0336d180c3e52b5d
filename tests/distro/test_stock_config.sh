#!/bin/bash
# The installed package with the distribution's own configuration: the root
# DISTRO_ROOT's charon reads the root's /etc/strongswan.conf (and so
# strongswan.d/, where the package's conffiles are), with only the two
# plugins switched on in their conffiles, as the README tells a user.
# Part of tests/distro/run.sh; ends with "N passed, N failed".
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CHARON=$HERE/chroot-charon
SWANCTL=$HERE/chroot-swanctl
source "$HERE/../integration/lib.sh"
trap lab_down EXIT
trap 'exit 1' INT TERM
: "${DISTRO_ROOT:?DISTRO_ROOT: a root with the package installed}"
CONFD=$DISTRO_ROOT/etc/strongswan.d/charon

test_conffiles()
{
	local f
	for f in tunnel-nat tunnel-route; do
		[ -f "$CONFD/$f.conf" ] || fail "no $f.conf in /etc/strongswan.d/charon" || return 1
		grep -qx "/etc/strongswan.d/charon/$f.conf" \
			"$DISTRO_ROOT/var/lib/dpkg/info/libcharon-tunnel-plugins.conffiles" ||
			fail "$f.conf is not a conffile" || return 1
	done
	# dh_compress gzips documentation files of more than 4 kB
	for f in tunnel-nat tunnel-route; do
		[ -f "$DISTRO_ROOT/usr/share/doc/libcharon-tunnel-plugins/$f.opt.gz" ] ||
			[ -f "$DISTRO_ROOT/usr/share/doc/libcharon-tunnel-plugins/$f.opt" ] ||
			fail "$f.opt is not installed" || return 1
	done
}

test_plugins_loaded()
{
	local stats
	stats=$(swan gw --stats) || fail "swanctl --stats failed" || return 1
	echo "$stats" | grep "loaded plugins" | sed 's/^/    /'
	echo "$stats" | grep -q "loaded plugins:.* tunnel-nat" || fail "tunnel-nat not loaded" || return 1
	echo "$stats" | grep -q "loaded plugins:.* tunnel-route" || fail "tunnel-route not loaded" || return 1
	nsx gw nft list table ip tunnel_nat > /dev/null || fail "no nftables table tunnel_nat" || return 1
	nsx gw nft list table ip tunnel_route > /dev/null || fail "no nftables table tunnel_route" || return 1
	[ "$(nsx gw ip rule show | grep -c 'proto 242')" = 2 ] || fail "tunnel-route's FIB rules are missing"
}

test_load_all()
{
	swan gw --load-all --noprompt > "$WORK/load-all.log" 2>&1 ||
		fail "swanctl --load-all with the root's /etc/swanctl: $(cat "$WORK/load-all.log")"
}

# the ABORT that plugins built for another configuration caused
test_reload_settings()
{
	sed -i 's|^    mappings {$|    mappings {\n        stock {\n            child = claims\n            public = 192.0.2.100\n            private = 10.1.0.10\n        }|' \
		"$CONFD/tunnel-nat.conf"
	grep -q "private = 10.1.0.10" "$CONFD/tunnel-nat.conf" || fail "could not add a mapping" || return 1
	swan gw --reload-settings > /dev/null || fail "swanctl --reload-settings failed" || return 1
	wait_for 5 grep -q "reloaded settings: 1 mappings" "$WORK/gw/charon.log" ||
		fail "no reload logged: $(grep -i 'tunnel\|reload\|settings' "$WORK/gw/charon.log" | tail -n 8)" || return 1
	sleep 1
	kill -0 "${CHARON_PID[gw]}" || fail "charon died on --reload-settings" || return 1
	swan gw --stats > /dev/null || fail "charon does not answer after the reload"
}

test_clean_stop()
{
	charon_kill gw TERM
	! nsx gw nft list table ip tunnel_nat > /dev/null 2>&1 ||
		fail "table tunnel_nat left after charon stopped" || return 1
	[ "$(nsx gw ip rule show | grep -c 'proto 242')" = 0 ] || fail "FIB rules left after charon stopped"
}

echo "stock configuration of $(chroot "$DISTRO_ROOT" dpkg-query -W -f='${Version}' strongswan-charon) with libcharon-tunnel-plugins $(chroot "$DISTRO_ROOT" dpkg-query -W -f='${Version}' libcharon-tunnel-plugins)"
lab_add_ns gw
sed -i 's/^\( *load = \)no$/\1yes/' "$CONFD/tunnel-nat.conf" "$CONFD/tunnel-route.conf"
mkdir -p "$WORK/gw"
cat > "$WORK/gw/strongswan.conf" <<EOC
include /etc/strongswan.conf
charon {
	filelog {
		log {
			path = $WORK/gw/charon.log
			time_format = %T
			flush_line = yes
			default = 1
		}
	}
	plugins {
		vici {
			socket = unix:///run/gw.vici
		}
	}
}
EOC
charon_start gw || { echo "0 passed, 1 failed"; exit 1; }
run_test "conffiles in /etc/strongswan.d/charon, options documented" test_conffiles
run_test "both plugins load from the distribution's configuration" test_plugins_loaded
run_test "swanctl --load-all" test_load_all
run_test "swanctl --reload-settings: charon stays up, mapping applied" test_reload_settings
run_test "clean stop removes the plugins' state" test_clean_stop
summary
