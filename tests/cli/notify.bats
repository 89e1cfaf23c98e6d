#!/usr/bin/env bats
# $NOTIFY_SOCKET for the daemon's whole life (SPEC §6): STATUS=, PORT= and
# SOCKET= after READY=1, MAINPID=, STOPPING=1, EXTEND_TIMEOUT_USEC= and
# WATCHDOG=1 with --watchdog. (Messages up to READY=1: ready.bats.)

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "STATUS= and PORT= after READY=1 update status and the keys" {
	run -0 pm start web --ready notify -- "$DAEMON" notify=READY=1 \
		sleep=0.5 'notify=STATUS=serving\nPORT=4242' \
		sleep=0.5 'notify=STATUS=busy: 3 clients' pause
	pid=$output
	wait_for 20 key_is web status_text serving
	key_is web socket 4242
	run -0 pm status web
	[[ "${lines[0]}" =~ ^web:\ running,\ pid\ $pid,\ up\ [0-9]+s,\ socket\ 4242,\ \"(serving|busy:\ 3\ clients)\"$ ]]
	# a later STATUS= replaces it
	wait_for 20 key_is web status_text "busy: 3 clients"
	run -0 pm status web
	[[ "${lines[0]}" == *', socket 4242, "busy: 3 clients"' ]]
	[[ "$output" == *"  status text   busy: 3 clients"* ]]
	run -0 pm --json status web
	[ "$(json 'd["status_text"]' <<<"$output")" = '"busy: 3 clients"' ]
	[ "$(json 'd["socket"]' <<<"$output")" = '"4242"' ]
}

@test "SOCKET= long after READY=1 becomes the socket key" {
	pm start web --ready notify -- "$DAEMON" notify=READY=1 sleep=1 \
		"notify=SOCKET=$T/api.sock" pause
	[ ! -e "$MD/web/socket" ]
	wait_for 20 key_is web socket "$T/api.sock"
}

@test "MAINPID= after READY=1 makes another process of the tree the daemon" {
	run -0 pm start web --ready notify -- "$DAEMON" notify=READY=1 \
		sleep=0.5 fork 'notify=MAINPID=%p' pause
	first=$output
	wait_for 20 has_event "is the daemon now \(MAINPID\)$"
	main=$(cat "$MD/web/pid")
	note_pid "$main"
	[ "$main" != "$first" ]
	parent_is "$main" "$first"
	[ "$(cat "$MD/web/start_time")" = "$(start_time_of "$main")" ]
	has_event "^pid $main is the daemon now \(MAINPID\)$"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running, pid $main, "* ]]
	mon=$(mon_of web)
	run -0 --separate-stderr pm stop web
	[ "$stderr" = "stopped web (pid $main)" ]
	gone "$main"
	gone "$first"
	wait_for 10 gone "$mon"	# it ends just after stop returns
}

@test "MAINPID= of a process outside the tree is ignored" {
	# This test's shell: it must never be recorded, nor signalled.
	run -0 pm start web --ready notify -- "$DAEMON" \
		"notify=MAINPID=$$" sleep=0.3 notify=READY=1 pause
	pid=$output
	has_event "^ignored MAINPID=$$: not a live process of the daemon's tree$"
	key_is web pid "$pid"
	run -0 pm stop web
	alive "$$"
}

@test "STOPPING=1 is logged" {
	pm start web --ready notify -- "$DAEMON" notify=READY=1 \
		notify=STOPPING=1 sleep=0.2 exit=0
	wait_for 20 test -e "$MD/web/exit"
	has_event '^the daemon says it is stopping$'
	key_has web exit '^status=0 at='
}

@test "EXTEND_TIMEOUT_USEC= gives a daemon more time to get ready" {
	# 1 s would not do; it asks for 30 s more and is ready after 2 s.
	run -0 --separate-stderr pm start web --ready notify --ready-timeout 1 \
		-- "$DAEMON" notify=EXTEND_TIMEOUT_USEC=30000000 sleep=2 \
		touch="$T/artefact" notify=READY=1 pause
	assert_pid_output
	[ -e "$T/artefact" ]
	test -e "$MD/web/ready"
}

@test "EXTEND_TIMEOUT_USEC= extends from now, not beyond what it asks" {
	# Asks for 0.5 s more, then stays silent: it still times out.
	run -4 --separate-stderr pm start web --ready notify --ready-timeout 0.5 \
		-- "$DAEMON" notify=EXTEND_TIMEOUT_USEC=500000 pause
	[[ "$stderr" == *"not ready"* ]]
}

@test "a bad EXTEND_TIMEOUT_USEC= is ignored: the timeout holds" {
	for bad in abc -5 12x ''; do
		run -4 --separate-stderr pm start web --ready notify \
			--ready-timeout 0.5 \
			-- "$DAEMON" "notify=EXTEND_TIMEOUT_USEC=$bad" pause
		[[ "$stderr" == *"not ready"* ]]
		run -0 pm stop web
	done
}

@test "the daemon gets WATCHDOG_USEC and WATCHDOG_PID under --watchdog" {
	pid=$(pm start web --watchdog 30 -- "$DAEMON" pause)
	env=$(tr '\0' '\n' <"/proc/$pid/environ")
	grep -qx 'WATCHDOG_USEC=30000000' <<<"$env"
	grep -qx "WATCHDOG_PID=$pid" <<<"$env"
	# and not without it
	pid=$(pm start api -- "$DAEMON" pause)
	! tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^WATCHDOG_' || false
}

# A daemon that pings WATCHDOG=1 every 0.1 s for PINGS pings, then stops
# pinging but keeps running.
pinger() {
	local pings=$1
	shift
	pm start web "$@" -- sh -c 'i=0; while [ $i -lt "$1" ]; do "$0" notify=WATCHDOG=1; sleep 0.1; i=$((i + 1)); done; exec "$0" pause' \
		"$DAEMON" "$pings"
}

@test "WATCHDOG=1 pings keep a daemon alive under --watchdog" {
	# 1 s between pings would do; it pings every 0.1 s for ~3 s.
	pid=$(pinger 30 --watchdog 1)
	sleep 2.5
	alive "$pid"
	! has_event "^watchdog:" || false
	key_is web pid "$pid"
}

@test "a daemon that stops pinging is stopped with reason watchdog" {
	pid=$(pinger 5 --watchdog 1)
	wait_for 30 test -e "$MD/web/exit"
	gone "$pid"
	key_has web exit '^signal=TERM at=[^ ]+ reason=watchdog$'
	has_event '^watchdog: no WATCHDOG=1 for 1s: stopping$'
	has_event "^sent SIGTERM to pid $pid$"
	run -1 pm status web
	[[ "${lines[0]}" == "web: stale: stopped (watchdog); killed by SIGTERM at "* ]]
	run -1 pm --json status web
	[ "$(json 'd["exit"]["reason"]' <<<"$output")" = '"watchdog"' ]
	[ "$(json 'd["exit"]["signal"]' <<<"$output")" = '"TERM"' ]
}

@test "a daemon that never pings is stopped too" {
	pid=$(pm start web --watchdog 0.5 -- "$DAEMON" pause)
	wait_for 30 test -e "$MD/web/exit"
	gone "$pid"
	key_has web exit 'reason=watchdog$'
}

@test "WATCHDOG=trigger is a failure at once" {
	pid=$(pm start web --watchdog 60 -- "$DAEMON" sleep=0.2 \
		notify=WATCHDOG=trigger pause)
	wait_for 30 test -e "$MD/web/exit"
	key_has web exit 'reason=watchdog$'
}

@test "under --restart on-failure a hung daemon is restarted" {
	pid=$(pinger 3 --watchdog 1 --restart on-failure)
	wait_for 30 has_event '^started pid [0-9]+ \(restart 1 of 5\)$'
	has_event '^watchdog: no WATCHDOG=1 for 1s: stopping$'
	has_event '^restarting in 0\.1s \(restart 1 of 5\)$'
	gone "$pid"
	new=$(events | sed -n 's/^started pid \([0-9]*\) (restart 1 of 5)$/\1/p')
	[ "$new" != "$pid" ]
	# (it stops pinging again, and is restarted again: stop it)
	run -0 pm stop web
	gone "$new"
}

@test "what a daemon sends just before it exits is not lost" {
	# READY=1 and STATUS= are on the socket before the exit is: the start
	# is ready (exit 0) and the text is kept, every time, whatever the
	# order the monitor learns them in. (Not $i: bats' run sets it.)
	local n
	for n in $(seq 10); do
		run -0 pm start "web$n" --ready notify -- "$DAEMON" \
			'notify=STATUS=bye\nREADY=1' exit=3
		wait_for 20 test -e "$MD/web$n/exit"
		key_is "web$n" status_text bye
		key_has "web$n" exit '^status=3 at='
	done
}

@test "a watchdog stop before ready is a death before ready (exit 7)" {
	# The starter gets a typed result, never "the monitor ended without
	# saying": the daemon died (was stopped) before it was ready.
	run -7 --separate-stderr pm start web --ready notify --ready-timeout 30 \
		--watchdog 0.5 -- "$DAEMON" sleep=5 notify=READY=1 pause
	echo "$stderr"
	[[ "$stderr" == *"died before it was ready"* ]]
	[[ "$stderr" == *"watchdog: no WATCHDOG=1 for 0.5s: stopping"* ]]
	key_has web exit 'reason=watchdog$'
}

@test "STATUS= after NAME's metadata is gone does not bring it back" {
	pm start web -- "$DAEMON" sleep=2 notify=STATUS=late \
		notify=STOPPING=1 pause >/dev/null
	rm -rf "$MD/web"
	# STOPPING=1 is logged, and sent after STATUS=: both were read
	wait_for 20 has_event '^the daemon says it is stopping$'
	[ ! -e "$MD/web" ]
}
