"""What `make check` must leave on this machine as it found it (outside the
checkout, its caches and temporary directories): the installed packages,
DKMS's registrations, the modules under /lib/modules/*/updates, what
/usr/src holds, and every file in /boot by checksum. tests/run.py takes
the state before the first job and compares after the last (the case
host/untouched)."""
import hashlib
import shutil
import subprocess
from pathlib import Path


def _out(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True).stdout.splitlines()


def _files(top):
    top = Path(top)
    return sorted(p for p in top.rglob("*") if p.is_file() or p.is_symlink()) \
        if top.is_dir() else []


def _sha256(path):
    if path.is_symlink():
        return "-> " + str(path.readlink())
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot():
    """{what: set of lines} for each thing compared."""
    dkms = (_out(["dkms", "status"]) if shutil.which("dkms")
            else ["(no dkms)"])
    return {
        "dpkg -l": set(_out(["dpkg-query", "-W", "-f",
                             "${binary:Package} ${Version} ${db:Status-Abbrev}\n"])),
        "dkms status": set(dkms),
        "/lib/modules/*/updates": {str(p) for d in Path("/lib/modules").glob("*/updates")
                                   for p in _files(d)},
        "/usr/src": {p.name for p in Path("/usr/src").iterdir()},
        "/boot": {f"{p} {_sha256(p)}" for p in _files("/boot")},
    }


def compare(c, before):
    """One check per thing: the same lines as before the run."""
    after = snapshot()
    for what, old in before.items():
        new = after[what]
        gone, added = sorted(old - new), sorted(new - old)
        c.expect(not gone and not added,
                 f"{what} changed: gone {gone[:3]}, new {added[:3]}")
    c.note(f"{len(before['dpkg -l'])} packages, {len(before['/boot'])} "
           f"files in /boot, {len(before['dkms status'])} dkms lines")
