/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the MEMDISK table scan and the image checks.
 *
 * This compiles memdiskblk_scan.c exactly as the module does and runs it
 * over synthetic low memory: a buffer holding physical [base, 0xA0000),
 * allocated to its exact size so that AddressSanitizer catches any read
 * outside the window, plus a firmware memory map.
 *
 * Output: one "PASS unit/<name>" or "FAIL unit/<name>: <detail>" line per
 * case, then "N passed, M failed". Exit status 0 iff nothing failed.
 */
#include "../../memdiskblk_scan.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- synthetic low memory ---------------------------------------------- */

#define QEMU_BASE	0x9f000u	/* MEMDISK's resident page under QEMU */
#define IMG_ADDR	0x7000000u	/* 16 MiB reserved here, typical map */
#define IMG_END		0x8000000u
#define IMG_SECTORS	2048u		/* 1 MiB in 512-byte sectors */
#define IMG_SIZE	0x100000u
#define BIOS_INT13	0xf000e3feu	/* F000:E3FE, the BIOS's own handler */

/*
 * Offsets from the start of a table or hook, from the one definition of
 * MEMDISK's tables in memdiskblk.h.
 */
#define MBFT(field)	((u32)offsetof(struct mdb_mbft, field))
#define MBFT_LEN	((u32)sizeof(struct mdb_mbft))
#define PATCH(field)	(MBFT_LEN + (u32)offsetof(struct mdb_mdi_patch, field))
#define HOOK(field)	((u32)offsetof(struct mdb_safe_hook, field))

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define MAX_MSGS	128u
#define MAX_RANGES	16u

static u8 *lowmem;		/* [env_w.base, MDB_LOWMEM_END), exactly */
static struct mdb_window env_w;
static struct mdb_range env_ranges[MAX_RANGES];
static struct mdb_memmap env_map = { .ranges = env_ranges };
static struct mdb_image out[MDB_MAX_IMAGES];	/* own object: ASan redzones */
static char msgs[MAX_MSGS][MDB_MSG_MAX];
static unsigned int nmsgs;
static bool bad_msg;		/* a message was unterminated or too long */

static void record(void *ctx, const char *msg)
{
	(void)ctx;
	if (!memchr(msg, '\0', MDB_MSG_MAX))
		bad_msg = true;
	else if (nmsgs < MAX_MSGS)
		snprintf(msgs[nmsgs], MDB_MSG_MAX, "%s", msg);
	nmsgs++;
}

static const struct mdb_report report = { .refuse = record };

static void map_clear(void)
{
	env_map.count = 0;
}

static void map_add(u64 start, u64 end, enum mdb_mem_type type)
{
	if (env_map.count == MAX_RANGES) {
		fprintf(stderr, "harness: too many ranges\n");
		abort();
	}
	env_ranges[env_map.count++] = (struct mdb_range){
		.start = start, .end = end, .type = type,
	};
}

/* RAM below MEMDISK, MEMDISK reserved, RAM, the image reserved. */
static void map_typical(void)
{
	map_clear();
	map_add(0x1000, env_w.base, MDB_MEM_RAM);
	map_add(env_w.base, MDB_LOWMEM_END, MDB_MEM_RESERVED);
	map_add(0x100000, IMG_ADDR, MDB_MEM_RAM);
	map_add(IMG_ADDR, IMG_END, MDB_MEM_RESERVED);
}

/* Fresh zeroed low memory from @base up, the typical map, BIOS vector. */
static void env_setup(u32 base)
{
	free(lowmem);
	lowmem = calloc(1, MDB_LOWMEM_END - base);
	if (!lowmem) {
		fprintf(stderr, "harness: out of memory\n");
		abort();
	}
	env_w = (struct mdb_window){
		.buf = lowmem, .base = base, .len = MDB_LOWMEM_END - base,
		.int13_vector = BIOS_INT13,
	};
	map_typical();
	memset(out, 0x5a, sizeof(out));	/* fields must be written */
	memset(msgs, 0, sizeof(msgs));
	nmsgs = 0;
	bad_msg = false;
}

/* Write one byte; bytes at or past 0xA0000 are dropped (truncated tables). */
static void put8(u32 phys, u8 v)
{
	if (phys < env_w.base) {
		fprintf(stderr, "harness: write below the window: %#x\n",
			phys);
		abort();
	}
	if (phys < MDB_LOWMEM_END)
		lowmem[phys - env_w.base] = v;
}

static u8 get8(u32 phys)
{
	return phys < MDB_LOWMEM_END ? lowmem[phys - env_w.base] : 0;
}

static void put16(u32 phys, u16 v)
{
	put8(phys, v & 0xff);
	put8(phys + 1, v >> 8);
}

static void put32(u32 phys, u32 v)
{
	put16(phys, v & 0xffff);
	put16(phys + 2, v >> 16);
}

static void put_bytes(u32 phys, const char *s, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		put8(phys + i, (u8)s[i]);
}

/* A real-mode far pointer (segment high, offset low) to @phys < 1 MiB. */
static u32 far_ptr(u32 phys)
{
	return (phys >> 4) << 16 | (phys & 15);
}

/* Set the checksum byte so the table's length bytes sum to 0 mod 256. */
static void seal(u32 t)
{
	u32 len = get8(t + MBFT(length)) | get8(t + MBFT(length) + 1) << 8 |
		  get8(t + MBFT(length) + 2) << 16 | (u32)get8(t + MBFT(length) + 3) << 24;
	u8 sum = 0;
	u32 i;

	put8(t + MBFT(checksum), 0);
	for (i = 0; i < len && t + i < MDB_LOWMEM_END; i++)
		sum += get8(t + i);
	put8(t + MBFT(checksum), (u8)-sum);
}

/*
 * A valid MEMDISK 6.04 mBFT at @t for a hard disk image (drive 0x80, not
 * read-only, no command line, no safe hook) of @sectors << @shift bytes.
 */
static void plant_mbft(u32 t, u32 diskbuf, u32 sectors, u8 shift)
{
	put_bytes(t + MBFT(signature), MDB_MBFT_SIGNATURE, 4);
	put32(t + MBFT(length), MBFT_LEN);
	put8(t + MBFT(revision), 1);
	put_bytes(t + MBFT(oem_id), "MEMDSK", 6);
	put_bytes(t + MBFT(oem_table_id), "Syslinux", 8);
	put32(t + MBFT(safe_hook), 0);
	put16(t + MBFT(mdi.bytes), sizeof(struct mdb_mdi));
	put8(t + MBFT(mdi.version_minor), 4);
	put8(t + MBFT(mdi.version_major), 6);
	put32(t + MBFT(mdi.diskbuf), diskbuf);
	put32(t + MBFT(mdi.disksize), sectors);
	put32(t + MBFT(mdi.cmdline), 0);
	put8(t + MBFT(mdi.sector_shift), shift);
	put8(t + PATCH(driveno), 0x80);
	put8(t + PATCH(configflags), 0);
	seal(t);
}

/* The usual 1 MiB disk image at IMG_ADDR. */
static void plant_disk(u32 t)
{
	plant_mbft(t, IMG_ADDR, IMG_SECTORS, 9);
}

/* Change a table field and fix the checksum up. */
static void patch8(u32 t, u32 off, u8 v)
{
	put8(t + off, v);
	seal(t);
}

static void patch16(u32 t, u32 off, u16 v)
{
	put16(t + off, v);
	seal(t);
}

static void patch32(u32 t, u32 off, u32 v)
{
	put32(t + off, v);
	seal(t);
}

/* A safe hook at @h: @vendor is 8 characters, @prev a far pointer. */
static void plant_hook(u32 h, const char *vendor, u32 prev, u32 mbft)
{
	put8(h + HOOK(jump), 0xeb);	/* jmp short, over the header */
	put8(h + HOOK(jump) + 1, 0x1e);
	put8(h + HOOK(jump) + 2, 0x90);
	put_bytes(h + HOOK(signature), MDB_HOOK_SIGNATURE, 8);
	put_bytes(h + HOOK(vendor), vendor, 8);
	put32(h + HOOK(prev), prev);
	put32(h + HOOK(flags), 0);
	put32(h + HOOK(mbft), mbft);
}

/* MEMDISK's hook for table @t, linked both ways as MEMDISK does. */
static void plant_memdisk_hook(u32 h, u32 t, u32 prev)
{
	plant_hook(h, MDB_HOOK_VENDOR, prev, t);
	if (t >= env_w.base && t + MBFT(mdi) <= MDB_LOWMEM_END)
		patch32(t, MBFT(safe_hook), h);
}

/* Put @s (and its NUL) at @phys and point table @t's command line at it. */
static void plant_cmdline(u32 t, u32 phys, const char *s)
{
	put_bytes(phys, s, strlen(s) + 1);
	patch32(t, MBFT(mdi.cmdline), far_ptr(phys));
}

static unsigned int find(unsigned int max)
{
	return mdb_find(&env_w, &env_map, out, max, &report);
}

/* ---- the test harness -------------------------------------------------- */

static bool case_failed;
static char detail[512];

static __printf(2, 3) void fail_at(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (case_failed)
		return;
	case_failed = true;
	n = snprintf(detail, sizeof(detail), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(detail + n, sizeof(detail) - n, fmt, ap);
	va_end(ap);
}

/* On failure: record why and end the case. */
#define EXPECT(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fail_at(__LINE__, __VA_ARGS__);			\
			return;						\
		}							\
	} while (0)

/* For helpers that record their own failure and return false. */
#define REQUIRE(call)							\
	do {								\
		if (!(call))						\
			return;						\
	} while (0)

static const char *msg0(void)
{
	return nmsgs ? msgs[0] : "(none)";
}

static bool no_msgs(int line)
{
	if (bad_msg) {
		fail_at(line, "a message was not NUL-terminated in %u bytes",
			MDB_MSG_MAX);
		return false;
	}
	if (nmsgs) {
		fail_at(line, "%u unexpected message(s), first: \"%s\"",
			nmsgs, msg0());
		return false;
	}
	return true;
}

#define EXPECT_NO_MSGS()	REQUIRE(no_msgs(__LINE__))

