"""ProcessManager: pants' class, over libprocmgr.

The methods pants has behave as pants' do (same names, arguments, return
values and exceptions), with procmgr's guarantees underneath: atomic
writes, a liveness check that a recycled pid never passes, signals through
a pidfd, a lock that wakes the moment it is free. The methods pants lacks
(ensure, start, restart, stop, status, self_check, touch, ...) are
procmgr's own.
"""

import ctypes
import errno
import logging
import os
import signal
import sys
import time
from contextlib import contextmanager

from . import _handle, _lib, _status, errors
from ._handle import call_waiting, entry_for, release_lock, take_lock
from ._lib import dec, enc, lib, take
from ._process import Process

logger = logging.getLogger("procmgr")

_host_fingerprint = None


def host_fingerprint():
    """The first 12 hex digits of SHA-256 over uname(2)'s five fields,
    as pants computes it: metadata lives under DIR/<this>/NAME."""
    global _host_fingerprint
    if _host_fingerprint is None:
        buf = ctypes.create_string_buffer(_lib.HOSTFP_LEN + 1)
        r = lib.procmgr_host_fingerprint(buf)
        if r < 0:
            raise errors.from_errno(-r, "cannot compute the host "
                                        "fingerprint: " + os.strerror(-r))
        _host_fingerprint = dec(buf.value)
    return _host_fingerprint


class _classproperty:
    """A read-only property of the class (pants' memoized_classproperty)."""

    def __init__(self, fget):
        self.fget = fget
        self.__doc__ = fget.__doc__

    def __get__(self, obj, cls):
        return self.fget(cls)


class _MetadataFilePath:
    """pants' classmethod metadata_file_path(name, key, metadata_base_dir);
    on an instance also metadata_file_path(key), for its own NAME."""

    def __get__(self, obj, cls):
        def path(*args):
            if obj is not None and len(args) == 1:
                return os.path.join(obj._entry.meta_dir, args[0])
            name, key, base = args
            return os.path.join(cls._get_metadata_dir_by_name(name, base),
                                key)
        path.__doc__ = "DIR/HOSTFP/NAME/KEY"
        return path


def print_to_stderr(message):
    print(message, file=sys.stderr)


class LifecycleLock:
    """NAME's lifecycle lock, as pants' OwnerPrintingInterProcessFileLock.

    An open-file-description fcntl lock on DIR/.lock.NAME: it excludes
    other processes, pants' own clients included (they take lockf locks
    on the same file), and they exclude it. The holder's "<pid> (<argv>)"
    is written to DIR/.lock.NAME.lock_message. A wait sleeps in the kernel
    and ends the moment the holder releases the lock or dies; Ctrl-C ends
    it at once with KeyboardInterrupt, without the lock.

    Within a process the lock is counted and shared by every
    ProcessManager of the NAME (pants' lockf lock is per process too):
    acquire() twice, release() twice. The state-changing calls of
    ProcessManager (ensure, stop, terminate, purge_metadata, ...) take it
    themselves and go through while this process holds it.
    """

    def __init__(self, entry):
        self._entry = entry

    @property
    def path(self):
        return self._entry.lock_path

    path_str = path

    @property
    def message_path(self):
        return f"{self.path}.lock_message"

    @property
    def missing_message_output(self):
        return _handle.missing_message_line(self.path)

    @property
    def acquired(self):
        """Whether this process holds the lock (through this NAME)."""
        return lib.procmgr_lock_held(self._entry.main.ptr) == 1

    def acquire(self, blocking=True, timeout=None,
                message_fn=print_to_stderr, **_fasteners_options):
        """Take the lock: True once held, False when blocking is False and
        it is held elsewhere, or when timeout seconds passed. When it is
        held elsewhere, message_fn (None: nobody) is first given pants'
        line, "PID ... waiting for a file lock (...) held by: ...".
        fasteners' delay and max_delay are accepted and ignored: there is
        no sleep loop to tune."""
        wait = None if timeout is None else max(float(timeout), 0.0)
        if not blocking:
            wait = 0.0
        ok, _ = take_lock(self._entry, wait, message_fn)
        return ok

    def release(self):
        """Count down; at zero remove the message file and let go."""
        if not self.acquired:
            raise RuntimeError(f"cannot release un-acquired lock {self.path}")
        release_lock(self._entry)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    def __repr__(self):
        return f"LifecycleLock({self.path!r}, acquired={self.acquired})"


