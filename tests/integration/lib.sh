#!/bin/bash
# Lab for the integration suites: hosts in network namespaces, one charon per
# side (own network and mount namespace, private /run, own strongswan.conf and
# vici socket), a tiny test runner that prints "N passed, N failed" and dumps
# the state of the lab when a test fails.
#
# Nothing here touches the root network namespace: every address, route,
# rule and nftables table lives in namespaces the lab creates, and the lab
# removes them on every exit path.
#
# Parameters (environment):
#   BACKEND   libipsec (default; userspace ESP over TUN, P local on lo)
#             or xfrm (kernel ESP, P not local; needs an ESP-capable kernel)
#   STRONGSWAN_VERSION  the strongSwan version to run (default 5.9.8; see
#             scripts/sw-env.sh)
#   PREFIX    strongSwan installation (default: build/sw-VERSION/install)
#   KEEP_LAB  set to 1 to keep namespaces and logs after the run
#   LAB_ROUTE set to 1 to load tunnel-route on the gateway, and make "inet"
#             an internet router through which C is reachable too
#   LAB_XFRMI set to 1 for route-based tunnels: XFRM interfaces on the
#             gateway and swanctl.d/gateway-route-based (xfrm backend only)
#   LAB_VTI   set to 1 for route-based tunnels with VTIs on the gateway and
#             swanctl.d/gateway-route-based-vti (xfrm backend only)
#   LAB_TWICE set to 1 for partner-side mappings (twice NAT, xfrm backend
#             only): ch, ch2 and a third partner ch3 all hold 10.9.0.5 and
#             10.9.0.6, swanctl.d/gateway-twice-nat and partner-acme,
#             partner-globex, partner-initech; a fourth partner ch4
#             (partner-hooli, 10.9.0.133 in the same space) reaches P2
#             through a route-based tunnel, XFRM interface xfrm2, and a
#             fifth ch5 (partner-umbrella, 10.9.0.149) P3 through VTI vti0
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SW_TOP=$TOP . "$TOP/scripts/sw-env.sh"
PREFIX=${PREFIX:-$SW_PREFIX}
BACKEND=${BACKEND:-libipsec}
# CHARON, SWANCTL: other binaries (e.g. a distribution's, tests/distro)
CHARON=${CHARON:-$PREFIX/libexec/ipsec/charon}
SWANCTL=${SWANCTL:-$PREFIX/sbin/swanctl}
CONFDIR=$TOP/swanctl.d
GW_CONF=gateway
[ "${LAB_XFRMI:-0}" = 1 ] && GW_CONF=gateway-route-based
[ "${LAB_VTI:-0}" = 1 ] && GW_CONF=gateway-route-based-vti
[ "${LAB_TWICE:-0}" = 1 ] && GW_CONF=gateway-twice-nat

LAB_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tnlab.XXXXXX")
declare -A CHARON_PID=()
# CHARON_WRAP[ROLE]: command to run ROLE's charon under (e.g. valgrind)
declare -A CHARON_WRAP=()
LAB_NS=()

# The scenario's addresses (documentation ranges and 10/8 only)
P=192.0.2.100           # our public service address
APP=10.1.0.10           # where the service really lives
C=198.51.100.10         # the clearinghouse's address
C2=198.51.100.20        # the second partner's address
GW_WAN=192.0.2.1; CH_WAN=192.0.2.2
GW_WAN2=192.0.2.17; CH2_WAN=192.0.2.18
GW_NET=192.0.2.33; INET_NET=192.0.2.34
GW_LAN=10.1.0.1
INET_CH=198.51.100.65; CH_INET=198.51.100.66
GW_WAN3=192.0.2.49; CH3_WAN=192.0.2.50
# twice NAT: the partners' identical network, a host there, their aliases
PNET=10.9.0.0/24; PHOST=10.9.0.5
ALIAS_A=100.64.1; ALIAS_B=100.64.2; ALIAS_C=100.64.3
# and a partner in the same space behind a route-based tunnel, whose
# P-side mapping has its own public and private addresses
GW_WAN4=192.0.2.65; CH4_WAN=192.0.2.66
HNET=10.9.0.128/28; HHOST=10.9.0.133; P2=192.0.2.101; APP2=10.1.0.12
GW_WAN5=192.0.2.81; CH5_WAN=192.0.2.82
UNET=10.9.0.144/28; UHOST=10.9.0.149; P3=192.0.2.102; APP3=10.1.0.13

PLUGINS="random nonce openssl pem x509 pubkey pkcs1 sha1 sha2 hmac kdf aes gmp
kernel-netlink socket-default vici updown"

log() { printf '%s\n' "$*"; }

ns() { printf 'tn%s-%s' "$LAB_ID" "$1"; }
nsx() { local role=$1; shift; ip netns exec "$(ns "$role")" "$@"; }

# nsx_bg ROLE COMMAND...: run COMMAND in ROLE's namespace in the background,
# its PID in BG_PID (ip netns exec execs it). Not "nsx ... &": $! would be
# the subshell that runs the function, and killing that leaves COMMAND
# running into the next tests (a capture still growing, a sender still
# sending). The caller's redirections apply to COMMAND.
nsx_bg() { local role=$1; shift; ip netns exec "$(ns "$role")" "$@" & BG_PID=$!; }

