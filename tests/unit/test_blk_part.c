/* The partition block backend (io/blk_part.c) over an in-memory parent: reads and writes land at
 * the slice's offset, the last sector of the slice is reachable and nothing past it is (the
 * parent's sectors on either side never change), read-only from the caller or the parent,
 * discard and write-zeroes only when the parent has them, and a slice that does not fit the
 * parent is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "io/blk_mem.h"
#include "io/blk_part.h"

#define PARENT 32
#define FIRST 8
#define COUNT 4

static uint8_t image[PARENT * 512];
static struct blk_mem mem;
static struct blk_part part;

static void setup_parent(bool read_only)
{
	for (unsigned i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i / 512 + 1);
	blk_mem_init(&mem, image, sizeof(image), read_only);
}

/* every parent sector outside the slice still holds its own number */
static void outside_untouched(void)
{
	for (unsigned i = 0; i < sizeof(image); i++) {
		unsigned s = i / 512;
		if (s < FIRST || s >= FIRST + COUNT)
			assert_int_equal(image[i], s + 1);
	}
}

static void read_write(void **state)
{
	(void)state;
	setup_parent(false);
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, false), BLK_OK);
	struct blk_backend *b = &part.blk;
	assert_int_equal(b->sectors, COUNT);
	assert_false(b->read_only);
	uint8_t buf[2 * 512];
	assert_int_equal(blk_read(b, 0, buf, 2), BLK_OK);
	assert_int_equal(buf[0], FIRST + 1);
	assert_int_equal(buf[1023], FIRST + 2);
	/* the last sector of the slice */
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(blk_write(b, COUNT - 1, buf, 1), BLK_OK);
	assert_int_equal(image[(FIRST + COUNT - 1) * 512], 0xa5);
	assert_int_equal(image[(FIRST + COUNT) * 512 - 1], 0xa5);
	assert_int_equal(blk_read(b, COUNT - 2, buf, 2), BLK_OK);
	assert_int_equal(buf[0], FIRST + COUNT - 1);
	assert_int_equal(buf[512], 0xa5);
	assert_int_equal(blk_flush(b), BLK_OK);
	outside_untouched();
}

static void past_the_end(void **state)
{
	(void)state;
	setup_parent(false);
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, false), BLK_OK);
	struct blk_backend *b = &part.blk;
	uint8_t buf[2 * 512];
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(blk_write(b, COUNT - 1, buf, 2), BLK_E_RANGE);
	assert_int_equal(blk_write(b, COUNT, buf, 1), BLK_E_RANGE);
	assert_int_equal(blk_read(b, COUNT, buf, 1), BLK_E_RANGE);
	assert_int_equal(blk_discard(b, COUNT - 1, 2), BLK_E_RANGE);
	assert_int_equal(blk_write_zeroes(b, 0, COUNT + 1), BLK_E_RANGE);
	assert_int_equal(blk_write(b, UINT64_MAX, buf, 2), BLK_E_RANGE);
	/* straight into the ops, past io/blk.c's checks: the slice's own check still holds */
	assert_int_equal(b->ops->write(b, COUNT - 1, buf, 2), BLK_E_RANGE);
	assert_int_equal(b->ops->write(b, UINT64_MAX - FIRST, buf, 1), BLK_E_RANGE);
	assert_int_equal(b->ops->read(b, COUNT, buf, 1), BLK_E_RANGE);
	assert_int_equal(b->ops->discard(b, 2, UINT64_MAX), BLK_E_RANGE);
	assert_int_equal(b->ops->write_zeroes(b, COUNT, 1), BLK_E_RANGE);
	/* a slice whose size was changed behind its back is still held by the parent's check */
	part.blk.sectors = PARENT;
	assert_int_equal(b->ops->write(b, PARENT - FIRST, buf, 1), BLK_E_RANGE);
	part.blk.sectors = COUNT;
	outside_untouched();
	assert_int_equal(image[FIRST * 512], FIRST + 1);
}

