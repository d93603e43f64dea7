/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the table scan hands to the block driver.
 *
 * Everything here is shared by the kernel module and by the userspace unit
 * tests and fuzzer, which compile memdiskblk_scan.c as it is. So it uses
 * only fixed-width types, memcmp/memset, vsnprintf, offsetof/static_assert
 * and the unaligned little-endian accessors.
 */
#ifndef MEMDISKBLK_H
#define MEMDISKBLK_H

/*
 * Userspace builds (unit tests, fuzzer, tests/lib/layout.c) find small
 * stand-ins for these headers in tests/include/linux/.
 */
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/unaligned.h>

/* Where MEMDISK puts things (docs/memdisk-tables.md). */
#define MDB_LOWMEM_END		0xA0000u	/* end of conventional memory */
#define MDB_SCAN_FLOOR		0x10000u	/* never scan below 64 KiB */
#define MDB_BDA_BASEMEM		0x413u		/* BIOS data area: base memory, KiB */
#define MDB_IVT_INT13		0x4Cu		/* real-mode vector of INT 13h */
#define MDB_MIN_IMAGE_ADDR	0x100000u	/* images live in extended memory */
#define MDB_4G			0x100000000ull
#define MDB_NO_LIMIT		(~0ull)		/* mdb_check_range(): any address */
#define MDB_PAGE_SIZE		4096u

/*
 * MEMDISK's tables, little endian and packed, as docs/memdisk-tables.md
 * describes them. This is their one definition: the scan reads them by
 * field name, and the tests (tests/unit, tests/lib/layout.c for the
 * Python generators) take every offset and size from here.
 */

/* MEMDISK Info: the image and how MEMDISK was started. */
struct mdb_mdi {
	__le16 bytes;		/* size of the MDI: 30 in MEMDISK 4.x to 6.x */
	u8 version_minor;
	u8 version_major;
	__le32 diskbuf;		/* physical address of the image */
	__le32 disksize;	/* in sectors of 1 << sector_shift bytes */
	__le32 cmdline;		/* MEMDISK's command line, far pointer */
	__le32 old_int13;	/* the INT 13h vector MEMDISK replaced */
	__le32 old_int15;	/* the INT 15h vector MEMDISK replaced */
	__le16 old_dos_mem;	/* base memory before MEMDISK, KiB */
	u8 bootloader_id;
	u8 sector_shift;	/* 9, 11 for El Torito ISOs, 0 (9) if old */
	__le16 dpt_ptr;
} __packed;

/* The mBFT: an ACPI-style header, the safe hook's address, the MDI. */
struct mdb_mbft {
	char signature[4];	/* MDB_MBFT_SIGNATURE */
	__le32 length;		/* the whole table, MDI included */
	u8 revision;
	u8 checksum;		/* all length bytes sum to 0 mod 256 */
	char oem_id[6];
	char oem_table_id[8];
	__le32 oem_revision;
	__le32 creator_id;
	__le32 creator_revision;
	__le32 safe_hook;	/* physical address of MEMDISK's safe hook */
	struct mdb_mdi mdi;	/* may be shorter: mdi.bytes says */
} __packed;

/*
 * MEMDISK's private patch area, right after an MDI of exactly
 * sizeof(struct mdb_mdi) bytes (MEMDISK 4.x to 6.x); not a published
 * interface, so it is read for no other MDI size.
 */
struct mdb_mdi_patch {
	u8 drive_shift_limit;
	u8 not_read[5];		/* base-memory words */
	__le16 cylinders;
	__le16 heads;
	__le32 sectors;		/* per track */
	u8 not_read2[8];
	u8 driveno;		/* BIOS drive: 0x00 floppy, 0x80 disk, 0xE0 CD */
	u8 drivetype;
	u8 drivecnt;
	u8 configflags;		/* MDB_CONFIG_* */
} __packed;

