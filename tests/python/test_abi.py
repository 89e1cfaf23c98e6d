"""The binding's ctypes structs against procmgr.h, as the C compiler sees
them: a small C program prints sizeof and offsetof of every field, and
every enum value the binding hard-codes, and each must equal the
binding's. A field added to the header but not here fails too (the sizes
differ), which is what the ABI policy needs: the binding passes its own
sizeof to the _sized calls."""

import ctypes
import shutil
import subprocess

import pytest

from conftest import TOP
from procmgr import _lib

STRUCTS = {
    "procmgr_exit": _lib.Exit,
    "procmgr_status": _lib.Status,
    "procmgr_stop_opts": _lib.StopOpts,
    "procmgr_ready": _lib.Ready,
    "procmgr_spawn_opts": _lib.SpawnOpts,
    "procmgr_monitor": _lib.Monitor,
}

CONSTANTS = {
    "PROCMGR_STOPPED": _lib.STOPPED,
    "PROCMGR_STALE": _lib.STALE,
    "PROCMGR_RUNNING": _lib.RUNNING,
    "PROCMGR_KILL_TREE": _lib.KILL_TREE,
    "PROCMGR_KILL_PROCESS": _lib.KILL_PROCESS,
    "PROCMGR_HOSTFP_LEN": _lib.HOSTFP_LEN,
    "PROCMGR_NAME_MAX": _lib.NAME_MAX,
    "PROCMGR_SHA256_HEX": _lib.SHA256_HEX,
    "sizeof(pid_t)": ctypes.sizeof(_lib.pid_t),
    "sizeof(time_t)": ctypes.sizeof(_lib.time_t),
    "sizeof(off_t)": ctypes.sizeof(_lib.off_t),
    "sizeof(enum procmgr_state)": ctypes.sizeof(_lib.c_enum),
}


def c_program():
    lines = ["#include <procmgr.h>", "#include <stdio.h>",
             "#include <stddef.h>", "int main(void) {"]
    for cname, py in STRUCTS.items():
        lines.append(f'printf("{cname} size %zu\\n", '
                     f'sizeof(struct {cname}));')
        for field, _ in py._fields_:
            lines.append(f'printf("{cname} {field} %zu %zu\\n", '
                         f'offsetof(struct {cname}, {field}), '
                         f'sizeof(((struct {cname} *)0)->{field}));')
    for name in CONSTANTS:
        lines.append(f'printf("const %ld {name}\\n", (long)({name}));')
    lines += ["return 0;", "}"]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.fail("no C compiler: the layout check needs one")
    d = tmp_path_factory.mktemp("abi")
    (d / "layout.c").write_text(c_program())
    subprocess.run([cc, "-std=c17", "-Wall", "-Werror", "-I",
                    str(TOP / "include"), "-o", str(d / "layout"),
                    str(d / "layout.c")], check=True)
    out = subprocess.run([str(d / "layout")], check=True,
                         capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()]


@pytest.mark.parametrize("cname", STRUCTS)
def test_struct_layout_matches_header(c_layout, cname):
    py = STRUCTS[cname]
    size = [int(w[2]) for w in c_layout if w[0] == cname and w[1] == "size"]
    assert size == [ctypes.sizeof(py)], f"sizeof(struct {cname})"
    fields = {w[1]: (int(w[2]), int(w[3])) for w in c_layout
              if w[0] == cname and w[1] != "size"}
    for field, ctype in py._fields_:
        desc = getattr(py, field)
        assert (desc.offset, desc.size) == fields[field], \
            f"struct {cname}.{field}: (offset, size)"


def test_constants_match_header(c_layout):
    got = {" ".join(w[2:]): int(w[1]) for w in c_layout if w[0] == "const"}
    assert got == CONSTANTS


def test_the_struct_sizes_handed_to_the_library_are_the_bindings(pmdir):
    # A larger struct whose extra bytes are zero is accepted (an older
    # library), one with non-zero extra bytes is refused: the library
    # really reads the size the binding passes.
    from procmgr import ProcessManager
    pm = ProcessManager("abi", pmdir)

    class Bigger(ctypes.Structure):
        _fields_ = [("st", _lib.Status), ("future", ctypes.c_long * 4)]

    b = Bigger()
    ctypes.memset(ctypes.byref(b), 0x5a, ctypes.sizeof(b))
    h = pm._entry.query.ptr
    assert _lib.lib.procmgr_status_sized(h, ctypes.byref(b.st),
                                         ctypes.sizeof(b)) == 0
    assert list(b.future) == [0, 0, 0, 0]
    assert b.st.state == _lib.STOPPED
    _lib.lib.procmgr_status_clear_sized(ctypes.byref(b.st), ctypes.sizeof(b))