# --- lab topology -----------------------------------------------------------

lab_add_ns()
{
	local role=$1 n
	n=$(ns "$role")
	ip netns add "$n"
	LAB_NS+=("$n")
	ip -n "$n" link set lo up
	nsx "$role" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.lo.rp_filter=0
}

# lab_link ROLE1 IF1 ADDR1 ROLE2 IF2 ADDR2
lab_link()
{
	ip -n "$(ns "$1")" link add "$2" type veth peer name "$5" netns "$(ns "$4")"
	ip -n "$(ns "$1")" addr add "$3" dev "$2"
	ip -n "$(ns "$4")" addr add "$6" dev "$5"
	ip -n "$(ns "$1")" link set "$2" up
	ip -n "$(ns "$4")" link set "$5" up
}

# Hosts: ch (clearinghouse), ch2 (second partner), gw (our gateway),
# app (the service), inet (a host on the internet, for forged packets)
lab_up()
{
	local r
	for r in ch ch2 gw app inet; do
		lab_add_ns "$r"
	done
	lab_link gw wan0 $GW_WAN/28 ch eth0 $CH_WAN/28
	lab_link gw wan1 $GW_WAN2/28 ch2 eth0 $CH2_WAN/28
	lab_link gw net0 $GW_NET/28 inet eth0 $INET_NET/28
	lab_link gw lan0 $GW_LAN/24 app eth0 $APP/24

	ip -n "$(ns ch)" addr add $C/32 dev lo
	ip -n "$(ns ch2)" addr add $C2/32 dev lo
	if [ "${LAB_ROUTE:-0}" = 1 ]; then
		# inet is the internet: C is reachable through it, too
		lab_link inet eth1 $INET_CH/28 ch eth1 $CH_INET/28
		nsx inet sysctl -qw net.ipv4.ip_forward=1
		ip -n "$(ns inet)" route add $C/32 via $CH_INET
		ip -n "$(ns ch)" route add 192.0.2.32/28 via $INET_CH
		ip -n "$(ns gw)" route add 198.51.100.0/24 via $INET_NET
	else
		# inet is an attacker that forges the clearinghouse's address
		ip -n "$(ns inet)" addr add $C/32 dev lo
		if [ "$BACKEND" = xfrm ]; then
			# with P not local, strongSwan installs no route toward the
			# partners; without tunnel-route, an operator adds these
			ip -n "$(ns gw)" route add $C/32 via $CH_WAN
			ip -n "$(ns gw)" route add $C2/32 via $CH2_WAN
		fi
	fi
	if [ "$BACKEND" = libipsec ]; then
		# kernel-libipsec needs a local address in local_ts
		ip -n "$(ns gw)" addr add $P/32 dev lo
	fi

	if [ "${LAB_TWICE:-0}" = 1 ]; then
		# three partners with the same network; the gateway's route to it
		# points at acme's link, as a default route to the internet
		# would: a packet that leaves without a bundle is seen in clear
		# there
		lab_add_ns ch3
		lab_link gw wan2 $GW_WAN3/28 ch3 eth0 $CH3_WAN/28
		ip -n "$(ns ch3)" route add default via $GW_WAN3
		nsx gw sysctl -qw net.ipv4.conf.wan2.rp_filter=0
		for r in ch ch2 ch3; do
			ip -n "$(ns $r)" addr add $PHOST/32 dev lo
			ip -n "$(ns $r)" addr add 10.9.0.6/32 dev lo
		done
		ip -n "$(ns gw)" route add $PNET via $CH_WAN
		# and the alias blocks too: a packet to an alias that gets no
		# translation (its partner down or refused) is routed out there,
		# as a default route would, and only the plugin's fail-closed
		# rule keeps it from leaving in clear (without a route it would
		# be dropped by routing, and the rule would go untested)
		ip -n "$(ns gw)" route add 100.64.0.0/10 via $CH_WAN
		# hooli, in the same space, behind a route-based tunnel: its
		# more specific route points at the XFRM interface
		lab_add_ns ch4
		lab_link gw wan3 $GW_WAN4/28 ch4 eth0 $CH4_WAN/28
		ip -n "$(ns ch4)" route add default via $GW_WAN4
		ip -n "$(ns ch4)" addr add $HHOST/32 dev lo
		ip -n "$(ns gw)" link add xfrm2 type xfrm dev wan3 if_id 44
		ip -n "$(ns gw)" link set xfrm2 up
		ip -n "$(ns gw)" route add $HNET dev xfrm2
		# umbrella, the same behind a VTI (key 0x02000000, outside the
		# partner-side marks' mask 0x00ffffff)
		lab_add_ns ch5
		lab_link gw wan4 $GW_WAN5/28 ch5 eth0 $CH5_WAN/28
		ip -n "$(ns ch5)" route add default via $GW_WAN5
		ip -n "$(ns ch5)" addr add $UHOST/32 dev lo
		ip -n "$(ns gw)" link add vti0 type vti local $GW_WAN5 \
			remote $CH5_WAN key 33554432
		nsx gw sysctl -qw net.ipv4.conf.vti0.disable_policy=1
		ip -n "$(ns gw)" link set vti0 up
		ip -n "$(ns gw)" route add $UNET dev vti0
	fi

	if [ "${LAB_XFRMI:-0}" = 1 ]; then
		ip -n "$(ns gw)" link add xfrm0 type xfrm dev wan0 if_id 42
		ip -n "$(ns gw)" link add xfrm1 type xfrm dev wan1 if_id 43
		ip -n "$(ns gw)" link set xfrm0 up
		ip -n "$(ns gw)" link set xfrm1 up
	fi
	if [ "${LAB_VTI:-0}" = 1 ]; then
		lab_vti vti0 $GW_WAN $CH_WAN 42
		lab_vti vti1 $GW_WAN2 $CH2_WAN 43
	fi

	ip -n "$(ns ch)" route add default via $GW_WAN
	ip -n "$(ns ch2)" route add default via $GW_WAN2
	ip -n "$(ns inet)" route add default via $GW_NET
	ip -n "$(ns app)" route add default via $GW_LAN
	nsx gw sysctl -qw net.ipv4.ip_forward=1
	for r in wan0 wan1 net0 lan0; do
		nsx gw sysctl -qw net.ipv4.conf.$r.rp_filter=0
	done
}