static void read_only(void **state)
{
	(void)state;
	uint8_t buf[512] = { 0 };
	/* asked for */
	setup_parent(false);
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, true), BLK_OK);
	assert_true(part.blk.read_only);
	assert_int_equal(blk_write(&part.blk, 0, buf, 1), BLK_E_READONLY);
	assert_int_equal(blk_write_zeroes(&part.blk, 0, 1), BLK_E_READONLY);
	assert_int_equal(part.blk.ops->write(&part.blk, 0, buf, 1), BLK_E_READONLY);
	assert_int_equal(part.blk.ops->discard(&part.blk, 0, 1), BLK_E_READONLY);
	assert_false(blk_can_discard(&part.blk));
	assert_int_equal(blk_read(&part.blk, 0, buf, 1), BLK_OK);
	assert_int_equal(blk_flush(&part.blk), BLK_OK);
	outside_untouched();
	assert_int_equal(image[FIRST * 512], FIRST + 1);
	/* inherited from the parent */
	setup_parent(true);
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, false), BLK_OK);
	assert_true(part.blk.read_only);
	assert_int_equal(blk_write(&part.blk, 1, buf, 1), BLK_E_READONLY);
	assert_int_equal(image[(FIRST + 1) * 512], FIRST + 2);
}

static void discard_and_zeroes(void **state)
{
	(void)state;
	setup_parent(false);
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, false), BLK_OK);
	assert_true(blk_can_discard(&part.blk));
	assert_true(blk_can_write_zeroes(&part.blk));
	assert_int_equal(blk_discard(&part.blk, 1, 1), BLK_OK);
	assert_int_equal(image[(FIRST + 1) * 512], 0);
	assert_int_equal(blk_write_zeroes(&part.blk, COUNT - 1, 1), BLK_OK);
	assert_int_equal(image[(FIRST + COUNT) * 512 - 1], 0);
	outside_untouched();

	/* a parent without them: neither is offered */
	static struct blk_ops bare;
	bare = *mem.blk.ops;
	bare.discard = NULL;
	bare.write_zeroes = NULL;
	mem.blk.ops = &bare;
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, false), BLK_OK);
	assert_false(blk_can_discard(&part.blk));
	assert_false(blk_can_write_zeroes(&part.blk));
	assert_int_equal(blk_discard(&part.blk, 0, 1), BLK_E_UNSUPP);
	assert_int_equal(blk_write_zeroes(&part.blk, 0, 1), BLK_E_UNSUPP);
}

static void bad_slices(void **state)
{
	(void)state;
	setup_parent(false);
	assert_int_equal(blk_part_init(&part, &mem.blk, 0, 0, false), BLK_E_RANGE);
	assert_int_equal(blk_part_init(&part, &mem.blk, PARENT, 1, false), BLK_E_RANGE);
	assert_int_equal(blk_part_init(&part, &mem.blk, PARENT - 1, 2, false), BLK_E_RANGE);
	assert_int_equal(blk_part_init(&part, &mem.blk, UINT64_MAX, 2, false), BLK_E_RANGE);
	assert_int_equal(blk_part_init(&part, &mem.blk, 1, UINT64_MAX, false), BLK_E_RANGE);
	/* the whole parent is a slice too */
	assert_int_equal(blk_part_init(&part, &mem.blk, 0, PARENT, false), BLK_OK);
	uint8_t buf[512];
	assert_int_equal(blk_read(&part.blk, PARENT - 1, buf, 1), BLK_OK);
	assert_int_equal(buf[0], PARENT);
}

/* A parent that takes asynchronous requests: the slice forwards them at its offset and checks
 * them as the rest; io/blk.c refuses pieces that do not add up, a parent without submit gives
 * UNSUPP. */
static struct blk_ops vec_ops;

static int vec_io(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs, unsigned nr,
		  bool to_disk)
{
	struct blk_mem *m = (struct blk_mem *)b;
	uint64_t at = sector * 512;
	for (unsigned i = 0; i < nr; i++) {
		if (to_disk)
			memcpy(m->image + at, segs[i].va, segs[i].len);
		else
			memcpy(segs[i].va, m->image + at, segs[i].len);
		at += segs[i].len;
	}
	return BLK_OK;
}

/* An asynchronous parent that carries a request out at once and records its outcome */
static int last_status = 99;
static uint64_t last_sector;

static void note_done(struct blk_req *r, int status)
{
	(void)r;
	last_status = status;
}

