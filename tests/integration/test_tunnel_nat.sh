#!/bin/bash
# Integration suite of the tunnel-nat plugin: real charon on both sides,
# real nftables, in network namespaces. Run as root.
#
#   BACKEND=libipsec (default) or BACKEND=xfrm (kernel ESP, e.g. in the VM)
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
source "$(dirname "$0")/lib.sh"
trap lab_down EXIT
trap 'exit 1' INT TERM

# bring the clearinghouse's tunnel up if it is not
ensure_up()
{
	local role=${1:-gw} child=${2:-claims}
	child_installed "$role" "$child" && return 0
	swan "$role" --initiate --child "$child" --timeout 20 > /dev/null 2>&1
	wait_for 10 child_installed "$role" "$child" || fail "$child did not come up"
}

# p_side_rules: the rules of the NAT chains: the gotos to the chain of
# decrypted packets (kernel-libipsec: one, by its TUN device; kernel XFRM:
# two, meta secpath and a VTI's packets), its 4 rules (port forwards, exact
# pairs, ranges, closed addresses) and postrouting's 3
p_side_rules()
{
	if [ "$BACKEND" = libipsec ]; then
		echo $((1 + 4 + 3))
	else
		echo $((2 + 4 + 3))
	fi
}

# --- tests ------------------------------------------------------------------

test_clearinghouse_reaches_app()
{
	local out
	ensure_up || return 1
	out=$(tcp_ask ch $C $P 7000 "claim 1")
	[ "$out" = "app $C claim 1" ] ||
		fail "clearinghouse -> P:7000 answered '$out', expected 'app $C claim 1'"
}

test_app_reaches_clearinghouse()
{
	local out
	ensure_up || return 1
	out=$(tcp_ask app $APP $C 7001 "adjudicate")
	[ "$out" = "ch $P adjudicate" ] ||
		fail "app -> C:7001 answered '$out', expected 'ch $P adjudicate' (SNAT to P)"
}

test_wire_only_esp()
{
	ensure_up && wire_check
}

test_translations_listed()
{
	local d s
	ensure_up || return 1
	swan gw --list-sas | grep -q "claims: #.*INSTALLED" ||
		fail "swanctl --list-sas shows no installed claims CHILD_SA"
	d=$(nft_elems gw dnat4); s=$(nft_elems gw snat4)
	[ "$d" = 1 ] && [ "$s" = 1 ] || fail "expected 1 DNAT and 1 SNAT element, got $d and $s"
	nsx gw nft list map ip tunnel_nat dnat4 | grep -q "$C . $P comment \"child claims\" : $APP/32" ||
		fail "DNAT element does not read '$C . $P : $APP'"
	nsx gw nft list map ip tunnel_nat snat4 | grep -q "$APP . $C comment \"child claims\" : $P/32" ||
		fail "SNAT element does not read '$APP . $C : $P'"
}

test_forged_cleartext_not_translated()
{
	local sink=$WORK/udp-app.txt out
	ensure_up || return 1
	: > "$sink"
	# control: the same datagram through the tunnel does arrive
	udp_send ch $C $P 7002 "via-tunnel"
	# forged: cleartext from the internet, source C, destination P
	udp_send inet $C $P 7002 "forged"
	out=$(tcp_ask_dropped inet $C $P 7000 "forged claim")
	sleep 1
	grep -q "^$C via-tunnel" "$sink" ||
		fail "control datagram through the tunnel did not reach the app: $(cat "$sink")" || return 1
	! grep -q forged "$sink" ||
		fail "a forged cleartext datagram reached the app: $(cat "$sink")" || return 1
	[ -z "$out" ] || fail "a forged cleartext TCP connection reached the app: '$out'"
}

