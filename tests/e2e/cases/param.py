"""image=ADDR,SIZE,ro with the address autodetect found serves the same
bytes read-only; together with autodetect the duplicate is refused; a
range in System RAM, below 1 MiB, empty, running past the reserved
area or past 4 GiB, or malformed is refused with one dmesg line each."""
import re

import images

# The range autodetect found, given by hand, then ranges that must be
# refused.
GUEST = """
modprobe memdiskblk
addr=$(cat /sys/block/memdisk0/memdisk/addr)
size=$(cat /sys/block/memdisk0/memdisk/size)
rmmod memdiskblk
modprobe memdiskblk autodetect=0 image="$addr,$size,ro"
say modprobe $?
report_dev memdisk0
rmmod memdiskblk
modprobe memdiskblk image="$addr,$size"
say both.modprobe $?
say both.memdisk1 "$(present memdisk1)"
rmmod memdiskblk
for bad in 0x1000000,1M 0x0,4096 "$addr,0" "$((addr + 512)),$size" \\
	0xfffff000,8K "$addr,$size,rw" nonsense; do
	modprobe memdiskblk autodetect=0 image="$bad" 2>/dev/null
	say "bad.$bad" $?
done
"""


def test(k, c):
    iso = k.iso(c)
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe with image= succeeds")
    c.eq(b.get("memdisk0.crc32"), images.crc32_file(iso), "byte-exact")
    c.eq(b.get("memdisk0.sysfs.found"), "param", "found by param")
    c.eq(b.get("memdisk0.sysfs.readonly"), "1", ",ro makes it read-only")
    c.eq(b.get("memdisk0.sysfs.sector_size"), "512", "512-byte sectors")
    c.eq(b.get("both.modprobe"), "0", "autodetect + same image= loads")
    c.eq(b.get("both.memdisk1"), "0", "the duplicate is not a second device")
    d = b.dmesg()
    c.expect("overlaps an autodetected image, refused" in d, "duplicate refused in dmesg")
    bad = {key[4:]: v for key, v in b.facts.items() if key.startswith("bad.")}
    c.eq(len(bad), 7, "seven bad image= values tried")
    for value, rc in bad.items():
        c.expect(rc != "0", f"image={value} refused")
        c.eq(len(re.findall(rf"image={re.escape(value)}: .*, refused", d)), 1,
             f"one dmesg line for image={value}")
