#!/usr/bin/env python3
"""Distribution integration, one line per case, then "N passed, M failed":

- shellcheck on every shell file the project ships (shell_cases.py);
- the mkinitcpio hook's logic, run as mkinitcpio runs it (mkinitcpio_cases.py);
- DKMS with Debian's dkms tool for every installed kernel (dkms_cases.py);
- the Debian package: build, lintian, apt install and purge (package_cases.py);
- udev in guests booted through MEMDISK, with and without the project's
  rule (udev_cases.py);
- live systems booted through MEMDISK: live-boot in a mkinitramfs image
  and dracut's dmsquash-live, with and without the project's integration
  (live_cases.py; the generators run in a private mount namespace, so
  these do not touch the host);
- the same live systems HTTP-booted by UEFI firmware (OVMF) into its RAM
  disk, served by nfit + nd_pmem, with and without the project's
  integration (uefi_cases.py).

The DKMS and package cases install files under /lib/modules, /usr/src and
/var/lib/dkms and put everything back after each case. Before starting
they remove whatever of this project an interrupted run may have left
(an installed memdiskblk-dkms package included). Nothing loads the module
on this machine; the guests do.

Usage: tests/distro/run.py [SUBSTRING...]   only cases whose "distro/NAME"
contains one of them. Must run as root.
"""
import os
import sys
import time
import traceback

import common  # first: it sets up the import path and the cache
import dkms_cases
import live_cases
import mkinitcpio_cases
import package_cases
import shell_cases
import udev_cases
import uefi_cases
from cases import Case

# (name, function, touches the host's module tree)
CASES = ([(n, f, False) for n, f in shell_cases.CASES + mkinitcpio_cases.CASES] +
         [(n, f, True) for n, f in dkms_cases.CASES + package_cases.CASES] +
         [(n, f, False) for n, f in udev_cases.CASES + live_cases.CASES +
                                   uefi_cases.CASES])


def main(filters):
    common.CACHE.mkdir(parents=True, exist_ok=True)
    wanted = [(n, f, h) for n, f, h in CASES
              if not filters or any(s in f"distro/{n}" for s in filters)]
    passed = failed = 0
    host = common.Host()
    refusal = host.refuse() if any(h for _, _, h in wanted) else None
    if os.geteuid() != 0:
        refusal = refusal or "not root"
    if any(h for _, _, h in wanted) and not refusal:
        host.clean()
    for name, func, touches_host in wanted:
        c = Case(name)
        c.note = ""
        start = time.monotonic()
        if touches_host and refusal:
            c.failures.append(f"refused: {refusal}")
        else:
            try:
                func(c, host)
            except Exception:
                c.failures.append("error: " + traceback.format_exc(limit=3)
                                  .strip().replace("\n", " | "))
            finally:
                if touches_host:
                    host.clean()
                    if common.module_loaded():
                        c.failures.append("memdiskblk got loaded on this host")
        took = time.monotonic() - start
        if c.failures:
            failed += 1
            print(f"FAIL distro/{name}: " + "; ".join(c.failures), flush=True)
        else:
            passed += 1
            note = f", {c.note}" if c.note else ""
            print(f"PASS distro/{name} ({c.checks} checks, {took:.0f} s{note})",
                  flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