/* Message @i starts with @prefix and contains @why. */
static bool msg_is(int line, unsigned int i, const char *prefix,
		   const char *why)
{
	if (i >= nmsgs || i >= MAX_MSGS) {
		fail_at(line, "message %u missing (%u in all)", i, nmsgs);
		return false;
	}
	if (strncmp(msgs[i], prefix, strlen(prefix)) || !strstr(msgs[i], why)) {
		fail_at(line, "message \"%s\", expected \"%s...%s...\"",
			msgs[i], prefix, why);
		return false;
	}
	return true;
}

/* Exactly one message, "mBFT at <t>: ...<why>...", and no image. */
static bool refused_once(int line, unsigned int n, u32 t, const char *why)
{
	char prefix[40];

	if (bad_msg) {
		fail_at(line, "a message was not NUL-terminated");
		return false;
	}
	if (n) {
		fail_at(line, "%u image(s) found, expected none (messages: %u)",
			n, nmsgs);
		return false;
	}
	if (nmsgs != 1) {
		fail_at(line, "%u messages, expected 1; first: \"%s\"",
			nmsgs, msg0());
		return false;
	}
	snprintf(prefix, sizeof(prefix), "mBFT at 0x%x: ", t);
	return msg_is(line, 0, prefix, why);
}

#define EXPECT_REFUSED(n, t, why) \
	REQUIRE(refused_once(__LINE__, n, t, why))

/* No image and exactly one message, starting with @prefix and containing @why. */
static bool refused_with(int line, unsigned int n, const char *prefix,
		       const char *why)
{
	if (n) {
		fail_at(line, "image found, expected a refusal of \"%s\"", why);
		return false;
	}
	if (bad_msg || nmsgs != 1) {
		fail_at(line, "%u messages, expected 1; first: \"%s\"",
			nmsgs, msg0());
		return false;
	}
	return msg_is(line, 0, prefix, why);
}

#define EXPECT_REFUSED_WITH(n, prefix, why) \
	REQUIRE(refused_with(__LINE__, n, prefix, why))

/* ---- a valid table ----------------------------------------------------- */

#define T0	0x9f0a0u	/* 16-byte aligned, inside MEMDISK's page */
#define H0	0x9f00au	/* as seen: vector 9f00:000a */
#define C0	0x9f200u	/* its command line */

/* A valid table is found once by the scan with every field right. */
static void test_valid_table(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	plant_cmdline(T0, C0, "initrd=disk.img harddisk");
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].addr == IMG_ADDR, "addr %#llx", out[0].addr);
	EXPECT(out[0].size == IMG_SIZE, "size %#llx", out[0].size);
	EXPECT(out[0].table == T0, "table %#x", out[0].table);
	EXPECT(out[0].sector_shift == 9, "shift %u", out[0].sector_shift);
	EXPECT(out[0].ver_major == 6 && out[0].ver_minor == 4,
	       "version %u.%u", out[0].ver_major, out[0].ver_minor);
	EXPECT(out[0].driveno == 0x80, "driveno %#x", out[0].driveno);
	EXPECT(out[0].configflags == 0, "configflags %#x", out[0].configflags);
	EXPECT(!out[0].readonly, "read-only");
	EXPECT(out[0].found == MDB_FOUND_SCAN, "found %#x", out[0].found);
	EXPECT(!strcmp(out[0].cmdline, "initrd=disk.img harddisk"),
	       "cmdline \"%s\"", out[0].cmdline);
}

/* A valid table also reached by the safe hook: one image, SCAN|HOOK. */
static void test_valid_table_with_hook(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	plant_memdisk_hook(H0, T0, BIOS_INT13);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].table == T0, "table %#x", out[0].table);
	EXPECT(out[0].found == (MDB_FOUND_SCAN | MDB_FOUND_HOOK),
	       "found %#x", out[0].found);
}

/* A table the scan cannot see (not 16-byte aligned) is found by the hook. */
static void test_unaligned_table_via_hook(void)
{
	const u32 t = T0 + 8;
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(t);
	plant_memdisk_hook(H0, t, BIOS_INT13);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].table == t, "table %#x", out[0].table);
	EXPECT(out[0].found == MDB_FOUND_HOOK, "found %#x", out[0].found);
}

/* Nothing in low memory: no image, no message. */
static void test_empty_window(void)
{
	unsigned int n;

	env_setup(0x10000);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 0, "n = %u", n);
}

/* A table in a page that is part RAM, part reserved (iPXE) is accepted. */
static void test_table_in_mixed_page(void)
{
	const u32 t = 0x9be60;
	unsigned int n;

	env_setup(0x9b000);
	map_clear();
	map_add(0x1000, 0x9b800, MDB_MEM_RAM);
	map_add(0x9b800, MDB_LOWMEM_END, MDB_MEM_RESERVED);
	map_add(0x100000, IMG_ADDR, MDB_MEM_RAM);
	map_add(IMG_ADDR, IMG_END, MDB_MEM_RESERVED);
	plant_disk(t);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].table == t, "n = %u", n);
}

/* ---- bad fields: one refusal naming the table, no image ----------------- */

/* A hook pointing where there is no "mBFT" signature. */
static void test_bad_signature_via_hook(void)
{
	const u32 t = T0 + 0x100;
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_memdisk_hook(H0, t, BIOS_INT13);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, t, "no mBFT signature");
}

/* A table "MBFT" (wrong case) found through its hook is refused too. */
static void test_bad_signature_case_via_hook(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	plant_memdisk_hook(H0, T0, BIOS_INT13);
	put8(T0, 'M');
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "no mBFT signature");
}

/* Length 65, one below the minimum of 66. */
static void test_length_too_short(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch16(T0, MBFT(mdi.bytes), 25);
	patch32(T0, MBFT(length), 65);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "implausible table length");
}

/* Length 1025, one above the maximum of 1024. */
static void test_length_too_long(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch16(T0, MBFT(mdi.bytes), 1025 - MBFT(mdi));
	patch32(T0, MBFT(length), 1025);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "implausible table length");
}

/* A huge length (0xffffffff) must not wrap any bounds check. */
static void test_length_huge(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch32(T0, MBFT(length), 0xffffffffu);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "implausible table length");
}

/* A table of length 70 with only 48 bytes left before 0xA0000. */
static void test_length_past_window_end(void)
{
	const u32 t = MDB_LOWMEM_END - 48;
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(t);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, t, "runs past the end of low memory");
}

/* A table whose header (MDI size field) is cut off by 0xA0000. */
static void test_header_past_window_end(void)
{
	const u32 t = MDB_LOWMEM_END - 16;
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(t);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, t, "runs past the end of low memory");
}

/* A signature in the last 4 bytes of the window, reached by a hook. */
static void test_signature_at_window_end(void)
{
	const u32 t = MDB_LOWMEM_END - 4;
	unsigned int n;

	env_setup(MDB_LOWMEM_END - 0x1000);
	put_bytes(t, MDB_MBFT_SIGNATURE, 4);
	plant_memdisk_hook(H0, t, BIOS_INT13);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, t, "runs past the end of low memory");
}

/* MDI bytes 31 in a table of length 70. */
static void test_mdi_bytes_mismatch(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch16(T0, MBFT(mdi.bytes), 31);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "MDI size does not match table length");
}

/* One byte off in the checksum. */
static void test_bad_checksum(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	put8(T0 + MBFT(checksum), get8(T0 + MBFT(checksum)) + 1);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "bad checksum");
}

/* sector_shift 10 (1 KiB sectors) is not a MEMDISK value. */
static void test_sector_shift_10(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch8(T0, MBFT(mdi.sector_shift), 10);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "unsupported sector size");
}

/* sector_shift 12 (4 KiB sectors) is not a MEMDISK value. */
static void test_sector_shift_12(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch8(T0, MBFT(mdi.sector_shift), 12);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "unsupported sector size");
}

/* A table the map says is System RAM is not MEMDISK's. */
static void test_table_in_ram(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	map_clear();
	map_add(0x1000, 0x9f800, MDB_MEM_RAM);
	map_add(0x9f800, MDB_LOWMEM_END, MDB_MEM_RESERVED);
	map_add(0x100000, IMG_ADDR, MDB_MEM_RAM);
	map_add(IMG_ADDR, IMG_END, MDB_MEM_RESERVED);
	plant_disk(T0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "table is not in reserved memory");
}

/* A table whose tail crosses into System RAM is refused. */
static void test_table_tail_in_ram(void)
{
	const u32 t = 0x9f7e0;	/* 70 bytes: crosses 0x9f800 */
	unsigned int n;

	env_setup(QEMU_BASE);
	map_clear();
	map_add(0x1000, 0x9f000, MDB_MEM_RAM);
	map_add(0x9f000, 0x9f800, MDB_MEM_RESERVED);
	map_add(0x9f800, MDB_LOWMEM_END, MDB_MEM_RAM);
	map_add(IMG_ADDR, IMG_END, MDB_MEM_RESERVED);
	plant_disk(t);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, t, "table is not in reserved memory");
}

/* A table in memory the map does not list at all is refused. */
static void test_table_not_in_map(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	map_clear();
	map_add(IMG_ADDR, IMG_END, MDB_MEM_RESERVED);
	plant_disk(T0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "table is not in reserved memory");
}

/* A bad table seen by both the scan and the hook is reported once. */
static void test_bad_table_reported_once(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	plant_memdisk_hook(H0, T0, BIOS_INT13);
	put8(T0 + MBFT(checksum), get8(T0 + MBFT(checksum)) ^ 0x40);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "bad checksum");
}

/* mdb_parse_mbft itself refuses an address outside the window. */
static void test_parse_outside_window(void)
{
	struct mdb_image img;
	const char *why;

	env_setup(QEMU_BASE);
	why = mdb_parse_mbft(&env_w, QEMU_BASE - 16, &img);
	EXPECT(why && strstr(why, "not in low memory"), "why %s", why);
	why = mdb_parse_mbft(&env_w, MDB_LOWMEM_END, &img);
	EXPECT(why && strstr(why, "not in low memory"), "why %s", why);
	why = mdb_parse_mbft(&env_w, 0xfffffffeu, &img);
	EXPECT(why && strstr(why, "not in low memory"), "why %s", why);
}

