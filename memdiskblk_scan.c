// SPDX-License-Identifier: GPL-2.0-only
/*
 * Find and validate the images boot loaders leave in memory: MEMDISK's
 * (its mBFT tables and INT 13h safe hooks in low memory), GRUB4DOS's
 * (the drive map in its INT 13h handler or in an EFI page below 640 KiB)
 * and Ventoy's (its EFI variable and the header in front of the image).
 *
 * Pure functions over what the module read and a firmware memory map:
 * no allocation, no locking, no kernel calls. The kernel module includes
 * this file as it is; the userspace unit tests and the fuzzer compile the
 * very same file, so what they prove holds for the module.
 *
 * Everything read here (the mBFT, the safe-hook chain, the INT 13h vector)
 * may have been forged or left half-overwritten by any earlier boot stage,
 * so every length and pointer is checked before it is used. What MEMDISK
 * leaves where, and what survives of it: docs/memdisk-tables.md.
 */

#include "memdiskblk.h"

/* A real-mode far pointer (offset low, segment high) as a physical address. */
static u32 far_to_phys(u32 far)
{
	return (far >> 16) * 16 + (far & 0xffff);
}

/* Is [addr, addr + len) inside the window? Written so nothing overflows. */
static bool in_window(const struct mdb_window *w, u32 addr, u32 len)
{
	return addr >= w->base && len <= w->len && addr - w->base <= w->len - len;
}

static const u8 *at(const struct mdb_window *w, u32 addr)
{
	return w->buf + (addr - w->base);
}

static bool map_touches(const struct mdb_memmap *map, enum mdb_mem_type type,
			u64 start, u64 end)
{
	unsigned int i;

	for (i = 0; i < map->count; i++) {
		const struct mdb_range *r = &map->ranges[i];

		if (r->type == type && r->start < end && start < r->end)
			return true;
	}
	return false;
}

/* Is [start, end) covered by the union of the ranges of @type? */
static bool map_covers(const struct mdb_memmap *map, enum mdb_mem_type type,
		       u64 start, u64 end)
{
	u64 pos = start;
	unsigned int pass, i;

	/* Each pass moves pos past one more range, so count passes suffice. */
	for (pass = 0; pass <= map->count && pos < end; pass++) {
		u64 next = pos;

		for (i = 0; i < map->count; i++) {
			const struct mdb_range *r = &map->ranges[i];

			if (r->type == type && r->start <= pos && r->end > next)
				next = r->end;
		}
		if (next == pos)
			return false;
		pos = next;
	}
	return pos >= end;
}

u32 mdb_scan_start(u16 basemem_kib)
{
	u32 start = (u32)basemem_kib * 1024;

	if (start < MDB_SCAN_FLOOR)
		start = MDB_SCAN_FLOOR;
	if (start > MDB_LOWMEM_END)
		start = MDB_LOWMEM_END;
	return start;
}

/* Does [start, start + len) lie in reserved memory and touch no RAM? */
static bool map_reserved(const struct mdb_memmap *map, u64 start, u64 len)
{
	return !map_touches(map, MDB_MEM_RAM, start, start + len) &&
	       map_covers(map, MDB_MEM_RESERVED, start, start + len);
}

/*
 * May [addr, addr + size) become a block device? Returns NULL if so, else
 * the reason. The range must end at or below @limit (MDB_4G for MEMDISK's
 * 32-bit tables, MDB_NO_LIMIT for the others), be firmware-reserved from
 * end to end and touch no System RAM: then it is memory the kernel
 * neither owns nor will hand out.
 */