# ---- spawn options -------------------------------------------------------

_SPAWN_OPTIONS = {
    "log", "log_max", "process_name", "kill_on_timeout", "restart",
    "restart_limit", "idle_timeout", "watchdog", "max_rss", "pid_file",
    "kill_mode", "signals", "kill_wait",
}


def _signal_number(sig):
    if isinstance(sig, int):
        return int(sig)
    n = lib.procmgr_signal_parse(enc(str(sig)))
    if n < 0:
        raise errors.InvalidArgument(f"unknown signal {sig!r}: use a number "
                                     "or a name such as TERM or SIGKILL")
    return n


def _stop_opts(signals=None, kill_wait=None, keep_metadata=False,
               kill_mode="tree"):
    """A StopOpts (and the array it points into, to keep alive)."""
    o = _lib.StopOpts()
    sigs = None
    if signals is not None:
        nums = [_signal_number(s) for s in signals]
        sigs = (ctypes.c_int * max(len(nums), 1))(*nums)
        o.signals = ctypes.cast(sigs, ctypes.POINTER(ctypes.c_int))
        o.n_signals = len(nums)
    o.kill_wait = -1.0 if kill_wait is None else float(kill_wait)
    o.keep_metadata = bool(keep_metadata)
    if kill_mode not in _lib.KILL_MODES:
        raise errors.InvalidArgument(f"kill_mode {kill_mode!r}: use 'tree' "
                                     "or 'process'")
    o.kill_mode = _lib.KILL_MODES[kill_mode]
    return o, sigs


def _strv_field(items, keep):
    if not items:
        return None
    if isinstance(items, (str, bytes)):
        raise errors.InvalidArgument(f"expected a list, got {items!r}")
    ptr, arr = _lib.strv(items)
    keep.append(arr)
    return ptr


def _env_list(env):
    if env is None:
        return []
    if isinstance(env, dict):
        return [f"{k}={v}" for k, v in env.items()]
    return list(env)


class _SpawnOpts:
    """struct procmgr_spawn_opts from keyword arguments, with everything
    it points to kept alive as long as this object."""

    def __init__(self, argv, *, cwd=None, env=None, ready="exec",
                 ready_timeout=60, fingerprint=None, fingerprint_env=(),
                 fingerprint_files=(), **options):
        unknown = set(options) - _SPAWN_OPTIONS
        if unknown:
            raise TypeError("unknown option(s): " + ", ".join(sorted(unknown)))
        if isinstance(argv, (str, bytes)) or not argv:
            raise errors.InvalidArgument(
                "argv must be a non-empty list: the program and its "
                "arguments, e.g. [sys.executable, '-m', 'mytool.daemon']")
        self.keep = []
        o = self.opts = _lib.SpawnOpts()
        o.argv = _strv_field(list(argv), self.keep)
        o.cwd = enc(cwd)
        o.log_path = enc(options.get("log"))
        o.log_max = int(options.get("log_max") or 0)
        o.env = _strv_field(_env_list(env), self.keep)
        o.process_name = enc(options.get("process_name"))
        o.fingerprint = enc(fingerprint)
        o.fingerprint_env = _strv_field(list(fingerprint_env), self.keep)
        o.fingerprint_files = _strv_field(list(fingerprint_files), self.keep)
        r = lib.procmgr_ready_parse(enc(ready), ctypes.byref(o.ready))
        if r < 0:
            raise errors.InvalidArgument(
                f"ready mode {ready!r}: use exec, socket, notify, fd:N, "
                "tcp:PORT or unix:PATH")
        if ready_timeout is None:
            o.ready_timeout = -1.0
        elif ready_timeout <= 0:
            raise errors.InvalidArgument("ready_timeout must be > 0 seconds "
                                         "(None: wait forever)")
        else:
            o.ready_timeout = float(ready_timeout)
        o.kill_on_timeout = bool(options.get("kill_on_timeout"))
        self._stop(options)
        restart = options.get("restart") or "no"
        r = lib.procmgr_restart_parse(enc(restart))
        if r < 0:
            raise errors.InvalidArgument(f"restart {restart!r}: use 'no', "
                                         "'on-failure' or 'always'")
        o.restart = r
        o.restart_limit = int(options.get("restart_limit") or 0)
        o.idle_timeout = float(options.get("idle_timeout") or 0)
        o.watchdog = float(options.get("watchdog") or 0)
        o.max_rss = _size(options.get("max_rss"))
        o.pid_file = enc(options.get("pid_file"))

    def _stop(self, options):
        keys = ("signals", "kill_wait", "kill_mode")
        if all(options.get(k) is None for k in keys):
            return
        stop, sigs = _stop_opts(options.get("signals"),
                                options.get("kill_wait"),
                                kill_mode=options.get("kill_mode") or "tree")
        self.keep += [stop, sigs]
        self.opts.stop = ctypes.pointer(stop)

    def __del__(self):
        o = getattr(self, "opts", None)
        if o is not None:
            lib.procmgr_ready_clear(ctypes.byref(o.ready))

    def call(self, fn, h, *out):
        return fn(h, ctypes.byref(self.opts), ctypes.sizeof(self.opts), *out)