/* ---- sector size, read-only, drive number ------------------------------ */

/* sector_shift 0 (old MEMDISK) means 512-byte sectors. */
static void test_sector_shift_0_means_9(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, IMG_ADDR, IMG_SECTORS, 0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].sector_shift == 9, "shift %u", out[0].sector_shift);
	EXPECT(out[0].size == IMG_SIZE, "size %#llx", out[0].size);
	EXPECT(!out[0].readonly, "read-only");
}

/* sector_shift 9: 512-byte sectors, writable. */
static void test_sector_shift_9(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, IMG_ADDR, 2880, 9);	/* a 1.44 MB floppy */
	patch8(T0, PATCH(driveno), 0x00);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].sector_shift == 9, "shift %u", out[0].sector_shift);
	EXPECT(out[0].size == 2880ull * 512, "size %#llx", out[0].size);
	EXPECT(out[0].driveno == 0x00, "driveno %#x", out[0].driveno);
	EXPECT(!out[0].readonly, "read-only");
}

/* sector_shift 11 (ISO): 2 KiB sectors, read-only without the ro flag. */
static void test_sector_shift_11(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, IMG_ADDR, 3, 11);	/* 6 KiB: 4 KiB + 2 KiB */
	patch8(T0, PATCH(driveno), 0xe0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].sector_shift == 11, "shift %u", out[0].sector_shift);
	EXPECT(out[0].size == 6144, "size %#llx", out[0].size);
	EXPECT(out[0].driveno == 0xe0, "driveno %#x", out[0].driveno);
	EXPECT(out[0].configflags == 0, "configflags %#x", out[0].configflags);
	EXPECT(out[0].readonly, "not read-only");
}

/* configflags bit 0x01 ("ro") makes the image read-only. */
static void test_ro_flag(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch8(T0, PATCH(configflags), MDB_CONFIG_READONLY | 0x04);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].readonly, "not read-only");
	EXPECT(out[0].configflags == 0x05, "configflags %#x",
	       out[0].configflags);
}

/* Other configflags bits (raw, safeint, bigraw) leave it writable. */
static void test_other_flags_writable(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch8(T0, PATCH(configflags), 0x0e);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(!out[0].readonly, "read-only");
	EXPECT(out[0].configflags == 0x0e, "configflags %#x",
	       out[0].configflags);
}

/* MDI bytes 26 (length 66): unknown patch area, so read-only, no drive. */
static void test_short_mdi_readonly(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch16(T0, MBFT(mdi.bytes), 26);
	patch32(T0, MBFT(length), 66);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].readonly, "not read-only");
	EXPECT(out[0].driveno == MDB_DRIVE_UNKNOWN, "driveno %#x",
	       out[0].driveno);
	EXPECT(out[0].sector_shift == 9, "shift %u", out[0].sector_shift);
	EXPECT(out[0].size == IMG_SIZE, "size %#llx", out[0].size);
}

/* MDI bytes 40 (length 80): also not the known layout, so read-only. */
static void test_long_mdi_readonly(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	patch16(T0, MBFT(mdi.bytes), 40);
	patch32(T0, MBFT(length), 80);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].readonly, "not read-only");
	EXPECT(out[0].driveno == MDB_DRIVE_UNKNOWN, "driveno %#x",
	       out[0].driveno);
}

/* A patch area cut off by 0xA0000: table valid, but read-only. */
static void test_patch_area_past_window_end(void)
{
	const u32 t = MDB_LOWMEM_END - 80;	/* 70 fit, 96 do not */
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(t);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].readonly, "not read-only");
	EXPECT(out[0].driveno == MDB_DRIVE_UNKNOWN, "driveno %#x",
	       out[0].driveno);
}

/* ---- image ranges ------------------------------------------------------ */

/* mdb_check_range on the typical map: each reason, and the good case. */
static void test_check_range_direct(void)
{
	static const struct {
		u64 addr, size;
		const char *why;	/* NULL: accepted */
	} c[] = {
		{ IMG_ADDR, IMG_SIZE, NULL },
		{ IMG_ADDR, IMG_END - IMG_ADDR, NULL },
		{ IMG_ADDR, 0, "is empty" },
		{ IMG_ADDR, 0x100, "not a multiple of 512" },
		{ IMG_ADDR, IMG_SIZE + 1, "not a multiple of 512" },
		{ IMG_ADDR - 0x200, IMG_SIZE, "overlaps System RAM" },
		{ IMG_END - 0x200, IMG_SIZE, "not inside firmware-reserved" },
		{ IMG_END, IMG_SIZE, "not inside firmware-reserved" },
		{ 0x80000, IMG_SIZE, "below 1 MiB" },
		{ 0xfff00, 0x200, "below 1 MiB" },
		{ 0xfffff000ull, 0x2000, "does not end below 4 GiB" },
		{ MDB_4G, 0x200, "does not end below 4 GiB" },
		{ IMG_ADDR, ~0ull - 511, "wraps around" },
		{ ~0ull - 511, 0x400, "wraps around" },
	};
	unsigned int i;

	env_setup(QEMU_BASE);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		const char *why = mdb_check_range(c[i].addr, c[i].size,
						  MDB_4G, &env_map);

		if (!c[i].why)
			EXPECT(!why, "%#llx+%#llx refused: %s",
			       c[i].addr, c[i].size, why);
		else
			EXPECT(why && strstr(why, c[i].why),
			       "%#llx+%#llx: got \"%s\", expected \"%s\"",
			       c[i].addr, c[i].size, why ? why : "accepted",
			       c[i].why);
	}
}

/* An image ending exactly at 4 GiB is accepted; one byte more is not. */
static void test_check_range_4g_boundary(void)
{
	const char *why;

	env_setup(QEMU_BASE);
	map_add(0xfff00000ull, MDB_4G, MDB_MEM_RESERVED);
	why = mdb_check_range(0xfff00000ull, 0x100000, MDB_4G, &env_map);
	EXPECT(!why, "refused: %s", why);
	why = mdb_check_range(0xfff00000ull, 0x100200, MDB_4G, &env_map);
	EXPECT(why && strstr(why, "4 GiB"), "got %s", why);
	/* Without the limit, only the map decides. */
	map_add(MDB_4G, MDB_4G + 0x100000, MDB_MEM_RESERVED);
	why = mdb_check_range(0xfff00000ull, 0x100200, MDB_NO_LIMIT, &env_map);
	EXPECT(!why, "no limit: refused: %s", why);
}

/* A table for an empty image (disksize 0) is refused. */
static void test_image_empty(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, IMG_ADDR, 0, 9);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "is empty");
}

/* A table whose image overlaps System RAM is refused. */
static void test_image_overlaps_ram(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, IMG_ADDR - 0x1000, IMG_SECTORS, 9);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "overlaps System RAM");
}

/* A table whose image runs out of the reserved range is refused. */
static void test_image_partly_unreserved(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, IMG_END - 0x80000, IMG_SECTORS, 9);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "is not inside firmware-reserved memory");
}

/* An image in two adjacent reserved ranges (listed backwards) is fine. */
static void test_image_two_reserved_ranges(void)
{
	unsigned int n;
	const char *why;

	env_setup(QEMU_BASE);
	map_clear();
	map_add(0x1000, QEMU_BASE, MDB_MEM_RAM);
	map_add(QEMU_BASE, MDB_LOWMEM_END, MDB_MEM_RESERVED);
	map_add(0x100000, IMG_ADDR, MDB_MEM_RAM);
	map_add(IMG_ADDR + 0x80000, IMG_END, MDB_MEM_RESERVED);
	map_add(IMG_ADDR, IMG_ADDR + 0x80000, MDB_MEM_RESERVED);
	why = mdb_check_range(IMG_ADDR, IMG_SIZE, MDB_4G, &env_map);
	EXPECT(!why, "mdb_check_range: %s", why);
	plant_disk(T0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].addr == IMG_ADDR, "n = %u", n);
}

/* Two reserved ranges with a one-page hole between them do not cover. */
static void test_image_reserved_with_hole(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	map_clear();
	map_add(QEMU_BASE, MDB_LOWMEM_END, MDB_MEM_RESERVED);
	map_add(IMG_ADDR, IMG_ADDR + 0x80000, MDB_MEM_RESERVED);
	map_add(IMG_ADDR + 0x81000, IMG_END, MDB_MEM_RESERVED);
	plant_disk(T0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "is not inside firmware-reserved memory");
}

/* A table whose image starts below 1 MiB is refused. */
static void test_image_below_1m(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, 0x80000, 16, 9);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "starts below 1 MiB");
}

/* diskbuf 0xFFFFF000 + 8 KiB: wraps in 32 bits, ends past 4 GiB. */
static void test_image_past_4g(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	map_add(0xfff00000ull, MDB_4G, MDB_MEM_RESERVED);
	plant_mbft(T0, 0xfffff000u, 16, 9);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "does not end below 4 GiB");
}

/* The largest disksize with 2 KiB sectors: no 32-bit overflow. */
static void test_image_huge_iso(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_mbft(T0, IMG_ADDR, 0xffffffffu, 11);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, T0, "does not end below 4 GiB");
}

/* ---- GRUB4DOS ----------------------------------------------------------- */

/*
 * As seen under SeaBIOS: GRUB4DOS's handler at 0x9cc00, base memory
 * lowered to 627 KiB, the vector at its entry 9cc0:0100, the drive map
 * 0x20 into the handler. The images here go where the typical map
 * reserves room for them.
 */
#define G4D_BASE	0x9c000u	/* the window */
#define G4D_H		0x9cc00u	/* the handler */
#define G4D_KIB		(G4D_H / 1024)
#define G4D_VECTOR	((G4D_H >> 4) << 16 | MDB_G4D_ENTRY)
#define G4D_MAP(h)	((h) + MDB_G4D_ENTRY - MDB_G4D_MAP_OFF)
#define G4D_CD		3816u		/* sectors: a 3812-sector ISO, rounded */
#define SLOT(field)	((u32)offsetof(struct mdb_g4d_slot, field))
#define G4D_AT		"GRUB4DOS drive map at 0x9cc20: "

