#!/usr/bin/env python3
"""make check-debug: the end-to-end cases under a debug kernel built from
Debian's linux-source with KASAN, KFENCE, lockdep (PROVE_LOCKING),
DEBUG_ATOMIC_SLEEP and UBSAN (tests/debug/debug.config). The kernel is
built by scripts/debug-kernel.sh and cached outside the repository.
Every boot must show no report from any of those checkers.

Usage: run.py [SUBSTRING...]   only cases whose name contains one
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT / "tests" / "debug"))
import cases  # noqa: E402
import images  # noqa: E402
import lockdown  # noqa: E402

CACHE = Path(os.environ.get("MDB_MATRIX_CACHE", "/var/cache/memdiskblk")) / "linux" / "debug"
# On top of cases.BAD_DMESG (BUG:, WARNING:, Oops, ...): the checkers' own.
CHECKERS = re.compile(r"BUG: KASAN|BUG: KFENCE|UBSAN:|WARNING: possible|"
                      r"sleeping function called|inconsistent lock state|"
                      r"DEBUG_LOCKS_WARN_ON|INFO: trying to register")
# ... and proof that they ran: lines each prints when it starts.
ACTIVE = ["KernelAddressSanitizer initialized", "kfence: initialized",
          "Lock dependency validator"]
SKIP = {"desktop-iso"}  # 2.5 GiB under KASAN and TCG: too slow for its value


def main(filters):
    start = time.monotonic()
    try:
        kver = subprocess.run(["sh", str(ROOT / "scripts/debug-kernel.sh")],
                              check=True, stdout=subprocess.PIPE, text=True
                              ).stdout.split()[-1]
    except subprocess.CalledProcessError as e:
        print(f"FAIL debug/build: scripts/debug-kernel.sh exited {e.returncode}")
        print("0 passed, 1 failed")
        return 1
    images.register_kernel(kver, CACHE / "arch/x86/boot/bzImage",
                           CACHE / "root/lib/modules" / kver, kdir=CACHE)
    print(f"PASS debug/build ({kver}, {time.monotonic() - start:.0f} s)",
          flush=True)
    passed, failed = 1, 0
    k = cases.Kernel(kver)
    k.short = "debug"  # its logs must not mix with the Debian 6.1 ones
    k.kdir = CACHE  # its build tree: sign-file and the signing key
    # The lockdown case needs this kernel's signing key: it runs here only.
    for name, func in cases.CASES + [("lockdown", lockdown.case_lockdown)]:
        if name in SKIP or (filters and not any(f in name for f in filters)):
            continue
        c = cases.run_case(k, name, func)
        log = images.CACHE / "logs" / f"{k.short}-{name}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        reports = [ln for ln in text.splitlines() if CHECKERS.search(ln)
                   and "memdiskblk: loading" not in ln]
        if reports:
            c.failures.append(f"checker reports: {reports[:3]}")
        missing = [a for a in ACTIVE if text and a not in text]
        if missing:
            c.failures.append(f"checkers not active: {missing}")
        failed += bool(c.failures)
        passed += not c.failures
        print(cases.result_line(f"debug/{name}", c), flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
