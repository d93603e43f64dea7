"""The netboot path: QEMU's iPXE ROM fetches a script, MEMDISK and the
ISO over QEMU's built-in TFTP; iPXE lowers base memory so MEMDISK's
table is not page-aligned, and the device is still byte-exact,
read-only, and refuses writes."""
import images
from suite import check_write_refused

GUEST = """
ro_checks
"""


def test(k, c):
    iso = k.iso(c)
    tree = images.ipxe_tree(k.dir / "tftp", iso, "iso raw")
    b = k.boot(c, extra=[
        "-netdev", f"user,id=n0,tftp={tree},bootfile=boot.ipxe",
        "-device", f"e1000,netdev=n0,romfile={images.IPXE_ROM}",
        "-boot", "n"])
    c.booted(b)
    c.eq(b.get("memdisk0.crc32"), images.crc32_file(iso), "memdisk0 byte-exact")
    c.eq(b.get("memdisk0.sysfs.readonly"), "1", "read-only")
    mbft = int(b.get("memdisk0.sysfs.mbft") or "0", 16)
    c.expect(mbft, "mBFT found")
    c.expect(mbft & 0xfff, f"mBFT at {mbft:#x} is not page-aligned (iPXE moved MEMDISK)")
    check_write_refused(c, b, "memdisk0")
