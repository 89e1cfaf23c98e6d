#!/usr/bin/env bash
# run.sh [--quick] [CASE...] - procmgr's stress suite, black-box against
# the CLI. CASEs (default: all, in this order):
#   crash    SIGKILL the command at each of its system calls, one at a time
#   tree     SIGKILL the command, the monitor and the daemon (strace -f) at
#            the N-th call of any system call, N = 1, 2, ... until none is hit
#   random   SIGKILL the command at random moments (seed $STRESS_SEED)
#   reuse    a recorded daemon dies and a newcomer takes its pid
#            (steered through ns_last_pid)
#   race     2/8/32/64 concurrent ensure from nothing; ensure racing stop
#   corrupt  every kind of corrupt metadata, with a live bystander
# --quick (what `make check` runs) samples: every $STRESS_STEP-th system
# call (default 40) and every $STRESS_TREE_STEP-th N (default 16), fewer
# race and reuse trials, and only status and stop for each corrupt kind.
#
# Every trial runs as init of its own pid and mount namespace, on its own
# tmpfs, so it sees only its own processes and leaves nothing behind.
# Needs root, strace and util-linux's unshare. Uses $BUILD/procmgr and
# $BUILD/helpers/pm-sleeper (BUILD=build), or $PROCMGR and $SLEEPER.
# A failing trial's files go to $STRESS_OUT/failed/<trial> (default
# $BUILD/stress). Ends with "stress: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
export PROCMGR=${PROCMGR:-$top/$BUILD/procmgr}
export SLEEPER=${SLEEPER:-$top/$BUILD/helpers/pm-sleeper}
# the build's monitor, not an installed one (SPEC §6)
[ -n "${PROCMGR_MONITOR:-}" ] || [ ! -x "$top/$BUILD/procmgr-monitor" ] ||
	export PROCMGR_MONITOR="$top/$BUILD/procmgr-monitor"
OUT=${STRESS_OUT:-$top/$BUILD/stress}
QUICK=0
CASES=()
for a in "$@"; do
	case "$a" in
	--quick) QUICK=1 ;;
	crash | tree | random | reuse | race | corrupt) CASES+=("$a") ;;
	*) echo "usage: run.sh [--quick]" \
		"[crash|tree|random|reuse|race|corrupt]..." >&2
	   exit 2 ;;
	esac
done
[ ${#CASES[@]} -gt 0 ] || CASES=(crash tree random reuse race corrupt)
STEP=${STRESS_STEP:-40}
TREE_STEP=${STRESS_TREE_STEP:-16}
[ "$QUICK" = 1 ] || { STEP=1; TREE_STEP=1; }
[ "$QUICK" = 1 ] && export STRESS_QUICK=1
SCENARIOS=${STRESS_SCENARIOS:-start ensure ensure-stale ensure-changed restart stop
	stop-slow purge}
RANDOM=${STRESS_SEED:=7}

why=
[ "$(id -u)" = 0 ] || why="not root"
command -v strace >/dev/null || why="${why:+$why, }no strace"
command -v unshare >/dev/null || why="${why:+$why, }no unshare"
[ -x "$PROCMGR" ] && [ -x "$SLEEPER" ] || why="${why:+$why, }not built"
# a container may forbid new pid namespaces or ptrace
[ -n "$why" ] || unshare --pid --fork --mount-proc true 2>/dev/null ||
	why="unshare --pid --mount-proc is not permitted here"
[ -n "$why" ] || strace -o /dev/null true 2>/dev/null ||
	why="strace cannot trace here"
if [ -n "$why" ]; then
	echo "stress: skipped ($why)"
	echo "stress: 0 passed, 0 failed"
	exit 0
fi

rm -rf "$OUT/work" "$OUT/failed" "$OUT"/plan-* "$OUT/summary" "$OUT/stderr" \
	"$OUT/known.log" "$OUT/not-reached" "$OUT/times"
mkdir -p "$OUT/work" "$OUT/failed"
export WORK=$OUT/work KEEP=$OUT/failed
KNOWN=" $(grep -v '^#' "$here/known" | tr '\n' ' ') "
TOTAL=0 FAILED=0 XFAIL=0
declare -A BROKEN HELD

# trial ID SCRIPT ARG...: one trial in fresh namespaces. Sets OUTPUT and
# counts it: failed (a FAIL line, an unlisted KNOWN item, or a bad exit),
# known (only listed KNOWN items), passed.
trial() {
	local id=$1 script=$2 rc line item bad=0 xf=0 seen=" "
	shift 2
	local t0=$EPOCHREALTIME
	OUTPUT=$(TRIAL=$id timeout -k 5 300 unshare --pid --fork \
		--mount-proc --kill-child bash "$here/$script" "$@" \
		2>>"$OUT/stderr")
	rc=$?
	echo "$id $(awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $t0 }")" \
		>>"$OUT/times"
	C_TRIALS=$((C_TRIALS + 1))
	while IFS= read -r line; do
		case "$line" in
		FAIL*) echo "$line"; bad=1 ;;
		KNOWN*)
			echo "$line" >>"$OUT/known.log"
			item=${line#KNOWN 7.}
			item=${item%% *}
			case "$seen" in *" $item "*) ;; *)
				seen="$seen$item "
				BROKEN[$item]=$((${BROKEN[$item]:-0} + 1)) ;;
			esac
			case "$KNOWN" in
			*" $item "*) xf=1 ;;
			*) echo "$line (7.$item is not in tests/stress/known)"
			   bad=1 ;;
			esac ;;
		SKIP*) echo "$line" >>"$OUT/known.log"
			C_SKIPPED=$((C_SKIPPED + 1)) ;;
		HELD*)
			item=${line#HELD 7.}
			item=${item%% *}
			HELD[$item]=$((${HELD[$item]:-0} + 1)) ;;
		esac
	done <<<"$OUTPUT"
	if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		echo "FAIL $id: trial exited $rc (124: timed out)"
		bad=1
	fi
	if [ "$bad" = 1 ]; then
		C_FAILED=$((C_FAILED + 1))
	elif [ "$xf" = 1 ]; then
		C_KNOWN=$((C_KNOWN + 1))
	fi
}

