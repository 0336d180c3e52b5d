#!/bin/bash
# Load lab: many CHILD_SAs through charon with both plugins loaded.
#
# Two hosts in namespaces: "gw" (our gateway: tunnel-nat, tunnel-route, and
# strongSwan's load-tester as responder) and "peer" (load-tester initiating
# IKE_SAs). Both run the load-tester with fake_kernel: IKE is real, the
# CHILD_SA events are real bus events, only the kernel's IPsec SAs and
# policies are faked (the host has no ESP). The plugins' nftables tables,
# routes and rules are real, in the gateway's namespace.
#
# Each CHILD_SA gets its own remote traffic selector: the peer requests a
# virtual IP, the gateway hands them out from a vici pool (10.64.0.0/16), so
# N tunnels need N distinct translations and routes.
#
# Source this after lib.sh.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

LT_POOL=10.64.0.0/16
LT_PEER=192.0.2.2
LT_GW=192.0.2.1
# the plugins' settings on the gateway; a test may change LT_MAPPINGS
LT_MAPPINGS="lt { child = load-test
public = $P
private = $APP }"
# the same with a partner-side mapping over the pool (twice NAT): each
# CHILD_SA's /32 virtual IP gets its own /32 alias block in 100.64.0.0/16
# (10.64.a.b -> 100.64.a.b), and its own reqid, marks and partner elements
# (pzone4, pmark4, azone4, amark4, adnat4, psnat4); the P side as above.
# Partner-side mappings need mark_in/mark_out on the child: LT_CHILD_EXTRA
LT_ALIAS=100.64.0.0/16
LT_MAPPINGS_TWICE="lt { child = load-test
remote = $LT_POOL
alias = $LT_ALIAS
public = $P
private = $APP }"
LT_CHILD_TWICE="mark_in = %unique/0x00ffffff
				mark_out = %unique/0x00ffffff"
LT_CHILD_EXTRA=""
LT_GW_EXTRA=""
# the IKE proposal: no real key exchange (MODP_NULL, load-tester's), so the
# lab measures the plugins, not Diffie-Hellman. strongSwan 6.x refuses to
# derive keys from its empty secret ("key derivation failed"): there, X25519
LT_KE=modpnull
case ${STRONGSWAN_VERSION:-5.9.8} in
	5.*) ;;
	*) LT_KE=x25519 ;;
esac

lt_up()
{
	lab_add_ns gw
	lab_add_ns peer
	lab_link gw wan0 $LT_GW/24 peer eth0 $LT_PEER/24
	lab_link gw lan0 $GW_LAN/24 peer lan0 10.1.0.200/24
	ip -n "$(ns gw)" addr add $P/32 dev lo
	nsx gw sysctl -qw net.ipv4.ip_forward=1
}

# lt_conf_gw: the gateway's strongswan.conf (plugins: $LT_GW_PLUGINS)
lt_conf_gw()
{
	local dir=$WORK/gw
	mkdir -p "$dir"
	cat > "$dir/strongswan.conf" <<EOC
charon {
	load = random nonce openssl pem x509 pubkey pkcs1 sha1 sha2 hmac kdf aes gmp load-tester kernel-netlink socket-default vici ${LT_GW_PLUGINS:-tunnel-nat tunnel-route}
	port = 500
	port_nat_t = 4500
	threads = 8
	# the load-tester's peer opens thousands of IKE_SAs from one address
	ikesa_table_size = 4096
	ikesa_table_segments = 16
	init_limit_half_open = 0
	accept_private_algs = yes
	# charon's reaction to route changes: with it (charon's default), each
	# route tunnel-route adds or removes in its table makes kernel-netlink
	# schedule a roam check of every IKE_SA (at most every 100 ms), whose
	# cost grows with the number of IKE_SAs. A gateway with fixed addresses
	# does not need it (see tunnel-route.opt); LT_PROCESS_ROUTE=yes measures
	# with it
	process_route = ${LT_PROCESS_ROUTE:-no}
	filelog {
		log {
			path = $dir/charon.log
			time_format = %T
			flush_line = yes
			default = ${LT_LOGLEVEL:-0}
			cfg = 1
			chd = ${LT_LOGLEVEL:-0}
		}
	}
	plugins {
		vici {
			socket = unix:///run/gw.vici
		}
		load-tester {
			enable = yes
			fake_kernel = yes
			# only the fake kernel and the PSK: its responder config
			# is parked on an address that is not ours
			initiators = 0
			responder = 192.0.2.254
			socket = unix:///run/gw.ldt
		}
		tunnel-nat {
			mappings {
				$LT_MAPPINGS
			}
		}
		tunnel-route {
			guard_timeout = 0
		}
		$LT_GW_EXTRA
	}
}
EOC
}

