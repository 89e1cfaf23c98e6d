"""The C handles behind ProcessManager objects, the lock, and Ctrl-C.

One NAME under one DIR gets one pair of C handles per process, shared by
every ProcessManager object naming it:

- `main` is used for everything that may wait (the lifecycle lock, start,
  ensure, restart, stop, purge, await) and is serialized by an RLock;
- `query` is used for what never waits (status, reading and writing keys,
  self_check, touch), so is_alive() in one thread is not held up by an
  ensure() waiting for readiness in another.

Sharing matters for the lock. The lifecycle lock is an open-file-description
lock: two handles of the same process exclude each other, where pants' lockf
lock (a per-process POSIX lock) lets a process through twice. pants code
makes several ProcessManager objects for "pantsd" in one process and takes
the lock through one while another purges or terminates; with a handle each
that would deadlock on itself. With one shared (and counted) handle the lock
excludes other processes and is re-entrant within this one, as pants'.

Waits and signals. Python's C-level signal handler makes a blocking system
call fail with EINTR; the library then returns -EINTR with its state
consistent (the lock released, metadata whole). The binding then runs the
Python handlers at once (PyErr_CheckSignals): SIGINT's raises
KeyboardInterrupt right there, within milliseconds of Ctrl-C. A handler that
returns (a SIGCHLD or SIGUSR1 handler of the application, say) means "go
on": waits that can be resumed (the lock, await, stop) are retried, as
PEP 475 retries system calls; a start cannot be resumed, so the spawning
calls raise errors.Interrupted instead.

A signal can also land where no system call is there to fail: just before
the wait blocks, or in another thread of the process. Python's C handler
then only notes it, and the wait would go on to its end. So during a wait
from the main thread, Python's wakeup fd (signal.set_wakeup_fd, a pipe of
the binding's) is the library's cancel fd: the handler writes a byte there,
the wait sees it and returns -EINTR as for an interrupted call. When the
application already owns the wakeup fd (asyncio does), the binding leaves it
alone and only the interrupted system call ends the wait.

For that to hold, no Python code may run inside a library call that waits:
Python runs pending signal handlers at the next bytecode of the main
thread, and an exception raised in a ctypes callback is printed and
dropped, so a Ctrl-C landing there would be lost and the wait resumed. The
binding therefore gives the library no callbacks. pants' "waiting for a
file lock ... held by" line is produced in Python before the wait: a first
attempt does not wait, and only when it finds the lock held does message_fn
hear about it and the waiting attempt begin. The state-changing calls take
the lock that way themselves before calling into the library, which then
finds it held by its handle and only counts up.
"""

import contextlib
import ctypes
import errno
import os
import signal
import threading
import time
import weakref

from . import errors
from ._alive import Liveness
from ._lib import dec, enc, lib, take

_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.argtypes = []
_check_signals.restype = ctypes.c_int


def run_signal_handlers():
    """Run the Python handlers of the signals that arrived meanwhile; an
    exception they raise (KeyboardInterrupt) propagates from here."""
    _check_signals()


def default_dir():
    out = ctypes.c_void_p()
    r = lib.procmgr_default_dir(ctypes.byref(out))
    if r < 0:
        raise errors.from_errno(-r, "cannot find the default procmgr "
                                    "directory: " + os.strerror(-r))
    return dec(take(out.value))


def normalize_name(name):
    buf = ctypes.create_string_buffer(65)
    r = lib.procmgr_name_normalize(enc(name), buf)
    if r < 0:
        raise errors.InvalidArgument(
            f"invalid name {name!r}: use 1-64 characters of a-z, 0-9, '.', "
            "'_' and '-', not starting with '.' (case is ignored)")
    return dec(buf.value)


class Handle:
    """One procmgr * handle, opened on NAME under DIR."""

    def __init__(self, dir, name):
        self.ptr = lib.procmgr_new()
        if not self.ptr:
            raise MemoryError("procmgr_new")
        r = lib.procmgr_open(self.ptr, enc(dir), enc(name))
        if r < 0:
            err = self.error(r)
            self.free()
            raise err

    def errmsg(self):
        return dec(lib.procmgr_errmsg(self.ptr)) or os.strerror(errno.EIO)

    def error(self, r):
        """The exception for the return value r < 0 of a call on it."""
        return errors.from_errno(-r, self.errmsg())

    def free(self):
        # (lib may be gone already when the interpreter shuts down)
        if self.ptr and lib is not None:
            lib.procmgr_free(self.ptr)
        self.ptr = None

    __del__ = free


class Entry:
    """The shared state of one NAME: its two handles and the liveness
    cache (see _alive.py)."""

    def __init__(self, dir, name):
        self.main = Handle(dir, name)
        self.query = Handle(dir, name)
        self.mutex = threading.RLock()
        self.qmutex = threading.Lock()
        h = self.main.ptr
        self.name = dec(lib.procmgr_get_name(h))
        self.dir = dec(lib.procmgr_get_dir(h))
        self.meta_dir = dec(lib.procmgr_meta_dir(h))
        self.lock_path = dec(lib.procmgr_lock_path(h))
        self.liveness = Liveness(self)

    def close(self):
        self.liveness.close()
        self.main.free()
        self.query.free()

    def __del__(self):
        self.close()

    def after_fork(self):
        # A thread of the parent may have held them at fork().
        self.mutex = threading.RLock()
        self.qmutex = threading.Lock()
        self.liveness.after_fork()


