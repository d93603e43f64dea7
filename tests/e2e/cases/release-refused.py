"""A release that could return no memory is refused before anything
changes: an image that holds no whole memory block (128 MiB in these
guests) gets ENOSPC from echo 1 > release, one "not released: the image
holds no whole 128 MiB memory block" line, and stays exactly as it was:
/dev/memdisk0 present and byte-exact, its claim in /proc/iomem, MemTotal
unchanged. The project's initramfs-tools init-bottom script, run as
initramfs-tools runs it with memdiskblk.release=auto, leaves such an
image alone too: it exits 0, the driver says the same one line, and the
device is still there, byte-exact. Clean dmesg.

release-refused-floppy: MEMDISK's 24 MiB floppy (every floppy image);
release-refused-harddisk: a 64 MiB hard-disk image."""
from pathlib import Path

import images

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = "initramfs/initramfs-tools/scripts/init-bottom/memdiskblk"

GUEST = r"""
d=/sys/block/memdisk0/memdisk
modprobe memdiskblk release=auto
say modprobe $?
say crc_before "$(crc /dev/memdisk0)"
say total_before "$(mem MemTotal)"
say err "$( (echo 1 > $d/release) 2>&1)"
say present "$(present memdisk0)"
say crc_after "$(crc /dev/memdisk0)"
say claim "$(grep -c ' : memdisk0$' /proc/iomem)"
say total_after "$(mem MemTotal)"
sh /scripts/init-bottom/memdiskblk
say auto.rc $?
say auto.present "$(present memdisk0)"
say auto.crc "$(crc /dev/memdisk0)"
"""


def PREPARE(k):
    """The e2e initramfs plus the project's init-bottom script."""
    return images.initramfs(k.kver, k.ko, name="-release-refused",
                            cases={"release-refused": GUEST},
                            files={f"/scripts/init-bottom/memdiskblk": ROOT / SCRIPT})


def check(c, b, img):
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe")
    crc = images.crc32_file(img)
    c.eq(b.get("crc_before"), crc, "memdisk0 is the image")
    c.expect("No space left on device" in (b.get("err") or ""),
             f"ENOSPC: {b.get('err')!r}")
    c.eq(b.get("present"), "1", "/dev/memdisk0 still there")
    c.eq(b.get("crc_after"), crc, "still byte-exact")
    c.eq(b.get("claim"), "1", "its claim still in /proc/iomem")
    c.eq(b.get("total_after"), b.get("total_before"), "MemTotal unchanged")
    c.eq(b.get("auto.rc"), "0", "release=auto's init-bottom script exits 0")
    c.eq(b.get("auto.present"), "1", "the device survives release=auto")
    c.eq(b.get("auto.crc"), crc, "byte-exact after release=auto")
    lines = [ln for ln in b.dmesg().splitlines()
             if "memdiskblk: memdisk0: not released" in ln]
    c.eq(len(lines), 2, f"one line a refusal, two in all: {lines}")
    c.expect(all("the image holds no whole 128 MiB memory block" in ln
                 for ln in lines), f"the line says why: {lines[:1]}")
    c.expect("memdisk0: released:" not in b.dmesg(), "nothing released")


def floppy(k, c):
    img = k.floppy(c, initrd=c.prepared)
    check(c, k.boot(c, image=img, memdisk_args="floppy"), img)


def harddisk(k, c):
    img = k.harddisk(c, initrd=c.prepared, size=64 << 20)
    check(c, k.boot(c, image=img, memdisk_args="harddisk"), img)


CASES = {"release-refused-floppy": floppy, "release-refused-harddisk": harddisk}
