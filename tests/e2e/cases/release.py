"""echo 1 > /sys/block/memdisk0/memdisk/release gives the image's memory to
the page allocator. While the device is mounted (the ISO itself, the
hard-disk image's partition) or held open, the write fails with EBUSY, a
"not released: in use" line is logged, and nothing changes (device,
claim in /proc/iomem, MemTotal). Once free: the write succeeds, the disk
goes away, the "memdisk0" claim stays, covering the whole image, and the
image's whole memory blocks are one "System RAM (memdiskblk)" resource
nested in it (so the unaligned head and tail stay claimed), all online (with udevd running the
project's 61-memdiskblk-online.rules where the kernel leaves hot-added
memory offline, as Debian's 6.1 does), the unaligned head and tail still
reserved; one dmesg line says how much was returned and kept. MemTotal
grows by at least the image size minus two memory blocks, and a tmpfs
file larger than the whole MemTotal before the release (so impossible
then) is allocated in full (fallocate). Loading the module again serves
nothing: the release spoilt MEMDISK's mBFT, which the scan now refuses
with one "bad checksum" line. Clean dmesg.

release-iso: a 640 MiB ISO (read-only) in a guest with 1 GiB more RAM
than the image; released twice in a row (the second write is harmless).
release-harddisk: a writable 512 MiB hard-disk image, also held open by
a reader (EBUSY); released with rmmod right behind it (unload waits for
the disk's removal)."""
import re
from pathlib import Path

import images

ROOT = Path(__file__).resolve().parents[3]
RULE = "61-memdiskblk-online.rules"
HELPER = "memdiskblk-released"

GUEST = r"""
sysmem=/sys/devices/system/memory
modprobe memdiskblk
say modprobe $?
d=/sys/block/memdisk0/memdisk
addr=$(cat $d/addr)
size=$(cat $d/size)
bs=$((0x$(cat $sysmem/block_size_bytes)))
say addr "$addr"
say size "$size"
say block_size "$bs"
say auto_online "$(cat $sysmem/auto_online_blocks)"
# udevd with the project's online rule and nothing else.
mkdir -p /run
mount -t tmpfs run /run
/lib/systemd/systemd-udevd --daemon --resolve-names=never 2>/dev/null
say udevd $?
if [ "$(cat $sysmem/auto_online_blocks)" = offline ] &&
	! udevadm control --ping 2>/dev/null; then
	# No udev here (a kernel without CONFIG_NET): the kernel's own policy.
	(echo online_kernel > $sysmem/auto_online_blocks)
	say policy_set $?
fi
release() { (echo 1 > $d/release) 2>&1; }

# In use: refused, nothing changes.
head4k() { dd if=/dev/memdisk0 bs=4096 count=1 2>/dev/null | sha256sum | cut -d' ' -f1; }
say head_before "$(head4k)"
total_before=$(mem MemTotal)
say total_before "$total_before"
say avail_before "$(mem MemAvailable)"
if [ "$ARG" = iso ]; then
	mount -t iso9660 -o ro /dev/memdisk0 /mnt
	say busy_mount.mounted $?
	say busy_mount.err "$(release)"
	umount /mnt
else
	mount -t vfat /dev/memdisk0p1 /mnt
	say busy_mount.mounted $?
	say busy_mount.err "$(release)"
	umount /mnt
	mdbio hold /dev/memdisk0 60 &
	holder=$!
	sleep 1
	say busy_open.err "$(release)"
	kill "$holder"
	wait "$holder"
fi
say busy.present "$(present memdisk0)"
say busy.head "$(head4k)"
say busy.claim "$(grep -c ' : memdisk0$' /proc/iomem)"
say busy.total "$(mem MemTotal)"

(echo 1 > $d/release)
say release.rc $?
if [ "$ARG" = iso ]; then
	say twice.err "$(release)"
else
	rmmod memdiskblk
	say rmmod.rc $?
fi
gone memdisk0
say gone "$([ -e /sys/block/memdisk0 ] && echo 0 || echo 1)"
say gone.node "$(present memdisk0)"
udevadm settle --timeout=60 2>/dev/null
say iomem-begin
cat /proc/iomem
say iomem-end
n=$(((addr + bs - 1) / bs))
online=0
other=""
while [ $n -lt $(((addr + size) / bs)) ]; do
	state=$(cat $sysmem/memory$n/state 2>/dev/null)
	if [ "$state" = online ]; then
		online=$((online + 1))
	else
		other="$other memory$n:${state:-missing}"
	fi
	n=$((n + 1))
done
say blocks.online $online
say blocks.other "$other"
say total_after "$(mem MemTotal)"
say avail_after "$(mem MemAvailable)"

# More than the whole MemTotal before the release, allocated for real.
fill=$((total_before / 1024 + 64))
mkdir -p /fill
mount -t tmpfs -o size=$((fill + 1))m fill /fill
# fallocate: the pages are allocated and cleared once, nothing copied.
fallocate -l $((fill * 1048576)) /fill/f
say fill.rc $?
say fill.mib "$fill"
# What the file holds in memory (allocated blocks), not its length:
# reading 1 GiB back through wc took 55 s under TCG.
say fill.bytes "$(($(stat -c '%b * %B' /fill/f)))"
rm /fill/f
umount /fill

rmmod memdiskblk 2>/dev/null
modprobe memdiskblk 2>/dev/null
say reload.rc $?
say reload.present "$(present memdisk0)"
"""

