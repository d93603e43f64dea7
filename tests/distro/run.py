#!/usr/bin/env python3
"""Distribution integration, one line per case, then "N passed, M failed":

- shellcheck on every shell file the project ships (shell_cases.py);
- the mkinitcpio hook's logic, run as mkinitcpio runs it (mkinitcpio_cases.py);
- DKMS with Debian's dkms tool for every kernel with headers
  (dkms_cases.py);
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

The DKMS case and the package's install case install into a Debian 12
chroot (common.Target, cached in /var/cache/memdiskblk with the matrix's
chroots), made or refreshed by distro/target, never into this machine:
they run one after the other there, and whatever of this project an
interrupted run left in the chroot is removed first. Nothing loads the
module on this machine; the guests do.

Usage: tests/distro/run.py [SUBSTRING...]   only cases whose "distro/NAME"
contains one of them. Must run as root.
"""
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

# (name, function, installs into the chroot, cost in seconds)
INSTALLS = {"dkms", "deb-install"}
CASES = ([(n, f, False, 5) for n, f in shell_cases.CASES + mkinitcpio_cases.CASES] +
         [(n, f, n in INSTALLS, 150 if n in INSTALLS else 60)
          for n, f in dkms_cases.CASES + package_cases.CASES] +
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


def _target_case(func, target):
    """A case that installs into the chroot: run there, one at a time,
    with the chroot cleaned after; this machine must not have the
    module loaded after it."""
    def run(c):
        with images.locked(target.NAME):
            try:
                func(c, target)
            finally:
                target.clean()
        if common.module_loaded():
            c.failures.append("memdiskblk got loaded on this machine")
    return run


def jobs():
    common.CACHE.mkdir(parents=True, exist_ok=True)
    target = common.Target()

    def prepare(c):
        """The chroot made or brought up to date, with no trace of an
        earlier run."""
        target.prepare()
        c.note(", ".join(target.header_kernels()))

    # debootstrap and apt: one core, a few minutes the first time.
    setup = harness.Job("distro/target", prepare, cost=200)
    out = [setup]
    made = {}
    for name, func, installs, cost in CASES:
        if installs:
            run = _target_case(func, target)
        else:
            run = lambda c, func=func: func(c, None)  # noqa: E731
        needs = [made[n] for n in NEEDS.get(name, ())]
        job = harness.Job(f"distro/{name}", run, cost=cost,
                          needs=needs + ([setup] if installs else []),
                          slots=WAITING.get(name, 1))
        made[name] = job
        out.append(job)
    return out


if __name__ == "__main__":
    sys.exit(harness.main(jobs(), sys.argv[1:]))
