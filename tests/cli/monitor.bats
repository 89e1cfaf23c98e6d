#!/usr/bin/env bats
# procmgr-monitor (SPEC §6): its own program, "procmgr-monitor DIR NAME" in
# ps, the daemon's parent and a child subreaper, gone with the daemon.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "ps shows procmgr-monitor DIR NAME as the daemon's parent" {
	pid=$(pm start web -- "$DAEMON" pause)
	mon=$(mon_of web)
	note_pid "$mon"
	[ "$(ps -o args= -p "$mon")" = "procmgr-monitor $D web" ]
	# its own program, not a copy of procmgr
	[ "$(basename "$(readlink "/proc/$mon/exe")")" = procmgr-monitor ]
	parent_is "$pid" "$mon"
	# the key names it with its start time, so a reused pid never passes
	[ "$(cut -d' ' -f2- "$MD/web/monitor")" = "$(start_time_of "$mon")" ]
	run -0 pm status web
	[[ "$output" == *"  monitor       $mon"* ]]
}

@test "the daemon gets no fd of the monitor's" {
	pid=$(pm start web -- "$DAEMON" pause)
	[ "$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')" = "0 1 2 " ]
}

@test "the monitor stays small" {
	# AddressSanitizer's shadow memory alone is several MiB
	! grep -q __asan_init "$PROCMGR_MONITOR" 2>/dev/null ||
		skip "a sanitized monitor carries ASan's runtime"
	pm start web -- "$DAEMON" pause
	mon=$(mon_of web)
	# AddressSanitizer's shadow memory and allocator dwarf the monitor's
	! grep -q libasan "/proc/$mon/maps" ||
		skip "an AddressSanitizer build measures the sanitizer's memory"
	kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$mon/status")
	echo "monitor RssAnon: $kb kB"
	[ "$kb" -le 1024 ]
}

@test "a child the daemon orphans is reparented to the monitor" {
	# A subshell starts a grandchild and exits: without a subreaper the
	# grandchild would go to init.
	pid=$(pm start web -- sh -c '( "$0" pause & echo $! >"$1" ); exec "$0" pause' \
		"$DAEMON" "$T/orphan")
	wait_for 10 test -s "$T/orphan"
	orphan=$(pids_in "$T/orphan")
	mon=$(mon_of web)
	wait_for 10 parent_is "$orphan" "$mon"
	parent_is "$pid" "$mon"
	# It is the daemon's tree: stop takes it too.
	run -0 pm stop web --kill-wait 2
	gone "$orphan"
}

@test "the monitor ends with the daemon" {
	pid=$(pm start web -- "$DAEMON" pause)
	mon=$(mon_of web)
	note_pid "$mon"
	run -0 pm stop web
	wait_for 10 gone "$mon"

	# ... and when the daemon ends by itself
	pid=$(pm start web -- "$DAEMON" pause)
	mon=$(mon_of web)
	note_pid "$mon"
	kill -TERM "$pid"
	wait_for 10 gone "$mon"
	key_has web exit '^signal=TERM at='
}

@test "each NAME has its own monitor" {
	a=$(pm start web -- "$DAEMON" pause)
	b=$(pm start api -- "$DAEMON" pause)
	[ "$(mon_of web)" != "$(mon_of api)" ]
	[ "$(ps -o args= -p "$(mon_of api)")" = "procmgr-monitor $D api" ]
	parent_is "$b" "$(mon_of api)"
	parent_is "$a" "$(mon_of web)"
}

@test "status --json has the supervision fields" {
	pid=$(pm start web -- "$DAEMON" pause)
	mon=$(mon_of web)
	run -0 pm --json status web
	[ "$(json 'd["monitor"]' <<<"$output")" = "$mon" ]
	[ "$(json 'd["ready"]' <<<"$output")" = true ]
	[ "$(json 'd["restarts"]' <<<"$output")" = 0 ]
	[ "$(json 'd["status_text"]' <<<"$output")" = null ]
	[ "$(json 'd["exit"]' <<<"$output")" = null ]
	# and a NAME that ended: exit has a reason (null when it ended by
	# itself), the monitor is gone
	kill -TERM "$pid"
	wait_for 10 gone "$mon"
	run -1 pm --json status web
	[ "$(json 'd["exit"]["signal"]' <<<"$output")" = '"TERM"' ]
	[ "$(json 'd["exit"]["reason"]' <<<"$output")" = null ]
	[ "$(json 'd["monitor"]' <<<"$output")" = null ]
}

