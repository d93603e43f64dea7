"""200 load/unload cycles of a partitioned hard-disk image (after a
warm-up of 10, with dirty pages written back): all clean; slab and
vmalloc grow less than 1 MiB (5 KiB a cycle), per-CPU memory less than
256 KiB, MemAvailable plus the free pages parked on the per-CPU page
lists drops less than 4 MiB. (MemAvailable alone swung by 4.7 MiB in one
CI run of the 2-vCPU stress guest, with slab +72 KiB: the per-CPU lists
hold several MiB and move freely.) One vCPU: modprobe and rmmod run one
at a time, so a second would only idle. The 200 measured cycles are made
by `mdbio cycle` (the finit_module and delete_module syscalls that
modprobe and rmmod make, without starting two programs a cycle, which
under KASAN cost more than the cycle itself); the warm-up uses modprobe
and rmmod."""

GUEST = r"""
# Warm up (first-use allocations), write back what is dirty, then
# measure 200 cycles. Before each figure the slab caches give back what
# they hold freed: empty slabs, and under KASAN (the debug kernel) the
# quarantine of freed objects, which would otherwise count as growth.
settle() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do echo 1 > "$f"; done 2>/dev/null
}
for _ in 1 2 3 4 5 6 7 8 9 10; do
	modprobe memdiskblk && rmmod memdiskblk
done
settle
say mem_fields MemAvailable Slab PageTables VmallocUsed Percpu PcpFree
say mem_before "$(mem MemAvailable) $(mem Slab) $(mem PageTables) $(mem VmallocUsed) $(mem Percpu) $(pcp)"
ok=$(mdbio cycle "/lib/modules/$(uname -r)/extra/memdiskblk.ko" 200 /dev/memdisk0p1)
settle
say cycles_ok "$ok"
say mem_after "$(mem MemAvailable) $(mem Slab) $(mem PageTables) $(mem VmallocUsed) $(mem Percpu) $(pcp)"
"""
COST = 120


def test(k, c):
    img = k.harddisk(c)
    b = k.boot(c, image=img, memdisk_args="harddisk", timeout=900)
    c.booted(b)
    c.eq(b.get("cycles_ok"), "200", "200 load/unload cycles")
    fields = (b.get("mem_fields") or "").split()
    before = dict(zip(fields, map(int, (b.get("mem_before") or "").split())))
    after = dict(zip(fields, map(int, (b.get("mem_after") or "").split())))
    grow = {f: after[f] - before[f] for f in fields if f in before and f in after}
    c.expect(len(grow) == 6, f"memory figures read: {grow}")
    c.expect(grow.get("Slab", 1 << 30) < 1024, f"slab growth {grow} kB")
    c.expect(grow.get("VmallocUsed", 1 << 30) < 1024, f"vmalloc growth {grow} kB")
    c.expect(grow.get("Percpu", 1 << 30) < 256, f"percpu growth {grow} kB")
    avail = grow.get("MemAvailable", -(1 << 30)) + grow.get("PcpFree", 0)
    c.expect(-avail < 4096, f"MemAvailable+PcpFree drop {grow} kB")
