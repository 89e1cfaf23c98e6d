"""The binding against pants' algorithm (pants_copy.py): metadata written
by one side is read by the other, and each side's lifecycle lock excludes
the other's, from separate processes as pants clients and procmgr users
would be."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import wait_for
from pants_copy import PantsStyle
from procmgr import ProcessManager

PANTS = str(Path(__file__).with_name("pants_copy.py"))


def pants(base, name, what, **kw):
    return [sys.executable, PANTS, base, name, what]


class PantsHolder:
    def __init__(self, procs, base, name):
        self.p = procs.spawn(pants(base, name, "hold-lock"),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        assert self.p.stdout.readline() == "held\n"

    def release(self):
        self.p.stdin.write("\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline() == "released\n"


def test_pants_metadata_is_read_by_the_binding(pmdir, procs):
    p = procs.sleeper("--argv0", "pantsd [/repo]")
    ps = PantsStyle(pmdir, "pantsd")
    ps.write("process_name", "pantsd [/repo]")
    ps.write("fingerprint", "abc123")
    ps.write("socket", "37421")
    ps.write("pid", p.pid)
    pm = ProcessManager("pantsd", pmdir)
    assert (pm.pid, pm.process_name, pm.fingerprint, pm.socket) == \
        (p.pid, "pantsd [/repo]", "abc123", 37421)
    assert pm.is_alive()
    st = pm.status()
    assert (st.state, st.pid, st.socket, st.ready) == \
        ("running", p.pid, "37421", True)
    assert not pm.needs_restart("abc123")
    # the process ends: both sides see it
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert not ps.is_alive()
    assert not pm.is_alive()
    assert pm.status().state == "stale"


def test_pants_metadata_of_a_recycled_pid_is_stale(pmdir, procs):
    # the pid now names a process with another argv[0]
    p = procs.sleeper("--argv0", "vim")
    ps = PantsStyle(pmdir, "pantsd")
    ps.write("process_name", "pantsd [/repo]")
    ps.write("pid", p.pid)
    assert not ps.is_alive()
    assert not ProcessManager("pantsd", pmdir).is_alive()


def test_procmgr_daemon_is_seen_by_pants(pmdir, daemons):
    pm = daemons("pantsd")
    pid, why = pm.ensure(["sleep", "1000"], fingerprint="v1")
    assert why == "not running"
    ps = PantsStyle(pmdir, "pantsd")
    assert ps.read("pid", int) == pid
    assert ps.read("fingerprint") == "v1"
    assert ps.is_alive()
    r = subprocess.run(pants(pmdir, "pantsd", "alive"))
    assert r.returncode == 0


def test_pants_terminates_a_procmgr_daemon(pmdir, daemons):
    pm = daemons("pantsd")
    pid, _ = pm.ensure(["sleep", "1000"])
    subprocess.run(pants(pmdir, "pantsd", "terminate"), check=True,
                   timeout=20)
    assert not pm.is_alive()
    assert pm.status().state == "stopped"       # pants purged it


def test_a_daemon_writing_itself_as_pantsd_does(pmdir, procs):
    # pantsd writes its own pid and process_name through the binding
    code = ("import sys, time\n"
            "from procmgr import ProcessManager\n"
            f"pm = ProcessManager('pantsd', {pmdir!r})\n"
            "pm.write_pid()\n"
            "pm.write_process_name()\n"
            "pm.write_socket(4242)\n"
            "print('up', flush=True)\n"
            "sys.stdin.readline()\n")
    d = procs.python(code, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     text=True)
    assert d.stdout.readline() == "up\n"
    ps = PantsStyle(pmdir, "pantsd")
    assert ps.is_alive()
    assert ps.read("socket", int) == 4242
    assert ps.read("process_name") == sys.executable
    assert ProcessManager("pantsd", pmdir).is_alive()


def test_await_socket_of_a_pants_writer(pmdir):
    # pants writes in place: the binding never returns an empty value
    ps = PantsStyle(pmdir, "pantsd")
    path = os.path.join(ps.dir, "socket")

    def write():
        time.sleep(0.2)
        os.makedirs(ps.dir, exist_ok=True)
        with open(path, "w") as f:
            f.flush()
            time.sleep(0.2)
            f.write("51234")

    t = threading.Thread(target=write)
    t.start()
    assert ProcessManager("pantsd", pmdir).await_socket(5) == 51234
    t.join()


def test_pants_reads_what_the_binding_writes(pmdir):
    pm = ProcessManager("pantsd", pmdir)
    pm.write_pid(os.getpid())
    pm.write_process_name()
    pm.write_fingerprint("f00")
    ps = PantsStyle(pmdir, "pantsd")
    assert ps.read("pid", int) == os.getpid()
    assert ps.read("fingerprint") == "f00"
    assert ps.is_alive()
    pm.purge_metadata(force=True)
    assert ps.read("pid") is None


def test_pants_lock_excludes_the_binding(pmdir, procs):
    holder = PantsHolder(procs, pmdir, "pantsd")
    lock = ProcessManager("pantsd", pmdir).lifecycle_lock
    lines = []
    assert lock.acquire(blocking=False, message_fn=lines.append) is False
    assert str(holder.p.pid) in lines[0] and "pants_copy.py" in lines[0]
    got = []
    t = threading.Thread(target=lambda: got.append(
        lock.acquire(timeout=10, message_fn=lambda m: None)))
    t.start()
    time.sleep(0.2)
    assert not got                             # still waiting
    holder.release()
    t.join(10)
    assert got == [True]
    lock.release()


def test_binding_lock_excludes_pants(pmdir, procs):
    pm = ProcessManager("pantsd", pmdir)
    with pm.lifecycle_lock:
        r = subprocess.run(pants(pmdir, "pantsd", "try-lock"))
        assert r.returncode == 3
        # pants reads who holds it
        with open(pm.lifecycle_lock.message_path) as f:
            assert f.read().startswith(f"{os.getpid()} (")
    r = subprocess.run(pants(pmdir, "pantsd", "try-lock"))
    assert r.returncode == 0


def test_ensure_waits_for_a_pants_holder(pmdir, procs, daemons):
    holder = PantsHolder(procs, pmdir, "pantsd")
    pm = daemons("pantsd")
    pm.lock_timeout = 0.2
    with pytest.raises(ProcessManager.Timeout):
        pm.ensure(["sleep", "1000"])
    assert not pm.is_alive()
    holder.release()
    pid, why = pm.ensure(["sleep", "1000"])
    assert why == "not running"
    wait_for(pm.is_alive, 5)
