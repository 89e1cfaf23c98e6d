#!/usr/bin/env bats
# procmgr ensure (SPEC §3 Fingerprint): keep a daemon started with the same
# fingerprint, restart one whose fingerprint changed and say why, and start
# exactly one daemon however many callers race.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

# ensure_kept PID ARGS...: ensure keeps PID: same pid printed, no restart.
ensure_kept() {
	local pid=$1
	shift
	run --separate-stderr pm ensure web "$@"
	echo "status=$status out=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$pid" ]
	[[ "$stderr" != *restarting* ]]
	alive "$pid"
}

# ensure_restarts OLD REGEX ARGS...: ensure restarts OLD with exactly one
# stderr line "restarting web: <reason>", the reason matching REGEX; sets
# $new to the new pid.
ensure_restarts() {
	local old=$1 re=$2
	shift 2
	run --separate-stderr pm ensure web "$@"
	echo "status=$status out=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	assert_pid_output
	new=$output
	[ "$new" != "$old" ]
	alive "$new"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "restarting web: "* ]]
	[[ "${stderr#restarting web: }" =~ $re ]]
	wait_for 10 gone "$old"
	[ "$(cat "$MD/web/pid")" = "$new" ]
}

@test "ensure starts a daemon that is not running and prints its pid" {
	run --separate-stderr pm ensure web -- "$DAEMON" pause
	echo "stderr=$stderr"
	[ "$status" -eq 0 ]
	assert_pid_output
	alive "$output"
	# Starting from nothing says so, without "restarting".
	[ "$stderr" = "starting web" ]
}

@test "ensure with the same fingerprint keeps the daemon" {
	pid=$(pm ensure web -- "$DAEMON" pause)
	fp=$(cat "$MD/web/fingerprint")
	ensure_kept "$pid" -- "$DAEMON" pause
	ensure_kept "$pid" -- "$DAEMON" pause
	[ "$(cat "$MD/web/fingerprint")" = "$fp" ]
}

@test "ensure keeps a daemon that start started with the same options" {
	pid=$(pm start web -- "$DAEMON" pause)
	ensure_kept "$pid" -- "$DAEMON" pause
}

@test "changed argv restarts, naming argv" {
	pid=$(pm ensure web -- "$DAEMON" pause)
	ensure_restarts "$pid" argv -- "$DAEMON" say=v2 pause
	ensure_kept "$new" -- "$DAEMON" say=v2 pause
}

@test "argv fields are length-prefixed: ('ab','c') differs from ('a','bc')" {
	# sh ignores the arguments after the script's $0: only argv differs.
	pid=$(pm ensure web -- sh -c 'exec sleep 300' ab c)
	ensure_restarts "$pid" argv -- sh -c 'exec sleep 300' a bc
}

@test "changed --cwd restarts, naming cwd" {
	mkdir "$T/a" "$T/b"
	pid=$(pm ensure web --cwd "$T/a" -- "$DAEMON" pause)
	ensure_kept "$pid" --cwd "$T/a" -- "$DAEMON" pause
	ensure_restarts "$pid" cwd --cwd "$T/b" -- "$DAEMON" pause
	[ "$(readlink "/proc/$new/cwd")" = "$T/b" ]
}

@test "changed --fingerprint-env value restarts, naming the variable" {
	pid=$(MODE=one pm ensure web --fingerprint-env MODE -- "$DAEMON" pause)
	MODE=one ensure_kept "$pid" --fingerprint-env MODE -- "$DAEMON" pause
	MODE=secret-e5-two ensure_restarts "$pid" 'env MODE' --fingerprint-env MODE \
		-- "$DAEMON" pause
	# Only a hash of the value reaches the disk.
	! grep -rq secret-e5-two "$MD/web" || false
	grep -qE '^env:MODE [0-9a-f]{64}$' "$MD/web/fingerprint_inputs"
}

@test "changed --fingerprint-file content restarts, naming the file" {
	echo one >"$T/config"
	pid=$(pm ensure web --fingerprint-file "$T/config" -- "$DAEMON" pause)
	ensure_kept "$pid" --fingerprint-file "$T/config" -- "$DAEMON" pause
	echo two >"$T/config"
	ensure_restarts "$pid" "file .*config" --fingerprint-file "$T/config" \
		-- "$DAEMON" pause
	grep -qE "^file:.*config [0-9a-f]{64}$" "$MD/web/fingerprint_inputs"
}

@test "a touched executable restarts, naming the executable" {
	mkdir "$T/bin"
	cp "$DAEMON" "$T/bin/d"
	pid=$(pm ensure web -- "$T/bin/d" pause)
	ensure_kept "$pid" -- "$T/bin/d" pause
	touch -d '2001-02-03 04:05:06' "$T/bin/d"
	ensure_restarts "$pid" 'exe' -- "$T/bin/d" pause
}

