#!/usr/bin/env bash
# corrupt.sh KIND - one corrupt-metadata trial, run by run.sh as init of a
# private pid namespace. A live bystander (a pm-sleeper procmgr did not
# start) is named by the corrupt metadata wherever a careless reader could
# land on it: its pid inside a garbled pid key, its real start_time beside
# a garbled pid, its pid beside a garbled start_time. Then status, status
# --json, list, get, stop, ensure, restart, start, purge and logs each run
# on a fresh copy of the corruption, and must:
#   - never crash, hang or print a sanitizer report, and print valid JSON;
#   - say stale (exit 1), with a warning naming the file for a key that
#     cannot be parsed or read (EXPECT=warn), or refuse an unsafe directory
#     with an error naming it (EXPECT=refuse; for another user's directory,
#     root may read it but every change is refused: EXPECT=readonly);
#   - never signal the bystander: it is alive at the end.
# KINDs: corrupt.sh --list.
here=$(cd "$(dirname "$0")" && pwd)

KINDS="pid-garbage pid-trailing-garbage pid-leading-garbage pid-negative
pid-zero pid-one pid-minus-one pid-huge pid-int-max-plus-1 pid-wraps
pid-plus-sign pid-hex pid-float pid-exponent pid-two-lines pid-two-words
pid-nul-after pid-nul-before pid-binary pid-high-bytes pid-arabic-digits
pid-fullwidth-digits pid-empty pid-blank pid-2mib pid-symlink
pid-dangling-symlink pid-fifo pid-dir pid-chardev pid-socket
st-empty st-garbage st-no-boot-id st-short-boot-id st-negative st-plus
st-huge st-swapped st-boot-trailing st-upper-boot st-nul-inside
st-nul-after st-binary st-other-start st-other-boot st-float st-2mib
st-symlink st-fifo st-dir
pn-empty pn-root pn-partial pn-other pn-longer pn-binary pn-nul-after
pn-fifo pn-dir bare-pid-older
exit-garbage exit-binary exit-status-huge exit-signal-bogus exit-nul
exit-2mib exit-dir exit-fifo fp-binary fp-inputs-garbage socket-binary
cmdline-binary log-binary log-dir log-fifo custom-key-binary
name-symlink name-file name-fifo name-world-writable name-group-writable
name-foreign-owner hostfp-symlink hostfp-world-writable dir-world-writable
dir-symlink"
if [ "${1:-}" = --list ]; then
	echo $KINDS
	exit 0
fi
. "$here/lib.sh" || exit 1
KIND=$1
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# a sanitizer build must not pass a report off as "exit 1, stale"
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=86

"$SLEEPER" </dev/null >/dev/null 2>&1 &
B=$!
proc_field "$B"
BSTART=$START
ID="$BSTART $BOOT_ID"
OTHER_BOOT=00000000-0000-4000-8000-000000000000
[ "$OTHER_BOOT" != "$BOOT_ID" ] || OTHER_BOOT=11111111-1111-4111-8111-111111111111
EXPECT=warn KEY= ITEM= LIST_ITEM= ELSEWHERE=$WORK/elsewhere

# key NAME: write stdin to key NAME of the metadata, byte for byte
key() {
	cat >"$META/$1"
}

# NAME's metadata, as a working procmgr would have left it for the bystander
# (pid, start_time), in an elsewhere directory to plant as a symlink.
planted() {
	mkdir -p -m 0700 "$ELSEWHERE/$NAME"
	printf %s "$B" >"$ELSEWHERE/$NAME/pid"
	printf %s "$ID" >"$ELSEWHERE/$NAME/start_time"
}

