#!/usr/bin/python3
"""A peer for the benchmarks: the pid-file algorithm pants' ProcessManager
uses, written here in a few lines (pants itself is not packaged for Debian).

Liveness: read DIR/NAME/pid, ask psutil for the process, compare its name
with DIR/NAME/process_name, treat zombies as dead. Locking: POSIX lockf on
DIR/.lock.NAME. Stop: SIGTERM, then poll liveness every 0.1 s until a
deadline, then SIGKILL, as pants' terminate() does.

usage: pants_style.py status|start|stop|ensure|lock DIR NAME [CMD...]
       pants_style.py list DIR  (every NAME's liveness: pants has no list;
                                 this is the loop a tool would write)
"""
import fcntl
import os
import signal
import sys
import time

import psutil


def read(d, name, key):
    try:
        with open(os.path.join(d, name, key)) as f:
            return f.read().strip()
    except OSError:
        return None


def write(d, name, key, value):
    os.makedirs(os.path.join(d, name), exist_ok=True)
    with open(os.path.join(d, name, key), "w") as f:
        f.write(value)


def alive(d, name):
    pid = read(d, name, "pid")
    if not pid or not pid.isdigit():
        return None
    try:
        proc = psutil.Process(int(pid))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        expected = read(d, name, "process_name")
        if expected and proc.cmdline()[:1] != [expected]:
            return None
        return proc
    except psutil.Error:
        return None


def lock(d, name):
    f = open(os.path.join(d, ".lock." + name), "a")
    fcntl.lockf(f, fcntl.LOCK_EX)
    return f


def start(d, name, argv):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fd = os.open(os.devnull, os.O_RDWR)
        for i in range(3):
            os.dup2(fd, i)
        os.execvp(argv[0], argv)
    write(d, name, "process_name", argv[0])
    write(d, name, "fingerprint", " ".join(argv))
    write(d, name, "pid", str(pid))
    return pid


def stop(d, name):
    proc = alive(d, name)
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        proc.send_signal(sig)
        deadline = time.time() + 5
        while time.time() < deadline:
            if alive(d, name) is None:
                return
            time.sleep(0.1)


def list_all(d):
    for name in sorted(os.listdir(d)):
        if os.path.isdir(os.path.join(d, name)):
            proc = alive(d, name)
            print(name, "running" if proc else "stale",
                  proc.pid if proc else "-")


def main():
    if sys.argv[1] == "list":
        list_all(sys.argv[2])
        return
    cmd, d, name, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    os.makedirs(d, exist_ok=True)
    if cmd == "status":
        sys.exit(0 if alive(d, name) else 3)
    held = lock(d, name)
    if cmd == "start":
        print(start(d, name, argv))
    elif cmd == "ensure":
        proc = alive(d, name)
        if proc and read(d, name, "fingerprint") == " ".join(argv):
            print(proc.pid)
        else:
            stop(d, name)
            print(start(d, name, argv))
    elif cmd == "stop":
        stop(d, name)
    held.close()


if __name__ == "__main__":
    main()
