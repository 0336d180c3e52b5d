#!/bin/bash
# New-flow rate through the gateway's NAT, with the translations of N tunnels
# installed: tunnel-nat's maps (one rule per chain, a map lookup) against a
# linear chain of per-tunnel rules with the same content, the way an updown
# script would write it. The IPsec part is left out, so that the NAT lookup is
# what is measured: app (10.1.0.10) -> gw (SNAT to P) -> srv, which answers
# on every tunnel's remote address (10.64.0.0/16).
#
# The map variant uses the plugin's own table: charon with tunnel-nat creates
# it, the elements N tunnels would install are added to its maps.
#
#   tests/load/flows.sh [N...]       (default: 1 100 10000)
# Environment: RUNS (default 5) runs of SECONDS (default 2) per variant and N,
# alternating between the variants; the median is reported.
#
# Prints one line per N and variant: "flows <variant> <N> <median>/s [runs]"
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
. "$(dirname "$0")/../integration/lib.sh"
RUNS=${RUNS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-2}
SIZES=${*:-1 100 10000}
trap lab_down EXIT

FLOWGEN=$WORK/flowgen
cc -O2 -o "$FLOWGEN" "$TOP/tests/load/flowgen.c" || exit 1

lab_add_ns app
lab_add_ns gw
lab_add_ns srv
lab_link app eth0 $APP/24 gw lan0 $GW_LAN/24
lab_link gw wan0 192.0.2.1/24 srv eth0 192.0.2.2/24
ip -n "$(ns gw)" addr add $P/32 dev lo
ip -n "$(ns app)" route add default via $GW_LAN
ip -n "$(ns gw)" route add 10.64.0.0/16 via 192.0.2.2
ip -n "$(ns srv)" route add local 10.64.0.0/16 dev lo
nsx gw sysctl -qw net.ipv4.ip_forward=1

mkdir -p "$WORK/gw"
cat > "$WORK/gw/strongswan.conf" <<EOC
charon {
	load = random nonce openssl sha1 sha2 hmac kdf kernel-netlink socket-default vici tunnel-nat
	port = 0
	port_nat_t = 0
	filelog {
		log {
			path = $WORK/gw/charon.log
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
charon_start gw || exit 1
nft_table_exists gw || { log "tunnel-nat created no table"; exit 1; }
# short UDP timeouts: source ports cycle, every flow must be a new one
nsx gw sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 \
	net.netfilter.nf_conntrack_udp_timeout_stream=1

nsx srv "$FLOWGEN" server 9000 &
sleep 0.3

# map N: the plugin's maps hold the elements of N tunnels, no linear table
map_setup()
{
	local f=$WORK/map.nft
	{
		echo "flush map ip tunnel_nat snat4"
		echo "flush map ip tunnel_nat dnat4"
		nsx gw nft list table ip linear > /dev/null 2>&1 &&
			echo "delete table ip linear"
		awk -v n="$1" -v app=$APP -v p=$P 'BEGIN { for (i = 1; i <= n; i++) {
			vip = sprintf("10.64.%d.%d", int(i / 256), i % 256)
			printf "add element ip tunnel_nat snat4 { %s . %s comment \"child load-test\" : %s/32 }\n", app, vip, p
			printf "add element ip tunnel_nat dnat4 { %s . %s comment \"child load-test\" : %s/32 }\n", vip, p, app
		} }'
	} > "$f"
	nsx gw nft -f "$f"
}

# linear N: empty maps, a table with one SNAT and one DNAT rule per tunnel
linear_setup()
{
	local f=$WORK/linear.nft
	{
		echo "flush map ip tunnel_nat snat4"
		echo "flush map ip tunnel_nat dnat4"
		echo "table ip linear {"
		echo "chain postrouting { type nat hook postrouting priority srcnat; policy accept; }"
		echo "chain prerouting { type nat hook prerouting priority dstnat; policy accept; }"
		echo "}"
		echo "flush table ip linear"
		awk -v n="$1" -v app=$APP -v p=$P 'BEGIN { for (i = 1; i <= n; i++) {
			vip = sprintf("10.64.%d.%d", int(i / 256), i % 256)
			printf "add rule ip linear postrouting ip saddr %s ip daddr %s snat to %s comment \"child load-test\"\n", app, vip, p
			printf "add rule ip linear prerouting meta ipsec exists ip saddr %s ip daddr %s dnat to %s comment \"child load-test\"\n", vip, p, app
		} }'
	} > "$f"
	nsx gw nft -f "$f"
}

measure()
{
	nsx app "$FLOWGEN" client $APP 10.64.0.1 "$1" 9000 "$SECONDS_PER_RUN" 64
}

median()
{
	sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}


for n in $SIZES; do
	declare -A res=()
	for ((r = 0; r < RUNS; r++)); do
		for variant in map linear; do
			"${variant}_setup" "$n" || exit 1
			sleep 1.2	# conntrack entries of the previous run time out
			out=$(measure "$n") || { log "flowgen failed ($variant, $n)"; exit 1; }
			res[$variant]="${res[$variant]:-} $(echo "$out" | awk '{print $3}')"
		done
	done
	for variant in map linear; do
		echo "flows $variant $n $(echo ${res[$variant]} | tr ' ' '\n' | median)/s [${res[$variant]# }]"
	done
done
