# SPDX-License-Identifier: GPL-2.0
# memdiskblk: out-of-tree build and the project's user-facing targets.

ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)

.PHONY: all modules clean install check check-debug demo matrix deps bench

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

install:
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	$(MAKE) -C tests/unit clean

deps:
	sh scripts/install-deps.sh

# The whole test suite: unit tests, a bounded fuzz run, static checks and
# QEMU boots of real MEMDISK on every installed Debian kernel.
FUZZ_SECONDS ?= 60
check: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) python3 tests/run.py

demo: deps
	python3 tests/demo.py

# Build and core boots on 5.10 (bullseye), 6.1, 6.12 and the newest
# trixie-backports kernel, each release's headers in its own chroot.
matrix: deps
	python3 tests/matrix.py

# memdiskblk against phram + mtdblock, pmem, brd and the copy limit, side
# by side in one QEMU guest: a table, results.json and bench.png
# (tests/bench/run.py --help for the knobs; BENCH_ARGS passes them).
bench: deps
	python3 tests/bench/run.py $(BENCH_ARGS)

# The e2e cases under a KASAN/KFENCE/lockdep/UBSAN kernel built from
# Debian's linux-source (the first build takes a long while; cached).
check-debug: deps
	python3 tests/debug/run.py

# The driver as a patch series for the kernel source tree in KSRC, into OUT
# (default kernel-patch/): drivers/block/memdisk/, Kconfig, docs.
# check-upstream tests it (tests/upstream/run.py): the series against
# Debian's linux-source-6.12 and the newest linux-source, W=1 builds with
# the driver =m and =y, and built-in boots with no initramfs.
.PHONY: kernel-patch check-upstream
check-upstream: deps
	python3 tests/upstream/run.py

kernel-patch:
	@test -n "$(KSRC)" || { echo "usage: make kernel-patch KSRC=DIR [OUT=DIR]" >&2; exit 2; }
	python3 scripts/kernel-patch.py --ksrc "$(KSRC)" $(if $(OUT),--out "$(OUT)")

.PHONY: dkms-install dkms-remove deb check-distro

# The version, from its one place: the top entry of debian/changelog
# without the Debian revision (0.1.0-1 -> 0.1.0).
VERSION := $(shell sed -n '1{s/^[^(]*(\([^)]*\)).*/\1/;s/-[^-]*$$//;p;q}' debian/changelog)
DKMS_SRC := /usr/src/memdiskblk-$(VERSION)

# DKMS from this checkout, for every installed kernel that has headers
# (the Debian package memdiskblk-dkms does the same through apt).
dkms-install:
	install -d $(DKMS_SRC)/debian
	install -m 644 Kbuild Makefile compat.h memdiskblk.c memdiskblk.h \
		memdiskblk_scan.c dkms.conf $(DKMS_SRC)/
	install -m 644 debian/changelog $(DKMS_SRC)/debian/
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

# DKMS, the Debian package, udev in guests booted through MEMDISK and the
# mkinitcpio hook. As root: it installs into /lib/modules, /usr/src and
# /var/lib/dkms, and removes all of it again.
check-distro: deps
	python3 tests/distro/run.py

endif
