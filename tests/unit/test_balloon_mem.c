/* core/balloon_mem.c with a real stage 2 (mm/stage2.c, NPT format, 2 MiB leaves), core/gmem.c's
 * holes and moved pages, and mm/page_pool.c as keel's frame pool. Guest RAM: [0, 4 MiB) in one
 * 2 MiB-aligned block (two 2 MiB leaves), a gap, [0x500000, 0x510000) in another. Host addresses
 * are pointers, as keel's identity map makes them.
 * Checked: an inflated page leaves stage 2 (its 2 MiB leaf split, the neighbours still mapped
 * to the same bytes), is no RAM to gmem (copies over it fail whole), and its frame reaches keel
 * only after the flush; repeated, unknown and non-RAM pages are refused; deflate and refault map
 * a zeroed frame that gmem then reads and writes (copies across moved pages, gmem_ptr); no frame
 * left: the page stays a hole; a full pending list flushes by itself; fill_all; the page pool
 * is LIFO, zeroes what it hands out and counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/balloon_mem.h"
#include "mm/page_pool.h"

#define RAM0 (4 * MiB)
#define RAM1_AT 0x500000ull
#define RAM1 0x10000ull
#define PAGES ((RAM1_AT + RAM1) / 4096)

static uint8_t *block0, *block1;
static struct gmem_extent ext[2];
static struct guest_mem gm;
static struct stage2 s2;
static struct balloon_mem bm;
static struct page_pool pool;
static uint64_t frames[PAGES];
static unsigned flushes, frees, allocs;
static bool out_of_frames;
static unsigned table_pages;

static uint64_t table_alloc(void *ctx)
{
	(void)ctx;
	void *p = aligned_alloc(4096, 4096);
	assert_non_null(p);
	memset(p, 0, 4096);
	table_pages++;
	return (uint64_t)(uintptr_t)p;
}

static uint64_t *table_ptr(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (uint64_t *)(uintptr_t)pa;
}

static void table_free(void *ctx, uint64_t pa)
{
	(void)ctx;
	free((void *)(uintptr_t)pa);
	table_pages--;
}

static const struct stage2_alloc s2_alloc = { table_alloc, table_ptr, table_free, NULL };
static const struct stage2_format npt = {
	.table_bits = 7, .leaf_rwx = 7, .large_bit = 0x80, .present_mask = 1, .mib_leaves = true
};

/* keel's side: frames from the pool, else fresh ones (counted); flushes counted */
static uint64_t frame_alloc(void *ctx)
{
	(void)ctx;
	if (out_of_frames)
		return 0;
	allocs++;
	uint64_t hpa = page_pool_get(&pool);
	if (hpa)
		return hpa;
	void *p = aligned_alloc(4096, 4096);
	assert_non_null(p);
	memset(p, 0, 4096);
	return (uint64_t)(uintptr_t)p;
}

static void frame_free(void *ctx, uint64_t hpa)
{
	(void)ctx;
	/* the frame must be unreachable by then: flushed, and out of stage 2 */
	assert_true(flushes > 0);
	frees++;
	page_pool_put(&pool, hpa);
}

static void flush(void *ctx)
{
	(void)ctx;
	flushes++;
}

static const struct balloon_mem_ops ops = { frame_alloc, frame_free, flush, NULL, NULL, NULL };

/* A second translation that follows stage 2 (the VM's IOMMU domain): a copy of what stage 2
 * maps, page by page, and whether following may fail. */
static struct stage2 follower;
static bool follower_refuses;
static unsigned follower_calls;

static int follow_unmapped(void *ctx, uint64_t gpa)
{
	(void)ctx;
	uint64_t hpa;
	follower_calls++;
	if (follower_refuses)
		return -1;
	assert_int_equal(stage2_unmap_page(&follower, gpa, &hpa), 0);
	return 0;
}

static int follow_mapped(void *ctx, uint64_t gpa, uint64_t hpa)
{
	(void)ctx;
	follower_calls++;
	if (follower_refuses)
		return -1;
	return stage2_map(&follower, gpa, hpa, 4096);
}

static const struct balloon_mem_ops follow_ops = { frame_alloc, frame_free,	 flush,
						   NULL,	follow_unmapped, follow_mapped };

