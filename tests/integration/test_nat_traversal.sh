#!/bin/bash
# NAT traversal: our gateway sits behind a NAT router that masquerades it,
# as behind a home router. The tunnel comes up UDP-encapsulated on port 4500
# and the clearinghouse flow works both ways; the link beyond the NAT router
# carries the app's traffic only as ESP in UDP. Run as root.
#
#   BACKEND=libipsec (default) or BACKEND=xfrm (kernel ESP, e.g. in the VM)
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
source "$(dirname "$0")/lib.sh"
trap lab_down EXIT
trap 'exit 1' INT TERM

test_up_encapsulated()
{
	local raw
	swan gw --initiate --child claims --timeout 30 > /dev/null 2>&1
	wait_for 10 child_installed gw claims || fail "claims did not come up" || return 1
	raw=$(swan gw --list-sas --raw)
	echo "$raw" | grep -q "nat-local=yes" || fail "the gateway did not detect its NAT: $raw" || return 1
	echo "$raw" | grep -q "name=claims .*encap=yes" || fail "the CHILD_SA is not UDP-encapsulated" || return 1
	echo "$raw" | grep -q "local-port=4500" || fail "IKE did not float to port 4500"
}

test_flow_through_nat()
{
	local out1 out2 clear raw_esp udp
	child_installed gw claims || return 1
	cap_start nat eth1 natwire || return 1
	out1=$(tcp_ask ch $C $P 7000 "claim via nat")
	out2=$(tcp_ask app $APP $C 7001 "reply via nat")
	cap_stop natwire
	[ "$out1" = "app $C claim via nat" ] || fail "clearinghouse -> P answered '$out1'" || return 1
	[ "$out2" = "ch $P reply via nat" ] || fail "app -> C answered '$out2'" || return 1
	clear=$(cap_count natwire "host $C and (host $P or net 10.0.0.0/8)")
	raw_esp=$(cap_count natwire "ip proto 50")
	udp=$(cap_count natwire "udp port 4500 and greater 100")
	log "    wire beyond the NAT: $udp ESP-in-UDP packets, $raw_esp plain ESP, $clear cleartext"
	[ "$clear" = 0 ] || fail "cleartext beyond the NAT: $(cap_show natwire "host $C" | head -3)" || return 1
	[ "$raw_esp" = 0 ] || fail "plain ESP crossed the NAT" || return 1
	[ "$udp" -ge 10 ] || fail "expected ESP in UDP 4500, saw $udp packets"
}

echo "NAT traversal suite, backend $BACKEND"
lab_up_nat || { echo "0 passed, 1 failed"; exit 1; }
if [ "$BACKEND" = xfrm ]; then
	# P is not local: strongSwan installs no route toward C
	ip -n "$(ns gw)" route add $C/32 via 10.0.2.254
fi
charon_start gw && charon_start ch || { echo "0 passed, 1 failed"; exit 1; }
swan_load gw gateway-behind-nat && swan_load ch clearinghouse ||
	{ echo "0 passed, 1 failed"; exit 1; }
tcp_server app $APP 7000 app
tcp_server ch $C 7001 ch

run_test "tunnel up from behind the NAT, UDP-encapsulated on 4500" test_up_encapsulated
run_test "clearinghouse flow both ways through the NAT, only ESP in UDP on the wire" test_flow_through_nat
summary
