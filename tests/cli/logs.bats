#!/usr/bin/env bats
# procmgr logs: the tail of a daemon's log, and following it until the
# daemon ends.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "logs -n 5 prints the last 5 lines" {
	pm start web -- "$DAEMON" lines=30 pause
	wait_for 10 grep -qx 'line 30' "$MD/web.log"
	run --separate-stderr pm logs web -n 5
	[ "$status" -eq 0 ]
	[ "$output" = "$(tail -n 5 "$MD/web.log")" ]
	[ "${#lines[@]}" -eq 5 ] && [[ "$output" == *"line 30"* ]]
}

@test "logs prints the whole short log by default" {
	pm start web -- "$DAEMON" lines=3 pause
	wait_for 10 grep -qx 'line 3' "$MD/web.log"
	run --separate-stderr pm logs web
	[ "$status" -eq 0 ]
	[ "$(daemon_lines <<<"$output")" = "$(printf 'line %s\n' 1 2 3)" ]
	# procmgr's own story comes with it (SPEC §6)
	[[ "${lines[0]}" == "procmgr: "*" started pid "* ]]
}

@test "logs still shows the log after stop and purge" {
	pm start web -- "$DAEMON" say=post-mortem pause
	wait_for 10 grep -qx post-mortem "$MD/web.log"
	pm stop web
	pm purge web
	run pm logs web -n 20
	[ "$status" -eq 0 ]
	[ "$(daemon_lines <<<"$output")" = post-mortem ]
	# who stopped it, and how it ended
	[[ "$output" == *"stop requested by pid "*"procmgr"*"stop web"* ]]
	[[ "$output" == *"sent SIGTERM to pid "* ]]
}

@test "logs follows a --log file" {
	pm start web --log "$T/elsewhere.log" -- "$DAEMON" say=custom pause
	wait_for 10 grep -qx custom "$T/elsewhere.log"
	run pm logs web -n 5
	[ "$(daemon_lines <<<"$output")" = custom ]
}

@test "logs -f follows new lines and ends when the daemon is stopped" {
	pm start web -- "$DAEMON" say=before sleep=1.5 say=after pause
	timeout 20 "$PROCMGR" --dir "$D" logs web -f >"$T/followed" 2>&1 3>&- &
	follower=$!
	note_pid "$follower"
	# The line written after logs -f began shows up.
	wait_for 15 grep -qx after "$T/followed"
	grep -qx before "$T/followed"
	t0=$(now_ms)
	pm stop web
	rc=0
	wait "$follower" || rc=$?
	echo "follower exit=$rc after $(($(now_ms) - t0))ms"
	# Exited on its own (timeout would give 124), soon after the stop.
	[ "$rc" -eq 0 ]
	[ $(($(now_ms) - t0)) -lt 10000 ]
}

@test "logs -f ends when the daemon exits by itself" {
	pm start web -- "$DAEMON" say=short-lived sleep=1 exit=0
	run timeout 20 "$PROCMGR" --dir "$D" logs web -f
	[ "$status" -eq 0 ]
	[[ "$output" == *short-lived* ]]
}

@test "logs of a NAME without a log fails with a message" {
	run --separate-stderr pm logs nothing-here
	[ "$status" -ne 0 ]
	[[ "$stderr" == "procmgr: "* ]]
}

@test "logs of a FIFO or a symlink fails at once instead of hanging" {
	mkdir -p "$MD/web"
	mkfifo "$T/fifo"
	printf '%s' "$T/fifo" >"$MD/web/log"
	for follow in "" -f; do
		run -1 --separate-stderr timeout -k 5 20 "$PROCMGR" --dir "$D" \
			logs web $follow 3>&-
		[[ "$stderr" == "procmgr: "*"$T/fifo"*"not a regular file"* ]]
		# logs takes no --log: the log's path came from its start
		[[ "$stderr" != *"(--log)"* ]]
	done
	rm "$MD/web/log"
	echo secret >"$T/target"
	ln -s "$T/target" "$MD/web.log"
	run -1 --separate-stderr pm logs web
	[[ "$stderr" == "procmgr: "*"$MD/web.log"*"symlink"* ]]
	[[ "$stderr" != *"(--log)"* ]]
	[[ "$output" != *secret* ]]
}

@test "logs -n 1, with and without -f, prints a long last line whole" {
	mkdir -p "$MD/web"
	{ echo first; head -c 2000000 /dev/zero | tr '\0' x; echo; } \
		>"$MD/web.log"
	run -0 pm logs web -f -n 1
	[ "${#output}" -eq 2000000 ]
	[[ "$output" != *first* ]]
	run -0 pm logs web -n 1
	[ "${#output}" -eq 2000000 ]
	# and the last two lines are both lines
	run -0 pm logs web -f -n 2
	[ "${#output}" -eq 2000006 ]
	[[ "$output" == first$'\n'x* ]]
}

@test "a stop whose log became a FIFO stops, writing no event there" {
	for reader in none held; do
		pid=$(pm start web -- "$DAEMON" pause)
		log=$(cat "$MD/web/log")
		rm "$log"
		mkfifo "$log"
		# held open (read-write never blocks), the FIFO opens: it
		# is refused all the same
		if [ "$reader" = held ]; then
			sleep 1000 7<>"$log" </dev/null >/dev/null 2>&1 3>&- &
			note_pid $!
			wait_for 10 test -e "/proc/$!/fd/7"
		fi
		run -0 --separate-stderr pm stop web
		[ "$stderr" = "stopped web (pid $pid)" ]
		gone "$pid"
		rm "$log"
	done
}
