/* core/guest_ram.c: guest RAM backed by whatever host blocks are free. On fragmented pools every
 * guest byte is backed exactly once, by free host memory no other byte uses; host and guest
 * addresses agree modulo 1 GiB or 2 MiB where that buys a stage-2 leaf (counted by building the
 * tables); a failure gives back everything it took, and so does guest_ram_free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/guest_layout.h"
#include "core/guest_ram.h"
#include "mm/phys.h"
#include "mm/stage2.h"

static struct phys_pool pool, before;
static struct phys_range added[PHYS_MAX_RANGES];
static unsigned nr_added;
static struct gmem_extent ext[4096];

static void pool_of(const struct phys_range *r, unsigned n)
{
	phys_pool_init(&pool);
	nr_added = 0;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(phys_add(&pool, r[i].base, r[i].size), 0);
		added[nr_added++] = r[i];
	}
	before = pool;
}

static void assert_pool_as_before(void)
{
	assert_int_equal(pool.nr, before.nr);
	assert_int_equal(pool.free_bytes, before.free_bytes);
	assert_memory_equal(pool.ranges, before.ranges, before.nr * sizeof(before.ranges[0]));
}

static int by_hpa(const void *a, const void *b)
{
	const struct gmem_extent *x = a, *y = b;
	return x->hpa < y->hpa ? -1 : x->hpa > y->hpa;
}

/* ext[0..nr) back [gpa_i, gpa_i + size_i) for each region exactly, in order, from memory that
 * was free, no host byte twice; hva is hpa (keel's identity map). */
static void check_backing(unsigned nr, const uint64_t *gpa, const uint64_t *size, unsigned regions)
{
	unsigned e = 0;
	uint64_t total = 0;

	for (unsigned r = 0; r < regions; r++) {
		uint64_t at = gpa[r];
		for (; e < nr && at < gpa[r] + size[r]; e++) {
			assert_int_equal(ext[e].gpa, at);
			assert_true(ext[e].size > 0);
			assert_int_equal(ext[e].gpa % 4096, 0);
			assert_int_equal(ext[e].size % 4096, 0);
			assert_int_equal(ext[e].hpa % 4096, 0);
			assert_ptr_equal(ext[e].hva, (uint8_t *)(uintptr_t)ext[e].hpa);
			bool inside = false;
			for (unsigned i = 0; i < nr_added; i++)
				inside |= ext[e].hpa >= added[i].base &&
					  ext[e].hpa + ext[e].size <= added[i].base + added[i].size;
			assert_true(inside);
			assert_true(ext[e].hpa != 0);
			at += ext[e].size;
			total += ext[e].size;
		}
		assert_int_equal(at, gpa[r] + size[r]);
	}
	assert_int_equal(e, nr);
	assert_int_equal(pool.free_bytes, before.free_bytes - total);
	struct gmem_extent *sorted = malloc((nr ? nr : 1) * sizeof(*sorted));
	memcpy(sorted, ext, nr * sizeof(*sorted));
	qsort(sorted, nr, sizeof(*sorted), by_hpa);
	for (unsigned i = 1; i < nr; i++)
		assert_true(sorted[i - 1].hpa + sorted[i - 1].size <= sorted[i].hpa);
	/* and none of it is still free */
	for (unsigned i = 0; i < nr; i++)
		for (unsigned j = 0; j < pool.nr; j++)
			assert_true(sorted[i].hpa + sorted[i].size <= pool.ranges[j].base ||
				    pool.ranges[j].base + pool.ranges[j].size <= sorted[i].hpa);
	free(sorted);
}

/* ---- stage-2 leaves, to see the alignment at work ---------------------------------------- */

#define ARENA_PAGES 512
static uint8_t *arena;
static unsigned arena_used;

static uint64_t alloc_page(void *ctx)
{
	(void)ctx;
	if (arena_used == ARENA_PAGES)
		return 0;
	memset(arena + (size_t)arena_used * 4096, 0, 4096);
	return 0x7000000000ull + (uint64_t)arena_used++ * 4096;
}

static uint64_t *table_ptr(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (uint64_t *)(arena + (pa - 0x7000000000ull));
}

static const struct stage2_format npt = {
	.table_bits = 0x7,
	.leaf_rwx = 0x7,
	.large_bit = 0x80,
	.present_mask = 0x1,
	.gib_leaves = true,
	.mib_leaves = true,
};

