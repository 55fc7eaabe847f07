/* mm/stage2.c: leaf sizes chosen by alignment and capability, translations, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mm/stage2.h"

/* Table pages live in a malloc'ed arena; "physical" addresses are offsets + a fake base. Pages
 * are handed out once each (a freed one is not reused), so a page freed twice, or one that was
 * never handed out, is caught by free_page. */
#define ARENA_PAGES 4096
#define FAKE_BASE 0x40000000ull
static uint8_t *arena;
static unsigned arena_used;
static bool in_use[ARENA_PAGES];
static unsigned pages_live; /* handed out and not yet freed */

static uint64_t alloc_page(void *ctx)
{
	(void)ctx;
	if (arena_used == ARENA_PAGES)
		return 0;
	memset(arena + (size_t)arena_used * 4096, 0, 4096);
	in_use[arena_used] = true;
	pages_live++;
	return FAKE_BASE + (uint64_t)arena_used++ * 4096;
}

static uint64_t *table_ptr(void *ctx, uint64_t pa)
{
	(void)ctx;
	assert_true(pa >= FAKE_BASE && pa < FAKE_BASE + (uint64_t)ARENA_PAGES * 4096);
	return (uint64_t *)(arena + (pa - FAKE_BASE));
}

static void free_page(void *ctx, uint64_t pa)
{
	(void)ctx;
	assert_true(pa >= FAKE_BASE && pa < FAKE_BASE + (uint64_t)arena_used * 4096);
	assert_int_equal(pa & 4095, 0);
	unsigned i = (unsigned)((pa - FAKE_BASE) / 4096);
	assert_true(in_use[i]);
	/* a table freed while a live table still points at it would be walked after its free */
	memset(arena + (size_t)i * 4096, 0xa5, 4096);
	in_use[i] = false;
	pages_live--;
}

static const struct stage2_alloc alloc = { alloc_page, table_ptr, free_page, NULL };

/* NPT: ordinary x86 entries, U/S set everywhere */
static struct stage2_format npt = {
	.table_bits = 0x7,
	.leaf_rwx = 0x7,
	.large_bit = 0x80,
	.present_mask = 0x1,
	.gib_leaves = true,
	.mib_leaves = true,
};
/* EPT-like: R/W/X in bits 0-2, WB memory type */
static struct stage2_format ept = {
	.table_bits = 0x7,
	.leaf_rwx = 0x7 | (6 << 3),
	.large_bit = 0x80,
	.present_mask = 0x7,
	.gib_leaves = false,
	.mib_leaves = true,
};

/* AMD-Vi I/O page tables (AMD IOMMU spec 2.2.3): PR in bit 0, IR/IW in bits 61/62, a table
 * entry carries the level it points to in bits 11:9, every leaf 0 there */
static struct stage2_format amdvi = {
	.table_bits = 0x1 | (3ull << 61),
	.leaf_rwx = 0x1 | (3ull << 61),
	.large_bit = 0,
	.present_mask = 0x1,
	.gib_leaves = true,
	.mib_leaves = true,
	.next_level_shift = 9,
};

static int setup(void **state)
{
	(void)state;
	arena = aligned_alloc(4096, (size_t)ARENA_PAGES * 4096);
	arena_used = 0;
	memset(in_use, 0, sizeof(in_use));
	pages_live = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(arena);
	return 0;
}

static void largest_leaves(void **state)
{
	(void)state;
	struct stage2 s2;
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	/* 3 GiB + 6 MiB + 8 KiB of RAM at a 1 GiB aligned host address */
	uint64_t size = 3 * GiB + 6 * MiB + 8192;
	assert_int_equal(stage2_map(&s2, 0, 0x100000000ull, size), 0);
	assert_int_equal(s2.pages_1g, 3);
	assert_int_equal(s2.pages_2m, 3);
	assert_int_equal(s2.pages_4k, 2);
	for (uint64_t gpa = 0; gpa < size; gpa += 0x1234567)
		assert_int_equal(stage2_translate(&s2, gpa), 0x100000000ull + gpa);
	assert_int_equal(stage2_translate(&s2, size), UINT64_MAX);
	assert_int_equal(stage2_translate(&s2, 1ull << 48), UINT64_MAX);
}