/* An INT 13h "safe hook": where every hooker's chain link is kept. */
struct mdb_safe_hook {
	u8 jump[3];		/* over the header */
	char signature[8];	/* MDB_HOOK_SIGNATURE */
	char vendor[8];		/* MDB_HOOK_VENDOR for MEMDISK */
	__le32 prev;		/* the previous INT 13h handler, far pointer */
	__le32 flags;
	__le32 mbft;		/* MEMDISK only: physical address of its mBFT */
} __packed;

#define MDB_MBFT_SIGNATURE	"mBFT"
#define MDB_HOOK_SIGNATURE	"$INT13SF"
#define MDB_HOOK_VENDOR		"MEMDISK "

/* The offsets docs/memdisk-tables.md gives; a typo here cannot build. */
static_assert(offsetof(struct mdb_mdi, version_minor) == 2);
static_assert(offsetof(struct mdb_mdi, diskbuf) == 4);
static_assert(offsetof(struct mdb_mdi, disksize) == 8);
static_assert(offsetof(struct mdb_mdi, cmdline) == 12);
static_assert(offsetof(struct mdb_mdi, old_int13) == 16);
static_assert(offsetof(struct mdb_mdi, old_int15) == 20);
static_assert(offsetof(struct mdb_mdi, old_dos_mem) == 24);
static_assert(offsetof(struct mdb_mdi, bootloader_id) == 26);
static_assert(offsetof(struct mdb_mdi, sector_shift) == 27);
static_assert(offsetof(struct mdb_mdi, dpt_ptr) == 28);
static_assert(sizeof(struct mdb_mdi) == 30);

static_assert(offsetof(struct mdb_mbft, length) == 4);
static_assert(offsetof(struct mdb_mbft, revision) == 8);
static_assert(offsetof(struct mdb_mbft, checksum) == 9);
static_assert(offsetof(struct mdb_mbft, oem_id) == 10);
static_assert(offsetof(struct mdb_mbft, oem_table_id) == 16);
static_assert(offsetof(struct mdb_mbft, oem_revision) == 24);
static_assert(offsetof(struct mdb_mbft, safe_hook) == 36);
static_assert(offsetof(struct mdb_mbft, mdi) == 40);
static_assert(sizeof(struct mdb_mbft) == 70);

/* Patch-area offsets counted from the start of the MDI, as in the docs. */
#define MDB_PATCH_OFF(field) \
	(sizeof(struct mdb_mdi) + offsetof(struct mdb_mdi_patch, field))
static_assert(MDB_PATCH_OFF(drive_shift_limit) == 30);
static_assert(MDB_PATCH_OFF(cylinders) == 36);
static_assert(MDB_PATCH_OFF(heads) == 38);
static_assert(MDB_PATCH_OFF(sectors) == 40);
static_assert(MDB_PATCH_OFF(driveno) == 52);
static_assert(MDB_PATCH_OFF(drivetype) == 53);
static_assert(MDB_PATCH_OFF(drivecnt) == 54);
static_assert(MDB_PATCH_OFF(configflags) == 55);
static_assert(sizeof(struct mdb_mdi_patch) == 26);

static_assert(offsetof(struct mdb_safe_hook, signature) == 3);
static_assert(offsetof(struct mdb_safe_hook, vendor) == 11);
static_assert(offsetof(struct mdb_safe_hook, prev) == 19);
static_assert(offsetof(struct mdb_safe_hook, flags) == 23);
static_assert(offsetof(struct mdb_safe_hook, mbft) == 27);
static_assert(sizeof(struct mdb_safe_hook) == 31);

/*
 * Ventoy's memdisk mode under UEFI (docs/loaders.md). Its GRUB allocates
 * one block of EfiRuntimeServicesData pages, writes a chain head there
 * (MDB_VENTOY_HEAD_LEN bytes, its os_param first) and the ISO right
 * behind it; ventoy_x64.efi then sets the volatile variable VentoyRamDisk
 * to the ISO's address and a size.
 */
