"""Process: the little of psutil.Process that pants' callbacks use.

pants hands is_alive()'s extended_check a psutil.Process; procmgr depends
on the standard library alone, so it hands this instead: the pid, and
name(), cmdline(), status() and is_running() read from /proc, with
psutil's spellings ("zombie", "sleeping", ...). A callback written for
psutil that uses only these runs unchanged.
"""

import os

from . import errors

STATUS_RUNNING = "running"
STATUS_SLEEPING = "sleeping"
STATUS_DISK_SLEEP = "disk-sleep"
STATUS_STOPPED = "stopped"
STATUS_TRACING_STOP = "tracing-stop"
STATUS_ZOMBIE = "zombie"
STATUS_DEAD = "dead"
STATUS_IDLE = "idle"
STATUS_PARKED = "parked"

_STATES = {
    "R": STATUS_RUNNING, "S": STATUS_SLEEPING, "D": STATUS_DISK_SLEEP,
    "T": STATUS_STOPPED, "t": STATUS_TRACING_STOP, "Z": STATUS_ZOMBIE,
    "X": STATUS_DEAD, "x": STATUS_DEAD, "I": STATUS_IDLE,
    "P": STATUS_PARKED,
}


class NoSuchProcess(errors.ProcmgrError):
    """The pid names no process (any more)."""

    def __init__(self, pid):
        super().__init__(3, f"no process with pid {pid}")  # ESRCH
        self.pid = pid


class Process:
    """A live process by pid (see the module's docstring)."""

    def __init__(self, pid):
        self.pid = int(pid)
        if not os.path.exists(f"/proc/{self.pid}/stat"):
            raise NoSuchProcess(self.pid)

    def __repr__(self):
        return f"procmgr.Process(pid={self.pid})"

    def _read(self, what):
        try:
            with open(f"/proc/{self.pid}/{what}", "rb") as f:
                return f.read()
        except (FileNotFoundError, ProcessLookupError):
            raise NoSuchProcess(self.pid) from None

    def cmdline(self):
        """argv as a list of str; [] for a zombie or a kernel thread."""
        data = self._read("cmdline")
        if not data:
            return []
        return [os.fsdecode(a) for a in data.rstrip(b"\0").split(b"\0")]

    def name(self):
        """The kernel's short name (comm), as psutil's name()."""
        return os.fsdecode(self._read("comm").rstrip(b"\n"))

    def status(self):
        stat = self._read("stat")
        # after the last ')': comm may hold spaces and parentheses
        state = stat[stat.rindex(b")") + 2:][:1].decode()
        return _STATES.get(state, state)

    def is_running(self):
        try:
            return self.status() != STATUS_ZOMBIE
        except NoSuchProcess:
            return False
