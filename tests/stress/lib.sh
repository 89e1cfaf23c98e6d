# lib.sh - what the stress trials share. Sourced by a trial script that
# runs as init of a private pid and mount namespace
# (unshare --pid --fork --mount-proc), so /proc lists the trial's own
# processes and nothing else, and everything the trial started dies with
# it: the harness never has to find, let alone kill, a process by name.
#
# Environment (set by run.sh): PROCMGR and SLEEPER (absolute paths),
# WORK (an empty directory; each trial mounts a private tmpfs on it),
# TRIAL (this trial's id, for messages), KEEP (where a failing trial's
# files are copied).

: "${PROCMGR:?}" "${SLEEPER:?}" "${WORK:?}" "${TRIAL:?}" "${KEEP:?}"
NAME=web
FAILED=0
STOP_OPTS=()	# options of the stop that ends a trial

# A private tmpfs: fast (fsync is free), and gone with the namespace.
mount -t tmpfs -o mode=0700 stress "$WORK" || exit 1
D=$WORK/m
LOG=$WORK/log
: >"$LOG"
HFP=$("$PROCMGR" host-fingerprint)
META=$D/$HFP/$NAME
BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)

pm() {
	"$PROCMGR" --dir "$D" "$@"
}

note() {
	printf '%s\n' "$*" >>"$LOG"
}

# Record a failure; the trial goes on so one run shows every broken rule.
fail() {
	FAILED=1
	printf 'FAIL %s: %s\n' "$TRIAL" "$*"
	note "FAIL: $*"
}

# A broken rule that an item of issue 7 is about: run.sh counts it as a
# failure unless the item is listed in tests/stress/known (still open).
known() {
	local item=$1
	shift
	printf 'KNOWN 7.%s %s: %s\n' "$item" "$TRIAL" "$*"
	note "KNOWN 7.$item: $*"
}

# A rule tied to an item held in a trial built to break it.
held() {
	printf 'HELD 7.%s %s\n' "$1" "$TRIAL"
}

# Copy what a failing trial leaves (metadata, logs, process list) out of
# the tmpfs before the namespace takes it away.
finish() {
	local dest
	if [ "$FAILED" = 1 ] || [ -n "${STRESS_KEEP_ALL:-}" ]; then
		dest=$KEEP/$TRIAL
		mkdir -p "$dest"
		ps -eo pid,ppid,sid,stat,args >"$dest/ps" 2>&1
		cp -a "$WORK/." "$dest/" 2>/dev/null
	fi
	return "$FAILED"
}

# proc_field PID: sets STATE, PPID_OF, START (fields 3, 4, 22 of
# /proc/PID/stat); false when PID is gone. comm ends at the last ')'.
proc_field() {
	local line rest
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${line##*) }
	# shellcheck disable=SC2086
	set -- $rest
	STATE=$1 PPID_OF=$2 START=${20}
	[ -n "$START" ]
}

# Live (not zombie) pids running executable $1.
pids_of() {
	local d
	for d in /proc/[0-9]*; do
		# -ef: same file (device and inode), with no readlink to fork
		[ "$d/exe" -ef "$1" ] || continue
		proc_field "${d#/proc/}" || continue
		[ "$STATE" = Z ] || [ "$STATE" = X ] || echo "${d#/proc/}"
	done
}

# Wait until PID is gone or a zombie: SIGKILL takes effect only once the
# process is scheduled again, which on a busy machine is not at once.
wait_dead() {
	local end=$((SECONDS + 10))
	while proc_field "$1" && [ "$STATE" != Z ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			fail "pid $1 is still alive 10 s after SIGKILL"
			return 1
		fi
		sleep 0.005
	done
}

daemons() {
	pids_of "$SLEEPER"
}

# True when PID has a SIGKILL pending: it is as good as dead, but /proc
# still shows it running until it is scheduled.
dying() {
	local k v
	while read -r k v; do
		case "$k" in
		SigPnd: | ShdPnd:) [ $((0x$v & 0x100)) = 0 ] || return 0 ;;
		esac
	done 2>/dev/null <"/proc/$1/status"
	return 1
}

# The monitor runs as a copy of procmgr, or as its own program: SPEC §6's
# procmgr-monitor ($PROCMGR_MONITOR, or installed beside procmgr).
MONITOR=${PROCMGR_MONITOR:-$(dirname "$PROCMGR")/procmgr-monitor}
[ -x "$MONITOR" ] || MONITOR=$PROCMGR

# True while something is still on its way: a tracer, a dying process, or a
# procmgr or monitor process that is not a monitor waiting for a live
# daemon (a CLI, a monitor about to record an exit, a daemon not yet
# exec'd).
transient() {
	local p parents=" "
	[ -z "$(pids_of /usr/bin/strace)" ] || return 0
	for p in $(daemons); do
		dying "$p" && return 0
		proc_field "$p" && parents="$parents$PPID_OF "
	done
	for p in $(pids_of "$PROCMGR") $(pids_of "$MONITOR"); do
		case "$parents" in *" $p "*) ;; *) return 0 ;; esac
	done
	return 1
}

