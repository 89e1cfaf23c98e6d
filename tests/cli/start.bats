#!/usr/bin/env bats
# procmgr start: what the spawned daemon gets (SPEC §3 Spawn) and what is
# recorded by the time start returns.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "start prints the daemon's pid alone on stdout and exits 0" {
	run --separate-stderr pm start web -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	assert_pid_output
	[ "${#lines[@]}" -eq 1 ]
	alive "$output"
	[ "$(cat "$MD/web/pid")" = "$output" ]
	# The pid is the daemon, not the monitor or a shell.
	[ "$(readlink "/proc/$output/exe")" = "$(readlink -f "$DAEMON")" ]
}

@test "pid=\$(procmgr start ...) works in a command substitution" {
	pid=$(pm start web -- "$DAEMON" pause)
	alive "$pid"
	run pm status web
	[ "$status" -eq 0 ]
	[[ "$output" == *"$pid"* ]]
}

@test "start of a running NAME exits 5 and leaves the daemon alone" {
	pid=$(pm start web -- "$DAEMON" pause)
	run -5 --separate-stderr pm start web -- "$DAEMON" pause
	[ -z "$output" ]
	[[ "$stderr" == "procmgr: "*"$pid"*"; 'procmgr restart web' replaces it"* ]]
	alive "$pid"
	[ "$(cat "$MD/web/pid")" = "$pid" ]
	# The name is case-insensitive: WEB is the same daemon.
	run -5 pm start WEB -- "$DAEMON" pause
	[ "$(cat "$MD/web/pid")" = "$pid" ]
}

@test "the daemon runs in a new session under its monitor" {
	pid=$(pm start web -- "$DAEMON" pause)
	sess=$(ps -o sess= -p "$pid" | tr -d ' ')
	[ -n "$sess" ]
	[ "$sess" != "$(ps -o sess= -p $$ | tr -d ' ')" ]
	# SPEC: the monitor is the daemon's parent, in the daemon's session.
	ppid=$(ps -o ppid= -p "$pid" | tr -d ' ')
	[ "$(ps -o sess= -p "$ppid" | tr -d ' ')" = "$sess" ]
	# No controlling terminal can reach it.
	[ "$(ps -o tty= -p "$pid" | tr -d ' ')" = "?" ]
}

@test "cwd is the caller's by default and --cwd when given" {
	mkdir "$T/here" "$T/there"
	pid=$(cd "$T/here" && pm start a -- "$DAEMON" pause)
	[ "$(readlink "/proc/$pid/cwd")" = "$T/here" ]
	pid=$(pm start b --cwd "$T/there" -- "$DAEMON" pause)
	[ "$(readlink "/proc/$pid/cwd")" = "$T/there" ]
}

@test "stdin is /dev/null; stdout and stderr go to DIR/HOSTFP/NAME.log" {
	pid=$(pm start web -- "$DAEMON" say=to-stdout err=to-stderr pause)
	[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ]
	log=$MD/web.log
	[ "$(readlink "/proc/$pid/fd/1")" = "$log" ]
	[ "$(readlink "/proc/$pid/fd/2")" = "$log" ]
	wait_for 10 grep -q to-stderr "$log"
	grep -qx to-stdout "$log"
	grep -qx to-stderr "$log"
	# The log sits beside the metadata directory, not inside it.
	[ ! -e "$MD/web/web.log" ]
	[ "$(cat "$MD/web/log")" = "$log" ]
}

@test "the daemon gets only fds 0 1 2 and umask 022" {
	# A restrictive umask and extra open fds in the caller must not leak.
	pid=$(umask 077; exec 7>"$T/leak" 8<"$T/leak"; pm start web -- sleep 300)
	alive "$pid"
	[ "$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')" = "0 1 2 " ]
	grep -qx $'Umask:\t0022' "/proc/$pid/status"
}

@test "--env adds variables; PROCMGR_NAME and PROCMGR_DIR are set" {
	pid=$(FROM_CALLER=yes pm start Web --env GREETING=hello \
		--env 'SPACED=a b=c' -- "$DAEMON" pause)
	env=$(tr '\0' '\n' <"/proc/$pid/environ")
	grep -qx GREETING=hello <<<"$env"
	grep -qx 'SPACED=a b=c' <<<"$env"
	grep -qx FROM_CALLER=yes <<<"$env"
	grep -qx PROCMGR_NAME=web <<<"$env"
	grep -qx "PROCMGR_DIR=$D" <<<"$env"
}

