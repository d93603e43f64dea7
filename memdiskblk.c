// SPDX-License-Identifier: GPL-2.0-only
/*
 * memdiskblk - block devices for the disk images boot loaders left in
 * memory: syslinux's MEMDISK, GRUB4DOS's map --mem (and grub4efi's and
 * a1ive's GRUB2's), and Ventoy's memdisk mode under UEFI.
 *
 * MEMDISK loads a disk image into RAM, marks it reserved in the E820 map
 * and emulates a BIOS disk with it; GRUB4DOS keeps a drive map, and
 * Ventoy's GRUB an EFI variable, for images in reserved memory. Once Linux runs, that firmware
 * disk is gone but the image is still there. This driver finds every
 * image from the loaders' own tables, checks it against the firmware
 * memory map, maps it once and serves it as /dev/memdiskN through blk-mq,
 * copying directly between the mapping and the request's pages. Once
 * nobody needs a disk any more, "release" hands its memory to the page
 * allocator for good.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/efi.h>
#include <linux/error-injection.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <asm/e820/api.h>

#include "memdiskblk.h"
#include "compat.h"

/*
 * The table scan lives in its own file so that the userspace unit tests
 * and the fuzzer compile exactly the code the module runs. It is included
 * rather than linked so that the module keeps the name of its main file.
 */
#include "memdiskblk_scan.c"

#define MDB_MINORS		16	/* the disk and 15 partitions */
/*
 * The tag set's memory (a queue's requests, tags and context) grows with
 * queues x depth, so both are bounded: beyond MDB_MAX_HW_QUEUES CPUs share
 * queues. A request holds its tag only while queue_rq copies, so a small
 * depth per queue suffices.
 */
#define MDB_MAX_HW_QUEUES	4
#define MDB_QUEUE_DEPTH		32
#define MDB_MAX_HW_SECTORS	2048	/* 1 MiB requests */
#define MDB_MAX_ZERO_SECTORS	2048	/* 1 MiB of memset per request too */
#define MDB_MAX_SEGMENTS	256
#define MDB_PIECES		3	/* head, 2 MiB-aligned middle, tail */

static bool autodetect = true;
module_param(autodetect, bool, 0444);
MODULE_PARM_DESC(autodetect, "Find MEMDISK's, GRUB4DOS's and Ventoy's images (default: 1)");

/*
 * A physical address range: a hardware parameter, so that the kernel
 * refuses it under lockdown (kernel/params.c) and the module is not
 * loaded; autodetected images need no parameter and stay available.
 */
static char *image;
module_param_hw(image, charp, iomem, 0444);
MODULE_PARM_DESC(image, "Serve a firmware-reserved range as a disk: ADDR,SIZE[,ro]");

static bool readonly;
module_param(readonly, bool, 0444);
MODULE_PARM_DESC(readonly, "Make every device read-only (default: 0)");

/*
 * For the project's initramfs scripts, not the driver: with
 * memdiskblk.release=auto on the kernel command line they release every
 * image nobody uses any more at the end of the initramfs (live-boot's
 * toram copied the medium and unmounted it by then). A parameter, so that
 * modprobe takes it from the command line like the others instead of
 * warning about an unknown one, and the scripts read it in sysfs.
 */
static char *release_policy = "never";
module_param_named(release, release_policy, charp, 0444);
MODULE_PARM_DESC(release, "auto: the initramfs releases images nobody uses any more at its end; never (default)");

/*
 * One mapping of part of the image. The image is mapped in up to three
 * pieces so that the middle one, aligned to 2 MiB in physical memory, gets
 * 2 MiB page-table entries: a single mapping of an image that starts off a
 * 2 MiB boundary takes 4 KiB entries throughout (2 MiB of page tables per
 * GiB of image).
 */
struct mdb_piece {
	void *virt;
	u64 start;		/* offset in the image */
	u64 len;
};

/* One /dev/memdiskN: the image and everything made for it. */
struct mdb_dev {
	struct list_head list;	/* on mdb_devices once published */
	struct mdb_image img;
	char name[DISK_NAME_LEN];
	bool readonly;
	struct resource *res;	/* our claim in /proc/iomem */
	const char *res_name;	/* its name, as long as the claim lives */
	bool keep_claim;	/* released: the claim outlives the device */
	struct mdb_piece piece[MDB_PIECES];	/* the whole image, in order */
	struct gendisk *disk;
	bool published;		/* under mdb_lock: on mdb_devices */
	bool releasing;		/* set under the disk's open_mutex */
	struct work_struct remove_work;	/* the released disk's removal */
};

static int mdb_major;
static struct blk_mq_tag_set mdb_tag_set;
/*
 * mdb_lock orders a release against module unload and other releases:
 * it guards mdb_devices, each device's published and mdb_exiting, and a
 * release holds it until its disk's removal is queued on mdb_wq, which
 * unload then drains. It is never held while a disk is added: adding
 * fails by deleting what it created, which waits for a writer of the
 * disk's release attribute, who may be waiting for this lock.
 */
static DEFINE_MUTEX(mdb_lock);
static LIST_HEAD(mdb_devices);
static bool mdb_exiting;
static struct workqueue_struct *mdb_wq;

/* ---- I/O ---------------------------------------------------------------- */

