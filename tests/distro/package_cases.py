"""The Debian package memdiskblk-dkms, built from the tree with Debian's own
tools (dpkg-buildpackage, debhelper, dh-dkms), checked with lintian, then
installed with apt (which builds the module with DKMS) and purged in the
distro part's Debian 12 chroot (common.Target), not on this machine.

The initramfs-tools and dracut pieces debian/memdiskblk-dkms.install names
come from initramfs/initramfs-tools/ and initramfs/dracut/. If they are
missing the build fails, unless MDB_DISTRO_ALLOW_MISSING=1 (for work in
progress), which builds without them and says so."""
import os
import re
import shutil
import tarfile
from pathlib import Path

from common import (CACHE, INITRAMFS_PIECES, NAME, PACKAGE, ROOT, SOURCES,
                    changelog_version, copy_tree, module_loaded, run,
                    upstream_version)

WORK = CACHE / "deb"


class Built:
    deb = None
    changes = None
    missing = []


def udev_rule_path():
    """Where the rule goes on Debian 12, whose udev and debhelper use
    /lib/udev/rules.d (trixie moves them to /usr/lib/udev/rules.d)."""
    return Path("/lib/udev/rules.d/60-persistent-memdiskblk.rules")


def initramfs_files(t, kver):
    """The files in the target's /boot/initrd.img-KVER when initramfs-tools
    manages it and the package carries its hook (its trigger then rebuilds
    that initrd, the newest kernel's), else None."""
    initrd = f"/boot/initrd.img-{kver}"
    if ("initramfs/initramfs-tools/hooks/memdiskblk" in Built.missing or
            not t.path(initrd).exists()):
        return None
    return t.run(["lsinitramfs", initrd])[1].splitlines()


def case_build(c, host):
    """dpkg-buildpackage builds the source package (3.0 quilt, with an orig
    tarball of the tree without debian/) and memdiskblk-dkms_VERSION_all.deb
    holding: the module's sources and a dkms.conf with the version written
    in under /usr/src/memdiskblk-VERSION, the udev rule, the initramfs-tools
    hook and init-top script (executable), the dracut module; it depends on
    dkms."""
    ver, up = changelog_version(), upstream_version()
    missing = [p for p in INITRAMFS_PIECES if not (ROOT / p).exists()]
    Built.missing = missing
    if missing and os.environ.get("MDB_DISTRO_ALLOW_MISSING") != "1":
        c.expect(False, f"not in the tree yet: {missing} "
                 "(MDB_DISTRO_ALLOW_MISSING=1 builds without them)")
        return
    if WORK.exists():
        shutil.rmtree(WORK)
    src = copy_tree(WORK / f"{NAME}-{up}")
    if missing:
        c.note(f"built WITHOUT {', '.join(missing)}")
        # Only in this copy: drop the install lines whose source is absent.
        install = src / "debian" / f"{PACKAGE}.install"
        install.write_text("".join(
            line + "\n" for line in install.read_text().splitlines()
            if (src / line.split()[0]).exists() or
            not line.startswith("initramfs/")))
    with tarfile.open(WORK / f"{NAME}_{up}.orig.tar.gz", "w:gz") as tar:
        tar.add(src, arcname=src.name,
                filter=lambda t: None if t.name.startswith(f"{src.name}/debian")
                else t)
    code, log = run(["dpkg-buildpackage", "-us", "-uc"], cwd=src, check=False)
    (WORK / "build.log").write_text(log)
    if not c.expect(code == 0, f"dpkg-buildpackage exited {code}: "
                    + " | ".join(log.strip().splitlines()[-5:])):
        return
    Built.deb = WORK / f"{PACKAGE}_{ver}_all.deb"
    Built.changes = next(WORK.glob(f"{NAME}_{ver}_*.changes"), None)
    c.expect(Built.deb.exists(), f"{Built.deb.name} built")
    c.expect(Built.changes is not None, ".changes written")

    files = {line.split()[-1].lstrip("."): line
             for line in run(["dpkg-deb", "-c", str(Built.deb)])[1].splitlines()}
    usrsrc = f"/usr/src/{NAME}-{up}"
    for name in SOURCES + ["dkms.conf"]:
        c.expect(f"{usrsrc}/{name}" in files, f"{usrsrc}/{name} in the package")
    conf = run(["sh", "-c", f"dpkg-deb --fsys-tarfile {Built.deb} | "
                f"tar -xO .{usrsrc}/dkms.conf"])[1]
    c.expect(re.search(rf'^PACKAGE_VERSION="{re.escape(up)}"$', conf, re.M),
             f"packaged dkms.conf says PACKAGE_VERSION=\"{up}\"")
    c.expect(str(udev_rule_path()) in files, f"{udev_rule_path()} in the package")
    wanted = {
        "initramfs/initramfs-tools/hooks/memdiskblk":
            "/usr/share/initramfs-tools/hooks/memdiskblk",
        "initramfs/initramfs-tools/scripts/init-top/memdiskblk":
            "/usr/share/initramfs-tools/scripts/init-top/memdiskblk",
        "initramfs/initramfs-tools/scripts/init-bottom/memdiskblk":
            "/usr/share/initramfs-tools/scripts/init-bottom/memdiskblk",
        "udev/memdiskblk-released": "/lib/udev/memdiskblk-released",
    }
    for piece, path in wanted.items():
        if piece in missing:
            continue
        c.expect(path in files, f"{path} in the package")
        c.expect(files.get(path, "").startswith("-rwx"),
                 f"{path} is executable: {files.get(path, '')[:10]}")
    if "initramfs/dracut/90memdiskblk/module-setup.sh" not in missing:
        c.expect("/usr/lib/dracut/modules.d/90memdiskblk/module-setup.sh" in files,
                 "dracut module in the package")
    info = run(["dpkg-deb", "-f", str(Built.deb), "Depends", "Architecture"])[1]
    c.expect(re.search(r"\bdkms\b", info), f"depends on dkms: {info!r}")