static void put64(u32 phys, u64 v)
{
	put32(phys, (u32)v);
	put32(phys + 4, (u32)(v >> 32));
}

/* Slot @i of the map at @table: a RAM drive unless @to says otherwise. */
static void put_slot(u32 table, unsigned int i, u8 from, u8 to, u16 flags,
		     u64 start, u64 count)
{
	u32 p = table + i * (u32)sizeof(struct mdb_g4d_slot);

	put8(p + SLOT(from_drive), from);
	put8(p + SLOT(to_drive), to);
	put8(p + SLOT(max_head), 0xfe);
	put8(p + SLOT(max_sector), 0x3f);
	put16(p + SLOT(to_cylinder), flags);
	put8(p + SLOT(to_head), 0xfe);
	put8(p + SLOT(to_sector), 0x3f);
	put64(p + SLOT(start_sector), start);
	put64(p + SLOT(sector_count), count);
}

/* An all-zero slot: the end of the map. */
static void clear_slot(u32 table, unsigned int i)
{
	u32 p = table + i * (u32)sizeof(struct mdb_g4d_slot);
	unsigned int j;

	for (j = 0; j < sizeof(struct mdb_g4d_slot); j++)
		put8(p + j, 0);
}

/* A GRUB4DOS handler at @h with its safe hook; its map has no slot yet. */
static void plant_g4d(u32 h, u32 prev)
{
	put32(h, 2);				/* its size in KiB */
	put_bytes(h + 4, "G4DS", 4);
	plant_hook(h + MDB_G4D_ENTRY, MDB_G4D_VENDOR, prev, 0);
}

/* The two drives of issue 20's boot: the ISO as (0xff), a disk (hd0). */
static void g4d_setup(void)
{
	env_setup(G4D_BASE);
	env_w.basemem_kib = G4D_KIB;
	env_w.int13_vector = G4D_VECTOR;
	plant_g4d(G4D_H, BIOS_INT13);
	put_slot(G4D_MAP(G4D_H), 0, 0xff, 0xff, 0x8000 | MDB_G4D_FROM_CD,
		 IMG_ADDR >> 9, G4D_CD);
	put_slot(G4D_MAP(G4D_H), 1, 0x80, 0xff, 0x8000,
		 (IMG_ADDR >> 9) + 0x1000, IMG_SECTORS);
}

static void test_g4d_bios(void)
{
	unsigned int n;

	g4d_setup();
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 2, "n = %u", n);
	EXPECT(out[0].addr == IMG_ADDR && out[0].size == G4D_CD * 512ull,
	       "CD %#llx+%#llx", out[0].addr, out[0].size);
	EXPECT(out[0].sector_shift == 11 && out[0].readonly &&
	       out[0].driveno == 0xff && out[0].found == MDB_FOUND_GRUB4DOS &&
	       !out[0].table, "CD shift %u ro %d drive %#x found %#x",
	       out[0].sector_shift, out[0].readonly, out[0].driveno,
	       out[0].found);
	EXPECT(out[1].addr == IMG_ADDR + 0x200000 && out[1].size == IMG_SIZE &&
	       out[1].sector_shift == 9 && !out[1].readonly &&
	       out[1].driveno == 0x80, "disk %#llx+%#llx shift %u ro %d",
	       out[1].addr, out[1].size, out[1].sector_shift, out[1].readonly);
	/* What a release spoils: each image's own slot, nothing else. */
	EXPECT(out[0].g4d_slot == G4D_MAP(G4D_H) &&
	       out[1].g4d_slot == G4D_MAP(G4D_H) + sizeof(struct mdb_g4d_slot) &&
	       !out[0].ventoy_head && !out[1].ventoy_head,
	       "slots %#x %#x", out[0].g4d_slot, out[1].g4d_slot);
}

/* Slots after the first empty one, and drives not in RAM, are not read. */
static void test_g4d_slots(void)
{
	unsigned int n;

	g4d_setup();
	put_slot(G4D_MAP(G4D_H), 0, 0x81, 0x80, 0x8000, 0, 0);	/* a disk */
	clear_slot(G4D_MAP(G4D_H), 2);				/* the end */
	put_slot(G4D_MAP(G4D_H), 3, 0x82, 0xff, 0x8000, 1, 1);	/* unread */
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].driveno == 0x80, "n = %u", n);
}

/* GRUB4DOS's own read-only bits: read-only unless "fake write". */
static void test_g4d_readonly(void)
{
	const u32 s1 = G4D_MAP(G4D_H) + sizeof(struct mdb_g4d_slot);
	unsigned int n;

	g4d_setup();
	put8(s1 + SLOT(max_sector), 0xbf);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 2 && out[1].readonly, "read-only bit: n %u", n);
	env_setup(G4D_BASE);
	g4d_setup();
	put8(s1 + SLOT(max_sector), 0xbf);
	put8(s1 + SLOT(to_sector), 0x7f);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 2 && !out[1].readonly, "fake write: n %u", n);
}

/* A CD whose size is no whole number of 2 KiB blocks: 512-byte ones. */
static void test_g4d_cd_odd_size(void)
{
	unsigned int n;

	g4d_setup();
	put64(G4D_MAP(G4D_H) + SLOT(sector_count), G4D_CD - 1);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 2 && out[0].sector_shift == 9 && out[0].readonly,
	       "n %u shift %u", n, out[0].sector_shift);
}

/* A copy left where base memory no longer ends, vector back at the BIOS. */
static void test_g4d_stale_copy(void)
{
	unsigned int n;

	g4d_setup();
	env_w.basemem_kib = 639;
	env_w.int13_vector = BIOS_INT13;
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 0, "n = %u", n);
}

/* The vector names a handler, but not where base memory ends. */
static void test_g4d_vector_mismatch(void)
{
	unsigned int n;

	g4d_setup();
	env_w.basemem_kib = G4D_KIB + 1;
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED_WITH(n, "GRUB4DOS handler at 0x9cd00: ",
			  "INT 13h vector 9cc0:0100 is not base memory's 9d00:0100");
	g4d_setup();
	env_w.int13_vector = (G4D_H + 0x100) >> 4 << 16;	/* 9cd0:0000 */
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED_WITH(n, "GRUB4DOS handler at 0x9cd00: ",
			  "vector 9cd0:0000 is not base memory's 9cc0:0100");
}

/* A handler in usable RAM is stale, whatever points at it. */
static void test_g4d_in_ram(void)
{
	unsigned int n;

	g4d_setup();
	map_clear();
	map_add(0x1000, G4D_H + 0x400, MDB_MEM_RAM);
	map_add(G4D_H + 0x400, MDB_LOWMEM_END, MDB_MEM_RESERVED);
	map_add(IMG_ADDR, IMG_END, MDB_MEM_RESERVED);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED_WITH(n, G4D_AT, "not in reserved memory");
}

/* MEMDISK hooked in after GRUB4DOS: its handler found down the chain. */
static void test_g4d_chained_after_memdisk(void)
{
	unsigned int n;

	g4d_setup();
	clear_slot(G4D_MAP(G4D_H), 1);
	env_w.basemem_kib = 620;
	plant_mbft(0x9b0a0 + 0x1000, IMG_ADDR + 0x400000, IMG_SECTORS, 9);
	plant_memdisk_hook(0x9c00a, 0x9c0a0, G4D_VECTOR);
	env_w.int13_vector = far_ptr(0x9c00a);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 2, "n = %u", n);
	EXPECT(out[0].found == (MDB_FOUND_SCAN | MDB_FOUND_HOOK) &&
	       out[1].found == MDB_FOUND_GRUB4DOS && out[1].addr == IMG_ADDR,
	       "found %#x %#x", out[0].found, out[1].found);
}

/* One image, described by an mBFT and a slot: one device, found both ways. */
static void test_g4d_same_image_as_memdisk(void)
{
	unsigned int n;

	g4d_setup();
	clear_slot(G4D_MAP(G4D_H), 1);
	plant_mbft(0x9c0a0, IMG_ADDR, G4D_CD - 4, 9);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].found == (MDB_FOUND_SCAN | MDB_FOUND_GRUB4DOS) &&
	       out[0].size == (G4D_CD - 4) * 512ull && out[0].table == 0x9c0a0,
	       "found %#x size %#llx", out[0].found, out[0].size);
	EXPECT(out[0].g4d_slot == G4D_MAP(G4D_H), "slot %#x", out[0].g4d_slot);
}

/* Each slot meets the map; each refusal names its slot. */
static void test_g4d_slot_refusals(void)
{
	static const struct {
		u64 start, count;
		const char *why;
	} c[] = {
		{ (IMG_ADDR - 0x1000) >> 9, 16, "overlaps System RAM" },
		{ IMG_ADDR >> 9, 0, "is empty" },
		{ IMG_END >> 9, 16, "is not inside firmware-reserved memory" },
		{ 0x80000 >> 9, 16, "starts below 1 MiB" },
		{ 1ull << 60, 16, "wrap around" },
		{ IMG_ADDR >> 9, 1ull << 56, "wrap around" },
		{ (~0ull >> 9) - 1, 16, "wraps around" },
		{ (IMG_ADDR >> 9) + 8, 16, "overlaps the image at 0x7000000" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		unsigned int n;

		g4d_setup();
		put_slot(G4D_MAP(G4D_H), 1, 0x80, 0xff, 0x8000, c[i].start,
			 c[i].count);
		n = find(MDB_MAX_IMAGES);
		EXPECT(n == 1 && nmsgs == 1, "case %u: n %u, %u messages",
		       i, n, nmsgs);
		REQUIRE(msg_is(__LINE__, 0, G4D_AT "slot 1: ", c[i].why));
	}
}

/* The EFI page a1ive's GRUB2 writes (map --mem --rt): image above 4 GiB. */
static void g4d_efi_setup(void)
{
	env_setup(0x90000);
	env_w.basemem_kib = 0;		/* no BIOS data area under UEFI */
	put_bytes(MDB_G4D_PAGE_LAST + MDB_G4D_MAP_OFF + 3,
		  MDB_HOOK_SIGNATURE MDB_G4D_VENDOR, 16);
	put_slot(MDB_G4D_PAGE_LAST, 0, 0x80, 0xff, MDB_G4D_FROM_CD,
		 MDB_4G >> 9, 3812);
	map_add(MDB_4G, MDB_4G + 0x200000, MDB_MEM_RESERVED);
}

static void test_g4d_efi_page(void)
{
	unsigned int n;

	g4d_efi_setup();
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].addr == MDB_4G && out[0].size == 3812 * 512ull,
	       "n %u %#llx+%#llx", n, out[0].addr, out[0].size);
	EXPECT(out[0].sector_shift == 11 && out[0].readonly &&
	       out[0].found == MDB_FOUND_GRUB4DOS, "shift %u found %#x",
	       out[0].sector_shift, out[0].found);
}

