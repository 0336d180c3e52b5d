# The spoofing machinery of the twice NAT suite (test_twice_nat.sh, T7 and
# T8): hand-made TCP segments, a connection held open, capture windows and
# what they must show. Sourced by test_twice_nat.sh after lib.sh; it uses
# that suite's lab (acme on wan0, globex on wan1, the app on eth0).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

# spoof_tcp ROLE SRC SPORT DST DPORT FLAGS SEQ ACK [DATA]: ROLE sends one
# hand-made TCP segment (FLAGS of FSRPA) from SRC:SPORT through a raw socket
# bound to SRC, so that its IPsec policy for SRC applies
spoof_tcp()
{
	local role=$1; shift
	nsx "$role" python3 -c '
import socket, struct, sys
src, sport, dst, dport, flags, seq, ack = sys.argv[1:8]
data = (sys.argv[8] if len(sys.argv) > 8 else "").encode()
bits = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
fl = sum(bits[c] for c in flags)
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
sa, da = socket.inet_aton(src), socket.inet_aton(dst)
tcp = struct.pack("!HHIIBBHHH", int(sport), int(dport), int(seq) & 0xffffffff,
                  int(ack) & 0xffffffff, 5 << 4, fl, 65535, 0, 0)
c = csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp) + len(data)) + tcp + data)
tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data), 0x5151,
                 0x4000, 64, 6, 0, sa, da)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.bind((src, 0))
s.sendto(ip + tcp + data, (dst, 0))
' "$@"
}

# echo_server ROLE ADDR PORT: a TCP server that says "peer ADDR PORT" of
# each client, then echoes its lines (-t 10: as tcp_server)
echo_server()
{
	nsx "$1" ss -H -tln "src $2:$3" | grep -q . && return 0
	nsx "$1" socat -t 10 TCP-LISTEN:"$3",bind="$2",reuseaddr,fork \
		SYSTEM:"echo peer \$SOCAT_PEERADDR \$SOCAT_PEERPORT; cat" \
		> /dev/null 2>&1 &
	wait_port "$1" tcp "$2" "$3"
}

# conv_start NAME ROLE SRC SPORT DST DPORT: a TCP connection that stays
# open; lines written to fd CONV_FD go to the server, what comes back is in
# $WORK/NAME.out
CONV_FD=
CONV_PID=
conv_start()
{
	local f=$WORK/$1
	rm -f "$f.in" "$f.out"
	mkfifo "$f.in" || return 1
	nsx "$2" timeout 120 socat -t 2 - \
		TCP:"$5":"$6",bind="$3":"$4",connect-timeout=5 < "$f.in" > "$f.out" 2>&1 &
	CONV_PID=$!
	exec {CONV_FD}> "$f.in"
}

conv_stop()
{
	[ -n "$CONV_FD" ] && exec {CONV_FD}>&-
	CONV_FD=
	[ -n "$CONV_PID" ] && { wait_for 10 eval "! kill -0 $CONV_PID 2>/dev/null"; kill "$CONV_PID" 2>/dev/null; }
	CONV_PID=
}

# last_ack PCAP FILTER: the acknowledgement number of the last segment that
# matches FILTER (absolute), i.e. the next sequence number its sender expects
last_ack()
{
	tcpdump -n -S -r "$WORK/$1.pcap" "$2" 2>/dev/null | grep -oE 'ack [0-9]+' |
		tail -n 1 | cut -d' ' -f2
}

# entry_of ZONE FILTER: the conntrack entries of a zone that match FILTER,
# without the timeout (which counts down)
entry_of()
{
	nsx gw conntrack -L 2>/dev/null | grep -E "zone=$1( |\$)" | grep -E -- "$2" |
		sed -E 's/^(tcp|udp|icmp) +[0-9]+ +[0-9]+ /\1 /'
}

