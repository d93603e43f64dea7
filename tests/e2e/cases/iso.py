"""El Torito ISO of 4 KiB + 2 KiB size (what phram refuses): the device
is byte-exact, read-only, 2048-byte physical blocks, iso9660 mounts and
its files' checksums match, writes fail and change nothing, and
memdiskfind in the same guest reports the address and size in sysfs."""
import hashlib

from suite import check_dev, check_write_refused

GUEST = """
modprobe memdiskblk
say modprobe $?
report_dev memdisk0
say memdisk1.present "$(present memdisk1)"
mount_files memdisk0 iso9660
try_write memdisk0
say memdiskfind "$(memdiskfind 2>&1)"
"""


def test(k, c):
    args = "iso raw"
    iso = k.iso(c)
    c.expect(iso.stat().st_size % 4096 == 2048, "ISO size is 4 KiB + 2 KiB")
    b = k.boot(c, image=iso, memdisk_args=args)
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    check_dev(c, b, "memdisk0", iso, 2048, True, "0xe0", args)
    c.eq(b.get("memdisk1.present"), "0", "no second device")
    c.eq(b.get("memdisk0.mount"), "ok", "iso9660 mounts")
    for name, blob in k.files.items():
        c.eq(b.get(f"memdisk0.file.{name}"), hashlib.sha256(blob).hexdigest(),
             f"file {name} checksum")
    check_write_refused(c, b, "memdisk0")
    size = int(b.get("memdisk0.sysfs.size", "0"))
    c.eq(b.get("memdiskfind", ""), f"{b.get('memdisk0.sysfs.addr')},{size:#x}",
         "memdiskfind agrees with sysfs")
