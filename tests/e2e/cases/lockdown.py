"""Under lockdown=integrity, with a hard-disk image: an unsigned copy of
the module and /dev/mem are refused and securityfs says [integrity]
(lockdown is really on); the module signed with the debug tree's key
loads and autodetects the image byte for byte; image= (a hardware
parameter) is refused by the kernel, with one Lockdown line and its own
line naming the parameter (the driver never runs), the module does not
load and there is no device; readonly=1, not a hardware parameter,
still works. Runs only under the debug kernel (tests/debug), the one
that accepts our module under lockdown: module signing with its own key
and the lockdown LSM (tests/debug/debug.config)."""
import re
import shutil
import subprocess

import images

ONLY = "debug"

GUEST = """
mount -t securityfs securityfs /sys/kernel/security
say lockdown "$(cat /sys/kernel/security/lockdown)"
dd if=/dev/mem of=/dev/null bs=1 skip=$((0x413)) count=2 2>/dev/null
say devmem $?
insmod /lib/unsigned/memdiskblk.ko 2>/dev/null
say unsigned $?
modprobe memdiskblk
say modprobe $?
report_dev memdisk0
addr=$(cat /sys/block/memdisk0/memdisk/addr)
size=$(cat /sys/block/memdisk0/memdisk/size)
rmmod memdiskblk
modprobe memdiskblk autodetect=0 image="$addr,$size" 2>/dev/null
say param.modprobe $?
say param.memdisk0 "$(present memdisk0)"
say param.loaded "$(grep -c '^memdiskblk ' /proc/modules)"
modprobe memdiskblk readonly=1
say ro.modprobe $?
say ro.readonly "$(cat /sys/block/memdisk0/memdisk/readonly)"
say ro.crc32 "$(crc /dev/memdisk0)"
"""


def test(k, c):
    tree = images.kdir(k.kver)
    signed = k.dir / "memdiskblk-signed.ko"
    shutil.copy(k.ko, signed)
    subprocess.run([str(tree / "scripts/sign-file"), "sha256",
                    str(tree / "certs/signing_key.pem"),
                    str(tree / "certs/signing_key.x509"), str(signed)],
                   check=True)
    initrd = images.initramfs(k.kver, signed, name="-lockdown",
                              cases={c.guest: GUEST},
                              files={"/lib/unsigned/memdiskblk.ko": k.ko})
    img = images.harddisk(k.dir / "lockdown.img", k.kver, initrd,
                          k.cmdline(c, "lockdown=integrity"), {})
    b = k.boot(c, image=img, memdisk_args="harddisk")
    c.booted(b)
    d = b.dmesg()
    c.expect("Kernel is locked down from command line" in d,
             "lockdown from the command line")
    c.expect("[integrity]" in (b.get("lockdown") or ""),
             f"securityfs lockdown: {b.get('lockdown')}")
    c.expect(b.get("devmem") not in (None, "0"), "/dev/mem refused")
    c.expect(b.get("unsigned") not in (None, "0"), "the unsigned module refused")
    c.expect("Lockdown: insmod: unsigned module loading is restricted" in d,
             "the kernel names the unsigned module")
    c.eq(b.get("modprobe"), "0", "the signed module loads")
    c.eq(b.get("memdisk0.crc32"), images.crc32_file(img), "autodetect: byte-exact")
    c.expect("scan" in (b.get("memdisk0.sysfs.found") or ""), "found by the scan")
    c.expect(b.get("param.modprobe") not in (None, "0"), "image= refused")
    c.eq(b.get("param.memdisk0"), "0", "no device with image=")
    c.eq(b.get("param.loaded"), "0", "the module did not load with image=")
    refusals = re.findall(r"Lockdown: modprobe: unsafe module parameters is restricted", d)
    c.eq(len(refusals), 1, "one Lockdown line for image=")
    c.eq(len(re.findall(r"memdiskblk: `[^']*' invalid for parameter `image'", d)), 1,
         "and the kernel's one line naming the parameter")
    c.expect(not [ln for ln in d.splitlines() if "memdiskblk:" in ln and "refused" in ln],
             "the driver itself refused nothing")
    c.eq(b.get("ro.modprobe"), "0", "readonly=1 is accepted under lockdown")
    c.eq(b.get("ro.readonly"), "1", "and takes effect")
    c.eq(b.get("ro.crc32"), images.crc32_file(img), "the same bytes")