const char *mdb_check_range(u64 addr, u64 size, u64 limit,
			    const struct mdb_memmap *map)
{
	if (size == 0)
		return "is empty";
	if (size & 511)
		return "size is not a multiple of 512 bytes";
	if (addr < MDB_MIN_IMAGE_ADDR)
		return "starts below 1 MiB";
	if (size > ~0ull - addr)
		return "wraps around";
	if (addr >= limit || size > limit - addr)
		return "does not end below 4 GiB";
	if (map_touches(map, MDB_MEM_RAM, addr, addr + size))
		return "overlaps System RAM";
	if (!map_covers(map, MDB_MEM_RESERVED, addr, addr + size))
		return "is not inside firmware-reserved memory";
	return NULL;
}

/* Copy MEMDISK's NUL-terminated command line, if it lies in the window. */
static void copy_cmdline(const struct mdb_window *w, u32 phys, char *dst)
{
	unsigned int i;

	dst[0] = '\0';
	for (i = 0; i + 1 < MDB_CMDLINE_MAX; i++) {
		u8 c;

		if (!in_window(w, phys + i, 1))	/* phys < 0x110000 */
			break;
		c = *at(w, phys + i);
		if (!c)
			break;
		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		dst[i + 1] = '\0';
	}
}

const char *mdb_parse_mbft(const struct mdb_window *w, u32 table,
			   struct mdb_image *img)
{
	const struct mdb_mbft *t;
	const struct mdb_mdi_patch *patch;
	const u8 *p;
	u32 len, i;
	u16 bytes;
	u8 sum = 0, shift;

	if (!in_window(w, table, sizeof(t->signature)))
		return "table is not in low memory";
	p = at(w, table);
	t = (const struct mdb_mbft *)p;
	if (memcmp(t->signature, MDB_MBFT_SIGNATURE, sizeof(t->signature)))
		return "no mBFT signature";
	if (!in_window(w, table, offsetofend(struct mdb_mbft, mdi.bytes)))
		return "table runs past the end of low memory";
	len = get_unaligned_le32(&t->length);
	if (len < MDB_MBFT_MIN_LEN || len > MDB_MBFT_MAX_LEN)
		return "implausible table length";
	if (!in_window(w, table, len))
		return "table runs past the end of low memory";
	bytes = get_unaligned_le16(&t->mdi.bytes);
	if (bytes + offsetof(struct mdb_mbft, mdi) != len)
		return "MDI size does not match table length";
	for (i = 0; i < len; i++)
		sum += p[i];
	if (sum)
		return "bad checksum";

	shift = 0;
	if (bytes > offsetof(struct mdb_mdi, sector_shift))
		shift = t->mdi.sector_shift;
	if (shift == 0)
		shift = 9;	/* MEMDISKs before El Torito support */
	if (shift != 9 && shift != 11)
		return "unsupported sector size";

	memset(img, 0, sizeof(*img));
	img->table = table;
	img->ver_minor = t->mdi.version_minor;
	img->ver_major = t->mdi.version_major;
	img->addr = get_unaligned_le32(&t->mdi.diskbuf);
	img->size = (u64)get_unaligned_le32(&t->mdi.disksize) << shift;
	img->sector_shift = shift;
	img->driveno = MDB_DRIVE_UNKNOWN;

	/*
	 * The drive number and the "ro" flag sit in MEMDISK's private patch
	 * area right after the MDI. Its layout is known only for the MDI size
	 * of MEMDISK 4.x to 6.x; for anything else we cannot tell whether the
	 * user asked for "ro", so we err on the safe side.
	 */
	if (bytes == sizeof(struct mdb_mdi) &&
	    in_window(w, table + sizeof(*t), sizeof(*patch))) {
		patch = (const struct mdb_mdi_patch *)(t + 1);
		img->driveno = patch->driveno;
		img->configflags = patch->configflags;
		img->readonly = img->configflags & MDB_CONFIG_READONLY;
	} else {
		img->readonly = true;
	}
	if (shift == 11)
		img->readonly = true;	/* CD-ROMs are read-only under MEMDISK */

	copy_cmdline(w, far_to_phys(get_unaligned_le32(&t->mdi.cmdline)),
		     img->cmdline);
	return NULL;
}

