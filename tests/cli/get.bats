#!/usr/bin/env bats
# procmgr get NAME KEY: a key's value; exit 3 when the key is absent.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "get reads what set wrote" {
	run -0 pm set web socket 38549
	run -0 pm get web socket
	[ "$output" = "38549" ]
	# Stored as pants stores it: no trailing newline.
	[ "$(od -An -c "$MD/web/socket" | tr -d ' \n')" = "38549" ]
}

@test "values pants wrote with a trailing newline read back stripped" {
	mkdir -p "$MD/web"
	printf '123\n' >"$MD/web/pid"
	run -0 pm get web pid
	[ "$output" = "123" ]
	printf '  spaced value \n\n' >"$MD/web/note"
	run -0 pm get web note
	[ "$output" = "spaced value" ]
}

@test "cmdline's NUL-separated argv prints with spaces" {
	mkdir -p "$MD/web"
	printf './server\0--port\0 8080\0' >"$MD/web/cmdline"
	run -0 pm get web cmdline
	[ "$output" = "./server --port  8080" ]
}

@test "a key procmgr does not know is shown as it is" {
	mkdir -p "$MD/web"
	printf 'hello' >"$MD/web/my-own-key"
	run -0 pm get web my-own-key
	[ "$output" = "hello" ]
}

@test "an absent key exits 3 with a message naming it" {
	run -3 --separate-stderr pm get web socket
	[ -z "$output" ]
	[[ "$stderr" == "procmgr: "*socket* ]]
	mkdir -p "$MD/web"
	run -3 pm get web socket
}

@test "--json prints the status object with key and value" {
	mkdir -p "$MD/web"
	printf '%s' "$(dead_pid)" >"$MD/web/pid"
	printf 'a "quoted"\tvalue' >"$MD/web/note"
	run -0 pm --json get web note
	echo "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["key"] == "note" and o["value"] == "a \"quoted\"\tvalue", o
assert o["name"] == "web" and o["state"] == "stale", o
'
}

@test "a bad KEY is a usage error; so are missing operands" {
	run -2 pm get web ../etc
	run -2 pm get web .hidden
	run -2 pm get web
	run -2 pm get
	run -2 pm get web pid --bogus
	run -0 pm get --help
	[[ "$output" == *"procmgr get web socket"* ]]
}

@test "a bad NAME exits 2 naming the rule and creates nothing" {
	run -2 pm get 'no/slash' pid
	[[ "$output" == *"[a-z0-9._-]"* ]]
	[ ! -e "$PROCMGR_DIR" ]
}
