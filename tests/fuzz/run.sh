#!/bin/sh
# run.sh TARGET... - run each libFuzzer target for $FUZZ_SECONDS (30) over
# its seed corpus tests/fuzz/corpus/<name> plus a working corpus of its own
# under build/fuzz/corpus/<name> (new inputs go there, not into the tree),
# and say per target how many inputs it ran. A target that finds a bug
# leaves the input as build/fuzz/crash-<name>-*: fix the bug, add a unit
# test, and copy the input into tests/fuzz/corpus/<name>/ so `make check`
# replays it. Ends with "fuzz: N targets, N failed, N executions".
secs=${FUZZ_SECONDS:-30}
scratch=$(mktemp -d "${TMPDIR:-/dev/shm}/procmgr-fuzz-run.XXXXXX" 2>/dev/null ||
	mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0 total=0 execs=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz-}
	seeds=tests/fuzz/corpus/$name
	work=build/fuzz/corpus/$name
	mkdir -p "$work" "$seeds"
	log=build/fuzz/$name.log
	FUZZ_SCRATCH=$scratch "$bin" -max_total_time="$secs" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/crash-$name-" \
		"$work" "$seeds" >"$log" 2>&1
	rc=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	c=$(ls "$work" | wc -l)
	total=$((total + 1))
	execs=$((execs + ${n:-0}))
	if [ "$rc" = 0 ]; then
		echo "$name: ${n:-?} executions in ${secs}s, corpus $c, ok"
	else
		failed=$((failed + 1))
		echo "$name: FAILED (exit $rc) after ${n:-?} executions; see $log"
		grep -E 'ERROR|fuzz check failed|SUMMARY|Test unit written' \
			"$log" | head -n 5 | sed 's/^/  /'
	fi
done
echo "fuzz: $total targets, $failed failed, $execs executions"
[ "$failed" = 0 ]