# Build the corruption from nothing (the last command may have changed it).
make_kind() {
	[ -d "$D" ] && chmod -R u+rwx "$D" 2>/dev/null
	rm -rf "${D:?}" "$ELSEWHERE" "$WORK/fifo" "$WORK/realdir"
	mkdir -p "$D"
	mkdir -m 0700 "$D/$HFP" "$META"
	case "$KIND" in
	pid-* | st-*) printf %s "$ID" | key start_time ;;
	esac
	case "$KIND" in
	pid-garbage) printf abc | key pid ;;
	pid-trailing-garbage) printf '%s abc' "$B" | key pid ;;
	pid-leading-garbage) printf 'abc%s' "$B" | key pid ;;
	pid-negative) printf -- '-%s' "$B" | key pid ;;
	pid-zero) printf 0 | key pid ;;
	pid-one) printf 1 | key pid ;;
	pid-minus-one) printf -- -1 | key pid ;;
	pid-huge) printf 99999999999999999999999 | key pid ;;
	pid-int-max-plus-1) printf 2147483648 | key pid ;;
	pid-wraps) printf %s $((4294967296 + B)) | key pid ;;
	pid-plus-sign) printf '+%s' "$B" | key pid ;;
	pid-hex) printf '0x%x' "$B" | key pid ;;
	pid-float) printf '%s.0' "$B" | key pid ;;
	pid-exponent) printf '%se0' "$B" | key pid ;;
	pid-two-lines) printf '%s\n%s\n' "$B" "$B" | key pid ;;
	pid-two-words) printf '%s %s' "$B" "$B" | key pid ;;
	pid-nul-after) printf '%s\0junk' "$B" | key pid; ITEM=1 ;;
	pid-nul-before) printf '\0%s' "$B" | key pid ;;
	pid-binary) printf '\xff\xfe\x00\x01\x80' | key pid ;;
	pid-high-bytes) printf '\x80%s\xff' "$B" | key pid ;;
	pid-arabic-digits) printf '\xd9\xa7' | key pid ;;
	pid-fullwidth-digits) printf '\xef\xbc\x97' | key pid ;;
	pid-empty) : | key pid ;;
	pid-blank) printf ' \n\t ' | key pid ;;
	pid-2mib) head -c 2097152 /dev/zero | tr '\0' 1 | key pid ;;
	pid-symlink)
		printf %s "$B" >"$WORK/pidfile"
		ln -s "$WORK/pidfile" "$META/pid" ;;
	pid-dangling-symlink) ln -s /nonexistent/pid "$META/pid" ;;
	pid-fifo) mkfifo "$META/pid" ;;
	pid-dir) mkdir "$META/pid" ;;
	pid-chardev) mknod "$META/pid" c 1 3 ;;
	pid-socket)
		"$PY" -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$META/pid" ;;
	esac
	case "$KIND" in
	st-* | pn-* | bare-pid-older) printf %s "$B" | key pid ;;
	esac
	KEY=start_time
	case "$KIND" in
	st-empty) : | key start_time ;;
	st-garbage) printf abc | key start_time ;;
	st-no-boot-id) printf %s "$BSTART" | key start_time ;;
	st-short-boot-id) printf '%s 1234-5678' "$BSTART" | key start_time ;;
	st-negative) printf -- '-%s %s' "$BSTART" "$BOOT_ID" | key start_time ;;
	st-plus) printf '+%s %s' "$BSTART" "$BOOT_ID" | key start_time ;;
	st-huge) printf '99999999999999999999999 %s' "$BOOT_ID" |
			key start_time ;;
	st-swapped) printf '%s %s' "$BOOT_ID" "$BSTART" | key start_time ;;
	st-boot-trailing) printf '%s %s0' "$BSTART" "$BOOT_ID" |
			key start_time ;;
	st-upper-boot) printf '%s %s' "$BSTART" "${BOOT_ID^^}" | key start_time
		EXPECT=stale ;;
	st-nul-inside) printf '%s\0 %s' "$BSTART" "$BOOT_ID" | key start_time ;;
	st-nul-after) printf '%s %s\0junk' "$BSTART" "$BOOT_ID" |
			key start_time
		ITEM=1 ;;
	st-binary) printf '\x01\x02\xff %s' "$BOOT_ID" | key start_time ;;
	st-other-start) printf '%s %s' $((BSTART + 1)) "$BOOT_ID" |
			key start_time
		EXPECT=stale ;;
	st-other-boot) printf '%s %s' "$BSTART" "$OTHER_BOOT" | key start_time
		EXPECT=stale ;;
	st-float) printf '%s.0 %s' "$BSTART" "$BOOT_ID" | key start_time ;;
	st-2mib) head -c 2097152 /dev/zero | tr '\0' 1 | key start_time ;;
	st-symlink)
		printf %s "$ID" >"$WORK/stfile"
		rm -f "$META/start_time"
		ln -s "$WORK/stfile" "$META/start_time" ;;
	st-fifo) rm -f "$META/start_time"; mkfifo "$META/start_time" ;;
	st-dir) rm -f "$META/start_time"; mkdir "$META/start_time" ;;
	esac
	case "$KIND" in pid-*) KEY=pid ;; pn-*) KEY=process_name ;; esac
	case "$KIND" in
	pn-empty) : | key process_name ;;
	pn-root) printf / | key process_name; EXPECT=stale ITEM=1 ;;
	pn-partial) printf %s "${SLEEPER%?????}" | key process_name
		EXPECT=stale ITEM=1 ;;
	pn-other) printf other-daemon | key process_name; EXPECT=stale ;;
	pn-longer) printf '%sx' "$SLEEPER" | key process_name; EXPECT=stale ;;
	pn-binary) printf '\x01\xff' | key process_name; EXPECT=stale ;;
	pn-nul-after) printf '%s\0junk' "$SLEEPER" | key process_name
		EXPECT=stale ITEM=1 ;;
	pn-fifo) mkfifo "$META/process_name" ;;
	pn-dir) mkdir "$META/process_name" ;;
	# a pid key written before the process it names started
	bare-pid-older)
		touch -d '-1 min' "$META/pid"
		EXPECT=stale KEY=pid ITEM=1 ;;
	esac
	# Other keys: the identity (the bystander's pid, a start time one tick
	# off) is stale, and a key around it is garbage.
	case "$KIND" in
	exit-* | fp-* | socket-* | cmdline-* | log-* | custom-*)
		printf %s "$B" | key pid
		printf '%s %s' $((BSTART + 1)) "$BOOT_ID" | key start_time
		EXPECT=stale ;;
	esac
	case "$KIND" in
	exit-garbage) printf garbage | key exit ;;
	exit-binary) printf '\xff\x00\x01status=' | key exit ;;
	exit-status-huge) printf 'status=99999999999999999999 at=x' | key exit ;;
	exit-signal-bogus) printf 'signal=NOPE at=2026-01-01T00:00:00Z' |
			key exit ;;
	exit-nul) printf 'status=1\0signal=KILL' | key exit ;;
	exit-2mib) head -c 2097152 /dev/zero | tr '\0' x | key exit ;;
	exit-dir) mkdir "$META/exit" ;;
	exit-fifo) mkfifo "$META/exit" ;;
	fp-binary)
		printf '\xff\x00\x80' | key fingerprint
		printf '\xff\x00\x80' | key fingerprint_inputs ;;
	fp-inputs-garbage)
		printf 'x%.0s' {1..64} | key fingerprint
		printf 'argv\n \nnospace\nenv: \nfile:  x y z\n\n\x01 \x02' |
			key fingerprint_inputs ;;
	socket-binary) printf '\x00\xff\x1b[2J' | key socket ;;
	cmdline-binary) printf '\x1b]0;title\x07\x00\xff' | key cmdline ;;
	log-binary) printf '\xff\x00/x' | key log ;;
	log-dir) printf %s "$WORK/logdir" | key log; mkdir -p "$WORK/logdir" ;;
	log-fifo)
		mkfifo "$WORK/fifo"
		printf %s "$WORK/fifo" | key log
		ITEM=6 ;;
	custom-key-binary) printf '\x00\xff\x1b[2J' | key custom ;;
	esac
	# Unsafe directories, holding metadata that names the bystander
	# correctly: refused, whatever they hold.
	case "$KIND" in
	name-* | hostfp-* | dir-*) EXPECT=refuse ;;
	esac
	# root may read another user's metadata, never change it
	[ "$KIND" != name-foreign-owner ] || EXPECT=readonly
	case "$KIND" in
	name-*) LIST_ITEM=7 ;;
	esac
	case "$KIND" in
	name-symlink)
		rmdir "$META"
		planted
		ln -s "$ELSEWHERE/$NAME" "$META" ;;
	name-file) rmdir "$META"; printf %s "$B" >"$META" ;;
	name-fifo) rmdir "$META"; mkfifo "$META" ;;
	name-world-writable | name-group-writable | name-foreign-owner)
		rmdir "$META"
		mv "$(planted; echo "$ELSEWHERE/$NAME")" "$META"
		case "$KIND" in
		name-world-writable) chmod 0777 "$META" ;;
		name-group-writable) chmod 0770 "$META" ;;
		*) chown 65534 "$META" ;;
		esac ;;
	hostfp-symlink)
		rm -rf "${D:?}/$HFP"
		planted
		ln -s "$ELSEWHERE" "$D/$HFP" ;;
	hostfp-world-writable)
		rmdir "$META"
		mv "$(planted; echo "$ELSEWHERE/$NAME")" "$META"
		chmod 0777 "$D/$HFP" ;;
	dir-world-writable)
		rmdir "$META"
		mv "$(planted; echo "$ELSEWHERE/$NAME")" "$META"
		chmod 0777 "$D" ;;
	dir-symlink)
		rmdir "$META"
		mv "$(planted; echo "$ELSEWHERE/$NAME")" "$META"
		mv "$D" "$WORK/realdir"
		ln -s "$WORK/realdir" "$D" ;;
	esac
}

