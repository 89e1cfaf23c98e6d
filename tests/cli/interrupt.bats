#!/usr/bin/env bats
# Cancellable waits (SPEC §6) and the live wait line (SPEC §4).
#
# Ctrl-C is SIGINT to procmgr: every wait (readiness, lock, kill chain,
# await) ends, the lock is released, the metadata stays whole, and procmgr
# dies by SIGINT (130 in the shell). bash ignores SIGINT in background
# jobs, so the tests send it with timeout -s INT, which restores it.
#
# A wait over a second tells a person at a terminal what it waits for, on
# one stderr line rewritten in place; nothing of it with -q or when
# stderr is not a terminal. script(1) gives procmgr a terminal.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

# ctrl_c WHEN -- PROCMGR-ARGS...: run procmgr on $D in the background,
# wait until the command WHEN succeeds (procmgr is then in the wait to
# interrupt), give it a moment to block there, and send it SIGINT. Its
# stdout and stderr are passed on; its exit status returned (130: died by
# SIGINT). (procmgr installs its own SIGINT handler, so the background
# job's ignored SIGINT does not matter.)
ctrl_c() {
	local when=$1 p rc=0
	shift 2
	# as a terminal's foreground job: SIGINT not ignored (see sigdfl.c)
	"$HELPERS/sigdfl" "$PROCMGR" --dir "$D" "$@" </dev/null \
		>"$T/ctrl_c.out" 2>"$T/ctrl_c.err" 3>&- &
	p=$!
	wait_for 30 $when || echo "ctrl_c: '$when' never came" >&2
	sleep 0.2
	kill -INT "$p"
	wait "$p" || rc=$?
	cat "$T/ctrl_c.out"
	cat "$T/ctrl_c.err" >&2
	return "$rc"
}

# Conditions for ctrl_c.
recorded() { test -e "$MD/web/pid"; }
signalled() { has_event '^sent SIGTERM to pid '; }
lock_waiting() { grep -q 'waiting for a file lock' "$T/ctrl_c.err" 2>/dev/null; }

# The lock is free: taking it without waiting works.
lock_free() {
	pm lock "$1" --lock-timeout 0 -- true
}

@test "Ctrl-C during a start's readiness wait: 130, lock free, daemon kept" {
	run -130 --separate-stderr ctrl_c recorded -- start web --ready notify \
		-- "$DAEMON" pause
	[ -z "$output" ]
	[[ "$stderr" == *"procmgr: interrupted while waiting for web to be ready"* ]]
	lock_free web
	# the metadata is whole: running, not ready, under its monitor
	pid=$(cat "$MD/web/pid")
	alive "$pid"
	[ "$(cat "$MD/web/start_time")" = "$(start_time_of "$pid")" ]
	parent_is "$pid" "$(mon_of web)"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running (not ready), pid $pid, "* ]]
	run -0 pm stop web
	gone "$pid"
}

@test "an interrupted start goes on under its monitor and gets ready" {
	run -130 ctrl_c recorded -- start web --ready notify -- "$DAEMON" \
		sleep=2 notify=READY=1 pause
	pid=$(cat "$MD/web/pid")
	wait_for 20 test -e "$MD/web/ready"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running, pid $pid, "* ]]
}

@test "after an interrupted start, a restart lets the lock go when ready" {
	run -130 ctrl_c recorded -- start web --ready notify \
		--restart on-failure -- "$DAEMON" sleep=2 notify=READY=1 pause
	wait_for 20 test -e "$MD/web/ready"
	pid=$(cat "$MD/web/pid")
	kill -KILL "$pid"
	wait_for 20 has_event '^started pid [0-9]+ \(restart 1 of 5\)$'
	wait_for 20 test -e "$MD/web/ready"
	run -0 pm stop web --lock-timeout 5
}

