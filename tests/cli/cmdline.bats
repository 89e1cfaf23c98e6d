#!/usr/bin/env bats
# The command line as people type it (issue 8): options before NAME, no
# NAME that looks like a flag, one JSON document on stdout whatever
# happens, the stop options of ensure and restart, --env values in the
# fingerprint, list -q.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

@test "options may come before NAME, as getopt users expect" {
	pm start web -- "$DAEMON" lines=20 pause
	wait_for 10 grep -qx 'line 20' "$D/$HFP/web.log"
	run -0 --separate-stderr pm logs -n 5 web
	[ "${#lines[@]}" -eq 5 ]
	run -0 --separate-stderr pm logs --lines 2 web
	[ "${#lines[@]}" -eq 2 ]
	run -0 --separate-stderr pm stop --kill-wait 1 --signals TERM,KILL web
	[[ "$stderr" == "stopped web (pid "* ]]
	run -0 pm purge -f web
	run -0 pm set web note hi
	run -0 pm purge --force --lock-timeout 1 web
	[ ! -e "$D/$HFP/web" ]
}

@test "logs -f before NAME follows until the daemon ends" {
	pm start web -- "$DAEMON" say=first sleep=1 say=second
	run -0 --separate-stderr timeout 30 "$PROCMGR" --dir "$D" logs -f web
	[[ "$output" == *first*second* ]]
}

@test "a NAME cannot start with '-'" {
	run -2 --separate-stderr pm start -- sleep 1
	[[ "$stderr" == *"expects NAME before '--'"* ]]
	run -2 --separate-stderr pm start -x -- sleep 1
	[[ "$stderr" == *"unknown option '-x'"* ]]
	run -2 --separate-stderr pm status -
	[[ "$stderr" == *"NAME cannot start with '-'"* ]]
	run -2 --separate-stderr pm status -- -x
	[[ "$stderr" == *"expects NAME before '--'"* ]]
	# nothing was created for any of them
	[ ! -e "$D" ] || [ -z "$(ls -A "$D/$HFP" 2>/dev/null)" ]
	[ ! -e "$D/.lock.--" ] && [ ! -e "$D/.lock.-x" ]
	# a KEY or VALUE after NAME may start with a dash
	run -0 pm set web note -5
	run -0 pm get web note
	[ "$output" = -5 ]
}

# stdout of a procmgr command run with --json: one valid JSON document.
one_json() {
	python3 -c 'import json, sys
text = sys.stdin.read()
doc, end = json.JSONDecoder().raw_decode(text)
assert not text[end:].strip(), "more than one document: " + repr(text)
print(json.dumps(doc))'
}

@test "--json prints exactly one JSON document, failures included" {
	pm start web -- "$DAEMON" pause
	# failures that print no JSON of their own: an error document
	while IFS='|' read -r code args; do
		run --separate-stderr pm --json $args
		echo "$args -> $status: $output"
		[ "$status" -eq "$code" ]
		doc=$(one_json <<<"$output")
		python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["error"]["exit"] == int(sys.argv[2]), d
assert d["error"]["message"], d' "$doc" "$code"
	done <<'EOF'
2|frob
2|status
2|stop --kill-wait nope web
5|start web -- sleep 1
1|start other -- /nonexistent/daemon
3|get web nokey
4|await web nokey --timeout 0.1
EOF
	# and those that do print one: exactly that one
	for args in "status web" "status nope" "list" "ps" "get web pid" \
		"ensure web -- $DAEMON pause"; do
		run --separate-stderr pm --json $args
		echo "$args -> $status: $output"
		one_json <<<"$output" >/dev/null
	done
}

@test "list -q prints no header" {
	pm start web -- "$DAEMON" pause
	run -0 --separate-stderr pm list -q
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "web "*running* ]]
	run -0 --separate-stderr pm list
	[[ "${lines[0]}" == NAME* ]]
}

@test "ensure --env: a changed value restarts, naming the variable" {
	pid=$(pm ensure web --env PORT=8080 -- "$DAEMON" pause)
	run -0 --separate-stderr pm ensure web --env PORT=8080 -- "$DAEMON" pause
	[ "$output" = "$pid" ] && [ -z "$stderr" ]
	run -0 --separate-stderr pm ensure web --env PORT=9090 -- "$DAEMON" pause
	[ "$stderr" = "restarting web: env PORT changed" ]
	[ "$output" != "$pid" ]
	grep -qzx PORT=9090 "/proc/$output/environ"
}

@test "ensure and restart stop with the given --signals and --kill-wait" {
	# a daemon that takes 2 s to flush after TERM
	slow=(sh -c 'trap "sleep 2; exit 0" TERM; while :; do sleep 0.1; done')
	pid=$(pm ensure web --fingerprint v1 -- "${slow[@]}")
	# a short --kill-wait: the old daemon is killed before it is done
	new=$(pm ensure web --fingerprint v2 --kill-wait 0.2 -- "${slow[@]}")
	[ "$new" != "$pid" ]
	grep -q "pid $pid was killed by SIGKILL" "$D/$HFP/web.log"
	# a long one: it flushes and exits by itself
	pid=$new
	new=$(pm restart web --kill-wait 20 --signals TERM,KILL -- "${slow[@]}")
	[ "$new" != "$pid" ]
	grep -q "pid $pid exited with status 0" "$D/$HFP/web.log"
	# and --kill-mode is taken too
	run -0 pm ensure web --fingerprint v3 --kill-mode process -- "${slow[@]}"
}

@test "a failure about a parameter names the option that sets it" {
	mkdir -m 777 "$T/open"
	chmod 777 "$T/open"
	run -1 --separate-stderr "$PROCMGR" --dir "$T/open" status web
	[[ "$stderr" == *"run 'chmod 700 $T/open' or use another directory (--dir)" ]]
	run -1 --separate-stderr pm start web --log "$T" -- "$DAEMON" pause
	[[ "$stderr" == *"not a regular file; remove it or give a regular file (--log)" ]]
	run -1 --separate-stderr pm start web --cwd "$T/none" -- "$DAEMON" pause
	[[ "$stderr" == *"which must exist and be searchable (--cwd)" ]]
	run -0 pm start web -- "$DAEMON" pause
	run -1 --separate-stderr pm purge web
	[[ "$stderr" == *"stop it first or purge with force (--force)" ]]
	run -1 pm --json purge web
	[[ "$output" == *'purge with force (--force)"}, "command": "purge"}' ]]
	run -0 pm stop web
}
