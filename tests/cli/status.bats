#!/usr/bin/env bats
# procmgr status NAME: the state per SPEC §2 (running 0, stale 1, stopped 3),
# a human line then details, --json, and corrupt metadata as a warning.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "a NAME without metadata is stopped: exit 3" {
	run -3 pm status web
	[ "$output" = "web: stopped" ]
	# status creates nothing.
	[ ! -e "$PROCMGR_DIR" ]
}

@test "a live process with matching identity is running: exit 0" {
	sleeper
	record web "$SPID"
	printf '38549' >"$MD/web/socket"
	printf 'abc123' >"$MD/web/fingerprint"
	printf 'pm-sleeper\0--flag\0' >"$MD/web/cmdline"
	run -0 --separate-stderr pm status web
	[[ "${lines[0]}" =~ ^web:\ running,\ pid\ $SPID,\ up\ [0-9]+s,\ socket\ 38549$ ]]
	[[ "$output" == *"fingerprint   abc123"* ]]
	[[ "$output" == *"cmdline       pm-sleeper --flag"* ]]
	[[ "$output" == *"started       20"*Z* ]]
	[[ "$output" == *"metadata      $MD/web"* ]]
	[ -z "$stderr" ]
}

@test "the name is case-insensitive" {
	sleeper
	record web "$SPID"
	run -0 pm status WEB
	[[ "${lines[0]}" == "web: running, pid $SPID"* ]]
}

@test "a dead pid is stale: exit 1, and no process is touched" {
	pid=$(dead_pid)
	mkdir -p "$MD/web"
	printf '%s' "$pid" >"$MD/web/pid"
	run -1 pm status web
	[ "${lines[0]}" = "web: stale: pid $pid is not running" ]
}

@test "a reused pid (another start time) is stale, never running" {
	sleeper
	record web "$SPID"
	printf '1 %s' "$BOOT_ID" >"$MD/web/start_time"
	run -1 pm status web
	[ "${lines[0]}" = "web: stale: pid $SPID is another process now" ]
	alive "$SPID"
}

@test "a recorded exit says how the daemon ended" {
	mkdir -p "$MD/web"
	printf '%s' "$(dead_pid)" >"$MD/web/pid"
	printf 'status=3 at=2026-01-02T03:04:05Z' >"$MD/web/exit"
	run -1 pm status web
	[ "${lines[0]}" = "web: stale: exited with status 3 at 2026-01-02T03:04:05Z" ]
	[[ "$output" == *"last exit     exited with status 3"* ]]
	printf 'signal=SEGV at=2026-01-02T03:04:05Z' >"$MD/web/exit"
	run -1 pm status web
	[ "${lines[0]}" = "web: stale: killed by SIGSEGV at 2026-01-02T03:04:05Z" ]
	printf 'signal=KILL' >"$MD/web/exit"
	run -1 pm status web
	[ "${lines[0]}" = "web: stale: killed by SIGKILL at an unknown time" ]
}

@test "every corrupt pid form is stale with a warning naming the file" {
	mkdir -p "$MD/web"
	for form in garbage '' 0 1 -5 99999999999 12abc ' '; do
		printf '%s' "$form" >"$MD/web/pid"
		run -1 --separate-stderr pm status web
		[ "${lines[0]}" = "web: stale: no valid pid recorded" ]
		[[ "$stderr" == "procmgr: warning: "*"$MD/web/pid"* ]]
	done
	# Binary bytes, NULs included.
	printf '\x00\xff\x01\n\x7f' >"$MD/web/pid"
	run -1 --separate-stderr pm status web
	[[ "$stderr" == *"warning"*"$MD/web/pid"* ]]
	# Still valid JSON.
	pm --json status web 2>/dev/null | python3 -m json.tool >/dev/null
}

@test "pants' metadata (pid + process_name, no start_time) reads as running" {
	sleeper --argv0 pantsd-runner
	wait_for 20 grep -q pantsd-runner "/proc/$SPID/cmdline"
	pants=$T/buildroot/.pants.d/pids
	mkdir -p "$pants/$HFP/pantsd"
	printf '%s\n' "$SPID" >"$pants/$HFP/pantsd/pid"
	printf 'pantsd-runner' >"$pants/$HFP/pantsd/process_name"
	printf '4242' >"$pants/$HFP/pantsd/socket"
	run -0 pm --dir "$pants" status pantsd
	[[ "${lines[0]}" =~ ^pantsd:\ running,\ pid\ $SPID,\ up\ [0-9]+s,\ socket\ 4242$ ]]
	[[ "$output" == *"process name  pantsd-runner"* ]]
	# Another argv[0] at that pid is pid reuse: stale.
	printf 'other-name' >"$pants/$HFP/pantsd/process_name"
	run -1 pm --dir "$pants" status pantsd
	[[ "${lines[0]}" == "pantsd: stale: pid $SPID is another process now" ]]
}

@test "--json prints one object with the SPEC's fields" {
	sleeper
	record web "$SPID"
	printf '/tmp/x.sock' >"$MD/web/socket"
	printf 'pm-sleeper\0' >"$MD/web/cmdline"
	run -0 pm --json status web
	echo "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["name"] == "web" and o["state"] == "running", o
assert o["pid"] == '"$SPID"' and o["socket"] == "/tmp/x.sock", o
assert o["started_at"].endswith("Z") and o["exit"] is None, o
assert o["cmdline"] == "pm-sleeper", o
assert o["log"].endswith("/web.log"), o
'
	run -3 pm --json status nothing
	echo "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["state"] == "stopped" and o["pid"] is None, o
'
}

@test "status takes no options and exactly one NAME" {
	run -2 pm status
	run -2 pm status web extra
	run -2 pm status web --bogus
	run -0 pm status --help
	[[ "$output" == *"Usage: procmgr [global options] status NAME"* ]]
}