_entries = weakref.WeakValueDictionary()
_entries_lock = threading.Lock()


def entry_for(dir, name):
    """The shared Entry of NAME under DIR (None: the default DIR)."""
    name = normalize_name(name)
    dir = os.path.abspath(default_dir() if dir is None else os.fspath(dir))
    key = (dir, name)
    with _entries_lock:
        e = _entries.get(key)
        if e is None:
            e = Entry(dir, name)
            _entries[key] = e
        return e


def _after_fork_in_child():
    global _entries_lock, _wakeup
    _entries_lock = threading.Lock()
    # the parent's pipe: a signal of ours must not end the parent's wait
    if _wakeup is not None:
        for fd in _wakeup:
            os.close(fd)
        _wakeup = None
    for e in list(_entries.values()):
        e.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


_wakeup = None  # (read end, write end) of the binding's wakeup pipe


def _drain(fd):
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


@contextlib.contextmanager
def _signals_cancel(ptr):
    """Within: a signal caught by a Python handler, in whatever thread it
    lands, ends the library's wait on ptr (see the module's text)."""
    global _wakeup
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _wakeup is None:
        _wakeup = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    r, w = _wakeup
    theirs = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    if theirs != -1:
        # The application's (asyncio's, which does not warn either): put
        # it back and do without.
        signal.set_wakeup_fd(theirs, warn_on_full_buffer=False)
        yield
        return
    lib.procmgr_set_cancel_fd(ptr, r)
    try:
        # one that came before the fd was set has not written it
        run_signal_handlers()
        yield
    finally:
        lib.procmgr_set_cancel_fd(ptr, -1)
        signal.set_wakeup_fd(-1)
        _drain(r)


def call_waiting(entry, attempt, resumable=True):
    """attempt(handle pointer) under the entry's mutex, returning
    (return value, error message or None). On -EINTR the Python signal
    handlers run at once (KeyboardInterrupt propagates); if they return, a
    resumable call is attempted again, anything else raises Interrupted."""
    while True:
        with entry.mutex, _signals_cancel(entry.main.ptr):
            r = attempt(entry.main.ptr)
            msg = entry.main.errmsg() if r < 0 else None
        if r != -errno.EINTR:
            return r, msg
        run_signal_handlers()
        if not resumable:
            raise errors.Interrupted(msg)


def missing_message_line(lock_path):
    """pants' words for a lock held by a process that left no message."""
    return (f"Pid {os.getpid()} waiting for a file lock ({lock_path}), but "
            f"there was no message at {lock_path}.lock_message indicating "
            "who is holding it.")


def wait_line(lock_path):
    """pants' line for a lock held elsewhere, naming the holder."""
    try:
        with open(lock_path + ".lock_message", "rb") as f:
            message = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return missing_message_line(lock_path)
    return (f"PID {os.getpid()} waiting for a file lock ({lock_path}) held "
            f"by: {message}")


def _lock_within(seconds):
    def attempt(h):
        lib.procmgr_set_lock_wait(h, seconds, None, None)
        return lib.procmgr_lock(h)
    return attempt


def take_lock(entry, timeout, message_fn):
    """Take the entry's lifecycle lock: (True, None) once held, (False,
    the library's message) when timeout seconds passed first (None: no
    limit; 0: no wait at all). message_fn(line), if given, hears pants'
    line once when the lock is found held elsewhere."""
    deadline = None if timeout is None else time.monotonic() + timeout
    held_before = lib.procmgr_lock_held(entry.main.ptr) == 1
    try:
        r, msg = call_waiting(entry, _lock_within(0.0))
        if r == -errno.EWOULDBLOCK:
            if message_fn is not None:
                message_fn(wait_line(entry.lock_path))
            if timeout != 0:
                def attempt(h):
                    # a wait resumed after a signal gets the time left
                    left = -1.0
                    if deadline is not None:
                        left = max(deadline - time.monotonic(), 0.0)
                    return _lock_within(left)(h)

                r, msg = call_waiting(entry, attempt)
    except BaseException:
        # KeyboardInterrupt just after the library granted the lock: we
        # are not returning it to anyone, so let it go again
        if not held_before and lib.procmgr_lock_held(entry.main.ptr) == 1:
            release_lock(entry)
        raise
    if r >= 0:
        return True, None
    if r == -errno.EWOULDBLOCK:
        return False, msg
    raise errors.from_errno(-r, msg)


def release_lock(entry):
    with entry.mutex:
        r = lib.procmgr_unlock(entry.main.ptr)
        if r < 0:
            raise entry.main.error(r)
