"""Forged GRUB4DOS tables, planted by a boot sector of the test's own
(tests/e2e/hostile/mbr.S) into the real GRUB4DOS's memory: GRUB4DOS
(grldr built from ../shared/grub4dos) maps a hard-disk image into RAM as
(hd0), hooks INT 13h and chainloads the image's MBR, the hostile one,
which patches memory (addresses relative to the INT 13h vector's segment,
where GRUB4DOS's handler sits: its [handler, 0xA0000) is E820-reserved,
so a forged slot there is where a real one would be) and boots the
image's syslinux, which loads this kernel (edd=off: Linux's setup code
would read the forged drives through GRUB4DOS's INT 13h).

Each forgery (FORGERIES) gets exactly one refusal line naming the
table and the reason, and no device; there is no other refusal line and
no BUG/WARNING/Oops. grub4dos-hostile-tables plants four at once (so the
driver must also go on past each refused slot): a drive-map signature
("$INT13SFGRUB4DOS" at +0xE3 of a page) in usable RAM; after the real
image's slot 0, a RAM-drive slot over the kernel's System RAM, one whose
start sector wraps, one with a sector count of zero. GRUB4DOS's own table
stays intact: /dev/memdisk0 is the real image byte for byte (found
"grub4dos"), no second device. grub4dos-hostile-vector: base memory (BDA
0x413) no longer where the INT 13h vector's GRUB4DOS handler is, so the
handler is not GRUB4DOS's: nothing is found at all (modprobe fails, "no
image found"). Each says SKIP if ../shared/grub4dos is absent."""
import re

import images
from layout import layout  # GRUB4DOS's slot, from memdiskblk.h

# Runs on the e2e part's newest kernel and the debug kernel (whose
# checkers are what a forged table is for). A boot took 10-14 s here
# (20-40 s beside a full suite); the four table forgeries share one.
NEWEST = True
COST = 15
TIMEOUT = 300

GUEST = r"""
say bda "$(dd if=/dev/mem bs=1 skip=$((0x413)) count=2 2>/dev/null | od -An -tu2 | tr -d ' ')"
say int13 "$(dd if=/dev/mem bs=4 skip=$((0x4c / 4)) count=1 2>/dev/null | od -An -tx4 | tr -d ' ')"
modprobe memdiskblk
say modprobe $?
for n in 0 1; do report_dev memdisk$n; done
"""

REL = 1 << 31       # hostile_mbr: relative to the INT 13h vector's segment
RAM_PAGE = 0x80000  # a page of usable RAM the kernel leaves alone
BASEMEM = 600       # KiB: a base memory that is not GRUB4DOS's
KERNEL = 0x1000000  # where the kernel's own pages are


def slot(start, count, drive):
    """A forged RAM drive for drive, its image at start * 512. Bit 14 of
    to_cylinder (TO is a CD) set: GRUB4DOS's INT 15h E820 hook cuts every
    other RAM drive out of the usable ranges it reports (stage2/asm.S
    int15_e820_handler), which would make the forged range reserved
    (or, wrapped, leave Linux no low memory at all: "Real mode trampoline
    was not allocated"); with it, the E820 map stays GRUB4DOS's own."""
    L = layout()
    s = bytearray(L.size("g4d_slot"))
    L.put(s, 0, "g4d_slot.from_drive", drive)
    L.put(s, 0, "g4d_slot.to_drive", 0xFF)
    L.put(s, 0, "g4d_slot.max_sector", 0x3F)
    L.put(s, 0, "g4d_slot.to_cylinder", 0xC000)
    L.put(s, 0, "g4d_slot.to_sector", 0x3F)
    L.put(s, 0, "g4d_slot.start_sector", start)
    L.put(s, 0, "g4d_slot.sector_count", count)
    return bytes(s)


def in_slot(n, start, count):
    """A patch forging slot n of the drive map (BIOS drive 0x80 + n), after
    the real image's slot 0, which stays as GRUB4DOS made it."""
    at = layout().const["g4d_entry"] - layout().const["g4d_map_off"]
    return (REL | (at + n * layout().size("g4d_slot")),
            slot(start, count, 0x80 + n))


