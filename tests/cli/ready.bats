#!/usr/bin/env bats
# Readiness (SPEC §3 Readiness): start returns only once the daemon is
# ready by the chosen protocol, times out with exit 4, and reports a daemon
# that died first with exit 7.
#
# Each "late" daemon sleeps, then creates an artefact file, then signals
# readiness: the artefact must exist when start returns.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

# start_late MODE ACTION...: start a daemon that becomes ready 1 s late by
# ACTION; check start waited for it.
start_late() {
	local mode=$1 t0 elapsed
	shift
	t0=$(now_ms)
	run --separate-stderr pm start web --ready "$mode" --ready-timeout 30 \
		-- "$DAEMON" sleep=1 touch="$T/artefact" "$@" pause
	elapsed=$(($(now_ms) - t0))
	echo "status=$status elapsed=${elapsed}ms stderr=$stderr"
	[ "$status" -eq 0 ]
	assert_pid_output
	[ -e "$T/artefact" ]
	[ "$elapsed" -ge 900 ]
	[ "$elapsed" -lt 15000 ]
	alive "$output"
	[ "$(cat "$MD/web/pid")" = "$output" ]
}

# No fake-daemon of this test is alive.
no_live_daemon() {
	local p
	for p in $(lc_marked_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = fake-daemon ] &&
			alive "$p" && return 1
	done
	return 0
}

# never_ready MODE ACTION...: a daemon that never becomes ready times out
# with exit 4 and is left running; with --kill-on-timeout it is gone.
never_ready() {
	local mode=$1 t0 elapsed pid
	shift
	t0=$(now_ms)
	run --separate-stderr pm start web --ready "$mode" --ready-timeout 1 \
		-- "$DAEMON" "$@" pause
	elapsed=$(($(now_ms) - t0))
	echo "status=$status elapsed=${elapsed}ms stderr=$stderr"
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	# The message says it is the readiness, and what to do.
	[[ "$stderr" == "procmgr: "*"not ready"*"; it is left running"*"'procmgr stop web'" ]]
	[ "$elapsed" -ge 900 ]
	[ "$elapsed" -lt 15000 ]
	pid=$(cat "$MD/web/pid")
	alive "$pid"
	pm stop web

	run --separate-stderr pm start web --ready "$mode" --ready-timeout 1 \
		--kill-on-timeout -- "$DAEMON" "$@" pause
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"not ready"*"; stopped it (--kill-on-timeout)"* ]]
	# Whatever procmgr started is gone (a zombie is not alive).
	wait_for 10 no_live_daemon
}

@test "--ready exec returns once the exec succeeded" {
	run --separate-stderr pm start web --ready exec -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	alive "$output"
}

@test "--ready socket waits for the socket key" {
	start_late socket key=socket=4242
	[ "$(cat "$MD/web/socket")" = 4242 ]
}

@test "--ready socket times out with exit 4 when the key never comes" {
	never_ready socket
}

@test "--ready notify waits for READY=1" {
	start_late notify notify=READY=1
}

@test "--ready notify: STATUS= is honoured and PORT= becomes the socket key" {
	start_late notify 'notify=STATUS=warming up\nPORT=5150\nREADY=1'
	[ "$(cat "$MD/web/socket")" = 5150 ]
	run pm status web
	[ "$status" -eq 0 ]
	[[ "$output" == *5150* ]]
	# STATUS text is kept somewhere procmgr shows it.
	[[ "$output" == *"warming up"* ]] || grep -rqF "warming up" "$MD/web"
}

@test "--ready notify: SOCKET= becomes the socket key" {
	start_late notify "notify=SOCKET=$T/api.sock\nREADY=1"
	[ "$(cat "$MD/web/socket")" = "$T/api.sock" ]
}

@test "--ready notify: messages before READY=1 do not make it ready" {
	run --separate-stderr pm start web --ready notify --ready-timeout 30 \
		-- "$DAEMON" notify=STATUS=starting sleep=1 \
		touch="$T/artefact" notify=READY=1 pause
	[ "$status" -eq 0 ]
	[ -e "$T/artefact" ]
}