/* Without --rt the image was Boot Services memory: System RAM by now. */
static void test_g4d_efi_boot_services(void)
{
	unsigned int n;

	g4d_efi_setup();
	map_clear();
	map_add(0x90000, MDB_LOWMEM_END, MDB_MEM_RESERVED);
	map_add(MDB_4G, MDB_4G + 0x200000, MDB_MEM_RAM);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED_WITH(n, "GRUB4DOS drive map at 0x9f000: slot 0: image 0x100000000+",
			  "overlaps System RAM");
}

/* A page with the signature in usable RAM is not the firmware's. */
static void test_g4d_efi_page_in_ram(void)
{
	unsigned int n;

	g4d_efi_setup();
	map_clear();
	map_add(0x1000, MDB_LOWMEM_END, MDB_MEM_RAM);
	map_add(MDB_4G, MDB_4G + 0x200000, MDB_MEM_RESERVED);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED_WITH(n, "GRUB4DOS drive map at 0x9f000: ",
			  "not in reserved memory");
}

/* The signature only counts at +0xE3 of a page. */
static void test_g4d_efi_signature_elsewhere(void)
{
	unsigned int n;

	g4d_efi_setup();
	put_bytes(MDB_G4D_PAGE_LAST + MDB_G4D_MAP_OFF + 3, "\0", 1);
	put_bytes(0x9e0e4, MDB_HOOK_SIGNATURE MDB_G4D_VENDOR, 16);
	put_bytes(0x9d0e2, MDB_HOOK_SIGNATURE MDB_G4D_VENDOR, 16);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 0, "n = %u", n);
}

/* ---- Ventoy ------------------------------------------------------------ */

/*
 * As seen in a real boot: an allocation of exactly head + ISO at a page
 * boundary, in reserved memory (EfiRuntimeServicesData), the variable
 * pointing at the ISO behind the head, DiskSize the head's size short.
 */
#define VT_ALLOC	0x5c464000ull
#define VT_ISO		(VT_ALLOC + MDB_VENTOY_HEAD_LEN)
#define VT_SIZE		16246784ull	/* the ISO's size, seen */
#define VT_END		(VT_ISO + VT_SIZE)
#define VPARAM(field)	offsetof(struct mdb_ventoy_param, field)

static struct mdb_ventoy_var vt_var;
static u8 *vt_param;		/* the header, exactly 512 bytes: ASan */

static void put_le64(void *p, u64 v)
{
	u8 *b = p;
	unsigned int i;

	for (i = 0; i < 8; i++)
		b[i] = (u8)(v >> (8 * i));
}

static void vt_seal(void)
{
	u8 sum = 0;
	unsigned int i;

	vt_param[VPARAM(checksum)] = 0;
	for (i = 0; i < sizeof(struct mdb_ventoy_param); i++)
		sum += vt_param[i];
	vt_param[VPARAM(checksum)] = (u8)-sum;
}

/* The typical map with Ventoy's allocation reserved, a valid header. */
static void vt_setup(void)
{
	env_setup(QEMU_BASE);
	map_add(IMG_END, VT_ALLOC, MDB_MEM_RAM);
	map_add(VT_ALLOC, (VT_END + 0xfff) & ~0xfffull, MDB_MEM_RESERVED);
	map_add((VT_END + 0xfff) & ~0xfffull, 0x7fe00000, MDB_MEM_RAM);
	free(vt_param);
	vt_param = calloc(1, sizeof(struct mdb_ventoy_param));
	if (!vt_param) {
		fprintf(stderr, "harness: out of memory\n");
		abort();
	}
	memcpy(vt_param + VPARAM(guid), MDB_VENTOY_GUID, 16);
	snprintf((char *)vt_param + VPARAM(img_path), 384,
		 "/live_VTMEMDISK.iso");
	put_le64(vt_param + VPARAM(img_size), VT_SIZE);
	vt_seal();
	put_le64(&vt_var.phys, VT_ISO);
	put_le64(&vt_var.disk_size, VT_SIZE - MDB_VENTOY_HEAD_LEN);
}

/* Both steps, as the module runs them: 1 image or 0. */
static unsigned int vt_find(unsigned long len, u32 attrs)
{
	u64 head = 0;

	if (!mdb_ventoy_var(&vt_var, len, attrs, &env_map, &head, &report))
		return 0;
	if (head != get_unaligned_le64(&vt_var.phys) - MDB_VENTOY_HEAD_LEN) {
		fprintf(stderr, "harness: header at %#llx\n", head);
		abort();
	}
	return mdb_ventoy_image(&vt_var, (const struct mdb_ventoy_param *)vt_param,
				&env_map, out, &report);
}

#define VT_AT		"Ventoy image at 0x5c464a38: "

/* What Ventoy 1.0.98+ leaves is served: the ISO behind the head, a CD. */
static void test_ventoy_valid(void)
{
	unsigned int n;

	vt_setup();
	n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
	EXPECT_NO_MSGS();
	EXPECT(n == 1, "not found");
	EXPECT(out[0].addr == VT_ISO && out[0].size == VT_SIZE,
	       "%#llx+%#llx", out[0].addr, out[0].size);
	EXPECT(out[0].sector_shift == 11 && out[0].readonly,
	       "shift %u ro %d", out[0].sector_shift, out[0].readonly);
	EXPECT(out[0].found == MDB_FOUND_VENTOY, "found %#x", out[0].found);
	EXPECT(out[0].table == 0 && out[0].driveno == MDB_DRIVE_UNKNOWN &&
	       !out[0].cmdline[0] && !out[0].ver_major && !out[0].g4d_slot,
	       "MEMDISK's fields set: table %#x drive %#x", out[0].table,
	       out[0].driveno);
	EXPECT(out[0].ventoy_head == VT_ALLOC, "header %#llx", out[0].ventoy_head);
}

/* A DiskSize of the whole ISO (Ventoy's arithmetic fixed) agrees too. */
static void test_ventoy_disksize_exact(void)
{
	unsigned int n;

	vt_setup();
	put_le64(&vt_var.disk_size, VT_SIZE);
	n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].size == VT_SIZE, "n %u", n);
}

/* Above 4 GiB is fine: the whole map decides, not MEMDISK's limit. */
static void test_ventoy_above_4g(void)
{
	unsigned int n;

	vt_setup();
	map_add(0x200000000ull, 0x210000000ull, MDB_MEM_RESERVED);
	put_le64(&vt_var.phys, 0x200000000ull + MDB_VENTOY_HEAD_LEN);
	n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].addr == 0x200000000ull + MDB_VENTOY_HEAD_LEN,
	       "n %u", n);
}

/* A variable of any other size is refused before anything is read. */
static void test_ventoy_var_size(void)
{
	static const unsigned long lens[] = { 0, 8, 15, 17, 24, 4096 };
	unsigned int i;
	char why[64];

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		unsigned int n;

		vt_setup();
		n = vt_find(lens[i], MDB_VENTOY_VAR_ATTRS);
		snprintf(why, sizeof(why), "%lu bytes, not 16", lens[i]);
		EXPECT_REFUSED_WITH(n, "VentoyRamDisk variable: ", why);
	}
}

/* Only boot service + runtime access, volatile: as ventoy_x64.efi sets. */
static void test_ventoy_var_attrs(void)
{
	static const u32 attrs[] = { 0, 2, 4, 7, 0x27, 0x80000006u };
	unsigned int i;
	char why[64];

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		unsigned int n;

		vt_setup();
		n = vt_find(16, attrs[i]);
		snprintf(why, sizeof(why), "attributes 0x%x, not 0x6", attrs[i]);
		EXPECT_REFUSED_WITH(n, "VentoyRamDisk variable: ", why);
	}
}

/* The head must start a page; an address below the head's size wraps. */
static void test_ventoy_unaligned(void)
{
	static const u64 phys[] = { VT_ISO + 1, VT_ISO - 512, VT_ALLOC, 0,
				    MDB_VENTOY_HEAD_LEN - 1, ~0ull };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(phys); i++) {
		unsigned int n;

		vt_setup();
		put_le64(&vt_var.phys, phys[i]);
		n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
		EXPECT_REFUSED_WITH(n, "Ventoy image at ", "is not page-aligned");
	}
}

/* A header in RAM, or where the map has nothing, is never read. */
static void test_ventoy_header_not_reserved(void)
{
	static const u64 head[] = { IMG_END, 0x100000, 0x7fe00000, 0x1000,
				    0xfffffffffffff000ull };
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(head); i++) {
		vt_setup();
		put_le64(&vt_var.phys, head[i] + MDB_VENTOY_HEAD_LEN);
		n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
		EXPECT_REFUSED_WITH(n, "Ventoy image at ",
				  "is not in reserved memory");
	}
	/* The header's 512 bytes straddle the end of a reserved range. */
	vt_setup();
	map_clear();
	map_add(VT_ALLOC, VT_ALLOC + 256, MDB_MEM_RESERVED);
	n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
	EXPECT_REFUSED_WITH(n, VT_AT, "is not in reserved memory");
}

static void test_ventoy_guid(void)
{
	unsigned int n;

	vt_setup();
	vt_param[VPARAM(guid) + 15] ^= 1;
	vt_seal();
	n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
	EXPECT_REFUSED_WITH(n, VT_AT, "no Ventoy GUID in its header");
}