struct mdb_find_state {
	const struct mdb_window *w;
	const struct mdb_memmap *map;
	const struct mdb_report *rep;
	struct mdb_image *out;
	unsigned int max;
	unsigned int n;
	u32 seen[MDB_MAX_TABLES];
	unsigned int nseen;
	bool too_many;		/* the table limit was reported */
	u32 g4d[MDB_MAX_HOPS];	/* GRUB4DOS safe hooks, from the chain */
	unsigned int ng4d;
};

static __printf(2, 3)
void refuse(const struct mdb_report *rep, const char *fmt, ...)
{
	char msg[MDB_MSG_MAX];
	va_list ap;

	if (!rep || !rep->refuse)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rep->refuse(rep->ctx, msg);
}

/* Was this table looked at already? If so, note how else it was found. */
static bool seen_before(struct mdb_find_state *s, u32 table, u8 how)
{
	unsigned int i, j;

	for (i = 0; i < s->nseen; i++) {
		if (s->seen[i] != table)
			continue;
		for (j = 0; j < s->n; j++)
			if (s->out[j].table && s->out[j].table == table)
				s->out[j].found |= how;
		return true;
	}
	return false;
}

/* The first of imgs[0..n) that shares a byte with [addr, addr + size). */
const struct mdb_image *mdb_overlap(const struct mdb_image *imgs,
				    unsigned int n, u64 addr, u64 size)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (imgs[i].addr < addr + size && addr < imgs[i].addr + imgs[i].size)
			return &imgs[i];
	return NULL;
}

/* Look at the table at @table once; keep its image if everything checks. */
static void consider(struct mdb_find_state *s, u32 table, u8 how)
{
	struct mdb_image *img;
	const struct mdb_image *other;
	const char *why;
	u32 end;

	if (seen_before(s, table, how))
		return;
	if (s->nseen == MDB_MAX_TABLES) {
		if (!s->too_many)
			refuse(s->rep,
			       "mBFT at 0x%x: over %u candidate tables, this and the rest ignored",
			       table, MDB_MAX_TABLES);
		s->too_many = true;
		return;
	}
	s->seen[s->nseen++] = table;
	if (s->n == s->max) {
		refuse(s->rep, "mBFT at 0x%x: over %u images, ignored",
		       table, s->max);
		return;
	}

	img = &s->out[s->n];
	why = mdb_parse_mbft(s->w, table, img);
	if (why) {
		refuse(s->rep, "mBFT at 0x%x: %s", table, why);
		return;
	}
	/*
	 * MEMDISK reserves its resident code; a table in RAM is not one.
	 * Check all we read: the table and, if read, the patch area after it.
	 */
	end = table + get_unaligned_le32(at(s->w, table) +
					 offsetof(struct mdb_mbft, length));
	if (img->driveno != MDB_DRIVE_UNKNOWN)
		end = table + sizeof(struct mdb_mbft) +
		      sizeof(struct mdb_mdi_patch);
	if (!map_reserved(s->map, table, end - table)) {
		refuse(s->rep, "mBFT at 0x%x: table is not in reserved memory",
		       table);
		return;
	}
	why = mdb_check_range(img->addr, img->size, MDB_4G, s->map);
	if (why) {
		refuse(s->rep, "mBFT at 0x%x: image 0x%llx+0x%llx: %s",
		       table, img->addr, img->size, why);
		return;
	}
	other = mdb_overlap(s->out, s->n, img->addr, img->size);
	if (other) {
		refuse(s->rep,
		       "mBFT at 0x%x: image 0x%llx+0x%llx overlaps the image of mBFT at 0x%x",
		       table, img->addr, img->size, other->table);
		return;
	}
	img->found = how;
	s->n++;
}

