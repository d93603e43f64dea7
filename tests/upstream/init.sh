#!/bin/busybox sh
# /sbin/init of the built-in boots (tests/upstream/run.py): the kernel
# mounted this root from a MEMDISK image itself, with no initramfs. It
# reports facts as "@@ key value" lines on the console; the host decides.
# shellcheck shell=sh
export PATH=/bin:/sbin
say() { echo "@@ $*"; }

say init-ran "pid=$$"
mount -t proc proc /proc
mount -t sysfs sys /sys
# shellcheck disable=SC2046 # the fields of one line of /proc/mounts
set -- $(awk '$2 == "/" { print $1, $3, $4 }' /proc/mounts | tail -n 1)
fstype=$2
say root "$1 $2 ${3%%,*}"

# Writable? Remount read-write as a system's init does, write, drop the
# page cache and read back.
if [ "$fstype" = ext4 ]; then
	mount -o remount,rw /
	say remount $?
	head -c 65536 /dev/urandom > /tmp.written
	sync
	want=$(sha256sum < /tmp.written)
	echo 3 > /proc/sys/vm/drop_caches
	[ "$(sha256sum < /tmp.written)" = "$want" ]
	say readback $((!$?))
	rm -f /tmp.written
	sync
fi

# MEMDISK's image claimed by the driver, and what holds it in the
# resource tree: at top level (no parent "Reserved" entry, as on a kernel
# without PCI) or nested.
grep ': memdisk' /proc/iomem | while IFS= read -r line; do
	indent=${line%%[! ]*}
	range=${line%% :*}
	say "iomem.${line##*: }" "depth=${#indent} ${range#"$indent"}"
done
say pci "$([ -d /sys/bus/pci ] && echo 1 || echo 0)"
say memdisk0.size "$(cat /sys/block/memdisk0/memdisk/size 2>/dev/null)"
say memdisk0.addr "$(cat /sys/block/memdisk0/memdisk/addr 2>/dev/null)"
say memdisk0.found "$(cat /sys/block/memdisk0/memdisk/found 2>/dev/null)"
say dmesg-begin
dmesg
say dmesg-end
say finished
reboot -f
