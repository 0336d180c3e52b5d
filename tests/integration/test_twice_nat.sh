#!/bin/bash
# Integration suite of tunnel-nat's partner-side mappings ("twice NAT", issue
# 14, docs/design/twice-nat.md §10.1): real charon on every side, kernel
# XFRM with %unique marks, real nftables, in network namespaces. Kernel
# XFRM only: run it in the VM (tests/vm/run.sh, via tests/vm/test_xfrm.sh).
#
#   app 10.1.0.10 -- gw -- wan0 -- ch  "acme"    10.9.0.5, 10.9.0.6 on lo
#                       \-- wan1 -- ch2 "globex"  10.9.0.5, 10.9.0.6 on lo
#                       \-- wan2 -- ch3 "initech" 10.9.0.5, 10.9.0.6 on lo
#                       \-- wan3 -- ch4 "hooli"   10.9.0.133 on lo (xfrm2)
#                       \-- wan4 -- ch5 "umbrella" 10.9.0.149 on lo (vti0)
#
# The three partners' networks are identical (10.9.0.0/24); the app sees
# them as 100.64.1.0/24, 100.64.2.0/24 and 100.64.3.0/24
# (swanctl.d/gateway-twice-nat). The gateway's routes to 10.9.0.0/24 and to
# the alias blocks (100.64.0.0/10) point at acme's link, as a default route
# to the internet would, so that a packet that leaves without a bundle or
# without a translation shows up there in clear. hooli's 10.9.0.128/28 lies
# in the same space but has no alias: the gateway reaches it by its real
# addresses through a route-based tunnel (XFRM interface xfrm2, if_id 44),
# and publishes the host 10.1.0.12 to it as P2 = 192.0.2.101; umbrella's
# 10.9.0.144/28 likewise through a VTI (vti0), 10.1.0.13 as P3 = 192.0.2.102.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
BACKEND=xfrm
LAB_TWICE=1
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/twice_spoof.sh"
trap lab_down EXIT
trap 'exit 1' INT TERM

grep -q '^CONFIG_INET_ESP=[ym]' "/boot/config-$(uname -r)" 2>/dev/null ||
	modprobe esp4 2>/dev/null || {
	echo "test_twice_nat: this kernel has no ESP: run it in the VM (tests/vm/run.sh)"
	echo "0 passed, 1 failed"
	exit 1
}

declare -A CHILD=([ch]=acme-net [ch2]=globex-net [ch3]=initech-net
	[ch4]=hooli-net [ch5]=umbrella-net)
declare -A ALIAS=([ch]=$ALIAS_A [ch2]=$ALIAS_B [ch3]=$ALIAS_C)
declare -A NAME=([ch]=acme [ch2]=globex [ch3]=initech [ch4]=hooli
	[ch5]=umbrella)

# up ROLE: the gateway brings ROLE's tunnel up if it is not
up()
{
	local child=${CHILD[$1]}
	child_installed gw "$child" && return 0
	swan gw --initiate --child "$child" --timeout 20 > /dev/null 2>&1
	wait_for 10 child_installed gw "$child" || fail "$child did not come up" || return 1
	# hooli and umbrella have no partner side
	[ -n "${ALIAS[$1]:-}" ] || return 0
	# the partner-side elements are in once the listener logged them
	wait_eval 5 '[ -n "$(pzone_of "$child")" ]' ||
		fail "no pzone4 element for $child: $(nsx gw nft list map ip tunnel_nat pzone4 2>&1 | tr '\n' ' ')"
}

# zone_of CHILD: the conntrack zone the gateway gave a partner-side config
zone_of()
{
	grep -ho "partner $1: conntrack zone [0-9]*" "$WORK/gw/charon.log" |
		tail -n 1 | awk '{ print $NF }'
}

# map_elems MAP: a map's elements, one a line (the comments hold braces:
# "acme acme-net{3}", so the end is the last three closing ones)
map_elems()
{
	nsx gw nft list map ip tunnel_nat "$1" 2>/dev/null | tr '\n\t' '  ' |
		sed -e 's/.*elements = {//' -e 's/ *} *} *} *$//' | tr ',' '\n' |
		sed -e 's/^ *//' -e 's/ *$//' | grep .
}

# pzone_of CHILD: the pzone4 element of CHILD's binding
pzone_of()
{
	map_elems pzone4 | grep -F "$1{"
}

# packets_of MAP PATTERN: the packet counter of the element matching PATTERN
packets_of()
{
	map_elems "$1" | grep -F -- "$2" | grep -oE 'packets [0-9]+' |
		head -n 1 | cut -d' ' -f2
}

# set_packets SET...: the packets counted by all elements of the sets
set_packets()
{
	local set
	for set in "$@"; do
		nsx gw nft list set ip tunnel_nat "$set" 2>/dev/null
	done | grep -oE 'packets [0-9]+' | awk '{ n += $2 } END { print n + 0 }'
}

# rules: the number of rules in the plugin's table (the lines with a handle
# that are not the table, a chain, a set or a map)
rules()
{
	nsx gw nft -a list table ip tunnel_nat | grep '# handle' |
		grep -vcE '^[[:space:]]*(table|chain|set|map) ' | tr -d ' '
}

# zone_entries ZONE [FILTER]: conntrack entries in a zone (matching a grep
# pattern)
zone_entries()
{
	nsx gw conntrack -L 2>/dev/null | grep -E "zone=$1( |$)" |
		grep -E -- "${2:-.}" | grep -c . | tr -d ' '
}

# partner_servers: each partner answers on 10.9.0.5:7001 with its name
partner_servers()
{
	local r
	for r in ch ch2 ch3; do
		nsx "$r" ss -H -tln "src $PHOST:7001" | grep -q . && continue
		tcp_server "$r" $PHOST 7001 "${NAME[$r]}" || return 1
	done
}

# leak_count NAME: packets from or to 10/8, 100.64/10 or P that are not
# ESP or IKE in the captures NAME-w0, -w1, -w2 (what the gateway sends on
# its WAN links)
leak_count()
{
	local f n=0
	for f in "$1"-w0 "$1"-w1 "$1"-w2; do
		n=$((n + $(cap_count "$f" "not esp and not udp port 500 and not udp port 4500 and (net 10.0.0.0/8 or net 100.64.0.0/10 or host $P)")))
	done
	echo "$n"
}

