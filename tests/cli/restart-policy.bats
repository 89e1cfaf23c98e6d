#!/usr/bin/env bats
# --restart no|on-failure|always and --restart-limit N (SPEC §6): the
# monitor starts a daemon that ended by itself again, under the lock,
# with the same readiness, after a back-off of 100 ms doubling to 30 s
# (reset by a run of 10 s or more), at most N times in a row, then gives
# up with exit reason=gave-up. (procmgr restart: restart.bats.)

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() { lc_setup; }
teardown() { lc_teardown; }

# The pid of the run the log's "started pid N (WHY)" line names.
started_pid() {
	events | sed -n "s/^started pid \\([0-9]*\\) ($1)\$/\\1/p"
}

@test "on-failure restarts a daemon that crashed" {
	pid=$(pm start web --restart on-failure --ready notify -- \
		"$DAEMON" notify=READY=1 pause)
	kill -KILL "$pid"
	wait_for 20 has_event '^started pid [0-9]+ \(restart 1 of 5\)$'
	has_event "^pid $pid was killed by SIGKILL$"
	has_event '^restarting in 0\.1s \(restart 1 of 5\)$'
	new=$(started_pid 'restart 1 of 5')
	note_pid "$new"
	[ "$new" != "$pid" ]
	# with the same readiness: ready again once it says READY=1
	wait_for 20 test -e "$MD/web/ready"
	key_is web pid "$new"
	key_is web restarts 1
	parent_is "$new" "$(mon_of web)"
	run -0 pm status web
	[[ "${lines[0]}" == "web: running, pid $new, "* ]]
	[[ "$output" == *"  restarts      1"* ]]
	# the limit in effect, the default when none was given
	[[ "$output" == *"  supervision   restart=on-failure restart_limit=5 "* ]]
	run -0 pm --json status web
	[ "$(json 'd["restarts"]' <<<"$output")" = 1 ]
	[ "$(json 'd["ready"]' <<<"$output")" = true ]
}

@test "on-failure restarts a daemon that exited non-zero" {
	pm start web --restart on-failure -- sh -c \
		'if [ -e "$1" ]; then exec "$0" pause; fi; touch "$1"; exit 3' \
		"$DAEMON" "$T/ran"
	wait_for 20 has_event '^started pid [0-9]+ \(restart 1 of 5\)$'
	has_event '^pid [0-9]+ exited with status 3$'
	wait_for 10 key_is web restarts 1
	run -0 pm status web
}

@test "on-failure does not restart a daemon that exited 0" {
	pid=$(pm start web --restart on-failure -- "$DAEMON" exit=0)
	mon=$(mon_of web)
	note_pid "$mon"
	wait_for 20 gone "$mon"
	key_has web exit '^status=0 at='
	! key_has web exit reason= || false
	! has_event '^restarting' || false
	[ "$(count_events '^started pid ')" -eq 1 ]
	run -1 pm status web
	[[ "${lines[0]}" == "web: stale: exited with status 0 at "* ]]
}

@test "no (the default) restarts nothing" {
	pid=$(pm start web -- "$DAEMON" exit=3)
	mon=$(mon_of web)
	note_pid "$mon"
	wait_for 20 gone "$mon"
	key_has web exit '^status=3 at='
	[ "$(count_events '^started pid ')" -eq 1 ]
	[ ! -e "$MD/web/supervision" ]
}

@test "always restarts a daemon that exited 0" {
	pm start web --restart always --restart-limit 1 -- "$DAEMON" exit=0
	wait_for 20 key_has web exit 'reason=gave-up$'
	[ "$(count_events '^started pid ')" -eq 2 ]
	has_event '^started pid [0-9]+ \(restart 1 of 1\)$'
	has_event '^gave up after 1 restart in a row$'
}

