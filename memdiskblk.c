// SPDX-License-Identifier: GPL-2.0
/*
 * memdiskblk - block devices for the disk images syslinux's MEMDISK left
 * in memory.
 *
 * MEMDISK loads a disk image into RAM, marks it reserved in the E820 map
 * and emulates a BIOS disk with it. Once Linux runs, that BIOS disk is
 * gone but the image is still there. This driver finds every image from
 * MEMDISK's own tables, checks it against the firmware memory map, maps it
 * once and serves it as /dev/memdiskN through blk-mq, copying directly
 * between the mapping and the request's pages.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/slab.h>
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
#define MDB_QUEUE_DEPTH		64
#define MDB_MAX_HW_SECTORS	2048	/* 1 MiB requests */
#define MDB_MAX_SEGMENTS	256
#define MDB_MAX_RANGES		128	/* firmware memory map entries */
#define MDB_PIECES		3	/* head, 2 MiB-aligned middle, tail */

static bool autodetect = true;
module_param(autodetect, bool, 0444);
MODULE_PARM_DESC(autodetect, "Find MEMDISK images in low memory (default: 1)");

static char *image;
module_param(image, charp, 0444);
MODULE_PARM_DESC(image, "Serve a firmware-reserved range as a disk: ADDR,SIZE[,ro]");

static bool readonly;
module_param(readonly, bool, 0444);
MODULE_PARM_DESC(readonly, "Make every device read-only (default: 0)");

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
	struct list_head list;
	struct mdb_image img;
	char name[DISK_NAME_LEN];
	bool readonly;
	struct resource *res;	/* our claim in /proc/iomem */
	struct mdb_piece piece[MDB_PIECES];	/* the whole image, in order */
	struct gendisk *disk;
};

static int mdb_major;
static struct blk_mq_tag_set mdb_tag_set;
static LIST_HEAD(mdb_devices);

/* ---- I/O ---------------------------------------------------------------- */

/* Copy between buf and the image at pos; the caller checked the range. */
static void mdb_copy(struct mdb_dev *dev, u64 pos, void *buf, u32 len,
		     bool write)
{
	const struct mdb_piece *pc = dev->piece;

	while (len) {
		void *img;
		u32 n;

		while (pos >= pc->start + pc->len)
			pc++;
		n = min_t(u64, len, pc->start + pc->len - pos);
		img = pc->virt + (pos - pc->start);
		if (write)
			memcpy(img, buf, n);
		else
			memcpy(buf, img, n);
		pos += n;
		buf += n;
		len -= n;
	}
}

