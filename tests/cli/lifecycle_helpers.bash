# lifecycle_helpers.bash - setup and teardown for the daemon lifecycle CLI
# tests (start, spawn, ready, ensure, restart, logs), on top of the core
# commands' helpers.bash (pm_setup, pm_teardown, track, alive, wait_for,
# now_ms).
#
# Every test gets a private DIR ($D) and a scratch directory ($T). Every
# process the test starts inherits PM_TEST_MARK (unique per test). Besides
# helpers.bash's teardown (tracked pids and pids recorded under $D that
# carry the mark), the teardown here kills every process that carries the
# mark: monitors, forked children and daemons whose pid key was overwritten
# are not all recorded anywhere, and a process without the mark (a reused
# pid) is never ours to kill.
#
# bats waits for every process that holds its fd 3: start background
# processes with 3>&-.

load helpers

DAEMON=$HELPERS/fake-daemon

lc_setup() {
	pm_setup
	D=$PROCMGR_DIR
	# Pass DIR with --dir only, so that the tests see that procmgr itself
	# gives the daemon PROCMGR_DIR.
	unset PROCMGR_DIR
}

# Run procmgr on the test's DIR, bounded so a hang fails one test only.
pm() {
	timeout -k 5 120 "$PROCMGR" --dir "$D" "$@" 3>&-
}

# Remember a pid to kill in teardown.
note_pid() {
	track "$1"
}

# Pids of the processes that carry this test's mark, except this shell
# and its ancestors (they carry it too once it is exported).
lc_marked_pids() {
	local self=$BASHPID pid f keep=" "
	pid=$self
	while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
		keep="$keep$pid "
		pid=$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$pid/stat" \
			2>/dev/null)
	done
	for f in $(grep -lzxF "PM_TEST_MARK=$PM_TEST_MARK" \
		/proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[[ "$keep" == *" $pid "* ]] || echo "$pid"
	done
}

lc_teardown() {
	local pid round
	pm_teardown
	# A monitor may fork or a daemon respawn while we kill: go twice.
	for round in 1 2; do
		for pid in $(lc_marked_pids); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
}


# The daemon's own lines of a log (stdin): without procmgr's event lines.
daemon_lines() {
	grep -v '^procmgr: [0-9T:Z-]* ' || true
}

# The pid stdout of a start/ensure/restart: one line, digits only.
assert_pid_output() {
	[[ "$output" =~ ^[0-9]+$ ]] || {
		echo "expected a pid alone on stdout, got: '$output'" >&2
		return 1
	}
}

# A TCP port nobody listens on now (good enough for a test).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