@test "a crash loop with --restart-limit 3 runs 4 times and gives up" {
	pm start web --restart on-failure --restart-limit 3 -- \
		"$DAEMON" say=run exit=3
	wait_for 30 key_has web exit '^status=3 at=[^ ]+ reason=gave-up$'
	mon=$(mon_of web)
	note_pid "$mon"
	wait_for 10 gone "$mon"
	# exactly the first run and 3 restarts, nothing after
	[ "$(count_events '^started pid ')" -eq 4 ]
	[ "$(grep -cx run "$(log_of)")" -eq 4 ]
	[ "$(count_events '^gave up after 3 restarts in a row$')" -eq 1 ]
	key_is web restarts 3
	# the back-off doubles: 0.1 s, 0.2 s, 0.4 s, in this order
	[ "$(events | sed -n 's/^restarting in \([0-9.]*s\) (restart \([0-9]\) of 3)$/\1 \2/p' |
		tr '\n' ,)" = "0.1s 1,0.2s 2,0.4s 3," ]
	run -1 pm status web
	[[ "${lines[0]}" == "web: stale: gave up after 3 restarts; last exited with status 3 at "* ]]
	[[ "$output" == *"  restarts      3"* ]]
	run -1 pm --json status web
	[ "$(json 'd["exit"]["reason"]' <<<"$output")" = '"gave-up"' ]
	[ "$(json 'd["exit"]["status"]' <<<"$output")" = 3 ]
	[ "$(json 'd["restarts"]' <<<"$output")" = 3 ]
	[ "$(json 'd["state"]' <<<"$output")" = '"stale"' ]
}

@test "the default limit is 5 restarts" {
	pm start web --restart on-failure -- "$DAEMON" exit=3
	wait_for 30 key_has web exit 'reason=gave-up$'
	[ "$(count_events '^started pid ')" -eq 6 ]
	has_event '^restarting in 1\.6s \(restart 5 of 5\)$'
	has_event '^gave up after 5 restarts in a row$'
	key_is web restarts 5
}

@test "ensure starts a NAME that gave up anew" {
	pm start web --restart on-failure --restart-limit 1 -- "$DAEMON" exit=3
	mon=$(mon_of web)
	wait_for 30 key_has web exit 'reason=gave-up$'
	wait_for 20 gone "$mon"
	run -0 --separate-stderr pm ensure web -- "$DAEMON" pause
	[[ "$stderr" == "starting web: stale pid "* ]]
	alive "$output"
	[ ! -e "$MD/web/restarts" ]
}

@test "stop during a back-off prevents the restart" {
	pm start web --restart on-failure --restart-limit 10 -- "$DAEMON" exit=3
	# 0.1 + 0.2 + 0.4 + 0.8 s of back-off behind it, 1.6 s ahead
	wait_for 30 has_event '^restarting in 1\.6s '
	mon=$(mon_of web)
	note_pid "$mon"
	run -0 --separate-stderr pm stop web
	[ "$stderr" = "web was not running: nothing to stop" ]
	wait_for 20 gone "$mon"
	[ "$(count_events '^started pid ')" -eq 5 ]
	has_event '^not restarting: web was stopped or replaced$'
	[ ! -e "$MD/web" ]
}

@test "a crash loop before ready leaves the lock free between restarts" {
	# Run 1 is ready and crashes; each restart crashes before READY=1.
	# During every back-off the lock must be free, so a stop gets in.
	pm start web --restart on-failure --restart-limit 10 --ready notify \
		-- sh -c 'if [ -e "$1" ]; then exit 3; fi; touch "$1"; "$0" notify=READY=1
		while [ ! -e "$PROCMGR_META_DIR/ready" ]; do sleep 0.05; done; exit 3' \
		"$DAEMON" "$T/ran"
	wait_for 30 has_event '^restarting in 0\.8s '
	mon=$(mon_of web)
	note_pid "$mon"
	run -0 --separate-stderr pm stop web --lock-timeout 5
	wait_for 20 gone "$mon"
	! has_event '^gave up' || false
}

