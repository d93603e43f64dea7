# SPDX-License-Identifier: GPL-2.0
"""MEMDISK's table layout for the Python test generators, from its one
definition in memdiskblk.h.

layout() builds tests/lib/layout.c against memdiskblk.h (with the
userspace stand-ins in tests/include/) into tests/.cache/layout/, once per
digest of its inputs, runs it and returns a Layout:

    L = layout()
    L.off("mdi.diskbuf")        4, within the MDI
    L.off("mbft.mdi.diskbuf")   44, within the mBFT (mdi is a struct too)
    L.size("mbft")              70; L.size("hook.prev") 4
    L.put(buf, base, "mbft.mdi.disksize", 2048)   little endian, in place
    L.const["hook_vendor"]      "MEMDISK "

Standard library and a C compiler (cc, or $CC) only.
"""
import hashlib
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MDB_CACHE", ROOT / "tests" / ".cache"))
SOURCE = Path(__file__).resolve().parent / "layout.c"


def _inputs():
    yield SOURCE
    yield ROOT / "memdiskblk.h"
    yield from sorted((ROOT / "tests" / "include").rglob("*.h"))


class Layout:
    def __init__(self, data):
        self.const = data.pop("const")
        self.structs = data

    def _walk(self, path):
        """(offset, size) of a dotted path: a struct, then its fields;
        a field named like a struct continues into that struct."""
        names = path.split(".")
        struct = self.structs[names[0]]
        off, size = 0, struct["size"]
        for name in names[1:]:
            if struct is None:
                raise KeyError(f"{path}: {name} is not in a struct")
            field_off, size = struct["fields"][name]
            off += field_off
            struct = self.structs.get(name)
        return off, size

    def off(self, path):
        return self._walk(path)[0]

    def size(self, path):
        return self._walk(path)[1]

    def put(self, buf, base, path, value):
        """Write value into the field at path of the struct at buf[base]:
        an int in the field's size, little endian, or bytes of exactly
        the field's size. Bytes past the end of buf are dropped."""
        off, size = self._walk(path)
        data = value if isinstance(value, bytes) else value.to_bytes(size, "little")
        if len(data) != size:
            raise ValueError(f"{path} is {size} bytes, got {len(data)}")
        start = base + off
        buf[start:start + size] = data[:max(0, len(buf) - start)]


_layout = None


def layout():
    global _layout
    if _layout is None:
        digest = hashlib.sha256()
        for path in _inputs():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        exe = CACHE / "layout" / f"layout-{digest.hexdigest()[:16]}"
        if not exe.exists():
            exe.parent.mkdir(parents=True, exist_ok=True)
            tmp = exe.with_suffix(f".tmp{os.getpid()}")
            subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-Wall",
                            "-Wextra", "-Werror", f"-I{ROOT}",
                            f"-I{ROOT / 'tests' / 'include'}", "-o", str(tmp),
                            str(SOURCE)], check=True)
            tmp.replace(exe)
        out = subprocess.run([str(exe)], check=True, stdout=subprocess.PIPE,
                             text=True).stdout
        _layout = Layout(json.loads(out))
    return _layout