caps_start()
{
	cap_start gw wan0 "$1-w0" out && cap_start gw wan1 "$1-w1" out &&
		cap_start gw wan2 "$1-w2" out
}

caps_stop()
{
	cap_stop "$1-w0"; cap_stop "$1-w1"; cap_stop "$1-w2"
}

caps_show()
{
	local f
	for f in "$1"-w0 "$1"-w1 "$1"-w2; do
		cap_show "$f" "not esp and not udp port 500 and not udp port 4500 and (net 10.0.0.0/8 or net 100.64.0.0/10 or host $P)" | head -n 3
	done
}

esp_count()
{
	local f n=0
	for f in "$1"-w0 "$1"-w1 "$1"-w2; do
		n=$((n + $(cap_count "$f" esp)))
	done
	echo "$n"
}

# alias_closed CAPTURE ALIAS WHY: the app's TCP to ALIAS.5 and UDP to ALIAS.6
# get no answer, nothing leaves in clear on the WAN links (the lab routes
# the alias blocks out on acme's link), and the plugin's fail-closed rule
# counted them
alias_closed()
{
	local out clear d0 d1
	caps_start "$1" || return 1
	d0=$(rule_packets gw "an alias whose partner is down")
	out=$(tcp_ask_dropped app $APP $2.5 7001 "$3")
	udp_send app $APP $2.6 7002 "$3"
	caps_stop "$1"
	d1=$(rule_packets gw "an alias whose partner is down")
	clear=$(leak_count "$1")
	log "    app -> $2.5 ($3): answer '$out', $clear cleartext packets; the fail-closed rule counted $d0 -> $d1"
	[ -z "$out" ] || fail "$2.5 answered ($3): '$out'" || return 1
	[ "$clear" = 0 ] || fail "cleartext ($3): $(caps_show "$1")" || return 1
	# the plugin's rule dropped them: at least the SYN and the datagram
	counted_more "$d0" "$d1" 2 ||
		fail "the fail-closed rule counted '$d0' -> '$d1' packets, expected 2 more ($3)" || return 1
}

# --- tests ------------------------------------------------------------------

# T1: acme and globex, both from 10.9.0.5, to P at the same time; the app
# sees each under its own alias; one conntrack entry per zone, the same
# original tuple
test_partners_reach_app_at_once()
{
	local za zb a b ea eb
	up ch && up ch2 || return 1
	za=$(zone_of acme-net); zb=$(zone_of globex-net)
	[ -n "$za" ] && [ -n "$zb" ] && [ "$za" != "$zb" ] ||
		fail "zones of acme-net and globex-net: '$za' '$zb'" || return 1
	local pa pb
	tcp_ask ch $PHOST:40000 $P 7000 "from acme" > "$WORK/t1-a" &
	pa=$!
	tcp_ask ch2 $PHOST:40000 $P 7000 "from globex" > "$WORK/t1-b" &
	pb=$!
	wait "$pa" "$pb"
	a=$(cat "$WORK/t1-a"); b=$(cat "$WORK/t1-b")
	[ "$a" = "app $ALIAS_A.5 from acme" ] ||
		fail "acme from $PHOST: the app answered '$a', expected 'app $ALIAS_A.5 from acme'" || return 1
	[ "$b" = "app $ALIAS_B.5 from globex" ] ||
		fail "globex from $PHOST: the app answered '$b', expected 'app $ALIAS_B.5 from globex'" || return 1
	ea=$(zone_entries "$za" "src=$PHOST dst=$P sport=40000 dport=7000")
	eb=$(zone_entries "$zb" "src=$PHOST dst=$P sport=40000 dport=7000")
	log "    zones $za and $zb: $ea and $eb entries $PHOST:40000 -> $P:7000"
	[ "$ea" = 1 ] && [ "$eb" = 1 ] ||
		fail "expected one entry with that tuple in each zone: $(nsx gw conntrack -L 2>/dev/null | grep 'sport=40000')"
}

# T2: the app starts to each partner by its alias; the right partner
# answers, and sees P
test_app_reaches_partners_by_alias()
{
	local r out
	up ch && up ch2 && partner_servers || return 1
	for r in ch ch2; do
		out=$(tcp_ask app $APP ${ALIAS[$r]}.5 7001 "hello ${NAME[$r]}")
		[ "$out" = "${NAME[$r]} $P hello ${NAME[$r]}" ] ||
			fail "app -> ${ALIAS[$r]}.5:7001 answered '$out', expected '${NAME[$r]} $P hello ${NAME[$r]}'" ||
			return 1
	done
}

# T3: the same with UDP, to 10.9.0.6 at each partner
test_app_udp_by_alias()
{
	local r
	up ch && up ch2 || return 1
	for r in ch ch2; do
		udp_sink "$r" 10.9.0.6 7002 "$WORK/udp-$r" || return 1
	done
	for r in ch ch2; do
		udp_send app $APP ${ALIAS[$r]}.6 7002 "datagram for ${NAME[$r]}"
	done
	for r in ch ch2; do
		wait_for 5 grep -q "datagram for ${NAME[$r]}" "$WORK/udp-$r" ||
			fail "${NAME[$r]} got no datagram: '$(cat "$WORK/udp-$r" 2>/dev/null)'" || return 1
		[ "$(cat "$WORK/udp-$r")" = "$P datagram for ${NAME[$r]}" ] ||
			fail "${NAME[$r]} got '$(cat "$WORK/udp-$r")', expected only '$P datagram for ${NAME[$r]}'" || return 1
	done
}

