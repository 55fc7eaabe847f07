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

/* blk_submit checked r against the partition: it moves onto the parent's sectors, where
 * blk_submit checks it again */
static int part_submit(struct blk_backend *b, struct blk_req *r)
{
	struct blk_part *p = to_part(b);
	if (r->op != BLK_OP_FLUSH) {
		if (!in_slice(p, r->sector, r->count))
			return BLK_E_RANGE;
		if (r->op != BLK_OP_READ && p->blk.read_only)
			return BLK_E_READONLY;
		r->sector += p->first;
	}
	return blk_submit(p->parent, r);
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
		.submit = blk_can_submit(parent) ? part_submit : NULL,
	};
	p->blk = (struct blk_backend){ .ops = &p->ops,
				       .sectors = count,
				       .read_only = read_only || parent->read_only };
	p->parent = parent;
	p->first = first;
	return BLK_OK;
}
