"""Live systems booted by GRUB4DOS's `map --mem` (issue 20) and by a1ive's
GRUB2 `map --mem --rt` under UEFI, with the real loaders from
../shared/grub4dos (its README.md records their layout).

Under BIOS, GRUB4DOS (grldr built from the source tarball there,
images.grub4dos_grldr) boots from a CD whose menu.lst copies
live_cases.py's live-boot ISO into RAM as a CD (0xff), hooks INT 13h and
boots the ISO's kernel and initramfs (made by mkinitramfs with the
project's integration) from the CD. Under UEFI, OVMF boots a1ive's GRUB2
(grubx64-map-77322411.efi there) from an EFI system partition holding
the same files; its grub.cfg maps the ISO into RAM and boots the same
kernel with `linux`. Either way nothing but memdiskblk makes that RAM a
block device, and live-boot scans block devices for its medium. The live
root (guest/live-init) reports the medium's mount, memdisk0's sysfs
metadata and the SHA-256 of all its bytes.

Without ../shared/grub4dos every case says SKIP and why."""
import hashlib
import re

import images
import live_cases
from boot import boot
from common import CACHE
from live_cases import LIVE_CMDLINE, NO_MODULE, booted_live, did_not_boot

# Measured here: 22-23 s a boot (84 beside a full suite), the control
# 81 s (live-boot's 60 s search; 141 beside a full suite).
TIMEOUT = 240
# MiB for a1ive's GRUB: more than 4 GiB, so that memory above 4 GiB is
# there for it (QEMU's q35 puts 2 GiB below 4 GiB, the rest above).
UEFI_MEM = 5 << 10
G4D_PAGE = 0x9F000  # where a1ive's GRUB puts its drive map
DIR = CACHE / "grub4dos"  # the boot media (live_cases.DIR is cleaned)


def skipped(c, what=None):
    """SKIP (True) when ../shared/grub4dos lacks what a case boots."""
    what = what or images.grub4dos_tarball()
    if what is None or not what.exists():
        c.skip(f"no GRUB4DOS test data in {images.GRUB4DOS}")
        return True
    return False


