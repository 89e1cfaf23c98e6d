"""is_alive() in microseconds, never wrong: a cache that knows when it is
stale.

procmgr_status() reads the metadata keys and /proc (start time, boot id,
the monitor's keys): some 40 system calls, about 60 us from Python. A
client that asks "is the daemon alive?" before every request wants a few
microseconds, and must never be told "alive" about a pid that now names
another process. The answer "running" can only change in two ways:

1. the process ends (or becomes a zombie): its pidfd turns readable;
2. the metadata that named it changes (pid, start_time or process_name
   rewritten, the directory purged or replaced): an inotify watch on the
   metadata directory (and on the directories above it, for a purge or a
   move) turns readable. It sees pants' in-place writes (IN_MODIFY) as
   well as procmgr's renames, made by any process, whatever the timing.

So after a full procmgr_status() has said "running, pid P", the cache keeps
a pidfd of P and an inotify descriptor armed *before* that status was read,
and answers "alive" while one poll(2) of the two, with a zero timeout,
reports nothing. Anything readable drops the cache and the next call reads
the status in full again. A pid cannot be reused while we hold a pidfd and
the process has not exited, so the pidfd is the process the status checked
as long as the status is read again after pidfd_open() and the pidfd is not
readable afterwards (that is what fill() does).

One identity rule needs more: metadata written by pants (no start_time
key, only process_name) is checked against the live process's argv[0],
which a process may change without exiting (an exec, setproctitle). For it
the cache also keeps /proc/P/cmdline open and re-reads it (one pread) on
each call: while the command line is the one the library judged, its
verdict stands; any change drops the cache and the library judges again.
The binding never re-implements the library's matching rule.

Where a piece is missing (no inotify, no pidfd_open, the metadata directory
absent, the NAME not running) nothing is cached and every call reads the
status in full. The dead answer is never cached: it is the cheap case of
procmgr_status() anyway (no process to look at).
"""

import ctypes
import errno
import os
import select
import threading

from . import _lib, _status

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# The metadata directory: any change of any key, or of the directory.
_META_MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM |
              IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF |
              IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)
# DIR/HOSTFP: a NAME directory created, removed or renamed (a purge, a
# replacement); the keys inside are not its direct entries, so their
# writes do not wake it.
_PARENT_MASK = (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)
# DIR: only itself going away (its lock files change all the time).
_BASE_MASK = IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW

_libc = _lib.libc
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_init1.restype = ctypes.c_int
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p,
                                    ctypes.c_uint32]
_libc.inotify_add_watch.restype = ctypes.c_int

_pidfd_open = getattr(os, "pidfd_open", None)


def _cmdline(fd):
    """The process's command line now (its first 4 KiB), or None."""
    try:
        return os.pread(fd, 4096, 0)
    except OSError:
        return None


class Liveness:
    """The is_alive() cache of one NAME (see the module's docstring)."""

    def __init__(self, entry):
        self._entry = entry
        self._mutex = threading.Lock()
        self._poll = None       # select.poll of the inotify fd and pidfd
        self._fds = []          # every fd the cache holds
        self._cmdline = -1      # /proc/P/cmdline, pants' identity only
        self._argv = None       # its content when the library judged it
        self._pid = 0

    def check(self):
        """(alive, pid) of the NAME."""
        with self._mutex:
            p = self._poll
            if p is not None and not p.poll(0) and (
                    self._argv is None or
                    _cmdline(self._cmdline) == self._argv):
                return True, self._pid
            self._drop()
            return self._fill()

    def close(self):
        with self._mutex:
            self._drop()

    def after_fork(self):
        self._mutex = threading.Lock()

    def _drop(self):
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        self._poll = None
        self._cmdline = -1
        self._argv = None
        self._pid = 0

    def _watch(self):
        """An inotify fd watching the metadata directory and the two
        above it, or -1 when that cannot be (no directory, no inotify)."""
        e = self._entry
        ifd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if ifd < 0:
            return -1
        hostfp_dir = os.path.dirname(e.meta_dir)
        for path, mask in ((e.meta_dir, _META_MASK),
                           (hostfp_dir, _PARENT_MASK),
                           (e.dir, _BASE_MASK)):
            if _libc.inotify_add_watch(ifd, os.fsencode(path), mask) < 0:
                os.close(ifd)
                return -1
        return ifd

    def _fill(self):
        e = self._entry
        ifd = self._watch()
        state, pid = _status.state_pid(e)
        if state != _lib.RUNNING or ifd < 0 or _pidfd_open is None:
            if ifd >= 0:
                os.close(ifd)
            return state == _lib.RUNNING, pid
        self._fds.append(ifd)
        try:
            pidfd = _pidfd_open(pid)
        except OSError:
            # ESRCH: gone since the status; anything else: no cache
            self._drop()
            return _status.state_pid(e)[0] == _lib.RUNNING, pid
        self._fds.append(pidfd)
        poll = select.poll()
        poll.register(ifd, select.POLLIN)
        poll.register(pidfd, select.POLLIN)
        argv = self._pants_argv(pid)
        # Read again now that the pidfd pins the pid: if it still names the
        # same process and the pidfd has not fired since, they are one.
        state2, pid2 = _status.state_pid(e)
        if state2 != _lib.RUNNING or pid2 != pid or poll.poll(0) or \
                argv is False or (argv is not None and
                                  _cmdline(self._cmdline) != argv):
            self._drop()
            return state2 == _lib.RUNNING, pid2
        self._argv = argv
        self._poll = poll
        self._pid = pid
        return True, pid

    def _pants_argv(self, pid):
        """Without a start_time key the process_name key decides, against
        argv[0]: keep /proc/PID/cmdline open and return what it holds now,
        to be compared on every check. None when no such check is needed,
        False when it cannot be made (no cache then)."""
        q = self._entry.query
        with self._entry.qmutex:
            if _read_key(q, "start_time") is not None or \
                    _read_key(q, "process_name") is None:
                return None
        try:
            fd = os.open(f"/proc/{pid}/cmdline", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return False
        self._fds.append(fd)
        self._cmdline = fd
        argv = _cmdline(fd)
        return False if argv is None else argv


def _read_key(handle, key):
    out = ctypes.c_void_p()
    r = _lib.lib.procmgr_read(handle.ptr, key.encode(), ctypes.byref(out))
    if r == -errno.ENOENT:
        return None
    if r < 0:
        raise handle.error(r)
    return _lib.take(out.value)
