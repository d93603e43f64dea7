"""I/O edge cases (mdbio edges): reads at, past and across the end,
zero-length and unaligned O_DIRECT requests, flushes and O_EXCL twice
give defined results, and the memory right after the image (firmware-
reserved, read through /dev/mem) never changes.

edges-ro: on a read-only ISO device no discard or write-zeroes is
advertised, and every write, discard, write-zeroes and blkdiscard is
refused; neither the image nor the memory after it changes.
edges-rw: on a writable hard-disk image writes at the last sector work,
past the end fail with ENOSPC; discard and write-zeroes are advertised
(1 MiB a request, 512-byte granularity) and each zeroes exactly its
512-byte-aligned range inside a 64 KiB pattern while the rest of the
device stays as it was; BLKRRPART works; blkdiscard of the whole device
leaves only zeroes; the memory after the image never changes."""

# The image and the memory right after it (firmware-reserved, readable
# through /dev/mem) are checksummed before and after mdbio's edge cases;
# last, blkdiscard of the whole device.
GUEST = r"""
modprobe memdiskblk
d=/sys/block/memdisk0/memdisk
q=/sys/block/memdisk0/queue
next=$((($(cat $d/addr) + $(cat $d/size) + 4095) / 4096))
after() { dd if=/dev/mem bs=4096 skip=$next count=4 2>/dev/null | sha256sum | cut -d' ' -f1; }
tail4k() { dd if=/dev/memdisk0 bs=4096 skip=1 2>/dev/null | sha256sum | cut -d' ' -f1; }
head4k() { dd if=/dev/memdisk0 bs=4096 count=1 2>/dev/null | sha256sum | cut -d' ' -f1; }
say edges.limits "$(cat $q/discard_max_bytes $q/write_zeroes_max_bytes $q/discard_granularity | tr '\n' ' ')"
say edges.after_before "$(after)"
say edges.tail_before "$(tail4k)"
say edges.head_before "$(head4k)"
mdbio edges /dev/memdisk0
blkdiscard /dev/memdisk0 2>/dev/null
say edges.blkdiscard $?
echo 3 > /proc/sys/vm/drop_caches
say edges.nonzero_bytes "$(tr -d '\000' < /dev/memdisk0 | wc -c)"
say edges.after_after "$(after)"
say edges.tail_after "$(tail4k)"
say edges.head_after "$(head4k)"
"""


def check_edges(c, b, writable):
    """Defined results at the edges; the page after the image never changes."""
    io = {k[3:]: v for k, v in b.facts.items() if k.startswith("io.")}
    c.eq(io.get("read_last"), "ok:512", "read of the last sector")
    c.eq(io.get("read_past"), "ok:0", "read past the end reads nothing")
    c.eq(io.get("read_across"), "ok:512", "read across the end is cut short")
    c.eq(io.get("read_zero"), "ok:0", "zero-length read")
    for kind in ("buf", "off", "len"):
        c.eq(io.get(f"read_unaligned_{kind}"), "EINVAL", f"unaligned O_DIRECT {kind}")
    c.eq(io.get("write_zero"), "ok:0" if writable else "EPERM",
         "zero-length write")
    c.eq(io.get("fsync"), "ok:0", "fsync")
    c.eq(io.get("fdatasync"), "ok:0", "fdatasync")
    c.eq(io.get("zeroout_past"), "EINVAL", "write-zeroes past the end")
    c.expect(io.get("excl_first", "").startswith("ok:"), "first O_EXCL open works")
    c.eq(io.get("excl_second"), "EBUSY", "second O_EXCL open is refused")
    c.eq(b.get("edges.after_before"), b.get("edges.after_after"),
         "the memory after the image is unchanged")
    c.expect(b.get("edges.after_before"), "memory after the image was read")
    if writable:
        c.eq(b.get("edges.limits"), "1048576 1048576 512 ",
             "discard and write-zeroes advertised: 1 MiB, 512-byte granularity")
        c.eq(io.get("write_last"), "ok:512", "write of the last sector")
        c.eq(io.get("write_past"), "ENOSPC", "write past the end")
        c.eq(io.get("discard"), "ok:0", "discard")
        c.eq(io.get("zeroout"), "ok:0", "write-zeroes")
        c.eq(io.get("discard_range"), "exact",
             "discard of 5 KiB at 8.5 KiB zeroes exactly its range")
        c.eq(io.get("zeroout_range"), "exact",
             "write-zeroes of 3 KiB at 33.5 KiB zeroes exactly its range")
        c.eq(io.get("rest_unchanged"), "1",
             "the device past the zeroed ranges' 64 KiB is unchanged")
        c.eq(io.get("rereadpt"), "ok:0", "BLKRRPART")
        c.eq(b.get("edges.blkdiscard"), "0", "blkdiscard of the whole device")
        c.eq(b.get("edges.nonzero_bytes"), "0",
             "the whole device reads as zeroes after it")
    else:
        c.expect((b.get("edges.limits") or "").startswith("0 0 "),
                 f"no discard or write-zeroes advertised ({b.get('edges.limits')})")
        for op in ("write_last", "write_past", "discard", "zeroout"):
            c.expect(not io.get(op, "ok").startswith("ok"), f"{op} refused ({io.get(op)})")
        c.expect(b.get("edges.blkdiscard") not in (None, "0"), "blkdiscard refused")
        c.eq(b.get("edges.head_before"), b.get("edges.head_after"),
             "read-only image unchanged")
        c.eq(b.get("edges.tail_before"), b.get("edges.tail_after"),
             "the image after its first 4 KiB is unchanged")


def edges_ro(k, c):
    iso = k.iso(c)
    b = k.boot(c, image=iso, memdisk_args="iso raw")
    c.booted(b)
    check_edges(c, b, writable=False)


def edges_rw(k, c):
    img = k.harddisk(c)
    b = k.boot(c, image=img, memdisk_args="harddisk")
    c.booted(b)
    check_edges(c, b, writable=True)


CASES = {"edges-ro": edges_ro, "edges-rw": edges_rw}
