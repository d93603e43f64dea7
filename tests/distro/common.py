"""What the distribution tests share: paths, the version, the tree as it
would be released, and the Debian 12 chroot the DKMS and package cases
install into instead of this machine (Target). Their own files go to
CACHE (tests/.cache/distro); the images and boots come from tests/lib
(images.py, boot.py)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT / "tests" / "lib"), str(ROOT / "tests")]

import harness  # noqa: E402
import images  # noqa: E402
import matrix  # noqa: E402

CACHE = harness.CACHE / "distro"
# Held by whatever reads the host's module tree as a distribution's tools
# would (the initramfs generators of the live cases).
HOST_MODULES = "host-modules"
NAME = "memdiskblk"
PACKAGE = "memdiskblk-dkms"
# The module's own sources: what DKMS builds (tests/lib/images.py agrees).
SOURCES = images.SOURCES
# The directories SOURCES' paths have below the source tree (compat/).
SOURCE_DIRS = sorted({p.as_posix() for s in SOURCES for p in Path(s).parents
                      if p != Path(".")})
# The other packaging pieces debian/memdiskblk-dkms.install names.
INITRAMFS_PIECES = ["initramfs/initramfs-tools/hooks/memdiskblk",
                    "initramfs/initramfs-tools/scripts/init-top/memdiskblk",
                    "initramfs/dracut/90memdiskblk/module-setup.sh"]


def run(cmd, check=True, **kw):
    """Run cmd; return (status, combined output). check raises on failure
    with the output's tail in the message."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if check and p.returncode:
        tail = " | ".join(p.stdout.strip().splitlines()[-6:])
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {p.returncode}: {tail}")
    return p.returncode, p.stdout


def changelog_version():
    """The package version, debian/changelog's top entry (e.g. 0.1.0-1)."""
    first = (ROOT / "debian" / "changelog").read_text().splitlines()[0]
    m = re.match(r"^\S+ \(([^)]+)\)", first)
    if not m:
        raise RuntimeError(f"cannot read the version from {first!r}")
    return m[1]


def upstream_version():
    """The module's version, from its one source: the file VERSION (the
    Debian package's build checks that debian/changelog agrees)."""
    return (ROOT / "VERSION").read_text().strip()


def version_key(kver):
    """6.1.0-56-amd64 < 6.12.117+deb12-amd64, as dpkg would order them."""
    return [(0, int(p)) if p.isdigit() else (1, p)
            for p in re.split(r"(\d+)", kver) if p]


def header_kernels(root=Path("/")):
    """Every kernel installed under root that has headers
    (lib/modules/KVER/build, a link that may be absolute inside root),
    oldest first."""
    return sorted((d.name for d in (root / "lib/modules").iterdir()
                   if os.path.lexists(d / "build")), key=version_key)


def tree_files():
    """The files a release of the tree holds: git's tracked and untracked
    files (ignored ones, such as build products and tests/.cache, left
    out)."""
    code, out = run(["git", "-C", str(ROOT), "ls-files", "-z", "-co",
                     "--exclude-standard"], check=False)
    if code == 0:
        return sorted({f for f in out.split("\0") if f and (ROOT / f).is_file()})
    skip = {".git", ".cache", "__pycache__"}
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                  if p.is_file() and not skip & set(p.parts)
                  and not re.search(r"\.(o|ko|mod|cmd)$|\.mod\.c$", p.name))


def copy_tree(dest, files=None):
    """Copy the release tree (or the given files of it) to dest."""
    if dest.exists():
        shutil.rmtree(dest)
    for rel in files if files is not None else tree_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest


def module_loaded():
    """Whether memdiskblk is loaded on this machine (a kernel without
    module support has no /proc/modules and loads nothing)."""
    mods = Path("/proc/modules")
    return mods.exists() and any(line.split()[0] == NAME
                                 for line in mods.read_text().splitlines())