# The driver's one line for each forgery (str.format with map: the drive
# map's address, hook: the handler's safe hook, seg: the INT 13h vector's
# segment, want: base memory's segment): name: (patch, made when a case
# runs, line).
FORGERIES = {
    "sig-in-ram": (
        lambda: (RAM_PAGE + 0xE3, b"$INT13SFGRUB4DOS"),
        f"GRUB4DOS drive map at {RAM_PAGE:#x}: not in reserved memory, refused"),
    "slot-ram": (
        lambda: in_slot(1, KERNEL >> 9, 0x800),
        f"GRUB4DOS drive map at {{map:#x}}: slot 1: image {KERNEL:#x}+0x100000 "
        "overlaps System RAM, refused"),
    "slot-wrap": (
        lambda: in_slot(2, 1 << 56, 0x800),
        "GRUB4DOS drive map at {map:#x}: slot 2: sectors 0x100000000000000+0x800 "
        "wrap around, refused"),
    "slot-empty": (
        lambda: in_slot(3, KERNEL >> 9, 0),
        f"GRUB4DOS drive map at {{map:#x}}: slot 3: image {KERNEL:#x}+0x0 is "
        "empty, refused"),
    "vector": (
        lambda: (0x413, BASEMEM.to_bytes(2, "little")),
        "GRUB4DOS handler at {hook:#x}: INT 13h vector {seg:04x}:0100 is not "
        "base memory's {want:04x}:0100, refused"),
}
# variant: (its forgeries, a device for the real image)
VARIANTS = {"tables": (["sig-in-ram", "slot-ram", "slot-wrap", "slot-empty"], True),
            "vector": (["vector"], False)}
REFUSED = re.compile(r"memdiskblk: (.*refused)$")


def variant(names, device):
    def case(k, c):
        if images.grub4dos_tarball() is None:
            c.skip(f"no GRUB4DOS source tarball in {images.GRUB4DOS}")
            return
        patches = [FORGERIES[n][0]() for n in names]
        img = k.harddisk(c, extra="edd=off", name=c.name,
                         mbr=images.hostile_mbr(patches))
        menu = ("timeout 0\ndefault 0\ntitle hostile\n"
                "map --mem /hd.img (hd0)\nmap --hook\n"
                "rootnoverify (hd0)\nchainloader (hd0)+1\nboot\n")
        cd = images.grub4dos_iso(k.dir / f"{c.name}-grub4dos.iso", menu,
                                 {"hd.img": img})
        b = k.boot(c, extra=["-cdrom", str(cd), "-boot", "d", "-nic", "none"],
                   timeout=TIMEOUT)
        c.booted(b)
        seg = int(b.get("int13") or "0", 16) >> 16
        c.expect(seg, f"INT 13h vector read: {b.get('int13')}")
        handler = seg << 4
        facts = {"map": handler + layout().const["g4d_entry"]
                 - layout().const["g4d_map_off"],
                 "hook": handler + layout().const["g4d_entry"],
                 "seg": seg, "want": BASEMEM << 6}
        want = sorted(FORGERIES[n][1].format(**facts) for n in names)
        lines = [m[1] for m in (REFUSED.search(ln.rstrip())
                                for ln in b.dmesg().splitlines()) if m]
        c.eq(sorted(lines), want, "one refusal line per forgery, no other")
        c.eq(b.get("modprobe"), "0" if device else "1", "modprobe status")
        c.eq(b.get("memdisk0.present"), "1" if device else "0", "memdisk0 present")
        c.eq(b.get("memdisk1.present"), "0", "no second device")
        if device:
            c.eq(b.get("memdisk0.crc32"), images.crc32_file(img),
                 "memdisk0 is the real image")
            c.eq(b.get("memdisk0.sysfs.found"), "grub4dos",
                 "found in GRUB4DOS's map")
        else:
            c.expect("memdiskblk: no image found" in b.dmesg(), "no image found")
        c.note(f"handler at {handler:#x}, {b.seconds:.0f} s boot")
    return case


CASES = {f"grub4dos-hostile-{name}": variant(*v) for name, v in VARIANTS.items()}
