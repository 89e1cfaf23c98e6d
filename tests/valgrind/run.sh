#!/bin/sh
# run.sh - the CLI suite (bats tests/cli) with every procmgr and every
# procmgr-monitor run under memcheck (tests/valgrind/procmgr and
# tests/valgrind/procmgr-monitor). Passes when every test passes, or
# fails only if listed in tests/valgrind/known (with the reason), and no
# process left a memcheck report. A listed test that passes is reported
# (remove it once its cause is gone). Ends with
# "valgrind: N passed, N failed (N known)".
BUILD=${BUILD:-build}
top=$(pwd)
out=$top/build/valgrind
rm -rf "$out"
mkdir -p "$out/logs"
# a test runs procmgr as nobody too
chmod 1777 "$out/logs"
export VALGRIND_PROCMGR="$top/$BUILD/procmgr" VALGRIND_LOGS="$out/logs"
export PROCMGR="$top/tests/valgrind/procmgr" HELPERS="$top/$BUILD/helpers"
# the monitor program runs under memcheck too, through its own wrapper
export VALGRIND_MONITOR="$top/$BUILD/procmgr-monitor"
export PROCMGR_MONITOR="$top/tests/valgrind/procmgr-monitor"
# Two files side by side (bats needs GNU parallel for it), each file's
# tests in order, as tests/run.sh does: one at a time, memcheck's
# start-up makes a full run take most of an hour.
jobs=
command -v parallel >/dev/null &&
	jobs="--jobs ${JOBS:-2} --no-parallelize-within-files"
bats $jobs --tap tests/cli/*.bats </dev/null >"$out/tap" 2>&1
known=$(grep -v '^#' tests/valgrind/known | cut -f1 | sed '/^$/d')
passed=$(grep -c '^ok ' "$out/tap")
failed=0 xfail=0
grep '^not ok ' "$out/tap" | sed -E 's/^not ok [0-9]+ //' >"$out/not-ok"
while IFS= read -r t; do
	if printf '%s\n' "$known" | grep -qxF -- "$t"; then
		xfail=$((xfail + 1))
	else
		failed=$((failed + 1))
		echo "not ok: $t"
	fi
done <"$out/not-ok"
printf '%s\n' "$known" | while IFS= read -r t; do
	[ -n "$t" ] && ! grep -qxF -- "$t" "$out/not-ok" &&
		echo "listed in tests/valgrind/known, passed this time: $t"
done
# valgrind's warning that it does not know pidfd_open (syscall 434) is
# not a report about procmgr: drop it, count the rest.
reports=0 nopidfd=0
for f in "$out"/logs/vg.*; do
	[ -s "$f" ] || continue
	grep -q 'unhandled amd64-linux syscall: 434' "$f" &&
		nopidfd=$((nopidfd + 1))
	grep -v -e 'unhandled amd64-linux syscall: 434' \
		-e 'You may be able to write your own handler' \
		-e 'README_MISSING_SYSCALL_OR_IOCTL' \
		-e 'Nevertheless we consider this a bug' \
		-e 'valgrind.org/support/bug_reports' "$f" >"$f.report"
	[ -s "$f.report" ] || continue
	reports=$((reports + 1))
	echo "memcheck report $f:"
	head -n 40 "$f.report"
done
[ "$reports" = 0 ] || failed=$((failed + 1))
echo "valgrind: $(ls "$out"/logs/vg.* | grep -vc report) procmgr and monitor" \
	"processes checked, $reports with a memcheck report," \
	"$nopidfd without pidfd_open"
echo "valgrind: $passed passed, $failed failed ($xfail known)"
[ "$failed" = 0 ]
