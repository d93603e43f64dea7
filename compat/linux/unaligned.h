/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * <linux/unaligned.h> for kernels without it: before 6.12 the unaligned
 * accessors were <asm/unaligned.h>. Kbuild searches this directory after
 * the kernel's own (-idirafter), so a kernel that has the header uses its
 * own (see compat.h).
 */
#include <asm/unaligned.h>
