"""Nothing a later kernel could take for an image: a 256 MiB hard-disk
image is released (its whole memory blocks become this kernel's RAM),
then the same kernel and initramfs are started with kexec (no firmware in
between: the new kernel gets the firmware's memory map, the image's range
reserved again, and MEMDISK's tables in low memory as the old kernel left
them). Its memdiskblk finds no image: one "mBFT at ...: bad checksum,
refused" line (the release spoilt the table's checksum) and "no image
found", no /dev/memdisk0.

kexec-kept, the control: the same without the release; the new kernel's
memdiskblk serves the image again, byte-exact (found through the scan
and the safe-hook chain). Clean dmesg in the new kernel."""
import re

import images

SIZE = 256 << 20
GUEST = r"""
if [ "$ARG" = second ]; then
	say k2.booted 1
	modprobe memdiskblk
	say k2.modprobe $?
	say k2.present "$(present memdisk0)"
	[ -b /dev/memdisk0 ] && say k2.crc "$(crc /dev/memdisk0)"
	[ -b /dev/memdisk0 ] && say k2.found "$(cat /sys/block/memdisk0/memdisk/found)"
else
	modprobe memdiskblk
	say modprobe $?
	mount -t vfat -o ro /dev/memdisk0p1 /mnt
	cp /mnt/vmlinuz /mnt/initrd.gz /tmp/
	umount /mnt
	if [ "$ARG" = release ]; then
		(echo 1 > /sys/block/memdisk0/memdisk/release)
		say release.rc $?
	fi
	cmdline=$(sed 's/mdbarg=[a-z]*/mdbarg=second/' /proc/cmdline)
	mdbio kexec /tmp/vmlinuz /tmp/initrd.gz "$cmdline"
	say kexec.rc $?
fi
"""
COST = 60


def run(k, c, arg):
    img = k.harddisk(c, f"mdbarg={arg}", size=SIZE)
    b = k.boot(c, image=img, memdisk_args="harddisk", mem=1024 + (SIZE >> 20),
               timeout=300)
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "the first kernel serves the image")
    c.eq(b.get("kexec.rc"), None, "kexec started the new kernel (did not return)")
    c.eq(b.get("k2.booted"), "1", "the new kernel ran the guest")
    return b, img


def released(k, c):
    b, _ = run(k, c, "release")
    c.eq(b.get("release.rc"), "0", "released")
    c.expect(b.get("k2.modprobe") not in (None, "0"), "the new kernel's load fails")
    c.eq(b.get("k2.present"), "0", "no /dev/memdisk0 in the new kernel")
    dmesg = b.dmesg()
    refused = re.findall(r"memdiskblk: mBFT at 0x[0-9a-f]+: bad checksum, refused", dmesg)
    c.eq(len(refused), 1, f"one line refuses the spoilt mBFT: {refused}")
    c.expect("memdiskblk: no image found" in dmesg, "and says no image found")


def kept(k, c):
    b, img = run(k, c, "keep")
    c.eq(b.get("k2.modprobe"), "0", "the new kernel serves the image")
    c.eq(b.get("k2.crc"), images.crc32_file(img), "byte-exact")
    c.eq(b.get("k2.found"), "scan,hook", "found through the mBFT and the chain")


CASES = {"kexec-released": released, "kexec-kept": kept}
