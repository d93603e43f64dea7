/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The only place that knows about kernel versions.
 *
 * Each shim names the release that changed the API, so that the driver
 * reads as if it were written for one kernel. 6.12 moved the unaligned
 * accessors to <linux/unaligned.h>, which compat/ holds for older kernels
 * (Kbuild searches it after the kernel's own include directories).
 * An out-of-tree module has to test LINUX_VERSION_CODE, and old kernels'
 * branches must call the APIs those kernels have, so checkpatch's
 * LINUX_VERSION_CODE, CONSTANT_COMPARISON and DEPRECATED_API warnings are
 * ignored for this file alone.
 */
#ifndef MEMDISKBLK_COMPAT_H
#define MEMDISKBLK_COMPAT_H

#include <linux/version.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>

/* 6.14 merges whenever possible and dropped BLK_MQ_F_SHOULD_MERGE. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
#define MDB_MQ_F_MERGE		BLK_MQ_F_SHOULD_MERGE
#else
#define MDB_MQ_F_MERGE		0
#endif

/* 5.14 added BLK_MQ_F_NO_SCHED_BY_DEFAULT; before it, no scheduler at all. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
#define MDB_MQ_F_NO_SCHED	BLK_MQ_F_NO_SCHED_BY_DEFAULT
#else
#define MDB_MQ_F_NO_SCHED	BLK_MQ_F_NO_SCHED
#endif

/*
 * 7.0 added kzalloc_obj(), which takes the object (its type) rather than
 * a size, and checkpatch asks for it in place of kzalloc(sizeof(...)).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define mdb_kzalloc_obj(obj)	kzalloc_obj(obj)
#else
#define mdb_kzalloc_obj(obj)	kzalloc(sizeof(obj), GFP_KERNEL)
#endif

/* 5.15 added bvec_kmap_local(); before it, kmap_atomic() of the page. */
static inline void *mdb_kmap_bvec(struct bio_vec *bv)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 15, 0)
	return bvec_kmap_local(bv);
#else
	return kmap_atomic(bv->bv_page) + bv->bv_offset;
#endif
}

static inline void mdb_kunmap(void *p)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 15, 0)
	kunmap_local(p);
#else
	kunmap_atomic(p);
#endif
}

/* What the driver wants from its disk and queue, whatever the kernel. */
struct mdb_disk_params {
	unsigned int minors;
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned short max_segments;
	unsigned int max_zero_sectors;	/* discard, write-zeroes; 0: neither */
	bool io_stat;		/* account I/O in /proc/diskstats */
};

/*
 * 6.9 passes struct queue_limits to blk_mq_alloc_disk(); 6.11 moved the
 * queue flags there as features (so the disk says it is synchronous),
 * made non-rotational the default and sets the I/O statistics feature
 * while allocating (so it is cleared after).
 * From 5.14 to 6.8 the limits are set on the allocated queue one by one;
 * before 5.14 there was no blk_mq_alloc_disk(): queue and disk were made
 * apart and joined by hand.
 *
 * Discard: from 6.9 the driver's limit is max_hw_discard_sectors (the
 * block layer derives max_discard_sectors from it and the user's cap);
 * the granularity had no default before 6.8, so it is always set; before
 * 5.19 discard also needed QUEUE_FLAG_DISCARD.
 */
static inline struct gendisk *
mdb_alloc_disk(struct blk_mq_tag_set *set, const struct mdb_disk_params *l,
	       void *queuedata)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct queue_limits lim = {
		.logical_block_size = SECTOR_SIZE,
		.physical_block_size = l->physical_block_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_segments = l->max_segments,
		.max_hw_discard_sectors = l->max_zero_sectors,
		.max_write_zeroes_sectors = l->max_zero_sectors,
		.discard_granularity = l->physical_block_size,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
		/* A request completes in queue_rq, as brd's, pmem's, zram's. */
		.features = BLK_FEAT_SYNCHRONOUS,
#endif
	};
	struct gendisk *disk = blk_mq_alloc_disk(set, &lim, queuedata);

	if (IS_ERR(disk))
		return disk;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	if (!l->io_stat) {
		int err;

		lim = queue_limits_start_update(disk->queue);
		lim.features &= ~BLK_FEAT_IO_STAT;
		err = queue_limits_commit_update(disk->queue, &lim);
		if (err) {
			put_disk(disk);
			return ERR_PTR(err);
		}
	}
