/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver on older kernels, the way the kernel's backports project
 * does it. memdiskblk.c is written against the newest kernel's interfaces,
 * by their own names; this file supplies those names on kernels that lack
 * them or have them in another form. It is the only place that knows
 * about kernel versions: each part is under a test of LINUX_VERSION_CODE
 * against the release that brought what it supplies, so that on the
 * newest kernel it defines nothing. The kernel patch series (make
 * kernel-patch) leaves it and its #include out.
 *
 * How a name is supplied:
 * - missing: defined as that release defines it, from what the older
 *   kernel has (bvec_kmap_local(), kzalloc_obj(), BLK_FEAT_*);
 * - there with another signature or meaning: a backport_ function of the
 *   new signature calls the old interface, and the name (#undef'd first
 *   where the kernel's is a macro) stands for it (blk_mq_alloc_disk(),
 *   put_disk(), device_add_disk(), blk_mq_alloc_tag_set());
 * - a structure that lacks members the driver sets: the name stands for a
 *   backport_ structure with those members (struct queue_limits);
 * - a callback whose signature changed (->open, 6.5): the driver defines
 *   mdb_open() with the new one. A function-like macro renames only a
 *   name followed by '(', so the driver's definition becomes
 *   memdiskblk_open_disk(), while the name alone, as the ops table uses
 *   it, is an adapter of the old signature that calls it;
 * - a header that moved (<linux/unaligned.h>, 6.12): compat/ holds one of
 *   the new name for kernels without it. Kbuild searches compat/ after
 *   the kernel's own include directories (-idirafter), so a kernel's own
 *   header wins and the file needs no version test.
 *
 * One part is no interface but a capability: release (the driver's
 * CONFIG_MEMORY_HOTPLUG part) needs 5.19's block layer, and before 5.19
 * the driver is built as on a kernel without memory hotplug.
 *
 * An out-of-tree module has to test LINUX_VERSION_CODE, and old kernels'
 * branches must call the APIs those kernels have, so checkpatch's
 * LINUX_VERSION_CODE, CONSTANT_COMPARISON and DEPRECATED_API warnings are
 * ignored for this file alone; so is NEW_TYPEDEFS, as the typedefs here
 * are the kernel's own (blk_features_t, blk_mode_t).
 */
#ifndef MEMDISKBLK_COMPAT_H
#define MEMDISKBLK_COMPAT_H

#include <linux/version.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/slab.h>

