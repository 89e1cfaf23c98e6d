#!/usr/bin/env bats
# procmgr set NAME KEY VALUE: one key written atomically.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "set creates DIR, DIR/HOSTFP and DIR/HOSTFP/NAME private" {
	run -0 --separate-stderr pm set web socket 4242
	[ -z "$output" ]
	[ "$(stat -c %a "$PROCMGR_DIR")" = 700 ]
	[ "$(stat -c %a "$MD")" = 700 ]
	[ "$(stat -c %a "$MD/web")" = 700 ]
	[ "$(cat "$MD/web/socket")" = 4242 ]
}

@test "set replaces a value and leaves no temp file behind" {
	pm set web socket 1
	pm set web socket 2
	[ "$(cat "$MD/web/socket")" = 2 ]
	[ "$(ls -A "$MD/web")" = socket ]
}

@test "a reader never sees an empty or partial value while set writes" {
	pm set web v "$(printf 'x%.0s' {1..4000})"
	( for i in $(seq 30); do
		"$PROCMGR" set web v "$(printf 'y%.0s' {1..4000})" 3>&-
		"$PROCMGR" set web v "$(printf 'x%.0s' {1..4000})" 3>&-
	done ) &
	writer=$!
	while kill -0 "$writer" 2>/dev/null; do
		v=$(cat "$MD/web/v")
		[ "${#v}" -eq 4000 ]
	done
	wait "$writer"
}

@test "values may start with a dash and hold spaces" {
	run -0 pm set web note -5
	[ "$(pm get web note)" = "-5" ]
	run -0 pm set web note "two words"
	[ "$(pm get web note)" = "two words" ]
}

@test "usage errors: operands, bad KEY, bad NAME" {
	run -2 pm set web socket
	run -2 pm set web
	run -2 pm set web a/b 1
	run -2 pm set web socket 1 extra
	run -2 pm set .web socket 1
	[[ "$output" == *"not starting with '.'"* ]]
	[ ! -e "$PROCMGR_DIR" ]
	run -0 pm set --help
}

@test "an unsafe DIR is refused and left alone" {
	mkdir -p "$T/wide"
	chmod 0777 "$T/wide"
	run -1 pm --dir "$T/wide" set web socket 1
	[[ "$output" == "procmgr: "*"$T/wide"* ]]
	[ -z "$(ls -A "$T/wide")" ]
}
