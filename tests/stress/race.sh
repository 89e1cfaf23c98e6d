#!/usr/bin/env bash
# race.sh MODE WIDTH - one race trial, run by run.sh as init of a private
# pid namespace. WIDTH callers are released at the same moment:
#   ensure  WIDTH x `ensure` from nothing: every caller succeeds and prints
#           the same pid, and exactly that one daemon runs
#   mixed   WIDTH/2 x `ensure` against WIDTH/2 x `stop`, interleaved: all
#           succeed, and afterwards status agrees with /proc, no daemon is
#           left that the metadata does not name, and the next ensure
#           leaves exactly one
# A caller that fails because the uid ran out of inotify instances is
# issue 7.5.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" || exit 1
MODE=$1 WIDTH=$2

# The starting gate: every caller blocks reading one line from a FIFO that
# this shell holds open for writing; one write releases them all.
mkfifo "$WORK/gate"
exec 9<>"$WORK/gate"
for ((i = 0; i < WIDTH; i++)); do
	cmd=(ensure "$NAME" -- "$SLEEPER")
	[ "$MODE" = mixed ] && [ $((i % 2)) = 1 ] && cmd=(stop "$NAME")
	(
		exec 9>&-
		read -r _ <"$WORK/gate"
		pm "${cmd[@]}" >"$WORK/out.$i" 2>"$WORK/err.$i"
		echo $? >"$WORK/rc.$i"
	) &
done
# let the callers reach the gate, then open it
sleep 0.2
printf '%*s' "$WIDTH" '' | tr ' ' '\n' >&9
wait
exec 9>&-

pids=
for ((i = 0; i < WIDTH; i++)); do
	rc=$(cat "$WORK/rc.$i")
	out=$(cat "$WORK/out.$i")
	what=ensure
	[ "$MODE" = mixed ] && [ $((i % 2)) = 1 ] && what=stop
	if [ "$rc" != 0 ]; then
		if grep -qi 'too many open files\|inotify' "$WORK/err.$i"; then
			known 5 "$what #$i: exit $rc: $(head -c 300 "$WORK/err.$i")"
		else
			fail "$what #$i: exit $rc: $(head -c 300 "$WORK/err.$i")"
		fi
	elif [ "$what" = ensure ]; then
		[[ $out =~ ^[0-9]+$ ]] || fail "ensure #$i printed '$out'"
		pids="$pids $out"
	fi
done
settle
check_lock_free
if [ "$MODE" = ensure ]; then
	uniq=$(echo $pids | tr ' ' '\n' | sort -u | tr '\n' ' ')
	[ "$(echo $uniq | wc -w)" -le 1 ] ||
		fail "$WIDTH callers printed different pids: $uniq"
	[ "$(daemons | tr '\n' ' ')" = "$uniq" ] ||
		fail "callers printed '$uniq', daemons alive: '$(daemons)'"
fi
check_truth
check_recovery -- "$SLEEPER"
finish
