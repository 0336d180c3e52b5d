#!/bin/bash
# Benchmark: N CHILD_SAs up and down through charon (load-tester, fake_kernel)
# with tunnel-nat and tunnel-route, against the baseline of the updown plugin
# running tests/load/updown-nft.sh (one nft run per event), same driver, same
# N, in the same run.
#
#   tests/load/bench.sh [N...]          (default: 10 100 1000 10000)
#   tests/load/bench.sh --smoke [N]     correctness only (default N = 100):
#                                       the plugins' state matches the live
#                                       CHILD_SAs after all up and all down;
#                                       prints "N passed, N failed"
#
# Environment: RUNS (default 3; 1 for N >= 10000) repetitions per mode and N,
# MODES (default "plugins updown": the modes to run; the ratio needs both),
# medians reported; DELAY ms between two initiations of the driver (default
# 5: 200 IKE_SAs/s, below what this 2-core machine can set up, so that the
# latencies are not queueing behind a saturated CPU); OUT directory for raw
# data (default build/bench).
#
# Figures per event, measured inside the plugins (latency_log):
#   latency  from the event (the bus calling the listener) to the
#            translations/routes in place; for both plugins from the bus
#            calling tunnel-nat (first on the bus) to the later of the two
#            done (tunnel-nat commits in the hook, or in its own thread
#            while other work holds its state; tunnel-route in the hook)
#   cost     the plugins' work for the event (tunnel-nat: its hook plus,
#            for an event queued for its committer, its share of a batched
#            transaction; tunnel-route: its hook); the event rate is
#            1 / mean cost
# The baseline's cost and latency: the updown plugin's run of its script per
# event, from the bus handing it the event to the bus moving on (fork, exec,
# the script's nft, wait), measured by tunnel-nat (no mappings) before it
# and tunnel-route (no sources) after it on the bus; the script's own time
# from its first line to the end of nft is reported beside it.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

set -u
SMOKE=0
if [ "${1:-}" = --smoke ]; then
	SMOKE=1
	shift
	set -- "${1:-100}"
fi
SIZES=${*:-10 100 1000 10000}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$TOP/build/bench}
mkdir -p "$OUT"
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/load/lt.sh"
LAB_WORK=$WORK
LT_MAPPINGS_DEFAULT=$LT_MAPPINGS

# percentiles of the numbers on stdin (ns) in microseconds: "p50 p99 max mean"
pct()
{
	sort -n | awk '{ a[NR] = $1; s += $1 }
		END { if (!NR) { print "- - - -"; exit }
			i50 = int((NR - 1) * 0.50) + 1; i99 = int((NR - 1) * 0.99) + 1
			printf "%.1f %.1f %.1f %.1f\n", a[i50] / 1000, a[i99] / 1000,
				a[NR] / 1000, s / NR / 1000 }'
}