broken() {
	local item=$1
	shift
	if [ -n "$item" ]; then known "$item" "$*"; else fail "$*"; fi
	BROKE=1
}

# run LABEL ARG...: procmgr on a fresh corruption, bounded; sets RC and
# leaves stdout and stderr in $WORK/LABEL.out and .err. A crash, a hang or
# a sanitizer report fails the trial.
run() {
	local label=$1
	shift
	make_kind
	timeout -k 2 20 "$PROCMGR" --dir "$D" "$@" \
		>"$WORK/$label.out" 2>"$WORK/$label.err"
	RC=$?
	note "$label: $* -> exit $RC: $(head -c 400 "$WORK/$label.err")"
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		broken "$([ "$KIND" = log-fifo ] && echo 6)" "$label hung"
	elif [ "$RC" -ge 128 ] || [ "$RC" = 86 ] ||
	     grep -q 'Sanitizer\|runtime error' "$WORK/$label.err"; then
		fail "$label crashed: exit $RC: $(head -c 400 "$WORK/$label.err")"
	fi
}

bystander_alive() {
	proc_field "$B" && [ "$STATE" != Z ] && return 0
	broken "$ITEM" "$1 signalled the bystander $B"
	return 1
}

valid_json() {
	"$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" \
		2>/dev/null
}