static int setup(void **state)
{
	(void)state;
	block0 = aligned_alloc(2 * MiB, RAM0);
	block1 = aligned_alloc(4096, RAM1);
	assert_non_null(block0);
	assert_non_null(block1);
	for (uint64_t i = 0; i < RAM0; i++)
		block0[i] = (uint8_t)(i >> 12) | 0x80;
	memset(block1, 0x55, RAM1);
	ext[0] = (struct gmem_extent){ 0, RAM0, block0, (uint64_t)(uintptr_t)block0 };
	ext[1] = (struct gmem_extent){ RAM1_AT, RAM1, block1, (uint64_t)(uintptr_t)block1 };
	gm = (struct guest_mem){ .ext = ext, .nr = 2 };
	assert_int_equal(stage2_init(&s2, &npt, &s2_alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, ext[0].hpa, RAM0), 0);
	assert_int_equal(stage2_map(&s2, RAM1_AT, ext[1].hpa, RAM1), 0);
	memset(frames, 0, sizeof(frames));
	balloon_mem_init(&bm, &gm, &s2, &ops, frames, PAGES);
	pool = (struct page_pool){ 0, 0 };
	flushes = frees = allocs = 0;
	out_of_frames = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stage2_free(&s2);
	assert_int_equal(table_pages, 0);
	/* frames handed out by frame_alloc and still mapped are leaked in the test: the RAM blocks
	 * themselves hold the pool's frames, so free those last */
	for (uint64_t p = 0; p < PAGES; p++) {
		uint64_t f = frames[p];
		if (f != GMEM_FRAME_OWN && f != GMEM_FRAME_HOLE &&
		    !(f >= ext[0].hpa && f < ext[0].hpa + RAM0) &&
		    !(f >= ext[1].hpa && f < ext[1].hpa + RAM1))
			free((void *)(uintptr_t)f);
	}
	while (pool.count) {
		uint64_t f = page_pool_get(&pool);
		if (!(f >= ext[0].hpa && f < ext[0].hpa + RAM0) &&
		    !(f >= ext[1].hpa && f < ext[1].hpa + RAM1))
			free((void *)(uintptr_t)f);
	}
	free(block0);
	free(block1);
	return 0;
}

static void inflate_unmaps_then_frees(void **state)
{
	(void)state;
	uint8_t buf[8192];
	assert_int_equal(balloon_mem_inflate(&bm, 0x123), BALLOON_OK);
	assert_int_equal(stage2_translate(&s2, 0x123000), UINT64_MAX);
	assert_int_equal(stage2_translate(&s2, 0x122fff), ext[0].hpa + 0x122fff);
	assert_int_equal(stage2_translate(&s2, 0x124000), ext[0].hpa + 0x124000);
	assert_int_equal(s2.pages_2m, 1);	 /* only the leaf around the page split */
	assert_int_equal(s2.pages_4k, 511 + 16); /* and the second block's own */
	assert_false(gmem_is_ram(&gm, 0x123800));
	assert_true(gmem_is_ram(&gm, 0x122fff));
	assert_false(gmem_covers(&gm, 0x122000, 8192));
	assert_int_equal(gmem_read(&gm, 0x122800, buf, 4096), -1);
	assert_int_equal(gmem_write(&gm, 0x123000, buf, 1), -1);
	assert_null(gmem_ptr(&gm, 0x123000, 16));
	assert_null(gmem_ptr(&gm, 0x122000, 8192));
	assert_non_null(gmem_ptr(&gm, 0x124000, 8192));
	/* not yet keel's: pending until the flush */
	assert_int_equal(frees, 0);
	assert_int_equal(bm.nr_pending, 1);
	balloon_mem_commit(&bm);
	assert_int_equal(flushes, 1);
	assert_int_equal(frees, 1);
	assert_int_equal(pool.count, 1);
	assert_int_equal(pool.head, ext[0].hpa + 0x123000);
	balloon_mem_commit(&bm); /* nothing pending: no flush */
	assert_int_equal(flushes, 1);
	assert_int_equal(bm.inflated, 1);
}

