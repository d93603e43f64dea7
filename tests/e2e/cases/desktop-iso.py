"""A desktop-sized ISO (2.5 GiB + 2 KiB) in a 3.5 GiB guest: the whole
device is byte-exact and its size is the ISO's."""
import images

GUEST = """
modprobe memdiskblk
say modprobe $?
report_dev memdisk0
"""
COST = 150


def test(k, c):
    iso = k.iso(c, big=2560 << 20)
    try:
        b = k.boot(c, image=iso, memdisk_args="iso raw", mem=3584, timeout=900)
        c.booted(b)
        c.eq(b.get("memdisk0.crc32"), images.crc32_file(iso),
             "memdisk0 byte-exact")
        c.eq(b.get("memdisk0.sysfs.size"), str(iso.stat().st_size), "size")
    finally:
        iso.unlink()
