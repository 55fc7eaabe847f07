/* The checks every block request passes before a backend sees it (io/blk.h). */
#include "io/blk.h"

bool blk_range_ok(const struct blk_backend *b, uint64_t sector, uint64_t count)
{
	/* written so that nothing can wrap: count first, then the room left after sector */
	if (count > b->sectors || sector > b->sectors - count)
		return false;
	return count <= (SIZE_MAX >> BLK_SECTOR_SHIFT);
}

int blk_read(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count)
{
	if (!blk_range_ok(b, sector, count))
		return BLK_E_RANGE;
	return count ? b->ops->read(b, sector, buf, count) : BLK_OK;
}

/* A change: in range and allowed */
static int check_change(const struct blk_backend *b, uint64_t sector, uint64_t count)
{
	if (!blk_range_ok(b, sector, count))
		return BLK_E_RANGE;
	return b->read_only ? BLK_E_READONLY : BLK_OK;
}

int blk_write(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count)
{
	int r = check_change(b, sector, count);
	if (r)
		return r;
	return count ? b->ops->write(b, sector, buf, count) : BLK_OK;
}

int blk_flush(struct blk_backend *b)
{
	/* nothing to make durable on a read-only disk, and a guest may flush any disk */
	return b->read_only ? BLK_OK : b->ops->flush(b);
}

int blk_discard(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	if (!b->ops->discard)
		return BLK_E_UNSUPP;
	int r = check_change(b, sector, count);
	if (r)
		return r;
	return count ? b->ops->discard(b, sector, count) : BLK_OK;
}

int blk_write_zeroes(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	if (!b->ops->write_zeroes)
		return BLK_E_UNSUPP;
	int r = check_change(b, sector, count);
	if (r)
		return r;
	return count ? b->ops->write_zeroes(b, sector, count) : BLK_OK;
}

bool blk_can_discard(const struct blk_backend *b)
{
	return b->ops->discard && !b->read_only;
}

bool blk_can_write_zeroes(const struct blk_backend *b)
{
	return b->ops->write_zeroes && !b->read_only;
}

void blk_release(struct blk_backend *b)
{
	if (b && b->release)
		b->release(b);
}

const char *blk_status_name(int status)
{
	switch (status) {
	case BLK_OK:
		return "ok";
	case BLK_E_RANGE:
		return "out of range";
	case BLK_E_READONLY:
		return "read-only";
	case BLK_E_IO:
		return "I/O error";
	case BLK_E_UNSUPP:
		return "unsupported";
	default:
		return "?";
	}
}

bool blk_can_submit(const struct blk_backend *b)
{
	return b->ops->submit != NULL;
}

/* the pieces hold exactly count sectors */
static bool segs_ok(const struct blk_seg *segs, unsigned nr, uint64_t count)
{
	uint64_t bytes = 0;

	if (nr == 0 || nr > BLK_MAX_SEGS)
		return false;
	for (unsigned i = 0; i < nr; i++)
		bytes += segs[i].len; /* at most 128 * 4 GiB: no wrap */
	return bytes == count << BLK_SECTOR_SHIFT;
}

int blk_submit(struct blk_backend *b, struct blk_req *r)
{
	int rc = BLK_OK;

	if (!blk_can_submit(b))
		return BLK_E_UNSUPP;
	switch (r->op) {
	case BLK_OP_READ:
		if (!blk_range_ok(b, r->sector, r->count) || !r->count ||
		    !segs_ok(r->segs, r->nr, r->count))
			rc = BLK_E_RANGE;
		break;
	case BLK_OP_WRITE:
		rc = check_change(b, r->sector, r->count);
		if (!rc && (!r->count || !segs_ok(r->segs, r->nr, r->count)))
			rc = BLK_E_RANGE;
		break;
	case BLK_OP_FLUSH:
		if (b->read_only) { /* nothing to make durable, as blk_flush */
			r->done(r, BLK_OK);
			return BLK_OK;
		}
		break;
	case BLK_OP_DISCARD:
		if (!b->ops->discard)
			return BLK_E_UNSUPP;
		rc = check_change(b, r->sector, r->count);
		if (!rc && !r->count) { /* nothing to do, as blk_discard */
			r->done(r, BLK_OK);
			return BLK_OK;
		}
		break;
	default:
		return BLK_E_UNSUPP;
	}
	return rc ? rc : b->ops->submit(b, r);
}
