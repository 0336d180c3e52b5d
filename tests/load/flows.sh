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
# The twice variant (partner-side mappings, twice NAT, issue 14): app-started
# flows to N tunnels' aliases 100.64.a.b (10.64.a.b's /32 alias blocks, as in
# the event benchmark's twice mode), through the plugin's table holding for
# each tunnel the elements its CHILD_SA would install: pzone4, pmark4 (by
# reqid), azone4_l32, amark4_l32, adnat4_l32, psnat4_l32 and the P side's
# snat4/dnat4. Per packet: raw's zone and mark lookups by alias, the alias
# DNAT, the SNAT to P, the leak guard's rules. The gateway then has a
# partner-side mapping of /32 blocks in its settings (10.99.0.1/32 as
# 100.99.0.1/32, not used by the flows), so that the plugin creates the /32
# class of rules at start. Without IPsec two things differ from a gateway:
# - the guard drops a packet of a partner zone toward a partner that leaves
#   without an SA ("rt ipsec missing"), i.e. every packet here. The plugin's
#   zones (partner_zones) are therefore 65000-65535 and the elements carry
#   zone 4096, outside them: the guard's rules are evaluated for every
#   packet, but its zone rules stop at the zone match instead of dropping;
# - a partner's reply is decrypted and gets its zone from pzone4 by the
#   reqid of its SA ("ipsec in reqid"); here the replies come in clear, and
#   one rule of a table of the lab's own sets the zone of replies from
#   10.64.0.0/16 (the inbound reqid lookup is not measured; see
#   docs/design/twice-nat.md 10.5: the VM's part).
# A deletion in the plugin's table makes the plugin restore it (self-healing)
# with its own state, i.e. empty here: each setup empties the table that way
# and waits for the restore before adding the elements.
#
#   tests/load/flows.sh [N...]       (default: 1 100 10000)
# Environment: RUNS (default 5) runs of SECONDS (default 2) per variant and N;
# each run measures every N and variant in turn, and the median of the runs
# is reported once all have run (a failed run prints none; give each N
# once). DESTS: send to only the first DESTS tunnels (default: all N), to
# tell the cost of the number of elements from that of flows spread over
# them. VARIANTS
# (default "map linear"): the variants to run, of map, linear, twice and
# twice1 (the flows of twice N, to the same N aliases, through one
# partner-side tunnel whose /16 alias block holds them all: the same
# traffic, 1 tunnel instead of N); with twice or twice1 the gateway has the
# partner-side mappings above (so the map and linear variants of that run
# pass its rules too).
#
# COUNTERS (default yes): tunnel-nat's counters setting; with yes the P
# side's elements go to their counting sets too, as the plugin writes them.
#
# Prints one line per N and variant: "flows <variant> <N> <median>/s [runs]",
# then per variant and N after the first: "ratio <variant> <N>/<first>
# <median>% [runs]", the median of the ratios of the two sizes' rates within
# each run (the runs interleave the sizes, see the loop at the end).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
. "$(dirname "$0")/../integration/lib.sh"
RUNS=${RUNS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-2}
SIZES=${*:-1 100 10000}
VARIANTS=${VARIANTS:-map linear}
TWICE=0
case " $VARIANTS " in *" twice "*|*" twice1 "*) TWICE=1 ;; esac
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
			flush_line = yes
			default = 1
		}
	}
	plugins {
		vici {
			socket = unix:///run/gw.vici
		}
		tunnel-nat {
			counters = ${COUNTERS:-yes}
		}
$( [ $TWICE = 1 ] && cat <<EOT
		tunnel-nat {
			partner_zones = 65000-65535
			mappings {
				cls32 {
					child = flows
					remote = 10.99.0.1/32
					alias = 100.99.0.1/32
				}
				cls16 {
					child = flows16
					remote = 10.98.0.0/16
					alias = 100.98.0.0/16
				}
			}
		}
EOT
)
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

# the plugin's maps that a variant fills, and with counters = yes their
# counting sets, which the plugin fills with the same keys
MAPS="snat4 dnat4"
[ $TWICE = 1 ] && MAPS="$MAPS snat4_ranges dnat4_ranges pzone4 pmark4 azone4_l32 amark4_l32 adnat4_l32 psnat4_l32 azone4_l16 amark4_l16 adnat4_l16 psnat4_l16"
COUNTING=""
[ "${COUNTERS:-yes}" = yes ] && COUNTING="snat4_count dnat4_count"
[ "${COUNTERS:-yes}" = yes ] && [ $TWICE = 1 ] &&
	COUNTING="$COUNTING snat4_ranges_count dnat4_ranges_count"

# counting IP: "add element" lines for the counting sets of the P side's
# elements among lines of the maps on stdin (the same key and comment)
counting()
{
	if [ -n "$COUNTING" ]; then
		sed -n -e 's/^add element ip tunnel_nat \(snat4\|dnat4\|snat4_ranges\|dnat4_ranges\) {\(.*\) : [0-9./]* }$/add element ip tunnel_nat \1_count {\2 }/p'
	fi
}

# restores: how many times the plugin restored its table so far
restores() { grep -c "restored it" "$WORK/gw/charon.log"; }

# clean: no table of the lab's own, the plugin's maps empty. Deleting an
# element makes the plugin restore its table from its state (empty), so
# wait for that restore before elements are added
clean()
{
	local before t
	for t in linear flowlab; do
		nsx gw nft list table ip $t > /dev/null 2>&1 && nsx gw nft delete table ip $t
	done
	before=$(restores)
	if [ -n "$(for m in $MAPS; do nsx gw nft list map ip tunnel_nat $m | grep -m1 elements; done
			   for m in $COUNTING; do nsx gw nft list set ip tunnel_nat $m | grep -m1 elements; done)" ]; then
		[ -n "${FLOWS_DEBUG:-}" ] && for m in $MAPS; do nsx gw nft list map ip tunnel_nat $m | grep -m1 -A1 elements; done
		{ for m in $MAPS; do echo "flush map ip tunnel_nat $m"; done
		  for m in $COUNTING; do echo "flush set ip tunnel_nat $m"; done; } | nsx gw nft -f - || return 1
		wait_eval 10 '[ "$(restores)" -gt "$before" ]' ||
			{ log "tunnel-nat did not restore its table"; return 1; }
		sleep 0.2
	fi
	if [ -n "$(for m in $MAPS; do nsx gw nft list map ip tunnel_nat $m | grep -m1 elements; done
			   for m in $COUNTING; do nsx gw nft list set ip tunnel_nat $m | grep -m1 elements; done)" ]; then
		log "the plugin's maps are not empty"
		return 1
	fi
}

# load_elements FILE: add the elements in FILE, and those of the counting
# sets the plugin would write with them
load_elements()
{
	counting < "$1" > "$1.count"
	cat "$1.count" >> "$1"; rm -f "$1.count"
	nsx gw nft -f "$1"
}

# reply_zone_table: a table of the lab's own that gives the replies the zone
# (see the top)
reply_zone_table()
{
	echo "table ip flowlab {"
	echo "chain raw_reply { type filter hook prerouting priority -250; policy accept;"
	echo "iifname \"wan0\" ip saddr 10.64.0.0/16 ct zone set 4096 comment \"as pzone4 would by the reqid\""
	echo "}"
	echo "}"
}

# map N: the plugin's maps hold the elements of N tunnels, no linear table
map_setup()
{
	local f=$WORK/map.nft
	clean || return 1
	{
		awk -v n="$1" -v app=$APP -v p=$P 'BEGIN { for (i = 1; i <= n; i++) {
			vip = sprintf("10.64.%d.%d", int(i / 256), i % 256)
			printf "add element ip tunnel_nat snat4 { %s . %s comment \"child load-test\" : %s/32 }\n", app, vip, p
			printf "add element ip tunnel_nat dnat4 { %s . %s comment \"child load-test\" : %s/32 }\n", vip, p, app
		} }'
	} > "$f"
	load_elements "$f"
}

