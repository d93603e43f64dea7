"""The one place that builds what the guests boot.

Everything is built from Debian packages on this machine into a cache
directory (MDB_CACHE, default tests/.cache): the module for each kernel,
a busybox initramfs holding it and every e2e case's guest script, and
the disk images MEMDISK loads (El Torito ISOs, partitioned hard-disk and
floppy images, ...), each booting that kernel and initramfs. Jobs run
side by side (tests/lib/harness.py), so what several of them share is
built once, under a lock, and every image has a path of its own.
"""
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
import zlib
from pathlib import Path

from harness import CACHE, ROOT

GUEST = ROOT / "tests" / "e2e" / "guest"
MEMDISK = Path("/usr/lib/syslinux/memdisk")
SYSLINUX_BIOS = Path("/usr/lib/syslinux/modules/bios")
ISOLINUX_BIN = Path("/usr/lib/ISOLINUX/isolinux.bin")
MBR_BIN = Path("/usr/lib/syslinux/mbr/mbr.bin")
ISOHYBRID_MBR = ISOLINUX_BIN.parent / "isohdpfx.bin"
# GRUB for UEFI in hybrid ISOs: what it needs built in to find the ISO by
# its label and boot Linux from it.
GRUB_EFI_MODULES = ["normal", "search", "search_label", "iso9660", "linux",
                    "part_gpt", "part_msdos"]
IPXE_ROM = Path("/usr/lib/ipxe/qemu/pxe-e1000.rom")
# Ventoy's prebuilt INSTALL tree (a tarball) beside this repository, as
# test data: ../shared/ventoy, absent on most machines.
VENTOY = ROOT.parent / "shared" / "ventoy"
VENTOY_EFI_SECTORS = 65536  # partition 2, VTOYEFI: 32 MiB, as Ventoy checks
# The module's sources (VERSION gives MODULE_VERSION; Kbuild reads it),
# as paths below the repository and below the build directory.
SOURCES = ["Kbuild", "Makefile", "VERSION", "memdiskblk.c", "memdiskblk.h",
           "memdiskblk_scan.c", "compat.h", "compat/linux/unaligned.h"]
# Filesystems the guest mounts; their dependencies are found in modules.dep.
# efivarfs: the UEFI variables a firmware-booted guest reads back
# (tests/e2e/cases/ventoy-hostile.py); it loads, unused, everywhere else.
FS_MODULES = ["isofs", "vfat", "nls_cp437", "nls_utf8", "nls_ascii",
              "efivarfs"]
# What every guest kernel is booted with. panic=-1: a panic ends the
# guest. cryptomgr.notests: no self-tests of the crypto algorithms as they
# register (nothing here is about them); under TCG they took 1.5 s of
# Debian 6.12's 6.6 s from QEMU's start to the guest's init, 1.1 s of
# 6.1's 8.9 (medians of 5 boots each).
GUEST_ARGS = "panic=-1 cryptomgr.notests"
# The start of a guest's command line. The console: quiet, but warnings
# and the test's own lines still show.
CONSOLE = f"console=ttyS0 loglevel=4 {GUEST_ARGS}"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw).stdout


def kernels():
    """Installed kernels that have both an image and headers."""
    found = []
    for mod in sorted(Path("/lib/modules").glob("*")):
        kver = mod.name
        if (mod / "build").exists() and Path(f"/boot/vmlinuz-{kver}").exists():
            found.append(kver)
    return found


# Kernels that are not installed on this machine: kver -> dict with the
# vmlinuz, the modules directory, and how to build against it: a chroot
# holding that release's headers and compiler (tests/matrix.py), or a
# kernel build tree on this machine (the debug kernel, tests/debug).
OTHER_KERNELS = {}


def register_kernel(kver, vmlinuz, moddir, chroot=None, kdir=None):
    OTHER_KERNELS[kver] = {"vmlinuz": Path(vmlinuz), "moddir": Path(moddir),
                           "chroot": chroot and Path(chroot),
                           "kdir": kdir and Path(kdir)}


def vmlinuz(kver):
    if kver in OTHER_KERNELS:
        return OTHER_KERNELS[kver]["vmlinuz"]
    return Path(f"/boot/vmlinuz-{kver}")


def moddir(kver):
    if kver in OTHER_KERNELS:
        return OTHER_KERNELS[kver]["moddir"]
    return Path("/lib/modules") / kver


def kdir(kver):
    """The tree external modules for kver are built against."""
    if OTHER_KERNELS.get(kver, {}).get("kdir"):
        return OTHER_KERNELS[kver]["kdir"]
    return Path(f"/lib/modules/{kver}/build")


def short(kver):
    """6.1.0-56-amd64 -> 6.1, 6.12.117+deb12-amd64 -> 6.12."""
    return ".".join(kver.split(".")[:2])


_locks = {}
_locks_lock = threading.Lock()
_built = {}


def locked(key):
    """One lock per key: what one job builds, another waits for."""
    with _locks_lock:
        return _locks.setdefault(key, threading.Lock())


