/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only place that knows about kernel versions.
 *
 * Each shim names the release that changed the API, so that the driver
 * reads as if it were written for one kernel. An out-of-tree module has
 * to test LINUX_VERSION_CODE, so checkpatch's LINUX_VERSION_CODE and
 * CONSTANT_COMPARISON warnings are ignored for this file alone.
 */
#ifndef MEMDISKBLK_COMPAT_H
#define MEMDISKBLK_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/version.h>

/* 6.14 merges whenever possible and dropped BLK_MQ_F_SHOULD_MERGE. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
#define MDB_MQ_F_MERGE		BLK_MQ_F_SHOULD_MERGE
#else
#define MDB_MQ_F_MERGE		0
#endif

/* What the driver wants from the request queue, whatever the kernel. */
struct mdb_queue_limits {
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned short max_segments;
};

/*
 * 6.9 passes struct queue_limits to blk_mq_alloc_disk(); 6.11 moved the
 * queue flags there as features and made non-rotational the default.
 * Before 6.9 the limits are set on the allocated queue one by one.
 */
static inline struct gendisk *
mdb_alloc_disk(struct blk_mq_tag_set *set, const struct mdb_queue_limits *l,
	       void *queuedata)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct queue_limits lim = {
		.logical_block_size = SECTOR_SIZE,
		.physical_block_size = l->physical_block_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_segments = l->max_segments,
	};
	struct gendisk *disk = blk_mq_alloc_disk(set, &lim, queuedata);

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	if (!IS_ERR(disk))
		blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
#endif
	return disk;
#else
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);

	if (IS_ERR(disk))
		return disk;
	blk_queue_logical_block_size(disk->queue, SECTOR_SIZE);
	blk_queue_physical_block_size(disk->queue, l->physical_block_size);
	blk_queue_max_hw_sectors(disk->queue, l->max_hw_sectors);
	blk_queue_max_segments(disk->queue, l->max_segments);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	return disk;
#endif
}

#endif /* MEMDISKBLK_COMPAT_H */
