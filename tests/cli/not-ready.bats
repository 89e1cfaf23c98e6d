#!/usr/bin/env bats
# The typed start result and key ready (SPEC §6): a daemon left running
# after its readiness timeout is running but not ready, and the next
# ensure restarts it with reason "not ready".

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "a daemon left running after its readiness timeout is not ready" {
	run -4 pm start web --ready notify --ready-timeout 0.5 -- "$DAEMON" pause
	pid=$(cat "$MD/web/pid")
	alive "$pid"
	[ ! -e "$MD/web/ready" ]
	run -0 pm status web
	[[ "${lines[0]}" == "web: running (not ready), pid $pid, up "* ]]
	run -0 pm --json status web
	[ "$(json 'd["state"]' <<<"$output")" = '"running"' ]
	[ "$(json 'd["ready"]' <<<"$output")" = false ]
	has_event '^not ready \(notify\) after 0\.5s$'
}

@test "a ready daemon has key ready, an RFC 3339 time" {
	pm start web --ready notify -- "$DAEMON" notify=READY=1 pause
	grep -qxE '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' \
		"$MD/web/ready"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running, pid "* ]]
	run -0 pm --json status web
	[ "$(json 'd["ready"]' <<<"$output")" = true ]
	has_event '^ready after [0-9]+\.[0-9]{3}s$'
}

@test "ensure restarts a running daemon that never became ready" {
	# The same fingerprint both times: readiness alone is the reason.
	run -4 pm start web --fingerprint v1 --ready notify --ready-timeout 0.5 \
		-- "$DAEMON" pause
	old=$(cat "$MD/web/pid")
	run -0 --separate-stderr pm ensure web --fingerprint v1 --ready notify \
		-- "$DAEMON" notify=READY=1 pause
	[ "$stderr" = "restarting web: not ready" ]
	assert_pid_output
	[ "$output" != "$old" ]
	gone "$old"
	test -e "$MD/web/ready"
	# Now it is ready: the next ensure keeps it.
	new=$output
	run -0 --separate-stderr pm ensure web --fingerprint v1 --ready notify \
		-- "$DAEMON" notify=READY=1 pause
	[ "$output" = "$new" ]
	[ -z "$stderr" ]
	run -0 pm --json ensure web --fingerprint v1 --ready notify \
		-- "$DAEMON" notify=READY=1 pause
	[ "$(json 'd["action"]' <<<"$output")" = '"kept"' ]
}

@test "ensure --json names the reason not ready" {
	run -4 pm start web --fingerprint v1 --ready notify --ready-timeout 0.5 \
		-- "$DAEMON" pause
	run -0 --separate-stderr pm --json ensure web --fingerprint v1 \
		--ready notify -- "$DAEMON" notify=READY=1 pause
	[ "$(json 'd["action"]' <<<"$output")" = '"restarted"' ]
	[ "$(json 'd["reason"]' <<<"$output")" = '"not ready"' ]
	[ "$(json 'd["ready"]' <<<"$output")" = true ]
}

@test "a restart that never gets ready is stopped like a crash" {
	# The first run is ready, then crashes; the restart never sends
	# READY=1: it is stopped (reason not-ready) and, the limit reached,
	# given up.
	run -0 pm start web --ready notify --ready-timeout 0.5 \
		--restart on-failure --restart-limit 1 -- sh -c \
		'if [ -e "$1" ]; then exec "$0" pause; fi; touch "$1"; "$0" notify=READY=1
		while [ ! -e "$PROCMGR_META_DIR/ready" ]; do sleep 0.05; done; exit 3' \
		"$DAEMON" "$T/ran"
	wait_for 30 key_has web exit 'reason=gave-up$'
	has_event '^not ready \(notify\) after 0\.5s$'
	[ "$(count_events '^started pid ')" -eq 2 ]
}
