"""Ventoy's UEFI memdisk mode, forged: OVMF boots an ESP whose
tests/e2e/hostile/ventoy-forge.c lays out header + ISO as Ventoy's GRUB
does (one EfiRuntimeServicesData allocation, page-aligned, a 2616-byte
ventoy_chain_head, the ISO right behind it), sets the variable
VentoyRamDisk as ventoy_x64.efi does (PhyAddr, DiskSize = ISO size - 2616)
and starts this kernel with the e2e initramfs. Every boot: what Linux
reads back is the forgery (the variable in efivarfs, the header in
memory) and the allocation is Reserved in /proc/iomem (System RAM for
"ram"). valid: /dev/memdisk0 is the ISO byte for byte, found=ventoy,
read-only (writes fail and change nothing), 2048-byte physical blocks
(and nothing with autodetect=0),
the header's image size, iso9660 mounts and its files' checksums match.
One variant per flaw (variable of 24 bytes, non-volatile, header not
page-aligned, header in System RAM, image running into System RAM, wrong
GUID, bad checksum, DiskSize matching neither size, image size wrapping
past 2^64): exactly one refusal line naming it, no device, modprobe
fails, no warning or oops. release: valid, with 384 MiB of zeros behind
the ISO (whole memory blocks): echo 1 > release returns the memory
(the release line, the disk gone, MemTotal grown by all but two blocks),
and loading the module again refuses the header whose checksum the
release spoilt."""
import hashlib
import shutil

import boot
import images
from suite import check_write_refused

# The e2e part runs it on its newest kernel only (about 15 s a boot, ten
# boots). Not on the debug kernel: it has no EFI stub to start from OVMF
# (tests/debug/debug.config would need CONFIG_ACPI, CONFIG_EFI and
# CONFIG_EFI_STUB); drop ONLY once it has.
NEWEST = True
ONLY = "e2e"

VAR = "VentoyRamDisk-77772020-2e77-6576-6e74-6f792e6e6574"
GUEST = rf"""
V=/sys/firmware/efi/efivars/{VAR}
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
say efivar "$(od -An -tx1 -v "$V" | tr -d ' \n')"
# ventoy_os_param, 2616 bytes before PhyAddr (none if that is System RAM).
# (od -j skips nothing in an efivarfs file.)
phy=$(tail -c +5 "$V" | od -An -tu8 -N8 | tr -d ' ')
[ -n "$phy" ] && say os_param "$(dd if=/dev/mem bs=8 skip=$(((phy - 2616) / 8)) \
	count=64 2>/dev/null | od -An -tx1 -v | tr -d ' \n')"
say iomem "$(grep -v '^ ' /proc/iomem | tr '\n' ';')"
modprobe memdiskblk autodetect=0 2>/dev/null
say off.modprobe $?
say off.present "$(present memdisk0)"
modprobe memdiskblk
say modprobe $?
report_dev memdisk0
say memdisk0.sectors "$(cat /sys/block/memdisk0/size 2>/dev/null)"
say memdisk1.present "$(present memdisk1)"
if [ -b /dev/memdisk0 ]; then
	mount_files memdisk0 iso9660
	try_write memdisk0
fi
if [ "$ARG" = release ] && [ -b /dev/memdisk0 ]; then
	say total_before "$(mem MemTotal)"
	(echo 1 > /sys/block/memdisk0/memdisk/release)
	say release.rc $?
	gone memdisk0
	say release.present "$(present memdisk0)"
	say total_after "$(mem MemTotal)"
	rmmod memdiskblk
	modprobe memdiskblk 2>/dev/null
	say reload $?
fi
"""
RELEASE_PAD = 384 << 20  # ventoy-forge.c's

HEADER = 2616  # sizeof(ventoy_chain_head)
GUID = bytes.fromhex("20207777772e76656e746f792e6e6574")  # EFI_GUID layout
PAGE = 4096

