"""The one place that boots guests: QEMU under TCG, serial console to a log.

A guest reports facts as "@@ key value" lines (tests/e2e/guest/init); boot()
returns them with the whole console log, which also carries the kernel's
own warnings. Console logs are kept in CACHE/logs/NAME.log.
"""
import subprocess
import time
from pathlib import Path

from harness import CACHE
from images import MEMDISK

QEMU = "qemu-system-x86_64"
# Linux prints on the console within seconds of starting (a 2.5 GiB image
# takes QEMU and MEMDISK well under a minute to load).
SILENT_LIMIT = 90
BOOTS = 3


class Boot:
    def __init__(self, log, seconds, timed_out):
        self.log = log
        self.seconds = seconds
        self.timed_out = timed_out
        self.facts = {}
        for line in log.splitlines():
            line = line.rstrip("\r")
            if line.startswith("@@ "):
                key, _, value = line[3:].partition(" ")
                self.facts.setdefault(key, value)

    def get(self, key, default=None):
        return self.facts.get(key, default)

    def dmesg(self):
        """The guest's dmesg if it got that far, else the console log."""
        text = self.log
        if "@@ dmesg-begin" in text:
            text = text.split("@@ dmesg-begin", 1)[1].split("@@ dmesg-end")[0]
        return text


def boot(name, image=None, memdisk_args="", kernel=None, initrd=None,
         append="", mem=1024, timeout=300, extra=(), cpus=1, silent_limit=None):
    """Boot MEMDISK with image, or Linux directly with kernel (and initrd,
    if given), or neither (extra then says how the guest boots, e.g. from
    the network or firmware). silent_limit: seconds a guest may print
    nothing before it is booted again (firmware that is quiet for long
    needs more than the default)."""
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
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
        timed_out, silent = _run(cmd, log, start + timeout,
                                 silent_limit or SILENT_LIMIT)
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


def _run(cmd, log, deadline, silent_limit):
    """Run QEMU until it exits or the deadline; returns (timed out,
    silent): killed because the console stayed empty for silent_limit
    seconds. Waits on the process; the console is looked at only while
    it may still be silent."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            quiet = not log.exists() or log.stat().st_size == 0
            wake = deadline if not quiet else min(deadline, began + silent_limit)
            if now >= wake:
                return now >= deadline, quiet and now < deadline
            try:
                proc.wait(timeout=min(wake - now, 5 if quiet else wake - now))
                return False, False
            except subprocess.TimeoutExpired:
                pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
