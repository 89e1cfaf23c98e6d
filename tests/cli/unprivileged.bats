#!/usr/bin/env bats
# Supervision for an unprivileged user (issue 6): no root, no systemd, no
# D-Bus, no cgroup delegation. Each test runs procmgr as nobody on a DIR
# nobody owns; only the test's own checks run as root.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() {
	lc_setup
	[ "$(id -u)" -eq 0 ] || skip "needs root to become nobody"
	nobody_dir
	ND_PM=$ND/pm
	NMD=$ND_PM/$HFP
}
teardown() { lc_teardown; }

# procmgr as nobody on nobody's DIR.
npm() {
	as_nobody timeout -k 5 120 "$PROCMGR" --dir "$ND_PM" "$@" 3>&-
}

# npid_is NAME PID: nobody's NAME records PID.
npid_is() {
	[ "$(cat "$NMD/$1/pid" 2>/dev/null)" = "$2" ]
}

uid_of() {
	awk '/^Uid:/ { print $2 }' "/proc/$1/status"
}

@test "nobody: start, crash, restart, status, stop" {
	run -0 --separate-stderr npm start web --restart on-failure \
		--ready notify -- "$DAEMON" notify=READY=1 pause
	pid=$output
	mon=$(cut -d' ' -f1 "$NMD/web/monitor")
	note_pid "$mon"
	[ "$(uid_of "$pid")" = 65534 ]
	[ "$(uid_of "$mon")" = 65534 ]
	[ "$(ppid_of "$pid")" = "$mon" ]
	[ "$(ps -o args= -p "$mon")" = "procmgr-monitor $ND_PM web" ]
	test -e "$NMD/web/ready"
	[ "$(stat -c %U "$NMD/web/pid")" = nobody ]
	as_nobody kill -KILL "$pid"
	wait_for 20 grep -q 'started pid [0-9]* (restart 1 of 5)$' "$NMD/web.log"
	wait_for 20 test -e "$NMD/web/ready"
	# the monitor holds the lock until the new run is ready, a little
	# past the key: a stop sooner would wait and say so on stderr
	wait_for 20 npm lock web --lock-timeout 0 -- true
	new=$(cat "$NMD/web/pid")
	[ "$new" != "$pid" ]
	run -0 npm status web
	[[ "${lines[0]}" == "web: running, pid $new, "* ]]
	[[ "$output" == *"  restarts      1"* ]]
	run -0 --separate-stderr npm stop web
	[ "$stderr" = "stopped web (pid $new)" ]
	gone "$new"
	wait_for 20 gone "$mon"
	run -3 npm status web
}

@test "nobody: stop takes the whole tree" {
	run -0 npm start web -- sh -c \
		'for i in 1 2 3; do "$0" ignore=TERM pause & echo $! >>"$1"; done; exec "$0" pause' \
		"$DAEMON" "$ND/kids"
	pid=$output
	wait_for 10 lines_in "$ND/kids" 3
	kids=$(pids_in "$ND/kids")
	for k in $kids; do wait_for 10 ignores "$k" 15; done
	run -0 npm stop web --kill-wait 0.5
	gone "$pid"
	for k in $kids; do gone "$k"; done
	grep -q "sent SIGKILL to the rest of web's tree: " "$NMD/web.log"
}

@test "nobody: a daemon that forks and exits 0 is followed" {
	npm start web -- sh -c '( "$0" pause & echo $! >"$1" ); exit 0' \
		"$DAEMON" "$ND/server"
	wait_for 10 test -s "$ND/server"
	server=$(pids_in "$ND/server")
	wait_for 10 npid_is web "$server"
	run -0 npm stop web
	gone "$server"
}

@test "nobody: idle timeout, touch, watchdog" {
	pid=$(npm start web --idle-timeout 1 -- "$DAEMON" pause)
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		npm touch web
		sleep 0.1
	done
	alive "$pid"
	wait_for 20 gone "$pid"
	wait_for 20 grep -q 'reason=idle$' "$NMD/web/exit"
	run -3 npm status web
	[ "${lines[0]}" = "web: stopped (idle 1s)" ]

	pid=$(npm start api --watchdog 0.5 -- "$DAEMON" pause)
	wait_for 20 gone "$pid"
	wait_for 20 grep -q 'reason=watchdog$' "$NMD/api/exit"
}

@test "another user cannot speak for a daemon on its notify socket" {
	# root's daemon, still starting: nobody sends READY=1 and STATUS= to
	# its monitor. They are ignored: it times out, with no status text.
	pm start web --ready notify --ready-timeout 3 -- "$DAEMON" pause \
		>"$T/out" 2>&1 &
	starter=$!
	wait_for 20 test -e "$MD/web/notify_socket"
	sock=$(cat "$MD/web/notify_socket")
	NOTIFY_SOCKET=$sock as_nobody "$DAEMON" 'notify=STATUS=pwned\nREADY=1'
	rc=0
	wait "$starter" || rc=$?
	cat "$T/out"
	[ "$rc" -eq 4 ]
	[ ! -e "$MD/web/ready" ]
	[ ! -e "$MD/web/status_text" ]
	# while root's own message is taken
	NOTIFY_SOCKET=$sock "$DAEMON" 'notify=STATUS=mine'
	wait_for 20 key_is web status_text mine
}