def build_module(kver, extra_flags=("W=1",)):
    """memdiskblk.ko for kver, built once per run and set of flags in a
    directory of its own; returns (ko, build log)."""
    key = ("module", kver, tuple(extra_flags))
    with locked(key):
        if key not in _built:
            _built[key] = _build_module(kver, extra_flags)
        return _built[key]


def check_build(c, kver, extra_flags=("W=1",)):
    """The check that the module builds for kver with these flags and the
    compiler (and sparse, with C=2) says nothing at all."""
    try:
        _, log = build_module(kver, extra_flags)
    except subprocess.CalledProcessError as e:
        c.expect(False, "build failed: " + e.stdout[-400:].replace("\n", " | "))
        return
    bad = [line for line in log.splitlines()
           if re.search(r"warning|error", line, re.I)]
    c.eq(bad[:5], [], f"{' '.join(extra_flags)} build warnings")


def _build_module(kver, extra_flags):
    tag = "-".join(f.replace("=", "") for f in extra_flags)
    out = CACHE / "build" / f"{kver}{'-' + tag if tag else ''}"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in SOURCES:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, out / name)
    other = OTHER_KERNELS.get(kver, {})
    if not other.get("chroot"):
        log = run(["make", "-C", str(kdir(kver)), f"M={out}", *extra_flags,
                   "modules"])
        return out / "memdiskblk.ko", log
    # Another release: build with its own headers and compiler, in its
    # chroot (objtool wants /proc).
    root = other["chroot"]
    inside = Path("/build") / out.name
    if (root / inside.relative_to("/")).exists():
        shutil.rmtree(root / inside.relative_to("/"))
    shutil.copytree(out, root / inside.relative_to("/"))
    run(["mount", "-t", "proc", "proc", str(root / "proc")])
    try:
        log = run(["chroot", str(root), "make", "-C",
                   f"/lib/modules/{kver}/build", f"M={inside}", *extra_flags,
                   "modules"])
    finally:
        run(["umount", str(root / "proc")])
    shutil.copy(root / inside.relative_to("/") / "memdiskblk.ko", out)
    return out / "memdiskblk.ko", log


def module_files(kver, names):
    """Kernel modules for names with their dependencies, dependencies first."""
    base = moddir(kver)
    deps = {}
    for line in (base / "modules.dep").read_text().splitlines():
        mod, _, rest = line.partition(":")
        deps[Path(mod).name.split(".ko")[0].replace("-", "_")] = \
            (mod, rest.split())
    order = []

    def visit(name):
        mod, needs = deps[name]
        for dep in needs:
            visit(Path(dep).name.split(".ko")[0].replace("-", "_"))
        if mod not in order:
            order.append(mod)
    for name in names:
        if name in deps:  # built in if absent
            visit(name)
    return [base / m for m in order]


def uncompressed(src, dst):
    """Copy a module, undoing Debian's .ko.xz / .ko.zst compression."""
    if src.suffix == ".xz":
        dst.write_bytes(subprocess.run(["xz", "-dc", src], check=True,
                                       stdout=subprocess.PIPE).stdout)
    elif src.suffix == ".zst":
        dst.write_bytes(subprocess.run(["zstd", "-dcq", src], check=True,
                                       stdout=subprocess.PIPE).stdout)
    else:
        shutil.copy(src, dst)


def initramfs(kver, ko, name="", cases=None, modules=(), files=None,
              init=None, programs=(), links=None, fs_modules=()):
    """A busybox initramfs: /init (tests/e2e/guest/init unless init names
    another), memdiskblk.ko, kmod, memdiskfind, mdbio and the filesystem
    modules the init loads. cases: {case: guest script}, each put in
    /cases/CASE.sh for the init to run when mdbtest=CASE. modules: more
    of the kernel's modules, for modprobe; fs_modules: more for the init
    to load; programs: host binaries copied with their libraries; files:
    {path in the guest: path here}; links: {path in the guest: target}.
    Built once per run for each kver + name (a second call with other
    contents is an error)."""
    args = repr((str(ko), sorted((cases or {}).items()), list(modules),
                 sorted((files or {}).items()), str(init), list(programs),
                 sorted((links or {}).items()), list(fs_modules)))
    key = ("initramfs", kver, name)
    with locked(key):
        if key in _built:
            if _built[key][0] != args:
                raise RuntimeError(f"initramfs {kver}{name} asked for twice "
                                   "with different contents")
            return _built[key][1]
        out = _initramfs(kver, ko, name, cases or {}, modules, files or {},
                         init, programs, links or {}, fs_modules)
        _built[key] = (args, out)
        return out


