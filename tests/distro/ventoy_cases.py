"""Ventoy's memdisk mode, booted with Ventoy's own binaries.

Ventoy (https://www.ventoy.net) boots ISO files from a USB disk; in its
memdisk mode it first loads the whole ISO into RAM. Under BIOS its GRUB
runs syslinux's MEMDISK ("iso raw"); under UEFI it puts the ISO, behind a
2616-byte header, in an EfiRuntimeServicesData allocation and
ventoy_x64.efi names it in the volatile EFI variable VentoyRamDisk. Either
way Linux sees RAM, not a disk: a live system finds its medium there only
if something serves that RAM as a block device.

images.ventoy_disk() lays a Ventoy disk out from Ventoy's prebuilt
INSTALL tree (../shared/ventoy beside this repository), holding one of
live_cases.py's hybrid live ISOs (isolinux and GRUB EFI); boot.py boots it
under OVMF or SeaBIOS as a virtio disk, which Linux sees (virtio_blk is in
the live initramfs) as it would see the USB stick. Its ventoy.json boots
the ISO with no key pressed (VTOY_DEFAULT_IMAGE, VTOY_MENU_TIMEOUT 0) and
copies Ventoy's text to the serial console (display_mode serial_console
and serial_param: without the latter, only OVMF's copy of the screen
reaches the serial log, and nothing of SeaBIOS's).
Memdisk mode is chosen as Ventoy's users choose it: under UEFI by the file
name's _VTMEMDISK suffix; under BIOS by ventoy.json's auto_memdisk list,
as the tree's BIOS GRUB is 1.0.73's (no suffix there) and runs 1.0.73's
grub.cfg. The live root (guest/live-init) reports the medium's mount,
memdisk0's sysfs metadata and the SHA-256 of all its bytes.

Without ../shared/ventoy every case says SKIP and why."""
import hashlib
import re

import images
import live_cases
from boot import boot
from live_cases import LABEL, MARKER, clean_log, mounts

# MiB. Under SeaBIOS with 768, the guest halted silently at the kernel's
# entry: 0x100000, where isolinux had loaded it, held other bytes.
MEM = 1024
# The plain control's live-boot gives up after 135-190 s here (its 60
# rounds each scan Ventoy's two partitions too).
TIMEOUT = 400
# What Ventoy's GRUB prints as it reads the ISO into RAM (its grub.cfg's
# uefi_iso_memdisk and legacy_iso_memdisk).
LOADING = "Loading ISO file to memory"
HEADER = 2616  # Ventoy's header in front of the ISO, in the same pages
MEMDISK = re.compile(r"/dev/memdisk0(p\d+)?")
NO_IMAGE = re.compile(r"memdiskblk: no (MEMDISK )?image found")


