#!/usr/bin/env bats
# The file and watch system calls under set, await and logs failing (a
# signal, a full inotify table, no memory): each is retried where that is
# right, or named in the error, and a key keeps its old value. The
# failures are injected into the real kernel calls with strace, as in
# faults.bats.

bats_require_minimum_version 1.5.0
load supervise_helpers

setup() {
	lc_setup
	command -v strace >/dev/null || skip "needs strace"
}
teardown() { lc_teardown; }

@test "set writes the whole value when its write is interrupted" {
	run -0 pm set web k old
	run -0 --separate-stderr failing write EINTR:when=1 set web k new
	[ -z "$stderr" ]
	[ "$(cat "$MD/web/k")" = new ]
	[ "$(ls -A "$MD/web")" = k ]
}

@test "set whose chmod or close fails keeps the old value" {
	run -0 pm set web k old
	while read -r call err text; do
		# a dynamic build's loader closes files too, before main()
		if [ "$call" = close ] && ldd "$PROCMGR" >/dev/null 2>&1; then
			continue
		fi
		run -1 --separate-stderr failing "$call" "$err" set web k new
		echo "$call: $stderr"
		[[ "$stderr" == "procmgr: cannot write $MD/web/k: $text; the old value is kept"* ]]
		[ "$(cat "$MD/web/k")" = old ]
		[ "$(ls -A "$MD/web")" = k ]
	done <<'EOT'
fchmod EPERM Operation not permitted
close EIO Input/output error
EOT
}

@test "await whose first watch misses the directory looks again" {
	run -0 pm set web other x
	( sleep 0.5; "$PROCMGR" --dir "$D" set web port 4242 ) </dev/null \
		>/dev/null 2>&1 3>&- &
	track $!
	run -0 --separate-stderr failing inotify_add_watch ENOENT:when=1 \
		await web port --timeout 30
	[ "$output" = 4242 ]
}

@test "await without a watch left says so, with or without metadata" {
	run -1 --separate-stderr failing inotify_add_watch ENOSPC \
		await web port --timeout 5
	[ "$stderr" = "procmgr: cannot watch $MD/web for 'port': No space left on device" ]
	run -0 pm set web other x
	run -1 --separate-stderr failing inotify_add_watch ENOSPC \
		await web port --timeout 5
	[ "$stderr" = "procmgr: cannot watch $MD/web for 'port': No space left on device" ]
	[ -z "$output" ]
}

@test "await whose poll fails says so at once" {
	run -0 pm set web other x
	run -1 --separate-stderr failing poll,ppoll ENOMEM \
		await web port --timeout 30
	[ "$stderr" = "procmgr: cannot await $MD/web/port: Cannot allocate memory" ]
}

@test "logs -f of a log it cannot watch follows by looking each second" {
	pm start web -- "$DAEMON" say=early sleep=1 say=late sleep=1 exit=0
	run -0 --separate-stderr failing inotify_add_watch ENOSPC logs -f web
	[[ "$output" == *early*late* ]]
}

@test "logs says why the log cannot be opened" {
	mkdir -p "$MD"
	echo hello >"$MD/web.log"
	run -0 pm set web other x
	# the first fcntl only: a coverage build's exit locks its data with
	# fcntl too, and would lose it
	run -1 --separate-stderr failing fcntl EBADF:when=1 logs web
	[[ "$stderr" == "procmgr: cannot open log $MD/web.log: Bad file descriptor"* ]]
	[ -z "$output" ]
}