/* Where byte @pos of the image is mapped, and how many follow it there. */
static void *mdb_addr(const struct mdb_dev *dev, u64 pos, u64 *avail)
{
	const struct mdb_piece *pc = dev->piece;

	while (pos >= pc->start + pc->len)
		pc++;
	*avail = pc->start + pc->len - pos;
	return pc->virt + (pos - pc->start);
}

/* Copy between buf and the image at pos; the caller checked the range. */
static void mdb_copy(struct mdb_dev *dev, u64 pos, void *buf, u32 len,
		     bool write)
{
	while (len) {
		u64 avail;
		void *img = mdb_addr(dev, pos, &avail);
		u32 n = min_t(u64, len, avail);

		if (write)
			memcpy(img, buf, n);
		else
			memcpy(buf, img, n);
		pos += n;
		buf += n;
		len -= n;
	}
}

/* Zero the image from pos on; the caller checked the range. */
static void mdb_zero(struct mdb_dev *dev, u64 pos, u32 len)
{
	while (len) {
		u64 avail;
		void *img = mdb_addr(dev, pos, &avail);
		u32 n = min_t(u64, len, avail);

		memset(img, 0, n);
		pos += n;
		len -= n;
	}
}

static blk_status_t mdb_do_request(struct mdb_dev *dev, struct request *rq)
{
	u64 pos = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	u32 len = blk_rq_bytes(rq);
	struct req_iterator iter;
	struct bio_vec bv;

	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		return BLK_STS_OK;	/* no volatile cache in front of RAM */
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	/* The block layer's read-only flag can be cleared by root; ours not. */
	if (dev->readonly && op_is_write(req_op(rq)))
		return BLK_STS_IOERR;
	/* The block layer checks this too; the mapping must never be overrun. */
	if (pos > dev->img.size || len > dev->img.size - pos) {
		pr_warn_ratelimited("%s: request at byte %llu of %u bytes is past the end\n",
				    dev->name, pos, len);
		return BLK_STS_IOERR;
	}

	/*
	 * Discard zeroes its range as write-zeroes does: RAM has nothing to
	 * give back, and zeroes are what a discarded page of brd reads back.
	 */
	if (req_op(rq) == REQ_OP_DISCARD || req_op(rq) == REQ_OP_WRITE_ZEROES) {
		mdb_zero(dev, pos, len);
		return BLK_STS_OK;
	}
	rq_for_each_segment(bv, rq, iter) {
		void *p = bvec_kmap_local(&bv);
		bool write = req_op(rq) == REQ_OP_WRITE;

		mdb_copy(dev, pos, p, bv.bv_len, write);
		if (!write)
			flush_dcache_page(bv.bv_page);
		kunmap_local(p);
		pos += bv.bv_len;
	}
	return BLK_STS_OK;
}

/* Synchronous: the copy is the whole job, so no worker and no shared lock. */
static blk_status_t mdb_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;

	blk_mq_start_request(rq);
	blk_mq_end_request(rq, mdb_do_request(hctx->queue->queuedata, rq));
	return BLK_STS_OK;
}

static const struct blk_mq_ops mdb_mq_ops = {
	.queue_rq = mdb_queue_rq,
};

/*
 * Called with the disk's open_mutex held, as mdb_release() checks and
 * sets releasing: a disk is either open or on its way out, never both.
 */
static int mdb_open(struct gendisk *disk, blk_mode_t mode)
{
	struct mdb_dev *dev = disk->private_data;

	return dev->releasing ? -ENXIO : 0;
}

static const struct block_device_operations mdb_fops = {
	.owner = THIS_MODULE,
	.open = mdb_open,
};

/* ---- sysfs: /sys/block/memdiskN/memdisk/ --------------------------------- */

static struct mdb_dev *to_mdb(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

static ssize_t addr_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "0x%llx\n", to_mdb(dev)->img.addr);
}
static DEVICE_ATTR_RO(addr);

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_mdb(dev)->img.size);
}
static DEVICE_ATTR_RO(size);

static ssize_t sector_size_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", 1u << to_mdb(dev)->img.sector_shift);
}
static DEVICE_ATTR_RO(sector_size);

static ssize_t version_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	const struct mdb_image *img = &to_mdb(dev)->img;

	if (!img->table)
		return sysfs_emit(buf, "\n");
	return sysfs_emit(buf, "%u.%02u\n", img->ver_major, img->ver_minor);
}
static DEVICE_ATTR_RO(version);

static ssize_t cmdline_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", to_mdb(dev)->img.cmdline);
}
static DEVICE_ATTR_RO(cmdline);

static ssize_t drive_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	u16 drive = to_mdb(dev)->img.driveno;

	if (drive == MDB_DRIVE_UNKNOWN)
		return sysfs_emit(buf, "\n");
	return sysfs_emit(buf, "%#04x\n", drive);
}
static DEVICE_ATTR_RO(drive);

static ssize_t readonly_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", to_mdb(dev)->readonly);
}
static DEVICE_ATTR_RO(readonly);

static ssize_t mbft_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	u32 table = to_mdb(dev)->img.table;

	if (!table)
		return sysfs_emit(buf, "\n");
	return sysfs_emit(buf, "0x%x\n", table);
}
static DEVICE_ATTR_RO(mbft);

