#!/usr/bin/env bats
# procmgr stop NAME: the signal chain through a pidfd, metadata removed
# afterwards, exit 6 when the process survives the chain.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "stop ends a daemon that exits on TERM and removes its metadata" {
	sleeper --exit-on-term
	record web "$SPID"
	run -0 --separate-stderr pm stop web
	[ "$stderr" = "stopped web (pid $SPID)" ]
	wait_for 10 gone "$SPID"
	[ ! -e "$MD/web" ]
}

@test "a TERM-ignoring daemon needs KILL after --kill-wait" {
	sleeper --ignore-term
	record web "$SPID"
	t0=$(now_ms)
	run -0 pm stop web --kill-wait 0.5
	elapsed=$(($(now_ms) - t0))
	gone "$SPID"
	[ ! -e "$MD/web" ]
	[ "$elapsed" -ge 400 ] && [ "$elapsed" -lt 10000 ]
}

@test "surviving the whole chain exits 6 and keeps the metadata" {
	sleeper --ignore-term
	record web "$SPID"
	run -6 --separate-stderr pm stop web --signals TERM --kill-wait 0.3
	[[ "$stderr" == "procmgr: "*"$SPID"* ]]
	# ... and says what to do about it.
	[[ "$stderr" == *"add KILL to --signals or raise --kill-wait" ]]
	alive "$SPID"
	[ -e "$MD/web/pid" ]
}

@test "an already dead NAME is success with nothing signalled" {
	mkdir -p "$MD/web"
	printf '%s' "$(dead_pid)" >"$MD/web/pid"
	run -0 --separate-stderr pm stop web
	[ "$stderr" = "web was not running: nothing to stop" ]
	run -0 pm stop never-started
}

@test "a reused pid survives: a live process with another identity" {
	sleeper
	record web "$SPID"
	printf '1 %s' "$BOOT_ID" >"$MD/web/start_time"
	run -0 pm stop web --kill-wait 0.3
	sleep 0.3
	alive "$SPID"
}

@test "corrupt pids are never signalled" {
	mkdir -p "$MD/web"
	for form in 0 1 -1 "-$$" 99999999999 garbage; do
		printf '%s' "$form" >"$MD/web/pid"
		run -0 pm stop web --keep-metadata --kill-wait 0.2
	done
}

@test "--keep-metadata keeps DIR/HOSTFP/NAME after the stop" {
	sleeper
	record web "$SPID"
	run -0 pm stop web --keep-metadata
	wait_for 10 gone "$SPID"
	[ -e "$MD/web/pid" ]
	run -1 pm status web
}

@test "--signals takes names, SIG names and numbers in order" {
	sleeper --ignore-term
	record web "$SPID"
	run -0 pm stop web --signals SIGTERM,INT,9 --kill-wait 0.2
	gone "$SPID"
}

@test "--json prints the status after the stop" {
	sleeper
	record web "$SPID"
	run -0 --separate-stderr pm --json stop web
	echo "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["name"] == "web" and o["state"] == "stopped", o
assert o["stopped"] is True and o["stopped_pid"] == int(sys.argv[1]), o
' "$SPID"
	run -0 pm -q --json stop web
	echo "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["stopped"] is False and o["stopped_pid"] is None, o'
}

@test "a process of another user is never signalled" {
	# Root may signal anyone, so the caller here is nobody and the
	# daemon root's. DIR must be reachable by nobody: not under $T.
	dir=$(mktemp -d /tmp/pm-foreign.XXXXXX)
	echo "$dir" >>"$T/cleanup-dirs"
	chmod 0755 "$dir"
	chown 65534 "$dir"
	sleeper
	mkdir -p "$dir/$HFP/web"
	printf '%s' "$SPID" >"$dir/$HFP/web/pid"
	printf '%s' "$(start_time_of "$SPID")" >"$dir/$HFP/web/start_time"
	run -1 --separate-stderr as_nobody "$PROCMGR" --dir "$dir" stop web --kill-wait 0.2
	[[ "$stderr" == "procmgr: "*"$SPID"* ]]
	alive "$SPID"
	[ -e "$dir/$HFP/web/pid" ]
}

@test "bad numbers and signals are usage errors naming the option" {
	for bad in abc -1 '' 1e2; do
		run -2 pm stop web --kill-wait "$bad"
		[[ "$output" == *"--kill-wait"* ]]
	done
	for bad in FOO TERM,, '' 0 TERM,NOPE; do
		run -2 pm stop web --signals "$bad"
		[[ "$output" == *"--signals"* ]]
	done
	run -2 pm stop web --lock-timeout nope
	run -2 pm stop web --bogus
	run -2 pm stop web extra
	run -2 pm stop
	run -2 pm stop Bad/Name
	[ ! -e "$PROCMGR_DIR" ]
	run -0 pm stop --help
	[[ "$output" == *"--keep-metadata"* ]]
}

@test "root never signals a process of a uid other than DIR's owner" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	# The issue's example: another user's process recorded by pid alone.
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$SLEEPER" \
		</dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	track "$pid"
	runs_sleeper() {
		[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$SLEEPER")" ]
	}
	wait_for 10 runs_sleeper
	run -0 pm set web pid "$pid"
	run -1 --separate-stderr pm stop web --kill-wait 0.2
	[[ "$stderr" == "procmgr: "*"$pid"*"uid 65534"* ]]
	alive "$pid"
	[ -e "$MD/web/pid" ]
}

@test "a pid key with a NUL and garbage after the digits is corrupt" {
	sleeper
	mkdir -p "$MD/web"
	printf '%s\0garbage' "$SPID" >"$MD/web/pid"
	run -1 --separate-stderr pm status web
	[[ "$stderr" == *"corrupt pid file $MD/web/pid"* ]]
	run -0 pm stop web --kill-wait 0.2
	alive "$SPID"
}

@test "a pid reused within the daemon's start tick is not the daemon" {
	[ "$(id -u)" -eq 0 ] || skip "a private pid namespace needs root"
	command -v unshare >/dev/null || skip "no unshare"
	# pid-reuse is pid 1 of its own pid namespace and steers the reuse
	# with ns_last_pid; it records the first process (start_time and
	# pidfd_ino) and checks the second is stale and not signalled.
	run timeout -k 5 120 unshare -pf --mount-proc "$HELPERS/pid-reuse" \
		"$T/pm" 3>&-
	[ "$status" -ne 77 ] || skip "$output"
	echo "$output"
	[ "$status" -eq 0 ]
}
