"""GRUB4DOS's `map --mem` (issue 20), with the real boot loader: grldr
built from ../shared/grub4dos's source tarball (images.grub4dos_grldr),
booted by SeaBIOS from a CD whose menu.lst maps images into RAM and boots
this kernel and initramfs from the CD.

grub4dos-map: `map --mem` of an El Torito ISO as a CD (0xff) and of a
partitioned hard-disk image as (hd0), then `map --hook`: with
autodetect=0 modprobe finds nothing; then it finds
both in GRUB4DOS's drive map and nothing else. The CD: found "grub4dos",
drive 0xff, read-only (writes fail and change nothing), 2048-byte
physical blocks, its size the ISO's rounded up to 4 KiB (GRUB4DOS's
rounding) and byte-exact: the ISO, then zeros; iso9660 mounts and its
files' checksums match. The hard disk: found "grub4dos", drive 0x80,
writable, 512-byte blocks, byte-exact; its partition mounts, a file
written reads back after drop_caches and after the module is reloaded.
No refusal line, clean dmesg.

grub4dos-nomap: the control, GRUB4DOS booting the same kernel with no
map. It leaves a stale copy of its INT 13h handler, drive map (with a
leftover RAM-drive slot) and safe hook at 0x9cc00, in usable RAM, which
/dev/mem reads as zeros; memmap= makes [0x9c000, 0xA0000) reserved, so
the guest sees the stale safe hook there, and the copy even lies in
reserved memory. Base memory is back at 639 KiB and the INT 13h vector
is the BIOS's: modprobe fails, "no image found", no device, no refusal
line, clean dmesg.

grub4dos-release: the same with a 264 MiB hard-disk image (whole memory
blocks inside): echo 1 > release of the hard disk's device succeeds, one
line says what was returned, the device is gone; loading the module
again serves the CD alone and refuses the hard disk's slot, which the
release spoilt, with one line: its image is empty now.

Each variant says SKIP if ../shared/grub4dos is absent."""
import images
from suite import BLOB

# Low memory as GRUB4DOS left it: base memory (KiB, BDA 0x413), the INT
# 13h vector, and the 16-byte lines of [0x80000, 0xA0000) holding
# "$INT13SFGRUB" (a GRUB4DOS safe hook; offsets from 0x80000).
GUEST = r"""
say bda "$(dd if=/dev/mem bs=1 skip=$((0x413)) count=2 2>/dev/null | od -An -tu2 | tr -d ' ')"
say int13 "$(dd if=/dev/mem bs=4 skip=$((0x4c / 4)) count=1 2>/dev/null | od -An -tx4 | tr -d ' ')"
say g4dsig "$(dd if=/dev/mem bs=4096 skip=128 count=32 2>/dev/null | od -Ax -tx1 -v -w16 |
	grep ' 24 49 4e 54 31 33 53 46 47 52 55 42' | cut -d' ' -f1 | tr '\n' ' ')"
modprobe memdiskblk autodetect=0 2>/dev/null
say off.modprobe $?
say off.present "$(present memdisk0)"
modprobe memdiskblk
say modprobe $?
for n in 0 1 2; do report_dev memdisk$n; done
cd=; hd=
for n in 0 1; do
	case "$(cat /sys/block/memdisk$n/memdisk/drive 2>/dev/null)" in
	0xff) cd=memdisk$n ;;
	0x80) hd=memdisk$n ;;
	esac
done
if [ -n "$cd" ]; then
	mount_files "$cd" iso9660
	try_write "$cd"
fi
if [ -n "$hd" ]; then
	p=${hd}p1
	say hd.part "$(present "$p")"
	if mount -t vfat "/dev/$p" /mnt; then
		say hd.mount ok
		say hd.orig "$(sha /mnt/data/blob)"
		head -c 1048576 /dev/urandom > /tmp/new
		cp /tmp/new /mnt/data/new
		umount /mnt
		echo 3 > /proc/sys/vm/drop_caches
		mount -t vfat -o ro "/dev/$p" /mnt
		[ "$(sha /tmp/new)" = "$(sha /mnt/data/new)" ]
		say hd.readback $((!$?))
		umount /mnt
	fi
	rmmod memdiskblk
	modprobe memdiskblk
	mount -t vfat -o ro "/dev/$p" /mnt &&
		[ "$(sha /tmp/new)" = "$(sha /mnt/data/new)" ]
	say hd.persist $((!$?))
	umount /mnt 2>/dev/null
fi
if [ "$ARG" = release ] && [ -n "$hd" ]; then
	(echo 1 > "/sys/block/$hd/memdisk/release")
	say release.rc $?
	gone "$hd"
	say release.present "$(present "$hd")"
	rmmod memdiskblk
	modprobe memdiskblk
	say reload $?
	set -- /sys/block/memdisk*
	say reload.devs $#
fi
"""
# Measured here: map 17-19 s a boot (GRUB4DOS copies 60 MiB from the CD),
# nomap 8-10 s; 40-50 and 20-25 s beside a full suite.
COST = 25
TIMEOUT = 300


