#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# dracut module: memdiskblk, its udev rule, and an early load, so that
# root=live:CDLABEL=... finds an ISO that MEMDISK left in memory; and, for
# UEFI firmware HTTP boot, which leaves the ISO in a RAM disk described by
# the ACPI NFIT table, nfit and nd_pmem (/dev/pmemN). With
# memdiskblk.release=auto, a hook that releases the image before the
# switch to the real root.
# shellcheck disable=SC2154  # moddir is set by dracut

check() {
	# In generic images (live ISOs are built that way), not in a hostonly
	# initramfs for the machine at hand, where no MEMDISK image is.
	# shellcheck disable=SC2154  # hostonly is set by dracut
	[ -n "$hostonly" ] && return 255
	return 0
}

depends() {
	echo udev-rules
}

installkernel() {
	# dracut's own nvdimm module brings nfit (the drivers that register an
	# NVDIMM bus) but not nd_pmem.
	instmods memdiskblk nfit nd_pmem
}

install() {
	inst_rules 60-persistent-memdiskblk.rules
	inst_hook cmdline 10 "$moddir/memdiskblk-load.sh"
	# memdiskblk.release=auto: the online rule (inst_rules also installs
	# its PROGRAM, memdiskblk-released) and the hook that releases.
	inst_rules 61-memdiskblk-online.rules
	inst_hook pre-pivot 90 "$moddir/memdiskblk-release.sh"
}
