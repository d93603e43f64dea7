#!/bin/sh
# The kernel source tree the test kernels are built from: the newest
# Debian linux-source tarball in /usr/src, extracted once, and beside it a
# copy made of hard links with the memdiskblk series (make kernel-patch)
# applied, and, in a tree older than the interfaces the driver is written
# against, the test-only patch on top that puts compat.h beside the driver
# (kernel-patch.py --test-compat). Both live outside the repository, in
# $MDB_MATRIX_CACHE/linux (default /var/cache/memdiskblk/linux); the copy
# is remade only when the patches' diffs change, and keeps the timestamps
# of every file they do not touch, so builds from it stay incremental.
# With an argument, that tarball (another release's linux-source) instead.
# Prints the patched tree's path; $tree.stamp holds the digest of its
# inputs. Kernels are built from it out of tree (make O=...), so the tree
# itself stays clean.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
top=${MDB_MATRIX_CACHE:-/var/cache/memdiskblk}/linux
mkdir -p "$top"

tarball=${1:-$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)}
[ -f "$tarball" ] || { echo "kernel-tree: no linux-source tarball (${tarball:-/usr/src})" >&2; exit 1; }
name=$(basename "$tarball" .tar.xz)
pristine=$top/$name
tree=$top/$name-memdiskblk

# Readers (this script when nothing changed, and every build from the tree,
# scripts/kernel-build.sh) share the lock; remaking a tree takes it alone.
exec 9>"$top/$name.lock"
flock -s 9

want=$(sha256sum "$tarball" | cut -c1-16)
if [ "$(cat "$pristine.stamp" 2>/dev/null)" != "$want" ]; then
	flock -x 9
	if [ "$(cat "$pristine.stamp" 2>/dev/null)" != "$want" ]; then
		rm -rf "$pristine" "$pristine.new" "$tree" "$tree.stamp"
		mkdir -p "$pristine.new"
		tar -xJf "$tarball" -C "$pristine.new" --strip-components=1
		mv "$pristine.new" "$pristine"
		echo "$want" > "$pristine.stamp"
	fi
fi

series=$(mktemp -d)
trap 'rm -rf "$series"' EXIT
python3 "$here/scripts/kernel-patch.py" --ksrc "$pristine" --out "$series" \
	--test-compat >/dev/null
# The patches to apply, in order: "$@" from here on.
set -- "$series"/000[1-9]-*.patch
[ ! -f "$series/test-compat.patch" ] || set -- "$@" "$series/test-compat.patch"
# What the tree holds depends on the diffs, not on dates or messages.
diffs=$(for p in "$@"; do sed -n '/^diff --git /,$p' "$p"; done |
	sha256sum | cut -c1-16)
want="$want-$diffs"
if [ "$(cat "$tree.stamp" 2>/dev/null)" != "$want" ]; then
	flock -x 9
fi
if [ "$(cat "$tree.stamp" 2>/dev/null)" != "$want" ]; then
	rm -rf "$tree.new"
	cp -al "$pristine" "$tree.new"
	for p in "$@"; do
		git -C "$tree.new" apply --check "$p"
		patch -d "$tree.new" -p1 -s --batch < "$p"
	done
	rm -rf "$tree"
	mv "$tree.new" "$tree"
	echo "$want" > "$tree.stamp"
fi
echo "$tree"
