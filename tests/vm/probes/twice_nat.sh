#!/bin/bash
# Probes for issue 14's twice NAT design (docs/design/twice-nat.md, §11
# commit 0): the kernel and nftables behaviour the design assumes, checked
# with a hand-written table and hand-installed XFRM states and policies, no
# plugin code and no charon. Run it inside the VM, where the kernel has ESP:
#
#   tests/vm/probes/run.sh            (host: boots the VM and runs this)
#
# Lab (network namespaces only; addresses from 192.0.2.0/24, 198.51.100.0/24,
# 10/8 and 100.64/10):
#
#   app (10.1.0.10, 10.1.0.11) -- lan -- gw -- wa -- partner A (10.9.0.5 on lo)
#                                           \-- wb -- partner B (10.9.0.5 on lo)
#
#   P = 192.0.2.100 (not a local address), the app's service.
#   A: reqid 5, marks 0x11/0x00ffffff, zone 4096, alias 100.64.1.0/24
#   B: reqid 6, marks 0x12/0x00ffffff, zone 4097, alias 100.64.2.0/24
#   Both partners' tunnels cover 10.9.0.0/24 <-> P/32, with identical
#   selectors; only the marks tell the gateway's policies apart, as with
#   strongSwan's mark_in/mark_out. The marks are fixed values here, the kind
#   of value %unique allocates; charon is not involved.
#
# The probes (a FAIL refutes the design's assumption; see the design's §14):
#   load     each §4 object loads: set-level counter on a map, ct zone and
#            meta mark set from maps at raw -300 (reqid-keyed ones through
#            libnftnl), the route-type output chain, rt ipsec in postrouting,
#            psnat4 keyed by ct zone and, as the fallback, by the SA's mark
#   nft      what nft 1.0.6 makes of them: typeof with ct zone in a
#            concatenation, the listing, the listing loaded again
#   W1-W3    the walks of §5.1-5.3 over real ESP
#   W4       the set-level counters count the lookups
#   W5, W7   rt ipsec at priority 200 sees the bundle, and drops a partner-zone
#            packet that has none
#   W6       §2.2: a partner flow that gets the zone but no alias; W6b a
#            guard rule on 'ct status snat' as the fix
#   W8       §5.5: the gateway's own packets to an alias (route chain)
#   W9       §3.2: a policy with both a mark and an if_id
#   W10      §5.4: B sends the reply tuple of an app flow to A
#   W11      the fail-closed rule for a down partner's alias
#   W12      §3.1: identical selectors without marks cannot get two policies
#
# Prints "PASS name", "FAIL name: why" or "INFO ..." per probe and ends with
# "N passed, N failed".
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u

top=$(cd "$(dirname "$0")/../../.." && pwd)
passed=0
failed=0
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d "${TMPDIR:-/tmp}/p14.XXXXXX")
nslist=()
pids=()

ok() { echo "PASS $1"; passed=$((passed + 1)); }
ko() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() # name, why-on-failure, command...
{
	local name=$1 why=$2
	shift 2
	if "$@"; then ok "$name"; else ko "$name" "$why"; fi
}

ns() { printf 'p14%s-%s' "$id" "$1"; }
GW=$(ns gw); A=$(ns a); B=$(ns b); APP=$(ns app); SCR=$(ns scratch)
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