# The driver's one line for each flaw, formatted with the forger's facts:
# addr (PhyAddr), hdr (the header), size (the header's image size),
# disksize (DiskSize), varsize (bytes of the variable), attrs.
REFUSALS = {
    "size": "memdiskblk: VentoyRamDisk variable: {varsize} bytes, not 16, refused",
    "attrs": "memdiskblk: VentoyRamDisk variable: attributes {attrs:#x}, "
             "not 0x6, refused",
    "align": "memdiskblk: Ventoy image at {addr:#x}: header at {hdr:#x} is not "
             "page-aligned, refused",
    "ram": "memdiskblk: Ventoy image at {addr:#x}: header at {hdr:#x} is not "
           "in reserved memory, refused",
    "ram-tail": "memdiskblk: Ventoy image at {addr:#x}: image "
                "{addr:#x}+{size:#x} overlaps System RAM, refused",
    "guid": "memdiskblk: Ventoy image at {addr:#x}: no Ventoy GUID in its "
            "header, refused",
    "checksum": "memdiskblk: Ventoy image at {addr:#x}: bad header checksum, "
                "refused",
    "disksize": "memdiskblk: Ventoy image at {addr:#x}: DiskSize {disksize} "
                "does not match the header's image size {size}, refused",
    "wrap": "memdiskblk: Ventoy image at {addr:#x}: image {addr:#x}+{size:#x} "
            "wraps around, refused",
}


def PREPARE(k):
    """The payload: a small ISO of data files, 2 KiB short of a 4 KiB
    multiple (Ventoy serves ISOs of any 2 KiB multiple)."""
    iso = k.dir / "ventoy-payload.iso"
    tree = k.dir / "ventoy-payload.d"
    for pad in range(2):
        shutil.rmtree(tree, ignore_errors=True)
        (tree / "data").mkdir(parents=True)
        for name, blob in k.files.items():
            (tree / "data" / name).write_bytes(blob)
        (tree / "pad.bin").write_bytes(bytes(2048 * pad))
        images.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso),
                    "-J", "-R", "-V", "VTOYTEST", str(tree)])
        if iso.stat().st_size % PAGE == 2048:
            break
    shutil.rmtree(tree)
    return iso


def facts(b):
    """The forger's "@@ forge.KEY 0xN" facts as numbers."""
    return {k[6:]: int(v, 16) for k, v in b.facts.items()
            if k.startswith("forge.") and v.startswith("0x")}


def iomem(b):
    """/proc/iomem's top level: [(start, end, name)]."""
    out = []
    for entry in filter(None, (b.get("iomem") or "").split(";")):
        span, _, name = entry.partition(" : ")
        start, _, end = span.partition("-")
        out.append((int(start, 16), int(end, 16), name))
    return out


def region(b, addr):
    return next((name for s, e, name in iomem(b) if s <= addr <= e), None)


def check_forgery(c, b, name, iso, f):
    """What Linux got is what the variant forged."""
    c.eq(b.get("forge.error"), None, "the forger ran to the kernel")
    c.eq(b.get("forge.variant"), name, "the forger's variant")
    size = iso.stat().st_size
    want = {"imgsize": size + {"ram-tail": PAGE, "release": RELEASE_PAD}.get(name, 0),
            "varsize": 24 if name == "size" else 16,
            "attrs": 7 if name == "attrs" else 6}
    if name == "wrap":
        want["imgsize"] = 2**64 - 2048
    c.eq({k: f.get(k) for k in want}, want, "image size, variable size, attributes")
    c.eq(f.get("header"), f.get("phyaddr", 0) - HEADER, "ISO right behind the header")
    c.eq(f.get("header", 0) - f.get("base", 0), 512 if name == "align" else 0,
         "header's offset in the allocation")
    disksize = f.get("imgsize", 0) - (PAGE if name == "disksize" else HEADER)
    c.eq(f.get("disksize"), disksize, "DiskSize")
    var = (f.get("attrs", 0).to_bytes(4, "little") +
           f.get("phyaddr", 0).to_bytes(8, "little") +
           disksize.to_bytes(8, "little") + bytes(f.get("varsize", 16) - 16))
    c.eq(b.get("efivar"), var.hex(), f"{VAR} in efivarfs")
    end = f.get("base", 0) + f.get("pages", 0) * PAGE - 1
    kind = "System RAM" if name == "ram" else "Reserved"
    c.eq([region(b, f.get("base", 0)), region(b, end)], [kind, kind],
         "the allocation in /proc/iomem")
    if name == "ram-tail":
        c.eq(f.get("tail"), end + 1, "the page behind the allocation")
        c.eq(region(b, end + 1), "System RAM", "that page in /proc/iomem")
    if name == "ram":
        return
    p = bytes.fromhex(b.get("os_param") or "")
    c.eq(len(p), 512, "ventoy_os_param read from /dev/mem")
    c.eq(p[:16] == GUID, name != "guid", "Ventoy's GUID in the header")
    c.eq(sum(p) % 256 == 0, name != "checksum", "the header's checksum")
    c.eq(int.from_bytes(p[429:437], "little"), want["imgsize"],
         "the header's vtoy_img_size")