def _size(v):
    if v is None or v == 0:
        return 0
    if isinstance(v, int):
        if v < 0:
            raise errors.InvalidArgument("max_rss must be >= 0 bytes")
        return v
    out = ctypes.c_uint64()
    if lib.procmgr_size_parse(enc(str(v)), ctypes.byref(out)) < 0:
        raise errors.InvalidArgument(f"size {v!r}: bytes, or a number with "
                                     "K, M or G (powers of 1024)")
    return out.value


def compute_fingerprint(argv, **options):
    """The fingerprint ensure() would record for these options (the same
    keyword arguments): options['fingerprint'] if given, else SHA-256 over
    argv, cwd, the executable's identity, fingerprint_env's values and
    fingerprint_files' contents."""
    so = _SpawnOpts(argv, **options)
    buf = ctypes.create_string_buffer(_lib.SHA256_HEX + 1)
    inputs = ctypes.c_void_p()
    r = lib.procmgr_fingerprint_sized(ctypes.byref(so.opts),
                                      ctypes.sizeof(so.opts), buf,
                                      ctypes.byref(inputs))
    take(inputs.value)
    if r < 0:
        raise errors.from_errno(-r, f"cannot fingerprint {argv[0]!r}: "
                                    f"{os.strerror(-r)}")
    return dec(buf.value)


# ---- the class -----------------------------------------------------------