# EXPECT=warn/stale: exit 1 (stale), a warning naming the key's file for
# warn. EXPECT=refuse: exit 1 and an error naming a path under DIR.
check_verdict() {
	local label=$1
	case "$EXPECT:$label" in
	readonly:status | readonly:json) ;;
	refuse:* | readonly:*)
		[ "$RC" = 1 ] && grep -q "^procmgr: .*$WORK" "$WORK/$label.err" ||
			fail "$label of an unsafe directory: exit $RC," \
				"$(head -c 300 "$WORK/$label.err")" ;;
	*)
		[ "$RC" = 1 ] || broken "$ITEM" "$label exits $RC, not 1 (stale)"
		[ "$EXPECT" = warn ] && ! grep -qF "$META/$KEY" "$WORK/$label.err" &&
			broken "$ITEM" "$label gave no warning naming $META/$KEY"
		;;
	esac
}

# CMD: start, ensure or restart: a new daemon that is not the bystander
# (or, for an unsafe directory, a refusal and no daemon at all).
check_starts() {
	local label=$1 out
	run "$label" "$label" "$NAME" -- "$SLEEPER"
	out=$(cat "$WORK/$label.out")
	bystander_alive "$label" || return 1
	if [ "$EXPECT" = refuse ] || [ "$EXPECT" = readonly ]; then
		check_verdict "$label"
		[ "$(daemons | tr '\n' ' ')" = "$B " ] ||
			fail "$label in an unsafe directory started a daemon"
	else
		[ "$RC" = 0 ] && [[ $out =~ ^[0-9]+$ ]] && [ "$out" != "$B" ] ||
			broken "$ITEM" "$label: exit $RC, printed '$out'"
		[ "$RC" = 0 ] && { kill -KILL "$out"; wait_dead "$out"; settle; }
	fi
	return 0
}