static void refuses_what_is_not_ram(void **state)
{
	(void)state;
	assert_int_equal(balloon_mem_inflate(&bm, 0x400), BALLOON_BAD); /* the gap */
	assert_int_equal(balloon_mem_inflate(&bm, PAGES), BALLOON_BAD);
	assert_int_equal(balloon_mem_inflate(&bm, 0xFFFFFFFFu), BALLOON_BAD);
	assert_int_equal(balloon_mem_deflate(&bm, 0x400), BALLOON_BAD);
	assert_int_equal(balloon_mem_deflate(&bm, 3), BALLOON_SAME); /* never inflated */
	assert_int_equal(balloon_mem_inflate(&bm, 0x50F), BALLOON_OK);
	assert_int_equal(balloon_mem_inflate(&bm, 0x50F), BALLOON_SAME);
	assert_int_equal(balloon_mem_refault(&bm, 0x400000), BALLOON_BAD);
	assert_int_equal(balloon_mem_refault(&bm, 0x1000), BALLOON_SAME);
	assert_int_equal(bm.inflated, 1);
	assert_ptr_equal(gm.frame, frames);
}

/* Deflate and refault map a zeroed frame; gmem follows the page to it. */
static void pages_come_back_zeroed(void **state)
{
	(void)state;
	uint8_t buf[3 * 4096];
	for (uint64_t gfn = 0x10; gfn < 0x13; gfn++)
		assert_int_equal(balloon_mem_inflate(&bm, gfn), BALLOON_OK);
	balloon_mem_commit(&bm);
	assert_int_equal(pool.count, 3);
	assert_int_equal(balloon_mem_deflate(&bm, 0x11), BALLOON_OK);
	assert_int_equal(bm.inflated, 2);
	uint64_t hpa = stage2_translate(&s2, 0x11000);
	assert_int_equal(hpa, frames[0x11]);
	assert_int_not_equal(hpa, ext[0].hpa + 0x11000);
	/* the pool's frame came back zeroed, though it held the guest's bytes and the pool's link */
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(((uint8_t *)(uintptr_t)hpa)[i], 0);
	assert_int_equal(balloon_mem_refault(&bm, 0x10abc), BALLOON_OK);
	assert_int_equal(bm.refaults, 1);
	assert_int_equal(balloon_mem_refault(&bm, 0x10abc), BALLOON_SAME);
	/* a copy across the extent's page, two moved pages and back */
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(gmem_write(&gm, 0x10800, buf, 0x1000), 0);
	assert_int_equal(((uint8_t *)(uintptr_t)frames[0x10])[0x800], 0x77);
	assert_int_equal(((uint8_t *)(uintptr_t)frames[0x11])[0], 0x77);
	assert_int_equal(((uint8_t *)(uintptr_t)frames[0x11])[0x800], 0);
	assert_int_equal(gmem_read(&gm, 0xF000, buf, 3 * 4096), 0);
	assert_int_equal(buf[0], 0x8F);	     /* page 0xF, still in its extent */
	assert_int_equal(buf[0x1000], 0);    /* page 0x10, fresh */
	assert_int_equal(buf[0x1800], 0x77); /* written above */
	assert_int_equal(buf[0x2800], 0);    /* page 0x11 past what was written */
	uint8_t *p = gmem_ptr(&gm, 0x11010, 16);
	assert_ptr_equal(p, (uint8_t *)(uintptr_t)frames[0x11] + 0x10);
	assert_null(gmem_ptr(&gm, 0x10000, 8192)); /* not host contiguous any more */
	assert_int_equal(gmem_read(&gm, 0x11000, buf, 0x2000), -1); /* runs onto hole 0x12 */
}

static void no_frame_left(void **state)
{
	(void)state;
	assert_int_equal(balloon_mem_inflate(&bm, 0x20), BALLOON_OK);
	out_of_frames = true;
	assert_int_equal(balloon_mem_refault(&bm, 0x20000), BALLOON_FAIL);
	assert_int_equal(balloon_mem_deflate(&bm, 0x20), BALLOON_FAIL);
	assert_false(gmem_is_ram(&gm, 0x20000));
	assert_int_equal(balloon_mem_fill_all(&bm), -1);
	out_of_frames = false;
	assert_int_equal(balloon_mem_fill_all(&bm), 0);
	assert_int_equal(bm.inflated, 0);
	assert_true(gmem_is_ram(&gm, 0x20000));
}

/* More pages than one flush covers: the list commits by itself, every frame reaches the pool. */
static void pending_overflows_into_a_flush(void **state)
{
	(void)state;
	for (uint64_t gfn = 0x200; gfn < 0x200 + BALLOON_MEM_PENDING + 10; gfn++)
		assert_int_equal(balloon_mem_inflate(&bm, gfn), BALLOON_OK);
	assert_int_equal(flushes, 1);
	assert_int_equal(frees, BALLOON_MEM_PENDING);
	balloon_mem_commit(&bm);
	assert_int_equal(pool.count, BALLOON_MEM_PENDING + 10);
	/* the 2 MiB leaf at 0x200000 fully split, the one at 0 untouched */
	assert_int_equal(s2.pages_2m, 1);
	assert_int_equal(balloon_mem_fill_all(&bm), 0);
	assert_int_equal(pool.count, 0);
	for (uint64_t gfn = 0x200; gfn < 0x200 + BALLOON_MEM_PENDING + 10; gfn++)
		assert_int_equal(stage2_translate(&s2, gfn * 4096), frames[gfn]);
}

