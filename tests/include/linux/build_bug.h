/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/build_bug.h>: static_assert, message optional. */
#ifndef MDB_SHIM_LINUX_BUILD_BUG_H
#define MDB_SHIM_LINUX_BUILD_BUG_H

#undef static_assert
#define static_assert(expr, ...) __mdb_static_assert(expr, ##__VA_ARGS__, #expr)
#define __mdb_static_assert(expr, msg, ...) _Static_assert(expr, msg)

#endif
