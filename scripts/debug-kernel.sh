#!/bin/sh
# Build the debug kernel of `make check-debug`: allnoconfig plus
# tests/debug/debug.config (KASAN, KFENCE, lockdep, DEBUG_ATOMIC_SLEEP,
# UBSAN; module signing and the lockdown LSM; the in-tree driver =m) from
# the newest linux-source with the memdiskblk series applied
# (scripts/kernel-tree.sh, scripts/kernel-build.sh), into
# $MDB_MATRIX_CACHE/linux/debug (default /var/cache/memdiskblk/linux/debug),
# outside the repository, rebuilt incrementally when its inputs change.
# Prints the kernel release. In that directory: arch/x86/boot/bzImage,
# root/lib/modules/RELEASE (signed modules), the build tree itself for
# out-of-tree modules, and certs/signing_key.pem, the key that signs them.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
exec sh "$here/scripts/kernel-build.sh" debug "$here/tests/debug/debug.config" \
	bzImage modules modules_install