@test "Ctrl-C during a stop's kill wait: 130, metadata kept, not stopping" {
	pid=$(pm start web --restart on-failure -- "$DAEMON" ignore=TERM pause)
	wait_for 10 ignores "$pid" 15
	run -130 --separate-stderr ctrl_c signalled -- stop web --kill-wait 60
	[[ "$stderr" == *"procmgr: interrupted while stopping web (pid $pid); its metadata is kept"* ]]
	lock_free web
	alive "$pid"
	[ ! -e "$MD/web/stopping" ]
	run -0 pm status web
	# Not stopped after all: a crash now is a crash, and is restarted.
	kill -KILL "$pid"
	wait_for 20 has_event '^started pid [0-9]+ \(restart 1 of 5\)$'
}

@test "Ctrl-C during a lock wait: 130, nothing started, the holder keeps it" {
	"$PROCMGR" --dir "$D" lock web -- sleep 60 </dev/null >/dev/null 2>&1 3>&- &
	holder=$!
	note_pid "$holder"
	wait_for 20 test -e "$D/.lock.web.lock_message"
	run -130 --separate-stderr ctrl_c lock_waiting -- start web -- "$DAEMON" pause
	[[ "$stderr" == *"waiting for a file lock ($D/.lock.web)"* ]]
	[ ! -e "$MD/web/pid" ]
	alive "$holder"
	run -4 pm lock web --lock-timeout 0 -- true
	# (the command run under the lock holds it too, until it ends)
	kill -KILL $(cat "/proc/$holder/task/$holder/children") "$holder"
	wait_for 20 lock_free web
}

@test "Ctrl-C during await: 130" {
	run -130 ctrl_c "sleep 0.5" -- await web socket --timeout 60
}