#define MDB_VENTOY_VAR_NAME	"VentoyRamDisk"
#define MDB_VENTOY_VAR_ATTRS	0x6u	/* boot service + runtime access */
#define MDB_VENTOY_HEAD_LEN	2616u	/* sizeof(ventoy_chain_head) */

/* The variable's 16 bytes. */
struct mdb_ventoy_var {
	__le64 phys;		/* the ISO's first byte */
	__le64 disk_size;	/* Ventoy's: the ISO's size less the head, twice */
} __packed;

/* ventoy_os_param, the first 512 bytes of the chain head. */
struct mdb_ventoy_param {
	u8 guid[16];		/* MDB_VENTOY_GUID */
	u8 checksum;		/* all 512 bytes sum to 0 mod 256 */
	u8 disk_guid[16];
	__le64 disk_size;	/* of the Ventoy disk, not the ISO */
	__le16 part_id;
	__le16 part_type;
	char img_path[384];	/* the ISO's path on the Ventoy disk */
	__le64 img_size;	/* the ISO file's size in bytes */
	__le64 img_location_addr;
	__le32 img_location_len;
	u8 reserved[32];
	u8 disk_signature[4];
	u8 reserved2[27];
} __packed;

/* 77772020-2e77-6576-6e74-6f792e6e6574 as EFI stores it: "  www.ventoy.net" */
#define MDB_VENTOY_GUID \
	"\x20\x20\x77\x77\x77\x2e\x76\x65\x6e\x74\x6f\x79\x2e\x6e\x65\x74"

static_assert(sizeof(struct mdb_ventoy_var) == 16);
static_assert(offsetof(struct mdb_ventoy_param, checksum) == 16);
static_assert(offsetof(struct mdb_ventoy_param, img_path) == 45);
static_assert(offsetof(struct mdb_ventoy_param, img_size) == 429);
static_assert(sizeof(struct mdb_ventoy_param) == 512);

/*
 * GRUB4DOS's drive map (docs/loaders.md), which GRUB4DOS under BIOS keeps
 * in its INT 13h handler, and grub4efi and a1ive's GRUB2 (map --mem --rt)
 * in a page of EFI runtime memory below 640 KiB. Either way the map's
 * slots end MDB_G4D_MAP_OFF bytes before a safe hook whose vendor is
 * "GRUB4DOS"; under BIOS that hook is the handler's entry point, at
 * offset MDB_G4D_ENTRY of the segment the INT 13h vector names.
 */
struct mdb_g4d_slot {
	u8 from_drive;		/* the BIOS drive it emulates */
	u8 to_drive;		/* MDB_G4D_RAM: the image is in memory */
	u8 max_head;
	u8 max_sector;		/* bit 7: read-only, unless to_sector bit 6 */
	__le16 to_cylinder;	/* MDB_G4D_FROM_CD: it emulates a CD */
	u8 to_head;
	u8 to_sector;		/* bit 6: fake write or safe boot */
	__le64 start_sector;	/* 512-byte units: the image's address */
	__le64 sector_count;	/* 512-byte units, even for a CD */
} __packed;

#define MDB_G4D_VENDOR		"GRUB4DOS"
#define MDB_G4D_ENTRY		0x100u	/* handler offset of its safe hook */
#define MDB_G4D_MAP_OFF		0xE0u	/* the map, before the safe hook */
#define MDB_G4D_SLOTS		8u	/* up to the first empty one */
#define MDB_G4D_RAM		0xFFu
#define MDB_G4D_FROM_CD		0x2000u
#define MDB_G4D_READONLY	0x80u	/* in max_sector */
#define MDB_G4D_FAKE_WRITE	0x40u	/* in to_sector */
#define MDB_G4D_PAGE_LAST	0x9F000u	/* highest EFI page with a map */

