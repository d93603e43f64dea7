# shellcheck shell=sh
# Guest side of `make bench`, run by tests/e2e/guest/init (busybox sh) as
# /cases/bench.sh for mdbtest=bench. mdbarg=MODE,RUNS,COUNT,WHO: MODE "speed" measures
# every contender side by side, "tune" memdiskblk under each queue
# setting, "mem" the memory that WHO (memdisk or phram) takes, "ab" two
# builds of memdiskblk in turns (WHO: rand or mem). Each figure
# is one "@@ bench.METRIC.CONTENDER.RUN NS AMOUNT" line from mdbbench;
# tests/bench/run.py turns them into the report.

IFS=, read -r MODE RUNS COUNT WHO <<EOF
$ARG
EOF
KVER=$(uname -r)
JOBS=$(grep -c ^processor /proc/cpuinfo)
ko() { modinfo -n "$1"; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
ready() {
	i=0
	while [ ! -b "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -b "$1" ] || { say bench.error "$1 did not appear"; return 1; }
}

# The image as the old recipe finds it, before anything maps it.
found=$(memdiskfind)
ADDR=${found%,*}
SIZE=$((${found#*,}))
say bench.image "$ADDR $SIZE"
say bench.jobs "$JOBS"
say bench.kernel "$KVER"
PHRAM="phram=bench,$ADDR,$SIZE,0x800"

# What loading WHO takes from the guest's memory: the first load in this
# boot (page tables made for a mapping outlive it, so only a first load
# shows them) and RUNS reloads.
bench_mem() {
	# mem and pcp come from tests/e2e/guest/init, which sources this.
	snap() { drop; echo "$(($(mem MemAvailable) + $(pcp))) $(mem Slab)"; }
	case $WHO in
	memdisk) on() { modprobe memdiskblk && ready /dev/memdisk0; }
		off() { rmmod memdiskblk; } ;;
	phram)	on() { modprobe phram "$PHRAM" && modprobe mtdblock && ready /dev/mtdblock0; }
		off() { rmmod mtdblock phram; }
		# its dependencies (mtd, mtd_blkdevs) are not part of its cost
		modprobe mtdblock && rmmod mtdblock ;;
	esac
	r=0
	while [ "$r" -le "$RUNS" ]; do
		before=$(snap)
		on || { say bench.error "$WHO did not load"; return; }
		say "bench.mem.$WHO.$r" "$before $(snap)"
		# The image's mappings (the caller shows as memremap).
		[ "$r" = 0 ] && awk '/ioremap/ && $2 > 65536 { print "@@ bench.vmalloc", $0 }' /proc/vmallocinfo
		off
		r=$((r + 1))
	done
}

# phram maps the image uncached (ioremap), memdiskblk write-back; PAT
# refuses the second mapping while the first exists, so the two take turns.
phram_on() {
	rmmod memdiskblk
	if ! { modprobe phram "$PHRAM" && modprobe mtdblock &&
		ready /dev/mtdblock0; }; then
		say bench.error "phram + mtdblock did not load"
		return 1
	fi
}
phram_off() {
	rmmod mtdblock phram
	modprobe memdiskblk && ready /dev/memdisk0
}

bench_speed() {
	# The contenders, each over the same bytes.
	modprobe memdiskblk && ready /dev/memdisk0 || return
	modprobe brd rd_nr=1 rd_size=$((SIZE / 1024)) max_part=0 && ready /dev/ram0 || return
	mdbbench copy fill.brd.1 /dev/memdisk0 /dev/ram0
	# pmem: the range the host carved with memmap=SIZE!ADDR (see run.py).
	modprobe nd_e820 && modprobe nd_pmem && ready /dev/pmem0 || return
	mdbbench copy fill.pmem.1 /dev/memdisk0 /dev/pmem0
	mdbbench copy fill.tmpfs.1 /dev/memdisk0 /tmp/image
	sum() { head -c "$SIZE" "$1" | sha256sum | cut -d' ' -f1; }
	for d in memdisk0 ram0 pmem0; do
		say "bench.sha.$d" "$(sum "/dev/$d")"
	done
	say bench.sha.tmpfs "$(sum /tmp/image)"
	phram_on || return
	say bench.sha.mtdblock0 "$(sum /dev/mtdblock0)"
	phram_off
	drop
	r=1
	while [ "$r" -le "$RUNS" ]; do
		for c in memdisk:/dev/memdisk0 phram:/dev/mtdblock0 \
			 pmem:/dev/pmem0 brd:/dev/ram0 tmpfs:/tmp/image; do
			name=${c%%:*}
			dev=${c#*:}
			[ "$name" = phram ] && { phram_on || return; }
			# tmpfs has no O_DIRECT before 6.6: its "direct" figures
			# are plain reads from the page cache, which is the limit.
			mode=direct
			[ "$name" = tmpfs ] && mode=buffered
			mdbbench seq "seq_direct.$name.$r" "$dev" "$mode"
			drop
			mdbbench seq "seq_buffered.$name.$r" "$dev" buffered
			drop
			mdbbench rand "rand_1.$name.$r" "$dev" "$mode" 1 "$COUNT"
			mdbbench rand "rand_n.$name.$r" "$dev" "$mode" "$JOBS" "$COUNT"
			[ "$name" = phram ] && phram_off
		done
		mdbbench memcpy "seq_direct.memcpy.$r" "$SIZE"
		r=$((r + 1))
	done
	# Time from module load to a readable device.
	rmmod memdiskblk
	r=1
	while [ "$r" -le "$RUNS" ]; do
		mdbbench load "load.memdisk.$r" /dev/memdisk0 "$(ko memdiskblk)" -
		rmmod memdiskblk
		mdbbench load "load.phram.$r" /dev/mtdblock0 \
			"$(ko phram)" "$PHRAM" "$(ko mtdblock)" -
		rmmod mtdblock phram
		r=$((r + 1))
	done
}

# What each queue setting is worth, memdiskblk alone, in one boot.
bench_tune() {
	q=/sys/block/memdisk0/queue
	modprobe memdiskblk
	r=1
	while [ "$r" -le "$RUNS" ]; do
		for v in default iostats1 ra2048 nomerges2 wbt0 afterphram; do
			rmmod memdiskblk
			if [ $v = afterphram ]; then
				modprobe phram "$PHRAM" && modprobe mtdblock &&
					ready /dev/mtdblock0 && rmmod mtdblock phram
			fi
			modprobe memdiskblk && ready /dev/memdisk0 || return
			[ "$r" = 1 ] && say "bench.queue.$v" "$(cd $q && grep . iostats read_ahead_kb nomerges wbt_lat_usec max_sectors_kb | tr '\n' ' ')"
			case $v in
			wbt*) echo "${v#wbt}" > $q/wbt_lat_usec ;;
			iostats*) echo "${v#iostats}" > $q/iostats ;;
			ra*) echo "${v#ra}" > $q/read_ahead_kb ;;
			nomerges*) echo "${v#nomerges}" > $q/nomerges ;;
			esac
			drop
			mdbbench seq "seq_buffered.$v.$r" /dev/memdisk0 buffered
			drop
			mdbbench seq "seq_direct.$v.$r" /dev/memdisk0 direct
			mdbbench rand "rand_1.$v.$r" /dev/memdisk0 direct 1 "$COUNT"
			mdbbench rand "rand_n.$v.$r" /dev/memdisk0 direct "$JOBS" "$COUNT"
		done
		# Control: one driver, null_blk, bio-based (0) and blk-mq (2),
		# completing inline, over its own memory.
		for m in 0 2; do
			modprobe null_blk queue_mode=$m memory_backed=1 gb=1 irqmode=0 \
				nr_devices=1 && ready /dev/nullb0 || return
			mdbbench rand "rand_1.null_blk$m.$r" /dev/nullb0 direct 1 "$COUNT"
			mdbbench rand "rand_n.null_blk$m.$r" /dev/nullb0 direct "$JOBS" "$COUNT"
			rmmod null_blk
		done
		r=$((r + 1))
	done
}

