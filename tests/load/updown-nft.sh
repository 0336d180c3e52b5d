#!/bin/sh
# The baseline of the benchmark: what people run today, strongSwan's updown
# plugin calling a script that installs a tunnel's translations with nft.
# One run per CHILD_SA event; it writes "<verb> <ns>" to the log given as $1
# (private address $2, public address $3; the time from its start to the end of nft, which leaves out the fork and
# exec of the shell: a lower bound of its cost).
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

t0=$(date +%s%N)
peer=${PLUTO_PEER_CLIENT%/32}
case "$PLUTO_VERB" in
	up-client)
		nft add element ip updown_nat snat4 "{ $2 . $peer : $3 }" \; \
			add element ip updown_nat dnat4 "{ $peer . $3 : $2 }"
		;;
	down-client)
		nft delete element ip updown_nat snat4 "{ $2 . $peer }" \; \
			delete element ip updown_nat dnat4 "{ $peer . $3 }"
		;;
esac
t1=$(date +%s%N)
echo "${PLUTO_VERB%-client} $((t1 - t0))" >> "$1"