/* 5.11 added the kmap_local family; kmap_atomic() nests the same way. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 11, 0)
#define kmap_local_page(page)	kmap_atomic(page)
#define kunmap_local(addr)	kunmap_atomic(addr)
#endif

/* 5.15 added bvec_kmap_local(), defined as here. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 15, 0)
static inline void *bvec_kmap_local(struct bio_vec *bvec)
{
	return kmap_local_page(bvec->bv_page) + bvec->bv_offset;
}
#endif

/*
 * 7.0 added kzalloc_obj(), which takes the object (its type) rather than
 * a size; here in the form the driver uses, without GFP flags
 * (GFP_KERNEL). The stable tree brought it to 6.12 too (Debian's 6.12.117
 * has it): the macro itself is tested as well.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 0, 0) && !defined(kzalloc_obj)
#define kzalloc_obj(obj)	kzalloc(sizeof(obj), GFP_KERNEL)
#endif

/* 5.14 added BLK_MQ_F_NO_SCHED_BY_DEFAULT; before it, no scheduler at all. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 14, 0)
#define BLK_MQ_F_NO_SCHED_BY_DEFAULT	BLK_MQ_F_NO_SCHED
#endif

/*
 * 6.14 merges requests whenever possible and dropped
 * BLK_MQ_F_SHOULD_MERGE; before, only the tag sets with that flag did,
 * which every tag set gets here.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
static inline int backport_blk_mq_alloc_tag_set(struct blk_mq_tag_set *set)
{
	set->flags |= BLK_MQ_F_SHOULD_MERGE;
	return blk_mq_alloc_tag_set(set);
}

#define blk_mq_alloc_tag_set	backport_blk_mq_alloc_tag_set
#endif

/*
 * 6.0 frees a blk-mq disk's queue with the disk; from 5.14 to 5.19
 * blk_cleanup_disk() did both; before 5.14 the queue was cleaned up on
 * its own, after the disk.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 0, 0)
static inline void backport_put_disk(struct gendisk *disk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
	blk_cleanup_disk(disk);
#else
	struct request_queue *q = disk->queue;

	put_disk(disk);
	blk_cleanup_queue(q);
#endif
}

#define put_disk		backport_put_disk
#endif

/* 5.15 made device_add_disk() return an error. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 15, 0)
static inline int backport_device_add_disk(struct device *parent,
					   struct gendisk *disk,
					   const struct attribute_group **groups)
{
	device_add_disk(parent, disk, groups);
	return 0;
}

#define device_add_disk		backport_device_add_disk
#endif

/*
 * 6.11 moved what a queue's flags said of the device into struct
 * queue_limits, as features: BLK_FEAT_IO_STAT was QUEUE_FLAG_IO_STAT,
 * BLK_FEAT_SYNCHRONOUS has no flag before (nothing is set for it), and
 * non-rotational, QUEUE_FLAG_NONROT before, became the default. Its
 * blk_mq_alloc_disk() turns I/O statistics on whatever the limits say.
 * 6.9 passed the limits to blk_mq_alloc_disk() and added
 * queue_limits_start_update() and queue_limits_commit_update(); before,
 * each limit had its setter, and the limits were set on the allocated
 * queue. Before 5.14 there was no blk_mq_alloc_disk(): queue and disk
 * were made apart and joined by hand.
 *
 * struct backport_queue_limits has the members of 6.11's structure that
 * the driver sets; from here on, struct queue_limits names it.
 *
 * Discard: the driver's limit is max_hw_discard_sectors (setting it
 * before 6.9 set max_discard_sectors too); the granularity had no default
 * before 6.8 (the driver sets it); before 5.19 discard also needed
 * QUEUE_FLAG_DISCARD.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
typedef unsigned int __bitwise blk_features_t;

#define BLK_FEAT_IO_STAT	((__force blk_features_t)(1u << 4))
#define BLK_FEAT_SYNCHRONOUS	((__force blk_features_t)(1u << 6))

struct backport_queue_limits {
	blk_features_t features;
	unsigned int max_hw_sectors;
	unsigned int physical_block_size;
	unsigned int logical_block_size;
	unsigned int max_hw_discard_sectors;
	unsigned int max_write_zeroes_sectors;
	unsigned int discard_granularity;
	unsigned short max_segments;
};

/* The limits and features onto a queue, the way its kernel takes them. */
static inline int backport_set_limits(struct request_queue *q,
				      const struct backport_queue_limits *lim)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct queue_limits l = queue_limits_start_update(q);
	int err;

	l.logical_block_size = lim->logical_block_size;
	l.physical_block_size = lim->physical_block_size;
	l.max_hw_sectors = lim->max_hw_sectors;
	l.max_segments = lim->max_segments;
	l.max_hw_discard_sectors = lim->max_hw_discard_sectors;
	l.max_write_zeroes_sectors = lim->max_write_zeroes_sectors;
	l.discard_granularity = lim->discard_granularity;
	err = queue_limits_commit_update(q, &l);
	if (err)
		return err;
#else
	blk_queue_logical_block_size(q, lim->logical_block_size);
	blk_queue_physical_block_size(q, lim->physical_block_size);
	blk_queue_max_hw_sectors(q, lim->max_hw_sectors);
	blk_queue_max_segments(q, lim->max_segments);
	blk_queue_max_discard_sectors(q, lim->max_hw_discard_sectors);
	blk_queue_max_write_zeroes_sectors(q, lim->max_write_zeroes_sectors);
	q->limits.discard_granularity = lim->discard_granularity;
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
	if (lim->max_hw_discard_sectors)
		blk_queue_flag_set(QUEUE_FLAG_DISCARD, q);
	else
		blk_queue_flag_clear(QUEUE_FLAG_DISCARD, q);
