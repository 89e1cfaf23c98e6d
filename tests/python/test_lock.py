"""pants' test_lock.py (OwnerPrintingInterProcessFileLock), ported to
ProcessManager.lifecycle_lock, with the lock held from another process."""

import os
import signal
import subprocess
import threading
import time

import pytest

from procmgr import ProcessManager

HOLD = """
import sys
from procmgr import ProcessManager
pm = ProcessManager({name!r}, {base!r})
assert pm.lifecycle_lock.acquire()
print("held", flush=True)
sys.stdin.readline()
pm.lifecycle_lock.release()
print("released", flush=True)
sys.stdin.readline()
"""


class Holder:
    """Another process holding NAME's lifecycle lock until release()."""

    def __init__(self, procs, base, name="lock"):
        self.p = procs.python(HOLD.format(name=name, base=base),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
        assert self.p.stdout.readline() == "held\n"
        self.pid = self.p.pid

    def release(self):
        self.p.stdin.write("\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline() == "released\n"


@pytest.fixture
def lock(pmdir):
    return ProcessManager("lock", pmdir).lifecycle_lock


# pants: test_non_blocking_attempt
def test_non_blocking_attempt(lock, procs, pmdir):
    Holder(procs, pmdir)
    lines = []
    assert lock.acquire(blocking=False, message_fn=lines.append) is False
    assert not lock.acquired
    assert len(lines) == 1


# pants: test_message
def test_message(lock, procs, pmdir):
    holder = Holder(procs, pmdir)
    assert os.path.exists(lock.message_path)
    with open(lock.message_path) as f:
        message = f.read()
    assert message.startswith(f"{holder.pid} (")
    lines = []
    assert not lock.acquire(blocking=False, message_fn=lines.append)
    assert lines == [f"PID {os.getpid()} waiting for a file lock "
                     f"({lock.path}) held by: {message}"]

    os.unlink(lock.message_path)
    lines = []
    assert not lock.acquire(blocking=False, message_fn=lines.append)
    assert lines == [lock.missing_message_output]
    assert lock.missing_message_output == (
        f"Pid {os.getpid()} waiting for a file lock ({lock.path}), but there "
        f"was no message at {lock.message_path} indicating who is holding "
        "it.")


# pants: test_blocking
def test_blocking(lock, procs, pmdir):
    holder = Holder(procs, pmdir)
    t0 = time.monotonic()
    assert lock.acquire(timeout=0.1, message_fn=lambda m: None) is False
    assert 0.1 <= time.monotonic() - t0 < 1

    seen = []
    released_at = []

    def message_fn(message):
        seen.append(message)
        # the waiter is blocked now: let the holder go
        t = threading.Thread(target=lambda: (holder.release(),
                                             released_at.append(
                                                 time.monotonic())))
        t.start()

    assert lock.acquire(timeout=30, message_fn=message_fn) is True
    granted = time.monotonic()
    assert len(seen) == 1 and str(holder.pid) in seen[0]
    # woken by the release itself, not by a poll interval
    wait_for_list(released_at)
    assert granted - released_at[0] < 0.1
    lock.release()


def wait_for_list(xs, timeout=5):
    deadline = time.monotonic() + timeout
    while not xs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert xs


# pants: test_reentrant
def test_reentrant(lock):
    assert lock.acquire()
    assert lock.acquire()
    # counted: held until the second release
    lock.release()
    assert lock.acquired
    lock.release()
    assert not lock.acquired


# pants: test_release
def test_release(lock):
    assert lock.acquire()
    assert lock.acquired
    assert os.path.exists(lock.message_path)
    lock.release()
    assert not lock.acquired
    assert not os.path.exists(lock.message_path)
    with pytest.raises(RuntimeError):
        lock.release()


def test_context_manager_and_objects_of_one_name_share_it(pmdir, procs):
    a = ProcessManager("lock", pmdir)
    b = ProcessManager("LOCK", pmdir)
    with a.lifecycle_lock:
        # another object of this process goes through, as with lockf
        assert b.lifecycle_lock.acquire(blocking=False)
        b.lifecycle_lock.release()
        # another process does not
        r = procs.python("from procmgr import ProcessManager\n"
                         f"pm = ProcessManager('lock', {pmdir!r})\n"
                         "raise SystemExit(0 if pm.lifecycle_lock.acquire("
                         "blocking=False, message_fn=None) else 3)\n")
        assert r.wait(10) == 3
    assert not a.lifecycle_lock.acquired


def test_a_holder_killed_frees_the_lock_at_once(lock, procs, pmdir):
    holder = Holder(procs, pmdir)
    got = []
    t = threading.Thread(target=lambda: got.append(
        (lock.acquire(timeout=10, message_fn=lambda m: None),
         time.monotonic())))
    t.start()
    time.sleep(0.2)
    killed = time.monotonic()
    os.kill(holder.pid, signal.SIGKILL)
    t.join(10)
    assert got and got[0][0] is True
    assert got[0][1] - killed < 0.1
    # its message is not taken for a live holder's
    lock.release()


def test_a_lock_held_elsewhere_makes_ensure_wait_or_time_out(pmdir, procs,
                                                             daemons):
    Holder(procs, pmdir, name="web")
    pm = daemons("web")
    pm.lock_timeout = 0.2
    with pytest.raises(ProcessManager.Timeout) as e:
        pm.ensure(["sleep", "1000"])
    assert "lock" in str(e.value)
    with pytest.raises(ProcessManager.Timeout):
        pm.stop()
    pm.lock_timeout = 0
    with pytest.raises(ProcessManager.Timeout):
        pm.purge_metadata()
