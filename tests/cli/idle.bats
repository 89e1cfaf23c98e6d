#!/usr/bin/env bats
# --idle-timeout SEC (SPEC §6): a daemon nobody used for SEC seconds is
# stopped, its metadata kept with exit reason=idle; start, ensure and
# procmgr touch are uses that re-arm the timer; a connected client keeps
# it from being idle; the next ensure starts it with reason "stopped
# after idle".

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "an idle daemon is stopped, its metadata kept with reason idle" {
	pid=$(pm start web --idle-timeout 1 -- "$DAEMON" pause)
	wait_for 20 gone "$pid"
	wait_for 10 key_has web exit '^signal=TERM at=[^ ]+ reason=idle$'
	# the metadata stays, for status and ensure to tell
	key_is web pid "$pid"
	test -e "$MD/web/cmdline"
	has_event '^idle for 1s: stopping$'
	has_event "^sent SIGTERM to pid $pid$"
	run -3 pm status web
	[ "${lines[0]}" = "web: stopped (idle 1s)" ]
	run -3 pm --json status web
	[ "$(json 'd["state"]' <<<"$output")" = '"stopped"' ]
	[ "$(json 'd["exit"]["reason"]' <<<"$output")" = '"idle"' ]
	run -0 pm list
	[[ "$output" == *web*stopped* ]]
}

@test "the next ensure restarts it with reason stopped after idle" {
	pid=$(pm start web --idle-timeout 1 -- "$DAEMON" pause)
	mon=$(mon_of web)
	wait_for 20 key_has web exit 'reason=idle$'
	# the monitor records under the lock: an ensure sooner would wait
	wait_for 10 gone "$mon"
	run -0 --separate-stderr pm ensure web --idle-timeout 1 -- "$DAEMON" pause
	[ "$stderr" = "starting web: stopped after idle" ]
	[ "$output" != "$pid" ]
	alive "$output"
	[ ! -e "$MD/web/exit" ]
	has_event "^started pid $output \(stopped after idle, asked by pid [0-9]+ "
}

@test "start of an idle-stopped NAME starts it anew" {
	pm start web --idle-timeout 1 -- "$DAEMON" pause
	wait_for 20 key_has web exit 'reason=idle$'
	run -0 pm start web -- "$DAEMON" pause
	alive "$output"
}

@test "stop of an idle-stopped NAME removes its metadata" {
	pm start web --idle-timeout 1 -- "$DAEMON" pause
	wait_for 20 key_has web exit 'reason=idle$'
	mon=$(mon_of web)
	wait_for 10 gone "$mon"
	run -0 pm stop web
	[ ! -e "$MD/web" ]
	run -3 pm status web
	[ "${lines[0]}" = "web: stopped" ]
}

# keep_using N CMD...: run CMD N times, 0.1 s apart.
keep_using() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 3>&- || true
		sleep 0.1
		n=$((n - 1))
	done
}

# rearmed_by CMD...: a daemon with --idle-timeout 1 is kept from being idle
# by CMD, run for 2.5 s or more, 0.1 s apart (past the timeout twice); then
# left alone, it is stopped.
rearmed_by() {
	local pid
	pid=$(pm start web --idle-timeout 1 -- "$DAEMON" pause)
	keep_using 25 "$@"
	alive "$pid"
	! has_event '^idle for' || false
	key_is web pid "$pid"
	wait_for 20 gone "$pid"
	wait_for 20 key_has web exit 'reason=idle$'
}

@test "procmgr touch re-arms the idle timer" {
	rearmed_by pm touch web
}

@test "ensure that keeps the daemon re-arms the idle timer" {
	rearmed_by pm ensure web --idle-timeout 1 -- "$DAEMON" pause
}

@test "a start refused because it runs is a use too" {
	rearmed_by pm start web --idle-timeout 1 -- "$DAEMON" pause
}

@test "an idle stop is not undone by --restart always" {
	pid=$(pm start web --idle-timeout 0.5 --restart always -- "$DAEMON" pause)
	wait_for 20 key_has web exit 'reason=idle$'
	mon=$(mon_of web)
	note_pid "$mon"
	wait_for 20 gone "$mon"
	[ "$(count_events '^started pid ')" -eq 1 ]
	run -3 pm status web
}

@test "touch of a NAME that is not running exits 3" {
	run -3 --separate-stderr pm touch web
	[ "$stderr" = "web is not running: nothing to touch" ]
	run -2 pm touch
}

@test "touch of a daemon without --idle-timeout changes nothing" {
	pid=$(pm start web -- "$DAEMON" pause)
	run -0 pm touch web
	sleep 0.3
	alive "$pid"
}

# The daemon says "accepted" once it has the test's connection, and
# "closed" once the client has left and it closed its end. It is ready
# (notify) once it listens, so no readiness probe takes the accept.

