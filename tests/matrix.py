#!/usr/bin/env python3
"""make matrix: build and boot memdiskblk on the kernel lines Debian 12
does not install, each in a chroot with that release's own headers and
compiler, booted with that release's own kernel image:

    bullseye           linux-headers-amd64 (5.10)
    trixie-backports   linux-headers-amd64 (newest, 7.x when written)

Debian 12's own kernels (6.1, 6.12) get the same and more from the e2e
part (every case) and the static part (W=1 + sparse builds).

Per kernel: a W=1 build with zero warnings, then the core boots (ISO
byte-exact, hard-disk image with a partition, refusal without MEMDISK).
The chroots (debootstrap) and unpacked kernels are cached in
MDB_MATRIX_CACHE (default /var/cache/memdiskblk). debootstrap and apt in
the chroots use the Debian archive this machine's apt uses (and its
proxy, if apt has one): no archive is named here.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent / "lib"),
                str(Path(__file__).resolve().parent / "e2e")]
import harness  # noqa: E402
import images  # noqa: E402
import suite  # noqa: E402

CACHE = Path(os.environ.get("MDB_MATRIX_CACHE", "/var/cache/memdiskblk"))
# name, debootstrap suite, extra apt suite, its target release
RELEASES = [
    ("bullseye", "bullseye", None),
    ("trixie", "trixie", "trixie-backports"),
]
CORE = ["iso", "harddisk", "no-memdisk"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw).stdout


def apt_mirror():
    """The Debian archive this machine's apt fetches from (a local mirror
    or a caching proxy's address works the same), and apt's HTTP proxy
    setting, if any."""
    out = sh(["apt-get", "indextargets", "--format",
              "$(REPO_URI) $(LABEL) $(TARGET_OF)"])
    for line in out.splitlines():
        uri, label, kind = (line.split() + ["", "", ""])[:3]
        if label == "Debian" and kind == "deb":
            proxy = sh(["apt-config", "shell", "P", "Acquire::http::Proxy"])
            m = re.search(r"P='([^']*)'", proxy)
            return uri.rstrip("/"), (m[1] if m else None)
    raise RuntimeError("apt has no Debian archive configured "
                       "(apt-get indextargets lists none labelled Debian)")


def environment():
    mirror, proxy = apt_mirror()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if proxy:
        env["http_proxy"] = proxy
    return mirror, env


def in_chroot(root, script, env):
    return sh(["chroot", str(root), "sh", "-ec", script], env=env)


def prepare(name, suite_name, extra):
    """A chroot with that release's headers and compiler, and its kernel
    image unpacked beside it. Returns the kernel release string."""
    mirror, env = environment()
    root = CACHE / f"chroot-{name}"
    if not (root / "usr/bin/apt-get").exists():
        sh(["debootstrap", "--variant=minbase", suite_name, str(root), mirror],
           env=env)
    if extra:
        (root / "etc/apt/sources.list.d/extra.list").write_text(
            f"deb {mirror} {extra} main\n")
    pick = f"-t {extra}" if extra else ""
    in_chroot(root, "apt-get update -q >/dev/null; apt-get install -y -q "
              f"--no-install-recommends {pick} linux-headers-amd64 gcc make "
              ">/dev/null", env)
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
                  f"apt-get download linux-image-{kver})", env)
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


def jobs():
    files = [f for f in suite.case_files() if f.name in CORE]
    out = []
    for name, suite_name, extra in RELEASES:
        got = {}

        def setup(c, name=name, suite_name=suite_name, extra=extra, got=got):
            try:
                got["kver"] = prepare(name, suite_name, extra)
            except subprocess.CalledProcessError as e:
                c.expect(False, f"{e.cmd[0]} failed: {e.stdout[-300:]}")
                return
            c.note(got["kver"])

        def build(c, got=got):
            """The module builds with W=1 and no warning."""
            images.check_build(c, got["kver"])
            c.note(got["kver"])

        # debootstrap and apt: one core busy (bullseye's chroot, measured
        # with /usr/bin/time: 67 s of CPU in 66 s).
        setup_job = harness.Job(f"matrix/{name}/chroot", setup, cost=150)
        out += [setup_job,
                harness.Job(f"matrix/{name}/build-w1", build, needs=[setup_job])]
        out += suite.jobs(f"matrix/{name}", lambda got=got: got["kver"], files,
                          needs=[setup_job])
    return out


if __name__ == "__main__":
    sys.exit(harness.main(jobs(), sys.argv[1:]))