class ProcessManager:
    """One named daemon: NAME under the metadata base directory DIR.

    pants' constructor is ProcessManager(name, metadata_base_dir); DIR may
    be left out here, for procmgr's default ($PROCMGR_DIR,
    $XDG_RUNTIME_DIR/procmgr, /tmp/procmgr-UID). The name is lower-cased
    and stripped, as pants does; procmgr also requires 1-64 characters of
    a-z, 0-9, '.', '_' and '-' (InvalidArgument otherwise).

    lock_timeout bounds how long the state-changing calls wait for the
    lifecycle lock (None: as long as it takes; a Timeout after that).
    """

    MetadataError = errors.MetadataError
    Timeout = errors.Timeout
    NonResponsiveProcess = errors.NonResponsiveProcess
    NotStarted = errors.NotStarted

    KILL_WAIT_SEC = 5
    KILL_CHAIN = (signal.SIGTERM, signal.SIGKILL)
    FAIL_WAIT_SEC = 10
    INFO_INTERVAL_SEC = 5
    WAIT_INTERVAL_SEC = 0.1

    SOCKET_KEY = "socket"
    PROCESS_NAME_KEY = "process_name"
    PID_KEY = "pid"
    FINGERPRINT_KEY = "fingerprint"

    def __init__(self, name, metadata_base_dir=None, *, lock_timeout=None):
        self._entry = entry_for(metadata_base_dir, name.strip())
        self._name = self._entry.name
        self._metadata_base_dir = self._entry.dir
        self.lock_timeout = lock_timeout
        self._lifecycle_lock = None

    @classmethod
    def from_env(cls, **kwargs):
        """The ProcessManager of the daemon procmgr started this process
        as: NAME from $PROCMGR_NAME, DIR from $PROCMGR_DIR."""
        name = os.environ.get("PROCMGR_NAME")
        base = os.environ.get("PROCMGR_DIR")
        if not name or not base:
            raise errors.ProcmgrError(
                errno.ENOENT, "$PROCMGR_NAME and $PROCMGR_DIR are not set: "
                "this process was not started by procmgr")
        return cls(name, base, **kwargs)

    def __repr__(self):
        return (f"ProcessManager({self._name!r}, "
                f"{self._metadata_base_dir!r})")

    # ---- names and paths (pants) ----------------------------------------

    @property
    def name(self):
        """The NAME, lower-cased."""
        return self._name

    @property
    def metadata_base_dir(self):
        return self._metadata_base_dir

    @property
    def metadata_dir(self):
        """DIR/HOSTFP/NAME."""
        return self._entry.meta_dir

    @_classproperty
    def host_fingerprint(cls):
        """12 hex digits naming this host (uname), as pants computes it."""
        return host_fingerprint()

    @classmethod
    def _get_metadata_dir_by_name(cls, name, metadata_base_dir):
        return os.path.join(metadata_base_dir, cls.host_fingerprint, name)

    metadata_file_path = _MetadataFilePath()

    def _metadata_file_path(self, metadata_key):
        return self.metadata_file_path(metadata_key)

    # ---- keys (pants) ----------------------------------------------------

    @staticmethod
    def _maybe_cast(item, caster):
        """caster(item), or item itself when the cast fails (pants)."""
        try:
            return caster(item)
        except (TypeError, ValueError):
            return item

    def _read(self, key):
        """KEY's value stripped, or None when it cannot be read."""
        e = self._entry
        out = ctypes.c_void_p()
        with e.qmutex:
            r = lib.procmgr_read(e.query.ptr, enc(key), ctypes.byref(out))
            if r == -errno.EINVAL:
                raise e.query.error(r)
        if r < 0:
            # pants returns None for any unreadable key (an OSError)
            return None
        return dec(take(out.value))

    def read_metadata_by_name(self, metadata_key, caster=None):
        """KEY's value (white space stripped), cast by caster when it can
        be; None when absent."""
        value = self._read(metadata_key)
        if value is None:
            return None
        return self._maybe_cast(value, caster)

    def write_metadata_by_name(self, metadata_key, metadata_value):
        """Write KEY atomically: a reader never sees it empty or partial."""
        data = metadata_value
        if not isinstance(data, bytes):
            data = enc(str(data))
        self._query(lib.procmgr_write_raw, enc(metadata_key), data, len(data))

    def await_metadata_by_name(self, metadata_key, ongoing_msg,
                               completed_msg, timeout, caster=None):
        """Wait up to timeout seconds for KEY to hold a value, and return it
        (cast). The wait sleeps in inotify, not in a loop; every
        INFO_INTERVAL_SEC it logs "waiting for <ongoing_msg>...", and
        completed_msg at the end if it did. Timeout when time runs out."""
        deadline = time.monotonic() + timeout
        info_at = time.monotonic() + self.INFO_INTERVAL_SEC
        rendered = False
        while True:
            now = time.monotonic()
            wait = max(0.0, min(deadline, info_at) - now)
            value = self._await_once(metadata_key, wait)
            if value:
                if rendered:
                    logger.info(completed_msg)
                return self._maybe_cast(value, caster)
            if value == "":
                # pants writes in place: created empty, then written
                time.sleep(max(0.0, min(self.WAIT_INTERVAL_SEC,
                                        deadline - time.monotonic())))
            now = time.monotonic()
            if now >= deadline:
                raise errors.Timeout(
                    f"exceeded timeout of {timeout} seconds while waiting "
                    f"for {ongoing_msg}")
            if now >= info_at:
                logger.info(f"waiting for {ongoing_msg}...")
                rendered = True
                info_at += self.INFO_INTERVAL_SEC

    def _await_once(self, key, wait):
        """KEY's value once present ("" if empty), None after wait s."""
        out = ctypes.c_void_p()
        deadline = time.monotonic() + wait

        def attempt(h):
            left = max(0.0, deadline - time.monotonic())
            return lib.procmgr_await(h, enc(key), left, ctypes.byref(out))

        r, msg = call_waiting(self._entry, attempt)
        if r == -errno.ETIMEDOUT:
            return None
        if r < 0:
            raise errors.from_errno(-r, msg)
        return dec(take(out.value))

    def purge_metadata_by_name(self, name):
        """Remove NAME's metadata directory whether or not it runs (pants);
        MetadataError when it cannot be removed."""
        if name.strip().lower() == self._name:
            pm = self
        else:
            pm = ProcessManager(name, self._metadata_base_dir)
        pm._purge(force=True)

    @contextmanager
    def _locked(self):
        """Hold the lifecycle lock (waiting up to lock_timeout) around a
        library call that would otherwise take and wait for it itself."""
        ok, msg = take_lock(self._entry, self.lock_timeout, _lock_wait_log)
        if not ok:
            raise errors.Timeout(msg)
        try:
            yield
        finally:
            release_lock(self._entry)

    def _purge(self, force):
        with self._locked():
            r, msg = call_waiting(self._entry,
                                  lambda h: lib.procmgr_purge(h, force))
        if r == -errno.EBUSY:
            raise errors.MetadataError(
                f"cannot purge metadata for a running process! ({msg})")
        if r < 0:
            raise errors.MetadataError(
                f"failed to purge metadata directory "
                f"{self._entry.meta_dir}: {msg}", -r)

    def purge_metadata(self, force=False):
        """Remove the metadata unless the NAME is running (MetadataError);
        force removes it anyway. Removes nothing if the recorded pid
        changed meanwhile (a successor's metadata; MetadataError, ESTALE)."""
        self._purge(force)

    @property
    def lifecycle_lock(self):
        """The NAME's lifecycle lock (LifecycleLock), one per object."""
        if self._lifecycle_lock is None:
            self._lifecycle_lock = LifecycleLock(self._entry)
        return self._lifecycle_lock

    # ---- well-known keys (pants) ----------------------------------------

    @property
    def fingerprint(self):
        return self.read_metadata_by_name(self.FINGERPRINT_KEY)

    @property
    def pid(self):
        return self.read_metadata_by_name(self.PID_KEY, int)

    @property
    def process_name(self):
        return self.read_metadata_by_name(self.PROCESS_NAME_KEY, str)

    @property
    def socket(self):
        return self.read_metadata_by_name(self.SOCKET_KEY, int)

    def has_current_fingerprint(self, fingerprint):
        return fingerprint == self.fingerprint

    def needs_restart(self, fingerprint):
        return self.is_dead() or not self.has_current_fingerprint(fingerprint)

    def await_pid(self, timeout):
        return self.await_metadata_by_name(
            self.PID_KEY, f"{self._name} to start", f"{self._name} started",
            timeout, caster=int)

    def await_socket(self, timeout):
        return self.await_metadata_by_name(
            self.SOCKET_KEY, f"{self._name} socket to be opened",
            f"{self._name} socket opened", timeout, caster=int)

    def write_pid(self, pid=None):
        self.write_metadata_by_name(self.PID_KEY,
                                    str(os.getpid() if pid is None else pid))

    def _get_process_name(self, process=None):
        proc = process or self._as_process()
        cmdline = proc.cmdline()
        return cmdline[0] if cmdline else proc.name()

    def write_process_name(self, process_name=None):
        """Record process_name, by default argv[0] of the process the pid
        key names (NotStarted without one), as pants does."""
        self.write_metadata_by_name(self.PROCESS_NAME_KEY,
                                    process_name or self._get_process_name())

    def write_socket(self, socket_info):
        self.write_metadata_by_name(self.SOCKET_KEY, str(socket_info))

    def write_named_socket(self, socket_name, socket_info):
        self.write_metadata_by_name(f"socket_{socket_name}", str(socket_info))

    def write_fingerprint(self, fingerprint):
        self.write_metadata_by_name(self.FINGERPRINT_KEY, fingerprint)

    # ---- liveness (pants) ------------------------------------------------

    def _as_process(self):
        """A Process of the recorded pid; NotStarted without one."""
        pid = self.pid
        if not pid:
            raise errors.NotStarted(f"no pid recorded for {self._name} in "
                                    f"{self._entry.meta_dir}")
        return Process(pid)

    def is_alive(self, extended_check=None):
        """Whether the recorded pid is a live process (not a zombie) that
        is still the one the metadata names: its start time and boot id
        when procmgr recorded them, else argv[0] against process_name (as
        pants). extended_check(process), if given, must also say True; it
        gets a procmgr.Process (pid, name(), cmdline(), status()).

        A running daemon is answered from a cache in a few microseconds;
        the cache is dropped the moment the process ends or its metadata
        changes, so a recycled pid never passes (see _alive.py)."""
        alive, pid = self._entry.liveness.check()
        if not alive:
            return False
        if extended_check is None:
            return True
        try:
            return bool(extended_check(Process(pid)))
        except errors.ProcmgrError:
            return False

    def is_dead(self):
        return not self.is_alive()

    def terminate(self, signal_chain=KILL_CHAIN, kill_wait=KILL_WAIT_SEC,
                  purge=True, *, kill_mode="tree"):
        """Stop the process along signal_chain, waiting up to kill_wait
        seconds after each signal; then (purge) remove its metadata, as
        also when it is already dead. NonResponsiveProcess, metadata kept,
        when it survives the chain.

        Unlike pants, the signals go through a pidfd (never to a recycled
        pid) and the wait ends the moment the process is gone. kill_mode
        "tree" (the default) then signals what is left of its process
        tree the same way; "process" signals it alone, as pants does."""
        signal_chain = tuple(signal_chain)
        if not signal_chain:
            if self.is_alive():
                raise errors.NonResponsiveProcess(
                    f"failed to kill pid {self.pid} with signals ()")
            if purge:
                self.purge_metadata(force=True)
            return
        self.stop(signals=signal_chain, kill_wait=kill_wait,
                  keep_metadata=not purge, kill_mode=kill_mode)

    # ---- procmgr's own ---------------------------------------------------

    def status(self):
        """The NAME's Status: state, pid, fingerprint, socket, started_at,
        exit, ready, status_text, restarts, monitor (procmgr --json)."""
        st = _status.query(self._entry)
        if st.warning:
            logger.warning("%s", st.warning)
        return st

    def _spawn(self, fn, argv, options, *out, kept_first=False):
        so = _SpawnOpts(argv, **options)
        if kept_first:
            # The common case is kept without the lock, and a free lock is
            # taken by the library; only a lock held elsewhere brings the
            # wait below, with pants' waiting line.
            def unlocked(h):
                lib.procmgr_set_lock_wait(h, 0.0, None, None)
                return so.call(fn, h, *out)

            r, msg = call_waiting(self._entry, unlocked, resumable=False)
            if r != -errno.EWOULDBLOCK:
                return r, msg
        with self._locked():
            return call_waiting(self._entry, lambda h: so.call(fn, h, *out),
                                resumable=False)

    def _spawn_error(self, r, msg):
        if r == -errno.ECHILD:
            return errors.DiedBeforeReady(msg, self._start_log_tail())
        return errors.from_errno(-r, msg)

    def _start_log_tail(self, n=20):
        out = ctypes.c_void_p()
        with self._entry.mutex:
            r = lib.procmgr_start_log_tail(self._entry.main.ptr, n,
                                           ctypes.byref(out))
        return dec(take(out.value)) if r >= 0 else ""

    def start(self, argv, **options):
        """Start the daemon and wait until it is ready; its pid.
        AlreadyRunning (.pid) when it runs; DiedBeforeReady (.log_tail)
        when it ended first; Timeout when not ready in time; the errno of
        a failed exec (FileNotFoundError's ENOENT, ...). Options as
        ensure()'s."""
        pid = _lib.pid_t()
        r, msg = self._spawn(lib.procmgr_start_sized, argv, options,
                             ctypes.byref(pid))
        if r == -errno.EEXIST:
            raise errors.AlreadyRunning(msg, pid.value or None)
        if r < 0:
            raise self._spawn_error(r, msg)
        self._entry.liveness.close()
        return pid.value

    def ensure(self, argv, *, cwd=None, env=None, ready="exec",
               ready_timeout=60, fingerprint=None, fingerprint_env=(),
               fingerprint_files=(), **supervision):
        """Keep the daemon running with these options: (pid, None) when it
        already runs with this fingerprint, became ready and is within
        max_rss; else stop it and start it, (pid, why) -- "not running",
        "stale pid 123", "argv changed", "env FOO changed", ...

        argv      the program and its arguments (looked up in PATH)
        cwd       its working directory (default: ours)
        env       extra environment: {"VAR": "value"} or ["VAR=value"];
                  it inherits ours plus PROCMGR_NAME, PROCMGR_DIR and
                  NOTIFY_SOCKET
        ready     "exec", "socket" (it writes the socket key, pants'
                  protocol), "notify" (sd_notify READY=1, see
                  notify_ready()), "fd:N", "tcp:PORT" or "unix:PATH"
        ready_timeout  seconds (None: forever); Timeout after that
        fingerprint    a string of your own (your tool's version, say);
                  default: SHA-256 of argv, cwd, the executable,
                  fingerprint_env's values, fingerprint_files' contents
        supervision: log (path), log_max (bytes), process_name,
          kill_on_timeout, restart ("no", "on-failure", "always"),
          restart_limit, idle_timeout (s), watchdog (s), max_rss (bytes or
          "4G"), pid_file, and for every stop of it: signals, kill_wait,
          kill_mode ("tree" or "process").
        """
        pid = _lib.pid_t()
        reason = ctypes.c_void_p()
        r, msg = self._spawn(lib.procmgr_ensure_sized, argv, dict(
            cwd=cwd, env=env, ready=ready, ready_timeout=ready_timeout,
            fingerprint=fingerprint, fingerprint_env=fingerprint_env,
            fingerprint_files=fingerprint_files, **supervision),
            ctypes.byref(pid), ctypes.byref(reason), kept_first=True)
        why = dec(take(reason.value))
        if r < 0:
            raise self._spawn_error(r, msg)
        # 0 kept; 1 restarted (newer libraries: 2 when it was not running)
        if r == 0:
            return pid.value, None
        self._entry.liveness.close()
        return pid.value, why or "started"

    def restart(self, argv, **options):
        """Stop the daemon if it runs, then start it; its pid."""
        pid = _lib.pid_t()
        r, msg = self._spawn(lib.procmgr_restart_sized, argv, options,
                             ctypes.byref(pid))
        if r < 0:
            raise self._spawn_error(r, msg)
        self._entry.liveness.close()
        return pid.value

    def stop(self, signals=None, kill_wait=None, keep_metadata=False,
             kill_mode="tree"):
        """Stop the daemon (default TERM, 5 s, KILL, 5 s): the pid stopped,
        or None when nothing ran (stale metadata is removed all the same,
        unless keep_metadata). NonResponsiveProcess, metadata kept, when
        it survives the chain; PermissionError-like ProcmgrError (EPERM)
        when it is another user's."""
        o, sigs = _stop_opts(signals, kill_wait, keep_metadata, kill_mode)
        pid = _lib.pid_t()
        with self._locked():
            r, msg = call_waiting(self._entry, lambda h: lib.procmgr_stop(
                h, ctypes.byref(o), ctypes.byref(pid)))
        if r == -errno.ETIME:
            raise errors.NonResponsiveProcess(msg)
        if r < 0:
            raise errors.from_errno(-r, msg)
        return pid.value if r == 1 else None

    def self_check(self):
        """For the daemon itself: is this process still the one the
        metadata names? False once a newer instance owns the NAME (or the
        metadata is gone): the daemon should then exit."""
        return self._query(lib.procmgr_self_check) == 1

    def touch(self):
        """Count a use of the daemon: its monitor re-arms the idle timer."""
        self._query(lib.procmgr_touch)

    def notify_ready(self, port=None, status=None):
        """For the daemon itself: procmgr.notify_ready()."""
        from .notify import notify_ready
        return notify_ready(port=port, status=status)

    def _query(self, fn, *args):
        """fn(query handle, *args) under the query mutex; raises on < 0."""
        e = self._entry
        with e.qmutex:
            r = fn(e.query.ptr, *args)
            if r < 0:
                raise e.query.error(r)
        return r

    def _query_out(self, fn, *args):
        """fn(query handle, *args, &out): the pointer it hands out."""
        out = ctypes.c_void_p()
        self._query(fn, *args, ctypes.byref(out))
        return out.value

    def log_path(self):
        """The daemon's log file."""
        return dec(take(self._query_out(lib.procmgr_log_path)))

    def log_tail(self, n=20):
        """The last n lines of the daemon's log, as one string."""
        return dec(take(self._query_out(lib.procmgr_log_tail, n)))

    def keys(self):
        """The metadata keys present, sorted."""
        return _lib.take_strv(self._query_out(lib.procmgr_keys))


def _lock_wait_log(line):
    logger.info("%s", line)


def list_names(metadata_base_dir=None):
    """Every NAME with metadata under DIR (default: procmgr's), sorted."""
    out = ctypes.c_void_p()
    r = lib.procmgr_list(enc(metadata_base_dir), ctypes.byref(out))
    if r < 0:
        raise errors.from_errno(-r, f"cannot list {metadata_base_dir}: "
                                    f"{os.strerror(-r)}")
    return _lib.take_strv(out.value)

