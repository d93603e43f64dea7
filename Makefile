# SPDX-License-Identifier: GPL-2.0
# memdiskblk: out-of-tree build and the project's user-facing targets.

ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)

.PHONY: all modules clean install check check-debug demo matrix deps

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

# The e2e cases under a KASAN/KFENCE/lockdep/UBSAN kernel built from
# Debian's linux-source (the first build takes a long while; cached).
check-debug: deps
	python3 tests/debug/run.py

endif
