"""udev in a guest booted through real MEMDISK: systemd-udevd from Debian's
udev package (with its builtin blkid) and systemd's own
60-persistent-storage.rules, with and without the project's rule
(udev/60-persistent-memdiskblk.rules). The module is loaded by the
project's mkinitcpio hook, as in an Arch initramfs, so the same boots show
archiso finding its medium at archisodevice.

The initramfs is tests/lib/images.py's (busybox, kmod, the module, the
filesystem modules) with tests/distro/guest/udev-init as /init, udevadm
and its libraries, the rules, the hook and the loop module added."""
import re
import threading
from pathlib import Path

import images
from boot import boot
from common import CACHE, HERE, ROOT

RULES = Path("/lib/udev/rules.d")
UDEVADM = "/bin/udevadm"
LABEL = "MDBTEST"        # tests/lib/images.py's ISO volume label
DISK_LABEL = "MDBDISK"   # and its hard-disk image's FAT label


class Guest:
    """The kernel, module and initramfs the udev boots share."""
    _made = None
    _lock = threading.Lock()

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._made is None:
                cls._made = cls()
            return cls._made

    def __init__(self):
        kvers = images.kernels()
        if not kvers:
            raise RuntimeError("no kernel with an image and headers")
        self.kver = kvers[-1]
        self.ko, _ = images.build_module(self.kver)
        self.initrd = udev_initramfs(self.kver, self.ko)
        self.dir = CACHE / "img" / "udev"
        self.dir.mkdir(parents=True, exist_ok=True)


def udev_initramfs(kver, ko):
    """The e2e initramfs with tests/distro/guest/udev-init as /init,
    udevadm (also as systemd-udevd), systemd's and the project's rules,
    the mkinitcpio hook and the loop module."""
    rules = "/lib/udev/rules.d"
    return images.initramfs(
        kver, ko, name="-udev", init=HERE / "guest" / "udev-init",
        programs=[UDEVADM],
        links={"/lib/systemd/systemd-udevd": UDEVADM},
        files={f"{rules}/60-persistent-storage.rules":
               RULES / "60-persistent-storage.rules",
               f"{rules}/60-persistent-memdiskblk.rules":
               ROOT / "udev/60-persistent-memdiskblk.rules",
               "/hooks/memdiskblk": ROOT / "initramfs/mkinitcpio/hooks/memdiskblk"},
        fs_modules=["loop"])


def links(b):
    """/dev/disk links the guest saw: {"by-label/X": "../../memdisk0"}."""
    return {k[5:]: v for k, v in b.facts.items() if k.startswith("link:")}


def to(b, dev):
    return {k: v for k, v in links(b).items() if v == f"../../{dev}"}


def guest_boot(c, name, image, memdisk_args):
    b = boot(f"udev-{name}", image=image, memdisk_args=memdisk_args)
    c.booted(b)
    c.eq(b.get("udevd"), "0", "systemd-udevd started")
    c.eq(b.get("hook.rc"), "0", "the mkinitcpio hook ran")
    c.eq(b.get("loaded"), "1", "the hook loaded the module")
    return b