static void test_ventoy_checksum(void)
{
	unsigned int n;

	vt_setup();
	vt_param[511] ^= 0x80;
	n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
	EXPECT_REFUSED_WITH(n, VT_AT, "bad header checksum");
}

/* DiskSize alone is never trusted: it must agree with the header. */
static void test_ventoy_disksize_mismatch(void)
{
	static const u64 size[] = { 0, VT_SIZE - 2048, VT_SIZE + 2048,
				    VT_SIZE - MDB_VENTOY_HEAD_LEN + 1, ~0ull };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(size); i++) {
		unsigned int n;

		vt_setup();
		put_le64(&vt_var.disk_size, size[i]);
		n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
		EXPECT_REFUSED_WITH(n, VT_AT, "does not match the header's image size");
	}
}

/* The header's size, with DiskSize agreeing, still meets the map. */
static void test_ventoy_image_range(void)
{
	static const struct {
		u64 size;
		const char *why;
	} c[] = {
		{ VT_SIZE + 0x100000, "overlaps System RAM" },
		{ 0, "is empty" },
		{ VT_SIZE + 1, "not a multiple of 512" },
		{ ~0ull - 0xfff, "wraps around" },
	};
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		vt_setup();
		put_le64(vt_param + VPARAM(img_size), c[i].size);
		vt_seal();
		put_le64(&vt_var.disk_size, c[i].size - MDB_VENTOY_HEAD_LEN);
		n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
		EXPECT_REFUSED_WITH(n, VT_AT "image 0x5c464a38+", c[i].why);
	}
	/* Reserved memory the map does not list as RAM but does not cover. */
	vt_setup();
	map_clear();
	map_add(VT_ALLOC, VT_ALLOC + 0x100000, MDB_MEM_RESERVED);
	n = vt_find(16, MDB_VENTOY_VAR_ATTRS);
	EXPECT_REFUSED_WITH(n, VT_AT, "is not inside firmware-reserved memory");
}

/* ---- large memory maps ------------------------------------------------ */

#define FRAGMENTS	3000u	/* RAM + reserved pairs below the image */
#define PIECES		(IMG_SIZE / 0x1000)

enum { WHOLE, HOLE, RAM_PAGE };

/*
 * A map of over 6000 entries, as a fragmented firmware map can give:
 * low memory, 3000 pairs of a RAM page and a reserved page from 1 MiB
 * up, then the image as 256 reserved 4 KiB pieces listed backwards (each
 * pass of the coverage check finds one), with one piece missing or made
 * RAM if asked. Returns the array to free.
 */
static struct mdb_range *big_map(int flaw)
{
	const unsigned int count = 2 + 2 * FRAGMENTS + PIECES;
	struct mdb_range *r = calloc(count, sizeof(*r));
	unsigned int i, n = 0;

	if (!r) {
		fprintf(stderr, "harness: out of memory\n");
		abort();
	}
	r[n++] = (struct mdb_range){ 0x1000, env_w.base, MDB_MEM_RAM };
	r[n++] = (struct mdb_range){ env_w.base, MDB_LOWMEM_END,
				     MDB_MEM_RESERVED };
	for (i = 0; i < FRAGMENTS; i++) {
		u64 a = 0x100000 + i * 0x2000ull;

		r[n++] = (struct mdb_range){ a, a + 0x1000, MDB_MEM_RAM };
		r[n++] = (struct mdb_range){ a + 0x1000, a + 0x2000,
					     MDB_MEM_RESERVED };
	}
	for (i = PIECES; i-- > 0; ) {
		u64 a = IMG_ADDR + i * 0x1000ull;
		enum mdb_mem_type t = MDB_MEM_RESERVED;

		if (i == PIECES / 2 && flaw == HOLE)
			a = IMG_END;	/* listed, but elsewhere */
		if (i == PIECES / 2 && flaw == RAM_PAGE)
			t = MDB_MEM_RAM;
		r[n++] = (struct mdb_range){ a, a + 0x1000, t };
	}
	env_map.ranges = r;
	env_map.count = n;
	return r;
}

/* Over 6000 entries: the image is found, no message. */
static void test_map_thousands(void)
{
	struct mdb_range *r;
	unsigned int n;

	env_setup(QEMU_BASE);
	r = big_map(WHOLE);
	plant_disk(T0);
	n = find(MDB_MAX_IMAGES);
	env_map.ranges = env_ranges;
	free(r);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].addr == IMG_ADDR && out[0].size == IMG_SIZE,
	       "n = %u", n);
}

/* One page missing from the image among thousands of entries. */
static void test_map_thousands_hole(void)
{
	struct mdb_range *r;
	unsigned int n;

	env_setup(QEMU_BASE);
	r = big_map(HOLE);
	plant_disk(T0);
	n = find(MDB_MAX_IMAGES);
	env_map.ranges = env_ranges;
	free(r);
	EXPECT_REFUSED(n, T0, "is not inside firmware-reserved memory");
}

/* One page of the image is System RAM, among thousands of entries. */
static void test_map_thousands_ram_page(void)
{
	struct mdb_range *r;
	unsigned int n;

	env_setup(QEMU_BASE);
	r = big_map(RAM_PAGE);
	plant_disk(T0);
	n = find(MDB_MAX_IMAGES);
	env_map.ranges = env_ranges;
	free(r);
	EXPECT_REFUSED(n, T0, "overlaps System RAM");
}

/* ---- several MEMDISK instances ----------------------------------------- */

/* Chained MEMDISK as seen: inner at 0x9e400, outer at 0x9f000. */
#define T_IN	0x9e560u
#define H_IN	0x9e40au
#define T_OUT	0x9f160u
#define H_OUT	0x9f00au

static void plant_chain(u32 inner_diskbuf)
{
	env_setup(0x9e000);
	plant_mbft(T_OUT, IMG_ADDR, IMG_SECTORS, 9);
	plant_cmdline(T_OUT, 0x9f400, "iso raw");
	plant_memdisk_hook(H_OUT, T_OUT, BIOS_INT13);
	plant_mbft(T_IN, inner_diskbuf, 3, 11);
	plant_cmdline(T_IN, 0x9e800, "initrd=inner.iso iso");
	plant_memdisk_hook(H_IN, T_IN, far_ptr(H_OUT));
	env_w.int13_vector = far_ptr(H_IN);
}

/* Two chained instances: two images in ascending table order. */
static void test_two_instances(void)
{
	unsigned int n;

	plant_chain(IMG_ADDR + 0x800000);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 2, "n = %u", n);
	EXPECT(out[0].table == T_IN && out[1].table == T_OUT,
	       "tables %#x, %#x", out[0].table, out[1].table);
	EXPECT(out[0].addr == IMG_ADDR + 0x800000 && out[0].size == 6144,
	       "inner %#llx+%#llx", out[0].addr, out[0].size);
	EXPECT(out[1].addr == IMG_ADDR && out[1].size == IMG_SIZE,
	       "outer %#llx+%#llx", out[1].addr, out[1].size);
	EXPECT(out[0].found == (MDB_FOUND_SCAN | MDB_FOUND_HOOK) &&
	       out[1].found == (MDB_FOUND_SCAN | MDB_FOUND_HOOK),
	       "found %#x, %#x", out[0].found, out[1].found);
	EXPECT(!strcmp(out[0].cmdline, "initrd=inner.iso iso") &&
	       !strcmp(out[1].cmdline, "iso raw"),
	       "cmdlines \"%s\", \"%s\"", out[0].cmdline, out[1].cmdline);
}

/* Two instances with overlapping images: the second one is refused. */
static void test_two_instances_overlap(void)
{
	unsigned int n;

	plant_chain(IMG_ADDR + 0x80000);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 1, "n = %u", n);
	EXPECT(out[0].table == T_IN, "table %#x", out[0].table);
	EXPECT(nmsgs == 1, "%u messages, first: %s", nmsgs, msg0());
	REQUIRE(msg_is(__LINE__, 0, "mBFT at 0x9f160: ", "overlaps"));
	EXPECT(strstr(msgs[0], "mBFT at 0x9e560"), "other table not named: %s",
	       msgs[0]);
}

/* The inner instance zeroed (as seen once): the outer is still found. */
static void test_chain_inner_zeroed(void)
{
	unsigned int n;

	plant_chain(IMG_ADDR + 0x800000);
	memset(lowmem, 0, 0x9f000 - 0x9e000);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].table == T_OUT, "n = %u", n);
	EXPECT(out[0].found == MDB_FOUND_SCAN, "found %#x", out[0].found);
}

/* ---- hostile safe-hook chains ------------------------------------------ */

/* The INT 13h vector points at zeros: quietly ignored. */
static void test_vector_at_zeros(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	env_w.int13_vector = far_ptr(0x9f800);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].found == MDB_FOUND_SCAN, "n = %u", n);
}

/* Vectors outside the window (IVT, BIOS, FFFF:FFFF) are ignored. */
static void test_vector_outside_window(void)
{
	static const u32 vec[] = {
		0, BIOS_INT13, 0xffffffffu, 0xc0000000u,
		0x09000000u,	/* 0900:0000, below the window */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vec); i++) {
		unsigned int n;

		env_setup(QEMU_BASE);
		plant_disk(T0);
		env_w.int13_vector = vec[i];
		n = find(MDB_MAX_IMAGES);
		EXPECT_NO_MSGS();
		EXPECT(n == 1, "vector %#x: n = %u", vec[i], n);
	}
}

/* A hook cut off by 0xA0000 is not read past the end. */
static void test_hook_past_window_end(void)
{
	const u32 h = MDB_LOWMEM_END - 20;
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_hook(h, MDB_HOOK_VENDOR, BIOS_INT13, T0);
	env_w.int13_vector = far_ptr(h);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 0, "n = %u", n);
}

