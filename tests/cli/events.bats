#!/usr/bin/env bats
# procmgr's events in the daemon's log (SPEC §6): one line each,
# "procmgr: <RFC 3339 time> <event>", telling who started and stopped the
# daemon, why, each signal and how it ended. (The exit-7 tail that starts
# at this start's line: ready.bats. The events of idle, watchdog, restarts
# and adoption: idle.bats, notify.bats, restart-policy.bats, tree.bats.)

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

RFC3339='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

@test "a start and a stop tell the whole story, in order" {
	pid=$(pm start web --ready notify -- "$DAEMON" say=hello \
		notify=READY=1 pause)
	wait_for 10 grep -qx hello "$(log_of)"
	pm stop web
	# every procmgr line has the form, in time order
	grep '^procmgr: ' "$(log_of)" >"$T/ev"
	[ "$(wc -l <"$T/ev")" -eq "$(events | wc -l)" ]
	! grep -vE "^procmgr: $RFC3339 [^ ]" "$T/ev" || false
	cut -d' ' -f2 "$T/ev" >"$T/times"
	sort -c "$T/times"
	# the events, in order
	events >"$T/story"
	sed -n 1p "$T/story" | grep -qE "^started pid $pid \(start, asked by pid [0-9]+ \(.*procmgr --dir $D start web --ready notify -- $DAEMON say=hello notify=READY=1 pause\)\)$"
	sed -n 2p "$T/story" | grep -qE '^ready after [0-9]+\.[0-9]{3}s$'
	sed -n 3p "$T/story" | grep -qE "^stop requested by pid [0-9]+ \(.*procmgr --dir $D stop web\)$"
	sed -n 4p "$T/story" | grep -qx "sent SIGTERM to pid $pid"
	sed -n 5p "$T/story" | grep -qx "pid $pid was killed by SIGTERM"
	[ "$(wc -l <"$T/story")" -eq 5 ]
	# the daemon's own line sits between them
	[ "$(daemon_lines <"$(log_of)")" = hello ]
}

@test "a daemon that ends by itself: its status or signal" {
	pm start web -- "$DAEMON" exit=4
	wait_for 20 has_event '^pid [0-9]+ exited with status 4$'
	pm start api -- "$DAEMON" raise=SEGV
	wait_for 20 has_event '^pid [0-9]+ was killed by SIGSEGV$' api
}

@test "the started line says why: ensure's reason, restart" {
	pm start web -- "$DAEMON" pause
	pid=$(pm ensure web -- "$DAEMON" say=v2 pause)
	has_event "^started pid $pid \(argv changed, asked by pid [0-9]+ "
	pid=$(pm restart web -- "$DAEMON" say=v2 pause)
	has_event "^started pid $pid \(restart, asked by pid [0-9]+ "
	pm stop web
	pid=$(pm ensure web -- "$DAEMON" pause)
	has_event "^started pid $pid \(not running, asked by pid [0-9]+ "
}

@test "a stop that needs KILL logs each signal" {
	pid=$(pm start web -- "$DAEMON" ignore=TERM pause)
	wait_for 10 ignores "$pid" 15
	pm stop web --kill-wait 0.3
	events | grep -A3 '^stop requested' >"$T/tail"
	[ "$(sed -n 2p "$T/tail")" = "sent SIGTERM to pid $pid" ]
	[ "$(sed -n 3p "$T/tail")" = "sent SIGKILL to pid $pid" ]
	[ "$(sed -n 4p "$T/tail")" = "pid $pid was killed by SIGKILL" ]
}

@test "events go to a --log file as well" {
	pm start web --log "$T/w.log" -- "$DAEMON" pause
	pm stop web
	grep -qE "^procmgr: $RFC3339 started pid " "$T/w.log"
	grep -qE "^procmgr: $RFC3339 stop requested by pid " "$T/w.log"
	[ ! -e "$(log_of)" ]
}

@test "an exec failure is logged" {
	run -1 pm start web -- "$T/no-such-daemon"
	has_event "^cannot start $T/no-such-daemon: No such file or directory$"
}