# linear N: empty maps, a table with one SNAT and one DNAT rule per tunnel
linear_setup()
{
	local f=$WORK/linear.nft
	clean || return 1
	{
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

# twice N: the plugin's maps hold the elements of N partner-side CHILD_SAs
# of one config (one zone, 4096): CHILD_SA i has reqid i, mark_in = mark_out
# = i (as %unique gives), remote TS 10.64.a.b/32 and alias block
# 100.64.a.b/32; and a rule that gives the replies the zone (see the top)
twice_setup()
{
	local f=$WORK/twice.nft
	clean || return 1
	{
		reply_zone_table
		awk -v n="$1" -v app=$APP -v p=$P 'BEGIN { for (i = 1; i <= n; i++) {
			vip = sprintf("10.64.%d.%d", int(i / 256), i % 256)
			alias = sprintf("100.64.%d.%d", int(i / 256), i % 256)
			c = sprintf("comment \"flows load-test{%d}\"", i)
			printf "add element ip tunnel_nat snat4 { %s . %s %s : %s/32 }\n", app, vip, c, p
			printf "add element ip tunnel_nat dnat4 { %s . %s %s : %s/32 }\n", vip, p, c, app
			printf "add element ip tunnel_nat pzone4 { %d %s : 4096 }\n", i, c
			printf "add element ip tunnel_nat pmark4 { %d %s : %d }\n", i, c, i
			printf "add element ip tunnel_nat azone4_l32 { %s %s : 4096 }\n", alias, c
			printf "add element ip tunnel_nat amark4_l32 { %s %s : %d }\n", alias, c, i
			printf "add element ip tunnel_nat adnat4_l32 { %s %s : %s/32 }\n", alias, c, vip
			printf "add element ip tunnel_nat psnat4_l32 { %d . %s %s : %s/32 }\n", i, vip, c, alias
		} }'
	} > "$f"
	load_elements "$f"
}

