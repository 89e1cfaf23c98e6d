#!/bin/sh
# make bench: procmgr beside start-stop-daemon, s6, the pants-style
# manager (bench/pants_style.py) and the floor, in one run, printed as
# one markdown table (bench/bench.py says how each figure is taken).
# RUNS=N scales the number of runs (default 300; the whole takes about
# three minutes on a 2-core machine); BENCH_ONLY=ready,growth runs only
# those figures (fig_ names without the prefix, as in bench.py's main()).
set -eu
BUILD=${BUILD:-build}
# Under `stamp reap`: the peers' orphaned daemons are reaped at once.
exec "$BUILD/bench/stamp" reap /usr/bin/python3 bench/bench.py "$BUILD"