struct leaf_count {
	uint64_t bytes, last_gpa;
	unsigned leaves, stop_at; /* stop_at: the leaf whose callback answers 7 (0: none) */
};

static int count_leaf(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct leaf_count *c = ctx;
	assert_int_equal(hpa, 0x100000000ull + gpa); /* as mapped below */
	assert_true(c->leaves == 0 || gpa > c->last_gpa);
	c->bytes += size;
	c->last_gpa = gpa;
	c->leaves++;
	return c->leaves == c->stop_at ? 7 : 0;
}

static void walks_every_leaf(void **state)
{
	(void)state;
	struct stage2 s2;
	struct leaf_count c = { 0, 0, 0, 0 };
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x100000000ull, 3 * GiB + 6 * MiB + 8192), 0);
	assert_int_equal(stage2_for_each_leaf(&s2, count_leaf, &c), 0);
	assert_int_equal(c.bytes, 3 * GiB + 6 * MiB + 8192);
	assert_int_equal(c.leaves, 3 + 3 + 2);
	/* a callback's non-zero answer stops the walk and comes back */
	struct leaf_count stop = { 0, 0, 0, 4 };
	assert_int_equal(stage2_for_each_leaf(&s2, count_leaf, &stop), 7);
	assert_int_equal(stop.leaves, 4);
}

static void misaligned_host_gets_small_pages(void **state)
{
	(void)state;
	struct stage2 s2;
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	/* host address only 4 KiB aligned: no large leaf can be used */
	assert_int_equal(stage2_map(&s2, 0x200000, 0x12345000, 4 * MiB), 0);
	assert_int_equal(s2.pages_2m, 0);
	assert_int_equal(s2.pages_4k, 1024);
	assert_int_equal(stage2_translate(&s2, 0x200000 + 0x3456), 0x12345000 + 0x3456);
}

static void capability_gates_leaf_size(void **state)
{
	(void)state;
	struct stage2 s2;
	assert_int_equal(stage2_init(&s2, &ept, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x80000000ull, 2 * GiB), 0);
	assert_int_equal(s2.pages_1g, 0);
	assert_int_equal(s2.pages_2m, 1024);
	uint64_t *root = table_ptr(NULL, s2.root);
	uint64_t *pdpt = table_ptr(NULL, root[0] & 0xffffffffff000ull);
	uint64_t *pd = table_ptr(NULL, pdpt[1] & 0xffffffffff000ull);
	assert_int_equal(pd[3], (0x80000000ull + GiB + 3 * 2 * MiB) | 0x7 | (6 << 3) | 0x80);
}

static void refuses_overlap_and_bad_ranges(void **state)
{
	(void)state;
	struct stage2 s2;
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x200000, 2 * MiB), 0);
	assert_int_equal(stage2_map(&s2, 0x1000, 0x5000, 4096), -1); /* inside the 2 MiB leaf */
	assert_int_equal(stage2_map(&s2, 0x100, 0x5000, 4096), -1);
	assert_int_equal(stage2_map(&s2, 0x400000, 0x5001, 4096), -1);
	assert_int_equal(stage2_map(&s2, (1ull << 48) - 4096, 0x5000, 8192), -1);
	assert_int_equal(stage2_map(&s2, 0x400000, UINT64_MAX & ~0xfffull, 8192), -1);
	assert_int_equal(stage2_map(&s2, 0x400000, 0x5000, 4096), 0);
	assert_int_equal(stage2_map(&s2, 0x400000, 0x6000, 4096), -1); /* already mapped */
}

static void out_of_table_pages(void **state)
{
	(void)state;
	struct stage2 s2;
	arena_used = ARENA_PAGES - 2;
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x1000, 8192), -1);
}

