/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-in for <linux/kernel.h>: vsnprintf and __printf. */
#ifndef MDB_SHIM_LINUX_KERNEL_H
#define MDB_SHIM_LINUX_KERNEL_H

#include <stdarg.h>
#include <stdio.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))

#endif