# T14: the traffic of T1 and T2 crosses the WAN links only as ESP
test_wire_only_esp()
{
	local a b c clear esp
	up ch && up ch2 && partner_servers || return 1
	caps_start wire || return 1
	a=$(tcp_ask ch $PHOST $P 7000 "wire acme")
	b=$(tcp_ask ch2 $PHOST $P 7000 "wire globex")
	c=$(tcp_ask app $APP $ALIAS_A.5 7001 "wire out")
	nsx ch2 ping -n -q -c 3 -i 0.2 -I $PHOST $P > /dev/null 2>&1
	caps_stop wire
	[ "$a" = "app $ALIAS_A.5 wire acme" ] && [ "$b" = "app $ALIAS_B.5 wire globex" ] &&
		[ "$c" = "acme $P wire out" ] ||
		fail "traffic did not flow: '$a' '$b' '$c'" || return 1
	clear=$(leak_count wire); esp=$(esp_count wire)
	log "    wire: $esp ESP packets, $clear cleartext packets of 10/8, 100.64/10 or P"
	[ "$clear" = 0 ] || fail "cleartext on the WAN links: $(caps_show wire)" || return 1
	[ "$esp" -ge 10 ] || fail "expected the exchanges as ESP, saw $esp packets"
}

# T11: the per-element counters count the traffic: acme's pzone4 element
# (inbound, per CHILD_SA) and its azone4 element (outbound, per alias)
test_counters()
{
	local za pa0 pa1 aa0 aa1 pb0 pb1 d0 d1
	up ch && up ch2 || return 1
	za=$(zone_of acme-net)
	pa0=$(packets_of pzone4 "acme acme-net{"); aa0=$(packets_of azone4_l24 "$ALIAS_A.0")
	pb0=$(packets_of pzone4 "globex globex-net{")
	d0=$(set_packets dnat4_count dnat4_ranges_count)
	[ -n "$pa0" ] && [ -n "$aa0" ] && [ -n "$pb0" ] ||
		fail "no counters in the listing: $(nsx gw nft list map ip tunnel_nat pzone4 2>&1 | tr '\n' ' ')" ||
		return 1
	nsx ch ping -n -q -c 5 -i 0.2 -I $PHOST $P > "$WORK/ping-t11" 2>&1
	[ "$(ping_loss "$WORK/ping-t11")" = 0 ] ||
		fail "acme's pings to P were lost: $(tail -n 2 "$WORK/ping-t11")" || return 1
	pa1=$(packets_of pzone4 "acme acme-net{"); aa1=$(packets_of azone4_l24 "$ALIAS_A.0")
	pb1=$(packets_of pzone4 "globex globex-net{")
	log "    acme: pzone4 $pa0 -> $pa1 packets, azone4_l24 $aa0 -> $aa1; globex's pzone4 $pb0 -> $pb1"
	log "    $(map_elems pzone4 | grep -F 'acme-net{')"
	[ $((pa1 - pa0)) -ge 5 ] || fail "acme's pzone4 counter grew by $((pa1 - pa0)), expected >= 5" || return 1
	[ $((aa1 - aa0)) -ge 5 ] || fail "acme's azone4 counter grew by $((aa1 - aa0)), expected >= 5 (the replies)" || return 1
	[ "$pb1" = "$pb0" ] || fail "globex's counter moved with acme's traffic: $pb0 -> $pb1" || return 1
	# a flow the partner started is counted by the P side's DNAT as well:
	# the counting chain's first rule lets only flows our hosts started to
	# an alias leave
	d1=$(set_packets dnat4_count dnat4_ranges_count)
	log "    the P side's DNAT counting sets: $d0 -> $d1 packets"
	[ $((d1 - d0)) -ge 5 ] ||
		fail "the P side's DNAT counters grew by $((d1 - d0)), expected >= 5 (acme's pings to P)"
}

# nft 1.0.6 lists the table, partner side included
test_nft_lists_table()
{
	local out
	up ch && up ch2 || return 1
	out=$(nsx gw nft list table ip tunnel_nat 2>&1) ||
		fail "nft list table ip tunnel_nat failed: $(echo "$out" | tail -n 3)" || return 1
	# zone and mark share one rule, per class and for the reqid
	echo "$out" | grep -qF "ct zone set ipsec in reqid map @pzone4 meta mark set ipsec in reqid map @pmark4" &&
		echo "$out" | grep -qF "ct zone set ip daddr & 255.255.255.0 map @azone4_l24 meta mark set ip daddr & 255.255.255.0 map @amark4_l24" ||
		{ fail "the raw rules are not listed as written: $(echo "$out" | grep 'ct zone set' | tr '\n' ' ')"; return 1; }
	echo "$out" | grep -q "ct zone [0-9]*-[0-9]* ct mark & 0x[0-9a-f]* == 0x00000000 return comment \"tunnel-nat: flows our hosts started" ||
		{ fail "the counting chain lacks the partner side's rule: $(echo "$out" | grep -A2 'chain count' | tr '\n' ' ')"; return 1; }
	echo "$out" | grep -q "map pzone4" && echo "$out" | grep -q "map psnat4_l24" &&
		echo "$out" | grep -q "chain guard_post" ||
		fail "the listing lacks the partner side: $(echo "$out" | grep -E 'map|chain' | tr '\n' ' ')"
}

# T12: the number of rules does not change when a third partner comes up
test_rule_count_constant()
{
	local before after out
	up ch && up ch2 || return 1
	swan gw --terminate --child initech-net > /dev/null 2>&1
	before=$(rules)
	up ch3 || return 1
	after=$(rules)
	log "    rules in table ip tunnel_nat: $before with two partners, $after with three"
	[ "$before" = "$after" ] ||
		fail "the rule count changed from $before to $after" || return 1
	# the P side's 9 (2 jumps to its chain decrypted, 4 there, 3 SNAT) and
	# its 7 counting rules, 1 counting rule of the partner side; 4 fixed,
	# 5 for the one class /24, 5 guard rules, 3 for the one class of the
	# settings (design §4.4)
	[ "$after" = $((9 + 7 + 1 + 4 + 5 + 5 + 3)) ] ||
		fail "expected $((9 + 7 + 1 + 4 + 5 + 5 + 3)) rules, counted $after" || return 1
	# and the third works: the app reaches initech by its alias
	partner_servers || return 1
	out=$(tcp_ask app $APP $ALIAS_C.5 7001 "hello initech")
	[ "$out" = "initech $P hello initech" ] ||
		fail "app -> $ALIAS_C.5 answered '$out'"
}

