#!/bin/bash
# Churn: many CHILD_SAs coming up and going down at once, from charon's
# worker threads, must leave exactly the state the live CHILD_SAs need.
# strongSwan's load-tester (fake_kernel) drives real IKE and real bus events;
# the plugins' nftables elements, routes and rules are compared with
# swanctl --list-sas after every round. Then charon is killed (SIGKILL) in
# the middle of a round and started again: its first state must match the
# live CHILD_SAs (none), and the next rounds must still be exact.
#
#   tests/load/test_churn.sh
# Environment: CHURN_N CHILD_SAs per round (default 200), CHURN_ROUNDS
# (default 3); VALGRIND=1 runs the gateway's charon under valgrind (use a
# smaller CHURN_N) and checks its report for leaks and invalid accesses in
# the plugins.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/load/lt.sh"
N=${CHURN_N:-200}
ROUNDS=${CHURN_ROUNDS:-3}
trap lab_down EXIT

if [ "${VALGRIND:-0}" = 1 ]; then
	CHARON_WRAP[gw]="valgrind --log-file=$WORK/valgrind.%p.log --leak-check=full"
	CHARON_WRAP[gw]+=" --show-leak-kinds=definite --errors-for-leak-kinds=definite"
	CHARON_WRAP[gw]+=" --num-callers=30 --trace-children=no"
	CHARON_START_WAIT=600
fi

# ids of the peer's IKE_SAs
peer_ike_ids()
{
	swan peer --list-sas --raw 2>/dev/null | grep -o 'uniqueid=[0-9]*' |
		cut -d= -f2 | sort -u
}

# terminate IKE_SAs by id, in the background
terminate_ids()
{
	local id
	for id in "$@"; do
		swan peer --terminate --ike-id "$id" --force --timeout -1 > /dev/null 2>&1
	done
}

settle()
{
	local prev=-1 cur
	# wait until the number of live CHILD_SAs is stable for a second
	for _ in $(seq 60); do
		cur=$(lt_live | wc -l)
		[ "$cur" = "$prev" ] && break
		prev=$cur
		sleep 1
	done
	sleep 0.5
}

ROUND=0
# a round: N new CHILD_SAs come up while the previous round's go down
test_round()
{
	local old res live
	ROUND=$((ROUND + 1))
	old=$(peer_ike_ids)
	terminate_ids $old &
	local killer=$!
	res=$(lt_initiate "$N" 1)
	wait "$killer"
	settle
	live=$(lt_live | wc -l)
	log "    round $ROUND: $(echo "$res" | tr -cd + | wc -c) established," \
		"$(echo "$old" | grep -c .) terminated meanwhile, $live live"
	[ "$live" -ge 1 ] || fail "no CHILD_SA up" || return 1
	lt_state || fail "state does not match the $live live CHILD_SAs"
}

test_all_down()
{
	terminate_ids $(peer_ike_ids)
	settle
	[ "$(lt_live | wc -l)" = 0 ] || fail "CHILD_SAs left: $(lt_live | wc -l)" || return 1
	lt_state || fail "state left behind with no CHILD_SA"
}

test_crash_restart()
{
	local live
	terminate_ids $(peer_ike_ids) &
	lt_initiate "$N" 0 > /dev/null &
	local init=$!
	sleep 0.5
	charon_kill gw KILL
	kill "$init" 2>/dev/null; wait "$init" 2>/dev/null
	wait
	lt_start_gw || fail "charon did not start again" || return 1
	# its first state: the live CHILD_SAs are none
	live=$(lt_live | wc -l)
	[ "$live" = 0 ] || fail "$live CHILD_SAs right after the restart?" || return 1
	lt_state || fail "first state after the restart does not match" || return 1
	# the peer's old IKE_SAs are dead: clear them, then churn on
	swan peer --terminate --ike load-test --force --timeout -1 > /dev/null 2>&1
	settle
}

