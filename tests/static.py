#!/usr/bin/env python3
"""Static checks, one line each: W=1 + sparse builds on every installed
kernel (whose module must show VERSION as its modinfo version),
checkpatch --strict (from Debian's linux-source), shellcheck on every
shell script and every e2e case's guest script, cppcheck on the
userspace C, every relative link and #anchor of the Markdown files
(scripts/check-links.py), one version in every place that names it
(VERSION, the Debian changelog, the RPM spec, the PKGBUILD and its
.SRCINFO). A missing tool fails."""
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent / "lib"),
                str(Path(__file__).resolve().parent / "e2e")]
import harness  # noqa: E402
import images  # noqa: E402
import suite  # noqa: E402

ROOT = harness.ROOT
KERNEL_C = ["memdiskblk.c", "memdiskblk.h", "memdiskblk_scan.c"]
USER_C = ["tests/unit/test_scan.c", "tests/fuzz/fuzz_scan.c",
          "tests/lib/layout.c", "tests/e2e/guest/mdbio.c",
          "tests/bench/mdbbench.c"]


def checkpatch():
    """scripts/checkpatch.pl from the newest linux-source tarball, cached."""
    dest = harness.CACHE / "checkpatch"
    script = dest / "scripts/checkpatch.pl"
    with images.locked("checkpatch"):
        if script.exists():
            return script
        tarballs = sorted(Path("/usr/src").glob("linux-source-*.tar.xz"))
        if not tarballs:
            raise RuntimeError("no /usr/src/linux-source-*.tar.xz (install linux-source)")
        dest.mkdir(parents=True, exist_ok=True)
        top = tarballs[-1].name[:-len(".tar.xz")]
        wanted = [f"{top}/scripts/{n}" for n in
                  ("checkpatch.pl", "spelling.txt", "const_structs.checkpatch")]
        subprocess.run(["tar", "-xJf", tarballs[-1], "-C", dest,
                        "--strip-components=1", *wanted], check=True)
        return script


def shell_scripts():
    found = [ROOT / "tests/e2e/guest/init"]
    for p in ROOT.rglob("*"):
        if ".cache" in p.parts or ".git" in p.parts or not p.is_file():
            continue
        if p.suffix == ".sh" or p.name == "run" and p.parent.name == ".ci":
            found.append(p)
        # initramfs-tools' scripts and udev's helpers have no suffix.
        elif (p.relative_to(ROOT).as_posix().startswith(
                ("initramfs/initramfs-tools/", "udev/"))
              and p.read_bytes().startswith(b"#!/bin/sh")):
            found.append(p)
    return sorted(set(found))


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, cwd=ROOT, **kw)
    return p.returncode, p.stdout


def build(kver):
    """The module for kver with W=1 and sparse (C=2): no warning, and
    modinfo shows the version of the file VERSION (Kbuild puts it in)."""
    def check(c):
        images.check_build(c, kver, ("W=1", "C=2"))
        if c.failures:
            return
        ko, _ = images.build_module(kver, ("W=1", "C=2"))
        _, shown = run(["modinfo", "-F", "version", str(ko)])
        c.eq(shown.strip(), (ROOT / "VERSION").read_text().strip(),
             "modinfo version")
    return check


def check_checkpatch(c):
    """checkpatch --strict reports nothing on the driver."""
    rc, out = run([str(checkpatch()), "--strict", "--no-tree", "--terse", "-f",
                   *KERNEL_C])
    c.expect(rc == 0, out.strip()[-500:])


def check_checkpatch_compat(c):
    """compat.h must test LINUX_VERSION_CODE and define the kernel's own
    typedefs (see its header comment); nothing else is reported, neither
    there nor in compat/'s headers."""
    files = ["compat.h"] + sorted(str(p.relative_to(ROOT))
                                  for p in ROOT.glob("compat/**/*.h"))
    rc, out = run([str(checkpatch()), "--strict", "--no-tree", "--terse",
                   "--ignore", "LINUX_VERSION_CODE,CONSTANT_COMPARISON,"
                   "DEPRECATED_API,NEW_TYPEDEFS", "-f", *files])
    c.expect(rc == 0, out.strip()[-500:])


