#!/bin/bash
# Self-healing at scale: with HEAL_N CHILD_SAs up (default 50,000), another
# program deletes the plugins' state (nft flush ruleset; the routes of
# tunnel-route's table; its FIB rules), and each plugin must restore all of
# it: nft elements, routes in table 4242 and the 2 FIB rules are compared
# with the live CHILD_SAs (swanctl --list-sas) after each restore, as
# test_churn.sh does, and the time from the deletion to the restore's log
# line is reported. Then a live reload moves every translation (one
# transaction of 2 * HEAL_N changes) and back.
#
#   tests/load/test_heal_scale.sh
# Environment: HEAL_N (default 50000); the peer initiates them in slices of
# HEAL_SLICE (default 2000), HEAL_DELAY ms apart (default 5).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/load/lt.sh"
N=${HEAL_N:-50000}
SLICE=${HEAL_SLICE:-2000}
# the pool hands out one virtual IP per CHILD_SA
[ "$N" -le 65000 ] || { echo "HEAL_N at most 65000 (the pool is a /16)"; exit 1; }
trap lab_down EXIT
T0=$(date +%s.%N)

# the state dump on failure, in counts: the full one would print the
# elements and routes of every tunnel
dump_state()
{
	log "---- state dump (counts) ----"
	log "== gw: swanctl --list-sas: $(lt_live | wc -l) CHILD_SAs installed"
	log "== gw: nft tables: $(nsx gw nft list tables 2>&1 | tr '\n' ' ')"
	for s in pairs pairs_hosts bypass bypass_hosts guard; do
		log "   set $s: $(nsx gw nft -j list set ip tunnel_route $s 2>/dev/null |
			jq '[.nftables[] | select(.set) | .set.elem // [] | length] | add // 0') elements"
	done
	for m in dnat4 snat4; do
		log "   map $m: $(nsx gw nft -j list map ip tunnel_nat $m 2>/dev/null |
			jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add // 0') elements"
	done
	log "== gw: ip rule"
	nsx gw ip rule 2>&1 | sed 's/^/  /'
	log "== gw: table 4242: $(nsx gw ip route show table 4242 | wc -l) routes;" \
		"$(nsx gw ip route show table 4242 | grep -c '^prohibit') prohibit;" \
		"default: $(nsx gw ip route show table 4242 | grep '^[a-z]* *default' | tr '\n' ' ')"
	log "== gw: charon log, tunnel-* and KNL lines (last 40)"
	grep 'tunnel-\|KNL' "$WORK/gw/charon.log" | tail -n 40 | sed 's/^/  /'
	log "---- end of state dump ----"
}

# now: seconds since the epoch, with fractions
now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.2f\", $2 - $1 }"; }

# logged_n PATTERN: how often the gateway's log has a line matching PATTERN
logged_n() { grep -c -- "$1" "$WORK/gw/charon.log"; }
# logged_ge PATTERN COUNT: at least COUNT such lines
logged_ge() { [ "$(logged_n "$1")" -ge "$2" ]; }
gw_count_ge() { [ "$(lt_gw_count)" -ge "$1" ]; }

test_all_up()
{
	local start live=0 tries=0 n
	start=$(now)
	# in slices: lt_initiate returns once its IKE_SAs are established or
	# failed, so the gateway never has more than a slice in its queue (with
	# all N at once, the peer gives up on those the busy gateway answers
	# later than its retransmissions last); a failed one is tried again
	while [ "$live" -lt "$N" ] && [ "$tries" -lt $((2 * N / SLICE + 5)) ]; do
		n=$((N - live < SLICE ? N - live : SLICE))
		lt_initiate "$n" "${HEAL_DELAY:-5}" >> "$WORK/initiate.txt"
		live=$(lt_gw_count)
		tries=$((tries + 1))
	done
	wait_for 10 gw_count_ge "$N"
	live=$(lt_live | wc -l)
	log "    $live of $N CHILD_SAs up in $(secs "$start" "$(now)") s" \
		"($(tr -cd - < "$WORK/initiate.txt" | wc -c) initiations failed" \
		"and were repeated)"
	[ "$live" = "$N" ] || fail "only $live of $N CHILD_SAs came up" || return 1
	lt_state || fail "state does not match the $live live CHILD_SAs"
}

