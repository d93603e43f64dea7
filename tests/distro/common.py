"""What the distribution tests share: paths, the version, the tree as it
would be released, and the host's state (these tests install files under
/lib/modules, /usr/src and /var/lib/dkms, never load the module, and put
everything back). Their own files go to CACHE (tests/.cache/distro); the
images and boots come from tests/lib (images.py, boot.py)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT / "tests" / "lib")]

import harness  # noqa: E402
import images  # noqa: E402

CACHE = harness.CACHE / "distro"
# Held by whatever installs into the host's module tree, or reads it as a
# distribution's tools would (dkms, apt, the initramfs generators).
HOST_MODULES = "host-modules"
NAME = "memdiskblk"
PACKAGE = "memdiskblk-dkms"
# The module's own sources: what DKMS builds (tests/lib/images.py agrees).
SOURCES = images.SOURCES
# The other packaging pieces debian/memdiskblk-dkms.install names.
INITRAMFS_PIECES = ["initramfs-tools/hooks/memdiskblk",
                    "initramfs-tools/scripts/init-top/memdiskblk",
                    "dracut/90memdiskblk/module-setup.sh"]


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


def header_kernels():
    """Every installed kernel that has headers (/lib/modules/KVER/build),
    oldest first."""
    return sorted((d.name for d in Path("/lib/modules").iterdir()
                   if (d / "build").exists()), key=version_key)


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


# The host: what the tests may find and must leave as they found it.

def module_loaded():
    """Whether memdiskblk is loaded here (a kernel without module support
    has no /proc/modules and loads nothing)."""
    mods = Path("/proc/modules")
    return mods.exists() and any(line.split()[0] == NAME
                                 for line in mods.read_text().splitlines())


def modprobe_on_install():
    """dkms's modprobe_on_install loads freshly installed modules; these
    tests must never load the module on this machine."""
    confs = [Path("/etc/dkms/framework.conf"),
             *sorted(Path("/etc/dkms/framework.conf.d").glob("*.conf"))]
    for conf in confs:
        if conf.exists() and re.search(r"^\s*modprobe_on_install=\S",
                                       conf.read_text(), re.M):
            return str(conf)
    return None


def installed_modules():
    """memdiskblk modules anywhere under /lib/modules."""
    return sorted(str(p) for p in Path("/lib/modules").glob(f"*/**/{NAME}.ko*"))


def package_installed():
    code, out = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", PACKAGE],
                    check=False)
    return code == 0 and out[:2] in ("ii", "iU", "iF", "rc", "iH", "iW", "iT")


def dkms_tree():
    return Path("/var/lib/dkms") / NAME


class Host:
    """Records what the host had before a test and puts it back: removes
    this project's package, DKMS registration, sources and modules, and
    what dkms leaves if it was not there before: the signing key it
    generates on first use, and the empty RPM database in ~/.rpmdb that
    its `rpm -qf` calls make once the rpm package (for the RPM build) is
    installed."""

    MOK = [Path("/var/lib/dkms/mok.key"), Path("/var/lib/dkms/mok.pub")]
    RPMDB = Path.home() / ".rpmdb"

    def __init__(self):
        self.mok_before = {p: p.exists() for p in self.MOK}
        self.rpmdb_before = self.RPMDB.exists()

    def refuse(self):
        """A reason not to touch this host, or None."""
        if not shutil.which("dkms"):
            return "dkms is not installed"
        conf = modprobe_on_install()
        if conf:
            return f"{conf} sets modprobe_on_install: dkms would load the module"
        if module_loaded():
            return "memdiskblk is loaded on this host"
        return None

    def clean(self):
        """Leave no trace of this project; return what was left over."""
        if package_installed():
            run(["apt-get", "purge", "-y", "-q", PACKAGE], check=False,
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if dkms_tree().exists():
            for ver in sorted(p.name for p in dkms_tree().iterdir()):
                run(["dkms", "remove", "-m", NAME, "-v", ver, "--all"],
                    check=False)
            shutil.rmtree(dkms_tree(), ignore_errors=True)
        for src in Path("/usr/src").glob(f"{NAME}-*"):
            shutil.rmtree(src, ignore_errors=True)
        for ko in installed_modules():
            Path(ko).unlink()
            kver = Path(ko).relative_to("/lib/modules").parts[0]
            run(["depmod", kver], check=False)
        for p, existed in self.mok_before.items():
            if not existed and p.exists():
                p.unlink()
        if not self.rpmdb_before and self.RPMDB.exists():
            shutil.rmtree(self.RPMDB)