static int vec_submit(struct blk_backend *b, struct blk_req *r)
{
	last_sector = r->sector;
	int rc = r->op == BLK_OP_READ || r->op == BLK_OP_WRITE
			 ? vec_io(b, r->sector, r->segs, r->nr, r->op == BLK_OP_WRITE)
			 : BLK_OK;
	r->done(r, rc);
	return BLK_OK;
}

static int submit(enum blk_op op, uint64_t sector, struct blk_seg *segs, unsigned nr,
		  uint64_t count)
{
	static struct blk_req r;
	r = (struct blk_req){ .op = op,
			      .sector = sector,
			      .count = count,
			      .segs = segs,
			      .nr = nr,
			      .done = note_done };
	last_status = 99;
	return blk_submit(&part.blk, &r);
}

/* Requests submitted to a slice land in the parent's sectors; past the slice's end, pieces that
 * do not add up, none or too many: refused, nothing moved, done never runs. */
static void asynchronous(void **state)
{
	(void)state;
	static uint8_t a[512], c[1024];
	struct blk_seg segs[2] = { { a, sizeof(a) }, { c, sizeof(c) } };

	setup_parent(false);
	/* without submit in the parent, none in the slice */
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, false), BLK_OK);
	assert_false(blk_can_submit(&part.blk));
	assert_int_equal(submit(BLK_OP_READ, 0, segs, 2, 3), BLK_E_UNSUPP);
	vec_ops = *mem.blk.ops;
	vec_ops.submit = vec_submit;
	mem.blk.ops = &vec_ops;
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, false), BLK_OK);
	assert_true(blk_can_submit(&part.blk));
	assert_int_equal(submit(BLK_OP_READ, 1, segs, 2, 3), BLK_OK);
	assert_int_equal(last_status, BLK_OK);
	assert_int_equal(last_sector, FIRST + 1);
	assert_int_equal(a[0], FIRST + 2);
	assert_int_equal(c[1023], FIRST + 4);
	memset(a, 0xee, sizeof(a));
	memset(c, 0xdd, sizeof(c));
	assert_int_equal(submit(BLK_OP_WRITE, 1, segs, 2, 3), BLK_OK);
	assert_int_equal(image[(FIRST + 1) * 512], 0xee);
	assert_int_equal(image[(FIRST + 3) * 512 + 511], 0xdd);
	assert_int_equal(submit(BLK_OP_FLUSH, 0, NULL, 0, 0), BLK_OK);
	assert_int_equal(last_status, BLK_OK);
	assert_int_equal(submit(BLK_OP_WRITE, 2, segs, 2, 3), BLK_E_RANGE);
	assert_int_equal(submit(BLK_OP_WRITE, 0, segs, 2, 2), BLK_E_RANGE);
	assert_int_equal(submit(BLK_OP_READ, 0, segs, 0, 3), BLK_E_RANGE);
	assert_int_equal(submit(BLK_OP_READ, 0, segs, BLK_MAX_SEGS + 1, 3), BLK_E_RANGE);
	assert_int_equal(submit(BLK_OP_DISCARD, COUNT - 1, NULL, 0, 2), BLK_E_RANGE);
	assert_int_equal(submit(BLK_OP_READ, UINT64_MAX, segs, 2, 3), BLK_E_RANGE);
	assert_int_equal(last_status, 99);
	outside_untouched();
	/* read-only slice: no change, but a flush is fine */
	assert_int_equal(blk_part_init(&part, &mem.blk, FIRST, COUNT, true), BLK_OK);
	assert_int_equal(submit(BLK_OP_WRITE, 0, segs, 2, 3), BLK_E_READONLY);
	assert_int_equal(submit(BLK_OP_DISCARD, 0, NULL, 0, 1), BLK_E_READONLY);
	assert_int_equal(submit(BLK_OP_FLUSH, 0, NULL, 0, 0), BLK_OK);
	assert_int_equal(last_status, BLK_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(asynchronous),	      cmocka_unit_test(read_write),
		cmocka_unit_test(past_the_end),	      cmocka_unit_test(read_only),
		cmocka_unit_test(discard_and_zeroes), cmocka_unit_test(bad_slices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