def _initramfs(kver, ko, name, cases, modules, files, init, programs, links,
               fs_modules):
    out = CACHE / "initramfs" / f"{kver}{name}.cpio.gz"
    stage = CACHE / "initramfs" / f"{kver}{name}"
    if stage.exists():
        shutil.rmtree(stage)
    for d in ["bin", "sbin", "proc", "sys", "dev", "lib/fsmod", "cases",
              f"lib/modules/{kver}/extra", "lib64", "lib/x86_64-linux-gnu"]:
        (stage / d).mkdir(parents=True, exist_ok=True)
    busybox(stage)
    shutil.copy(init or GUEST / "init", stage / "init")
    (stage / "init").chmod(0o755)
    for case, script in cases.items():
        (stage / "cases" / f"{case}.sh").write_text(script)
    # memdiskfind is the old recipe's finder; the tests compare against it.
    for program in ["/usr/bin/memdiskfind", *programs]:
        copy_with_libs(program, stage)
    run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-pthread", "-o",
         str(stage / "bin/mdbio"), str(GUEST / "mdbio.c")])
    order = []
    for src in module_files(kver, FS_MODULES + list(fs_modules)):
        mod = src.name.split(".ko")[0] + ".ko"
        uncompressed(src, stage / "lib/fsmod" / mod)
        order.append(mod)
    (stage / "lib/fsmod/order").write_text("\n".join(order) + "\n")
    shutil.copy(ko, stage / f"lib/modules/{kver}/extra/memdiskblk.ko")
    for src in module_files(kver, modules):
        dest = stage / f"lib/modules/{kver}/kernel" / (src.name.split(".ko")[0] + ".ko")
        dest.parent.mkdir(parents=True, exist_ok=True)
        uncompressed(src, dest)
    for dest, src in files.items():
        (stage / dest.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, stage / dest.lstrip("/"))
    for dest, target in links.items():
        (stage / dest.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, stage / dest.lstrip("/"))
    _add_kmod(stage, kver)
    listing = sorted(str(p.relative_to(stage)) for p in stage.rglob("*"))
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"],
                          input=("\n".join(listing) + "\n").encode(),
                          cwd=stage, check=True, stdout=subprocess.PIPE)
    out.write_bytes(gzip.compress(cpio.stdout, 6))
    return out


def busybox(root):
    """Static busybox in root/bin, each applet a link to it."""
    shutil.copy("/bin/busybox", root / "bin/busybox")
    for applet in run(["/bin/busybox", "--list"]).split():
        if applet != "busybox":
            os.symlink("busybox", root / "bin" / applet)


def copy_with_libs(binary, stage):
    """Copy a dynamically linked program and the libraries ldd names."""
    (stage / binary.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(binary, stage / binary.lstrip("/"))
    for lib in re.findall(r"(/\S+\.so[.\d]*)", run(["ldd", binary])):
        dest = stage / lib.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(lib, dest)


def _add_kmod(stage, kver):
    """kmod's modprobe, as distributions' initramfs use (busybox's retries a
    failed finit_module with init_module, so a refused load runs twice)."""
    (stage / "usr/bin").mkdir(parents=True, exist_ok=True)
    copy_with_libs("/usr/bin/kmod", stage)
    for tool in ["modprobe", "insmod", "rmmod", "lsmod", "depmod", "modinfo"]:
        (stage / "bin" / tool).unlink(missing_ok=True)
        os.symlink("/usr/bin/kmod", stage / "sbin" / tool)
    src = moddir(kver)
    for name in ["modules.order", "modules.builtin", "modules.builtin.modinfo"]:
        if (src / name).exists():
            shutil.copy(src / name, stage / f"lib/modules/{kver}" / name)
    run(["depmod", "-b", str(stage), kver])


def data_files(seed, sizes=(300 * 1024, 4096, 123457)):
    """Deterministic files whose checksums the guest reports back."""
    rnd = random.Random(seed)
    return {f"f{i}.bin": rnd.randbytes(size) for i, size in enumerate(sizes)}


def crc32_file(path):
    """The CRC-32 the guest's `mdbio crc32` reports for the same bytes."""
    crc = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            crc = zlib.crc32(block, crc)
    return f"{crc:08x}"


def _boot_tree(tree, kver, initrd, cmdline, files):
    shutil.copy(vmlinuz(kver), tree / "vmlinuz")
    if initrd is not None:
        shutil.copy(initrd, tree / "initrd.gz")
    (tree / "data").mkdir()
    for name, blob in files.items():
        (tree / "data" / name).write_bytes(blob)
    return ("DEFAULT linux\nPROMPT 0\nLABEL linux\n  KERNEL /vmlinuz\n"
            f"  APPEND initrd=/initrd.gz {CONSOLE} {cmdline}\n")


def iso(path, kver, initrd, cmdline, files, big=0, extra=None, cfg=None,
        label="MDBTEST", efi=False, tail=2048):
    """An El Torito ISO (isolinux) booting kver; its size is 2 KiB short of
    a 4 KiB multiple (the size the phram recipe refuses), or with tail=0 a
    4 KiB multiple (its size modulo 4 KiB is tail). files: {name: bytes}
    under /data; big adds a file of that many pseudo-random bytes to reach
    desktop-ISO sizes; extra: {path in the ISO: file here} (a directory is
    copied whole, and "." copies its contents to the ISO's top); cfg
    replaces the isolinux configuration (initrd None: none is copied).
    efi: a hybrid ISO for BIOS and UEFI, as live-build makes them: also
    GRUB EFI (_grub_efi()) and an isohybrid MBR and GPT (its size is then
    xorriso's, a MiB multiple). Written to path.tmp, then renamed: a path
    that exists is complete."""
    tmp = Path(str(path) + ".tmp")
    tree = Path(str(path) + ".d")
    for pad in range(1 if efi else 8):
        if tree.exists():
            shutil.rmtree(tree)
        (tree / "isolinux").mkdir(parents=True)
        linux_cfg = _boot_tree(tree, kver, initrd, cmdline, files)
        (tree / "isolinux/isolinux.cfg").write_text(cfg or linux_cfg)
        shutil.copy(ISOLINUX_BIN, tree / "isolinux/isolinux.bin")
        shutil.copy(SYSLINUX_BIOS / "ldlinux.c32", tree / "isolinux")
        for name, src in (extra or {}).items():
            if Path(src).is_dir():
                shutil.copytree(src, tree / name, symlinks=True,
                                dirs_exist_ok=True)
            else:
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, tree / name)
        if pad:
            (tree / "data/pad.bin").write_bytes(b"\0" * 2048 * pad)
        if big:
            _write_big(tree / "big.bin", big)
        hybrid = ["-isohybrid-mbr", str(ISOHYBRID_MBR)] if efi else []
        uefi = _grub_efi(tree, cmdline, label) if efi else []
        run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(tmp), *hybrid,
             "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
             "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
             *uefi, "-J", "-R", "-V", label, str(tree)])
        shutil.rmtree(tree)
        if efi or tmp.stat().st_size % 4096 == tail:
            tmp.rename(path)
            return path
    raise RuntimeError(f"could not make an ISO of 4 KiB x N + {tail} bytes")