# The app sends to a partner's real address, not an alias: nothing leaves
# in clear (the design's open question, §12)
test_real_address_no_leak()
{
	local out alias clear esp lan g0 g1
	up ch && up ch2 && partner_servers || return 1
	caps_start real && cap_start gw lan0 real-lan in || return 1
	g0=$(rule_packets gw "a partner's real address")
	out=$(tcp_ask_dropped app $APP $PHOST 7001 "to the real address")
	udp_send app $APP $PHOST 7003 "real address, udp"
	nsx app ping -n -q -c 3 -i 0.2 -W 1 $PHOST > /dev/null 2>&1
	g1=$(rule_packets gw "a partner's real address")
	# the positive control: the same captures see an exchange by the alias
	# leave as ESP
	alias=$(tcp_ask app $APP $ALIAS_A.5 7001 "control by the alias")
	caps_stop real; cap_stop real-lan
	clear=$(leak_count real); esp=$(esp_count real)
	lan=$(cap_count real-lan "src host $APP and dst host $PHOST")
	log "    app -> $PHOST (real address): answer '$out', $lan packets reached the gateway, $clear cleartext packets on the WAN links, the real-address guard counted $g0 -> $g1; control by the alias: '$alias', $esp ESP packets"
	[ "$alias" = "acme $P control by the alias" ] && [ "$esp" -ge 2 ] ||
		fail "the control did not pass: answer '$alias', $esp ESP packets" || return 1
	# the TCP SYN and its retries, the UDP datagram, three pings
	[ "$lan" -ge 5 ] ||
		fail "the app's packets to $PHOST did not reach the gateway ($lan)" || return 1
	[ "$clear" = 0 ] ||
		fail "LEAK: the app's packets to a partner's real address left in clear: $(caps_show real)" || return 1
	# the plugin's guard dropped them, not something else on the way
	counted_more "$g0" "$g1" 5 ||
		fail "the real-address guard counted '$g0' -> '$g1' packets, expected 5 more"
}

# T9, second part: a flow our host starts to a partner's alias from an
# address that is no mapping's private side. It gets the partner's zone,
# mark and DNAT, but no SNAT to P, so its source is outside the child's
# local_ts: no policy takes it, and the guard drops it ("rt ipsec
# missing") where it would otherwise leave in clear on the route to
# 10.9.0.0/24.
test_source_without_p_side()
{
	local out clear g0 g1 esp other=10.1.0.11
	up ch && partner_servers || return 1
	nsx app ip addr add $other/24 dev eth0 || return 1
	caps_start nops || { nsx app ip addr del $other/24 dev eth0; return 1; }
	g0=$(rule_packets gw "a flow to a partner without its SA")
	out=$(tcp_ask_dropped app $other $ALIAS_A.5 7001 "from outside the P side")
	udp_send app $other $ALIAS_A.6 7002 "from outside the P side"
	g1=$(rule_packets gw "a flow to a partner without its SA")
	caps_stop nops
	nsx app ip addr del $other/24 dev eth0
	clear=$(leak_count nops); esp=$(esp_count nops)
	log "    $other -> $ALIAS_A.5: answer '$out', $clear cleartext and $esp ESP packets on the WAN links; the guard counted $g0 -> $g1"
	[ -z "$out" ] || fail "$ALIAS_A.5 answered $other: '$out'" || return 1
	[ "$clear" = 0 ] || fail "LEAK: $other's packets to $ALIAS_A.5 left in clear: $(caps_show nops)" || return 1
	counted_more "$g0" "$g1" 2 ||
		fail "the guard counted '$g0' -> '$g1' packets, expected at least the SYN and the datagram" || return 1
	# the same from the P side's private address works (the control)
	out=$(tcp_ask app $APP $ALIAS_A.5 7001 "control")
	[ "$out" = "acme $P control" ] || fail "the control from $APP answered '$out'"
}

# Route-based P-side tunnels into the partners' space: hooli (10.9.0.128/28,
# XFRM interface xfrm2) and umbrella (10.9.0.144/28, VTI vti0). Their packets
# get their SA in the interface, after postrouting, so "rt ipsec missing"
# holds for them in the guard. The app's flow to such a partner's real
# address is source-NATed to its public address and its destination is in
# the configured remote blocks: the real-address rule would drop it but for
# the guard's "meta oifkind" return rules.
#
# route_based ROLE: both directions work (the app to the partner's host,
# the partner to its public address), a trace shows a return in guard_post
# for the app's packets, the real-address rules count nothing more, and
# only ESP leaves on the partner's link
declare -A RB_HOST=([ch4]=$HHOST [ch5]=$UHOST) RB_PUB=([ch4]=$P2 [ch5]=$P3)
declare -A RB_PRIV=([ch4]=$APP2 [ch5]=$APP3) RB_WAN=([ch4]=wan3 [ch5]=wan4)
declare -A RB_KIND=([ch4]=xfrm [ch5]=vti) RB_DEV=([ch4]=xfrm2 [ch5]=vti0)
route_based()
{
	local r=$1 out back trace g0 g1 clear esp t=trace_$1 mon
	local host=${RB_HOST[$1]} pub=${RB_PUB[$1]} priv=${RB_PRIV[$1]}
	local kind=${RB_KIND[$1]} cap=rb-$1
	up "$r" && up ch || return 1
	nsx app ip addr add "$priv"/24 dev eth0 || return 1
	if ! { tcp_server app "$priv" 7000 "app-$r" &&
		   tcp_server "$r" "$host" 7001 "${NAME[$r]}"; }; then
		nsx app ip addr del "$priv"/24 dev eth0
		fail "the servers did not start"; return 1
	fi
	# the test's own table traces the app's packets to the partner (raw -
	# 1, before the plugin's chains)
	nsx gw nft -f - <<-EOF || { nsx app ip addr del "$priv"/24 dev eth0; return 1; }
	table ip $t {
		chain pre {
			type filter hook prerouting priority -301; policy accept;
			ip saddr $priv ip daddr $host meta nftrace set 1
		}
	}
	EOF
	nsx_bg gw nft monitor trace > "$WORK/$t.log" 2>&1
	mon=$BG_PID
	sleep 0.5
	if ! cap_start gw "${RB_WAN[$r]}" "$cap" out; then
		kill $mon; nsx gw nft delete table ip $t
		nsx app ip addr del "$priv"/24 dev eth0; return 1
	fi
	g0=$(rule_packets gw "a partner's real address")
	out=$(tcp_ask app "$priv" "$host" 7001 "by its real address")
	back=$(tcp_ask "$r" "$host" "$pub" 7000 "to its public address")
	g1=$(rule_packets gw "a partner's real address")
	cap_stop "$cap"
	kill $mon; wait $mon 2>/dev/null
	nsx gw nft delete table ip $t
	nsx app ip addr del "$priv"/24 dev eth0
	# a return in guard_post: only the oifkind rules return there (Debian
	# 12's kernel traces it as "verdict return" without the rule, newer
	# ones name the rule); the packets' oif is the partner's device
	trace=$(grep -cE "ip tunnel_nat guard_post (rule meta oifkind \"$kind\" return|verdict return)" "$WORK/$t.log")
	clear=$(cap_count "$cap" "ip and not esp and not udp port 500 and not udp port 4500")
	esp=$(cap_count "$cap" esp)
	log "    app $priv -> $host: '$out'; $host -> $pub: '$back'; a return in guard_post traced $trace times (oif ${RB_DEV[$r]}); the real-address rules counted $g0 -> $g1; on ${RB_WAN[$r]} $esp ESP and $clear other packets"
	[ "$out" = "${NAME[$r]} $pub by its real address" ] ||
		fail "the app did not reach ${NAME[$r]} by its real address as $pub: '$out' $(grep -m 3 guard_post "$WORK/$t.log")" || return 1
	[ "$back" = "app-$r $host to its public address" ] ||
		fail "${NAME[$r]} did not reach $priv as $pub: '$back'" || return 1
	# the SYN and the rest of the app's packets of the flow
	[ "$trace" -ge 3 ] ||
		fail "the $kind return rule did not take the app's packets: $(grep guard_post "$WORK/$t.log" | head -n 5)" || return 1
	[ "$g0" != none ] && [ "$g1" = "$g0" ] ||
		fail "the real-address rules counted '$g0' -> '$g1'" || return 1
	[ "$clear" = 0 ] && [ "$esp" -ge 6 ] ||
		fail "on ${NAME[$r]}'s link: $esp ESP and $clear other packets: $(cap_show "$cap" 'ip and not esp' | head -n 3)"
}