static blk_status_t mdb_do_request(struct mdb_dev *dev, struct request *rq)
{
	u64 pos = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	struct req_iterator iter;
	struct bio_vec bv;
	bool write;

	switch (req_op(rq)) {
	case REQ_OP_READ:
		write = false;
		break;
	case REQ_OP_WRITE:
		if (dev->readonly)
			return BLK_STS_IOERR;
		write = true;
		break;
	case REQ_OP_FLUSH:
		return BLK_STS_OK;	/* no volatile cache in front of RAM */
	default:
		return BLK_STS_NOTSUPP;
	}

	/* The block layer checks this too; the mapping must never be overrun. */
	if (pos > dev->img.size || blk_rq_bytes(rq) > dev->img.size - pos) {
		pr_warn_ratelimited("%s: request at byte %llu of %u bytes is past the end\n",
				    dev->name, pos, blk_rq_bytes(rq));
		return BLK_STS_IOERR;
	}

	rq_for_each_segment(bv, rq, iter) {
		void *p = mdb_kmap_bvec(&bv);

		mdb_copy(dev, pos, p, bv.bv_len, write);
		if (!write)
			flush_dcache_page(bv.bv_page);
		mdb_kunmap(p);
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

static const struct block_device_operations mdb_fops = {
	.owner = THIS_MODULE,
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
	static const char * const how[] = { "scan", "hook", "param" };
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

#ifdef MODULE
struct mdb_map_builder {
	struct mdb_range *ranges;
	unsigned int count;
	enum mdb_mem_type type;
};

static int mdb_add_range(struct resource *res, void *arg)
{
	struct mdb_map_builder *b = arg;

	if (b->count == MDB_MAX_RANGES)
		return -E2BIG;
	b->ranges[b->count++] = (struct mdb_range){
		.start = res->start,
		.end = (u64)res->end + 1,
		.type = b->type,
	};
	return 0;
}

/*
 * The firmware memory map below 4 GiB as the kernel registered it in
 * iomem_resource: System RAM (the kernel's) and E820 "reserved" ranges,
 * where MEMDISK puts both its resident code and the image.
 */
static int mdb_read_memmap(struct mdb_range *ranges, struct mdb_memmap *map)
{
	struct mdb_map_builder b = { .ranges = ranges, .type = MDB_MEM_RAM };
	int err;

	err = walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_SYSTEM_RAM,
				  0, MDB_4G - 1, &b, mdb_add_range);
	if (err != -E2BIG) {
		b.type = MDB_MEM_RESERVED;
		err = walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM,
					  0, MDB_4G - 1, &b, mdb_add_range);
	}
	if (err == -E2BIG) {
		pr_warn("firmware memory map has over %u entries, not used\n",
			MDB_MAX_RANGES);
		return -E2BIG;
	}
	map->ranges = ranges;
	map->count = b.count;
	return 0;
}
#else
/*
 * Built in, the driver reads the E820 table itself. x86 puts E820
 * "reserved" ranges above 1 MiB into iomem_resource only from
 * e820__reserve_resources_late(), which the PCI resource survey calls: a
 * kernel without CONFIG_PCI never lists MEMDISK's image there. A module
 * cannot reach e820_table and reads the resource tree instead.
 */
static int mdb_read_memmap(struct mdb_range *ranges, struct mdb_memmap *map)
{
	unsigned int i, n = 0;

	for (i = 0; i < e820_table->nr_entries; i++) {
		const struct e820_entry *e = &e820_table->entries[i];
		enum mdb_mem_type type;

		if (e->type == E820_TYPE_RAM)
			type = MDB_MEM_RAM;
		else if (e->type == E820_TYPE_RESERVED)
			type = MDB_MEM_RESERVED;
		else
			continue;
		if (e->addr >= MDB_4G || !e->size)
			continue;
		if (n == MDB_MAX_RANGES) {
			pr_warn("firmware memory map has over %u entries, not used\n",
				MDB_MAX_RANGES);
			return -E2BIG;
		}
		ranges[n++] = (struct mdb_range){
			.start = e->addr,
			.end = e->addr + min(e->size, MDB_4G - e->addr),
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
 * memremap() warns about and refuses such mixed ranges.
 */
static void mdb_read_window(struct mdb_window *w)
{
	const u8 *low = phys_to_virt(0);

	w->base = mdb_scan_start(rd16(low + MDB_BDA_BASEMEM));
	w->len = MDB_LOWMEM_END - w->base;
	w->buf = low + w->base;
	w->int13_vector = rd32(low + MDB_IVT_INT13);
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
	unsigned int i;
	u64 addr, size;
	bool ro;

	why = mdb_parse_param(image, &addr, &size, &ro);
	if (!why)
		why = mdb_check_range(addr, size, map);
	for (i = 0; !why && i < n; i++)
		if (imgs[i].addr < addr + size && addr < imgs[i].addr + imgs[i].size)
			why = "overlaps a MEMDISK image";
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

static unsigned int mdb_find_images(struct mdb_image *imgs)
{
	static const struct mdb_report report = { .refuse = mdb_refuse };
	struct mdb_range *ranges;
	struct mdb_memmap map;
	struct mdb_window w;
	unsigned int n = 0;

	ranges = kcalloc(MDB_MAX_RANGES, sizeof(*ranges), GFP_KERNEL);
	if (!ranges || mdb_read_memmap(ranges, &map))
		goto out;
	if (autodetect) {
		mdb_read_window(&w);
		n = mdb_find(&w, &map, imgs, MDB_MAX_IMAGES, &report);
	}
	if (image && n < MDB_MAX_IMAGES)
		n += mdb_param_image(&map, imgs, n);
out:
	kfree(ranges);
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

static void mdb_free_dev(struct mdb_dev *dev)
{
	int i;

	if (dev->disk) {
		del_gendisk(dev->disk);
		mdb_put_disk(dev->disk);
	}
	for (i = 0; i < MDB_PIECES; i++)
		if (dev->piece[i].virt)
			memunmap(dev->piece[i].virt);
	if (dev->res)
		release_mem_region(dev->img.addr, dev->img.size);
	kfree(dev);
}

static int mdb_add_dev(const struct mdb_image *img, int index)
{
	struct mdb_disk_params params = {
		.minors = MDB_MINORS,
		.physical_block_size = 1u << img->sector_shift,
		.max_hw_sectors = MDB_MAX_HW_SECTORS,
		.max_segments = MDB_MAX_SEGMENTS,
		/*
		 * No per-request clock reads for /proc/diskstats, as brd and
		 * pmem; "echo 1 > /sys/block/memdiskN/queue/iostats" turns
		 * them on.
		 */
		.io_stat = false,
	};
	struct mdb_dev *dev;
	struct gendisk *disk;
	int err;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->img = *img;
	dev->readonly = img->readonly || readonly;
	snprintf(dev->name, sizeof(dev->name), "memdisk%d", index);

	/* Claim the range: /proc/iomem names us, nobody else maps it. */
	dev->res = request_mem_region(img->addr, img->size, dev->name);
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

	disk = mdb_alloc_disk(&mdb_tag_set, &params, dev);
	if (IS_ERR(disk)) {
		err = PTR_ERR(disk);
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

	err = mdb_add_disk(disk, mdb_attr_groups);
	if (err) {
		mdb_put_disk(disk);
		dev->disk = NULL;
		goto fail;
	}
	list_add_tail(&dev->list, &mdb_devices);
	pr_info("%s: %llu bytes at 0x%llx, %u-byte sectors%s\n", dev->name,
		img->size, img->addr, 1u << img->sector_shift,
		dev->readonly ? ", read-only" : "");
	return 0;

fail:
	mdb_free_dev(dev);
	return err;
}

static void mdb_remove_all(void)
{
	struct mdb_dev *dev, *next;

	list_for_each_entry_safe(dev, next, &mdb_devices, list) {
		list_del(&dev->list);
		mdb_free_dev(dev);
	}
}

static int mdb_init_tag_set(void)
{
	struct blk_mq_tag_set *set = &mdb_tag_set;

	set->ops = &mdb_mq_ops;
	set->nr_hw_queues = num_online_cpus();
	set->queue_depth = MDB_QUEUE_DEPTH;
	set->numa_node = NUMA_NO_NODE;
	/* An I/O scheduler would only add a lock in front of a memcpy. */
	set->flags = MDB_MQ_F_MERGE | MDB_MQ_F_NO_SCHED;
	return blk_mq_alloc_tag_set(set);
}

static int __init mdb_init(void)
{
	struct mdb_image *imgs;
	unsigned int n, i;
	int err;

	imgs = kcalloc(MDB_MAX_IMAGES, sizeof(*imgs), GFP_KERNEL);
	if (!imgs)
		return -ENOMEM;
	n = mdb_find_images(imgs);
	if (!n) {
		pr_info("no MEMDISK image found%s\n",
			autodetect ? "" : " (autodetect=0)");
		err = -ENODEV;
		goto out;
	}

	err = register_blkdev(0, "memdisk");
	if (err < 0)
		goto out;
	mdb_major = err;
	err = mdb_init_tag_set();
	if (err)
		goto out_unregister;

	for (i = 0; i < n; i++)
		mdb_add_dev(&imgs[i], i);
	if (list_empty(&mdb_devices)) {
		err = -ENODEV;
		goto out_free_tags;
	}
	err = 0;
	goto out;

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
	blk_mq_free_tag_set(&mdb_tag_set);
	unregister_blkdev(mdb_major, "memdisk");
}

module_init(mdb_init);
module_exit(mdb_exit);

MODULE_DESCRIPTION("Block devices for MEMDISK images left in memory");
MODULE_LICENSE("GPL");
