#!/bin/sh
# Build a test kernel from the patched tree of scripts/kernel-tree.sh:
# allnoconfig plus the fragment FRAGMENT (nothing the fragment does not
# ask for), in its own directory $MDB_MATRIX_CACHE/linux/NAME, outside the
# repository. Builds are incremental and skipped while the tree's digest,
# the fragment and the targets are unchanged.
#
#   kernel-build.sh NAME FRAGMENT TARGET...   prints the kernel release
#
# MDB_KERNEL_TARBALL names another linux-source tarball than the newest in
# /usr/src. modules_install among the targets installs (and, with MODULE_SIG_ALL,
# signs) into NAME/root. Afterwards drivers/block/memdisk/ is compiled
# again with W=1: NAME/w1.log; the whole build's output is in
# NAME/build.log.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { echo "usage: kernel-build.sh NAME FRAGMENT TARGET..." >&2; exit 2; }
name=$1
frag=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
shift 2
top=${MDB_MATRIX_CACHE:-/var/cache/memdiskblk}/linux
mkdir -p "$top"
# One build per directory at a time; the tree must not be remade under a
# build (kernel-tree.sh takes its lock alone for that), other builds from
# it may run beside.
exec 8>"$top/$name.lock"
flock 8
tree=$(sh "$here/scripts/kernel-tree.sh" ${MDB_KERNEL_TARBALL:+"$MDB_KERNEL_TARBALL"})
exec 9>"${tree%-memdiskblk}.lock"
flock -s 9
out=$top/$name
kmake() { make -C "$tree" O="$out" INSTALL_MOD_PATH="$out/root" "$@"; }

want=$( (cat "$tree.stamp" "$frag"; echo "$*") | sha256sum | cut -c1-16)
if [ "$(cat "$out.stamp" 2>/dev/null)" = "$want" ]; then
	kmake -s kernelrelease
	exit 0
fi
rm -f "$out.stamp"
mkdir -p "$out"
kmake -s KCONFIG_ALLCONFIG="$frag" allnoconfig >/dev/null
# A value the fragment asks for and Kconfig did not take (a dependency is
# missing, or the symbol does not exist) fails the build.
sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 n/p' "$frag" |
while read -r sym val; do
	got=$(sed -n "s/^$sym=//p" "$out/.config")
	[ -n "$got" ] || got=n
	[ "$got" = "$val" ] || { echo "kernel-build: $name: $sym=$got, $frag wants $val" >&2; exit 1; }
done
build="" install=""
for t in "$@"; do
	case "$t" in
	*_install) install="$install $t" ;;
	*) build="$build $t" ;;
	esac
done
rm -rf "$out/root"
# shellcheck disable=SC2086 # the target lists split on purpose
if ! { nice -n 10 make -C "$tree" O="$out" -j"$(nproc)" $build &&
	{ [ -z "$install" ] || kmake $install; }; } > "$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	exit 1
fi
# The driver with W=1, as the kernel's own maintainers build new code.
nice -n 10 make -C "$tree" O="$out" W=1 drivers/block/memdisk/ > "$out/w1.log" 2>&1 ||
	{ tail -n 40 "$out/w1.log" >&2; exit 1; }
echo "$want" > "$out.stamp"
kmake -s kernelrelease