@test "--ready notify: MAINPID= names the process procmgr records" {
	run --separate-stderr pm start web --ready notify --ready-timeout 30 \
		-- "$DAEMON" fork 'notify=MAINPID=%p\nREADY=1' pause
	echo "$stderr"
	[ "$status" -eq 0 ]
	assert_pid_output
	child=$output
	alive "$child"
	[ "$(cat "$MD/web/pid")" = "$child" ]
	# The recorded pid is the forked child, whose parent is the first one.
	parent=$(ps -o ppid= -p "$child" | tr -d ' ')
	[ "$(cat "/proc/$parent/comm")" = fake-daemon ]
	run pm status web
	[ "$status" -eq 0 ]
	[[ "$output" == *"$child"* ]]
}

@test "--ready notify times out with exit 4 without READY=1" {
	never_ready notify notify=STATUS=still-starting
}

@test "--ready fd:N waits for a newline on fd N" {
	start_late fd:3 fdclose=3
}

@test "--ready fd:N times out with exit 4 when nothing is written" {
	never_ready fd:3
}

@test "--ready tcp:PORT waits until a connect succeeds" {
	port=$(free_port)
	start_late "tcp:$port" tcp="$port"
	(exec 3<>"/dev/tcp/127.0.0.1/$port")
}

@test "--ready tcp:PORT times out with exit 4 when nobody listens" {
	never_ready "tcp:$(free_port)"
}

@test "--ready unix:PATH waits until a connect succeeds" {
	start_late "unix:$T/d.sock" unix="$T/d.sock"
	[ -S "$T/d.sock" ]
}

@test "--ready unix:PATH times out with exit 4 when nobody listens" {
	never_ready "unix:$T/d.sock"
}

@test "a bad --ready mode is a usage error" {
	run pm start web --ready bogus -- "$DAEMON" pause
	[ "$status" -eq 2 ]
	[ ! -e "$MD/web/pid" ]
}

@test "death before ready exits 7 at once with the status and the log tail" {
	t0=$(now_ms)
	run --separate-stderr pm start web --ready notify --ready-timeout 60 \
		-- "$DAEMON" lines=30 exit=3
	elapsed=$(($(now_ms) - t0))
	echo "status=$status elapsed=${elapsed}ms"
	echo "$stderr"
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	[ "$elapsed" -lt 10000 ]
	[[ "$stderr" =~ status[=\ ]3 ]]
	# The last 20 lines of its log, and not more: procmgr's own line of
	# how it ended is the last of them.
	grep -q 'line 30$' <<<"$stderr"
	grep -q 'line 12$' <<<"$stderr"
	! grep -q 'line 11$' <<<"$stderr" || false
	[[ "$stderr" == *"procmgr: "*" exited with status 3" ]]
}

@test "the exit-7 tail starts at this start, never showing an earlier run" {
	pm start web -- "$DAEMON" say=earlier-run pause
	wait_for 10 grep -qx earlier-run "$D/$HFP/web.log"
	pm stop web
	run --separate-stderr pm start web --ready notify -- "$DAEMON" \
		say=this-run exit=4
	echo "$stderr"
	[ "$status" -eq 7 ]
	[[ "$stderr" == *this-run* ]]
	[[ "$stderr" != *earlier-run* ]]
	[[ "$stderr" != *"stop requested"* ]]
	# it begins with this start's own line
	grep -A1 'the last lines of' <<<"$stderr" | tail -n 1 |
		grep -q '^procmgr: .* started pid '
}

@test "death by a signal before ready exits 7 naming the signal" {
	run --separate-stderr pm start web --ready fd:3 --ready-timeout 60 \
		-- "$DAEMON" say=about-to-crash raise=ABRT
	echo "$stderr"
	[ "$status" -eq 7 ]
	[[ "$stderr" == *ABRT* ]]
	[[ "$stderr" == *about-to-crash* ]]
}