def _grub_efi(tree, cmdline, label):
    """GRUB for UEFI in tree: boot/grub/efi.img, a FAT image holding
    EFI/BOOT/BOOTX64.EFI (the path UEFI firmware boots from a CD's El
    Torito EFI entry), and boot/grub/grub.cfg booting the kernel and
    initrd with the same command line as isolinux. The image's built-in
    configuration finds the ISO by its label; its modules are built in,
    so nothing else is read from the ESP. Returns xorriso's boot
    arguments for the EFI entry."""
    (tree / "boot/grub").mkdir(parents=True)
    (tree / "boot/grub/grub.cfg").write_text(
        "set timeout=0\nmenuentry live {\n"
        f"  linux /vmlinuz {CONSOLE} {cmdline}\n"
        "  initrd /initrd.gz\n}\n")
    early = Path(str(tree) + ".early.cfg")
    early.write_text(f"search --no-floppy --label {label} --set=root\n"
                     "set prefix=($root)/boot/grub\n")
    efi = Path(str(tree) + ".BOOTX64.EFI")
    run(["grub-mkimage", "-O", "x86_64-efi", "-p", "/boot/grub",
         "-c", str(early), "-o", str(efi), *GRUB_EFI_MODULES])
    esp = tree / "boot/grub/efi.img"
    kib = (efi.stat().st_size >> 10) + 512
    run(["mkfs.fat", "-C", "-n", "MDBEFI", str(esp), str(kib)])
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    run(["mmd", "-i", str(esp), "::/EFI", "::/EFI/BOOT"], env=env)
    run(["mcopy", "-i", str(esp), str(efi), "::/EFI/BOOT/BOOTX64.EFI"], env=env)
    early.unlink()
    efi.unlink()
    return ["-eltorito-alt-boot", "-e", "boot/grub/efi.img", "-no-emul-boot",
            "-isohybrid-gpt-basdat"]


def chained_iso(path, kver, initrd, inner):
    """An outer ISO whose isolinux loads MEMDISK again with the inner ISO."""
    cfg = ("DEFAULT inner\nPROMPT 0\nLABEL inner\n  KERNEL /memdisk\n"
           "  INITRD /inner.iso\n  APPEND iso raw\n")
    return iso(path, kver, initrd, "", {}, cfg=cfg,
               extra={"memdisk": MEMDISK, "inner.iso": inner})


def ipxe_tree(tree, image, memdisk_args):
    """A TFTP root for QEMU's iPXE ROM: a script loading MEMDISK + image."""
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    shutil.copy(MEMDISK, tree / "memdisk")
    shutil.copy(image, tree / "image")
    (tree / "boot.ipxe").write_text(
        "#!ipxe\n"
        f"kernel tftp://10.0.2.2/memdisk {memdisk_args}\n"
        "initrd tftp://10.0.2.2/image\n"
        "boot\n")
    return tree


def _write_big(path, size):
    """Pseudo-random bytes, fast: a 1 MiB random block salted per MiB."""
    rnd = random.Random(size)
    block = bytearray(rnd.randbytes(1 << 20))
    with open(path, "wb") as f:
        for i in range(size >> 20):
            block[:8] = i.to_bytes(8, "little")
            f.write(block)


