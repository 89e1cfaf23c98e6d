#!/usr/bin/env bats
# Spawn failures and the monitor: an exec failure is reported by start at
# once, and how a daemon ended is recorded for status (SPEC §3 Spawn).

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

# Run start and require exit 1 within 10 seconds with errno's text.
start_fails_with() {
	local text=$1 t0
	shift
	t0=$(now_ms)
	run --separate-stderr pm start web "$@"
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "procmgr: "* ]]
	[[ "$stderr" == *"$text"* ]]
	[ $(($(now_ms) - t0)) -lt 10000 ]
	# Nothing is left running under the NAME.
	run pm status web
	[ "$status" -ne 0 ]
}

@test "start of a missing program exits 1 with 'No such file or directory'" {
	start_fails_with "No such file or directory" -- "$T/no-such-program"
}

@test "start of a program not on PATH exits 1 with ENOENT's text" {
	start_fails_with "No such file or directory" -- no-such-program-e9z
}

@test "start of a non-executable file exits 1 with 'Permission denied'" {
	printf '#!/bin/sh\nsleep 300\n' >"$T/script"
	chmod 644 "$T/script"
	start_fails_with "Permission denied" -- "$T/script"
}

@test "start with a missing --cwd exits 1 with ENOENT's text" {
	start_fails_with "No such file or directory" --cwd "$T/nowhere" \
		-- "$DAEMON" pause
}

@test "an exec failure does not wait for the readiness timeout" {
	start_fails_with "No such file or directory" --ready notify \
		--ready-timeout 60 -- "$T/no-such-program"
}

@test "status of a daemon that exited 3 says 'exited with status 3'" {
	pid=$(pm start web -- "$DAEMON" sleep=1 exit=3)
	wait_for 20 test -e "$MD/web/exit"
	grep -qE '^status=3 at=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
		"$MD/web/exit"
	run pm status web
	echo "$output"
	[ "$status" -eq 1 ] # stale: dead and pid file exists
	[[ "$output" == *"exited with status 3"* ]]
	run pm --json status web
	[ "$status" -eq 1 ]
	[ "$(jq -r .state <<<"$output")" = stale ]
	[ "$(jq .exit.status <<<"$output")" = 3 ]
	[ "$(jq .exit.signal <<<"$output")" = null ]
	[[ "$(jq -r .exit.at <<<"$output")" =~ ^[0-9]{4}-.*Z$ ]]
}

@test "status of a daemon killed by SIGSEGV says 'killed by SIGSEGV'" {
	pid=$(pm start web -- "$DAEMON" sleep=1 raise=SEGV)
	wait_for 20 test -e "$MD/web/exit"
	grep -qE '^signal=(SIG)?SEGV at=' "$MD/web/exit"
	run pm status web
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"killed by SIGSEGV"* ]]
	run pm --json status web
	[ "$(jq .exit.status <<<"$output")" = null ]
	[[ "$(jq -r .exit.signal <<<"$output")" =~ ^(SIG)?SEGV$ ]]
}

@test "the monitor records a kill from outside" {
	pid=$(pm start web -- "$DAEMON" pause)
	kill -KILL "$pid"
	wait_for 20 test -e "$MD/web/exit"
	run pm status web
	[ "$status" -eq 1 ]
	[[ "$output" == *"killed by SIGKILL"* ]]
}

@test "a running daemon's --json status has exit null and the pid" {
	pid=$(pm start web -- "$DAEMON" pause)
	run pm --json status web
	[ "$status" -eq 0 ]
	[ "$(jq -r .state <<<"$output")" = running ]
	[ "$(jq .pid <<<"$output")" = "$pid" ]
	[ "$(jq .exit <<<"$output")" = null ]
	[ "$(jq -r .fingerprint <<<"$output")" = "$(cat "$MD/web/fingerprint")" ]
}

@test "start --json prints one object naming the pid" {
	run --separate-stderr pm --json start web -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	pid=$(jq .pid <<<"$output")
	alive "$pid"
	[ "$(jq -r .state <<<"$output")" = running ]
}

# Self-fencing uses fake-daemon's fence=SEC: procmgr_self_check() every
# SEC, exit 3 saying "fenced" once another process owns the NAME.
# It starts fencing after a second: see the next-but-one test for why.

@test "a self-fencing daemon exits once the pid key names another process" {
	pid=$(pm start web -- "$DAEMON" say=serving sleep=1 fence=0.1)
	sleep 1.5
	alive "$pid"
	sleep 300 3>&- &
	other=$!
	note_pid "$other"
	pm set web pid "$other"
	wait_for 10 gone "$pid"
	grep -qx fenced "$MD/web.log"
	alive "$other"
}

@test "a self-fencing daemon exits once its metadata is purged" {
	pid=$(pm start web -- "$DAEMON" sleep=1 fence=0.1)
	sleep 1.5
	alive "$pid"
	pm purge web --force
	wait_for 10 gone "$pid"
	grep -qx fenced "$MD/web.log"
}

@test "a daemon that self-checks at once is not fenced by its own start" {
	# procmgr records pid and start_time after the exec, so a daemon
	# that asks procmgr_self_check() first thing must still be told yes
	# once start has returned.
	pid=$(pm start web -- "$DAEMON" fence=0.05)
	sleep 1
	alive "$pid"
	! grep -q fenced "$MD/web.log" || false
}
