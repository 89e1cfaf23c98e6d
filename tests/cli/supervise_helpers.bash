# supervise_helpers.bash - what the supervision tests (SPEC §6) share, on
# top of lifecycle_helpers.bash (lc_setup, lc_teardown, pm, DAEMON, ...).
#
# The monitor writes its events into the daemon's log; these helpers read
# them without the "procmgr: <time> " prefix, so a test can say what
# happened in the words of the log.

load lifecycle_helpers

# The default log of NAME (web when not given).
log_of() {
	echo "$MD/${1:-web}.log"
}

# procmgr's event lines of NAME's log, without "procmgr: <time> ".
events() {
	sed -n 's/^procmgr: [0-9][0-9T:Z-]* //p' "$(log_of "${1:-web}")" \
		2>/dev/null || true
}

# has_event ERE [NAME]: an event line of the log matches ERE.
has_event() {
	events "${2:-web}" | grep -qE -- "$1"
}

# count_events ERE [NAME]: how many event lines match ERE.
count_events() {
	events "${2:-web}" | grep -cE -- "$1" || true
}

# The parent of PID.
ppid_of() {
	awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$1/stat" 2>/dev/null
}

# parent_is PID PARENT
parent_is() {
	[ "$(ppid_of "$1")" = "$2" ]
}

# key_is NAME KEY VALUE: the key exists and holds VALUE.
key_is() {
	[ "$(cat "$MD/$1/$2" 2>/dev/null)" = "$3" ]
}

# key_has NAME KEY ERE: the key exists and matches ERE.
key_has() {
	grep -qE -- "$3" "$MD/$1/$2" 2>/dev/null
}

# ignores PID SIGNUM: PID has the signal in its ignored set.
ignores() {
	local mask
	mask=$(awk '/^SigIgn:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$mask" ] && (((16#$mask >> ($2 - 1)) & 1))
}

# Read one JSON document on stdin and print the JSON of the Python
# expression $1 over it (d), e.g. json 'd["exit"]["reason"]'.
json() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(json.dumps(eval(sys.argv[1])))' "$1"
}

# The pids in a file, one a line, as a test wrote them; each is noted for
# the teardown.
pids_in() {
	local p
	for p in $(cat "$1"); do
		note_pid "$p"
		echo "$p"
	done
}

# lines_in FILE N: FILE has N lines (a wait_for condition).
lines_in() {
	[ -e "$1" ] && [ "$(wc -l <"$1")" -eq "$2" ]
}

# ---- a private pid namespace, for ps and killall -------------------
#
# procmgr ps and killall see every daemon of the user on the machine; as
# root on a shared machine that is other people's. In a new pid namespace
# with its own /proc they see only the processes started in it, and
# everything in it dies when its first process (the script) ends.

# Skip when this user cannot make one (no root, no user namespaces).
need_pid_ns() {
	unshare -pf --mount-proc true 2>/dev/null ||
		skip "needs unshare -pf --mount-proc (root, or user namespaces)"
}

# in_ns SCRIPT: run the bash SCRIPT in a private pid namespace. It has
# pm (procmgr on $D), alive, gone, wait_for and the test's variables.
in_ns() {
	export D T PROCMGR DAEMON HELPERS
	export -f pm alive gone wait_for as_nobody as_uid_gid
	unshare -pf --mount-proc bash -c "set -u; $1" 3>&-
}

# A DIR (and scratch space) owned by nobody, outside $T, which nobody
# cannot enter; removed by the teardown. Its path in $ND.
nobody_dir() {
	ND=$(mktemp -d /tmp/pm-nobody.XXXXXX)
	echo "$ND" >>"$T/cleanup-dirs"
	chown nobody:nogroup "$ND"
}


# failing SYSCALL ERRNO[:when=N] CMD...: run procmgr CMD on $D with
# SYSCALL of the procmgr process itself (not its children) failing with
# ERRNO, each call or the Nth. LeakSanitizer cannot check a traced
# process (it would fail at exit, with exit 1 and lines of its own on
# stderr): it is off here.
failing() {
	local call=$1 err=$2
	shift 2
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout -k 5 120 strace -o /dev/null \
		-e inject="$call:error=$err" "$PROCMGR" --dir "$D" "$@" 3>&-
}
