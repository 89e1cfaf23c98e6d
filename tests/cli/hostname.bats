#!/usr/bin/env bats
# A hostname change must not hide a running daemon (issue 8): HOSTFP is
# pants' hash of uname, so a new hostname puts a running daemon's
# metadata under "another host". procmgr finds it, says so once, uses it.
# The hostname changes for real, in a private UTS namespace.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() {
	lc_setup
	[ "$(id -u)" = 0 ] || skip "needs root for a UTS namespace"
}
teardown() { lc_teardown; }

# procmgr with another hostname than the one the daemon started under.
renamed() {
	unshare --uts sh -c 'hostname procmgr-renamed && exec "$@"' sh \
		timeout -k 5 120 "$PROCMGR" --dir "$D" "$@" 3>&-
}

@test "a renamed host still sees, keeps and stops its daemon" {
	pid=$(pm start web -- "$DAEMON" pause)
	old=$HFP
	run -0 --separate-stderr renamed host-fingerprint
	[ "$output" != "$old" ]
	run -0 --separate-stderr renamed status web
	[[ "${lines[0]}" == "web: running, pid $pid"* ]]
	[[ "$stderr" == *"warning: web runs with its metadata in $D/$old/web"* ]]
	# said once, not once per look
	[ "$(grep -c warning <<<"$stderr")" -eq 1 ]
	# ensure keeps it: no second copy under the new fingerprint
	run -0 --separate-stderr renamed ensure web -- "$DAEMON" pause
	[ "$output" = "$pid" ]
	[ "$(ls "$D" | grep -c '^[0-9a-f]\{12\}$')" -eq 1 ]
	run -0 --separate-stderr renamed stop web
	wait_for 10 gone "$pid"
	# with nothing running, a new start goes under the new fingerprint
	run -0 --separate-stderr renamed start web -- "$DAEMON" pause
	new=$output
	[ ! -e "$D/$old/web/pid" ]
	run -0 renamed stop web
	wait_for 10 gone "$new"
}

@test "a dead daemon under the old fingerprint is not taken" {
	pid=$(pm start web -- "$DAEMON" pause)
	kill -KILL "$pid"
	wait_for 10 gone "$pid"
	run -3 --separate-stderr renamed status web
	[ -z "$stderr" ]
}