/* Maps ext[0..nr) as hv_vm_setup_memory does, one block at a time. */
static struct stage2 map_all(unsigned nr)
{
	struct stage2_alloc a = { alloc_page, table_ptr, NULL, NULL };
	struct stage2 s2;

	arena_used = 0;
	assert_int_equal(stage2_init(&s2, &npt, &a), 0);
	for (unsigned i = 0; i < nr; i++)
		assert_int_equal(stage2_map(&s2, ext[i].gpa, ext[i].hpa, ext[i].size), 0);
	return s2;
}

/* A pool of r[0..n), then guest [gpa, gpa + size) from it, checked: the number of blocks. */
static unsigned alloc_checked(const struct phys_range *r, unsigned n, uint64_t gpa, uint64_t size)
{
	unsigned nr = 0;

	pool_of(r, n);
	assert_int_equal(guest_ram_alloc(&pool, gpa, size, ext, 4096, &nr), 0);
	check_backing(nr, &gpa, &size, 1);
	return nr;
}

static int setup(void **state)
{
	(void)state;
	arena = malloc((size_t)ARENA_PAGES * 4096);
	return arena ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(arena);
	return 0;
}

/* ---- the cases ---------------------------------------------------------------------------- */

/* One free range holding it all, 1 GiB aligned: one block, the largest leaves. */
static void one_block_when_it_fits(void **state)
{
	static const struct phys_range r[] = { { 0x100000, 0x3ff00000 }, { 4 * GiB, 4 * GiB } };
	uint64_t gpa[2], size[2];
	unsigned nr = 0, n = guest_ram_regions(4 * GiB, gpa, size);
	(void)state;
	pool_of(r, 2);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(guest_ram_alloc(&pool, gpa[i], size[i], ext, 4096, &nr), 0);
	assert_int_equal(nr, 2);
	check_backing(nr, gpa, size, n);
	struct stage2 s2 = map_all(nr);
	assert_int_equal(s2.pages_1g, 4);
	assert_int_equal(s2.pages_2m + s2.pages_4k, 0);
	guest_ram_free(&pool, ext, nr);
	assert_pool_as_before();
}

/* Larger than any free range: split, with 1 GiB congruence where a 1 GiB leaf fits and 2 MiB
 * elsewhere, so no 4 KiB leaf is needed. */
static void split_keeps_large_leaves(void **state)
{
	/* ~1 GiB at 1 MiB, 1 GiB at 2 GiB (aligned), 6 MiB at 4 GiB + 2 MiB */
	static const struct phys_range r[] = { { 0x100000, 0x3ff00000 },
					       { 2 * GiB, GiB },
					       { 4 * GiB + 2 * MiB, 6 * MiB } };
	unsigned nr = alloc_checked(r, 3, 0, 2 * GiB + 4 * MiB);
	(void)state;
	assert_int_equal(nr, 3);
	/* the 1 GiB-aligned range backs guest [0, 1 GiB) */
	assert_int_equal(ext[0].hpa, 2 * GiB);
	assert_int_equal(ext[0].size, GiB);
	for (unsigned i = 0; i < nr; i++)
		assert_int_equal((ext[i].hpa - ext[i].gpa) % (2 * MiB), 0);
	struct stage2 s2 = map_all(nr);
	assert_int_equal(s2.pages_1g, 1);
	assert_int_equal(s2.pages_4k, 0);
	guest_ram_free(&pool, ext, nr);
	assert_pool_as_before();
}

/* The guest base is not 2 MiB aligned (as [4 GiB + 4 KiB, ...) might be): host blocks share its
 * offset in the 2 MiB page, so every whole guest 2 MiB page gets a 2 MiB leaf. */
static void odd_guest_base(void **state)
{
	static const struct phys_range r[] = { { 0x10000000, 0x10000000 } };
	unsigned nr = alloc_checked(r, 1, 0x3000, 16 * MiB);
	(void)state;
	assert_int_equal(nr, 1);
	assert_int_equal(ext[0].hpa % (2 * MiB), 0x3000);
	struct stage2 s2 = map_all(nr);
	assert_int_equal(s2.pages_2m, 7);
	guest_ram_free(&pool, ext, nr);
	assert_pool_as_before();
}

/* Free memory in pages and small pieces at odd places: backed with 4 KiB granules where that is
 * all there is. */
