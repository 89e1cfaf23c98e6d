"""Fixtures of the Python binding's tests: real processes, reaped always.

The tests run against the build in $BUILD (tests/run.sh sets
$PROCMGR_LIB, $PROCMGR_MONITOR, $HELPERS and $PROCMGR); run by hand, they
use ../../build. Every process a test starts is killed and reaped by a
fixture's finalizer, whether the test passed or not.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent.parent
BUILD = TOP / os.environ.get("BUILD", "build")
sys.path.insert(0, str(TOP / "python"))
os.environ.setdefault("PROCMGR_LIB", str(BUILD / "libprocmgr.so.0"))

import procmgr  # noqa: E402

HELPERS = Path(os.environ.get("HELPERS", BUILD / "helpers"))
PROCMGR = os.environ.get("PROCMGR", str(BUILD / "procmgr"))
# What a child interpreter needs to import this very binding.
CHILD_ENV = dict(os.environ, PYTHONPATH=str(TOP / "python"))


def helper(name):
    return str(HELPERS / name)


def wait_for(pred, timeout=10.0, what="a condition"):
    """Poll pred() every 10 ms until it is true; fail after timeout s."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return None
    return stat[stat.rindex(b")") + 2:][:1].decode()


def ignores(pid, sig):
    """Whether pid has set sig's disposition to ignored (SigIgn)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) >> (int(sig) - 1) & 1)
    return False


def wait_ignoring(pid, sig):
    """Until a daemon started "ready at exec" has set sig to ignored."""
    wait_for(lambda: ignores(pid, sig), what=f"pid {pid} to ignore {sig}")


@pytest.fixture
def pmdir(tmp_path):
    """A fresh metadata base directory (procmgr creates it, mode 0700)."""
    return str(tmp_path / "pm")


class Procs:
    """Processes a test starts directly; all killed and reaped after it."""

    def __init__(self):
        self.popens = []

    def spawn(self, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(argv, **kw)
        self.popens.append(p)
        return p

    def sleeper(self, *opts, tmp=None):
        """pm-sleeper with opts, returned once it is set up."""
        ready = f"/tmp/pm-sleeper-ready.{os.getpid()}.{len(self.popens)}"
        p = self.spawn([helper("pm-sleeper"), *opts, "--ready-file", ready])
        wait_for(lambda: os.path.exists(ready), what="pm-sleeper")
        os.unlink(ready)
        return p

    def zombie(self):
        """A child that has exited and is not reaped (until teardown)."""
        p = self.spawn(["true"])
        wait_for(lambda: proc_state(p.pid) == "Z", what="a zombie")
        return p

    def python(self, code, **kw):
        kw.setdefault("env", CHILD_ENV)
        return self.spawn([sys.executable, "-u", "-c", code], **kw)

    def cleanup(self):
        for p in self.popens:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    p.kill()
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                if f:
                    f.close()


@pytest.fixture
def procs():
    p = Procs()
    try:
        yield p
    finally:
        p.cleanup()


@pytest.fixture
def daemons(pmdir):
    """make(name) gives a ProcessManager whose daemon (and its monitor's
    tree) is stopped with SIGKILL after the test, whatever happened."""
    made = []

    def make(name="web", base=None):
        pm = procmgr.ProcessManager(name, base or pmdir)
        made.append(pm)
        return pm

    try:
        yield make
    finally:
        for pm in made:
            try:
                pm.stop(signals=["KILL"], kill_wait=10)
            except procmgr.ProcmgrError:
                pass