/* Every table page goes back, whatever mix of leaves and levels the tables hold. */
static void free_returns_every_table(void **state)
{
	(void)state;
	struct stage2 s2;
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	/* 1 GiB, 2 MiB and 4 KiB leaves, two PML4 slots, one PDPT with both large and table
	 * entries */
	assert_int_equal(stage2_map(&s2, 0, 0x100000000ull, 3 * GiB + 6 * MiB + 8192), 0);
	assert_int_equal(stage2_map(&s2, 0x8000000000ull, 0x12345000, 4 * MiB), 0);
	assert_int_equal(stage2_map(&s2, 0x8000600000ull, 0x40000000, 2 * MiB), 0);
	assert_true(pages_live > 4);
	assert_int_equal(s2.table_pages, pages_live);
	stage2_free(&s2);
	assert_int_equal(pages_live, 0);
	assert_int_equal(s2.table_pages, 0);
	assert_int_equal(s2.root, 0);
	assert_int_equal(s2.pages_4k + s2.pages_2m + s2.pages_1g, 0);
	/* built again from nothing, as a VM built after another one's end */
	assert_int_equal(stage2_init(&s2, &ept, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x80000000ull, 2 * GiB + 4096), 0);
	assert_int_equal(stage2_translate(&s2, GiB + 5), 0x80000000ull + GiB + 5);
	stage2_free(&s2);
	assert_int_equal(pages_live, 0);
}

/* A map that ran out of pages half way leaves tables without leaves: those go back too. */
static void free_after_failed_map(void **state)
{
	(void)state;
	struct stage2 s2;
	arena_used = ARENA_PAGES - 3;
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x1000, 8192), -1);
	assert_int_equal(pages_live, 3);
	stage2_free(&s2);
	assert_int_equal(pages_live, 0);
	/* and a stage 2 whose root could not be had frees nothing */
	assert_int_equal(stage2_init(&s2, &npt, &alloc), -1);
	stage2_free(&s2);
	assert_int_equal(pages_live, 0);
}

/* Pages leave one at a time: a 1 GiB leaf becomes 2 MiB leaves, only the 2 MiB leaf around the
 * page becomes 4 KiB ones, every other page keeps its translation, and the page maps again. */
static void unmap_splits_only_where_needed(void **state)
{
	(void)state;
	struct stage2 s2;
	uint64_t hpa = 0;
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x100000000ull, GiB + 4 * MiB), 0);
	assert_int_equal(s2.pages_1g, 1);
	assert_int_equal(s2.pages_2m, 2);
	uint64_t tables = s2.table_pages;
	assert_int_equal(stage2_unmap_page(&s2, 0x12345000, &hpa), 0);
	assert_int_equal(hpa, 0x112345000ull);
	assert_int_equal(s2.table_pages, tables + 2);
	assert_int_equal(s2.pages_1g, 0);
	assert_int_equal(s2.pages_2m, 2 + 511);
	assert_int_equal(s2.pages_4k, 511);
	assert_int_equal(stage2_translate(&s2, 0x12345000), UINT64_MAX);
	assert_int_equal(stage2_translate(&s2, 0x12344fff), 0x112344fffull);
	assert_int_equal(stage2_translate(&s2, 0x12346000), 0x112346000ull);
	assert_int_equal(stage2_translate(&s2, 0x3fffffff), 0x13fffffffull);
	assert_int_equal(stage2_translate(&s2, 0x40100000), 0x140100000ull);
	/* a neighbour in the same 2 MiB: no new table; again: not mapped */
	assert_int_equal(stage2_unmap_page(&s2, 0x12346000, &hpa), 0);
	assert_int_equal(s2.table_pages, tables + 2);
	assert_int_equal(stage2_unmap_page(&s2, 0x12346000, &hpa), 1);
	assert_int_equal(stage2_unmap_page(&s2, 0x80000000ull, &hpa), 1);
	assert_int_equal(stage2_unmap_page(&s2, 0x12346001, &hpa), -1);
	/* a 2 MiB leaf of the tail: one table */
	assert_int_equal(stage2_unmap_page(&s2, 0x40200000, &hpa), 0);
	assert_int_equal(hpa, 0x140200000ull);
	assert_int_equal(s2.table_pages, tables + 3);
	/* a fresh frame maps where a page left */
	assert_int_equal(stage2_map(&s2, 0x12345000, 0x7000, 4096), 0);
	assert_int_equal(stage2_translate(&s2, 0x12345000), 0x7000);
	assert_int_equal(stage2_map(&s2, 0x12345000, 0x8000, 4096), -1);
	stage2_free(&s2);
	assert_int_equal(pages_live, 0);
}

