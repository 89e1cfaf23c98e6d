"""pants' ProcessManager algorithm in a few lines, for the interop tests
(pants itself is not installable here). Written from what pants does, not
from its code, with the standard library where pants uses psutil and
fasteners:

- metadata in BASE/<host fingerprint>/NAME/KEY, written in place
  (truncate, then write: a reader may see the file empty), read stripped;
- alive: the pid's process exists, is not a zombie and, if process_name
  is recorded, its argv[0] (its comm when argv is empty) equals it;
- the lifecycle lock: a POSIX lockf() lock on BASE/.lock.NAME, the holder's
  "<pid> (<argv>)" in BASE/.lock.NAME.lock_message;
- terminate: kill() each signal of the chain, then poll liveness every
  0.1 s until kill_wait runs out.

Run as a program, it does one of those from another process:
    pants_copy.py BASE NAME hold-lock | try-lock | alive | terminate
"""

import fcntl
import hashlib
import os
import shutil
import signal
import sys
import time


def host_fingerprint():
    h = hashlib.sha256()
    for part in os.uname():
        h.update(part.encode())
    return h.hexdigest()[:12]


class PantsStyle:
    def __init__(self, base, name):
        self.base = base
        self.name = name.lower().strip()
        self.dir = os.path.join(base, host_fingerprint(), self.name)
        self.lock_path = os.path.join(base, f".lock.{self.name}")
        self._lock_file = None

    def read(self, key, caster=None):
        try:
            with open(os.path.join(self.dir, key)) as f:
                value = f.read().strip()
        except OSError:
            return None
        if caster is None:
            return value
        try:
            return caster(value)
        except (TypeError, ValueError):
            return value

    def write(self, key, value):
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, key), "w") as f:
            f.write(str(value))

    def purge(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def is_alive(self):
        pid = self.read("pid", int)
        if not isinstance(pid, int) or pid <= 0:
            return False
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/comm", "rb") as f:
                comm = f.read().strip()
        except OSError:
            return False
        if stat[stat.rindex(b")") + 2:][:1] == b"Z":
            return False
        expected = self.read("process_name")
        actual = argv[0] if argv[0] else comm
        return not expected or expected.encode() == actual

    def acquire(self, blocking=True):
        os.makedirs(self.base, exist_ok=True)
        f = open(self.lock_path, "a")
        try:
            fcntl.lockf(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            f.close()
            return False
        self._lock_file = f
        with open("/proc/self/cmdline", "rb") as c:
            argv = c.read().rstrip(b"\0").replace(b"\0", b" ").decode()
        with open(self.lock_path + ".lock_message", "w") as m:
            m.write(f"{os.getpid()} ({argv})")
        return True

    def release(self):
        try:
            os.unlink(self.lock_path + ".lock_message")
        except FileNotFoundError:
            pass
        fcntl.lockf(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
        self._lock_file = None

    def terminate(self, chain=(signal.SIGTERM, signal.SIGKILL), kill_wait=5):
        if self.is_alive():
            for sig in chain:
                try:
                    os.kill(self.read("pid", int), sig)
                except OSError:
                    pass
                deadline = time.time() + kill_wait
                while self.is_alive() and time.time() < deadline:
                    time.sleep(0.1)
                if not self.is_alive():
                    break
            else:
                raise RuntimeError("non-responsive")
        self.purge()


def main():
    base, name, what = sys.argv[1:4]
    p = PantsStyle(base, name)
    if what == "hold-lock":
        p.acquire()
        print("held", flush=True)
        sys.stdin.readline()
        p.release()
        print("released", flush=True)
        sys.stdin.readline()
    elif what == "try-lock":
        sys.exit(0 if p.acquire(blocking=False) else 3)
    elif what == "alive":
        sys.exit(0 if p.is_alive() else 3)
    elif what == "terminate":
        # under the lock, as pants' launcher terminates pantsd
        p.acquire()
        p.terminate()
        p.release()


if __name__ == "__main__":
    main()