def _fat_image(path, kver, initrd, cmdline, files, label, kib):
    """A FAT16 filesystem image with syslinux, the kernel, initramfs, data."""
    tree = Path(str(path) + ".d")
    if tree.exists():
        shutil.rmtree(tree)
    if path.exists():
        path.unlink()
    tree.mkdir()
    cfg = _boot_tree(tree, kver, initrd, cmdline, files)
    (tree / "syslinux.cfg").write_text(cfg)
    run(["mkfs.fat", "-F", "16", "-n", label, "-C", str(path), str(kib)])
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    for item in sorted(tree.iterdir()):
        run(["mcopy", "-s", "-i", str(path), str(item), "::"], env=env)
    run(["syslinux", "--install", str(path)])
    shutil.rmtree(tree)
    return path


def floppy(path, kver, initrd, cmdline, files):
    """A 24 MiB "superfloppy": FAT16 with no partition table, syslinux in
    its boot sector. MEMDISK's "floppy" serves it as BIOS drive 0x00."""
    return _fat_image(path, kver, initrd, cmdline, files, "MDBFLOP", 24 * 1024)


def hostile_mbr(patches=()):
    """tests/e2e/hostile/mbr.S assembled, carrying patches: (physical
    address, bytes) it writes into memory before booting partition 1 (an
    address with bit 31 set is relative to the INT 13h vector's segment)."""
    src = ROOT / "tests" / "e2e" / "hostile" / "mbr.S"
    out = CACHE / "hostile" / hashlib.sha256(repr(patches).encode()).hexdigest()[:12]
    out.mkdir(parents=True, exist_ok=True)
    run(["as", "--32", str(src), "-o", str(out / "mbr.o")])
    run(["ld", "-m", "elf_i386", "-Ttext", "0x600", "-e", "start",
         "--oformat", "binary", str(out / "mbr.o"), "-o", str(out / "mbr.bin")])
    code = bytearray((out / "mbr.bin").read_bytes())
    table = b"".join(addr.to_bytes(4, "little") + len(data).to_bytes(2, "little")
                     + data for addr, data in patches) + bytes(6)
    if 0x80 + len(table) > 440:
        raise ValueError("patches do not fit in the MBR")
    code[0x80:0x80 + len(table)] = table
    return bytes(code)


def root_harddisk(path, kernel, append, root, root_mib=16, boot_mib=16):
    """A hard-disk image that boots Linux with no initramfs: partition 1
    is ext4 made from the directory root (mkfs.ext4 -d, no mount needed),
    partition 2 a bootable FAT16 with syslinux and the kernel, started
    with the command line append."""
    start = 2048  # sectors: partition 1 at 1 MiB
    boot_start = start + root_mib * 2048
    part = Path(str(path) + ".root")
    part.unlink(missing_ok=True)
    run(["mkfs.ext4", "-q", "-F", "-L", "MDBROOT", "-d", str(root),
         str(part), f"{root_mib}M"])
    boot = Path(str(path) + ".boot")
    boot.unlink(missing_ok=True)
    run(["mkfs.fat", "-F", "16", "-n", "MDBBOOT", "-h", str(boot_start),
         "-C", str(boot), str(boot_mib * 1024)])
    cfg = Path(str(path) + ".cfg")
    cfg.write_text("DEFAULT linux\nPROMPT 0\nLABEL linux\n  KERNEL /vmlinuz\n"
                   f"  APPEND {append}\n")
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    run(["mcopy", "-i", str(boot), str(kernel), "::vmlinuz"], env=env)
    run(["mcopy", "-i", str(boot), str(cfg), "::syslinux.cfg"], env=env)
    run(["syslinux", "--install", str(boot)])
    with open(path, "wb") as disk:
        disk.truncate((boot_start + boot_mib * 2048) * 512)
    run(["sfdisk", "-q", str(path)],
        input=(f"label: dos\nstart={start}, size={root_mib * 2048}, type=83\n"
               f"start={boot_start}, size={boot_mib * 2048}, type=6, bootable\n"))
    with open(path, "r+b") as disk:
        disk.write(MBR_BIN.read_bytes()[:440])
        for offset, src in ((start, part), (boot_start, boot)):
            disk.seek(offset * 512)
            with open(src, "rb") as f:
                shutil.copyfileobj(f, disk)
    for tmp in (part, boot, cfg):
        tmp.unlink()
    return path


def harddisk(path, kver, initrd, cmdline, files, mbr=None, size=0):
    """A hard-disk image: an MBR (syslinux mbr.bin unless given), one
    bootable FAT16 partition at 1 MiB with syslinux, the kernel, initramfs
    and data; zeros after it up to size bytes, if that is more (41 MiB)."""
    part_kib = 40 * 1024
    part = _fat_image(Path(str(path) + ".part"), kver, initrd, cmdline,
                      files, "MDBDISK", part_kib)
    with open(path, "wb") as disk:
        disk.truncate(max((1 << 20) + part_kib * 1024, size))
    run(["sfdisk", "-q", str(path)],
        input="label: dos\nstart=2048, type=6, bootable\n")
    with open(path, "r+b") as disk, open(part, "rb") as src:
        disk.write((mbr or MBR_BIN.read_bytes())[:440])
        disk.seek(1 << 20)
        shutil.copyfileobj(src, disk)
    part.unlink()
    return path