# quiet_to_acme: wait (up to 15 s) for a second in which the gateway sends
# nothing into acme's tunnel, so that what an earlier test's connection
# still sends (a FIN retransmitted on a loaded machine) does not fall into
# a spoof window, where any ESP to acme is a failure
quiet_to_acme()
{
	local n
	for _ in $(seq 15); do
		cap_start gw wan0 quiet out || return 1
		sleep 1
		cap_stop quiet
		n=$(cap_count quiet esp)
		[ "$n" = 0 ] && return 0
		log "    acme's tunnel not quiet yet: $n ESP packets in a second"
	done
	fail "the gateway kept sending into acme's tunnel for 15 s before the spoof"
}

# spoof_window_start NAME / spoof_window_stop NAME: for the time of a
# spoof, captures of the app's link (both ways) and of what the gateway
# sends to acme and to globex, and the gateway's conntrack events in NAME-ev
EV_PID=
spoof_window_start()
{
	quiet_to_acme || return 1
	nsx_bg gw conntrack -E -p tcp > "$WORK/$1-ev" 2>&1
	EV_PID=$BG_PID
	cap_start app eth0 "$1-app" && cap_start gw wan0 "$1-w0" out &&
		cap_start gw wan1 "$1-w1" out
}

spoof_window_stop()
{
	sleep 1
	cap_stop "$1-app"; cap_stop "$1-w0"; cap_stop "$1-w1"
	kill "$EV_PID" 2>/dev/null
	wait "$EV_PID" 2>/dev/null
	EV_PID=
}

# spoof_checks NAME ZA ZB A_FILTER B_FILTER B_EVENT: what T7 and T8
# (spoof_established) assert about the window: nothing of acme's flow on the app's link
# (A_FILTER), no conntrack event in acme's zone ZA, nothing into acme's
# tunnel, nothing in clear toward a partner's real addresses on either
# link (the gateway's own ICMP errors about globex's invalid segments
# included, design §12); globex's segments on the app's link as its alias
# (B_FILTER), a new entry in globex's zone ZB (B_EVENT), and an answer
# into globex's tunnel
spoof_checks()
{
	local name=$1 za=$2 zb=$3 n w
	log "    on the app's link: $(cap_count "$name-app" "$5") packets of globex's alias, $(cap_count "$name-app" "$4") of acme's"
	log "    to acme: $(cap_count "$name-w0" esp) ESP, $(cap_count "$name-w0" icmp) ICMP, $(cap_count "$name-w0" "ip and not esp and not icmp and not udp port 500 and not udp port 4500") other IPv4; to globex: $(cap_count "$name-w1" esp) ESP; in clear to $PNET: $(cap_count "$name-w0" "ip and dst net $PNET") on acme's link, $(cap_count "$name-w1" "ip and dst net $PNET") on globex's"
	log "    conntrack events: $(grep -c "zone=$zb\( \|\$\)" "$WORK/$name-ev") in zone $zb, $(grep -c "zone=$za\( \|\$\)" "$WORK/$name-ev") in zone $za"
	grep -E "zone=$zb( |\$)" "$WORK/$name-ev" | head -n 3 | sed 's/^/      /'
	n=$(cap_count "$name-app" "$4")
	[ "$n" = 0 ] || fail "globex's spoof showed up in acme's flow on the app's link: $(cap_show "$name-app" "$4")" ||
		return 1
	n=$(grep -cE "zone=$za( |\$)" "$WORK/$name-ev")
	[ "$n" = 0 ] || fail "conntrack events in acme's zone $za: $(grep -E "zone=$za( |\$)" "$WORK/$name-ev")" ||
		return 1
	n=$(cap_count "$name-w0" esp)
	[ "$n" = 0 ] || fail "the gateway sent $n ESP packets into acme's tunnel while only globex sent: $(cap_show "$name-w0" esp | head -n 4); on the app's link, all but globex's alias: $(cap_show "$name-app" "not host $ALIAS_B.5" | head -n 6)" || return 1
	n=$(cap_count "$name-w0" "ip and not esp and not icmp and not udp port 500 and not udp port 4500")
	[ "$n" = 0 ] || fail "the gateway sent $n packets toward acme in clear: $(cap_show "$name-w0" "ip and not esp and not icmp and not udp port 500 and not udp port 4500")" ||
		return 1
	# nor anything in clear toward a partner's real addresses, on either
	# link: the gateway's own ICMP errors for globex's segments that
	# conntrack found invalid are dropped by the guard (design §12)
	for w in w0 w1; do
		n=$(cap_count "$name-$w" "ip and dst net $PNET")
		[ "$n" = 0 ] || fail "the gateway sent $n packets in clear toward a partner's real addresses on $w: $(cap_show "$name-$w" "ip and dst net $PNET" | head -n 3)" ||
			return 1
	done
	n=$(cap_count "$name-app" "$5")
	[ "$n" -ge 1 ] || fail "the app did not see globex's segments as its alias: $(cap_show "$name-app" tcp)" ||
		return 1
	grep -qE "$6.*zone=$zb( |\$)" "$WORK/$name-ev" ||
		fail "no new entry of globex's segments in zone $zb: $(cat "$WORK/$name-ev")" || return 1
	[ "$(cap_count "$name-w1" esp)" -ge 1 ] || fail "no answer into globex's tunnel"
}

