# SPDX-License-Identifier: GPL-2.0-only
# memdiskblk: out-of-tree build and the project's user-facing targets.

ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)

.PHONY: all modules clean install check check-debug demo matrix deps have-deps bench

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

install:
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	$(MAKE) -C tests/unit clean

# What each target needs, by purpose (scripts/install-deps.sh GROUP). The
# test targets install nothing (they leave the machine as they found it):
# they stop, naming what is missing, until make deps installed it.
deps:
	sh scripts/install-deps.sh check

have-deps:
	@sh scripts/install-deps.sh --missing check

# The whole test suite: unit tests, a bounded fuzz run, static checks and
# QEMU boots of real MEMDISK on every installed Debian kernel.
FUZZ_SECONDS ?= 60
check: have-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) python3 tests/run.py

demo:
	sh scripts/install-deps.sh demo
	python3 tests/demo.py

# Build and core boots on 5.10 (bullseye), 6.1, 6.12 and the newest
# trixie-backports kernel, each release's headers in its own chroot.
matrix: have-deps
	python3 tests/matrix.py

# memdiskblk against phram + mtdblock, pmem, brd and the copy limit, side
# by side in one QEMU guest, then a live system booted four ways (the live
# root is built once and cached in /var/cache/memdiskblk/livebench): a
# table, results.json, bench.png and live.png (tests/bench/run.py --help
# for the knobs; BENCH_ARGS passes them, e.g. BENCH_ARGS="--only live").
bench:
	sh scripts/install-deps.sh bench
	python3 tests/bench/run.py $(BENCH_ARGS)

# The e2e cases under a KASAN/KFENCE/lockdep/UBSAN kernel built from
# Debian's linux-source (the first build takes a long while; cached).
check-debug: have-deps
	python3 tests/debug/run.py

# The driver as a patch series for the kernel source tree in KSRC, into OUT
# (default kernel-patch/): drivers/block/memdisk/, Kconfig, docs.
# check-upstream tests it (tests/upstream/run.py): the series against
# Debian's linux-source-6.12 and the newest linux-source, W=1 builds with
# the driver =m and =y, and built-in boots with no initramfs.
.PHONY: kernel-patch check-upstream
check-upstream: have-deps
	python3 tests/upstream/run.py

kernel-patch:
	@test -n "$(KSRC)" || { echo "usage: make kernel-patch KSRC=DIR [OUT=DIR]" >&2; exit 2; }
	python3 scripts/kernel-patch.py --ksrc "$(KSRC)" $(if $(OUT),--out "$(OUT)")

.PHONY: dkms-install dkms-remove deb check-distro

# The version, from its source: the file VERSION. debian/changelog's top
# entry, the RPM spec and the PKGBUILD carry it too: make release writes
# them all, and tests/static.py's package-versions checks they agree
# (debian/rules checks the changelog too).
VERSION := $(shell cat VERSION)
DKMS_SRC := /usr/src/memdiskblk-$(VERSION)
# What DKMS builds from, as every package installs it under DKMS_SRC
# (compat/ keeps its directories).
DKMS_FILES := Kbuild Makefile VERSION compat.h compat/linux/unaligned.h \
	memdiskblk.c memdiskblk.h memdiskblk_scan.c dkms.conf

# DKMS from this checkout, for every installed kernel that has headers
# (the Debian package memdiskblk-dkms does the same through apt).
dkms-install:
	install -d $(DKMS_SRC)
	for f in $(DKMS_FILES); do install -D -m 644 $$f $(DKMS_SRC)/$$f || exit 1; done
	dkms status -m memdiskblk -v $(VERSION) | grep -q . || \
		dkms add -m memdiskblk -v $(VERSION)
	for build in /lib/modules/*/build; do kver=$${build%/build}; \
		dkms install -m memdiskblk -v $(VERSION) -k $${kver##*/} || exit 1; \
	done

dkms-remove:
	dkms remove -m memdiskblk -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

