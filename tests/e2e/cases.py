"""End-to-end cases: each one boots real MEMDISK (or no MEMDISK) under QEMU
with a Debian kernel and says, in its docstring, what it asserts. Guests
report facts (tests/e2e/guest/init); the assertions are all here."""
import gzip
import os
import re
import shutil
import time
import traceback

import sys
from pathlib import Path

import images
from boot import boot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from layout import layout  # noqa: E402  MEMDISK's tables, from memdiskblk.h

STRESS_SECONDS = int(os.environ.get("MDB_STRESS_SECONDS", "60"))
BAD_DMESG = re.compile(r"BUG:|WARNING:|Oops|Call Trace|general protection|"
                       r"ioremap on RAM|memremap attempted")


class Case:
    def __init__(self, name):
        self.name = name
        self.checks = 0
        self.failures = []
        self.seconds = 0.0
        self.notes = []

    def expect(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures.append(what)
        return cond

    def eq(self, got, want, what):
        return self.expect(got == want, f"{what}: got {got!r}, want {want!r}")

    def booted(self, b):
        """Every boot: no timeout, the guest ran to its end, clean dmesg."""
        self.expect(not b.timed_out, "guest timed out")
        self.expect(b.get("finished") is not None, "guest did not finish")
        bad = [line for line in b.dmesg().splitlines() if BAD_DMESG.search(line)]
        self.expect(not bad, f"dmesg: {bad[:3]}")
        if b.get("boot-retried") is not None:
            self.notes.append("booted again: " + b.get("boot-retried"))


def run_case(k, name, func):
    """Run one case on kernel k and return its one output line: a case
    that raises fails with the error, it never stops the others."""
    c = Case(name)
    start = time.monotonic()
    try:
        func(k, c)
    except Exception:
        c.failures.append("error: " + traceback.format_exc(limit=2)
                          .strip().replace("\n", " | "))
    c.seconds = time.monotonic() - start
    return c


def result_line(label, c):
    if c.failures:
        return f"FAIL {label}: " + "; ".join(c.failures)
    notes = "".join(f", {n}" for n in c.notes)
    return f"PASS {label} ({c.checks} checks, {c.seconds:.0f} s{notes})"


class Kernel:
    """What every case on one kernel shares: module, initramfs, images."""

    def __init__(self, kver):
        self.kver = kver
        self.short = images.short(kver)
        self.ko, self.build_log = images.build_module(kver)
        self.initrd = images.initramfs(kver, self.ko)
        self.dir = images.CACHE / "img" / kver
        self.dir.mkdir(parents=True, exist_ok=True)
        self.files = images.data_files(kver)

    def iso(self, name, cmdline, big=0):
        path = self.dir / f"{name}.iso"
        return images.iso(path, self.kver, self.initrd, cmdline, self.files,
                          big=big)

    def boot(self, case, **kw):
        return boot(f"{self.short}-{case.name}", **kw)


def check_dev(c, b, dev, image_path, sector, readonly, drive, args):
    """The device is the image byte for byte and sysfs describes it."""
    size = image_path.stat().st_size
    c.eq(b.get(f"{dev}.present"), "1", f"/dev/{dev} exists")
    c.eq(b.get(f"{dev}.sha256"), images.sha256_file(image_path),
         f"{dev} sha256 equals the image's")
    c.eq(b.get(f"{dev}.sysfs.size"), str(size), "sysfs size")
    c.eq(b.get(f"{dev}.sysfs.sector_size"), str(sector), "sysfs sector_size")
    c.eq(b.get(f"{dev}.pbs"), str(sector), "physical block size")
    c.eq(b.get(f"{dev}.lbs"), "512", "logical block size")
    c.expect(b.get(f"{dev}.scheduler", "").startswith("[none]"), "no I/O scheduler")
    c.eq(b.get(f"{dev}.iostats"), "0", "no I/O statistics unless asked for")
    c.eq(b.get(f"{dev}.sysfs.readonly"), str(int(readonly)), "sysfs readonly")
    c.eq(b.get(f"{dev}.ro"), str(int(readonly)), "block layer ro flag")
    c.eq(b.get(f"{dev}.sysfs.drive"), drive, "sysfs drive")
    c.eq(b.get(f"{dev}.sysfs.cmdline"), args, "sysfs cmdline (MEMDISK's)")
    c.expect(re.fullmatch(r"\d+\.\d\d", b.get(f"{dev}.sysfs.version", "")),
             "sysfs version looks like N.NN")
    c.expect(re.fullmatch(r"0x[0-9a-f]+", b.get(f"{dev}.sysfs.mbft", "")),
             "sysfs mbft is an address")


def check_write_refused(c, b, dev):
    c.expect(b.get(f"{dev}.write_rc") not in (None, "0"), "buffered write fails")
    c.expect(b.get(f"{dev}.write_direct_rc") not in (None, "0"),
             "direct write with the ro flag cleared fails")
    c.eq(b.get(f"{dev}.unchanged"), "1", "image unchanged after writes")


def case_iso(k, c):
    """El Torito ISO of 4 KiB + 2 KiB size (what phram refuses): the device
    is byte-exact, read-only, 2048-byte physical blocks, iso9660 mounts and
    its files' checksums match, writes fail and change nothing, and
    memdiskfind in the same guest reports the address and size in sysfs."""
    args = "iso raw"
    iso = k.iso("iso", "mdbtest=iso")
    c.expect(iso.stat().st_size % 4096 == 2048, "ISO size is 4 KiB + 2 KiB")
    b = k.boot(c, image=iso, memdisk_args=args)
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    check_dev(c, b, "memdisk0", iso, 2048, True, "0xe0", args)
    c.eq(b.get("memdisk1.present"), "0", "no second device")
    c.eq(b.get("memdisk0.mount"), "ok", "iso9660 mounts")
    for name, blob in k.files.items():
        c.eq(b.get(f"memdisk0.file.{name}"), images.hashlib.sha256(blob).hexdigest(),
             f"file {name} checksum")
    check_write_refused(c, b, "memdisk0")
    found = b.get("memdiskfind", "")
    c.eq(found, f"{b.get('memdisk0.sysfs.addr')},{int(b.get('memdisk0.sysfs.size', '0')):#x}",
         "memdiskfind agrees with sysfs")


def case_iso_gz(k, c):
    """The same kind of ISO gzip-compressed: MEMDISK unpacks it, and the
    device holds the uncompressed ISO byte for byte."""
    iso = k.iso("iso-gz", "mdbtest=readonly")
    gz = k.dir / "iso-gz.iso.gz"
    with open(iso, "rb") as src, gzip.open(gz, "wb", 9) as dst:
        shutil.copyfileobj(src, dst)
    b = k.boot(c, image=gz, memdisk_args="iso raw")
    c.booted(b)
    check_dev(c, b, "memdisk0", iso, 2048, True, "0xe0", "iso raw")
    check_write_refused(c, b, "memdisk0")


def check_rw(c, b, img, drive, fs):
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    c.eq(b.get("memdisk0.sha256"), images.sha256_file(img),
         "memdisk0 sha256 equals the image's")
    c.eq(b.get("memdisk0.sysfs.readonly"), "0", "writable")
    c.eq(b.get("memdisk0.ro"), "0", "block layer ro flag clear")
    c.eq(b.get("memdisk0.sysfs.sector_size"), "512", "512-byte sectors")
    c.eq(b.get("memdisk0.sysfs.drive"), drive, f"BIOS drive {drive}")
    c.eq(b.get("fs.present"), "1", f"{fs} exists")
    c.eq(b.get("fs.mount"), "ok", f"{fs} mounts")
    c.eq(b.get("fs.orig"), images.hashlib.sha256(b"blob" * 1000).hexdigest(),
         "file on the filesystem checksum")
    c.eq(b.get("fs.readback"), "1", "written file reads back")
    c.eq(b.get("fs.persist"), "1", "written file survives module reload")
    c.eq(b.get("last.read"), "512", "the last sector reads")
    c.eq(b.get("past.read"), "0", "nothing reads past the end")
    c.expect(b.get("past.write") not in (None, "0"), "a write past the end fails")


def case_harddisk(k, c):
    """A partitioned hard-disk image ("harddisk"): writable, BIOS drive
    0x80, memdisk0p1 appears and mounts, a file written to it reads back
    after drop_caches and after the module is reloaded (so the write
    reached MEMDISK's image in memory)."""
    img = images.harddisk(k.dir / "hd.img", k.kver, k.initrd,
                          "mdbtest=rw", {"blob": b"blob" * 1000})
    b = k.boot(c, image=img, memdisk_args="harddisk")
    c.booted(b)
    check_rw(c, b, img, "0x80", "memdisk0p1")


def case_floppy(k, c):
    """A floppy image ("floppy", a FAT superfloppy): writable, BIOS drive
    0x00, the filesystem on the whole device mounts, and a written file
    reads back after drop_caches and after the module is reloaded."""
    img = images.floppy(k.dir / "floppy.img", k.kver, k.initrd,
                        "mdbtest=rw mdbarg=memdisk0", {"blob": b"blob" * 1000})
    b = k.boot(c, image=img, memdisk_args="floppy")
    c.booted(b)
    check_rw(c, b, img, "0x00", "memdisk0")


def case_harddisk_ro(k, c):
    """A hard-disk image booted with MEMDISK's "ro" option is read-only:
    writes fail, the image is unchanged."""
    img = images.harddisk(k.dir / "hd-ro.img", k.kver, k.initrd,
                          "mdbtest=readonly", {})
    b = k.boot(c, image=img, memdisk_args="harddisk ro")
    c.booted(b)
    check_dev(c, b, "memdisk0", img, 512, True, "0x80", "harddisk ro")
    check_write_refused(c, b, "memdisk0")


def case_no_memdisk(k, c):
    """Linux booted without MEMDISK: modprobe fails, no device, the module
    is not left loaded, one informational line, no warning."""
    b = k.boot(c, kernel=images.vmlinuz(k.kver), initrd=k.initrd,
               append=f"{images.CONSOLE} mdbtest=none")
    c.booted(b)
    c.expect(b.get("modprobe") not in (None, "0"), "modprobe fails")
    c.eq(b.get("memdisk0.present"), "0", "no /dev/memdisk0")
    c.eq(b.get("loaded"), "0", "module not loaded")
    c.expect("memdiskblk: no MEMDISK image found" in b.dmesg(),
             "dmesg says no MEMDISK image found")


def case_autodetect_off(k, c):
    """memdiskblk.autodetect=0 on the kernel command line, honoured by
    modprobe: MEMDISK is there but nothing is registered."""
    iso = k.iso("noauto", "mdbtest=none memdiskblk.autodetect=0")
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    c.expect(b.get("modprobe") not in (None, "0"), "modprobe fails")
    c.eq(b.get("memdisk0.present"), "0", "no /dev/memdisk0")
    c.expect("no MEMDISK image found (autodetect=0)" in b.dmesg(),
             "dmesg names autodetect=0")


def case_cycle(k, c):
    """20 load/unload cycles each give the same bytes; rmmod is refused
    while the device is mounted and works after umount."""
    iso = k.iso("cycle", "mdbtest=cycle")
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    c.eq(b.get("memdisk0.sha256"), images.sha256_file(iso), "first load byte-exact")
    c.eq(b.get("cycles_ok"), "20", "20 clean load/unload cycles")
    c.expect(b.get("rmmod_mounted") not in (None, "0"), "rmmod refused while mounted")
    c.eq(b.get("loaded_after"), "1", "module still loaded")
    c.eq(b.get("rmmod_after_umount"), "0", "rmmod works after umount")


def case_param(k, c):
    """image=ADDR,SIZE,ro with the address autodetect found serves the same
    bytes read-only; together with autodetect the duplicate is refused; a
    range in System RAM, below 1 MiB, empty, running past the reserved
    area or past 4 GiB, or malformed is refused with one dmesg line each."""
    iso = k.iso("param", "mdbtest=param")
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe with image= succeeds")
    c.eq(b.get("memdisk0.sha256"), images.sha256_file(iso), "byte-exact")
    c.eq(b.get("memdisk0.sysfs.found"), "param", "found by param")
    c.eq(b.get("memdisk0.sysfs.readonly"), "1", ",ro makes it read-only")
    c.eq(b.get("memdisk0.sysfs.sector_size"), "512", "512-byte sectors")
    c.eq(b.get("both.modprobe"), "0", "autodetect + same image= loads")
    c.eq(b.get("both.memdisk1"), "0", "the duplicate is not a second device")
    d = b.dmesg()
    c.expect("overlaps a MEMDISK image, refused" in d, "duplicate refused in dmesg")
    bad = {k_[4:]: v for k_, v in b.facts.items() if k_.startswith("bad.")}
    c.eq(len(bad), 7, "seven bad image= values tried")
    for value, rc in bad.items():
        c.expect(rc != "0", f"image={value} refused")
        c.eq(len(re.findall(rf"image={re.escape(value)}: .*, refused", d)), 1,
             f"one dmesg line for image={value}")


class Forger:
    """Forgeries of MEMDISK's tables for the hostile MBR to plant. A first
    boot with no patches reads low memory; the image's size (and so where
    MEMDISK puts everything) never changes, only its MBR does."""

    def __init__(self, k):
        self.k = k
        self.img = k.dir / "hostile.img"
        self.make([])
        b = k.boot(Case("hostile-probe"), image=self.img, memdisk_args="harddisk")
        self.low = bytes.fromhex(b.get("low", ""))  # 0x9c000 .. 0xA0000
        self.vector = int(b.get("int13", "0"), 16)
        self.mbft = int(b.get("memdisk0.sysfs.mbft") or "0", 16)
        self.spare = self.find_spare()

    def find_spare(self):
        """A 16-byte aligned, zero-filled 128 bytes in MEMDISK's reserved
        area after its table (the slack after its command line): room for
        a forged copy that does not disturb the real MEMDISK, whose INT 13h
        code reads the real table's fields while syslinux boots Linux."""
        start = (self.mbft + layout().size("mbft") + 15) & ~15
        for addr in range(start, 0x9fc00 - 128, 16):
            if self.low and not any(self.read(addr - 16, 160)):
                return addr
        return 0

    def make(self, patches):
        images.harddisk(self.img, self.k.kver, self.k.initrd, "mdbtest=hostile",
                        {}, mbr=images.hostile_mbr(patches))

    def read(self, addr, n):
        return bytearray(self.low[addr - 0x9c000:addr - 0x9c000 + n])

    def table(self, **fields):
        """The real mBFT with MDI fields (diskbuf=, disksize=) replaced,
        checksum fixed."""
        L = layout()
        t = self.read(self.mbft, L.size("mbft"))
        for name, value in fields.items():
            L.put(t, 0, f"mbft.mdi.{name}", value)
        L.put(t, 0, "mbft.checksum", 0)
        L.put(t, 0, "mbft.checksum", -sum(t) & 0xff)
        return bytes(t)

    def hook(self, field=None):
        """The address of the safe hook the INT 13h vector points at, or
        of one of its fields."""
        addr = (self.vector >> 16) * 16 + (self.vector & 0xffff)
        return addr + (layout().off(f"hook.{field}") if field else 0)


def hostile_case(forge, expect, device):
    """A forged table planted after MEMDISK installed itself (by the test's
    own hostile MBR): exactly one dmesg line names the forged instance and
    the reason, the forged range gets no device (a device appears only
    where an intact table remains, and holds exactly the real image), and
    there is no warning or oops."""
    def case(k, c):
        if not hasattr(k, "forger"):
            k.forger = Forger(k)
        f = k.forger
        c.expect(f.mbft and f.low and f.spare, "probe boot found the table")
        if c.failures:
            return
        f.make(forge(f))
        b = k.boot(c, image=f.img, memdisk_args="harddisk")
        c.booted(b)
        lines = [ln for ln in b.dmesg().splitlines() if "memdiskblk:" in ln
                 and "refused" in ln]
        c.eq(len(lines), 1, f"one refusal line ({lines})")
        c.expect(lines and expect in lines[0], f"refusal says {expect!r}: {lines}")
        c.eq(b.get("modprobe"), "0" if device else "1", "modprobe status")
        c.eq(b.get("memdisk0.present"), "1" if device else "0", "memdisk0 present")
        c.eq(b.get("memdisk1.present"), "0", "no second device")
        if device:
            c.eq(b.get("memdisk0.sha256"), images.sha256_file(f.img),
                 "the device is the real image")
    case.__doc__ = hostile_case.__doc__
    return case


# The real table stays intact where MEMDISK needs it, so a device for the
# real image remains; the forged copy must be refused and get none.
HOSTILE = [
    # name, forgery, expected reason, device for the real image
    ("kernel-pages", lambda f: [(f.spare, f.table(diskbuf=0x1000000))],
     "overlaps System RAM", True),
    ("above-ram", lambda f: [(f.spare, f.table(diskbuf=0xE0000000))],
     "not inside firmware-reserved memory", True),
    ("wrap-4g", lambda f: [(f.spare, f.table(diskbuf=0xFFFFF000, disksize=64))],
     "does not end below 4 GiB", True),
    ("zero-size", lambda f: [(f.spare, f.table(disksize=0))],
     "is empty", True),
    ("duplicate", lambda f: [(f.spare, f.table())],
     "overlaps the image of mBFT", True),
    ("checksum", lambda f: [(f.mbft + layout().off("mbft.oem_id") + 2, b"X")],
     "bad checksum", False),
    ("past-end", lambda f: [(0x9ffe0, f.read(f.mbft, 32))],
     "runs past the end of low memory", True),
    ("hook-loop", lambda f: [(f.hook("prev"), f.vector.to_bytes(4, "little"))],
     "chain loops", True),
    ("hook-garbage", lambda f: [(f.hook("mbft"), (0x12340).to_bytes(4, "little"))],
     "mBFT at 0x12340: table is not in low memory", True),
]

def check_edges(c, b, writable):
    """Defined results at the edges; the page after the image never changes."""
    io = {k[3:]: v for k, v in b.facts.items() if k.startswith("io.")}
    c.eq(io.get("read_last"), "ok:512", "read of the last sector")
    c.eq(io.get("read_past"), "ok:0", "read past the end reads nothing")
    c.eq(io.get("read_across"), "ok:512", "read across the end is cut short")
    c.eq(io.get("read_zero"), "ok:0", "zero-length read")
    for kind in ("buf", "off", "len"):
        c.eq(io.get(f"read_unaligned_{kind}"), "EINVAL", f"unaligned O_DIRECT {kind}")
    c.eq(io.get("write_zero"), "ok:0" if writable else "EPERM",
         "zero-length write")
    c.eq(io.get("fsync"), "ok:0", "fsync")
    c.eq(io.get("fdatasync"), "ok:0", "fdatasync")
    c.eq(io.get("zeroout_past"), "EINVAL", "write-zeroes past the end")
    c.expect(io.get("excl_first", "").startswith("ok:"), "first O_EXCL open works")
    c.eq(io.get("excl_second"), "EBUSY", "second O_EXCL open is refused")
    c.eq(b.get("edges.after_before"), b.get("edges.after_after"),
         "the memory after the image is unchanged")
    c.expect(b.get("edges.after_before"), "memory after the image was read")
    if writable:
        c.eq(b.get("edges.limits"), "1048576 1048576 512 ",
             "discard and write-zeroes advertised: 1 MiB, 512-byte granularity")
        c.eq(io.get("write_last"), "ok:512", "write of the last sector")
        c.eq(io.get("write_past"), "ENOSPC", "write past the end")
        c.eq(io.get("discard"), "ok:0", "discard")
        c.eq(io.get("zeroout"), "ok:0", "write-zeroes")
        c.eq(io.get("discard_range"), "exact",
             "discard of 5 KiB at 8.5 KiB zeroes exactly its range")
        c.eq(io.get("zeroout_range"), "exact",
             "write-zeroes of 3 KiB at 33.5 KiB zeroes exactly its range")
        c.eq(io.get("rest_unchanged"), "1",
             "the device past the zeroed ranges' 64 KiB is unchanged")
        c.eq(io.get("rereadpt"), "ok:0", "BLKRRPART")
        c.eq(b.get("edges.blkdiscard"), "0", "blkdiscard of the whole device")
        c.eq(b.get("edges.nonzero_bytes"), "0",
             "the whole device reads as zeroes after it")
    else:
        c.expect((b.get("edges.limits") or "").startswith("0 0 "),
                 f"no discard or write-zeroes advertised ({b.get('edges.limits')})")
        for op in ("write_last", "write_past", "discard", "zeroout"):
            c.expect(not io.get(op, "ok").startswith("ok"), f"{op} refused ({io.get(op)})")
        c.expect(b.get("edges.blkdiscard") not in (None, "0"), "blkdiscard refused")
        c.eq(b.get("edges.head_before"), b.get("edges.head_after"),
             "read-only image unchanged")
        c.eq(b.get("edges.tail_before"), b.get("edges.tail_after"),
             "the image after its first 4 KiB is unchanged")


def case_edges_ro(k, c):
    """I/O edge cases on a read-only ISO device: reads at, past and across
    the end, zero-length and unaligned O_DIRECT requests, flushes, O_EXCL
    twice give defined results; no discard or write-zeroes is advertised,
    and every write, discard, write-zeroes and blkdiscard is refused;
    neither the image nor the memory after it changes."""
    iso = k.iso("edges", "mdbtest=edges")
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    check_edges(c, b, writable=False)


def case_edges_rw(k, c):
    """The same on a writable hard-disk image: writes at the last sector
    work, past the end fail with ENOSPC; discard and write-zeroes are
    advertised (1 MiB a request, 512-byte granularity) and each zeroes
    exactly its 512-byte-aligned range inside a 64 KiB pattern while the
    rest of the device stays as it was; BLKRRPART works; blkdiscard of the
    whole device leaves only zeroes; the memory after the image never
    changes."""
    img = images.harddisk(k.dir / "edges.img", k.kver, k.initrd,
                          "mdbtest=edges", {})
    b = k.boot(c, image=img, memdisk_args="harddisk")
    c.booted(b)
    check_edges(c, b, writable=True)


def case_stress(k, c):
    """60 s of mixed reads and writes from 4 threads on 2 vCPUs, each write
    checksummed (CRC-32C) and every read verified, then a full re-read:
    zero mismatches. rmmod is refused while a reader holds the device.
    200 load/unload cycles (after a warm-up, with dirty pages written
    back): all clean; slab and vmalloc grow less than 1 MiB (5 KiB a
    cycle), per-CPU memory less than 256 KiB, MemAvailable plus the free
    pages parked on the per-CPU page lists drops less than 4 MiB.
    (MemAvailable alone swung by 4.7 MiB in one CI run, with slab +72
    KiB: the per-CPU lists of 2 CPUs hold several MiB and move freely.)"""
    img = images.harddisk(k.dir / "stress.img", k.kver, k.initrd,
                          f"mdbtest=stress mdbarg={STRESS_SECONDS}", {})
    b = k.boot(c, image=img, memdisk_args="harddisk", cpus=2, timeout=900)
    c.booted(b)
    c.expect(int(b.get("stress.writes", "0")) > 1000, f"writes: {b.get('stress.writes')}")
    c.expect(int(b.get("stress.reads", "0")) > 1000, f"reads: {b.get('stress.reads')}")
    c.expect(int(b.get("stress.verified", "0")) > 1000, f"verified: {b.get('stress.verified')}")
    c.eq(b.get("stress.mismatches"), "0", "no mismatches")
    c.expect(int(b.get("stress.rmmod_refused", "0")) > 0, "rmmod refused while open")
    c.eq(b.get("stress.still_loaded"), "1", "module stayed loaded")
    c.eq(b.get("stress.rmmod_after"), "0", "rmmod works once closed")
    c.eq(b.get("stress.cycles_ok"), "200", "200 load/unload cycles")
    fields = (b.get("stress.mem_fields") or "").split()
    before = dict(zip(fields, map(int, (b.get("stress.mem_before") or "").split())))
    after = dict(zip(fields, map(int, (b.get("stress.mem_after") or "").split())))
    grow = {f: after[f] - before[f] for f in fields if f in before and f in after}
    c.expect(len(grow) == 6, f"memory figures read: {grow}")
    c.expect(grow.get("Slab", 1 << 30) < 1024, f"slab growth {grow} kB")
    c.expect(grow.get("VmallocUsed", 1 << 30) < 1024, f"vmalloc growth {grow} kB")
    c.expect(grow.get("Percpu", 1 << 30) < 256, f"percpu growth {grow} kB")
    avail = grow.get("MemAvailable", -(1 << 30)) + grow.get("PcpFree", 0)
    c.expect(-avail < 4096, f"MemAvailable+PcpFree drop {grow} kB")


CASES = [
    ("iso", case_iso),
    ("iso-gz", case_iso_gz),
    ("harddisk", case_harddisk),
    ("harddisk-ro", case_harddisk_ro),
    ("floppy", case_floppy),
    ("no-memdisk", case_no_memdisk),
    ("autodetect-off", case_autodetect_off),
    ("cycle", case_cycle),
    ("param", case_param),
    ("edges-ro", case_edges_ro),
    ("edges-rw", case_edges_rw),
    ("stress", case_stress),
] + [(f"hostile-{name}", hostile_case(forge, expect, device))
     for name, forge, expect, device in HOSTILE]


def case_ipxe(k, c):
    """The netboot path: QEMU's iPXE ROM fetches a script, MEMDISK and the
    ISO over QEMU's built-in TFTP; iPXE lowers base memory so MEMDISK's
    table is not page-aligned, and the device is still byte-exact."""
    iso = k.iso("ipxe", "mdbtest=readonly")
    tree = images.ipxe_tree(k.dir / "tftp", iso, "iso raw")
    b = k.boot(c, kernel=None, image=None, extra=[
        "-netdev", f"user,id=n0,tftp={tree},bootfile=boot.ipxe",
        "-device", f"e1000,netdev=n0,romfile={images.IPXE_ROM}",
        "-boot", "n"])
    c.booted(b)
    c.eq(b.get("memdisk0.sha256"), images.sha256_file(iso), "memdisk0 byte-exact")
    c.eq(b.get("memdisk0.sysfs.readonly"), "1", "read-only")
    mbft = int(b.get("memdisk0.sysfs.mbft") or "0", 16)
    c.expect(mbft, "mBFT found")
    c.expect(mbft & 0xfff, f"mBFT at {mbft:#x} is not page-aligned (iPXE moved MEMDISK)")
    check_write_refused(c, b, "memdisk0")


def case_chained(k, c):
    """Chained MEMDISK (an outer ISO whose isolinux loads MEMDISK again with
    an inner ISO): every device is one of the two ISOs byte for byte, the
    outer one is found, nothing is invented, and following the INT 13h
    vector into the inner instance's (zeroed) memory does no harm."""
    inner = k.iso("inner", "mdbtest=all")
    outer = images.chained_iso(k.dir / "outer.iso", k.kver, k.initrd, inner)
    b = k.boot(c, image=outer, memdisk_args="iso raw")
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    known = {images.sha256_file(inner): "inner", images.sha256_file(outer): "outer"}
    seen = []
    for n in range(4):
        if b.get(f"memdisk{n}.present") == "1":
            seen.append(known.get(b.get(f"memdisk{n}.sha256"), "unknown"))
    c.expect("outer" in seen, f"outer ISO exposed (devices: {seen})")
    c.expect("unknown" not in seen, f"no invented device (devices: {seen})")
    c.eq(len(seen), len(set(seen)), "each image once")


def case_desktop_iso(k, c):
    """A desktop-sized ISO (2.5 GiB + 2 KiB) in a 3.5 GiB guest: the whole
    device is byte-exact."""
    iso = k.iso("big", "mdbtest=all", big=2560 << 20)
    b = k.boot(c, image=iso, memdisk_args="iso raw", mem=3584, timeout=900)
    c.booted(b)
    c.eq(b.get("memdisk0.sha256"), images.sha256_file(iso), "memdisk0 byte-exact")
    c.eq(b.get("memdisk0.sysfs.size"), str(iso.stat().st_size), "size")
    iso.unlink()


CASES += [
    ("ipxe", case_ipxe),
    ("chained", case_chained),
    ("desktop-iso", case_desktop_iso),
]
