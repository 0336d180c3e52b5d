#!/bin/bash
# Integration suite of the HA pair: two gateways (nodes a and b) with
# strongSwan's ha plugin, keepalived and conntrackd, tunnel-nat and
# tunnel-route on both, in front of the app host; the clearinghouse sees one
# gateway at the virtual address 192.0.2.1. Run as root.
#
#   ch (C, 192.0.2.2) --+-- wan bridge --+-- node a (192.0.2.3, wan0)
#                       |                +-- node b (192.0.2.4, wan0)
#   app (10.1.0.10) ----+-- lan bridge --+-- a (10.1.0.2) / b (10.1.0.3)
#   node a sync0 10.9.0.1 ---- sync link ---- node b sync0 10.9.0.2
#
# VRRP (keepalived) moves 192.0.2.1 and 10.1.0.1. Each node is a set of
# processes (charon, keepalived, conntrackd) in the node's network namespace
# and a mount namespace of its own, with a private /run and the files of
# swanctl.d/ha-pair/ at their /etc paths: each daemon's pid, lock, socket and
# FIFO paths are the node's own, and the lab runs the files unchanged.
# A node's "death" is SIGKILL of its daemons and its links going down; its
# restart is a reboot: the kernel state a reboot loses is flushed.
#
#   BACKEND=libipsec (default; ESP in userspace, P local on lo) or
#   BACKEND=xfrm (kernel ESP, P not local; in the VM: tests/vm/vm-run.sh)
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
source "$(dirname "$0")/lib.sh"
trap lab_down EXIT
trap 'exit 1' INT TERM

HA=$CONFDIR/ha-pair
VIP=192.0.2.1
TABLE_ID=4242
PROTO=242
# where a tunnel's inner traffic leaves: kernel-libipsec's TUN device, or
# (policy-based XFRM) the interface toward the peer
TUN_IF=ipsec0
[ "$BACKEND" = libipsec ] || TUN_IF=wan0
KEEPALIVED=${KEEPALIVED:-keepalived}
CONNTRACKD=${CONNTRACKD:-conntrackd}
declare -A HOLDER=() NODE_PIDS=()

# --- topology ---------------------------------------------------------------

# bridge_port ROLE IF ADDR BRIDGE: a link from ROLE into a bridge of "sw"
bridge_port()
{
	local port=p$RANDOM
	ip -n "$(ns "$1")" link add "$2" type veth peer name "$port" netns "$(ns sw)"
	ip -n "$(ns "$1")" addr add "$3" dev "$2"
	ip -n "$(ns "$1")" link set "$2" up
	ip -n "$(ns sw)" link set "$port" master "$4" up
}

ha_lab_up()
{
	local r
	# conntrack and its netlink interface, for conntrackd (modules in the
	# VM's kernel; built in on the host's)
	modprobe -q nf_conntrack 2>/dev/null
	modprobe -q nf_conntrack_netlink 2>/dev/null
	for r in sw ch gwa gwb app; do
		lab_add_ns "$r"
	done
	ip -n "$(ns sw)" link add brw type bridge
	ip -n "$(ns sw)" link add brl type bridge
	ip -n "$(ns sw)" link set brw up
	ip -n "$(ns sw)" link set brl up
	bridge_port ch eth0 $CH_WAN/28 brw
	bridge_port gwa wan0 192.0.2.3/28 brw
	bridge_port gwb wan0 192.0.2.4/28 brw
	bridge_port gwa lan0 10.1.0.2/24 brl
	bridge_port gwb lan0 10.1.0.3/24 brl
	bridge_port app eth0 $APP/24 brl
	lab_link gwa sync0 10.9.0.1/30 gwb sync0 10.9.0.2/30
	ip -n "$(ns ch)" addr add $C/32 dev lo
	ip -n "$(ns ch)" route add default via $VIP
	ip -n "$(ns app)" route add default via 10.1.0.1
	for r in gwa gwb; do
		# kernel-libipsec needs a local address in local_ts
		[ "$BACKEND" != libipsec ] || ip -n "$(ns $r)" addr add $P/32 dev lo
		nsx $r sysctl -qw net.ipv4.ip_forward=1
		nsx $r sysctl -qw net.ipv4.conf.wan0.rp_filter=0 \
			net.ipv4.conf.lan0.rp_filter=0 net.ipv4.conf.sync0.rp_filter=0
		# no pick-up of a TCP connection in mid-stream: a packet of a
		# connection the node has no entry for is invalid and gets no NAT
		# (it would reach P itself, which answers with a reset), so the
		# established stream survives a takeover only through the entry
		# conntrackd synced, NAT binding included. TCP windows are not
		# tracked strictly on a synced entry (conntrackd's advice).
		nsx $r sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 &&
		nsx $r sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1 || return 1
	done
}

# --- the nodes --------------------------------------------------------------