def ventoy(c, name, family, uefi=True, memdisk=True, integration=True):
    """Boot family's hybrid live ISO (live_cases.image) from a Ventoy disk
    of its own under OVMF (uefi) or SeaBIOS, in memdisk mode or Ventoy's
    normal one; returns (ISO, boot), or (None, None) with the case skipped
    when Ventoy's files are absent."""
    if images.ventoy_tarball() is None:
        c.skip(f"no Ventoy INSTALL tarball in {images.VENTOY}")
        return None, None
    iso, _ = live_cases.image(family, efi=True, integration=integration)
    fname = f"{family}{'_VTMEMDISK' if uefi and memdisk else ''}.iso"
    config = {"control": [{"VTOY_DEFAULT_IMAGE": f"/{fname}"},
                          {"VTOY_MENU_TIMEOUT": "0"},
                          {"VTOY_SECONDARY_BOOT_MENU": "0"}],
              "theme": {"display_mode": "serial_console",
                        "serial_param": "--unit=0 --speed=115200"}}
    if memdisk and not uefi:
        config["auto_memdisk"] = [f"/{fname}"]
    grub_cfg = None if uefi else images.VENTOY / "grub-1.0.73.cfg"
    disk = images.ventoy_disk(name, {fname: iso}, config, grub_cfg)
    return iso, boot(name, disk=disk, uefi=uefi, mem=MEM, timeout=TIMEOUT)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def booted_memdisk(c, b, iso, medium_at, found):
    """The live root ran from its medium on /dev/memdisk0 (or a partition
    of it) mounted at medium_at, linked by-label, with memdiskblk loaded;
    memdisk0 is read-only with 2048-byte sectors, was found as `found`
    says, and holds the ISO byte for byte; clean console log."""
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    c.expect(MARKER in b.log, f"{MARKER} printed (log tail: {b.log[-400:]!r})")
    c.eq(b.get("finished"), "", "the live root's init ran to its end")
    medium = mounts(b).get(medium_at, "")
    c.expect(MEMDISK.fullmatch(medium), f"medium at {medium_at} is "
             f"/dev/memdisk0 or a partition of it (mounts: {mounts(b)})")
    c.eq(b.get(f"link:by-label/{LABEL}"), "../../" + medium[5:],
         f"/dev/disk/by-label/{LABEL}")
    c.eq(b.get("memdiskblk"), "1", "memdiskblk loaded")
    c.expect(found(b.get("memdisk0:found", "")),
             f"memdisk0's found: {b.get('memdisk0:found')!r}")
    c.eq(b.get("memdisk0:readonly"), "1", "memdisk0 read-only")
    c.eq(b.get("memdisk0:sector_size"), "2048", "memdisk0's sector size")
    c.eq(b.get("memdisk0:sha256"), sha256(iso),
         "SHA-256 of all of /dev/memdisk0 (the ISO file's)")
    clean_log(c, b.log)
    c.note(f"{b.seconds:.0f} s boot, medium {medium}")


def uefi_memdisk(c, b, iso, medium_at):
    """booted_memdisk() through Ventoy's UEFI memdisk mode: its GRUB said
    it loads the ISO into memory, memdisk0's found is "ventoy", and the
    ISO starts HEADER bytes into a page (Ventoy's header and the ISO share
    one page-aligned allocation)."""
    c.expect(LOADING in b.log, f"Ventoy's GRUB: {LOADING!r}")
    booted_memdisk(c, b, iso, medium_at, lambda f: f == "ventoy")
    addr = b.get("memdisk0:addr") or "0"
    c.eq(int(addr, 16) % 4096, HEADER,
         f"memdisk0's address {addr} modulo 4 KiB")


def case_ventoy_uefi_live_boot(c, host):
    """Ventoy under OVMF, live-boot's hybrid ISO named *_VTMEMDISK.iso
    (memdisk mode): Ventoy's GRUB loads the ISO into memory and its EFI
    application boots it; live-boot (initramfs with the project's hook)
    finds its medium on /dev/memdisk0 or a partition of it, with
    by-label/MDBLIVE linked, memdisk0 found as "ventoy", read-only,
    2048-byte sectors, starting 2616 bytes (Ventoy's header) into a page,
    its SHA-256 the ISO file's; the live root's init runs to its end and
    the console log has no BUG/WARNING/Oops."""
    iso, b = ventoy(c, "ventoy-uefi-live-boot", "live-boot")
    if b:
        uefi_memdisk(c, b, iso, "/run/live/medium")


def case_ventoy_uefi_dracut(c, host):
    """The same for dracut's dmsquash-live (root=live:CDLABEL=MDBLIVE,
    initramfs with the project's 90memdiskblk): Ventoy's UEFI memdisk mode
    (*_VTMEMDISK.iso) under OVMF, the medium on /dev/memdisk0 or a
    partition of it, found as "ventoy", read-only, 2048-byte sectors, 2616
    bytes into a page, byte for byte the ISO; the live root's init runs
    to its end, clean console log."""
    iso, b = ventoy(c, "ventoy-uefi-dracut", "dracut")
    if b:
        uefi_memdisk(c, b, iso, "/run/initramfs/live")


