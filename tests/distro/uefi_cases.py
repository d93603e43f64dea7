"""Live systems HTTP-booted by UEFI firmware, where no MEMDISK runs.

Debian's OVMF fetches a hybrid live ISO (isolinux for BIOS, GRUB EFI for
UEFI; live_cases.py makes it with efi=True) from a web server the test runs
on the host's 127.0.0.1, keeps it in a RAM disk and describes that in an
ACPI NFIT table; GRUB EFI boots the ISO's kernel from it. Linux serves the
RAM disk as /dev/pmemN through nfit and nd_pmem, which the project's
initramfs integration puts into the image and loads. The same live root as
in live_cases.py (tests/distro/guest/live-init) reports what is mounted,
loaded and linked.

Each family (live-boot in a mkinitramfs image, dracut's dmsquash-live)
boots with the project's integration; the control is the same ISO layout
with an initramfs made without it. The ISOs and initramfs images are
cached with live_cases.py's, by the same digest of their inputs."""
import re

import live_cases
from boot import boot
from common import run
from live_cases import KILLED_INIT, LABEL, MARKER, clean_log, mounts

MEM = 512  # MiB: the firmware's copy of the ISO, plus a live system
TIMEOUT = 300
PMEM = re.compile(r"/dev/pmem\d+(p\d+)?")
PMEM_MODULES = ["libnvdimm", "nfit", "nd_pmem"]


def listing(family, initrd):
    """The initramfs's file list, by its generator's own tool."""
    tool = "lsinitramfs" if family == "live-boot" else "lsinitrd"
    return run([tool, str(initrd)], check=False)[1]


def has_module(text, mod):
    return re.search(rf"/{mod}\.ko(\.[a-z]+)?$", text, re.M) is not None


def memdiskblk_lines(b):
    """memdiskblk's lines in the guest's dmesg."""
    return [line.split("] ", 1)[-1] for line in b.dmesg().splitlines()
            if "memdiskblk" in line]


def hybrid(c, iso):
    """The ISO boots both ways: El Torito entries for BIOS (isolinux) and
    UEFI (GRUB EFI's FAT image), an isohybrid MBR and a GPT."""
    report = run(["xorriso", "-indev", str(iso), "-report_el_torito", "plain",
                  "-report_system_area", "plain"], check=False)[1]
    entries = re.findall(r"^El Torito boot img :\s+\d+\s+(\w+)", report, re.M)
    c.eq(entries, ["BIOS", "UEFI"], "El Torito boot entries")
    c.expect(re.search(r"^System area summary: MBR isohybrid .*GPT", report, re.M),
             "isohybrid MBR and GPT")


def fetched(c, b, iso):
    """The firmware fetched this ISO from the test's server (OVMF's HTTP
    boot asks for its size with HEAD, then GETs it)."""
    c.expect(f"GET /{iso.name} 200" in b.requests,
             f"the firmware downloaded the ISO (server log: {b.requests})")


def booted_uefi(c, b, iso, medium_at):
    """The live root ran under UEFI from the firmware's RAM disk: the ISO
    was fetched over HTTP, the kernel saw EFI and an NFIT, the medium at
    medium_at is a pmem device with udev's by-label link, nfit and nd_pmem
    are loaded, and memdiskblk stayed out: in /proc/iomem the NFIT region
    belongs to nd_pmem's namespace0.0 and nothing to memdiskN, the module
    is not loaded, and it printed one line, "no image found" (its
    modprobe failed with ENODEV)."""
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    fetched(c, b, iso)
    c.expect(MARKER in b.log, f"{MARKER} printed (log tail: {b.log[-400:]!r})")
    c.eq(b.get("finished"), "", "the live root's init ran to its end")
    dmesg = b.dmesg()
    c.expect(re.search(r"efi: EFI v[\d.]+ by EDK II", dmesg), "booted by UEFI (EDK II)")
    c.expect(re.search(r"ACPI: NFIT 0x", dmesg), "the firmware published an NFIT")
    medium = mounts(b).get(medium_at, "")
    c.expect(PMEM.fullmatch(medium), f"medium at {medium_at} is /dev/pmemN "
             f"(mounts: {mounts(b)})")
    c.eq(b.get(f"link:by-label/{LABEL}"), "../../" + medium[5:],
         f"/dev/disk/by-label/{LABEL} (systemd's rule, run by the initramfs's udev)")
    for mod in ["nfit", "nd_pmem"]:
        c.eq(b.get(f"module:{mod}"), "1", f"{mod} loaded")
    region = re.search(r"nfit region \[0x([0-9a-f]+)-0x([0-9a-f]+)\]", dmesg)
    c.expect(region, "nfit registered the RAM disk's region")
    if region:
        span = "-".join(f"{int(x, 16):08x}" for x in region.groups())
        c.eq({k[6:]: v for k, v in b.facts.items() if k.startswith("iomem:")},
             {"namespace0.0": span}, "/proc/iomem: nd_pmem owns the NFIT "
             "region, nothing is memdiskN")
    c.eq(b.get("memdiskblk"), "0", "memdiskblk not loaded")
    c.eq([line for line in memdiskblk_lines(b) if "taint" not in line],
         ["memdiskblk: no image found"],
         "memdiskblk's one line (besides the out-of-tree taint notes)")
    clean_log(c, b.log)
    c.note(f"{b.seconds:.0f} s boot, medium {medium}")