/* No page for the split table: nothing changes. */
static void unmap_without_table_page(void **state)
{
	(void)state;
	struct stage2 s2;
	uint64_t hpa = 0;
	assert_int_equal(stage2_init(&s2, &ept, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x200000, 2 * MiB), 0);
	arena_used = ARENA_PAGES;
	assert_int_equal(stage2_unmap_page(&s2, 0x1000, &hpa), -1);
	assert_int_equal(stage2_translate(&s2, 0x1000), 0x201000);
	assert_int_equal(s2.pages_2m, 1);
}

/* Leaves of every size in AMD-Vi's format: tables say the next level, leaves 0. */
static void next_level_field(void **state)
{
	(void)state;
	struct stage2 s2;
	uint64_t hpa = 0;
	assert_int_equal(stage2_init(&s2, &amdvi, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0, GiB + 2 * MiB + 4096), 0);
	assert_int_equal(s2.pages_1g, 1);
	assert_int_equal(s2.pages_2m, 1);
	assert_int_equal(s2.pages_4k, 1);
	const uint64_t *pml4 = table_ptr(NULL, s2.root);
	assert_int_equal((pml4[0] >> 9) & 7, 3);
	const uint64_t *l3 = table_ptr(NULL, pml4[0] & 0xffffffffff000ull);
	assert_int_equal((l3[0] >> 9) & 7, 0); /* the 1 GiB leaf */
	assert_int_equal(l3[0], 0x1 | (3ull << 61));
	assert_int_equal((l3[1] >> 9) & 7, 2);
	const uint64_t *l2 = table_ptr(NULL, l3[1] & 0xffffffffff000ull);
	assert_int_equal((l2[0] >> 9) & 7, 0); /* the 2 MiB leaf */
	assert_int_equal((l2[1] >> 9) & 7, 1);
	assert_int_equal(stage2_translate(&s2, GiB + 2 * MiB + 0x123), GiB + 2 * MiB + 0x123);
	assert_int_equal(stage2_translate(&s2, GiB + 2 * MiB + 4096), UINT64_MAX);
	/* a split keeps the format: the 1 GiB leaf becomes a level-2 table of 2 MiB leaves */
	assert_int_equal(stage2_unmap_page(&s2, 0x5000, &hpa), 0);
	assert_int_equal(hpa, 0x5000);
	assert_int_equal((l3[0] >> 9) & 7, 2);
	assert_int_equal(stage2_translate(&s2, 0x6000), 0x6000);
	assert_int_equal(stage2_translate(&s2, 0x400000), 0x400000);
	assert_int_equal(s2.pages_2m, 1 + 511);
	assert_int_equal(s2.pages_4k, 1 + 511);
	stage2_free(&s2);
	assert_int_equal(pages_live, 0);
}

static int add_leaf_size(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	(void)gpa;
	(void)hpa;
	*(uint64_t *)ctx += size;
	return 0;
}

static uint64_t mapped_bytes(const struct stage2 *s2)
{
	uint64_t n = 0;
	assert_int_equal(stage2_for_each_leaf(s2, add_leaf_size, &n), 0);
	return n;
}

