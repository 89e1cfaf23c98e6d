#!/usr/bin/env bats
# procmgr stop --all (SPEC §6): stop every NAME under DIR - and nothing
# under another DIR - saying what it stopped.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "stop --all stops every NAME under DIR and says which" {
	a=$(pm start api -- "$DAEMON" pause)
	w=$(pm start web --restart always -- "$DAEMON" ignore=TERM pause)
	k=$(pm start worker -- sh -c '"$0" pause & exec "$0" pause' "$DAEMON")
	o=$("$PROCMGR" --dir "$T/other" start web -- "$DAEMON" pause 3>&-)
	note_pid "$o"
	run -0 --separate-stderr pm stop --all --kill-wait 0.5
	[ -z "$output" ]
	[ "$stderr" = "$(printf 'stopped %s\n' "api (pid $a)" "web (pid $w)" \
		"worker (pid $k)")" ]
	gone "$a"
	gone "$w"
	gone "$k"
	# the metadata went, the logs stay
	[ "$(ls "$MD")" = "$(printf '%s\n' api.log web.log worker.log)" ]
	# another DIR is another world
	alive "$o"
	run -0 "$PROCMGR" --dir "$T/other" status web
	"$PROCMGR" --dir "$T/other" stop web 3>&-
}

@test "stop --all --json is one array of what it did" {
	a=$(pm start api -- "$DAEMON" pause)
	run -0 --separate-stderr pm --json stop --all
	python3 -m json.tool <<<"$output" >/dev/null
	[ "$(json 'd' <<<"$output")" = "[{\"dir\": \"$D\", \"name\": \"api\", \"stopped\": true, \"pid\": $a}]" ]
}

@test "stop --all clears stale and idle-stopped NAMEs, stopping nothing there" {
	live=$(pm start live -- "$DAEMON" pause)
	pm start idle --idle-timeout 0.5 -- "$DAEMON" pause
	idle_mon=$(mon_of idle)
	pm start crashed -- "$DAEMON" pause
	crash crashed
	wait_for 20 key_has idle exit 'reason=idle$'
	wait_for 20 gone "$idle_mon"
	run -0 --separate-stderr pm stop --all
	[ "$stderr" = "stopped live (pid $live)" ]
	[ ! -e "$MD/live" ]
	[ ! -e "$MD/idle" ]
	[ ! -e "$MD/crashed" ]
}

@test "stop --all of an empty DIR has nothing to stop" {
	run -0 --separate-stderr pm stop --all
	[ "$stderr" = "nothing to stop" ]
}

@test "stop --all with a NAME is a usage error" {
	pid=$(pm start web -- "$DAEMON" pause)
	run -2 pm stop web --all
	run -2 pm stop --all web
	alive "$pid"
}

@test "stop --all goes on past a survivor and exits 6" {
	s=$(pm start stubborn -- "$DAEMON" ignore=TERM pause)
	wait_for 10 ignores "$s" 15
	w=$(pm start web -- "$DAEMON" pause)
	run -6 --separate-stderr pm stop --all --signals TERM --kill-wait 0.3
	[[ "$stderr" == *"procmgr: "*"stubborn"*"survived"* ]]
	[[ "$stderr" == *"stopped web (pid $w)"* ]]
	alive "$s"
	gone "$w"
}

@test "stop --all stops the rest past an unsafe NAME, and fails" {
	good=$(pm start good -- "$DAEMON" pause)
	mkdir -m 0700 "$MD/bad"
	chmod 0777 "$MD/bad"
	run -1 --separate-stderr pm stop --all
	[[ "$stderr" == *"procmgr: unsafe directory $MD/bad: mode 0777"* ]]
	[[ "$stderr" == *"stopped good (pid $good)"* ]]
	wait_for 10 gone "$good"
	[ -d "$MD/bad" ]
}

@test "stop --all where DIR is not a directory says so" {
	touch "$T/file"
	run -1 --separate-stderr "$PROCMGR" --dir "$T/file" stop --all
	[ "$stderr" = "procmgr: cannot list the daemons to stop: Not a directory" ]
	run -1 --separate-stderr "$PROCMGR" --dir "$T/file" --json stop --all
	[ "$(json 'd["error"]["exit"]' <<<"$output")" = 1 ]
}

@test "stop --all goes on past a NAME whose lock is held, and fails" {
	a=$(pm start api -- "$DAEMON" pause)
	w=$(pm start web -- "$DAEMON" pause)
	pm lock web -- sh -c "touch '$T/held'; exec sleep 60" </dev/null \
		>/dev/null 2>&1 3>&- &
	wait_for 20 test -e "$T/held"
	run -4 --separate-stderr pm stop --all --lock-timeout 0
	echo "$stderr"
	[[ "$stderr" == *"procmgr: lock $D/.lock.web is held by: "* ]]
	[[ "$stderr" == *"stopped api (pid $a)"* ]]
	gone "$a"
	alive "$w"
}
