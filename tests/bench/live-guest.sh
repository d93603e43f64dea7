# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The live part of `make bench`, in the live root (dash; a Debian minbase
# and a few packages), run by its /sbin/init (tests/bench/live-init) from
# the boot medium, /run/live/medium/bench/. Reports "@@ bench.KEY ..."
# lines for tests/bench/live.py, then powers the guest off:
#
#   medium DEV FSTYPE      what /run/live/medium is mounted from
#   stamp.initramfs S      kernel log time of "Run /init" (the initramfs)
#   stamp.root S           kernel log time of the root's init
#   mem.boot|mem.read KiB  MemAvailable MemTotal Shmem Cached, after
#                          boot, then after every file was read once
#   read.cold NS BYTES     every file of the root read once, caches
#                          dropped first, by one thread per vCPU (.files:
#                          how many)
#   read.warm NS BYTES     the same again, from the page cache
#   read.device NS BYTES   the squashfs file itself read, caches dropped:
#                          what the device (and isofs) gives
#   squashfs BYTES         its size
#
# With mdblive.read=0 on the command line, only the boot's figures.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
M=/run/live/medium
BENCH=$M/bench/mdbbench
SQUASHFS=$M/live/filesystem.squashfs

say() { echo "@@ bench.$1 $2"; }
meminfo() {
	awk '/^(MemAvailable|MemTotal|Shmem|Cached):/ { v[$1] = $2 }
	END { print v["MemAvailable:"], v["MemTotal:"], v["Shmem:"], v["Cached:"] }' /proc/meminfo
}
stamp() {
	dmesg | awk -v m="$1" 'index($0, m) {
		sub(/^\[ */, ""); sub(/\].*/, ""); print; exit }'
}
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

say mem.boot "$(meminfo)"
say medium "$(awk -v m="$M" '$2 == m { print $1, $3 }' /proc/mounts)"
say stamp.initramfs "$(stamp 'Run /init as init process')"
say stamp.root "$(stamp 'mdb-live: root init')"
say modules "$(awk '$1 ~ /^(memdiskblk|phram|mtdblock)$/ { printf "%s ", $1 }' /proc/modules)"
say squashfs "$(stat -c %s "$SQUASHFS")"
JOBS=$(grep -c ^processor /proc/cpuinfo)
case " $(cat /proc/cmdline) " in
*" mdblive.read=0 "*) ;;
*)
	drop
	"$BENCH" tree read.cold / "$JOBS"
	say mem.read "$(meminfo)"
	"$BENCH" tree read.warm / "$JOBS"
	drop
	"$BENCH" seq read.device "$SQUASHFS" buffered
	;;
esac
echo "@@ dmesg-begin"
dmesg
echo "@@ dmesg-end"
say finished ""
sync
echo o >/proc/sysrq-trigger
sleep 60