#else
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	if (!l->io_stat)
		blk_queue_flag_clear(QUEUE_FLAG_IO_STAT, disk->queue);
#endif
	return disk;
#else
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);

	if (IS_ERR(disk))
		return disk;
#else
	struct request_queue *q = blk_mq_init_queue(set);
	struct gendisk *disk;

	if (IS_ERR(q))
		return ERR_CAST(q);
	disk = alloc_disk(l->minors);
	if (!disk) {
		blk_cleanup_queue(q);
		return ERR_PTR(-ENOMEM);
	}
	q->queuedata = queuedata;
	disk->queue = q;
#endif
	blk_queue_logical_block_size(disk->queue, SECTOR_SIZE);
	blk_queue_physical_block_size(disk->queue, l->physical_block_size);
	blk_queue_max_hw_sectors(disk->queue, l->max_hw_sectors);
	blk_queue_max_segments(disk->queue, l->max_segments);
	blk_queue_max_discard_sectors(disk->queue, l->max_zero_sectors);
	blk_queue_max_write_zeroes_sectors(disk->queue, l->max_zero_sectors);
	disk->queue->limits.discard_granularity = l->physical_block_size;
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
	if (l->max_zero_sectors)
		blk_queue_flag_set(QUEUE_FLAG_DISCARD, disk->queue);
#endif
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	if (!l->io_stat)
		blk_queue_flag_clear(QUEUE_FLAG_IO_STAT, disk->queue);
	return disk;
#endif
}

/* 5.15 made device_add_disk() return an error. */
static inline int mdb_add_disk(struct gendisk *disk,
			       const struct attribute_group **groups)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 15, 0)
	return device_add_disk(NULL, disk, groups);
#else
	device_add_disk(NULL, disk, groups);
	return 0;
#endif
}

/*
 * Drop a disk from mdb_alloc_disk() (after del_gendisk() if it was added):
 * 6.0 frees the queue with the disk; 5.14 to 5.19 had blk_cleanup_disk();
 * before 5.14 the queue was cleaned up on its own.
 */
static inline void mdb_put_disk(struct gendisk *disk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 0, 0)
	put_disk(disk);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
	blk_cleanup_disk(disk);
#else
	struct request_queue *q = disk->queue;

	put_disk(disk);
	blk_cleanup_queue(q);
#endif
}

/*
 * ->open: see mdb_open() in memdiskblk.c, which takes the disk. 6.5 passes
 * the disk and a blk_mode_t; before, the block device and an fmode_t.
 */
static int mdb_open(struct gendisk *disk);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
static inline int mdb_fops_open(struct gendisk *disk, blk_mode_t mode)
{
	return mdb_open(disk);
}
#else
static inline int mdb_fops_open(struct block_device *bdev, fmode_t mode)
{
	return mdb_open(bdev->bd_disk);
}
#endif

/*
 * Release (mdb_release() in memdiskblk.c) needs memory hotplug and, from
 * the block layer, disk_openers() (5.19, when bd_openers became atomic;
 * open_mutex came in 5.14) and blk_mark_disk_dead() (5.18). Without them
 * it is refused.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
#define MDB_CAN_RELEASE		IS_ENABLED(CONFIG_MEMORY_HOTPLUG)

/*
 * Set *releasing unless the disk is open (a partition's opens and mounts
 * count on the whole disk). Under open_mutex, which ->open runs under.
 */
static inline bool mdb_claim_unopened(struct gendisk *disk, bool *releasing)
{
	mutex_lock(&disk->open_mutex);
	if (!disk_openers(disk))
		*releasing = true;
	mutex_unlock(&disk->open_mutex);
	return *releasing;
}

/* No new I/O gets in (it fails); wait for what is in flight. */
static inline void mdb_kill_disk(struct gendisk *disk)
{
	blk_mark_disk_dead(disk);
	blk_mq_freeze_queue_wait(disk->queue);
}
#else
#define MDB_CAN_RELEASE		0

static inline bool mdb_claim_unopened(struct gendisk *disk, bool *releasing)
{
	return false;
}

static inline void mdb_kill_disk(struct gendisk *disk)
{
}
#endif

#endif /* MEMDISKBLK_COMPAT_H */
