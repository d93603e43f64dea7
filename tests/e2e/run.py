#!/usr/bin/env python3
"""The end-to-end cases (tests/e2e/cases/*.py) on every installed Debian
kernel, two guests at a time; one line per case, then the summary.

Usage: run.py [--list] [SUBSTRING...]
  only the cases whose "e2e/KVER/NAME" contains one of the substrings;
  --list prints each case's name and what it asserts.
"""
import re
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "lib"),
                str(Path(__file__).resolve().parent)]
import harness  # noqa: E402
import images  # noqa: E402
import suite  # noqa: E402


def jobs():
    files = suite.case_files()
    kvers = images.kernels()
    out = []
    if len(kvers) < 2:
        def missing(c):
            c.expect(False, f"need the 6.1 and 6.12 kernels, found {kvers}")
        out.append(harness.Job("e2e/kernels", missing))
    newest = max(kvers, key=version, default=None)
    for kver in kvers:
        out += suite.jobs(f"e2e/{images.short(kver)}", kver, files,
                          newest=kver == newest)
    return out


def version(kver):
    """6.12.117+deb12-amd64 -> [6, 12, 117, 12]: sorts 6.12 after 6.9."""
    return [int(n) for n in re.findall(r"\d+", kver)]


def main(args):
    if args[:1] == ["--list"]:
        for f in suite.case_files():
            for name in f.variants:
                print(f"{name}:\n    " + f.doc.replace("\n", "\n    ") + "\n")
        return 0
    return harness.main(jobs(), args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
