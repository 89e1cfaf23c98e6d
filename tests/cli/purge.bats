#!/usr/bin/env bats
# procmgr purge NAME [--force]: remove metadata only when not running.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "purge refuses a running NAME: exit 1 with a message, nothing removed" {
	sleeper
	record web "$SPID"
	run -1 --separate-stderr pm purge web
	[[ "$stderr" == "procmgr: "*"$SPID"* ]]
	[ -e "$MD/web/pid" ]
	alive "$SPID"
}

@test "purge --force removes a running NAME's metadata, signals nothing" {
	sleeper
	record web "$SPID"
	run -0 pm purge web --force
	[ ! -e "$MD/web" ]
	alive "$SPID"
}

@test "purge removes a stale NAME's metadata and keeps its log" {
	mkdir -p "$MD/web"
	printf '%s' "$(dead_pid)" >"$MD/web/pid"
	printf 'status=1' >"$MD/web/exit"
	echo 'last words' >"$MD/web.log"
	run -0 pm purge web
	[ ! -e "$MD/web" ]
	[ -e "$MD/web.log" ]
	# Corrupt metadata is stale too.
	mkdir -p "$MD/db"
	printf 'garbage' >"$MD/db/pid"
	run -0 pm purge db
	[ ! -e "$MD/db" ]
}

@test "purge of a stopped NAME succeeds" {
	run -0 pm purge web
}

@test "purge waits for the lifecycle lock; --lock-timeout gives exit 4" {
	mkdir -p "$MD/web"
	printf '%s' "$(dead_pid)" >"$MD/web/pid"
	"$PROCMGR" lock web -- sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	track $!
	wait_for 20 test -e "$PROCMGR_DIR/.lock.web.lock_message"
	run -4 --separate-stderr pm purge web --lock-timeout 0.3
	[[ "$stderr" == *"waiting for a file lock ($PROCMGR_DIR/.lock.web)"* ]]
	[ -e "$MD/web/pid" ]
}

@test "usage errors" {
	run -2 pm purge
	run -2 pm purge web --bogus
	run -2 pm purge web extra
	run -2 pm purge web --lock-timeout x
	run -2 pm purge 'Web Server'
	[ ! -e "$PROCMGR_DIR" ]
	run -0 pm purge --help
}

# start_of PID: field 22 of /proc/PID/stat, its start in clock ticks.
start_of() {
	awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat"
}

@test "the next state change removes a dead writer's leftovers only" {
	sleeper
	live="$SPID.$(start_of "$SPID")"
	dead="$(dead_pid).1"
	old="$(dead_pid).7"
	mkdir -p "$MD/web" "$MD/.web.purge.$dead.42/" "$MD/.web.purge.$live.43" \
		"$MD/.web.purge.$old" "$MD/.web.purge.$dead.x"
	printf '%s' "$(dead_pid)" >"$MD/web/pid"
	echo 1 >"$MD/.web.purge.$dead.42/pid"
	touch "$MD/web/.socket.$dead.abcdef" "$MD/web/.pid.$live.ghijkl" \
		"$PROCMGR_DIR/..lock.web.lock_message.$dead.mnopqr" \
		"$PROCMGR_DIR/..lock.web.lock_message.$live.stuvwx" \
		"$PROCMGR_DIR/..lock.db.lock_message.$dead.yzabcd" \
		"$MD/web/.socket.oldstyle"
	run -0 pm stop web --keep-metadata
	[ ! -e "$MD/web/.socket.$dead.abcdef" ]
	[ ! -e "$MD/.web.purge.$dead.42" ]
	[ ! -e "$PROCMGR_DIR/..lock.web.lock_message.$dead.mnopqr" ]
	# a live writer's, another NAME's and unknown names are kept
	[ -e "$MD/web/.pid.$live.ghijkl" ]
	[ -e "$MD/.web.purge.$live.43" ]
	[ -e "$PROCMGR_DIR/..lock.web.lock_message.$live.stuvwx" ]
	[ -e "$PROCMGR_DIR/..lock.db.lock_message.$dead.yzabcd" ]
	[ -e "$MD/web/.socket.oldstyle" ]
	[ -e "$MD/web/pid" ]
	# asides named as before (no start time) or not at all: kept
	[ -e "$MD/.web.purge.$old" ]
	[ -e "$MD/.web.purge.$dead.x" ]
}

@test "a purge that died after moving NAME aside is undone" {
	dead="$(dead_pid).1"
	mkdir -p "$MD/.web.purge.$dead.42"
	printf '%s' "$(dead_pid)" >"$MD/.web.purge.$dead.42/pid"
	echo 4242 >"$MD/.web.purge.$dead.42/socket"
	# nothing under the NAME: the moved-aside copy goes back, whole, and
	# this state change then sees it as what it is (stale)
	run -3 pm status web
	run -0 pm stop web --keep-metadata
	[ ! -e "$MD/.web.purge.$dead.42" ]
	[ "$(cat "$MD/web/socket")" = 4242 ]
	run -1 pm status web
}