# ISO: 640 MiB of data; the hard-disk image: 512 MiB in all.
ISO_BIG = 640 << 20
HD_SIZE = 512 << 20
COST = 150


def PREPARE(k):
    """The e2e initramfs plus udevd (udevadm, as systemd-udevd), the
    project's online rule and its helper where udevd looks for them."""
    return images.initramfs(
        k.kver, k.ko, name="-release", cases={"release": GUEST},
        programs=["/bin/udevadm"],
        links={"/lib/systemd/systemd-udevd": "/bin/udevadm"},
        files={f"/lib/udev/rules.d/{RULE}": ROOT / "udev" / RULE,
               f"/lib/udev/{HELPER}": ROOT / "udev" / HELPER})


def iomem_tree(text):
    """[(depth, start, end, name)] from /proc/iomem's lines."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", line.rstrip("\r"))
        if m:
            out.append((len(m[1]) // 2, int(m[2], 16), int(m[3], 16), m[4]))
    return out


def parent(tree, i):
    """The entry enclosing tree[i]: the last one before it, one level up."""
    depth = tree[i][0]
    return next((e for e in reversed(tree[:i]) if e[0] == depth - 1), None)


def check_release(c, b, k, mem_mib):
    c.booted(b)
    c.eq(b.get("modprobe"), "0", "modprobe")
    addr, size = int(b.get("addr", "0"), 16), int(b.get("size", "0"))
    bs = int(b.get("block_size", "0"))
    c.expect(bs > 0 and size > 3 * bs, f"image {size} larger than 3 blocks of {bs}")
    if c.failures:
        return
    debian = k.label.startswith("e2e")
    if debian:
        c.eq(b.get("udevd"), "0", "udevd runs (the online rule's path)")
    c.note(f"auto_online_blocks={b.get('auto_online')}, "
           f"{'udev rule' if b.get('auto_online') == 'offline' and b.get('policy_set') is None else 'kernel policy'} onlines")

    # In use.
    c.eq(b.get("busy_mount.mounted"), "0", "mounted before the first release")
    c.expect("busy" in (b.get("busy_mount.err") or ""),
             f"EBUSY while mounted: {b.get('busy_mount.err')!r}")
    if b.get("busy_open.err") is not None:
        c.expect("busy" in b.get("busy_open.err"),
                 f"EBUSY while held open: {b.get('busy_open.err')!r}")
    c.eq(b.get("busy.present"), "1", "still there after EBUSY")
    c.eq(b.get("busy.head"), b.get("head_before"), "still reads the same")
    c.eq(b.get("busy.claim"), "1", "the memdisk0 claim is still in /proc/iomem")
    c.eq(b.get("busy.total"), b.get("total_before"), "MemTotal unchanged")
    dmesg = b.dmesg()
    busy = re.findall(r"memdiskblk: memdisk0: not released: in use", dmesg)
    refusals = 1 + (b.get("busy_open.err") is not None)
    c.eq(len(busy), refusals, "one 'not released: in use' line a refusal")

    # Released.
    c.eq(b.get("release.rc"), "0", "echo 1 > release succeeds")
    c.eq(b.get("gone"), "1", "/sys/block/memdisk0 is gone")
    c.eq(b.get("gone.node"), "0", "/dev/memdisk0 is gone")
    first = (addr + bs - 1) // bs * bs
    end = (addr + size) // bs * bs
    tree = iomem_tree(b.log.split("@@ iomem-begin", 1)[-1].split("@@ iomem-end")[0])
    mine = [i for i, e in enumerate(tree) if e[3] == "System RAM (memdiskblk)"]
    c.eq([(tree[i][1], tree[i][2] + 1) for i in mine], [(first, end)],
         f"one System RAM (memdiskblk) resource: the whole blocks "
         f"{first:#x}-{end:#x} of the image {addr:#x}+{size:#x}")
    if mine:
        up = parent(tree, mine[0])
        c.eq(up and up[1:], (addr, addr + size - 1, "memdisk0"),
             "nested in the memdisk0 claim, which still covers the whole image")
        top = up and parent(tree, tree.index(up))
        c.expect(top and top[3] == "Reserved" and top[1] <= addr
                 and addr + size - 1 <= top[2],
                 f"the claim nested in the Reserved range holding the image ({top})")
    c.eq(b.get("blocks.other"), "", "no block of the image left offline")
    c.eq(b.get("blocks.online"), str((end - first) // bs),
         "every whole block of the image online")
    lines = [ln for ln in dmesg.splitlines() if "memdisk0: released:" in ln]
    c.eq(len(lines), 1, f"one release line: {lines}")
    if lines:
        want = (f"{(end - first) >> 10} KiB of RAM returned at {first:#x} "
                f"(online), {(size - (end - first)) >> 10} KiB stay reserved")
        c.expect(want in lines[0] or want.replace("(online)", "(offline until onlined)")
                 in lines[0], f"release line says {want!r}: {lines[0]!r}")

    # Usable.
    before, after = int(b.get("total_before", 0)), int(b.get("total_after", 0))
    c.expect(after - before >= (size - 2 * bs) >> 10,
             f"MemTotal grew by {(after - before) >> 10} MiB, at least "
             f"{(size - 2 * bs) >> 20} MiB (image minus two blocks)")
    fill = int(b.get("fill.mib", 0))
    c.expect(fill << 10 > before, f"the {fill} MiB fill exceeds MemTotal before "
             f"({before >> 10} MiB): impossible then")
    c.eq(b.get("fill.rc"), "0", f"{fill} MiB allocated in a tmpfs")
    c.eq(b.get("fill.bytes"), str(fill << 20), "all of it allocated")

    # One-way.
    c.expect(b.get("reload.rc") not in (None, "0"), "a reload serves nothing")
    c.eq(b.get("reload.present"), "0", "no memdisk0 after the reload")
    c.expect(re.search(r"memdiskblk: mBFT at 0x[0-9a-f]+: bad checksum, refused",
                       dmesg), "the reload refuses the spoilt mBFT")
    c.note(f"{(end - first) >> 20} MiB returned, MemTotal "
           f"{before >> 10} -> {after >> 10} MiB, guest {mem_mib} MiB, "
           f"{b.seconds:.0f} s boot")


def release_iso(k, c):
    iso = images.iso(k.dir / f"{c.name}.iso", k.kver, c.prepared,
                     k.cmdline(c, "mdbarg=iso"), {}, big=ISO_BIG)
    mem = (iso.stat().st_size >> 20) + 1024
    try:
        b = k.boot(c, image=iso, memdisk_args="iso raw", mem=mem, timeout=900)
    finally:
        iso.unlink()
    check_release(c, b, k, mem)
    c.expect(b.get("twice.err") is not None, "released twice in a row")


def release_harddisk(k, c):
    img = images.harddisk(k.dir / f"{c.name}.img", k.kver, c.prepared,
                          k.cmdline(c, "mdbarg=harddisk"), {})
    with open(img, "r+b") as f:
        f.truncate(HD_SIZE)
    mem = (HD_SIZE >> 20) + 1024
    try:
        b = k.boot(c, image=img, memdisk_args="harddisk", mem=mem, timeout=900)
    finally:
        img.unlink()
    check_release(c, b, k, mem)
    c.eq(b.get("rmmod.rc"), "0", "rmmod right after the release")


CASES = {"release-iso": release_iso, "release-harddisk": release_harddisk}
