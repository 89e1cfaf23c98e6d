#!/usr/bin/env bats
# procmgr lock NAME [--lock-timeout SEC] -- CMD...: run CMD holding NAME's
# lifecycle lock (an OFD fcntl lock, so pants' lockf clients are excluded).

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "lock runs CMD under the lock and exits with its status" {
	run -0 pm lock web -- sh -c 'cat "$0"' "$PROCMGR_DIR/.lock.web.lock_message"
	# The holder's message: "<pid> (<argv>)".
	[[ "$output" =~ ^[0-9]+\ \(.*procmgr[^\ ]*\ lock\ web\ --\ sh ]]
	# Released afterwards: the message is gone, the lock file stays.
	[ ! -e "$PROCMGR_DIR/.lock.web.lock_message" ]
	[ -e "$PROCMGR_DIR/.lock.web" ]
	run -3 pm lock web -- sh -c 'exit 3'
	run -0 pm lock web -- true
}

@test "CMD killed by a signal exits 128 + the signal" {
	run -9 pm lock web -- sh -c 'exit 9'
	run -137 pm lock web -- sh -c 'kill -KILL $$'
}

@test "a CMD that cannot run exits 127 with errno's text" {
	run -127 --separate-stderr pm lock web -- /nonexistent/cmd
	[[ "$stderr" == *"procmgr: cannot run '/nonexistent/cmd'"*"No such file"* ]]
	printf 'not a program' >"$T/noexec"
	chmod 0644 "$T/noexec"
	run -126 pm lock web -- "$T/noexec"
}

@test "a second lock waits, prints pants' line once, then proceeds" {
	"$PROCMGR" lock web -- sleep 1.5 </dev/null >/dev/null 2>&1 3>&- &
	holder=$!
	track "$holder"
	wait_for 20 test -e "$PROCMGR_DIR/.lock.web.lock_message"
	t0=$(now_ms)
	run -0 --separate-stderr pm lock web -- echo second
	[ "$output" = second ]
	[ "$(($(now_ms) - t0))" -ge 300 ]
	re="^PID [0-9]+ waiting for a file lock \\($PROCMGR_DIR/.lock.web\\) held by: $holder \\(.*lock web -- sleep 1.5\\)$"
	[[ "$stderr" =~ $re ]]
	[ "$(echo "$stderr" | grep -c waiting)" -eq 1 ]
}

@test "-q keeps the waiting line quiet" {
	"$PROCMGR" lock web -- sleep 1 </dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$PROCMGR_DIR/.lock.web.lock_message"
	run -0 --separate-stderr pm -q lock web -- true
	[ -z "$stderr" ]
}

@test "--lock-timeout gives exit 4 while another holds the lock" {
	"$PROCMGR" lock web -- sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$PROCMGR_DIR/.lock.web.lock_message"
	t0=$(now_ms)
	run -4 --separate-stderr pm lock web --lock-timeout 0.3 -- echo never
	elapsed=$(($(now_ms) - t0))
	[ -z "$output" ]
	[ "$elapsed" -ge 250 ] && [ "$elapsed" -lt 10000 ]
	[[ "$stderr" == *"waiting for a file lock"* ]]
	[[ "$stderr" == *"procmgr: "* ]]
}

@test "a pants client's fcntl.lockf lock blocks procmgr lock" {
	mkdir -p "$PROCMGR_DIR"
	python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(30)
' "$PROCMGR_DIR/.lock.web" "$T/py-locked" </dev/null >/dev/null 2>&1 3>&- &
	py=$!
	track "$py"
	wait_for 20 test -e "$T/py-locked"
	run -4 pm lock web --lock-timeout 0.3 -- true
	kill "$py"
	run -0 pm lock web --lock-timeout 10 -- true
}

@test "a holder killed by SIGKILL frees the lock at once" {
	"$PROCMGR" lock web -- sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	holder=$!
	track "$holder"
	wait_for 20 test -e "$PROCMGR_DIR/.lock.web.lock_message"
	cmd=$(pgrep -P "$holder")
	track "$cmd"
	kill -KILL "$holder"
	# CMD inherited the lock (as flock(1)'s command does): still held
	run -4 pm lock web --lock-timeout 0.3 -- true
	kill -KILL "$cmd"
	# Its stale message file does not make the next one wait.
	run -0 pm lock web --lock-timeout 10 -- true
}

@test "usage errors" {
	run -2 pm lock web
	[[ "$output" == *"expects a command"* ]]
	run -2 pm lock web --
	run -2 pm lock
	run -2 pm lock web --lock-timeout -1 -- true
	[[ "$output" == *"--lock-timeout"* ]]
	run -2 pm lock web --bogus -- true
	run -2 pm lock 'a b' -- true
	[ ! -e "$PROCMGR_DIR" ]
	run -0 pm lock --help
}

@test "a lock file that is not a regular file is an error (exit 1), not usage" {
	mkdir -p "$PROCMGR_DIR"
	mkfifo "$PROCMGR_DIR/.lock.web"
	run -1 --separate-stderr pm lock web -- true
	[[ "$stderr" == *"$PROCMGR_DIR/.lock.web is not a regular file"*"remove it"* ]]
}

@test "with stderr closed, no message lands in the lock file" {
	"$PROCMGR" lock web -- sleep 10 </dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$PROCMGR_DIR/.lock.web.lock_message"
	# The waiting line and the timeout message have nowhere to go; the
	# first file procmgr opens must not become its stderr.
	for closed in '2>&-' '1>&- 2>&-' '<&- 2>&-'; do
		run -4 sh -c "\"\$0\" lock web --lock-timeout 0.3 -- true $closed" \
			"$PROCMGR"
		[ ! -s "$PROCMGR_DIR/.lock.web" ]
	done
}

@test "a lock wait needs no inotify instance" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as a uid of its own"
	uid=$(lone_uid)
	dir=$(dir_of_uid "$uid")
	as_uid "$uid" "$PROCMGR" --dir "$dir" lock web -- sleep 2 \
		</dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$dir/.lock.web.lock_message"
	# The uid has no inotify instance left: the waiter still waits in the
	# kernel, and gets the lock when the holder lets go.
	run --separate-stderr as_uid "$uid" "$HELPERS/inotify-hog" \
		"$PROCMGR" --dir "$dir" lock web --lock-timeout 60 -- echo got it
	[ "$status" -ne 77 ] || skip "$stderr"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "got it" ]
	[[ "$stderr" == *"waiting for a file lock"*"held by: "*"sleep 2"* ]]
}

