"""60 s of mixed reads and writes from 4 threads on 2 vCPUs, each write
checksummed (CRC-32C) and every read verified, then a full re-read:
zero mismatches. rmmod is refused while a reader holds the device.
200 load/unload cycles (after a warm-up, with dirty pages written
back): all clean; slab and vmalloc grow less than 1 MiB (5 KiB a
cycle), per-CPU memory less than 256 KiB, MemAvailable plus the free
pages parked on the per-CPU page lists drops less than 4 MiB.
(MemAvailable alone swung by 4.7 MiB in one CI run, with slab +72
KiB: the per-CPU lists of 2 CPUs hold several MiB and move freely.)"""
import os

SECONDS = int(os.environ.get("MDB_STRESS_SECONDS", "60"))
SLOTS = 2
COST = 150

# Verified mixed I/O from several threads, rmmod attempts while a reader
# holds the device, then 200 load/unload cycles watching memory.
GUEST = r"""
modprobe memdiskblk
mdbio stress /dev/memdisk0 "${ARG:-60}" 4
# A reader holds the device (for at most 30 s); 20 rmmod attempts meanwhile.
mkfifo /tmp/held
mdbio hold /dev/memdisk0 30 > /tmp/held &
holder=$!
read -r _ < /tmp/held
refused=0
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	rmmod memdiskblk 2>/dev/null || refused=$((refused + 1))
	sleep 0.2
done
say stress.rmmod_refused "$refused"
say stress.still_loaded "$(grep -c '^memdiskblk ' /proc/modules)"
kill "$holder"
wait
rmmod memdiskblk
say stress.rmmod_after $?
# Warm up (first-use allocations), write back what the stress left
# dirty, then measure 200 cycles. Before each figure the slab caches
# give back what they hold freed: empty slabs, and under KASAN (the
# debug kernel) the quarantine of freed objects, which would otherwise
# count as growth.
settle() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do echo 1 > "$f"; done 2>/dev/null
}
for _ in 1 2 3 4 5 6 7 8 9 10; do
	modprobe memdiskblk && rmmod memdiskblk
done
settle
say stress.mem_fields MemAvailable Slab PageTables VmallocUsed Percpu PcpFree
say stress.mem_before "$(mem MemAvailable) $(mem Slab) $(mem PageTables) $(mem VmallocUsed) $(mem Percpu) $(pcp)"
i=0
ok=0
while [ $i -lt 200 ]; do
	modprobe memdiskblk && [ -b /dev/memdisk0 ] && rmmod memdiskblk &&
		ok=$((ok + 1))
	i=$((i + 1))
done
settle
say stress.cycles_ok $ok
say stress.mem_after "$(mem MemAvailable) $(mem Slab) $(mem PageTables) $(mem VmallocUsed) $(mem Percpu) $(pcp)"
"""


def test(k, c):
    img = k.harddisk(c, f"mdbarg={SECONDS}")
    b = k.boot(c, image=img, memdisk_args="harddisk", cpus=2, timeout=900)
    c.booted(b)
    c.expect(int(b.get("stress.writes", "0")) > 1000, f"writes: {b.get('stress.writes')}")
    c.expect(int(b.get("stress.reads", "0")) > 1000, f"reads: {b.get('stress.reads')}")
    c.expect(int(b.get("stress.verified", "0")) > 1000,
             f"verified: {b.get('stress.verified')}")
    c.eq(b.get("stress.mismatches"), "0", "no mismatches")
    c.expect(int(b.get("stress.rmmod_refused", "0")) > 0, "rmmod refused while open")
    c.eq(b.get("stress.still_loaded"), "1", "module stayed loaded")
    c.eq(b.get("stress.rmmod_after"), "0", "rmmod works once closed")
    c.eq(b.get("stress.cycles_ok"), "200", "200 load/unload cycles")
    fields = (b.get("stress.mem_fields") or "").split()
    before = dict(zip(fields, map(int, (b.get("stress.mem_before") or "").split())))
    after = dict(zip(fields, map(int, (b.get("stress.mem_after") or "").split())))
    grow = {f: after[f] - before[f] for f in fields if f in before and f in after}
    c.expect(len(grow) == 6, f"memory figures read: {grow}")
    c.expect(grow.get("Slab", 1 << 30) < 1024, f"slab growth {grow} kB")
    c.expect(grow.get("VmallocUsed", 1 << 30) < 1024, f"vmalloc growth {grow} kB")
    c.expect(grow.get("Percpu", 1 << 30) < 256, f"percpu growth {grow} kB")
    avail = grow.get("MemAvailable", -(1 << 30)) + grow.get("PcpFree", 0)
    c.expect(-avail < 4096, f"MemAvailable+PcpFree drop {grow} kB")
