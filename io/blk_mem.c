/* The in-memory block backend (io/blk_mem.h). io/blk.c has checked every range before an op runs.
 * flush has nothing to do: a write is in the image once memcpy returns. discard and write_zeroes
 * both zero the range: a discarded sector reading back zeros is what virtio-blk's write-zeroes
 * promises and what a discard is allowed to do (virtio 1.2, 5.2.6.2), and it frees no memory here
 * because the image is one block of keel's RAM. */
#include "io/blk_mem.h"

#include "lib/kstring.h"

static uint8_t *at(struct blk_backend *b, uint64_t sector)
{
	return ((struct blk_mem *)b)->image + (sector << BLK_SECTOR_SHIFT);
}

static int mem_read(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count)
{
	memcpy(buf, at(b, sector), count << BLK_SECTOR_SHIFT);
	return BLK_OK;
}

static int mem_write(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count)
{
	memcpy(at(b, sector), buf, count << BLK_SECTOR_SHIFT);
	return BLK_OK;
}

static int mem_flush(struct blk_backend *b)
{
	(void)b;
	return BLK_OK;
}

static int mem_zero(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	memset(at(b, sector), 0, count << BLK_SECTOR_SHIFT);
	return BLK_OK;
}

static const struct blk_ops blk_mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.discard = mem_zero,
	.write_zeroes = mem_zero,
};

void blk_mem_init(struct blk_mem *m, void *image, uint64_t bytes, bool read_only)
{
	m->blk = (struct blk_backend){ .ops = &blk_mem_ops,
				       .sectors = bytes >> BLK_SECTOR_SHIFT,
				       .read_only = read_only };
	m->image = image;
}
