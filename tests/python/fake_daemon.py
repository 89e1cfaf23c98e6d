"""A daemon written against the binding, as pants' daemon_spawn callers
would now write theirs: started by ensure([sys.executable, "-m",
"fake_daemon", ...]) with PYTHONPATH holding tests/python and python/.

It finds itself through ProcessManager.from_env(), checks it is the
process its metadata names (self_check), serves a TCP port and tells the
monitor with notify_ready(); every argument after the module name is one
action:

    ready          listen on a free port, then notify_ready(port=...)
    status=TEXT    notify_status(TEXT)
    sleep=SEC      sleep
    exit=N         exit with status N
    pause          wait for signals forever (the default at the end)
"""

import signal
import socket
import sys
import time

import procmgr


def main(actions):
    pm = procmgr.ProcessManager.from_env()
    print(f"fake_daemon: {pm.name} in {pm.metadata_base_dir}, "
          f"self_check={pm.self_check()}", flush=True)
    listener = None
    for action in actions:
        what, _, arg = action.partition("=")
        if what == "ready":
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            sent = procmgr.notify_ready(port=port, status="serving")
            print(f"fake_daemon: ready on {port}, sent={sent}", flush=True)
        elif what == "status":
            procmgr.notify_status(arg)
        elif what == "sleep":
            time.sleep(float(arg))
        elif what == "exit":
            sys.exit(int(arg))
        elif what == "pause":
            break
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1:])