# lab_vti NAME LOCAL REMOTE KEY: a VTI on the gateway; its key is the mark of
# its CHILD_SA. Decrypted packets pass the inbound policy check with the
# key as they enter it, not again on the device (disable_policy)
lab_vti()
{
	ip -n "$(ns gw)" link add "$1" type vti local "$2" remote "$3" key "$4" &&
	nsx gw sysctl -qw net.ipv4.conf.$1.disable_policy=1 &&
	nsx gw sysctl -qw net.ipv4.conf.$1.rp_filter=0 &&
	ip -n "$(ns gw)" link set "$1" up
}

# The gateway behind a NAT router: gw (10.0.2.1) -- nat (10.0.2.254 |
# 192.0.2.1, masquerade) -- ch (192.0.2.2); the app host as usual
lab_up_nat()
{
	local r
	for r in ch nat gw app; do
		lab_add_ns "$r"
	done
	lab_link gw wan0 10.0.2.1/24 nat eth0 10.0.2.254/24
	lab_link nat eth1 $GW_WAN/28 ch eth0 $CH_WAN/28
	lab_link gw lan0 $GW_LAN/24 app eth0 $APP/24
	ip -n "$(ns ch)" addr add $C/32 dev lo
	[ "$BACKEND" = libipsec ] && ip -n "$(ns gw)" addr add $P/32 dev lo
	ip -n "$(ns gw)" route add default via 10.0.2.254
	ip -n "$(ns ch)" route add default via $GW_WAN
	ip -n "$(ns app)" route add default via $GW_LAN
	nsx gw sysctl -qw net.ipv4.ip_forward=1
	nsx nat sysctl -qw net.ipv4.ip_forward=1
	nsx nat nft -f - <<EON
table ip masq {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" ip saddr 10.0.2.0/24 masquerade
	}
}
EON
}