class Target:
    """The Debian 12 system the DKMS and package cases install into: a
    chroot (debootstrap minbase, cached in MDB_MATRIX_CACHE beside the
    matrix's) with dkms, the kernel headers this machine's tests build
    against (linux-headers-amd64, linux-headers-6.12-amd64) and the newest
    kernel's image with initramfs-tools, from the Debian suites this
    machine's apt lists. So `make check` never installs into the host:
    /lib/modules, /usr/src, /var/lib/dkms and /boot here stay as they are,
    and a memdiskblk-dkms a user installed on purpose stays installed.
    Commands run in it without CAP_SYS_MODULE (setpriv), so that nothing
    there can load a module into this machine's kernel."""

    NAME = "chroot-bookworm-distro"
    PACKAGES = ["dkms", "kmod", "initramfs-tools", "linux-headers-amd64",
                "linux-headers-6.12-amd64", "linux-image-6.12-amd64"]

    def __init__(self):
        self.root = matrix.CACHE / self.NAME

    def prepare(self):
        """Make the chroot, or bring the cached one up to date; leave no
        trace of this project in it (an interrupted run's package, DKMS
        registration, sources or modules)."""
        mirror, env = matrix.environment()
        with images.locked(self.NAME):
            if (self.root / "usr/bin/apt-get").exists():
                # Before apt: a package left half-installed blocks it. A
                # new chroot has nothing of the project to clean.
                self.clean()
            else:
                matrix.sh(["debootstrap", "--variant=minbase", "bookworm",
                           str(self.root), mirror], env=env)
            # The suites this machine's apt lists (bookworm-security
            # carries linux-headers-6.12-amd64), and nothing else.
            lists = matrix.sh(["apt-get", "indextargets", "--format",
                               "$(TARGET_OF) $(REPO_URI) $(RELEASE) $(LABEL)"])
            sources = sorted({f"deb {uri} {rel} main\n"
                              for kind, uri, rel, label in
                              (ln.split() for ln in lists.splitlines()
                               if len(ln.split()) == 4)
                              if kind == "deb" and label.startswith("Debian")})
            (self.root / "etc/apt/sources.list").write_text("".join(sources))
            matrix.in_chroot(self.root, "apt-get update -q >/dev/null; "
                             "apt-get install -y -q --no-install-recommends "
                             f"{' '.join(self.PACKAGES)} >/dev/null", env)

    def path(self, path):
        """A path of the chroot, seen from here."""
        return self.root / str(path).lstrip("/")

    def run(self, cmd, check=True, **kw):
        """cmd in the chroot, without CAP_SYS_MODULE, in a private mount
        namespace where the chroot has /proc and /dev (dkms wants both);
        as run()."""
        mount = ('mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" '
                 '&& exec chroot "$0" "$@"')
        return run(["setpriv", "--bounding-set", "-sys_module", "unshare",
                    "--mount", "--propagation", "private", "sh", "-c", mount,
                    str(self.root), *map(str, cmd)], check=check,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive",
                            PATH="/usr/sbin:/usr/bin:/sbin:/bin"), **kw)

    def header_kernels(self):
        return header_kernels(self.root)

    def installed_modules(self):
        """memdiskblk modules anywhere under the chroot's /lib/modules."""
        return sorted("/" + str(p.relative_to(self.root)) for p in
                      self.path("/lib/modules").glob(f"*/**/{NAME}.ko*"))

    def package_installed(self):
        code, out = self.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}",
                              PACKAGE], check=False)
        return code == 0 and out[:2] in ("ii", "iU", "iF", "rc", "iH", "iW", "iT")

    def dkms_tree(self):
        return self.path(f"/var/lib/dkms/{NAME}")

    def clean(self):
        """Leave no trace of this project in the chroot."""
        if self.package_installed():
            self.run(["dpkg", "--purge", "--force-remove-reinstreq", PACKAGE],
                     check=False)
        if self.dkms_tree().exists():
            for ver in sorted(p.name for p in self.dkms_tree().iterdir()):
                self.run(["dkms", "remove", "-m", NAME, "-v", ver, "--all"],
                         check=False)
            shutil.rmtree(self.dkms_tree(), ignore_errors=True)
        for src in self.path("/usr/src").glob(f"{NAME}-*"):
            shutil.rmtree(src, ignore_errors=True)
        for ko in self.installed_modules():
            self.path(ko).unlink()
            kver = Path(ko).relative_to("/lib/modules").parts[0]
            self.run(["depmod", kver], check=False)