# sigint_default PID: PID no longer ignores SIGINT (read with builtins
# only, so that a loop on it is quick).
sigint_default() {
	local k v
	while read -r k v; do
		[ "$k" = SigIgn: ] && return $(((16#$v & 2) != 0))
	done <"/proc/$1/status"
	return 1
}

@test "Ctrl-C at any moment of a start ends it at once" {
	# SIGINT sent 0 to 30 ms after the start begins: whenever it lands,
	# procmgr ends (130) within 5 s, not at the 30 s readiness timeout.
	local n p rc t0
	for n in $(seq 0 20); do
		"$HELPERS/sigdfl" "$PROCMGR" --dir "$D" start "web$n" \
			--ready notify --ready-timeout 30 -- "$DAEMON" pause \
			</dev/null >/dev/null 2>&1 3>&- &
		p=$!
		# The start begins once sigdfl has undone the SIGINT the
		# shell ignores for a background job: one sent sooner is
		# lost (slow to come in a sanitizer build, or under load).
		until sigint_default "$p"; do
			kill -0 "$p" 2>/dev/null || break
		done
		sleep "$(printf '0.%03d' $((n * 3 / 2)))"
		t0=$(now_ms)
		kill -INT "$p"
		rc=0
		wait "$p" || rc=$?
		echo "web$n: rc=$rc after $(($(now_ms) - t0)) ms"
		[ "$rc" -eq 130 ]
		[ $(($(now_ms) - t0)) -lt 5000 ]
	done
}

@test "SIGTERM ends a wait too, by SIGTERM" {
	run -143 timeout --preserve-status -s TERM 1 "$PROCMGR" --dir "$D" \
		start web --ready notify -- "$DAEMON" pause
	lock_free web
}

# on_tty CMD...: run CMD with a terminal as stdin, stdout and stderr;
# everything it wrote (both streams) in $T/tty, its exit status returned.
on_tty() {
	local cmd
	cmd=$(printf '%q ' "$@")
	script -qec "$cmd" /dev/null </dev/null >"$T/tty" 2>&1 3>&-
}

# A wait line, as the terminal received it: "\r<what>… Ns\e[K".
wait_line() {
	printf '\r%s\xe2\x80\xa6 %s\033[K' "$1" "$2"
}

@test "a readiness wait shows a live line on a terminal" {
	run -4 on_tty "$PROCMGR" --dir "$D" start web --ready notify \
		--ready-timeout 2.5 -- "$DAEMON" pause
	grep -qF "$(wait_line 'waiting for web to be ready (notify)' 1s)" "$T/tty"
	grep -qF "$(wait_line 'waiting for web to be ready (notify)' 2s)" "$T/tty"
	# wiped before the message that follows
	grep -qF $'\r\033[Kprocmgr: web (pid ' "$T/tty"
}

@test "a kill chain wait shows a live line on a terminal" {
	pid=$(pm start web -- "$DAEMON" ignore=TERM pause)
	wait_for 10 ignores "$pid" 15
	run -0 on_tty "$PROCMGR" --dir "$D" stop web --kill-wait 1.5
	grep -qF "$(wait_line "waiting for pid $pid of web to exit after SIGTERM" 1s)" \
		"$T/tty"
}

@test "a lock wait shows a live line on a terminal" {
	"$PROCMGR" --dir "$D" lock web -- sleep 60 </dev/null >/dev/null 2>&1 3>&- &
	note_pid $!
	wait_for 20 test -e "$D/.lock.web.lock_message"
	run -4 on_tty "$PROCMGR" --dir "$D" start web --lock-timeout 1.5 -- \
		"$DAEMON" pause
	grep -qF "$(wait_line 'waiting for the lock of web' 1s)" "$T/tty"
}

@test "no wait line with -q, nor when stderr is not a terminal" {
	run -4 on_tty "$PROCMGR" -q --dir "$D" start web --ready notify \
		--ready-timeout 1.5 -- "$DAEMON" pause
	! grep -q waiting "$T/tty" || false
	pm stop web
	run -4 --separate-stderr pm start web --ready notify \
		--ready-timeout 1.5 -- "$DAEMON" pause
	[[ "$stderr" != *"waiting for web to be ready"* ]]
	[[ "$stderr" != *$'\r'* ]]
}

@test "a wait under a second shows no line" {
	run -0 on_tty "$PROCMGR" --dir "$D" start web --ready notify -- \
		"$DAEMON" sleep=0.2 notify=READY=1 pause
	! grep -q waiting "$T/tty" || false
}

@test "Ctrl-C while following a log: 130, and says so" {
	pm start web -- "$DAEMON" say=hello pause >/dev/null
	# (ctrl_c.out appears once the command has started)
	printed() { grep -qx hello "$T/ctrl_c.out" 2>/dev/null; }
	run -130 --separate-stderr ctrl_c printed -- logs -f web
	echo "$output"
	echo "$stderr"
	grep -qx hello <<<"$output"
	[[ "$stderr" == "procmgr: interrupted while following $D/"*"/web.log" ]]
}

@test "Ctrl-C before the monitor has told the pid: the start waits to hear it" {
	command -v strace >/dev/null || skip "needs strace"
	# strace holds every send() 2 s; the monitor's first tells the
	# starter the daemon's pid, before it records it.
	"$HELPERS/sigdfl" strace -f -o /dev/null \
		-e inject=sendto:delay_enter=2000000 \
		"$PROCMGR" --dir "$D" start web --ready notify -- "$DAEMON" \
		pause </dev/null >"$T/out" 2>"$T/err" 3>&- &
	p=$!
	wait_for 30 pgrep -f "^procmgr-monitor $D web\$"
	cli=$(pgrep -P "$p")
	kill -INT "$cli"
	wait_for 30 gone "$cli"
	cat "$T/err"
	[[ "$(cat "$T/err")" == *"procmgr: interrupted while waiting for web to be ready; it goes on starting under its monitor"* ]]
	# it goes on: recorded, past its gate, running under its monitor
	wait_for 30 test -e "$MD/web/pid"
	pid=$(cat "$MD/web/pid")
	wait_for 30 alive "$pid"
	lock_free web
	run -0 pm stop web
	# strace ends with its command's status once its tracees are gone
	rc=0
	wait "$p" || rc=$?
	[ "$rc" -eq 130 ]
}
