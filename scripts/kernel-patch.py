#!/usr/bin/env python3
"""make kernel-patch: the driver as a patch series for a kernel source tree.

    kernel-patch.py --ksrc DIR [--out DIR] [--test-compat]

Writes a `git format-patch` series (a cover letter and the patches) that
adds memdiskblk to the kernel tree in DIR: the driver in
drivers/block/memdisk/, its Kconfig entry and Makefile line, and its
documentation. The series is made from the module's own files, never
edited by hand:

- The driver is written against the newest kernel's interfaces, and its
  top-level .c and .h files go in as they are, but for the line that
  includes compat.h, which supplies those interfaces on older kernels
  and stays out of the tree.
- upstream/ holds what only the kernel tree needs: the directory's
  Kconfig and Makefile, the documentation, and the cover letter and
  commit messages.

--test-compat also writes test-compat.patch, for the project's test
kernels and never for posting: on top of the series, it puts compat.h
back beside the driver with its #include, if the tree is older than a
release that compat.h names (else it writes nothing).

From and Signed-off-by are the git identity (user.name, user.email) of
whoever runs this: the series is theirs to post. Dates come from the
newest commit of this checkout, so the same sources give the same series.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT / "upstream"
DIR = "drivers/block/memdisk"
CONFIG = "BLK_DEV_MEMDISK"
DOC = "Documentation/admin-guide/blockdev/memdiskblk.rst"
ABI = "Documentation/ABI/testing/sysfs-block-memdisk"
COMPAT = "compat.h"
INCLUDE = f'#include "{COMPAT}"\n'
TEST_COMPAT = "test-compat.patch"


class GenError(Exception):
    pass


def tree_version(ksrc):
    """(version, patchlevel, sublevel) from the tree's top Makefile."""
    text = (ksrc / "Makefile").read_text()
    nums = []
    for var in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
        m = re.search(rf"^{var}\s*=\s*(\d*)", text, re.M)
        if not m:
            raise GenError(f"{ksrc}/Makefile has no {var}")
        nums.append(int(m.group(1) or 0))
    return tuple(nums)


# ---- the in-tree files ------------------------------------------------------

def driver_files():
    """{path in the tree: text} for drivers/block/memdisk/."""
    files = {}
    for src in sorted(ROOT.glob("*.[ch]")):
        if src.name == COMPAT:
            continue
        text = src.read_text().replace(INCLUDE, "")
        if COMPAT in text:
            raise GenError(f"{src.name} names {COMPAT} other than in its "
                           f"own line {INCLUDE.strip()!r}")
        files[f"{DIR}/{src.name}"] = text
    for name in ("Kconfig", "Makefile"):
        files[f"{DIR}/{name}"] = (UPSTREAM / name).read_text()
    return files


def needs_compat(version):
    """Is the tree older than a release compat.h tests for?"""
    text = (ROOT / COMPAT).read_text()
    named = re.findall(r"KERNEL_VERSION\((\d+), (\d+), (\d+)\)", text)
    return any(tuple(map(int, v)) > version for v in named)


def test_compat_files(ksrc):
    """The test patch's files: compat.h beside the driver, and the driver
    with the line that includes it."""
    for shim in sorted((ROOT / "compat").rglob("*.h")):
        rel = shim.relative_to(ROOT / "compat")
        if not (ksrc / "include" / rel).exists():
            raise GenError(f"the tree has no <{rel}>, which compat/ supplies "
                           "out of tree only")
    return {f"{DIR}/{COMPAT}": (ROOT / COMPAT).read_text(),
            **{f"{DIR}/{p.name}": p.read_text() for p in ROOT.glob("*.[ch]")
               if INCLUDE in p.read_text()}}


def insert_after(text, anchor, new, what):
    m = re.search(anchor, text, re.M)
    if not m:
        raise GenError(f"{what}: anchor {anchor!r} not found")
    at = text.index("\n", m.end()) + 1
    return text[:at] + new + text[at:]


def insert_before(text, anchor, new, what):
    m = re.search(anchor, text, re.M)
    if not m:
        raise GenError(f"{what}: anchor {anchor!r} not found")
    return text[:m.start()] + new + text[m.start():]


def tree_edits(ksrc):
    """The lines the series adds to the tree's own files."""
    kconfig = (ksrc / "drivers/block/Kconfig").read_text()
    # Next to the RAM disk, the other driver for a disk in memory.
    kconfig = insert_before(kconfig, r"^config BLK_DEV_RAM$",
                            f'source "{DIR}/Kconfig"\n\n', "drivers/block/Kconfig")
    makefile = (ksrc / "drivers/block/Makefile").read_text()
    makefile = insert_after(makefile, r"^obj-\$\(CONFIG_BLK_DEV_RAM\)\s",
                            f"obj-$(CONFIG_{CONFIG})\t+= memdisk/\n",
                            "drivers/block/Makefile")
    index_path = "Documentation/admin-guide/blockdev/index.rst"
    index = (ksrc / index_path).read_text()
    page = Path(DOC).stem
    lines = index.split("\n")
    entries = [n for n, ln in enumerate(lines) if re.fullmatch(r"   [a-z][\w-]*", ln)]
    if not entries:
        raise GenError(f"{index_path}: no toctree entries")
    pos = next((n for n in entries if lines[n].strip() > page), entries[-1] + 1)
    lines.insert(pos, f"   {page}")
    return {
        "drivers/block/Kconfig": kconfig,
        "drivers/block/Makefile": makefile,
        index_path: "\n".join(lines),
    }