@test "stop returns once the monitor is gone, leaving it nothing to lock" {
	# Otherwise the old monitor could take the lock after the stop (to
	# record an end it took for a crash), and the next command would
	# wait for it. (Not $i: bats' run sets it.)
	local n
	for n in $(seq 10); do
		pm restart web -- "$DAEMON" pause >/dev/null
		mon=$(mon_of web)
		run -5 --separate-stderr pm start web -- "$DAEMON" pause
		[[ "$stderr" != *"waiting for a file lock"* ]]
		run -0 pm stop web
		gone "$mon"
	done
}

@test "the monitor is found beside procmgr, or where PROCMGR_MONITOR says" {
	# An uninstalled build finds its own, beside the program.
	env -u PROCMGR_MONITOR "$PROCMGR" --dir "$D" start web -- \
		"$DAEMON" pause 3>&- >/dev/null
	mon=$(mon_of web)
	[ "$(readlink "/proc/$mon/exe")" = "$(dirname "$PROCMGR")/procmgr-monitor" ]
	# A wrong PROCMGR_MONITOR is an error that says what to do, and
	# nothing runs.
	run -1 --separate-stderr env PROCMGR_MONITOR="$T/none/procmgr-monitor" \
		"$PROCMGR" --dir "$D" start api -- "$DAEMON" pause
	[[ "$stderr" == "procmgr: cannot run the monitor $T/none/procmgr-monitor: No such file or directory; "*PROCMGR_MONITOR* ]]
	[ ! -e "$MD/api/pid" ]
}

@test "procmgr-monitor run by hand says what it is for, and runs nothing" {
	mon=${PROCMGR_MONITOR:-$(dirname "$PROCMGR")/procmgr-monitor}
	# bad arguments, and good ones without the job procmgr passes on fd 3
	for args in "" "$D" "relative web" "$D web"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr "$mon" $args 3>&- 4>&-
		[[ "$stderr" == "usage: procmgr-monitor DIR NAME"*"not by hand."* ]]
	done
	[ ! -e "$D" ]
}

@test "a monitor told to stop (TERM, INT, HUP) stops the daemon first" {
	for sig in TERM INT HUP; do
		pid=$(pm start web -- "$DAEMON" pause)
		mon=$(mon_of web)
		note_pid "$mon"
		kill -"$sig" "$mon"
		wait_for 10 gone "$pid"
		wait_for 10 gone "$mon"
		has_event "^procmgr-monitor got SIG$sig: stopping the daemon$"
		key_has web exit '^signal=TERM at='
		run -0 pm stop web
	done
}

@test "a monitor handed an empty or corrupt job starts nothing" {
	mon=${PROCMGR_MONITOR:-$(dirname "$PROCMGR")/procmgr-monitor}
	: >"$T/empty"
	printf 'procmgr-job\0garbage' >"$T/garbage"
	for job in empty garbage; do
		# fd 3 is the job (not bats's own fd 3, which would hang it)
		run -0 "$mon" "$D" web 3<"$T/$job" 4<>"$T/answer"
		wait_for 10 eval "! pgrep -f 'procmgr-monitor $D web' >/dev/null"
		[ ! -e "$D" ]
	done
}

@test "a daemon that dies, its metadata removed, while its start waits: start says so" {
	pm start web --ready notify -- "$DAEMON" pause >"$T/out" 2>"$T/err" &
	starter=$!
	wait_for 20 test -e "$MD/web/pid"	# written last
	pid=$(cat "$MD/web/pid")
	rm -rf "$MD/web"
	kill -KILL "$pid"
	rc=0
	wait "$starter" || rc=$?
	cat "$T/err"
	# a death before ready (exit 7), with the log's story after it
	[ "$rc" -eq 7 ]
	[ "$(head -n 1 "$T/err")" = "procmgr: web (pid $pid) ended while its metadata was removed" ]
	grep -qx "procmgr: [0-9TZ:-]* pid $pid was killed by SIGKILL" "$T/err"
	[ ! -s "$T/out" ]
	[ ! -e "$MD/web" ]
}
