#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dracut cmdline hook: load memdiskblk early; modprobe applies
# memdiskblk.* options from the kernel command line.
modprobe -q memdiskblk 2>/dev/null || :
