#!/usr/bin/env python3
"""procmgr beside its peers: one table, ready to paste into BENCHMARKS.md.

    bench/bench.py BUILD_DIR

Every figure drives the real binaries. Peers: Debian's start-stop-daemon
(pid file), s6 (s6-svscan + s6-svc/s6-svwait/s6-svstat), the pants-style
manager of bench/pants_style.py, and a floor (what any tool must pay at
least). How each figure is taken:

- CLI wall time (status, stop, list, cost growth): hyperfine -N, every
  run exported, median and p99 computed here;
- readiness latency: the daemon (bench/stamp ready) stamps
  CLOCK_MONOTONIC when it signals, `stamp run` stamps when the CLI
  returns; floor: a child that stamps and exits, to its parent's return;
- 64 concurrent ensure: `stamp herd 64`, each copy timed from its own
  fork to its return, 3 rounds pooled; floor: 64 x /bin/true;
- in-process liveness: bench/liveness, procmgr_status() in a loop on one
  handle, per-call median and p99; floor: one /proc/PID/stat read;
- peak RSS: GNU time's %M (the command's ru_maxrss);
- instructions: `perf stat -e instructions:u` of one `status`, where perf
  works (a count, not a time, so it does not move with the machine's load);
- in-process liveness from Python: bench/python_is_alive.py (the
  binding's cached is_alive() beside pants' psutil one);
- supervision: bench/supervise.py (monitor footprint, restart gap, idle
  lateness, beside s6-supervise and systemd's documented default).

RUNS (default 300) scales the hyperfine runs.
"""
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PM = os.path.join(BUILD, "procmgr")
STAMP = os.path.join(BUILD, "bench", "stamp")
LIVE = os.path.join(BUILD, "bench", "liveness")
SSD = shutil.which("start-stop-daemon") or "/sbin/start-stop-daemon"
PY = "/usr/bin/python3"
PS = [PY, os.path.join(TOP, "bench", "pants_style.py")]
RUNS = int(os.environ.get("RUNS", "300"))
# BENCH_ONLY=ready,growth: only those figures (names as in main()).
ONLY = [x for x in os.environ.get("BENCH_ONLY", "").split(",") if x]
os.environ["PROCMGR_MONITOR"] = os.path.join(BUILD, "procmgr-monitor")

W = tempfile.mkdtemp(prefix="procmgr-bench.")
os.chmod(W, 0o700)
ROWS = []


def q(cmd):
    return " ".join(cmd)


def hf(cmds, runs, prepare=None, warmup=5, rounds=3):
    """{label: [seconds...]} for each command, by hyperfine -N: in rounds,
    the commands in a rotated order each round, so that a drift of the
    machine during the run weighs on every command alike."""
    out = os.path.join(W, "hf.json")
    labels = list(cmds)
    times = {label: [] for label in labels}
    for k in range(rounds):
        args = ["hyperfine", "-N", "-w", str(warmup),
                "-r", str(max(2, runs // rounds)),
                "--export-json", out, "--style", "none"]
        for label in labels[k % len(labels):] + labels[:k % len(labels)]:
            if prepare:
                args += ["--prepare", prepare.get(label) or "true"]
            args += ["-n", label, cmds[label]]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        for r in json.load(open(out))["results"]:
            times[r["command"]] += r["times"]
    return times


def p99(v):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def ms(v):
    return f"{v * 1000:.2f} ms"


def cell(peer, ours, fmt):
    if peer is None:
        return "—"
    return f"{fmt(peer)} (×{ours / peer:.2f})" if peer else fmt(peer)


def row(figure, ours, peers, floor, goal, fmt=ms):
    """ours: samples; peers: {column: median or None}; floor: median."""
    m = statistics.median(ours)
    ROWS.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        figure, fmt(m), fmt(p99(ours)),
        cell(peers.get("ssd"), m, fmt), cell(peers.get("s6"), m, fmt),
        cell(peers.get("pants"), m, fmt), cell(floor, m, fmt), goal))


def med(v):
    return statistics.median(v) if v else None


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def pm(d, *args):
    return run([PM, "--dir", d, "-q", *args])


# ---- peers' set-up --------------------------------------------------------

