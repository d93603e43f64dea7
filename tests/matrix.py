#!/usr/bin/env python3
"""make matrix: build and boot memdiskblk on every kernel line it supports.

Debian 12's own kernels (6.1, 6.12) are used as installed. The oldest and
newest lines come from other Debian releases, each built in a chroot with
that release's own headers and compiler (debootstrap, cached in
MDB_MATRIX_CACHE, default /var/cache/memdiskblk) and booted with that
release's own kernel image, unpacked from its package:

    bullseye           linux-headers-amd64 (5.10)
    trixie-backports   linux-headers-amd64 (newest, 7.x when written)

Per kernel: a W=1 build with zero warnings, then the core boots (ISO
byte-exact, hard-disk image with a partition, refusal without MEMDISK).
One line per kernel, then "N passed, N failed".
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))
import cases  # noqa: E402
import images  # noqa: E402

CACHE = Path(os.environ.get("MDB_MATRIX_CACHE", "/var/cache/memdiskblk"))
MIRROR = "http://deb.debian.org/debian"
# name, debootstrap suite, extra apt source line, apt target release
RELEASES = [
    ("bullseye", "bullseye", None, None),
    ("trixie", "trixie", f"deb {MIRROR} trixie-backports main", "trixie-backports"),
]
CORE = ["iso", "harddisk", "no-memdisk"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw).stdout


def in_chroot(root, script):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return sh(["chroot", str(root), "sh", "-ec", script], env=env)


def prepare(name, suite, source, target):
    """A chroot with that release's headers and compiler, and its kernel
    image unpacked beside it. Returns the kernel release string."""
    root = CACHE / f"chroot-{name}"
    if not (root / "usr/bin/apt-get").exists():
        sh(["debootstrap", "--variant=minbase", suite, str(root), MIRROR])
    if source:
        (root / "etc/apt/sources.list.d/extra.list").write_text(source + "\n")
    pick = f"-t {target}" if target else ""
    in_chroot(root, "apt-get update -q >/dev/null; apt-get install -y -q "
              f"--no-install-recommends {pick} linux-headers-amd64 gcc make "
              ">/dev/null")
    # "build" is an absolute link, valid inside the chroot only.
    kvers = sorted((p.name for p in (root / "lib/modules").iterdir()
                    if os.path.lexists(p / "build")),
                   key=lambda v: [int(x) for x in re.findall(r"\d+", v)])
    kver = kvers[-1]
    unpacked = CACHE / "kernels" / kver
    if not list(unpacked.glob("**/vmlinuz*")):
        # The kernel image: trixie splits it into linux-binary-KVER
        # (vmlinuz) and linux-modules-KVER; bullseye has one package.
        in_chroot(root, "mkdir -p /debs && cd /debs && rm -f ./*.deb && "
                  f"(apt-get download linux-binary-{kver} "
                  f"linux-modules-{kver} 2>/dev/null || "
                  f"apt-get download linux-image-{kver})")
        unpacked.mkdir(parents=True, exist_ok=True)
        for deb in (root / "debs").glob("linux-*.deb"):
            sh(["dpkg-deb", "-x", str(deb), str(unpacked)])
    vmlinuz = next(unpacked.glob("**/vmlinuz*"))
    mods = next(p for p in (unpacked / "lib/modules" / kver,
                            unpacked / "usr/lib/modules" / kver) if p.exists())
    if not (mods / "modules.dep").exists():  # made by the postinst
        sh(["depmod", "-b", str(mods.parents[2]), kver])
    images.register_kernel(kver, vmlinuz, mods, root)
    return kver


def test_kernel(kver):
    """Build with W=1, then the core boots. Returns a list of failures."""
    failures = []
    try:
        k = cases.Kernel(kver)
    except subprocess.CalledProcessError as e:
        return ["build failed: " + e.stdout[-400:].replace("\n", " | ")]
    except Exception as e:  # no image to boot is a failure, not a crash
        return [f"setup failed: {e!r}"]
    warnings = [line for line in k.build_log.splitlines()
                if re.search(r"warning|error", line, re.I)]
    if warnings:
        failures.append("W=1 build: " + "; ".join(warnings[:3]))
    for name, func in cases.CASES:
        if name not in CORE:
            continue
        c = cases.Case(name)
        try:
            func(k, c)
        except Exception as e:  # one broken case must not hide the others
            c.failures.append(f"error: {e!r}")
        failures += [f"{name}: {f}" for f in c.failures]
    return failures


def main():
    passed = failed = 0
    kvers = [(images.short(k), k, None) for k in images.kernels()]
    for name, suite, source, target in RELEASES:
        try:
            kver = prepare(name, suite, source, target)
            kvers.append((images.short(kver), kver, None))
        except (subprocess.CalledProcessError, StopIteration, IndexError,
                OSError) as e:
            out = getattr(e, "stdout", "") or repr(e)
            kvers.append((name, None, f"setup failed: {out[-300:]}"))
    for label, kver, error in sorted(kvers, key=lambda x: [
            int(n) for n in re.findall(r"\d+", x[0])] or [0]):
        start = time.monotonic()
        failures = [error] if error else test_kernel(kver)
        took = time.monotonic() - start
        what = f"{kver}: W=1 build, " + ", ".join(CORE) if kver else label
        if failures:
            failed += 1
            print(f"FAIL matrix/{label} ({what}): " + "; ".join(failures),
                  flush=True)
        else:
            passed += 1
            print(f"PASS matrix/{label} ({what}, {took:.0f} s)", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