def skipped(c):
    """SKIP (True) when GRUB4DOS's source is not beside this repository."""
    if images.grub4dos_tarball() is None:
        c.skip(f"no GRUB4DOS source tarball in {images.GRUB4DOS}")
        return True
    return False


def boot_menu(k, c, commands, files, args="", **kw):
    """Boot GRUB4DOS from a CD holding files ({path in the CD: file}),
    this kernel as /vmlinuz and its initramfs as /initrd.gz, whose
    menu.lst runs commands, then boots the kernel into c's guest (with
    args added to its command line)."""
    menu = ("timeout 0\ndefault 0\ntitle test\n" + commands +
            f"kernel /vmlinuz {images.CONSOLE} {k.cmdline(c, args)}\n"
            "initrd /initrd.gz\nboot\n")
    cd = images.grub4dos_iso(k.dir / f"{c.name}-grub4dos.iso", menu, {
        "vmlinuz": images.vmlinuz(k.kver), "initrd.gz": k.initrd, **files})
    return k.boot(c, extra=["-cdrom", str(cd), "-boot", "d", "-nic", "none"],
                  **{"timeout": TIMEOUT, **kw})


def crc32_padded(path, size):
    """The CRC-32 of the file at path followed by zeros up to size bytes."""
    crc = int(images.crc32_file(path), 16)
    pad = size - path.stat().st_size
    return f"{images.zlib.crc32(bytes(pad), crc):08x}" if pad >= 0 else "short"


def refusals(b):
    return [ln for ln in b.dmesg().splitlines()
            if "memdiskblk:" in ln and "refused" in ln]


def boot_map(k, c, size=0, args="", **kw):
    """The ISO as (0xff), a hard-disk image (of size bytes) as (hd0)."""
    iso = k.iso(c, name=f"{c.name}-cd")
    img = k.harddisk(c, files={"blob": BLOB}, size=size,
                     name=f"{c.name}-hd")
    b = boot_menu(k, c, "map --mem /cd.iso (0xff)\nmap --mem /hd.img (hd0)\n"
                  "map --hook\n", {"cd.iso": iso, "hd.img": img}, args, **kw)
    c.booted(b)
    return b, iso, img


def case_release(k, c):
    if skipped(c):
        return
    # GRUB4DOS copies the 264 MiB from the CD with the console silent:
    # 60 s alone, minutes beside a full suite.
    b, _, img = boot_map(k, c, 264 << 20, "mdbarg=release", timeout=900,
                         silent_limit=600)
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    hd = next((f"memdisk{n}" for n in (0, 1)
               if b.get(f"memdisk{n}.sysfs.drive") == "0x80"), None)
    c.expect(hd, "a device for the hard disk")
    c.eq(b.get(f"{hd}.sysfs.size"), str(img.stat().st_size), "hard disk size")
    c.eq(b.get("release.rc"), "0", "echo 1 > release succeeds")
    c.eq(b.get("release.present"), "0", "the hard disk's device is gone")
    lines = [ln for ln in b.dmesg().splitlines() if f"{hd}: released:" in ln]
    c.eq(len(lines), 1, f"one release line: {lines}")
    c.eq(b.get("reload"), "0", "a reload serves the CD")
    c.eq(b.get("reload.devs"), "1", "and nothing else")
    got = refusals(b)
    c.expect(len(got) == 1 and "GRUB4DOS drive map at " in got[0] and
             "+0x0 is empty, refused" in got[0],
             f"the reload refuses the spoilt slot: {got}")