/* A -> B -> A: exactly one "loops" message, the table still found. */
static void test_chain_loops(void)
{
	const u32 a = H0, b = 0x9f800;
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	plant_memdisk_hook(a, T0, far_ptr(b));
	plant_hook(b, "GRUB4DOS", far_ptr(a), 0);
	env_w.int13_vector = far_ptr(a);
	n = find(MDB_MAX_IMAGES);
	EXPECT(nmsgs == 1, "%u messages, first: %s", nmsgs, msg0());
	REQUIRE(msg_is(__LINE__, 0, "safe hook at 0x9f00a", "loops"));
	EXPECT(n == 1 && out[0].found == (MDB_FOUND_SCAN | MDB_FOUND_HOOK),
	       "n = %u", n);
}

/* A hook that points at itself: its table refused once, one "loops". */
static void test_chain_self_loop(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_hook(H0, MDB_HOOK_VENDOR, far_ptr(H0), T0 + 0x100);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 0, "n = %u", n);
	EXPECT(nmsgs == 2, "%u messages, first: %s", nmsgs, msg0());
	REQUIRE(msg_is(__LINE__, 0, "mBFT at 0x9f1a0: ", "no mBFT signature"));
	REQUIRE(msg_is(__LINE__, 1, "safe hook at 0x9f00a", "loops"));
}

/* A loop through a different far pointer to the same physical hook. */
static void test_chain_loops_aliased(void)
{
	const u32 b = 0x9f800;
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_hook(H0, "OTHER   ", far_ptr(b), 0);
	/* 9f00:000a and 9e00:100a are the same address */
	plant_hook(b, "OTHER   ", 0x9e00100au, 0);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 0, "n = %u", n);
	EXPECT(nmsgs == 1, "%u messages, first: %s", nmsgs, msg0());
	REQUIRE(msg_is(__LINE__, 0, "safe hook at 0x9f00a", "loops"));
}

/* A MEMDISK hook whose mBFT pointer is outside the window. */
static void test_hook_mbft_outside_window(void)
{
	static const u32 bad[] = { IMG_ADDR, 0xffffffffu, 0x500, 0x9effc };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned int n;

		env_setup(QEMU_BASE);
		plant_hook(H0, MDB_HOOK_VENDOR, BIOS_INT13, bad[i]);
		env_w.int13_vector = far_ptr(H0);
		n = find(MDB_MAX_IMAGES);
		EXPECT_REFUSED(n, bad[i], "table is not in low memory");
	}
}

/* A MEMDISK hook whose mBFT pointer is garbage inside the window. */
static void test_hook_mbft_garbage(void)
{
	const u32 g = 0x9f313;
	unsigned int i, n;

	env_setup(QEMU_BASE);
	for (i = 0; i < 256; i++)
		put8(0x9f300 + i, (u8)(i * 37 + 11));
	plant_hook(H0, MDB_HOOK_VENDOR, BIOS_INT13, g);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT_REFUSED(n, g, "no mBFT signature");
}

/* A hook of another vendor is followed, but its mBFT field is not read. */
static void test_other_vendor_hook(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0 + 8);	/* only reachable through a MEMDISK hook */
	plant_memdisk_hook(H0, T0 + 8, BIOS_INT13);
	plant_hook(0x9f800, "OTHERLDR", BIOS_INT13, 0xdeadbeef);
	env_w.int13_vector = far_ptr(0x9f800);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 0, "n = %u", n);
	/* another loader hooked in after MEMDISK: found through it */
	plant_hook(0x9f800, "OTHERLDR", far_ptr(H0), 0xdeadbeef);
	n = find(MDB_MAX_IMAGES);
	EXPECT_NO_MSGS();
	EXPECT(n == 1 && out[0].found == MDB_FOUND_HOOK, "n = %u", n);
}

/* Plant @count distinct hooks, the first at the vector; return the last. */
static u32 plant_hooks(unsigned int count)
{
	u32 h = 0;
	unsigned int i;

	for (i = 0; i < count; i++) {
		h = QEMU_BASE + 0x400 + i * 0x30;
		plant_hook(h, "OTHER   ",
			   i + 1 < count ? far_ptr(h + 0x30) : BIOS_INT13, 0);
	}
	env_w.int13_vector = far_ptr(QEMU_BASE + 0x400);
	return h;
}

/* A chain of MDB_MAX_HOPS + 1 hooks is cut with one message. */
static void test_chain_too_long(void)
{
	char prefix[40];
	unsigned int n;
	u32 last;

	env_setup(QEMU_BASE);
	last = plant_hooks(MDB_MAX_HOPS + 1);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 0, "n = %u", n);
	EXPECT(nmsgs == 1, "%u messages, first: %s", nmsgs, msg0());
	snprintf(prefix, sizeof(prefix), "safe hook at 0x%x: ", last);
	REQUIRE(msg_is(__LINE__, 0, prefix, "longer than"));
}

/* A MEMDISK hook at the MDB_MAX_HOPS-th link is still followed. */
static void test_chain_max_hops_followed(void)
{
	const u32 t = T0 + 8;
	unsigned int n;
	u32 last;

	env_setup(QEMU_BASE);
	plant_disk(t);
	last = plant_hooks(MDB_MAX_HOPS);
	plant_memdisk_hook(last, t, BIOS_INT13);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 1 && out[0].found == MDB_FOUND_HOOK, "n = %u", n);
}

/* A chain of exactly MDB_MAX_HOPS hooks ending at the BIOS is no error. */
static void test_chain_exactly_max_hops(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_hooks(MDB_MAX_HOPS);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 0, "n = %u", n);
	EXPECT_NO_MSGS();
}

/* ---- limits ------------------------------------------------------------ */

/* @count valid tables 0x100 apart from @base, images 1 MiB apart. */
static void plant_tables(u32 base, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		plant_mbft(base + i * 0x100, IMG_ADDR + i * IMG_SIZE,
			   IMG_SECTORS, 9);
}

/* More than MDB_MAX_IMAGES valid tables: max images, the rest reported. */
static void test_too_many_images(void)
{
	const unsigned int extra = 2;
	char prefix[40];
	unsigned int i, n;

	env_setup(0x9c000);
	plant_tables(0x9c000, MDB_MAX_IMAGES + extra);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == MDB_MAX_IMAGES, "n = %u", n);
	EXPECT(nmsgs == extra, "%u messages, first: %s", nmsgs, msg0());
	for (i = 0; i < extra; i++) {
		snprintf(prefix, sizeof(prefix), "mBFT at 0x%x: ",
			 0x9c000 + (MDB_MAX_IMAGES + i) * 0x100);
		REQUIRE(msg_is(__LINE__, i, prefix, "images, ignored"));
	}
	for (i = 0; i < n; i++)
		EXPECT(out[i].table == 0x9c000 + i * 0x100 &&
		       out[i].addr == IMG_ADDR + i * IMG_SIZE,
		       "image %u: table %#x", i, out[i].table);
}

/* A caller's smaller max (3, then 0) is honoured. */
static void test_small_max(void)
{
	unsigned int n;

	env_setup(0x9c000);
	plant_tables(0x9c000, 5);
	n = find(3);
	EXPECT(n == 3, "n = %u", n);
	EXPECT(nmsgs == 2, "%u messages", nmsgs);
	REQUIRE(msg_is(__LINE__, 0, "mBFT at 0x9c300: ", "over 3 images"));
	nmsgs = 0;
	n = mdb_find(&env_w, &env_map, NULL, 0, &report);
	EXPECT(n == 0, "max 0: n = %u", n);
	EXPECT(nmsgs == 5, "max 0: %u messages", nmsgs);
}

/* More than MDB_MAX_TABLES signatures: bounded, the limit reported once. */
static void test_too_many_tables(void)
{
	const unsigned int count = MDB_MAX_TABLES + 8;
	char prefix[40], over[40];
	unsigned int i, n;

	env_setup(0x9c000);
	for (i = 0; i < count; i++)
		put_bytes(0x9c000 + i * 0x80, MDB_MBFT_SIGNATURE, 4);
	/* a valid table after them is not looked at: the bound holds */
	plant_disk(0x9c000 + count * 0x80);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 0, "n = %u", n);
	EXPECT(nmsgs == MDB_MAX_TABLES + 1, "%u messages", nmsgs);
	snprintf(over, sizeof(over), "over %u candidate tables",
		 MDB_MAX_TABLES);
	for (i = 0; i <= MDB_MAX_TABLES; i++) {
		snprintf(prefix, sizeof(prefix), "mBFT at 0x%x: ",
			 0x9c000 + i * 0x80);
		REQUIRE(msg_is(__LINE__, i, prefix,
			       i < MDB_MAX_TABLES ? "implausible table length" :
			       over));
	}
}

/* A table past MDB_MAX_TABLES also reached by a hook is reported once. */
static void test_over_max_tables_reported_once(void)
{
	const u32 last = 0x9c000 + MDB_MAX_TABLES * 0x80;
	unsigned int i, n, about_last = 0;
	char prefix[40];

	env_setup(0x9c000);
	for (i = 0; i < MDB_MAX_TABLES; i++)
		put_bytes(0x9c000 + i * 0x80, MDB_MBFT_SIGNATURE, 4);
	plant_disk(last);
	plant_memdisk_hook(H0, last, BIOS_INT13);
	env_w.int13_vector = far_ptr(H0);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 0, "n = %u", n);
	snprintf(prefix, sizeof(prefix), "mBFT at 0x%x: ", last);
	for (i = 0; i < nmsgs && i < MAX_MSGS; i++)
		if (!strncmp(msgs[i], prefix, strlen(prefix)))
			about_last++;
	EXPECT(about_last == 1,
	       "the table at %#x was reported %u times (%u messages in all)",
	       last, about_last, nmsgs);
}

/* "mBFT" at every 16 bytes of a 576 KiB window: bounded, no crash. */
static void test_signatures_everywhere(void)
{
	const u32 base = MDB_SCAN_FLOOR;
	unsigned int n;
	u32 a;

	env_setup(base);
	for (a = base; a < MDB_LOWMEM_END; a += 16)
		put_bytes(a, MDB_MBFT_SIGNATURE, 4);
	env_w.int13_vector = far_ptr(0x50000);
	plant_hook(0x50000, MDB_HOOK_VENDOR, far_ptr(0x50000), 0x60000);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 0, "n = %u", n);
	EXPECT(!bad_msg, "a message was not NUL-terminated");
	EXPECT(nmsgs > 0, "no message");
	EXPECT(nmsgs <= MDB_MAX_TABLES + 2, "%u messages: the log is flooded", nmsgs);
}

