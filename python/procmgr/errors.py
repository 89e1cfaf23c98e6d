"""The exceptions procmgr raises.

Every failure of the library is a ProcmgrError: an OSError whose errno is
the library's (the C functions return -errno) and whose text is the
library's own message for the handle (procmgr_errmsg()), which says what
failed, on which path or pid, and what to do.

The subclasses with pants' names keep pants' meaning, so code written
against pants.pantsd.process_manager catches the same cases:

  Timeout               a wait ran out (a key, readiness, the lock)
  MetadataError         metadata cannot be removed (purge_metadata() of a
                        live process, a purge that found a successor)
  NonResponsiveProcess  terminate()/stop(): it survived the signal chain;
                        its metadata is kept
  NotStarted            no pid is recorded for the name

They are also reachable as ProcessManager.Timeout and so on, as in pants.
"""

import errno as _errno


class ProcmgrError(OSError):
    """A failure of libprocmgr: .errno, and .strerror (its message)."""

    def __init__(self, err, message=None):
        super().__init__(err, message or _errno.errorcode.get(err, str(err)))

    def __str__(self):
        return self.strerror


class Timeout(ProcmgrError):
    """A wait ran out: a key to appear, the daemon to become ready, or the
    lifecycle lock (errno ETIMEDOUT; EWOULDBLOCK for the lock, held by
    another process when the wait ran out or was not allowed)."""

    def __init__(self, message, err=_errno.ETIMEDOUT):
        super().__init__(err, message)


class MetadataError(ProcmgrError):
    """The metadata cannot be removed: its process is alive, or it changed
    under us (a successor recorded itself), or the file system refused."""

    def __init__(self, message, err=_errno.EBUSY):
        super().__init__(err, message)


class NonResponsiveProcess(ProcmgrError):
    """The process survived the whole signal chain; metadata kept."""

    def __init__(self, message, err=_errno.ETIME):
        super().__init__(err, message)


class NotStarted(ProcmgrError):
    """No pid is recorded for the name."""

    def __init__(self, message="no pid recorded", err=_errno.ESRCH):
        super().__init__(err, message)


class AlreadyRunning(ProcmgrError):
    """start() of a name that is running: .pid is the running daemon."""

    def __init__(self, message, pid=None):
        super().__init__(_errno.EEXIST, message)
        self.pid = pid


class DiedBeforeReady(ProcmgrError):
    """The daemon ended before it was ready: .log_tail holds the last lines
    its log received during this start (and nothing of an earlier run)."""

    def __init__(self, message, log_tail=""):
        super().__init__(_errno.ECHILD, message)
        self.log_tail = log_tail


class InvalidArgument(ProcmgrError, ValueError):
    """A bad name, key or option (errno EINVAL); also a ValueError."""

    def __init__(self, message, err=_errno.EINVAL):
        super().__init__(err, message)


class Interrupted(ProcmgrError, InterruptedError):
    """A wait was cut short by a signal whose Python handler returned
    instead of raising (KeyboardInterrupt is raised as itself). Only the
    spawning calls raise it: retrying them would not mean the same thing.
    """

    def __init__(self, message):
        super().__init__(_errno.EINTR, message)


_BY_ERRNO = {
    _errno.ETIMEDOUT: Timeout,
    _errno.EWOULDBLOCK: Timeout,
    _errno.ETIME: NonResponsiveProcess,
    _errno.ESRCH: NotStarted,
    _errno.EINVAL: InvalidArgument,
}


def from_errno(err, message):
    """The exception for -err from the library, with its message."""
    cls = _BY_ERRNO.get(err)
    if cls is None:
        return ProcmgrError(err, message)
    return cls(message, err)