def refusals(b):
    return [ln[ln.index("memdiskblk:"):] for ln in b.dmesg().splitlines()
            if "memdiskblk:" in ln and "refused" in ln]


def variant(name):
    def case(k, c):
        iso = c.prepared
        arg = "mdbarg=release" if name == "release" else ""
        b = boot.ventoy_forge(f"{k.label}-{c.name}", images.vmlinuz(k.kver),
                              iso, f"{images.CONSOLE} {k.cmdline(c, arg)}", name,
                              initrd=k.initrd,
                              mem=1024 + (RELEASE_PAD >> 20) * (name == "release"))
        c.booted(b)
        f = facts(b)
        check_forgery(c, b, name, iso, f)
        c.eq(b.get("memdisk1.present"), "0", "no second device")
        if name == "valid":
            valid(k, c, b, iso, f)
            return
        if name == "release":
            release(c, b, iso, f)
            return
        want = REFUSALS[name].format(
            addr=f.get("phyaddr", 0), hdr=f.get("header", 0),
            size=f.get("imgsize", 0), disksize=f.get("disksize", 0),
            varsize=f.get("varsize", 0), attrs=f.get("attrs", 0))
        c.eq(refusals(b), [want], "the one refusal line")
        c.eq(b.get("modprobe"), "1", "modprobe fails")
        c.eq(b.get("memdisk0.present"), "0", "no memdisk0")
    return case


def valid(k, c, b, iso, f):
    size = iso.stat().st_size
    c.eq(refusals(b), [], "nothing refused")
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    c.eq(b.get("memdisk0.present"), "1", "/dev/memdisk0 exists")
    c.eq(b.get("memdisk0.sysfs.found"), "ventoy", "sysfs found")
    c.expect(b.get("off.modprobe") not in (None, "0") and
             b.get("off.present") == "0", "autodetect=0: no device")
    c.eq(b.get("memdisk0.crc32"), images.crc32_file(iso),
         "memdisk0 CRC-32 equals the ISO's")
    c.eq(b.get("memdisk0.sysfs.size"), str(size), "sysfs size")
    c.eq(b.get("memdisk0.sectors"), str(size // 512), "block device size")
    c.expect(int(b.get("memdisk0.sysfs.addr") or "-1", 16) == f.get("phyaddr"),
             f"sysfs addr is PhyAddr {f.get('phyaddr', 0):#x}: "
             f"{b.get('memdisk0.sysfs.addr')}")
    c.eq(b.get("memdisk0.pbs"), "2048", "physical block size")
    c.eq(b.get("memdisk0.lbs"), "512", "logical block size")
    c.eq(b.get("memdisk0.sysfs.readonly"), "1", "sysfs readonly")
    c.eq(b.get("memdisk0.ro"), "1", "block layer ro flag")
    c.eq(b.get("memdisk0.mount"), "ok", "iso9660 mounts")
    for name, blob in k.files.items():
        c.eq(b.get(f"memdisk0.file.{name}"), hashlib.sha256(blob).hexdigest(),
             f"file {name} checksum")
    check_write_refused(c, b, "memdisk0")


def release(c, b, iso, f):
    size = iso.stat().st_size + RELEASE_PAD
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    c.eq(b.get("memdisk0.sysfs.found"), "ventoy", "sysfs found")
    c.eq(b.get("memdisk0.sysfs.size"), str(size), "the ISO and the zeros")
    c.eq(b.get("release.rc"), "0", "echo 1 > release succeeds")
    c.eq(b.get("release.present"), "0", "/dev/memdisk0 is gone")
    line = [ln for ln in b.dmesg().splitlines() if "memdisk0: released:" in ln]
    c.eq(len(line), 1, f"one release line: {line}")
    block = 128 << 20
    grown = (int(b.get("total_after") or 0) - int(b.get("total_before") or 0)) << 10
    c.expect(grown >= size - 2 * block, f"MemTotal grew by {grown >> 20} MiB, at "
             f"least {(size - 2 * block) >> 20}")
    c.expect(b.get("reload") not in (None, "0"), "a reload serves nothing")
    want = (f"memdiskblk: Ventoy image at {f.get('phyaddr', 0):#x}: bad header "
            "checksum, refused")
    c.eq(refusals(b), [want], "the reload refuses the header the release spoilt")


CASES = {f"ventoy-hostile-{name}": variant(name)
         for name in ["valid", "release", *REFUSALS]}
