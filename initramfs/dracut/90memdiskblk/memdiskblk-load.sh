#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dracut cmdline hook: serve the ISO left in memory before
# root=live:CDLABEL=... waits for its link. Under UEFI that is the
# firmware's RAM disk, listed in the ACPI NFIT table: nfit and nd_pmem
# serve it as /dev/pmemN, and are loaded first so that nd_pmem owns that
# range. Under BIOS it is MEMDISK's image: memdiskblk (modprobe applies
# memdiskblk.* options from the kernel command line).
if [ -e /sys/firmware/acpi/tables/NFIT ]; then
	modprobe -q -a nfit nd_pmem 2>/dev/null || :
fi
modprobe -q memdiskblk 2>/dev/null || :
