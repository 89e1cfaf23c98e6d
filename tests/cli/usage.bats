#!/usr/bin/env bats
# The command line as a whole: global options, --help, --version, exit 2 on
# usage errors, NAME rules and the base directory's safety rules.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

COMMANDS="start ensure restart stop status list get set await purge lock logs touch ps killall host-fingerprint"

@test "--help documents every command with an example, exit 0" {
	run -0 pm --help
	for cmd in $COMMANDS; do
		[[ "$output" == *"  $cmd "* || "$output" == *"  $cmd"$'\n'* ]]
	done
	[ "$(echo "$output" | grep -c '  e.g. procmgr\|  e.g. pid=\|  e.g. port=\|  e.g. ls')" -eq 16 ]
	[[ "$output" == *"Exit status"* ]]
	run -0 pm -h
	run -0 pm help
	[[ "$output" == *"Commands:"* ]]
}

@test "COMMAND --help and help COMMAND show that command" {
	for cmd in $COMMANDS; do
		run -0 pm "$cmd" --help
		[[ "${lines[0]}" == "Usage: procmgr [global options] $cmd"* ]]
		[[ "$output" == *"Example:"* ]]
		run -0 pm help "$cmd"
		[[ "${lines[0]}" == "Usage: procmgr [global options] $cmd"* ]]
	done
	run -0 pm start -h
	[[ "$output" == *"--fingerprint-env VAR"* ]]
}

@test "--version prints procmgr 0.1.0" {
	run -0 pm --version
	[ "$output" = "procmgr 0.1.0" ]
}

@test "usage errors exit 2 with procmgr: and a pointer to --help" {
	run -2 pm
	[[ "$output" == "procmgr: missing COMMAND"* ]]
	[[ "$output" == *"Try 'procmgr --help'."* ]]
	run -2 pm frobnicate
	[[ "$output" == "procmgr: unknown command 'frobnicate'"* ]]
	run -2 pm --bogus status web
	[[ "$output" == *"unknown option '--bogus'"* ]]
	run -2 pm -x status web
	[[ "$output" == *"unknown option '-x'"* ]]
	run -2 pm --dir
	[[ "$output" == *"needs a value"* ]]
	run -2 pm status web -z
	[[ "$output" == *"Try 'procmgr status --help'."* ]]
}

@test "a bad NAME exits 2 naming the rule, for every command, creating nothing" {
	for name in 'a/b' '.hidden' '' "$(printf 'x%.0s' {1..65})" 'sp ace' 'ü'; do
		for cmd in status stop purge get set await lock logs start ensure restart; do
			case $cmd in
			get|await) run -2 pm "$cmd" "$name" key ;;
			set) run -2 pm "$cmd" "$name" key value ;;
			lock|start|ensure|restart) run -2 pm "$cmd" "$name" -- true ;;
			*) run -2 pm "$cmd" "$name" ;;
			esac
			[[ "$output" == *"invalid NAME"*"[a-z0-9._-]"* ]]
		done
	done
	[ ! -e "$PROCMGR_DIR" ]
	# 64 characters and upper case are fine.
	run -3 pm status "$(printf 'X%.0s' {1..64})"
}

@test "DIR comes from --dir, else \$PROCMGR_DIR, else \$XDG_RUNTIME_DIR/procmgr" {
	pm --dir "$T/one" set web k 1
	[ -e "$T/one/$HFP/web/k" ]
	pm set web k 2
	[ -e "$PROCMGR_DIR/$HFP/web/k" ]
	mkdir -m 0700 "$T/xdg"
	PROCMGR_DIR= XDG_RUNTIME_DIR=$T/xdg "$PROCMGR" set web k 3
	[ -e "$T/xdg/procmgr/$HFP/web/k" ]
}

@test "a symlinked DIR is refused, exit 1, naming the path" {
	mkdir -p "$T/real"
	ln -s "$T/real" "$T/link"
	run -1 pm --dir "$T/link" status web
	[[ "$output" == "procmgr: "*"$T/link"* ]]
	run -1 pm --dir "$T/link" set web k v
	[ -z "$(ls -A "$T/real")" ]
}

