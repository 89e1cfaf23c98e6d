#!/usr/bin/env bats
# procmgr list: every NAME under DIR/HOSTFP in a column-aligned table, or
# one JSON array of status objects.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "an empty or missing DIR lists only the header, or []" {
	run -0 pm list
	[ "$output" = "NAME  STATE        PID  UPTIME   SOCKET" ]
	run -0 pm -q list
	[ -z "$output" ]
	run -0 pm --json list
	[ "$output" = "[]" ]
	[ ! -e "$PROCMGR_DIR" ]
}

@test "the table has a header and one aligned row per NAME, sorted" {
	sleeper
	record web "$SPID"
	printf '38549' >"$MD/web/socket"
	mkdir -p "$MD/a-much-longer-name" "$MD/db"
	printf '%s' "$(dead_pid)" >"$MD/db/pid"
	printf 'junk' >"$MD/a-much-longer-name/pid"
	run -0 --separate-stderr pm list
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^NAME\ +STATE\ +PID\ +UPTIME\ +SOCKET$ ]]
	[[ "${lines[1]}" =~ ^a-much-longer-name\ +stale\ +-\ +-\ +-$ ]]
	[[ "${lines[2]}" =~ ^db\ +stale\ +[0-9]+\ +-\ +-$ ]]
	[[ "${lines[3]}" =~ ^web\ +running\ +$SPID\ +[0-9]+s\ +38549$ ]]
	# Aligned: every column starts at the same offset in every line.
	for col in STATE PID UPTIME SOCKET; do
		h=${lines[0]%%"$col"*}
		[ "${#h}" -gt 0 ]
	done
	state_col=${lines[0]%%STATE*}
	for i in 1 2 3; do
		[ "${lines[$i]:${#state_col}:1}" != " " ]
		[ "${lines[$i]:$((${#state_col} - 1)):1}" = " " ]
	done
	sock_col=${lines[0]%%SOCKET*}
	[ "${lines[3]:${#sock_col}}" = "38549" ]
	# The corrupt pid is named on stderr.
	[[ "$stderr" == *"warning"*"$MD/a-much-longer-name/pid"* ]]
}

@test "--json prints one array of status objects" {
	sleeper
	record web "$SPID"
	mkdir -p "$MD/db"
	printf '%s' "$(dead_pid)" >"$MD/db/pid"
	run -0 pm --json list
	echo "$output" | python3 -m json.tool >/dev/null
	# global options are taken after the command too
	[ "$(pm list --json)" = "$output" ]
	echo "$output" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [o["name"] for o in a] == ["db", "web"], a
assert a[0]["state"] == "stale" and a[1]["state"] == "running", a
assert a[1]["pid"] == '"$SPID"', a
'
}

@test "entries that are not NAMEs are skipped; list takes no operands" {
	mkdir -p "$MD/.hidden" "$MD/UPPER"
	touch "$MD/web.log"
	run -0 pm list
	[ "${#lines[@]}" -eq 1 ]
	run -2 pm list extra
	run -2 pm list --bogus
}

@test "an unsafe DIR is refused, naming it" {
	mkdir -p "$T/wide"
	chmod 0777 "$T/wide"
	run -1 pm --dir "$T/wide" list
	[[ "$output" == "procmgr: "*"$T/wide"* ]]
}

@test "an unsafe NAME directory gets a warning and an error row" {
	sleeper
	record web "$SPID"
	mkdir -p "$MD/bad" "$MD/db"
	chmod 0777 "$MD/bad"
	printf '%s' "$(dead_pid)" >"$MD/db/pid"
	run -0 --separate-stderr pm list
	[[ "$stderr" == "procmgr: warning: "*"$MD/bad"* ]]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[1]}" =~ ^bad\ +error\ +-\ +-\ +-$ ]]
	[[ "${lines[2]}" =~ ^db\ +stale\ + ]]
	[[ "${lines[3]}" =~ ^web\ +running\ +$SPID\ + ]]
	run -0 --separate-stderr pm --json list
	echo "$output" | python3 -m json.tool >/dev/null
	echo "$output" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [o["name"] for o in a] == ["bad", "db", "web"], a
assert a[0]["state"] == "error" and a[0]["pid"] is None, a
assert sys.argv[1] in a[0]["error"], a
assert a[1]["state"] == "stale" and a[2]["state"] == "running", a
' "$MD/bad"
}

@test "a NAME directory open to all is an error row too" {
	mkdir -p "$MD/open" "$MD/ours"
	chmod 0777 "$MD/open"
	run -0 --separate-stderr pm --json list
	[[ "$stderr" == *"warning: "*"$MD/open"* ]]
	echo "$output" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [(o["name"], o["state"]) for o in a] == [
    ("open", "error"), ("ours", "stale")], a
'
}

@test "root lists another user's NAME, which it may read" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to chown"
	mkdir -p "$MD/theirs" "$MD/ours"
	chown 65534 "$MD/theirs"
	run -0 --separate-stderr pm --json list
	[ -z "$stderr" ]
	echo "$output" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [(o["name"], o["state"]) for o in a] == [
    ("ours", "stale"), ("theirs", "stale")], a
'
}

@test "hundreds of NAMEs: every row, in order, read ahead on threads" {
	sleeper
	mkdir -p "$MD"
	for i in $(seq -w 0 249); do
		if ((10#$i % 2)); then
			record "n$i" "$SPID"
		else
			mkdir "$MD/n$i"
			printf 'junk' >"$MD/n$i/pid"
		fi
	done
	chmod 0777 "$MD/n249"
	run -0 --separate-stderr pm -q list
	[ "${#lines[@]}" -eq 250 ]
	for i in 0 1 100 247 248; do
		n=$(printf 'n%03d' "$i")
		if ((i % 2)); then
			[[ "${lines[$i]}" =~ ^$n\ +running\ +$SPID\ + ]]
		else
			[[ "${lines[$i]}" =~ ^$n\ +stale\ +-\ + ]]
		fi
	done
	[[ "${lines[249]}" =~ ^n249\ +error\ + ]]
	# a warning per junk pid and one for the unsafe NAME, in row order
	[ "$(grep -c warning <<<"$stderr")" -eq 126 ]
	[[ "$(tail -1 <<<"$stderr")" == *"$MD/n249"* ]]
	run -0 --separate-stderr pm --json list
	echo "$output" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [o["name"] for o in a] == ["n%03d" % i for i in range(250)], a
assert all(o["state"] == ("running" if i % 2 else "stale")
           for i, o in enumerate(a[:249])), a
assert a[249]["state"] == "error", a[249]
'
}
