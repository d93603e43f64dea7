#!/usr/bin/env python3
"""make release VERSION=X.Y.Z: every place that names the version says
X.Y.Z, and the PKGBUILD carries the checksum of the release's tarball.

    release.py X.Y.Z [--pkgout DIR] [--changes TEXT]

The places (tests/static.py's package-versions case checks they agree):

- VERSION, the module's version (Kbuild puts it into modinfo);
- debian/changelog's top entry, X.Y.Z-1;
- the RPM spec's Version (Release 1) and its %changelog's top entry;
- the PKGBUILD's pkgver (pkgrel 1), and packaging/archlinux/.SRCINFO, which
  `makepkg --printsrcinfo` writes from the PKGBUILD.

dkms.conf keeps its placeholder: every package writes the version over it.

A place that does not say X.Y.Z yet gets it; the changelogs get a new
entry (TEXT, or "New upstream release."), dated now (or
SOURCE_DATE_EPOCH) and signed as their top entry is (Debian's: DEBFULLNAME
and DEBEMAIL if set, as dch does). A place that says it already is left
alone, so a second run changes nothing but the checksum, if the tree
changed in between.

Then `make dist` makes DIR/memdiskblk-X.Y.Z.tar.gz (DIR: .. by default),
its sha256 goes into the PKGBUILD and .SRCINFO is written again. The
tarball's file times come from debian/changelog's top entry, so the
commit of these changes makes the same tarball byte for byte: commit
them (this prints how), and that commit is the release.

Refuses to run in a tree with other changes than these files', or
untracked files: they would be in the tarball and not in the commit. And
refuses a version that is tagged (vX.Y.Z, the tag this tells you to
make) when the tree makes another tarball than the tag's PKGBUILD names: a
published tarball must not change. Until it is tagged, a version may be
made again (after a merge that changed a file of the tarball, say).
"""
import argparse
import datetime
import email.utils
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "memdiskblk"
SPEC = "packaging/rpm/memdiskblk-dkms.spec"
PKGBUILD = "packaging/archlinux/PKGBUILD"
SRCINFO = "packaging/archlinux/.SRCINFO"
CHANGELOG = "debian/changelog"
PLACES = ["VERSION", CHANGELOG, SPEC, PKGBUILD, SRCINFO]
# What Kbuild accepts in VERSION, starting with a digit as Debian's
# upstream versions must; no "-" (the RPM's and pacman's separator).
VALID = re.compile(r"[0-9][0-9A-Za-z.+~]*")


class ReleaseError(Exception):
    pass


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if p.returncode:
        raise ReleaseError(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n"
                           + p.stdout.strip())
    return p.stdout


def read(rel):
    return (ROOT / rel).read_text()


def write(rel, text, changed):
    """rel's new text; changed lists it if that differs from the old."""
    path = ROOT / rel
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        changed.append(rel)


def release_time():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return int(epoch) if epoch else int(time.time())


def check_tree():
    """Only the places may differ from HEAD, and nothing be untracked."""
    if shutil.which("git") is None or \
            subprocess.run(["git", "-C", str(ROOT), "rev-parse"],
                           capture_output=True).returncode:
        raise ReleaseError("not a git checkout: a release is a commit")
    status = run(["git", "-C", str(ROOT), "status", "--porcelain",
                  "--untracked-files=all"])
    other = [line for line in status.splitlines() if line[3:] not in PLACES]
    if other:
        raise ReleaseError("the tree has changes that would be in the tarball "
                           "and not in the release's commit; commit or stash "
                           "them first:\n" + "\n".join(other))


def wrap(text, first, rest):
    return "\n".join(textwrap.wrap(text, 72, initial_indent=first,
                                   subsequent_indent=rest,
                                   break_on_hyphens=False))


def debian_signature():
    name, mail = os.environ.get("DEBFULLNAME"), os.environ.get("DEBEMAIL")
    if name and mail:
        return f"{name} <{mail}>"
    m = re.search(r"^Maintainer:\s*(.+)$", read("debian/control"), re.M)
    if not m:
        raise ReleaseError("debian/control has no Maintainer")
    return m[1].strip()


def bump_debian(version, changes, when, changed):
    text = read(CHANGELOG)
    m = re.match(r"^(\S+) \(([^)]+)\) (\S+); (.*)$", text.splitlines()[0])
    if not m:
        raise ReleaseError(f"{CHANGELOG}: cannot read its top entry")
    if m[2].rsplit("-", 1)[0] == version:
        return
    # RFC 2822 with "+0000", as dpkg wants.
    date = email.utils.format_datetime(
        datetime.datetime.fromtimestamp(when, datetime.timezone.utc))
    entry = (f"{m[1]} ({version}-1) {m[3]}; {m[4]}\n\n"
             f"{wrap(changes, '  * ', '    ')}\n\n"
             f" -- {debian_signature()}  {date}\n\n")
    write(CHANGELOG, entry + text, changed)


def bump_spec(version, changes, when, changed):
    text = read(SPEC)
    ver = re.search(r"^Version:(\s*)(\S+)\s*$", text, re.M)
    top = re.search(r"^%changelog\n\* (\w{3} \w{3} \d{2} \d{4}) (.*?) - "
                    r"(\S+)-(\S+)$", text, re.M)
    if not ver or not top:
        raise ReleaseError(f"{SPEC}: no Version or no %changelog entry")
    if ver[2] != version:
        text = (text[:ver.start()] + f"Version:{ver[1]}{version}" +
                text[ver.end():])
        text = re.sub(r"^Release:(\s*)\S+?(%\{\?dist\})?$",
                      lambda r: f"Release:{r[1]}1{r[2] or ''}", text,
                      count=1, flags=re.M)
    if top[3] != version:
        stamp = time.strftime("%a %b %d %Y", time.gmtime(when))
        entry = (f"* {stamp} {top[2]} - {version}-1\n"
                 f"{wrap(changes, '- ', '  ')}\n\n")
        at = text.index("%changelog\n") + len("%changelog\n")
        text = text[:at] + entry + text[at:]
    write(SPEC, text, changed)