cleanup()
{
	local p n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in "${nslist[@]}"; do ip netns delete "$n" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "probe: kernel $(uname -r), $(nft --version), $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p'), $(/usr/bin/python3 --version 2>&1)"

modprobe esp4 2>/dev/null
modprobe xfrm_user 2>/dev/null
if ! grep -q '^CONFIG_INET_ESP=[ym]' "/boot/config-$(uname -r)" 2>/dev/null &&
   ! grep -qw esp4 /proc/modules; then
	echo "probe: this kernel has no ESP: run it in the VM (tests/vm/probes/run.sh)"
	echo "0 passed, 1 failed"
	exit 1
fi

# --- the libnftnl helper (nft 1.0.6 cannot write the reqid map rules) --------

helper=$work/reqid_map_rule
if ! gcc -Wall -O1 -o "$helper" "$top/tests/vm/probes/reqid_map_rule.c" \
		-lnftnl -lmnl 2> "$work/gcc.log"; then
	cat "$work/gcc.log"
	echo "probe: cannot build reqid_map_rule"
	echo "0 passed, 1 failed"
	exit 1
fi

# --- namespaces and links -------------------------------------------------------

for n in "$GW" "$A" "$B" "$APP" "$SCR"; do
	ip netns add "$n" && nslist+=("$n") || { echo "0 passed, 1 failed"; exit 1; }
	nsx "$n" ip link set lo up
done
link() # ns1 if1 addr1 ns2 if2 addr2
{
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	nsx "$1" ip addr add "$3" dev "$2"; nsx "$1" ip link set "$2" up
	nsx "$4" ip addr add "$6" dev "$5"; nsx "$4" ip link set "$5" up
}
link "$GW" wa 198.51.100.1/30 "$A" wan 198.51.100.2/30
link "$GW" wb 198.51.100.5/30 "$B" wan 198.51.100.6/30
link "$GW" lan 10.1.0.1/24 "$APP" lan 10.1.0.10/24
nsx "$APP" ip addr add 10.1.0.11/24 dev lan
nsx "$APP" ip route add default via 10.1.0.1
nsx "$A" ip addr add 10.9.0.5/32 dev lo
nsx "$B" ip addr add 10.9.0.5/32 dev lo
nsx "$A" ip route add default via 198.51.100.1
nsx "$B" ip route add default via 198.51.100.5
# the gateway's default route points at A's link: a packet that leaves
# without a bundle goes there in clear, where A's "cleartext" counter sees it
nsx "$GW" ip route add default via 198.51.100.2
for k in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		 net.ipv4.conf.default.rp_filter=0; do
	nsx "$GW" sysctl -qw "$k"
done

# --- XFRM: identical selectors, distinct reqids and marks ----------------------

K1=0x$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
K2=0x$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
alg=(enc 'cbc(aes)' "$K1" auth 'hmac(sha256)' "$K2")
P=192.0.2.100
GWOWN=198.51.100.1
xfrm_pair() # partner-ns gw-addr peer-addr reqid mark spi-out spi-in
{
	local pn=$1 g=$2 r=$3 reqid=$4 mark=$5 so=$6 si=$7 src
	local m=(mark "$mark" mask 0x00ffffff)
	# gateway: out SA and out policy carry mark_out, in/fwd policies mark_in,
	# the inbound SA none (strongSwan without mark_in_sa)
	nsx "$GW" ip xfrm state add src "$g" dst "$r" proto esp spi "$so" reqid "$reqid" \
		mode tunnel "${alg[@]}" "${m[@]}"
	nsx "$GW" ip xfrm state add src "$r" dst "$g" proto esp spi "$si" reqid "$reqid" \
		mode tunnel "${alg[@]}"
	nsx "$pn" ip xfrm state add src "$g" dst "$r" proto esp spi "$so" reqid "$reqid" \
		mode tunnel "${alg[@]}"
	nsx "$pn" ip xfrm state add src "$r" dst "$g" proto esp spi "$si" reqid "$reqid" \
		mode tunnel "${alg[@]}"
	for src in "$P/32" "$GWOWN/32"; do
		nsx "$GW" ip xfrm policy add dir out src "$src" dst 10.9.0.0/24 "${m[@]}" \
			tmpl src "$g" dst "$r" proto esp reqid "$reqid" mode tunnel
		nsx "$GW" ip xfrm policy add dir in src 10.9.0.0/24 dst "$src" "${m[@]}" \
			tmpl src "$r" dst "$g" proto esp reqid "$reqid" mode tunnel
		nsx "$GW" ip xfrm policy add dir fwd src 10.9.0.0/24 dst "$src" "${m[@]}" \
			tmpl src "$r" dst "$g" proto esp reqid "$reqid" mode tunnel
		nsx "$pn" ip xfrm policy add dir out src 10.9.0.0/24 dst "$src" \
			tmpl src "$r" dst "$g" proto esp reqid "$reqid" mode tunnel
		nsx "$pn" ip xfrm policy add dir in src "$src" dst 10.9.0.0/24 \
			tmpl src "$g" dst "$r" proto esp reqid "$reqid" mode tunnel
	done
}
# the policies for the gateway's own address (198.51.100.1) serve probe W8
# only: the gateway's own packets to an alias leave from that address
xfrm_pair "$A" 198.51.100.1 198.51.100.2 5 0x11 0x1005 0x2005
xfrm_pair "$B" 198.51.100.5 198.51.100.6 6 0x12 0x1006 0x2006
# the gateway's own source toward either alias is 198.51.100.1 (its default
# route), so both partners get policies for it

# cleartext on the partners' wire: anything that arrives on wan that is
# neither ESP nor a decrypted packet
for n in "$A" "$B"; do
	nsx "$n" nft -f - <<'EOF'
table ip wire {
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		iifname "wan" ip protocol != esp meta secpath missing counter
	}
}
EOF
done
clear_count() { nsx "$1" nft list chain ip wire pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }

