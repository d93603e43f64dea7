"""Release and load under fault injection, on the debug kernel (KASAN,
lockdep, the hung-task detector at 20 s, kmemleak): two ranges the
kernel command line reserves (memmap=), served with image= and no
MEMDISK: 64 MiB (no whole memory block), 128 MiB (one).
Allocations fail through /proc/thread-self/fail-nth, in one syscall of
one task (mdbio load / mdbio write); FAILSLAB fails sleeping allocations
too (ignore-gfp-wait off).

- leak: a release refused with ENOSPC (64 MiB) and one refused with
  EBUSY (128 MiB, held open), each followed by unload; kmemleak then
  finds no leaked "System RAM (memdiskblk)" name (the name is freed at
  unload when no memory was ever added).
- no deadlock: while a shell loops writing release, the 64 MiB image is
  loaded with each of the last 150 allocations of its load failing in
  turn (counted in a load without faults), so that device_add_disk()
  fails at every point after it created the memdisk/ group; every load
  returns, some with "cannot add the disk", and lockdep and the
  hung-task detector say nothing (the old driver held its lock across
  device_add_disk(), whose cleanup waits for that writer).
Clean dmesg (BUG, WARNING, lockdep, KASAN). The kernel log is 8 MiB
(log_buf_len), so that the 150 loads' lines do not push out its start.
- partial add: 256 MiB (two blocks); fail_function fails the second
  call of the driver's mdb_add_block() with ENOMEM (a FAILSLAB fault at
  the allocation after a one-block release's count was one memory
  hotplug tolerates, so all blocks were added). The write succeeds, one
  line says 128 MiB returned and 128 MiB claimed, /proc/iomem has the
  first block as "System RAM (memdiskblk)" inside the whole image's
  "memdisk0" claim and nothing else in the second block, whose memory
  block device does not exist; the claim stays after unload."""
import re

import images
from harness import BAD_DMESG

INJECTED = re.compile(r"vmalloc error:|page allocation failure:")

ONLY = "debug"
COST = 300
RANGES = {"SMALL": (0x10000000, 64 << 20), "ONE": (0x20000000, 128 << 20),
          "TWO": (0x30000000, 256 << 20)}
# TWO's second memory block, the one whose add fails.
SECOND = 0x38000000
MEM = 2048

GUEST = "".join(f"{n}={a:#x},{s >> 20}M\n" for n, (a, s) in RANGES.items()) + r"""
ko=/lib/modules/$(uname -r)/extra/memdiskblk.ko
dbg=/sys/kernel/debug
rel=/sys/block/memdisk0/memdisk/release
mount -t debugfs debugfs $dbg
echo N > $dbg/failslab/ignore-gfp-wait
echo 0 > $dbg/failslab/verbose
echo 20 > /proc/sys/kernel/hung_task_timeout_secs
unload() { [ -d /sys/module/memdiskblk ] && rmmod memdiskblk; }

# Leak.
say leak.load "$(mdbio load "$ko" "image=$SMALL" 0)"
say leak.enospc "$( (echo 1 > $rel) 2>&1)"
unload
say leak.load2 "$(mdbio load "$ko" "image=$ONE" 0)"
mdbio hold /dev/memdisk0 60 > /tmp/hold &
holder=$!
while [ ! -s /tmp/hold ]; do sleep 0.1; done
say leak.ebusy "$( (echo 1 > $rel) 2>&1)"
kill $holder
wait $holder
unload
sleep 6
echo scan > $dbg/kmemleak
sleep 1
echo scan > $dbg/kmemleak
say leak.names "$(grep -c 'System RAM (memd' $dbg/kmemleak)"

# No deadlock.
# shellcheck disable=SC2046 # "ok COUNT": two words
set -- $(mdbio load "$ko" "image=$SMALL" 1000000)
say dl.count "$2"
unload
total=$2
(while :; do echo 1 > $rel; done) 2>/dev/null &
writer=$!
n=$total
tries=0
injected=0
while [ "$n" -gt $((total - 150)) ] && [ "$n" -gt 0 ]; do
	case "$(mdbio load "$ko" "image=$SMALL" "$n")" in
	*injected) injected=$((injected + 1)) ;;
	esac
	unload
	n=$((n - 1))
	tries=$((tries + 1))
done
kill $writer
wait $writer
say dl.tries $tries
say dl.injected $injected
say dl.cannot_add "$(dmesg | grep -c 'memdisk0: cannot add the disk')"

# Partial add: TWO's second block fails (fail_function, every second
# call of mdb_add_block(), once).
say part.load "$(mdbio load "$ko" "image=$TWO" 0)"
ff=$dbg/fail_function
say part.inject "$( (echo mdb_add_block > $ff/inject) 2>&1 && echo taken)"
printf %#x -12 > $ff/mdb_add_block/retval
echo 100 > $ff/probability
echo 2 > $ff/interval
echo 1 > $ff/times
echo 0 > $ff/verbose
say part.release "$( (echo 1 > $rel) 2>&1; echo "rc=$?")"
echo > $ff/inject
gone memdisk0
say part.gone "$([ -e /sys/block/memdisk0 ] && echo 0 || echo 1)"
say part.iomem "$(grep -i -e memdisk -e 'System RAM (memd' /proc/iomem | tr '\n' ';')"
say part.blocks "$(for m in memory6 memory7; do [ -d /sys/devices/system/memory/$m ] && printf %s $m; done)"
unload
say part.after_unload "$(grep -c 'memdisk0$' /proc/iomem)"

"""


