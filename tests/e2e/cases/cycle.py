"""20 load/unload cycles each give the same bytes; rmmod is refused
while the device is mounted and works after umount."""
import images

GUEST = """
modprobe memdiskblk
first=$(crc /dev/memdisk0)
rmmod memdiskblk
say memdisk0.crc32 "$first"
i=0
ok=0
while [ $i -lt 20 ]; do
	modprobe memdiskblk && [ -b /dev/memdisk0 ] &&
		[ "$(crc /dev/memdisk0)" = "$first" ] &&
		rmmod memdiskblk && ok=$((ok + 1))
	i=$((i + 1))
done
say cycles_ok $ok
modprobe memdiskblk
mount -t iso9660 -o ro /dev/memdisk0 /mnt
rmmod memdiskblk 2>/dev/null
say rmmod_mounted $?
say loaded_after "$(grep -c '^memdiskblk ' /proc/modules)"
umount /mnt
rmmod memdiskblk
say rmmod_after_umount $?
"""
COST = 35


def test(k, c):
    iso = k.iso(c)
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    c.eq(b.get("memdisk0.crc32"), images.crc32_file(iso), "first load byte-exact")
    c.eq(b.get("cycles_ok"), "20", "20 clean load/unload cycles")
    c.expect(b.get("rmmod_mounted") not in (None, "0"), "rmmod refused while mounted")
    c.eq(b.get("loaded_after"), "1", "module still loaded")
    c.eq(b.get("rmmod_after_umount"), "0", "rmmod works after umount")