def bump_pkgbuild(version, changed):
    text = read(PKGBUILD)
    if not re.search(r"^pkgver=\S+$", text, re.M):
        raise ReleaseError(f"{PKGBUILD}: no pkgver=")
    if re.search(rf"^pkgver={re.escape(version)}$", text, re.M):
        return
    text = re.sub(r"^pkgver=\S+$", f"pkgver={version}", text, count=1, flags=re.M)
    text = re.sub(r"^pkgrel=\S+$", "pkgrel=1", text, count=1, flags=re.M)
    write(PKGBUILD, text, changed)


def as_builder(cmd, cwd):
    """cmd in cwd; as the user nobody when root (makepkg refuses root),
    with an empty environment, as scripts/build-package.sh runs makepkg."""
    if os.geteuid() != 0:
        return run(cmd, cwd=cwd)
    shutil.chown(cwd, "nobody")
    for p in Path(cwd).iterdir():
        shutil.chown(p, "nobody")
    gid = run(["id", "-g", "nobody"]).strip()
    return run(["setpriv", "--reuid=nobody", f"--regid={gid}", "--clear-groups",
                "env", "-i", "PATH=/usr/bin:/bin", f"HOME={cwd}", "LANG=C.UTF-8",
                *cmd], cwd=cwd)


def srcinfo(pkgbuild_text):
    """makepkg --printsrcinfo of the PKGBUILD, run on a copy of it alone."""
    if shutil.which("makepkg") is None:
        raise ReleaseError("makepkg not found (Debian: apt install makepkg)")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        (Path(tmp) / "PKGBUILD").write_text(pkgbuild_text)
        return as_builder(["makepkg", "--printsrcinfo"], tmp)


def tagged_checksum(version):
    """The checksum the PKGBUILD of the tag vVERSION gives version's
    tarball, if there is that tag and it has one (not SKIP), else None."""
    p = subprocess.run(["git", "-C", str(ROOT), "show",
                        f"refs/tags/v{version}:{PKGBUILD}"],
                       capture_output=True, text=True)
    ver = re.search(r"^pkgver=(\S+)$", p.stdout, re.M)
    sums = re.search(r"^sha256sums=\('([0-9a-f]{64})'\)$", p.stdout, re.M)
    if p.returncode or not ver or ver[1] != version or not sums:
        return None
    return sums[1]


def make_dist(pkgout):
    """`make dist` into pkgout; the tarball's path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    run(["make", "-s", "-C", str(ROOT), "dist", f"PKGOUT={pkgout}"], env=env)
    return pkgout / f"{NAME}-{read('VERSION').strip()}.tar.gz"


def release(version, pkgout, changes):
    if not VALID.fullmatch(version):
        raise ReleaseError(f"{version!r} is no version Kbuild, dpkg, rpm and "
                           "pacman all accept (digits, letters, . + ~)")
    check_tree()
    old = read("VERSION").strip()
    if version != old and shutil.which("dpkg"):
        if subprocess.run(["dpkg", "--compare-versions", version, "gt",
                           old]).returncode:
            raise ReleaseError(f"{version} is not newer than {old}")
    when = release_time()
    before = {rel: read(rel) if (ROOT / rel).exists() else None
              for rel in PLACES}
    changed = []
    write("VERSION", version + "\n", changed)
    bump_debian(version, changes, when, changed)
    bump_spec(version, changes, when, changed)
    bump_pkgbuild(version, changed)

    pkgout.mkdir(parents=True, exist_ok=True)
    tarball = make_dist(pkgout)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    released = tagged_checksum(version)
    if released and released != digest:
        for rel, text in before.items():
            if text is not None:
                (ROOT / rel).write_text(text)
        raise ReleaseError(
            f"{version} is released already (tag v{version}, whose PKGBUILD "
            f"says sha256 {released}) and this tree makes another tarball "
            f"({digest}): a published tarball must not change, release a new "
            "version")
    text = read(PKGBUILD)
    if not re.search(r"^sha256sums=\(.*\)$", text, re.M):
        raise ReleaseError(f"{PKGBUILD}: no one-line sha256sums=(...)")
    write(PKGBUILD, re.sub(r"^sha256sums=\(.*\)$", f"sha256sums=('{digest}')",
                           text, count=1, flags=re.M), changed)
    write(SRCINFO, srcinfo(read(PKGBUILD)), changed)

    print(f"release {version}: {tarball} (sha256 {digest})")
    if not changed:
        print(f"nothing changed: this tree is release {version} already")
        return
    print("changed: " + ", ".join(dict.fromkeys(changed)))
    print("Review with `git diff`, then commit and tag the release:\n"
          f"  git add {' '.join(PLACES)}\n"
          f"  git commit -m 'release {version}'\n"
          f"  git tag v{version}\n"
          f"`make dist` at that commit makes {tarball.name} again, byte for "
          "byte.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("version")
    ap.add_argument("--pkgout", default="..",
                    help="where the tarball goes (default ..)")
    ap.add_argument("--changes", default="New upstream release.",
                    help="the changelogs' text for a new version")
    args = ap.parse_args()
    try:
        release(args.version, Path(args.pkgout).resolve(), args.changes)
    except ReleaseError as e:
        print(f"release: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
