"""How the package finds libprocmgr: $PROCMGR_LIB, else the source tree's
build/ (PYTHONPATH=python after make). The installed case, through the
LIBDIR make install records, is tests/cli/install.bats'."""

import os
import subprocess
import sys

import pytest

from conftest import CHILD_ENV, TOP

WHICH = "import procmgr._lib as l; print(l.lib._name); print(l.version())"


def run(env):
    return subprocess.run([sys.executable, "-c", WHICH], env=env, cwd="/",
                          capture_output=True, text=True)


def test_an_uninstalled_build_is_found_beside_the_package():
    built = TOP / "build" / "libprocmgr.so.0"
    if not built.exists():
        pytest.skip("no plain build in build/")
    env = dict(CHILD_ENV)
    env.pop("PROCMGR_LIB", None)
    out = run(env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == str(built)


def test_procmgr_lib_overrides_and_is_never_second_guessed(tmp_path):
    env = dict(CHILD_ENV, PROCMGR_LIB=os.environ["PROCMGR_LIB"])
    out = run(env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == os.environ["PROCMGR_LIB"]
    # a wrong override is an error, not a silent fallback to another copy
    env["PROCMGR_LIB"] = str(tmp_path / "libprocmgr.so.0")
    out = run(env)
    assert out.returncode != 0
    assert "ImportError: procmgr: cannot load libprocmgr" in out.stderr
    assert f"{tmp_path}/libprocmgr.so.0 ($PROCMGR_LIB): no such file" \
        in out.stderr


def test_the_version_is_the_librarys():
    import procmgr
    header = (TOP / "include" / "procmgr.h").read_text()
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        line = [x for x in header.splitlines()
                if x.startswith(f"#define PROCMGR_VERSION_{part} ")][0]
        parts.append(line.split()[2])
    assert procmgr.__version__ == procmgr.version() == ".".join(parts)


MONITOR_OF = """
import os, sys, procmgr
pm = procmgr.ProcessManager("web", sys.argv[1])
pid, _ = pm.ensure(["sleep", "1000"])
try:
    with open(f"/proc/{pid}/stat") as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    print(os.readlink(f"/proc/{ppid}/exe"))
finally:
    pm.stop()
"""


def test_the_monitor_is_found_beside_the_library(pmdir):
    # Not beside python3: beside the libprocmgr.so the package loaded.
    env = dict(CHILD_ENV)
    env.pop("PROCMGR_MONITOR", None)
    out = subprocess.run([sys.executable, "-c", MONITOR_OF, pmdir], env=env,
                         cwd="/", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lib = os.path.realpath(os.environ["PROCMGR_LIB"])
    assert out.stdout.strip() == os.path.join(os.path.dirname(lib),
                                              "procmgr-monitor")