test_rekey_keeps_translations()
{
	local before after ping_out loss
	ensure_up || return 1
	before=$(child_uniqueid claims)
	nsx ch ping -n -q -c 40 -i 0.1 -I $C $P > "$WORK/ping.txt" 2>&1 &
	local ping_pid=$!
	sleep 1
	swan gw --rekey --child claims > /dev/null || fail "swanctl --rekey failed" || return 1
	wait "$ping_pid"
	ping_out=$(cat "$WORK/ping.txt")
	wait_for 5 child_installed gw claims || fail "no installed CHILD_SA after rekey" || return 1
	after=$(child_uniqueid claims)
	[ -n "$after" ] && [ "$before" != "$after" ] ||
		fail "CHILD_SA was not rekeyed ($before -> $after)" || return 1
	loss=$(echo "$ping_out" | grep -o '[0-9.]*% packet loss' | cut -d% -f1)
	[ "$loss" = 0 ] || fail "ping through the tunnel lost packets across the rekey: $ping_out" || return 1
	[ "$(nft_elems gw dnat4)" = 1 ] && [ "$(nft_elems gw snat4)" = 1 ] ||
		fail "translations changed across the rekey" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

test_ike_rekey_keeps_translations()
{
	local before
	ensure_up || return 1
	before=$(ike_ids gw clearinghouse)
	swan gw --rekey --ike clearinghouse > /dev/null || fail "swanctl --rekey --ike failed" || return 1
	# a rekey that fails for a while (e.g. the partner busy with another
	# exchange) is retried 6-15 s later (ike_rekey: schedule_delayed_rekey)
	ike_replaced gw clearinghouse "$before" rekey || return 1
	[ "$(nft_elems gw dnat4)" = 1 ] && [ "$(nft_elems gw snat4)" = 1 ] ||
		fail "translations changed across the IKE rekey" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

# nat_count: DNAT and SNAT elements installed
nat_count() { echo $(( $(nft_elems gw dnat4) + $(nft_elems gw snat4) )); }

# the partner rekeys, the gateway answers (strongSwan 6.0 raises child_rekey
# on the responder only once the partner's DELETE of the old SA arrives)
test_rekey_responder_keeps_translations()
{
	local bad n
	ensure_up || return 1
	rekey_by_partner_sampled "nft list map ip tunnel_nat dnat4 | grep -c ': $APP/32'" \
		ch -I $C $P || return 1
	n=$(wc -l < "$WORK/resp-samples.txt")
	bad=$(grep -vc "^s 1 $" "$WORK/resp-samples.txt")
	log "    translation sampled $n times, $bad without it; ping lost $RK_LOST of 40"
	[ "$bad" = 0 ] || fail "the DNAT element was missing during the rekey" || return 1
	[ "$RK_LOST" = 0 ] || fail "ping lost $RK_LOST packets across the rekey" || return 1
	[ "$(nat_count)" = 2 ] || fail "expected 1 DNAT and 1 SNAT element, found $(nat_count)" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

# the partner's DELETE of the old SA is lost, then the IKE_SA is terminated:
# nothing may stay installed (on 6.0.1, the rekeyed SA's translations did)
test_rekey_delete_lost_then_terminate()
{
	local before n ok=0
	ensure_up || return 1
	before=$(child_uniqueid claims)
	rekey_delete_lost "$before" || { ike_drop_off ch; return 1; }
	# meanwhile the tunnel works, translated
	if [ "$(nat_count)" != 2 ] || ! test_clearinghouse_reaches_app; then
		fail "translations not in place after the rekey: $(nat_count) elements"
		ok=1
	fi
	swan gw --terminate --ike clearinghouse --force --timeout 5 > /dev/null 2>&1
	wait_for 5 eval '[ -z "$(child_ids gw claims)" ]' ||
		{ fail "CHILD_SAs left after terminate: $(child_ids gw claims)"; ok=1; }
	wait_for 5 eval '[ "$(nat_count)" = 0 ]'
	n=$(nat_count)
	log "    after terminate: $n translations, CHILD_SAs: '$(child_ids gw claims)'"
	ike_drop_off ch
	swan ch --terminate --ike gateway --force --timeout 5 > /dev/null 2>&1
	[ "$n" = 0 ] || { fail "$n translations outlived their IKE_SA: $(nsx gw nft list table ip tunnel_nat)"; ok=1; }
	[ $ok = 0 ] && ensure_up && test_clearinghouse_reaches_app
}

# both ends rekey at once: one CHILD_SA remains, translated, and nothing of
# the redundant one stays behind
test_rekey_collision()
{
	local before lost n
	ensure_up || return 1
	before=$(child_uniqueid claims)
	nsx ch ping -n -q -c 100 -i 0.1 -I $C $P > "$WORK/ping-coll.txt" 2>&1 &
	local ping_pid=$!
	rekey_collide "$before" || { wait "$ping_pid"; return 1; }
	wait "$ping_pid"
	lost=$(ping_loss "$WORK/ping-coll.txt")
	log "    after the collision: $(child_ids gw claims); ping lost $lost of 100"
	[ "$(nat_count)" = 2 ] || fail "expected 1 DNAT and 1 SNAT element, found $(nat_count)" || return 1
	[ "$lost" -le 1 ] || fail "ping lost $lost packets across the collision" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse || return 1
	swan gw --terminate --child claims --timeout 10 > /dev/null ||
		fail "swanctl --terminate failed" || return 1
	n=$(nat_count)
	[ "$n" = 0 ] || fail "$n translations left after the collision and terminate" || return 1
	ensure_up
}

# make-before-break: the translation must be there at every moment (the old
# SA's down must not remove what the new one needs); a packet in flight while
# the SAs are swapped may be lost at the IPsec level, so the ping allows one
test_reauth_make_before_break()
{
	local lost bad n ike0 ike1
	ensure_up && reauth_quiet gw clearinghouse claims || return 1
	ike0=$(ike_ids gw clearinghouse)
	nsx ch ping -n -q -c 40 -i 0.1 -I $C $P > "$WORK/ping-reauth.txt" 2>&1 &
	local ping_pid=$!
	sample_start "$WORK/nat-samples.txt" gw "nft list map ip tunnel_nat dnat4 | grep -c ': $APP/32'"
	sleep 1
	# a slow machine may not have taken one yet
	wait_for 10 sampled "$WORK/nat-samples.txt"
	sample_mark start
	swan gw --rekey --ike clearinghouse --reauth > /dev/null ||
		{ sample_stop; fail "swanctl --rekey --reauth failed"; return 1; }
	wait "$ping_pid"
	# the event ends when the new IKE_SA has replaced the old one
	wait_for 10 child_installed gw claims &&
		ike_replaced gw clearinghouse "$ike0" reauthentication ||
		{ sample_stop; fail "no installed CHILD_SA under a new IKE_SA after reauth"; return 1; }
	sample_mark end
	wait_for 10 samples_after_end "$WORK/nat-samples.txt"
	sample_stop
	ike1=$(ike_ids gw clearinghouse)
	logged gw "translations of CHILD_SA claims{[0-9]*} installed" || return 1
	n=$(sample_spread "$WORK/nat-samples.txt")
	bad=$(samples "$WORK/nat-samples.txt" | grep -vc "^s 1 $")
	lost=$(ping_loss "$WORK/ping-reauth.txt")
	log "    IKE_SA ${ike0%:*} -> ${ike1%:*}; translation sampled $n times (before, during, after the reauthentication), $bad without it; ping lost $lost of 40"
	samples_span "$WORK/nat-samples.txt" || return 1
	[ "$bad" = 0 ] || fail "the DNAT element was missing during the reauthentication: $(samples "$WORK/nat-samples.txt" | grep -v "^s 1 $" | head -3)" || return 1
	[ "$lost" -le 1 ] || fail "lost $lost packets across make-before-break reauthentication" || return 1
	[ "$(nft_elems gw dnat4)" = 1 ] && [ "$(nft_elems gw snat4)" = 1 ] ||
		fail "expected 1 DNAT and 1 SNAT element after reauth" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

test_netlink_error_no_half_state()
{
	local n ok=0
	ensure_up || return 1
	swan gw --terminate --child claims --timeout 10 > /dev/null || return 1
	# another tool put an element with our key and other data in our map:
	# the kernel refuses our DNAT element, so the transaction (DNAT and SNAT)
	# fails whole; the plugin logs the element and the kernel's reason, then
	# rewrites its maps to what the CHILD_SAs need, in one transaction
	nsx gw nft add element ip tunnel_nat dnat4 \
		"{ 198.51.100.10 . 192.0.2.100 : 10.9.9.9/32 }" || return 1
	swan gw --initiate --child claims --timeout 20 > /dev/null 2>&1
	if ! logged gw "tunnel-nat: CHILD_SA claims{[0-9]*} up: add element DNAT 198.51.100.10 . 192.0.2.100 => 10.1.0.10 (child claims) to map ip tunnel_nat dnat4 failed: "; then
		fail "no log naming the element and the kernel's reason"
		ok=1
	fi
	grep "dnat4 failed: " "$WORK/gw/charon.log" | tail -n1 | sed 's/^.*tunnel-nat/    logged: tunnel-nat/'
	logged gw "tunnel-nat: rewrote table ip tunnel_nat with 2 translations" ||
		{ fail "maps not rewritten after the failed transaction"; ok=1; }
	nsx gw nft list map ip tunnel_nat dnat4 | grep -q "$C . $P .*: $APP/32" ||
		{ fail "DNAT element not ours: $(nsx gw nft list map ip tunnel_nat dnat4)"; ok=1; }
	n=$(nft_elems gw snat4)
	[ "$n" = 1 ] || { fail "translations not whole: $n SNAT elements"; ok=1; }
	kill -0 "${CHARON_PID[gw]}" || { fail "charon died"; return 1; }
	[ $ok = 0 ] && test_clearinghouse_reaches_app
}

test_terminate_removes_translations()
{
	local json n out
	ensure_up || return 1
	swan gw --terminate --child claims --timeout 10 > /dev/null ||
		fail "swanctl --terminate failed" || return 1
	json=$(nsx gw nft -j list table ip tunnel_nat) || fail "table is gone" || return 1
	n=$(echo "$json" | jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add')
	[ "$n" = 0 ] || fail "$n translations left after terminate: $json" || return 1
	# rules stay: the NAT chains' (p_side_rules) and the count chain's 7
	n=$(echo "$json" | jq '[.nftables[] | select(.rule)] | length')
	[ "$n" = $(($(p_side_rules) + 7)) ] ||
		fail "expected $(($(p_side_rules) + 7)) rules, found $n" || return 1
	out=$(tcp_ask_dropped ch $C $P 7000 "after terminate")
	[ -z "$out" ] || fail "the app still answered without the tunnel: '$out'" || return 1
	ensure_up && test_clearinghouse_reaches_app
}

test_sigkill_restart_replaces_stale_table()
{
	local n json
	ensure_up || return 1
	charon_kill gw KILL
	[ "$(nft_elems gw dnat4)" = 1 ] || fail "expected a stale element after SIGKILL" || return 1
	charon_start gw || return 1
	json=$(nsx gw nft -j list table ip tunnel_nat) || fail "no table after restart" || return 1
	n=$(echo "$json" | jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add')
	[ "$n" = 0 ] || fail "stale translations survived the restart: $json" || return 1
	n=$(echo "$json" | jq '[.nftables[] | select(.rule)] | length')
	[ "$n" = $(($(p_side_rules) + 7)) ] ||
		fail "expected $(($(p_side_rules) + 7)) rules after restart, found $n" || return 1
	[ "$(nsx gw nft list tables | grep -c tunnel_nat)" = 1 ] || fail "duplicate tables" || return 1
	swan_load gw gateway || fail "loading the gateway config failed" || return 1
	ensure_up && test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

# A UDP flow the app starts while the tunnel is down is tracked untranslated
# (here it leaves toward C over another route). When the tunnel comes up,
# tunnel-nat deletes that entry: the flow's next packets are translated and
# take the tunnel, with no wait for the entry to time out (30 s and more).
test_conntrack_hygiene()
{
	local sink=$WORK/ct-sink.txt sender n first deleted ok=0 t0 t1
	swan gw --terminate --child claims --timeout 10 > /dev/null 2>&1
	if [ "$BACKEND" = libipsec ]; then
		# without the tunnel, C is reachable through "inet"
		ip -n "$(ns gw)" route add $C/32 via $INET_NET || return 1
	fi
	rm -f "$sink"
	udp_sink ch $C 9999 "$sink" || fail "no UDP sink" || return 1
	# one datagram every 50 ms, always from port 5555: one flow (a socat per
	# datagram, so that ICMP errors of the path before the tunnel do not
	# stop the sender)
	nsx_bg app sh -c "i=0; while [ \$i -lt 600 ]; do i=\$((i + 1));
		echo \$i | socat -u - UDP-SENDTO:$C:9999,bind=$APP:5555,reuseaddr 2>/dev/null;
		sleep 0.05; done"
	sender=$BG_PID
	sleep 1
	t0=$(date +%s.%N)
	ensure_up || ok=1
	# packets from P through the tunnel: well before any conntrack timeout
	wait_for 3 grep -q "^$P " "$sink" || { fail "no packet of the flow arrived from $P within 3 s after up"; ok=1; }
	t1=$(date +%s.%N)
	kill "$sender" 2>/dev/null; wait "$sender" 2>/dev/null
	[ "$BACKEND" = libipsec ] && ip -n "$(ns gw)" route del $C/32 via $INET_NET
	deleted=$(grep -o "deleted [0-9]* conntrack entries" "$WORK/gw/charon.log" | tail -n1 | awk '{print $2}')
	first=$(grep -m1 "^$P " "$sink" | awk '{print $2}')
	log "    conntrack entries deleted on up: ${deleted:-none}; first packet from P: #${first:-none}, $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s after initiating"
	[ "${deleted:-0}" -ge 1 ] || { fail "no conntrack entry deleted"; ok=1; }
	[ $ok = 0 ]
}

# heal_after COMMAND: run an nft command in the gateway, then time until the
# plugin's DNAT translation is back (microseconds), from inside the namespace
heal_after()
{
	nsx gw sh -c "t0=\$(date +%s%N); nft $1 || exit 2
		while ! nft list map ip tunnel_nat dnat4 2>/dev/null | grep -q ': $APP/32'; do
			[ \$(( \$(date +%s%N) - t0 )) -gt 5000000000 ] && exit 1
		done
		echo \$(( (\$(date +%s%N) - t0) / 1000 ))"
}

test_heal_flush_ruleset()
{
	local us d s
	ensure_up || return 1
	d=$(nft_elems gw dnat4); s=$(nft_elems gw snat4)
	us=$(heal_after "flush ruleset") || fail "translations not restored within 5 s after nft flush ruleset" || return 1
	log "    restored $us us after nft flush ruleset"
	logged gw "tunnel-nat: table ip tunnel_nat was changed by another program.*restored it with its $((d + s)) translations" ||
		fail "no log of the restore" || return 1
	[ "$(nft_elems gw dnat4)" = "$d" ] && [ "$(nft_elems gw snat4)" = "$s" ] ||
		fail "restored state is not whole: $(nsx gw nft list table ip tunnel_nat)" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

test_heal_delete_table()
{
	local us
	ensure_up || return 1
	us=$(heal_after "delete table ip tunnel_nat") || fail "translations not restored within 5 s after nft delete table" || return 1
	log "    restored $us us after nft delete table ip tunnel_nat"
	test_clearinghouse_reaches_app
}

# Another firewall's table comes before ours: "nft flush ruleset" deletes it
# first, and since Linux 5.10 the kernel sends a transaction's events in
# shared datagrams, the other table's first. The plugin must still notice
# that ours went and restore it.
test_heal_other_table_flush()
{
	local us d s n
	ensure_up || return 1
	d=$(nft_elems gw dnat4); s=$(nft_elems gw snat4)
	firewall_table gw || fail "could not add the firewall's table" || return 1
	# our table after it: restored after a deletion of its own
	heal_after "delete table ip tunnel_nat" > /dev/null ||
		fail "translations not restored within 5 s after nft delete table" || return 1
	table_before gw firewall tunnel_nat ||
		fail "the firewall's table is not listed first: $(nsx gw nft list tables)" || return 1
	n=$(grep -c "table ip tunnel_nat was changed by another program" "$WORK/gw/charon.log")
	us=$(heal_after "flush ruleset")
	case $? in
	0) ;;
	2) fail "nft flush ruleset failed"; return 1;;
	*) fail "translations not restored within 5 s after nft flush ruleset with the firewall's table first"; return 1;;
	esac
	log "    restored $us us after nft flush ruleset, another table first"
	wait_eval 5 '[ "$(grep -c "table ip tunnel_nat was changed by another program" "$WORK/gw/charon.log")" -gt "$n" ]' ||
		fail "no log of the restore" || return 1
	[ "$(nft_elems gw dnat4)" = "$d" ] && [ "$(nft_elems gw snat4)" = "$s" ] ||
		fail "restored state is not whole: $(nsx gw nft list table ip tunnel_nat)" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

# One transaction adds another table and deletes ours: the datagram starts
# with the other table's creation
test_heal_other_table_transaction()
{
	local us rc
	ensure_up || return 1
	printf 'add table inet zzz\ndelete table ip tunnel_nat\n' > "$WORK/add-delete.nft"
	us=$(heal_after "-f $WORK/add-delete.nft")
	rc=$?
	nsx gw nft delete table inet zzz 2>/dev/null
	case $rc in
	0) ;;
	2) fail "the transaction (nft -f) failed"; return 1;;
	*) fail "translations not restored within 5 s after a transaction adding a table and deleting ours"; return 1;;
	esac
	log "    restored $us us after one transaction added a table and deleted ours"
	test_clearinghouse_reaches_app
}

# nat_conf PRIVATE_B [PUBLIC_B]: the gateway's tunnel-nat settings with one
# mapping per partner; PRIVATE_B "-" leaves partner b's mapping out
nat_conf()
{
	{
		echo "tunnel-nat {"
		echo "  load = yes"
		echo "  mappings {"
		echo "    claims-service {"
		echo "      child = claims"
		echo "      public = $P"
		echo "      private = $APP"
		echo "    }"
		if [ "$1" != - ]; then
			echo "    partner-b-service {"
			echo "      child = claims-b"
			echo "      public = ${2:-$P}"
			echo "      private = $1"
			echo "    }"
		fi
		echo "  }"
		echo "}"
	} > "$WORK/gw/tunnel-nat.conf"
}

# reload_and_see PATTERN: reload the settings, wait for a log line
reload_and_see()
{
	local before
	before=$(grep -c "$1" "$WORK/gw/charon.log")
	swan gw --reload-settings > /dev/null 2>&1 || fail "swanctl --reload-settings failed" || return 1
	wait_for 5 sh -c "[ \$(grep -c '$1' '$WORK/gw/charon.log') -gt $before ]" ||
		fail "no log line '$1' after the reload"
}

test_reload_under_traffic()
{
	local out ping=$WORK/reload-ping.txt loss app2=10.1.0.11 ok=0
	# a gateway with the shipped settings (earlier tests change them)
	charon_kill gw TERM
	charon_conf gw
	charon_start gw && swan_load gw gateway || return 1
	ensure_up || return 1
	[ -n "${CHARON_PID[ch2]:-}" ] || { charon_start ch2 && swan_load ch2 partner-b; } || return 1
	ensure_up gw claims-b || return 1
	nsx app ip addr add $app2/24 dev eth0 2>/dev/null
	tcp_server app $app2 7000 app2 || return 1

	# the same translations, split in one mapping per partner: nothing changes
	nat_conf $APP
	reload_and_see "reloaded settings: 2 mappings, 0 translations added, 0 removed" || return 1

	# the clearinghouse's traffic flows through all that follows (once it
	# flows at all: the first packet of a fresh CHILD_SA is not the point)
	wait_for 5 nsx ch ping -n -c 1 -W 1 -I $C $P > /dev/null ||
		fail "no traffic C -> P before the reloads" || return 1
	nsx ch ping -n -i 0.05 -c 120 -I $C $P > "$ping" 2>&1 &
	local pinger=$!
	sleep 0.5

	# changed: partner b's service moves to another host
	nat_conf $app2
	reload_and_see "reloaded settings: 2 mappings, 2 translations added, 2 removed, 2 kept" || ok=1
	out=$(tcp_ask ch2 $C2 $P 7000 "moved")
	[ "$out" = "app2 $C2 moved" ] || { fail "partner b after the change: '$out'"; ok=1; }

	# invalid: rejected as a whole, the running mappings stay
	nat_conf $app2 300.1.1.1
	reload_and_see "reloaded settings rejected, the current mappings stay in force" || ok=1
	grep "tunnel-nat: mappings.partner-b-service" "$WORK/gw/charon.log" | tail -n1 | sed 's/^.*tunnel-nat/    logged: tunnel-nat/'
	out=$(tcp_ask ch2 $C2 $P 7000 "still")
	[ "$out" = "app2 $C2 still" ] || { fail "partner b after the rejected reload: '$out'"; ok=1; }

	# removed
	nat_conf -
	reload_and_see "reloaded settings: 1 mappings, 0 translations added, 2 removed" || ok=1
	[ "$(nft_elems gw dnat4)" = 1 ] || { fail "expected 1 DNAT element after the removal, found $(nft_elems gw dnat4)"; ok=1; }
	out=$(tcp_ask_dropped ch2 $C2 $P 7000 "removed")
	[ -z "$out" ] || { fail "partner b still reaches a host after the removal: '$out'"; ok=1; }

	# SIGHUP does the same as swanctl --reload-settings
	nat_conf $APP
	kill -HUP "${CHARON_PID[gw]}"
	wait_for 5 sh -c "grep -q 'reloaded settings: 2 mappings, 2 translations added, 0 removed' '$WORK/gw/charon.log'" ||
		{ fail "SIGHUP did not apply the settings"; ok=1; }
	out=$(tcp_ask ch2 $C2 $P 7000 "back")
	[ "$out" = "app $C2 back" ] || { fail "partner b after SIGHUP: '$out'"; ok=1; }

	wait "$pinger"
	loss=$(ping_loss "$ping")
	log "    clearinghouse -> P during the reloads: $(grep -o '[0-9]* packets transmitted' "$ping"), $loss lost"
	[ "$loss" = 0 ] || { fail "the unchanged mapping's traffic lost $loss packets"; ok=1; }

	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	swan gw --reload-settings > /dev/null 2>&1
	swan gw --terminate --child claims-b --timeout 10 > /dev/null 2>&1
	nsx app ip addr del $app2/24 dev eth0
	[ $ok = 0 ]
}

test_invalid_mapping_beside_valid()
{
	charon_kill gw TERM
	nft_table_exists gw && { fail "table left after a clean shutdown"; return 1; }
	charon_conf gw "
	plugins {
		tunnel-nat {
			mappings {
				broken {
					child = claims
					public = 192.0.2.300
					private = 10.1.0.11
				}
				mismatch {
					child = claims
					public = 192.0.2.112/28
					private = 10.1.0.32/29
				}
				typo {
					child = claims
					public = 192.0.2.101
					private = 10.1.0.12
					prviate = 10.1.0.13
				}
				outside {
					child = claims
					public = 192.0.2.200
					private = 10.1.0.20
				}
			}
		}
	}"
	charon_start gw || return 1
	swan_load gw gateway || return 1
	grep -q "mappings.broken.public = '192.0.2.300' is invalid" "$WORK/gw/charon.log" ||
		fail "no error naming mappings.broken.public and its value" || return 1
	grep -q "mappings.mismatch: public = '192.0.2.112/28' (/28) and private = '10.1.0.32/29' (/29) differ" "$WORK/gw/charon.log" ||
		fail "no error naming the size mismatch" || return 1
	grep -q "unknown key mappings.typo.prviate = '10.1.0.13'" "$WORK/gw/charon.log" ||
		fail "no error naming the unknown key" || return 1
	ensure_up || return 1
	logged gw "public address 192.0.2.200/32 of mapping 'outside' is not within local_ts of child 'claims'" ||
		fail "no warning that P of mapping 'outside' is outside local_ts" || return 1
	[ "$(nft_elems gw dnat4)" = 1 ] || fail "expected only the valid mapping installed" || return 1
	test_clearinghouse_reaches_app && test_app_reaches_clearinghouse
}

test_two_partners_same_public()
{
	local out
	ensure_up || return 1
	charon_start ch2 || return 1
	swan_load ch2 partner-b || return 1
	ensure_up gw claims-b || return 1
	[ "$(nft_elems gw dnat4)" = 2 ] || fail "expected 2 DNAT elements for two partners" || return 1
	out=$(tcp_ask ch2 $C2 $P 7000 "claim b")
	[ "$out" = "app $C2 claim b" ] || fail "partner b -> P answered '$out'" || return 1
	out=$(tcp_ask app $APP $C2 7003 "to b")
	[ "$out" = "ch2 $P to b" ] || fail "app -> partner b answered '$out'" || return 1
	test_clearinghouse_reaches_app || return 1

	swan gw --terminate --child claims --timeout 10 > /dev/null || return 1
	[ "$(nft_elems gw dnat4)" = 1 ] || fail "terminating one tunnel left $(nft_elems gw dnat4) DNAT elements" || return 1
	out=$(tcp_ask ch2 $C2 $P 7000 "claim b again")
	[ "$out" = "app $C2 claim b again" ] || fail "partner b lost the service when the clearinghouse's tunnel went down: '$out'" || return 1
	out=$(tcp_ask_dropped ch $C $P 7000 "claim a")
	[ -z "$out" ] || fail "the clearinghouse reached the app without its tunnel: '$out'" || return 1
	ensure_up
}

# elem_packets SET KEY: the packets counted by the element KEY ("A . B") of a
# counting set on the gateway
elem_packets()
{
	local n
	n=$(nsx gw nft list set ip tunnel_nat "$1" | tr -d '\n\t' |
		grep -o "$2 counter packets [0-9]*" | grep -o '[0-9]*$')
	echo "${n:-0}"
}

# count_packets NS SET: the packets counted by the elements of a counting set
count_packets()
{
	nsx "$1" nft -j list set ip tunnel_nat "$2" 2>/dev/null |
		jq '[.nftables[] | select(.set) | .set.elem // [] | .[] | .elem.counter.packets // 0] | add // 0'
}

# counters_conf VALUE: the scenario's mapping with counters = VALUE
counters_conf()
{
	sed "s/^    load = yes/    load = yes\n    counters = $1/" \
		"$CONFDIR/gateway/tunnel-nat.conf" > "$WORK/gw/tunnel-nat.conf"
}

test_counters()
{
	local d0 s0 d1 s1 out ok=0
	# a gateway with the scenario's settings only (earlier tests leave
	# invalid settings in strongswan.conf, which reject every reload)
	charon_kill gw TERM
	charon_conf gw
	charon_start gw && swan_load gw gateway || return 1
	ensure_up || return 1
	# the listing works and each element has a counter
	out=$(nsx gw nft list set ip tunnel_nat dnat4_count) ||
		{ fail "nft list set ip tunnel_nat dnat4_count failed"; return 1; }
	echo "$out" | grep -q "$C . $P counter packets [0-9]* bytes [0-9]* comment \"child claims\"" ||
		{ fail "dnat4_count does not read "$C . $P counter packets N bytes N comment ...": $(echo "$out" | grep -A2 elements)"; return 1; }
	nsx gw nft list table ip tunnel_nat > /dev/null || { fail "nft list table ip tunnel_nat failed"; ok=1; }
	d0=$(elem_packets dnat4_count "$C . $P"); s0=$(elem_packets snat4_count "$APP . $C")
	out=$(tcp_ask ch $C $P 7000 "count in")
	[ "$out" = "app $C count in" ] || { fail "C -> P:7000 answered '$out'"; ok=1; }
	d1=$(elem_packets dnat4_count "$C . $P"); s1=$(elem_packets snat4_count "$APP . $C")
	log "    C -> P: DNAT counter $d0 -> $d1 packets, SNAT counter $s0 -> $s1"
	log "    $(nsx gw nft list set ip tunnel_nat dnat4_count | grep elements | tr -d '\t')"
	# a TCP connection with data and its close: at least 3 packets each
	# way, all on the translation that created the flow
	[ $((d1 - d0)) -ge 6 ] || { fail "the DNAT translation counted $((d1 - d0)) packets of a TCP connection, expected >= 6"; ok=1; }
	[ $((s1 - s0)) -lt 6 ] || { fail "the SNAT translation counted $((s1 - s0)) packets while C's connection ran"; ok=1; }
	out=$(tcp_ask app $APP $C 7001 "count out")
	[ "$out" = "ch $P count out" ] || { fail "app -> C:7001 answered '$out'"; ok=1; }
	d0=$(elem_packets dnat4_count "$C . $P"); s0=$(elem_packets snat4_count "$APP . $C")
	log "    app -> C: DNAT counter $d1 -> $d0 packets, SNAT counter $s1 -> $s0"
	[ $((s0 - s1)) -ge 6 ] || { fail "the SNAT translation counted $((s0 - s1)) packets of a TCP connection, expected >= 6"; ok=1; }
	[ $((d0 - d1)) -lt 6 ] || { fail "the DNAT translation counted $((d0 - d1)) packets while the app's connection ran"; ok=1; }

	# counters = no: the table is rebuilt without them, translations kept
	counters_conf no
	reload_and_see "rebuilt table ip tunnel_nat for the reloaded settings" || ok=1
	nsx gw nft list chain ip tunnel_nat count > /dev/null 2>&1 &&
		{ fail "counters = no: the count chain is still there"; ok=1; }
	[ "$(nft_elems gw dnat4) $(nft_elems gw snat4)" = "1 1" ] ||
		{ fail "counters = no: dnat4 and snat4 hold $(nft_elems gw dnat4) and $(nft_elems gw snat4), expected 1 1"; ok=1; }
	out=$(tcp_ask ch $C $P 7000 "no counters")
	[ "$out" = "app $C no counters" ] || { fail "counters = no: C -> P:7000 answered '$out'"; ok=1; }
	counters_conf maybe
	reload_and_see "counters = .maybe. is invalid: use yes or no" || ok=1
	counters_conf yes
	reload_and_see "rebuilt table ip tunnel_nat for the reloaded settings" || ok=1
	[ "$(count_packets gw dnat4_count)" = 0 ] || { fail "counters = yes again: dnat4_count counts $(count_packets gw dnat4_count), expected a new 0"; ok=1; }
	[ "$(set_elems gw dnat4_count) $(set_elems gw snat4_count)" = "1 1" ] ||
		{ fail "counters = yes again: dnat4_count and snat4_count hold $(set_elems gw dnat4_count) and $(set_elems gw snat4_count), expected 1 1"; ok=1; }
	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	swan gw --reload-settings > /dev/null 2>&1
	[ $ok = 0 ]
}

# set_elems ROLE SET: number of elements in a set or map of the plugin's table
set_elems()
{
	nsx "$1" nft -j list table ip tunnel_nat 2>/dev/null |
		jq --arg n "$2" '[.nftables[] | (.set // .map) | select(. != null and .name == $n) | .elem // [] | length] | add // 0'
}

# svc_conf FORWARDS [PRIVATE]: the gateway's one mapping of P,
# claims-service: these port forwards, and with PRIVATE many-to-one of that
# prefix
svc_conf()
{
	cat > "$WORK/gw/tunnel-nat.conf" <<EOC
tunnel-nat {
  load = yes
  mappings {
    claims-service {
      child = claims
      public = $P
${2:+      private = $2
      pat = yes
}      forward = $1
    }
  }
}
EOC
}

# the many-to-one and port forward settings: P:443 -> app1:8443, P:22 ->
# app2:22, the LAN leaves as P
PF_APP2=10.1.0.11
pf_conf() { svc_conf "443/tcp:$APP:8443, 22:$PF_APP2" 10.1.0.0/24; }

# pf_works: both forwards answer, the app's port 7000 on P and the gateway's
# own port on P do not
pf_works()
{
	local out
	out=$(tcp_ask ch $C $P 443 "tls")
	[ "$out" = "app1 $C tls" ] || { pf_diag 443 tls; fail "C -> P:443 answered '$out', expected 'app1 $C tls' (app1:8443)"; return 1; }
	out=$(tcp_ask ch $C $P 22 "ssh")
	[ "$out" = "app2 $C ssh" ] || { pf_diag 22 ssh; fail "C -> P:22 answered '$out', expected 'app2 $C ssh' (app2:22)"; return 1; }
	out=$(tcp_ask_dropped ch $C $P 7000 "not forwarded")
	[ -z "$out" ] || fail "C -> P:7000 (not forwarded) answered '$out'" || return 1
	# with kernel-libipsec P is an address of the gateway (on lo)
	[ "$BACKEND" = libipsec ] || return 0
	out=$(tcp_ask_dropped ch $C $P 7005 "gateway itself")
	[ -z "$out" ] || fail "C -> P:7005 (not forwarded, the gateway's own) answered '$out'" || return 1
}

# pf_diag PORT LINE: after a forward did not answer, what the gateway held
# for it, and whether a second connection gets through (which tells a lost
# exchange from a missing translation; the check has failed either way)
pf_diag()
{
	log "    the exchange: $(tcp_said 1)"
	log "    conntrack of P:$1 at the gateway: $(nsx gw conntrack -L -p tcp --orig-port-dst "$1" 2>/dev/null | tr '\n' ';')"
	log "    forward4: $(nsx gw nft list map ip tunnel_nat forward4 2>&1 | tr -s '\n\t' ' ')"
	log "    CHILD_SAs at the gateway: $(child_ids gw claims), at C: $(child_ids ch claims)"
	log "    a second connection answered '$(tcp_ask ch $C $P "$1" "$2 again")'"
	log "    the gateway's last lines of tunnel-nat:"
	grep "tunnel-nat" "$WORK/gw/charon.log" | tail -n 8 | sed 's/^/      /'
}

pf_elems()
{
	echo "$(set_elems gw forward4) $(set_elems gw pat4) $(set_elems gw closed4) $(nft_elems gw dnat4) $(nft_elems gw snat4)"
}

pf_elems_are() { [ "$(pf_elems)" = "$1" ]; }
# connections the clearinghouse holds
pat_arrived() { cat "$WORK/pat-arrived" 2>/dev/null | grep -c .; }
pat_arrived_are() { [ "$(pat_arrived)" = "$1" ]; }

test_port_forwards_and_pat()
{
	local out i before ok=0 pids=()
	charon_kill gw TERM
	charon_conf gw
	charon_start gw && swan_load gw gateway || return 1
	ensure_up || return 1
	nsx app ip addr add $PF_APP2/24 dev eth0 2>/dev/null
	for i in $(seq 20 29); do nsx app ip addr add 10.1.0.$i/24 dev eth0 2>/dev/null; done
	tcp_server app $APP 8443 app1 && tcp_server app $PF_APP2 22 app2 || return 1
	if [ "$BACKEND" = libipsec ]; then
		tcp_server gw $P 7005 gw || return 1
	fi
	# the clearinghouse notes each connection's line and peer as it arrives,
	# and holds it until pat-go exists: all ten are open at once
	rm -f "$WORK/pat-go" "$WORK/pat-arrived"
	nsx ch socat -t 30 TCP-LISTEN:7004,bind=$C,reuseaddr,fork,backlog=32 \
		SYSTEM:"read l; echo \$SOCAT_PEERADDR \$l >> $WORK/pat-arrived; while [ ! -e $WORK/pat-go ]; do sleep 0.1; done; echo ch \$SOCAT_PEERADDR \$SOCAT_PEERPORT \$l" \
		> /dev/null 2>&1 &
	wait_port ch tcp $C 7004

	pf_conf
	reload_and_see "reloaded settings: 1 mappings, 4 translations added, 2 removed" || ok=1
	[ "$(pf_elems)" = "2 1 1 0 0" ] || { fail "forward4, pat4, closed4, dnat4, snat4: $(pf_elems), expected 2 1 1 0 0"; ok=1; }
	nsx gw nft list map ip tunnel_nat forward4 | grep -q "$C . $P . tcp . 443 comment \"child claims\" : $APP . 8443" ||
		{ fail "forward4 does not read '$C . $P . tcp . 443 : $APP . 8443': $(nsx gw nft list map ip tunnel_nat forward4 | grep -A3 elements)"; ok=1; }
	before=$(rule_packets gw "port not forwarded")
	pf_works || ok=1
	# the rule that closes the other ports counted the SYNs of C's
	# connection to P:7000 (with its retransmissions: at least 1)
	out=$(rule_packets gw "port not forwarded")
	log "    the rule closing the ports not forwarded: $before -> $out packets"
	counted_more "$before" "$out" 1 ||
		{ fail "the rule closing the ports not forwarded counted '$before' -> '$out'"; ok=1; }
	# each forward counted its connection (at least 6 packets), the closed
	# port nothing
	for i in 443 22; do
		out=$(nsx gw nft list set ip tunnel_nat forward4_count | tr -d '\n\t' |
			grep -o "$C . $P . tcp . $i counter packets [0-9]*" | grep -o '[0-9]*$')
		log "    forward of port $i counted ${out:-no} packets"
		[ "${out:-0}" -ge 6 ] || { fail "the forward of P:$i counted '${out:-nothing}' packets, expected >= 6"; ok=1; }
	done

	# ten private hosts leave as P at the same time
	for i in $(seq 20 29); do
		echo "host$i" | nsx app timeout 60 socat -t 40 - \
			TCP:$C:7004,bind=10.1.0.$i,connect-timeout=30 > "$WORK/pat-$i.txt" 2>/dev/null &
		pids+=($!)
	done
	wait_for 30 pat_arrived_are 10
	out=$(pat_arrived)
	touch "$WORK/pat-go"
	wait "${pids[@]}"
	log "    open at the clearinghouse at once: $out connections, from $(cut -d' ' -f1 "$WORK/pat-arrived" | sort -u | tr '\n' ' ')"
	[ "$out" = 10 ] || { fail "expected 10 connections open at C at once, found $out"; ok=1; }
	[ "$(cut -d' ' -f1 "$WORK/pat-arrived" | sort -u)" = "$P" ] ||
		{ fail "C saw peers other than P: $(cut -d' ' -f1 "$WORK/pat-arrived" | sort -u | tr '\n' ' ')"; ok=1; }
	for i in $(seq 20 29); do
		out=$(cat "$WORK/pat-$i.txt")
		[[ "$out" =~ ^"ch $P "[0-9]+" host$i"$ ]] || { fail "10.1.0.$i -> C answered '$out', expected 'ch $P PORT host$i'"; ok=1; }
	done
	log "    source ports seen by C: $(cut -d' ' -f3 "$WORK"/pat-*.txt | sort -n | tr '\n' ' ')"
	out=$(count_packets gw pat4_count)
	log "    many-to-one counted $out packets"
	[ "$out" -ge 50 ] || { fail "many-to-one counted $out packets of ten TCP connections, expected >= 50"; ok=1; }

	# kept across a rekey, removed on down, back on up
	before=$(child_uniqueid claims)
	swan gw --rekey --child claims > /dev/null || { fail "rekey failed"; ok=1; }
	wait_for 10 only_new_installed gw claims "$before" || { fail "no new CHILD_SA after the rekey"; ok=1; }
	[ "$(pf_elems)" = "2 1 1 0 0" ] || { fail "after the rekey: $(pf_elems)"; ok=1; }
	pf_works || ok=1
	swan gw --terminate --child claims --timeout 10 > /dev/null 2>&1
	[ "$(pf_elems)" = "0 0 0 0 0" ] || { fail "after terminate: $(pf_elems), expected nothing"; ok=1; }
	ensure_up || ok=1
	[ "$(pf_elems)" = "2 1 1 0 0" ] || { fail "after up again: $(pf_elems)"; ok=1; }
	pf_works || ok=1

	# self-healing restores all kinds
	nsx gw nft flush ruleset
	wait_for 5 pf_elems_are "2 1 1 0 0" || { fail "after nft flush ruleset: $(pf_elems)"; ok=1; }
	pf_works || ok=1

	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	reload_and_see "reloaded settings: 1 mappings, 2 translations added, 4 removed" || ok=1
	nsx app ip addr del $PF_APP2/24 dev eth0
	for i in $(seq 20 29); do nsx app ip addr del 10.1.0.$i/24 dev eth0; done
	[ $ok = 0 ]
}

walks() { grep -c "tunnel-nat: conntrack table walked" "$WORK/gw/charon.log"; }
walks_above() { [ "$(walks)" -gt "$1" ]; }

# A forward added beside another leaves the other's flows alone. C holds a
# connection to P:444 (forwarded to app:8444); a reload adds P:22, and its
# conntrack clean-up runs; only then does the app answer. Had the clean-up
# deleted the flow's entry, the app's answer would start a new, untranslated
# one and never reach C as P:444.
test_forward_kept_when_another_added()
{
	local out before pid ok=0
	ensure_up || return 1
	rm -f "$WORK/held-in" "$WORK/held-go"
	nsx app socat -t 30 TCP-LISTEN:8444,bind=$APP,reuseaddr,fork \
		SYSTEM:"read l; echo \$l >> $WORK/held-in; while [ ! -e $WORK/held-go ]; do sleep 0.1; done; echo held \$SOCAT_PEERADDR \$l" \
		> /dev/null 2>&1 &
	wait_port app tcp $APP 8444 || return 1
	before=$(walks)
	svc_conf "444/tcp:$APP:8444"
	reload_and_see "reloaded settings: 1 mappings, 2 translations added" || ok=1
	# the clean-up of this reload is done before the connection starts
	wait_for 5 walks_above "$before" || { fail "no conntrack clean-up after the first reload"; ok=1; }
	echo "long request" | nsx ch timeout 40 socat -t 30 - \
		TCP:$P:444,bind=$C,connect-timeout=10 > "$WORK/held-out" 2>&1 &
	pid=$!
	wait_for 10 test -s "$WORK/held-in" || { fail "the app did not get C's request on P:444"; ok=1; }
	# C's request, its FIN and their ACKs are through
	sleep 0.5
	before=$(walks)
	svc_conf "444/tcp:$APP:8444, 22:$PF_APP2"
	reload_and_see "reloaded settings: 1 mappings, 1 translations added, 0 removed" || ok=1
	wait_for 5 walks_above "$before" || { fail "no conntrack clean-up after the reload"; ok=1; }
	log "    the held flow after the clean-up: $(nsx gw conntrack -L -p tcp --orig-port-dst 444 2>/dev/null | tr '\n' ';')"
	touch "$WORK/held-go"
	wait $pid
	out=$(cat "$WORK/held-out")
	log "    C's held connection to P:444 answered '$out'"
	[ "$out" = "held $C long request" ] ||
		{ fail "the connection to P:444 broke when P:22 was added: '$out'"; ok=1; }
	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	reload_and_see "reloaded settings: 1 mappings" || ok=1
	[ $ok = 0 ]
}

# A reload that replaces the 1:1 mapping of the app by many-to-one of its
# prefix leaves the app's own flows alone: many-to-one SNATs them to P, as
# the 1:1 mapping did. The app holds a connection to the clearinghouse
# across such a reload and its conntrack clean-up; only then does C answer.
# Had the clean-up deleted the flow's entry, C's answer to P would start a
# new flow, which P's closed ports drop, and never reach the app.
test_app_flow_kept_when_many_to_one_replaces_1to1()
{
	local out before pid srv ok=0
	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	reload_and_see "reloaded settings: 1 mappings" || return 1
	ensure_up || return 1
	rm -f "$WORK/held-in" "$WORK/held-go"
	nsx_bg ch socat -t 30 TCP-LISTEN:7100,bind=$C,reuseaddr,fork \
		SYSTEM:"read l; echo \$l >> $WORK/held-in; while [ ! -e $WORK/held-go ]; do sleep 0.1; done; echo held \$SOCAT_PEERADDR \$l" \
		> /dev/null 2>&1
	srv=$BG_PID
	wait_port ch tcp $C 7100 || { kill $srv; return 1; }
	echo "app request" | nsx app timeout 40 socat -t 30 - \
		TCP:$C:7100,bind=$APP,connect-timeout=10 > "$WORK/held-out" 2>&1 &
	pid=$!
	wait_for 10 test -s "$WORK/held-in" || { fail "C did not get the app's request"; ok=1; }
	# the app's request, its FIN and their ACKs are through
	sleep 0.5
	before=$(walks)
	svc_conf "443/tcp:$APP:8443" 10.1.0.0/24
	reload_and_see "reloaded settings: 1 mappings" || ok=1
	wait_for 5 walks_above "$before" || { fail "no conntrack clean-up after the reload"; ok=1; }
	log "    the held flow after the clean-up: $(nsx gw conntrack -L -p tcp --orig-port-dst 7100 2>/dev/null | tr '\n' ';')"
	touch "$WORK/held-go"
	wait $pid
	kill $srv 2>/dev/null
	out=$(cat "$WORK/held-out")
	log "    the app's held connection to C answered '$out'"
	[ "$out" = "held $P app request" ] ||
		{ fail "the app's connection to C broke when many-to-one replaced the 1:1 mapping: '$out'"; ok=1; }
	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	reload_and_see "reloaded settings: 1 mappings" || ok=1
	[ $ok = 0 ]
}

test_forward_settings_invalid()
{
	cat > "$WORK/gw/tunnel-nat.conf" <<EOC
tunnel-nat {
  load = yes
  mappings {
    claims-service {
      child = claims
      public = $P
      forward = 443/sctp:$APP:8443
    }
  }
}
EOC
	reload_and_see "reloaded settings rejected" || return 1
	grep -q "mappings.claims-service.forward = '443/sctp:$APP:8443': '443/sctp:$APP:8443' is invalid: the protocol is tcp or udp" "$WORK/gw/charon.log" ||
		fail "no error naming mappings.claims-service.forward and its value" || return 1
	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	swan gw --reload-settings > /dev/null 2>&1
	test_clearinghouse_reaches_app
}

# partner-side mappings need kernel XFRM: with kernel-libipsec (this lab's
# backend) the reload that holds one is rejected with a line naming the key,
# the value and why, and the current mappings stay in force
test_partner_refused()
{
	cat > "$WORK/gw/tunnel-nat.conf" <<EOC
tunnel-nat {
  load = yes
  mappings {
    claims-service {
      child = claims, claims-b
      public = $P
      private = $APP
    }
    acme {
      child = claims
      remote = 10.9.0.0/24
      alias = 100.64.1.0/24
    }
  }
}
EOC
	reload_and_see "reloaded settings rejected" || return 1
	grep -q "mappings.acme.remote = '10.9.0.0/24': partner-side mappings need kernel XFRM (kernel-netlink); kernel-libipsec cannot tell which CHILD_SA decrypted a packet, nor steer by mark: mapping 'acme' skipped" "$WORK/gw/charon.log" ||
		fail "no kernel-libipsec refusal naming mappings.acme.remote and its value" || return 1
	test_clearinghouse_reaches_app || return 1
	cp "$CONFDIR/gateway/tunnel-nat.conf" "$WORK/gw/tunnel-nat.conf"
	swan gw --reload-settings > /dev/null 2>&1
	test_clearinghouse_reaches_app
}

test_no_cap_net_admin()
{
	local dir=$WORK/nocap
	mkdir -p "$dir"
	sed "s|$WORK/gw/charon.log|$dir/charon.log|; s|/run/gw.vici|/run/nocap.vici|" \
		"$WORK/gw/strongswan.conf" > "$dir/strongswan.conf"
	nsx_bg gw unshare -m --propagation private sh -c \
		"mount -t tmpfs none /run && STRONGSWAN_CONF=$dir/strongswan.conf \
		 exec setpriv --inh-caps=-net_admin --bounding-set=-net_admin $CHARON" \
		> "$dir/stdout" 2>&1
	local pid=$BG_PID
	disown "$pid"
	wait_for 10 grep -qs "tunnel-nat plugin requires CAP_NET_ADMIN" "$dir/charon.log"
	local found=$?
	kill -9 $pid 2>/dev/null
	[ $found = 0 ] || fail "no CAP_NET_ADMIN message: $(cat "$dir/charon.log" "$dir/stdout" 2>/dev/null | tail -5)"
}

# --- main -------------------------------------------------------------------

echo "tunnel-nat integration suite, backend $BACKEND"
lab_up || { echo "0 passed, 1 failed"; exit 1; }
# make-before-break reauthentication (strongSwan 6.0's default)
charon_conf gw "	make_before_break = yes"
charon_start gw && charon_start ch || { echo "0 passed, 1 failed"; exit 1; }
swan_load gw gateway && swan_load ch clearinghouse || { echo "0 passed, 1 failed"; exit 1; }
tcp_server app $APP 7000 app
tcp_server ch $C 7001 ch
tcp_server ch2 $C2 7003 ch2
udp_sink app $APP 7002 "$WORK/udp-app.txt"

run_test "TCP clearinghouse -> P reaches the app host (DNAT)" test_clearinghouse_reaches_app
run_test "TCP app host -> clearinghouse leaves as P (SNAT)" test_app_reaches_clearinghouse
run_test "translations listed in plain words (swanctl, nft)" test_translations_listed
run_test "wire check: the untrusted link carries only ESP" test_wire_only_esp
run_test "forged cleartext packet from the internet is not translated" test_forged_cleartext_not_translated
run_test "swanctl --rekey --child under traffic, no gap" test_rekey_keeps_translations
run_test "rekey by the partner (gateway responds) under traffic, no gap" test_rekey_responder_keeps_translations
run_test "rekey, partner's DELETE lost, IKE_SA terminated: nothing left" test_rekey_delete_lost_then_terminate
run_test "rekey collision under traffic, nothing of the loser left" test_rekey_collision
run_test "IKE_SA rekey keeps the translations" test_ike_rekey_keeps_translations
run_test "reauthentication, make-before-break, under traffic" test_reauth_make_before_break
run_test "netlink error: kernel's reason logged, state rewritten whole" test_netlink_error_no_half_state
run_test "swanctl --terminate removes the translations" test_terminate_removes_translations
run_test "SIGKILL and restart: stale table replaced, tunnel works" test_sigkill_restart_replaces_stale_table
run_test "invalid mappings beside a valid one" test_invalid_mapping_beside_valid
run_test "two partners map the same P, one goes down" test_two_partners_same_public
run_test "conntrack: a flow started while down is translated on up" test_conntrack_hygiene
run_test "self-healing: nft flush ruleset, translations restored" test_heal_flush_ruleset
run_test "self-healing: nft delete table, translations restored" test_heal_delete_table
run_test "self-healing with another firewall's table first: nft flush ruleset" test_heal_other_table_flush
run_test "self-healing: one transaction adds a table and deletes ours" test_heal_other_table_transaction
run_test "counters: each translation counts its flows' packets both ways; counters = no" test_counters
run_test "live reload under traffic: changed, removed, invalid, SIGHUP" test_reload_under_traffic
run_test "port forwards P:443 -> app1:8443, P:22 -> app2:22, other ports closed; many-to-one: ten hosts leave as P at once" test_port_forwards_and_pat
run_test "a held forwarded connection outlives another forward's arrival" test_forward_kept_when_another_added
run_test "a held connection of the app outlives many-to-one replacing its 1:1 mapping" test_app_flow_kept_when_many_to_one_replaces_1to1
run_test "invalid port forward rejected, naming key and value" test_forward_settings_invalid
# kernel-libipsec only: with kernel XFRM (the VM) the mapping is accepted,
# and tests/integration/test_twice_nat.sh covers it
if [ "$BACKEND" = libipsec ]; then
	run_test "partner-side mapping refused with kernel-libipsec, naming key and value" test_partner_refused
fi
run_test "missing CAP_NET_ADMIN reported at load" test_no_cap_net_admin
summary