# shared_dir: a DIR all users share, as /tmp is (root's, mode 1777).
shared_dir() {
	local dir
	dir=$(mktemp -d /tmp/pm-shared.XXXXXX)
	echo "$dir" >>"$T/cleanup-dirs"
	chmod 1777 "$dir"
	echo "$dir"
}

# refused_after_plant PLANT WHAT ARGS...: in a new shared sticky DIR
# ($dir), mallory (a lone uid) runs the shell code PLANT with $0 the DIR;
# then alice (another) runs procmgr ARGS... there, and must be refused:
# exit 1, nothing on stdout, and a message naming DIR/WHAT and mallory.
refused_after_plant() {
	local plant=$1 what=$2
	shift 2
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as two users"
	dir=$(shared_dir)
	mallory=$(lone_uid)
	alice=$(other_lone_uid "$mallory")
	as_uid "$mallory" sh -c "$plant" "$dir"
	run -1 --separate-stderr as_uid "$alice" "$PROCMGR" --dir "$dir" "$@"
	[ -z "$output" ]
	[[ "$stderr" == "procmgr: "*"$dir/$what"*"uid $mallory"* ]]
}

@test "in a shared sticky DIR, another user's lock file is refused" {
	refused_after_plant 'umask 0; : >"$0/.lock.web"' .lock.web \
		lock web --lock-timeout 5 -- echo ran
	# one alice cannot even open is refused the same way
	chmod 0600 "$dir/.lock.web"
	run -1 --separate-stderr as_uid "$alice" "$PROCMGR" --dir "$dir" \
		lock web --lock-timeout 5 -- echo ran
	[[ "$stderr" == "procmgr: "*"$dir/.lock.web"*"uid $mallory"* ]]
}

