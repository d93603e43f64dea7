#!/usr/bin/env python3
"""make demo: build an ISO holding a Debian kernel and a small initramfs,
boot it through syslinux's real MEMDISK in QEMU, and show what the guest
sees: /dev/memdisk0 mounted, with its sysfs metadata."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import images  # noqa: E402
from boot import boot  # noqa: E402

# What the guest shows a person (run by tests/e2e/guest/init).
GUEST = r"""
echo "===== in the guest: MEMDISK booted this ISO, Linux runs from it ====="
echo "# modprobe memdiskblk"
modprobe memdiskblk
dmesg | grep memdiskblk | grep -v taint
echo "# ls -l /dev/memdisk*"
ls -l /dev/memdisk*
echo "# grep -s . /sys/block/memdisk0/memdisk/*"
grep -s . /sys/block/memdisk0/memdisk/*
echo "# mount /dev/memdisk0 /mnt && ls -l /mnt"
mount -t iso9660 -o ro /dev/memdisk0 /mnt
grep memdisk /proc/mounts
ls -l /mnt
echo "# grep memdisk /proc/iomem"
grep memdisk /proc/iomem
umount /mnt
echo "===== end of demo ====="
"""


def main():
    kver = images.kernels()[-1]
    print(f"building memdiskblk for {kver} and a test ISO ...", flush=True)
    ko, _ = images.build_module(kver)
    initrd = images.initramfs(kver, ko, name="-demo", cases={"demo": GUEST})
    iso = images.iso(images.CACHE / "demo.iso", kver, initrd, "mdbtest=demo",
                     images.data_files("demo"))
    print(f"booting {iso.name} ({iso.stat().st_size} bytes) with "
          f"qemu -kernel /usr/lib/syslinux/memdisk -initrd {iso.name} "
          "-append 'iso raw' ...", flush=True)
    b = boot("demo", image=iso, memdisk_args="iso raw", timeout=300)
    shown = False
    for line in b.log.splitlines():
        line = line.rstrip("\r")
        if line.startswith("====="):
            shown = not shown or "end of demo" not in line
            print(line)
            continue
        if shown and not line.startswith("@@"):
            print(line)
    ok = "/dev/memdisk0 /mnt iso9660" in b.log
    print(f"demo {'worked' if ok else 'FAILED'} in {b.seconds:.0f} s "
          f"(console log: {images.CACHE / 'logs' / 'demo.log'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