# ../memdiskblk-dkms_VERSION_all.deb, built with debhelper and dh-dkms.
deb:
	dpkg-buildpackage -b -us -uc

.PHONY: dist rpm arch-pkg

# Where dist, rpm and arch-pkg put what they make (as deb: the parent).
PKGOUT ?= ..
TARBALL = $(PKGOUT)/memdiskblk-$(VERSION).tar.gz
# What the RPM and Arch packages are built from, and the spec, for
# rpmbuild -ta (not the PKGBUILD: it carries the tarball's checksum).
DIST_FILES := $(DKMS_FILES) LICENSE README.md SECURITY.md \
	packaging/rpm/memdiskblk-dkms.spec \
	udev/60-persistent-memdiskblk.rules \
	udev/61-memdiskblk-online.rules udev/memdiskblk-released \
	initramfs/dracut/90memdiskblk/module-setup.sh initramfs/dracut/90memdiskblk/memdiskblk-load.sh \
	initramfs/dracut/90memdiskblk/memdiskblk-release.sh \
	initramfs/initramfs-tools/hooks/memdiskblk initramfs/initramfs-tools/scripts/init-top/memdiskblk \
	initramfs/initramfs-tools/scripts/init-bottom/memdiskblk \
	initramfs/mkinitcpio/install/memdiskblk initramfs/mkinitcpio/hooks/memdiskblk

# The tarball's file times: the date of debian/changelog's top entry, the
# release's. With the names sorted, owners and modes fixed and no time in
# the gzip header, the tarball is the same byte for byte from the same
# commit, whenever and wherever it is checked out (the PKGBUILD's checksum
# depends on it).
DIST_DATE = $(shell d=$$(sed -n '/^ -- /{s/^ -- .*>  //p;q}' \
	debian/changelog) && test -n "$$d" && date -u -d "$$d" +%s)

# PKGOUT/memdiskblk-VERSION.tar.gz: the release tarball.
dist:
	@test -n "$(DIST_DATE)" || { echo "dist: no date in debian/changelog" >&2; exit 1; }
	tar --format=gnu --sort=name --owner=0 --group=0 --numeric-owner \
		--mode=a+rX,u+w,go-w --mtime=@$(DIST_DATE) \
		--transform 's,^,memdiskblk-$(VERSION)/,' -cf - $(DIST_FILES) | \
		gzip -9n >$(TARBALL)

# make release VERSION=X.Y.Z [CHANGES=TEXT]: VERSION, debian/changelog,
# the RPM spec and the PKGBUILD say X.Y.Z (new changelog entries saying
# TEXT), PKGOUT/memdiskblk-X.Y.Z.tar.gz is made and its checksum written
# into the PKGBUILD, packaging/archlinux/.SRCINFO is written again; it says what to
# commit (scripts/release.py).
.PHONY: release
release:
	@test "$(origin VERSION)" = "command line" || { \
		echo "usage: make release VERSION=X.Y.Z [CHANGES=TEXT] [PKGOUT=DIR]" >&2; \
		exit 2; }
	python3 scripts/release.py '$(VERSION)' --pkgout '$(PKGOUT)' \
		$(if $(CHANGES),--changes '$(CHANGES)')

# PKGOUT/memdiskblk-dkms-VERSION-1.noarch.rpm, built with rpmbuild.
rpm: dist
	sh scripts/build-package.sh rpm $(TARBALL) $(PKGOUT)

# PKGOUT/memdiskblk-dkms-VERSION-1-x86_64.pkg.tar.zst, built with makepkg
# (as the user nobody when run as root, which makepkg refuses).
arch-pkg: dist
	sh scripts/build-package.sh arch $(TARBALL) $(PKGOUT)

# DKMS, the Debian package, udev in guests booted through MEMDISK and the
# mkinitcpio hook. As root: it installs into /lib/modules, /usr/src and
# /var/lib/dkms, and removes all of it again.
check-distro: have-deps
	python3 tests/distro/run.py

endif