static_assert(offsetof(struct mdb_g4d_slot, to_cylinder) == 4);
static_assert(offsetof(struct mdb_g4d_slot, start_sector) == 8);
static_assert(offsetof(struct mdb_g4d_slot, sector_count) == 16);
static_assert(sizeof(struct mdb_g4d_slot) == 24);
static_assert(MDB_G4D_SLOTS * sizeof(struct mdb_g4d_slot) <= MDB_G4D_MAP_OFF);

/*
 * The shortest mBFT accepted (memdiskfind's bound too): an MDI up to the
 * old base-memory word. The fields read whatever the MDI size lie in it;
 * sector_shift is read only from an MDI long enough to hold it.
 */
#define MDB_MBFT_MIN_LEN	66u
#define MDB_MBFT_MAX_LEN	1024u	/* sanity bound, real tables are 70 */
static_assert(offsetof(struct mdb_mbft, mdi.bootloader_id) == MDB_MBFT_MIN_LEN);
static_assert(offsetofend(struct mdb_mbft, mdi.cmdline) <= MDB_MBFT_MIN_LEN);

#define MDB_CMDLINE_MAX		512u	/* including the terminating NUL */

#define MDB_MAX_IMAGES		8u	/* devices from one scan */
#define MDB_MAX_TABLES		32u	/* distinct candidate tables looked at */
#define MDB_MAX_HOPS		16u	/* safe-hook links followed */

#define MDB_CONFIG_READONLY	0x01u	/* MEMDISK's "ro" option */
#define MDB_DRIVE_UNKNOWN	0xFFFFu

/*
 * How an image was found; a bit mask, one image may be found several
 * ways. The order is that of the names "found" prints (memdiskblk.c).
 */
#define MDB_FOUND_SCAN		0x1u	/* low-memory scan for "mBFT" */
#define MDB_FOUND_HOOK		0x2u	/* INT 13h safe-hook chain */
#define MDB_FOUND_PARAM		0x4u	/* image= module parameter */
#define MDB_FOUND_VENTOY	0x8u	/* Ventoy's VentoyRamDisk EFI variable */
#define MDB_FOUND_GRUB4DOS	0x10u	/* a GRUB4DOS drive map */

/* One image, as validated; what a /dev/memdiskN is made of. */
struct mdb_image {
	u64 addr;		/* physical address of the first byte */
	u64 size;		/* bytes, a multiple of 1 << sector_shift */
	u32 table;		/* physical address of its mBFT, 0 if none */
	u32 g4d_slot;		/* ... of its GRUB4DOS drive map slot, 0 if none */
	u64 ventoy_head;	/* ... of Ventoy's header in front, 0 if none */
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
	u32 scan_from;		/* where mBFTs are looked for, if above base */
	u16 basemem_kib;	/* the BIOS data area's base-memory word */
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
const char *mdb_check_range(u64 addr, u64 size, u64 limit,
			    const struct mdb_memmap *map);
const char *mdb_parse_mbft(const struct mdb_window *w, u32 table,
			   struct mdb_image *img);
unsigned int mdb_find(const struct mdb_window *w,
		      const struct mdb_memmap *map,
		      struct mdb_image *out, unsigned int max,
		      const struct mdb_report *rep);
const char *mdb_parse_param(const char *s, u64 *addr, u64 *size, bool *ro);
const struct mdb_image *mdb_overlap(const struct mdb_image *imgs,
				    unsigned int n, u64 addr, u64 size);
bool mdb_ventoy_var(const struct mdb_ventoy_var *var, unsigned long len,
		    u32 attrs, const struct mdb_memmap *map, u64 *head,
		    const struct mdb_report *rep);
bool mdb_ventoy_image(const struct mdb_ventoy_var *var,
		      const struct mdb_ventoy_param *param,
		      const struct mdb_memmap *map, struct mdb_image *img,
		      const struct mdb_report *rep);

#endif /* MEMDISKBLK_H */