test_route_based_xfrmi() { route_based ch4; }

# T16b: the same through the VTI; then umbrella sends to acme's alias. Its
# child, as route-based tunnels often have, negotiates 0.0.0.0/0 on our
# side, so the gateway's inbound policy lets that through. A VTI drops the
# secpath, and raw's "meta iifkind vti" return keeps its packets from an
# alias's zone, mark and DNAT, as "meta secpath" does for the others: the
# fail-closed rule drops them, not the guard's rule for a flow in a partner
# zone without its SA (which would, had they got acme's zone), and acme
# sees nothing.
test_route_based_vti()
{
	local out f0 f1 z0 z1
	route_based ch5 && partner_servers || return 1
	f0=$(rule_packets gw "an alias whose partner is down")
	z0=$(rule_packets gw "a flow to a partner without its SA")
	out=$(tcp_ask_dropped ch5 $UHOST $ALIAS_A.5 7001 "to acme's alias")
	f1=$(rule_packets gw "an alias whose partner is down")
	z1=$(rule_packets gw "a flow to a partner without its SA")
	log "    umbrella $UHOST -> $ALIAS_A.5 through its SA: '$out'; the fail-closed rule counted $f0 -> $f1, the guard's first rule $z0 -> $z1"
	[ -z "$out" ] || fail "umbrella reached acme through its alias: '$out'" || return 1
	counted_more "$f0" "$f1" 1 ||
		fail "the fail-closed rule counted '$f0' -> '$f1': the packets got a translation or were not decrypted; gateway's XFRM errors: $(nsx gw awk '$2 > 0' /proc/net/xfrm_stat | tr '\n' ' ')" || return 1
	[ "$z0" != none ] && [ "$z1" = "$z0" ] ||
		fail "the guard's first rule counted '$z0' -> '$z1': umbrella's packets got acme's zone"
}

# T4: acme terminated: globex keeps working without a gap, acme's alias is
# fail-closed (nothing in clear), and acme's zone is emptied
test_terminate_one()
{
	local za out loss
	up ch && up ch2 && partner_servers || return 1
	za=$(zone_of acme-net)
	# entries in acme's zone, both ways
	tcp_ask ch $PHOST $P 7000 "before" > /dev/null
	tcp_ask app $APP $ALIAS_A.5 7001 "before" > /dev/null
	[ "$(zone_entries "$za")" -gt 0 ] || fail "no entries in acme's zone $za to begin with" || return 1
	nsx ch2 ping -n -q -c 30 -i 0.1 -I $PHOST $P > "$WORK/ping-t4" 2>&1 &
	local ping=$!
	sleep 0.5
	swan gw --terminate --ike acme > /dev/null 2>&1
	wait_eval 10 '! child_installed gw acme-net' || fail "acme-net still installed" || return 1
	wait "$ping"
	grep -q ' 30 received' "$WORK/ping-t4" ||
		fail "globex's ping did not get its 30 answers: $(tail -n 2 "$WORK/ping-t4" | tr '\n' ' ')" || return 1
	loss=$(ping_loss "$WORK/ping-t4")
	[ "$loss" = 0 ] || fail "globex lost $loss of 30 pings while acme went down" || return 1
	out=$(tcp_ask ch2 $PHOST $P 7000 "after")
	[ "$out" = "app $ALIAS_B.5 after" ] || fail "globex after acme's termination: '$out'" || return 1
	wait_eval 5 '[ "$(zone_entries "$za")" = 0 ]' ||
		fail "acme's zone $za still has entries: $(nsx gw conntrack -L 2>/dev/null | grep "zone=$za")" || return 1
	alias_closed closed $ALIAS_A "acme is down" || return 1
	up ch
}