# restored PATTERN COUNT: wait until PATTERN is logged COUNT times
restored()
{
	wait_for 120 logged_ge "$1" "$2"
}

# heal WHAT CMD...: run CMD in the gateway's namespace, wait for the
# restores that must follow (tunnel-route always, tunnel-nat if WHAT is
# "both"), report their times and reasons, compare the state
heal()
{
	local what=$1 route_n nat_n start t_route t_nat line
	shift
	route_n=$(logged_n 'tunnel-route: state was')
	nat_n=$(logged_n 'tunnel-nat: table ip tunnel_nat was')
	start=$(now)
	nsx gw "$@"
	restored 'tunnel-route: state was' $((route_n + 1)) ||
		fail "tunnel-route logged no restore" || return 1
	t_route=$(secs "$start" "$(now)")
	if [ "$what" = both ]; then
		restored 'tunnel-nat: table ip tunnel_nat was' $((nat_n + 1)) ||
			fail "tunnel-nat logged no restore" || return 1
	fi
	t_nat=$(secs "$start" "$(now)")
	# the restores' own lines: what was restored, how long it took
	grep -- 'tunnel-route: state was\|tunnel-nat: table ip tunnel_nat was' \
		"$WORK/gw/charon.log" | tail -n "$([ "$what" = both ] && echo 2 || echo 1)" |
		while read -r line; do log "    $line"; done
	log "    seen restored (polled): tunnel-route ${t_route} s$([ "$what" = both ] && echo ", tunnel-nat ${t_nat} s")"
	grep -q 'failed' <(grep -- 'tunnel-route: state was\|tunnel-nat: table ip tunnel_nat was' \
		"$WORK/gw/charon.log" | tail -n 2) && { fail "a restore failed"; return 1; }
	# a restore (tunnel-nat's and tunnel-route's) triggers none of its own
	sleep 1
	lt_state || fail "state after the restore does not match"
	# no fail-closed leftovers once everything is restored
	if nsx gw ip route show table 4242 | grep -q '^prohibit default'; then
		fail "the restore left its prohibit default route behind"
		return 1
	fi
}

test_flush_ruleset() { heal both nft flush ruleset; }
test_flush_routes() { heal route ip route flush table 4242; }
test_del_rules()
{
	heal route sh -c 'ip rule del priority 210 fwmark 0x4000000/0xc000000 &&
		ip rule del priority 210 fwmark 0x8000000/0xc000000'
}

# live reload: every translation moves to another private host and back,
# tunnel-route's pairs follow (their source is the mapping's private side)
test_reload()
{
	local start n
	n=$(logged_n "tunnel-nat: reloaded settings: 1 mappings, $((2 * N)) translations added")
	start=$(now)
	sed -i "s/private = $APP/private = 10.1.0.11/" "$WORK/gw/strongswan.conf"
	swan gw --reload-settings > /dev/null || fail "reload failed" || return 1
	wait_for 120 logged_ge "tunnel-nat: reloaded settings: 1 mappings, $((2 * N)) translations added" $((n + 1)) ||
		fail "no reload of $((2 * N)) translations logged" || return 1
	log "    reload of $((2 * N)) translations seen in $(secs "$start" "$(now)") s"
	sleep 1
	LT_SRC=10.1.0.11 lt_state || fail "state after the reload does not match" || return 1
	sed -i "s/private = 10.1.0.11/private = $APP/" "$WORK/gw/strongswan.conf"
	swan gw --reload-settings > /dev/null || fail "reload failed" || return 1
	wait_for 120 logged_ge "tunnel-nat: reloaded settings: 1 mappings, $((2 * N)) translations added" $((n + 2)) ||
		fail "no reload back logged" || return 1
	sleep 1
	lt_state || fail "state after reloading back does not match"
}

lt_up
lt_conf_gw
lt_start || exit 1
run_test "$N CHILD_SAs up, state exact" test_all_up
run_test "nft flush ruleset: both plugins restore $N tunnels' state" test_flush_ruleset
run_test "routes of table 4242 flushed: tunnel-route restores them" test_flush_routes
run_test "FIB rules deleted: tunnel-route restores them" test_del_rules
run_test "live reload of $((2 * N)) translations and back" test_reload
log "whole test: $(secs "$T0" "$(now)") s (N=$N)"
summary