# Build A (the initramfs's memdiskblk) against build B (/bench/b.ko) in
# turns in this one boot, so that both see the same guest and host load;
# each run pairs them back to back, A first in odd runs, B in even ones.
# WHO "rand": 4 KiB random reads; "mem": what a load takes (after one
# unmeasured load of each, so that the mapping's page tables exist).
bench_ab() {
	snap() { drop; echo "$(($(mem MemAvailable) + $(pcp))) $(mem Slab)"; }
	on() {
		if [ "$1" = a ]; then
			modprobe memdiskblk
		else
			insmod /bench/b.ko
		fi && ready /dev/memdisk0
	}
	if [ "$WHO" = mem ]; then
		for v in a b; do on $v && rmmod memdiskblk; done
	fi
	r=1
	while [ "$r" -le "$RUNS" ]; do
		order="a b"
		[ $((r % 2)) = 0 ] && order="b a"
		for v in $order; do
			[ "$WHO" = mem ] && before=$(snap)
			on "$v" || { say bench.error "build $v did not load"; return; }
			[ "$r" = 1 ] && say "bench.queues.$v" "$(find /sys/block/memdisk0/mq -mindepth 1 -maxdepth 1 | wc -l) $(cat /sys/block/memdisk0/queue/nr_requests)"
			if [ "$WHO" = mem ]; then
				say "bench.abmem.$v.$r" "$before $(snap)"
			else
				mdbbench rand "rand_1.$v.$r" /dev/memdisk0 direct 1 "$COUNT"
				mdbbench rand "rand_n.$v.$r" /dev/memdisk0 direct "$JOBS" "$COUNT"
			fi
			rmmod memdiskblk
		done
		r=$((r + 1))
	done
}

case "$MODE" in
speed) bench_speed ;;
tune) bench_tune ;;
mem) bench_mem ;;
ab) bench_ab ;;
*) say bench.error "unknown mode $MODE" ;;
esac
