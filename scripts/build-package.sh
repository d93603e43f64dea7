#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build memdiskblk-dkms as an RPM (rpmbuild) or an Arch package (makepkg)
# from the release tarball `make dist` made:
#
#   scripts/build-package.sh rpm|arch TARBALL OUTDIR
#
# The version is the tree's VERSION file (the spec and the PKGBUILD carry
# it too: make release writes them all). Everything is built in a fresh
# temporary directory that is removed at the end; only the package is
# copied to OUTDIR, and its path printed. makepkg refuses to run as root:
# run as root, this runs it as the unprivileged user nobody (no account is
# made) with an empty environment, on that temporary directory alone.
set -eu

usage() {
	echo "usage: $0 rpm|arch TARBALL OUTDIR" >&2
	exit 2
}
[ $# = 3 ] || usage
kind=$1
tarball=$(realpath "$2")
out=$(realpath "$3")
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

case $kind in
rpm)
	command -v rpmbuild >/dev/null || {
		echo "$0: rpmbuild not found (Debian: apt install rpm)" >&2
		exit 1
	}
	mkdir "$work/SOURCES"
	cp "$tarball" "$work/SOURCES/"
	# _dbpath: rpmbuild would otherwise make an empty database in ~/.rpmdb.
	rpmbuild -bb --quiet --define "_topdir $work" --define "_dbpath $work/db" \
		"$top/packaging/rpm/memdiskblk-dkms.spec"
	set -- "$work"/RPMS/noarch/memdiskblk-dkms-"$version"-*.noarch.rpm
	;;
arch)
	command -v makepkg >/dev/null || {
		echo "$0: makepkg not found (Debian: apt install makepkg)" >&2
		exit 1
	}
	cp "$top/packaging/archlinux/PKGBUILD" "$tarball" "$work/"
	# The PKGBUILD carries the checksum of the release's tarball. A tree
	# changed since the release makes another tarball: its own checksum
	# goes into this copy of the PKGBUILD (makepkg still checks it).
	sum=$(sha256sum "$tarball" | cut -d' ' -f1)
	if ! grep -q "^sha256sums=('$sum')\$" "$work/PKGBUILD"; then
		echo "$0: the tarball is not the release's (the tree changed since):" \
			"its checksum replaces the PKGBUILD's in the build's copy" >&2
		sed -i "s/^sha256sums=.*/sha256sums=('$sum')/" "$work/PKGBUILD"
	fi
	# Arch's own package format (Debian's makepkg.conf says .pkg.tar.gz).
	# makepkg asks pacman for the installed packages to list in
	# .BUILDINFO; off Arch pacman has no database and says "failed to
	# initialize alpm library", which leaves that list empty, nothing else.
	set -- makepkg --nodeps --noconfirm --noprogressbar
	if [ "$(id -u)" = 0 ]; then
		chown -R nobody "$work"
		(cd "$work" && setpriv --reuid=nobody --regid="$(id -g nobody)" \
			--clear-groups env -i PATH=/usr/bin:/bin HOME="$work" \
			LANG=C.UTF-8 PKGEXT=.pkg.tar.zst "$@")
	else
		(cd "$work" && PKGEXT=.pkg.tar.zst "$@")
	fi
	set -- "$work"/memdiskblk-dkms-"$version"-*-x86_64.pkg.tar.zst
	;;
*)
	usage
	;;
esac

if [ $# != 1 ] || [ ! -f "$1" ]; then
	echo "$0: no package was built" >&2
	exit 1
fi
cp "$1" "$out/"
echo "$out/${1##*/}"
