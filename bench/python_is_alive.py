#!/usr/bin/python3
"""is_alive() of a running daemon, in-process, from Python.

    bench/python_is_alive.py [BUILD]

A client that asks "is the daemon alive?" before each request calls this
in a loop, so it is timed per call inside one interpreter (no process
start-up). Each is timed over 7 rounds of N calls (N/10 for the slow
ones); the table gives the median round and the best one:

- procmgr's ProcessManager.is_alive(): the binding's cache (a pidfd and an
  inotify watch, one poll(2) per call; python/procmgr/_alive.py);
- the same with the cache off: a full procmgr_status() each call (what
  the cache saves);
- pants' is_alive() as pants writes it (read the pid and process_name
  files, psutil.Process(pid), status() against zombie, cmdline()[0]
  against process_name), when python3-psutil is installed;
- the same pants algorithm with the standard library instead of psutil
  (bench/pants_style.py's reads, no psutil), as a floor for pants' way.

Prints a markdown table.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
BUILD = TOP / (sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ.setdefault("PROCMGR_LIB", str(BUILD / "libprocmgr.so.0"))
os.environ.setdefault("PROCMGR_MONITOR", str(BUILD / "procmgr-monitor"))
sys.path.insert(0, str(TOP / "python"))

import procmgr  # noqa: E402
from procmgr import _lib, _status  # noqa: E402

N = int(os.environ.get("N", "20000"))
ROUNDS = 7


def per_call_us(fn, n=N):
    """(median, best) over ROUNDS rounds of the mean time of n calls."""
    fn()
    rounds = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - t0) / n * 1e6)
    rounds.sort()
    return rounds[ROUNDS // 2], rounds[0]


def pants_reader(meta_dir):
    """pants' read_metadata_by_name: open, read, strip, maybe cast."""
    def read(key, caster=None):
        try:
            with open(os.path.join(meta_dir, key)) as f:
                v = f.read().strip()
        except OSError:
            return None
        try:
            return caster(v) if caster else v
        except (TypeError, ValueError):
            return v
    return read


def pants_psutil_is_alive(meta_dir):
    import psutil
    read = pants_reader(meta_dir)

    def is_alive():
        try:
            pid = read("pid", int)
            if not pid:
                return False
            process = psutil.Process(pid)
            name = read("process_name", str)
            cmdline = process.cmdline()
            live = cmdline[0] if cmdline else process.name()
            return not (process.status() == psutil.STATUS_ZOMBIE or
                        (name and name != live))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
    return is_alive


def pants_stdlib_is_alive(meta_dir):
    read = pants_reader(meta_dir)

    def is_alive():
        pid = read("pid", int)
        if not isinstance(pid, int):
            return False
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0", 1)[0]
        except OSError:
            return False
        name = read("process_name")
        return (stat[stat.rindex(b")") + 2:][:1] != b"Z" and
                (not name or name.encode() == argv0))
    return is_alive


def main():
    rows = []
    with tempfile.TemporaryDirectory(prefix="procmgr-bench-") as tmp:
        pm = procmgr.ProcessManager("web", os.path.join(tmp, "pm"))
        try:
            pm.ensure(["sleep", "100000"])
            assert pm.is_alive()
            rows.append(("procmgr `is_alive()` (cached)",
                         per_call_us(pm.is_alive)))
            entry = pm._entry
            rows.append(("procmgr `procmgr_status()` each call (uncached)",
                         per_call_us(lambda: _status.state_pid(entry)[0] ==
                                 _lib.RUNNING, N // 10)))
            # pants' metadata for the same daemon: pid and process_name
            meta = os.path.join(tmp, "pants", "web")
            os.makedirs(meta)
            for key, value in (("pid", str(pm.pid)), ("process_name",
                                                       "sleep")):
                with open(os.path.join(meta, key), "w") as f:
                    f.write(value)
            # the binding on pants' metadata (no start_time: argv[0]
            # decides, re-read from /proc on each call)
            hostfp = procmgr.host_fingerprint()
            pdir = os.path.join(tmp, "pants")
            os.makedirs(os.path.join(pdir, hostfp))
            os.rename(meta, os.path.join(pdir, hostfp, "web"))
            meta = os.path.join(pdir, hostfp, "web")
            on_pants = procmgr.ProcessManager("web", pdir)
            assert on_pants.is_alive()
            rows.append(("procmgr `is_alive()` of pants' metadata (cached)",
                         per_call_us(on_pants.is_alive)))
            try:
                alive = pants_psutil_is_alive(meta)
                assert alive()
                import psutil
                rows.append((f"pants `is_alive()` (psutil {psutil.__version__})",
                             per_call_us(alive, N // 10)))
            except ImportError:
                rows.append(("pants `is_alive()` (psutil)",
                             None))
            alive = pants_stdlib_is_alive(meta)
            assert alive()
            rows.append(("pants' algorithm, standard library only",
                         per_call_us(alive, N // 10)))
        finally:
            pm.stop(signals=["KILL"])
    print()
    print("### is_alive() of a running daemon, in-process (Python "
          f"{sys.version.split()[0]})")
    print()
    print("| Call | µs per call, median | best |")
    print("|:---|---:|---:|")
    for name, us in rows:
        if us is None:
            print(f"| {name} | not run (no python3-psutil) | |")
        else:
            print(f"| {name} | {us[0]:.2f} | {us[1]:.2f} |")


if __name__ == "__main__":
    main()