def test(k, c):
    memmap = " ".join(f"memmap={s >> 20}M${a:#x}" for a, s in RANGES.values())
    b = k.boot(c, kernel=images.vmlinuz(k.kver), initrd=c.prepared,
               append=f"{images.CONSOLE} {k.cmdline(c)} {memmap} kmemleak=on "
               "log_buf_len=8M",
               mem=MEM, timeout=900)
    # As c.booted(), but an allocation the test made fail may print its
    # stack (warn_alloc: "vmalloc error", "page allocation failure"):
    # those "Call Trace:" lines are allowed, nothing else.
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    c.expect(b.get("finished") is not None, "guest did not finish")
    lines = b.dmesg().splitlines()
    bad = [ln for i, ln in enumerate(lines) if BAD_DMESG.search(ln) and not (
        "Call Trace:" in ln and any(INJECTED.search(p) for p in lines[max(0, i - 4):i]))]
    c.expect(not bad, f"dmesg: {bad[:3]}")
    c.expect(not re.search(r"blocked for more than|circular locking|"
                           r"possible recursive locking", b.log),
             "no hung task, no lockdep report")

    # Leak.
    c.eq(b.get("leak.load"), "ok 0", "the 64 MiB image loads")
    c.expect("No space left on device" in (b.get("leak.enospc") or ""),
             f"ENOSPC for 64 MiB: {b.get('leak.enospc')!r}")
    c.eq(b.get("leak.load2"), "ok 0", "the 128 MiB image loads")
    c.expect("busy" in (b.get("leak.ebusy") or ""),
             f"EBUSY while held open: {b.get('leak.ebusy')!r}")
    c.eq(b.get("leak.names"), "0", "kmemleak: no leaked name")

    # No deadlock.
    count = int(b.get("dl.count") or 0)
    c.expect(count > 150, f"a load makes {count} allocations")
    c.eq(b.get("dl.tries"), "150", "150 loads, each with one failure")
    c.expect(int(b.get("dl.cannot_add") or 0) > 0,
             f"some failed in device_add_disk ({b.get('dl.cannot_add')})")

    # Partial add.
    c.eq(b.get("part.load"), "ok 0", "the 256 MiB image loads")
    c.eq(b.get("part.inject"), "taken", "fail_function takes mdb_add_block")
    c.eq(b.get("part.release"), "rc=0", "the release succeeds half way")
    c.eq(b.get("part.gone"), "1", "the disk is gone")
    c.expect(re.search(r"memdisk0: released: 131072 KiB of RAM returned at "
                       r"0x30000000, 131072 KiB stay reserved and claimed "
                       rf"\(adding {SECOND:#x} failed: (-ENOMEM|-12)\)", b.log),
             "one line says what was returned and what stays claimed")
    iomem = [ln.strip() for ln in (b.get("part.iomem") or "").split(";")]
    c.expect("30000000-3fffffff : memdisk0" in iomem,
             f"the whole image stays claimed: {iomem}")
    c.expect("30000000-37ffffff : System RAM (memdiskblk)" in iomem,
             f"the first block is RAM, inside the claim: {iomem}")
    c.expect(not any(ln.startswith(("38", "3f")) for ln in iomem),
             f"nothing else in the second block: {iomem}")
    c.eq(b.get("part.blocks"), "memory6", "memory block 6 added, 7 not")
    c.eq(b.get("part.after_unload"), "1", "the claim outlives the module")

    c.note(f"{count} allocations a load; {b.get('dl.injected')} of 150 loads "
           f"failed, {b.get('dl.cannot_add')} in device_add_disk")


def PREPARE(k):
    return images.initramfs(k.kver, k.ko, name="-release-faults",
                            cases={"release-faults": GUEST})