@test "stop of a daemon under --restart always does not restart it" {
	pid=$(pm start web --restart always -- "$DAEMON" pause)
	mon=$(mon_of web)
	note_pid "$mon"
	run -0 pm stop web
	wait_for 20 gone "$mon"
	[ "$(count_events '^started pid ')" -eq 1 ]
	! has_event '^restarting' || false
	run -3 pm status web
}

@test "stop --keep-metadata of a restarting daemon records reason stop" {
	pid=$(pm start web --restart always -- "$DAEMON" pause)
	mon=$(mon_of web)
	note_pid "$mon"
	run -0 pm stop web --keep-metadata
	wait_for 20 gone "$mon"
	key_has web exit '^signal=TERM at=[^ ]+ reason=stop$'
	run -1 pm status web
	[[ "${lines[0]}" == "web: stale: stopped (by procmgr stop); killed by SIGTERM at "* ]]
	! has_event '^restarting' || false
}

@test "a restart is made under the lock" {
	# While someone holds NAME's lock, the crashed daemon waits for it.
	pid=$(pm start web --restart on-failure -- "$DAEMON" pause)
	"$PROCMGR" --dir "$D" lock web -- sh -c \
		'while [ ! -e "$1" ]; do sleep 0.05; done' sh "$T/release" \
		</dev/null >/dev/null 2>&1 3>&- &
	note_pid $!
	wait_for 20 test -e "$D/.lock.web.lock_message"
	kill -KILL "$pid"
	wait_for 20 has_event "^pid $pid was killed by SIGKILL$"
	sleep 1
	! has_event '^started pid [0-9]+ \(restart' || false
	touch "$T/release"
	wait_for 20 has_event '^started pid [0-9]+ \(restart 1 of 5\)$'
}

@test "a run of 10 s or more resets the back-off" {
	# Runs 1 and 2 crash at once, run 3 lasts 10.5 s then crashes, run 4
	# stays. The back-off after run 3 is 0.1 s again, restart 1 again.
	pm start web --restart on-failure -- sh -c \
		'n=$(cat "$1" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$1"
		case $n in 1|2) exit 3;; 3) sleep 10.5; exit 3;; esac; exec "$0" pause' \
		"$DAEMON" "$T/runs"
	wait_for 30 lines_in "$T/runs" 1
	wait_for 30 grep -qx 4 "$T/runs"
	[ "$(events | sed -n 's/^restarting in \([0-9.]*s (restart [0-9] of 5)\)$/\1/p' |
		tr '\n' ,)" = "0.1s (restart 1 of 5),0.2s (restart 2 of 5),0.1s (restart 1 of 5)," ]
	key_is web restarts 3
}

@test "a restart whose exec fails is logged, and fails like a crash" {
	cp "$DAEMON" "$T/daemon"
	pid=$(pm start web --restart on-failure --restart-limit 2 -- \
		"$T/daemon" pause)
	rm "$T/daemon"
	kill -KILL "$pid"
	wait_for 30 key_has web exit '^status=127 at=[^ ]+ reason=gave-up$'
	[ "$(count_events "^cannot start $T/daemon: No such file or directory\$")" -eq 2 ]
	# it never ran: never ready
	[ "$(count_events '^ready after')" -eq 1 ]
	[ ! -e "$MD/web/ready" ]
}

@test "a bad --restart or --restart-limit is a usage error" {
	run -2 --separate-stderr pm start web --restart sometimes -- "$DAEMON" pause
	[[ "$stderr" == *"--restart wants no, on-failure or always"* ]]
	run -2 --separate-stderr pm start web --restart-limit 0 -- "$DAEMON" pause
	[[ "$stderr" == *--restart-limit* ]]
	run -2 pm start web --restart-limit -1 -- "$DAEMON" pause
	run -2 pm start web --restart-limit many -- "$DAEMON" pause
	[ ! -e "$MD/web" ]
}
