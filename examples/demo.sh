#!/bin/sh
# demo.sh - a tour of procmgr's daemon lifecycle, run by `make demo`.
#
# It uses a private, temporary DIR, runs the bundled example daemon
# (exampled: sd_notify readiness, a TCP port, log lines, clean exit on
# TERM) and removes everything it made when it ends, however it ends.
#
# PROCMGR and EXAMPLED name the programs (default: the build's). To tour
# an installed procmgr, as CI does with the Debian packages:
#	PROCMGR=/usr/bin/procmgr EXAMPLED=build/helpers/exampled \
#		sh examples/demo.sh
set -eu

BUILD=${BUILD:-build}
PROCMGR=${PROCMGR:-$BUILD/procmgr}
EXAMPLED=${EXAMPLED:-$BUILD/helpers/exampled}
for f in "$PROCMGR" "$EXAMPLED"; do
	[ -x "$f" ] || { echo "demo: $f is missing; run make first" >&2; exit 1; }
done
# The daemon runs from procmgr's cwd: give it an absolute path.
EXAMPLED=$(cd "$(dirname "$EXAMPLED")" && pwd)/${EXAMPLED##*/}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/procmgr-demo.XXXXXX")
DIR=$WORK/pm
cleanup() {
	"$PROCMGR" --dir "$DIR" -q stop hello >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold= plain=
if [ -t 1 ]; then
	bold=$(printf '\033[1m') plain=$(printf '\033[0m')
fi
step=0
heading() {
	step=$((step + 1))
	printf '\n%s== %d. %s%s\n' "$bold" "$step" "$1" "$plain"
}
# Show a command as one would type it (on stderr, so that $(run ...)
# captures only its output).
show() {
	{
		printf '$ procmgr'
		for a in "$@"; do
			[ "$a" = "$EXAMPLED" ] && a=exampled
			case $a in
			*[!A-Za-z0-9_./:=@%+-]* | '') printf " '%s'" "$a" ;;
			*) printf ' %s' "$a" ;;
			esac
		done
		echo
	} >&2
}
run() {
	show "$@"
	"$PROCMGR" --dir "$DIR" "$@"
}

# Ask the daemon for its greeting over its TCP port, when bash is there to
# speak TCP for us.
greet() {
	port=$("$PROCMGR" --dir "$DIR" get hello socket)
	command -v bash >/dev/null || return 0
	printf '$ connect to 127.0.0.1:%s -> ' "$port"
	bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; head -n 1 <&3' _ "$port"
}

echo "procmgr demo: $("$PROCMGR" --version) ($PROCMGR)"
echo "metadata in $DIR (host fingerprint $("$PROCMGR" host-fingerprint))"

heading "start a daemon, ready when it says READY=1 (sd_notify)"
pid=$(run start hello --ready notify --ready-timeout 10 -- "$EXAMPLED" hello)
echo "started, pid $pid"
greet

heading "status: running, its pid, uptime and the port it announced"
run status hello

heading "ensure with the same fingerprint keeps the daemon"
again=$(run ensure hello --ready notify -- "$EXAMPLED" hello)
echo "pid $again (was $pid): kept, no restart"

heading "ensure with other arguments restarts it and says why"
show ensure hello --ready notify -- "$EXAMPLED" bonjour
"$PROCMGR" --dir "$DIR" ensure hello --ready notify -- "$EXAMPLED" bonjour \
	>"$WORK/pid" 2>"$WORK/why"
sed 's/^/(on stderr) /' "$WORK/why"
echo "pid $(cat "$WORK/pid") (was $again)"
greet

heading "logs: the daemon's own output, kept beside its metadata"
run logs hello -n 4

heading "keys: set and get your own metadata"
run set hello owner demo
run get hello owner

heading "list --json: every daemon under DIR"
run list --json

heading "lock: run a command holding hello's lifecycle lock"
run lock hello -- sh -c 'echo "  holding the lock of hello as pid $$"'

heading "stop: TERM, wait, and the metadata is gone"
run stop hello
run status hello || echo "(exit $?: stopped)"
echo "the log outlives the daemon:"
run logs hello -n 1

printf '\ndemo done.\n'
