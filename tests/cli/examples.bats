#!/usr/bin/env bats
# The daemons of the documentation (examples/notify-daemon.c and .sh) run
# as procmgr(1) and procmgr(3) say: ready on READY=1, their PORT= recorded
# as the socket key, STATUS= shown, WATCHDOG=1 keeping them alive,
# STOPPING=1 logged, and the C one stepping down when replaced.

bats_require_minimum_version 1.5.0
load lifecycle_helpers

setup() {
	lc_setup
	CD=$(dirname "$HELPERS")/examples/notify-daemon
	SHD=$BATS_TEST_DIRNAME/../../examples/notify-daemon.sh
}
teardown() { lc_teardown; }

@test "the C daemon: ready, its port, its status, a watchdog" {
	run -0 --separate-stderr pm start web --ready notify --watchdog 2 \
		-- "$CD"
	pid=$output
	port=$(pm get web socket)
	[[ "$port" =~ ^[0-9]+$ ]]
	[ "$(pm get web status_text)" = "listening on 127.0.0.1:$port" ]
	# it serves
	exec 4<>"/dev/tcp/127.0.0.1/$port"
	read -r line <&4
	exec 4<&-
	[ "$line" = hello ]
	# its pings keep the watchdog quiet, past the 2 s period
	sleep 3
	alive "$pid"
	run -0 pm stop web
	wait_for 10 gone "$pid"
	grep -q "the daemon says it is stopping" "$D/$HFP/web.log"
}

@test "the C daemon steps down when its metadata names another" {
	pid=$(pm start web --ready notify -- "$CD")
	pm set web pid "$(dead_pid)"
	wait_for 20 gone "$pid"
	grep -q "replaced by a newer instance" "$D/$HFP/web.log"
}

@test "the shell daemon speaks sd_notify through socat" {
	command -v socat >/dev/null || skip "socat is not installed"
	run -0 --separate-stderr pm start web --ready notify --env PORT=4321 \
		-- "$SHD"
	pid=$output
	[ "$(pm get web socket)" = 4321 ]
	run -0 pm status web
	[[ "${lines[0]}" == *'"serving on port 4321"'* ]]
	grep -q "starting as web in $D/$HFP/web" "$D/$HFP/web.log"
	run -0 pm stop web
	wait_for 10 gone "$pid"
	grep -q "the daemon says it is stopping" "$D/$HFP/web.log"
}

# The code block of a man page that follows the line "# WRITING A DAEMON",
# with scdoc's escaping of backslashes undone.
man_example() {
	awk '/^# WRITING A DAEMON/ { s = 1 } s && /^```/ { n++; next }
	     s && n == 1 { print }' "$1" | sed 's/\\\\/\\/g'
}

@test "the man pages show the examples as they are tested" {
	top=$BATS_TEST_DIRNAME/../..
	diff <(man_example "$top/man/procmgr.3.scd") \
		"$top/examples/notify-daemon.c"
	diff <(man_example "$top/man/procmgr.1.scd") \
		"$top/examples/notify-daemon.sh"
}
