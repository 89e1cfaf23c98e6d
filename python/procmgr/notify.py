"""sd_notify from Python: tell procmgr's monitor (or systemd) how the
daemon is doing.

A daemon started with ready="notify" is ready when it says READY=1 on the
unix datagram socket named by $NOTIFY_SOCKET. procmgr's monitor listens
there for the daemon's whole life, so STATUS= (shown by `procmgr status`),
PORT=/SOCKET= (recorded as the socket key, as pants' write_socket()) and
WATCHDOG=1 (with watchdog=SEC) are heard at any time. The protocol is
systemd's, so the same calls work under systemd's Type=notify.
"""

import os
import socket as _socket


def _address(value):
    """$NOTIFY_SOCKET as an AF_UNIX address: '@' stands for the leading
    NUL byte of an abstract address."""
    if value.startswith("@"):
        return "\0" + value[1:]
    return value


def notify(**fields):
    """Send one datagram of VAR=VALUE lines (notify(READY=1, STATUS="up")).
    True when sent, False when there is no $NOTIFY_SOCKET (not started
    by procmgr or systemd with a notify protocol): a daemon may call it
    unconditionally. OSError if the socket refuses it."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr or not fields:
        return False
    for k, v in fields.items():
        if "\n" in str(v):
            raise ValueError(f"{k}: a notify value is one line")
    msg = "\n".join(f"{k}={v}" for k, v in fields.items()).encode()
    with _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM) as s:
        s.sendto(msg, _address(addr))
    return True


def notify_ready(port=None, status=None):
    """READY=1, with the port (an int, or a unix socket path: recorded as
    the socket key) and a status text when given. True when sent.

    READY=1 goes last in the datagram: procmgr's monitor acts on the
    assignments in order and reports readiness at READY=1, so the socket
    key and the status text are recorded by the time the starter's
    ensure() returns."""
    fields = {}
    if port is not None:
        if isinstance(port, int) or str(port).isdigit():
            fields["PORT"] = int(port)
        else:
            fields["SOCKET"] = os.fspath(port)
    if status is not None:
        fields["STATUS"] = status
    fields["READY"] = 1
    return notify(**fields)


def notify_status(status):
    """STATUS=status: one line `procmgr status` shows. True when sent."""
    return notify(STATUS=status)


def notify_watchdog():
    """WATCHDOG=1: the daemon is not hung (needed with watchdog=SEC)."""
    return notify(WATCHDOG=1)


def notify_stopping():
    """STOPPING=1: the daemon is shutting down by itself."""
    return notify(STOPPING=1)