# T9: a partner-side child without marks. The plugin cannot steer into its
# SA (its policy would catch the other partners' identical selectors), so
# it refuses the child's translations at up, naming the child and the
# settings, and installs none of them: the app's packets to initech's alias
# are dropped by the fail-closed rule, nothing leaves in clear. charon
# keeps running, the other partners are untouched. Last: the unmarked
# policy stays until the end of the suite.
test_child_without_marks()
{
	local out before conf=$WORK/gw/swanctl-nomarks.conf
	up ch && up ch2 && partner_servers || return 1
	swan gw --terminate --ike initech > /dev/null 2>&1
	wait_eval 10 '! child_installed gw initech-net' || fail "initech-net still installed" || return 1
	# initech's child without mark_in/mark_out
	awk '/initech-net \{/ { n = 1 } n && /mark_(in|out) =/ { next } { print }' \
		"$CONFDIR/gateway-twice-nat/swanctl.conf" > "$conf"
	grep -A6 'initech-net {' "$conf" | grep -q mark_ && { fail "the marks are still in $conf"; return 1; }
	swan gw --load-conns --file "$conf" > "$WORK/gw/swanctl-nomarks.log" 2>&1 ||
		fail "loading initech without marks failed: $(tail -n 3 "$WORK/gw/swanctl-nomarks.log")" || return 1
	before=$(grep -c "initech-net.*needs mark_in and mark_out" "$WORK/gw/charon.log")
	swan gw --initiate --child initech-net --timeout 20 > /dev/null 2>&1
	wait_for 10 child_installed gw initech-net || fail "initech-net did not come up" || return 1
	wait_eval 5 '[ "$(grep -c "initech-net.*needs mark_in and mark_out" "$WORK/gw/charon.log")" -gt '"$before"' ]' ||
		fail "no error naming initech-net and mark_in/mark_out: $(grep 'tunnel-nat.*initech' "$WORK/gw/charon.log" | tail -n 3)" || return 1
	log "    $(grep "initech-net.*needs mark_in" "$WORK/gw/charon.log" | tail -n 1 | sed 's/^ *[0-9:]* [0-9]*\[CHD\] //')"
	[ -z "$(pzone_of initech-net)" ] || fail "initech-net got a pzone4 element: $(pzone_of initech-net)" || return 1
	map_elems azone4_l24 | grep -qF "$ALIAS_C.0" &&
		{ fail "initech's alias got an azone4 element: $(map_elems azone4_l24 | grep -F "$ALIAS_C.0")"; return 1; }
	alias_closed nomarks $ALIAS_C "initech has no marks" || return 1
	kill -0 "${CHARON_PID[gw]}" 2>/dev/null || fail "the gateway's charon is gone" || return 1
	# acme still reaches the app under its alias
	out=$(tcp_ask ch $PHOST $P 7000 "acme beside unmarked initech")
	[ "$out" = "app $ALIAS_A.5 acme beside unmarked initech" ] ||
		fail "acme beside unmarked initech: the app answered '$out'" || return 1
}

# T5: rekeying a partner's CHILD_SA keeps the elements; the counters go on
test_rekey_keeps_translations()
{
	local before after id p0 p1 out
	up ch && up ch2 && partner_servers || return 1
	before=$(for m in pzone4 pmark4 azone4_l24 amark4_l24 adnat4_l24 psnat4_l24; do
		map_elems $m | sed -E 's/counter packets [0-9]+ bytes [0-9]+//; s/\{[0-9]+\}//'; done)
	p0=$(packets_of pzone4 "acme acme-net{")
	id=$(child_uniqueid acme-net)
	swan gw --rekey --child acme-net > /dev/null 2>&1
	wait_for 10 installed_other_than gw acme-net "$id" ||
		fail "no new acme-net CHILD_SA: $(child_ids gw acme-net)" || return 1
	wait_for 5 only_new_installed gw acme-net "$id" ||
		fail "the old acme-net CHILD_SA is still installed: $(child_ids gw acme-net)" || return 1
	out=$(tcp_ask ch $PHOST $P 7000 "after rekey")
	[ "$out" = "app $ALIAS_A.5 after rekey" ] || fail "acme after the rekey: '$out'" || return 1
	out=$(tcp_ask app $APP $ALIAS_A.5 7001 "after rekey")
	[ "$out" = "acme $P after rekey" ] || fail "app -> acme after the rekey: '$out'" || return 1
	after=$(for m in pzone4 pmark4 azone4_l24 amark4_l24 adnat4_l24 psnat4_l24; do
		map_elems $m | sed -E 's/counter packets [0-9]+ bytes [0-9]+//; s/\{[0-9]+\}//'; done)
	p1=$(packets_of pzone4 "acme acme-net{")
	log "    acme's pzone4 counter: $p0 -> $p1 packets"
	[ "$before" = "$after" ] || fail "elements changed: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')" || return 1
	[ "${p1:-0}" -gt "${p0:-0}" ] || fail "the counter did not go on: $p0 -> $p1"
}

# T6: a reauthentication keeps the zone and the translations (5.9.8:
# break-before-make, new %unique marks)
test_reauth_keeps_translations()
{
	local before za mk0 mk1 out
	up ch && up ch2 && partner_servers || return 1
	reauth_quiet gw acme acme-net || return 1
	za=$(zone_of acme-net)
	mk0=$(map_elems pmark4 | grep -F 'acme-net{' | grep -oE ': *0x[0-9a-f]+' | tr -d ': ')
	before=$(ike_ids gw acme)
	swan gw --rekey --ike acme --reauth > /dev/null 2>&1
	ike_replaced gw acme "$before" reauthentication || return 1
	wait_for 10 child_installed gw acme-net || fail "acme-net not back after the reauthentication" || return 1
	wait_eval 5 '[ -n "$(pzone_of acme-net)" ]' || fail "no pzone4 element after the reauthentication" || return 1
	mk1=$(map_elems pmark4 | grep -F 'acme-net{' | grep -oE ': *0x[0-9a-f]+' | tr -d ': ')
	log "    acme's mark_in: $mk0 -> $mk1; zone $za; $(pzone_of acme-net)"
	pzone_of acme-net | grep -qE ": *$za( |\$)" || fail "acme's zone is not $za: $(pzone_of acme-net)" || return 1
	out=$(tcp_ask ch $PHOST $P 7000 "after reauth")
	[ "$out" = "app $ALIAS_A.5 after reauth" ] || fail "acme after the reauthentication: '$out'" || return 1
	out=$(tcp_ask app $APP $ALIAS_A.5 7001 "after reauth")
	[ "$out" = "acme $P after reauth" ] || fail "app -> acme after the reauthentication: '$out'"
}