def case_ventoy_bios_live_boot(c, host):
    """Ventoy under SeaBIOS with 1.0.73's grub.cfg, live-boot's hybrid ISO
    in ventoy.json's auto_memdisk list: Ventoy's GRUB says "memdisk mode
    boot" and loads the ISO into memory for Ventoy's MEMDISK, started
    from its VTOYEFI partition (memdisk0's cmdline ends in
    "/ventoy/memdisk iso raw"); live-boot finds its medium on /dev/memdisk0
    or a partition of it, found by a scan (MEMDISK's mBFT), read-only,
    2048-byte sectors, byte for byte the ISO; the live root's init runs to
    its end, clean console log."""
    iso, b = ventoy(c, "ventoy-bios-live-boot", "live-boot", uefi=False)
    if b:
        c.expect("memdisk mode boot for /live-boot.iso" in b.log,
                 "Ventoy's GRUB: memdisk mode (auto_memdisk)")
        c.expect(LOADING in b.log, f"Ventoy's GRUB: {LOADING!r}")
        cmdline = b.get("memdisk0:cmdline") or ""
        c.expect(cmdline.endswith("/ventoy/memdisk iso raw"),
                 f"MEMDISK's command line: {cmdline!r}")
        booted_memdisk(c, b, iso, "/run/live/medium",
                       lambda f: "scan" in f.split(","))


def case_ventoy_uefi_normal(c, host):
    """The control: the same live-boot ISO without the suffix, so in
    Ventoy's normal mode under OVMF (the ISO stays on the USB disk; the
    hooks Ventoy adds to the initramfs map the file's sectors as
    /dev/mapper/ventoy): no "Loading ISO file to memory", the live root's
    init runs from /dev/mapper/ventoy, memdiskblk said "no image found",
    is not loaded and made no /dev/memdisk0; clean console log."""
    _, b = ventoy(c, "ventoy-uefi-normal", "live-boot", memdisk=False)
    if not b:
        return
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    c.expect(LOADING not in b.log, f"no {LOADING!r}: normal mode")
    c.expect(MARKER in b.log, f"{MARKER} printed (log tail: {b.log[-400:]!r})")
    c.eq(b.get("finished"), "", "the live root's init ran to its end")
    c.eq(mounts(b).get("/run/live/medium"), "/dev/mapper/ventoy",
         f"the medium, by Ventoy's hooks (mounts: {mounts(b)})")
    lines = [line.split("] ", 1)[-1] for line in b.dmesg().splitlines()
             if "memdiskblk" in line and "taint" not in line]
    c.expect(len(lines) == 1 and NO_IMAGE.fullmatch(lines[0]),
             f"memdiskblk's one line (besides the taint notes): {lines}")
    c.eq(b.get("memdiskblk"), "0", "memdiskblk not loaded")
    c.eq(b.get("memdisk0"), "0", "no /dev/memdisk0")
    clean_log(c, b.log)
    c.note(f"{b.seconds:.0f} s boot")


def case_ventoy_uefi_live_boot_plain(c, host):
    """The control for what Ventoy's users see: the same UEFI memdisk
    boot (*_VTMEMDISK.iso under OVMF, Ventoy's GRUB loads the ISO into
    memory) with an initramfs made by mkinitramfs without the project's
    integration: live-boot says "Unable to find a medium containing a
    live file system" and the boot ends; MDB-LIVE-ROOT-OK never appears,
    no /dev/memdisk0 is named, clean console log."""
    _, b = ventoy(c, "ventoy-uefi-live-boot-plain", "live-boot",
                  integration=False)
    if not b:
        return
    c.expect(LOADING in b.log, f"Ventoy's GRUB: {LOADING!r}")
    live_cases.did_not_boot(
        c, b, "Unable to find a medium containing a live file system")


CASES = [("ventoy-uefi-live-boot", case_ventoy_uefi_live_boot),
         ("ventoy-uefi-dracut", case_ventoy_uefi_dracut),
         ("ventoy-bios-live-boot", case_ventoy_bios_live_boot),
         ("ventoy-uefi-normal", case_ventoy_uefi_normal),
         ("ventoy-uefi-live-boot-plain", case_ventoy_uefi_live_boot_plain)]
