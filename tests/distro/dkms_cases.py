"""DKMS with Debian's real dkms tool, from the source tree (dkms.conf at
the top level): add, build and install for every kernel that has headers,
autoinstall, then remove; in the distro part's Debian 12 chroot
(common.Target), not on this machine. The module is never loaded."""
import tempfile
from pathlib import Path

from common import NAME, ROOT, SOURCES, module_loaded, upstream_version


def stage_source(dest):
    """What `dkms add` needs from a checkout: the module's sources (VERSION
    among them) and dkms.conf (adding the whole checkout would copy
    tests/.cache too)."""
    dest.mkdir(parents=True)
    for name in SOURCES + ["dkms.conf"]:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_bytes((ROOT / name).read_bytes())
    return dest


def status(t, kver):
    return t.run(["dkms", "status", "-m", NAME, "-k", kver])[1].strip()


def check_installed(c, t, kver, ver):
    """The module sits in updates/dkms and depmod indexed it (modinfo finds
    it by name without loading anything); its MODULE_VERSION is ver."""
    st = status(t, kver)
    c.expect(f"{NAME}/{ver}, {kver}" in st and "installed" in st,
             f"dkms status {kver}: {st!r}")
    found = sorted(t.path(f"/lib/modules/{kver}/updates/dkms").glob(f"{NAME}.ko*"))
    c.expect(len(found) == 1, f"{kver}: module under updates/dkms: {found}")
    code, path = t.run(["modinfo", "-k", kver, "-F", "filename", NAME], check=False)
    c.expect(code == 0 and "/updates/dkms/" in path,
             f"{kver}: modinfo resolves {NAME} to {path.strip()!r}")
    code, magic = t.run(["modinfo", "-k", kver, "-F", "vermagic", NAME], check=False)
    c.expect(magic.startswith(kver + " "), f"{kver}: vermagic {magic.strip()!r}")
    code, shown = t.run(["modinfo", "-k", kver, "-F", "version", NAME], check=False)
    c.eq(shown.strip(), ver, f"{kver}: modinfo -F version")


def case_dkms(c, t):
    """dkms add (from the tree's dkms.conf, the version read from
    VERSION), then build and install for every kernel with headers: each
    gets /lib/modules/KVER/updates/dkms/memdiskblk.ko[.xz] with that
    kernel's vermagic and VERSION as its version, found by modinfo.
    AUTOINSTALL works (what a kernel upgrade runs). dkms remove --all
    takes every module and the DKMS registration away."""
    kvers = t.header_kernels()
    c.expect(len(kvers) >= 2, f"kernels with headers: {kvers} (want 6.1 and 6.12)")
    ver = upstream_version()
    c.note(f"{ver} on {', '.join(kvers)}")
    with tempfile.TemporaryDirectory(dir=t.path("/tmp")) as tmp:
        src = stage_source(Path(tmp) / "src")
        t.run(["dkms", "add", "/" + str(src.relative_to(t.root))])
    c.eq(status(t, kvers[0]).split(":")[-1].strip(), "added", "dkms add")
    c.expect(t.path(f"/usr/src/{NAME}-{ver}/dkms.conf").exists(),
             f"/usr/src/{NAME}-{ver} holds the source")
    for kver in kvers:
        t.run(["dkms", "build", "-m", NAME, "-v", ver, "-k", kver])
        t.run(["dkms", "install", "-m", NAME, "-v", ver, "-k", kver])
        check_installed(c, t, kver, ver)
    # What /etc/kernel/postinst.d/dkms does for a new kernel.
    t.run(["dkms", "uninstall", "-m", NAME, "-v", ver, "-k", kvers[-1]])
    c.expect(not list(t.path(f"/lib/modules/{kvers[-1]}/updates").glob(f"**/{NAME}.ko*")),
             "dkms uninstall removed the module")
    t.run(["dkms", "autoinstall", "-k", kvers[-1]])
    check_installed(c, t, kvers[-1], ver)

    t.run(["dkms", "remove", "-m", NAME, "-v", ver, "--all"])
    c.expect(not t.dkms_tree().exists(), f"{t.dkms_tree()} removed")
    c.eq(t.installed_modules(), [], "no module left under /lib/modules")
    for kver in kvers:
        code, _ = t.run(["modinfo", "-k", kver, NAME], check=False)
        c.expect(code != 0, f"{kver}: depmod no longer lists {NAME}")
    c.expect(not module_loaded(), "the module was never loaded on this machine")


CASES = [("dkms", case_dkms)]
