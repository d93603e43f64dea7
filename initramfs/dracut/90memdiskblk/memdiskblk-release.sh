#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dracut pre-pivot hook (sourced): with memdiskblk.release=auto on the
# kernel command line, give the RAM of every MEMDISK image nobody uses any
# more back to the kernel. With rd.live.ram, dmsquash-live has copied the
# squashfs to RAM but keeps the medium mounted at /run/initramfs/live:
# that mount goes first if it is a MEMDISK image and nothing holds it (a
# live tree with no squashfs is the root's base: umount fails, it stays).
# The driver refuses an image still in use (EBUSY) or holding no whole
# memory block (ENOSPC), and logs each outcome; the boot goes on.
# udevd still runs: 61-memdiskblk-online.rules onlines the memory where the
# kernel leaves it offline.
# shellcheck source=/dev/null  # dracut's, in the initramfs
type getargbool >/dev/null 2>&1 || . /lib/dracut-lib.sh

mdb_policy=
read -r mdb_policy 2>/dev/null < /sys/module/memdiskblk/parameters/release
if [ "$mdb_policy" = auto ]; then
	if getargbool 0 rd.live.ram -d -y live_ram; then
		while read -r mdb_dev mdb_mnt _; do
			case "$mdb_dev" in
			/dev/memdisk*)
				[ "$mdb_mnt" = /run/initramfs/live ] &&
					umount /run/initramfs/live 2>/dev/null
				;;
			esac
		done < /proc/mounts
	fi
	for mdb_release in /sys/block/memdisk*/memdisk/release; do
		[ -e "$mdb_release" ] && { echo 1 > "$mdb_release"; } 2>/dev/null
	done
	udevadm settle --timeout=10 2>/dev/null
fi
unset mdb_policy mdb_dev mdb_mnt mdb_release
