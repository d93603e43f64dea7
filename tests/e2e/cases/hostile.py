"""Forged MEMDISK tables planted after MEMDISK installed itself, by a
boot loader of the test's own (tests/e2e/hostile/mbr.S, the hard-disk
image's MBR): exactly one dmesg line names the forged instance and the
reason, the forged range gets no device (a device appears only where an
intact table remains, and holds exactly the real image), and there is
no warning or oops. One variant per forgery: the image pointing at the
kernel's pages, above RAM, across 4 GiB, empty, a duplicate of the real
image, a bad checksum, a table cut off by the end of low memory, a
looping safe-hook chain, a hook pointing at garbage."""
import images
from harness import Case
from layout import layout  # MEMDISK's tables, from memdiskblk.h

# Low memory as it is now, then what the driver makes of it.
GUEST = r"""
say bda "$(dd if=/dev/mem bs=1 skip=$((0x413)) count=2 2>/dev/null | od -An -tu2 | tr -d ' ')"
say int13 "$(dd if=/dev/mem bs=4 skip=$((0x4c / 4)) count=1 2>/dev/null | od -An -tx4 | tr -d ' ')"
say low "$(dd if=/dev/mem bs=1024 skip=624 count=16 2>/dev/null | od -An -tx1 -v | tr -d ' \n')"
modprobe memdiskblk
say modprobe $?
for n in 0 1; do report_dev memdisk$n; done
"""
LOW = 0x9c000   # the "low" dump: 0x9c000 .. 0xA0000


class Forger:
    """Forgeries of MEMDISK's tables for the hostile MBR to plant. A first
    boot with no patches reads low memory; the image's size (and so where
    MEMDISK puts everything) never changes, only its MBR does."""

    def __init__(self, k):
        self.k = k
        img = self.make("hostile-probe", [])
        c = Case("hostile-probe")
        c.guest = "hostile"
        b = k.boot(c, image=img, memdisk_args="harddisk")
        self.low = bytes.fromhex(b.get("low", ""))
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

    def make(self, name, patches):
        """The same hard-disk image with an MBR planting patches."""
        return images.harddisk(self.k.dir / f"{name}.img", self.k.kver,
                               self.k.initrd, "mdbtest=hostile", {},
                               mbr=images.hostile_mbr(patches))

    def read(self, addr, n):
        return bytearray(self.low[addr - LOW:addr - LOW + n])

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


PREPARE = Forger


def variant(forge, expect, device):
    def case(k, c):
        f = c.prepared
        c.expect(f.mbft and f.low and f.spare, "probe boot found the table")
        if c.failures:
            return
        img = f.make(c.name, forge(f))
        b = k.boot(c, image=img, memdisk_args="harddisk")
        c.booted(b)
        lines = [ln for ln in b.dmesg().splitlines() if "memdiskblk:" in ln
                 and "refused" in ln]
        c.eq(len(lines), 1, f"one refusal line ({lines})")
        c.expect(lines and expect in lines[0], f"refusal says {expect!r}: {lines}")
        c.eq(b.get("modprobe"), "0" if device else "1", "modprobe status")
        c.eq(b.get("memdisk0.present"), "1" if device else "0", "memdisk0 present")
        c.eq(b.get("memdisk1.present"), "0", "no second device")
        if device:
            c.eq(b.get("memdisk0.crc32"), images.crc32_file(img),
                 "the device is the real image")
    return case


# The real table stays intact where MEMDISK needs it, so a device for the
# real image remains; the forged copy must be refused and get none.
# name, forgery, expected reason, device for the real image
FORGERIES = [
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
    ("hook-garbage", lambda f: [(f.hook("mbft"), (0xc340).to_bytes(4, "little"))],
     "mBFT at 0xc340: table is not in low memory", True),
]
CASES = {f"hostile-{name}": variant(forge, expect, device)
         for name, forge, expect, device in FORGERIES}