# ---- the series ---------------------------------------------------------------

def fill(text, version, date):
    """@KVER@: the tree's version; @DATE@: the month of the sources."""
    month = time.strftime("%B %Y", time.gmtime(int(date[1:].split()[0])))
    return text.replace("@KVER@", "%d.%d" % version[:2]).replace("@DATE@", month)


def message(name, version, date):
    """upstream/NAME: a subject line, a blank line, the body; lines
    starting with '#' are notes for whoever edits the file."""
    text = (UPSTREAM / name).read_text()
    text = "\n".join(ln for ln in text.split("\n") if not ln.startswith("#"))
    return fill(text.strip(), version, date) + "\n"


def git(repo, *args, env=None, check=True):
    p = subprocess.run(["git", "-C", str(repo), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=env)
    if check and p.returncode:
        raise GenError(f"git {' '.join(args)}: {p.stdout.strip()}")
    return p.stdout


def identity():
    name = git(ROOT, "config", "user.name", check=False).strip()
    email = git(ROOT, "config", "user.email", check=False).strip()
    if not name or not email:
        raise GenError("no git identity: the series is signed off by whoever "
                       "generates it (git config user.name, user.email)")
    return name, email


def commit_date():
    date = os.environ.get("SOURCE_DATE_EPOCH")
    if date:
        return f"@{date} +0000"
    out = git(ROOT, "log", "-1", "--format=%ad", "--date=raw", check=False).strip()
    return f"@{out}" if re.fullmatch(r"\d+ [-+]\d{4}", out) else "@0 +0000"


def generate(ksrc, out, test_compat=False):
    ksrc, out = Path(ksrc).resolve(), Path(out).resolve()
    version = tree_version(ksrc)
    name, email = identity()
    date = commit_date()
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    driver = driver_files()
    edits = tree_edits(ksrc)
    docs = {DOC: fill((UPSTREAM / "memdiskblk.rst").read_text(), version, date),
            ABI: fill((UPSTREAM / "sysfs-block-memdisk").read_text(), version, date)}
    driver["drivers/block/Kconfig"] = edits.pop("drivers/block/Kconfig")
    driver["drivers/block/Makefile"] = edits.pop("drivers/block/Makefile")
    docs.update(edits)
    patches = [("patch-driver.txt", driver), ("patch-docs.txt", docs)]
    compat = test_compat_files(ksrc) if test_compat and needs_compat(version) else None

    def commit(repo, files, msg):
        for path, text in files.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
        git(repo, "add", "-A", env=env)
        (repo / ".git" / "MSG").write_text(msg)
        git(repo, "commit", "-q", "-F", str(repo / ".git" / "MSG"), env=env)

    with tempfile.TemporaryDirectory(prefix="memdiskblk-series.") as tmp:
        repo = Path(tmp)
        git(repo, "init", "-q", env=env)
        for files in (driver, docs):  # the tree's own files, as they are
            for path in files:
                if (ksrc / path).exists():
                    (repo / path).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ksrc / path, repo / path)
        git(repo, "add", "-A", env=env)
        git(repo, "commit", "-q", "-m", f"linux {'.'.join(map(str, version))}", env=env)
        for msgfile, files in patches:
            commit(repo, files, message(msgfile, version, date)
                   + f"\nSigned-off-by: {name} <{email}>\n")
        if out.exists():
            for old in out.glob("*.patch"):
                old.unlink()
        out.mkdir(parents=True, exist_ok=True)
        git(repo, "format-patch", "-q", "--cover-letter", "--no-signature",
            "-o", str(out), "HEAD~2", env=env)
        if compat:
            commit(repo, compat, "memdiskblk: compat.h for Linux %d.%d "
                   "(test only, not for posting)\n" % version[:2])
            (out / TEST_COMPAT).write_text(git(
                repo, "format-patch", "--stdout", "--no-signature", "-1",
                "HEAD", env=env))
    cover = next(out.glob("0000-*.patch"))
    subject, _, blurb = message("cover-letter.txt", version, date).partition("\n")
    text = cover.read_text()
    text = text.replace("*** SUBJECT HERE ***", subject.strip())
    text = text.replace("*** BLURB HERE ***", blurb.strip())
    cover.write_text(text)
    return sorted(out.glob("*.patch"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ksrc", required=True, help="kernel source tree")
    ap.add_argument("--out", default=str(ROOT / "kernel-patch"),
                    help="directory for the series (default: kernel-patch/)")
    ap.add_argument("--show", metavar="PATH",
                    help="print one generated file (e.g. "
                         f"{DIR}/memdiskblk.c) instead of writing the series")
    ap.add_argument("--test-compat", action="store_true",
                    help=f"also write {TEST_COMPAT} if the tree needs "
                         f"{COMPAT} (for test kernels, not for posting)")
    a = ap.parse_args()
    try:
        if a.show:
            sys.stdout.write(driver_files()[a.show])
            return 0
        for p in generate(a.ksrc, a.out, a.test_compat):
            print(p)
    except (GenError, OSError, KeyError) as e:
        print(f"kernel-patch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