def did_not_find(c, b, iso, message, end=None):
    """The control: the firmware fetched the ISO and GRUB booted the kernel
    from its RAM disk, yet the initramfs found no medium: its own failure
    message, no marker, no pmem device named, the boot ended. end: how it
    ends, if not cleanly; the log is checked up to there."""
    c.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
    fetched(c, b, iso)
    c.expect("Booting `live'" in b.log, "GRUB EFI booted the ISO's kernel")
    log = b.log
    if end:
        c.expect(end in log, f"the boot ended with {end!r}")
        log = log.split(end)[0]
    c.expect(MARKER not in b.log, f"{MARKER} must not appear")
    c.expect("/dev/pmem" not in b.log, "no /dev/pmem in the log")
    c.expect(re.search(message, log), f"{message!r} in the log "
             f"(tail: {b.log[-400:]!r})")
    clean_log(c, log)
    c.note(f"{b.seconds:.0f} s boot")


def case_uefi_live_boot(c, host):
    """live-boot (boot=live, no hint) in an initramfs made by mkinitramfs
    with the project's hook and init-top script, which put libnvdimm, nfit
    and nd_pmem in the image: OVMF HTTP-boots the hybrid ISO (El Torito
    BIOS and UEFI entries, isohybrid MBR and GPT) into its RAM
    disk, GRUB EFI boots it, live-boot finds its medium on /dev/pmemN (or
    a partition of it) by itself, and the live root's init runs; udev
    linked by-label/MDBLIVE to it, nfit and nd_pmem are loaded,
    memdiskblk is not (one line: no image found), and the console
    log has no BUG/WARNING/Oops."""
    iso, initrd = live_cases.image("live-boot", efi=True)
    hybrid(c, iso)
    files = listing("live-boot", initrd)
    for mod in PMEM_MODULES:
        c.expect(has_module(files, mod), f"{mod} in the initramfs")
    b = boot("uefi-live-boot", http_iso=iso, mem=MEM, timeout=TIMEOUT)
    booted_uefi(c, b, iso, "/run/live/medium")


def case_uefi_live_boot_plain(c, host):
    """The control for live-boot: the same hybrid ISO layout with an
    initramfs made by mkinitramfs without the project's integration (it
    holds neither nfit nor nd_pmem, as Debian's MODULES=most): OVMF
    fetches the ISO and GRUB boots its kernel, but live-boot says "Unable
    to find a medium containing a live file system" and the boot ends;
    MDB-LIVE-ROOT-OK never appears and no /dev/pmem is named."""
    iso, initrd = live_cases.image("live-boot", efi=True, integration=False)
    files = listing("live-boot", initrd)
    for mod in ["nfit", "nd_pmem", "memdiskblk"]:
        c.expect(not has_module(files, mod), f"no {mod} in the initramfs")
    b = boot("uefi-live-boot-plain", http_iso=iso, mem=MEM, timeout=TIMEOUT)
    did_not_find(c, b, iso, "Unable to find a medium containing a live file system")


def case_uefi_dracut_live(c, host):
    """dracut's dmsquash-live (root=live:CDLABEL=MDBLIVE) in an initramfs
    made by dracut with the project's 90memdiskblk, which puts libnvdimm,
    nfit and nd_pmem in the image and loads them from its cmdline hook:
    OVMF HTTP-boots the hybrid ISO (El Torito BIOS and UEFI entries,
    isohybrid MBR and GPT), udev's by-label/MDBLIVE link leads
    dmsquash-live to /dev/pmemN (or a partition of it), the live root's
    init runs, nfit and nd_pmem are loaded, memdiskblk is not (one line:
    no image found), and the console log has no
    BUG/WARNING/Oops."""
    iso, initrd = live_cases.image("dracut", efi=True)
    hybrid(c, iso)
    files = listing("dracut", initrd)
    for mod in PMEM_MODULES:
        c.expect(has_module(files, mod), f"{mod} in the initramfs")
    b = boot("uefi-dracut-live", http_iso=iso, mem=MEM, timeout=TIMEOUT)
    booted_uefi(c, b, iso, "/run/initramfs/live")


def case_uefi_dracut_live_plain(c, host):
    """The control for dracut: an initramfs made by dracut with
    dmsquash-live but without 90memdiskblk (so without nfit and nd_pmem):
    OVMF fetches the ISO and GRUB boots its kernel, but dracut says
    "/dev/disk/by-label/MDBLIVE does not exist" and "Could not boot", and
    the boot ends (rd.shell=0: its init exits, "Attempted to kill init");
    MDB-LIVE-ROOT-OK never appears and no /dev/pmem is named."""
    iso, initrd = live_cases.image("dracut", efi=True, integration=False)
    files = listing("dracut", initrd)
    for mod in ["nfit", "nd_pmem", "memdiskblk"]:
        c.expect(not has_module(files, mod), f"no {mod} in the initramfs")
    b = boot("uefi-dracut-live-plain", http_iso=iso, mem=MEM, timeout=TIMEOUT)
    did_not_find(c, b, iso, f"by-label/{LABEL} does not exist", KILLED_INIT)
    c.expect("Could not boot" in b.log, "dracut: Could not boot")


CASES = [("uefi-live-boot", case_uefi_live_boot),
         ("uefi-live-boot-plain", case_uefi_live_boot_plain),
         ("uefi-dracut-live", case_uefi_dracut_live),
         ("uefi-dracut-live-plain", case_uefi_dracut_live_plain)]
