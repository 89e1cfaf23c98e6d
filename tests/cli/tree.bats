#!/usr/bin/env bats
# The whole tree (SPEC §6): stop signals the daemon, then every process
# left in its tree, along the same chain, and returns only when all are
# gone; --kill-mode process signals the daemon alone. A server that
# daemonizes by forking is followed (systemd's Type=forking), or named by
# --pid-file.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

SIGTERM=15

# A daemon (exits on TERM) whose N children each run "fake-daemon ARGS...",
# their pids appended to $T/kids.
daemon_with_children() {
	local n=$1
	shift
	pm start web "${START_OPTS[@]}" -- sh -c \
		'n=$1; shift; for i in $(seq "$n"); do "$0" "$@" & echo $! >>"$T_KIDS"; done; exec "$0" pause' \
		"$DAEMON" "$n" "$@"
}

@test "stop takes 3 TERM-ignoring children with the daemon" {
	export T_KIDS=$T/kids
	START_OPTS=()
	pid=$(daemon_with_children 3 ignore=TERM pause)
	wait_for 10 lines_in "$T/kids" 3
	kids=$(pids_in "$T/kids")
	for k in $kids; do
		wait_for 10 ignores "$k" $SIGTERM
		parent_is "$k" "$pid"
	done
	run -0 --separate-stderr pm stop web --kill-wait 0.5
	[ "$stderr" = "stopped web (pid $pid)" ]
	# stop returned: every one is gone already (a zombie is not alive)
	gone "$pid"
	for k in $kids; do gone "$k"; done
	[ ! -e "$MD/web" ]
	# The log tells the chain: TERM to the daemon, then TERM and KILL to
	# the rest, naming each.
	has_event "^sent SIGTERM to pid $pid$"
	has_event "^sent SIGTERM to the rest of web's tree: "
	# (a second sweep may name a straggler on a line of its own)
	line=$(events | sed -n "s/^sent SIGKILL to the rest of web's tree: //p" |
		tr '\n' ' ')
	for k in $kids; do [[ " $line " == *" $k "* ]]; done
}

@test "stop takes a grandchild whose parent already exited" {
	pid=$(pm start web -- sh -c '( "$0" ignore=TERM pause & echo $! >"$1" ); exec "$0" pause' \
		"$DAEMON" "$T/orphan")
	wait_for 10 test -s "$T/orphan"
	orphan=$(pids_in "$T/orphan")
	wait_for 10 ignores "$orphan" $SIGTERM
	run -0 pm stop web --kill-wait 0.5
	gone "$pid"
	gone "$orphan"
}

@test "the rest of the tree gets the stop's own chain, not the start's" {
	# stop --signals TERM: a child that ignores TERM survives, and stop
	# says so (exit 6); nobody sends it KILL behind the stopper's back.
	export T_KIDS=$T/kids
	START_OPTS=()
	pid=$(daemon_with_children 1 ignore=TERM pause)
	wait_for 10 lines_in "$T/kids" 1
	kid=$(pids_in "$T/kids")
	wait_for 10 ignores "$kid" $SIGTERM
	run -6 --separate-stderr pm stop web --signals TERM --kill-wait 0.5
	[[ "$stderr" == *"survived SIGTERM: $kid"* ]]
	gone "$pid"
	sleep 1
	alive "$kid"
	! has_event '^sent SIGKILL' || false
	# a second stop, with KILL, finishes the job
	run -0 pm stop web --kill-wait 0.5
	gone "$kid"
}

@test "the rest of the tree gets the stop's --kill-wait" {
	# TERM, then 3 s before KILL: the child is still there after 2 s,
	# though the start named a kill wait of 0.5 s for the monitor's own
	# stops.
	export T_KIDS=$T/kids
	START_OPTS=(--kill-wait 0.5)
	pid=$(daemon_with_children 1 ignore=TERM pause)
	wait_for 10 lines_in "$T/kids" 1
	kid=$(pids_in "$T/kids")
	wait_for 10 ignores "$kid" $SIGTERM
	"$PROCMGR" --dir "$D" stop web --kill-wait 3 </dev/null >/dev/null 2>&1 3>&- &
	stopper=$!
	note_pid "$stopper"
	wait_for 10 gone "$pid"
	sleep 2
	alive "$kid"
	wait "$stopper"
	gone "$kid"
}

@test "--kill-mode process stops the daemon alone" {
	export T_KIDS=$T/kids
	START_OPTS=()
	pid=$(daemon_with_children 2 pause)
	wait_for 10 lines_in "$T/kids" 2
	kids=$(pids_in "$T/kids")
	run -0 --separate-stderr pm stop web --kill-mode process
	[ "$stderr" = "stopped web (pid $pid)" ]
	gone "$pid"
	# The children were not signalled, and nobody kills them later.
	sleep 1
	for k in $kids; do alive "$k"; done
	! has_event "rest of web's tree" || false
	for k in $kids; do kill -KILL "$k"; done
}