static void crumbs(void **state)
{
	struct phys_range r[200];
	uint64_t total = 0;
	(void)state;
	for (unsigned i = 0; i < 200; i++) {
		/* 1 to 7 pages, 5 pages apart beyond that, from an odd start */
		r[i] = (struct phys_range){ 0x12345000ull + i * 0x100000ull + (i % 3) * 0x1000,
					    (1 + i % 7) * 4096ull };
		total += r[i].size;
	}
	unsigned nr = alloc_checked(r, 200, 0x100000, total);
	assert_int_equal(nr, 200);
	assert_int_equal(pool.free_bytes, 0);
	guest_ram_free(&pool, ext, nr);
	assert_pool_as_before();
}

/* Not enough memory, or more blocks than room: -1, *nr as it was, the pool as it was (a first
 * region's blocks are the caller's to give back). */
static void failure_takes_nothing(void **state)
{
	static const struct phys_range r[] = { { 0x100000, 0x700000 }, { 0x1000000, 0x800000 } };
	uint64_t gpa = 0, size = 16 * MiB;
	unsigned nr = 0;
	(void)state;
	pool_of(r, 2);
	assert_int_equal(guest_ram_alloc(&pool, gpa, size, ext, 4096, &nr), -1);
	assert_int_equal(nr, 0);
	assert_pool_as_before();
	/* fits, but not in one block */
	size = 12 * MiB;
	assert_int_equal(guest_ram_alloc(&pool, gpa, size, ext, 1, &nr), -1);
	assert_int_equal(nr, 0);
	assert_pool_as_before();
	/* a second region that does not fit leaves the first one's blocks */
	assert_int_equal(guest_ram_alloc(&pool, 0, 8 * MiB, ext, 4096, &nr), 0);
	unsigned first = nr;
	assert_int_equal(guest_ram_alloc(&pool, 4 * GiB, 8 * MiB, ext, 4096, &nr), -1);
	assert_int_equal(nr, first);
	guest_ram_free(&pool, ext, nr);
	nr = 0;
	assert_pool_as_before();
	/* unaligned or wrapping arguments */
	assert_int_equal(guest_ram_alloc(&pool, 0x800, 4096, ext, 4096, &nr), -1);
	assert_int_equal(guest_ram_alloc(&pool, 0, 0x800, ext, 4096, &nr), -1);
	assert_int_equal(guest_ram_alloc(&pool, UINT64_MAX & ~4095ull, 8192, ext, 4096, &nr), -1);
	assert_int_equal(nr, 0);
	assert_pool_as_before();
}

/* Random fragmented pools and VM sizes: the backing is always exact, and giving it back restores
 * the pool. */
static void random_pools(void **state)
{
	(void)state;
	srand(7);
	for (unsigned round = 0; round < 300; round++) {
		struct phys_range r[64];
		unsigned n = 1 + (unsigned)rand() % 64;
		uint64_t at = 0x100000, free_total = 0;
		for (unsigned i = 0; i < n; i++) {
			/* gaps and sizes from a page to ~1.5 GiB, some starting 1 GiB or 2 MiB aligned */
			at += (1 + (uint64_t)(rand() % 512)) * 4096;
			if (rand() % 4 == 0)
				at = (at + GiB - 1) & ~(GiB - 1);
			else if (rand() % 3 == 0)
				at = (at + 2 * MiB - 1) & ~(2 * MiB - 1);
			uint64_t pages = rand() % 2 ? 1 + (uint64_t)(rand() % 64)
						    : 1 + (uint64_t)rand() % (384 * 1024);
			r[i] = (struct phys_range){ at, pages * 4096 };
			at += pages * 4096;
			free_total += pages * 4096;
		}
		pool_of(r, n);
		uint64_t memory = ((uint64_t)rand() % (free_total / 4096 + 64) + 1) * 4096;
		memory = memory < 2 * MiB ? 2 * MiB : memory;
		uint64_t gpa[2], size[2];
		unsigned regions = guest_ram_regions(memory, gpa, size), nr = 0;
		int rc = 0;
		for (unsigned i = 0; i < regions && !rc; i++)
			rc = guest_ram_alloc(&pool, gpa[i], size[i], ext, 4096, &nr);
		/* enough free memory in total always fits, however it is cut */
		assert_int_equal(rc, memory > free_total ? -1 : 0);
		if (rc == 0)
			check_backing(nr, gpa, size, regions);
		guest_ram_free(&pool, ext, nr);
		assert_pool_as_before();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_block_when_it_fits),
		cmocka_unit_test(split_keeps_large_leaves),
		cmocka_unit_test(odd_guest_base),
		cmocka_unit_test(crumbs),
		cmocka_unit_test(failure_takes_nothing),
		cmocka_unit_test(random_pools),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
