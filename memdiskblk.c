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
MODULE_PARM_DESC(autodetect, "Find MEMDISK images in low memory (default: 1)");

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
		void *p = mdb_kmap_bvec(&bv);
		bool write = req_op(rq) == REQ_OP_WRITE;

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

/*
 * The firmware memory map below 4 GiB: System RAM (the kernel's) and E820
 * "reserved" ranges, where MEMDISK puts both its resident code and the
 * image. Every check of a table or an image against the memory map
 * (memdiskblk_scan.c) reads only what mdb_read_memmap() copies here.
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
			    0, MDB_4G - 1, b, mdb_add_range);
	b->type = MDB_MEM_RESERVED;
	walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM,
			    0, MDB_4G - 1, b, mdb_add_range);
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
		if (e->addr >= MDB_4G || !e->size)
			continue;
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

	w->base = mdb_scan_start(get_unaligned_le16(low + MDB_BDA_BASEMEM));
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

/* Fill @imgs; returns how many images there are, or a negative errno. */
static int mdb_find_images(struct mdb_image *imgs)
{
	static const struct mdb_report report = { .refuse = mdb_refuse };
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
	if (image && n < MDB_MAX_IMAGES)
		n += mdb_param_image(&map, imgs, n);
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

	dev = mdb_kzalloc_obj(*dev);
	if (!dev)
		return -ENOMEM;
	dev->img = *img;
	dev->readonly = img->readonly || readonly;
	snprintf(dev->name, sizeof(dev->name), "memdisk%d", index);
	/* Discard and write-zeroes only where writes are allowed. */
	if (!dev->readonly)
		params.max_zero_sectors = MDB_MAX_ZERO_SECTORS;

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

	err = mdb_add_disk(disk, mdb_attr_groups);
	if (err) {
		pr_warn("%s: cannot add the disk (%pe), refused\n",
			dev->name, ERR_PTR(err));
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
	set->nr_hw_queues = min_t(unsigned int, num_online_cpus(),
				  MDB_MAX_HW_QUEUES);
	set->queue_depth = MDB_QUEUE_DEPTH;
	set->numa_node = NUMA_NO_NODE;
	/* An I/O scheduler would only add a lock in front of a memcpy. */
	set->flags = MDB_MQ_F_MERGE | MDB_MQ_F_NO_SCHED;
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
			pr_info("no MEMDISK image found%s\n",
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

	/* Serve what can be served; fail with the cause if nothing can. */
	for (i = 0; i < n; i++) {
		int ret = mdb_add_dev(&imgs[i], i);

		if (ret)
			err = ret;
	}
	if (list_empty(&mdb_devices))
		goto out_free_tags;
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
