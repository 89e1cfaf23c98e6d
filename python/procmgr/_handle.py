"""The C handles behind ProcessManager objects, and Ctrl-C.

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
"""

import ctypes
import errno
import logging
import os
import threading
import weakref

from . import _lib, errors
from ._alive import Liveness
from ._lib import dec, enc, lib, take

_log = logging.getLogger("procmgr")

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
        if self.ptr:
            lib.procmgr_free(self.ptr)
            self.ptr = None

    __del__ = free


class Entry:
    """The shared state of one NAME: its two handles, its callbacks, and
    the liveness cache (see _alive.py)."""

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
        self.default_log = dec(lib.procmgr_default_log(h))
        # Who hears about a wait for the lock: set for the call at hand.
        self.lock_message_fn = None
        self._lock_cb = _lib_lock_wait_fn(weakref.ref(self))
        self._wait_cb = _lib_wait_fn(self.name)
        lib.procmgr_set_wait_fn(h, self._wait_cb, None)
        self.liveness = Liveness(self)

    def set_lock_wait(self, timeout, message_fn):
        """How the next call on main waits for the lock: timeout None
        forever, 0 not at all, else seconds; message_fn(line) is told."""
        self.lock_message_fn = message_fn
        t = -1.0 if timeout is None else max(float(timeout), 0.0)
        lib.procmgr_set_lock_wait(self.main.ptr, t, self._lock_cb, None)

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


def missing_message_line(lock_path):
    """pants' words for a lock held by a process that left no message."""
    return (f"Pid {os.getpid()} waiting for a file lock ({lock_path}), but "
            f"there was no message at {lock_path}.lock_message indicating "
            "who is holding it.")


def _lib_lock_wait_fn(entry_ref):
    def on_wait(h, message, line, userdata):
        entry = entry_ref()
        if entry is None or entry.lock_message_fn is None:
            return
        try:
            if message:
                text = dec(line)
            else:
                text = missing_message_line(entry.lock_path)
            entry.lock_message_fn(text)
        except Exception:       # an exception cannot cross the C frames
            _log.exception("the lock wait callback failed")
    return _lib.LOCK_WAIT_FN(on_wait)


def _lib_wait_fn(name):
    def on_wait(h, what, userdata):
        if what:
            _log.debug("%s: waiting for %s", name, dec(what))
    return _lib.WAIT_FN(on_wait)

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
    global _entries_lock
    _entries_lock = threading.Lock()
    for e in list(_entries.values()):
        e.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def call_waiting(entry, attempt, resumable=True):
    """attempt(handle pointer) under the entry's mutex, returning
    (return value, error message or None). On -EINTR the Python signal
    handlers run at once (KeyboardInterrupt propagates); if they return, a
    resumable call is attempted again, anything else raises Interrupted."""
    while True:
        with entry.mutex:
            r = attempt(entry.main.ptr)
            msg = entry.main.errmsg() if r < 0 else None
        if r != -errno.EINTR:
            return r, msg
        run_signal_handlers()
        if not resumable:
            raise errors.Interrupted(msg)