@test "a lock timeout is told apart from a readiness timeout" {
	"$PROCMGR" --dir "$D" lock web -- sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	note_pid $!
	wait_for 20 test -e "$D/.lock.web.lock_message"
	run -4 --separate-stderr pm start web --lock-timeout 0.3 \
		--ready-timeout 30 -- "$DAEMON" pause
	[ -z "$output" ]
	[[ "$stderr" == *"waiting for a file lock ($D/.lock.web)"* ]]
	[[ "$stderr" == *"procmgr: timed out waiting for lock"* ]]
	[[ "$stderr" != *"not ready"* ]]
	# Nothing was started.
	[ ! -e "$MD/web/pid" ]
	no_live_daemon
}

@test "-v says which log a spawn writes and how long it waits" {
	run -0 --separate-stderr pm -v start web --log "$T/w.log" -- "$DAEMON" pause
	assert_pid_output
	[[ "$stderr" == *"procmgr: web: log $T/w.log; waiting for readiness up to 60 s"* ]]
	pm stop web
	run -0 --separate-stderr pm -v start web --ready-timeout 2.5 -- "$DAEMON" pause
	[[ "$stderr" == *"waiting for readiness up to 2.5 s"* ]]
	pm stop web
	# --ready-timeout 0 is no limit (systemd's TimeoutStartSec=0), not
	# the library's default of 60 s; a late daemon is still waited for.
	run -0 --separate-stderr pm -v start web --ready socket \
		--ready-timeout 0 -- "$DAEMON" sleep=1 key=socket=4242 pause
	assert_pid_output
	[[ "$stderr" == *"waiting for readiness with no time limit"* ]]
	[ "$(cat "$MD/web/socket")" = 4242 ]
}

@test "--ready socket works when the uid has no inotify instance left" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as a uid of its own"
	uid=$(lone_uid)
	dir=$(dir_of_uid "$uid")
	# Held by another process of the uid at first: start waits for the
	# lock, then for the key, with no inotify instance to use for either.
	as_uid "$uid" "$PROCMGR" --dir "$dir" lock web -- sleep 1 \
		</dev/null >/dev/null 2>&1 3>&- &
	note_pid $!
	wait_for 20 test -e "$dir/.lock.web.lock_message"
	run --separate-stderr as_uid "$uid" "$HELPERS/inotify-hog" \
		"$PROCMGR" --dir "$dir" start web --ready socket \
		--ready-timeout 60 -- "$DAEMON" sleep=0.5 key=socket=4242 pause
	[ "$status" -ne 77 ] || skip "$stderr"
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	assert_pid_output
	pid=$output
	note_pid "$pid"
	[[ "$stderr" == *"waiting for a file lock"* ]]
	[ "$(cat "$dir/$HFP/web/socket")" = 4242 ]
	alive "$pid"
	run -0 as_uid "$uid" "$PROCMGR" --dir "$dir" stop web
	wait_for 10 gone "$pid"
}

# late_ready MODE ACTION...: a daemon left running by a readiness timeout
# that becomes ready 2 s after its start is recorded ready, and kept.
late_ready() {
	local mode=$1 pid
	shift
	run -4 --separate-stderr pm start web --ready "$mode" \
		--ready-timeout 1 -- "$DAEMON" sleep=2 "$@" say=signalled pause
	[[ "$stderr" == *"it is left running"* ]]
	pid=$(cat "$MD/web/pid")
	wait_for 20 test -e "$MD/web/ready"
	grep -q "ready after .*past its timeout" "$MD/web.log"
	alive "$pid"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running, pid $pid,"* ]]
	run -0 --separate-stderr pm ensure web --ready "$mode" \
		--ready-timeout 1 -- "$DAEMON" sleep=2 "$@" say=signalled pause
	[ "$output" = "$pid" ]
	run -0 pm stop web
}

@test "--ready fd:N left running after a timeout survives its late newline" {
	# Issue 7, item 4: the monitor holds the read end for the daemon's
	# life, so writing it late is no SIGPIPE; and it counts.
	late_ready fd:3 fdclose=3
}

@test "a daemon ready past its timeout is recorded ready, in every mode" {
	late_ready notify notify=READY=1
	late_ready socket key=socket=4242
	port=$(free_port)
	late_ready "tcp:$port" tcp="$port"
	late_ready "unix:$T/late.sock" unix="$T/late.sock"
}
