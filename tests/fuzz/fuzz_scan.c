/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for memdiskblk_scan.c, compiled from the very file the
 * module includes.
 *
 * Input, little endian:
 *   u16 base memory (KiB): the window's, and through mdb_scan_start()
 *   u32 INT 13h vector (offset low 16 bits, segment high)
 *   u8  number of memory ranges, at most 16 are read, then for each:
 *       u32 start, u32 length, u8 type (bit 0: 0 RAM, 1 reserved)
 *   u8  max images, clamped to MDB_MAX_IMAGES
 *   the rest: low memory ending at 0xA0000 (at most 0x90000 bytes)
 * The first up to 64 bytes, NUL-terminated, also go to mdb_parse_param().
 * The last VT_INPUT bytes also go to Ventoy's two steps, over the same
 * map: struct mdb_ventoy_var, u32 attributes, u32 the variable's size,
 * then the 512-byte header read from where the first step points.
 *
 * The window, the map and the output array are heap copies of their exact
 * size, so AddressSanitizer sees any access past their ends. Invariants
 * that do not hold end the run with __builtin_trap().
 */
#include "../../memdiskblk_scan.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANGES	16u
#define MAX_WINDOW	(MDB_LOWMEM_END - MDB_SCAN_FLOOR)
#define PARAM_MAX	64u
#define VT_INPUT	(sizeof(struct mdb_ventoy_var) + 8 + \
			 sizeof(struct mdb_ventoy_param))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(cond)							\
	do {								\
		if (!(cond))						\
			__builtin_trap();				\
	} while (0)

struct input {
	const uint8_t *p;
	size_t left;
};

