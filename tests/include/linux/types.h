/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-in for <linux/types.h>: the kernel's fixed-width types. */
#ifndef MDB_SHIM_LINUX_TYPES_H
#define MDB_SHIM_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;	/* as in the kernel, so %llx fits */
typedef u16 __le16;		/* the kernel's are __bitwise for sparse */
typedef u32 __le32;
typedef u64 __le64;

#define __packed	__attribute__((packed))

#endif
