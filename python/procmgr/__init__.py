"""procmgr: named background processes (daemons), from Python.

A binding of libprocmgr (ctypes; the standard library only). Its
ProcessManager is a drop-in for pants' (pants.pantsd.process_manager):

    from procmgr import ProcessManager

    pm = ProcessManager("pantsd", ".pants.d/pids")
    with pm.lifecycle_lock:
        if pm.needs_restart(fingerprint):
            pm.terminate()
            ...

and the same metadata: pants and procmgr read each other's state, and
each one's lifecycle lock excludes the other's.

pants' daemon_spawn() forks and runs a Python callback in the child.
procmgr's daemons are started by a small monitor program that execs them
(and stays their parent, to record how they end, restart them, stop them
when idle), so there is no fork callback to run: make the child's code a
program of its own and let ensure() start it, keep it, or restart it when
its fingerprint changes:

    pid, why = pm.ensure([sys.executable, "-m", "mytool.daemon"],
                         fingerprint=VERSION, ready="notify")

and in mytool/daemon.py, once it serves:

    procmgr.notify_ready(port=port)

ensure() holds the lifecycle lock itself; `why` is None when the running
daemon was kept, else the reason it was (re)started.

The library is found through $PROCMGR_LIB (a path), else the source
tree's build/ (PYTHONPATH=python after make), else where `make install`
put it, else the dynamic linker's search path.
"""

from . import errors
from ._handle import default_dir
from ._lib import version
from ._process import NoSuchProcess, Process
from ._status import ExitInfo, Status
from .errors import (AlreadyRunning, DiedBeforeReady, Interrupted,
                     InvalidArgument, MetadataError, NonResponsiveProcess,
                     NotStarted, ProcmgrError, Timeout)
from .manager import (LifecycleLock, ProcessManager, compute_fingerprint,
                      host_fingerprint, list_names)
from .notify import (notify, notify_ready, notify_status, notify_stopping,
                     notify_watchdog)

__version__ = version()

__all__ = [
    "AlreadyRunning", "DiedBeforeReady", "ExitInfo", "Interrupted",
    "InvalidArgument", "LifecycleLock", "MetadataError", "NoSuchProcess",
    "NonResponsiveProcess", "NotStarted", "Process", "ProcessManager",
    "ProcmgrError", "Status", "Timeout", "compute_fingerprint",
    "default_dir", "errors", "host_fingerprint", "list_names", "notify",
    "notify_ready", "notify_status", "notify_stopping", "notify_watchdog",
    "version",
]
