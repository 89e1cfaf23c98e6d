"""Ctrl-C: every blocking call of the binding ends by KeyboardInterrupt
within 100 ms of SIGINT, and the lifecycle lock is free afterwards.

Each test runs the binding in a child interpreter (with Python's own
SIGINT handler), waits until the child sleeps inside the call, sends
SIGINT and measures on the shared CLOCK_MONOTONIC how long the child took
to get KeyboardInterrupt. The child then stays alive while the test checks
the lock from here, so that "free" is not merely the kernel dropping a dead
process's lock.
"""

import select
import signal
import subprocess
import time

import pytest

from conftest import helper, proc_state, wait_for, wait_ignoring
from procmgr import ProcessManager

# A shell runs background jobs with SIGINT ignored, and Python then
# leaves it so; the child puts back the handler an interactive Python has.
CHILD = """
import signal, sys, time
import procmgr
signal.signal(signal.SIGINT, signal.default_int_handler)
pm = procmgr.ProcessManager("web", {base!r})
try:
    print("calling", flush=True)
    {call}
    print("returned", flush=True)
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), pm.lifecycle_lock.acquired,
          flush=True)
    sys.stdin.readline()
"""


def interrupt(procs, base, call, catch=True):
    """Run call in a child until it sleeps in it, then SIGINT it; the
    child's (seconds to KeyboardInterrupt, whether it held the lock)."""
    code = CHILD.format(base=base, call=call)
    if not catch:
        code = code.replace("except KeyboardInterrupt:", "except OSError:")
    child = procs.python(code, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    if line != "calling\n":
        pytest.fail(f"the child did not start: {line} {child.stderr.read()}")
    # asleep in the call, and for a while: the wait has begun
    for _ in range(3):
        wait_for(lambda: proc_state(child.pid) == "S", 5, "the child's wait")
        time.sleep(0.1)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    if not catch:
        return child, sent
    line = child.stdout.readline().split()
    assert line[:1] == ["interrupted"], (line, child.stderr.read())
    return child, float(line[1]) - sent, line[2] == "True"


def lock_is_free(base):
    lock = ProcessManager("web", base).lifecycle_lock
    if not lock.acquire(blocking=False, message_fn=None):
        return False
    lock.release()
    return True


def hold_lock(base, procs):
    """Another process takes NAME's lock and keeps it (until killed, at
    the latest in teardown); it is returned."""
    holder = procs.python(
        "import sys\nfrom procmgr import ProcessManager\n"
        f"pm = ProcessManager('web', {base!r})\n"
        "pm.lifecycle_lock.acquire()\nprint('held', flush=True)\n"
        "sys.stdin.readline()\n",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


def test_ctrl_c_in_a_lock_wait(pmdir, procs):
    holder = hold_lock(pmdir, procs)
    child, took, held = interrupt(
        procs, pmdir, "pm.lifecycle_lock.acquire(message_fn=None)")
    assert took < 0.1 and not held, took
    holder.kill()
    holder.wait()
    assert lock_is_free(pmdir)


def test_ctrl_c_while_waiting_for_readiness(pmdir, procs, daemons):
    daemons("web")          # stops what the child started
    child, took, held = interrupt(
        procs, pmdir, "pm.ensure(['sleep', '1000'], ready='notify')")
    assert took < 0.1 and not held, took
    # the child is alive, and the lock ensure() held is free
    assert child.poll() is None
    assert lock_is_free(pmdir)


def test_ctrl_c_in_await(pmdir, procs):
    child, took, held = interrupt(
        procs, pmdir,
        "pm.await_metadata_by_name('socket', 'a socket', 'got it', 60)")
    assert took < 0.1 and not held, took


def test_ctrl_c_in_the_kill_chain(pmdir, procs, daemons):
    pm = daemons("web")
    pid = pm.start([helper("pm-sleeper"), "--ignore-term"])
    wait_ignoring(pid, signal.SIGTERM)      # ready at exec, not at main()
    child, took, held = interrupt(
        procs, pmdir, "pm.stop(signals=['TERM'], kill_wait=60)")
    assert took < 0.1 and not held, took
    assert child.poll() is None
    assert lock_is_free(pmdir)
    assert pm.is_alive() and pm.pid == pid       # metadata kept


def test_uncaught_ctrl_c_ends_the_program_as_python_does(pmdir, procs,
                                                           daemons):
    daemons("web")
    child, sent = interrupt(procs, pmdir,
                            "pm.ensure(['sleep', '1000'], ready='notify')",
                            catch=False)
    rc = child.wait(5)
    took = time.monotonic() - sent
    assert rc == -signal.SIGINT
    assert "KeyboardInterrupt" in child.stderr.read()
    assert took < 1                      # process exit included
    assert lock_is_free(pmdir)


def test_other_handlers_resume_the_wait(pmdir, procs):
    # A handler that returns is not a cancel: the await goes on and
    # returns the key written after the signal.
    code = (
        "import signal, sys, time\n"
        "import procmgr\n"
        "signal.signal(signal.SIGUSR1, lambda *a: print('usr1', "
        "flush=True))\n"
        f"pm = procmgr.ProcessManager('web', {pmdir!r})\n"
        "print('start', flush=True)\n"
        "print('got', pm.await_socket(30), flush=True)\n")
    child = procs.python(code, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "start\n"
    time.sleep(0.2)
    child.send_signal(signal.SIGUSR1)
    assert child.stdout.readline() == "usr1\n"
    ProcessManager("web", pmdir).write_socket(8080)
    assert child.stdout.readline() == "got 8080\n"
    assert child.wait(5) == 0


def test_other_handlers_during_a_start_raise_interrupted(pmdir, procs,
                                                         daemons):
    daemons("web")
    code = (
        "import signal, sys, threading, os\n"
        "import procmgr\n"
        "signal.signal(signal.SIGUSR1, lambda *a: None)\n"
        "threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))"
        ".start()\n"
        f"pm = procmgr.ProcessManager('web', {pmdir!r})\n"
        "try:\n"
        "    pm.ensure(['sleep', '1000'], ready='notify')\n"
        "except procmgr.Interrupted as e:\n"
        "    print('interrupted:', e, flush=True)\n")
    child = procs.python(code, stdout=subprocess.PIPE, text=True)
    out = child.stdout.readline()
    assert out.startswith("interrupted: interrupted while waiting for web")
    assert child.wait(5) == 0
    assert lock_is_free(pmdir)


def test_ctrl_c_caught_by_another_thread_ends_the_wait(pmdir, procs):
    # Only a thread that is in a system call gets EINTR: with SIGINT
    # blocked in the main thread, the kernel hands it to another one, and
    # the wait in the main thread must end all the same.
    hold_lock(pmdir, procs)
    code = CHILD.format(base=pmdir, call=(
        "threading.Thread(target=threading.Event().wait, daemon=True)"
        ".start()\n    "
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n    "
        "pm.lifecycle_lock.acquire(message_fn=None)"))
    code = code.replace("import signal,", "import signal, threading,")
    child = procs.python(code, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "calling\n"
    for _ in range(3):
        wait_for(lambda: proc_state(child.pid) == "S", 5, "the child's wait")
        time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    ready, _, _ = select.select([child.stdout], [], [], 60)
    assert ready, "the wait went on after SIGINT"
    line = child.stdout.readline().split()
    assert line[:1] == ["interrupted"], (line, child.stderr.read())
    assert line[2] == "False"
    assert lock_is_free(pmdir) is False  # the holder still has it
