#!/usr/bin/env python3
"""make check-debug: the end-to-end cases under a debug kernel with KASAN,
KFENCE, lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP and UBSAN:
allnoconfig plus tests/debug/debug.config, built from Debian's newest
linux-source with the make kernel-patch series applied by
scripts/debug-kernel.sh, cached outside the repository (linux/debug).
Every boot must show no report from any of those checkers.

Usage: run.py [SUBSTRING...]   only cases whose "debug/NAME" contains one
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "lib"), str(ROOT / "tests" / "e2e")]
import harness  # noqa: E402
import images  # noqa: E402
import suite  # noqa: E402

CACHE = Path(os.environ.get("MDB_MATRIX_CACHE", "/var/cache/memdiskblk")) / "linux" / "debug"
# On top of harness.BAD_DMESG (BUG:, WARNING:, Oops, ...): the checkers' own.
CHECKERS = re.compile(r"BUG: KASAN|BUG: KFENCE|UBSAN:|WARNING: possible|"
                      r"sleeping function called|inconsistent lock state|"
                      r"DEBUG_LOCKS_WARN_ON|INFO: trying to register")
# ... and proof that they ran: lines each prints when it starts.
ACTIVE = ["KernelAddressSanitizer initialized", "kfence: initialized",
          "Lock dependency validator"]
SKIP = {"desktop-iso"}  # 2.5 GiB under KASAN and TCG: too slow for its value


class Built:
    kver = None


def build(c):
    """scripts/debug-kernel.sh builds (or finds cached) the debug kernel;
    the e2e cases then build the module against its tree."""
    out = subprocess.run(["sh", str(ROOT / "scripts/debug-kernel.sh")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if not c.expect(out.returncode == 0, "scripts/debug-kernel.sh exited "
                    f"{out.returncode}: {out.stdout.strip()[-300:]}"):
        return
    kver = out.stdout.split()[-1]
    images.register_kernel(kver, CACHE / "arch/x86/boot/bzImage",
                           CACHE / "root/lib/modules" / kver, kdir=CACHE)
    Built.kver = kver
    c.note(kver)


def checked(k, c, func):
    """Run the case, then look for the checkers' reports in its log."""
    func(k, c)
    log = harness.CACHE / "logs" / f"{k.label}-{c.name}.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    reports = [ln for ln in text.splitlines() if CHECKERS.search(ln)
               and "memdiskblk: loading" not in ln]
    if reports:
        c.failures.append(f"checker reports: {reports[:3]}")
    missing = [a for a in ACTIVE if text and a not in text]
    if missing:
        c.failures.append(f"checkers not active: {missing}")


def jobs():
    """debug/build, then the e2e cases on its kernel."""
    # The build's make runs on every core but niced (kernel-build.sh): a
    # guest boots beside it and the build takes the CPU that guest leaves.
    build_job = harness.Job("debug/build", build, slots=harness.CORES,
                            cost=700)
    return [build_job] + suite.jobs("debug", lambda: Built.kver,
                                    suite.case_files(), wrap=checked,
                                    skip=SKIP, needs=[build_job])


if __name__ == "__main__":
    sys.exit(harness.main(jobs(), sys.argv[1:]))
