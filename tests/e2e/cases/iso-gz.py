"""An ISO gzip-compressed: MEMDISK unpacks it, and the device holds the
uncompressed ISO byte for byte, read-only, and refuses writes."""
import gzip
import shutil

from suite import check_dev, check_write_refused

GUEST = """
ro_checks
"""


def test(k, c):
    iso = k.iso(c)
    gz = k.dir / "iso-gz.iso.gz"
    with open(iso, "rb") as src, gzip.open(gz, "wb", 9) as dst:
        shutil.copyfileobj(src, dst)
    b = k.boot(c, image=gz, memdisk_args="iso raw")
    c.booted(b)
    check_dev(c, b, "memdisk0", iso, 2048, True, "0xe0", "iso raw")
    check_write_refused(c, b, "memdisk0")
