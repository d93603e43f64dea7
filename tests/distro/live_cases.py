"""Live systems booted through real MEMDISK, with initramfs images made by
Debian's own generators, each with the project's integration:
mkinitramfs with live-boot (boot=live) and the project's initramfs-tools
hook and init-top script, and dracut with dmsquash-live
(root=live:CDLABEL=...) and the project's 90memdiskblk module; the udev
rule goes in both. Each boots once as is and once with
memdiskblk.autodetect=0 on the kernel command line (the control: the same
initramfs and medium, with no /dev/memdisk0).

Each ISO holds a squashfs whose root is busybox and tests/distro/guest/
live-init, which prints MARKER, the mounts and dmesg, and powers off. The
ISOs are 2 KiB short of a 4 KiB multiple, the size the phram recipe
refuses, so live-boot's own MEMDISK support (memdiskfind + phram, which it
runs when syslinux-utils is installed, as here) cannot be what finds them.

The generators run in a private mount namespace (unshare -m) where the
module under /lib/modules/KVER/updates, the udev rule and the dracut
module are overlays: nothing is written to the host's trees, and nothing
is left behind if a run is interrupted. Artefacts are cached under
CACHE/live by a digest of everything they are made from.

For UEFI (uefi_cases.py) the same machinery makes hybrid ISOs that GRUB EFI
boots too (efi=True), and initramfs images made without the project's
integration (integration=False), the control there."""
import hashlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import images
from boot import boot
from common import CACHE, HERE, HOST_MODULES, ROOT, SOURCES, run
from harness import BAD_DMESG

MARKER = "MDB-LIVE-ROOT-OK"
DIR = CACHE / "live"
RULE = "udev/60-persistent-memdiskblk.rules"
HOOK = "initramfs/initramfs-tools/hooks/memdiskblk"
INIT_TOP = "initramfs/initramfs-tools/scripts/init-top/memdiskblk"
INIT_BOTTOM = "initramfs/initramfs-tools/scripts/init-bottom/memdiskblk"
ONLINE_RULE = "udev/61-memdiskblk-online.rules"
ONLINE_HELPER = "udev/memdiskblk-released"
DRACUT_MODULE = "initramfs/dracut/90memdiskblk"
LABEL = "MDBLIVE"
# live-boot scans every block device by itself: no live-media= hint.
LIVE_CMDLINE = "boot=live"
# rd.shell=0: a failed boot ends (panic=-1 reboots, QEMU -no-reboot exits).
# rd.retry=10: dracut gives up after 20 of its 0.5 s loops (about 25 s under
# TCG) instead of 360.
DRACUT_CMDLINE = (f"root=live:CDLABEL={LABEL} rd.live.image rd.shell=0 "
                  "rd.live.overlay.overlayfs=1 rd.retry=10")
NO_MODULE = "memdiskblk.autodetect=0"
KILLED_INIT = "Kernel panic - not syncing: Attempted to kill init!"
# Debian packages whose files end up in the images (part of the cache key).
PACKAGES = ["initramfs-tools", "live-boot", "dracut-core", "dracut-live",
            "busybox-static", "udev", "isolinux", "squashfs-tools",
            "grub-efi-amd64-bin"]
TOOLS = {"mkinitramfs": "initramfs-tools", "dracut": "dracut-core",
         "mksquashfs": "squashfs-tools", "xorriso": "xorriso",
         "unshare": "util-linux", "lsinitramfs": "initramfs-tools",
         "lsinitrd": "dracut-core",
         "/usr/lib/dracut/modules.d/90dmsquash-live": "dracut-live",
         "/lib/live/boot": "live-boot", "/bin/busybox": "busybox-static",
         "grub-mkimage": "grub-common", "mkfs.fat": "dosfstools",
         "mcopy": "mtools", "/usr/lib/grub/x86_64-efi": "grub-efi-amd64-bin"}

def need(*tools):
    """Fail (not skip) with the package to install when a tool is missing."""
    for tool in tools:
        if not (shutil.which(tool) if "/" not in tool else Path(tool).exists()):
            raise RuntimeError(f"{tool} is missing (install {TOOLS[tool]})")


def kernel():
    """The installed Debian kernel to boot: the 6.1 one if there is one."""
    kvers = images.kernels()
    if not kvers:
        raise RuntimeError("no kernel with an image and headers")
    return next((k for k in kvers if images.short(k) == "6.1"), kvers[0])


