# helpers.bash - setup and teardown for the CLI tests of the core commands
# (status, list, get, set, await, purge, lock, stop, host-fingerprint,
# usage).
#
# Every test gets a private DIR (exported as PROCMGR_DIR, so a bare
# `procmgr status web` uses it) and scratch space $T. The daemons are real
# processes (pm-sleeper) whose metadata the tests write by hand, the way
# procmgr or pants would, so these tests do not depend on `start`.
#
# Every process a test starts carries PM_TEST_MARK in its environment; the
# teardown kills the pids the test tracked and the pids named under the
# test's DIR, but only those that carry the mark, so a pid recorded in
# metadata and since reused by an unrelated process is never hit.
#
# bats waits for whatever holds its fd 3: background processes are started
# with 3>&- and their stdin/stdout redirected.

: "${PROCMGR:=$BATS_TEST_DIRNAME/../../build/procmgr}"
: "${HELPERS:=$BATS_TEST_DIRNAME/../../build/helpers}"
SLEEPER=$HELPERS/pm-sleeper

pm_setup() {
	T=$BATS_TEST_TMPDIR
	export PM_TEST_MARK=$T
	export PROCMGR_DIR=$T/pm
	HFP=$("$PROCMGR" host-fingerprint)
	MD=$PROCMGR_DIR/$HFP
	BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)
}

# Run procmgr, bounded so that a hang fails one test only.
pm() {
	timeout -k 5 120 "$PROCMGR" "$@" 3>&-
}

# Remember a pid for the teardown.
track() {
	echo "$1" >>"$T/tracked-pids"
}

# True when pid carries this test's mark (so it is ours to kill).
ours() {
	grep -qzxF "PM_TEST_MARK=$PM_TEST_MARK" "/proc/$1/environ" 2>/dev/null
}

pm_teardown() {
	local pid dir
	for pid in $(cat "$T/tracked-pids" "$MD"/*/pid 2>/dev/null); do
		[[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || continue
		ours "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	# Directories a test had to make outside $T.
	for dir in $(cat "$T/cleanup-dirs" 2>/dev/null); do
		rm -rf "$dir"
	done
	return 0
}

# True when pid exists and is not a zombie.
alive() {
	local state
	state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" \
		2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# True when pid is gone or a zombie. (A bare "! alive" line asserts nothing
# in bats: set -e ignores negated commands.)
gone() {
	! alive "$1"
}

# The pid the monitor key of NAME names (its first field).
mon_of() {
	cut -d' ' -f1 "$MD/${1:-web}/monitor"
}

# crash NAME: kill NAME's daemon with SIGKILL, then wait until its monitor
# has recorded the exit and ended. The monitor records under NAME's lock,
# so a command run sooner would wait for it and say so on stderr.
crash() {
	local pid mon
	pid=$(cat "$MD/$1/pid")
	mon=$(mon_of "$1")
	kill -KILL "$pid"
	wait_for 20 gone "$pid"
	wait_for 20 gone "$mon"
}

# wait_for SEC CMD...: retry CMD every 50 ms until it succeeds or SEC pass.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# sleeper [pm-sleeper options]: start a fake daemon in the background and
# wait until it has set itself up; its pid is in $SPID.
sleeper() {
	local ready=$T/ready.$RANDOM$RANDOM
	"$SLEEPER" --ready-file "$ready" "$@" </dev/null >/dev/null 2>&1 3>&- &
	SPID=$!
	disown "$SPID"
	track "$SPID"
	wait_for 20 test -e "$ready"
}

# "<field 22 of /proc/PID/stat> <boot id>", as the start_time key holds it.
start_time_of() {
	echo "$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat") $BOOT_ID"
}

# record NAME PID: metadata as procmgr writes it for a live process.
record() {
	mkdir -p "$MD/$1"
	printf '%s' "$2" >"$MD/$1/pid"
	printf '%s' "$(start_time_of "$2")" >"$MD/$1/start_time"
}

# A pid that is surely not running: a reaped child's.
dead_pid() {
	sh -c 'echo $$'
}

# now_ms: milliseconds since the epoch, for elapsed-time bounds.
now_ms() {
	date +%s%3N
}

# lone_uid: print a uid no process runs as, so that a test may use up a
# per-user kernel limit (inotify instances) without taking it from anyone.
lone_uid() {
	local uid
	for _ in $(seq 50); do
		uid=$((50000 + RANDOM % 10000))
		ps -o pid= -u "$uid" >/dev/null 2>&1 || { echo "$uid"; return 0; }
	done
	return 1
}

# other_lone_uid UID: lone_uid, but not UID.
other_lone_uid() {
	local uid
	for _ in $(seq 50); do
		uid=$(lone_uid) && [ "$uid" != "$1" ] && { echo "$uid"; return 0; }
	done
	return 1
}

# as_uid UID GID CMD...: run CMD as UID and GID, no supplementary groups.
# A coverage build's counters belong to root: another user's processes
# write theirs under $GCOV_OTHER (set by tests/run.sh), not complaints on
# the stderr the tests read.
as_uid_gid() {
	local uid=$1 gid=$2
	shift 2
	setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env ${GCOV_OTHER:+GCOV_PREFIX="$GCOV_OTHER"} "$@"
}

# as_uid UID CMD...: run CMD as UID (group UID too).
as_uid() {
	as_uid_gid "$1" "$1" "${@:2}"
}

# as_nobody CMD...: run CMD as nobody, with no groups.
as_nobody() {
	as_uid_gid nobody nogroup "$@"
}

# dir_of_uid UID: a new directory under /tmp owned by UID (removed by the
# teardown), for a DIR that UID may use.
dir_of_uid() {
	local dir
	dir=$(mktemp -d /tmp/pm-uid.XXXXXX)
	echo "$dir" >>"$T/cleanup-dirs"
	chown "$1:$1" "$dir"
	echo "$dir"
}
