/* The block backend interface (io/blk.h) over an in-memory image (io/blk_mem.h): every request
 * checked against the capacity before it touches anything, read-only refusals, discard and
 * write-zeroes zeroing, flush. The image sits between two guard areas that must never change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "io/blk_mem.h"

#define SECTORS 16
#define GUARD 4096

static uint8_t area[GUARD + SECTORS * 512 + GUARD];
static uint8_t *const image = area + GUARD;
static struct blk_mem mem;

static void setup_image(bool read_only)
{
	memset(area, 0xee, sizeof(area));
	for (unsigned i = 0; i < SECTORS * 512; i++)
		image[i] = (uint8_t)(i / 512 + 1);
	blk_mem_init(&mem, image, SECTORS * 512, read_only);
}

static void guards_untouched(void)
{
	for (unsigned i = 0; i < GUARD; i++) {
		assert_int_equal(area[i], 0xee);
		assert_int_equal(area[GUARD + SECTORS * 512 + i], 0xee);
	}
}

static void read_write(void **state)
{
	(void)state;
	setup_image(false);
	struct blk_backend *b = &mem.blk;
	uint8_t buf[3 * 512];
	assert_int_equal(b->sectors, SECTORS);
	assert_false(b->read_only);
	assert_int_equal(blk_read(b, 2, buf, 3), BLK_OK);
	assert_int_equal(buf[0], 3);
	assert_int_equal(buf[3 * 512 - 1], 5);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(blk_write(b, SECTORS - 3, buf, 3), BLK_OK); /* the last three */
	assert_int_equal(image[(SECTORS - 3) * 512], 0xa5);
	assert_int_equal(image[SECTORS * 512 - 1], 0xa5);
	assert_int_equal(image[(SECTORS - 3) * 512 - 1], SECTORS - 3);
	/* zero sectors: nothing happens, and that is fine anywhere up to the end */
	assert_int_equal(blk_read(b, SECTORS, buf, 0), BLK_OK);
	assert_int_equal(blk_write(b, SECTORS, buf, 0), BLK_OK);
	assert_int_equal(blk_flush(b), BLK_OK);
	guards_untouched();
}

static void bounds(void **state)
{
	(void)state;
	setup_image(false);
	struct blk_backend *b = &mem.blk;
	uint8_t buf[2 * 512];
	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(blk_read(b, SECTORS, buf, 1), BLK_E_RANGE);
	assert_int_equal(blk_read(b, SECTORS - 1, buf, 2), BLK_E_RANGE);
	assert_int_equal(blk_write(b, SECTORS - 1, buf, 2), BLK_E_RANGE);
	assert_int_equal(blk_write(b, SECTORS + 1, buf, 0), BLK_E_RANGE);
	assert_int_equal(blk_discard(b, SECTORS - 1, 2), BLK_E_RANGE);
	assert_int_equal(blk_write_zeroes(b, 0, SECTORS + 1), BLK_E_RANGE);
	/* sector + count wraps to a small number */
	assert_int_equal(blk_write(b, UINT64_MAX, buf, 2), BLK_E_RANGE);
	assert_int_equal(blk_write(b, 2, buf, UINT64_MAX), BLK_E_RANGE);
	assert_int_equal(blk_write_zeroes(b, UINT64_MAX - 1, 3), BLK_E_RANGE);
	/* sector * 512 wraps: (2^55 + 1) * 512 = 512 mod 2^64 */
	assert_int_equal(blk_write(b, (1ull << 55) + 1, buf, 1), BLK_E_RANGE);
	assert_int_equal(blk_read(b, (1ull << 55), buf, 1), BLK_E_RANGE);
	assert_false(blk_range_ok(b, 1, SECTORS));
	assert_true(blk_range_ok(b, 0, SECTORS));
	assert_true(blk_range_ok(b, SECTORS, 0));
	/* a refused read leaves the buffer as it was */
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x11);
	for (unsigned i = 0; i < SECTORS * 512; i++)
		assert_int_equal(image[i], i / 512 + 1);
	guards_untouched();
}

