#!/bin/sh
# Build the debug kernel for `make check-debug` from Debian's linux-source
# (KASAN, KFENCE, lockdep, DEBUG_ATOMIC_SLEEP, UBSAN; tests/debug/debug.config)
# into $MDB_MATRIX_CACHE/debug (default /var/cache/memdiskblk/debug), outside
# the repository, and reuse it while the source and the fragment are unchanged.
# Prints the kernel release it built.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${MDB_MATRIX_CACHE:-/var/cache/memdiskblk}/debug
tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort | tail -n 1)
[ -n "$tarball" ] || { echo "no linux-source tarball in /usr/src" >&2; exit 1; }
src=$cache/$(basename "$tarball" .tar.xz)
stamp=$cache/stamp
want="$(sha256sum "$tarball" "$here/tests/debug/debug.config" | sha256sum | cut -c1-16)"
mkdir -p "$cache"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	make -s -C "$src" kernelrelease
	exit 0
fi
[ -d "$src" ] || tar -xJf "$tarball" -C "$cache"
cd "$src"
make -s x86_64_defconfig >/dev/null
scripts/kconfig/merge_config.sh -m .config "$here/tests/debug/debug.config" >/dev/null
make -s olddefconfig >/dev/null
make -s -j"$(nproc)" bzImage modules >/dev/null
rm -rf "$cache/root"
make -s INSTALL_MOD_PATH="$cache/root" modules_install >/dev/null
echo "$want" > "$stamp"
make -s kernelrelease
