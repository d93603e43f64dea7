"""A floppy image ("floppy", a FAT superfloppy): writable, BIOS drive
0x00, the filesystem on the whole device mounts, and a written file
reads back after drop_caches and after the module is reloaded."""
from suite import BLOB, check_rw

GUEST = """
rw_checks memdisk0
"""


def test(k, c):
    img = k.floppy(c, files={"blob": BLOB})
    b = k.boot(c, image=img, memdisk_args="floppy")
    c.booted(b)
    check_rw(c, b, img, "0x00", "memdisk0")
