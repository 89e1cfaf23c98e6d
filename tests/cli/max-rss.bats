#!/usr/bin/env bats
# --max-rss SIZE (SPEC §6): ensure restarts a daemon whose tree's
# resident memory exceeds SIZE, saying by how much.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "ensure --max-rss 1M restarts a daemon whose tree uses more" {
	# The daemon itself is small; a child of it holds 16 MiB.
	old=$(pm start web -- "$DAEMON" fork mem=16 say=allocated pause)
	wait_for 20 grep -qx allocated "$(log_of)"
	child=$(pgrep -P "$old")
	note_pid "$child"
	run -0 --separate-stderr pm ensure web --max-rss 1M -- \
		"$DAEMON" fork mem=16 say=allocated pause
	echo "$stderr"
	[[ "$stderr" =~ ^restarting\ web:\ memory\ [0-9.]+\ MiB\ over\ --max-rss\ 1\ MiB$ ]]
	assert_pid_output
	[ "$output" != "$old" ]
	gone "$old"
	gone "$child"
	has_event "^started pid $output \(memory [0-9.]+ MiB over --max-rss 1 MiB, asked by "
}

@test "ensure counts the whole tree, not the daemon alone" {
	old=$(pm start web -- "$DAEMON" fork mem=16 say=allocated pause)
	wait_for 20 grep -qx allocated "$(log_of)"
	# the daemon alone is far under 8 MiB; with its child, over
	kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$old/status")
	[ "$kb" -lt 8192 ]
	run -0 --separate-stderr pm ensure web --max-rss 8M -- \
		"$DAEMON" fork mem=16 say=allocated pause
	[[ "$stderr" == "restarting web: memory "*" over --max-rss 8 MiB" ]]
}

@test "a generous --max-rss keeps the daemon" {
	old=$(pm start web -- "$DAEMON" fork mem=16 say=allocated pause)
	wait_for 20 grep -qx allocated "$(log_of)"
	for limit in 1G 512M 268435456 64m; do
		run -0 --separate-stderr pm ensure web --max-rss "$limit" -- \
			"$DAEMON" fork mem=16 say=allocated pause
		[ "$output" = "$old" ]
		[ -z "$stderr" ]
	done
}

@test "--max-rss is not part of the fingerprint" {
	# Starting with one limit and ensuring with another changes nothing.
	old=$(pm start web --max-rss 1G -- "$DAEMON" pause)
	run -0 --separate-stderr pm ensure web -- "$DAEMON" pause
	[ "$output" = "$old" ]
	[ -z "$stderr" ]
}

@test "a bad --max-rss is a usage error" {
	for bad in 0 -1 4X lots 1.5.5M ""; do
		run -2 --separate-stderr pm ensure web --max-rss "$bad" -- \
			"$DAEMON" pause
		[[ "$stderr" == *"--max-rss wants a size"* ]]
	done
	[ ! -e "$MD/web" ]
}

@test "a daemon without a monitor (pants') is measured by itself" {
	sleeper
	record web "$SPID"
	printf v1 >"$MD/web/fingerprint"
	run -0 --separate-stderr pm ensure web --fingerprint v1 --max-rss 1K \
		-- "$DAEMON" pause
	[[ "$stderr" == "restarting web: memory "*" over --max-rss 1 KiB" ]]
	wait_for 10 gone "$SPID"
	alive "$output"
}
