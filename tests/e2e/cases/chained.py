"""Chained MEMDISK (an outer ISO whose isolinux loads MEMDISK again with
an inner ISO): every device is one of the two ISOs byte for byte, the
outer one is found, nothing is invented, and following the INT 13h
vector into the inner instance's (zeroed) memory does no harm."""
import images

GUEST = """
modprobe memdiskblk
say modprobe $?
for n in 0 1 2 3; do report_dev memdisk$n; done
"""


def test(k, c):
    inner = k.iso(c, name="chained-inner")
    outer = images.chained_iso(k.dir / "chained-outer.iso", k.kver, k.initrd,
                               inner)
    b = k.boot(c, image=outer, memdisk_args="iso raw")
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    known = {images.crc32_file(inner): "inner", images.crc32_file(outer): "outer"}
    seen = []
    for n in range(4):
        if b.get(f"memdisk{n}.present") == "1":
            seen.append(known.get(b.get(f"memdisk{n}.crc32"), "unknown"))
    c.expect("outer" in seen, f"outer ISO exposed (devices: {seen})")
    c.expect("unknown" not in seen, f"no invented device (devices: {seen})")
    c.eq(len(seen), len(set(seen)), "each image once")
