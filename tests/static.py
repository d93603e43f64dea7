#!/usr/bin/env python3
"""Static checks, one line each: W=1 + sparse builds on every installed
kernel (whose module must show VERSION as its modinfo version),
checkpatch --strict (from Debian's linux-source), shellcheck on every
shell script and every e2e case's guest script, cppcheck on the
userspace C, and every relative link and #anchor of the Markdown files
(scripts/check-links.py). A missing tool fails."""
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
        elif (p.relative_to(ROOT).parts[0] in ("initramfs-tools", "udev")
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
    """compat.h must test LINUX_VERSION_CODE (see its header comment);
    nothing else is reported."""
    rc, out = run([str(checkpatch()), "--strict", "--no-tree", "--terse",
                   "--ignore", "LINUX_VERSION_CODE,CONSTANT_COMPARISON,DEPRECATED_API",
                   "-f", "compat.h"])
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


def jobs():
    out = [harness.Job(f"static/build-w1-sparse/{images.short(k)}", build(k),
                       cost=40) for k in images.kernels()]
    out += [harness.Job("static/checkpatch", check_checkpatch, cost=15),
            harness.Job("static/checkpatch-compat", check_checkpatch_compat),
            harness.Job("static/shellcheck", check_shellcheck),
            harness.Job("static/cppcheck", check_cppcheck, cost=30),
            harness.Job("static/links", check_links, cost=2)]
    return out


if __name__ == "__main__":
    sys.exit(harness.main(jobs(), sys.argv[1:]))
