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

/* phys_alloc_upto: the largest block congruent to the phase, capped, at least min_size */
static void alloc_upto(void **state)
{
	uint64_t size, base;
	(void)state;
	phys_pool_init(&pool);
	/* [1 MiB, 10 MiB), [0x40100000, 0x40500000), [0x80000000, 0x80300000) */
	assert_int_equal(phys_add(&pool, 0x100000, 0x900000), 0);
	assert_int_equal(phys_add(&pool, 0x40100000, 0x400000), 0);
	assert_int_equal(phys_add(&pool, 0x80000000, 0x300000), 0);
	/* bad arguments take nothing */
	assert_int_equal(phys_alloc_upto(&pool, 0, 0, 4096, 0, &size), 0);
	assert_int_equal(phys_alloc_upto(&pool, 4096, 0, 3000, 0, &size), 0);
	assert_int_equal(phys_alloc_upto(&pool, 4096, 0, 4096, 4096, &size), 0);
	assert_int_equal(phys_alloc_upto(&pool, 4096, 0, 8192, 1, &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(pool.free_bytes, 0x900000 + 0x400000 + 0x300000);
	/* 1 GiB phase 0: only the block at 2 GiB qualifies (3 MiB, its whole range) */
	base = phys_alloc_upto(&pool, GiB, 0, GiB, 0, &size);
	assert_int_equal(base, 0x80000000);
	assert_int_equal(size, 0x300000);
	/* 2 MiB phase 1 MiB: 0x40100000 starts the largest (4 MiB); capped at 3 MiB it sits as
	 * high as the phase allows: 0x40100000 + 0 (the next congruent base would not fit) */
	base = phys_alloc_upto(&pool, 3 * MiB, 0, 2 * MiB, MiB, &size);
	assert_int_equal(base, 0x40100000);
	assert_int_equal(size, 3 * MiB);
	/* min_size refuses a smaller best and takes nothing */
	assert_int_equal(phys_alloc_upto(&pool, GiB, 10 * MiB, 4096, 0, &size), 0);
	assert_int_equal(pool.free_bytes, 0x900000 + MiB);
	/* page phase: the largest whole range */
	base = phys_alloc_upto(&pool, GiB, 0, 4096, 0, &size);
	assert_int_equal(base, 0x100000);
	assert_int_equal(size, 0x900000);
	base = phys_alloc_upto(&pool, GiB, 0, 4096, 0, &size);
	assert_int_equal(base, 0x40400000);
	assert_int_equal(size, MiB);
	assert_int_equal(pool.nr, 0);
	assert_int_equal(phys_alloc_upto(&pool, GiB, 0, 4096, 0, &size), 0);
	/* never page 0, and a range's tail whose first congruent address is past its end is none */
	assert_int_equal(phys_add(&pool, 0, 0x3000), 0);
	assert_int_equal(phys_alloc_upto(&pool, GiB, 0, 0x4000, 0, &size), 0);
	base = phys_alloc_upto(&pool, GiB, 0, 4096, 0, &size);
	assert_int_equal(base, 0x1000);
	assert_int_equal(size, 0x2000);
	/* capped inside one range: the highest congruent base that fits */
	phys_pool_init(&pool);
	assert_int_equal(phys_add(&pool, 0x1000000, 0x1000000), 0); /* 16 .. 32 MiB */
	base = phys_alloc_upto(&pool, 5 * MiB, 0, 2 * MiB, 0, &size);
	assert_int_equal(base, 26 * MiB);
	assert_int_equal(size, 5 * MiB);
	base = phys_alloc_upto(&pool, 5 * MiB, 0, 2 * MiB, 3 * 4096, &size);
	assert_int_equal(base, 20 * MiB + 3 * 4096);
	assert_int_equal(size, 5 * MiB);
	assert_int_equal(pool.free_bytes, 6 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_and_alloc),
		cmocka_unit_test(refuses_overlap_and_bad_args),
		cmocka_unit_test(never_hands_out_page_zero),
		cmocka_unit_test(reserve_carves),
		cmocka_unit_test(random_against_model),
		cmocka_unit_test(alloc_upto),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