# Wait (up to $1 seconds, default 15) until nothing is transient.
settle() {
	local end=$((SECONDS + ${1:-15}))
	while transient; do
		if [ "$SECONDS" -ge "$end" ]; then
			fail "processes did not settle within ${1:-15}s:" \
				"$(ps -eo pid,ppid,stat,args | tr '\n' ';')"
			return 1
		fi
		sleep 0.01
	done
}

# status_of: run `status --json`, set ST_RC, ST_STATE, ST_PID.
status_of() {
	local json
	json=$(pm --json status "$NAME" 2>>"$LOG")
	ST_RC=$?
	ST_STATE= ST_PID=
	[[ $json =~ \"state\":\ \"([a-z]+)\" ]] && ST_STATE=${BASH_REMATCH[1]}
	[[ $json =~ \"pid\":\ ([0-9]+|null) ]] && ST_PID=${BASH_REMATCH[1]}
	note "status: rc=$ST_RC state=$ST_STATE pid=$ST_PID"
}

# The lifecycle lock is free, and a message file left behind names no live
# holder. Free within a generous bound, not at once: a monitor that got the
# lock from a starter killed mid-start gives it up when it sees the starter
# gone, and on a loaded machine it may not have run yet when the trial
# settles. A lock that is never given up still fails.
check_lock_free() {
	local msg pid
	if ! pm lock "$NAME" --lock-timeout 30 -- true >>"$LOG" 2>&1; then
		fail "lock of $NAME is not free after 30 s"
		return
	fi
	msg=$(cat "$D/.lock.$NAME.lock_message" 2>/dev/null) || return 0
	pid=${msg%% *}
	if [[ $pid =~ ^[0-9]+$ ]] && proc_field "$pid" && [ "$STATE" != Z ]
	then
		fail "lock message names live pid $pid: $msg"
	fi
}

# status agrees with /proc, and no daemon runs that the metadata does not
# name (in this namespace every pm-sleeper is one of this trial's).
check_truth() {
	local alive recorded boot
	status_of
	alive=$(daemons | tr '\n' ' ')
	case "$ST_RC:$ST_STATE" in
	0:running)
		if ! proc_field "$ST_PID" || [ "$STATE" = Z ]; then
			fail "status says running, pid $ST_PID is not alive"
			return
		fi
		read -r recorded boot <"$META/start_time" 2>/dev/null
		[ "$recorded" = "$START" ] && [ "$boot" = "$BOOT_ID" ] ||
			fail "status says running, pid $ST_PID started at" \
				"$START, start_time key says '$recorded $boot'"
		[ "/proc/$ST_PID/exe" -ef "$SLEEPER" ] ||
			fail "status says running, pid $ST_PID is not the" \
				"daemon: $(tr '\0' ' ' <"/proc/$ST_PID/cmdline")"
		[ "$alive" = "$ST_PID " ] ||
			fail "daemons alive: '$alive', metadata names $ST_PID only"
		;;
	1:stale | 3:stopped)
		[ -z "$alive" ] ||
			fail "status says $ST_STATE, daemons alive: $alive"
		;;
	*)
		fail "status: exit $ST_RC, state '$ST_STATE'" ;;
	esac
}

# The next ensure leaves exactly one daemon, and keeps a running one whose
# fingerprint it shares; stop then leaves none. $@: ensure's options and
# the daemon's command.
check_recovery() {
	local before_state=$ST_STATE before_pid=$ST_PID before_fp after_fp out
	before_fp=$(cat "$META/fingerprint" 2>/dev/null)
	out=$(pm ensure "$NAME" "$@" 2>>"$LOG")
	local rc=$?
	note "recovery ensure: rc=$rc out=$out"
	[ "$rc" = 0 ] && [[ $out =~ ^[0-9]+$ ]] || {
		fail "ensure after the fault: exit $rc, output '$out'"
		return
	}
	settle || return
	[ "$(daemons | tr '\n' ' ')" = "$out " ] ||
		fail "after ensure (pid $out) the daemons are:" \
			"'$(daemons | tr '\n' ' ')'"
	after_fp=$(cat "$META/fingerprint" 2>/dev/null)
	if [ "$before_state" = running ] && [ "$before_fp" = "$after_fp" ] &&
	   [ "$before_pid" != "$out" ]; then
		fail "ensure replaced running pid $before_pid (same" \
			"fingerprint) with $out"
	fi
	check_truth
	[ "$ST_STATE" = running ] && [ "$ST_PID" = "$out" ] ||
		fail "after ensure status is '$ST_STATE' pid $ST_PID, not $out"
	pm stop "$NAME" "${STOP_OPTS[@]}" >>"$LOG" 2>&1 ||
		fail "stop after ensure: exit $?"
	settle || return
	[ -z "$(daemons)" ] || fail "daemons left after stop: $(daemons)"
	status_of
	[ "$ST_RC" = 3 ] || fail "status after stop: exit $ST_RC, not 3"
	[ ! -e "$D/.lock.$NAME.lock_message" ] ||
		fail "stop left the lock message file"
}

# Files a crash left behind: temp keys (.KEY.XXXXXXXX) in the metadata
# directory and directories moved aside by purge (.NAME.purge.*).
litter() {
	find "$D/$HFP" -mindepth 1 -name '.*' 2>/dev/null
}