# T13: the table deleted by someone else comes back, twice NAT works again
test_self_healing()
{
	local out
	up ch && up ch2 || return 1
	nsx gw nft delete table ip tunnel_nat || return 1
	wait_for 10 nft_table_exists gw || fail "the table did not come back" || return 1
	wait_eval 5 '[ -n "$(pzone_of acme-net)" ] && [ -n "$(pzone_of globex-net)" ]' ||
		fail "the partner elements did not come back: $(map_elems pzone4 | tr '\n' ' ')" || return 1
	out=$(tcp_ask ch2 $PHOST $P 7000 "healed")
	[ "$out" = "app $ALIAS_B.5 healed" ] || fail "globex after the restore: '$out'"
}

# T7: while acme has a flow from 10.9.0.5:40007 to P, globex sends segments
# with that exact tuple and acme's sequence numbers (data, then RSTs):
# they become globex's own flow in globex's zone (the app sees 100.64.2.5),
# acme's entry and connection are untouched, nothing goes into acme's
# tunnel
test_spoof_partner_tuple()
{
	up ch && up ch2 || return 1
	echo_server app $APP 7010 || fail "no echo server on the app" || return 1
	cap_start app eth0 t7-seq || return 1
	conv_start t7 ch $PHOST 40007 $P 7010 || return 1
	spoof_established t7 40007 7010 "src=$PHOST dst=$P sport=40007 dport=7010" \
		"peer $ALIAS_A.5 40007" || { conv_stop; return 1; }
}

# T8: the app has a flow to acme's alias (reply tuple 10.9.0.5:7011 ->
# P:50008 in acme's zone); globex sends segments with that reply tuple and
# acme's sequence numbers: they are not translated into acme's flow (the
# app's connection never sees them), they become globex's own flow
test_spoof_partner_reply()
{
	up ch && up ch2 || return 1
	echo_server ch $PHOST 7011 || fail "no echo server at acme" || return 1
	cap_start app eth0 t8-seq || return 1
	conv_start t8 app $APP 50008 $ALIAS_A.5 7011 || return 1
	spoof_established t8 7011 50008 \
		"src=$APP dst=$ALIAS_A.5 sport=50008 dport=7011" "peer $P 50008" ||
		{ conv_stop; return 1; }
}

# T10: the gateway's own ping to acme's alias, from a source in the child's
# local_ts (P, added on the gateway's lo for this test: with the xfrm
# backend P is not local, and no policy covers the gateway's other
# addresses, design §5.5): answered by acme, its entry in acme's zone
test_gateway_ping_alias()
{
	local za out
	up ch && up ch2 || return 1
	za=$(zone_of acme-net)
	# and a route to the alias block, as a default route would give: the
	# first route lookup happens before raw_out and the DNAT re-route
	ip -n "$(ns gw)" addr add $P/32 dev lo || return 1
	ip -n "$(ns gw)" route add $ALIAS_A.0/24 via $CH_WAN
	nsx gw ping -n -q -c 3 -i 0.2 -W 2 -I $P $ALIAS_A.5 > "$WORK/ping-t10" 2>&1
	out=$(entry_of "$za" "icmp .*src=$P dst=$ALIAS_A.5 ")
	ip -n "$(ns gw)" route del $ALIAS_A.0/24 via $CH_WAN
	ip -n "$(ns gw)" addr del $P/32 dev lo
	log "    $(grep transmitted "$WORK/ping-t10"); zone $za: $out"
	[ "$(ping_loss "$WORK/ping-t10")" = 0 ] ||
		fail "the gateway's ping to $ALIAS_A.5 was lost: $(cat "$WORK/ping-t10" | tr '\n' ' ')" || return 1
	echo "$out" | grep -q "src=$PHOST dst=$P " ||
		fail "no entry of the ping in acme's zone $za: $(nsx gw conntrack -L 2>/dev/null | grep icmp)"
}

