#!/bin/sh
# Install every Debian package that building memdiskblk and running its
# tests need. Idempotent: packages already installed are left alone.
# Kernel images are installed like headers so that each guest boots the
# kernel the module was built against (discovered, never hard-coded).
set -eu

PKGS="
build-essential make gcc sparse kmod
linux-image-amd64 linux-headers-amd64
linux-image-6.12-amd64 linux-headers-6.12-amd64
qemu-system-x86 ipxe-qemu
syslinux syslinux-common syslinux-utils isolinux xorriso
busybox-static cpio gzip xz-utils zstd
dosfstools mtools fdisk e2fsprogs
python3 clang cppcheck shellcheck linux-source linux-source-6.12 debootstrap openssl
flex bison bc libelf-dev libssl-dev
dkms dh-dkms debhelper lintian udev
rpm makepkg pacman-package-manager libarchive-tools
initramfs-tools live-boot dracut-core dracut-live squashfs-tools
ovmf grub-efi-amd64-bin grub-common gnu-efi
gcc-multilib nasm
gnuplot-nox
"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