static void scan_tables(struct mdb_find_state *s)
{
	const size_t sig = sizeof_field(struct mdb_mbft, signature);
	const struct mdb_window *w = s->w;
	u32 addr = w->base > w->scan_from ? w->base : w->scan_from;

	addr = (addr + 15) & ~15u;

	for (; in_window(w, addr, sig); addr += 16)
		if (!memcmp(at(w, addr), MDB_MBFT_SIGNATURE, sig))
			consider(s, addr, MDB_FOUND_SCAN);
}

static const struct mdb_safe_hook *safe_hook_at(const struct mdb_window *w,
						u32 addr)
{
	const struct mdb_safe_hook *hook;

	if (!in_window(w, addr, sizeof(*hook)))
		return NULL;
	hook = (const struct mdb_safe_hook *)at(w, addr);
	if (memcmp(hook->signature, MDB_HOOK_SIGNATURE, sizeof(hook->signature)))
		return NULL;
	return hook;
}

/*
 * A GRUB4DOS handler in the chain, kept for after the walk: every MEMDISK
 * image is known by then, so one GRUB4DOS also describes is recognised.
 * As the newest hooker (@hop 0) it counts only where GRUB4DOS itself
 * looks for it: at offset MDB_G4D_ENTRY of the segment where base memory
 * ends. A copy left anywhere else, e.g. by a boot that mapped nothing, is
 * not GRUB4DOS's; further down the chain, the hooker above vouches for it.
 */
static void g4d_link(struct mdb_find_state *s, unsigned int hop, u32 far,
		     u32 addr)
{
	u32 want = (u32)s->w->basemem_kib << 22 | MDB_G4D_ENTRY;

	if (hop == 0 && far != want) {
		refuse(s->rep,
		       "GRUB4DOS handler at 0x%x: INT 13h vector %04x:%04x is not base memory's %04x:%04x",
		       addr, far >> 16, far & 0xffff, want >> 16, MDB_G4D_ENTRY);
		return;
	}
	if (s->ng4d < MDB_MAX_HOPS)
		s->g4d[s->ng4d++] = addr;
}

/*
 * Follow the INT 13h safe-hook chain from the interrupt vector. A link that
 * is not a safe hook ends the walk quietly: it may be the BIOS, a hooker
 * that does not follow the convention, or memory that was overwritten.
 */
static void walk_hooks(struct mdb_find_state *s)
{
	u32 visited[MDB_MAX_HOPS];
	u32 far = s->w->int13_vector;
	unsigned int hop, i;

	for (hop = 0; ; hop++) {
		u32 addr = far_to_phys(far);
		const struct mdb_safe_hook *hook = safe_hook_at(s->w, addr);

		if (!hook)
			return;
		if (hop == MDB_MAX_HOPS) {
			refuse(s->rep, "safe hook at 0x%x: chain longer than %u links",
			       addr, MDB_MAX_HOPS);
			return;
		}
		for (i = 0; i < hop; i++) {
			if (visited[i] == addr) {
				refuse(s->rep, "safe hook at 0x%x: chain loops",
				       addr);
				return;
			}
		}
		visited[hop] = addr;
		if (!memcmp(hook->vendor, MDB_HOOK_VENDOR, sizeof(hook->vendor)))
			consider(s, get_unaligned_le32(&hook->mbft),
				 MDB_FOUND_HOOK);
		else if (!memcmp(hook->vendor, MDB_G4D_VENDOR,
				 sizeof(hook->vendor)))
			g4d_link(s, hop, far, addr);
		far = get_unaligned_le32(&hook->prev);
	}
}

/*
 * One RAM drive of a GRUB4DOS map: the image at start_sector * 512, as
 * long as the slot says (GRUB4DOS rounds it up to 4 KiB; hybrid ISOs may
 * have partitions past their ISO 9660 volume, so nothing is trimmed).
 * Anywhere in reserved memory: a1ive's GRUB2 puts images above 4 GiB.
 */
