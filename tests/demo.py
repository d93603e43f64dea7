#!/usr/bin/env python3
"""make demo: build an ISO holding a Debian kernel and a small initramfs,
boot it through syslinux's real MEMDISK in QEMU, and show what the guest
sees: /dev/memdisk0 mounted, with its sysfs metadata."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))
import images  # noqa: E402
from boot import boot  # noqa: E402


def main():
    kver = images.kernels()[-1]
    print(f"building memdiskblk for {kver} and a test ISO ...", flush=True)
    ko, _ = images.build_module(kver)
    initrd = images.initramfs(kver, ko)
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
