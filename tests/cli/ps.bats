#!/usr/bin/env bats
# procmgr ps (SPEC §6): every daemon of the calling user in every DIR,
# found through the monitors' command lines, with DIR, NAME, pid, state,
# uptime and RSS. Run in a private pid namespace: outside one it would
# list every other daemon of the machine's user.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; need_pid_ns; }
teardown() { lc_teardown; }

@test "ps lists every daemon of the user, in every DIR" {
	run -0 --separate-stderr in_ns '
		a=$(pm start web -- "$DAEMON" pause)
		b=$(pm start api -- "$DAEMON" pause)
		c=$("$PROCMGR" --dir "$T/other" start web -- "$DAEMON" pause)
		echo "$a $b $c" >"$T/pids"
		"$PROCMGR" ps'
	read -r a b c <"$T/pids"
	echo "$output"
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^DIR\ +NAME\ +PID\ +STATE\ +UPTIME\ +RSS$ ]]
	# sorted by DIR, then NAME; RSS with its unit
	[[ "${lines[1]}" =~ ^$T/other\ +web\ +$c\ +running\ +[0-9]+s\ +[0-9.]+\ (B|KiB|MiB)$ ]]
	[[ "${lines[2]}" =~ ^$D\ +api\ +$b\ +running\ +[0-9]+s\ +[0-9.]+\ (B|KiB|MiB)$ ]]
	[[ "${lines[3]}" =~ ^$D\ +web\ +$a\ +running\ +[0-9]+s\ +[0-9.]+\ (B|KiB|MiB)$ ]]
}

@test "ps --json is one valid JSON array" {
	run -0 --separate-stderr in_ns '
		a=$(pm start web -- "$DAEMON" mem=4 pause)
		c=$("$PROCMGR" --dir "$T/other" start db -- "$DAEMON" pause)
		echo "$a $c" >"$T/pids"
		"$PROCMGR" --json ps'
	read -r a c <"$T/pids"
	python3 -m json.tool <<<"$output" >/dev/null
	[ "$(json 'len(d)' <<<"$output")" = 2 ]
	[ "$(json '[[e["dir"], e["name"], e["pid"], e["state"]] for e in d]' <<<"$output")" = \
		"[[\"$T/other\", \"db\", $c, \"running\"], [\"$D\", \"web\", $a, \"running\"]]" ]
	[ "$(json 'all(isinstance(e["rss_bytes"], int) and e["rss_bytes"] > 0 for e in d)' <<<"$output")" = true ]
	[ "$(json 'all(e["monitor"] > 1 and e["ready"] is True for e in d)' <<<"$output")" = true ]
}

@test "ps with no daemon prints the header, or [] with --json" {
	run -0 in_ns '"$PROCMGR" ps'
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == DIR*NAME*PID*STATE*UPTIME*RSS ]]
	run -0 in_ns '"$PROCMGR" --json ps'
	[ "$(json 'd' <<<"$output")" = '[]' ]
}

@test "ps shows a daemon between restarts as not running" {
	run -0 --separate-stderr in_ns '
		pm start web --restart on-failure --restart-limit 10 -- "$DAEMON" exit=3 >/dev/null
		wait_for 20 grep -q "restarting in 1.6s" "$D/"*/web.log
		"$PROCMGR" ps'
	echo "$output"
	[[ "${lines[1]}" =~ ^$D\ +web\ +[0-9]+\ +stale\  ]]
}

@test "ps lists the caller's daemons only, not another user's" {
	nobody_dir
	export ND
	run -0 --separate-stderr in_ns '
		as_nobody "$PROCMGR" --dir "$ND/pm" start theirs -- "$DAEMON" pause >/dev/null
		pm start mine -- "$DAEMON" pause >/dev/null
		echo "--- root"
		"$PROCMGR" ps
		echo "--- nobody"
		as_nobody "$PROCMGR" ps'
	echo "$output"
	root=$(sed -n '/^--- root$/,/^--- nobody$/p' <<<"$output")
	nobody=$(sed -n '/^--- nobody$/,$p' <<<"$output")
	[[ "$root" == *" mine "* ]]
	[[ "$root" != *theirs* ]]
	[[ "$nobody" == *" theirs "* ]]
	[[ "$nobody" != *mine* ]]
}

@test "ps takes no operand" {
	run -2 in_ns '"$PROCMGR" ps web'
}

@test "ps says so when /proc cannot be read" {
	command -v strace >/dev/null || skip "needs strace"
	pm start web -- "$DAEMON" pause >/dev/null
	run -1 --separate-stderr in_ns '
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -o /dev/null -P /proc -e inject=openat:error=EACCES \
			"$PROCMGR" ps'
	[ -z "$output" ]
	[ "$stderr" = "procmgr: cannot list the monitors in /proc: Permission denied" ]
}
