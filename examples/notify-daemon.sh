#!/bin/sh
# notify-daemon.sh - a complete daemon written for procmgr, in sh.
#
#	procmgr start web --ready notify -- ./notify-daemon.sh
#
# It speaks sd_notify with socat: each message is one datagram to
# $NOTIFY_SOCKET, an abstract unix address when it starts with '@'
# (systemd-notify, where installed, does the same: systemd-notify
# --ready --status=...). READY=1 says it is ready, PORT= is recorded as
# the socket key, STATUS= is what `procmgr status` shows.
set -eu

notify() {
	case $NOTIFY_SOCKET in
	@*) printf '%s' "$1" | socat -u - "ABSTRACT-SENDTO:${NOTIFY_SOCKET#@}" ;;
	*) printf '%s' "$1" | socat -u - "UNIX-SENDTO:$NOTIFY_SOCKET" ;;
	esac
}

trap 'notify "STOPPING=1"; exit 0' TERM
echo "starting as $PROCMGR_NAME in $PROCMGR_META_DIR"
port=${PORT:-0}
notify "READY=1
PORT=$port
STATUS=serving on port $port"
while :; do
	sleep 1 &
	wait $! || true
done
