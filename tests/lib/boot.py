"""The one place that boots guests: QEMU under TCG, serial console to a log.

A guest reports facts as "@@ key value" lines (tests/e2e/guest/init); boot()
returns them with the whole console log, which also carries the kernel's
own warnings. Console logs are kept in CACHE/logs/NAME.log.

Guests boot through SeaBIOS (MEMDISK, a kernel, a disk image, or the
network) or through UEFI firmware (Debian's OVMF): from a disk image, or
(http_iso) HTTP-booting an ISO served for the boot's duration on the
host's 127.0.0.1 only.
"""
import contextlib
import http.server
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from harness import CACHE
from images import MEMDISK

QEMU = "qemu-system-x86_64"
# Linux prints on the console within seconds of starting (a 2.5 GiB image
# takes QEMU and MEMDISK well under a minute to load).
SILENT_LIMIT = 90
BOOTS = 3
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


# "@@ key value", at the start of a line or after console text the line
# was left open with (initramfs-tools once left "Begin: Running
# /scripts/init-bottom ... " unfinished, and a root's first fact went on
# that line).
FACT = re.compile(r"(?:^|\s)@@ (\S+) ?(.*)")


class Boot:
    def __init__(self, log, seconds, timed_out):
        self.log = log
        self.seconds = seconds
        self.timed_out = timed_out
        self.requests = []  # "METHOD /path status" the HTTP server answered
        self.facts = {}
        for line in log.splitlines():
            m = FACT.search(line.rstrip("\r"))
            if m:
                self.facts.setdefault(m[1], m[2])

    def get(self, key, default=None):
        return self.facts.get(key, default)

    def dmesg(self):
        """The guest's dmesg if it got that far, else the console log."""
        text = self.log
        if "@@ dmesg-begin" in text:
            text = text.split("@@ dmesg-begin", 1)[1].split("@@ dmesg-end")[0]
        return text


def boot(name, image=None, memdisk_args="", kernel=None, initrd=None,
         append="", mem=1024, timeout=300, extra=(), cpus=1, http_iso=None,
         silent_limit=None, until=None, disk=None, uefi=False):
    """Boot MEMDISK with image, or Linux directly with kernel (and initrd,
    if given), or the raw disk image disk (read-only, virtio) with SeaBIOS
    or, with uefi, OVMF, or neither (extra then says how the guest boots,
    e.g. from the network), or UEFI firmware that HTTP-boots the ISO
    http_iso (the server's log is the result's .requests). silent_limit:
    seconds a guest may print nothing before it is booted again.
    until=(TEXT, S): stop the guest S seconds after TEXT appears on its
    console (for a guest that is to wait forever, e.g. for a root
    device)."""
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    if http_iso is not None:
        with serve_file(http_iso) as (url, requests):
            b = boot(name, mem=mem, timeout=timeout, cpus=cpus,
                     extra=[*uefi_http(url, logs / f"{name}.vars.fd"), *extra],
                     silent_limit=silent_limit)
        b.requests = requests
        return b
    if disk is not None:
        # SeaBIOS without a network card: nothing to fall back to (PXE)
        # if the disk does not boot.
        firmware = ovmf(logs / f"{name}.vars.fd") if uefi else ["-nic", "none"]
        extra = [*firmware, "-drive",
                 f"file={disk},format=raw,if=virtio,readonly=on", *extra]
    # One vCPU unless a test needs more: with several, QEMU 7.2's TCG now
    # and then runs a stale int3 that the kernel's live text patching
    # (static keys) had already removed, and the guest oopses (seen here in
    # urandom_read_iter when the CRNG became ready).
    cmd = [QEMU, "-accel", "tcg", "-m", str(mem), "-smp", str(cpus),
           "-display", "none", "-monitor", "none", "-no-reboot",
           "-serial", f"file:{log}"]
    if image is not None:
        cmd += ["-kernel", str(MEMDISK), "-initrd", str(image),
                "-append", memdisk_args]
    elif kernel is not None:
        cmd += ["-kernel", str(kernel), "-append", append]
        if initrd is not None:
            cmd += ["-initrd", str(initrd)]
    cmd += list(extra)
    start = time.monotonic()
    for attempt in range(1, BOOTS + 1):
        log.unlink(missing_ok=True)
        for vars_copy in _uefi_vars(cmd):  # fresh firmware settings
            shutil.copy(OVMF_VARS, vars_copy)
        timed_out, silent = _run(cmd, log, start + timeout,
                                 silent_limit or SILENT_LIMIT, until)
        if not silent:
            break
        # Seen here five times in one day, always with the debug kernel
        # (tests/debug): QEMU idle, not a byte on the console after 10
        # minutes; the next boot passed. Up to two more boots; the log
        # says so.
    text = log.read_text(errors="replace") if log.exists() else ""
    if attempt > 1:
        text = (f"@@ boot-retried {attempt - 1} x no console output in "
                f"{silent_limit or SILENT_LIMIT} s\n" + text)
    return Boot(text, time.monotonic() - start, timed_out)


