#!/usr/bin/env bats
# Whose daemons these are (issue 8): root may read another user's DIR
# (status, list, get, logs) but not change it; a user acting on root's
# daemons is told why not, not given a bare EACCES.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() {
	lc_setup
	[ "$(id -u)" = 0 ] || skip "needs root to act as two users"
	# where both users can reach: bats' own directories are root's, 0700
	O=$(mktemp -d /tmp/procmgr-owners.XXXXXX)
	echo "$O" >>"$T/cleanup-dirs"
	chmod 755 "$O"
	# a DIR of nobody's, which root did not make; and one of root's
	mkdir "$O/nb"
	chown nobody "$O/nb"
	ND=$O/nb/pm
	D=$O/root/pm
}

teardown() { lc_teardown; }

npm() {
	as_nobody "$PROCMGR" "$@" 3>&-
}

@test "root reads another user's daemons, and only reads" {
	run -0 npm --dir "$ND" start web -- "$DAEMON" say=hello pause
	pid=$output
	track "$pid"
	wait_for 10 grep -qx hello "$ND/$HFP/web.log"
	run -0 "$PROCMGR" --dir "$ND" status web
	[[ "${lines[0]}" == "web: running, pid $pid"* ]]
	run -0 "$PROCMGR" --dir "$ND" --json status web
	run -0 "$PROCMGR" --dir "$ND" list
	[[ "$output" == *"web "*running* ]]
	run -0 "$PROCMGR" --dir "$ND" get web pid
	[ "$output" = "$pid" ]
	run -0 "$PROCMGR" --dir "$ND" logs web -n 20
	[[ "$output" == *hello* ]]
	# changing them is that user's business, and the message says so
	run -1 --separate-stderr "$PROCMGR" --dir "$ND" stop web
	[[ "$stderr" == *"owned by uid"*"nobody"*"sudo -u nobody"* ]]
	run -1 --separate-stderr "$PROCMGR" --dir "$ND" set web k v
	alive "$pid"
	[ ! -e "$ND/$HFP/web/k" ]
	run -0 npm --dir "$ND" stop web
	wait_for 10 gone "$pid"
}

@test "a user acting on root's daemons is told whose they are" {
	run -0 pm start web -- "$DAEMON" pause
	pid=$output
	for cmd in "status web" "stop web" "get web pid" "logs web"; do
		run --separate-stderr npm --dir "$D" $cmd
		echo "$cmd: $status $stderr"
		[ "$status" -ne 0 ]
		[[ "$stderr" == *"$O/root"*"belongs to uid 0 (root)"*"sudo"* ]]
	done
	alive "$pid"
}

@test "a DIR owned by a third user is unsafe, and the message names both" {
	mkdir -m 0755 "$O/third"
	chown 54321:54321 "$O/third"
	run -1 --separate-stderr npm --dir "$O/third" status web
	[ "$stderr" = "procmgr: unsafe directory $O/third: owned by uid 54321 (unknown user), not you (uid 65534, nobody); use a directory you own (--dir)" ]
	[ -z "$output" ]
}