static void g4d_image(struct mdb_find_state *s, u32 table, unsigned int i,
		      const struct mdb_g4d_slot *slot)
{
	u64 start = get_unaligned_le64(&slot->start_sector);
	u64 count = get_unaligned_le64(&slot->sector_count);
	const struct mdb_image *other;
	struct mdb_image *img;
	const char *why;
	u64 addr, size;

	if (start >> 55 || count >> 55) {
		refuse(s->rep,
		       "GRUB4DOS drive map at 0x%x: slot %u: sectors 0x%llx+0x%llx wrap around",
		       table, i, start, count);
		return;
	}
	addr = start << 9;
	size = count << 9;
	why = mdb_check_range(addr, size, MDB_NO_LIMIT, s->map);
	if (why) {
		refuse(s->rep,
		       "GRUB4DOS drive map at 0x%x: slot %u: image 0x%llx+0x%llx %s",
		       table, i, addr, size, why);
		return;
	}
	other = mdb_overlap(s->out, s->n, addr, size);
	if (other && other->addr == addr &&
	    (other->found & (MDB_FOUND_SCAN | MDB_FOUND_HOOK))) {
		/* MEMDISK's image, described by GRUB4DOS too: one device. */
		s->out[other - s->out].found |= MDB_FOUND_GRUB4DOS;
		s->out[other - s->out].g4d_slot = table + i * sizeof(*slot);
		return;
	}
	if (other) {
		refuse(s->rep,
		       "GRUB4DOS drive map at 0x%x: slot %u: image 0x%llx+0x%llx overlaps the image at 0x%llx",
		       table, i, addr, size, other->addr);
		return;
	}
	if (s->n == s->max) {
		refuse(s->rep, "GRUB4DOS drive map at 0x%x: slot %u: over %u images, ignored",
		       table, i, s->max);
		return;
	}

	img = &s->out[s->n++];
	memset(img, 0, sizeof(*img));
	img->addr = addr;
	img->size = size;
	img->sector_shift = 9;
	img->driveno = slot->from_drive;
	img->readonly = (slot->max_sector & MDB_G4D_READONLY) &&
			!(slot->to_sector & MDB_G4D_FAKE_WRITE);
	if (get_unaligned_le16(&slot->to_cylinder) & MDB_G4D_FROM_CD) {
		img->readonly = true;
		if (!(size & 2047))
			img->sector_shift = 11;
	}
	img->found = MDB_FOUND_GRUB4DOS;
	img->g4d_slot = table + i * sizeof(*slot);
}

static bool g4d_slot_empty(const struct mdb_g4d_slot *slot)
{
	const u8 *p = (const u8 *)slot;
	size_t i;

	for (i = 0; i < sizeof(*slot); i++)
		if (p[i])
			return false;
	return true;
}

/*
 * The drive map in front of the GRUB4DOS safe hook at @hook, looked at
 * once. It must lie in reserved memory: a copy in usable RAM is stale.
 */
static void consider_g4d(struct mdb_find_state *s, u32 hook)
{
	const struct mdb_g4d_slot *slot;
	u32 table = hook - MDB_G4D_MAP_OFF;
	u32 len = MDB_G4D_MAP_OFF + sizeof(struct mdb_safe_hook);
	unsigned int i;

	if (seen_before(s, table, 0))
		return;
	if (s->nseen == MDB_MAX_TABLES) {
		refuse(s->rep,
		       "GRUB4DOS drive map at 0x%x: over %u candidate tables, ignored",
		       table, MDB_MAX_TABLES);
		return;
	}
	s->seen[s->nseen++] = table;
	if (!in_window(s->w, table, len)) {
		refuse(s->rep, "GRUB4DOS drive map at 0x%x: not in low memory",
		       table);
		return;
	}
	if (!map_reserved(s->map, table, len)) {
		refuse(s->rep, "GRUB4DOS drive map at 0x%x: not in reserved memory",
		       table);
		return;
	}
	slot = (const struct mdb_g4d_slot *)at(s->w, table);
	for (i = 0; i < MDB_G4D_SLOTS && !g4d_slot_empty(&slot[i]); i++)
		if (slot[i].to_drive == MDB_G4D_RAM)
			g4d_image(s, table, i, &slot[i]);
}