def check_shellcheck(c):
    """shellcheck reports nothing on the shell scripts (the shebang or a
    shellcheck directive says which shell) nor on any e2e case's GUEST
    script (busybox sh, checked as POSIX sh)."""
    if not c.expect(shutil.which("shellcheck"), "shellcheck not installed"):
        return
    rc, out = run(["shellcheck", *map(str, shell_scripts())])
    c.expect(rc == 0, out.strip()[-500:])
    with tempfile.TemporaryDirectory() as tmp:
        guests = []
        for f in suite.case_files():
            path = Path(tmp) / f"{f.name}.guest.sh"
            path.write_text(f.guest)
            guests.append(str(path))
        rc, out = run(["shellcheck", "-s", "sh", *guests])
        c.expect(rc == 0, out.strip()[-500:])


def check_cppcheck(c):
    """cppcheck finds nothing in the userspace C."""
    if not c.expect(shutil.which("cppcheck"), "cppcheck not installed"):
        return
    missing = [f for f in USER_C if not (ROOT / f).exists()]
    c.eq(missing, [], "userspace C files")
    rc, out = run(["cppcheck", "--quiet", "--error-exitcode=1",
                   "--enable=warning,style,performance,portability",
                   "--inline-suppr", "-I", ".", "-I", "tests/include",
                   *[f for f in USER_C if (ROOT / f).exists()]])
    c.expect(rc == 0, out.strip()[-500:])


def check_links(c):
    """No dead link: every relative link and #anchor in every Markdown
    file resolves (scripts/check-links.py; URLs are not fetched)."""
    rc, out = run([sys.executable, "scripts/check-links.py"])
    c.expect(rc == 0, out.strip()[-500:])


