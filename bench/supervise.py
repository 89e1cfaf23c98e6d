#!/usr/bin/env python3
"""Supervision benchmarks: procmgr's monitor beside s6-supervise.

- footprint: what one monitor costs, from /proc (RSS, RssAnon, PSS),
  median over 10 supervised daemons;
- restart: how long after a crash the daemon runs again (the gap between
  two starts, stamped by the daemon itself on CLOCK_MONOTONIC), median
  over runs; procmgr's first back-off is 100 ms (systemd's RestartSec
  default), s6 waits at least 1 s between spawns;
- idle: how late past --idle-timeout the daemon is gone, median over runs.

Prints markdown tables. Usage: supervise.py BUILD_DIR
"""
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
PM = os.path.abspath(os.path.join(BUILD, "procmgr"))
STAMP = os.path.abspath(os.path.join(BUILD, "bench", "stamp"))
ENV = dict(os.environ, PROCMGR_MONITOR=os.path.abspath(
    os.path.join(BUILD, "procmgr-monitor")))
RUNS = int(os.environ.get("SUP_RUNS", "7"))


def pm(d, *args, check=True):
    return subprocess.run([PM, "--dir", d, "-q", *args], env=ENV,
                          check=check, capture_output=True, text=True)


def proc_kb(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def pss_kb(pid):
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def footprint(pids):
    rows = [(proc_kb(p, "VmRSS:"), proc_kb(p, "RssAnon:"), pss_kb(p))
            for p in pids]
    return [statistics.median(col) for col in zip(*rows)]


def pids_named(comm):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if open(f"/proc/{d}/comm").read().strip() == comm:
                    out.append(int(d))
            except OSError:
                pass
    return out


def procmgr_monitors(work, n):
    d = os.path.join(work, "pm")
    for i in range(n):
        pm(d, "start", f"d{i}", "--", "sleep", "100000")
    mons = [int(pm(d, "get", f"d{i}", "monitor").stdout.split()[0])
            for i in range(n)]
    fp = footprint(mons)
    pm(d, "stop", "--all")
    return fp


def s6_service(scan, name, script):
    sv = os.path.join(scan, name)
    os.makedirs(sv)
    with open(os.path.join(sv, "run"), "w") as f:
        f.write("#!/bin/sh\n" + script + "\n")
    os.chmod(os.path.join(sv, "run"), 0o755)


def s6_start(scan):
    return subprocess.Popen(["s6-svscan", scan], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)


def s6_stop(svscan, scan):
    subprocess.run(["s6-svscanctl", "-t", scan], capture_output=True)
    try:
        svscan.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(svscan.pid, 9)
        svscan.wait()


def s6_supervisors(work, n):
    scan = os.path.join(work, "s6fp")
    os.makedirs(scan)
    for i in range(n):
        s6_service(scan, f"d{i}", "exec sleep 100000")
    svscan = s6_start(scan)
    try:
        deadline = time.time() + 10
        sups = []
        while time.time() < deadline:
            sups = [p for p in pids_named("s6-supervise")
                    if os.getsid(p) == svscan.pid]
            if len(sups) >= n:
                break
            time.sleep(0.05)
        return footprint(sups)
    finally:
        s6_stop(svscan, scan)


def stamps(path, want, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = [int(x) for x in open(path).read().split()]
            if len(v) >= want:
                return v
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{path}: fewer than {want} starts")


def procmgr_restart_gaps(work):
    d = os.path.join(work, "pmr")
    gaps = []
    for r in range(RUNS):
        f = os.path.join(work, f"pm-stamps-{r}")
        pm(d, "start", "crash", "--restart", "always", "--restart-limit",
           "1", "--", STAMP, f, "1")
        v = stamps(f, 2, 30)
        gaps.append((v[1] - v[0]) / 1e6)
        pm(d, "stop", "crash")
    return gaps


def s6_restart_gaps(work):
    gaps = []
    scan = os.path.join(work, "s6r")
    os.makedirs(scan)
    for r in range(RUNS):
        f = os.path.join(work, f"s6-stamps-{r}")
        s6_service(scan, f"c{r}", f"exec {STAMP} {f} 1")
    svscan = s6_start(scan)
    try:
        for r in range(RUNS):
            v = stamps(os.path.join(work, f"s6-stamps-{r}"), 2, 30)
            gaps.append((v[1] - v[0]) / 1e6)
    finally:
        s6_stop(svscan, scan)
    return gaps


def idle_lateness(work):
    d = os.path.join(work, "pmi")
    late = []
    for r in range(RUNS):
        pm(d, "start", "idle", "--idle-timeout", "0.5", "--",
           "sleep", "100000")
        t0 = time.monotonic()
        pid = int(pm(d, "get", "idle", "pid").stdout)
        fd = os.pidfd_open(pid)
        select.select([fd], [], [], 30)
        late.append((time.monotonic() - t0 - 0.5) * 1000)
        os.close(fd)
        pm(d, "purge", "idle", check=False)
    return late


def med(v):
    return statistics.median(v)


def rows(work, pfp, sfp):
    """The same figures as rows of bench/bench.py's one table."""
    pg, sg = procmgr_restart_gaps(work), s6_restart_gaps(work)
    il = idle_lateness(work)
    print("| monitor footprint, RSS / RssAnon / PSS (median of 10) | "
          "%d / %d / %d KiB | | — | s6-supervise %d / %d / %d KiB | — | — "
          "| RssAnon ≤ 1 MiB |" % (*pfp, *sfp))
    print(f"| restart after a crash, `--restart always` ({RUNS} runs) | "
          f"{med(pg):.1f} ms | max {max(pg):.1f} ms | — | {med(sg):.1f} ms "
          "(1 s minimum) | — | systemd RestartSec=100ms default | "
          "100 ms first back-off |")
    print(f"| idle stop, late past `--idle-timeout 0.5` ({RUNS} runs) | "
          f"{med(il):.1f} ms | max {max(il):.1f} ms | — | — | — | — | — |")


def main():
    if not shutil.which("s6-svscan"):
        subprocess.run(["sh", "tests/deps.sh", "s6"], check=True)
    work = tempfile.mkdtemp(prefix="procmgr-sup.")
    os.chmod(work, 0o700)
    try:
        pfp = procmgr_monitors(work, 10)
        sfp = s6_supervisors(work, 10)
        if "--rows" in sys.argv:
            return rows(work, pfp, sfp)
        print("\n### footprint of one supervisor (median of 10)\n")
        print("| supervisor | RSS [KiB] | RssAnon [KiB] | PSS [KiB] |")
        print("|:---|---:|---:|---:|")
        print("| procmgr-monitor | %d | %d | %d |" % tuple(pfp))
        print("| s6-supervise | %d | %d | %d |" % tuple(sfp))
        pg, sg = procmgr_restart_gaps(work), s6_restart_gaps(work)
        print(f"\n### restart after a crash ({RUNS} runs)\n")
        print("| supervisor | first restart after [ms], median | min | max "
              "| policy |")
        print("|:---|---:|---:|---:|:---|")
        print(f"| procmgr --restart always | {med(pg):.1f} | {min(pg):.1f} "
              f"| {max(pg):.1f} | back-off 100 ms, doubling to 30 s |")
        print(f"| s6-supervise | {med(sg):.1f} | {min(sg):.1f} "
              f"| {max(sg):.1f} | at least 1 s between spawns |")
        print("| systemd (not run here: no systemd as PID 1) | 100 "
              "(documented) | | | RestartSec=100ms default |")
        il = idle_lateness(work)
        print(f"\n### idle stop, --idle-timeout 0.5 ({RUNS} runs)\n")
        print("| | late past the timeout [ms], median | min | max |")
        print("|:---|---:|---:|---:|")
        print(f"| procmgr | {med(il):.1f} | {min(il):.1f} | "
              f"{max(il):.1f} |")
    finally:
        subprocess.run([PM, "--dir", os.path.join(work, "pm"), "-q",
                        "stop", "--all"], env=ENV, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


main()