@test "--kill-mode process given at start leaves the children alive too" {
	export T_KIDS=$T/kids
	START_OPTS=(--kill-mode process)
	pid=$(daemon_with_children 2 pause)
	wait_for 10 lines_in "$T/kids" 2
	kids=$(pids_in "$T/kids")
	run -0 pm stop web --kill-mode process
	gone "$pid"
	sleep 1
	for k in $kids; do alive "$k"; done
	for k in $kids; do kill -KILL "$k"; done
}

@test "a bad --kill-mode is a usage error" {
	run -2 --separate-stderr pm stop web --kill-mode group
	[[ "$stderr" == *--kill-mode* ]]
	run -2 pm start web --kill-mode all -- "$DAEMON" pause
	[ ! -e "$MD/web/pid" ]
}

@test "a daemon that forks and exits 0 is followed to its server" {
	# The classic double fork: the server's parent is gone before the
	# daemon exits 0.
	first=$(pm start web -- sh -c '( "$0" pause & echo $! >"$1" ); exit 0' \
		"$DAEMON" "$T/server")
	wait_for 10 test -s "$T/server"
	server=$(pids_in "$T/server")
	wait_for 10 key_is web pid "$server"
	[ "$server" != "$first" ]
	[ "$(cat "$MD/web/start_time")" = "$(start_time_of "$server")" ]
	has_event "^pid $server is the daemon now \(forked and exited 0\)$"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running, pid $server, "* ]]
	# It is the daemon now: stop ends it, and its monitor with it.
	mon=$(mon_of web)
	run -0 --separate-stderr pm stop web
	[ "$stderr" = "stopped web (pid $server)" ]
	gone "$server"
	gone "$mon"
	[ ! -e "$MD/web" ]
}

@test "a daemon that exits 0 leaving two processes is not followed" {
	pm start web -- sh -c '"$0" pause & echo $! >>"$1"; "$0" pause & echo $! >>"$1"; exit 0' \
		"$DAEMON" "$T/kids"
	wait_for 10 lines_in "$T/kids" 2
	kids=$(pids_in "$T/kids")
	# Which one would be the server? None is adopted: the run ended with
	# status 0, and what it left is stopped.
	wait_for 20 test -e "$MD/web/exit"
	key_has web exit '^status=0 at='
	for k in $kids; do wait_for 10 gone "$k"; done
	! has_event "is the daemon now" || false
	run -1 pm status web
}

@test "--pid-file names the server among several processes" {
	# Two processes are left; the pid file says which is the server. With
	# a pid file, start waits for it: it prints the server's pid.
	run -0 --separate-stderr pm start web --pid-file "$T/web.pid" -- \
		sh -c '( "$0" pause & echo $! >"$1"; "$0" pause & echo $! >"$2" ); exit 0' \
		"$DAEMON" "$T/web.pid" "$T/helper"
	server=$(cat "$T/web.pid")
	helper=$(pids_in "$T/helper")
	note_pid "$server"
	[ "$output" = "$server" ]
	key_is web pid "$server"
	has_event "^pid $server is the daemon now \(named in its pid file\)$"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running, pid $server, "* ]]
	run -0 pm stop web
	gone "$server"
	gone "$helper"
}

@test "a --pid-file written after the parent exited is waited for" {
	# The server writes its pid file 1 s after its parent has exited 0.
	run -0 --separate-stderr pm start web --pid-file "$T/web.pid" -- \
		sh -c '( sleep 1; sh -c '"'"'echo $PPID'"'"' >"$1.new"
			mv "$1.new" "$1"; exec "$0" pause ) & exit 0' \
		"$DAEMON" "$T/web.pid"
	server=$(cat "$T/web.pid")
	note_pid "$server"
	[ "$output" = "$server" ]
	key_is web pid "$server"
	has_event "^pid $server is the daemon now \(named in its pid file\)$"
}

@test "a relative --pid-file is taken from the caller's directory" {
	# Two processes are left, so only the file can tell which one.
	cd "$T"
	run -0 pm start web --pid-file web.pid --cwd / -- \
		sh -c '( "$0" pause & echo $! >"$1"; "$0" pause & ); exit 0' \
		"$DAEMON" "$T/web.pid"
	[ "$output" = "$(cat "$T/web.pid")" ]
	has_event "is the daemon now \(named in its pid file\)$"
}

@test "a pid file naming a process outside the tree is not adopted" {
	# It names this test's shell: never the daemon, never signalled.
	echo "$$" >"$T/web.pid"
	run -7 --separate-stderr pm start web --pid-file "$T/web.pid" -- \
		sh -c 'exit 0'
	alive "$$"
	! key_is web pid "$$" || false
}

@test "stop --kill-mode tree takes the children a start's process mode left" {
	export T_KIDS=$T/kids
	START_OPTS=(--kill-mode process)
	pid=$(daemon_with_children 2 pause)
	wait_for 10 lines_in "$T/kids" 2
	kids=$(pids_in "$T/kids")
	run -0 --separate-stderr pm stop web --kill-mode tree
	[ "$stderr" = "stopped web (pid $pid)" ]
	gone "$pid"
	for k in $kids; do wait_for 10 gone "$k"; done
}
