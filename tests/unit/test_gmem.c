/* core/gmem.c: guest memory as sorted extents. The binary search finds the first and last byte of
 * each extent and nothing in the gaps; gmem_ptr gives one host-contiguous range only;
 * gmem_read/write/fill cross extent boundaries, copy nothing when any byte is not RAM, and never
 * wrap. Each extent is its own allocation, so ASan catches a copy that runs past one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"

/* guest [0x1000, 0x3000) [0x3000, 0x4000) [0x4000, 0x5800), a gap, [0x10000, 0x11000),
 * and the last page below 2^64 */
static const struct {
	uint64_t gpa, size;
} layout[] = { { 0x1000, 0x2000 },
	       { 0x3000, 0x1000 },
	       { 0x4000, 0x1800 },
	       { 0x10000, 0x1000 },
	       { UINT64_MAX - 0xfff, 0x1000 } };
#define NR (sizeof(layout) / sizeof(layout[0]))

static struct gmem_extent ext[NR];
static struct guest_mem m = { .ext = ext, .nr = NR };

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NR; i++) {
		ext[i] = (struct gmem_extent){ layout[i].gpa, layout[i].size,
					       malloc(layout[i].size), 0 };
		if (!ext[i].hva)
			return -1;
		memset(ext[i].hva, 0, layout[i].size);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NR; i++)
		free(ext[i].hva);
	return 0;
}

static void find_edges(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NR; i++) {
		uint64_t first = layout[i].gpa, last = layout[i].gpa + layout[i].size - 1;
		assert_ptr_equal(gmem_find(&m, first), &ext[i]);
		assert_ptr_equal(gmem_find(&m, last), &ext[i]);
		assert_ptr_equal(gmem_ptr(&m, first, 1), ext[i].hva);
		assert_ptr_equal(gmem_ptr(&m, last, 1), ext[i].hva + layout[i].size - 1);
		assert_ptr_equal(gmem_ptr(&m, first, layout[i].size), ext[i].hva);
		assert_null(gmem_ptr(&m, first + 1, layout[i].size));
	}
	/* below the first, in the gap, just past the gap's neighbours */
	assert_null(gmem_find(&m, 0));
	assert_null(gmem_find(&m, 0xfff));
	assert_null(gmem_find(&m, 0x5800));
	assert_null(gmem_find(&m, 0xffff));
	assert_null(gmem_find(&m, 0x11000));
	assert_null(gmem_find(&m, UINT64_MAX - 0x1000));
	assert_false(gmem_is_ram(&m, 0x5800));
	assert_true(gmem_is_ram(&m, 0x57ff));
	/* no extents at all */
	struct guest_mem none = { .ext = NULL, .nr = 0 };
	assert_null(gmem_find(&none, 0));
	assert_false(gmem_covers(&none, 0, 1));
	assert_int_equal(gmem_fill(&none, 0, 1, 1), -1);
}

static void ptr_is_one_extent(void **state)
{
	(void)state;
	/* [0x2ff0, 0x3010) is guest RAM but in two host blocks */
	assert_true(gmem_covers(&m, 0x2ff0, 0x20));
	assert_null(gmem_ptr(&m, 0x2ff0, 0x20));
	assert_non_null(gmem_ptr(&m, 0x2ff0, 0x10));
	assert_non_null(gmem_ptr(&m, 0x3000, 0x10));
	assert_null(gmem_ptr(&m, 0x1000, UINT64_MAX));
}

static void covers(void **state)
{
	(void)state;
	assert_true(gmem_covers(&m, 0x1000, 0x4800)); /* three extents, whole */
	assert_false(gmem_covers(&m, 0x1000, 0x4801));
	assert_false(gmem_covers(&m, 0xfff, 2));
	assert_false(gmem_covers(&m, 0x57ff, 2));
	assert_false(gmem_covers(&m, 0x1000, 0));
	assert_false(gmem_covers(&m, 0x4000, UINT64_MAX));
	/* the last page: up to 2^64 exactly, never past it */
	assert_true(gmem_covers(&m, UINT64_MAX - 0xfff, 0x1000));
	assert_false(gmem_covers(&m, UINT64_MAX - 0xfff, 0x1001));
	assert_false(gmem_covers(&m, UINT64_MAX, 2));
	assert_true(gmem_covers(&m, UINT64_MAX, 1));
}

static void copies_across_extents(void **state)
{
	uint8_t buf[0x4800], back[0x4800];
	(void)state;
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(gmem_write(&m, 0x1000, buf, sizeof(buf)), 0);
	/* each byte landed in its own extent at its own offset */
	assert_memory_equal(ext[0].hva, buf, 0x2000);
	assert_memory_equal(ext[1].hva, buf + 0x2000, 0x1000);
	assert_memory_equal(ext[2].hva, buf + 0x3000, 0x1800);
	memset(back, 0, sizeof(back));
	assert_int_equal(gmem_read(&m, 0x1000, back, sizeof(back)), 0);
	assert_memory_equal(back, buf, sizeof(buf));
	/* a part starting inside one and ending inside another */
	assert_int_equal(gmem_read(&m, 0x2ffd, back, 0x1005), 0);
	assert_memory_equal(back, buf + 0x1ffd, 0x1005);
	/* fill across */
	assert_int_equal(gmem_fill(&m, 0x2ff0, 0xee, 0x1020), 0);
	assert_int_equal(ext[0].hva[0x1fef], buf[0x1fef]);
	assert_int_equal(ext[0].hva[0x1ff0], 0xee);
	assert_int_equal(ext[2].hva[0xf], 0xee);
	assert_int_equal(ext[2].hva[0x10], buf[0x3010]);
	/* one byte outside RAM: nothing copied, nothing written */
	memset(back, 0x5a, sizeof(back));
	assert_int_equal(gmem_read(&m, 0x5000, back, 0x801), -1);
	assert_int_equal(back[0], 0x5a);
	assert_int_equal(gmem_write(&m, 0x5000, back, 0x801), -1);
	assert_int_equal(gmem_fill(&m, 0x5000, 0x11, 0x801), -1);
	assert_int_equal(ext[2].hva[0x1000], buf[0x4000]);
	assert_int_equal(gmem_write(&m, 0xfff0, back, 0x20), -1);
	assert_int_equal(ext[3].hva[0], 0);
	/* wrapping ranges are refused */
	assert_int_equal(gmem_write(&m, UINT64_MAX - 0xf, back, 0x20), -1);
	assert_int_equal(gmem_write(&m, UINT64_MAX - 0xf, back, 0x10), 0);
	assert_int_equal(ext[4].hva[0xff0], 0x5a);
	/* empty ranges: at RAM or just past its end, as before extents */
	assert_int_equal(gmem_fill(&m, 0x5800, 0, 0), 0);
	assert_int_equal(gmem_fill(&m, 0x1000, 0, 0), 0);
	assert_int_equal(gmem_fill(&m, 0x6000, 0, 0), -1);
	assert_int_equal(gmem_read(&m, 0, back, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_edges),
		cmocka_unit_test(ptr_is_one_extent),
		cmocka_unit_test(covers),
		cmocka_unit_test(copies_across_extents),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