/* ---- command line ------------------------------------------------------ */

/* A normal command line is copied as it is. */
static void test_cmdline_copied(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	plant_cmdline(T0, 0x9f801, "initrd=x.iso iso raw ro");
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 1, "n = %u", n);
	EXPECT(!strcmp(out[0].cmdline, "initrd=x.iso iso raw ro"),
	       "cmdline \"%s\"", out[0].cmdline);
}

/* Control and 8-bit bytes become '?'. */
static void test_cmdline_nonprintable(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	plant_cmdline(T0, C0, "a\tb\x1b[31m\x7f\x80\xff~ z");
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 1, "n = %u", n);
	EXPECT(!strcmp(out[0].cmdline, "a?b?[31m???~ z"),
	       "cmdline \"%s\"", out[0].cmdline);
}

/* A command line with no NUL before 0xA0000 stops at the window's end. */
static void test_cmdline_to_window_end(void)
{
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	put_bytes(MDB_LOWMEM_END - 5, "abcde", 5);
	patch32(T0, MBFT(mdi.cmdline), far_ptr(MDB_LOWMEM_END - 5));
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 1, "n = %u", n);
	EXPECT(!strcmp(out[0].cmdline, "abcde"), "cmdline \"%s\"",
	       out[0].cmdline);
}

/* Command-line pointers outside the window give an empty string. */
static void test_cmdline_outside_window(void)
{
	static const u32 ptr[] = {
		0, 0x10000000u, 0xffffffffu, 0xa0000000u,
		0x9e000000u,	/* 9e00:0000, below the window */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ptr); i++) {
		unsigned int n;

		env_setup(QEMU_BASE);
		plant_disk(T0);
		patch32(T0, MBFT(mdi.cmdline), ptr[i]);
		n = find(MDB_MAX_IMAGES);
		EXPECT(n == 1, "n = %u", n);
		EXPECT(out[0].cmdline[0] == '\0', "pointer %#x: cmdline \"%s\"",
		       ptr[i], out[0].cmdline);
	}
}

/* A command line longer than MDB_CMDLINE_MAX - 1 is cut and terminated. */
static void test_cmdline_too_long(void)
{
	char s[MDB_CMDLINE_MAX + 100];
	unsigned int n;

	env_setup(QEMU_BASE);
	plant_disk(T0);
	memset(s, 'A', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	plant_cmdline(T0, 0x9f400, s);
	n = find(MDB_MAX_IMAGES);
	EXPECT(n == 1, "n = %u", n);
	EXPECT(memchr(out[0].cmdline, '\0', MDB_CMDLINE_MAX),
	       "cmdline not NUL-terminated");
	EXPECT(strlen(out[0].cmdline) == MDB_CMDLINE_MAX - 1, "length %zu",
	       strlen(out[0].cmdline));
	EXPECT(strspn(out[0].cmdline, "A") == MDB_CMDLINE_MAX - 1,
	       "cmdline altered");
}

/* ---- mdb_scan_start ---------------------------------------------------- */

/* Base memory KiB to scan start: 64 KiB floor, 0xA0000 ceiling. */
static void test_scan_start(void)
{
	static const struct {
		u16 kib;
		u32 start;
	} c[] = {
		{ 0, 0x10000 }, { 63, 0x10000 }, { 64, 0x10000 },
		{ 65, 0x10400 }, { 636, 0x9f000 }, { 639, 0x9fc00 },
		{ 640, 0xa0000 }, { 641, 0xa0000 }, { 0xffff, 0xa0000 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		EXPECT(mdb_scan_start(c[i].kib) == c[i].start,
		       "%u KiB: %#x, expected %#x", c[i].kib,
		       mdb_scan_start(c[i].kib), c[i].start);
}

/* ---- mdb_parse_param --------------------------------------------------- */

/* ADDR,SIZE[,ro]: hex or decimal, K/M/G suffixes, a trailing newline. */
static void test_parse_param_accepts(void)
{
	static const struct {
		const char *s;
		u64 addr, size;
		bool ro;
	} c[] = {
		{ "0x7000000,0x100000", 0x7000000, 0x100000, false },
		{ "117440512,1M,ro", 0x7000000, 0x100000, true },
		{ "0x7000000,16M\n", 0x7000000, 0x1000000, false },
		{ "0X7000000,4k,ro\n", 0x7000000, 0x1000, true },
		{ "0xABCdef,1G", 0xabcdef, 1ull << 30, false },
		{ "0,0", 0, 0, false },
		{ "0xffffffffffffffff,17179869183G", ~0ull,
		  17179869183ull << 30, false },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		u64 addr = 1, size = 1;
		bool ro = !c[i].ro;
		const char *why = mdb_parse_param(c[i].s, &addr, &size, &ro);

		EXPECT(!why, "\"%s\": %s", c[i].s, why);
		EXPECT(addr == c[i].addr && size == c[i].size && ro == c[i].ro,
		       "\"%s\": %#llx,%#llx,%d", c[i].s, addr, size, ro);
	}
}

/* Malformed or overflowing parameters are refused. */
static void test_parse_param_rejects(void)
{
	static const char *const bad[] = {
		"", "0x", "abc", "1,", "1,2,rw", "1,2,ro,",
		"0xfffffffffffffffff,1", "1,99999999999G",
		"18446744073709551616,1", "1,17179869184G", "1", "1,2\n\n",
		"1K,2", " 1,2", "1,2 ", "-1,2", "1,0x", "1,2T", "1,,2",
		"1,2,RO", "1,2,r", "0x7000000;1M",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		u64 addr, size;
		bool ro;

		EXPECT(mdb_parse_param(bad[i], &addr, &size, &ro),
		       "\"%s\" accepted", bad[i]);
	}
}

/* ---- main -------------------------------------------------------------- */

#define CASE(name)	{ #name, test_##name }

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	CASE(valid_table),
	CASE(valid_table_with_hook),
	CASE(unaligned_table_via_hook),
	CASE(empty_window),
	CASE(table_in_mixed_page),
	CASE(bad_signature_via_hook),
	CASE(bad_signature_case_via_hook),
	CASE(length_too_short),
	CASE(length_too_long),
	CASE(length_huge),
	CASE(length_past_window_end),
	CASE(header_past_window_end),
	CASE(signature_at_window_end),
	CASE(mdi_bytes_mismatch),
	CASE(bad_checksum),
	CASE(sector_shift_10),
	CASE(sector_shift_12),
	CASE(table_in_ram),
	CASE(table_tail_in_ram),
	CASE(table_not_in_map),
	CASE(bad_table_reported_once),
	CASE(parse_outside_window),
	CASE(sector_shift_0_means_9),
	CASE(sector_shift_9),
	CASE(sector_shift_11),
	CASE(ro_flag),
	CASE(other_flags_writable),
	CASE(short_mdi_readonly),
	CASE(long_mdi_readonly),
	CASE(patch_area_past_window_end),
	CASE(check_range_direct),
	CASE(check_range_4g_boundary),
	CASE(image_empty),
	CASE(image_overlaps_ram),
	CASE(image_partly_unreserved),
	CASE(image_two_reserved_ranges),
	CASE(image_reserved_with_hole),
	CASE(image_below_1m),
	CASE(image_past_4g),
	CASE(image_huge_iso),
	CASE(map_thousands),
	CASE(map_thousands_hole),
	CASE(map_thousands_ram_page),
	CASE(two_instances),
	CASE(two_instances_overlap),
	CASE(chain_inner_zeroed),
	CASE(vector_at_zeros),
	CASE(vector_outside_window),
	CASE(hook_past_window_end),
	CASE(chain_loops),
	CASE(chain_self_loop),
	CASE(chain_loops_aliased),
	CASE(hook_mbft_outside_window),
	CASE(hook_mbft_garbage),
	CASE(other_vendor_hook),
	CASE(chain_too_long),
	CASE(chain_max_hops_followed),
	CASE(chain_exactly_max_hops),
	CASE(too_many_images),
	CASE(small_max),
	CASE(too_many_tables),
	CASE(over_max_tables_reported_once),
	CASE(signatures_everywhere),
	CASE(cmdline_copied),
	CASE(cmdline_nonprintable),
	CASE(cmdline_to_window_end),
	CASE(cmdline_outside_window),
	CASE(cmdline_too_long),
	CASE(scan_start),
	CASE(parse_param_accepts),
	CASE(parse_param_rejects),
	CASE(g4d_bios),
	CASE(g4d_slots),
	CASE(g4d_readonly),
	CASE(g4d_cd_odd_size),
	CASE(g4d_stale_copy),
	CASE(g4d_vector_mismatch),
	CASE(g4d_in_ram),
	CASE(g4d_chained_after_memdisk),
	CASE(g4d_same_image_as_memdisk),
	CASE(g4d_slot_refusals),
	CASE(g4d_efi_page),
	CASE(g4d_efi_boot_services),
	CASE(g4d_efi_page_in_ram),
	CASE(g4d_efi_signature_elsewhere),
	CASE(ventoy_valid),
	CASE(ventoy_disksize_exact),
	CASE(ventoy_above_4g),
	CASE(ventoy_var_size),
	CASE(ventoy_var_attrs),
	CASE(ventoy_unaligned),
	CASE(ventoy_header_not_reserved),
	CASE(ventoy_guid),
	CASE(ventoy_checksum),
	CASE(ventoy_disksize_mismatch),
	CASE(ventoy_image_range),
};

int main(void)
{
	unsigned int i, passed = 0, failed = 0;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		case_failed = false;
		detail[0] = '\0';
		cases[i].fn();
		if (case_failed) {
			printf("FAIL unit/%s: %s\n", cases[i].name, detail);
			failed++;
		} else {
			printf("PASS unit/%s\n", cases[i].name);
			passed++;
		}
		fflush(stdout);
	}
	free(lowmem);
	free(vt_param);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