# node_conf ROLE: charon's strongswan.conf of node a or b
node_conf()
{
	local role=$1 dir=$WORK/$1
	mkdir -p "$dir"
	: > "$dir/override.conf"
	cat > "$dir/strongswan.conf" <<EOC
charon {
	load = $( [ "$BACKEND" = libipsec ] && echo kernel-libipsec ) $(echo $PLUGINS) ha tunnel-nat tunnel-route
	port = 500
	port_nat_t = 4500
	retransmit_tries = 3
	filelog {
		log {
			path = $dir/charon.log
			time_format = %T
			time_add_ms = yes
			flush_line = yes
			ike_name = yes
			default = 1
			cfg = 2
			chd = 2
			knl = 1
		}
	}
	plugins {
		vici {
			socket = unix:///run/$role.vici
		}
		include $CONFDIR/gateway/tunnel-nat.conf
		include $CONFDIR/gateway/tunnel-route.conf
		include $HA/ha-node-${role#gw}.conf
		# what a scenario changes (then swanctl --reload-settings)
		include $dir/override.conf
	}
$(node_start_scripts "$role")
}
EOC
}

# node_start_scripts ROLE: charon loads the node's configs itself as it
# starts. The ha plugin asks the other node for its SAs 1 s after charon
# starts, and drops each SA of the answer whose peer config is not loaded
# yet ("HA is missing nodes peer configuration"), for good: loaded by the
# lab after charon's vici socket appears, the configs came too late in a
# slow VM. node_start loads them again (the same configs, nothing changes).
# Not with the distribution's charon (tests/distro), whose start scripts
# would run in its root, without this swanctl.
node_start_scripts()
{
	[ -n "${DISTRO_ROOT:-}" ] && return 0
	cat <<EOS
	start-scripts {
		load = $SWANCTL --load-all --noprompt --file $CONFDIR/ha-pair/swanctl.conf --uri unix:///run/$1.vici
	}
EOS
}

# node_etc ROLE: the node's /etc/keepalived and /etc/conntrackd, the files
# of swanctl.d/ha-pair as they are
node_etc()
{
	local role=$1 n=${1#gw} dir=$WORK/$1/etc
	mkdir -p "$dir/keepalived" "$dir/conntrackd"
	cp "$HA/keepalived-node-$n.conf" "$dir/keepalived/keepalived.conf"
	cp "$HA/ha-notify.sh" "$dir/keepalived/ha-notify.sh"
	cp "$HA/conntrackd-node-$n.conf" "$dir/conntrackd/conntrackd.conf"
	chmod 755 "$dir" "$dir/keepalived" "$dir/conntrackd" "$dir/keepalived/ha-notify.sh"
}

# in_node ROLE CMD...: run CMD in the node's network and mount namespaces
# (not for daemons started in the background: $! would be the subshell)
in_node() { local r=$1; shift; nsenter -t "${HOLDER[$r]}" -m -n "$@"; }

# node_start ROLE: the node boots: its mount namespace (private /run, its
# /etc/keepalived and /etc/conntrackd), conntrackd, charon, keepalived
node_start()
{
	local role=$1 dir=$WORK/$1 pid
	[ -f "$dir/strongswan.conf" ] || node_conf "$role"
	node_etc "$role"
	ip netns exec "$(ns "$role")" unshare -m --propagation private sh -c "
		mount -t tmpfs -o mode=755 none /run &&
		mount --bind $dir/etc/keepalived /etc/keepalived &&
		mount --bind $dir/etc/conntrackd /etc/conntrackd &&
		touch /run/.node && exec sleep 100000" >> "$dir/node.stdout" 2>&1 &
	pid=$!
	disown "$pid"
	HOLDER[$role]=$pid
	wait_for 5 nsenter -t "$pid" -m test -f /run/.node 2>>"$dir/node.stdout" ||
		{ log "node $role: no mount namespace"; return 1; }

	nsenter -t "${HOLDER[$role]}" -m -n "$CONNTRACKD" -C /etc/conntrackd/conntrackd.conf \
		>> "$dir/conntrackd.stdout" 2>&1 &
	pid=$!; disown "$pid"
	NODE_PIDS[$role]="$pid"
	wait_for 5 in_node "$role" test -S /run/conntrackd.ctl ||
		{ log "node $role: conntrackd did not start"; cat "$dir/conntrackd.stdout"; return 1; }

	nsenter -t "${HOLDER[$role]}" -m -n env STRONGSWAN_CONF="$dir/strongswan.conf" "$CHARON" \
		>> "$dir/charon.stdout" 2>&1 &
	pid=$!; disown "$pid"
	CHARON_PID[$role]=$pid
	wait_for 10 in_node "$role" test -S "/run/$role.vici" ||
		{ log "node $role: charon did not start"; tail -n 20 "$dir/charon.log"; return 1; }
	swan_load "$role" ha-pair || return 1

	nsenter -t "${HOLDER[$role]}" -m -n "$KEEPALIVED" -n -l -D -P -f /etc/keepalived/keepalived.conf \
		-p /run/keepalived.pid -r /run/keepalived-vrrp.pid \
		>> "$dir/keepalived.log" 2>&1 &
	pid=$!; disown "$pid"
	NODE_PIDS[$role]="${NODE_PIDS[$role]} $pid"
	KEEPALIVED_PID[$role]=$pid
}
declare -A KEEPALIVED_PID=()

# node_kill ROLE: the node dies at once, as on a power loss: its links go
# down first (nothing of it reaches the wire any more, not even the
# priority 0 advertisement keepalived's VRRP process sends when its parent
# dies), then its daemons are killed
node_kill()
{
	local role=$1 pid i
	# the sync link first: the dying node's last word (a notify script's
	# '-1' on losing wan0) must not reach the other node
	for i in sync0 wan0 lan0; do
		ip -n "$(ns "$role")" link set "$i" down
	done
	# the moment of death: nothing of the node's reaches the wire after it
	NODE_DEATH=$(date +%s.%N)
	for pid in ${CHARON_PID[$role]:-} ${NODE_PIDS[$role]:-} ${HOLDER[$role]:-}; do
		kill -9 "$pid" 2>/dev/null
	done
	# the node's other processes (e.g. a notify script that was running)
	ip netns pids "$(ns "$role")" 2>/dev/null | xargs -r kill -9 2>/dev/null
	unset "CHARON_PID[$role]" "NODE_PIDS[$role]" "HOLDER[$role]" "KEEPALIVED_PID[$role]"
}

# node_reboot ROLE: the dead node comes back as after a reboot: what its
# kernel held is gone (nft ruleset, routes of other tables than main, FIB
# rules, connections, the virtual addresses), then it boots
node_reboot()
{
	local role=$1 i
	[ -z "${HOLDER[$role]:-}" ] || node_kill "$role"
	nsx "$role" nft flush ruleset
	nsx "$role" ip route flush table 220 2>/dev/null
	nsx "$role" ip route flush table $TABLE_ID 2>/dev/null
	nsx "$role" ip rule show | grep -v "lookup \(local\|main\|default\)" |
		sed -E 's/^([0-9]+):.*/\1/' | while read -r i; do
			nsx "$role" ip rule del pref "$i"
		done
	nsx "$role" conntrack -F > /dev/null 2>&1
	ip -n "$(ns "$role")" addr del $VIP/28 dev wan0 2>/dev/null
	ip -n "$(ns "$role")" addr del 10.1.0.1/24 dev lan0 2>/dev/null
	ip -n "$(ns "$role")" link del ipsec0 2>/dev/null
	nsx "$role" ip xfrm state flush 2>/dev/null
	nsx "$role" ip xfrm policy flush 2>/dev/null
	for i in wan0 lan0 sync0; do
		ip -n "$(ns "$role")" link set "$i" up
	done
	# the other node's unicast VRRP advertisements to this one went
	# unresolved while it was dead (its neighbour entry failed, ARP is
	# retried once a second); one packet from here renews the entry, so
	# that this node's keepalived hears the active node within its
	# master-down interval (3 x 0.2 s) instead of taking the addresses
	nsx "$role" ping -n -q -c 1 -W 1 -I wan0 "${NODE_WAN[$(other "$role")]}" > /dev/null 2>&1
	node_start "$role"
}

# holds_vip ROLE
holds_vip() { ip -n "$(ns "$1")" addr show dev wan0 2>/dev/null | grep -q " $VIP/"; }

# active ROLE: holds the address and its charon has the IKE_SA established
ike_established()
{
	swan "$1" --list-sas --raw 2>/dev/null | grep -q "state=ESTABLISHED"
}
ike_passive()
{
	swan "$1" --list-sas --raw 2>/dev/null | grep -q "state=PASSIVE"
}

# plugin_state ROLE: "dnat snat routes": the translations and the routes
# tunnel-route installed toward C
plugin_state()
{
	local r
	r=$(nsx "$1" ip route show table $TABLE_ID $C/32 proto $PROTO 2>/dev/null | grep -c "dev $TUN_IF")
	echo "$(nft_elems "$1" dnat4) $(nft_elems "$1" snat4) $r"
}
ready() { [ "$(plugin_state "$1")" = "1 1 1" ]; }

# installed_ids ROLE: unique ids of ROLE's installed "claims" CHILD_SAs
installed_ids()
{
	child_ids "$1" claims | tr ' ' '\n' | grep ':INSTALLED$' | cut -d: -f1 | tr '\n' ' '
}

# spis ROLE: the SPIs of ROLE's installed "claims" CHILD_SAs (what the pair
# shares: unique ids are per node)
spis()
{
	swan "$1" --list-sas --raw 2>/dev/null |
		grep -Eo "name=claims uniqueid=[0-9]+ reqid=[0-9]+ state=INSTALLED [^}]*spi-in=[0-9a-f]+" |
		grep -Eo "spi-in=[0-9a-f]+" | sort | tr '\n' ' '
}
same_sas() { [ -n "$(spis "$1")" ] && [ "$(spis "$1")" = "$(spis "$2")" ]; }
# followed BEFORE: the passive node has new SAs (not BEFORE), the same as
# the active node's; one condition, since right after a rekey or
# reauthentication request the old SAs are still the same on both nodes
followed() { same_sas $ACTIVE $PASSIVE && [ "$(spis $PASSIVE)" != "$1" ]; }

# packets_out ROLE: packets sent on ROLE's newest installed "claims"
# CHILD_SA, i.e. the sequence number its outbound SA has reached (0 if none)
packets_out()
{
	local n
	n=$(swan "$1" --list-sas --raw 2>/dev/null |
		grep -Eo "name=claims uniqueid=[0-9]+ reqid=[0-9]+ state=INSTALLED [^}]*" |
		sed -n 's/^name=claims uniqueid=\([0-9]*\) .* packets-out=\([0-9]*\).*/\1 \2/p' |
		sort -n | tail -n 1 | cut -d' ' -f2)
	echo "${n:-0}"
}

ACTIVE=gwa
PASSIVE=gwb
declare -A NODE_WAN=([gwa]=192.0.2.3 [gwb]=192.0.2.4)
other() { [ "$1" = gwa ] && echo gwb || echo gwa; }

# tunnel_up: the clearinghouse brings the tunnel up with the active node,
# the passive node gets it synced
tunnel_up()
{
	swan ch --initiate --child claims --timeout 20 > /dev/null 2>&1 ||
		fail "the clearinghouse could not bring the tunnel up" || return 1
	wait_for 10 ready $ACTIVE ||
		fail "active $ACTIVE: translations/routes not installed: $(plugin_state $ACTIVE)" || return 1
	wait_for 10 same_sas $ACTIVE $PASSIVE ||
		fail "passive $PASSIVE did not get the CHILD_SA: '$(spis $ACTIVE)' vs '$(spis $PASSIVE)'" || return 1
	wait_for 10 ready $PASSIVE ||
		fail "passive $PASSIVE: translations/routes not installed ahead: $(plugin_state $PASSIVE)"
}

# ping_ok: the clearinghouse reaches the app through the tunnel, and back
ping_ok()
{
	nsx ch ping -n -q -c 1 -W 1 -I $C $P > /dev/null 2>&1
}

# leak_count NAME: cleartext between C and P or the lan in a capture
# (captured on the wan bridge itself, in "sw": what crosses the wire, and
# nothing a node decrypted)
CLEAR="host $C and (host $P or net 10.0.0.0/8) and not udp port 4500 and not esp"
leak_count() { cap_count "$1" "$CLEAR"; }

# a failing test's dump: lib.sh's (the clearinghouse, the app) and the
# nodes' own view (their SAs, VRRP states, the ha plugin's and the plugins'
# lines in their logs)
eval "lib_$(declare -f dump_state)"
dump_state()
{
	local role
	lib_dump_state
	for role in gwa gwb; do
		log "== node $role: swanctl --list-sas"
		[ -n "${CHARON_PID[$role]:-}" ] && swan $role --list-sas 2>&1 | sed 's/^/  /'
		log "== node $role: VRRP states; $(plugin_state $role) (dnat snat routes)"
		grep -h "Entering" "$WORK/$role/keepalived.log" 2>/dev/null | tail -n 6 | sed 's/^/  /'
		log "== node $role: HA and plugin lines of charon's log (last 40)"
		grep -hE "HA |resync|took over|tunnel-(nat|route):|established|state change" \
			"$WORK/$role/charon.log" 2>/dev/null | tail -n 40 | sed 's/^/  /'
	done
}

# --- tests ------------------------------------------------------------------

test_pair_comes_up()
{
	wait_for 15 holds_vip gwa || fail "node a did not become MASTER: $(tail -n 5 $WORK/gwa/keepalived.log)" || return 1
	holds_vip gwb && { fail "both nodes hold $VIP"; return 1; }
	wait_for 5 logged gwa "HA segment 1 activated" ||
		fail "charon of node a got no '+1' from keepalived: $(grep -i segment $WORK/gwa/charon.log | tail -n 3)" || return 1
	# fail-closed on both nodes before any tunnel: nothing of the app host's
	# reaches the wire toward C
	cap_start sw brw before || return 1
	nsx app sh -c "echo early | socat -u - UDP-SENDTO:$C:7009,bind=$APP" 2>/dev/null
	nsx gwb sh -c "ip route get $C from $APP iif lan0" > "$WORK/route-b.txt" 2>&1
	cap_stop before
	[ "$(leak_count before)" = 0 ] || fail "cleartext before the first up: $(cap_show before "host $C")" || return 1
	grep -q "prohibit\|unreachable\|RTNETLINK" "$WORK/route-b.txt" ||
		fail "passive node b routes the app's traffic to C in the clear: $(cat "$WORK/route-b.txt")" || return 1
	tunnel_up || return 1
	ike_passive gwb || fail "node b's IKE_SA is not PASSIVE" || return 1
	ping_ok || fail "no ping through the active node" || return 1
	log "    active a: $(plugin_state gwa) (dnat snat routes), passive b: $(plugin_state gwb); SAs: $(spis gwb)"
}

# the partner's TCP stream to the app (one line every 50 ms, echoed) and a
# ping every 50 ms, while the active node dies
test_takeover_under_traffic()
{
	local t0 first_fwd first_reply n lines last cap_b leaks stream_pid ping_pid
	local fwd_ms reply_ms rekey_ms act_ms esp
	ready $ACTIVE && ready $PASSIVE && same_sas $ACTIVE $PASSIVE ||
		fail "pair not ready: $(plugin_state $ACTIVE) / $(plugin_state $PASSIVE)" || return 1
	nsx app socat TCP-LISTEN:7100,bind=$APP,reuseaddr EXEC:cat > /dev/null 2>&1 &
	wait_port app tcp $APP 7100 || fail "no echo server" || return 1
	n=160	# 8 s
	nsx ch sh -c "for i in \$(seq $n); do echo \$i; sleep 0.05; done | socat -t 10 - TCP:$P:7100,bind=$C" \
		> "$WORK/stream.txt" 2>"$WORK/stream.err" &
	stream_pid=$!
	nsx ch ping -D -n -i 0.05 -W 1 -c 200 -I $C $P > "$WORK/ping-takeover.txt" 2>&1 &
	ping_pid=$!
	cap_start sw brw wire-takeover || return 1
	cap_start $PASSIVE lan0 b-lan out || return 1
	sleep 2
	wait_for 5 nsx $PASSIVE conntrack -L -p tcp --dport 7100 2>/dev/null | grep -q . || true
	node_kill $ACTIVE
	t0=$NODE_DEATH
	wait_for 15 holds_vip $PASSIVE || fail "node $PASSIVE did not take $VIP" || return 1
	wait_for 15 ike_established $PASSIVE || fail "node $PASSIVE's IKE_SA not ESTABLISHED" || return 1
	wait "$stream_pid"
	wait "$ping_pid"
	cap_stop wire-takeover
	cap_stop b-lan
	# the first packet the new active node translated to the app host
	first_fwd=$(tcpdump -tt -n -r "$WORK/b-lan.pcap" "dst host $APP and src host $C" 2>/dev/null | head -n 1 | cut -d' ' -f1)
	first_reply=$(awk -v t0="$t0" '/bytes from/ { gsub(/[\[\]]/, "", $1); if ($1 > t0) { print $1; exit } }' "$WORK/ping-takeover.txt")
	fwd_ms=$(awk -v a="$t0" -v b="${first_fwd:-0}" 'BEGIN { printf "%d", (b - a) * 1000 }')
	reply_ms=$(awk -v a="$t0" -v b="${first_reply:-0}" 'BEGIN { printf "%d", (b - a) * 1000 }')
	lines=$(grep -c . "$WORK/stream.txt")
	last=$(tail -n 1 "$WORK/stream.txt")
	leaks=$(leak_count wire-takeover)
	esp=$(cap_count wire-takeover "esp or (udp port 4500 and greater 100)")
	rekey_ms=$(rekey_after_takeover_ms $PASSIVE "$t0")
	act_ms=$(log_ms $PASSIVE "HA segment 1 activated" "$t0")
	log "    takeover: death -> first packet translated by node $PASSIVE: ${fwd_ms} ms; -> first ping reply at C: ${reply_ms} ms"
	log "    takeover: death -> segment activated on $PASSIVE (keepalived's notify): ${act_ms} ms; -> CHILD_SA rekeyed: ${rekey_ms} ms"
	log "    takeover: ping lost $(ping_loss "$WORK/ping-takeover.txt") of 200 (every 50 ms)"
	log "    takeover: TCP stream C -> app: $lines of $n lines echoed, last '$last'; cleartext on the wire: $leaks (ESP: $esp packets)"
	# the roles swap
	ACTIVE=$PASSIVE; PASSIVE=$(other $ACTIVE)
	[ -n "$first_fwd" ] || fail "node $ACTIVE never translated a packet to the app" || return 1
	[ "$leaks" = 0 ] || fail "cleartext on the untrusted link: $(cap_show wire-takeover "$CLEAR" | head -n 5)" || return 1
	# the capture saw the wire at all
	[ "$esp" -ge 100 ] || fail "only $esp ESP packets captured on the wire" || return 1
	[ "$lines" = "$n" ] && [ "$last" = "$n" ] ||
		fail "the established TCP stream did not survive: $lines lines, last '$last' ($(cat "$WORK/stream.err"))" || return 1
	[ -n "$first_reply" ] || fail "no ping reply after the takeover" || return 1
	# the partner still talks to the virtual address (no MOBIKE move to a
	# node's own address)
	swan ch --list-sas --raw 2>/dev/null | grep -q "remote-host=$VIP " ||
		fail "the partner's IKE_SA moved away from $VIP: $(swan ch --list-sas --raw | grep -o 'remote-host=[^ ]*')" || return 1
	# new connections through the new active node
	[ "$(tcp_ask ch $C $P 7000 "after takeover")" = "app $C after takeover" ] ||
		fail "no new connection through node $ACTIVE" || return 1
	tcp_server ch $C 7001 ch
	[ "$(tcp_ask app $APP $C 7001 "app after takeover")" = "ch $P app after takeover" ] ||
		fail "the app host's new connection to C failed through node $ACTIVE"
}

# log_ms ROLE PATTERN T0: ms from T0 (date +%s.%N) to the first line of
# ROLE's charon log after T0 that matches PATTERN (awk regex), "none" if none
log_ms()
{
	awk -v t0="$3" -v pat="$2" '
		BEGIN { d = t0 - int(t0 / 86400) * 86400 }
		$0 ~ pat {
			split($1, h, ":"); s = h[1] * 3600 + h[2] * 60 + h[3]
			if (s >= d) { printf "%d", (s - d) * 1000; found = 1; exit }
		}
		END { if (!found) print "none" }' "$WORK/$1/charon.log"
}

# rekey_after_takeover_ms ROLE T0: ms from T0 to the first CHILD_SA ROLE
# established after tunnel-route's takeover rekey was queued
rekey_after_takeover_ms()
{
	local t
	t=$(awk '/tunnel-route: took over IKE_SA/ { seen = 1 } seen && /CHILD_SA claims\{[0-9]+\} established/ { print $1; exit }' "$WORK/$1/charon.log")
	[ -n "$t" ] || { echo "none"; return; }
	awk -v t0="$2" -v t="$t" 'BEGIN {
		split(t, h, ":"); s = h[1] * 3600 + h[2] * 60 + h[3]
		d = t0 - int(t0 / 86400) * 86400
		printf "%d", (s - d) * 1000 }'
}

# the dead node comes back: it resyncs from the active one and is passive
test_restart_passive()
{
	local lost ping_pid
	node_reboot $PASSIVE || fail "node $PASSIVE did not boot" || return 1
	wait_for 20 same_sas $ACTIVE $PASSIVE ||
		fail "node $PASSIVE did not resync: '$(spis $ACTIVE)' vs '$(spis $PASSIVE)'" || return 1
	wait_for 10 ready $PASSIVE || fail "node $PASSIVE: no translations/routes after resync: $(plugin_state $PASSIVE)" || return 1
	holds_vip $PASSIVE && { fail "the restarted node took $VIP"; return 1; }
	ike_passive $PASSIVE || fail "node $PASSIVE's IKE_SA not PASSIVE" || return 1
	# a second restart of the passive node under traffic: the active node
	# carries on
	nsx ch ping -n -q -i 0.05 -W 1 -c 100 -I $C $P > "$WORK/ping-prestart.txt" 2>&1 &
	ping_pid=$!
	node_kill $PASSIVE
	node_reboot $PASSIVE || fail "node $PASSIVE did not boot again" || return 1
	wait "$ping_pid"
	lost=$(ping_loss "$WORK/ping-prestart.txt")
	wait_for 20 same_sas $ACTIVE $PASSIVE && wait_for 10 ready $PASSIVE ||
		fail "node $PASSIVE did not resync after its second restart" || return 1
	log "    passive $PASSIVE restarted twice, resynced: $(plugin_state $PASSIVE); pings lost meanwhile: $lost of 100"
	[ "$lost" = 0 ] || fail "the passive node's restart cost $lost pings"
}

# planned failback: keepalived on the active node stops (priority 0)
test_failback()
{
	local lost ping_pid old=$ACTIVE t0 t1
	ready $PASSIVE || fail "node $PASSIVE not ready for failback" || return 1
	nsx ch ping -n -q -i 0.05 -W 1 -c 100 -I $C $P > "$WORK/ping-failback.txt" 2>&1 &
	ping_pid=$!
	sleep 1
	t0=$(date +%s%N)
	kill "${KEEPALIVED_PID[$old]}"
	wait_for 10 holds_vip $PASSIVE || fail "node $PASSIVE did not take $VIP back" || return 1
	t1=$(date +%s%N)
	wait "$ping_pid"
	lost=$(ping_loss "$WORK/ping-failback.txt")
	ACTIVE=$PASSIVE; PASSIVE=$old
	wait_for 10 ike_established $ACTIVE && wait_for 10 ike_passive $PASSIVE ||
		fail "IKE_SA states after failback: $ACTIVE $(child_ids $ACTIVE claims), $PASSIVE" || return 1
	ping_ok || fail "no ping through node $ACTIVE after failback" || return 1
	# keepalived back on the old node: it stays BACKUP (nopreempt)
	nsenter -t "${HOLDER[$PASSIVE]}" -m -n "$KEEPALIVED" -n -l -D -P -f /etc/keepalived/keepalived.conf \
		-p /run/keepalived.pid -r /run/keepalived-vrrp.pid >> "$WORK/$PASSIVE/keepalived.log" 2>&1 &
	KEEPALIVED_PID[$PASSIVE]=$!; disown $!
	NODE_PIDS[$PASSIVE]="${NODE_PIDS[$PASSIVE]} ${KEEPALIVED_PID[$PASSIVE]}"
	sleep 1
	holds_vip $PASSIVE && { fail "node $PASSIVE took $VIP back (nopreempt)"; return 1; }
	wait_for 10 same_sas $ACTIVE $PASSIVE && wait_for 10 ready $PASSIVE ||
		fail "node $PASSIVE does not follow after failback: $(plugin_state $PASSIVE)" || return 1
	log "    failback to node $ACTIVE: address moved in $(( (t1 - t0) / 1000000 )) ms, pings lost $lost of 100 (every 50 ms)"
}

# the active node rekeys, the passive node follows: the new SA installed
# (translations and routes kept), the old one gone, one of each
test_rekey_passive_follows()
{
	local before after ping_pid lost
	before=$(spis $PASSIVE)
	sample_start "$WORK/rekey-samples.txt" $PASSIVE "nft list map ip tunnel_nat dnat4 | grep -c $P; ip route show table $TABLE_ID $C/32 proto $PROTO"
	nsx ch ping -n -q -i 0.05 -W 1 -c 60 -I $C $P > "$WORK/ping-rekey.txt" 2>&1 &
	ping_pid=$!
	swan $ACTIVE --rekey --child claims > /dev/null || fail "swanctl --rekey failed" || return 1
	wait_for 15 followed "$before" ||
		fail "the passive node did not follow the rekey: '$(spis $ACTIVE)' vs '$(spis $PASSIVE)'" || return 1
	wait "$ping_pid"
	sample_stop
	after=$(spis $PASSIVE)
	lost=$(ping_loss "$WORK/ping-rekey.txt")
	log "    rekey on $ACTIVE: passive SAs '$before' -> '$after', plugin state $(plugin_state $PASSIVE), pings lost $lost of 60"
	[ "$(echo "$after" | wc -w)" = 1 ] || fail "the passive node holds $(echo "$after" | wc -w) CHILD_SAs" || return 1
	ready $PASSIVE || fail "passive translations/routes after the rekey: $(plugin_state $PASSIVE)" || return 1
	grep -q "^s 0" "$WORK/rekey-samples.txt" &&
		{ fail "the passive node lost its translation during the rekey"; return 1; }
	grep -v "dev $TUN_IF" "$WORK/rekey-samples.txt" | grep -q . &&
		{ fail "the passive node's route changed during the rekey: $(grep -v "dev $TUN_IF" "$WORK/rekey-samples.txt" | head -n 2)"; return 1; }
	[ "$lost" = 0 ] || fail "the rekey cost $lost pings"
}

# reauthentication on the active node (a new IKE_SA with new CHILD_SAs, the
# old one deleted): the passive node follows, one IKE_SA and one CHILD_SA
# left there, its translations and routes in place
ike_count() { swan "$1" --list-sas --raw 2>/dev/null | grep -o "state=\(ESTABLISHED\|PASSIVE\)" | wc -l; }
test_reauth_passive_follows()
{
	local before ping_pid lost
	reauth_quiet $ACTIVE clearinghouse claims || return 1
	before=$(spis $PASSIVE)
	nsx ch ping -n -q -i 0.05 -W 1 -c 60 -I $C $P > "$WORK/ping-reauth.txt" 2>&1 &
	ping_pid=$!
	sleep 0.5
	swan $ACTIVE --rekey --ike clearinghouse --reauth > /dev/null ||
		fail "swanctl --rekey --reauth failed" || return 1
	wait_for 15 followed "$before" ||
		fail "the passive node did not follow the reauthentication: '$(spis $ACTIVE)' vs '$(spis $PASSIVE)'" || return 1
	wait_eval 10 '[ "$(ike_count $PASSIVE)" = 1 ]' ||
		fail "the passive node holds $(ike_count $PASSIVE) IKE_SAs" || return 1
	wait "$ping_pid"
	lost=$(ping_loss "$WORK/ping-reauth.txt")
	ike_passive $PASSIVE || fail "the passive node's new IKE_SA is not PASSIVE" || return 1
	ready $PASSIVE || fail "passive translations/routes after the reauthentication: $(plugin_state $PASSIVE)" || return 1
	log "    reauthentication on $ACTIVE: passive SAs '$before' -> '$(spis $PASSIVE)', $(ike_count $PASSIVE) IKE_SA, plugin state $(plugin_state $PASSIVE); pings lost $lost of 60 (break-before-make)"
}

# takeover_with OVERRIDE NAME: a takeover while the partner pings, with
# OVERRIDE in the passive node's settings; then the dead node comes back
# (its resync rekeys). Sets REPLY_MS (death -> first reply at C), LOST (of
# TAKEOVER_PINGS, 20 a second), OUT_BEFORE (packets the dying node's SA
# sent) and REKEYED (which plugins logged a takeover rekey on the new
# active node)
TAKEOVER_PINGS=400
takeover_with()
{
	local t0 first_reply ping_pid dead=$ACTIVE nat route
	nat=$(grep -c "tunnel-nat: took over" "$WORK/$PASSIVE/charon.log")
	route=$(grep -c "tunnel-route: took over" "$WORK/$PASSIVE/charon.log")
	echo "$1" > "$WORK/$PASSIVE/override.conf"
	swan $PASSIVE --reload-settings > /dev/null || fail "reload failed" || return 1
	# 80 packets each way on the SA before the death: more than the replay
	# window (charon.replay_window, 32) holds
	nsx ch ping -D -n -i 0.05 -W 1 -c $TAKEOVER_PINGS -I $C $P > "$WORK/ping-$2.txt" 2>&1 &
	ping_pid=$!
	sleep 4
	# the premise of the measurement: the SA the node dies with has sent
	# twice the replay window. A rekey of the step before (the resync of a
	# node coming back, a reauthentication) may have started a new SA
	# during the sleep; its packets would not hold a new node back.
	wait_eval 8 '[ "$(packets_out $ACTIVE)" -ge 64 ]' ||
		fail "$ACTIVE's SA sent only $(packets_out $ACTIVE) packets before its death, expected >= 64 (the replay window is 32)" || return 1
	OUT_BEFORE=$(packets_out $ACTIVE)
	node_kill $ACTIVE
	t0=$NODE_DEATH
	ACTIVE=$PASSIVE; PASSIVE=$dead
	wait_for 15 ike_established $ACTIVE || fail "node $ACTIVE did not take over" || return 1
	wait "$ping_pid"
	first_reply=$(awk -v t0="$t0" '/bytes from/ { gsub(/[\[\]]/, "", $1); if ($1 > t0) { print $1; exit } }' "$WORK/ping-$2.txt")
	REPLY_MS=$(awk -v a="$t0" -v b="${first_reply:-0}" 'BEGIN { printf "%d", (b - a) * 1000 }')
	LOST=$(ping_loss "$WORK/ping-$2.txt")
	REKEYED=
	[ "$(grep -c "tunnel-nat: took over" "$WORK/$ACTIVE/charon.log")" -gt "$nat" ] &&
		REKEYED="tunnel-nat"
	[ "$(grep -c "tunnel-route: took over" "$WORK/$ACTIVE/charon.log")" -gt "$route" ] &&
		REKEYED="$REKEYED tunnel-route"
	: > "$WORK/$ACTIVE/override.conf"
	swan $ACTIVE --reload-settings > /dev/null
	node_reboot $PASSIVE || fail "node $PASSIVE did not boot" || return 1
	wait_for 20 same_sas $ACTIVE $PASSIVE && wait_for 10 ready $PASSIVE ||
		fail "node $PASSIVE did not resync" || return 1
	[ -n "$first_reply" ] || fail "no ping reply at all after the takeover" || return 1
}

# what the takeover rekey is for: without it (ha_takeover_rekey = no in both
# plugins) the new active node's outbound SA starts at sequence number 1
# again, and the partner's replay window drops its packets until they pass
# the old node's last number
test_takeover_without_rekey()
{
	takeover_with "tunnel-route { ha_takeover_rekey = no }
tunnel-nat { ha_takeover_rekey = no }" norekey || return 1
	log "    takeover without the rekey: death -> first ping reply at C: ${REPLY_MS} ms, ping lost $LOST of $TAKEOVER_PINGS, $OUT_BEFORE packets out on the old SA before the death (with the rekey: see the takeover above)"
	[ -z "$REKEYED" ] ||
		fail "rekeyed by $REKEYED although ha_takeover_rekey = no" || return 1
	# the replay window, not the takeover, held the replies back: they came
	# well after the address moved (the takeover above took under a second)
	[ "$REPLY_MS" -gt 1500 ] ||
		fail "replies came back after ${REPLY_MS} ms: the sequence numbers did not matter?"
}

# a pair that uses tunnel-route without its rekey (or tunnel-nat alone):
# tunnel-nat rekeys, once
test_takeover_rekey_by_tunnel_nat()
{
	takeover_with "tunnel-route { ha_takeover_rekey = no }" natrekey || return 1
	log "    takeover, tunnel-nat rekeys: death -> first ping reply at C: ${REPLY_MS} ms, ping lost $LOST of $TAKEOVER_PINGS, $OUT_BEFORE packets out on the old SA before the death; rekeyed by:$REKEYED"
	[ "$REKEYED" = "tunnel-nat" ] ||
		fail "the takeover rekey was done by '$REKEYED', not tunnel-nat alone" || return 1
	[ "$REPLY_MS" -lt 1500 ] ||
		fail "replies came back only after ${REPLY_MS} ms: no rekey in time?"
}

# all tunnels go down: nothing left on the passive node; fail-closed there
test_nothing_left_on_passive()
{
	swan ch --terminate --ike gateway > /dev/null 2>&1
	wait_eval 10 '[ "$(plugin_state $PASSIVE)" = "0 0 0" ]' ||
		fail "left on the passive node: $(plugin_state $PASSIVE) (dnat snat routes)" || return 1
	wait_eval 10 '[ "$(plugin_state $ACTIVE)" = "0 0 0" ]' ||
		fail "left on the active node: $(plugin_state $ACTIVE)" || return 1
	[ -z "$(swan $PASSIVE --list-sas --raw 2>/dev/null | grep -o 'name=claims')" ] ||
		fail "the passive node still has a CHILD_SA" || return 1
	nsx $PASSIVE ip route show table $TABLE_ID $C/32 | grep -q "^prohibit" ||
		fail "no prohibit route on the passive node: $(nsx $PASSIVE ip route show table $TABLE_ID)" || return 1
	log "    after the tunnel went down: active $(plugin_state $ACTIVE), passive $(plugin_state $PASSIVE) (dnat snat routes)"
}

# resyncs_served ROLE: how many resync requests ROLE's charon has served;
# resync_requests ROLE: how many it has sent (one at each start)
resyncs_served()
{
	grep -c "received HA RESYNC message" "$WORK/$1/charon.log" 2>/dev/null
}
resync_requests()
{
	grep -c "requesting HA resynchronization" "$WORK/$1/charon.log" 2>/dev/null
}

# both nodes restart: the SAs are gone with them; the pair comes up, the
# partner brings the tunnel up again, nothing leaks meanwhile
test_both_restart()
{
	local leaks ping_pid
	local -A served asked
	cap_start sw brw wire-both || return 1
	nsx app ping -n -q -c 20 -i 0.1 -W 1 $C > /dev/null 2>&1 &
	ping_pid=$!
	node_kill gwa; node_kill gwb
	served[gwa]=$(resyncs_served gwa); served[gwb]=$(resyncs_served gwb)
	asked[gwa]=$(resync_requests gwa); asked[gwb]=$(resync_requests gwb)
	node_reboot gwa && node_reboot gwb || fail "the nodes did not boot" || return 1
	wait_for 15 holds_vip gwa || wait_for 1 holds_vip gwb || fail "no node took $VIP" || return 1
	holds_vip gwa && { ACTIVE=gwa; PASSIVE=gwb; } || { ACTIVE=gwb; PASSIVE=gwa; }
	holds_vip $PASSIVE && { fail "both nodes hold $VIP"; return 1; }
	wait "$ping_pid"
	# the passive node's resync request (sent about a second after its
	# charon starts) is served before the tunnel comes up: served after the
	# active node has synced a new IKE_SA, it leaves the passive node with
	# a second passive copy of that IKE_SA (the ha plugin installs the
	# resync's IKE_ADD beside the one it has), whose CHILD_SA the active
	# node's later CHILD_DELETE does not reach
	# (a request sent while the other node's charon was not up yet is lost:
	# then nothing comes late)
	wait_eval 10 '[ "$(resync_requests $PASSIVE)" -gt "${asked[$PASSIVE]}" ]' ||
		fail "node $PASSIVE asked for no resync after the restart" || return 1
	wait_eval 5 '[ "$(resyncs_served $ACTIVE)" -gt "${served[$ACTIVE]}" ]' ||
		log "    node $ACTIVE got no resync request from $PASSIVE (lost)"
	# the clearinghouse notices its IKE_SA is gone, and starts anew
	swan ch --terminate --ike gateway --force > /dev/null 2>&1
	tunnel_up || return 1
	ping_ok || fail "no ping after both nodes restarted" || return 1
	cap_stop wire-both
	leaks=$(leak_count wire-both)
	log "    both restarted: node $ACTIVE active, $PASSIVE passive ($(plugin_state $PASSIVE)); cleartext on the wire: $leaks"
	[ "$leaks" = 0 ] || fail "cleartext on the wire: $(cap_show wire-both "$CLEAR" | head -n 5)"
}

ha_lab_up || { echo "0 passed, 1 failed"; exit 1; }
charon_conf ch
charon_start ch && swan_load ch clearinghouse || { echo "0 passed, 1 failed"; exit 1; }
tcp_server app $APP 7000 app
node_start gwa || { echo "0 passed, 1 failed"; exit 1; }
wait_for 10 holds_vip gwa
node_start gwb || { echo "0 passed, 1 failed"; exit 1; }
# node b asked node a for the SAs (none yet): a later answer would rekey them
wait_for 10 logged gwa "resyncing HA segment 1"

run_test "pair up: a active, b passive with translations and routes ahead, fail-closed" test_pair_comes_up
run_test "takeover under a TCP stream and a ping: stream survives, no cleartext" test_takeover_under_traffic
run_test "restart of the passive node: resync, the active node carries on" test_restart_passive
run_test "failback (planned): the address and the SAs move back" test_failback
run_test "CHILD_SA rekey on the active node, the passive node follows" test_rekey_passive_follows
run_test "reauthentication on the active node, the passive node follows" test_reauth_passive_follows
run_test "ESP sequence numbers: a takeover without the rekey (measured)" test_takeover_without_rekey
run_test "takeover rekey by tunnel-nat when tunnel-route's is off" test_takeover_rekey_by_tunnel_nat
run_test "all tunnels down: nothing left on the passive node" test_nothing_left_on_passive
run_test "both nodes restart: the tunnel comes back, nothing leaks" test_both_restart
summary