@test "a world-writable DIR without the sticky bit is refused" {
	mkdir -m 0777 "$T/wide"
	chmod 0777 "$T/wide"
	run -1 pm --dir "$T/wide" status web
	[[ "$output" == "procmgr: "*"$T/wide"* ]]
	run -1 pm --dir "$T/wide" lock web -- true
	[ -z "$(ls -A "$T/wide")" ]
}

@test "a DIR owned by another user is refused" {
	mkdir -m 0700 "$T/theirs"
	chown 65534:65534 "$T/theirs"
	# (root may read it: status, list, get, logs; see owners.bats)
	run -1 pm --dir "$T/theirs" set web k v
	[[ "$output" == "procmgr: "*"$T/theirs"* ]]
	# Unsafe directories below DIR are refused as well.
	mkdir -p -m 0700 "$T/mine/$HFP"
	chmod 0777 "$T/mine/$HFP"
	run -1 pm --dir "$T/mine" get web pid
	[[ "$output" == "procmgr: "*"$T/mine/$HFP"* ]]
}

@test "-v says which files are used; -q silences informational lines" {
	run -0 --separate-stderr pm -v set web k v
	[[ "$stderr" == *"$MD/web"* && "$stderr" == *"$PROCMGR_DIR/.lock.web"* ]]
	run -0 --separate-stderr pm -q -v set web k v
	[ -z "$stderr" ]
	run -0 --separate-stderr pm --quiet stop web
	[ -z "$stderr" ]
	run -0 --separate-stderr pm --verbose stop web
	[ -n "$stderr" ]
}

@test "options of the daemon after -- are never parsed" {
	run -0 pm lock web -- sh -c 'echo "$@"' sh --help --dir x -q
	[ "$output" = "--help --dir x -q" ]
}

# logs.bats (helper E) covers logs with daemons procmgr started; these are
# the edges of the CLI's own tail and follow code.
@test "logs: -n 0, a log over 1 MiB, a missing log, bad -n" {
	mkdir -p "$MD/web"
	printf '%s' "$(dead_pid)" >"$MD/web/pid"
	run -1 --separate-stderr pm logs web -f
	[[ "$stderr" == "procmgr: cannot open the log $MD/web.log"* ]]
	run -1 --separate-stderr pm logs web
	[ "$stderr" = "procmgr: no log $MD/web.log; has web been started?" ]
	# A log that cannot be read, or a log key that cannot: an error that
	# names the path, not "not started".
	mkdir -p "$MD/dirlog" "$MD/dirlog.log" "$MD/badkey/log"
	run -1 --separate-stderr pm logs dirlog
	[[ "$stderr" == "procmgr: "*"$MD/dirlog.log"*"directory"* ]]
	run -1 --separate-stderr pm logs badkey -f
	[[ "$stderr" == "procmgr: "*"$MD/badkey/log"* ]]
	{ head -c 1100000 /dev/zero | tr '\0' 'x'; printf '\nA\nB\nC\n'; } \
		>"$MD/web.log"
	run -0 pm logs web -f -n 2
	[ "$output" = $'B\nC' ]
	run -0 pm logs web -n 2
	[ "$output" = $'B\nC' ]
	run -0 pm logs web --follow --lines 0
	[ -z "$output" ]
	run -0 pm logs web -n 100 -h
	[[ "$output" == "Usage: procmgr [global options] logs"* ]]
	run -2 pm logs web -n x
	[[ "$output" == *"--lines"* ]]
	run -2 pm logs web -n -3
	run -2 pm logs web extra
}

@test "logs -f prints appended lines, starts over after truncation, ends with the daemon" {
	sleeper
	record web "$SPID"
	printf 'one\ntwo\n' >"$MD/web.log"
	"$PROCMGR" logs web -f -n 1 </dev/null >"$T/out" 2>&1 3>&- &
	follower=$!
	track "$follower"
	wait_for 20 grep -qx two "$T/out"
	echo three >>"$MD/web.log"
	wait_for 20 grep -qx three "$T/out"
	: >"$MD/web.log"
	sleep 0.2
	echo four >>"$MD/web.log"
	wait_for 20 grep -qx four "$T/out"
	kill -KILL "$SPID"
	# It ends on its own once the daemon has gone.
	wait_for 20 bash -c "! kill -0 $follower 2>/dev/null"
	[ "$(cat "$T/out")" = $'two\nthree\nfour' ]
}

