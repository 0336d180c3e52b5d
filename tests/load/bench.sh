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
#                                       prints "N passed, N failed" (modes:
#                                       MODES, default "plugins")
#
# Modes: "plugins" (tunnel-nat's mapping P <-> 10.1.0.10 over the pool),
# "twice" (the same plus a partner-side mapping over the pool, twice NAT:
# LT_MAPPINGS_TWICE in lt.sh, the child with mark_in/mark_out %unique, each
# CHILD_SA its own /32 alias block, reqid and marks; its state check compares
# the partner-side elements too), "updown" (the baseline).
# Environment: RUNS (default 3; 1 for N >= 10000) repetitions per mode and N,
# MODES (default "plugins updown": the modes to run; a ratio needs updown;
# "plugins twice updown" for all three),
# medians reported; DELAY ms between two initiations of the driver (default
# 5: 200 IKE_SAs/s, below what this 2-core machine can set up, so that the
# latencies are not queueing behind a saturated CPU); OUT directory for raw
# data (default build/bench).
#
# Figures per event, measured inside the plugins (latency_log):
#   latency  from the event (the bus calling the listener) to the
#            translations/routes in place; for both plugins from the bus
#            calling the first of the two to the later of the two done
#            (tunnel-nat commits in the hook, or in its own thread while
#            other work holds its state; tunnel-route in the hook). Since
#            tunnel-nat soft-depends on tunnel-route (a59cf64), tunnel-route
#            is loaded first and is first on the bus; the figures do not
#            rely on the order
#   cost     the plugins' work for the event (tunnel-nat: its hook plus,
#            for an event queued for its committer, its share of a batched
#            transaction; tunnel-route: its hook); the event rate is
#            1 / mean cost
# The baseline's cost and latency: the updown plugin's run of its script per
# event, from the bus handing it the event to the bus moving on (fork, exec,
# the script's nft, wait), measured by the two plugins (no mappings, no
# sources) around it on the bus (loaded as "tunnel-route updown tunnel-nat":
# tunnel-route before it, tunnel-nat after it): from the first one leaving
# its hook to the second one entering its hook; the script's own time from
# its first line to the end of nft is reported beside it.
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
# lib.sh made it; each run uses a directory of its own
trap 'rmdir "$LAB_WORK" 2>/dev/null' EXIT
LT_MAPPINGS_DEFAULT=$LT_MAPPINGS