/*
 * GRUB4DOS's drive maps: those of the handlers in the chain, then EFI
 * pages (grub4efi, a1ive's GRUB2) with the signature and vendor at
 * MDB_G4D_MAP_OFF + 3, at or below MDB_G4D_PAGE_LAST.
 */
static void find_g4d(struct mdb_find_state *s)
{
	static const char sig[] = MDB_HOOK_SIGNATURE MDB_G4D_VENDOR;
	const u32 at_sig = MDB_G4D_MAP_OFF +
			   offsetof(struct mdb_safe_hook, signature);
	const struct mdb_window *w = s->w;
	unsigned int i;
	u32 page;

	for (i = 0; i < s->ng4d; i++)
		consider_g4d(s, s->g4d[i]);
	for (page = (w->base + MDB_PAGE_SIZE - 1) & ~(MDB_PAGE_SIZE - 1);
	     page <= MDB_G4D_PAGE_LAST; page += MDB_PAGE_SIZE)
		if (in_window(w, page + at_sig, sizeof(sig) - 1) &&
		    !memcmp(at(w, page + at_sig), sig, sizeof(sig) - 1))
			consider_g4d(s, page + MDB_G4D_MAP_OFF);
}

/*
 * Find every image in low memory: scan the window for mBFT tables, follow
 * the safe-hook chain for any the scan could not see, then read GRUB4DOS's
 * drive maps. Each table is looked at once; each refusal is reported
 * once. Returns the number of images stored in @out, in ascending table
 * order for the scanned ones.
 */
unsigned int mdb_find(const struct mdb_window *w,
		      const struct mdb_memmap *map,
		      struct mdb_image *out, unsigned int max,
		      const struct mdb_report *rep)
{
	struct mdb_find_state s = {
		.w = w, .map = map, .rep = rep, .out = out, .max = max,
	};

	scan_tables(&s);
	walk_hooks(&s);
	find_g4d(&s);
	return s.n;
}

/*
 * Ventoy's VentoyRamDisk variable, as GetVariable() returned it: @len is
 * the variable's size (the first 16 bytes are in @var when it is 16).
 * Accept it only as ventoy_x64.efi sets it, volatile, and only if the
 * chain head it implies sits at the start of a page (Ventoy's GRUB
 * allocates pages and puts the ISO right behind the head) in reserved
 * memory, where nothing the kernel owns can be read as a header. Then
 * *head is the header's address, safe to map.
 */
bool mdb_ventoy_var(const struct mdb_ventoy_var *var, unsigned long len,
		    u32 attrs, const struct mdb_memmap *map, u64 *head,
		    const struct mdb_report *rep)
{
	u64 phys;

	if (len != sizeof(*var)) {
		refuse(rep, "%s variable: %lu bytes, not %zu",
		       MDB_VENTOY_VAR_NAME, len, sizeof(*var));
		return false;
	}
	if (attrs != MDB_VENTOY_VAR_ATTRS) {
		refuse(rep, "%s variable: attributes 0x%x, not 0x%x",
		       MDB_VENTOY_VAR_NAME, attrs, MDB_VENTOY_VAR_ATTRS);
		return false;
	}
	phys = get_unaligned_le64(&var->phys);
	if (phys < MDB_VENTOY_HEAD_LEN ||
	    (phys - MDB_VENTOY_HEAD_LEN) % MDB_PAGE_SIZE) {
		refuse(rep, "Ventoy image at 0x%llx: header at 0x%llx is not page-aligned",
		       phys, phys - MDB_VENTOY_HEAD_LEN);
		return false;
	}
	*head = phys - MDB_VENTOY_HEAD_LEN;
	if (!map_reserved(map, *head, sizeof(struct mdb_ventoy_param))) {
		refuse(rep, "Ventoy image at 0x%llx: header at 0x%llx is not in reserved memory",
		       phys, *head);
		return false;
	}
	return true;
}

