"""A hard-disk image booted with MEMDISK's "ro" option is read-only:
the device is byte-exact, sysfs says read-only, writes fail and the
image is unchanged."""
from suite import check_dev, check_write_refused

GUEST = """
ro_checks
"""


def test(k, c):
    img = k.harddisk(c)
    b = k.boot(c, image=img, memdisk_args="harddisk ro")
    c.booted(b)
    check_dev(c, b, "memdisk0", img, 512, True, "0x80", "harddisk ro")
    check_write_refused(c, b, "memdisk0")
