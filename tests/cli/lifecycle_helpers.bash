# lifecycle_helpers.bash - setup and teardown for the daemon lifecycle CLI
# tests (start, ensure, restart, ready, logs, spawn).
#
# Every test gets a private DIR ($D) and a scratch directory ($T). Every
# process the test starts inherits PM_TEST_MARK (unique per test), so the
# teardown finds and kills exactly those processes — daemons, monitors and
# their children — even when the test failed half-way, and even when a pid
# recorded in metadata has since been reused by an unrelated process.
#
# That covers every pid recorded under $D too: procmgr gives its daemons the
# caller's environment (SPEC §3 Spawn), and a recorded pid that no longer
# carries the mark is no longer ours to kill.
#
# bats waits for every process that holds its fd 3: start background
# processes with 3>&-.

: "${PROCMGR:=$BATS_TEST_DIRNAME/../../build/procmgr}"
: "${HELPERS:=$BATS_TEST_DIRNAME/../../build/helpers}"
DAEMON=$HELPERS/e-daemon

lc_setup() {
	T=$BATS_TEST_TMPDIR
	D=$T/pm
	export PM_TEST_MARK="$T"
	HFP=$("$PROCMGR" host-fingerprint)
	MD=$D/$HFP
}

# Run procmgr on the test's DIR, bounded so a hang fails one test only.
pm() {
	timeout -k 5 120 "$PROCMGR" --dir "$D" "$@" 3>&-
}

# Remember a pid to kill in teardown.
note_pid() {
	echo "$1" >>"$T/noted-pids"
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
	if [ -f "$T/noted-pids" ]; then
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done <"$T/noted-pids"
	fi
	# A monitor may fork or a daemon respawn while we kill: go twice.
	for round in 1 2; do
		for pid in $(lc_marked_pids); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
}

# True when pid exists and is not a zombie.
alive() {
	local state
	state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" \
		2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# wait_for SEC CMD...: retry CMD until it succeeds or SEC pass.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

gone() {
	! alive "$1"
}

# Milliseconds since the epoch, for elapsed-time bounds.
now_ms() {
	date +%s%3N
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
