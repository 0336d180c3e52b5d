#!/bin/bash
# The clearinghouse scenario, shown step by step: a clearinghouse simulator
# reaches our service on the public address P through an IPsec tunnel; the
# tunnel-nat plugin on our gateway translates P to the app host's private
# address, and the app's own traffic to the clearinghouse leaves as P.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
source "$(dirname "$0")/lib.sh"
trap lab_down EXIT
trap 'exit 1' INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

cat <<EOT
  clearinghouse (C = $C)                         app host ($APP)
        |                                                 |
    $CH_WAN ==== IPsec (kernel-$BACKEND) ==== $GW_WAN  our gateway  $GW_LAN
                                              P = $P is published through
                                              the tunnel only
EOT

step "Building the hosts in network namespaces"
lab_up
echo "namespaces: ${LAB_NS[*]}"

step "Starting charon on our gateway (with tunnel-nat) and on the clearinghouse"
charon_start gw && charon_start ch || exit 1
grep "tunnel-nat" "$WORK/gw/charon.log" | sed 's/^/  gw log: /'

step "Loading swanctl.d/gateway and swanctl.d/clearinghouse"
swan_load gw gateway && swan_load ch clearinghouse || exit 1
echo "the mapping, stated once (swanctl.d/gateway/tunnel-nat.conf):"
sed -n '/mappings {/,/^    }/p' "$CONFDIR/gateway/tunnel-nat.conf" | sed 's/^/  /'

step "The clearinghouse initiates the tunnel"
show "swanctl --initiate --child claims"
swan ch --initiate --child claims --timeout 20 | tail -n 1

step "Our gateway: swanctl --list-sas"
swan gw --list-sas

step "Our gateway: nft list table ip tunnel_nat"
nsx gw nft list table ip tunnel_nat

step "Services: the app listens on $APP:7000, the clearinghouse on $C:7001"
tcp_server app $APP 7000 app-host
tcp_server ch $C 7001 clearinghouse

nsx gw timeout 8 tcpdump -l -n -i lan0 -c 4 "tcp port 7000 and tcp[tcpflags] & tcp-syn != 0" \
	> "$WORK/tcpdump-lan.txt" 2>/dev/null &
nsx gw timeout 8 tcpdump -l -n -i ipsec0 -c 4 "tcp[tcpflags] & tcp-syn != 0" \
	> "$WORK/tcpdump-tunnel.txt" 2>/dev/null &
sleep 1

step "Clearinghouse -> P:7000 over the tunnel (DNAT to the app host)"
show "echo 'NCPDP claim #1' | socat - TCP:$P:7000,bind=$C"
out=$(tcp_ask ch $C $P 7000 "NCPDP claim #1")
echo "  answer (who answered, the client address it saw, the line): $out"

step "App host -> clearinghouse $C:7001 (leaves as P, into the tunnel)"
show "echo 'eligibility check' | socat - TCP:$C:7001"
out2=$(tcp_ask app $APP $C 7001 "eligibility check")
echo "  answer (who answered, the client address it saw, the line): $out2"

sleep 1
step "What the gateway saw (TCP SYNs)"
echo "on the app host's link (lan0), after translation:"
sed 's/^/  /' "$WORK/tcpdump-lan.txt"
echo "inside the tunnel (ipsec0), before/after translation:"
sed 's/^/  /' "$WORK/tcpdump-tunnel.txt"

step "Taking the tunnel down removes the translations"
swan gw --terminate --child claims --timeout 10 > /dev/null
nsx gw nft list table ip tunnel_nat | sed -n '/map dnat4/,/}/p'

echo
if [ "$out" = "app-host $C NCPDP claim #1" ] &&
   [ "$out2" = "clearinghouse $P eligibility check" ]; then
	echo "demo: the clearinghouse reached the app through P, and the app reached the clearinghouse as P."
else
	echo "demo: FAILED (see the answers above)"
	exit 1
fi