valgrind_check()
{
	local f bad=0
	charon_kill gw TERM
	for f in "$WORK"/valgrind.*.log; do
		[ -f "$f" ] || continue
		log "    valgrind: $(grep -E 'ERROR SUMMARY' "$f" | sed 's/==[0-9]*== //')"
		log "    valgrind: $(grep -E 'definitely lost:' "$f" | sed 's/==[0-9]*== //')"
		# every error and definite leak whose stack passes through the
		# plugins (the rest: libstrongswan's memwipe self-check, OpenSSL)
		awk '
			/Invalid (read|write|free)|uninitialised|definitely lost in|Mismatched|Syscall param|overlap/ { inblk = 1; blk = "" }
			inblk { blk = blk $0 "\n" }
			inblk && /^==[0-9]+== $/ {
				if (blk ~ /tunnel_nat|tunnel_route|tunnel-nat|tunnel-route|nl_socket|nl_batch|nl_monitor|nft_util|event_stats|tunnel_util/) {
					printf "%s", blk; found++
				}
				inblk = 0
			}
			END { exit found > 0 }' "$f" > "$WORK/valgrind-ours.txt" || bad=1
		cat "$WORK/valgrind-ours.txt" | head -60
		log "    valgrind: $(grep -c 'Invalid\|uninitialised\|definitely lost in' "$WORK/valgrind-ours.txt") errors or leaks in the plugins"
	done
	ls "$WORK"/valgrind.*.log > /dev/null 2>&1 || { fail "no valgrind report"; return 1; }
	[ $bad = 0 ] || fail "valgrind found errors in the plugins"
}

# live reload with the CHILD_SAs up: every translation moves to another
# private host, then back; the state matches the live CHILD_SAs each time
test_reload_live()
{
	local live moved
	lt_initiate "$N" 1 > /dev/null
	settle
	live=$(lt_live | wc -l)
	sed -i "s/private = $APP/private = 10.1.0.11/" "$WORK/gw/strongswan.conf"
	swan gw --reload-settings > /dev/null || fail "reload failed" || return 1
	wait_for 30 grep -q "tunnel-nat: reloaded settings: 1 mappings, $((2 * live)) translations added" "$WORK/gw/charon.log" ||
		fail "no reload of $((2 * live)) translations logged" || return 1
	moved=$(nsx gw nft list map ip tunnel_nat dnat4 | grep -c ': 10.1.0.11/32')
	[ "$moved" = "$live" ] || fail "$moved of $live DNAT translations moved" || return 1
	# tunnel-route follows: the mapping's private side is its source
	LT_SRC=10.1.0.11 lt_state || fail "state after the reload does not match" || return 1
	sed -i "s/private = 10.1.0.11/private = $APP/" "$WORK/gw/strongswan.conf"
	swan gw --reload-settings > /dev/null || fail "reload failed" || return 1
	wait_for 30 sh -c "[ \$(grep -c 'tunnel-nat: reloaded settings: 1 mappings, $((2 * live)) translations added' '$WORK/gw/charon.log') -ge 2 ]" ||
		fail "no reload back logged" || return 1
	lt_state || fail "state after reloading back does not match"
	log "    $live CHILD_SAs: $((2 * live)) translations moved and back, one transaction each"
}

lt_up
lt_conf_gw
if [ "${VALGRIND:-0}" = 1 ]; then
	# keep the plugins mapped at exit, so leaks show their stacks
	sed -i 's/^charon {/charon {\n\tdlclose = no/' "$WORK/gw/strongswan.conf"
fi
lt_start || exit 1
for r in $(seq "$ROUNDS"); do
	run_test "churn round $r: $N up while the previous go down" test_round
done
run_test "live reload with the CHILD_SAs up" test_reload_live
run_test "all down: no leftovers" test_all_down
if [ "${VALGRIND:-0}" != 1 ]; then
	run_test "SIGKILL mid-churn, restart: first state matches" test_crash_restart
	run_test "churn after the restart" test_round
	run_test "all down after the restart" test_all_down
else
	run_test "valgrind: no leak, no invalid access in the plugins" valgrind_check
fi
summary
