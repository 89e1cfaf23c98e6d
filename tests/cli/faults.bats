#!/usr/bin/env bats
# A system call that fails under procmgr (no fds left, no memory, no
# processes) is an error that names what failed, and leaves nothing
# behind: no metadata, no lock held, no monitor or daemon running. The
# failures are injected into the real kernel calls with strace.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() {
	lc_setup
	command -v strace >/dev/null || skip "needs strace"
}
teardown() { lc_teardown; }

left_nothing() {
	run -3 pm status web
	[ "${lines[0]}" = "web: stopped" ]
	pm lock web --lock-timeout 0 -- true
	[ -z "$(lc_marked_pids)" ]
}

@test "a start whose system calls fail says which, and leaves nothing" {
	while read -r call err exit message; do
		run -"$exit" --separate-stderr failing "$call" "$err" \
			start web -- "$DAEMON" pause
		echo "$call: $stderr"
		[ -z "$output" ]
		[[ "$stderr" == "procmgr: $message"* ]]
		left_nothing
	done <<'EOT'
socketpair ENFILE 1 socketpair: Too many open files in system
memfd_create ENOMEM 1 cannot hand the job to the monitor (memfd): Cannot allocate memory
clone3 EAGAIN 4 cannot fork to start the monitor
EOT
}

@test "without the cancel pipe, a start still works" {
	# The pipe that lets Ctrl-C end a wait is a comfort, not a need.
	run -0 failing pipe2 EMFILE start web -- "$DAEMON" pause
	alive "$output"
	run -0 pm stop web
}

@test "await without an inotify instance left says so" {
	pm start web -- "$DAEMON" pause
	run -1 --separate-stderr failing inotify_init1 EMFILE \
		await web port --timeout 5
	[ "$stderr" = "procmgr: cannot await $MD/web/port: inotify: Too many open files" ]
	[ -z "$output" ]
}

@test "touch without a socket left says so, and the daemon runs on" {
	pid=$(pm start web --idle-timeout 60 -- "$DAEMON" pause)
	run -1 --separate-stderr failing socket EMFILE touch web
	[ "$stderr" = "procmgr: cannot touch web: socket: Too many open files" ]
	alive "$pid"
	run -0 pm touch web
}

@test "host-fingerprint says when uname fails" {
	run -1 --separate-stderr failing uname EFAULT host-fingerprint
	[ "$stderr" = "procmgr: cannot compute the host fingerprint: uname: Bad address" ]
	[ -z "$output" ]
}

@test "a key that cannot be renamed into place keeps its old value" {
	run -0 pm set web k old
	run -1 --separate-stderr failing renameat EIO set web k new
	[[ "$stderr" == "procmgr: cannot write $MD/web/k: Input/output error; the old value is kept"* ]]
	[ "$(cat "$MD/web/k")" = old ]
	# and no temporary file is left beside it
	[ "$(ls -A "$MD/web")" = k ]
}

@test "logs -f without an inotify instance follows by looking each second" {
	pm start web -- "$DAEMON" say=early sleep=1 say=late sleep=1 exit=0
	run -0 --separate-stderr failing inotify_init1 EMFILE logs -f web
	[[ "$output" == *early*late* ]]
}

@test "list reads every NAME itself when no thread can be started" {
	local md
	md="$D/$("$PROCMGR" host-fingerprint)"
	mkdir -p "$md"
	for i in $(seq -w 0 99); do
		mkdir "$md/n$i"
	done
	run -0 --separate-stderr failing clone3 EAGAIN -q list
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 100 ]
	[[ "${lines[0]}" =~ ^n00\ +stale\ + ]]
	[[ "${lines[99]}" =~ ^n99\ +stale\ + ]]
}

@test "a stop that may not signal the daemon says so and leaves it running" {
	pid=$(pm start web -- "$DAEMON" pause)
	run -1 --separate-stderr failing pidfd_send_signal EPERM stop web
	[ "$stderr" = "procmgr: cannot send SIGTERM to pid $pid of web: Operation not permitted" ]
	alive "$pid"
	# not stopping after all: a crash now would be a crash
	[ ! -e "$MD/web/stopping" ]
	run -0 pm status web
	run -0 pm stop web
}

