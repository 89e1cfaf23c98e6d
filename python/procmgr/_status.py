"""ProcessManager.status(): struct procmgr_status as a dataclass."""

import ctypes
import json
import time
from dataclasses import asdict, dataclass
from typing import Optional

from . import _lib
from ._lib import dec, lib


@dataclass(frozen=True)
class ExitInfo:
    """How the daemon last ended, as its monitor recorded it."""
    status: Optional[int]       # exit status; None when killed by a signal
    signal: Optional[str]       # "TERM", "KILL", ... (a number if unnamed)
    at: Optional[str]           # RFC 3339 UTC
    reason: Optional[str]       # "stop", "idle", "watchdog", "not-ready",
    #                             "gave-up" when procmgr ended it, else None


@dataclass(frozen=True)
class Status:
    """A NAME's state, with the fields of `procmgr --json status`.

    to_dict() (and to_json()) give exactly the JSON object
    `procmgr --json status` prints; idle_timeout and warning are extra.
    """
    name: str
    state: str                  # "running", "stale" or "stopped"
    pid: Optional[int]
    fingerprint: Optional[str]
    socket: Optional[str]
    started_at: Optional[str]   # RFC 3339 UTC
    exit: Optional[ExitInfo]
    ready: bool
    status_text: Optional[str]
    restarts: int
    monitor: Optional[int]
    idle_timeout: float = 0.0
    warning: Optional[str] = None

    @property
    def running(self):
        return self.state == "running"

    def to_dict(self):
        d = asdict(self)
        del d["idle_timeout"], d["warning"]
        return d

    def to_json(self):
        return json.dumps(self.to_dict())


def _time(t):
    """RFC 3339 UTC, as procmgr --json prints it; None for no time."""
    if t < 0:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    except (OverflowError, OSError, ValueError):
        return "9999-12-31T23:59:59Z"


def _signal(n):
    if n <= 0:
        return None
    name = lib.procmgr_signal_name(n)
    return dec(name) if name else str(n)


def from_struct(name, st, warning=None):
    e = st.exit
    ex = None
    if e.known:
        ex = ExitInfo(status=e.status if e.status >= 0 else None,
                      signal=_signal(e.signal), at=dec(e.at),
                      reason=dec(e.reason))
    running = st.state == _lib.RUNNING
    return Status(
        name=name,
        state=_lib.STATE_NAMES.get(st.state, "stale"),
        pid=st.pid if st.pid > 0 else None,
        fingerprint=dec(st.fingerprint),
        socket=dec(st.socket),
        started_at=_time(st.started_at),
        exit=ex,
        ready=bool(running and st.ready),
        status_text=dec(st.status_text),
        restarts=st.restarts,
        monitor=st.monitor if st.monitor > 0 else None,
        idle_timeout=st.idle_timeout,
        warning=warning,
    )


def read_raw(handle, st):
    """procmgr_status() into the ctypes struct st; the caller clears it
    with clear(st). Returns the library's warning, if any."""
    r = lib.procmgr_status_sized(handle.ptr, ctypes.byref(st),
                                 ctypes.sizeof(st))
    if r < 0:
        raise handle.error(r)
    w = lib.procmgr_warning(handle.ptr)
    return dec(w) if w else None


def clear(st):
    lib.procmgr_status_clear_sized(ctypes.byref(st), ctypes.sizeof(st))


def query(entry):
    """The Status of entry's NAME, read through its query handle."""
    st = _lib.Status()
    with entry.qmutex:
        try:
            warning = read_raw(entry.query, st)
            return from_struct(entry.name, st, warning)
        finally:
            clear(st)


def state_pid(entry):
    """(state, pid) alone: what is_alive() needs, without the dataclass."""
    st = _lib.Status()
    with entry.qmutex:
        try:
            read_raw(entry.query, st)
            return st.state, st.pid
        finally:
            clear(st)
