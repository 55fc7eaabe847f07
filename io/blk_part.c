/* The partition block backend (io/blk_part.h). Each op re-checks its range against the slice
 * before adding the offset, then goes through the parent's blk_* calls, which check it against
 * the parent once more and refuse changes if the parent is read-only. */
#include "io/blk_part.h"

static struct blk_part *to_part(struct blk_backend *b)
{
	return (struct blk_part *)b;
}

/* [sector, sector + count) inside the slice, written so that nothing wraps; first + sector then
 * cannot wrap either, since first + the slice's size fits the parent. */
static bool in_slice(const struct blk_part *p, uint64_t sector, uint64_t count)
{
	return count <= p->blk.sectors && sector <= p->blk.sectors - count;
}

static int part_read(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count)
{
	struct blk_part *p = to_part(b);
	if (!in_slice(p, sector, count))
		return BLK_E_RANGE;
	return blk_read(p->parent, p->first + sector, buf, count);
}

static int part_write(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count)
{
	struct blk_part *p = to_part(b);
	if (!in_slice(p, sector, count))
		return BLK_E_RANGE;
	if (p->blk.read_only)
		return BLK_E_READONLY;
	return blk_write(p->parent, p->first + sector, buf, count);
}

static int part_flush(struct blk_backend *b)
{
	return blk_flush(to_part(b)->parent);
}

static int part_discard(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	struct blk_part *p = to_part(b);
	if (!in_slice(p, sector, count))
		return BLK_E_RANGE;
	if (p->blk.read_only)
		return BLK_E_READONLY;
	return blk_discard(p->parent, p->first + sector, count);
}

static int part_write_zeroes(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	struct blk_part *p = to_part(b);
	if (!in_slice(p, sector, count))
		return BLK_E_RANGE;
	if (p->blk.read_only)
		return BLK_E_READONLY;
	return blk_write_zeroes(p->parent, p->first + sector, count);
}

static int part_readv(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs,
		      unsigned nr, uint64_t count)
{
	struct blk_part *p = to_part(b);
	if (!in_slice(p, sector, count))
		return BLK_E_RANGE;
	return blk_readv(p->parent, p->first + sector, segs, nr, count);
}

static int part_writev(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs,
		       unsigned nr, uint64_t count)
{
	struct blk_part *p = to_part(b);
	if (!in_slice(p, sector, count))
		return BLK_E_RANGE;
	if (p->blk.read_only)
		return BLK_E_READONLY;
	return blk_writev(p->parent, p->first + sector, segs, nr, count);
}

int blk_part_init(struct blk_part *p, struct blk_backend *parent, uint64_t first, uint64_t count,
		  bool read_only)
{
	if (count == 0 || !blk_range_ok(parent, first, count))
		return BLK_E_RANGE;
	p->ops = (struct blk_ops){
		.read = part_read,
		.write = part_write,
		.flush = part_flush,
		.discard = parent->ops->discard ? part_discard : NULL,
		.write_zeroes = parent->ops->write_zeroes ? part_write_zeroes : NULL,
		.readv = blk_can_vector(parent) ? part_readv : NULL,
		.writev = blk_can_vector(parent) ? part_writev : NULL,
	};
	p->blk = (struct blk_backend){ .ops = &p->ops,
				       .sectors = count,
				       .read_only = read_only || parent->read_only };
	p->parent = parent;
	p->first = first;
	return BLK_OK;
}
