#!/usr/bin/env python3
"""Distribution integration, one line per case, then "N passed, M failed":

- shellcheck on every shell file the project ships (shell_cases.py);
- the mkinitcpio hook's logic, run as mkinitcpio runs it (mkinitcpio_cases.py);
- DKMS with Debian's dkms tool for every installed kernel (dkms_cases.py);
- the Debian package: build, lintian, apt install and purge (package_cases.py);
- the RPM and Arch packages: built with rpmbuild and makepkg (through
  make rpm and make arch-pkg, and from the release tarball alone as the
  distributions build them), their files, scriptlets, metadata and
  version checked, the module built from their /usr/src tree, and the
  PKGBUILD's checksum made again from the release's commit
  (package_rpm_arch_cases.py; nothing installed);
- udev in guests booted through MEMDISK, with and without the project's
  rule (udev_cases.py);
- live systems booted through MEMDISK: live-boot in a mkinitramfs image
  and dracut's dmsquash-live, with and without the project's integration
  (live_cases.py; the generators run in a private mount namespace, so
  these do not touch the host);
- the same live systems HTTP-booted by UEFI firmware (OVMF) into its RAM
  disk, served by nfit + nd_pmem, with and without the project's
  integration (uefi_cases.py);
- the same live ISOs on a Ventoy disk made from Ventoy's own binaries, in
  its memdisk mode under OVMF and SeaBIOS, and two controls (ventoy_cases.py;
  skipped without ../shared/ventoy);
- the live-boot ISO copied into RAM by GRUB4DOS's `map --mem` under
  SeaBIOS and by a1ive's GRUB2 `map --mem --rt` under OVMF, and a control
  (grub4dos_cases.py; skipped without ../shared/grub4dos).

The DKMS and package cases install files under /lib/modules, /usr/src and
/var/lib/dkms and put everything back after each case; they run one after
the other, and never while an initramfs generator reads the module tree.
Before the first of them, whatever of this project an interrupted run
left (an installed memdiskblk-dkms package included) is removed. Nothing
loads the module on this machine; the guests do.

Usage: tests/distro/run.py [SUBSTRING...]   only cases whose "distro/NAME"
contains one of them. Must run as root.
"""
import os
import sys

import common  # first: it sets up the import path
import dkms_cases
import grub4dos_cases
import harness
import images
import live_cases
import mkinitcpio_cases
import package_cases
import package_rpm_arch_cases
import shell_cases
import udev_cases
import uefi_cases
import ventoy_cases

# Ventoy's boots took 30-40 s (60 s with their images' builds) here, the
# dracut one up to 80 s (115 s), the control that waits for a medium
# 135-190 s.
VENTOY_COST = {"ventoy-uefi-dracut": 115, "ventoy-uefi-live-boot-plain": 200}

# (name, function, touches the host's module tree, cost in seconds)
CASES = ([(n, f, False, 5) for n, f in shell_cases.CASES + mkinitcpio_cases.CASES] +
         [(n, f, True, 60) for n, f in dkms_cases.CASES + package_cases.CASES] +
         [(n, f, False, 20) for n, f in package_rpm_arch_cases.CASES] +
         [(n, f, False, 60) for n, f in udev_cases.CASES + live_cases.CASES] +
         [(n, f, False, 150) for n, f in uefi_cases.CASES] +
         [(n, f, False, VENTOY_COST.get(n, 60)) for n, f in ventoy_cases.CASES] +
         [(n, f, False, 60) for n, f in grub4dos_cases.CASES])


# Cases that read what others made (the .deb, the RPM and the Arch
# package the build cases leave): they wait for those.
NEEDS = {"lintian": ("deb-build",), "deb-install": ("deb-build",),
         "rpm-arch-version": ("rpm-build", "arch-pkg-build")}


# Controls that mostly wait: live-boot searches 60 s for a medium that
# never comes (measured: 29 s of CPU in 92 s, 47 in 104 under UEFI), so
# they take half a slot (harness.SLOTS).
WAITING = {"live-boot-no-module": 0.5, "uefi-live-boot-plain": 0.5,
           "ventoy-uefi-live-boot-plain": 0.5,
           "grub4dos-live-boot-no-module": 0.5}


class State:
    host = None
    refusal = None
    cleaned = False


def _host_case(func):
    """A case that installs into the host: refused if the host is not
    fit for it, run under the host lock, cleaned up after."""
    def run(c):
        if State.refusal:
            c.expect(False, f"refused: {State.refusal}")
            return
        with images.locked(common.HOST_MODULES):
            if not State.cleaned:
                State.host.clean()
                State.cleaned = True
            try:
                func(c, State.host)
            finally:
                State.host.clean()
                if common.module_loaded():
                    c.failures.append("memdiskblk got loaded on this host")
    return run


def jobs():
    common.CACHE.mkdir(parents=True, exist_ok=True)
    State.host = common.Host()
    State.refusal = State.host.refuse()
    if os.geteuid() != 0:
        State.refusal = State.refusal or "not root"
    out = []
    previous = []       # host-touching cases run one after the other
    made = {}
    for name, func, touches_host, cost in CASES:
        if touches_host:
            run, after = _host_case(func), previous[-1:]
        else:
            run, after = (lambda c, func=func: func(c, State.host)), []
        job = harness.Job(f"distro/{name}", run, after=after, cost=cost,
                          needs=[made[n] for n in NEEDS.get(name, ())],
                          slots=WAITING.get(name, 1))
        if touches_host:
            previous.append(job)
        made[name] = job
        out.append(job)
    return out


if __name__ == "__main__":
    sys.exit(harness.main(jobs(), sys.argv[1:]))