/*
 * The header mdb_ventoy_var() located, read: the image is the ISO behind
 * the head, and its size is the one the checksummed header gives. The
 * variable's DiskSize must agree with it, as Ventoy computes it (the
 * head's size subtracted once too often) or as it would once fixed;
 * alone it is never trusted.
 */
bool mdb_ventoy_image(const struct mdb_ventoy_var *var,
		      const struct mdb_ventoy_param *param,
		      const struct mdb_memmap *map, struct mdb_image *img,
		      const struct mdb_report *rep)
{
	u64 phys = get_unaligned_le64(&var->phys);
	u64 disk_size = get_unaligned_le64(&var->disk_size);
	const u8 *p = (const u8 *)param;
	const char *why;
	u64 size;
	u8 sum = 0;
	size_t i;

	if (memcmp(param->guid, MDB_VENTOY_GUID, sizeof(param->guid))) {
		refuse(rep, "Ventoy image at 0x%llx: no Ventoy GUID in its header",
		       phys);
		return false;
	}
	for (i = 0; i < sizeof(*param); i++)
		sum += p[i];
	if (sum) {
		refuse(rep, "Ventoy image at 0x%llx: bad header checksum", phys);
		return false;
	}
	size = get_unaligned_le64(&param->img_size);
	if (disk_size != size - MDB_VENTOY_HEAD_LEN && disk_size != size) {
		refuse(rep,
		       "Ventoy image at 0x%llx: DiskSize %llu does not match the header's image size %llu",
		       phys, disk_size, size);
		return false;
	}
	why = mdb_check_range(phys, size, MDB_NO_LIMIT, map);
	if (why) {
		refuse(rep, "Ventoy image at 0x%llx: image 0x%llx+0x%llx %s",
		       phys, phys, size, why);
		return false;
	}

	memset(img, 0, sizeof(*img));
	img->addr = phys;
	img->size = size;
	img->sector_shift = 11;		/* a CD, as Ventoy's BlockIo */
	img->driveno = MDB_DRIVE_UNKNOWN;
	img->readonly = true;
	img->found = MDB_FOUND_VENTOY;
	img->ventoy_head = phys - MDB_VENTOY_HEAD_LEN;
	return true;
}

/* Parse a number: decimal or 0x hex, with an optional K, M or G suffix. */
static const char *parse_num(const char **sp, u64 *val, bool suffix)
{
	const char *s = *sp;
	unsigned int base = 10, digits = 0;
	u64 v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++, digits++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (~0ull - d) / base)
			return "number too large";
		v = v * base + d;
	}
	if (!digits)
		return "number expected";
	if (suffix) {
		unsigned int shift = 0;

		switch (*s) {
		case 'K': case 'k':
			shift = 10;
			break;
		case 'M': case 'm':
			shift = 20;
			break;
		case 'G': case 'g':
			shift = 30;
			break;
		}
		if (shift) {
			if (v > (~0ull >> shift))
				return "number too large";
			v <<= shift;
			s++;
		}
	}
	*val = v;
	*sp = s;
	return NULL;
}

/* image=ADDR,SIZE[,ro] */
const char *mdb_parse_param(const char *s, u64 *addr, u64 *size, bool *ro)
{
	const char *why;

	*ro = false;
	why = parse_num(&s, addr, false);
	if (why)
		return why;
	if (*s++ != ',')
		return "expected ADDR,SIZE[,ro]";
	why = parse_num(&s, size, true);
	if (why)
		return why;
	if (s[0] == ',' && s[1] == 'r' && s[2] == 'o') {
		*ro = true;
		s += 3;
	}
	if (s[0] == '\n')
		s++;
	if (*s)
		return "expected ADDR,SIZE[,ro]";
	return NULL;
}