lt_conf_peer()
{
	local dir=$WORK/peer
	mkdir -p "$dir"
	cat > "$dir/strongswan.conf" <<EOC
charon {
	load = random nonce openssl pem x509 pubkey pkcs1 sha1 sha2 hmac kdf aes gmp load-tester kernel-netlink socket-default vici
	port = 500
	port_nat_t = 4500
	threads = 8
	install_virtual_ip = no
	accept_private_algs = yes
	# the driver opens a new IKE_SA per initiation: with reuse_ikesa (the
	# default) charon looks for an IKE_SA to reuse among all it has, so the
	# driver's own cost grows with N and at 10,000 it saturates a core
	reuse_ikesa = no
	ikesa_table_size = 4096
	ikesa_table_segments = 16
	filelog {
		log {
			path = $dir/charon.log
			time_format = %T
			flush_line = yes
			default = ${LT_PEER_LOGLEVEL:-0}
		}
	}
	plugins {
		vici {
			socket = unix:///run/peer.vici
		}
		load-tester {
			enable = yes
			fake_kernel = yes
			initiators = 0
			responder = $LT_GW
			initiator = $LT_PEER
			initiator_auth = psk
			# an identity of its own per IKE_SA (%d: its number), as
			# 10,000 real peers would have: with one identity for all,
			# charon keeps them in one list of connected peers and the
			# gateway's cost per IKE_SA grows with N
			initiator_id = c%d-r%d.lt.example
			responder_auth = psk
			proposal = aes128-sha256-$LT_KE
			esp = aes128-sha256
			initiator_tsr = $P/32
			request_virtual_ip = yes
			socket = unix:///run/peer.ldt
		}
	}
}
EOC
}

# lt_start_gw: start the gateway's charon, load its connection and pool.
# The gateway answers with a swanctl connection (the load-tester's own
# responder config is parked on an address nobody uses), so that the
# baseline can give the CHILD_SAs an updown script ($LT_UPDOWN).
lt_start_gw()
{
	[ -f "$WORK/gw/strongswan.conf" ] || lt_conf_gw
	charon_start gw || return 1
	cat > "$WORK/gw/swanctl.conf" <<EOC
connections {
	lt {
		local_addrs = $LT_GW
		proposals = aes128-sha256-$LT_KE
		pools = lt
		local {
			auth = psk
			id = srv.strongswan.org
		}
		remote {
			auth = psk
			id = %any
		}
		children {
			load-test {
				local_ts = $P/32
				esp_proposals = aes128-sha256
				$( [ -n "${LT_UPDOWN:-}" ] && echo "updown = $LT_UPDOWN" )
				${LT_CHILD_EXTRA:-}
			}
		}
	}
}
pools {
	lt {
		addrs = $LT_POOL
	}
}
EOC
	swan gw --load-all --noprompt --file "$WORK/gw/swanctl.conf" > "$WORK/gw/load.log" 2>&1 ||
		{ cat "$WORK/gw/load.log"; return 1; }
}

lt_start()
{
	lt_conf_peer
	lt_start_gw && charon_start peer
}

# lt_initiate COUNT: the peer initiates COUNT IKE_SAs (one CHILD_SA each) and
# waits until all are established or failed; prints the load-tester's
# progress characters ('+' established, '-' failed)
lt_initiate()
{
	echo "$1 ${2:-0}" | nsenter -t "${CHARON_PID[peer]}" -m -n \
		socat -t 600 - UNIX-CONNECT:/run/peer.ldt 2>&1 | tr -d '.\n'
}

# lt_terminate: the peer deletes all its IKE_SAs, wait until the gateway
# has none left
lt_terminate()
{
	swan peer --terminate --ike load-test --force --timeout 600 --loglevel -1 \
		> /dev/null 2>&1
	wait_for 120 lt_gw_none
}

# lt_gw_count: the number of IKE_SAs on the gateway (a counter, unlike
# --list-sas, which makes charon walk and serialize every IKE_SA: polled
# during a run, that would load the gateway being measured)
lt_gw_count()
{
	swan gw --stats 2>/dev/null | sed -n 's/^IKE_SAs: \([0-9]*\) total.*/\1/p'
}

lt_gw_none()
{
	[ "$(lt_gw_count)" = 0 ]
}

# lt_live: the remote TS (virtual IPs) of the gateway's INSTALLED CHILD_SAs
lt_live()
{
	swan gw --list-sas --raw 2>/dev/null |
		grep -o 'state=INSTALLED[^}]*remote-ts=\[[^]]*\]' |
		sed 's/.*remote-ts=\[\([^]/]*\).*/\1/' | sort
}

# jq: an address, prefix or range of nft's JSON as text
LT_JQ='def addr: if type == "string" then . elif .prefix then
	"\(.prefix.addr)/\(.prefix.len)" else "\(.range[0])-\(.range[1])" end; '

