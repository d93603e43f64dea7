/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/stddef.h>: offsetof and friends. */
#ifndef MDB_SHIM_LINUX_STDDEF_H
#define MDB_SHIM_LINUX_STDDEF_H

#include <stddef.h>

#define sizeof_field(TYPE, MEMBER)	sizeof((((TYPE *)0)->MEMBER))
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof_field(TYPE, MEMBER))

#endif
