#!/bin/sh
# Run every unit suite (Check), every CLI file (bats) and the Python
# binding's tests (pytest) against the build in $BUILD, show the failures
# and the skips, and end with one line: "N passed, N failed, N skipped". A
# skipped test is one that cannot run here (it needs root, a capability, a
# kernel feature): it counts as skipped, not as passed. ONLY=unit, cli or
# python runs one of the three. JOBS (default 4) suites run at once: the
# tests mostly wait on processes, so even two cores keep four busy.
BUILD=${BUILD:-build}
JOBS=${JOBS:-4}
PYTHON=${PYTHON:-python3}
top=$(pwd)
# The library finds the monitor beside the program that uses it; the test
# programs live elsewhere, so point them at this build's.
export PROCMGR_MONITOR="$top/$BUILD/procmgr-monitor"
passed=0
failed=0
skipped=0
log=$(mktemp)
# A coverage build's processes that run as another user (nobody) cannot
# write its counters, and libgcov would say so on the stderr the tests
# read: theirs go to a scratch tree anyone may write (tests/cli/helpers.bash
# points them there).
GCOV_OTHER=
if ls "$BUILD"/lib/*.gcno >/dev/null 2>&1; then
	GCOV_OTHER=$(mktemp -d)
	chmod 1777 "$GCOV_OTHER"
	export GCOV_OTHER
fi
trap 'rm -rf "$log" ${GCOV_OTHER:+"$GCOV_OTHER"}' EXIT

# Pids of live (non-zombie) processes running one of this build's helper
# programs: a test must kill what it starts, so any new one left after the
# run is a leak.
helper_pids() {
	for d in /proc/[0-9]*; do
		case "$(readlink "$d/exe" 2>/dev/null)" in
		"$top/$BUILD/helpers/"* | "$top/$BUILD/procmgr-monitor")
			grep -q '^State:.Z' "$d/status" 2>/dev/null ||
				echo "${d#/proc/}" ;;
		esac
	done
}
before=$(helper_pids)

if [ -z "${ONLY:-}" ] || [ "$ONLY" = unit ]; then
	# Each suite into its own log, JOBS at a time; read in order after.
	logs=$(mktemp -d)
	trap 'rm -rf "$log" "$logs" ${GCOV_OTHER:+"$GCOV_OTHER"}' EXIT
	for t in "$BUILD"/tests/test-*; do
		[ -x "$t" ] && echo "$t"
	done | HELPERS="$top/$BUILD/helpers" CK_DEFAULT_TIMEOUT=120 \
		xargs -P "$JOBS" -I{} sh -c '"$1" >"$2/${1##*/}.log" 2>&1' \
		sh {} "$logs"
	for t in "$BUILD"/tests/test-*; do
		[ -x "$t" ] || continue
		cp "$logs/${t##*/}.log" "$log"
		line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
		if [ -z "$line" ]; then
			cat "$log"
			echo "unit $(basename "$t"): no summary (crashed?)"
			failed=$((failed + 1))
			continue
		fi
		n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
		f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
		e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
		# tu_skip() ends a test that Check then counts as passed.
		s=$(grep -cE '^SKIP: ' "$log")
		# A failure's own lines, and what a sanitizer said about it.
		if [ $((f + e)) -gt 0 ]; then
			grep -vE '^(Running suite|[0-9]+%:)' "$log"
		else
			grep -E '^SKIP: ' "$log"
		fi
		echo "unit $(basename "$t"): $line, Skipped: $s"
		passed=$((passed + n - f - e - s))
		failed=$((failed + f + e))
		skipped=$((skipped + s))
	done
	# The files of lib/ depend on each other without a cycle.
	if "$PYTHON" tests/lib-graph.py "$BUILD" >"$log" 2>&1; then
		echo "unit lib-graph: no cycle between lib/ files"
		passed=$((passed + 1))
	else
		cat "$log"
		failed=$((failed + 1))
	fi
fi

if [ -z "${ONLY:-}" ] || [ "$ONLY" = cli ]; then
	export PROCMGR="$top/$BUILD/procmgr" HELPERS="$top/$BUILD/helpers"
	# bats waits for whatever holds its fd 3; </dev/null keeps stdin out.
	# Files run side by side (bats needs GNU parallel for it), each
	# file's tests in order.
	jobs=
	command -v parallel >/dev/null &&
		jobs="--jobs $JOBS --no-parallelize-within-files"
	bats $jobs --tap tests/cli/*.bats </dev/null >"$log" 2>&1
	# A bats skip is an "ok" line that ends "# skip [reason]".
	grep -E '^not ok|^#|^ok .* # skip' "$log"
	s=$(grep -cE '^ok .* # skip' "$log")
	p=$(($(grep -cE '^ok ' "$log") - s))
	f=$(grep -cE '^not ok ' "$log")
	echo "cli: $p ok, $f not ok, $s skipped"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
fi

if [ -z "${ONLY:-}" ] || [ "$ONLY" = python ]; then
	# The binding loads this build's library, whatever the variant. A
	# sanitized library needs its runtime loaded first, into an
	# interpreter that was not built with it (and leaks by design).
	(
		export PROCMGR_LIB="$top/$BUILD/libprocmgr.so.0" BUILD \
			PROCMGR="$top/$BUILD/procmgr" HELPERS="$top/$BUILD/helpers"
		if nm -D "$PROCMGR_LIB" 2>/dev/null | grep -q __asan_init; then
			export LD_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so)"
			export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
		fi
		"$PYTHON" -m pytest -q -rfEs -p no:cacheprovider tests/python
	) </dev/null >"$log" 2>&1
	summary=$(tail -n 1 "$log")
	p=$(echo "$summary" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
	s=$(echo "$summary" | grep -oE '[0-9]+ skipped' | cut -d' ' -f1)
	f=0
	for n in $(echo "$summary" | grep -oE '[0-9]+ (failed|errors?)' |
		cut -d' ' -f1); do
		f=$((f + n))
	done
	if ! echo "$summary" | grep -qE '[0-9]+ (passed|failed|errors?)'; then
		cat "$log"
		echo "python: no summary (crashed?)"
		f=1
	elif [ "$f" -gt 0 ]; then
		grep -vE '^[.sFEx]+ *(\[ *[0-9]+%\])?$' "$log"
	else
		# -rs: one "SKIPPED [n] file:line: reason" line a skip
		grep -E '^SKIPPED ' "$log"
	fi
	echo "python: ${p:-0} passed, $f failed, ${s:-0} skipped"
	passed=$((passed + ${p:-0}))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
fi

# What ran as another user counts too: add its counters to the build's.
if [ -n "$GCOV_OTHER" ] && [ -d "$GCOV_OTHER$top/$BUILD" ]; then
	merged=$(mktemp -d)
	gcov-tool merge -o "$merged" "$top/$BUILD" "$GCOV_OTHER$top/$BUILD" \
		>/dev/null 2>&1 && cp -r "$merged/." "$top/$BUILD/"
	rm -rf "$merged"
fi

sleep 1 # a test's own teardown may still be reaping
leaked=
for pid in $(helper_pids); do
	echo " $before " | tr '\n' ' ' | grep -q " $pid " && continue
	leaked="$leaked $pid"
	echo "leaked process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	kill -9 "$pid" 2>/dev/null
done
[ -n "$leaked" ] && failed=$((failed + 1))

# "N passed, N failed" first, as CI and older scripts read it.
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
