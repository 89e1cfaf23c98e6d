#!/bin/sh
# Benchmarks: procmgr beside its peers, all measured in this one run with
# hyperfine. Peers: Debian's start-stop-daemon (pid file + /proc scan),
# flock(1) for locking, bench/pants_style.py (pants' pid-file
# algorithm: psutil liveness, lockf, 0.1 s polling on stop), for
# supervision s6 (bench/supervise.py), and in-process from Python pants'
# is_alive() (bench/python_is_alive.py).
# Prints one markdown table per scenario.
set -eu
BUILD=${BUILD:-build}
P="$(pwd)/$BUILD/procmgr"
PY=/usr/bin/python3
SSD=/sbin/start-stop-daemon
PS="$PY $(pwd)/bench/pants_style.py"
RUNS=${RUNS:-200}

if ! command -v hyperfine >/dev/null || ! $PY -c 'import psutil' 2>/dev/null
then
	sh tests/deps.sh hyperfine python3-psutil || exit 1
fi

W=$(mktemp -d /tmp/procmgr-bench.XXXXXX)
cleanup() {
	$P --dir "$W/pm" stop web >/dev/null 2>&1 || true
	$SSD --stop --quiet --pidfile "$W/ssd.pid" --retry KILL/5 2>/dev/null || true
	$PS stop "$W/ps" web 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
chmod 700 "$W"

table() {
	echo
	echo "### $1"
	echo
	cat "$W/out.md"
}

# 1. Is the daemon running? (one check of a live daemon)
$P --dir "$W/pm" start web -- sleep 100000 >/dev/null
$SSD --start --quiet --background --make-pidfile --pidfile "$W/ssd.pid" \
	--exec /bin/sleep -- 100000
$PS start "$W/ps" web sleep 100000 >/dev/null
hyperfine -N -w 20 -r "$RUNS" --export-markdown "$W/out.md" \
	-n "procmgr status" "$P --dir $W/pm -q status web" \
	-n "start-stop-daemon --status" "$SSD --status --pidfile $W/ssd.pid" \
	-n "pants-style (python3+psutil)" "$PS status $W/ps web" >/dev/null
table "status of a running daemon"

# 2. Ensure: the daemon already runs with the same options (a no-op).
hyperfine -N -w 10 -r "$RUNS" --export-markdown "$W/out.md" \
	-n "procmgr ensure (kept)" "$P --dir $W/pm -q ensure web -- sleep 100000" \
	-n "start-stop-daemon --start (already running)" \
	"$SSD --start --quiet --oknodo --pidfile $W/ssd.pid --exec /bin/sleep -- 100000" \
	-n "pants-style ensure (kept)" "$PS ensure $W/ps web sleep 100000" >/dev/null
table "ensure, already running"

# 3. Take and release the lifecycle lock around a no-op command.
hyperfine -N -w 10 -r "$RUNS" --export-markdown "$W/out.md" \
	-n "procmgr lock -- true" "$P --dir $W/pm lock web -- true" \
	-n "flock(1) true" "flock $W/flock true" \
	-n "pants-style lockf" "$PS lock $W/ps web" >/dev/null
table "lock, run a no-op, unlock"

# 4. A whole cycle: start a daemon, then stop it (TERM; it exits at once).
$P --dir "$W/pm" stop web >/dev/null
$SSD --stop --quiet --pidfile "$W/ssd.pid" --remove-pidfile
$PS stop "$W/ps" web
hyperfine -w 3 -r $((RUNS / 4)) --export-markdown "$W/out.md" \
	-n "procmgr start + stop" \
	"$P --dir $W/pm -q start web -- sleep 100000 >/dev/null && $P --dir $W/pm -q stop web" \
	-n "start-stop-daemon start + stop --retry" \
	"$SSD --start --quiet --background --make-pidfile --pidfile $W/ssd.pid --exec /bin/sleep -- 100000 && $SSD --stop --quiet --pidfile $W/ssd.pid --remove-pidfile --retry TERM/5/KILL/5" \
	-n "pants-style start + stop" \
	"$PS start $W/ps web sleep 100000 >/dev/null && $PS stop $W/ps web" >/dev/null
table "start then stop a daemon"

# 5. Supervision: the monitor's footprint, restart and idle timings,
# beside s6-supervise.
$PY bench/supervise.py "$BUILD"

# 6. is_alive() in-process from Python: the binding beside pants' psutil
# way.
$PY bench/python_is_alive.py "$BUILD"

echo
echo "machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