# twice1 N: one partner-side CHILD_SA whose remote TS 10.64.0.0/16 has the
# alias block 100.64.0.0/16: the elements of one tunnel, while measure
# sends the flows to the same N aliases as twice N does (the same traffic
# through 1 tunnel instead of N)
twice1_setup()
{
	local f=$WORK/twice1.nft c='comment "flows load-test{1}"'
	clean || return 1
	{
		reply_zone_table
		echo "add element ip tunnel_nat snat4_ranges { $APP . 10.64.0.0/16 $c : $P/32 }"
		echo "add element ip tunnel_nat dnat4_ranges { 10.64.0.0/16 . $P $c : $APP/32 }"
		echo "add element ip tunnel_nat pzone4 { 1 $c : 4096 }"
		echo "add element ip tunnel_nat pmark4 { 1 $c : 1 }"
		echo "add element ip tunnel_nat azone4_l16 { 100.64.0.0 $c : 4096 }"
		echo "add element ip tunnel_nat amark4_l16 { 100.64.0.0 $c : 1 }"
		echo "add element ip tunnel_nat adnat4_l16 { 100.64.0.0 $c : 10.64.0.0/16 }"
		echo "add element ip tunnel_nat psnat4_l16 { 1 . 10.64.0.0 $c : 100.64.0.0/16 }"
	} > "$f"
	load_elements "$f"
}

measure()
{
	local base=10.64.0.1
	[ "$2" = twice ] || [ "$2" = twice1 ] && base=100.64.0.1
	nsx app "$FLOWGEN" client $APP $base "${DESTS:-$1}" 9000 "$SECONDS_PER_RUN" 64
}

# median [FORMAT]: of the numbers on stdin (an even count: the mean of the
# middle two, printed with FORMAT, default %.0f)
median()
{
	sort -n | awk -v f="${1:-%.0f}" '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf f "\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}


# runs outermost, then the sizes, then the variants: each run measures every
# size and variant within a few seconds of each other, so that a change of
# the machine's speed during the benchmark (other guests on the host) falls
# on all of them alike, and the ratio of two sizes is taken within a run
declare -A res=()
for ((r = 0; r < RUNS; r++)); do
	for n in $SIZES; do
		for variant in $VARIANTS; do
			"${variant}_setup" "$n" || exit 1
			sleep 1.2	# conntrack entries of the previous run time out
			out=$(measure "$n" $variant) || { log "flowgen failed ($variant, $n)"; exit 1; }
			res[$variant,$n]="${res[$variant,$n]:-} $(echo "$out" | awk '{print $3}')"
		done
	done
done
for n in $SIZES; do
	for variant in $VARIANTS; do
		echo "flows $variant $n $(echo ${res[$variant,$n]} | tr ' ' '\n' | median)/s [${res[$variant,$n]# }]"
	done
done
# per variant, each size against the first one: the ratio of the rates of
# the same run, the median of the runs' ratios
first=${SIZES%% *}
for n in $SIZES; do
	[ "$n" = "$first" ] && continue
	for variant in $VARIANTS; do
		ratios=$(paste <(echo ${res[$variant,$n]} | tr ' ' '\n') \
					   <(echo ${res[$variant,$first]} | tr ' ' '\n') |
				 awk '{ if ($2 > 0) printf "%.1f\n", 100 * $1 / $2; else print "nan" }')
		echo "ratio $variant $n/$first $(echo "$ratios" | median %.1f)% [$(echo $ratios)]"
	done
done