/* A range goes whole leaves at a time, large leaves at its ends split, holes skipped. */
static void unmap_range_by_leaves(void **state)
{
	(void)state;
	struct stage2 s2;
	for (int f = 0; f < 2; f++) {
		assert_int_equal(stage2_init(&s2, f ? &amdvi : &npt, &alloc), 0);
		/* 2 GiB: two 1 GiB leaves; a 2 MiB-aligned run above with a hole */
		assert_int_equal(stage2_map(&s2, 0, 0x80000000, 2 * GiB), 0);
		assert_int_equal(stage2_map(&s2, 4 * GiB, 0x200000, 8 * MiB), 0);
		assert_int_equal(stage2_map(&s2, 4 * GiB + 16 * MiB, 0x1000, 4096), 0);
		uint64_t tables = s2.table_pages;
		/* one 1 GiB leaf whole and the second cut after 6 MiB + 4 KiB */
		assert_int_equal(stage2_unmap_range(&s2, 0, GiB + 6 * MiB + 4096), 0);
		assert_int_equal(stage2_translate(&s2, GiB - 4096), UINT64_MAX);
		assert_int_equal(stage2_translate(&s2, GiB + 6 * MiB), UINT64_MAX);
		assert_int_equal(stage2_translate(&s2, GiB + 6 * MiB + 4096),
				 0x80000000 + GiB + 6 * MiB + 4096);
		assert_int_equal(stage2_translate(&s2, 2 * GiB - 4096),
				 0x80000000 + 2 * GiB - 4096);
		assert_int_equal(s2.pages_1g, 0);
		/* 508 of the split 1 GiB leaf, 4 of the run above; 511 of the split 2 MiB leaf
		 * and the lone page */
		assert_int_equal(s2.pages_2m, 508 + 4);
		assert_int_equal(s2.pages_4k, 511 + 1);
		assert_int_equal(s2.table_pages, tables + 2);
		/* over the hole between the runs and past the end: only what is mapped goes */
		assert_int_equal(stage2_unmap_range(&s2, 4 * GiB + 2 * MiB, 64 * MiB), 0);
		assert_int_equal(stage2_translate(&s2, 4 * GiB), 0x200000);
		assert_int_equal(stage2_translate(&s2, 4 * GiB + 2 * MiB), UINT64_MAX);
		assert_int_equal(stage2_translate(&s2, 4 * GiB + 16 * MiB), UINT64_MAX);
		assert_int_equal(mapped_bytes(&s2), GiB - 6 * MiB - 4096 + 2 * MiB);
		/* what left can be mapped again */
		assert_int_equal(stage2_map(&s2, 0, 0x1000, 4096), 0);
		assert_int_equal(stage2_unmap_range(&s2, 0, 1ull << 48), 0);
		assert_int_equal(mapped_bytes(&s2), 0);
		assert_int_equal(s2.pages_1g + s2.pages_2m + s2.pages_4k, 0);
		/* refusals: unaligned, past 2^48 */
		assert_int_equal(stage2_unmap_range(&s2, 0x800, 4096), -1);
		assert_int_equal(stage2_unmap_range(&s2, 0, 0x800), -1);
		assert_int_equal(stage2_unmap_range(&s2, (1ull << 48) - 4096, 8192), -1);
		stage2_free(&s2);
		assert_int_equal(pages_live, 0);
	}
}

/* No page to split a leaf at the range's end: what came before is gone, the rest stays. */
static void unmap_range_without_table_page(void **state)
{
	(void)state;
	struct stage2 s2;
	assert_int_equal(stage2_init(&s2, &ept, &alloc), 0);
	assert_int_equal(stage2_map(&s2, 0, 0x200000, 4 * MiB), 0);
	arena_used = ARENA_PAGES;
	assert_int_equal(stage2_unmap_range(&s2, 0, 3 * MiB), -1);
	assert_int_equal(stage2_translate(&s2, 0x1000), UINT64_MAX);
	assert_int_equal(stage2_translate(&s2, 2 * MiB), 0x400000);
	assert_int_equal(s2.pages_2m, 1);
}