static ssize_t found_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	static const char * const how[] = {
		"scan", "hook", "param", "ventoy", "grub4dos"
	};
	u8 found = to_mdb(dev)->img.found;
	int len = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(how); i++)
		if (found & (1u << i))
			len += sysfs_emit_at(buf, len, "%s%s", len ? "," : "",
					     how[i]);
	return len + sysfs_emit_at(buf, len, "\n");
}
static DEVICE_ATTR_RO(found);

static int mdb_release(struct mdb_dev *dev);

/* echo 1 > release: see mdb_release(). */
static ssize_t release_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	bool yes;
	int err;

	err = kstrtobool(buf, &yes);
	if (err)
		return err;
	if (!yes)
		return -EINVAL;
	err = mdb_release(to_mdb(dev));
	return err ? err : count;
}
static DEVICE_ATTR_WO(release);

static struct attribute *mdb_attrs[] = {
	&dev_attr_addr.attr,
	&dev_attr_size.attr,
	&dev_attr_sector_size.attr,
	&dev_attr_version.attr,
	&dev_attr_cmdline.attr,
	&dev_attr_drive.attr,
	&dev_attr_readonly.attr,
	&dev_attr_mbft.attr,
	&dev_attr_found.attr,
	&dev_attr_release.attr,
	NULL,
};

static const struct attribute_group mdb_attr_group = {
	.name = "memdisk",
	.attrs = mdb_attrs,
};

static const struct attribute_group *mdb_attr_groups[] = {
	&mdb_attr_group,
	NULL,
};

/* ---- finding images ------------------------------------------------------ */

/*
 * The firmware memory map, all of it: System RAM (the kernel's) and E820
 * "reserved" ranges, where MEMDISK puts both its resident code and the
 * image, and where EFI runtime memory (Ventoy's image) ends up. Every
 * check of a table or an image against the memory map (memdiskblk_scan.c)
 * reads only what mdb_read_memmap() copies here.
 */
#ifdef MODULE
/* A module reads the map as the kernel registered it in iomem_resource. */
struct mdb_map_builder {
	struct mdb_range *ranges;
	unsigned int count;	/* ranges seen, even past max */
	unsigned int max;	/* room in ranges */
	enum mdb_mem_type type;
};

static int mdb_add_range(struct resource *res, void *arg)
{
	struct mdb_map_builder *b = arg;

	if (b->count < b->max)
		b->ranges[b->count] = (struct mdb_range){
			.start = res->start,
			.end = (u64)res->end + 1,
			.type = b->type,
		};
	b->count++;
	return 0;
}

static void mdb_walk_memmap(struct mdb_map_builder *b)
{
	b->count = 0;
	b->type = MDB_MEM_RAM;
	walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_SYSTEM_RAM,
			    0, ~(u64)0, b, mdb_add_range);
	b->type = MDB_MEM_RESERVED;
	walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM,
			    0, ~(u64)0, b, mdb_add_range);
}

/*
 * Copy the map into an array of the size the kernel reports: count, then
 * copy. If the resource tree grew in between (memory hotplug), the copy
 * saw more than there was room for: count and copy again.
 */
static int mdb_read_memmap(struct mdb_memmap *map)
{
	struct mdb_map_builder b = { };
	int tries;

	mdb_walk_memmap(&b);
	for (tries = 0; tries < 3; tries++) {
		b.max = b.count;
		b.ranges = kvcalloc(b.max, sizeof(*b.ranges), GFP_KERNEL);
		if (!b.ranges)
			return -ENOMEM;
		mdb_walk_memmap(&b);
		if (b.count <= b.max) {
			map->ranges = b.ranges;
			map->count = b.count;
			return 0;
		}
		kvfree(b.ranges);
	}
	pr_warn("the firmware memory map kept changing while it was read\n");
	return -EAGAIN;
}
#else
/*
 * Built in, the driver reads the E820 table itself. x86 puts E820
 * "reserved" ranges above 1 MiB into iomem_resource only from
 * e820__reserve_resources_late(), which the PCI resource survey calls: a
 * kernel without CONFIG_PCI never lists MEMDISK's image there. A module
 * cannot reach e820_table and reads the resource tree instead.
 */