def case_iso(c, host):
    """With the project's rule: /dev/disk/by-label/MDBTEST, by-uuid/<the
    ISO's UUID> and by-id/memdisk-<addr> all point at ../../memdisk0;
    blkid (udev's builtin) saw iso9660. The mkinitcpio hook set
    archisodevice=/dev/memdisk0 and the ISO mounts from there, as
    archiso would mount it."""
    g = Guest.get()
    iso = images.iso(g.dir / "label.iso", g.kver, g.initrd, "mdbrule=1",
                     {"hello.txt": b"hello\n"})
    b = guest_boot(c, "iso", iso, "iso raw")
    mine = to(b, "memdisk0")
    c.eq(links(b).get(f"by-label/{LABEL}"), "../../memdisk0",
         f"by-label/{LABEL} (all links: {links(b)})")
    uuid = b.get("memdisk0.ID_FS_UUID")
    c.expect(uuid, "blkid found the ISO's UUID")
    c.eq(links(b).get(f"by-uuid/{uuid}"), "../../memdisk0", f"by-uuid/{uuid}")
    byid = [k for k in mine if re.fullmatch(r"by-id/memdisk-0x[0-9a-f]+", k)]
    c.eq(len(byid), 1, f"one by-id/memdisk-<addr> link ({mine})")
    c.eq(b.get("memdisk0.ID_FS_TYPE"), "iso9660", "udev's blkid: iso9660")
    c.eq(b.get("memdisk0.ID_FS_LABEL"), LABEL, "udev's blkid: the label")
    c.eq(b.get("archisodevice"), "/dev/memdisk0", "archisodevice")
    c.eq(b.get("archiso.mount"), "ok", "the ISO mounts from archisodevice")
    c.eq(b.get("archiso.isolinux"), "1", "and holds isolinux/isolinux.cfg")


def case_iso_no_rule(c, host):
    """The same guest without the project's rule (mdbrule=0): udev and
    systemd's 60-persistent-storage.rules run, yet memdisk0 gets no
    by-label, by-uuid or by-id link and blkid is not even run on it, while
    loop0 attached to the same bytes does get by-label/MDBTEST: systemd's
    rule skips the kernel name, which is what the project's rule fixes."""
    g = Guest.get()
    iso = images.iso(g.dir / "norule.iso", g.kver, g.initrd, "mdbrule=0 mdbloop=1",
                     {"hello.txt": b"hello\n"})
    b = guest_boot(c, "iso-no-rule", iso, "iso raw")
    c.expect("60-persistent-memdiskblk.rules" not in (b.get("rules") or "x"),
             f"project's rule absent: {b.get('rules')}")
    c.expect("60-persistent-storage.rules" in (b.get("rules") or ""),
             "systemd's rule present")
    c.eq(to(b, "memdisk0"), {}, "no /dev/disk link to memdisk0")
    c.eq(b.get("memdisk0.ID_FS_TYPE"), None, "no blkid data for memdisk0")
    c.eq(b.get("losetup"), "0", "loop0 attached to /dev/memdisk0")
    c.eq(links(b).get(f"by-label/{LABEL}"), "../../loop0",
         f"control: by-label/{LABEL} -> loop0 (all links: {links(b)})")
    c.eq(b.get("archisodevice"), "/dev/memdisk0",
         "archisodevice needs no rule")


def case_harddisk(c, host):
    """A partitioned hard-disk image with the project's rule: the partition
    gets by-label/MDBDISK, by-uuid, by-partuuid and by-id/memdisk-<addr>-part1
    links, the disk by-id/memdisk-<addr>, all to the right node."""
    g = Guest.get()
    img = images.harddisk(g.dir / "label.img", g.kver, g.initrd, "mdbrule=1",
                          {"hello.txt": b"hello\n"})
    b = guest_boot(c, "harddisk", img, "harddisk")
    part, disk = to(b, "memdisk0p1"), to(b, "memdisk0")
    c.expect(f"by-label/{DISK_LABEL}" in part, f"by-label/{DISK_LABEL} -> memdisk0p1 "
             f"(all links: {links(b)})")
    c.expect(any(k.startswith("by-uuid/") for k in part), "by-uuid -> memdisk0p1")
    c.expect(any(k.startswith("by-partuuid/") for k in part), "by-partuuid -> memdisk0p1")
    ids = [k for k in disk if re.fullmatch(r"by-id/memdisk-0x[0-9a-f]+", k)]
    c.eq(len(ids), 1, f"disk by-id ({disk})")
    c.expect(ids and f"{ids[0]}-part1" in part, f"partition by-id ({part})")
    c.eq(b.get("memdisk0.ID_PART_TABLE_TYPE"), "dos", "udev's blkid: dos table")


CASES = [("udev-iso", case_iso), ("udev-iso-no-rule", case_iso_no_rule),
         ("udev-harddisk", case_harddisk)]
