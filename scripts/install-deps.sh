#!/bin/sh
# Install the Debian packages that memdiskblk's make targets need, by
# purpose. Idempotent: packages already installed are left alone.
#
#   install-deps.sh [--missing] [GROUP...]
#
#   demo       make demo: build the module, an ISO and a busybox initramfs,
#              boot them through MEMDISK in QEMU
#   check      make check: the whole test suite (demo's share, then the
#              checkers, the other kernels, the generators and live
#              systems, UEFI firmware, the loaders' builds, packaging)
#   packaging  make deb, make rpm, make arch-pkg: the packages alone
#   bench      make bench: demo's share, the live systems' tools, the plots
#
# No group: everything (what CI installs). --missing installs nothing:
# it names what is missing and fails if anything is (the test targets,
# which must not change the machine, check with it). Kernel images are
# installed like headers so that each guest boots the kernel the module
# was built against (discovered, never hard-coded).
set -eu

DEMO="
make gcc libc6-dev perl kmod python3
linux-image-amd64 linux-headers-amd64
qemu-system-x86 ipxe-qemu
syslinux-common syslinux-utils isolinux xorriso
busybox-static cpio gzip
"
PACKAGING="
dkms dh-dkms debhelper lintian
rpm makepkg pacman-package-manager libarchive-tools
"
CHECK="
$DEMO
$PACKAGING
build-essential sparse
linux-image-6.12-amd64 linux-headers-6.12-amd64
syslinux
xz-utils zstd
dosfstools mtools fdisk e2fsprogs
clang cppcheck shellcheck linux-source linux-source-6.12 debootstrap openssl
flex bison bc libelf-dev libssl-dev
udev
initramfs-tools live-boot dracut-core dracut-live squashfs-tools
ovmf grub-efi-amd64-bin grub-common gnu-efi
gcc-multilib nasm
"
BENCH="
$DEMO
debootstrap squashfs-tools xz-utils live-boot initramfs-tools
gnuplot-nox
"

only_list=""
if [ "${1:-}" = --missing ]; then
	only_list=1
	shift
fi
[ $# -gt 0 ] || set -- check bench
PKGS=""
for group in "$@"; do
	case "$group" in
	demo) PKGS="$PKGS $DEMO" ;;
	check) PKGS="$PKGS $CHECK" ;;
	packaging) PKGS="$PKGS $PACKAGING" ;;
	bench) PKGS="$PKGS $BENCH" ;;
	*)
		echo "install-deps: no group $group (demo, check, packaging, bench)" >&2
		exit 2
		;;
	esac
done

missing=""
for p in $PKGS; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

[ -z "$missing" ] && exit 0

if [ -n "$only_list" ]; then
	echo "missing packages:$missing (make deps, as root, installs them)" >&2
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