# ours MODE: a mode with our plugins (not the baseline)
ours() { [ "$1" = plugins ] || [ "$1" = twice ]; }

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
	LT_TWICE=0
	LT_CHILD_EXTRA=""
	if ours "$mode"; then
		LT_GW_PLUGINS="tunnel-nat tunnel-route"
		LT_MAPPINGS=$LT_MAPPINGS_DEFAULT
		if [ "$mode" = twice ]; then
			LT_TWICE=1
			LT_MAPPINGS=$LT_MAPPINGS_TWICE
			LT_CHILD_EXTRA=$LT_CHILD_TWICE
		fi
		LT_UPDOWN=""
		LT_GW_EXTRA="tunnel-nat { latency_log = $dir/tunnel-nat.ns }
		tunnel-route { latency_log = $dir/tunnel-route.ns }"
	else
		# the baseline; tunnel-route (no sources) before updown on the bus
		# and tunnel-nat (no mappings) after it only tell when updown got
		# each event and when it was done with it (tunnel-nat soft-depends
		# on tunnel-route, so tunnel-route is loaded, and on the bus, before
		# both whatever the order here; updown must come before tunnel-nat)
		LT_GW_PLUGINS="tunnel-route updown tunnel-nat"
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
	if ours "$mode"; then
		lt_state > "$dir/state_up.txt" || ok=0
		# the plugins' events may trail the IKE_SAs by a little
		[ $ok = 1 ] || { sleep 2; ok=1; lt_state > "$dir/state_up.txt" || ok=0; }
	else
		[ "$(nsx gw nft -j list map ip updown_nat snat4 | jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add')" = "$n" ] || ok=0
	fi
	if ours "$mode"; then
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
	if ours "$mode"; then
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
	for mode in ${MODES:-plugins}; do
		ours "$mode" || continue
		if one_run "$mode" "$n" "$dir/$mode"; then
			echo "ok   bench smoke ($mode): $n CHILD_SAs up, state matches; all down, state empty" \
				"(up ${n}: $(cat "$dir/$mode/up_s")s, down: $(cat "$dir/$mode/down_s")s)"
			PASSED=$((PASSED + 1))
		else
			echo "FAIL bench smoke ($mode, $n CHILD_SAs): live up $(cat "$dir/$mode/live_up" 2>/dev/null)," \
				"down $(cat "$dir/$mode/live_down" 2>/dev/null)"
			cat "$dir/$mode"/state_*.txt 2>/dev/null
			FAILED=$((FAILED + 1))
		fi
	done
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
		if ours $mode; then
			# per run: event i of tunnel-nat is event i of tunnel-route (the
			# bus serializes events, tunnel-nat commits them in order)
			for r in "$RUNDIR"/$mode-$n-*/; do
				awk '$1 == "up" || $1 == "down"' "$r/tunnel-nat.ns" > "$r/nat.lat"
				awk '$1 == "up" || $1 == "down"' "$r/tunnel-route.ns" > "$r/route.lat"
				# both: from the first of the two getting the event to
				# the later of the two done; tunnel-nat gets it at
				# "leave" - "hook", tunnel-route at "enter" (whichever is
				# first on the bus); a line per event whose kinds differ
				# counts as an error
				paste -d' ' <(awk '$1 == "up" || $1 == "down" || $1 == "rekey"' "$r/tunnel-nat.ns") \
					<(awk '$1 == "hook" { print $2 }' "$r/tunnel-nat.ns") \
					<(awk '$1 == "leave" { print $2 }' "$r/tunnel-nat.ns") \
					<(awk '$1 == "up" || $1 == "down" || $1 == "rekey"' "$r/tunnel-route.ns") \
					<(awk '$1 == "enter" { print $2 }' "$r/tunnel-route.ns") |
					awk 'NF != 7 || $1 != $5 { bad++; next }
						$1 != "rekey" { t0 = $4 - $3; a = t0 + $2; b = $7 + $6;
						s = (t0 < $7 ? t0 : $7); print $1, (a > b ? a : b) - s }
						END { if (bad) printf "%d events of the two plugins do not pair up\n", bad > "/dev/stderr" }' \
					> "$r/both.lat" 2> "$r/both.err"
				[ -s "$r/both.err" ] && echo "# $r: $(cat "$r/both.err")" | tee -a "$RUNDIR/report.txt"
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
			# per event: from the probe before updown on the bus leaving
			# its hook to the probe after it entering its hook, i.e. the
			# updown plugin's whole run of the script (fork, exec, nft,
			# wait); labelled with the script's verbs. tunnel-route leaves
			# at "enter" + its latency (it works in its hook), tunnel-nat
			# enters at "leave" - "hook"; either may be first (the other
			# order gives "enter" - "leave"). Since the plugins take a
			# CHILD_SA as up at its first child_state_change(INSTALLED)
			# (259015e), which comes before child_updown(), the probes do
			# not bracket the updown plugin's up-client run: a gap shorter
			# than the script's own time means that, and the script's own
			# time is counted for the event instead (a lower bound: no fork
			# and exec), and reported
			for r in "$RUNDIR"/$mode-$n-*/; do
				paste -d' ' <(awk '$1 == "leave" { print $2 }' "$r/probe-nat.ns") \
					<(awk '$1 == "hook" { print $2 }' "$r/probe-nat.ns") \
					<(awk '$1 == "enter" { print $2 }' "$r/probe-route.ns") \
					<(awk '$1 == "up" || $1 == "down" || $1 == "rekey" { print $2 }' "$r/probe-route.ns") \
					<(cat "$r/updown.ns") |
					awk 'NF == 6 { ne = $1 - $2; rl = $3 + $4;
						d = (ne >= rl ? ne - rl : $3 - $1);
						if (d < $6) { lb[$5]++; d = $6 } print $5, d }
						END { for (v in lb) printf "%d %s events: updown not between the probes, its script alone counted (a lower bound)\n", lb[v], v > "/dev/stderr" }' \
					> "$r/updown.lat" 2> "$r/updown.err"
				[ -s "$r/updown.err" ] && echo "# $r: $(cat "$r/updown.err")" | tee -a "$RUNDIR/report.txt"
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
		if ours $mode; then
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
	for mode in plugins twice; do
		[ -f "$RUNDIR/updown-$n.cost" ] && [ -f "$RUNDIR/$mode-$n.cost" ] &&
		printf "ratio    N=%-6s event rate %s/updown = %s\n" $n $mode \
			"$(awk "BEGIN { printf \"%.1f\", $(cat "$RUNDIR/updown-$n.cost") / $(cat "$RUNDIR/$mode-$n.cost") }")" |
			tee -a "$RUNDIR/report.txt"
	done
done
echo "# raw data: $RUNDIR" | tee -a "$RUNDIR/report.txt"
