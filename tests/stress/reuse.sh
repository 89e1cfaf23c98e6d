#!/usr/bin/env bash
# reuse.sh VARIANT - one pid reuse trial, run by run.sh as init of a
# private pid namespace: a recorded daemon dies, and a newcomer is steered
# onto its pid by writing the pid before it to
# /proc/sys/kernel/ns_last_pid. Then status must say stale, and stop,
# ensure, restart, start and purge must leave the newcomer untouched.
# VARIANTs (reuse.sh --list):
#   start            procmgr start records start_time; the newcomer comes
#                    in a later clock tick
#   same-tick        the newcomer comes in the daemon's own clock tick,
#                    which start_time cannot tell apart (issue 7.2)
#   pants            pants-style metadata (pid, process_name); the newcomer
#                    has another argv[0]
#   pants-same-name  the newcomer has the recorded argv[0] but started after
#                    the pid key was written (issue 7.1)
#   pid-only         nothing but a pid key, and a newcomer that started
#                    after it was written (issue 7.1)
# The pants-style variants start the newcomer 50 ms after the pid key was
# written: a start time has a 10 ms tick, so one in the same tick as the
# write cannot be told apart from the process that was recorded.
here=$(cd "$(dirname "$0")" && pwd)
VARIANTS="start same-tick pants pants-same-name pid-only"
if [ "${1:-}" = --list ]; then
	echo $VARIANTS
	exit 0
fi
. "$here/lib.sh" || exit 1
VARIANT=$1
ITEM=
case "$VARIANT" in
same-tick) ITEM=2 ;;
pants-same-name | pid-only) ITEM=1 ;;
esac

alive() {
	proc_field "$1" && [ "$STATE" != Z ]
}

# take_pid PID ARG...: start a pm-sleeper (with ARGs) that gets pid PID;
# sets NEW. Nothing else forks in this namespace meanwhile.
take_pid() {
	local want=$1 try
	shift
	for ((try = 0; try < 10; try++)); do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		"$SLEEPER" "$@" </dev/null >/dev/null 2>&1 &
		NEW=$!
		if [ "$NEW" = "$want" ]; then
			# --argv0 re-execs: let /proc show the new argv[0]
			[ $# = 0 ] || sleep 0.05
			return 0
		fi
		kill -KILL "$NEW"
		wait "$NEW" 2>/dev/null
	done
	fail "could not steer a process onto pid $want"
	return 1
}

# A procmgr daemon, SIGKILLed; returns once its pid is free again (the
# monitor recorded the exit and reaped it). Sets OLD and OLD_START.
start_and_kill() {
	OLD=$(pm start "$NAME" -- "$SLEEPER" 2>>"$LOG") || {
		fail "start failed"
		return 1
	}
	read -r OLD_START _ <"$META/start_time"
	# past the daemon's clock tick (10 ms at USER_HZ 100), but for same-tick
	[ "$VARIANT" = same-tick ] || sleep 0.03
	kill -KILL "$OLD"
	while [ -e "/proc/$OLD" ]; do :; done
}

# pants writes pid and process_name itself; so does this, with procmgr set.
pants_style() {
	"$SLEEPER" --argv0 pantsd-runner </dev/null >/dev/null 2>&1 &
	OLD=$!
	sleep 0.05	# let it re-exec under its new argv[0]
	pm set "$NAME" pid "$OLD" && pm set "$NAME" process_name pantsd-runner ||
		fail "set failed"
	kill -KILL "$OLD"
	wait "$OLD" 2>/dev/null
	return 0
}

# Steer a newcomer into the dead daemon's clock tick; several attempts.
same_tick() {
	local try
	for ((try = 0; try < 40; try++)); do
		start_and_kill || return 1
		take_pid "$OLD" || return 1
		proc_field "$NEW"
		[ "$START" = "$OLD_START" ] && return 0
		kill -KILL "$NEW"
		wait "$NEW" 2>/dev/null
		pm purge "$NAME" >>"$LOG" 2>&1
		settle || return 1
	done
	echo "SKIP $TRIAL: no newcomer in the daemon's clock tick in 40 tries"
	SKIPPED=1
	return 1
}

broken() {
	if [ -n "$ITEM" ]; then known "$ITEM" "$*"; else fail "$*"; fi
	BROKE=1
}

# Put the metadata back as the newcomer found it before the next command.
restore() {
	rm -rf "$META"
	cp -a "$WORK/snap" "$META"
}

# CMD...: a command that may start a daemon. It must not report the
# newcomer, must leave it alive, and what it started is stopped again.
starts_another() {
	local out rc
	restore
	out=$(pm "$@" 2>>"$LOG")
	rc=$?
	note "$*: exit $rc, output $out"
	[ "$rc" = 0 ] && [ "$out" != "$NEW" ] ||
		broken "$1 with pid $NEW reused: exit $rc, printed '$out'"
	alive "$NEW" || broken "$1 signalled the newcomer $NEW"
	pm stop "$NAME" >>"$LOG" 2>&1
	settle
}

check_newcomer() {
	local rc
	CHECKED=1
	cp -a "$META" "$WORK/snap"
	BROKE=0
	pm status "$NAME" >>"$LOG" 2>&1
	rc=$?
	[ "$rc" = 1 ] || broken "status exits $rc, not 1 (stale), for a" \
		"newcomer on the recorded pid $NEW"
	restore
	pm stop "$NAME" >>"$LOG" 2>&1 || broken "stop exits $?"
	alive "$NEW" || { broken "stop signalled the newcomer $NEW"; return; }
	starts_another ensure "$NAME" -- "$SLEEPER"
	alive "$NEW" || return
	starts_another restart "$NAME" -- "$SLEEPER"
	alive "$NEW" || return
	starts_another start "$NAME" -- "$SLEEPER"
	alive "$NEW" || return
	restore
	pm purge "$NAME" >>"$LOG" 2>&1 || broken "purge exits $?"
	alive "$NEW" || broken "purge signalled the newcomer $NEW"
	[ ! -e "$META" ] || broken "purge left $META"
	[ -n "$ITEM" ] && [ "$BROKE" = 0 ] && held "$ITEM"
}

case "$VARIANT" in
start)
	start_and_kill && take_pid "$OLD" && {
		proc_field "$NEW"
		# the same tick is the same-tick variant's business
		[ "$START" = "$OLD_START" ] && ITEM=2
		check_newcomer
	} ;;
same-tick)
	same_tick && check_newcomer ;;
pants)
	pants_style && sleep 0.05 &&
		take_pid "$OLD" --argv0 other-daemon && check_newcomer ;;
pants-same-name)
	pants_style && sleep 0.05 &&
		take_pid "$OLD" --argv0 pantsd-runner && check_newcomer ;;
pid-only)
	"$SLEEPER" </dev/null >/dev/null 2>&1 &
	OLD=$!
	pm set "$NAME" pid "$OLD" || fail "set failed"
	kill -KILL "$OLD"
	wait "$OLD" 2>/dev/null
	sleep 0.05
	take_pid "$OLD" && check_newcomer ;;
*)
	echo "reuse.sh: unknown variant $VARIANT" >&2
	exit 2 ;;
esac
[ -n "${CHECKED:-}" ] || [ "$FAILED" = 1 ] || [ -n "${SKIPPED:-}" ] ||
	fail "the newcomer was never checked"
finish