def case_map(k, c):
    if skipped(c):
        return
    b, iso, img = boot_map(k, c)
    c.expect(b.get("off.modprobe") not in (None, "0") and
             b.get("off.present") == "0", "autodetect=0: no device")
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    c.eq(b.get("memdisk2.present"), "0", "two devices, no third")
    c.eq(refusals(b), [], "refusal lines")
    devs = {b.get(f"memdisk{n}.sysfs.drive"): f"memdisk{n}" for n in (0, 1)
            if b.get(f"memdisk{n}.present") == "1"}
    cd, hd = devs.get("0xff"), devs.get("0x80")
    c.expect(cd and hd, f"a device for drive 0xff and one for 0x80: {devs}")
    if not (cd and hd):
        return
    # The CD: GRUB4DOS's size (the ISO's, rounded up to 4 KiB), the ISO
    # byte for byte, then zeros.
    isize = iso.stat().st_size
    size = int(b.get(f"{cd}.sysfs.size") or 0)
    c.eq(size, (isize + 4095) & ~4095, "CD size: the ISO's rounded up to 4 KiB")
    c.eq(b.get(f"{cd}.crc32"), crc32_padded(iso, size),
         "CD CRC-32: the ISO, then zeros")
    c.eq(b.get(f"{cd}.sysfs.found"), "grub4dos", "CD found by GRUB4DOS's map")
    c.eq(b.get(f"{cd}.sysfs.readonly"), "1", "CD read-only")
    c.eq(b.get(f"{cd}.ro"), "1", "CD block layer ro flag")
    c.eq(b.get(f"{cd}.pbs"), "2048", "CD physical block size")
    c.eq(b.get(f"{cd}.lbs"), "512", "CD logical block size")
    c.eq(b.get(f"{cd}.mount"), "ok", "iso9660 mounts")
    for name, blob in k.files.items():
        c.eq(b.get(f"{cd}.file.{name}"),
             images.hashlib.sha256(blob).hexdigest(), f"file {name} checksum")
    c.expect(b.get(f"{cd}.write_rc") not in (None, "0"), "CD write fails")
    c.expect(b.get(f"{cd}.write_direct_rc") not in (None, "0"),
             "CD direct write with the ro flag cleared fails")
    c.eq(b.get(f"{cd}.unchanged"), "1", "CD unchanged after writes")
    # The hard disk: writable, exactly the image.
    c.eq(b.get(f"{hd}.sysfs.size"), str(img.stat().st_size), "hard disk size")
    c.eq(b.get(f"{hd}.crc32"), images.crc32_file(img), "hard disk CRC-32")
    c.eq(b.get(f"{hd}.sysfs.found"), "grub4dos", "hard disk found by the map")
    c.eq(b.get(f"{hd}.sysfs.readonly"), "0", "hard disk writable")
    c.eq(b.get(f"{hd}.ro"), "0", "hard disk block layer ro flag clear")
    c.eq(b.get(f"{hd}.pbs"), "512", "hard disk physical block size")
    c.eq(b.get("hd.part"), "1", f"{hd}p1 exists")
    c.eq(b.get("hd.mount"), "ok", f"{hd}p1 mounts")
    c.eq(b.get("hd.orig"), images.hashlib.sha256(BLOB).hexdigest(),
         "file on the partition checksum")
    c.eq(b.get("hd.readback"), "1", "written file reads back")
    c.eq(b.get("hd.persist"), "1", "written file survives module reload")
    c.note(f"CD at {b.get(f'{cd}.sysfs.addr')}, hard disk at "
           f"{b.get(f'{hd}.sysfs.addr')}, INT 13h {b.get('int13')}, "
           f"{b.seconds:.0f} s boot")


def case_nomap(k, c):
    if skipped(c):
        return
    b = boot_menu(k, c, "", {}, "memmap=0x4000$0x9c000")
    c.booted(b)
    c.expect(b.get("g4dsig", "").strip(),
             "a stale GRUB4DOS safe hook in low memory (the control's point)")
    c.eq(b.get("bda"), "639", "base memory back at 639 KiB")
    c.expect((b.get("int13") or "").startswith("f000"),
             f"INT 13h vector the BIOS's: {b.get('int13')}")
    c.expect(b.get("modprobe") not in (None, "0"), "modprobe fails")
    c.eq(b.get("memdisk0.present"), "0", "no /dev/memdisk0")
    c.expect("memdiskblk: no image found" in b.dmesg(), "no image found")
    c.eq(refusals(b), [], "refusal lines")
    lines = [f"{0x80000 + int(x, 16):#x}" for x in b.get("g4dsig", "").split()]
    c.note(f"stale safe hook in the line at {', '.join(lines)}, "
           f"{b.seconds:.0f} s boot")


CASES = {"grub4dos-map": case_map, "grub4dos-nomap": case_nomap,
         "grub4dos-release": case_release}
