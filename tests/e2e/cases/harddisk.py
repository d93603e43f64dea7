"""A partitioned hard-disk image ("harddisk"): writable, BIOS drive
0x80, memdisk0p1 appears and mounts, a file written to it reads back
after drop_caches and after the module is reloaded (so the write
reached MEMDISK's image in memory); the last sector reads, nothing
reads past the end, a write past the end fails."""
from suite import BLOB, check_rw

GUEST = """
rw_checks memdisk0p1
"""


def test(k, c):
    img = k.harddisk(c, files={"blob": BLOB})
    b = k.boot(c, image=img, memdisk_args="harddisk")
    c.booted(b)
    check_rw(c, b, img, "0x80", "memdisk0p1")