@test "metadata is complete when start returns" {
	pid=$(cd "$T" && pm start web -- "$DAEMON" pause)
	m=$MD/web
	[ "$(cat "$m/pid")" = "$pid" ]
	# start_time: field 22 of /proc/PID/stat and the boot id.
	st=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$pid/stat")
	[ "$(cat "$m/start_time")" = "$st $(cat /proc/sys/kernel/random/boot_id)" ]
	[[ "$(cat "$m/fingerprint")" =~ ^[0-9a-f]{64}$ ]]
	grep -qE '^argv [0-9a-f]{64}$' "$m/fingerprint_inputs"
	grep -qE '^cwd [0-9a-f]{64}$' "$m/fingerprint_inputs"
	grep -qE '^exe [0-9a-f]{64}$' "$m/fingerprint_inputs"
	cmp "$m/cmdline" "/proc/$pid/cmdline"
	[ "$(cat "$m/log")" = "$MD/web.log" ]
	# Values carry no trailing newline.
	[ "$(tail -c 1 "$m/pid" | od -An -c | tr -d ' ')" != '\n' ]
	# No process_name: an exec inside the daemon would break it.
	[ ! -e "$m/process_name" ]
}

@test "--process-name is recorded when asked for" {
	pid=$(pm start web --process-name fake-daemon -- "$DAEMON" pause)
	[ "$(cat "$MD/web/process_name")" = fake-daemon ]
	run pm status web
	[ "$status" -eq 0 ]
}

@test "a daemon that execs after start keeps running" {
	pid=$(pm start web -- sh -c 'sleep 0.2; exec sleep 300')
	# Same process (same pid) after the exec, and still running.
	wait_for 20 grep -qx sleep "/proc/$pid/comm"
	sleep 0.5
	alive "$pid"
	run pm status web
	[ "$status" -eq 0 ]
	[[ "$output" == *running* ]]
}

@test "the log is appended to and survives stop and purge" {
	pm start web -- "$DAEMON" say=first pause
	wait_for 10 grep -qx first "$MD/web.log"
	pm stop web
	[ ! -e "$MD/web/pid" ]
	grep -qx first "$MD/web.log"
	pm start web -- "$DAEMON" say=second pause
	wait_for 10 grep -qx second "$MD/web.log"
	grep -qx first "$MD/web.log"
	pm stop web --keep-metadata
	pm purge web
	[ ! -e "$MD/web" ]
	[ "$(daemon_lines <"$MD/web.log")" = "$(printf 'first\nsecond')" ]
}

@test "a log over --log-max is rotated to .1 at start" {
	mkdir -p "$MD"
	head -c 300 /dev/zero | tr '\0' x >"$MD/web.log"
	pm start web --log-max 100 -- "$DAEMON" say=fresh pause
	[ "$(wc -c <"$MD/web.log.1")" -eq 300 ]
	wait_for 10 grep -qx fresh "$MD/web.log"
	[ "$(daemon_lines <"$MD/web.log")" = fresh ]
	pm stop web
	# Under the limit (procmgr's own lines count too): appended.
	pm start web --log-max 100000 -- "$DAEMON" say=again pause
	wait_for 10 grep -qx again "$MD/web.log"
	grep -qx fresh "$MD/web.log"
	[ "$(wc -c <"$MD/web.log.1")" -eq 300 ]
}

@test "--log puts the log elsewhere and records it" {
	pid=$(pm start web --log "$T/custom.log" -- "$DAEMON" say=here pause)
	wait_for 10 grep -qx here "$T/custom.log"
	[ "$(cat "$MD/web/log")" = "$T/custom.log" ]
	[ ! -e "$MD/web.log" ]
}

@test "a log that is not a regular file is refused at once, lock released" {
	mkfifo "$T/fifo"
	t0=$(now_ms)
	run -1 --separate-stderr timeout -k 5 20 "$PROCMGR" --dir "$D" start \
		web --log "$T/fifo" -- "$DAEMON" pause 3>&-
	[ "$(($(now_ms) - t0))" -lt 10000 ]
	[[ "$stderr" == "procmgr: "*"$T/fifo"*"not a regular file"* ]]
	[ ! -e "$MD/web/pid" ]
	# the default log path, a FIFO too
	mkdir -p "$MD"
	mkfifo "$MD/web.log"
	run -1 --separate-stderr timeout -k 5 20 "$PROCMGR" --dir "$D" start \
		web -- "$DAEMON" pause 3>&-
	[[ "$stderr" == "procmgr: "*"$MD/web.log"*"not a regular file"* ]]
	# the lock was let go: a lock with no wait gets it
	run -0 pm lock web --lock-timeout 0 -- true
}

@test "the log is never opened through a symlink" {
	mkdir -p "$MD"
	echo precious >"$T/target"
	ln -s "$T/target" "$MD/web.log"
	run -1 --separate-stderr pm start web -- "$DAEMON" say=leak pause
	[[ "$stderr" == "procmgr: "*"$MD/web.log"*"symlink"* ]]
	ln -s "$T/target" "$T/link.log"
	run -1 --separate-stderr pm start web --log "$T/link.log" -- \
		"$DAEMON" say=leak pause
	[[ "$stderr" == "procmgr: "*"$T/link.log"*"symlink"* ]]
	[ "$(cat "$T/target")" = precious ]
	# nor rotated through one
	head -c 300 /dev/zero >"$T/big"
	ln -s "$T/big" "$T/big.log"
	run -1 pm start web --log "$T/big.log" --log-max 100 -- "$DAEMON" pause
	[ -L "$T/big.log" ] && [ ! -e "$T/big.log.1" ]
}