# --- the table of §4, in the gateway ----------------------------------------------

echo "== loading the §4 objects one by one"
load() # probe name, nft text
{
	local name=$1 err
	if err=$(nsx "$GW" nft -f - 2>&1 <<< "$2"); then ok "$name"
	else ko "$name" "$(echo "$err" | head -n 3 | tr '\n' ' ')"; fi
}
nsx "$GW" nft -f - <<'EOF'
table ip tn {
	map pmark4 { typeof ipsec in reqid : meta mark; elements = { 5 : 0x11, 6 : 0x12 } }
	map amark4_l24 { typeof ip daddr : meta mark; elements = { 100.64.1.0 : 0x11, 100.64.2.0 : 0x12 } }
	map adnat4_l24 { type ipv4_addr : interval ipv4_addr; elements = { 100.64.1.0 : 10.9.0.0/24, 100.64.2.0 : 10.9.0.0/24 } }
	set acfg4_l24 { type ipv4_addr; elements = { 100.64.1.0, 100.64.2.0 } }
	chain raw_pre { type filter hook prerouting priority -300; policy accept; }
	chain mangle_pre { type filter hook prerouting priority -150; policy accept;
		ct state new meta secpath exists ct zone 4096-65535 ct mark set ct mark | 0x01000000
	}
	chain prerouting { type nat hook prerouting priority -100; policy accept;
		dnat ip prefix to ip daddr & 255.255.255.0 map @adnat4_l24
		meta secpath exists ip saddr 10.9.0.0/24 ip daddr 192.0.2.100 dnat to 10.1.0.10
	}
	chain output_nat { type nat hook output priority -100; policy accept;
		dnat ip prefix to ip daddr & 255.255.255.0 map @adnat4_l24
	}
	chain postrouting { type nat hook postrouting priority 100; policy accept;
		ip saddr 10.1.0.10 ip daddr 10.9.0.0/24 snat to 192.0.2.100
	}
}
EOF
[ $? -eq 0 ] || { echo "probe: the base table did not load"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

load "set-level counter on a map (pzone4, azone4_l24) loads" '
table ip tn {
	map pzone4 { typeof ipsec in reqid : ct zone; counter; elements = { 5 : 4096, 6 : 4097 } }
	map azone4_l24 { typeof ip daddr : ct zone; counter; elements = { 100.64.1.0 : 4096, 100.64.2.0 : 4097 } }
}'
if err=$(nsx "$GW" "$helper" tn raw_pre zone pzone4 2>&1 &&
		nsx "$GW" "$helper" tn raw_pre mark pmark4 2>&1); then
	ok "ct zone / meta mark set from 'ipsec in reqid' map at raw -300 loads (libnftnl)"
else
	ko "ct zone / meta mark set from 'ipsec in reqid' map at raw -300 loads (libnftnl)" "$err"
fi
load "ct zone set from an alias map at raw -300 loads" '
add rule ip tn raw_pre meta secpath exists return
add rule ip tn raw_pre ct zone set ip daddr & 255.255.255.0 map @azone4_l24
add rule ip tn raw_pre meta mark set ip daddr & 255.255.255.0 map @amark4_l24'
load "route-type output chain at -300 with ct zone set loads" '
add chain ip tn raw_out { type route hook output priority -300; policy accept; }
add rule ip tn raw_out ct zone set ip daddr & 255.255.255.0 map @azone4_l24
add rule ip tn raw_out meta mark set ip daddr & 255.255.255.0 map @amark4_l24'
load "rt ipsec missing in a postrouting filter chain at 200 loads" '
add chain ip tn guard_post { type filter hook postrouting priority 200; policy accept; }
add rule ip tn guard_post ct zone 4096-65535 ct direction original ct mark & 0x01000000 == 0 rt ipsec missing counter drop
add rule ip tn guard_post ct zone 4096-65535 ct direction reply ct mark & 0x01000000 == 0x01000000 rt ipsec missing counter drop
add rule ip tn guard_post ip daddr & 255.255.255.0 @acfg4_l24 counter drop'
# psnat4 as the design has it: keyed by "ct zone . ip saddr & MASK". Probed
# in the scratch namespace, because what nft 1.0.6 does with a ct zone in a
# concatenation decides whether the listing of the whole table still works.
nsx "$SCR" nft -f - <<'EOF2'
table ip tn {
	map psnat4_l24 { typeof ct zone . ip saddr : interval ip saddr; elements = { 4096 . 10.9.0.0 : 100.64.1.0/24, 4097 . 10.9.0.0 : 100.64.2.0/24 } }
	chain postrouting { type nat hook postrouting priority 100; policy accept; }
}
EOF2
check "psnat4 keyed by 'ct zone . ip saddr' loads with an element (nft -f)" "nft failed" test $? -eq 0
lst=$(nsx "$SCR" nft list table ip tn 2>&1)
echo "$lst" | head -n 8
check "a table holding 'typeof ct zone . ip saddr' elements lists them" \
	"$(echo "$lst" | grep -m1 -iE 'assert|error|elements' | tr -d '\t')" \
	grep -q '4096 . 10.9.0.0' <<< "$lst"
m=$(nsx "$SCR" nft list map ip tn psnat4_l24 2>&1)
check "nft keeps the typeof of a concatenation with ct zone" \
	"$(echo "$m" | grep -m1 -E 'type|ssert')" grep -q 'typeof ct zone . ip saddr' <<< "$m"
err=$(nsx "$SCR" nft add element ip tn psnat4_l24 '{ 4098 . 10.9.0.0 : 100.64.3.0/24 }' 2>&1)
check "an element can be added to it by a later nft command" "$(echo "$err" | head -n 1)" \
	test -z "$err"
nsx "$SCR" nft delete table ip tn

# nft 1.0.6's grammar cannot parse "KEY . ip saddr & MASK" in a snat
# statement; its JSON parser can. The gateway's psnat4 is keyed by the
# SA's mark (set from pmark4 at raw), a fallback that nft can print.
cat > "$work/psnat.json" <<'EOF2'
{"nftables":[{"add":{"rule":{"family":"ip","table":"tn","chain":"postrouting","expr":[
 {"match":{"op":"==","left":{"&":[{"ct":{"key":"mark"}},16777216]},"right":16777216}},
 {"snat":{"family":"ip","flags":"netmap","addr":{"map":{"key":{"concat":[
   {"&":[{"meta":{"key":"mark"}},16777215]},
   {"&":[{"payload":{"protocol":"ip","field":"saddr"}},"255.255.255.0"]}]},"data":"@psnat4_l24"}}}}]}}}]}
EOF2
if err=$(nsx "$GW" nft -f - 2>&1 <<'EOF2'
add map ip tn psnat4_l24 { typeof meta mark . ip saddr : interval ip saddr; }
add element ip tn psnat4_l24 { 0x11 . 10.9.0.0 : 100.64.1.0/24, 0x12 . 10.9.0.0 : 100.64.2.0/24 }
EOF2
) && err=$(nsx "$GW" nft -j -f "$work/psnat.json" 2>&1); then
	ok "psnat4 keyed by 'meta mark & 0x00ffffff . ip saddr & mask' → NETMAP loads (JSON)"
else
	ko "psnat4 keyed by 'meta mark & 0x00ffffff . ip saddr & mask' → NETMAP loads (JSON)" "$err"
fi

nsx "$GW" nft list table ip tn > "$work/table.nft"
echo "-- the gateway's table as nft 1.0.6 prints it:"
cat "$work/table.nft"

check "the gateway's table can be listed" "empty listing" grep -q '^table ip tn' "$work/table.nft"
check "nft prints 'ct zone set ipsec in reqid map @pzone4'" "not in the listing" \
	grep -q 'ct zone set ipsec in reqid map @pzone4' "$work/table.nft"
# can a saved listing be loaded again (nft list > file; nft -f file)?
if [ -s "$work/table.nft" ] && err=$(nsx "$SCR" nft -f "$work/table.nft" 2>&1); then
	ok "the listing loads again with nft -f"
else
	ko "the listing loads again with nft -f" "$(echo "$err" | grep -E '^[^ ]*:[0-9]+' | head -n 4 | tr '\n' ' ')"
fi

# --- services -------------------------------------------------------------------------

# the app's service on 7000 answers with the peer address it sees
nsx "$APP" socat TCP-LISTEN:7000,fork,reuseaddr \
	SYSTEM:'echo "$SOCAT_PEERADDR:$SOCAT_PEERPORT"; sleep 4' 2>/dev/null &
pids+=($!)
# each partner's service on 8000 answers with its name and the peer it sees
for p in A B; do
	n=$A; [ $p = B ] && n=$B
	nsx "$n" socat TCP-LISTEN:8000,bind=10.9.0.5,fork,reuseaddr \
		SYSTEM:"echo $p \$SOCAT_PEERADDR" 2>/dev/null &
	pids+=($!)
done
sleep 1

get() # ns, dst, port, [bind]
{
	local b=""
	[ -n "${4:-}" ] && b=",bind=$4"
	nsx "$1" timeout 8 socat -u "TCP:$2:$3,connect-timeout=4$b" STDOUT 2>/dev/null
}
ctr() # chain-rule counter: the Nth "counter packets" of chain CHAIN in ns
{
	nsx "$GW" nft list chain ip tn "$1" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | sed -n "${2}p"
}
elem_pkts() # map, key: the packets of that element's counter
{
	nsx "$GW" nft list map ip tn "$1" | tr ',' '\n' |
		sed -n "s/.*[{[:space:]]$2 counter packets \([0-9]*\) .*/\1/p" | head -n 1
}

# --- W1/W2: both partners from 10.9.0.5:40000 to P:7000 at once (§5.1, §5.3) --------------

echo "== the walk of §5.1 and §5.3: A and B from 10.9.0.5:40000 at once"
get "$A" $P 7000 10.9.0.5:40000 > "$work/w1a" &
wa=$!
get "$B" $P 7000 10.9.0.5:40000 > "$work/w1b" &
wb=$!
sleep 2
nsx "$GW" conntrack -L -w 4096 -p tcp 2>/dev/null > "$work/z4096"
nsx "$GW" conntrack -L -w 4097 -p tcp 2>/dev/null > "$work/z4097"
wait $wa $wb
echo "-- A's client got: $(cat "$work/w1a")"
echo "-- B's client got: $(cat "$work/w1b")"
echo "-- conntrack zone 4096:"; cat "$work/z4096"
echo "-- conntrack zone 4097:"; cat "$work/z4097"
check "W1 the app sees A as 100.64.1.5:40000" "A's client got '$(cat "$work/w1a")'" \
	grep -qx '100.64.1.5:40000' "$work/w1a"
check "W1 the app sees B as 100.64.2.5:40000" "B's client got '$(cat "$work/w1b")'" \
	grep -qx '100.64.2.5:40000' "$work/w1b"
tuple='src=10.9.0.5 dst=192.0.2.100 sport=40000 dport=7000 '
check "W2 zone 4096 holds A's flow with the original tuple 10.9.0.5:40000 → P:7000" \
	"no such entry" grep -q "$tuple.*dst=100.64.1.5 .*zone=4096" "$work/z4096"
check "W2 zone 4097 holds B's flow with the identical original tuple" \
	"no such entry" grep -q "$tuple.*dst=100.64.2.5 .*zone=4097" "$work/z4097"
check "W2 the partner-started flows carry the ct mark bit 0x01000000" \
	"mark not 16777216" grep -q 'mark=16777216' "$work/z4096"

# --- W3: the app starts to each alias (§5.2) ---------------------------------------

echo "== the walk of §5.2: the app starts to each alias"
ra=$(get "$APP" 100.64.1.5 8000)
rb=$(get "$APP" 100.64.2.5 8000)
echo "-- to 100.64.1.5:8000: '$ra'; to 100.64.2.5:8000: '$rb'"
check "W3 the app reaches A at 100.64.1.5, A sees P" "got '$ra'" test "$ra" = "A $P"
check "W3 the app reaches B at 100.64.2.5, B sees P" "got '$rb'" test "$rb" = "B $P"

# --- W4: set-level counters updated by lookups (§7) ---------------------------------

echo "== counters"
nsx "$GW" nft list map ip tn pzone4
nsx "$GW" nft list map ip tn azone4_l24
for k in 5 6; do
	c=$(elem_pkts pzone4 $k)
	check "W4 pzone4 element $k counts the decrypted packets (${c:-none})" \
		"counter '${c:-none}'" test "${c:-0}" -gt 0
done
for k in 100.64.1.0 100.64.2.0; do
	c=$(elem_pkts azone4_l24 $k)
	check "W4 azone4_l24 element $k counts the packets to the alias (${c:-none})" \
		"counter '${c:-none}'" test "${c:-0}" -gt 0
done

# --- W5: the guard lets the legitimate flows through ---------------------------------

g1=$(ctr guard_post 1); g2=$(ctr guard_post 2); g3=$(ctr guard_post 3)
ca=$(clear_count "$A"); cb=$(clear_count "$B")
echo "-- guard counters: $g1 $g2 $g3; cleartext at A: $ca, at B: $cb"
check "W5 rt ipsec at 200: no guard rule fired on W1–W3 (the dst is the bundle)" \
	"guard counters $g1 $g2 $g3" test "$g1/$g2/$g3" = "0/0/0"
check "W5 no cleartext reached a partner in W1–W3" "A $ca, B $cb" test "$ca/$cb" = "0/0"

# --- W6: a partner flow that gets the zone but no alias (§2.2, last bullet) ---------

echo "== W6: A's flow with no psnat4 element (remote_ts outside 'remote')"
nsx "$GW" nft delete element ip tn psnat4_l24 '{ 0x11 . 10.9.0.0 }'
g1a=$(ctr guard_post 1); g2a=$(ctr guard_post 2); caa=$(clear_count "$A")
r9=$(get "$A" $P 7000 10.9.0.5:40001)
sleep 1
g1=$(ctr guard_post 1); g2=$(ctr guard_post 2); ca=$(clear_count "$A")
nsx "$GW" conntrack -L -w 4096 -p tcp 2>/dev/null | grep 'sport=40001'
nsx "$GW" conntrack -L -w 0 -p tcp 2>/dev/null | grep 'dport=40001'
echo "-- A's client got '$r9'; guard 1/2: $g1a/$g2a -> $g1/$g2; cleartext at A: $caa -> $ca"
check "W6 a partner flow with the zone but no alias works, the app seeing 10.9.0.5" \
	"got '$r9'; cleartext at A $caa -> $ca; guard $g1a/$g2a -> $g1/$g2" \
	test "$r9" = "10.9.0.5:40001"
check "W6 ... and none of its packets reach the partner in clear" \
	"cleartext at A $caa -> $ca" test "$ca" = "$caa"
# a candidate fix: drop the original direction of a partner-started flow
# that got no source translation (ct status snat is set only when the
# tuple changed)
nsx "$GW" nft add rule ip tn guard_post ct zone 4096-65535 ct direction original \
	ct mark \& 0x01000000 == 0x01000000 ct status \& snat == 0 counter drop
g4a=$(ctr guard_post 4); caa=$(clear_count "$A")
r6=$(get "$A" $P 7000 10.9.0.5:40002)
sleep 1
g4=$(ctr guard_post 4); ca=$(clear_count "$A")
echo "-- with the 'ct status snat' guard: A's client got '$r6'; guard 4: $g4a -> $g4; cleartext at A: $caa -> $ca"
check "W6b a guard on 'ct status & snat == 0' drops such a flow's first packet, no cleartext" \
	"got '$r6', guard 4 $g4a -> $g4, cleartext at A $caa -> $ca" \
	test -z "$r6" -a "${g4:-0}" -gt "${g4a:-0}" -a "$ca" = "$caa"
nsx "$GW" nft add element ip tn psnat4_l24 '{ 0x11 . 10.9.0.0 : 100.64.1.0/24 }'
r6=$(get "$A" $P 7000 10.9.0.5:40003)
check "W6b ... and a translated partner flow still passes it" "got '$r6'" \
	test "$r6" = "100.64.1.5:40003"

# --- W7: an app-started flow without a P side → rt ipsec missing drops it ------------

echo "== W7: 10.1.0.11 (no snat to P) to 100.64.1.5"
g1a=$(ctr guard_post 1); caa=$(clear_count "$A")
r6=$(get "$APP" 100.64.1.5 8000 10.1.0.11)
g1=$(ctr guard_post 1); ca=$(clear_count "$A")
echo "-- got '$r6'; guard rule 1: $g1a -> $g1; cleartext at A: $caa -> $ca"
check "W7 'rt ipsec missing' drops an app-started partner-zone packet without a bundle" \
	"got '$r6', guard 1 $g1a -> $g1, cleartext at A $caa -> $ca" \
	test -z "$r6" -a "${g1:-0}" -gt "${g1a:-0}" -a "$ca" = "$caa"

# --- W8: the gateway's own packets to an alias (route chain, §5.5) ------------------

echo "== W8: the gateway pings 100.64.1.5 (raw_out: route chain)"
nsx "$GW" ping -c 2 -W 2 100.64.1.5 > "$work/w7" 2>&1
cat "$work/w7" | tail -n 2
nsx "$GW" conntrack -L -w 4096 -p icmp 2>/dev/null > "$work/w7ct"
cat "$work/w7ct"
check "W8 the gateway's ping to A's alias is answered (route chain)" "ping failed" \
	grep -q ' 0% packet loss' "$work/w7"
check "W8 the ping's conntrack entry is in zone 4096" "none" grep -q 'zone=4096' "$work/w7ct"
# the same with raw_out as a filter chain: does the output DNAT's re-route
# alone (ip_route_me_harder after the address change) suffice?
nsx "$GW" nft delete chain ip tn raw_out 2>/dev/null ||
	{ nsx "$GW" nft flush chain ip tn raw_out; nsx "$GW" nft delete chain ip tn raw_out; }
nsx "$GW" nft -f - <<'EOF'
add chain ip tn raw_out { type filter hook output priority -300; policy accept; }
add rule ip tn raw_out ct zone set ip daddr & 255.255.255.0 map @azone4_l24
add rule ip tn raw_out meta mark set ip daddr & 255.255.255.0 map @amark4_l24
EOF
nsx "$GW" conntrack -D -w 4096 -p icmp > /dev/null 2>&1
nsx "$GW" ping -c 2 -W 2 100.64.2.5 > "$work/w7b" 2>&1
tail -n 2 "$work/w7b"
if grep -q ' 0% packet loss' "$work/w7b"; then
	echo "INFO W8b: with raw_out a filter chain, the gateway's ping to B's alias is answered too"
else
	echo "INFO W8b: with raw_out a filter chain, the gateway's ping to B's alias fails"
fi

# --- W9: a policy with marks and an if_id, packet with the mark only (§3.2) --------

echo "== W9: A's out policy (P → 10.9.0.0/24) gets if_id 7 besides its mark"
pol=(src $P/32 dst 10.9.0.0/24 mark 0x11 mask 0x00ffffff)
tmpl=(tmpl src 198.51.100.1 dst 198.51.100.2 proto esp reqid 5 mode tunnel)
nsx "$GW" ip xfrm policy add dir out "${pol[@]}" if_id 7 "${tmpl[@]}" &&
	nsx "$GW" ip xfrm policy delete dir out "${pol[@]}"
nsx "$GW" ip xfrm policy get dir out "${pol[@]}" if_id 7 | grep -E '^src|if_id|mark'
g1a=$(ctr guard_post 1)
r10=$(get "$APP" 100.64.1.5 8000)
g1=$(ctr guard_post 1)
echo "-- to 100.64.1.5:8000: '$r10'; guard rule 1: $g1a -> $g1"
check "W9 a policy with mark and if_id matches a policy-based packet by its mark alone" \
	"got '$r10', guard rule 1 $g1a -> $g1 (the if_id policy was not used)" \
	test "$r10" = "A $P"
nsx "$GW" ip xfrm policy add dir out "${pol[@]}" "${tmpl[@]}" &&
	nsx "$GW" ip xfrm policy delete dir out "${pol[@]}" if_id 7
r10=$(get "$APP" 100.64.1.5 8000)
check "W9 ... and with the if_id removed again, A is reached" "got '$r10'" test "$r10" = "A $P"

# --- W10: B sends a packet with the reply tuple of an app flow to A (§5.4) -----------

echo "== W10: app UDP 10.1.0.10:5000 → 100.64.1.5:9000; B sends 10.9.0.5:9000 → P:5000"
nsx "$A" socat -t 3 UDP-RECVFROM:9000,bind=10.9.0.5,fork SYSTEM:'sleep 2; echo A' 2>/dev/null &
pids+=($!)
sleep 0.5
cat > "$work/udp.py" <<'EOF2'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.1.0.10", 5000))
s.sendto(b"hi\n", ("100.64.1.5", 9000))
s.settimeout(0.5)
end = time.time() + 5
while time.time() < end:
    try:
        data, peer = s.recvfrom(100)
    except socket.timeout:
        continue
    print("%s:%d %s" % (peer[0], peer[1], data.decode().strip()), flush=True)
EOF2
nsx "$APP" /usr/bin/python3 "$work/udp.py" > "$work/w11" &
w11=$!
sleep 1
nsx "$B" socat -u STDIN UDP-SENDTO:$P:5000,bind=10.9.0.5:9000 <<< "SPOOF"
sleep 0.5
nsx "$GW" conntrack -L -p udp 2>/dev/null | grep -E 'port=(5000|9000)'
wait $w11
echo "-- the app received:"; cat "$work/w11"
check "W10 the app gets A's answer from 100.64.1.5:9000" "received: $(tr '\n' ';' < "$work/w11")" \
	grep -qx '100.64.1.5:9000 A' "$work/w11"
check "W10 B's packet never arrives as A (100.64.1.x)" "received: $(tr '\n' ';' < "$work/w11")" \
	bash -c "! grep -q '^100.64.1.*SPOOF' '$work/w11'"
grep -q 'SPOOF' "$work/w11" &&
	echo "INFO W10: B's packet reached the app as: $(grep SPOOF "$work/w11")"

# --- W11: a configured alias with no live binding is dropped (fail-closed) ------------

echo "== W11: B's alias elements removed (B down)"
nsx "$GW" nft -f - <<'EOF'
delete element ip tn azone4_l24 { 100.64.2.0 }
delete element ip tn amark4_l24 { 100.64.2.0 }
delete element ip tn adnat4_l24 { 100.64.2.0 }
EOF
g3a=$(ctr guard_post 3); caa=$(clear_count "$A"); cba=$(clear_count "$B")
r8=$(get "$APP" 100.64.2.5 8000)
g3=$(ctr guard_post 3); ca=$(clear_count "$A"); cb=$(clear_count "$B")
echo "-- got '$r8'; guard rule 3: $g3a -> $g3; cleartext at A: $caa -> $ca, at B: $cba -> $cb"
check "W11 a packet to a down partner's alias is dropped by the acfg4 rule, no cleartext" \
	"got '$r8', guard 3 $g3a -> $g3, cleartext A $caa -> $ca, B $cba -> $cb" \
	test -z "$r8" -a "${g3:-0}" -gt "${g3a:-0}" -a "$ca" = "$caa" -a "$cb" = "$cba"

# --- W12: without marks, identical selectors cannot get two policies (§3.1) -----

echo "== W12: a second out policy with the same selector and no mark"
nsx "$SCR" ip xfrm policy add dir out src $P/32 dst 10.9.0.0/24 \
	tmpl src 198.51.100.1 dst 198.51.100.2 proto esp reqid 5 mode tunnel
err=$(nsx "$SCR" ip xfrm policy add dir out src $P/32 dst 10.9.0.0/24 \
	tmpl src 198.51.100.5 dst 198.51.100.6 proto esp reqid 6 mode tunnel 2>&1)
echo "-- the second add: '${err:-accepted}'"
check "W12 without marks the kernel refuses a second policy for the same selector" \
	"the second policy was accepted" grep -q 'File exists' <<< "$err"
err=$(nsx "$SCR" ip xfrm policy add dir out src $P/32 dst 10.9.0.0/24 \
	mark 0x12 mask 0x00ffffff \
	tmpl src 198.51.100.5 dst 198.51.100.6 proto esp reqid 6 mode tunnel 2>&1)
check "W12 ... and accepts it with a mark" "$err" test -z "$err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