# T15: a restart with other settings. The zones are given again in the
# settings' order: without acme's mapping, globex gets the zone acme had and
# initech globex's. charon dies (no clean-up of its own can run) and starts
# with the new settings: before any CHILD_SA is up, the entries the earlier
# run left in partner_zones that no partner-side mapping now owns are
# deleted, so globex does not meet acme's flows in its new zone. An entry
# the new settings own (globex's alias in globex's new zone) and one outside
# partner_zones stay. Last: it restarts the gateway with other settings.
test_restart_foreign_zones()
{
	local r za zb out conf=$WORK/gw/tunnel-nat.conf
	up ch && up ch2 && partner_servers || return 1
	# initech without marks (T9) goes first: its policy is not steered
	swan gw --terminate --ike initech > /dev/null 2>&1
	wait_eval 10 '! child_installed gw initech-net' || fail "initech-net still installed" || return 1
	za=$(zone_of acme-net); zb=$(zone_of globex-net)
	# flows of the earlier run in acme's and globex's zones, both ways
	for r in ch ch2; do
		tcp_ask $r $PHOST $P 7000 "before the restart" > /dev/null
		tcp_ask app $APP ${ALIAS[$r]}.5 7001 "before the restart" > /dev/null
	done
	[ "$(zone_entries "$za" "dst=$ALIAS_A.5")" -ge 2 ] ||
		fail "no entries of acme in its zone $za: $(nsx gw conntrack -L 2>/dev/null | grep "zone=$za")" || return 1
	[ "$(zone_entries "$zb" "dst=$ALIAS_B.5")" -ge 2 ] ||
		fail "no entries of globex in its zone $zb: $(nsx gw conntrack -L 2>/dev/null | grep "zone=$zb")" || return 1
	charon_kill gw KILL
	# what a crash leaves in the kernel besides the entries: the SAs and
	# policies (a reboot would clear them, charon does not)
	nsx gw ip xfrm policy flush; nsx gw ip xfrm state flush
	# an entry the new settings own (globex's alias in the zone globex gets)
	# and one outside partner_zones
	nsx gw conntrack -I -w "$za" -p udp -s 10.9.0.7 -d $P --sport 40015 		--dport 7002 -r $APP -q $ALIAS_B.7 --reply-port-src 7002 		--reply-port-dst 40015 -t 300 > /dev/null 2>&1 &&
	nsx gw conntrack -I -w 4095 -p udp -s 10.9.0.7 -d $P --sport 40015 		--dport 7002 -r $APP -q $ALIAS_A.7 --reply-port-src 7002 		--reply-port-dst 40015 -t 300 > /dev/null 2>&1 ||
		fail "conntrack -I failed" || return 1
	# acme's mapping leaves the settings
	awk '/^        acme \{/ { skip = 1 } !skip { print } skip && /^        \}/ { skip = 0 }' \
		"$CONFDIR/$GW_CONF/tunnel-nat.conf" > "$conf"
	grep -q 'child = acme-net' "$conf" && { fail "acme's mapping is still in $conf"; return 1; }
	charon_start gw && swan_load gw "$GW_CONF" || fail "the gateway did not start again" || return 1
	logged gw "partner globex-net: conntrack zone $za" ||
		fail "globex did not get acme's zone $za: $(grep 'conntrack zone' "$WORK/gw/charon.log" | tail -n 2)" || return 1
	logged gw "partner initech-net: conntrack zone $zb" ||
		fail "initech did not get globex's zone $zb" || return 1
	logged gw "deleted [0-9]* conntrack entries of partner_zones" ||
		fail "no deletion logged: $(grep 'tunnel-nat' "$WORK/gw/charon.log" | tail -n 5)" || return 1
	log "    $(grep "conntrack entries of partner_zones" "$WORK/gw/charon.log" | tail -n 1 | sed 's/^ *[0-9:]* [0-9]*\[CFG\] //')"
	[ "$(zone_entries "$za" "dst=$ALIAS_A")" = 0 ] ||
		fail "acme's entries are still in zone $za, now globex's: $(nsx gw conntrack -L 2>/dev/null | grep "zone=$za")" || return 1
	[ "$(zone_entries "$zb" "dst=$ALIAS_B.5")" = 0 ] ||
		fail "globex's entries are still in zone $zb, now initech's: $(nsx gw conntrack -L 2>/dev/null | grep "zone=$zb")" || return 1
	[ "$(zone_entries "$za" "dst=$ALIAS_B.7")" = 1 ] ||
		fail "the entry globex owns in its new zone $za was deleted" || return 1
	[ "$(zone_entries 4095 "dst=$ALIAS_A.7")" = 1 ] ||
		fail "the entry in zone 4095, outside partner_zones, was deleted" || return 1
	# globex comes up in its new zone, under its alias
	up ch2 || return 1
	pzone_of globex-net | grep -qE ": *$za( |\$)" || fail "globex's zone is not $za: $(pzone_of globex-net)" || return 1
	out=$(tcp_ask ch2 $PHOST $P 7000 "after the restart")
	[ "$out" = "app $ALIAS_B.5 after the restart" ] || fail "globex after the restart: '$out'" || return 1
	[ "$(zone_entries "$za" "dst=$ALIAS_B.5")" -ge 1 ] ||
		fail "globex's new flow is not in zone $za: $(nsx gw conntrack -L 2>/dev/null | grep 'after' )"
}

# --- run --------------------------------------------------------------------

echo "twice NAT integration suite, backend $BACKEND, $GW_CONF, strongSwan ${STRONGSWAN_VERSION:-${SW_VERSION:-5.9.8}}"
lab_up
# umbrella's child has 0.0.0.0/0 on our side: with it, charon would route
# umbrella's network around the VTI (table 220, toward the peer), as it does
# for every VTI unless told not to
charon_conf gw "	install_routes = no"
charon_start gw && charon_start ch && charon_start ch2 && charon_start ch3 &&
	charon_start ch4 && charon_start ch5 &&
swan_load gw "$GW_CONF" && swan_load ch partner-acme && swan_load ch2 partner-globex &&
	swan_load ch3 partner-initech && swan_load ch4 partner-hooli &&
	swan_load ch5 partner-umbrella ||
	{ echo "0 passed, 1 failed"; exit 1; }
tcp_server app $APP 7000 app || { echo "0 passed, 1 failed"; exit 1; }

run_test "T1 two partners with the same address reach the app at once, each by its alias" test_partners_reach_app_at_once
run_test "T2 the app reaches each partner by its alias (TCP)" test_app_reaches_partners_by_alias
run_test "T3 the app reaches each partner by its alias (UDP)" test_app_udp_by_alias
run_test "T14 only ESP on the WAN links" test_wire_only_esp
run_test "T11 per-element counters count the traffic" test_counters
run_test "nft 1.0.6 lists the table" test_nft_lists_table
run_test "T12 rule count constant when a third partner comes up" test_rule_count_constant
run_test "the app to a partner's real address: nothing in clear" test_real_address_no_leak
run_test "T9b a source outside the P side to an alias: dropped by the guard, nothing in clear" test_source_without_p_side
run_test "T16 a P-side tunnel into the same space through an XFRM interface passes the guard, only ESP" test_route_based_xfrmi
run_test "T16b the same through a VTI" test_route_based_vti
run_test "T7 globex sends acme's tuple: its own flow in its zone, never acme's" test_spoof_partner_tuple
run_test "T8 globex sends the reply tuple of the app's flow to acme: not translated into it" test_spoof_partner_reply
run_test "T10 the gateway's own ping to an alias, from P: answered, in the partner's zone" test_gateway_ping_alias
run_test "T5 rekey keeps the translations" test_rekey_keeps_translations
run_test "T6 reauthentication keeps zone and translations" test_reauth_keeps_translations
run_test "T4 one partner terminated: the others go on, its alias fail-closed, its zone emptied" test_terminate_one
run_test "T13 self-healing: the table comes back with the partner side" test_self_healing
run_test "T9 a partner-side child without marks: refused at up, naming it; alias fail-closed" test_child_without_marks
run_test "T15 a restart with a mapping removed: the partner zones hold nothing of the earlier run that no partner now owns" test_restart_foreign_zones
summary
