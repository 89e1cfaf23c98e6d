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

# failing SYSCALL ERRNO CMD...: run procmgr CMD with every SYSCALL of the
# procmgr process itself (not its children) failing with ERRNO. In an
# AddressSanitizer build, LeakSanitizer cannot check a traced process: it
# would fail at exit, with exit 1 and lines of its own on stderr.
failing() {
	local call=$1 err=$2
	shift 2
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout -k 5 120 strace -o /dev/null \
		-e inject="$call:error=$err" "$PROCMGR" --dir "$D" "$@" 3>&-
}

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