@test "global options between the command and NAME are taken as options" {
	sleeper
	record web "$SPID"
	run -0 --separate-stderr pm status --json web
	echo "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["name"] == "web" and o["state"] == "running", o'
	run -0 pm set web k v
	run -0 pm get --dir "$PROCMGR_DIR" -q web k
	[ "$output" = v ]
	run -0 pm get --dir="$PROCMGR_DIR" -qv web k
	[ "$output" = v ]
	# No NAME was created for the option itself.
	[ ! -e "$MD/--json" ] && [ ! -e "$PROCMGR_DIR/.lock.--json" ]
	# A command's own option may come before NAME, as getopt users
	# expect; it is never taken for a NAME called "--kill-wait".
	run -0 --separate-stderr pm stop --kill-wait 1 web
	[ ! -e "$MD/--kill-wait" ]
	wait_for 10 gone "$SPID"
	run -2 --separate-stderr pm status --json
	[[ "$stderr" == *"expects NAME"* ]]
	run -2 --separate-stderr pm status --dir
	[[ "$stderr" == *"'--dir' needs a value"* ]]
	run -0 pm stop -q --help
	[[ "${lines[0]}" == "Usage: procmgr [global options] stop"* ]]
}

@test "help documents the options each command takes and where globals go" {
	run -0 pm --help
	[[ "$output" == *"also follow the command"*"procmgr list --json"* ]]
	[[ "$output" == *"stop NAME|--all [--signals LIST] [--kill-wait SEC] [--kill-mode MODE] [--keep-metadata] [--lock-timeout SEC]"* ]]
	[[ "$output" == *"purge NAME [--force] [--lock-timeout SEC]"* ]]
	run -0 pm purge --help
	[[ "$output" == *"-f, --force"* ]]
	[[ "$output" == *"Global options (before or after purge)"* ]]
	run -2 --separate-stderr pm help frob
	[[ "$stderr" == *"no command 'frob'"* ]]
}

@test "-v names the directory list reads and the log logs reads" {
	mkdir -p "$MD/web"
	echo hello >"$MD/web.log"
	run -0 --separate-stderr pm -v list
	[ "$stderr" = "procmgr: listing $PROCMGR_DIR/$HFP" ]
	run -0 --separate-stderr pm logs web -v
	[[ "$stderr" == *"log $MD/web.log"* ]]
	[ "$output" = hello ]
}

@test "what the user typed is echoed in messages escaped, never raw" {
	esc=$'\x1b'
	csi=$'\xc2\x9b'	# U+009B, a terminal's CSI too
	# escaped: the text shows; raw: not a byte of it on stderr
	shown() {
		[[ "$stderr" == *"$1"* && "$stderr" != *"$esc"* &&
			"$stderr" != *"$csi"* ]]
	}
	run -2 --separate-stderr pm status "we${esc}[31mb"
	shown 'we\x1b[31mb'
	run -2 --separate-stderr pm "bogus${esc}]0;title"
	shown 'bogus\x1b]0;title'
	run -2 --separate-stderr pm stop web --signals "TERM${csi}"
	shown 'TERM\xc2\x9b'
	run -3 --separate-stderr pm get web "k${esc}ey"
	shown 'k\x1bey'
	run -127 --separate-stderr pm lock web -- "/no/${esc}cmd"
	shown '/no/\x1bcmd'
	mkdir -m 0777 "$T/a${esc}b"
	run -1 --separate-stderr pm --dir "$T/a${esc}b" set web k v
	shown 'a\x1bb'
	# printable UTF-8 is printable: kept as it is
	run -2 --separate-stderr pm status "wéb"
	[[ "$stderr" == *"'wéb'"* ]]
}
