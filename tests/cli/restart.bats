#!/usr/bin/env bats
# procmgr restart: stop then start, under one hold of the lifecycle lock.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "restart gives a new pid and the old daemon is gone" {
	old=$(pm start web -- "$DAEMON" pause)
	run --separate-stderr pm restart web -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	assert_pid_output
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" != "$old" ]
	alive "$output"
	wait_for 10 gone "$old"
	[ "$(cat "$MD/web/pid")" = "$output" ]
}

@test "restart with the same fingerprint still restarts" {
	old=$(pm ensure web -- "$DAEMON" pause)
	new=$(pm restart web -- "$DAEMON" pause)
	[ "$new" != "$old" ]
	wait_for 10 gone "$old"
	alive "$new"
}

@test "restart of a stopped NAME starts it" {
	run --separate-stderr pm restart web -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	assert_pid_output
	alive "$output"
}

@test "restart of a stale NAME signals nothing and starts anew" {
	pid=$(pm start web -- "$DAEMON" pause)
	crash web
	run --separate-stderr pm restart web -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	alive "$output"
}

@test "restart applies the new options" {
	mkdir "$T/new"
	old=$(pm start web -- "$DAEMON" pause)
	new=$(pm restart web --cwd "$T/new" --env PHASE=two -- "$DAEMON" pause)
	[ "$(readlink "/proc/$new/cwd")" = "$T/new" ]
	tr '\0' '\n' <"/proc/$new/environ" | grep -qx PHASE=two
}

@test "restart of a daemon that ignores TERM kills it and starts anew" {
	old=$(pm start web -- "$DAEMON" ignore=TERM pause)
	t0=$(now_ms)
	# The default chain: TERM, 5 s, KILL.
	run --separate-stderr pm restart web -- "$DAEMON" pause
	echo "status=$status stderr=$stderr"
	[ "$status" -eq 0 ]
	wait_for 10 gone "$old"
	alive "$output"
	[ "$output" != "$old" ]
	[ $(($(now_ms) - t0)) -lt 30000 ]
}
