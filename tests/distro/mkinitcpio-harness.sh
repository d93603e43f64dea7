#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs initramfs/mkinitcpio/hooks/memdiskblk the way mkinitcpio's /init does, in
# busybox ash: the kernel command line becomes shell variables
# (parse_cmdline), then each hook file is sourced and its run_hook called
# (run_hookfunctions). msg, poll_device and modprobe are stubs that log
# their calls to $TRACE. Run it under "busybox sh" with /proc/cmdline
# replaced (tests/distro/mkinitcpio.py bind-mounts a file over it in a
# private mount namespace).
#
# Usage: mkinitcpio-harness.sh HOOKDIR
# Environment: TRACE (log file), MODPROBE_RC (modprobe's status),
# DEVICE_APPEARS (1: poll_device finds the device).
# Prints "var NAME=VALUE" for the variables the hook left or changed and
# "rc N" for run_hook's status.

HOOKDIR=$1
: "${MODPROBE_RC:=0}" "${DEVICE_APPEARS:=1}"

msg() { echo "msg $*" >> "$TRACE"; }
err() { echo "err $*" >> "$TRACE"; }
poll_device() {
	echo "poll_device $*" >> "$TRACE"
	[ "$DEVICE_APPEARS" = 1 ]
}
modprobe() {
	echo "modprobe $*" >> "$TRACE"
	return "$MODPROBE_RC"
}

# mkinitcpio's parse_cmdline: name=value words with a valid shell name
# become variables, other words (module.param=...) are left alone.
parse_cmdline() {
	set -f
	read -r _cmdline < /proc/cmdline
	for _w in $_cmdline; do
		case $_w in
		*=*) _k=${_w%%=*} _v=${_w#*=} ;;
		*) _k=$_w _v=y ;;
		esac
		case $_k in
		[!a-zA-Z_]* | *[!a-zA-Z0-9_]*) ;;
		*) eval "$_k=\$_v" ;;
		esac
	done
	set +f
	unset _cmdline _w _k _v
}

# mkinitcpio's run_hookfunctions.
run_hookfunctions() {
	_fn=$1
	shift 2
	for _hook in "$@"; do
		[ -x "$HOOKDIR/$_hook" ] || continue
		unset -f "$_fn"
		# shellcheck disable=SC1090
		. "$HOOKDIR/$_hook"
		type "$_fn" > /dev/null || continue
		msg ":: running hook [$_hook]"
		"$_fn"
		echo "rc $?"
	done
	unset _fn _hook
}

parse_cmdline
set > "$TRACE.before"
run_hookfunctions run_hook hook memdiskblk
set > "$TRACE.after"
# Variables the hook set or changed (the shell's own bookkeeping aside).
grep -vxF -f "$TRACE.before" "$TRACE.after" |
	grep -v -e '^_=' -e '^LINENO=' -e '^OPTIND=' | sed 's/^/var /'
rm -f "$TRACE.before" "$TRACE.after"
