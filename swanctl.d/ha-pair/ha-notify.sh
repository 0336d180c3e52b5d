#!/bin/sh
# keepalived's notify script on both nodes of the HA pair (keepalived calls
# it as: ha-notify.sh TYPE NAME STATE PRIORITY).
#
#   MASTER          charon's ha plugin activates segment 1 (its IKE_SAs go
#                   PASSIVE -> ESTABLISHED, tunnel-route rekeys their
#                   CHILD_SAs); conntrackd commits the connections synced from
#                   the old active node and sends its table to the peer
#   BACKUP, FAULT,  the segment is deactivated (this node's IKE_SAs go
#   STOP            ESTABLISHED -> PASSIVE), conntrackd is a backup again
#
# The FIFO and the conntrackd configuration can be overridden (HA_FIFO,
# CONNTRACKD_CONF) for a lab.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later

FIFO=${HA_FIFO:-/run/charon.ha}
CONF=${CONNTRACKD_CONF:-/etc/conntrackd/conntrackd.conf}
state=$3

# to_charon LINE: write LINE to the ha plugin's control FIFO if charon
# reads it (no charon: nothing to tell, and no blocking open)
to_charon()
{
	[ -p "$FIFO" ] || return 0
	timeout 2 sh -c "echo '$1' > '$FIFO'"
}

conntrackd_do()
{
	conntrackd -C "$CONF" "$@" 2>/dev/null
}

case $state in
	MASTER)
		to_charon +1
		# commit the external cache (the peer's connections) to the kernel,
		# flush the internal cache, resync it from the kernel, and send it
		# all to the peer
		conntrackd_do -c
		conntrackd_do -f internal
		conntrackd_do -R
		conntrackd_do -B
		;;
	BACKUP|FAULT|STOP)
		to_charon -1
		# drop the kernel table's view as ours, ask the peer for its table
		conntrackd_do -t
		conntrackd_do -n
		;;
esac
exit 0