def s6_service(scan, name, script, notify_fd=None, down=False):
    sv = os.path.join(scan, name)
    os.makedirs(sv)
    with open(os.path.join(sv, "run"), "w") as f:
        f.write("#!/bin/sh\n" + script + "\n")
    os.chmod(os.path.join(sv, "run"), 0o755)
    if notify_fd is not None:
        open(os.path.join(sv, "notification-fd"), "w").write(f"{notify_fd}\n")
    if down:
        open(os.path.join(sv, "down"), "w").close()
    return sv


def s6_scan():
    scan = os.path.join(W, "s6")
    os.makedirs(scan)
    return scan


def s6_up(scan):
    p = subprocess.Popen(["s6-svscan", scan], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    return p


def s6_wait_supervised(sv):
    for _ in range(200):
        if run(["s6-svok", sv]).returncode == 0:
            return
        time.sleep(0.02)
    raise RuntimeError(f"{sv}: not supervised")


# ---- figures --------------------------------------------------------------

def fig_status(scan):
    d = os.path.join(W, "st")
    pm(d, "start", "web", "--", "sleep", "100000")
    pid_f = os.path.join(W, "ssd.pid")
    run([SSD, "--start", "--quiet", "--background", "--make-pidfile",
         "--pidfile", pid_f, "--exec", "/bin/sleep", "--", "100000"])
    psd = os.path.join(W, "ps")
    run(PS + ["start", psd, "web", "sleep", "100000"])
    sv = s6_service(scan, "st", "exec sleep 100000")
    run(["s6-svscanctl", "-a", scan])
    s6_wait_supervised(sv)
    t = hf({"pm": f"{PM} --dir {d} -q status web",
            "ssd": f"{SSD} --status --pidfile {pid_f}",
            "s6": f"s6-svstat {sv}",
            "pants": q(PS + ["status", psd, "web"]),
            "floor": "/bin/true"}, RUNS)
    row("`status` of a running daemon", t["pm"],
        {k: med(t[k]) for k in ("ssd", "s6", "pants")}, med(t["floor"]),
        "≤ 1.0× s-s-d, ≤ 1.1× floor")
    rss = {k: peak_rss(c) for k, c in {
        "pm": [PM, "--dir", d, "-q", "status", "web"],
        "ssd": [SSD, "--status", "--pidfile", pid_f],
        "s6": ["s6-svstat", sv],
        "pants": PS + ["status", psd, "web"],
        "floor": ["/bin/true"]}.items()}
    row("CLI peak RSS (`status`)", [rss["pm"]],
        {k: rss[k] for k in ("ssd", "s6", "pants")}, rss["floor"],
        "≤ 1.2 MiB", fmt=kib)
    instr = perf_instructions([PM, "--dir", d, "-q", "status", "web"])
    if instr:
        base = perf_instructions([SSD, "--status", "--pidfile", pid_f])
        row("`status`, user instructions (perf stat)", [instr],
            {"ssd": base}, perf_instructions(["/bin/true"]), "—",
            fmt=lambda v: f"{v / 1000:.0f} k")
    live(d, "web")
    run([SSD, "--stop", "--quiet", "--pidfile", pid_f, "--remove-pidfile",
         "--retry", "KILL/5"])
    run(PS + ["stop", psd, "web"])
    pm(d, "stop", "web")
    run(["s6-svc", "-wd", "-d", sv])


def kib(v):
    return f"{v / 1024:.2f} MiB"


def peak_rss(cmd):
    """Peak RSS (KiB) of cmd, the largest of 5, by GNU time (%M)."""
    best = 0
    for _ in range(5):
        r = run(["/usr/bin/time", "-f", "%M", *cmd])
        try:
            best = max(best, int(r.stderr.split()[-1]))
        except (IndexError, ValueError):
            pass
    return best


def perf_instructions(cmd):
    if not shutil.which("perf"):
        return None
    r = run(["perf", "stat", "-x,", "-r", "20", "-e", "instructions:u",
             *cmd])
    for line in r.stderr.splitlines():
        f = line.split(",")
        if len(f) > 2 and "instructions" in f[2] and f[0].isdigit():
            return int(f[0])
    return None


def live(d, name):
    r = run([LIVE, d, name, "20000"])
    f = run([LIVE, "--floor", pm(d, "get", name, "pid").stdout.strip(),
             "20000"])
    ours = [float(x) for x in r.stdout.split()[:2]]
    floor = float(f.stdout.split()[0])
    pants = pants_alive_us(d)
    ROWS.append("| in-process liveness (`procmgr_status`) | %.2f µs | %.2f µs "
                "| — | — | %s | %.2f µs (×%.2f) | ≤ 10 µs |" % (
                    ours[0], ours[1],
                    f"{pants:.2f} µs (×{ours[0] / pants:.2f})" if pants
                    else "—", floor, ours[0] / floor))


def pants_alive_us(d):
    psd = os.path.join(W, "psl")
    run(PS + ["start", psd, "web", "sleep", "100000"])
    code = ("import sys,time,statistics;sys.path.insert(0,%r);"
            "import pants_style as p;t=[]\n"
            "for i in range(3000):\n"
            " a=time.perf_counter();p.alive(%r,'web');"
            "t.append(time.perf_counter()-a)\n"
            "print(statistics.median(t)*1e6)") % (
                os.path.join(TOP, "bench"), psd)
    r = run([PY, "-c", code])
    run(PS + ["stop", psd, "web"])
    try:
        return float(r.stdout.strip())
    except ValueError:
        return None


def fig_stop(scan):
    d = os.path.join(W, "sp")
    pid_f = os.path.join(W, "ssd2.pid")
    psd = os.path.join(W, "ps2")
    sv = s6_service(scan, "sp", "exec sleep 100000", down=True)
    run(["s6-svscanctl", "-a", scan])
    s6_wait_supervised(sv)
    n = 20
    t = hf({"pm": f"{PM} --dir {d} -q stop web",
            "ssd": f"{SSD} --stop --quiet --pidfile {pid_f} "
                   "--remove-pidfile --retry TERM/5/KILL/5",
            "s6": f"s6-svc -wD -d {sv}",
            "pants": q(PS + ["stop", psd, "web"]),
            "floor": "/bin/true"}, n,
           prepare={"pm": f"{PM} --dir {d} -q start web -- sleep 100000",
                    "ssd": f"{SSD} --start --quiet --background "
                           f"--make-pidfile --pidfile {pid_f} --exec "
                           "/bin/sleep -- 100000",
                    "s6": f"s6-svc -wu -u {sv}",
                    "pants": q(PS + ["start", psd, "web", "sleep",
                                     "100000"])}, warmup=2)
    row("`stop`, daemon exits at once on TERM", t["pm"],
        {k: med(t[k]) for k in ("ssd", "s6", "pants")}, med(t["floor"]),
        "≤ 2 ms")


def latency(cmd_up, cmd_down, stamp_file, n=15):
    out = []
    for _ in range(n):
        try:
            os.unlink(stamp_file)
        except FileNotFoundError:
            pass
        r = run([STAMP, "run", *cmd_up])
        end = int(r.stdout.split()[-1]) if r.stdout.split() else 0
        for _ in range(100):    # exec: the stamp may follow the return
            try:
                begin = int(open(stamp_file).read().split()[0])
                out.append((end - begin) / 1e9)
                break
            except (OSError, IndexError, ValueError):
                time.sleep(0.01)
        run(cmd_down)
    return out


def fig_ready(scan):
    d = os.path.join(W, "rd")
    f = os.path.join(W, "ready.stamp")
    floor = latency([STAMP, f, "0"], ["true"], f)
    port = 20000 + os.getpid() % 20000
    ssd_f = os.path.join(W, "ssdn.pid")
    ssd = latency([SSD, "--start", "--quiet", "--background",
                   "--notify-await", "--notify-timeout", "10",
                   "--make-pidfile", "--pidfile", ssd_f, "--exec", STAMP,
                   "--", "ready", "notify", "20", f],
                  [SSD, "--stop", "--quiet", "--pidfile", ssd_f,
                   "--remove-pidfile", "--retry", "KILL/5"], f)
    sv = s6_service(scan, "rd", f"exec {STAMP} ready fd:3 20 {f}",
                    notify_fd=3, down=True)
    run(["s6-svscanctl", "-a", scan])
    s6_wait_supervised(sv)
    s6 = latency(["s6-svc", "-wU", "-u", sv], ["s6-svc", "-wD", "-d", sv],
                 f)
    for mode in ("exec", "notify", "fd:3", "socket", f"tcp:{port}",
                 f"unix:{W}/ready.sock"):
        delay = "0" if mode == "exec" else "20"
        ours = latency([PM, "--dir", d, "-q", "start", "web", "--ready",
                        mode, "--", STAMP, "ready", mode, delay, f],
                       [PM, "--dir", d, "-q", "stop", "web"], f)
        peers = {}
        if mode == "notify":
            peers["ssd"] = med(ssd)
        if mode == "fd:3":
            peers["s6"] = med(s6)
        label = mode.split(":")[0]
        row(f"readiness latency, `--ready {label}` (ready {delay} ms after "
            "exec)", ours, peers, med(floor), "≤ 1 ms")


def herd(cmd, rounds=3, before=None, after=None):
    out = []
    for _ in range(rounds):
        if before:
            before()
        r = run([STAMP, "herd", "64", *cmd])
        out += [int(x) / 1e6 for x in r.stdout.split()]
        if after:
            after()
    return out


def fig_herd(scan):
    d = os.path.join(W, "hd")
    ssd_f = os.path.join(W, "ssdh.pid")
    psd = os.path.join(W, "psh")
    ours = herd([PM, "--dir", d, "-q", "ensure", "web", "--", "sleep",
                 "100000"], after=lambda: pm(d, "stop", "web"))
    ssd = herd([SSD, "--start", "--quiet", "--oknodo", "--background",
                "--make-pidfile", "--pidfile", ssd_f, "--exec",
                "/bin/sleep", "--", "100000"],
               after=lambda: run([SSD, "--stop", "--quiet", "--oknodo",
                                  "--pidfile", ssd_f, "--remove-pidfile",
                                  "--retry", "KILL/5"]))
    sv = s6_service(scan, "hd", "exec sleep 100000", down=True)
    run(["s6-svscanctl", "-a", scan])
    s6_wait_supervised(sv)
    s6 = herd(["s6-svc", "-wu", "-u", sv],
              after=lambda: run(["s6-svc", "-wD", "-d", sv]))
    pants = herd(PS + ["ensure", psd, "web", "sleep", "100000"], rounds=1,
                 after=lambda: run(PS + ["stop", psd, "web"]))
    floor = herd(["/bin/true"])
    ROWS.append("| 64 concurrent `ensure` from nothing (p99 compared) | "
                "%s | %s | %s | %s | %s | %s | p99 ≤ 50 ms |" % (
                    ms(med(ours)), ms(p99(ours)),
                    cell(p99(ssd), p99(ours), ms),
                    cell(p99(s6), p99(ours), ms),
                    cell(p99(pants), p99(ours), ms),
                    cell(p99(floor), p99(ours), ms)))


def make_names(d, n, pid):
    """n NAMEs whose metadata names the live process pid."""
    fp = run([PM, "host-fingerprint"]).stdout.strip()
    st = open(f"/proc/{pid}/stat").read()
    ticks = st[st.rindex(")") + 2:].split()[19]
    boot = open("/proc/sys/kernel/random/boot_id").read().strip()
    os.makedirs(os.path.join(d, fp), mode=0o700, exist_ok=True)
    os.chmod(d, 0o700)
    for i in range(n):
        m = os.path.join(d, fp, f"n{i:05d}")
        if os.path.isdir(m):
            continue
        os.mkdir(m, 0o700)
        for k, v in (("pid", str(pid)), ("start_time", f"{ticks} {boot}"),
                     ("fingerprint", "0" * 64), ("socket", "1234")):
            with open(os.path.join(m, k), "w") as fh:
                fh.write(v)
    return os.path.join(d, fp)


def fig_growth(scan):
    d = os.path.join(W, "gr")
    pm(d, "start", "web", "--", "sleep", "100000")
    pid = int(pm(d, "get", "web", "pid").stdout)
    growth = {}
    host = None
    for n in (10, 1000, 10000):
        host = make_names(d, n - 1, pid)
        runs = max(10, RUNS // (1 if n < 10000 else 10))
        t = hf({"status": f"{PM} --dir {d} -q status web",
                "ensure": f"{PM} --dir {d} -q ensure web -- sleep 100000",
                "list": f"{PM} --dir {d} list"},
               runs if n < 10000 else 20)
        growth[n] = t
    t = hf({"ls": f"ls -f {host}"}, 20)
    pants = hf({"pants": q(PS + ["list", host])}, 6, warmup=1)
    row("`list` of 10,000 NAMEs", growth[10000]["list"],
        {"pants": med(pants["pants"])}, med(t["ls"]), "≤ 100 ms")
    ROWS.append("| `list` of 10,000 NAMEs, peak RSS | %s | | — | — | — | — "
                "| ≤ 1.2 MiB |" % kib(peak_rss([PM, "--dir", d, "list"])))
    for what in ("status", "ensure", "list"):
        ROWS.append("| cost growth: `%s`%s at 10 / 1,000 / 10,000 NAMEs | %s"
                    " | %s | | | | | flat (list: linear) |" % (
                        what, " (kept)" if what == "ensure" else "",
                        " / ".join(ms(med(growth[n][what]))
                                   for n in (10, 1000, 10000)),
                        " / ".join(ms(p99(growth[n][what]))
                                   for n in (10, 1000, 10000))))
    pm(d, "stop", "web")


def python_alive(scan):
    """The binding's is_alive() beside pants' (bench/python_is_alive.py)."""
    r = run([PY, os.path.join(TOP, "bench", "python_is_alive.py"), BUILD])
    got = {}
    for line in r.stdout.splitlines():
        f = [x.strip() for x in line.strip("|").split("|")]
        if len(f) >= 2 and f[0].startswith(("procmgr `is_alive()` (cached)",
                                            "pants `is_alive()`")):
            got["pm" if f[0].startswith("procmgr") else "pants"] = \
                float(f[1])
    if "pm" in got:
        p = got.get("pants")
        ROWS.append("| in-process liveness from Python, binding `is_alive()`"
                    " | %.2f µs | | — | — | %s | — | ≤ 10 µs |" % (
                        got["pm"], f"{p:.2f} µs (×{got['pm'] / p:.2f})"
                        if p else "—"))


def supervision(scan):
    r = run([PY, os.path.join(TOP, "bench", "supervise.py"), BUILD,
             "--rows"])
    ROWS.extend(x for x in r.stdout.splitlines() if x.startswith("|"))
    if r.returncode:
        sys.stderr.write(r.stderr)


def main():
    scan = s6_scan()
    svscan = s6_up(scan)
    t0 = time.time()
    try:
        for fig in (fig_status, fig_stop, fig_ready, fig_herd, fig_growth,
                    python_alive, supervision):
            if ONLY and fig.__name__.replace("fig_", "") not in ONLY:
                continue
            t = time.time()
            fig(scan)
            sys.stderr.write(f"bench: {fig.__name__} {time.time() - t:.0f} s\n")
    finally:
        run(["s6-svscanctl", "-t", scan])
        try:
            svscan.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(svscan.pid, 9)
        for sub in os.listdir(W):
            p = os.path.join(W, sub)
            if os.path.isdir(p) and not sub.startswith(("s6", "ps")):
                run([PM, "--dir", p, "-q", "stop", "--all"])
        shutil.rmtree(W, ignore_errors=True)
    u = platform.uname()
    print(f"\n`make bench`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
          f", {u.machine}, {os.cpu_count()} CPUs, kernel {u.release}, "
          f"load average {os.getloadavg()[0]:.2f} at the end, "
          f"{time.time() - t0:.0f} s.\n")
    print("Peer cells: the peer's median (procmgr's median ÷ it); the "
          "64-way row compares p99s.\n")
    print("| figure | procmgr median | procmgr p99 | start-stop-daemon | "
          "s6 | pants-style | floor | goal |")
    print("|:---|---:|---:|---:|---:|---:|---:|:---|")
    for r in ROWS:
        print(r)


main()
