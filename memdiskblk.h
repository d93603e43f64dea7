/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the table scan hands to the block driver.
 *
 * Everything here is shared by the kernel module and by the userspace unit
 * tests and fuzzer, which compile memdiskblk_scan.c as it is. So it uses
 * only fixed-width types, memcmp/memset and vsnprintf.
 */
#ifndef MEMDISKBLK_H
#define MEMDISKBLK_H

/*
 * Userspace builds (unit tests, fuzzer) find small stand-ins for these
 * three headers in tests/include/linux/.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>

/* Where MEMDISK puts things (syslinux 4.x to 6.x; see README). */
#define MDB_LOWMEM_END		0xA0000u	/* end of conventional memory */
#define MDB_SCAN_FLOOR		0x10000u	/* never scan below 64 KiB */
#define MDB_BDA_BASEMEM		0x413u		/* BIOS data area: base memory, KiB */
#define MDB_IVT_INT13		0x4Cu		/* real-mode vector of INT 13h */
#define MDB_MIN_IMAGE_ADDR	0x100000u	/* images live in extended memory */
#define MDB_4G			0x100000000ull

#define MDB_MBFT_HDR		40u	/* ACPI header + safe-hook pointer */
#define MDB_MBFT_MIN_LEN	66u	/* as syslinux's memdiskfind */
#define MDB_MBFT_MAX_LEN	1024u	/* sanity bound, real tables are 70 */
#define MDB_MDI_PATCHED		30u	/* MDI size of MEMDISK 4.x to 6.x */
#define MDB_PATCH_LEN		56u	/* MDI + private patch area we read */
#define MDB_HOOK_LEN		31u	/* safe hook incl. MEMDISK's mBFT field */
#define MDB_CMDLINE_MAX		512u	/* including the terminating NUL */

#define MDB_MAX_IMAGES		8u	/* devices from one scan */
#define MDB_MAX_TABLES		32u	/* distinct candidate tables looked at */
#define MDB_MAX_HOPS		16u	/* safe-hook links followed */

#define MDB_CONFIG_READONLY	0x01u	/* MEMDISK's "ro" option */
#define MDB_DRIVE_UNKNOWN	0xFFFFu

/* How an image was found; a bit mask, one image may be found both ways. */
#define MDB_FOUND_SCAN		0x1u	/* low-memory scan for "mBFT" */
#define MDB_FOUND_HOOK		0x2u	/* INT 13h safe-hook chain */
#define MDB_FOUND_PARAM		0x4u	/* image= module parameter */

/* One image, as validated; what a /dev/memdiskN is made of. */
struct mdb_image {
	u64 addr;		/* physical address of the first byte */
	u64 size;		/* bytes, a multiple of 1 << sector_shift */
	u32 table;		/* physical address of its mBFT, 0 if none */
	u8 sector_shift;	/* 9 (disk, floppy) or 11 (El Torito ISO) */
	u8 ver_major;		/* MEMDISK version, 0.0 when not MEMDISK */
	u8 ver_minor;
	u8 configflags;		/* MEMDISK config flags, when known */
	u16 driveno;		/* BIOS drive number or MDB_DRIVE_UNKNOWN */
	bool readonly;
	u8 found;		/* MDB_FOUND_* */
	char cmdline[MDB_CMDLINE_MAX];	/* MEMDISK's command line */
};

/* The firmware memory map, as the kernel sees it. */
enum mdb_mem_type {
	MDB_MEM_RAM,		/* System RAM: the kernel owns it */
	MDB_MEM_RESERVED,	/* firmware "reserved" (E820 type 2) */
};

struct mdb_range {
	u64 start;
	u64 end;		/* exclusive */
	enum mdb_mem_type type;
};

struct mdb_memmap {
	const struct mdb_range *ranges;
	unsigned int count;
};

/*
 * A copy of (or a pointer into) low memory: buf[i] is the byte at physical
 * address base + i. The window always ends at MDB_LOWMEM_END.
 */
struct mdb_window {
	const u8 *buf;
	u32 base;
	u32 len;
	u32 int13_vector;	/* IVT entry: offset low 16 bits, segment high */
};

/*
 * Called once for every refused table, hook or image with one finished
 * line of text naming it and the reason, e.g.
 * "mBFT at 0x9f000: bad checksum". The module prints it; tests read it.
 */
#define MDB_MSG_MAX		160u
struct mdb_report {
	void (*refuse)(void *ctx, const char *msg);
	void *ctx;
};

/* memdiskblk_scan.c: pure functions, no allocation, no global state. */
u32 mdb_scan_start(u16 basemem_kib);
const char *mdb_check_range(u64 addr, u64 size, const struct mdb_memmap *map);
const char *mdb_parse_mbft(const struct mdb_window *w, u32 table,
			   struct mdb_image *img);
unsigned int mdb_find(const struct mdb_window *w,
		      const struct mdb_memmap *map,
		      struct mdb_image *out, unsigned int max,
		      const struct mdb_report *rep);
const char *mdb_parse_param(const char *s, u64 *addr, u64 *size, bool *ro);

#endif /* MEMDISKBLK_H */