/* A three-level walker's root: the table under the PML4's first entry, made once. */
/* The 4 KiB leaf entry mapping gpa (4-level walk), 0 when there is none */
static uint64_t leaf_of(const struct stage2 *s2, uint64_t gpa)
{
	uint64_t pa = s2->root;
	for (int l = 4; l >= 1; l--) {
		uint64_t e = table_ptr(NULL, pa)[(gpa >> (12 + 9 * (l - 1))) & 511];
		if (!(e & s2->fmt->present_mask) || (l > 1 && (e & s2->fmt->large_bit)))
			return l == 1 ? e : 0;
		if (l == 1)
			return e;
		pa = e & 0x000ffffffffff000ull;
	}
	return 0;
}

/* A passed function's BAR: 4 KiB leaves with the device flags even where 2 MiB would fit, all
 * or nothing, and refused by a format without device leaves */
static void device_leaves(void **state)
{
	(void)state;
	struct stage2 s2;
	struct stage2_format dev = ept;
	dev.leaf_device = 0x3; /* R, W, memory type 0 (UC), not executable */
	assert_int_equal(stage2_init(&s2, &dev, &alloc), 0);
	assert_int_equal(stage2_map_device(&s2, 0xc0000000, 0xfe000000, 3 * 4096), 0);
	assert_int_equal(s2.pages_4k, 3);
	assert_int_equal(s2.pages_2m, 0);
	for (uint64_t off = 0; off < 3 * 4096; off += 4096) {
		assert_int_equal(stage2_translate(&s2, 0xc0000000 + off), 0xfe000000 + off);
		assert_int_equal(leaf_of(&s2, 0xc0000000 + off), (0xfe000000 + off) | 0x3);
	}
	/* a page in the way: nothing of the range stays mapped */
	assert_int_equal(stage2_map(&s2, 0xc0102000, 0x5000, 4096), 0);
	assert_int_equal(stage2_map_device(&s2, 0xc0100000, 0xfe100000, 4 * 4096), -1);
	assert_int_equal(stage2_translate(&s2, 0xc0100000), UINT64_MAX);
	assert_int_equal(stage2_translate(&s2, 0xc0101000), UINT64_MAX);
	assert_int_equal(s2.pages_4k, 4);
	assert_int_equal(stage2_map_device(&s2, 0xc0200100, 0xfe200000, 4096), -1);
	assert_int_equal(stage2_unmap_range(&s2, 0xc0000000, 3 * 4096), 0);
	assert_int_equal(s2.pages_4k, 1);
	stage2_free(&s2);
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	assert_int_equal(stage2_map_device(&s2, 0xc0000000, 0xfe000000, 4096), -1);
	stage2_free(&s2);
}

static void low_root_for_three_levels(void **state)
{
	(void)state;
	struct stage2 s2;
	assert_int_equal(stage2_init(&s2, &amdvi, &alloc), 0);
	uint64_t low = stage2_low_root(&s2);
	assert_true(low != 0);
	assert_int_equal(s2.table_pages, 2);
	assert_int_equal(stage2_low_root(&s2), low);
	assert_int_equal(stage2_map(&s2, 2 * MiB, 2 * MiB, 4096), 0);
	assert_int_equal(s2.table_pages, 4); /* level 2 and 1 under the low root */
	const uint64_t *pml4 = table_ptr(NULL, s2.root);
	assert_int_equal(pml4[0] & 0xffffffffff000ull, low);
	stage2_free(&s2);
	assert_int_equal(pages_live, 0);
	/* no page for it */
	assert_int_equal(stage2_init(&s2, &npt, &alloc), 0);
	arena_used = ARENA_PAGES;
	assert_int_equal(stage2_low_root(&s2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(largest_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(walks_every_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(misaligned_host_gets_small_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(capability_gates_leaf_size, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_overlap_and_bad_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(out_of_table_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(free_returns_every_table, setup, teardown),
		cmocka_unit_test_setup_teardown(free_after_failed_map, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_splits_only_where_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_without_table_page, setup, teardown),
		cmocka_unit_test_setup_teardown(next_level_field, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_range_by_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_range_without_table_page, setup, teardown),
		cmocka_unit_test_setup_teardown(low_root_for_three_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(device_leaves, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