injected() {
	case "$OUTPUT" in *"INJECTED yes"*) return 0 ;; esac
	return 1
}

case_crash() {
	local scen i s n total
	for scen in $SCENARIOS; do
		PLAN=$OUT/plan-$scen trial "plan-$scen" crash.sh "$scen" plan
		# "syscall occurrence" for each call, in the order made
		# strace starts the command with that execve: nothing to hit
		awk 'NR > 1 || $1 != "execve" { c[$1]++; print $1, c[$1] }' \
			"$OUT/plan-$scen" \
			>"$OUT/plan-$scen.n"
		total=$(wc -l <"$OUT/plan-$scen.n")
		i=0
		while read -r s n; do
			i=$((i + 1))
			[ $(((i - 1) % STEP)) = 0 ] || continue
			trial "crash-$scen-$i-$s-$n" crash.sh "$scen" cli "$s" "$n"
			if injected; then
				C_FAULTS=$((C_FAULTS + 1))
			else
				echo "crash-$scen-$i-$s-$n" >>"$OUT/not-reached"
			fi
		done <"$OUT/plan-$scen.n"
		C_NOTE="$C_NOTE $scen=$total"
	done
	C_NOTE="system calls per command:$C_NOTE"
}

case_tree() {
	local scen n last
	for scen in $SCENARIOS; do
		n=1 last=0
		while [ "$n" -le 5000 ]; do
			trial "tree-$scen-$n" crash.sh "$scen" tree "$n"
			injected || break
			C_FAULTS=$((C_FAULTS + 1))
			last=$n
			n=$((n + TREE_STEP))
		done
		C_NOTE="$C_NOTE $scen=$last"
	done
	C_NOTE="last N that hit a call:$C_NOTE"
}

# Random delays over each scenario's run time, as one uninjected run here
# measures it (plus a tenth, so some kills come just after the end).
case_random() {
	local scen t d max trials=50
	[ "$QUICK" = 1 ] && trials=2
	for scen in $SCENARIOS; do
		trial "time-$scen" crash.sh "$scen" time
		max=$(echo "$OUTPUT" | sed -n 's/^DURATION //p')
		max=$(((${max:-20000} * 11 / 10) + 1))
		for ((t = 1; t <= trials; t++)); do
			d=$(((RANDOM * 32768 + RANDOM) % max))
			trial "random-$scen-$t-${d}us" crash.sh "$scen" random "$d"
			injected && C_FAULTS=$((C_FAULTS + 1))
		done
		C_NOTE="$C_NOTE $scen=$((max / 1000))ms"
	done
	C_NOTE="seed $STRESS_SEED, delays up to:$C_NOTE"
}

case_reuse() {
	local v t trials=20
	[ "$QUICK" = 1 ] && trials=2
	for v in $(bash "$here/reuse.sh" --list); do
		for ((t = 1; t <= trials; t++)); do
			trial "reuse-$v-$t" reuse.sh "$v"
		done
	done
}

case_race() {
	local spec w t n mode
	local specs="ensure:2:40 ensure:8:20 ensure:32:20 ensure:64:100
		mixed:2:20 mixed:8:20 mixed:32:20 mixed:64:50"
	[ "$QUICK" = 1 ] && specs="ensure:2:2 ensure:8:2 ensure:32:1
		ensure:64:1 mixed:8:1 mixed:32:1"
	for spec in $specs; do
		IFS=: read -r mode w n <<<"$spec"
		for ((t = 1; t <= n; t++)); do
			trial "race-$mode-$w-$t" race.sh "$mode" "$w"
		done
	done
}

case_corrupt() {
	local k
	for k in $(bash "$here/corrupt.sh" --list); do
		trial "corrupt-$k" corrupt.sh "$k"
	done
}

for c in "${CASES[@]}"; do
	C_TRIALS=0 C_FAILED=0 C_KNOWN=0 C_FAULTS=0 C_SKIPPED=0 C_NOTE=
	t0=$SECONDS
	"case_$c"
	line="$c: $C_TRIALS trials, $C_FAILED failed, $C_KNOWN known"
	[ "$C_FAULTS" = 0 ] || line="$line, $C_FAULTS faults injected"
	[ "$C_SKIPPED" = 0 ] || line="$line, $C_SKIPPED could not set up"
	[ -z "$C_NOTE" ] || line="$line; $C_NOTE"
	echo "$line ($((SECONDS - t0))s)" | tee -a "$OUT/summary"
	TOTAL=$((TOTAL + C_TRIALS))
	FAILED=$((FAILED + C_FAILED))
	XFAIL=$((XFAIL + C_KNOWN))
done
for item in $(printf '%s\n' "${!BROKEN[@]}" "${!HELD[@]}" | sort -un); do
	echo "issue 7.$item: rule broken in ${BROKEN[$item]:-0} trials," \
		"held in ${HELD[$item]:-0} built to break it" |
		tee -a "$OUT/summary"
done
[ "$FAILED" = 0 ] && rm -rf "$OUT/work"
echo "stress: $((TOTAL - FAILED)) passed, $FAILED failed" \
	"($XFAIL of the passed broke only a rule listed in known)"
[ "$FAILED" = 0 ]
