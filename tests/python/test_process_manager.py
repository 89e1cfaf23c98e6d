"""pants' process_manager_test.py, ported to real processes.

Each test names the pants test whose behaviour it checks. pants mocks
psutil, os.kill and its own methods; here the processes are real: a live
one, a zombie, one with another argv[0], one that ignores SIGTERM. pants'
tests of its internals (_kill, daemon_spawn's fork callbacks) have no
counterpart: procmgr signals through pidfds and starts daemons with
ensure() (see test_spawn.py for the daemon_spawn replacement).
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import CHILD_ENV, wait_for
from procmgr import (MetadataError, NonResponsiveProcess, NotStarted,
                     ProcessManager, Timeout)
from procmgr import NoSuchProcess, Process

NAME = "_test_"
TEST_KEY = "TEST"
TEST_VALUE = "300"
TEST_VALUE_INT = 300


@pytest.fixture
def pm(pmdir):
    return ProcessManager(NAME, metadata_base_dir=pmdir)


def record(pm, proc, process_name=None):
    """What pantsd writes for itself: pid, and process_name if given."""
    pm.write_pid(proc.pid)
    if process_name:
        pm.write_process_name(process_name)


# pants: test_deadline_until
def test_await_logs_while_waiting_then_times_out(pm, caplog, monkeypatch):
    monkeypatch.setattr(ProcessManager, "INFO_INTERVAL_SEC", 0.1)
    t0 = time.monotonic()
    with caplog.at_level(logging.INFO, logger="procmgr"):
        with pytest.raises(ProcessManager.Timeout) as e:
            pm.await_metadata_by_name("never", "the impossible",
                                      "completed? how?", 0.45)
    assert 0.45 <= time.monotonic() - t0 < 2
    infos = [r.getMessage() for r in caplog.records]
    assert infos == ["waiting for the impossible..."] * 4, infos
    assert str(e.value) == ("exceeded timeout of 0.45 seconds while waiting "
                            "for the impossible")


# pants: test_maybe_cast
def test_maybe_cast():
    assert ProcessManager._maybe_cast(None, int) is None
    assert ProcessManager._maybe_cast("3333", int) == 3333
    assert ProcessManager._maybe_cast("ssss", int) == "ssss"


# pants: test_get_metadata_dir_by_name
def test_get_metadata_dir_by_name(pmdir):
    pm = ProcessManager(NAME, metadata_base_dir=pmdir)
    assert ProcessManager._get_metadata_dir_by_name(NAME, pmdir) == \
        os.path.join(pmdir, pm.host_fingerprint, NAME)
    assert pm.metadata_dir == os.path.join(pmdir, pm.host_fingerprint, NAME)
    assert ProcessManager.metadata_file_path(NAME, "pid", pmdir) == \
        os.path.join(pmdir, pm.host_fingerprint, NAME, "pid")
    assert pm.metadata_file_path("pid") == \
        os.path.join(pmdir, pm.host_fingerprint, NAME, "pid")


def test_host_fingerprint_is_pants_uname_hash():
    import hashlib
    h = hashlib.sha256()
    for part in os.uname():
        h.update(part.encode())
    assert ProcessManager.host_fingerprint == h.hexdigest()[:12]


def test_name_is_lower_cased_and_stripped_as_pants(pmdir):
    assert ProcessManager("  Ng_Zinc ", pmdir).name == "ng_zinc"
    with pytest.raises(ValueError):
        ProcessManager("no/slashes", pmdir)


# pants: test_readwrite_metadata_by_name
def test_readwrite_metadata_by_name(pm):
    pm.write_metadata_by_name(TEST_KEY, TEST_VALUE)
    assert pm.read_metadata_by_name(TEST_KEY) == TEST_VALUE
    assert pm.read_metadata_by_name(TEST_KEY, int) == TEST_VALUE_INT
    assert pm.read_metadata_by_name("absent") is None
    with open(pm.metadata_file_path(TEST_KEY)) as f:
        assert f.read() == TEST_VALUE      # no trailing newline


def test_read_strips_white_space_as_pants(pm):
    os.makedirs(pm.metadata_dir)
    with open(pm.metadata_file_path("socket"), "w") as f:
        f.write(" 4242\n")
    assert pm.socket == 4242


# pants: test_wait_for_file
def test_await_of_a_present_key_returns_at_once(pm):
    pm.write_metadata_by_name("test.out", "test")
    t0 = time.monotonic()
    assert pm.await_metadata_by_name("test.out", "file to be created",
                                     "file was created", 0.1) == "test"
    assert time.monotonic() - t0 < 0.1


# pants: test_wait_for_file_timeout
def test_await_of_an_absent_key_times_out(pm):
    with pytest.raises(ProcessManager.Timeout):
        pm.await_metadata_by_name("non_existent_file", "file to be created",
                                  "file was created", 0.1)


def test_await_waits_for_content_not_an_empty_file(pm):
    # pants writes in place: the file exists, empty, before its value
    os.makedirs(pm.metadata_dir)
    path = pm.metadata_file_path("socket")
    open(path, "w").close()

    def fill():
        time.sleep(0.2)
        with open(path, "w") as f:
            f.write("1234")

    t = threading.Thread(target=fill)
    t.start()
    assert pm.await_socket(5) == 1234
    t.join()


# pants: test_await_metadata_by_name
def test_await_metadata_by_name(pm):
    pm.write_metadata_by_name(TEST_KEY, TEST_VALUE)
    assert pm.await_metadata_by_name(TEST_KEY, "metadata to be created",
                                     "metadata was created", 0.1) == TEST_VALUE


def test_await_wakes_when_the_key_is_written(pm, caplog, monkeypatch):
    monkeypatch.setattr(ProcessManager, "INFO_INTERVAL_SEC", 0.1)

    def write():
        time.sleep(0.3)
        ProcessManager(NAME, pm.metadata_base_dir).write_pid(4242)

    t = threading.Thread(target=write)
    t.start()
    with caplog.at_level(logging.INFO, logger="procmgr"):
        t0 = time.monotonic()
        assert pm.await_pid(5) == 4242
        took = time.monotonic() - t0
    t.join()
    assert took < 1
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs[0] == f"waiting for {NAME} to start..."
    assert msgs[-1] == f"{NAME} started"


# pants: test_purge_metadata
def test_purge_metadata_by_name(pm):
    pm.write_metadata_by_name(TEST_KEY, TEST_VALUE)
    pm.purge_metadata_by_name(NAME)
    assert not os.path.exists(pm.metadata_dir)
    # another name under the same base directory
    other = ProcessManager("other", pm.metadata_base_dir)
    other.write_pid(123456)
    pm.purge_metadata_by_name("other")
    assert not os.path.exists(other.metadata_dir)


# pants: test_purge_metadata_error
def test_purge_metadata_error(pm, tmp_path):
    # A metadata directory replaced by a symlink is refused, not followed.
    pm.write_metadata_by_name(TEST_KEY, TEST_VALUE)
    elsewhere = tmp_path / "elsewhere"
    os.rename(pm.metadata_dir, elsewhere)
    os.symlink(elsewhere, pm.metadata_dir)
    with pytest.raises(ProcessManager.MetadataError) as e:
        pm.purge_metadata_by_name(NAME)
    assert pm.metadata_dir in str(e.value)
    assert (elsewhere / TEST_KEY).exists()


# pants: test_await_pid
def test_await_pid(pm):
    with pytest.raises(Timeout) as e:
        pm.await_pid(0.1)
    assert str(e.value) == ("exceeded timeout of 0.1 seconds while waiting "
                            f"for {NAME} to start")
    pm.write_pid(31337)
    assert pm.await_pid(5) == 31337


# pants: test_await_socket
def test_await_socket(pm):
    with pytest.raises(Timeout) as e:
        pm.await_socket(0.1)
    assert "for _test_ socket to be opened" in str(e.value)
    pm.write_socket(8080)
    assert pm.await_socket(5) == 8080


# pants: test_write_pid
def test_write_pid(pm):
    pm.write_pid(31337)
    with open(pm.metadata_file_path("pid")) as f:
        assert f.read() == "31337"
    pm.write_pid()
    assert pm.pid == os.getpid()


# pants: test_write_socket
def test_write_socket(pm):
    pm.write_socket("/path/to/unix/socket")
    with open(pm.metadata_file_path("socket")) as f:
        assert f.read() == "/path/to/unix/socket"
    assert pm.socket == "/path/to/unix/socket"     # not an int: kept as is
    pm.write_socket(31337)
    assert pm.socket == 31337


def test_write_fingerprint_and_needs_restart(pm, procs):
    p = procs.sleeper()
    assert pm.needs_restart("fp1")            # not running
    record(pm, p)
    pm.write_fingerprint("fp1")
    assert pm.fingerprint == "fp1"
    assert pm.has_current_fingerprint("fp1")
    assert not pm.has_current_fingerprint("fp2")
    assert not pm.needs_restart("fp1")
    assert pm.needs_restart("fp2")


# pants: test_as_process
def test_as_process(pm, procs):
    p = procs.sleeper()
    pm.write_pid(p.pid)
    proc = pm._as_process()
    assert isinstance(proc, Process) and proc.pid == p.pid


# pants: test_as_process_no_pid
def test_as_process_of_a_dead_pid(pm):
    dead = subprocess.Popen(["true"])
    dead.wait()
    pm.write_pid(dead.pid)
    with pytest.raises(NoSuchProcess):
        pm._as_process()


# pants: test_as_process_none
def test_as_process_none(pm):
    with pytest.raises(pm.NotStarted):
        pm._as_process()
    with pytest.raises(NotStarted):
        pm.write_process_name()


# pants: test_is_alive_neg
def test_is_alive_neg(pm):
    assert not pm.is_alive()
    assert pm.is_dead()


# pants: test_is_alive
def test_is_alive(pm, procs):
    p = procs.sleeper()
    record(pm, p)
    assert pm.is_alive()
    assert not pm.is_dead()


# pants: test_is_alive_zombie
def test_is_alive_zombie(pm, procs):
    z = procs.zombie()
    record(pm, z)
    assert not pm.is_alive()


# pants: test_is_alive_zombie_exception
def test_is_alive_of_a_process_that_is_gone(pm):
    gone = subprocess.Popen(["true"])
    gone.wait()
    pm.write_pid(gone.pid)
    assert not pm.is_alive()


# pants: test_is_alive_stale_pid
def test_is_alive_stale_pid(pm, procs):
    # a live process whose argv[0] is not the recorded process_name
    p = procs.sleeper("--argv0", "not_test")
    record(pm, p, process_name="test")
    assert not pm.is_alive()
    pm.write_process_name("not_test")
    assert pm.is_alive()


# pants: test_is_alive_extra_check
def test_is_alive_extra_check(pm, procs):
    p = procs.sleeper("--argv0", "test")
    record(pm, p, process_name="test")
    seen = []

    def extra_check(process):
        seen.append((process.pid, process.cmdline()[0], process.status()))
        return False

    assert not pm.is_alive(extra_check)
    assert seen == [(p.pid, "test", "sleeping")]
    assert pm.is_alive(lambda process: True)


# pants: test_purge_metadata_aborts
def test_purge_metadata_aborts(pm, procs):
    p = procs.sleeper()
    record(pm, p)
    with pytest.raises(ProcessManager.MetadataError):
        pm.purge_metadata()
    assert pm.pid == p.pid


# pants: test_purge_metadata_alive_but_forced
def test_purge_metadata_alive_but_forced(pm, procs):
    p = procs.sleeper()
    record(pm, p)
    pm.purge_metadata(force=True)
    assert not os.path.exists(pm.metadata_dir)
    assert p.poll() is None                  # purging signals nothing


def test_purge_metadata_of_a_dead_process(pm, procs):
    z = procs.zombie()
    record(pm, z)
    pm.purge_metadata()
    assert not os.path.exists(pm.metadata_dir)


# pants: test_terminate_quick_death
def test_terminate_quick_death(pm, procs):
    p = procs.sleeper()
    record(pm, p)
    t0 = time.monotonic()
    pm.terminate(kill_wait=5)
    assert time.monotonic() - t0 < 1         # no 0.1 s poll, no sleep
    assert p.wait(5) == -signal.SIGTERM
    assert not os.path.exists(pm.metadata_dir)


# pants: test_terminate_quick_death_no_purge
def test_terminate_quick_death_no_purge(pm, procs):
    p = procs.sleeper()
    record(pm, p)
    pm.terminate(purge=False, kill_wait=5)
    assert p.wait(5) == -signal.SIGTERM
    assert pm.pid == p.pid
    assert pm.is_dead()


# pants: test_terminate_already_dead
def test_terminate_already_dead(pm, procs):
    z = procs.zombie()
    record(pm, z)
    pm.terminate(purge=True)
    assert not os.path.exists(pm.metadata_dir)


def test_terminate_of_a_recycled_pid_signals_nothing(pm, procs):
    # the pid names a live process that is not the one recorded
    p = procs.sleeper("--argv0", "someone-else")
    record(pm, p, process_name="pantsd")
    pm.terminate(kill_wait=1)
    assert p.poll() is None
    assert not os.path.exists(pm.metadata_dir)


# pants: test_terminate_no_kill
def test_terminate_no_kill(pm, procs):
    p = procs.sleeper("--ignore-term", "--ignore", str(int(signal.SIGUSR1)))
    record(pm, p)
    chain = (signal.SIGTERM, signal.SIGUSR1)
    t0 = time.monotonic()
    with pytest.raises(ProcessManager.NonResponsiveProcess) as e:
        pm.terminate(signal_chain=chain, kill_wait=0.2, purge=True)
    assert 0.4 <= time.monotonic() - t0 < 3   # waited after each signal
    assert isinstance(e.value, NonResponsiveProcess)
    assert str(p.pid) in str(e.value)
    assert p.poll() is None
    assert pm.pid == p.pid                   # metadata kept
    pm.terminate(kill_wait=0.3)              # TERM, then KILL does it
    assert p.wait(5) == -signal.SIGKILL
    assert not os.path.exists(pm.metadata_dir)


# pants: test_process_name_setproctitle_integration
def test_process_name_as_the_process_shows_it(tmp_path):
    # A process whose argv[0] is a title, as pantsd sets with
    # setproctitle, records itself; the title is read back.
    buildroot = tmp_path / "buildroot"
    buildroot.mkdir()
    title = f"Bob [{buildroot}]"
    base = tmp_path / ".pants.d" / "pids"
    code = ("from procmgr import ProcessManager\n"
            f"pm = ProcessManager('Bob', metadata_base_dir={str(base)!r})\n"
            "pm.write_pid()\n"
            "pm.write_process_name()\n")
    subprocess.run(["bash", "-c", 'exec -a "$0" "$@"', title, sys.executable,
                    "-c", code], env=CHILD_ENV, check=True)
    pm = ProcessManager("Bob", metadata_base_dir=str(base))
    assert pm.process_name == title


def test_exceptions_are_reachable_as_pants_spells_them():
    assert ProcessManager.MetadataError is MetadataError
    assert ProcessManager.Timeout is Timeout
    assert ProcessManager.NonResponsiveProcess is NonResponsiveProcess
    assert ProcessManager.NotStarted is NotStarted
    assert ProcessManager.KILL_CHAIN == (signal.SIGTERM, signal.SIGKILL)
    assert ProcessManager.KILL_WAIT_SEC == 5


def test_is_alive_of_a_running_process_written_by_another_object(pmdir,
                                                                 procs):
    p = procs.sleeper()
    a = ProcessManager(NAME, pmdir)
    b = ProcessManager(NAME, pmdir)
    assert not b.is_alive()
    a.write_pid(p.pid)
    wait_for(b.is_alive, 1, "b to see a's write")