# Until the daemon has accepted the client, keep it from going idle (a
# client may take a while to start on a busy machine).
until_accepted() {
	local deadline=$((SECONDS + 30))
	until grep -qx accepted "$(log_of)"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		pm touch web >/dev/null 2>&1 || true
		sleep 0.1
	done
}

@test "a connected TCP client keeps the daemon from being idle" {
	port=$(free_port)
	pid=$(pm start web --idle-timeout 1 --ready notify -- "$DAEMON" \
		tcp="$port" notify=READY=1 accept say=accepted drain say=closed \
		pause)
	exec 4<>"/dev/tcp/127.0.0.1/$port"
	until_accepted
	# Two timeouts pass with the client connected.
	sleep 2
	alive "$pid"
	! has_event '^idle for' || false
	# The client leaves: idle again, stopped.
	exec 4>&-
	wait_for 20 gone "$pid"
	wait_for 20 key_has web exit 'reason=idle$'
	grep -qx closed "$(log_of)"
}

# unix_client PATH: hold a connection to the unix socket PATH open
# until killed; its pid in $CLIENT.
unix_client() {
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(3600)' "$1" </dev/null >/dev/null 2>&1 3>&- &
	CLIENT=$!
	note_pid "$CLIENT"
}

@test "a connected unix socket client keeps the daemon from being idle" {
	pid=$(pm start web --idle-timeout 1 --ready notify -- "$DAEMON" \
		unix="$T/d.sock" notify=READY=1 accept say=accepted drain \
		say=closed pause)
	unix_client "$T/d.sock"
	until_accepted
	sleep 2
	alive "$pid"
	! has_event '^idle for' || false
	kill "$CLIENT"
	wait_for 20 gone "$pid"
	wait_for 20 key_has web exit 'reason=idle$'
	grep -qx closed "$(log_of)"
}

@test "a connection whose unix client has gone does not count" {
	# The daemon keeps its end open (no drain) after the client left:
	# no client is connected, as with TCP, whose CLOSE_WAIT does not
	# count.
	pid=$(pm start web --idle-timeout 1 --ready notify -- "$DAEMON" \
		unix="$T/d.sock" notify=READY=1 accept say=accepted pause)
	unix_client "$T/d.sock"
	until_accepted
	kill "$CLIENT"
	wait_for 20 gone "$pid"
	wait_for 20 key_has web exit 'reason=idle$'
}

@test "a connection whose TCP client has gone does not count" {
	port=$(free_port)
	pid=$(pm start web --idle-timeout 1 --ready notify -- "$DAEMON" \
		tcp="$port" notify=READY=1 accept say=accepted pause)
	exec 4<>"/dev/tcp/127.0.0.1/$port"
	until_accepted
	exec 4>&-
	wait_for 20 gone "$pid"
	wait_for 20 key_has web exit 'reason=idle$'
}

@test "the readiness probe's connection is not a client" {
	# tcp:PORT readiness connects once and leaves.
	port=$(free_port)
	pid=$(pm start web --idle-timeout 1 --ready "tcp:$port" -- \
		"$DAEMON" tcp="$port" pause)
	wait_for 20 gone "$pid"
	wait_for 20 key_has web exit 'reason=idle$'
}

@test "status shows the idle timeout among the supervision" {
	pm start web --idle-timeout 600 -- "$DAEMON" pause
	run -0 pm status web
	[[ "$output" == *"  supervision   "*"idle_timeout=600"* ]]
}

@test "touch of a daemon without a monitor (pants') succeeds, changing nothing" {
	sleeper
	record web "$SPID"
	run -0 --separate-stderr pm touch web
	[ -z "$stderr" ]
	[ -z "$output" ]
	alive "$SPID"
	[ "$(ls "$MD/web" | tr '\n' ' ')" = "pid start_time " ]
}

@test "a daemon still getting ready is not idle" {
	# ready after 1.5 s, three idle timeouts: the start still succeeds
	run -0 --separate-stderr pm start web --idle-timeout 0.5 --ready notify \
		-- "$DAEMON" sleep=1.5 notify=READY=1 pause
	pid=$output
	# ready, then unused: now it is stopped as idle
	wait_for 20 gone "$pid"
	wait_for 10 key_has web exit 'reason=idle$'
}

@test "an idle timeout of decades neither fires nor stalls the monitor" {
	# longer than one wait of the monitor's poll may be
	pid=$(pm start web --idle-timeout 2000000000 -- "$DAEMON" pause)
	run -0 pm touch web
	alive "$pid"
	mon=$(mon_of web)
	kill -KILL "$pid"
	wait_for 20 gone "$mon"
	key_has web exit '^signal=KILL '
}
