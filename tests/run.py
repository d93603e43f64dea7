#!/usr/bin/env python3
"""The whole test suite, one line per case, then "N passed, N failed".

Runs, in order: static checks (tests/static.py), unit tests and a bounded
fuzz run (tests/unit/Makefile), the QEMU boots (tests/e2e/run.py) and the
kernel matrix (tests/matrix.py), the e2e cases under a debug kernel
(tests/debug/run.py), the distribution tests (tests/distro/run.py) and
the upstream route (tests/upstream/run.py); those are skipped when e2e
filters are given.
Each part prints PASS/FAIL lines and its own summary; this sums them.
A part that dies without a summary counts as one failure.

Usage: tests/run.py [--fuzz-seconds N] [e2e filters...]
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed")


def part(name, cmd):
    passed = failed = 0
    summary = False
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        m = SUMMARY.match(line)
        if m:
            passed, failed = int(m[1]), int(m[2])
            summary = True
        elif line.startswith(("PASS ", "FAIL ")):
            print(line, end="", flush=True)
        else:
            log = ROOT / "tests" / ".cache" / f"{name}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a") as f:
                f.write(line)
    rc = proc.wait()
    if not summary or (rc != 0 and failed == 0):
        print(f"FAIL {name}: exited {rc} without a clean summary "
              f"(see tests/.cache/{name}.log)", flush=True)
        failed += 1
    return passed, failed


def main(args):
    fuzz_seconds = os.environ.get("FUZZ_SECONDS", "60")
    if args[:1] == ["--fuzz-seconds"]:
        fuzz_seconds, args = args[1], args[2:]
    cache = ROOT / "tests" / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob("*.log"):
        old.unlink()
    parts = [
        ("static", [sys.executable, "tests/static.py"]),
        ("unit", ["make", "-s", "-C", "tests/unit", "unit"]),
        ("fuzz", ["make", "-s", "-C", "tests/unit", "fuzz",
                  f"FUZZ_SECONDS={fuzz_seconds}"]),
        ("e2e", [sys.executable, "tests/e2e/run.py", *args]),
    ]
    if not args:
        parts.append(("matrix", [sys.executable, "tests/matrix.py"]))
        parts.append(("debug", [sys.executable, "tests/debug/run.py"]))
        # After debug: its kernel is also the series' =m build.
        parts.append(("upstream", [sys.executable, "tests/upstream/run.py"]))
        parts.append(("distro", [sys.executable, "tests/distro/run.py"]))
    passed = failed = 0
    for name, cmd in parts:
        p, f = part(name, cmd)
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
