"""mkinitcpio (Arch, archiso) is not in Debian, so its hook's logic is run
the way mkinitcpio's /init runs it: tests/distro/mkinitcpio-harness.sh, in
busybox ash, turns a given kernel command line into variables, sources
initramfs/mkinitcpio/hooks/memdiskblk and calls run_hook with msg, poll_device and
modprobe stubbed. The command line is a file bind-mounted over
/proc/cmdline in a private mount namespace, where a tmpfs over
/sys/firmware holds an acpi/tables/NFIT file or not (a UEFI firmware that
published its RAM disk, or none). The build hook
(initramfs/mkinitcpio/install/memdiskblk) is sourced in bash with mkinitcpio's
add_* functions stubbed. A real boot of the run-time hook is in
udev_cases.py."""
import tempfile
from pathlib import Path

from common import CACHE, HERE, ROOT, run

HARNESS = HERE / "mkinitcpio-harness.sh"
HOOKS = ROOT / "initramfs" / "mkinitcpio" / "hooks"
INSTALL = ROOT / "initramfs" / "mkinitcpio" / "install" / "memdiskblk"


def run_hook(cmdline, modprobe_rc=0, device_appears=1, nfit=0):
    """Returns (lines the harness printed, calls the stubs saw)."""
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        cmdfile = Path(tmp) / "cmdline"
        cmdfile.write_text(cmdline + "\n")
        trace = Path(tmp) / "trace"
        trace.write_text("")
        tables = "/sys/firmware/acpi/tables"
        script = (f"mount --bind {cmdfile} /proc/cmdline && "
                  f"mount -t tmpfs tmpfs /sys/firmware && mkdir -p {tables} && "
                  + (f"touch {tables}/NFIT && " if nfit else "") +
                  f"exec busybox sh {HARNESS} {HOOKS}")
        _, out = run(["unshare", "--mount", "--propagation", "private",
                      "sh", "-c", script],
                     env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                          "TRACE": str(trace), "MODPROBE_RC": str(modprobe_rc),
                          "DEVICE_APPEARS": str(device_appears)})
        return out.splitlines(), trace.read_text().splitlines()


def calls(trace):
    return [t for t in trace if not t.startswith("msg")]


def scenario(cmdline, want_calls, want_vars, **stubs):
    def case(c, host):
        out, trace = run_hook(cmdline, **stubs)
        c.eq(calls(trace), want_calls, "commands run")
        c.eq([o for o in out if o.startswith("var ")], want_vars,
             "variables set or changed")
        c.eq([o for o in out if o.startswith("rc ")], ["rc 0"],
             "run_hook ran and returned 0")
    case.__doc__ = (f"kernel command line {cmdline!r}, stubs {stubs}: "
                    f"runs {want_calls}, sets {want_vars}")
    return case


LOAD = "modprobe -q memdiskblk"
POLL = "poll_device /dev/memdisk0 5"
PMEM = "modprobe -q -a nfit nd_pmem"
POINTED = ["var archisodevice='/dev/memdisk0'"]
ARCH = "BOOT_IMAGE=/arch/boot/x86_64/vmlinuz-linux archisobasedir=arch archisolabel=ARCH_202611"

SCENARIOS = [
    # name, command line, commands, variables, stubs
    ("image-present", ARCH, [LOAD, POLL], POINTED, {}),
    ("autodetect-off", ARCH + " memdiskblk.autodetect=0", [], [], {}),
    ("autodetect-n", ARCH + " memdiskblk.autodetect=n", [], [], {}),
    ("autodetect-last-wins", ARCH + " memdiskblk.autodetect=0 memdiskblk.autodetect=1",
     [LOAD, POLL], POINTED, {}),
    ("autodetect-off-image", ARCH + " memdiskblk.autodetect=0 memdiskblk.image=0x10000000,16M",
     [LOAD, POLL], POINTED, {}),
    ("modprobe-fails", ARCH, [LOAD], [], {"modprobe_rc": 1}),
    ("no-device", ARCH, [LOAD, POLL], [], {"device_appears": 0}),
    ("archisodevice-given", ARCH + " archisodevice=/dev/sr0", [LOAD], [], {}),
    # UEFI: the firmware's RAM disk is in the NFIT; nfit and nd_pmem come
    # first, memdiskblk finds no MEMDISK, archiso looks by label.
    ("uefi-ram-disk", ARCH, [PMEM, LOAD], [], {"nfit": 1, "modprobe_rc": 1}),
    ("uefi-autodetect-off", ARCH + " memdiskblk.autodetect=0", [PMEM], [],
     {"nfit": 1}),
    ("nfit-and-memdisk", ARCH, [PMEM, LOAD, POLL], POINTED, {"nfit": 1}),
]


def case_install(c, host):
    """build() adds the module, nfit and nd_pmem (optional, "?": the UEFI
    RAM disk's drivers), the project's udev rule (by the name it has in
    udev/) and the run-time hook; help() says what it does, where it goes
    in HOOKS and what it does under UEFI."""
    script = f"""
add_module() {{ echo "add_module $*"; }}
add_udev_rule() {{ echo "add_udev_rule $*"; }}
add_runscript() {{ echo "add_runscript $*"; }}
add_file() {{ echo "add_file $*"; }}
add_binary() {{ echo "add_binary $*"; }}
. {INSTALL}
build
echo "build rc $?"
help
"""
    _, out = run(["bash", "-c", script])
    lines = out.splitlines()
    c.eq([line for line in lines if line.startswith("add_")],
         ["add_module memdiskblk", "add_module nfit?", "add_module nd_pmem?",
          "add_udev_rule 60-persistent-memdiskblk.rules", "add_runscript "],
         "build() calls")
    c.expect("build rc 0" in lines, "build() returns 0")
    c.expect((ROOT / "udev/60-persistent-memdiskblk.rules").exists(),
             "the rule build() names is the project's")
    c.expect((HOOKS / INSTALL.name).exists(),
             "add_runscript finds hooks/ under the same name")
    text = "\n".join(lines)
    c.expect("/dev/memdisk0" in text and "HOOKS=(" in text and
             "memdiskblk.autodetect=0" in text and "/dev/pmemN" in text and
             "UEFI" in text, "help() text")


CASES = [("mkinitcpio-install", case_install)] + [
    (f"mkinitcpio-hook/{name}", scenario(cmdline, want, want_vars, **stubs))
    for name, cmdline, want, want_vars, stubs in SCENARIOS]