median()
{
	sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

now() { date +%s.%N; }
elapsed() { awk "BEGIN { printf \"%.2f\", $(now) - $1 }"; }

# one_run MODE N DIR: bring N CHILD_SAs up and down, results into DIR
one_run()
{
	local mode=$1 n=$2 dir=$3 t up down pid ok=1
	mkdir -p "$dir"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/tnbench.XXXXXX")
	LAB_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	lt_up
	if [ "$mode" = plugins ]; then
		LT_GW_PLUGINS="tunnel-nat tunnel-route"
		LT_MAPPINGS=$LT_MAPPINGS_DEFAULT
		LT_UPDOWN=""
		LT_GW_EXTRA="tunnel-nat { latency_log = $dir/tunnel-nat.ns }
		tunnel-route { latency_log = $dir/tunnel-route.ns }"
	else
		# the baseline; tunnel-nat (no mappings) before updown on the bus
		# and tunnel-route (no sources) after it only tell when updown got
		# each event and when it was done with it
		LT_GW_PLUGINS="tunnel-nat updown tunnel-route"
		LT_UPDOWN="$TOP/tests/load/updown-nft.sh $dir/updown.ns $APP $P"
		LT_MAPPINGS=""
		LT_GW_EXTRA="tunnel-nat { latency_log = $dir/probe-nat.ns }
		tunnel-route { latency_log = $dir/probe-route.ns }"
		nsx gw nft -f - <<EON
table ip updown_nat {
	map snat4 { type ipv4_addr . ipv4_addr : ipv4_addr; }
	map dnat4 { type ipv4_addr . ipv4_addr : ipv4_addr; }
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		snat to ip saddr . ip daddr map @snat4
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		meta ipsec exists dnat to ip saddr . ip daddr map @dnat4
	}
}
EON
	fi
	rm -f "$dir"/*.ns
	lt_conf_gw
	lt_start || { lab_down; return 1; }
	pid=${CHARON_PID[gw]}

	t=$(now)
	lt_initiate "$n" "${DELAY:-5}" > "$dir/initiate.txt"
	wait_eval 60 '[ "$(lt_gw_count)" -ge "$n" ]'
	up=$(elapsed "$t")
	echo "$(lt_live | wc -l)" > "$dir/live_up"
	if [ "$mode" = plugins ]; then
		lt_state > "$dir/state_up.txt" || ok=0
		# the plugins' events may trail the IKE_SAs by a little
		[ $ok = 1 ] || { sleep 2; ok=1; lt_state > "$dir/state_up.txt" || ok=0; }
	else
		[ "$(nsx gw nft -j list map ip updown_nat snat4 | jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add')" = "$n" ] || ok=0
	fi
	if [ "$mode" = plugins ]; then
		nsx gw nft -j list ruleset | jq '[.nftables[] | select(.rule)] | length' > "$dir/nft_rules"
		nsx gw ip -4 rule show | wc -l > "$dir/fib_rules"
	else	# the baseline's own (not the probes')
		nsx gw nft -j list table ip updown_nat | jq '[.nftables[] | select(.rule)] | length' > "$dir/nft_rules"
		nsx gw ip -4 rule show | grep -vc "proto 242" > "$dir/fib_rules"
	fi
	nsx gw ip -4 route show table all | wc -l > "$dir/routes"
	awk '/VmHWM/ { print $2 }' "/proc/$pid/status" > "$dir/rss_kb"

	t=$(now)
	lt_terminate
	down=$(elapsed "$t")
	echo "$(lt_live | wc -l)" > "$dir/live_down"
	if [ "$mode" = plugins ]; then
		sleep 0.5
		lt_state > "$dir/state_down.txt" || ok=0
	fi
	echo "$up" > "$dir/up_s"
	echo "$down" > "$dir/down_s"
	echo "$ok" > "$dir/ok"
	charon_kill peer
	charon_kill gw
	cp "$WORK/gw/charon.log" "$dir/gw-charon.log" 2>/dev/null
	lab_down
	[ "$ok" = 1 ]
}

if [ $SMOKE = 1 ]; then
	PASSED=0; FAILED=0
	n=$SIZES
	dir=$OUT/smoke-$n
	rm -rf "$dir"
	if one_run plugins "$n" "$dir"; then
		echo "ok   bench smoke: $n CHILD_SAs up, state matches; all down, state empty" \
			"(up ${n}: $(cat "$dir/up_s")s, down: $(cat "$dir/down_s")s)"
		PASSED=1
	else
		echo "FAIL bench smoke ($n CHILD_SAs): live up $(cat "$dir/live_up" 2>/dev/null)," \
			"down $(cat "$dir/live_down" 2>/dev/null)"
		cat "$dir"/state_*.txt 2>/dev/null
		FAILED=1
	fi
	echo "$PASSED passed, $FAILED failed"
	[ $FAILED = 0 ]
	exit
fi

stamp=$(date +%Y%m%d-%H%M%S)
RUNDIR=$OUT/$stamp
mkdir -p "$RUNDIR"
{
	echo "# bench $stamp"
	echo "# machine: $(nproc) cores, $(uname -r), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "# command: tests/load/bench.sh $SIZES (RUNS=${RUNS:-auto})"
} | tee "$RUNDIR/report.txt"

for n in $SIZES; do
	runs=${RUNS:-3}
	[ -z "${RUNS:-}" ] && [ "$n" -ge 10000 ] && runs=1
	# alternate the modes, so that drift hits both alike
	for ((r = 1; r <= runs; r++)); do
		for mode in ${MODES:-plugins updown}; do
			one_run "$mode" "$n" "$RUNDIR/$mode-$n-$r" ||
				echo "# $mode N=$n run $r: state check FAILED (see $RUNDIR/$mode-$n-$r)" | tee -a "$RUNDIR/report.txt"
		done
	done
	for mode in ${MODES:-plugins updown}; do
		if [ $mode = plugins ]; then
			# per run: event i of tunnel-nat is event i of tunnel-route (the
			# bus serializes events, tunnel-nat commits them in order)
			for r in "$RUNDIR"/$mode-$n-*/; do
				awk '$1 == "up" || $1 == "down"' "$r/tunnel-nat.ns" > "$r/nat.lat"
				awk '$1 == "up" || $1 == "down"' "$r/tunnel-route.ns" > "$r/route.lat"
				# both: from tunnel-nat getting the event (it leaves the
				# hook at "leave", after "hook" ns) to the later of the
				# two done; tunnel-route gets it at "enter"
				paste -d' ' <(awk '$1 == "up" || $1 == "down" || $1 == "rekey"' "$r/tunnel-nat.ns") \
					<(awk '$1 == "hook" { print $2 }' "$r/tunnel-nat.ns") \
					<(awk '$1 == "leave" { print $2 }' "$r/tunnel-nat.ns") \
					<(awk '$1 == "up" || $1 == "down" || $1 == "rekey"' "$r/tunnel-route.ns") \
					<(awk '$1 == "enter" { print $2 }' "$r/tunnel-route.ns") |
					awk 'NF == 7 && $1 != "rekey" { t0 = $4 - $3; a = t0 + $2; b = $7 + $6;
						print $1, (a > b ? a : b) - t0 }' > "$r/both.lat"
				# mean work per event: time in the hook, plus the share of a
				# batch the committer applied for queued events
				awk '$1 == "cost" || $1 == "hook" { s[$1] += $2; c[$1]++ }
					END { printf "%.0f\n", (s["cost"] + s["hook"]) / (c["hook"] ? c["hook"] : 1) }' \
					"$r/tunnel-nat.ns" > "$r/nat.cost"
				awk '$1 == "up" || $1 == "down" { s += $2; c++ } END { printf "%.0f\n", s / (c ? c : 1) }' \
					"$r/tunnel-route.ns" > "$r/route.cost"
			done
			cat "$RUNDIR"/$mode-$n-*/both.lat > "$RUNDIR/$mode-$n.ns"
			cat "$RUNDIR"/$mode-$n-*/nat.lat > "$RUNDIR/$mode-$n-nat.ns"
			cat "$RUNDIR"/$mode-$n-*/route.lat > "$RUNDIR/$mode-$n-route.ns"
			# mean cost per event, both plugins, median over the runs (ns)
			cost=$(for r in "$RUNDIR"/$mode-$n-*/; do
				echo $(( $(cat "$r/nat.cost") + $(cat "$r/route.cost") )); done | median)
		else
			# per event: from tunnel-nat leaving the hook to tunnel-route
			# entering it, i.e. the updown plugin's whole run of the script
			# (fork, exec, nft, wait); labelled with the script's verbs
			for r in "$RUNDIR"/$mode-$n-*/; do
				paste -d' ' <(awk '$1 == "leave" { print $2 }' "$r/probe-nat.ns") \
					<(awk '$1 == "enter" { print $2 }' "$r/probe-route.ns") \
					<(awk '{ print $1 }' "$r/updown.ns") |
					awk 'NF == 3 { print $3, $2 - $1 }' > "$r/updown.lat"
			done
			cat "$RUNDIR"/$mode-$n-*/updown.lat 2>/dev/null > "$RUNDIR/$mode-$n.ns"
			cost=$(for r in "$RUNDIR"/$mode-$n-*/; do
				awk '{ s += $2; c++ } END { printf "%.0f\n", s / (c ? c : 1) }' "$r/updown.lat"; done | median)
			read -r p50 p99 max mean < <(cat "$RUNDIR"/$mode-$n-*/updown.ns | awk '{ print $2 }' | pct)
			printf "  script alone (first line to end of nft): p50=%sus p99=%sus mean=%sus\n" \
				$p50 $p99 $mean | tee -a "$RUNDIR/report.txt"
		fi
		echo "$cost" > "$RUNDIR/$mode-$n.cost"
		for ev in up down; do
			read -r p50 p99 max mean < <(awk -v e=$ev '$1 == e { print $2 }' "$RUNDIR/$mode-$n.ns" | pct)
			evs=$(awk -v e=$ev '$1 == e' "$RUNDIR/$mode-$n.ns" | wc -l)
			tot=$(cat "$RUNDIR"/$mode-$n-*/${ev}_s | median)
			printf "%-8s N=%-6s %-4s events=%-6s latency p50=%sus p99=%sus max=%sus mean=%sus; all %s: %ss\n" \
				$mode $n $ev $evs $p50 $p99 $max $mean $ev $tot | tee -a "$RUNDIR/report.txt"
		done
		if [ $mode = plugins ]; then
			for pl in nat route; do
				for ev in up down; do
					read -r p50 p99 max mean < <(awk -v e=$ev '$1 == e { print $2 }' "$RUNDIR/$mode-$n-$pl.ns" | pct)
					printf "  tunnel-%-5s %-4s latency p50=%sus p99=%sus max=%sus mean=%sus\n" \
						$pl $ev $p50 $p99 $max $mean | tee -a "$RUNDIR/report.txt"
				done
			done
			read -r p50 p99 max mean < <(cat "$RUNDIR"/$mode-$n-*/tunnel-nat.ns | awk '$1 == "hook" { print $2 }' | pct)
			printf "  tunnel-nat   hook p50=%sus p99=%sus (time in the listener hook)\n" $p50 $p99 | tee -a "$RUNDIR/report.txt"
		fi
		printf "%-8s N=%-6s cost=%sus/event rate=%s events/s rss=%sKiB nft-rules=%s fib-rules=%s routes=%s state=%s\n" $mode $n \
			"$(awk "BEGIN { printf \"%.1f\", $cost / 1000 }")" \
			"$(awk "BEGIN { printf \"%.0f\", 1e9 / $cost }")" \
			"$(cat "$RUNDIR"/$mode-$n-*/rss_kb | median)" \
			"$(cat "$RUNDIR"/$mode-$n-*/nft_rules | median)" \
			"$(cat "$RUNDIR"/$mode-$n-*/fib_rules | median)" \
			"$(cat "$RUNDIR"/$mode-$n-*/routes | median)" \
			"$(cat "$RUNDIR"/$mode-$n-*/ok | sort -u | tr '\n' ' ')" | tee -a "$RUNDIR/report.txt"
	done
	[ -f "$RUNDIR/updown-$n.cost" ] && [ -f "$RUNDIR/plugins-$n.cost" ] &&
	printf "ratio    N=%-6s event rate plugins/updown = %s\n" $n \
		"$(awk "BEGIN { printf \"%.1f\", $(cat "$RUNDIR/updown-$n.cost") / $(cat "$RUNDIR/plugins-$n.cost") }")" |
		tee -a "$RUNDIR/report.txt"
done
echo "# raw data: $RUNDIR" | tee -a "$RUNDIR/report.txt"
