#!/usr/bin/env bats
# A system call that fails in procmgr-monitor (no fds, no processes, a
# metadata write that fails, a poll that fails) is an error the starter
# hears or an event of the daemon's log; the daemon never runs unrecorded,
# and nothing is left holding NAME's lock.
#
# The failures are injected with strace into the monitor alone, not the
# CLI: $PROCMGR_MONITOR points at a script that runs the real monitor under
# strace -D (so the monitor is still the starter's child) and -f (so its
# fork, which runs the loop, and the daemon's child are traced too). strace
# counts each process's calls on its own: when=2 is the second call of
# that process, whichever process it is.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() {
	lc_setup
	command -v strace >/dev/null || skip "needs strace"
	MONITOR=${PROCMGR_MONITOR:-$(dirname "$PROCMGR")/procmgr-monitor}
}
teardown() { lc_teardown; }

# monitor_failing STRACE-ARG...: the monitors of this test's starts run
# under strace with these arguments (-e inject=...). A traced process
# cannot have its leaks checked by LeakSanitizer.
monitor_failing() {
	local w=$T/monitor-under-strace a
	{
		echo '#!/bin/sh'
		echo 'ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0'
		echo 'export ASAN_OPTIONS'
		printf 'exec strace -D -f -o /dev/null'
		for a in "$@"; do
			printf " '%s'" "$a"
		done
		printf " '%s' \"\$@\"\n" "$MONITOR"
	} >"$w"
	chmod +x "$w"
	export PROCMGR_MONITOR=$w
}

# Nothing of the start is left: no process of the test running, NAME
# stopped, its lock free. (strace holds copies of the monitor's fds, the
# starter's lock among them, until every process it traces has ended.)
left_nothing() {
	wait_for 20 test -z "$(lc_marked_pids)"
	run pm status web
	echo "status ($status): $output"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "web: stopped" ]
	pm lock web --lock-timeout 0 -- true
}

@test "a monitor that cannot set up says why, and nothing runs" {
	while read -r call err exit message; do
		monitor_failing -e "inject=$call:error=$err:when=1"
		run -"$exit" --separate-stderr pm start web -- "$DAEMON" pause
		echo "$call: $stderr"
		[ -z "$output" ]
		[ "$stderr" = "procmgr: $message" ]
		left_nothing
	done <<'EOT'
clone EAGAIN 4 procmgr-monitor cannot fork: Resource temporarily unavailable
socket EMFILE 1 procmgr-monitor cannot set up: Too many open files
bind EADDRINUSE 1 procmgr-monitor cannot set up: Address already in use
signalfd4 EMFILE 1 procmgr-monitor cannot set up: Too many open files
EOT
}

@test "a daemon the monitor cannot launch never runs; start says why" {
	while read -r call err exit message; do
		monitor_failing -e "inject=$call:error=$err:when=1"
		run -"$exit" --separate-stderr pm start web -- "$DAEMON" \
			say=it-ran pause
		echo "$call: $stderr"
		[ -z "$output" ]
		[[ "$stderr" == "procmgr: cannot start $DAEMON"*"$message"* ]]
		has_event "^cannot start $DAEMON: "
		[ -z "$(daemon_lines <"$(log_of web)")" ]
		left_nothing
	done <<'EOT'
pipe2 EMFILE 1 Too many open files
dup2 EMFILE 1 (setting up its file descriptors): Too many open files
close_range ENOMEM 1 (setting up its file descriptors): Cannot allocate memory
EOT
}

@test "metadata the monitor cannot record: the daemon never runs, start says so" {
	monitor_failing -e 'inject=renameat:error=EIO:when=1'
	# bounded well below pm's 120 s: a daemon stuck at its gate would
	# hold the start forever
	run -1 --separate-stderr timeout -k 5 30 "$PROCMGR" --dir "$D" \
		start web -- "$DAEMON" say=it-ran pause 3>&-
	echo "$stderr"
	[ "$stderr" = "procmgr: cannot record web's metadata in $MD/web: Input/output error" ]
	has_event "cannot record web's metadata"
	[ -z "$(daemon_lines <"$(log_of web)")" ]
	left_nothing
}

@test "a restart that cannot fork ends supervision, and the log says why" {
	# the monitor's process forks the daemon (1) and the restart (2)
	monitor_failing -e 'inject=clone:error=EAGAIN:when=2'
	pid=$(pm start web --restart always -- "$DAEMON" sleep=0.3 exit=1)
	mon=$(mon_of web)
	wait_for 30 gone "$mon"
	events
	has_event "^pid $pid exited with status 1$"
	has_event '^restarting in 0\.1s \(restart 1 of 5\)$'
	has_event "^cannot start $DAEMON: Resource temporarily unavailable$"
	key_has web exit '^status=1 '
	# the lock the restart took is let go
	pm lock web --lock-timeout 0 -- true
}

@test "a monitor whose poll fails mid-start: start hears that it ended" {
	monitor_failing -e 'inject=ppoll:error=EINVAL:when=1'
	# (strace, holding a copy of the answer socket, lets go of it once the
	# daemon, which it traces too, has ended)
	run -1 --separate-stderr pm start web --ready notify -- "$DAEMON" \
		sleep=1 exit=0
	echo "$stderr"
	[ "$stderr" = "procmgr: the monitor of web ended without saying how the start went (was it killed?); the daemon is not running; see its log $(log_of web)" ]
}

# Calls on NAME's lock file only (-P): in the monitor's loop process the
# first is the start's lock it inherited, made close-on-exec; the second
# is the first lock it takes itself.
@test "a monitor that cannot take NAME's lock says so in its log and ends" {
	while read -r when opts; do
		monitor_failing -P "$D/.lock.web" \
			-e "inject=fcntl:error=ENOLCK:when=$when"
		# shellcheck disable=SC2086
		pid=$(pm start web $opts -- "$DAEMON" sleep=0.5 exit=1)
		mon=$(mon_of web)
		wait_for 30 gone "$mon"
		events
		has_event "^pid $pid exited with status 1$"
		has_event "^cannot take web's lock \(.*\); the monitor ends$"
		# what it could not record stays unrecorded: not running
		run -1 pm status web
		[[ "${lines[0]}" == "web: stale: "* ]]
		pm lock web --lock-timeout 0 -- true
		run -0 pm purge web
	done <<'EOT'
2
4 --restart always
EOT
}
