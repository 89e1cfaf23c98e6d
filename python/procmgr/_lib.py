"""ctypes over libprocmgr: finding the library, its structs, its functions.

Nothing here is public. The rest of the package calls the C functions
through `lib` and converts with the helpers at the bottom.

The structs mirror include/procmgr.h field by field. The library's ABI
policy (see the top of procmgr.h) lets them grow at their end only, and
every call that takes one also takes its size, so this module always hands
the library `ctypes.sizeof()` of its own copy through the `*_sized`
functions: an older binding on a newer library keeps working, and a
newer binding on an older library gets -E2BIG for an option the library
does not know instead of having it ignored. tests/python/test_abi.py
compiles a small C program to check every offset here against the header.
"""

import ctypes
import ctypes.util
import os
from pathlib import Path

from . import _paths

SONAME = "libprocmgr.so.0"


def _candidates():
    """Where to look for the library, in order, as (path, why) pairs."""
    override = os.environ.get("PROCMGR_LIB")
    if override:
        # An explicit choice is never silently replaced by another copy.
        return [(override, "$PROCMGR_LIB")]
    found = []
    # An uninstalled build: python/procmgr/ beside build/ in the source tree.
    top = Path(__file__).resolve().parent.parent.parent
    if (top / "include" / "procmgr.h").is_file():
        found.append((str(top / "build" / SONAME), "the source tree's build"))
    if _paths.LIBDIR:
        found.append((os.path.join(_paths.LIBDIR, SONAME), "the install LIBDIR"))
    found.append((SONAME, "the dynamic linker's search path"))
    name = ctypes.util.find_library("procmgr")
    if name and name != SONAME:
        found.append((name, "ctypes.util.find_library"))
    return found


def _load():
    tried = []
    for path, why in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} ({why}): no such file")
            continue
        try:
            return ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            tried.append(f"{path} ({why}): {e}")
    raise ImportError(
        "procmgr: cannot load libprocmgr; tried " + "; ".join(tried) +
        ". Build it (make), install it (make install), or point "
        "$PROCMGR_LIB at libprocmgr.so.0")


lib = _load()
libc = ctypes.CDLL(None, use_errno=True)
libc.free.argtypes = [ctypes.c_void_p]
libc.free.restype = None

# ---- types of procmgr.h --------------------------------------------------

pid_t = ctypes.c_int
time_t = ctypes.c_long
off_t = ctypes.c_long
c_enum = ctypes.c_int

STOPPED, STALE, RUNNING = 0, 1, 2
STATE_NAMES = {STOPPED: "stopped", STALE: "stale", RUNNING: "running"}
KILL_TREE, KILL_PROCESS = 0, 1
KILL_MODES = {"tree": KILL_TREE, "process": KILL_PROCESS}
HOSTFP_LEN = 12
NAME_MAX = 64
SHA256_HEX = 64


class Exit(ctypes.Structure):
    _fields_ = [
        ("known", ctypes.c_bool),
        ("status", ctypes.c_int),
        ("signal", ctypes.c_int),
        ("at", ctypes.c_char_p),
        ("reason", ctypes.c_char_p),
    ]


class Status(ctypes.Structure):
    _fields_ = [
        ("state", c_enum),
        ("pid", pid_t),
        ("fingerprint", ctypes.c_char_p),
        ("socket", ctypes.c_char_p),
        ("started_at", time_t),
        ("exit", Exit),
        ("ready", ctypes.c_bool),
        ("status_text", ctypes.c_char_p),
        ("restarts", ctypes.c_uint),
        ("monitor", pid_t),
        ("idle_timeout", ctypes.c_double),
    ]


class StopOpts(ctypes.Structure):
    _fields_ = [
        ("signals", ctypes.POINTER(ctypes.c_int)),
        ("n_signals", ctypes.c_size_t),
        ("kill_wait", ctypes.c_double),
        ("keep_metadata", ctypes.c_bool),
        ("kill_mode", c_enum),
    ]