static bool take(struct input *in, void *dst, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static bool take8(struct input *in, u8 *v)
{
	return take(in, v, 1);
}

static bool take16(struct input *in, u16 *v)
{
	u8 b[2];

	if (!take(in, b, sizeof(b)))
		return false;
	*v = (u16)(b[0] | b[1] << 8);
	return true;
}

static bool take32(struct input *in, u32 *v)
{
	u8 b[4];

	if (!take(in, b, sizeof(b)))
		return false;
	*v = (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
	return true;
}

/* Every message is one NUL-terminated line shorter than MDB_MSG_MAX. */
static void check_msg(void *ctx, const char *msg)
{
	unsigned int *count = ctx;
	const char *nul = memchr(msg, '\0', MDB_MSG_MAX);

	ASSERT(nul);
	ASSERT(!memchr(msg, '\n', nul - msg));
	ASSERT(!strncmp(msg, "mBFT at ", 8) ||
	       !strncmp(msg, "safe hook at ", 13) ||
	       !strncmp(msg, "GRUB4DOS ", 9) ||
	       !strncmp(msg, "VentoyRamDisk variable: ", 24) ||
	       !strncmp(msg, "Ventoy image at 0x", 18));
	(*count)++;
}

/* image=ADDR,SIZE[,ro], then the range checks on what it parsed. */
static void fuzz_param(const uint8_t *data, size_t size)
{
	static const struct mdb_range reserved = {
		.start = MDB_MIN_IMAGE_ADDR, .end = MDB_4G,
		.type = MDB_MEM_RESERVED,
	};
	const struct mdb_memmap map = { .ranges = &reserved, .count = 1 };
	char s[PARAM_MAX + 1];
	u64 addr, len;
	bool ro;
	size_t n = size < PARAM_MAX ? size : PARAM_MAX;

	memcpy(s, data, n);
	s[n] = '\0';
	if (mdb_parse_param(s, &addr, &len, &ro))
		return;
	ASSERT(s[0] >= '0' && s[0] <= '9');
	if (mdb_check_range(addr, len, MDB_4G, &map))
		return;
	ASSERT(len && !(len & 511));
	ASSERT(addr >= MDB_MIN_IMAGE_ADDR && addr < MDB_4G &&
	       len <= MDB_4G - addr);
}

/*
 * @n bytes, and no more, for ASan to watch; malloc(0) may return NULL, so
 * an empty object gets one byte, which nothing may touch either.
 */
static void *alloc_exact(size_t n)
{
	return malloc(n ? n : 1);
}

/* What every image mdb_find() returns must satisfy. */
static void check_images(const struct mdb_window *w,
			 const struct mdb_memmap *map,
			 const struct mdb_image *img, unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		const struct mdb_image *a = &img[i];

		ASSERT(a->sector_shift == 9 || a->sector_shift == 11);
		ASSERT(!(a->size & ((1ull << a->sector_shift) - 1)));
		ASSERT(a->sector_shift == 9 || a->readonly);
		ASSERT(a->found && !(a->found & ~(MDB_FOUND_SCAN |
						  MDB_FOUND_HOOK |
						  MDB_FOUND_GRUB4DOS)));
		ASSERT(memchr(a->cmdline, '\0', MDB_CMDLINE_MAX));
		if (a->found == MDB_FOUND_GRUB4DOS) {	/* a slot alone */
			ASSERT(!mdb_check_range(a->addr, a->size,
						MDB_NO_LIMIT, map));
			ASSERT(!a->table && a->driveno <= 0xff &&
			       !a->cmdline[0]);
		} else {				/* an mBFT's */
			ASSERT(!mdb_check_range(a->addr, a->size, MDB_4G, map));
			ASSERT(w->len >= MDB_MBFT_MIN_LEN &&
			       a->table >= w->base &&
			       a->table - w->base <= w->len - MDB_MBFT_MIN_LEN);
		}
		for (j = 0; j < i; j++) {
			const struct mdb_image *b = &img[j];

			ASSERT(!a->table || a->table != b->table);
			ASSERT(a->addr + a->size <= b->addr ||
			       b->addr + b->size <= a->addr);
		}
	}
}

/*
 * Ventoy's variable and header from the input's last bytes. An image is
 * accepted only as a read-only CD in reserved memory, behind a head that
 * starts a page in reserved memory, with exactly one message otherwise.
 */
static void fuzz_ventoy(const uint8_t *data, size_t size,
			const struct mdb_memmap *map)
{
	struct mdb_ventoy_param *param;
	struct mdb_ventoy_var *var;
	struct mdb_image *img;
	unsigned int count = 0;
	struct mdb_report rep = { .refuse = check_msg, .ctx = &count };
	u32 attrs, len;
	u64 head = 0;
	bool found;

	if (size < VT_INPUT)
		return;
	data += size - VT_INPUT;
	var = alloc_exact(sizeof(*var));
	param = alloc_exact(sizeof(*param));
	img = alloc_exact(sizeof(*img));
	if (!var || !param || !img)
		goto out;
	memcpy(var, data, sizeof(*var));
	data += sizeof(*var);
	attrs = get_unaligned_le32(data);
	len = get_unaligned_le32(data + 4);
	memcpy(param, data + 8, sizeof(*param));

	found = mdb_ventoy_var(var, len, attrs, map, &head, &rep);
	ASSERT(found == !count);
	if (!found)
		goto out;
	ASSERT(len == sizeof(*var) && attrs == MDB_VENTOY_VAR_ATTRS);
	ASSERT(head % MDB_PAGE_SIZE == 0 &&
	       head + MDB_VENTOY_HEAD_LEN == get_unaligned_le64(&var->phys));
	ASSERT(map_reserved(map, head, sizeof(*param)));
	found = mdb_ventoy_image(var, param, map, img, &rep);
	ASSERT(found == !count && count <= 1);
	if (!found)
		goto out;
	ASSERT(!mdb_check_range(img->addr, img->size, MDB_NO_LIMIT, map));
	ASSERT(img->addr == head + MDB_VENTOY_HEAD_LEN);
	ASSERT(img->size == get_unaligned_le64(&param->img_size));
	ASSERT(img->sector_shift == 11 && img->readonly && !img->table);
	ASSERT(img->found == MDB_FOUND_VENTOY);
out:
	free(img);
	free(param);
	free(var);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .p = data, .left = size };
	struct mdb_range *ranges = NULL;
	struct mdb_image *out = NULL;
	struct mdb_memmap map = { 0 };
	struct mdb_window w = { 0 };
	unsigned int count = 0, i, n;
	struct mdb_report rep = { .refuse = check_msg, .ctx = &count };
	u8 nranges, max;
	u8 *buf = NULL;
	u16 basemem;
	u32 start;
	size_t len;

	fuzz_param(data, size);

	if (!take16(&in, &basemem) || !take32(&in, &w.int13_vector) ||
	    !take8(&in, &nranges))
		return 0;
	start = mdb_scan_start(basemem);
	ASSERT(start >= MDB_SCAN_FLOOR && start <= MDB_LOWMEM_END);

	if (nranges > MAX_RANGES)
		nranges = MAX_RANGES;
	ranges = alloc_exact(sizeof(*ranges) * nranges);
	if (!ranges)
		return 0;
	for (i = 0; i < nranges; i++) {
		u32 rstart, rlen;
		u8 type;

		if (!take32(&in, &rstart) || !take32(&in, &rlen) ||
		    !take8(&in, &type))
			goto out;
		ranges[i] = (struct mdb_range){
			.start = rstart,
			.end = (u64)rstart + rlen,
			.type = type & 1 ? MDB_MEM_RESERVED : MDB_MEM_RAM,
		};
	}
	map.ranges = ranges;
	map.count = nranges;
	fuzz_ventoy(data, size, &map);

	if (!take8(&in, &max))
		goto out;
	if (max > MDB_MAX_IMAGES)
		max = MDB_MAX_IMAGES;

	len = in.left < MAX_WINDOW ? in.left : MAX_WINDOW;
	buf = alloc_exact(len);
	out = alloc_exact(sizeof(*out) * max);
	if (!buf || !out)
		goto out;
	memcpy(buf, in.p, len);
	w.buf = buf;
	w.base = MDB_LOWMEM_END - (u32)len;
	w.len = (u32)len;
	w.basemem_kib = basemem;
	w.scan_from = start;

	n = mdb_find(&w, &map, out, max, &rep);
	ASSERT(n <= max);
	check_images(&w, &map, out, n);
out:
	free(out);
	free(buf);
	free(ranges);
	return 0;
}