static void page_pool_lifo(void **state)
{
	(void)state;
	struct page_pool p = { 0, 0 };
	uint8_t *a = aligned_alloc(4096, 4096), *b = aligned_alloc(4096, 4096);
	memset(a, 0xAA, 4096);
	memset(b, 0xBB, 4096);
	assert_int_equal(page_pool_get(&p), 0);
	page_pool_put(&p, (uint64_t)(uintptr_t)a);
	page_pool_put(&p, (uint64_t)(uintptr_t)b);
	assert_int_equal(p.count, 2);
	assert_int_equal(page_pool_get(&p), (uint64_t)(uintptr_t)b);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(page_pool_get(&p), (uint64_t)(uintptr_t)a);
	assert_int_equal(a[4095], 0);
	assert_int_equal(p.count, 0);
	assert_int_equal(page_pool_get(&p), 0);
	free(a);
	free(b);
}

/* The follower loses a page when stage 2 does and gets it back with the same frame; when it
 * cannot follow, the page stays a hole and its frame goes back. */
static void translations_follow_stage2(void **state)
{
	(void)state;
	assert_int_equal(stage2_init(&follower, &npt, &s2_alloc), 0);
	assert_int_equal(stage2_map(&follower, 0, ext[0].hpa, RAM0), 0);
	balloon_mem_init(&bm, &gm, &s2, &follow_ops, frames, PAGES);
	assert_int_equal(balloon_mem_inflate(&bm, 0x20), BALLOON_OK);
	/* gone from the follower before the frame is anyone's (that waits for the flush) */
	assert_int_equal(stage2_translate(&follower, 0x20000), UINT64_MAX);
	assert_int_equal(stage2_translate(&follower, 0x21000), ext[0].hpa + 0x21000);
	assert_int_equal(frees, 0);
	balloon_mem_commit(&bm);
	assert_int_equal(balloon_mem_deflate(&bm, 0x20), BALLOON_OK);
	assert_int_equal(stage2_translate(&follower, 0x20000), stage2_translate(&s2, 0x20000));
	assert_true(stage2_translate(&follower, 0x20000) != UINT64_MAX);
	/* a follower that cannot map: the page is a hole in both, its frame keel's again */
	assert_int_equal(balloon_mem_inflate(&bm, 0x21), BALLOON_OK);
	balloon_mem_commit(&bm);
	unsigned freed = frees;
	follower_refuses = true;
	assert_int_equal(balloon_mem_deflate(&bm, 0x21), BALLOON_FAIL);
	follower_refuses = false;
	assert_int_equal(stage2_translate(&s2, 0x21000), UINT64_MAX);
	assert_int_equal(stage2_translate(&follower, 0x21000), UINT64_MAX);
	assert_int_equal(frames[0x21], GMEM_FRAME_HOLE);
	assert_int_equal(frees, freed + 1);
	assert_int_equal(follower_calls, 4);
	assert_int_equal(bm.inflated, 1);
	/* a follower that cannot unmap: the page stays the guest's in both */
	follower_refuses = true;
	assert_int_equal(balloon_mem_inflate(&bm, 0x22), BALLOON_FAIL);
	follower_refuses = false;
	assert_int_equal(stage2_translate(&s2, 0x22000), ext[0].hpa + 0x22000);
	assert_int_equal(stage2_translate(&follower, 0x22000), ext[0].hpa + 0x22000);
	assert_int_equal(frames[0x22], GMEM_FRAME_OWN);
	assert_int_equal(bm.nr_pending, 0);
	assert_int_equal(bm.inflated, 1);
	stage2_free(&follower);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(inflate_unmaps_then_frees),	   T(refuses_what_is_not_ram),
		T(pages_come_back_zeroed),	   T(no_frame_left),
		T(pending_overflows_into_a_flush), cmocka_unit_test(page_pool_lifo),
		T(translations_follow_stage2),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