#endif
#endif
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	if (lim->features & BLK_FEAT_IO_STAT)
		blk_queue_flag_set(QUEUE_FLAG_IO_STAT, q);
	else
		blk_queue_flag_clear(QUEUE_FLAG_IO_STAT, q);
	return 0;
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 14, 0)
static inline struct gendisk *backport_alloc_mq_disk(struct blk_mq_tag_set *set,
						     void *queuedata)
{
	struct request_queue *q = blk_mq_init_queue(set);
	struct gendisk *disk;

	if (IS_ERR(q))
		return ERR_CAST(q);
	disk = alloc_disk_node(0, set->numa_node);	/* the driver sets minors */
	if (!disk) {
		blk_cleanup_queue(q);
		return ERR_PTR(-ENOMEM);
	}
	q->queuedata = queuedata;
	disk->queue = q;
	return disk;
}
#endif

static inline struct gendisk *
backport_blk_mq_alloc_disk(struct blk_mq_tag_set *set,
			   const struct backport_queue_limits *lim,
			   void *queuedata)
{
	struct backport_queue_limits l = *lim;
	struct gendisk *disk;
	int err;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	disk = blk_mq_alloc_disk(set, NULL, queuedata);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
	disk = blk_mq_alloc_disk(set, queuedata);
#else
	disk = backport_alloc_mq_disk(set, queuedata);
#endif
	if (IS_ERR(disk))
		return disk;
	l.features |= BLK_FEAT_IO_STAT;
	err = backport_set_limits(disk->queue, &l);
	if (err) {
		put_disk(disk);
		return ERR_PTR(err);
	}
	return disk;
}

static inline struct backport_queue_limits
backport_queue_limits_start_update(struct request_queue *q)
{
	const struct queue_limits *l = &q->limits;

	return (struct backport_queue_limits){
		.features = blk_queue_io_stat(q) ? BLK_FEAT_IO_STAT : 0,
		.max_hw_sectors = l->max_hw_sectors,
		.physical_block_size = l->physical_block_size,
		.logical_block_size = l->logical_block_size,
		.max_hw_discard_sectors = l->max_hw_discard_sectors,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.discard_granularity = l->discard_granularity,
		.max_segments = l->max_segments,
	};
}

static inline int
backport_queue_limits_commit_update(struct request_queue *q,
				    struct backport_queue_limits *lim)
{
	return backport_set_limits(q, lim);
}

#undef blk_mq_alloc_disk
#define blk_mq_alloc_disk	backport_blk_mq_alloc_disk
#define queue_limits_start_update	backport_queue_limits_start_update
#define queue_limits_commit_update	backport_queue_limits_commit_update
#define queue_limits		backport_queue_limits
#endif

/*
 * 6.5 passes ->open the disk and a blk_mode_t; before, the block device
 * and an fmode_t. The driver's mdb_open(disk, mode), so called, becomes
 * memdiskblk_open_disk(); mdb_open alone, in the ops table, is this
 * adapter (see the top of this file).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
typedef fmode_t blk_mode_t;

static int memdiskblk_open_disk(struct gendisk *disk, blk_mode_t mode);

static int mdb_open(struct block_device *bdev, fmode_t mode)
{
	return memdiskblk_open_disk(bdev->bd_disk, mode);
}

#define mdb_open(disk, mode)	memdiskblk_open_disk(disk, mode)
#endif

/*
 * Release (the driver's CONFIG_MEMORY_HOTPLUG part) needs, besides memory
 * hotplug, disk_openers() (5.19, when bd_openers became atomic;
 * open_mutex came in 5.14) and blk_mark_disk_dead() (5.18). Before 5.19
 * the driver is built as on a kernel without memory hotplug, and a
 * release is refused.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
#undef CONFIG_MEMORY_HOTPLUG
#endif

#endif /* MEMDISKBLK_COMPAT_H */