def case_lintian(c, host):
    """lintian on the source and binary packages (.changes): no errors.
    Warnings are listed in the log (tests/.cache/distro/deb/lintian.log)."""
    if not c.expect(Built.changes is not None, "package was built"):
        return
    code, out = run(["lintian", "--fail-on", "error", "--display-level",
                     ">=warning", "--info", str(Built.changes)], check=False)
    (WORK / "lintian.log").write_text(out)
    tags = [line for line in out.splitlines() if re.match(r"^[EW]: ", line)]
    errors = [t for t in tags if t.startswith("E: ")]
    c.eq(errors, [], "lintian errors")
    c.expect(code == 0, f"lintian exited {code}")
    c.note(f"{len(errors)} errors, {len(tags) - len(errors)} warnings")


def case_install(c, t):
    """apt install ./memdiskblk-dkms_*.deb in the chroot: DKMS builds and
    installs the module for its kernels (dkms's own policy: every kernel
    when the running one is not installed there, as in a chroot; otherwise
    the running and the newest) with VERSION as its modinfo version, the
    udev rule and initramfs pieces are in place, and the newest kernel's
    initrd holds the module and the init-top script.
    apt purge removes the modules, the DKMS registration, /usr/src and
    every packaged file. The module is never loaded."""
    if not c.expect(Built.deb is not None, "package was built"):
        return
    up = upstream_version()
    kvers = t.header_kernels()
    running = os.uname().release
    want = kvers if running not in kvers else sorted({running, kvers[-1]})
    deb = f"/tmp/{Built.deb.name}"
    shutil.copy(Built.deb, t.path(deb))
    t.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", deb])
    t.path(deb).unlink()
    c.expect(t.package_installed(), f"{PACKAGE} installed")
    status = t.run(["dkms", "status", "-m", NAME])[1]
    for kver in want:
        c.expect(re.search(rf"^{NAME}/{re.escape(up)}, {re.escape(kver)}, .*installed",
                           status, re.M), f"dkms installed for {kver}: {status!r}")
        found = list(t.path(f"/lib/modules/{kver}/updates/dkms").glob(f"{NAME}.ko*"))
        c.expect(found, f"module under /lib/modules/{kver}/updates/dkms")
        if found:
            shown = run(["modinfo", "-F", "version", str(found[0])])[1].strip()
            c.eq(shown, up, f"{kver}: modinfo -F version of the DKMS build")
    c.expect(t.path(udev_rule_path()).read_bytes() ==
             (ROOT / "udev/60-persistent-memdiskblk.rules").read_bytes(),
             f"{udev_rule_path()} is the project's rule")
    for piece, path in [
            ("initramfs/initramfs-tools/hooks/memdiskblk",
             "/usr/share/initramfs-tools/hooks/memdiskblk"),
            ("initramfs/initramfs-tools/scripts/init-top/memdiskblk",
             "/usr/share/initramfs-tools/scripts/init-top/memdiskblk"),
            ("initramfs/dracut/90memdiskblk/module-setup.sh",
             "/usr/lib/dracut/modules.d/90memdiskblk/module-setup.sh")]:
        if piece not in Built.missing:
            c.expect(t.path(path).exists(), f"{path} installed")
    c.note(f"built for {', '.join(want)}")
    initrd = initramfs_files(t, kvers[-1])
    c.expect(initrd is not None, f"initramfs-tools made {kvers[-1]}'s initrd")
    if initrd is not None:
        c.expect(any(f"/updates/dkms/{NAME}.ko" in f for f in initrd),
                 f"update-initramfs put the module in {kvers[-1]}'s initrd")
        c.expect(f"scripts/init-top/{NAME}" in initrd,
                 f"and scripts/init-top/{NAME}")

    t.run(["apt-get", "purge", "-y", "-q", PACKAGE])
    c.expect(not t.package_installed(), f"{PACKAGE} purged")
    c.expect(not t.dkms_tree().exists(), f"{t.dkms_tree()} removed")
    c.expect(not t.path(f"/usr/src/{NAME}-{up}").exists(), f"/usr/src/{NAME}-{up} removed")
    c.eq(t.installed_modules(), [], "no module left under /lib/modules")
    c.expect(not t.path(udev_rule_path()).exists(), "udev rule removed")
    if initrd is not None:
        c.expect(not [f for f in initramfs_files(t, kvers[-1]) or [] if NAME in f],
                 f"{kvers[-1]}'s initrd rebuilt without memdiskblk")
    c.expect(not module_loaded(), "the module was never loaded on this machine")


CASES = [("deb-build", case_build), ("lintian", case_lintian),
         ("deb-install", case_install)]
