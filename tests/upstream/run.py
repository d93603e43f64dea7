#!/usr/bin/env python3
"""The upstream route: the driver as a kernel patch series, and built in.

Cases, one line each, then "N passed, N failed":

- series/VER: `make kernel-patch` for Debian's linux-source-6.12 and for
  the newest linux-source Debian's archive offers (trixie-backports, in
  the chroot tests/matrix.py uses): it applies (git apply --check, patch
  -p1 --dry-run), checkpatch --strict finds nothing but the MAINTAINERS
  reminder, the driver's files are the repository's but for the line
  including compat.h, no compat layer is left, nobody but the generating
  identity is named.
- w1/VER-m, w1/VER-y: the patched tree builds drivers/block/memdisk/ with
  W=1 and no warning, as a module and built in. For 6.12 these are the
  debug kernel (=m, tests/debug/debug.config) and the built-in boot kernel
  (=y), from the series and the test-only patch that puts compat.h beside
  the driver (scripts/kernel-tree.sh); for the newest tree, which needs no
  compat.h, a prepared tree with a small configuration.
- builtin-*: the built-in kernel (tests/upstream/builtin.config: no PCI,
  no modules, no initramfs support) boots through real MEMDISK with its
  root file system on /dev/memdisk0p1 or /dev/memdisk0, and through OVMF
  and a forged Ventoy memdisk mode with its root on /dev/memdisk0.

Everything built (trees, kernels, the chroot) is cached outside the
repository in MDB_MATRIX_CACHE (default /var/cache/memdiskblk) by a digest
of its inputs; images and logs in tests/.cache.

Usage: run.py [SUBSTRING...]   only the jobs whose "upstream/NAME"
contains one (and what they need: the debug kernel's build, the trixie
chroot of tests/matrix.py)
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "lib"),
                str(ROOT / "tests" / "e2e")]
import boot  # noqa: E402
import harness  # noqa: E402
import images  # noqa: E402
import matrix  # noqa: E402

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("MDB_MATRIX_CACHE", "/var/cache/memdiskblk"))
LINUX = CACHE / "linux"
OUT = images.CACHE / "upstream"
CHROOT = CACHE / "chroot-trixie"
# As images.CONSOLE, with every kernel message on the console.
BUILTIN_CONSOLE = f"console=ttyS0 loglevel=7 {images.GUEST_ARGS}"
# The driver's kernel-log lines that mean it served an image.
SERVED = re.compile(r"memdiskblk: memdisk0: \d+ bytes at 0x[0-9a-f]+")


sh = matrix.sh


def kernel_build(name, fragment, *targets, tarball=None):
    """scripts/kernel-build.sh: the kernel release; the build in LINUX/name."""
    env = dict(os.environ)
    if tarball:
        env["MDB_KERNEL_TARBALL"] = str(tarball)
    return sh(["sh", str(ROOT / "scripts/kernel-build.sh"), name, str(fragment),
               *targets], env=env).split()[-1]


# ---- the trees --------------------------------------------------------------

def newest_tarball():
    """linux-source from trixie-backports (the newest Debian offers),
    fetched in the trixie chroot of tests/matrix.py (whose apt already
    lists trixie-backports, from this machine's own archive); its tarball
    is kept beside the chroot, by package version."""
    _, env = matrix.environment()
    pkg = matrix.in_chroot(
        CHROOT, "apt-cache -t trixie-backports depends linux-source | "
        "sed -n 's/^ *Depends: \\(linux-source-[0-9.]*\\)$/\\1/p' | head -n 1",
        env).strip()
    if not pkg:
        raise RuntimeError("trixie-backports offers no linux-source")
    version = matrix.in_chroot(
        CHROOT, f"apt-cache -t trixie-backports policy {pkg}", env)
    version = re.search(r"Candidate: (\S+)", version).group(1)
    tarball = CACHE / "sources" / f"{pkg}_{version}.tar.xz"
    if not tarball.exists():
        matrix.in_chroot(CHROOT, "mkdir -p /debs && cd /debs && rm -f ./*.deb && "
                         f"apt-get download -t trixie-backports {pkg}", env)
        deb = next((CHROOT / "debs").glob(f"{pkg}_*.deb"))
        tarball.parent.mkdir(parents=True, exist_ok=True)
        tmp = tarball.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                                    stdout=subprocess.PIPE)
            subprocess.run(["tar", "-xO", "--wildcards", "./usr/src/linux-source-*.tar.xz"],
                           stdin=fsys.stdout, stdout=f, check=True)
            if fsys.wait():
                raise RuntimeError(f"dpkg-deb {deb.name} failed")
        tmp.rename(tarball)
        deb.unlink()
    # kernel-tree.sh names its trees after the tarball: linux-source-X.Y.
    link = CACHE / "sources" / f"{pkg}.tar.xz"
    if not link.exists() or link.resolve() != tarball.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(tarball.name)
    return link


def pristine(tarball=None):
    """The unpatched tree scripts/kernel-tree.sh extracted."""
    args = [str(tarball)] if tarball else []
    tree = Path(sh(["sh", str(ROOT / "scripts/kernel-tree.sh"), *args]).strip())
    return Path(str(tree)[:-len("-memdiskblk")]), tree


def tree_version(tree):
    text = (tree / "Makefile").read_text()
    return ".".join(re.search(rf"^{v}\s*=\s*(\d+)", text, re.M).group(1)
                    for v in ("VERSION", "PATCHLEVEL"))


# ---- series -------------------------------------------------------------------

def git_identity():
    return tuple(sh(["git", "-C", str(ROOT), "config", f"user.{k}"]).strip()
                 for k in ("name", "email"))


def series(tree, c):
    """The series for this tree: a cover letter and two patches that
    apply to the unpatched tree (git apply --check, patch -p1
    --dry-run); checkpatch --strict from the tree reports only the
    MAINTAINERS reminder for new files; drivers/block/memdisk/ holds
    the driver's files byte for byte, but for memdiskblk.c's one line
    including compat.h, and no compat layer; Kconfig has a
    tristate, x86_64-only entry with help; the admin-guide page is
    linked from its index; the only person named is the git identity
    that generated it, on From and Signed-off-by."""
    out = OUT / f"series-{tree_version(tree)}"
    shutil.rmtree(out, ignore_errors=True)
    made = sh(["make", "-s", "-C", str(ROOT), "kernel-patch",
               f"KSRC={tree}", f"OUT={out}"]).split()
    patches = sorted(out.glob("000[1-9]-*.patch"))
    c.eq(len(made), 3, "make kernel-patch wrote a cover letter and 2 patches")
    c.eq(len(patches), 2, "two patches")
    if len(patches) != 2:
        return
    rc = subprocess.run(["git", "apply", "--check", *map(str, patches)],
                        cwd=tree, capture_output=True, text=True)
    c.expect(rc.returncode == 0, f"git apply --check: {rc.stderr.strip()}")
    for p in patches:
        rc = subprocess.run(["patch", "-p1", "--dry-run", "-s", "-i", str(p)],
                            cwd=tree, capture_output=True, text=True)
        c.expect(rc.returncode == 0, f"patch -p1 {p.name}: {rc.stdout.strip()}")
    rc = subprocess.run(["perl", "scripts/checkpatch.pl", "--strict",
                         "--terse", *map(str, patches)], cwd=tree,
                        capture_output=True, text=True)
    found = [ln for ln in rc.stdout.splitlines()
             if re.search(r": (ERROR|WARNING|CHECK):", ln)]
    other = [ln for ln in found if "does MAINTAINERS need updating" not in ln]
    c.expect(not other, f"checkpatch --strict: {other[:3]}")
    c.expect(len(found) >= 1, "checkpatch ran (it names the new files)")
    text = "".join(p.read_text() for p in sorted(out.glob("*.patch")))
    added = {}
    for p in patches:
        for m in re.finditer(r"^\+\+\+ b/(\S+)\n@@[^\n]*\n((?:\+[^\n]*\n)*)",
                             p.read_text(), re.M):
            added[m.group(1)] = "".join(ln[1:] + "\n" for ln in
                                        m.group(2).splitlines())
    d = "drivers/block/memdisk/"
    include = '#include "compat.h"\n'
    for src in sorted(ROOT.glob("*.[ch]")):
        if src.name == "compat.h":
            continue
        own = src.read_text()
        c.eq(added.get(d + src.name), own.replace(include, ""),
             f"{src.name} as it is" + (", but for the line including compat.h"
                                       if include in own else ""))
    c.eq((ROOT / "memdiskblk.c").read_text().count(include), 1,
         "memdiskblk.c includes compat.h, in one line")
    code = "".join(v for f, v in added.items() if f.startswith(d))
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)
    left = re.findall(r"LINUX_VERSION_CODE|KERNEL_VERSION|compat\.h|"
                      r"\bbackport_\w+|\bmemdiskblk_open_disk\b", code)
    c.expect(code and not left, f"no compat layer in the driver: {left[:3]}")
    kconfig = added.get(d + "Kconfig", "")
    c.expect(re.search(r"^\ttristate ", kconfig, re.M), "Kconfig: tristate")
    c.expect(re.search(r"^\tdepends on X86_64$", kconfig, re.M),
             "Kconfig: x86_64 only")
    c.expect(re.search(r"^\thelp\n(?:\t  .*\n|\n)*", kconfig, re.M)
             and "syslinux" in kconfig and re.search(r"Say Y", kconfig)
             and re.search(r"Say M", kconfig),
             "Kconfig help says what MEMDISK is and when to say Y or M")
    c.expect('+source "drivers/block/memdisk/Kconfig"' in text,
             "drivers/block/Kconfig sources it")
    c.expect(re.search(r"^\+obj-\$\(CONFIG_BLK_DEV_MEMDISK\)\s+\+= memdisk/$",
                       text, re.M), "drivers/block/Makefile line")
    c.expect(re.search(r"^\+   memdiskblk$", text, re.M),
             "admin-guide page linked from blockdev/index.rst")
    name, email = git_identity()
    people = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text))
    c.eq(people - {email, "linux-block@vger.kernel.org"}, set(),
         "no e-mail address but the generator's and the block list")
    c.eq(len(re.findall(rf"^Signed-off-by: {re.escape(name)} <{re.escape(email)}>$",
                        text, re.M)), 2, "each patch signed off by the generator")


# ---- W=1 ----------------------------------------------------------------------

def w1_result(c, name):
    """The W=1 compile of drivers/block/memdisk/ in LINUX/name, and the
    driver's lines in the whole build, hold no warning."""
    problem = re.compile(r"(warning|error):|\*\*\*", re.I)
    w1 = (LINUX / name / "w1.log").read_text()
    bad = [ln for ln in w1.splitlines() if problem.search(ln)]
    c.expect(not bad, f"W=1: {bad[:3]}")
    c.expect(re.search(r"CC( \[M\])?\s+drivers/block/memdisk/memdiskblk\.o", w1),
             "W=1 compiled memdiskblk.o")
    build = LINUX / name / "build.log"
    if build.exists():
        bad = [ln for ln in build.read_text().splitlines()
               if "drivers/block/memdisk" in ln and problem.search(ln)]
        c.expect(not bad, f"build: {bad[:3]}")
    objs = list((LINUX / name / "drivers/block/memdisk").glob("*.o"))
    c.expect(objs, f"drivers/block/memdisk/ was compiled in {name}")


def case_w1_612(kind):
    def case(k, c):
        """The driver compiles with W=1 and no warning, and the whole
        kernel build shows no warning from it: =m in the debug kernel,
        =y in the built-in boot kernel (6.12 with the series and the
        test-only patch that adds compat.h)."""
        tree = pristine()[1]
        c.expect((tree / "drivers/block/memdisk/compat.h").exists(),
                 "the 6.12 tree has compat.h beside the driver")
        if kind == "m":
            sh(["sh", str(ROOT / "scripts/debug-kernel.sh")])
            cfg = (LINUX / "debug/.config").read_text()
            c.expect("CONFIG_BLK_DEV_MEMDISK=m" in cfg, "the debug kernel has it =m")
            c.expect((LINUX / "debug/drivers/block/memdisk/memdiskblk.ko").exists(),
                     "memdiskblk.ko built in-tree")
            w1_result(c, "debug")
        else:
            k.builtin()
            cfg = (LINUX / "builtin/.config").read_text()
            c.expect("CONFIG_BLK_DEV_MEMDISK=y" in cfg, "the boot kernel has it =y")
            w1_result(c, "builtin")
    return case


def case_w1_newest(kind):
    def case(k, c):
        """The newest linux-source with the series alone (no compat.h):
        allnoconfig plus the driver (=m or =y) prepared, and
        drivers/block/memdisk/ compiled with W=1 and no warning."""
        tarball, version = k.newest()
        tree = pristine(tarball)[1]
        c.expect(not (tree / "drivers/block/memdisk/compat.h").exists(),
                 "no compat.h in the newest tree")
        frag = OUT / f"w1-{kind}.config"
        frag.parent.mkdir(parents=True, exist_ok=True)
        frag.write_text("CONFIG_64BIT=y\nCONFIG_BLOCK=y\nCONFIG_BLK_DEV=y\n"
                        "CONFIG_MODULES=y\n"
                        f"CONFIG_BLK_DEV_MEMDISK={kind}\n")
        name = f"w1-{version}-{kind}"
        kernel_build(name, frag, "prepare", tarball=tarball)
        w1_result(c, name)
    return case


# ---- built-in boots ----------------------------------------------------------

class Ctx:
    """What the cases share, made on first use."""

    def __init__(self):
        self._builtin = None
        self._newest = None
        self.lock = threading.Lock()
        self.dir = OUT / "img"
        self.dir.mkdir(parents=True, exist_ok=True)

    def builtin(self):
        if self._builtin is None:
            kver = kernel_build("builtin", HERE / "builtin.config", "bzImage")
            self._builtin = (kver, LINUX / "builtin/arch/x86/boot/bzImage")
        return self._builtin

    def newest(self):
        if self._newest is None:
            tarball = newest_tarball()
            _, tree = pristine(tarball)
            self._newest = (tarball, tree_version(tree))
        return self._newest

    def root_tree(self):
        """The root file system: static busybox and tests/upstream/init.sh
        as /sbin/init."""
        root = OUT / "root"
        shutil.rmtree(root, ignore_errors=True)
        for d in ("bin", "sbin", "dev", "proc", "sys"):
            (root / d).mkdir(parents=True)
        images.busybox(root)
        shutil.copy(HERE / "init.sh", root / "sbin/init")
        os.chmod(root / "sbin/init", 0o755)
        return root

    def harddisk(self, append):
        _, bzimage = self.builtin()
        with self.lock:
            return images.root_harddisk(self.dir / "root.img", bzimage,
                                        f"{BUILTIN_CONSOLE} {append}",
                                        self.root_tree())

    def iso(self, append):
        with self.lock:         # builtin-iso, -ventoy, -a1ive share the tree
            return self._iso(append)

    def _iso(self, append):
        kver, bzimage = self.builtin()
        images.register_kernel(kver, bzimage, bzimage.parent)
        cfg = ("DEFAULT linux\nPROMPT 0\nLABEL linux\n  KERNEL /vmlinuz\n"
               f"  APPEND {BUILTIN_CONSOLE} {append}\n")
        return images.iso(self.dir / "root.iso", kver, None, "", {},
                          extra={".": self.root_tree()}, cfg=cfg)


def served(c, b, image_size):
    """The driver served the image at boot, from the E820 table, on a
    kernel whose resource tree lacks MEMDISK's reservation."""
    c.expect(SERVED.search(b.log), "the driver registered memdisk0 at boot")
    c.eq(b.get("memdisk0.size"), str(image_size), "memdisk0 is the whole image")
    c.eq(b.get("pci"), "0", "a kernel without PCI")
    depth = (b.get("iomem.memdisk0") or "").split()[:1]
    c.eq(depth, ["depth=0"], "the image is claimed at top level of /proc/iomem "
         "(no Reserved entry holds it)")
    c.expect("refused" not in b.log, "nothing refused")


def case_builtin_harddisk(k, c):
    """A hard-disk image whose first partition is ext4, booted through
    MEMDISK with root=/dev/memdisk0p1 rootwait and no initrd: the root's
    /sbin/init runs as PID 1, the root is ext4 on the driver's partition,
    remounts read-write and a written file reads back after the page cache
    is dropped; the kernel has no PCI and no initramfs support, so the
    driver found the image through the E820 table."""
    img = k.harddisk("root=/dev/memdisk0p1 rootwait")
    b = boot.boot("upstream-builtin-harddisk", image=img, memdisk_args="harddisk",
                  timeout=240)
    c.booted(b)
    c.eq(b.get("init-ran"), "pid=1", "/sbin/init ran as PID 1")
    c.eq((b.get("root") or "").split()[1:], ["ext4", "ro"],
         "root: ext4, mounted read-only as the kernel does without rw")
    c.eq(b.get("remount"), "0", "remount read-write")
    c.eq(b.get("readback"), "1", "a written file reads back")
    served(c, b, img.stat().st_size)
    cfg = (LINUX / "builtin/.config").read_text()
    c.expect("# CONFIG_BLK_DEV_INITRD is not set" in cfg, "no initramfs support at all")


def case_builtin_iso(k, c):
    """An ISO booted through MEMDISK's ISO mode with root=/dev/memdisk0
    rootfstype=iso9660 ro and no initrd: /sbin/init on the ISO runs as PID
    1 with an iso9660 root, read-only."""
    iso = k.iso("root=/dev/memdisk0 rootfstype=iso9660 ro")
    b = boot.boot("upstream-builtin-iso", image=iso, memdisk_args="iso raw",
                  timeout=240)
    c.booted(b)
    c.eq(b.get("init-ran"), "pid=1", "/sbin/init ran as PID 1")
    c.eq((b.get("root") or "").split()[1:], ["iso9660", "ro"], "root: iso9660, ro")
    served(c, b, iso.stat().st_size)


def case_builtin_ventoy(k, c):
    """The built-in driver under UEFI, with no initramfs: OVMF runs the
    test's forger of Ventoy's memdisk mode (tests/e2e/hostile/
    ventoy-forge.c, variant valid: exactly what Ventoy leaves, the ISO in
    EfiRuntimeServicesData behind its header, VentoyRamDisk set), which
    starts the built-in kernel through its EFI stub with
    root=/dev/memdisk0 rootfstype=iso9660 ro: /sbin/init on the ISO runs
    as PID 1 from an iso9660 root; the driver read the variable through
    the EFI runtime services, found it as ventoy, and checked the range
    against the E820 table (no PCI, so /proc/iomem has no Reserved entry
    for it)."""
    _, bzimage = k.builtin()
    iso = k.iso("")
    b = boot.ventoy_forge("upstream-builtin-ventoy", bzimage, iso,
                          f"{BUILTIN_CONSOLE} root=/dev/memdisk0 "
                          "rootfstype=iso9660 ro", timeout=240)
    c.booted(b)
    c.expect(re.search(r"efi: EFI v[\d.]+ by EDK II", b.log), "booted by UEFI")
    c.eq(b.get("init-ran"), "pid=1", "/sbin/init ran as PID 1")
    c.eq((b.get("root") or "").split()[1:], ["iso9660", "ro"], "root: iso9660, ro")
    c.eq(b.get("memdisk0.found"), "ventoy", "found through Ventoy's variable")
    served(c, b, iso.stat().st_size)


def case_builtin_a1ive(k, c):
    """The built-in driver and a GRUB4DOS drive map above 4 GiB: a1ive's
    GRUB2 under OVMF (q35, 5 GiB) maps the root ISO with map --mem --rt
    (EfiReservedMemoryType, above 4 GiB) and boots the built-in kernel
    through its EFI stub with root=/dev/memdisk0 rootfstype=iso9660 ro:
    /sbin/init on the ISO runs as PID 1 from an iso9660 root; the driver
    found the image in GRUB4DOS's map, above 4 GiB, checked against the
    whole E820 table."""
    if not images.A1IVE_GRUB.exists():
        c.skip(f"no a1ive GRUB2 image at {images.A1IVE_GRUB}")
        return
    _, bzimage = k.builtin()
    iso = k.iso("")
    cfg = ("serial --unit=0 --speed=115200\nterminal_output console serial\n"
           "set timeout=0\nmap --mem --rt --nb --type=CD ($root)/root.iso\n"
           f"linux ($root)/vmlinuz {BUILTIN_CONSOLE} root=/dev/memdisk0 "
           "rootfstype=iso9660 ro\nboot\n")
    esp = images.esp_disk(k.dir / "a1ive.img", {
        "EFI/BOOT/BOOTX64.EFI": images.A1IVE_GRUB,
        "EFI/BOOT/grub.cfg": cfg.encode(), "root.iso": iso, "vmlinuz": bzimage})
    b = boot.boot("upstream-builtin-a1ive", disk=esp, uefi=True, mem=5120,
                  timeout=300)
    c.booted(b)
    c.eq(b.get("init-ran"), "pid=1", "/sbin/init ran as PID 1")
    c.eq((b.get("root") or "").split()[1:], ["iso9660", "ro"], "root: iso9660, ro")
    c.eq(b.get("memdisk0.found"), "grub4dos", "found in GRUB4DOS's drive map")
    addr = int(b.get("memdisk0.addr") or "0", 16)
    c.expect(addr >= 1 << 32, f"the image at {addr:#x}, above 4 GiB")
    served(c, b, iso.stat().st_size)


WAIT_AFTER = 15  # seconds of waiting for the root that prove it waits


def case_builtin_autodetect_off(k, c):
    """The same hard-disk image with memdiskblk.autodetect=0: the driver
    says it found nothing because of autodetect=0, no device appears and
    the kernel waits for its root as for a missing disk: still waiting
    15 s after it said so (the test then stops the guest), no init, no
    panic."""
    img = k.harddisk("root=/dev/memdisk0p1 rootwait memdiskblk.autodetect=0")
    wait = "Waiting for root device /dev/memdisk0p1"
    b = boot.boot("upstream-builtin-autodetect-off", image=img,
                  memdisk_args="harddisk", timeout=240, until=(wait, WAIT_AFTER))
    c.expect(not b.timed_out and wait in b.log,
             "the kernel waits for /dev/memdisk0p1")
    c.expect("memdiskblk: no image found (autodetect=0)" in b.log,
             "the driver names autodetect=0")
    c.expect(not SERVED.search(b.log), "no memdisk0")
    c.expect("@@ init-ran" not in b.log, "init never ran")
    c.expect(not re.search(r"Kernel panic|VFS: Cannot open root", b.log),
             "no panic: the kernel keeps waiting")


def case_series_bookworm(k, c):
    tree = pristine()[0]
    c.note(f"Linux {tree_version(tree)}")
    series(tree, c)


def case_series_newest(k, c):
    tarball, version = k.newest()
    c.note(f"Linux {version}")
    series(pristine(tarball)[0], c)


case_series_bookworm.__doc__ = case_series_newest.__doc__ = series.__doc__

def jobs(debug_build, chroot):
    """The upstream part's jobs; debug_build is tests/debug's build job
    (its kernel is the series' =m build), chroot tests/matrix.py's trixie
    chroot job (it fetches the newest linux-source)."""
    k = Ctx()

    def job(name, func, needs=(), **kw):
        return harness.Job(f"upstream/{name}", lambda c: func(k, c),
                           needs=needs, **kw)

    def build_builtin(k, c):
        c.note(k.builtin()[0])

    def fetch_newest(k, c):
        c.note("Linux " + k.newest()[1])

    # Kernel builds: niced make on every core, with a guest beside (as
    # tests/debug's build, see there), one after the other.
    builtin = job("builtin-build", build_builtin, cost=450, quiet=True,
                  after=[debug_build], slots=harness.CORES)
    newest = job("newest-tree", fetch_newest, needs=[chroot], cost=120,
                 quiet=True)
    # bookworm: the newest linux-source in /usr/src (Debian 12's 6.12);
    # trixie-backports: the newest Debian's archive offers.
    return [
        job("series/bookworm", case_series_bookworm, cost=40),
        job("w1/bookworm-m", case_w1_612("m"), needs=[debug_build], cost=5),
        builtin,
        job("w1/bookworm-y", case_w1_612("y"), needs=[builtin], cost=5),
        newest,
        job("series/trixie-backports", case_series_newest, needs=[newest],
            cost=40),
        job("w1/trixie-backports-m", case_w1_newest("m"), needs=[newest],
            cost=120, slots=harness.CORES),
        job("w1/trixie-backports-y", case_w1_newest("y"), needs=[newest],
            cost=120, slots=harness.CORES),
        job("builtin-harddisk", case_builtin_harddisk, needs=[builtin], cost=40),
        job("builtin-iso", case_builtin_iso, needs=[builtin], cost=30),
        job("builtin-ventoy", case_builtin_ventoy, needs=[builtin], cost=40),
        job("builtin-a1ive", case_builtin_a1ive, needs=[builtin], cost=40),
        # Mostly waits (WAIT_AFTER): 5 s of CPU in 20.
        job("builtin-autodetect-off", case_builtin_autodetect_off,
            needs=[builtin], cost=40, slots=0.5),
    ]


def standalone():
    """The jobs with what they need from the debug and matrix parts."""
    spec = importlib.util.spec_from_file_location(
        "debug_run", ROOT / "tests" / "debug" / "run.py")
    debug_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(debug_run)
    debug_build = debug_run.jobs()[0]
    chroot = next(j for j in matrix.jobs() if j.label == "matrix/trixie/chroot")
    return [debug_build, chroot] + jobs(debug_build, chroot)


if __name__ == "__main__":
    sys.exit(harness.main(standalone(), sys.argv[1:] or ["upstream/"]))