@test "a replaced executable restarts, naming the executable" {
	mkdir "$T/bin"
	cp "$DAEMON" "$T/bin/d"
	pid=$(pm ensure web -- "$T/bin/d" pause)
	# A new build: new inode and size, same path.
	cp "$DAEMON" "$T/bin/d.new"
	printf 'trailing bytes' >>"$T/bin/d.new"
	mv "$T/bin/d.new" "$T/bin/d"
	ensure_restarts "$pid" 'exe' -- "$T/bin/d" pause
}

@test "a stale pid is started again, saying 'stale pid'" {
	pid=$(pm start web -- "$DAEMON" pause)
	crash web
	run --separate-stderr pm --json ensure web -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	# it was not running: a start, not a restart
	[ "$stderr" = "starting web: stale pid $pid" ]
	python3 -c 'import json, sys; d = json.load(sys.stdin)
assert d["action"] == "started", d
assert d["reason"] == "stale pid '"$pid"'", d' <<<"$output"
}

@test "--fingerprint STR replaces the computed fingerprint" {
	pid=$(pm ensure web --fingerprint v1 -- "$DAEMON" pause)
	[ "$(cat "$MD/web/fingerprint")" = v1 ]
	# Same explicit fingerprint: kept even though argv differs.
	ensure_kept "$pid" --fingerprint v1 -- "$DAEMON" say=other pause
	ensure_restarts "$pid" . --fingerprint v2 -- "$DAEMON" pause
	[ "$(cat "$MD/web/fingerprint")" = v2 ]
}

@test "ensure after stop starts anew" {
	pid=$(pm ensure web -- "$DAEMON" pause)
	pm stop web
	run --separate-stderr pm ensure web -- "$DAEMON" pause
	[ "$status" -eq 0 ]
	[ "$output" != "$pid" ]
	alive "$output"
	[ "$stderr" = "starting web" ]
}

# Live fake-daemons of this test.
count_daemons() {
	local p n=0
	for p in $(lc_marked_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = fake-daemon ] &&
			alive "$p" && n=$((n + 1))
	done
	echo "$n"
}

@test "32 concurrent ensures start exactly one daemon, 20 rounds" {
	for round in $(seq 20); do
		rm -f "$T"/out.* "$T"/rc.*
		for i in $(seq 32); do
			( pm ensure web -- "$DAEMON" pause >"$T/out.$i" \
				2>"$T/err.$i"; echo $? >"$T/rc.$i" ) &
		done
		wait
		[ "$(cat "$T"/rc.* | sort -u)" = 0 ] || {
			echo "round $round: exit codes $(cat "$T"/rc.*)"
			cat "$T"/err.*
			false
		}
		pids=$(cat "$T"/out.* | sort -u)
		[ "$(wc -l <<<"$pids")" -eq 1 ] || {
			echo "round $round: pids $pids"
			false
		}
		alive "$pids"
		[ "$(count_daemons)" -eq 1 ]
		# None of the 32 restarted what another had started.
		! grep -h restarting "$T"/err.* | grep -v 'not running' || false
		pm stop web
		wait_for 10 gone "$pids"
	done
}

@test "--lock-timeout while another holds the lock: exit 4, about the lock" {
	run -0 pm start web -- "$DAEMON" pause
	pid=$output
	"$PROCMGR" --dir "$D" lock web -- sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$D/.lock.web.lock_message"
	for cmd in ensure restart start; do
		run -4 --separate-stderr pm $cmd web --lock-timeout 0.3 \
			-- "$DAEMON" say=changed pause
		[ -z "$output" ]
		[[ "$stderr" == *"timed out waiting for lock: "*".lock.web is held by: "* ]]
		[[ "$stderr" != *ready* ]]
	done
	run -4 pm --json ensure web --lock-timeout 0.3 -- "$DAEMON" say=x pause
	[[ "$output" == *'"error": {"exit": 4, "message": "timed out waiting for lock: '* ]]
	alive "$pid"
	run -0 pm get web pid
	[ "$output" = "$pid" ]
}

# Waiters of a start under way wait for the lock shared, together: the
# wait line and --lock-timeout hold there too.
@test "ensure of a kept daemon waits for a held lock, says so, keeps it" {
	run -0 pm start web -- "$DAEMON" pause
	pid=$output
	"$PROCMGR" --dir "$D" lock web -- sleep 1 </dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$D/.lock.web.lock_message"
	run -0 --separate-stderr pm ensure web --lock-timeout 20 -- "$DAEMON" pause
	[ "$output" = "$pid" ]
	[[ "$stderr" == *"PID "*" waiting for a file lock ($D/.lock.web) held by: "*"sleep 1"* ]]
	[[ "$stderr" != *restarting* ]]
	"$PROCMGR" --dir "$D" lock web -- sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$D/.lock.web.lock_message"
	run -4 --separate-stderr pm ensure web --lock-timeout 0.3 -- "$DAEMON" pause
	[ -z "$output" ]
	[[ "$stderr" == *"waiting for a file lock ($D/.lock.web) held by: "*"sleep 30"* ]]
	[[ "$stderr" == *"timed out waiting for lock: "*".lock.web is held by: "* ]]
}
