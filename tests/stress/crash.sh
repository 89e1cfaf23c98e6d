#!/usr/bin/env bash
# crash.sh SCENARIO MODE [ARGS] - one trial of "SIGKILL at a system call",
# run by run.sh as init of a private pid namespace.
#
# SCENARIO sets the NAME up, then runs one state-changing command:
#   start          start from nothing
#   ensure         ensure from nothing
#   ensure-stale   ensure over a daemon that was SIGKILLed (stale metadata)
#   ensure-changed ensure with another fingerprint: stop, then start
#   restart        restart a running daemon
#   stop           stop a running daemon
#   purge          purge the stale metadata of a SIGKILLed daemon
#   stop-slow      stop a daemon that ignores TERM (--kill-wait 0.3: the
#                  command waits on the pidfd, then sends KILL)
# MODE:
#   plan           run it uninjected under strace; write the system calls
#                  it made, in order, one name a line, to $PLAN
#   cli S N        SIGKILL the command at its N-th call of system call S
#                  (strace without -f: only the command, exactly once)
#   tree N         strace -ff, SIGKILL every traced process (command,
#                  monitor, daemon) at the N-th call of any one system call
#   time           run it uninjected, print "DURATION <microseconds>"
#   random US      no strace: SIGKILL the command US microseconds after it
#                  started, wherever it is (inside a blocking call too)
# Then it checks what must hold after any crash: the lock is free, status
# agrees with /proc, no daemon runs that the metadata does not name, the
# next ensure leaves exactly one daemon, and stop then leaves none.
# Prints "INJECTED yes|no", any FAIL/KNOWN lines, and exits 1 on a failure.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" || exit 1

SCEN=$1 MODE=$2
shift 2
# LeakSanitizer stops the world with ptrace, which a traced process cannot
# do: a sanitizer build runs without it under strace.
NO_LSAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
FP=()
DAEMON=("$SLEEPER")
case "$SCEN" in
ensure-changed) FP=(--fingerprint two) ;;
stop-slow)
	DAEMON=("$SLEEPER" --ignore-term)
	STOP_OPTS=(--kill-wait 0.3) ;;
esac

# A daemon started, then SIGKILLed: its metadata is stale.
make_stale() {
	local pid
	pid=$(pm start "$NAME" -- "${DAEMON[@]}" 2>>"$LOG") || return 1
	kill -KILL "$pid"
	wait_dead "$pid" && settle
}

setup() {
	case "$SCEN" in
	start | ensure) ;;
	ensure-stale | purge) make_stale ;;
	ensure-changed)
		pm start "$NAME" --fingerprint one -- "$SLEEPER" >/dev/null \
			2>>"$LOG" ;;
	restart | stop | stop-slow)
		pm start "$NAME" -- "${DAEMON[@]}" >/dev/null 2>>"$LOG" ;;
	*) echo "crash.sh: unknown scenario $SCEN" >&2; exit 2 ;;
	esac
}

command_line() {
	case "$SCEN" in
	start) CMD=(start "$NAME" -- "$SLEEPER") ;;
	ensure | ensure-stale) CMD=(ensure "$NAME" -- "$SLEEPER") ;;
	ensure-changed) CMD=(ensure "$NAME" "${FP[@]}" -- "$SLEEPER") ;;
	restart) CMD=(restart "$NAME" -- "$SLEEPER") ;;
	stop) CMD=(stop "$NAME") ;;
	stop-slow) CMD=(stop "$NAME" "${STOP_OPTS[@]}") ;;
	purge) CMD=(purge "$NAME") ;;
	esac
}

# strace -f keeps tracing the monitor (and the daemon) after the command
# exits; they live on, so once the command is done strace is told to
# detach (SIGTERM) rather than waited for. strace buffers its output, but
# with -ff it writes a file per process and closes it when that process
# ends: the command's file is the one that starts with its execve, and its
# "+++" line says it is done.
command_done() {
	local f first
	for f in "$WORK"/trace.*; do
		read -r first 2>/dev/null <"$f" || continue
		case "$first" in execve\(*) ;; *) continue ;; esac
		grep -q '^+++ ' "$f" && return 0
	done
	return 1
}

run_tree() {
	local n=$1 spid i
	ASAN_OPTIONS=$NO_LSAN strace -ff -q -I1 -o "$WORK/trace" \
		-e inject=all:signal=KILL:when="$n" \
		"$PROCMGR" --dir "$D" "${CMD[@]}" >"$WORK/out" 2>"$WORK/err" &
	spid=$!
	for ((i = 0; ; i++)); do
		command_done && break
		proc_field "$spid" && [ "$STATE" != Z ] || break
		if [ "$i" = 3000 ]; then
			fail "the command still runs after 30 s:" \
				"$(ps -eo pid,ppid,stat,wchan:20,args | tr '\n' ';')"
			break
		fi
		sleep 0.01
	done
	kill -TERM "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	grep -q 'killed by SIGKILL' "$WORK"/trace.*
}

setup || { fail "setup of $SCEN failed"; finish; exit; }
command_line
case "$MODE" in
plan)
	ASAN_OPTIONS=$NO_LSAN strace -o "$WORK/plan" \
		"$PROCMGR" --dir "$D" "${CMD[@]}" \
		>"$WORK/out" 2>"$WORK/err"
	note "plan: exit $?"
	sed -n 's/^\([a-z_0-9]*\)(.*/\1/p' "$WORK/plan" >"$PLAN"
	echo "INJECTED no"
	;;
cli)
	ASAN_OPTIONS=$NO_LSAN strace -o /dev/null \
		-e inject="$1":signal=KILL:when="$2" \
		"$PROCMGR" --dir "$D" "${CMD[@]}" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	note "cli $1 $2: exit $rc"
	[ "$rc" = 137 ] && echo "INJECTED yes" || echo "INJECTED no"
	;;
tree)
	if run_tree "$1"; then echo "INJECTED yes"; else echo "INJECTED no"; fi
	;;
time)
	t0=${EPOCHREALTIME/./}
	"$PROCMGR" --dir "$D" "${CMD[@]}" >"$WORK/out" 2>"$WORK/err"
	echo "DURATION $((${EPOCHREALTIME/./} - t0))"
	echo "INJECTED no"
	;;
random)
	# read -t on a FIFO nobody writes: a delay without forking a sleep,
	# which alone would take longer than most of these commands
	mkfifo "$WORK/never"
	exec 8<>"$WORK/never"
	"$PROCMGR" --dir "$D" "${CMD[@]}" >"$WORK/out" 2>"$WORK/err" 8>&- &
	cpid=$!
	read -r -t "$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))" \
		-u 8 _
	kill -KILL "$cpid" 2>/dev/null
	exec 8>&-
	wait "$cpid"
	rc=$?
	note "random $1 us: exit $rc"
	[ "$rc" = 137 ] && echo "INJECTED yes" || echo "INJECTED no"
	;;
esac

settle
check_lock_free
check_truth
check_recovery "${FP[@]}" -- "${DAEMON[@]}"
left=$(litter)
[ -z "$left" ] || known 9 "files left by the crash: $(echo $left)"
finish