static int mdb_read_memmap(struct mdb_memmap *map)
{
	struct mdb_range *ranges;
	unsigned int i, n = 0;

	ranges = kvcalloc(e820_table->nr_entries, sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;
	for (i = 0; i < e820_table->nr_entries; i++) {
		const struct e820_entry *e = &e820_table->entries[i];
		enum mdb_mem_type type;

		if (e->type == E820_TYPE_RAM)
			type = MDB_MEM_RAM;
		else if (e->type == E820_TYPE_RESERVED)
			type = MDB_MEM_RESERVED;
		else
			continue;
		if (!e->size || e->size > ~0ull - e->addr)
			continue;
		ranges[n++] = (struct mdb_range){
			.start = e->addr,
			.end = e->addr + e->size,
			.type = type,
		};
	}
	map->ranges = ranges;
	map->count = n;
	return 0;
}
#endif

/*
 * Low memory up to 0xA0000 is read through the kernel's direct map: x86
 * maps the whole ISA range there regardless of holes (init_mem_mapping),
 * as the MP-table scan relies on. memremap() would be wrong here: the page
 * holding MEMDISK's table can be part System RAM, part reserved, and
 * memremap() warns about and refuses such mixed ranges. The window starts
 * at 64 KiB, below where base memory ends: an EFI loader's GRUB4DOS page
 * need not be above it; mBFTs are looked for only from there on, and
 * every table is checked against the memory map before it counts.
 */
static void mdb_read_window(struct mdb_window *w)
{
	const u8 *low = phys_to_virt(0);

	w->basemem_kib = get_unaligned_le16(low + MDB_BDA_BASEMEM);
	w->base = MDB_SCAN_FLOOR;
	w->scan_from = mdb_scan_start(w->basemem_kib);
	w->len = MDB_LOWMEM_END - w->base;
	w->buf = low + w->base;
	w->int13_vector = get_unaligned_le32(low + MDB_IVT_INT13);
}

static void mdb_refuse(void *ctx, const char *msg)
{
	pr_warn("%s, refused\n", msg);
}

static unsigned int mdb_param_image(const struct mdb_memmap *map,
				    struct mdb_image *imgs, unsigned int n)
{
	struct mdb_image *img = &imgs[n];
	const char *why;
	u64 addr, size;
	bool ro;

	why = mdb_parse_param(image, &addr, &size, &ro);
	if (!why)
		why = mdb_check_range(addr, size, MDB_4G, map);
	if (!why && mdb_overlap(imgs, n, addr, size))
		why = "overlaps an autodetected image";
	if (why) {
		pr_warn("image=%s: %s, refused\n", image, why);
		return 0;
	}
	memset(img, 0, sizeof(*img));
	img->addr = addr;
	img->size = size;
	img->sector_shift = SECTOR_SHIFT;
	img->driveno = MDB_DRIVE_UNKNOWN;
	img->readonly = ro;
	img->found = MDB_FOUND_PARAM;
	return 1;
}

#ifdef CONFIG_EFI
/*
 * Ventoy's memdisk mode under UEFI leaves the variable VentoyRamDisk and
 * the ISO, with its header in front, in EfiRuntimeServicesData, which
 * Linux keeps as E820 reserved. The variable is read through the runtime
 * services as any in-kernel user does; its buffers are kmalloc()ed, as
 * mixed-mode EFI (32-bit firmware) cannot reach every kernel address.
 */
struct mdb_ventoy_read {
	efi_char16_t name[sizeof(MDB_VENTOY_VAR_NAME)];
	struct mdb_ventoy_var var;
};

static bool mdb_find_ventoy(const struct mdb_memmap *map,
			    const struct mdb_report *rep,
			    struct mdb_image *img)
{
	efi_guid_t guid = EFI_GUID(0x77772020, 0x2e77, 0x6576, 0x6e, 0x74,
				   0x6f, 0x79, 0x2e, 0x6e, 0x65, 0x74);
	struct mdb_ventoy_param *param;
	struct mdb_ventoy_read *rd;
	unsigned long len;
	efi_status_t status;
	bool found = false;
	u32 attrs;
	u64 head;
	size_t i;

	if (!efi_enabled(EFI_RUNTIME_SERVICES) ||
	    !efi_rt_services_supported(EFI_RT_SUPPORTED_GET_VARIABLE))
		return false;
	rd = kzalloc_obj(*rd);
	if (!rd)
		return false;
	for (i = 0; i < sizeof(MDB_VENTOY_VAR_NAME); i++)
		rd->name[i] = MDB_VENTOY_VAR_NAME[i];
	len = sizeof(rd->var);
	status = efi.get_variable(rd->name, &guid, &attrs, &len, &rd->var);
	if (status == EFI_NOT_FOUND)
		goto out;
	if (status != EFI_SUCCESS && status != EFI_BUFFER_TOO_SMALL) {
		pr_warn("%s variable: cannot be read (EFI status 0x%lx), refused\n",
			MDB_VENTOY_VAR_NAME, status);
		goto out;
	}
	/* Too small: len is the variable's size, which is then refused. */
	if (!mdb_ventoy_var(&rd->var, len, attrs, map, &head, rep))
		goto out;
	param = memremap(head, sizeof(*param), MEMREMAP_WB);
	if (!param) {
		pr_warn("Ventoy image: cannot map its header at 0x%llx, refused\n",
			head);
		goto out;
	}
	found = mdb_ventoy_image(&rd->var, param, map, img, rep);
	memunmap(param);
out:
	kfree(rd);
	return found;
}
#else
static bool mdb_find_ventoy(const struct mdb_memmap *map,
			    const struct mdb_report *rep,
			    struct mdb_image *img)
{
	return false;
}
#endif

/* Fill @imgs; returns how many images there are, or a negative errno. */
static int mdb_find_images(struct mdb_image *imgs)
{
	static const struct mdb_report report = { .refuse = mdb_refuse };
	const struct mdb_image *other;
	struct mdb_memmap map;
	struct mdb_window w;
	unsigned int n = 0;
	int err;

	err = mdb_read_memmap(&map);
	if (err)
		return err;
	if (autodetect) {
		mdb_read_window(&w);
		n = mdb_find(&w, &map, imgs, MDB_MAX_IMAGES, &report);
	}
	if (autodetect && n < MDB_MAX_IMAGES &&
	    mdb_find_ventoy(&map, &report, &imgs[n])) {
		other = mdb_overlap(imgs, n, imgs[n].addr, imgs[n].size);
		if (other)
			pr_warn("Ventoy image at 0x%llx: overlaps the image at 0x%llx, refused\n",
				imgs[n].addr, other->addr);
		else
			n++;
	}
	if (image && n < MDB_MAX_IMAGES)
		n += mdb_param_image(&map, imgs, n);
	else if (image)
		pr_warn("image=%s: ignored, all %u devices serve autodetected images\n",
			image, MDB_MAX_IMAGES);
	kvfree(map.ranges);
	return n;
}

/* ---- devices ------------------------------------------------------------- */

/* Map the image once, in the pieces struct mdb_piece describes. */
static int mdb_map(struct mdb_dev *dev)
{
	u64 addr = dev->img.addr, end = addr + dev->img.size;
	u64 cut[MDB_PIECES + 1] = {
		addr, ALIGN(addr, PMD_SIZE), ALIGN_DOWN(end, PMD_SIZE), end
	};
	int i;

	if (cut[1] > cut[2]) {	/* inside one 2 MiB block: one piece */
		cut[1] = end;
		cut[2] = end;
	}
	for (i = 0; i < MDB_PIECES; i++) {
		struct mdb_piece *pc = &dev->piece[i];

		pc->start = cut[i] - addr;
		pc->len = cut[i + 1] - cut[i];
		if (!pc->len)
			continue;
		pc->virt = memremap(cut[i], pc->len, MEMREMAP_WB);
		if (!pc->virt)
			return -ENOMEM;
	}
	return 0;
}

/* Drop the mapping; a released image's is dropped early. */
static void mdb_unmap(struct mdb_dev *dev)
{
	int i;

	for (i = 0; i < MDB_PIECES; i++) {
		if (dev->piece[i].virt)
			memunmap(dev->piece[i].virt);
		dev->piece[i].virt = NULL;
	}
}

/*
 * The claim goes with the device, unless the device was released: then
 * RAM may sit inside it and the rest stays reserved, claimed under the
 * device's name for as long as the machine runs (as dax/kmem keeps its
 * region), and so does its name.
 */
static void mdb_free_dev(struct mdb_dev *dev)
{
	if (dev->disk) {
		del_gendisk(dev->disk);
		put_disk(dev->disk);
	}
	mdb_unmap(dev);
	if (dev->res && !dev->keep_claim)
		release_mem_region(dev->img.addr, dev->img.size);
	if (!dev->keep_claim)
		kfree(dev->res_name);
	kfree(dev);
}

static void mdb_remove_work(struct work_struct *work)
{
	mdb_free_dev(container_of(work, struct mdb_dev, remove_work));
}

/*
 * The disk and its queue: 512-byte logical blocks (so that partition
 * tables work), the image's sector size as the physical one.
 */
static struct gendisk *mdb_alloc_disk(struct mdb_dev *dev)
{
	unsigned int block = 1u << dev->img.sector_shift;
	struct queue_limits lim = {
		.logical_block_size = SECTOR_SIZE,
		.physical_block_size = block,
		.max_hw_sectors = MDB_MAX_HW_SECTORS,
		.max_segments = MDB_MAX_SEGMENTS,
		.discard_granularity = block,
		/* A request completes in queue_rq, as brd's, pmem's, zram's. */
		.features = BLK_FEAT_SYNCHRONOUS,
	};
	struct gendisk *disk;
	int err;

	/* Discard and write-zeroes only where writes are allowed. */
	if (!dev->readonly) {
		lim.max_hw_discard_sectors = MDB_MAX_ZERO_SECTORS;
		lim.max_write_zeroes_sectors = MDB_MAX_ZERO_SECTORS;
	}
	disk = blk_mq_alloc_disk(&mdb_tag_set, &lim, dev);
	if (IS_ERR(disk))
		return disk;
	/*
	 * blk-mq turns I/O statistics on for every queue. No per-request
	 * clock reads for /proc/diskstats, as brd and pmem; "echo 1 >
	 * /sys/block/memdiskN/queue/iostats" turns them on.
	 */
	lim = queue_limits_start_update(disk->queue);
	lim.features &= ~BLK_FEAT_IO_STAT;
	err = queue_limits_commit_update(disk->queue, &lim);
	if (err) {
		put_disk(disk);
		return ERR_PTR(err);
	}
	return disk;
}

static int mdb_add_dev(const struct mdb_image *img, int index)
{
	struct mdb_dev *dev;
	struct gendisk *disk;
	int err;

	dev = kzalloc_obj(*dev);
	if (!dev)
		return -ENOMEM;
	dev->img = *img;
	dev->readonly = img->readonly || readonly;
	INIT_LIST_HEAD(&dev->list);
	INIT_WORK(&dev->remove_work, mdb_remove_work);
	snprintf(dev->name, sizeof(dev->name), "memdisk%d", index);

	/* Claim the range: /proc/iomem names us, nobody else maps it. */
	dev->res_name = kstrdup(dev->name, GFP_KERNEL);
	if (!dev->res_name) {
		err = -ENOMEM;
		goto fail;
	}
	dev->res = request_mem_region(img->addr, img->size, dev->res_name);
	if (!dev->res) {
		pr_warn("%s: image 0x%llx+0x%llx is in use by another driver, refused\n",
			dev->name, img->addr, img->size);
		err = -EBUSY;
		goto fail;
	}
	err = mdb_map(dev);
	if (err) {
		pr_warn("%s: cannot map image 0x%llx+0x%llx, refused\n",
			dev->name, img->addr, img->size);
		goto fail;
	}

	disk = mdb_alloc_disk(dev);
	if (IS_ERR(disk)) {
		err = PTR_ERR(disk);
		pr_warn("%s: cannot allocate the disk (%pe), refused\n",
			dev->name, disk);
		goto fail;
	}
	dev->disk = disk;
	disk->major = mdb_major;
	disk->first_minor = index * MDB_MINORS;
	disk->minors = MDB_MINORS;
	disk->fops = &mdb_fops;
	disk->private_data = dev;
	strscpy(disk->disk_name, dev->name, sizeof(disk->disk_name));
	set_capacity(disk, img->size >> SECTOR_SHIFT);
	set_disk_ro(disk, dev->readonly);

	err = device_add_disk(NULL, disk, mdb_attr_groups);
	if (err) {
		pr_warn("%s: cannot add the disk (%pe), refused\n",
			dev->name, ERR_PTR(err));
		put_disk(disk);
		dev->disk = NULL;
		goto fail;
	}
	/* Whole: from now on a release may take it, unload removes it. */
	mutex_lock(&mdb_lock);
	list_add_tail(&dev->list, &mdb_devices);
	dev->published = true;
	mutex_unlock(&mdb_lock);
	pr_info("%s: %llu bytes at 0x%llx, %u-byte sectors%s\n", dev->name,
		img->size, img->addr, 1u << img->sector_shift,
		dev->readonly ? ", read-only" : "");
	return 0;

fail:
	mdb_free_dev(dev);
	return err;
}

/*
 * Unload: a release that comes after this finds mdb_exiting and does
 * nothing; one under way has finished (it holds mdb_lock) and queued its
 * disk's removal, which destroying mdb_wq then waits for. Deleting the
 * other disks waits for their sysfs methods, so none runs on after.
 */
static void mdb_remove_all(void)
{
	struct mdb_dev *dev, *next;
	LIST_HEAD(devices);

	mutex_lock(&mdb_lock);
	mdb_exiting = true;
	list_splice_init(&mdb_devices, &devices);
	mutex_unlock(&mdb_lock);
	list_for_each_entry_safe(dev, next, &devices, list) {
		list_del(&dev->list);
		mdb_free_dev(dev);
	}
	destroy_workqueue(mdb_wq);
}

/* ---- release: the image's memory to the page allocator ------------------- */

/*
 * What memory hotplug exports to modules, from 5.19 (where release
 * starts) to 6.12 alike:
 * add_memory_driver_managed(), memory_block_size_bytes(),
 * memory_add_physaddr_to_nid() (0 without NUMA) and pfn_to_online_page().
 * Not exported: walk_memory_blocks(), online_pages() and the memory block
 * devices, so a module cannot online the memory it adds; the kernel's
 * policy or udev does (README). (7.3's __add_memory_driver_managed()
 * takes an online type, but is exported to dax/kmem alone.)
 * MHP_MEMMAP_ON_MEMORY is not used: 6.1 fails the add unless the admin
 * set memory_hotplug.memmap_on_memory, and cannot tell a module whether
 * they did (mhp_supports_memmap_on_memory() is exported from 6.12 on).
 */
/* What a release will add: whole memory blocks [start, end) on node nid. */
struct mdb_plan {
	u64 block;
	u64 start;
	u64 end;
	int nid;
};

/*
 * What a release of an image left the loaders' tables: nothing a later
 * kernel (kexec, no firmware in between) could take for the image, whose
 * memory is now this kernel's RAM. Each table is spoilt the way the scan
 * refuses with its usual line: the mBFT's and Ventoy's header's checksums
 * no longer add up, GRUB4DOS's slot describes an empty image. Low memory
 * is written through the direct map it is read through; Ventoy's header
 * lies in the page before the image, which stays reserved.
 */
static void mdb_spoil_tables(const struct mdb_image *img)
{
	u8 *p;

	if (img->table) {
		p = phys_to_virt(img->table);
		p[offsetof(struct mdb_mbft, checksum)] ^= 0xff;
	}
	if (img->g4d_slot) {
		p = phys_to_virt(img->g4d_slot);
		memset(p + offsetof(struct mdb_g4d_slot, sector_count), 0,
		       sizeof_field(struct mdb_g4d_slot, sector_count));
	}
	if (img->ventoy_head) {
		p = memremap(img->ventoy_head, sizeof(struct mdb_ventoy_param),
			     MEMREMAP_WB);
		if (p) {
			p[offsetof(struct mdb_ventoy_param, checksum)] ^= 0xff;
			memunmap(p);
		}
	}
}

#if IS_ENABLED(CONFIG_MEMORY_HOTPLUG)
/*
 * The name of the returned memory's resource, as add_memory_driver_managed()
 * wants it. The resource keeps this pointer for as long as the machine
 * runs, past the module's unload: allocated once, and freed at unload
 * only if no memory was ever added (dax/kmem keeps its name the same way).
 */
static const char *mdb_ram_name;
static bool mdb_ram_added;

/*
 * Everything that can be known before the point of no return, as
 * dax/kmem checks before it adds memory: the image holds a whole memory
 * block (128 MiB on most x86 machines, up to 2 GiB on large ones), the
 * resource name exists, the node is known. The node is the one firmware
 * (ACPI SRAT) gave the range, where the kernel keeps ranges without RAM,
 * else the one memory hotplug picks.
 */
static int mdb_plan_release(struct mdb_dev *dev, struct mdb_plan *plan)
{
	plan->block = memory_block_size_bytes();
	plan->start = ALIGN(dev->img.addr, plan->block);
	plan->end = ALIGN_DOWN(dev->img.addr + dev->img.size, plan->block);
	if (plan->start >= plan->end) {
		pr_info("%s: not released: the image holds no whole %llu MiB memory block\n",
			dev->name, plan->block >> 20);
		return -ENOSPC;
	}
	if (!mdb_ram_name)
		mdb_ram_name = kstrdup("System RAM (memdiskblk)", GFP_KERNEL);
	if (!mdb_ram_name)
		return -ENOMEM;
	plan->nid = phys_to_target_node(plan->start);
	if (plan->nid == NUMA_NO_NODE)
		plan->nid = memory_add_physaddr_to_nid(plan->start);
	if (plan->nid == NUMA_NO_NODE) {
		pr_warn("%s: not released: no NUMA node for 0x%llx\n",
			dev->name, plan->start);
		return -ENODEV;
	}
	return 0;
}

/*
 * One memory block to the kernel. A function of its own, open to the
 * kernel's fail_function, so that a test can make a release stop half
 * way (tests/e2e/cases/release-faults.py).
 */
static noinline int mdb_add_block(const struct mdb_plan *plan, u64 start)
{
	return add_memory_driver_managed(plan->nid, start, plan->block,
					 mdb_ram_name, MHP_MERGE_RESOURCE);
}
ALLOW_ERROR_INJECTION(mdb_add_block, ERRNO);

/*
 * Hand every whole memory block inside the image to the kernel as
 * driver-managed System RAM, as dax/kmem does: our claim stays, not busy
 * while each block is added (add_memory_driver_managed() requests the
 * block inside it), busy again after, so that what stays reserved (the
 * unaligned head and tail, blocks that failed) stays claimed under the
 * device's name. The added RAM is flagged so that kexec neither treats it
 * as RAM nor places images in it, and /sys/firmware/memmap stays as the
 * firmware made it. One block at a time, merged into one resource: a
 * failure half way (no RAM left for the memmap, a range the kernel
 * refuses) keeps what was added. The memmap (64 bytes a 4 KiB page:
 * 2 MiB a 128 MiB block) comes from the RAM the kernel already has.
 * Whether the blocks go online is the kernel's policy
 * (memhp_default_state, auto_online_blocks) or the udev rule's: a module
 * cannot online memory itself.
 */
static void mdb_give_ram(struct mdb_dev *dev, const struct mdb_plan *plan)
{
	u64 pos = plan->start;
	bool online;
	u64 kept;
	int err = 0;

	dev->keep_claim = true;
	dev->res->flags &= ~IORESOURCE_BUSY;
	while (!err && pos < plan->end) {
		err = mdb_add_block(plan, pos);
		if (!err)
			pos += plan->block;
	}
	dev->res->flags |= IORESOURCE_BUSY;
	if (pos > plan->start)
		mdb_ram_added = true;
	online = pfn_to_online_page(PHYS_PFN(plan->start));

	kept = dev->img.size - (pos - plan->start);
	if (err)
		pr_warn("%s: released: %llu KiB of RAM returned at 0x%llx, %llu KiB stay reserved and claimed (adding 0x%llx failed: %pe)\n",
			dev->name, (pos - plan->start) >> 10, plan->start,
			kept >> 10, pos, ERR_PTR(err));
	else
		pr_info("%s: released: %llu KiB of RAM returned at 0x%llx (%s), %llu KiB stay reserved and claimed (the unaligned head and tail)\n",
			dev->name, (pos - plan->start) >> 10, plan->start,
			online ? "online" : "offline until onlined", kept >> 10);
}

static void mdb_free_ram_name(void)
{
	if (!mdb_ram_added)
		kfree(mdb_ram_name);
}

/*
 * Set *releasing unless the disk is open (a partition's opens and mounts
 * count on the whole disk). Under open_mutex, which ->open runs under.
 */
static bool mdb_claim_unopened(struct gendisk *disk, bool *releasing)
{
	mutex_lock(&disk->open_mutex);
	if (!disk_openers(disk))
		*releasing = true;
	mutex_unlock(&disk->open_mutex);
	return *releasing;
}

/* No new I/O gets in (it fails); wait for what is in flight. */
static void mdb_kill_disk(struct gendisk *disk)
{
	blk_mark_disk_dead(disk);
	blk_mq_freeze_queue_wait(disk->queue);
}
#else
static int mdb_plan_release(struct mdb_dev *dev, struct mdb_plan *plan)
{
	return -EOPNOTSUPP;
}

static void mdb_give_ram(struct mdb_dev *dev, const struct mdb_plan *plan)
{
}

static void mdb_free_ram_name(void)
{
}

static bool mdb_claim_unopened(struct gendisk *disk, bool *releasing)
{
	return false;
}

static void mdb_kill_disk(struct gendisk *disk)
{
}
#endif

/*
 * Give the image's memory to the page allocator, for good: refused while
 * the disk or a partition is open (a mount holds it open), before the
 * disk is whole and published, and when no memory could be returned
 * (mdb_plan_release()); the disk then stays exactly as it was. Otherwise
 * the disk is marked dead (no new I/O gets in), in-flight I/O drains,
 * the mapping goes, the loaders' tables are spoilt, and the memory is
 * added. Deleting the disk would remove this attribute, whose store
 * method is still running, and wait for that method to return: a
 * deadlock. The kernel's helpers for a method removing itself
 * (device_remove_file_self(), sysfs_break_active_protection()) find
 * attributes only directly in the device's directory, not in a group's
 * like memdisk/; so the disk is deleted by a work item, after the method
 * returned, as the memory no longer depends on it.
 */
static int mdb_release(struct mdb_dev *dev)
{
	struct gendisk *disk = dev->disk;
	struct mdb_plan plan;
	int err = 0;

	if (!IS_ENABLED(CONFIG_MEMORY_HOTPLUG)) {
		pr_warn("%s: not released: needs memory hotplug (CONFIG_MEMORY_HOTPLUG) and Linux 5.19 or later\n",
			dev->name);
		return -EOPNOTSUPP;
	}
	mutex_lock(&mdb_lock);
	if (mdb_exiting) {
		err = -ENODEV;
		goto out;
	}
	if (dev->releasing)	/* released already; its disk is going */
		goto out;
	if (!dev->published) {
		pr_info("%s: not released: the disk is still being added\n",
			dev->name);
		err = -EAGAIN;
		goto out;
	}
	err = mdb_plan_release(dev, &plan);
	if (err)
		goto out;
	if (!mdb_claim_unopened(disk, &dev->releasing)) {
		pr_info("%s: not released: in use (open or mounted)\n",
			dev->name);
		err = -EBUSY;
		goto out;
	}
	list_del_init(&dev->list);
	dev->published = false;

	mdb_kill_disk(disk);
	mdb_unmap(dev);
	mdb_spoil_tables(&dev->img);
	mdb_give_ram(dev, &plan);
	queue_work(mdb_wq, &dev->remove_work);
out:
	mutex_unlock(&mdb_lock);
	return err;
}

static int mdb_init_tag_set(void)
{
	struct blk_mq_tag_set *set = &mdb_tag_set;

	set->ops = &mdb_mq_ops;
	set->nr_hw_queues = min_t(unsigned int, num_online_cpus(),
				  MDB_MAX_HW_QUEUES);
	set->queue_depth = MDB_QUEUE_DEPTH;
	set->numa_node = NUMA_NO_NODE;
	/* An I/O scheduler would only add a lock in front of a memcpy. */
	set->flags = BLK_MQ_F_NO_SCHED_BY_DEFAULT;
	return blk_mq_alloc_tag_set(set);
}

static int __init mdb_init(void)
{
	struct mdb_image *imgs;
	int n, i, err;

	imgs = kcalloc(MDB_MAX_IMAGES, sizeof(*imgs), GFP_KERNEL);
	if (!imgs)
		return -ENOMEM;
	n = mdb_find_images(imgs);
	if (n <= 0) {
		if (!n)
			pr_info("no image found%s\n",
				autodetect ? "" : " (autodetect=0)");
		err = n ? n : -ENODEV;
		goto out;
	}

	err = register_blkdev(0, "memdisk");
	if (err < 0) {
		pr_err("cannot register a block major number (%pe)\n",
		       ERR_PTR(err));
		goto out;
	}
	mdb_major = err;
	err = mdb_init_tag_set();
	if (err) {
		pr_err("cannot allocate the tag set (%pe)\n", ERR_PTR(err));
		goto out_unregister;
	}
	mdb_wq = alloc_workqueue("memdiskblk", WQ_UNBOUND, 0);
	if (!mdb_wq) {
		err = -ENOMEM;
		goto out_free_tags;
	}

	/*
	 * Serve what can be served; fail with the cause if nothing can. Each
	 * device is published (and can be released) once it is whole; a
	 * release before that fails. Nothing else runs on mdb_devices before
	 * init returns.
	 */
	for (i = 0; i < n; i++) {
		int ret = mdb_add_dev(&imgs[i], i);

		if (ret)
			err = ret;
	}
	if (list_empty(&mdb_devices))
		goto out_destroy_wq;
	err = 0;
	if (strcmp(release_policy, "auto") && strcmp(release_policy, "never"))
		pr_warn("release=%s: neither auto nor never, taken as never\n",
			release_policy);
	goto out;

out_destroy_wq:
	destroy_workqueue(mdb_wq);
out_free_tags:
	blk_mq_free_tag_set(&mdb_tag_set);
out_unregister:
	unregister_blkdev(mdb_major, "memdisk");
out:
	kfree(imgs);
	return err;
}

static void __exit mdb_exit(void)
{
	mdb_remove_all();
	mdb_free_ram_name();
	blk_mq_free_tag_set(&mdb_tag_set);
	unregister_blkdev(mdb_major, "memdisk");
}

module_init(mdb_init);
module_exit(mdb_exit);

MODULE_DESCRIPTION("Block devices for MEMDISK images left in memory");
MODULE_LICENSE("GPL");
MODULE_VERSION(MEMDISKBLK_VERSION);