# spoof_established NAME SPORT DPORT ENTRY PEER: the spoof of T7 and T8.
# Acme's connection NAME (conv_start) is open, its segments captured in
# NAME-seq; on acme's side its tuple is $PHOST:SPORT -> $P:DPORT, original
# or reply of its entry in acme's zone, which matches ENTRY. Globex sends
# segments with that tuple and acme's sequence numbers (data, then RSTs):
# they become globex's own flow in globex's zone (the app sees them from
# globex's alias), acme's entry and connection are untouched (its server
# said PEER of it), nothing goes into acme's tunnel
spoof_established()
{
	local name=$1 sport=$2 dport=$3 entry=$4 peer=$5 za zb seq ack a0 a1 out
	za=$(zone_of acme-net); zb=$(zone_of globex-net)
	echo first >&$CONV_FD
	wait_for 10 grep -q '^first$' "$WORK/$name.out" ||
		fail "acme's connection did not work: '$(cat "$WORK/$name.out")'" || return 1
	sleep 1
	cap_stop "$name-seq"
	seq=$(last_ack "$name-seq" "src $APP and src port $dport and dst $ALIAS_A.5 and dst port $sport")
	ack=$(last_ack "$name-seq" "src $ALIAS_A.5 and src port $sport and dst $APP and dst port $dport")
	a0=$(entry_of "$za" "$entry")
	log "    acme's entry in zone $za: $a0"
	log "    acme's next sequence number $seq, the app's $ack"
	[ -n "$seq" ] && [ -n "$ack" ] && [ "$(echo "$a0" | grep -c ESTABLISHED)" = 1 ] &&
		echo "$a0" | grep -q "src=$PHOST dst=$P sport=$sport dport=$dport" ||
		fail "no established flow of acme with the tuple $PHOST:$sport -> $P:$dport to spoof" || return 1
	spoof_window_start "$name" || return 1
	spoof_tcp ch2 $PHOST "$sport" $P "$dport" PA "$seq" "$ack" "SPOOF from globex"
	sleep 0.5
	spoof_tcp ch2 $PHOST "$sport" $P "$dport" R $((seq + 18)) 0
	spoof_tcp ch2 $PHOST "$sport" $P "$dport" R "$seq" 0
	spoof_window_stop "$name"
	a1=$(entry_of "$za" "$entry")
	spoof_checks "$name" "$za" "$zb" \
		"host $ALIAS_A.5 and (tcp port $sport or tcp port $dport)" \
		"src $ALIAS_B.5 and src port $sport and dst $APP and dst port $dport" \
		"NEW.*src=$PHOST dst=$P sport=$sport dport=$dport .*dst=$ALIAS_B.5 " ||
		return 1
	# acme's entry and connection go on
	[ "$a0" = "$a1" ] || fail "acme's entry changed: '$a0' -> '$a1'" || return 1
	echo second >&$CONV_FD
	wait_for 10 grep -q '^second$' "$WORK/$name.out"
	conv_stop
	out=$(tr '\n' '|' < "$WORK/$name.out")
	[ "$out" = "$peer|first|second|" ] ||
		fail "acme's connection after the spoof: '$out', expected '$peer|first|second|'"
}