@test "a stop with no fd left for a pidfd says so and leaves the daemon" {
	pid=$(pm start web -- "$DAEMON" pause)
	run -1 --separate-stderr failing pidfd_open EMFILE stop web
	[ "$stderr" = "procmgr: cannot open pid $pid of web: Too many open files" ]
	alive "$pid"
	run -0 pm status web
	run -0 pm stop web
}

@test "where a pidfd's inode cannot be had, the other keys decide" {
	pid=$(pm start web -- "$DAEMON" pause)
	[ -e "$MD/web/pidfd_ino" ]
	run -0 failing fstatfs ENOSYS status web
	[[ "${lines[0]}" == "web: running, pid $pid"* ]]
	run -0 pm stop web
}

@test "a lock on a file system without locks says so and runs nothing" {
	# Only the first fcntl calls fail: the lock's come first, and the
	# coverage build's own at exit must still work.
	run -1 --separate-stderr failing fcntl ENOLCK:when=1..3 \
		lock web -- echo ran
	[ "$stderr" = "procmgr: cannot lock $D/.lock.web: No locks available" ]
	[ -z "$output" ]
	run -0 pm lock web --lock-timeout 0 -- true
}

# The one child of pid, once it has ignored signal $2 (0: at once).
child_of() {
	local kid
	wait_for 10 test -s "/proc/$1/task/$1/children"
	kid=$(cat "/proc/$1/task/$1/children")
	kid=${kid% }
	[ "$2" = 0 ] || wait_for 10 ignores "$kid" "$2"
	echo "$kid"
}

@test "tree processes that may not be signalled are named as survivors" {
	pid=$(pm start web -- "$DAEMON" fork pause)
	kid=$(child_of "$pid" 0)
	# the daemon's TERM and CONT go through; the tree's fail
	run -6 --separate-stderr failing pidfd_send_signal EPERM:when=3+ \
		stop web --kill-wait 0.2
	[[ "$stderr" == "procmgr: processes of web's tree survived "*": $kid;"* ]]
	gone "$pid"
	alive "$kid"
	# Stale now, its monitor kept by the child: the same for what is left.
	run -1 pm status web
	run -6 --separate-stderr failing pidfd_send_signal EPERM \
		stop web --kill-wait 0.2
	[[ "$stderr" == "procmgr: processes of web's tree survived "*": $kid;"* ]]
	alive "$kid"
	run -0 pm stop web
	wait_for 10 gone "$kid"
}

@test "Ctrl-C while what is left of a stale NAME is stopped: 130" {
	pid=$(pm start web -- "$DAEMON" fork ignore=TERM pause)
	kid=$(child_of "$pid" 15)
	run -6 failing pidfd_send_signal EPERM:when=3+ stop web --kill-wait 0.2
	gone "$pid"
	run -130 --separate-stderr timeout --preserve-status -s INT 2 \
		"$PROCMGR" --dir "$D" stop web --kill-wait 60
	[[ "$stderr" == *"procmgr: interrupted while stopping what is left of web"* ]]
	alive "$kid"
	run -0 pm stop web --signals KILL
	wait_for 10 gone "$kid"
}

@test "a daemon that dies just as stop reaches it is not an error" {
	# The daemon ends 2 s in. The stop opens it (the second pidfd_open,
	# after the status's), then checks its identity again; the pidfd
	# that check opens comes back 6 s later, on a process that has
	# exited by then: nothing to signal, and the metadata goes.
	pid=$(pm start web -- "$DAEMON" sleep=2 exit=0)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run -0 --separate-stderr timeout -k 5 120 strace -o /dev/null \
		-e inject=pidfd_open:delay_exit=6000000:when=3 \
		"$PROCMGR" --dir "$D" stop web 3>&-
	[ "$stderr" = "web was not running: nothing to stop" ]
	gone "$pid"
	[ ! -e "$MD/web" ]
}