def ventoy_tarball():
    """Ventoy's INSTALL tree tarball in VENTOY, or None."""
    found = sorted(VENTOY.glob("ventoy-INSTALL-*.tar.xz"))
    return found[-1] if found else None


def ventoy_disk(name, isos, config, grub_cfg=None):
    """A USB disk as Ventoy2Disk.sh makes one (MBR style, Secure Boot off),
    from Ventoy's own files: partition 1 (from 1 MiB: Ventoy's GRUB refuses
    other starts) holds the ISOs ({file name: ISO here}) and
    /ventoy/ventoy.json (config, a dict); partition 2, right after it and
    exactly 32 MiB, is FAT16 labelled VTOYEFI with Ventoy's boot files
    (ventoy_pack.sh's list: grub/, ventoy/, EFI/, tool/), the GRUB EFI
    image as EFI/BOOT/BOOTX64.EFI; the MBR is Ventoy's boot.img (GRUB
    compares its bytes 0-47 and 400-415) and its core.img follows from
    sector 1. Partition 1 is FAT32 (mtools writes it; Ventoy makes exFAT).
    grub_cfg replaces Ventoy's grub/grub.cfg (the tree's BIOS core.img is
    1.0.73's and needs that release's). Cached in CACHE/ventoy by a digest
    of everything it is made from; returns the image's path."""
    tarball = ventoy_tarball()
    grub_cfg = Path(grub_cfg) if grub_cfg else None
    text = json.dumps(config, indent=4) + "\n"
    h = hashlib.sha256()
    named = [x for n, iso in sorted(isos.items())
             for x in (n.encode(), Path(iso))]
    for part in [Path(__file__), tarball, grub_cfg or b"", text.encode(),
                 *named]:
        h.update(part.read_bytes() if isinstance(part, Path) else part)
        h.update(b"\0")
    key = h.hexdigest()[:16]
    out = CACHE / "ventoy" / f"{name}-{key}.img"
    with locked(("ventoy", name)):
        if out.exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        for old in out.parent.iterdir():  # this name's, from other inputs
            if re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{16}}\.img",
                            old.name):
                old.unlink()
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            _ventoy_disk(Path(tmp), tarball, isos, text, grub_cfg, key, out)
    return out


