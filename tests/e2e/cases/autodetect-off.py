"""memdiskblk.autodetect=0 on the kernel command line, honoured by
modprobe: MEMDISK is there but nothing is registered, and dmesg says
why."""

GUEST = """
modprobe memdiskblk 2>/dev/null
say modprobe $?
say memdisk0.present "$(present memdisk0)"
"""


def test(k, c):
    iso = k.iso(c, "memdiskblk.autodetect=0")
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    c.expect(b.get("modprobe") not in (None, "0"), "modprobe fails")
    c.eq(b.get("memdisk0.present"), "0", "no /dev/memdisk0")
    c.expect("no image found (autodetect=0)" in b.dmesg(),
             "dmesg names autodetect=0")
