"""Linux booted without MEMDISK: modprobe fails, no device, the module
is not left loaded, one informational line, no warning."""
import images

GUEST = """
modprobe memdiskblk 2>/dev/null
say modprobe $?
say memdisk0.present "$(present memdisk0)"
say loaded "$(grep -c '^memdiskblk ' /proc/modules)"
"""


def test(k, c):
    b = k.boot(c, kernel=images.vmlinuz(k.kver), initrd=k.initrd,
               append=f"{images.CONSOLE} {k.cmdline(c)}")
    c.booted(b)
    c.expect(b.get("modprobe") not in (None, "0"), "modprobe fails")
    c.eq(b.get("memdisk0.present"), "0", "no /dev/memdisk0")
    c.eq(b.get("loaded"), "0", "module not loaded")
    c.expect("memdiskblk: no image found" in b.dmesg(),
             "dmesg says no image found")
