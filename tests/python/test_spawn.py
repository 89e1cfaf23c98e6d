"""Beyond pants: ensure, start, restart, stop, status, self_check,
from_env, notify_ready and the supervision options, with real daemons."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import procmgr
from conftest import PROCMGR, TOP, helper, wait_for, wait_ignoring
from procmgr import (AlreadyRunning, DiedBeforeReady, InvalidArgument,
                     NonResponsiveProcess, ProcessManager, ProcmgrError,
                     Timeout)

HERE = Path(__file__).resolve().parent
DAEMON_ENV = {"PYTHONPATH": f"{HERE}{os.pathsep}{TOP / 'python'}"}


def fake_daemon(*actions):
    return [sys.executable, "-m", "fake_daemon", *actions]


def test_ensure_starts_keeps_and_restarts(daemons):
    pm = daemons("web")
    pid, why = pm.ensure(["sleep", "1000"])
    assert why == "not running"
    assert pm.is_alive() and pm.pid == pid
    assert pm.ensure(["sleep", "1000"]) == (pid, None)
    pid2, why = pm.ensure(["sleep", "2000"])
    assert why == "argv changed"
    assert pid2 != pid and pm.pid == pid2
    pid3, why = pm.ensure(["sleep", "2000"], env={"FOO": "1"},
                          fingerprint_env=["FOO"])
    assert pid3 != pid2 and "env FOO changed" in why


def test_the_daemon_spawn_replacement(daemons, tmp_path):
    # pants' daemon_spawn() forks a callback; with procmgr the daemon is a
    # program of its own, kept while its version is the same.
    pm = daemons("mytool")
    argv = fake_daemon("ready")
    pid, why = pm.ensure(argv, fingerprint="1.0", ready="notify",
                         env=DAEMON_ENV, cwd=str(tmp_path))
    assert why == "not running"
    assert pm.ensure(argv, fingerprint="1.0", ready="notify",
                     env=DAEMON_ENV, cwd=str(tmp_path)) == (pid, None)
    pid2, why = pm.ensure(argv, fingerprint="1.1", ready="notify",
                          env=DAEMON_ENV, cwd=str(tmp_path))
    assert pid2 != pid and why == "fingerprint changed"
    assert pm.fingerprint == "1.1"
    st = pm.status()
    assert st.running and st.ready and st.status_text == "serving"
    assert int(st.socket) == pm.socket > 0
    # The daemon logs its READY=1 after sending it: ensure may return
    # before the line is written.
    wait_for(lambda: f"ready on {pm.socket}, sent=True" in pm.log_tail(10),
             what="the daemon's ready line")
    log = pm.log_tail(10)
    # from_env() named it, and self_check() said it is the recorded one
    assert f"fake_daemon: mytool in {pm.metadata_base_dir}, " \
           "self_check=True" in log


def test_status_is_procmgr_json_status(daemons):
    pm = daemons("web")
    pm.ensure(["sleep", "1000"], fingerprint="fp")
    st = pm.status()
    out = subprocess.run([PROCMGR, "--dir", pm.metadata_base_dir, "--json",
                          "status", "web"], capture_output=True, text=True)
    cli = json.loads(out.stdout)
    for k in ("log", "cmdline"):
        cli.pop(k, None)
    assert st.to_dict() == cli
    assert json.loads(st.to_json()) == cli
    assert st.running and st.monitor and st.started_at.endswith("Z")
    pm.stop()
    st = pm.status()
    assert (st.state, st.pid, st.exit) == ("stopped", None, None)


def test_status_of_a_killed_daemon_says_how(daemons):
    pm = daemons("web")
    pid, _ = pm.ensure(["sleep", "1000"])
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pm.status().exit is not None, what="the exit record")
    st = pm.status()
    assert st.state == "stale"
    assert (st.exit.status, st.exit.signal, st.exit.reason) == \
        (None, "KILL", None)
    assert not pm.is_alive()
    _, why = pm.ensure(["sleep", "1000"])
    assert why == f"stale pid {pid}"


def test_start_and_already_running(daemons):
    pm = daemons("web")
    pid = pm.start(["sleep", "1000"])
    with pytest.raises(AlreadyRunning) as e:
        pm.start(["sleep", "1000"])
    assert e.value.pid == pid and e.value.errno == errno.EEXIST
    assert pm.restart(["sleep", "1000"]) != pid


def test_exec_failure_is_an_oserror_with_its_errno(daemons):
    pm = daemons("web")
    with pytest.raises(ProcmgrError) as e:
        pm.start(["/nonexistent/daemon"])
    assert e.value.errno == errno.ENOENT
    assert isinstance(e.value, OSError)
    assert "/nonexistent/daemon" in str(e.value)


def test_died_before_ready_carries_its_log(daemons):
    pm = daemons("web")
    with pytest.raises(DiedBeforeReady) as e:
        pm.start(["sh", "-c", "echo cannot bind port 80 >&2; exit 3"],
                 ready="notify")
    assert "died before it was ready: status=3" in str(e.value)
    assert "cannot bind port 80" in e.value.log_tail


def test_ready_timeout(daemons):
    pm = daemons("web")
    t0 = time.monotonic()
    with pytest.raises(Timeout) as e:
        pm.start(["sleep", "1000"], ready="notify", ready_timeout=0.3)
    assert 0.3 <= time.monotonic() - t0 < 3
    assert "not ready" in str(e.value)
    # left running, but ensure() does not keep a daemon that never got ready
    assert pm.is_alive()
    _, why = pm.ensure(["sleep", "1000"])
    assert why == "not ready"


def test_ready_by_socket_key_as_pants(daemons, tmp_path):
    # pants' protocol: the daemon writes the socket key last
    pm = daemons("web")
    pid = pm.start([helper("fake-daemon"), "sleep=0.2", "key=socket=4711",
                    "pause"], ready="socket")
    assert pm.socket == 4711 and pm.pid == pid


def test_stop(daemons, procs):
    pm = daemons("web")
    assert pm.stop() is None                  # nothing to stop
    pid = pm.start([helper("pm-sleeper"), "--ignore-term"])
    wait_ignoring(pid, signal.SIGTERM)      # ready at exec, not at main()
    with pytest.raises(NonResponsiveProcess):
        pm.stop(signals=["TERM"], kill_wait=0.2)
    assert pm.is_alive()
    assert pm.stop(signals=("TERM", signal.SIGKILL), kill_wait=0.3) == pid
    assert not pm.is_alive()
    assert not os.path.exists(pm.metadata_dir)


def test_stop_keeps_metadata_when_asked(daemons):
    pm = daemons("web")
    pid = pm.start(["sleep", "1000"])
    assert pm.stop(keep_metadata=True) == pid
    # the monitor records the exit as it reaps the daemon
    wait_for(lambda: pm.status().exit is not None, what="the exit record")
    st = pm.status()
    assert st.state == "stale" and st.exit.reason == "stop"
    assert st.exit.signal == "TERM" and st.pid == pid


def test_self_check_and_from_env(pmdir, monkeypatch):
    pm = ProcessManager("web", pmdir)
    assert not pm.self_check()          # no metadata names this process
    pm.write_pid()
    monkeypatch.setenv("PROCMGR_NAME", "web")
    monkeypatch.setenv("PROCMGR_DIR", pmdir)
    me = ProcessManager.from_env()
    assert me.name == "web" and me.self_check()
    pm.write_pid(1234567)
    assert not me.self_check()
    monkeypatch.delenv("PROCMGR_NAME")
    with pytest.raises(ProcmgrError):
        ProcessManager.from_env()


def test_notify_without_a_socket_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert procmgr.notify_ready(port=1) is False


def test_notify_to_an_abstract_and_a_path_socket(monkeypatch, tmp_path):
    import socket
    for addr, bind in (("@pm-test-%d" % os.getpid(),
                        "\0pm-test-%d" % os.getpid()),
                       (str(tmp_path / "notify"), str(tmp_path / "notify"))):
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.bind(bind)
            monkeypatch.setenv("NOTIFY_SOCKET", addr)
            assert procmgr.notify_ready(port=8080, status="up")
            assert s.recv(100) == b"PORT=8080\nSTATUS=up\nREADY=1"
            assert procmgr.notify_ready(port="/run/web.sock")
            assert s.recv(100) == b"SOCKET=/run/web.sock\nREADY=1"
            assert procmgr.notify_watchdog()
            assert s.recv(100) == b"WATCHDOG=1"


def test_compute_fingerprint_is_what_ensure_records(daemons, tmp_path):
    pm = daemons("web")
    opts = dict(cwd=str(tmp_path), env={"A": "1"}, fingerprint_env=["A"])
    fp = procmgr.compute_fingerprint(["sleep", "1000"], **opts)
    assert len(fp) == 64
    pm.ensure(["sleep", "1000"], **opts)
    assert pm.fingerprint == fp
    assert not pm.needs_restart(fp)
    assert procmgr.compute_fingerprint(["sleep", "1"], fingerprint="v") == "v"


def test_options_are_checked(daemons):
    pm = daemons("web")
    with pytest.raises(TypeError):
        pm.ensure(["sleep", "1"], restrat="always")
    with pytest.raises(ValueError):
        pm.ensure(["sleep", "1"], ready="sometime")
    with pytest.raises(InvalidArgument):
        pm.ensure(["sleep", "1"], restart="sometimes")
    with pytest.raises(InvalidArgument):
        pm.ensure(["sleep", "1"], max_rss="lots")
    with pytest.raises(InvalidArgument):
        pm.ensure(["sleep", "1"], signals=["TREM"])
    with pytest.raises(InvalidArgument):
        pm.ensure("sleep 1")
    with pytest.raises(InvalidArgument):
        pm.ensure(["sleep", "1"], kill_mode="group")
    assert not os.path.exists(pm.metadata_dir)


def test_restart_on_failure(daemons):
    pm = daemons("web")
    pm.ensure(["sh", "-c", "sleep 0.1; exit 1"], restart="on-failure",
              restart_limit=2)
    wait_for(lambda: pm.status().exit is not None and
             pm.status().exit.reason == "gave-up", 20, "gave-up")
    assert pm.status().restarts == 2


def test_idle_timeout(daemons):
    pm = daemons("web")
    pm.ensure(["sleep", "1000"], idle_timeout=0.3)
    wait_for(lambda: pm.status().exit is not None, 10, "the idle stop")
    st = pm.status()
    assert st.state == "stopped" and st.exit.reason == "idle"
    assert st.idle_timeout == 0.3
    _, why = pm.ensure(["sleep", "1000"], idle_timeout=0.3)
    assert why == "stopped after idle"


def test_touch_rearms_the_idle_timer(daemons):
    pm = daemons("web")
    pid, _ = pm.ensure(["sleep", "1000"], idle_timeout=0.5)
    for _ in range(8):
        time.sleep(0.15)
        pm.touch()
    assert pm.is_alive() and pm.pid == pid


def test_watchdog(daemons):
    pm = daemons("web")
    pm.ensure(["sleep", "1000"], watchdog=0.3)
    wait_for(lambda: pm.status().exit is not None, 10, "the watchdog")
    assert pm.status().exit.reason == "watchdog"


def test_max_rss_restarts(daemons):
    pm = daemons("web")
    pid, _ = pm.ensure(["sleep", "1000"], max_rss="1G")
    assert pm.ensure(["sleep", "1000"], max_rss=1 << 30) == (pid, None)
    pid2, why = pm.ensure(["sleep", "1000"], max_rss="4K")
    assert pid2 != pid and why.startswith("memory ") and "4 KiB" in why


def test_kill_mode_process_leaves_the_rest_of_the_tree(daemons, tmp_path):
    pm = daemons("web")
    child = tmp_path / "child"
    pm.start(["sh", "-c", f"sleep 1000 & echo $! > {child}; exec sleep 1000"])
    # the shell creates the file, then writes the pid into it
    wait_for(lambda: child.exists() and child.read_text().endswith("\n"))
    cpid = int(child.read_text())
    pm.stop(kill_mode="process")
    assert os.path.exists(f"/proc/{cpid}")
    os.kill(cpid, signal.SIGKILL)


def test_list_names_and_default_dir(pmdir, monkeypatch):
    ProcessManager("b", pmdir).write_pid(123456)
    ProcessManager("a", pmdir).write_pid(123457)
    assert procmgr.list_names(pmdir) == ["a", "b"]
    monkeypatch.setenv("PROCMGR_DIR", pmdir)
    assert procmgr.default_dir() == pmdir
    assert ProcessManager("a").metadata_base_dir == pmdir