def sha256_padded(path, size):
    """The SHA-256 of the file at path followed by zeros up to size bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(bytes(max(0, size - path.stat().st_size)))
    return h.hexdigest()


def served(c, b, iso, drive, size):
    """memdisk0 as GRUB4DOS's map describes the ISO: found "grub4dos",
    BIOS drive drive, read-only, 2048-byte sectors, size bytes (the ISO
    rounded up to a multiple of 512, or GRUB4DOS's 4 KiB), the ISO byte for
    byte and zeros after it."""
    c.eq(b.get("memdisk0:found"), "grub4dos", "memdisk0 found in GRUB4DOS's map")
    c.eq(b.get("memdisk0:drive"), drive, "memdisk0's BIOS drive")
    c.eq(b.get("memdisk0:readonly"), "1", "memdisk0 read-only")
    c.eq(b.get("memdisk0:sector_size"), "2048", "memdisk0's sector size")
    c.eq(b.get("memdisk0:size"), str(size), "memdisk0's size")
    c.expect(0 <= size - iso.stat().st_size < 4096,
             f"memdisk0 {size} bytes for an ISO of {iso.stat().st_size}")
    c.eq(b.get("memdisk0:sha256"), sha256_padded(iso, size),
         "SHA-256 of all of /dev/memdisk0: the ISO, then zeros")


def grub4dos_live(c, name, args=""):
    """GRUB4DOS maps live-boot's ISO into RAM as (0xff) and boots its
    kernel and initramfs with args added; returns (ISO, boot)."""
    iso, initrd = live_cases.image("live-boot")
    menu = ("timeout 0\ndefault 0\ntitle live\n"
            "map --mem /live.iso (0xff)\nmap --hook\n"
            f"kernel /vmlinuz {images.CONSOLE} {LIVE_CMDLINE} {args}\n"
            "initrd /initrd.img\nboot\n")
    DIR.mkdir(parents=True, exist_ok=True)
    cd = images.grub4dos_iso(DIR / f"{name}.iso", menu, {
        "live.iso": iso, "initrd.img": initrd,
        "vmlinuz": images.vmlinuz(live_cases.kernel())})
    return iso, boot(name, extra=["-cdrom", str(cd), "-boot", "d",
                                  "-nic", "none"], timeout=TIMEOUT)


def case_grub4dos_live_boot(c, host):
    """GRUB4DOS (BIOS, SeaBIOS) `map --mem` of live-boot's ISO (2 KiB
    short of a 4 KiB multiple) as a CD (0xff), `map --hook`, then the
    ISO's kernel and initramfs (mkinitramfs with the project's hook and
    init-top script): live-boot finds its medium on /dev/memdisk0 by
    itself, the squashfs root's init runs, memdiskblk is loaded, udev
    linked by-label/MDBLIVE to memdisk0; memdisk0 was found in GRUB4DOS's
    drive map, is BIOS drive 0xff, read-only, 2048-byte sectors, the ISO's
    size rounded up to 4 KiB (GRUB4DOS's rounding) and its bytes the ISO's
    then zeros; no refusal line, clean console log."""
    if skipped(c):
        return
    iso, b = grub4dos_live(c, "grub4dos-live-boot")
    booted_live(c, b, "/run/live/medium")
    size = (iso.stat().st_size + 4095) & ~4095
    served(c, b, iso, "0xff", size)
    c.eq([ln for ln in b.dmesg().splitlines() if "refused" in ln], [],
         "refusal lines")


def case_grub4dos_live_boot_no_module(c, host):
    """The control: the same GRUB4DOS boot with memdiskblk.autodetect=0 on
    the kernel's command line (so the module serves nothing): GRUB4DOS
    has the ISO in RAM, yet live-boot finds no medium (its scan loop
    lasts 60 s), says "Unable to find a medium containing a live file
    system" and the boot ends; MDB-LIVE-ROOT-OK never appears,
    /dev/memdisk0 is never named, clean console log."""
    if skipped(c):
        return
    _, b = grub4dos_live(c, "grub4dos-live-boot-no-module", NO_MODULE)
    did_not_boot(c, b, "Unable to find a medium containing a live file system")


def case_a1ive_live_boot(c, host):
    """a1ive's GRUB2 under OVMF (q35, 5 GiB of guest RAM) maps
    live-boot's ISO into RAM twice: `map --mem --rt` (EfiReservedMemoryType,
    which Linux keeps reserved) and `map --mem` (EfiBootServicesData,
    which Linux takes back as System RAM), each a slot of its GRUB4DOS
    drive map at 0x9F000, then boots the ISO's kernel and initramfs:
    live-boot finds its medium on /dev/memdisk0, the live root's init
    runs, by-label/MDBLIVE is linked; memdisk0 is the --rt copy, above
    4 GiB, found in GRUB4DOS's map, drive 0x80 (a1ive's for every map),
    read-only, 2048-byte sectors, exactly the ISO's size and bytes; the
    copy without --rt gets exactly one refusal line (its slot's image
    overlaps System RAM) and no device: no memdisk1. Clean console log."""
    if skipped(c, images.A1IVE_GRUB):
        return
    iso, initrd = live_cases.image("live-boot")
    cfg = ("serial --unit=0 --speed=115200\nterminal_output console serial\n"
           "set timeout=0\n"
           "map --mem --rt --nb --type=CD ($root)/live.iso\n"
           "map --mem --nb --type=CD ($root)/live.iso\n"
           f"linux ($root)/vmlinuz {images.CONSOLE} {LIVE_CMDLINE}\n"
           "initrd ($root)/initrd.img\nboot\n")
    DIR.mkdir(parents=True, exist_ok=True)
    esp = images.esp_disk(DIR / "a1ive-live-boot.img", {
        "EFI/BOOT/BOOTX64.EFI": images.A1IVE_GRUB,
        "EFI/BOOT/grub.cfg": cfg.encode(), "live.iso": iso,
        "initrd.img": initrd, "vmlinuz": images.vmlinuz(live_cases.kernel())})
    b = boot("a1ive-live-boot", disk=esp, uefi=True, mem=UEFI_MEM,
             timeout=TIMEOUT)
    c.expect(f"write grub4dos drive map slot info to {G4D_PAGE:#x}" in b.log,
             f"a1ive's GRUB wrote its drive map at {G4D_PAGE:#x}")
    booted_live(c, b, "/run/live/medium")
    served(c, b, iso, "0x80", iso.stat().st_size)
    addr = int(b.get("memdisk0:addr") or "0", 16)
    c.expect(addr >= 1 << 32, f"memdisk0 at {addr:#x}, above 4 GiB")
    c.eq(b.get("memdisk1:found"), None, "no second device")
    size = (iso.stat().st_size + 511) & ~511
    lines = re.findall(r"memdiskblk: (.*refused)", b.dmesg())
    c.eq(len(lines), 1, f"one refusal line: {lines}")
    c.expect(lines and re.fullmatch(
        rf"GRUB4DOS drive map at {G4D_PAGE:#x}: slot 1: image 0x[0-9a-f]+"
        rf"\+{size:#x} overlaps System RAM, refused", lines[0].strip()),
        f"the copy without --rt: slot 1 overlaps System RAM: {lines}")
    c.note(f"memdisk0 at {addr:#x}")


CASES = [("grub4dos-live-boot", case_grub4dos_live_boot),
         ("grub4dos-live-boot-no-module", case_grub4dos_live_boot_no_module),
         ("a1ive-live-boot", case_a1ive_live_boot)]