def printsrcinfo(pkgbuild):
    """(status, output) of `makepkg --printsrcinfo` on a copy of pkgbuild
    alone; as the user nobody when root, which makepkg refuses."""
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        shutil.copy(pkgbuild, Path(tmp) / "PKGBUILD")
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
        cmd = ["makepkg", "--printsrcinfo"]
        if os.geteuid() == 0:
            shutil.chown(tmp, "nobody")
            gid = subprocess.run(["id", "-g", "nobody"], stdout=subprocess.PIPE,
                                 text=True, check=True).stdout.strip()
            cmd = ["setpriv", "--reuid=nobody", f"--regid={gid}",
                   "--clear-groups", "env", "-i",
                   *[f"{k}={v}" for k, v in env.items()], *cmd]
        p = subprocess.run(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        return p.returncode, (p.stdout + p.stderr) if p.returncode else p.stdout


def check_package_versions(c):
    """Every place naming the version names the same one, as the
    distributions' own parsers read them: VERSION (one line Kbuild
    accepts); debian/changelog's top entry without its revision
    (dpkg-parsechangelog); the RPM spec's Version, written there literally
    (no macro), and its %changelog's top entry VERSION-RELEASE (rpmspec);
    the PKGBUILD's pkgver, written there literally (makepkg
    --printsrcinfo), and packaging/archlinux/.SRCINFO's. The failure names each place
    and what it says. packaging/archlinux/.SRCINFO is exactly what makepkg
    --printsrcinfo prints for the PKGBUILD, which carries a sha256 of its
    tarball, not SKIP. dkms.conf names no version: it keeps the
    placeholder every package writes the version over. (The revisions,
    Debian's -1, the RPM's Release and pkgrel, are each distribution's
    own: make release sets them to 1 for a new version.)"""
    for tool in ("dpkg-parsechangelog", "rpmspec", "makepkg"):
        if not c.expect(shutil.which(tool), f"{tool} is installed "
                        "(scripts/install-deps.sh installs it)"):
            return
    says = {}
    text = (ROOT / "VERSION").read_text()
    c.expect(re.fullmatch(r"[0-9A-Za-z.+~]+\n", text),
             f"VERSION is one line Kbuild accepts: {text!r}")
    says["VERSION"] = text.strip()

    rc, out = run(["dpkg-parsechangelog", "-l", "debian/changelog", "-S",
                   "Version"])
    if c.expect(rc == 0, f"dpkg-parsechangelog: {out.strip()[-300:]}"):
        says["debian/changelog"] = out.strip().split(":")[-1].rsplit("-", 1)[0]

    spec = "packaging/rpm/memdiskblk-dkms.spec"
    text = (ROOT / spec).read_text()
    c.expect(re.search(r"^Version:\s*[^\s%]+\s*$", text, re.M),
             "the spec's Version is written literally")
    c.expect(re.search(r"^Release:\s*[0-9]+%\{\?dist\}\s*$", text, re.M),
             "the spec's Release is a number and %{?dist}")
    rc, out = run(["rpmspec", "-q", "--srpm", "--define", "dist %{nil}", "--qf",
                   "%{VERSION}|%{RELEASE}|%{CHANGELOGNAME}\n", spec])
    m = re.fullmatch(r"(\S+)\|(\S+)\|.* - (\S+)-(\S+)\n", out)
    if c.expect(rc == 0 and m, f"rpmspec: {out.strip()[-300:]}"):
        says["spec Version"] = m[1]
        says["spec %changelog"] = m[3]
        c.eq(m[4], m[2], "the spec's %changelog top entry's release")

    pkgbuild = ROOT / "packaging/archlinux/PKGBUILD"
    c.expect(re.search(r"^pkgver=[0-9A-Za-z.+~_]+$", pkgbuild.read_text(), re.M),
             "the PKGBUILD's pkgver is written literally")
    rc, out = printsrcinfo(pkgbuild)
    if c.expect(rc == 0, f"makepkg --printsrcinfo: {out.strip()[-300:]}"):
        m = re.search(r"^\tpkgver = (\S+)$", out, re.M)
        says["PKGBUILD pkgver"] = m[1] if m else None
        c.expect(re.search(r"^\tsha256sums = [0-9a-f]{64}$", out, re.M),
                 "the PKGBUILD carries a sha256 of its tarball, not SKIP")
        srcinfo = ROOT / "packaging/archlinux/.SRCINFO"
        have = srcinfo.read_text() if srcinfo.exists() else ""
        diff = difflib.unified_diff(have.splitlines(), out.splitlines(),
                                    "packaging/archlinux/.SRCINFO", "makepkg --printsrcinfo",
                                    lineterm="", n=0)
        c.expect(have == out, "packaging/archlinux/.SRCINFO is makepkg --printsrcinfo's "
                 "(make release writes it): " + " | ".join(list(diff)[2:]))
        m = re.search(r"^\tpkgver = (\S+)$", have, re.M)
        says["packaging/archlinux/.SRCINFO"] = m[1] if m else None

    conf = re.findall(r"^PACKAGE_VERSION=(.*)$", (ROOT / "dkms.conf").read_text(),
                      re.M)
    c.eq(conf, ['"#MODULE_VERSION#"'], "dkms.conf's PACKAGE_VERSION: the "
         "placeholder the packages write the version over")
    c.expect(len(set(says.values())) == 1, "the versions disagree: " +
             ", ".join(f"{k} says {v}" for k, v in says.items()))
    c.note(", ".join(sorted(set(map(str, says.values())))))


def jobs():
    out = [harness.Job(f"static/build-w1-sparse/{images.short(k)}", build(k),
                       cost=40) for k in images.kernels()]
    out += [harness.Job("static/checkpatch", check_checkpatch, cost=15),
            harness.Job("static/checkpatch-compat", check_checkpatch_compat),
            harness.Job("static/shellcheck", check_shellcheck),
            harness.Job("static/cppcheck", check_cppcheck, cost=30),
            harness.Job("static/links", check_links, cost=2),
            harness.Job("static/package-versions", check_package_versions,
                        cost=5)]
    return out


if __name__ == "__main__":
    sys.exit(harness.main(jobs(), sys.argv[1:]))