def _run(cmd, log, deadline, silent_limit, until=None):
    """Run QEMU until it exits or the deadline; returns (timed out,
    silent): killed because the console stayed empty for silent_limit
    seconds. Waits on the process; the console is looked at only while
    it may still be silent, or each second for until's text (once it
    came, the guest is stopped until[1] seconds later, not timed out)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began = time.monotonic()
    stop = None
    try:
        while True:
            now = time.monotonic()
            quiet = not log.exists() or log.stat().st_size == 0
            if stop is not None and now >= stop:
                return False, False
            if until and stop is None and not quiet and \
                    until[0] in log.read_text(errors="replace"):
                stop = now + until[1]
            wake = deadline if not quiet else min(deadline, began + silent_limit)
            if now >= wake:
                return now >= deadline, quiet and now < deadline
            step = wake - now
            if quiet:
                step = min(step, 5)
            if until:
                step = min(step, 1)
            try:
                proc.wait(timeout=step)
                return False, False
            except subprocess.TimeoutExpired:
                pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def ovmf(vars_copy):
    """QEMU arguments for OVMF: a q35 machine, the firmware's code
    read-only and vars_copy (a copy of its pristine settings, made before
    each boot) as its flash. -nodefaults leaves out the empty CD drive it
    would try first (and the network card)."""
    return ["-machine", "q35", "-nodefaults",
            "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,file={vars_copy}"]


def uefi_http(url, vars_copy):
    """QEMU arguments for OVMF (ovmf()) booting url over HTTP: virtio-net
    with no option ROM (OVMF's own driver runs it, not QEMU's iPXE ROM)
    and QEMU's DHCP handing out url. The fw_cfg
    knobs drop OVMF's PXE boot options, so HTTP boot over IPv4 is the
    first thing it tries: its PXE attempts over IPv4 and IPv6 took 85 s
    here (TFTP errors for an http:// file name, then no IPv6 offer)."""
    return [*ovmf(vars_copy),
            "-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n",
            "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n",
            "-netdev", f"user,id=n0,bootfile={url}",
            "-device", "virtio-net-pci,netdev=n0,romfile="]


def _uefi_vars(cmd):
    """The writable flash files of a QEMU command line (OVMF's settings)."""
    return [Path(a.rpartition("file=")[2]) for a in cmd
            if a.startswith("if=pflash,") and "readonly=on" not in a]


class _OneFile(http.server.SimpleHTTPRequestHandler):
    """Answers HEAD and GET for the server's one file, 404 for any other
    path; records each answer in the server's requests list."""

    def translate_path(self, path):
        f = self.server.file
        # Anything else: a name below a file, which cannot exist (404).
        return str(f) if path == "/" + f.name else f"{f}/absent"

    def log_request(self, code="-", size="-"):
        self.server.requests.append(
            f"{self.command} {self.path} {getattr(code, 'value', code)}")

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_file(path):
    """Serve one file over HTTP from a thread, on the host's 127.0.0.1 and
    a free port, while the with block runs; yields (the URL a QEMU guest
    on user networking reaches it at, the list of answered requests). The
    guest sees the host's 127.0.0.1 as 10.0.2.2, and nothing else can
    reach the server."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OneFile)
    server.file = Path(path).resolve()
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield (f"http://10.0.2.2:{server.server_address[1]}/"
               f"{server.file.name}", server.requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def ventoy_forge(name, kernel, payload, append, variant="valid", initrd=None,
                 **kw):
    """Boot OVMF from an ESP whose tests/e2e/hostile/ventoy-forge.c forges
    Ventoy's UEFI RAM disk of the ISO payload (variant's flaw; "valid":
    exactly what Ventoy leaves), then starts the kernel image kernel with
    the command line append (and initrd, if given, loaded by the kernel's
    EFI stub). The disk is CACHE/img/ventoy-forge/NAME.img; kw goes to
    boot(). The forger's "@@ forge.*" facts (numbers in hex) are in the
    result: phyaddr and imgsize are where the ISO is and its size."""
    from images import ventoy_forge_esp
    disk = CACHE / "img" / "ventoy-forge" / f"{name}.img"
    disk.parent.mkdir(parents=True, exist_ok=True)
    ventoy_forge_esp(disk, kernel, append, payload, variant, initrd)
    return boot(name, disk=disk, uefi=True, **kw)
