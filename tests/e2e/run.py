#!/usr/bin/env python3
"""Run the end-to-end cases on every installed kernel; one line per case.

Usage: run.py [SUBSTRING...]   only cases whose "e2e/KVER/NAME" contains one
"""
import sys

import cases
import images


def main(filters):
    passed = failed = 0
    kvers = images.kernels()
    if len(kvers) < 2:
        print(f"FAIL e2e/kernels: need the 6.1 and 6.12 kernels, found {kvers}")
        failed += 1
    for kver in kvers:
        short = images.short(kver)
        wanted = [(n, f) for n, f in cases.CASES
                  if not filters or any(s in f"e2e/{short}/{n}" for s in filters)]
        if not wanted:
            continue
        try:
            k = cases.Kernel(kver)
        except Exception as e:  # the build failing fails every case
            for name, _ in wanted:
                print(f"FAIL e2e/{short}/{name}: setup: {e}")
                failed += 1
            continue
        for name, func in wanted:
            c = cases.run_case(k, name, func)
            failed += bool(c.failures)
            passed += not c.failures
            print(cases.result_line(f"e2e/{short}/{name}", c), flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