# lt_map_keys MAP FIELD: one field of the keys of tunnel-nat's map (exact
# pairs) and of its ranges map, sorted
lt_map_keys()
{
	local m
	for m in "$1" "$1_ranges"; do
		nsx gw nft -j list map ip tunnel_nat "$m" 2>/dev/null |
			jq -r "$LT_JQ"'.nftables[] | select(.map) | .map.elem // [] | .[] |
				.[0] | (.elem.val // .) | .concat['"$2"'] | addr'
	done | sort
}

# lt_state: compare what the plugins installed with the live CHILD_SAs;
# prints a line per mismatch, returns non-zero if there is one
lt_state()
{
	local live=$WORK/live.txt d=$WORK/state bad=0 rules m
	mkdir -p "$d"
	lt_live > "$live"
	lt_map_keys dnat4 0 > "$d/dnat"
	lt_map_keys snat4 1 > "$d/snat"
	for m in pairs pairs_hosts; do
		nsx gw nft -j list set ip tunnel_route $m 2>/dev/null |
			jq -r "$LT_JQ"'.nftables[] | select(.set) | .set.elem // [] | .[] |
				(.elem.val // .) | .concat | select(.[0] == "'${LT_SRC:-$APP}'") | .[1] | addr'
	done | sort > "$d/pairs"
	nsx gw ip -4 route show table 4242 proto 242 | awk '{print $1}' | sort > "$d/routes"
	rules=$(nsx gw ip rule show | grep -c 'proto 242')
	for f in dnat snat pairs routes; do
		if ! cmp -s "$live" "$d/$f"; then
			log "    $f: $(wc -l < "$d/$f") entries, live CHILD_SAs: $(wc -l < "$live");" \
				"missing: $(comm -23 "$live" "$d/$f" | head -3 | tr '\n' ' ')" \
				"extra: $(comm -13 "$live" "$d/$f" | head -3 | tr '\n' ' ')"
			bad=1
		fi
	done
	if [ "$rules" != 2 ]; then
		log "    FIB rules with proto 242: $rules, expected 2"
		bad=1
	fi
	if [ "${LT_TWICE:-0}" = 1 ]; then
		lt_partner_state || bad=1
	fi
	return $bad
}

# jq: the elements of a map of nft's JSON as "KEY : DATA", concatenations
# joined by " . ", numbers in decimal
LT_JQ_ELEMS=$LT_JQ'def txt: if type == "number" then tostring
	elif type == "object" and .concat then (.concat | map(txt) | join(" . "))
	else addr end;
	.nftables[] | select(.map) | .map.elem // [] | .[] |
	"\((.[0] | .elem.val // .) | txt) : \(.[1] | txt)"'

# lt_partner_state: compare tunnel-nat's partner-side elements (twice NAT,
# LT_MAPPINGS_TWICE: a /32 alias block per CHILD_SA) with the live
# CHILD_SAs, element by element: pzone4 and pmark4 (reqid : zone, reqid :
# mark_in), azone4_l32, amark4_l32, adnat4_l32 (alias : zone, mark_out,
# remote) and psnat4_l32 (mark_in . remote : alias). Every CHILD_SA of the
# one config has the same zone: the zone the plugin logged for it
lt_partner_state()
{
	local d=$WORK/state bad=0 zone m
	zone=$(sed -n 's/.*tunnel-nat: partner load-test: conntrack zone \([0-9]*\).*/\1/p' \
		"$WORK/gw/charon.log" | tail -n 1)
	# reqid, mark_in, mark_out (hex) and the remote TS of each INSTALLED
	# CHILD_SA; the aliases are the remote TS in 100.64.0.0/16
	swan gw --list-sas --raw 2>/dev/null |
		grep -o 'reqid=[0-9]* state=INSTALLED[^}]*remote-ts=\[[^]]*\]' |
		sed 's/^reqid=\([0-9]*\) .* mark-in=\([0-9a-f]*\) .* mark-out=\([0-9a-f]*\) .*remote-ts=\[\([^]/]*\).*/\1 \2 \3 \4/' |
		awk -v zone="$zone" -v d="$d" '
		function hex(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
		{ a = $4; sub(/^10\.64\./, "100.64.", a)
		  print $1 " : " zone > (d "/x_pzone4"); print $1 " : " hex($2) > (d "/x_pmark4")
		  print a " : " zone > (d "/x_azone4_l32"); print a " : " hex($3) > (d "/x_amark4_l32")
		  print a " : " $4 "/32" > (d "/x_adnat4_l32")
		  print hex($2) " . " $4 " : " a "/32" > (d "/x_psnat4_l32") }'
	for m in pzone4 pmark4 azone4_l32 amark4_l32 adnat4_l32 psnat4_l32; do
		[ -f "$d/x_$m" ] || : > "$d/x_$m"
		sort -o "$d/x_$m" "$d/x_$m"
		if ! nsx gw nft -j list map ip tunnel_nat $m > "$d/$m.json" 2>&1; then
			log "    $m: cannot list it: $(head -c 200 "$d/$m.json")"
			bad=1
			continue
		fi
		jq -r "$LT_JQ_ELEMS" < "$d/$m.json" | sort > "$d/$m"
		if ! cmp -s "$d/x_$m" "$d/$m"; then
			log "    $m: $(wc -l < "$d/$m") elements, expected $(wc -l < "$d/x_$m");" \
				"missing: $(comm -23 "$d/x_$m" "$d/$m" | head -3 | tr '\n' ' ')" \
				"extra: $(comm -13 "$d/x_$m" "$d/$m" | head -3 | tr '\n' ' ')"
			bad=1
		fi
	done
	rm -f "$d"/x_*
	return $bad
}