def _ventoy_disk(tmp, tarball, isos, text, grub_cfg, key, out):
    run(["tar", "-xJf", str(tarball), "-C", str(tmp)])
    tree = tmp / "INSTALL"
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    # Partition 1: the ISOs and ventoy.json, 8 MiB to spare; FAT32 needs
    # 65525 clusters at least (512-byte ones: 33 MiB).
    size = sum(Path(iso).stat().st_size for iso in isos.values())
    mib = max(40, (size >> 20) + 8)
    data, start2 = tmp / "data.img", 2048 + mib * 2048
    run(["mkfs.fat", "-F", "32", "-s", "1", "-n", "Ventoy", "-h", "2048",
         "-C", str(data), str(mib * 1024)])
    (tmp / "ventoy.json").write_text(text)
    run(["mmd", "-i", str(data), "::/ventoy"], env=env)
    run(["mcopy", "-i", str(data), str(tmp / "ventoy.json"), "::/ventoy/"],
        env=env)
    for fname, iso in isos.items():
        run(["mcopy", "-i", str(data), str(iso), f"::/{fname}"], env=env)
    # Partition 2, as ventoy_pack.sh fills it: grub.cfg first, help and
    # menu as tarballs, no i386-pc/*.img; the tools' first 16 KiB (GRUB
    # checks that tool/mount.exfat-fuse_aarch64 exists). The tree's
    # EFI/BOOT/BOOTX64.EFI is a shim whose second stage is not there:
    # GRUB EFI takes its place, as on a disk made without Secure Boot.
    efi = tmp / "VTOYEFI"
    grub = efi / "grub"
    shutil.copytree(tree / "grub", grub, ignore=shutil.ignore_patterns(
        "help", "menu", "grub.cfg", "*.img"))
    for sub in ["help", "menu"]:
        with tarfile.open(grub / f"{sub}.tar.gz", "w:gz",
                          format=tarfile.GNU_FORMAT) as t:
            t.add(tree / "grub" / sub, arcname=f"./{sub}")
    shutil.copytree(tree / "ventoy", efi / "ventoy")
    shutil.copytree(tree / "EFI", efi / "EFI")
    shutil.copy(efi / "EFI/BOOT/grubx64_real.efi",
                efi / "EFI/BOOT/BOOTX64.EFI")
    shutil.copy(tree / "tool/ENROLL_THIS_KEY_IN_MOKMANAGER.cer", efi)
    (efi / "tool").mkdir()
    for arch in ["i386", "x86_64", "aarch64"]:
        (efi / f"tool/mount.exfat-fuse_{arch}").write_bytes(
            (tree / f"tool/{arch}/vtoycli").read_bytes()[:16384])
    shutil.copy(tree / "tool/create_ventoy_iso_part_dm.sh", efi / "tool")
    part2 = tmp / "efi.img"
    run(["mkfs.fat", "-F", "16", "-s", "1", "-n", "VTOYEFI", "-h", str(start2),
         "-C", str(part2), str(VENTOY_EFI_SECTORS // 2)])
    run(["mmd", "-i", str(part2), "::/grub"], env=env)
    run(["mcopy", "-i", str(part2), str(grub_cfg or tree / "grub/grub.cfg"),
         "::/grub/grub.cfg"], env=env)
    for item in sorted(grub.iterdir()):
        run(["mcopy", "-s", "-i", str(part2), str(item), "::/grub/"], env=env)
    for item in sorted(efi.iterdir()):
        if item != grub:
            run(["mcopy", "-s", "-i", str(part2), str(item), "::/"], env=env)
    # The disk: Ventoy's partition types (7 and EF, 1 active), its boot.img
    # and core.img, a disk signature and Ventoy's 16-byte disk UUID (at
    # 384) taken from the key.
    disk = tmp / "disk.img"
    with open(disk, "wb") as f:
        f.truncate((start2 + VENTOY_EFI_SECTORS) * 512)
    run(["sfdisk", "-q", str(disk)], input=(
        f"label: dos\nlabel-id: 0x{key[:8]}\n"
        f"start=2048, size={mib * 2048}, type=7, bootable\n"
        f"start={start2}, size={VENTOY_EFI_SECTORS}, type=ef\n"))
    boot = (tree / "grub/i386-pc/boot.img").read_bytes()
    core = (tree / "grub/i386-pc/core.img").read_bytes()
    if len(core) > 2047 * 512:
        raise RuntimeError("Ventoy's core.img does not fit before 1 MiB")
    with open(disk, "r+b") as f:
        f.write(boot[:440])
        f.seek(384)
        f.write(bytes.fromhex(key) * 2)
        f.seek(512)
        f.write(core)
        for offset, src in ((2048, data), (start2, part2)):
            f.seek(offset * 512)
            with open(src, "rb") as p:
                shutil.copyfileobj(p, f)
    disk.rename(out)


# gnu-efi's recipe for an EFI application (Debian's gnu-efi package, its
# README.gnuefi and Make.defaults): compile position-independent with
# 2-byte wchar_t and the UEFI calling convention, link a shared object with
# its crt0 and linker script against libefi and libgnuefi, copy its
# sections into a PE32+ EFI application (subsystem 10).
GNU_EFI_CFLAGS = ["-I/usr/include/efi", "-I/usr/include/efi/x86_64", "-O2",
                  "-Wall", "-Wextra", "-fpic", "-fshort-wchar",
                  "-ffreestanding", "-fno-stack-protector", "-fno-stack-check",
                  "-fno-strict-aliasing", "-mno-red-zone",
                  "-maccumulate-outgoing-args", "-DGNU_EFI_USE_MS_ABI"]
GNU_EFI_LDFLAGS = ["-nostdlib", "-znocombreloc", "-shared", "-Bsymbolic",
                   "-T", "/usr/lib/elf_x86_64_efi.lds",
                   "/usr/lib/crt0-efi-x86_64.o"]
GNU_EFI_SECTIONS = [".text", ".sdata", ".data", ".dynamic", ".dynsym",
                    ".rel", ".rela", ".rel.*", ".rela.*", ".reloc"]


def efi_program(src):
    """The gnu-efi program in the C file src as a PE32+ EFI application,
    built by gnu-efi's recipe (GNU_EFI_*) into CACHE/efi, cached by a
    digest of the source and the recipe; returns its path."""
    src = Path(src)
    recipe = repr((GNU_EFI_CFLAGS, GNU_EFI_LDFLAGS, GNU_EFI_SECTIONS))
    key = hashlib.sha256(src.read_bytes() + recipe.encode()).hexdigest()[:16]
    out = CACHE / "efi" / f"{src.stem}-{key}.efi"
    with locked(("efi", src)):
        if out.exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        for old in out.parent.glob(f"{src.stem}-*.efi"):
            old.unlink()
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            obj, so, efi = (Path(tmp) / f"{src.stem}{x}"
                            for x in (".o", ".so", ".efi"))
            run(["gcc", *GNU_EFI_CFLAGS, "-c", str(src), "-o", str(obj)])
            run(["ld", *GNU_EFI_LDFLAGS, str(obj), "-o", str(so),
                 "-L/usr/lib", "-lefi", "-lgnuefi"])
            run(["objcopy", *(a for s in GNU_EFI_SECTIONS for a in ("-j", s)),
                 "--target", "efi-app-x86_64", "--subsystem=10", str(so),
                 str(efi)])
            efi.rename(out)
    return out


def esp_disk(path, files):
    """A GPT disk image whose one partition, from 1 MiB, is an EFI system
    partition: FAT (mkfs.fat, mtools, no mounts) holding files {path in
    the ESP: file here, or bytes}; OVMF boots its EFI/BOOT/BOOTX64.EFI.
    Returns path."""
    part = Path(str(path) + ".esp")
    part.unlink(missing_ok=True)
    sizes = [len(v) if isinstance(v, bytes) else Path(v).stat().st_size
             for v in files.values()]
    kib = sum(sizes) // 1024 + 4 * len(sizes) + 2048
    run(["mkfs.fat", "-n", "MDBESP", "-h", "2048", "-C", str(part), str(kib)])
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    made = set()
    for dest, src in sorted(files.items()):
        parents = Path(dest).parents
        for d in reversed([str(p) for p in parents if str(p) != "."]):
            if d not in made:
                run(["mmd", "-i", str(part), f"::/{d}"], env=env)
                made.add(d)
        if isinstance(src, bytes):
            blob = Path(str(path) + ".blob")
            blob.write_bytes(src)
            src = blob
        run(["mcopy", "-i", str(part), str(src), f"::/{dest}"], env=env)
    Path(str(path) + ".blob").unlink(missing_ok=True)
    with open(path, "wb") as disk:
        disk.truncate((1 << 20) * 2 + kib * 1024)  # + the backup GPT
    run(["sfdisk", "-q", str(path)],
        input=f"label: gpt\nstart=2048, size={kib * 2}, type=U\n")
    with open(path, "r+b") as disk, open(part, "rb") as src:
        disk.seek(1 << 20)
        shutil.copyfileobj(src, disk)
    part.unlink()
    return path


VENTOY_FORGE = ROOT / "tests" / "e2e" / "hostile" / "ventoy-forge.c"


def ventoy_forge_esp(path, kernel, cmdline, payload, variant="valid",
                     initrd=None):
    """An ESP disk (esp_disk()) booting tests/e2e/hostile/ventoy-forge.c:
    it forges Ventoy's UEFI RAM disk of the ISO payload, with variant's
    flaw ("valid": none), then starts the kernel image kernel with cmdline
    (preceded by initrd=\\initrd.img if an initrd is given, which the
    kernel's EFI stub loads from the ESP). Returns path."""
    files = {"EFI/BOOT/BOOTX64.EFI": efi_program(VENTOY_FORGE),
             "vmlinuz": kernel, "payload.iso": payload}
    if initrd is not None:
        files["initrd.img"] = initrd
        cmdline = f"initrd=\\initrd.img {cmdline}"
    files["forge.cfg"] = f"variant={variant}\ncmdline={cmdline}\n".encode()
    return esp_disk(path, files)


# GRUB4DOS's source tarball (and a1ive's prebuilt GRUB2) beside this
# repository, as test data: ../shared/grub4dos, whose README.md records
# their layout; absent on most machines.
GRUB4DOS = ROOT.parent / "shared" / "grub4dos"
A1IVE_GRUB = GRUB4DOS / "a1ive-grub" / "grubx64-map-77322411.efi"


def grub4dos_tarball():
    """GRUB4DOS's source tarball in GRUB4DOS, or None."""
    found = sorted(GRUB4DOS.glob("grub4dos-*.tar.xz"))
    return found[-1] if found else None


def grub4dos_grldr():
    """GRUB4DOS's grldr, built from grub4dos_tarball() (gcc-multilib, nasm)
    with its preset menu, which reads /menu.lst from the boot CD; cached in
    CACHE/grub4dos by the tarball's digest (about 20 s to build here)."""
    tarball = grub4dos_tarball()
    key = hashlib.sha256(tarball.read_bytes()).hexdigest()[:16]
    out = CACHE / "grub4dos" / key / "grldr"
    with locked("grub4dos"):
        if out.exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            run(["tar", "-xJf", str(tarball), "-C", tmp])
            src = next(Path(tmp).glob("grub4dos-*"))
            run(["./configure", "--enable-preset-menu=preset_menu.lst"], cwd=src)
            # -j2 can race on pre_stage2_fullsize; a second make ends it.
            subprocess.run(["make", "-j2"], cwd=src, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            run(["make"], cwd=src)
            shutil.copy(src / "stage2" / "grldr", str(out) + ".tmp")
        Path(str(out) + ".tmp").rename(out)
    return out


def grub4dos_iso(path, menu, files):
    """An El Torito ISO (no emulation) booting GRUB4DOS's grldr, which runs
    menu (a menu.lst's text) from the CD; files: {path in the ISO: file
    here}, grafted, not copied. Written to path.tmp, then renamed."""
    tmp = Path(str(path) + ".tmp")
    lst = Path(str(path) + ".menu.lst")
    lst.write_text(menu)
    grafts = [f"/grldr={grub4dos_grldr()}", f"/menu.lst={lst}",
              *(f"/{name.lstrip('/')}={src}" for name, src in files.items())]
    run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-o", str(tmp),
         "-b", "grldr", "-no-emul-boot", "-boot-load-size", "4",
         "-graft-points", *grafts])
    lst.unlink()
    tmp.rename(path)
    return path
