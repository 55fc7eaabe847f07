/* mm/phys.c: the free-range allocator, checked against a page bitmap model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mm/phys.h"

static struct phys_pool pool;

static void add_and_alloc(void **state)
{
	(void)state;
	phys_pool_init(&pool);
	assert_int_equal(phys_add(&pool, 0x1000, 0x9f000), 0);
	assert_int_equal(phys_add(&pool, 0x100000, 0x3ff00000), 0);
	assert_int_equal(pool.free_bytes, 0x9f000 + 0x3ff00000);
	/* highest fit first, aligned */
	uint64_t a = phys_alloc(&pool, 2 << 20, 2 << 20);
	assert_int_equal(a, 0x40000000 - (2 << 20));
	uint64_t b = phys_alloc(&pool, 4096, 4096);
	assert_int_equal(b, a - 4096);
	uint64_t c = phys_alloc(&pool, 2 << 20, 2 << 20);
	assert_int_equal(c, a - (4 << 20)); /* the partial 2M block below b is skipped */
	phys_free(&pool, b, 4096);
	phys_free(&pool, a, 2 << 20);
	phys_free(&pool, c, 2 << 20);
	assert_int_equal(pool.free_bytes, 0x9f000 + 0x3ff00000);
	assert_int_equal(pool.nr, 2);
}

static void refuses_overlap_and_bad_args(void **state)
{
	(void)state;
	phys_pool_init(&pool);
	assert_int_equal(phys_add(&pool, 0x100000, 0x100000), 0);
	assert_int_equal(phys_add(&pool, 0x180000, 0x100000), -1);
	assert_int_equal(phys_add(&pool, 0x123, 0x10), 0); /* less than a page after trimming */
	assert_int_equal(pool.free_bytes, 0x100000);
	assert_int_equal(phys_alloc(&pool, 0, 4096), 0);
	assert_int_equal(phys_alloc(&pool, 4096, 3000), 0);
	assert_int_equal(phys_alloc(&pool, 4096, 0), 0);
	assert_int_equal(phys_alloc(&pool, 0x200000, 4096), 0);
	assert_int_equal(phys_alloc(&pool, UINT64_MAX, 4096), 0);
	assert_int_equal(phys_add(&pool, UINT64_MAX - 0x3000, 0x10000), 0); /* wraps: clipped */
}

static void never_hands_out_page_zero(void **state)
{
	(void)state;
	phys_pool_init(&pool);
	assert_int_equal(phys_add(&pool, 0, 0x2000), 0);
	assert_int_equal(phys_alloc(&pool, 4096, 4096), 0x1000);
	assert_int_equal(phys_alloc(&pool, 4096, 4096), 0);
}

static void reserve_carves(void **state)
{
	(void)state;
	phys_pool_init(&pool);
	phys_add(&pool, 0x100000, 0x100000);
	phys_add(&pool, 0x300000, 0x100000);
	phys_reserve(&pool, 0x180000,
		     0x200000); /* takes the top of one and the bottom of the other */
	assert_int_equal(pool.nr, 2);
	assert_int_equal(pool.ranges[0].base, 0x100000);
	assert_int_equal(pool.ranges[0].size, 0x80000);
	assert_int_equal(pool.ranges[1].base, 0x380000);
	assert_int_equal(pool.ranges[1].size, 0x80000);
	phys_reserve(&pool, 0x101000, 0x1000); /* a hole in the middle */
	assert_int_equal(pool.nr, 3);
	assert_int_equal(pool.free_bytes, 0x100000 - 0x1000);
	phys_reserve(&pool, 0, UINT64_MAX);
	assert_int_equal(pool.nr, 0);
	assert_int_equal(pool.free_bytes, 0);
}

/* Random operations against a bitmap of 4096 pages: no page is ever handed out twice, and the
 * pool's count always matches the model. */
static void random_against_model(void **state)
{
	(void)state;
	enum { PAGES = 4096 };
	static unsigned char used[PAGES];
	struct {
		uint64_t base, size;
	} live[512];
	unsigned nlive = 0;
	srand(1);
	phys_pool_init(&pool);
	phys_add(&pool, 0x1000, (PAGES - 1) * 4096ull);
	memset(used, 0, sizeof(used));
	used[0] = 1;
	for (int step = 0; step < 20000; step++) {
		if (nlive < 512 && (rand() % 3)) {
			uint64_t pages = 1 + (uint64_t)(rand() % 40);
			uint64_t align = 4096ull << (rand() % 6);
			uint64_t a = phys_alloc(&pool, pages * 4096, align);
			if (!a)
				continue;
			assert_true(a % align == 0);
			for (uint64_t i = 0; i < pages; i++) {
				assert_false(used[a / 4096 + i]);
				used[a / 4096 + i] = 1;
			}
			live[nlive].base = a;
			live[nlive++].size = pages * 4096;
		} else if (nlive) {
			unsigned k = (unsigned)rand() % nlive;
			phys_free(&pool, live[k].base, live[k].size);
			for (uint64_t i = 0; i < live[k].size / 4096; i++)
				used[live[k].base / 4096 + i] = 0;
			live[k] = live[--nlive];
		}
		uint64_t free_pages = 0;
		for (unsigned i = 0; i < PAGES; i++)
			free_pages += !used[i];
		assert_int_equal(pool.free_bytes, free_pages * 4096);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_and_alloc),
		cmocka_unit_test(refuses_overlap_and_bad_args),
		cmocka_unit_test(never_hands_out_page_zero),
		cmocka_unit_test(reserve_carves),
		cmocka_unit_test(random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