lab_down()
{
	local role pid n
	for role in "${!CHARON_PID[@]}"; do
		pid=${CHARON_PID[$role]}
		kill "$pid" 2>/dev/null
	done
	for role in "${!CHARON_PID[@]}"; do
		pid=${CHARON_PID[$role]}
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	for pid in "${CAP_PID[@]}"; do
		kill "$pid" 2>/dev/null
	done
	# anything else still running in the lab's namespaces
	for n in "${LAB_NS[@]}"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	for n in "${LAB_NS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	LAB_NS=()
	if [ "${KEEP_LAB:-0}" = 1 ]; then
		log "lab files kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}

# --- charon -----------------------------------------------------------------

# charon_conf ROLE [EXTRA]: write ROLE's strongswan.conf; EXTRA goes into the
# charon section (e.g. settings of the plugins)
charon_conf()
{
	local role=$1 extra=${2:-} dir=$WORK/$1 plugins=$PLUGINS
	mkdir -p "$dir"
	if [ "$BACKEND" = libipsec ]; then
		plugins="kernel-libipsec $plugins"
	fi
	# the plugins' settings: copies a test may edit before --reload-settings
	if [ "$role" = gw ]; then
		cp "$CONFDIR/gateway/tunnel-nat.conf" "$CONFDIR/gateway/tunnel-route.conf" "$dir/"
		# a gateway configuration with its own mappings
		[ -f "$CONFDIR/$GW_CONF/tunnel-nat.conf" ] &&
			cp "$CONFDIR/$GW_CONF/tunnel-nat.conf" "$dir/"
	fi
	if [ "$role" = gw ]; then
		plugins="$plugins tunnel-nat"
		[ "${LAB_ROUTE:-0}" = 1 ] && plugins="$plugins tunnel-route"
	fi
	cat > "$dir/strongswan.conf" <<EOC
charon {
	load = $(echo $plugins)
	port = 500
	port_nat_t = 4500
	retransmit_tries = 3
	filelog {
		log {
			path = $dir/charon.log
			time_format = %T
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
$( [ "$role" = gw ] && echo "		include $dir/tunnel-nat.conf" )
$( [ "$role" = gw ] && [ "${LAB_ROUTE:-0}" = 1 ] && echo "		include $dir/tunnel-route.conf" )
	}
$extra
}
EOC
}

# charon_start ROLE: start charon for ROLE (config written by charon_conf)
charon_start()
{
	local role=$1 dir=$WORK/$1 pid
	[ -f "$dir/strongswan.conf" ] || charon_conf "$role"
	ip netns exec "$(ns "$role")" unshare -m --propagation private sh -c \
		"mount -t tmpfs none /run && STRONGSWAN_CONF=$dir/strongswan.conf exec ${CHARON_WRAP[$role]:-} $CHARON" \
		>> "$dir/charon.stdout" 2>&1 &
	pid=$!
	# no job notices ("Killed") when a test kills it on purpose
	disown "$pid"
	CHARON_PID[$role]=$pid
	for _ in $(seq "${CHARON_START_WAIT:-100}"); do
		if nsenter -t "$pid" -m test -S "/run/$role.vici" 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	log "charon of $role did not start"
	tail -n 20 "$dir/charon.log" "$dir/charon.stdout" 2>/dev/null
	return 1
}

# charon_kill ROLE [SIGNAL]
charon_kill()
{
	local role=$1 sig=${2:-TERM} pid=${CHARON_PID[$1]}
	kill -"$sig" "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	unset "CHARON_PID[$role]"
}

# swan ROLE ARGS...: swanctl against ROLE's charon
swan()
{
	local role=$1 cmd=$2; shift 2
	nsenter -t "${CHARON_PID[$role]}" -m -n "$SWANCTL" "$cmd" \
		--uri "unix:///run/$role.vici" "$@"
}

# swan_load ROLE CONFIG: load swanctl.d/CONFIG/swanctl.conf
swan_load()
{
	swan "$1" --load-all --noprompt --file "$CONFDIR/$2/swanctl.conf" \
		> "$WORK/$1/swanctl-load.log" 2>&1 ||
		{ cat "$WORK/$1/swanctl-load.log"; return 1; }
}

# logged ROLE PATTERN: wait up to 5 s for charon to log a line matching a
# grep pattern (swanctl --initiate may return on INSTALLED, before the
# listeners' child_updown has run)
logged()
{
	wait_for 5 grep -q -- "$2" "$WORK/$1/charon.log"
}

# --- IKE exchanges lost or crossed on purpose -------------------------------

# ike_drop ROLE TYPE...: drop the IKE messages ROLE sends (requests and
# responses) of these exchange types: 36 CREATE_CHILD_SA, 37 INFORMATIONAL.
# The exchange type is the 19th byte of the IKE header, behind the UDP
# header, and behind the non-ESP marker on port 4500.
ike_drop()
{
	local role=$1 t
	shift
	nsx "$role" nft -f - <<EON || return 1
table ip ikedrop {
	chain out {
		type filter hook output priority 0; policy accept;
	}
}
EON
	for t; do
		nsx "$role" nft add rule ip ikedrop out udp dport 500 \
			@th,208,8 "$t" counter drop || return 1
		nsx "$role" nft add rule ip ikedrop out udp dport 4500 \
			@th,64,32 0 @th,240,8 "$t" counter drop || return 1
	done
}

# ike_dropped ROLE: how many IKE messages ike_drop dropped
ike_dropped()
{
	nsx "$1" nft -j list table ip ikedrop 2>/dev/null |
		jq '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | add // 0'
}

ike_dropped_any() { [ "$(ike_dropped "$1")" -gt 0 ]; }

ike_drop_off()
{
	nsx "$1" nft delete table ip ikedrop 2>/dev/null
	return 0
}

# child_ids ROLE CHILD: unique ids of ROLE's CHILD_SAs named CHILD, with
# their state ("12:INSTALLED 11:REKEYED")
child_ids()
{
	swan "$1" --list-sas --raw 2>/dev/null |
		grep -Eo "\{name=$2 uniqueid=[0-9]+ reqid=[0-9]+ state=[A-Z_]+" |
		sed -E 's/.*uniqueid=([0-9]+) .*state=([A-Z_]+)/\1:\2/' | tr '\n' ' '
}

# ike_ids ROLE NAME: the unique ids and states of ROLE's IKE_SAs NAME
ike_ids()
{
	swan "$1" --list-sas --raw 2>/dev/null |
		grep -Eo "\{$2 \{uniqueid=[0-9]+ version=[0-9]+ state=[A-Z_]+" |
		sed -E 's/.*uniqueid=([0-9]+) .*state=([A-Z_]+)/\1:\2/' | tr '\n' ' '
}

# reauth_quiet ROLE IKE CHILD: wait until ROLE has one IKE_SA IKE, established,
# and one CHILD_SA CHILD, installed. charon defers a requested
# reauthentication by 6-15 s (rekey_ike_sa_job: RETRY_INTERVAL minus jitter)
# while the IKE_SA or any of its CHILD_SAs is in another state, e.g. a rekeyed
# CHILD_SA that is still being deleted; a deferred one would happen after the
# test that asked for it, in the next one
reauth_quiet()
{
	local rq_role=$1 rq_ike=$2 rq_child=$3 rq_t0=$SECONDS
	local rq_first="IKE_SA $(ike_ids $1 $2)CHILD_SA $(child_ids $1 $3)"
	wait_eval 20 '[[ "$(ike_ids $rq_role $rq_ike)" =~ ^[0-9]+:ESTABLISHED\ $ ]] &&
		[[ "$(child_ids $rq_role $rq_child)" =~ ^[0-9]+:INSTALLED\ $ ]]' ||
		fail "$1 not ready to reauthenticate: IKE_SA $(ike_ids $1 $2), CHILD_SA $(child_ids $1 $3)" ||
		return 1
	[ "$rq_first" = "IKE_SA $(ike_ids $1 $2)CHILD_SA $(child_ids $1 $3)" ] ||
		log "    before the reauthentication: waited $((SECONDS - rq_t0)) s for $1's SAs to settle ($rq_first)"
}

# ike_replaced ROLE IKE BEFORE WHAT: wait until WHAT (a rekey or a
# reauthentication) of ROLE's IKE_SA IKE (ike_ids BEFORE it) is complete: one
# IKE_SA, established, not the old one. charon retries either 6-15 s later
# when it cannot do it at once, hence the 20 s
ike_replaced()
{
	local ir_role=$1 ir_ike=$2 ir_before=$3
	wait_eval 20 '[[ "$(ike_ids $ir_role $ir_ike)" =~ ^[0-9]+:ESTABLISHED\ $ ]] &&
		[ "$(ike_ids $ir_role $ir_ike)" != "$ir_before" ]' ||
		fail "the $4 of $2 on $1 did not complete: IKE_SA before '$3', now '$(ike_ids $1 $2)'"
}

# child_uniqueid CHILD: unique id of the gateway's installed CHILD_SA CHILD
child_uniqueid()
{
	child_ids gw "$1" | tr ' ' '\n' | grep ':INSTALLED$' | cut -d: -f1 | tail -n 1
}

# installed_other_than ROLE CHILD ID: ROLE has CHILD installed with an id
# other than ID
installed_other_than()
{
	child_ids "$1" "$2" | tr ' ' '\n' | grep ':INSTALLED$' | grep -vq "^$3:"
}

# only_new_installed ROLE CHILD ID: exactly one CHILD installed, not ID
only_new_installed()
{
	local ids
	ids=$(child_ids "$1" "$2" | tr ' ' '\n' | grep ':INSTALLED$')
	[ "$(echo "$ids" | grep -c .)" = 1 ] && ! echo "$ids" | grep -q "^$3:"
}

# rekey_by_partner BEFORE: the clearinghouse rekeys "claims" (the gateway
# answers); wait until the gateway has a new CHILD_SA installed (BEFORE is
# the id of the old one)
rekey_by_partner()
{
	swan ch --rekey --child claims > /dev/null ||
		fail "swanctl --rekey on the clearinghouse failed" || return 1
	wait_for 10 installed_other_than gw claims "$1" ||
		fail "the gateway has no new CHILD_SA: $(child_ids gw claims)"
}

# rekey_by_partner_sampled SAMPLE-COMMAND PING-ROLE PING-ARGS...: the
# clearinghouse rekeys "claims" while PING-ROLE pings (40 packets) and the
# gateway runs SAMPLE-COMMAND every 20 ms; returns once the old CHILD_SA is
# gone, with the samples in $WORK/resp-samples.txt and the ping's loss in
# RK_LOST
rekey_by_partner_sampled()
{
	local cmd=$1 role=$2 before ping_pid
	shift 2
	before=$(child_uniqueid claims)
	nsx "$role" ping -n -q -c 40 -i 0.1 "$@" > "$WORK/ping-resp.txt" 2>&1 &
	ping_pid=$!
	sample_start "$WORK/resp-samples.txt" gw "$cmd"
	sleep 1
	rekey_by_partner "$before" || { sample_stop; wait "$ping_pid"; return 1; }
	wait "$ping_pid"
	sample_stop
	RK_LOST=$(ping_loss "$WORK/ping-resp.txt")
	wait_for 5 only_new_installed gw claims "$before" ||
		fail "the old CHILD_SA was not deleted: $(child_ids gw claims)"
}

# rekey_delete_lost BEFORE: the same, but the clearinghouse's INFORMATIONAL
# exchanges (its DELETE of the old CHILD_SA) never reach the gateway; returns
# when the DELETE was dropped, with the drop still in place
rekey_delete_lost()
{
	ike_drop ch 37 || fail "could not drop the clearinghouse's DELETE" || return 1
	rekey_by_partner "$1" || return 1
	wait_for 5 ike_dropped_any ch ||
		fail "the clearinghouse sent no INFORMATIONAL to drop" || return 1
	log "    gateway after the lost DELETE: $(child_ids gw claims)"
}

# rekey_collide BEFORE: both ends rekey "claims" at once, and the gateway
# sees the collision: its own CREATE_CHILD_SA request is held back while the
# clearinghouse's arrives. Once the gateway logged the collision, its
# messages go out again (retransmitted) and both exchanges complete. Returns
# when the gateway has one new CHILD_SA installed.
COLLISION="detected CHILD_REKEY collision|detected rekey collision|CHILD_SA rekey collision"
rekey_collide()
{
	ike_drop gw 36 || fail "could not hold back CREATE_CHILD_SA" || return 1
	swan gw --rekey --child claims > /dev/null &&
		swan ch --rekey --child claims > /dev/null ||
		{ ike_drop_off gw; fail "swanctl --rekey failed"; return 1; }
	# 5.9 logs "detected CHILD_REKEY collision with CHILD_REKEY", 6.x
	# "detected rekey collision for CHILD_SA" and, where both rekeys
	# complete, "CHILD_SA rekey collision won/lost"
	wait_for 5 grep -qE "$COLLISION" "$WORK/gw/charon.log"
	ike_drop_off gw
	grep -qE "$COLLISION" "$WORK/gw/charon.log" ||
		fail "the gateway logged no rekey collision: $(grep -h 'rekey' "$WORK/gw/charon.log" | tail -n 4)" ||
		return 1
	# the redundant CHILD_SA is deleted: one installed, not the old one
	wait_for 15 only_new_installed gw claims "$1" ||
		fail "not one new CHILD_SA after the collision: $(child_ids gw claims)" || return 1
	log "    gateway: $(grep -hoE "($COLLISION)[a-zA-Z_ ]*" "$WORK/gw/charon.log" | tr '\n' ';')" \
		"clearinghouse: $(grep -hoE "($COLLISION)[a-zA-Z_ ]*" "$WORK/ch/charon.log" | tr '\n' ';')"
}

# --- probes -----------------------------------------------------------------

# tcp_server ROLE IP PORT TAG: answer each line with "TAG <peer address> <line>"
# (TAG: one word without ':' or ',', socat's separators). The clients
# half-close after their line; socat's default -t (0.5 s) would then close
# the connection before a shell slower than that (a loaded host, TCG) has
# answered, and the client would get '' from a working path. -t 10 only
# bounds that wait: the shell exits right after its answer.
tcp_server()
{
	nsx "$1" socat -t 10 TCP-LISTEN:"$3",bind="$2",reuseaddr,fork \
		SYSTEM:"read l; echo $4 \$SOCAT_PEERADDR \$l" \
		> /dev/null 2>&1 &
	wait_port "$1" tcp "$2" "$3"
}

# udp_sink ROLE IP PORT FILE: record every datagram with its sender
udp_sink()
{
	nsx "$1" socat -u UDP-RECVFROM:"$3",bind="$2",reuseaddr,fork \
		SYSTEM:"echo \$SOCAT_PEERADDR \$(cat) >> $4" > /dev/null 2>&1 &
	wait_port "$1" udp "$2" "$3"
}

wait_port()
{
	local flag=-tln
	[ "$2" = udp ] && flag=-uln
	for _ in $(seq 50); do
		nsx "$1" ss -H $flag "src $3:$4" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# tcp_exchange WAIT ROLE SRC DST PORT LINE: connect from SRC (ADDR or
# ADDR:PORT), giving the connection WAIT seconds, send LINE and print the
# answer. The servers close after one answer, so socat ends as soon as it
# comes; -t only bounds the wait for an answer that doesn't come, and is long
# enough for a host loaded by TCG or a sanitizer build. What socat said of a
# failure (refused, timed out) goes to $WORK/tcp-exchange.log, a line per
# exchange with its time and addresses: see tcp_said.
tcp_exchange()
{
	local t0 rc err=$WORK/tcp-exchange.$BASHPID
	t0=$(date +%s.%N)
	echo "$6" | nsx "$2" timeout 30 socat -t 12 - \
		TCP:"$4":"$5",bind="$3",connect-timeout="$1" 2>"$err"
	rc=$?
	printf '%s %s -> %s:%s rc %s after %s s: %s\n' "$(date +%T.%N | cut -c1-12)" \
		"$3" "$4" "$5" "$rc" "$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $t0 }")" \
		"$(tr '\n' ' ' < "$err")" >> "$WORK/tcp-exchange.log"
	rm -f "$err"
	return $rc
}

# tcp_said [N]: the last N (default 2) exchanges' lines of tcp_exchange, for
# a failure's diagnosis
tcp_said() { tail -n "${1:-2}" "$WORK/tcp-exchange.log" 2>/dev/null; }

# tcp_ask ROLE SRC DST PORT LINE: an exchange that should succeed: 10 s for
# the connection, the SYN and three retransmissions (1, 3 and 7 s after it)
tcp_ask() { tcp_exchange 10 "$@"; }

# tcp_ask_dropped ROLE SRC DST PORT LINE: an exchange whose SYNs are meant
# to be dropped (the caller expects no answer): 3 s for the connection (the
# SYN and one retransmission); any answer is printed
tcp_ask_dropped() { tcp_exchange 3 "$@"; }

# udp_send ROLE SRC DST PORT LINE
udp_send()
{
	echo "$5" | nsx "$1" socat -u - UDP-SENDTO:"$3":"$4",bind="$2" 2>/dev/null
}

# nft_elems ROLE MAP: number of elements in the plugin's map (exact pairs
# in MAP, ranges in MAP_ranges)
nft_elems()
{
	local t=${TABLE:-tunnel_nat} a b
	a=$(nsx "$1" nft -j list map ip "$t" "$2" 2>/dev/null |
		jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add // 0')
	b=$(nsx "$1" nft -j list map ip "$t" "$2_ranges" 2>/dev/null |
		jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add // 0')
	echo $(( ${a:-0} + ${b:-0} ))
}

# rule_packets ROLE TEXT: packets counted by the rules of the plugin's table
# (TABLE, default tunnel_nat) whose comment contains TEXT; "none" if no such
# rule has a counter
rule_packets()
{
	local t=${TABLE:-tunnel_nat}
	nsx "$1" nft -j list table ip "$t" 2>/dev/null |
		jq -r --arg c "$2" '[.nftables[] | select(.rule) | .rule |
			select((.comment // "") | contains($c)) | .expr[] |
			select(.counter) | .counter.packets] |
			if length == 0 then "none" else add end'
}

# counted_more BEFORE AFTER N: two rule_packets readings, the second at
# least N more than the first (neither "none")
counted_more()
{
	[ "$1" != none ] && [ "$2" != none ] && [ "$2" -ge $(($1 + $3)) ]
}

# nft_table_exists ROLE
nft_table_exists()
{
	nsx "$1" nft list table ip "${TABLE:-tunnel_nat}" > /dev/null 2>&1
}

# firewall_table ROLE: another firewall's table in ROLE's nftables (an inet
# table with a filter chain, as a firewall manager or a hand-written
# ruleset has), listed after the tables there already
firewall_table()
{
	nsx "$1" nft -f - <<-EOF
	table inet firewall {
		chain input {
			type filter hook input priority 0; policy accept;
		}
	}
	EOF
}

# table_before ROLE A B: whether table A comes before table B in ROLE's
# list of tables (the order of "nft flush ruleset"'s deletions)
table_before()
{
	nsx "$1" nft list tables | awk -v a="$2" -v b="$3" '
		$3 == a && !seen { found = 1 }
		$3 == b { seen = 1 }
		END { exit !found }'
}

child_installed()
{
	swan "$1" --list-sas --raw 2>/dev/null |
		grep -Eq "\{name=$2 uniqueid=[0-9]+ reqid=[0-9]+ state=INSTALLED"
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for()
{
	local t=$1; shift
	for _ in $(seq $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# wait_eval SECONDS 'EXPRESSION': like wait_for, but EXPRESSION (a shell
# command line in single quotes) is evaluated anew each time, its command
# substitutions included; with wait_for, "$(...)" in the arguments is
# expanded once, before the first try, and never changes
wait_eval()
{
	wait_for "$1" eval "$2"
}

# cap_start ROLE IFACE NAME [in|out]: capture on an interface into
# $WORK/NAME.pcap, optionally one direction only
cap_start()
{
	local f=$WORK/$3.pcap dir=()
	[ -n "${4:-}" ] && dir=(-Q "$4")
	rm -f "$f" "$f.log"
	nsx_bg "$1" tcpdump --immediate-mode -U -n "${dir[@]}" -i "$2" -w "$f" > "$f.log" 2>&1
	CAP_PID[$3]=$BG_PID
	for _ in $(seq 50); do
		grep -q "listening on" "$f.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# cap_stop NAME
cap_stop()
{
	sleep 0.3
	kill "${CAP_PID[$1]}" 2>/dev/null
	wait "${CAP_PID[$1]}" 2>/dev/null
	unset "CAP_PID[$1]"
}

# cap_count NAME FILTER: packets in a capture that match a filter
cap_count()
{
	tcpdump -n -r "$WORK/$1.pcap" "$2" 2>/dev/null | wc -l
}

# cap_show NAME FILTER: print them
cap_show()
{
	tcpdump -n -r "$WORK/$1.pcap" "$2" 2>/dev/null | sed 's/^/      /'
}
declare -A CAP_PID=()

# wire_check: with the tunnel up, the untrusted link between the gateways
# carries the app's traffic both ways only as ESP (or ESP in UDP).
# Each end's capture takes what it sends only: together that is the wire.
# (With kernel XFRM, a capture on the gateway's own interface also shows the
# decrypted inbound packets, re-injected there after decryption, which never
# crossed the wire.)
wire_check()
{
	local out1 out2 clear esp f
	cap_start gw wan0 wire-gw out && cap_start ch eth0 wire-ch out || return 1
	out1=$(tcp_ask ch $C $P 7000 "wire check in")
	out2=$(tcp_ask app $APP $C 7001 "wire check out")
	nsx ch ping -n -q -c 3 -i 0.2 -I $C $P > /dev/null 2>&1
	cap_stop wire-gw; cap_stop wire-ch
	[ "$out1" = "app $C wire check in" ] && [ "$out2" = "ch $P wire check out" ] ||
		fail "traffic did not flow: '$out1' '$out2'" || return 1
	clear=0; esp=0
	for f in wire-gw wire-ch; do
		clear=$((clear + $(cap_count $f "host $C and (host $P or net 10.0.0.0/8)")))
		esp=$((esp + $(cap_count $f "esp or (udp port 4500 and greater 100)")))
	done
	log "    wire: $esp ESP packets, $clear cleartext packets between C and P or 10/8"
	[ "$clear" = 0 ] || fail "cleartext on the untrusted link: $(cap_show wire-gw "host $C" | head -3) $(cap_show wire-ch "host $C" | head -3)" || return 1
	[ "$esp" -ge 10 ] || fail "expected the exchanges as ESP on the wire, saw $esp packets"
}

# sample_start FILE ROLE SHELL-COMMAND: in ROLE's namespace, run the command
# every 20 ms into FILE, one line "s <output>" per run, until sample_stop
# (one process in the namespace, so sampling stays fast under emulation)
sample_start()
{
	local file=$1 role=$2 cmd=$3
	: > "$file"
	SAMPLE_FILE=$file
	nsx_bg "$role" sh -c "while :; do echo \"s \$( { $cmd; } 2>&1 | tr '\n' ' ')\"; sleep 0.02; done" >> "$file" 2>/dev/null
	SAMPLER=$BG_PID
}

sample_stop()
{
	kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
}

# sample_mark NAME: a line "m NAME" among the samples (both append whole
# lines), so that the samples can be told apart by when they were taken
sample_mark() { echo "m $1" >> "$SAMPLE_FILE"; }

# samples FILE: the sample lines, without the marks
samples() { grep '^s ' "$1"; }

# sample_spread FILE: the number of samples before the mark "start",
# between it and "end", and after "end"
sample_spread()
{
	awk 'BEGIN { p = 0 } /^m start$/ { p = 1; next } /^m end$/ { p = 2; next }
		/^s / { n[p]++ } END { printf "%d %d %d", n[0], n[1], n[2] }' "$1"
}

# sampled FILE: true once a sample was taken
sampled() { grep -q '^s ' "$1"; }

# samples_after_end FILE: true once a sample follows the mark "end"
samples_after_end() { [ "$(sample_spread "$1" | cut -d' ' -f3)" -gt 0 ]; }

# samples_span FILE: fails, naming the counts, unless samples were taken
# before the event (mark "start"), during it and after it (mark "end"). It
# asks that the sampler covered the event, not for a number of samples: a
# loaded machine takes fewer, and each is checked anyway.
samples_span()
{
	local spread
	spread=$(sample_spread "$1")
	set -- $spread
	[ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ] ||
		fail "the samples do not span the event: $1 before it, $2 during it, $3 after it"
}

# ping_loss FILE: packets lost in a ping summary; "all" if there is no
# summary (the ping did not run or did not finish), which no "= 0" or
# "-le N" check takes for a small loss
ping_loss()
{
	local sent recv
	sent=$(grep -o '[0-9]* packets transmitted' "$1" 2>/dev/null | cut -d' ' -f1)
	recv=$(grep -o '[0-9]* received' "$1" 2>/dev/null | cut -d' ' -f1)
	if [ -z "$sent" ] || [ "$sent" = 0 ]; then
		echo all
		return
	fi
	echo $((sent - ${recv:-0}))
}

# --- runner -----------------------------------------------------------------

PASSED=0
FAILED=0
FAILED_NAMES=()

dump_state()
{
	local role
	log "---- state dump ----"
	for role in gw ch ch2 ch3 ch4 ch5; do
		[ -n "${CHARON_PID[$role]:-}" ] || continue
		log "== $role: swanctl --list-sas"
		swan "$role" --list-sas 2>&1 | sed 's/^/  /'
	done
	for role in gw ch app; do
		log "== $role: nft list ruleset"
		nsx "$role" nft list ruleset 2>&1 | sed 's/^/  /'
		log "== $role: ip rule; ip route show table all"
		nsx "$role" ip rule 2>&1 | sed 's/^/  /'
		nsx "$role" ip route show table all 2>&1 | grep -v "^local\|^broadcast\|fe80\|ff00" | sed 's/^/  /'
	done
	log "== the last TCP exchanges (tcp_exchange)"
	tcp_said 5 | sed 's/^/  /'
	for role in gw ch ch2 ch3 ch4 ch5; do
		[ -f "$WORK/$role/charon.log" ] || continue
		log "== $role: charon log (last 60 lines)"
		tail -n 60 "$WORK/$role/charon.log" | sed 's/^/  /'
	done
	log "---- end of state dump ----"
}

# fail MESSAGE: report why the current test fails (and make it fail)
fail()
{
	log "    FAIL: $*"
	return 1
}

# run_test NAME FUNCTION
run_test()
{
	local name=$1 fn=$2 start end
	# ONLY=REGEX: run only the tests whose function matches (debugging)
	if [ -n "${ONLY:-}" ] && ! [[ $fn =~ $ONLY ]]; then
		return 0
	fi
	start=$(date +%s.%N)
	if "$fn"; then
		end=$(date +%s.%N)
		PASSED=$((PASSED + 1))
		printf 'ok   %s (%ss)\n' "$name" "$(awk "BEGIN { printf \"%.1f\", $end - $start }")"
	else
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=("$name")
		printf 'FAIL %s\n' "$name"
		dump_state
	fi
}

summary()
{
	if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
		log "failed: ${FAILED_NAMES[*]}"
	fi
	if [ $((PASSED + FAILED)) -eq 0 ]; then
		log "no test ran"
		FAILED=1
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