class Ready(ctypes.Structure):
    _fields_ = [
        ("kind", c_enum),
        ("fd", ctypes.c_int),
        ("port", ctypes.c_int),
        ("path", ctypes.c_void_p),  # malloc'd by procmgr_ready_parse()
    ]


class SpawnOpts(ctypes.Structure):
    _fields_ = [
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("cwd", ctypes.c_char_p),
        ("log_path", ctypes.c_char_p),
        ("log_max", off_t),
        ("env", ctypes.POINTER(ctypes.c_char_p)),
        ("process_name", ctypes.c_char_p),
        ("fingerprint", ctypes.c_char_p),
        ("fingerprint_env", ctypes.POINTER(ctypes.c_char_p)),
        ("fingerprint_files", ctypes.POINTER(ctypes.c_char_p)),
        ("ready", Ready),
        ("ready_timeout", ctypes.c_double),
        ("kill_on_timeout", ctypes.c_bool),
        ("stop", ctypes.POINTER(StopOpts)),
        ("restart", c_enum),
        ("restart_limit", ctypes.c_int),
        ("idle_timeout", ctypes.c_double),
        ("watchdog", ctypes.c_double),
        ("max_rss", ctypes.c_uint64),
        ("pid_file", ctypes.c_char_p),
    ]


class Monitor(ctypes.Structure):
    _fields_ = [
        ("dir", ctypes.c_char_p),
        ("name", ctypes.c_char_p),
        ("pid", pid_t),
    ]


# ---- functions ---------------------------------------------------------

_h = ctypes.c_void_p
_s = ctypes.c_char_p
_i = ctypes.c_int
_out_s = ctypes.POINTER(ctypes.c_void_p)    # char **ret_*
_out_pid = ctypes.POINTER(pid_t)
_size = ctypes.c_size_t