def digest(*parts):
    """A short digest of strings, bytes and files (their contents)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, Path):
            p = p.read_bytes()
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def inputs(kver):
    """What every artefact here is made from."""
    _, versions = run(["dpkg-query", "-W", "-f=${Package} ${Version}\n",
                       *PACKAGES, f"linux-image-{kver}"], check=False)
    files = [Path(__file__), HERE / "guest/live-init", ROOT / RULE,
             ROOT / ONLINE_RULE, ROOT / ONLINE_HELPER,
             ROOT / HOOK, ROOT / INIT_TOP, ROOT / INIT_BOTTOM,
             *sorted((ROOT / DRACUT_MODULE).iterdir()),
             *(ROOT / s for s in SOURCES)]
    return [kver, versions, images.CONSOLE, *files]


def in_namespace(kver, cmd, dracut=False, project=True, hide=()):
    """Run cmd where the host's trees carry the project's files, as its
    package would install them: /lib/modules/KVER/updates/memdiskblk.ko
    (depmod run), the udev rules and the online rule's helper and, with
    dracut, /usr/lib/dracut/modules.d/90memdiskblk. Whatever an installed memdiskblk-dkms put there (the
    package cases of a run on the same machine may have it installed) is
    hidden, so an image holds the project's pieces only when the test gives
    them. Overlays in a private mount namespace: they vanish with it, and
    the host's own files are never written. project=False: none of the
    project's files; hide: host files that seem absent (/dev/null over
    them)."""
    # None: hidden (an overlayfs whiteout).
    mods = {f"updates/dkms/memdiskblk.ko{z}": None for z in ["", ".xz", ".zst"]}
    layers = {Path(f"/lib/modules/{kver}"): mods,
              Path("/usr/share/initramfs-tools"): {
                  "hooks/memdiskblk": None, "scripts/init-top/memdiskblk": None,
                  "scripts/init-bottom/memdiskblk": None},
              Path("/usr/lib/dracut/modules.d"): {"90memdiskblk": None}}
    if project:
        mods["updates/memdiskblk.ko"] = images.build_module(kver)[0]
        layers[Path("/lib/udev")] = {
            f"rules.d/{Path(RULE).name}": ROOT / RULE,
            f"rules.d/{Path(ONLINE_RULE).name}": ROOT / ONLINE_RULE,
            Path(ONLINE_HELPER).name: ROOT / ONLINE_HELPER}
    if dracut:
        layers[Path("/usr/lib/dracut/modules.d")] = {
            f"90memdiskblk/{p.name}": p
            for p in (ROOT / DRACUT_MODULE).iterdir()}
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp, \
            images.locked(HOST_MODULES):
        script = ["set -e"]
        for i, (target, files) in enumerate(layers.items()):
            upper, work = Path(tmp) / f"upper{i}", Path(tmp) / f"work{i}"
            for rel, src in files.items():
                (upper / rel).parent.mkdir(parents=True, exist_ok=True)
                if src is None:
                    os.mknod(upper / rel, stat.S_IFCHR, os.makedev(0, 0))
                else:
                    shutil.copy2(src, upper / rel)
            work.mkdir()
            target = target.resolve()
            script.append(f"mount -t overlay overlay -o lowerdir={target},"
                          f"upperdir={upper},workdir={work} {target}")
        script += [f"mount --bind /dev/null {p}" for p in hide]
        script += [f"depmod {kver}", 'exec "$@"']
        return run(["unshare", "--mount", "--propagation", "private",
                    "sh", "-c", "\n".join(script), "sh", *cmd])[1]


def squashfs(key):
    """The live root: busybox, its applets and /sbin/init (live-init)."""
    out = DIR / f"root-{key}.squashfs"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        root = Path(tmp) / "root"
        for d in ["bin", "sbin", "dev", "proc", "sys", "run", "tmp", "root",
                  "var", "mnt", "etc/network"]:
            (root / d).mkdir(parents=True)
        images.busybox(root)
        shutil.copy(HERE / "guest/live-init", root / "sbin/init")
        (root / "sbin/init").chmod(0o755)
        run(["mksquashfs", str(root), str(out) + ".tmp", "-noappend",
             "-quiet", "-all-root", "-comp", "xz"])
    Path(str(out) + ".tmp").rename(out)
    return out


def mkinitramfs(kver, key, integration=True, out=None, project=True,
                memdiskfind=True):
    """Debian's mkinitramfs with live-boot and the project's hook and
    init-top script (without integration: neither), from a private
    configuration directory: MODULES=list (what the hooks add, isofs for
    the medium, virtio_pci and virtio_blk for the disk a boot loader ran
    from). Still about 23 MiB: live-boot's hook adds every
    network driver. project=False: none of the project's files, not even
    the module; memdiskfind=False: as if syslinux-utils were not installed
    (live-boot's hook adds its memdiskfind when it is)."""
    integration = integration and project
    out = out or DIR / f"initramfs-tools-{'' if integration else 'plain-'}{key}.img"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        conf = Path(tmp) / "conf"
        for d in ["conf.d", "hooks", "scripts/init-top", "scripts/init-bottom"]:
            (conf / d).mkdir(parents=True)
        (conf / "initramfs.conf").write_text(
            "MODULES=list\nBUSYBOX=y\nKEYMAP=n\nCOMPRESS=zstd\nRESUME=none\n"
            "FSTYPE=auto\nRUNSIZE=10%\n")
        # virtio: Ventoy's disk (ventoy_cases.py), where Ventoy's normal
        # mode reads the ISO from, as a real system sees its USB stick.
        (conf / "modules").write_text("isofs\nvirtio_pci\nvirtio_blk\n")
        if integration:
            shutil.copy2(ROOT / HOOK, conf / "hooks/memdiskblk")
            shutil.copy2(ROOT / INIT_TOP, conf / "scripts/init-top/memdiskblk")
            shutil.copy2(ROOT / INIT_BOTTOM, conf / "scripts/init-bottom/memdiskblk")
        in_namespace(kver, ["mkinitramfs", "-d", str(conf), "-o",
                            str(out) + ".tmp", kver], project=project,
                     hide=() if memdiskfind else ["/usr/bin/memdiskfind"])
    Path(str(out) + ".tmp").rename(out)
    return out


def dracut(kver, key, integration=True):
    """dracut (not this system's generator) with an empty configuration
    (--conf /dev/null, --confdir: dracut-core's 11-ifcfg.conf would add the
    network modules) and only the modules a live boot needs: dmsquash-live
    with its dependencies, and (with integration) the project's
    memdiskblk."""
    out = DIR / f"dracut-{'' if integration else 'plain-'}{key}.img"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        in_namespace(kver, [
            "dracut", "--conf", "/dev/null", "--confdir", tmp,
            "--no-hostonly", "--no-hostonly-cmdline", "--no-early-microcode",
            "--zstd", "-m", "base dmsquash-live" + (" memdiskblk" if integration else ""),
            "--omit", "systemd", "--kver", kver, "--force", str(out) + ".tmp"],
            dracut=integration)
    Path(str(out) + ".tmp").rename(out)
    return out


def live_iso(path, kver, initrd, cmdline, payload, efi=False):
    """An isolinux ISO labelled LABEL holding the kernel, initrd and the
    payload ({path in the ISO: file}), 2 KiB short of a 4 KiB multiple;
    efi: a hybrid ISO for BIOS and UEFI, as live-build makes them
    (images.iso)."""
    if path.exists():
        return path
    return images.iso(path, kver, initrd, cmdline, {}, extra=payload,
                      label=LABEL, efi=efi)


def image(family, module=True, efi=False, integration=True, release=""):
    """(ISO, its initramfs) for family "live-boot" or "dracut"; without
    module, the command line adds memdiskblk.autodetect=0; efi: a hybrid
    ISO that UEFI firmware boots too; without integration, the initramfs
    is made without the project's hook, init-top script or dracut
    module; release names one of RELEASE. Cases ask for them side by
    side: each is built once, under a lock."""
    with images.locked(("live", family)):
        return _image(family, module, efi, integration, release)


# name: (what the command line adds, bytes of zeros appended to the ISO).
# The zeros make the image span whole memory blocks to return; toram
# copies files only, so they cost the guest no RAM twice.
RELEASE = {"": ("", 0),
           "toram": ("toram", 0),
           "toram-release": ("toram memdiskblk.release=auto", 480 << 20)}


def _image(family, module, efi, integration, release):
    need("unshare", "mksquashfs", "xorriso", "/bin/busybox",
         *(["mkinitramfs", "lsinitramfs", "/lib/live/boot"] if family == "live-boot"
           else ["dracut", "lsinitrd", "/usr/lib/dracut/modules.d/90dmsquash-live"]),
         *(["grub-mkimage", "/usr/lib/grub/x86_64-efi", "mkfs.fat", "mcopy"]
           if efi else []))
    DIR.mkdir(parents=True, exist_ok=True)
    kver = kernel()
    key = digest(*inputs(kver))
    with images.locked("live-clean"):
        for old in DIR.iterdir():  # made from other inputs
            if key not in old.name:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
    with images.locked("live-squashfs"):
        root = squashfs(key)
    if family == "live-boot":
        initrd = mkinitramfs(kver, key, integration)
        cmdline, payload = LIVE_CMDLINE, {"live/filesystem.squashfs": root}
    else:
        initrd = dracut(kver, key, integration)
        cmdline, payload = DRACUT_CMDLINE, {"LiveOS/squashfs.img": root}
    if not module:
        cmdline += " " + NO_MODULE
    extra, pad = RELEASE[release]
    cmdline = f"{cmdline} {extra}".strip()
    variant = ("" if module else "nomod-") + ("efi-" if efi else "") + \
        ("" if integration else "plain-") + (f"{release}-" if release else "")
    iso = DIR / f"{family}-{variant}{key}.iso"
    if not iso.exists() and pad:
        # Zeros after the ISO 9660 volume, a 4 KiB multiple (the size
        # stays 2 KiB short of one); a sparse file, made at once.
        padded = live_iso(DIR / f"unpadded-{iso.name}", kver, initrd, cmdline,
                          payload, efi)
        with open(padded, "r+b") as f:
            f.truncate(padded.stat().st_size + pad)
        padded.rename(iso)
    return live_iso(iso, kver, initrd, cmdline, payload, efi), initrd


def mounts(b):
    """{mount point: device} as the live root saw them."""
    return {k[6:]: v.split()[0] for k, v in b.facts.items()
            if k.startswith("mount:") and v}


def clean_log(c, log):
    bad = [line for line in log.splitlines() if BAD_DMESG.search(line)]
    c.expect(not bad, f"kernel log: {bad[:3]}")


def booted_live(c, b, medium_at):
    """The live root ran, from the medium on /dev/memdisk0 mounted at
    medium_at, with memdiskblk loaded and by-label/LABEL linked to
    memdisk0; nothing oopsed."""
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    c.expect(MARKER in b.log, f"{MARKER} printed (log tail: {b.log[-400:]!r})")
    c.eq(b.get("finished"), "", "the live root's init ran to its end")
    c.eq(mounts(b).get(medium_at), "/dev/memdisk0",
         f"medium at {medium_at} (mounts: {mounts(b)})")
    c.eq(b.get("memdiskblk"), "1", "memdiskblk loaded")
    c.eq(b.get(f"link:by-label/{LABEL}"), "../../memdisk0",
         f"/dev/disk/by-label/{LABEL} (the rule, run by the initramfs's udev)")
    clean_log(c, b.log)
    c.note(f"{b.seconds:.0f} s boot")


def did_not_boot(c, b, message, end=None):
    """No marker, the initramfs's own failure message, the boot ended. end:
    how it ends, if not cleanly; the log is checked up to there."""
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    log = b.log
    if end:
        c.expect(end in log, f"the boot ended with {end!r}")
        log = log.split(end)[0]
    c.expect(MARKER not in b.log, f"{MARKER} must not appear")
    c.expect("/dev/memdisk0" not in b.log, "no /dev/memdisk0 in the log")
    c.expect(re.search(message, log), f"{message!r} in the log "
             f"(tail: {b.log[-400:]!r})")
    clean_log(c, log)
    c.note(f"{b.seconds:.0f} s boot")


def case_live_boot(c, host):
    """live-boot (boot=live, no live-media= hint) in an initramfs made by
    Debian's mkinitramfs with the project's hook and init-top script (the
    initramfs holds the module, the init-top script and the udev rule):
    booted through MEMDISK ("iso raw"), live-boot finds the ISO by itself
    on /dev/memdisk0 (the live root sees /run/live/medium mounted from
    it), the squashfs root's init prints MDB-LIVE-ROOT-OK, memdiskblk is
    loaded, the initramfs's udev made /dev/disk/by-label/MDBLIVE ->
    ../../memdisk0 (the rule), and the console log has no
    BUG/WARNING/Oops. The ISO is not named on the command line.
    live-boot's hook put syslinux-utils' memdiskfind in the initramfs and
    the project's hook wrapped it: the wrapper says memdiskblk serves the
    image, so live-boot never tries phram (no phram line in dmesg)."""
    iso, initrd = image("live-boot")
    listing = run(["lsinitramfs", str(initrd)])[1]
    c.expect(re.search(r"/memdiskblk\.ko$", listing, re.M), "module in the initramfs")
    c.expect("scripts/init-top/memdiskblk" in listing, "init-top script in the initramfs")
    c.expect("60-persistent-memdiskblk.rules" in listing, "udev rule in the initramfs")
    c.expect("usr/lib/memdiskblk/memdiskfind" in listing,
             "memdiskfind wrapped in the initramfs (syslinux-utils installed?)")
    b = boot("live-boot-initramfs-tools", image=iso, memdisk_args="iso raw",
             timeout=120)
    booted_live(c, b, "/run/live/medium")
    c.expect(re.search(r"memdiskfind: 0x[0-9a-f]+,0x[0-9a-f]+ is served by "
                       r"memdiskblk as /dev/memdisk0", b.log),
             "the wrapper's message in live-boot's log")
    phram = [ln for ln in b.dmesg().splitlines() if "phram" in ln]
    c.eq(phram[:3], [], "phram lines in dmesg")


def case_live_boot_no_module(c, host):
    """The same initramfs and medium with memdiskblk.autodetect=0 added to
    the command line (so the module serves nothing): live-boot's own
    memdiskfind + phram path refuses the 4 KiB + 2 KiB image, live-boot
    finds no medium (its scan loop lasts 60 s), says "Unable to find a
    medium containing a live file system" and the boot ends (panic=-1);
    MDB-LIVE-ROOT-OK never appears, /dev/memdisk0 is never named, and the
    console log has no BUG/WARNING/Oops."""
    iso, _ = image("live-boot", module=False)
    b = boot("live-boot-no-module", image=iso, memdisk_args="iso raw",
             timeout=150)
    did_not_boot(c, b, "Unable to find a medium containing a live file system")


def case_dracut_live(c, host):
    """dracut's dmsquash-live (root=live:CDLABEL=MDBLIVE, rd.shell=0) in an
    initramfs made by dracut with the project's 90memdiskblk module (the
    module, the udev rule, an early load): booted through MEMDISK, the
    rule's /dev/disk/by-label/MDBLIVE leads dmsquash-live to /dev/memdisk0
    (the live root sees /run/initramfs/live mounted from it),
    LiveOS/squashfs.img's init prints MDB-LIVE-ROOT-OK, memdiskblk is
    loaded, the link is still there in the live root, and the console log
    has no BUG/WARNING/Oops."""
    iso, initrd = image("dracut")
    _, listing = run(["lsinitrd", str(initrd)], check=False)
    c.expect(re.search(r"/memdiskblk\.ko", listing), "module in the initramfs")
    c.expect("60-persistent-memdiskblk.rules" in listing, "udev rule in the initramfs")
    b = boot("dracut-live", image=iso, memdisk_args="iso raw", timeout=120)
    booted_live(c, b, "/run/initramfs/live")


def case_dracut_live_no_module(c, host):
    """The same initramfs and medium with memdiskblk.autodetect=0 added to
    the command line: dracut says "/dev/disk/by-label/MDBLIVE does not
    exist" and "Could not boot", and (rd.shell=0, rd.retry=10) the boot
    ends: with no systemd dracut's emergency action finds no halt, its
    init exits and the kernel panics ("Attempted to kill init"; panic=-1
    ends the guest). MDB-LIVE-ROOT-OK never appears, /dev/memdisk0 is
    never named, and the console log up to that panic has no
    BUG/WARNING/Oops."""
    iso, _ = image("dracut", module=False)
    b = boot("dracut-live-no-module", image=iso, memdisk_args="iso raw",
             timeout=120)
    did_not_boot(c, b, f"by-label/{LABEL} does not exist", KILLED_INIT)
    c.expect("Could not boot" in b.log, "dracut: Could not boot")


def case_live_boot_toram_release(c, host):
    """live-boot with toram and memdiskblk.release=auto, the ISO padded to
    span whole memory blocks, in a guest with 768 MiB more RAM than the
    image: live-boot copies the medium to RAM and unmounts it, the
    initramfs's init-bottom script releases it, the initramfs's udev (the
    online rule and its helper are in the initramfs) onlines what came
    back, on a kernel that leaves hot-added memory offline. The live root
    runs with /run/live/medium on live-boot's tmpfs ("/dev/shm"),
    /dev/memdisk0 is gone, one
    "memdisk0: released:" line, a System RAM (memdiskblk) resource, no
    memory block offline, and MemTotal above all the RAM the guest had
    outside the image. Clean console log."""
    iso, initrd = image("live-boot", release="toram-release")
    listing = run(["lsinitramfs", str(initrd)])[1]
    for piece in ["scripts/init-bottom/memdiskblk", "61-memdiskblk-online.rules",
                  "udev/memdiskblk-released"]:
        c.expect(piece in listing, f"{piece} in the initramfs")
    size = iso.stat().st_size
    mem = (size >> 20) + 768
    b = boot("live-boot-toram-release", image=iso, memdisk_args="iso raw",
             mem=mem, timeout=300)
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    c.expect(MARKER in b.log, f"{MARKER} printed (log tail: {b.log[-400:]!r})")
    c.eq(b.get("finished"), "", "the live root's init ran to its end")
    c.eq(mounts(b).get("/run/live/medium"), "/dev/shm",
         f"toram: the medium is live-boot's tmpfs copy (mounts: {mounts(b)})")
    c.eq(b.get("memdisk0"), "0", "/dev/memdisk0 released: gone")
    lines = re.findall(r"memdiskblk: memdisk0: released: (\d+) KiB of RAM "
                       r"returned at 0x([0-9a-f]+)", b.log)
    c.eq(len(lines), 1, "one release line")
    c.expect(lines and int(lines[0][0]) >= 256 << 10,
             f"at least two 128 MiB blocks returned: {lines}")
    c.expect(b.get("iomem", "").endswith(":SystemRAM(memdiskblk)"),
             f"System RAM (memdiskblk) in /proc/iomem: {b.get('iomem')!r}")
    c.eq(b.get("offline-blocks"), "", "no memory block offline")
    total = int(b.get("memtotal") or 0)
    outside = (mem << 10) - (size >> 10)
    c.expect(total > outside, f"MemTotal {total >> 10} MiB above the "
             f"{outside >> 10} MiB the guest had outside the image")
    clean_log(c, b.log)
    c.note(f"{int(lines[0][0]) >> 10 if lines else 0} MiB returned, "
           f"MemTotal {total >> 10} MiB, guest {mem} MiB, {b.seconds:.0f} s boot")


def case_live_boot_toram_keep(c, host):
    """The control: live-boot with toram but without memdiskblk.release=auto.
    The live root runs from the copy in RAM, /dev/memdisk0 is still there
    (unmounted) and nothing was released or even tried (no "released" nor
    "not released" line)."""
    iso, _ = image("live-boot", release="toram")
    b = boot("live-boot-toram-keep", image=iso, memdisk_args="iso raw",
             timeout=150)
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    c.expect(MARKER in b.log, f"{MARKER} printed (log tail: {b.log[-400:]!r})")
    c.eq(mounts(b).get("/run/live/medium"), "/dev/shm",
         f"toram: the medium is live-boot's tmpfs copy (mounts: {mounts(b)})")
    c.eq(b.get("memdisk0"), "1", "/dev/memdisk0 kept")
    c.expect("released" not in b.log, "nothing released or tried")
    clean_log(c, b.log)
    c.note(f"{b.seconds:.0f} s boot")


CASES = [("live-boot-initramfs-tools", case_live_boot),
         ("live-boot-no-module", case_live_boot_no_module),
         ("dracut-live", case_dracut_live),
         ("dracut-live-no-module", case_dracut_live_no_module),
         ("live-boot-toram-release", case_live_boot_toram_release),
         ("live-boot-toram-keep", case_live_boot_toram_keep)]