/* count * 512 must fit a size_t even on a backend whose capacity would allow it */
static void byte_count_overflow(void **state)
{
	(void)state;
	struct blk_backend huge = { .ops = mem.blk.ops, .sectors = UINT64_MAX };
	assert_false(blk_range_ok(&huge, 0, (SIZE_MAX >> 9) + 1));
	assert_true(blk_range_ok(&huge, 0, SIZE_MAX >> 9));
	assert_int_equal(blk_read(&huge, 0, NULL, (SIZE_MAX >> 9) + 1), BLK_E_RANGE);
}

static void read_only(void **state)
{
	(void)state;
	setup_image(true);
	struct blk_backend *b = &mem.blk;
	uint8_t buf[512];
	memset(buf, 0x5a, sizeof(buf));
	assert_true(b->read_only);
	assert_int_equal(blk_read(b, 0, buf, 1), BLK_OK);
	assert_int_equal(buf[0], 1);
	assert_int_equal(blk_write(b, 0, buf, 1), BLK_E_READONLY);
	assert_int_equal(blk_discard(b, 0, 1), BLK_E_READONLY);
	assert_int_equal(blk_write_zeroes(b, 0, 1), BLK_E_READONLY);
	assert_false(blk_can_discard(b));
	assert_false(blk_can_write_zeroes(b));
	/* past the end is a range error first, as for a writable disk */
	assert_int_equal(blk_write(b, SECTORS, buf, 1), BLK_E_RANGE);
	/* flushing a read-only disk has nothing to do, and a guest may ask */
	assert_int_equal(blk_flush(b), BLK_OK);
	for (unsigned i = 0; i < SECTORS * 512; i++)
		assert_int_equal(image[i], i / 512 + 1);
	guards_untouched();
}

static void discard_and_zeroes(void **state)
{
	(void)state;
	setup_image(false);
	struct blk_backend *b = &mem.blk;
	assert_true(blk_can_discard(b));
	assert_true(blk_can_write_zeroes(b));
	assert_int_equal(blk_discard(b, 1, 2), BLK_OK);
	assert_int_equal(blk_write_zeroes(b, SECTORS - 1, 1), BLK_OK);
	assert_int_equal(blk_discard(b, 5, 0), BLK_OK);
	for (unsigned i = 0; i < SECTORS * 512; i++) {
		unsigned s = i / 512;
		bool zeroed = s == 1 || s == 2 || s == SECTORS - 1;
		assert_int_equal(image[i], zeroed ? 0 : s + 1);
	}
	guards_untouched();
}

static int no_op(struct blk_backend *b)
{
	(void)b;
	return BLK_E_IO;
}

/* a backend without discard or write-zeroes: UNSUPP, whatever the range */
static void unsupported(void **state)
{
	(void)state;
	static const struct blk_ops ops = { .flush = no_op };
	struct blk_backend b = { .ops = &ops, .sectors = 8 };
	assert_int_equal(blk_discard(&b, 0, 1), BLK_E_UNSUPP);
	assert_int_equal(blk_write_zeroes(&b, 100, 1), BLK_E_UNSUPP);
	assert_false(blk_can_discard(&b));
	assert_int_equal(blk_flush(&b), BLK_E_IO);
	assert_string_equal(blk_status_name(BLK_E_UNSUPP), "unsupported");
	assert_string_equal(blk_status_name(BLK_E_RANGE), "out of range");
	assert_string_equal(blk_status_name(BLK_OK), "ok");
	assert_string_equal(blk_status_name(42), "?");
}

static int released;
static void count_release(struct blk_backend *b)
{
	(void)b;
	released++;
}

static void release(void **state)
{
	(void)state;
	setup_image(false);
	blk_release(NULL);
	blk_release(&mem.blk); /* no release hook: nothing */
	mem.blk.release = count_release;
	blk_release(&mem.blk);
	assert_int_equal(released, 1);
}

/* an image not a whole number of sectors is cut to whole ones (the callers refuse such) */
static void partial_sector_rounds_down(void **state)
{
	(void)state;
	blk_mem_init(&mem, image, 3 * 512 + 100, false);
	assert_int_equal(mem.blk.sectors, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_write),
		cmocka_unit_test(bounds),
		cmocka_unit_test(byte_count_overflow),
		cmocka_unit_test(read_only),
		cmocka_unit_test(discard_and_zeroes),
		cmocka_unit_test(unsupported),
		cmocka_unit_test(release),
		cmocka_unit_test(partial_sector_rounds_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
