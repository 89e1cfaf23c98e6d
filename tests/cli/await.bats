#!/usr/bin/env bats
# procmgr await NAME KEY [--timeout SEC]: wait for a key, print its value.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "await returns at once when the key exists" {
	pm set web socket 38549
	run -0 --separate-stderr pm await web socket --timeout 10
	[ "$output" = 38549 ]
}

@test "await wakes when another process sets the key" {
	( sleep 0.5; "$PROCMGR" set web socket 777 ) </dev/null >/dev/null \
		2>&1 3>&- &
	track $!
	t0=$(now_ms)
	run -0 --separate-stderr pm await web socket --timeout 30
	[ "$output" = 777 ]
	# Woken by the write, not by the timeout.
	[ $(($(now_ms) - t0)) -lt 15000 ]
}

@test "await without --timeout waits until the key appears" {
	( sleep 0.3; mkdir -p "$MD/web"; printf 'x\n' >"$MD/web/.t";
	  mv "$MD/web/.t" "$MD/web/port" ) </dev/null >/dev/null 2>&1 3>&- &
	track $!
	run -0 --separate-stderr pm await web port
	[ "$output" = x ]
}

@test "await times out with exit 4 and a message" {
	t0=$(now_ms)
	run -4 --separate-stderr pm await web socket --timeout 0.3
	elapsed=$(($(now_ms) - t0))
	[ -z "$output" ]
	[[ "$stderr" == "procmgr: "* ]]
	[ "$elapsed" -ge 250 ]
	[ "$elapsed" -lt 10000 ]
}

@test "--json prints the status object with key and value" {
	pm set web socket 99
	run -0 pm --json await web socket
	echo "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["key"] == "socket" and o["value"] == "99" and o["socket"] == "99", o
'
}

@test "a bad --timeout is a usage error naming the option" {
	for bad in abc -1 1e3 '' 1.2.3 . inf; do
		run -2 pm await web socket --timeout "$bad"
		[[ "$output" == *"--timeout"* ]]
	done
	run -2 pm await web socket --timeout
	[[ "$output" == *"needs a value"* ]]
	run -2 pm await web
	run -2 pm await web socket extra
	run -0 pm await --help
	[[ "$output" == *"--timeout"* ]]
}