@test "in a shared sticky DIR, another user's lock message is refused" {
	refused_after_plant \
		'echo "1 (fake holder)" >"$0/.lock.web.lock_message"' \
		.lock.web.lock_message lock web --lock-timeout 5 -- echo ran
}

@test "in a shared sticky DIR, another user's HOSTFP directory is refused" {
	refused_after_plant "mkdir -m 0777 \"\$0/$HFP\"" "$HFP" \
		set web socket 1
}

@test "in a shared sticky DIR, root's files are trusted as root's DIR is" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as another user"
	dir=$(shared_dir)
	alice=$(lone_uid)
	(umask 0 && : >"$dir/.lock.web")
	run -0 --separate-stderr as_uid "$alice" "$PROCMGR" --dir "$dir" \
		lock web -- echo ran
	[ "$output" = ran ]
}

@test "CMD may change the NAME's state under the lock: it inherits it" {
	sleeper --exit-on-term
	record web "$SPID"
	run -0 --separate-stderr pm lock web -- \
		"$PROCMGR" stop web --lock-timeout 10
	gone "$SPID"
	[ ! -e "$MD/web" ]
	# nested, and the inner one does not let go of the outer's lock
	run -0 pm lock web -- sh -c '
		"$0" lock web --lock-timeout 10 -- true || exit 9
		test -e "$1/.lock.web.lock_message" || exit 8
		PROCMGR_LOCK_FD= "$0" lock web --lock-timeout 0 -- true \
			2>/dev/null && exit 7
		exit 0' "$PROCMGR" "$PROCMGR_DIR"
}

@test "an inherited lock must really be that lock's, held" {
	mkdir -p "$PROCMGR_DIR"
	exec 7<>"$PROCMGR_DIR/.lock.web"
	# the lock file itself, but nobody holds the lock: locks for itself
	PROCMGR_LOCK_FD="7:$PROCMGR_DIR/.lock.web" run -0 pm lock web -- true
	# another file, another NAME's lock, garbage: ignored as well
	exec 8<>"$T/other"
	for v in "8:$PROCMGR_DIR/.lock.web" "7:$PROCMGR_DIR/.lock.db" \
		"x:y" "99:$PROCMGR_DIR/.lock.web" "" \
		"99999999999:$PROCMGR_DIR/.lock.web" ":$PROCMGR_DIR/.lock.web"; do
		PROCMGR_LOCK_FD=$v run -0 pm lock web --lock-timeout 5 -- true
	done
	# held by another process: not ours, we wait
	"$PROCMGR" lock web -- sleep 10 </dev/null >/dev/null 2>&1 3>&- 7>&- 8>&- &
	track $!
	wait_for 20 test -e "$PROCMGR_DIR/.lock.web.lock_message"
	PROCMGR_LOCK_FD="7:$PROCMGR_DIR/.lock.web" \
		run -4 pm lock web --lock-timeout 0.3 -- true
	exec 7>&- 8>&-
}

@test "a daemon started under the lock holds neither the lock nor its fd" {
	run -0 pm lock web -- "$PROCMGR" start web -- "$HELPERS/fake-daemon" pause
	pid=$output
	track "$pid"
	alive "$pid"
	! grep -qz '^PROCMGR_LOCK_FD=' "/proc/$pid/environ"
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd")" != "$PROCMGR_DIR/.lock.web" ]
	done
	run -0 pm lock web --lock-timeout 0 -- true
	run -0 pm stop web
}