_PROTOTYPES = {
    "procmgr_version": (_s, []),
    "procmgr_host_fingerprint": (_i, [ctypes.c_char_p]),
    "procmgr_name_normalize": (_i, [_s, ctypes.c_char_p]),
    "procmgr_default_dir": (_i, [_out_s]),
    "procmgr_list": (_i, [_s, _out_s]),
    "procmgr_strv_free": (None, [ctypes.c_void_p]),
    "procmgr_new": (_h, []),
    "procmgr_free": (None, [_h]),
    "procmgr_open": (_i, [_h, _s, _s]),
    "procmgr_errmsg": (_s, [_h]),
    "procmgr_warning": (_s, [_h]),
    "procmgr_get_name": (_s, [_h]),
    "procmgr_get_dir": (_s, [_h]),
    "procmgr_meta_dir": (_s, [_h]),
    "procmgr_lock_path": (_s, [_h]),
    "procmgr_default_log": (_s, [_h]),
    "procmgr_read": (_i, [_h, _s, _out_s]),
    "procmgr_read_raw": (_i, [_h, _s, _out_s, ctypes.POINTER(_size)]),
    "procmgr_write": (_i, [_h, _s, _s]),
    "procmgr_write_raw": (_i, [_h, _s, ctypes.c_char_p, _size]),
    "procmgr_delete": (_i, [_h, _s]),
    "procmgr_keys": (_i, [_h, _out_s]),
    "procmgr_await": (_i, [_h, _s, ctypes.c_double, _out_s]),
    "procmgr_status_clear_sized": (None, [ctypes.POINTER(Status), _size]),
    "procmgr_status_sized": (_i, [_h, ctypes.POINTER(Status), _size]),
    "procmgr_proc_identity": (_i, [pid_t, _out_s]),
    "procmgr_pid_alive": (_i, [pid_t]),
    # The callbacks are always NULL: Python code run from inside a wait
    # would run the signal handlers there, and ctypes drops what they
    # raise (see _handle.py).
    "procmgr_set_lock_wait": (None, [_h, ctypes.c_double, ctypes.c_void_p,
                                     ctypes.c_void_p]),
    "procmgr_lock": (_i, [_h]),
    "procmgr_unlock": (_i, [_h]),
    "procmgr_lock_held": (_i, [_h]),
    "procmgr_stop": (_i, [_h, ctypes.POINTER(StopOpts), _out_pid]),
    "procmgr_purge": (_i, [_h, ctypes.c_bool]),
    "procmgr_restart_parse": (_i, [_s]),
    "procmgr_restart_name": (_s, [c_enum]),
    "procmgr_ready_parse": (_i, [_s, ctypes.POINTER(Ready)]),
    "procmgr_ready_clear": (None, [ctypes.POINTER(Ready)]),
    "procmgr_fingerprint_sized": (_i, [ctypes.POINTER(SpawnOpts), _size,
                                       ctypes.c_char_p, _out_s]),
    "procmgr_start_sized": (_i, [_h, ctypes.POINTER(SpawnOpts), _size,
                                 _out_pid]),
    "procmgr_ensure_sized": (_i, [_h, ctypes.POINTER(SpawnOpts), _size,
                                  _out_pid, _out_s]),
    "procmgr_restart_sized": (_i, [_h, ctypes.POINTER(SpawnOpts), _size,
                                   _out_pid]),
    "procmgr_log_tail": (_i, [_h, _size, _out_s]),
    "procmgr_log_path": (_i, [_h, _out_s]),
    "procmgr_self_check": (_i, [_h]),
    "procmgr_touch": (_i, [_h]),
    "procmgr_tree_rss": (_i, [_h, ctypes.POINTER(ctypes.c_uint64)]),
    "procmgr_monitors": (_i, [ctypes.POINTER(ctypes.POINTER(Monitor)),
                              ctypes.POINTER(_size)]),
    "procmgr_monitors_free": (None, [ctypes.POINTER(Monitor), _size]),
    "procmgr_set_wait_fn": (None, [_h, ctypes.c_void_p, ctypes.c_void_p]),
    "procmgr_set_cancel_fd": (None, [_h, _i]),
    "procmgr_start_log_tail": (_i, [_h, _size, _out_s]),
    "procmgr_format_size": (None, [ctypes.c_uint64, ctypes.c_char_p, _size]),
    "procmgr_size_parse": (_i, [_s, ctypes.POINTER(ctypes.c_uint64)]),
    "procmgr_sha256_hex": (None, [ctypes.c_char_p, _size, ctypes.c_char_p]),
    "procmgr_signal_parse": (_i, [_s]),
    "procmgr_signal_name": (_s, [_i]),
}

for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes

# ---- conversions ---------------------------------------------------------


def enc(s):
    """str (or bytes, or a path) to bytes as the file system spells it."""
    if s is None:
        return None
    return os.fsencode(s)


def dec(b):
    """bytes from the library to str; undecodable bytes survive a round
    trip through enc() (surrogateescape, as os.fsdecode does)."""
    if b is None:
        return None
    return os.fsdecode(b)


def take(ptr):
    """The malloc'd NUL-terminated string ptr as bytes, freed. None stays."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr)
    finally:
        libc.free(ptr)


def take_strv(ptr):
    """A malloc'd NULL-terminated char ** as a list of str, freed."""
    if not ptr:
        return []
    arr = ctypes.cast(ptr, ctypes.POINTER(ctypes.c_char_p))
    out = []
    try:
        i = 0
        while arr[i] is not None:
            out.append(dec(arr[i]))
            i += 1
    finally:
        lib.procmgr_strv_free(ptr)
    return out


def strv(items):
    """A NULL-terminated char *[] of items; the array keeps them alive."""
    items = [enc(x) for x in items]
    arr = (ctypes.c_char_p * (len(items) + 1))(*items, None)
    return ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p)), arr


def version():
    return dec(lib.procmgr_version())
