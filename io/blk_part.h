/* A block backend that is a slice of another: sectors [first, first + count) of a parent backend,
 * seen as sectors [0, count). keel backs `disk = part:LABEL` with one over the NVMe namespace
 * that holds the GPT partition (io/gpt.h gives first_sector and sectors).
 *
 * io/blk.c checks every request against this backend's capacity before an op runs; the ops check
 * again against the slice and the parent (defence in depth: a request past the partition's end
 * must never reach the parent, where it would land in another partition or the GPT). Read-only if
 * asked or if the parent is; discard and write_zeroes only when the parent has them. */
#ifndef KEEL_IO_BLK_PART_H
#define KEEL_IO_BLK_PART_H

#include "io/blk.h"

struct blk_part {
	struct blk_backend blk; /* first: &p->blk is what device models get */
	struct blk_ops ops;	/* the parent's capabilities decide which ops there are */
	struct blk_backend *parent;
	uint64_t first; /* in 512-byte sectors of the parent */
};

/* BLK_OK, or BLK_E_RANGE (and p unusable) when the slice is empty or not inside the parent. The
 * parent must outlive p; p does not release it. */
int blk_part_init(struct blk_part *p, struct blk_backend *parent, uint64_t first, uint64_t count,
		  bool read_only);

#endif