# status says stale (or refuses), in plain text and in JSON.
check_status() {
	run status status "$NAME"
	check_verdict status
	run json --json status "$NAME"
	if [ -s "$WORK/json.out" ]; then
		valid_json "$WORK/json.out" || fail "status --json is not JSON"
		[ "$EXPECT" = refuse ] || [ "$EXPECT" = readonly ] ||
			grep -q '"state": "stale"' "$WORK/json.out" ||
			broken "$ITEM" "status --json:" \
				"$(head -c 300 "$WORK/json.out")"
	elif [ "$EXPECT" != refuse ] && [ "$EXPECT" != readonly ]; then
		fail "status --json printed nothing (exit $RC)"
	fi
}

# list, get and logs: no crash, no hang, valid JSON.
check_readers() {
	local whole_dir=
	case "$KIND" in hostfp-* | dir-*) whole_dir=1 ;; esac
	run list list
	[ -n "$whole_dir" ] || [ "$RC" = 0 ] ||
		broken "$LIST_ITEM" "list exits $RC"
	run jlist --json list
	[ -n "$whole_dir" ] || valid_json "$WORK/jlist.out" ||
		broken "$LIST_ITEM" "list --json (exit $RC) is not JSON:" \
			"$(head -c 200 "$WORK/jlist.out")"
	run get get "$NAME" "${KEY:-pid}"
	# 3: the key is not set
	[ "$RC" -le 1 ] || [ "$RC" = 3 ] || fail "get exits $RC"
	run logs logs "$NAME" -n 5
	[ "$RC" -le 1 ] || [ "$RC" = 124 ] || fail "logs exits $RC"
}

# stop (and purge): success with nothing signalled, or a refusal.
check_stop() {
	run "$1" "$1" "$NAME"
	bystander_alive "$1" || return 1
	if [ "$EXPECT" = refuse ] || [ "$EXPECT" = readonly ]; then
		check_verdict "$1"
	elif [ "$RC" != 0 ]; then
		fail "$1 exits $RC"
	elif [ "$1" = purge ] && [ -e "$META" ]; then
		fail "purge left $META"
	fi
}

BROKE=0
check_status
if [ -n "${STRESS_QUICK:-}" ]; then
	# make check: status and stop of every kind (log-fifo is about logs)
	check_stop stop
	[ "$KIND" != log-fifo ] || ITEM=
else
	check_readers
	check_stop stop && check_starts ensure && check_starts restart &&
		check_starts start && check_stop purge
fi
[ -n "$ITEM" ] && [ "$BROKE" = 0 ] && held "$ITEM"
settle
proc_field "$B" && [ "$STATE" != Z ] &&
	[ "$(daemons | tr '\n' ' ')" != "$B " ] &&
	fail "daemons left: $(daemons | tr '\n' ' '), expected only $B"
finish
