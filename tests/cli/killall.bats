#!/usr/bin/env bats
# procmgr killall (SPEC §6): stop every daemon procmgr ps lists - every
# daemon of the calling user in every DIR - and say what it stopped. Run
# in a private pid namespace only: outside one it would stop every other
# daemon of the machine's user.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; need_pid_ns; }
teardown() { lc_teardown; }

@test "killall stops every daemon of the user in every DIR" {
	run -0 --separate-stderr in_ns '
		a=$(pm start web -- "$DAEMON" pause)
		b=$(pm start api --restart always -- "$DAEMON" ignore=TERM pause)
		c=$("$PROCMGR" --dir "$T/other" start web -- sh -c \
			"\"\$0\" pause & exec \"\$0\" pause" "$DAEMON")
		"$PROCMGR" killall --kill-wait 0.5
		echo "rc=$?"
		for p in $a $b $c; do gone "$p" || echo "alive: $p"; done
		for p in $(pgrep -x fake-daemon); do
			gone "$p" || echo "alive: $p"; done
		wait_for 20 sh -c "! pgrep -x procmgr-monitor >/dev/null" ||
			echo "a monitor is left"
		"$PROCMGR" ps | tail -n +2
		echo "$a $b $c" >"$T/pids"'
	echo "$output"
	echo "$stderr"
	read -r a b c <"$T/pids"
	[ "$output" = "rc=0" ]
	grep -qx "stopped web in $D (pid $a)" <<<"$stderr"
	grep -qx "stopped api in $D (pid $b)" <<<"$stderr"
	grep -qx "stopped web in $T/other (pid $c)" <<<"$stderr"
	[ "$(wc -l <<<"$stderr")" -eq 3 ]
	# no restart of the --restart always one
	! grep -q 'restarting' "$MD/api.log" || false
	[ ! -e "$MD/web" ]
	[ ! -e "$MD/api" ]
}

@test "killall --json says what it stopped" {
	run -0 --separate-stderr in_ns '
		a=$(pm start web -- "$DAEMON" pause)
		echo "$a" >"$T/pids"
		"$PROCMGR" --json killall'
	a=$(cat "$T/pids")
	python3 -m json.tool <<<"$output" >/dev/null
	[ "$(json 'd' <<<"$output")" = "[{\"dir\": \"$D\", \"name\": \"web\", \"stopped\": true, \"pid\": $a}]" ]
}

@test "killall with nothing to stop says so" {
	run -0 --separate-stderr in_ns '"$PROCMGR" killall'
	[ "$stderr" = "nothing to stop" ]
}

@test "killall goes on past a survivor and exits 6" {
	run -0 --separate-stderr in_ns '
		a=$(pm start stubborn -- "$DAEMON" ignore=TERM pause)
		b=$(pm start web -- "$DAEMON" pause)
		"$PROCMGR" killall --signals TERM --kill-wait 0.3
		echo "rc=$?"
		alive "$a" && echo "stubborn alive"
		gone "$b" && echo "web gone"
		true'
	echo "$output"
	[ "${lines[0]}" = "rc=6" ]
	[[ "$output" == *"stubborn alive"* ]]
	[[ "$output" == *"web gone"* ]]
	[[ "$stderr" == *"procmgr: "*"survived"* ]]
}

@test "killall leaves another user's daemons alone" {
	nobody_dir
	export ND
	run -0 --separate-stderr in_ns '
		t=$(as_nobody "$PROCMGR" --dir "$ND/pm" start theirs -- "$DAEMON" pause)
		m=$(pm start mine -- "$DAEMON" pause)
		"$PROCMGR" killall
		alive "$t" && echo "theirs alive"
		gone "$m" && echo "mine gone"
		# and theirs stops theirs only
		m=$(pm start mine -- "$DAEMON" pause)
		as_nobody "$PROCMGR" killall
		gone "$t" && echo "theirs gone"
		alive "$m" && echo "mine alive"
		true'
	echo "$output"
	[ "$output" = "$(printf '%s\n' 'theirs alive' 'mine gone' 'theirs gone' 'mine alive')" ]
}

@test "killall takes no operand" {
	run -2 in_ns '"$PROCMGR" killall web'
}

@test "killall says so when /proc cannot be read, and stops nothing" {
	command -v strace >/dev/null || skip "needs strace"
	run -1 --separate-stderr in_ns '
		pid=$(pm start web -- "$DAEMON" pause)
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -o /dev/null -P /proc -e inject=openat:error=EACCES \
			"$PROCMGR" killall
		rc=$?
		alive "$pid" || exit 9
		exit $rc'
	[ -z "$output" ]
	[ "$stderr" = "procmgr: cannot list the daemons to stop: Permission denied" ]
}
