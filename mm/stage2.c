#include "mm/stage2.h"

#define ADDR_MASK 0x000ffffffffff000ull
#define LEVEL_SHIFT(l) (12 + 9 * ((l)-1))

int stage2_init(struct stage2 *s2, const struct stage2_format *fmt, const struct stage2_alloc *a)
{
	s2->fmt = fmt;
	s2->alloc = *a;
	s2->pages_4k = s2->pages_2m = s2->pages_1g = 0;
	s2->root = a->alloc_page(a->ctx);
	s2->table_pages = s2->root ? 1 : 0;
	return s2->root ? 0 : -1;
}

static bool present(const struct stage2 *s2, uint64_t e)
{
	return (e & s2->fmt->present_mask) != 0;
}

/* Whether present entry e of level `level` is a leaf rather than a table. */
static bool is_leaf(const struct stage2 *s2, uint64_t e, int level)
{
	if (level == 1)
		return true;
	if (level > 3)
		return false;
	if (s2->fmt->next_level_shift)
		return ((e >> s2->fmt->next_level_shift) & 7) == 0;
	return (e & s2->fmt->large_bit) != 0;
}

/* The entry of level `level` pointing to the table at pa (of level `level` - 1). */
static uint64_t table_entry(const struct stage2 *s2, uint64_t pa, int level)
{
	uint64_t e = pa | s2->fmt->table_bits;

	if (s2->fmt->next_level_shift)
		e |= (uint64_t)(level - 1) << s2->fmt->next_level_shift;
	return e;
}

/* Maps one leaf of level `level` (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) at gpa with rights and
 * memory type `flags`. */
static int map_leaf(struct stage2 *s2, uint64_t gpa, uint64_t hpa, int level, uint64_t flags)
{
	uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, s2->root);

	for (int l = 4; l > level; l--) {
		unsigned idx = (gpa >> LEVEL_SHIFT(l)) & 511;
		uint64_t e = t[idx];
		if (!present(s2, e)) {
			uint64_t pa = s2->alloc.alloc_page(s2->alloc.ctx);
			if (!pa)
				return -1;
			s2->table_pages++;
			e = table_entry(s2, pa, l);
			t[idx] = e;
		} else if (is_leaf(s2, e, l)) {
			return -1; /* already covered by a large leaf */
		}
		t = s2->alloc.table_ptr(s2->alloc.ctx, e & ADDR_MASK);
	}
	unsigned idx = (gpa >> LEVEL_SHIFT(level)) & 511;
	if (present(s2, t[idx]))
		return -1;
	t[idx] = hpa | flags | (level > 1 ? s2->fmt->large_bit : 0);
	if (level == 3)
		s2->pages_1g++;
	else if (level == 2)
		s2->pages_2m++;
	else
		s2->pages_4k++;
	return 0;
}

int stage2_map(struct stage2 *s2, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	if (!IS_ALIGNED(gpa | hpa | size, 4096) || !range_within(gpa, size, 1ull << 48) ||
	    !range_within(hpa, size, 1ull << 52))
		return -1;
	while (size) {
		int level = 1;
		if (s2->fmt->gib_leaves && IS_ALIGNED(gpa | hpa, GiB) && size >= GiB)
			level = 3;
		else if (s2->fmt->mib_leaves && IS_ALIGNED(gpa | hpa, 2 * MiB) && size >= 2 * MiB)
			level = 2;
		if (map_leaf(s2, gpa, hpa, level, s2->fmt->leaf_rwx))
			return -1;
		uint64_t step = 1ull << LEVEL_SHIFT(level);
		gpa += step;
		hpa += step;
		size -= step;
	}
	return 0;
}

int stage2_map_device(struct stage2 *s2, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	if (!s2->fmt->leaf_device || !IS_ALIGNED(gpa | hpa | size, 4096) ||
	    !range_within(gpa, size, 1ull << 48) || !range_within(hpa, size, 1ull << 52))
		return -1;
	for (uint64_t off = 0; off < size; off += 4096)
		if (map_leaf(s2, gpa + off, hpa + off, 1, s2->fmt->leaf_device)) {
			stage2_unmap_range(s2, gpa, off);
			return -1;
		}
	return 0;
}

/* Replaces the large leaf *e of level `level` (2 or 3) by a table of 512 leaves of the level
 * below mapping the same host memory with the same rights. The entry changes in one store, so a
 * walker sees the old leaf or the new table, both translating alike (Intel SDM vol 3, 29.4.3.1:
 * the stale large translation may stay cached until the caller's flush, and is still right). */
static int split_leaf(struct stage2 *s2, uint64_t *e, int level)
{
	if (level == 3 && !s2->fmt->mib_leaves)
		return -1; /* no CPU has 1 GiB leaves without 2 MiB ones */
	uint64_t pa = s2->alloc.alloc_page(s2->alloc.ctx);
	if (!pa)
		return -1;
	uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, pa);
	uint64_t base = *e & ADDR_MASK & ~((1ull << LEVEL_SHIFT(level)) - 1);
	uint64_t step = 1ull << LEVEL_SHIFT(level - 1);
	uint64_t flags = s2->fmt->leaf_rwx | (level - 1 > 1 ? s2->fmt->large_bit : 0);
	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * step) | flags;
	s2->table_pages++;
	if (level == 3) {
		s2->pages_1g--;
		s2->pages_2m += 512;
	} else {
		s2->pages_2m--;
		s2->pages_4k += 512;
	}
	__atomic_store_n(e, table_entry(s2, pa, level), __ATOMIC_RELEASE);
	return 0;
}

int stage2_unmap_page(struct stage2 *s2, uint64_t gpa, uint64_t *hpa)
{
	if (!IS_ALIGNED(gpa, 4096) || gpa >> 48)
		return -1;
	uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, s2->root);
	for (int l = 4; l >= 1; l--) {
		uint64_t *e = &t[(gpa >> LEVEL_SHIFT(l)) & 511];
		if (!present(s2, *e))
			return 1;
		if (l == 1) {
			*hpa = *e & ADDR_MASK;
			__atomic_store_n(e, 0, __ATOMIC_RELEASE);
			s2->pages_4k--;
			return 0;
		}
		if (is_leaf(s2, *e, l)) {
			/* a 2 MiB leaf needs a 4 KiB table; a 1 GiB one a 2 MiB table, then that */
			if (split_leaf(s2, e, l))
				return -1;
		}
		t = s2->alloc.table_ptr(s2->alloc.ctx, *e & ADDR_MASK);
	}
	return 1;
}

static void count_leaf_gone(struct stage2 *s2, int level)
{
	if (level == 3)
		s2->pages_1g--;
	else if (level == 2)
		s2->pages_2m--;
	else
		s2->pages_4k--;
}

/* Unmaps [gpa, end) within the table at `table` of level `level`, which maps from base. */
static int unmap_range(struct stage2 *s2, uint64_t table, int level, uint64_t base, uint64_t gpa,
		       uint64_t end)
{
	uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, table);
	uint64_t span = 1ull << LEVEL_SHIFT(level);
	unsigned first = gpa > base ? (unsigned)((gpa - base) >> LEVEL_SHIFT(level)) : 0;

	for (unsigned i = first; i < 512; i++) {
		uint64_t lo = base + i * span, hi = lo + span;
		uint64_t *e = &t[i];
		if (lo >= end)
			break;
		if (!present(s2, *e))
			continue;
		bool leaf = is_leaf(s2, *e, level);
		if (leaf && gpa <= lo && hi <= end) {
			__atomic_store_n(e, 0, __ATOMIC_RELEASE);
			count_leaf_gone(s2, level);
			continue;
		}
		if (leaf && split_leaf(s2, e, level))
			return -1;
		if (unmap_range(s2, *e & ADDR_MASK, level - 1, lo, gpa, end))
			return -1;
	}
	return 0;
}

int stage2_unmap_range(struct stage2 *s2, uint64_t gpa, uint64_t size)
{
	if (!IS_ALIGNED(gpa | size, 4096) || !range_within(gpa, size, 1ull << 48))
		return -1;
	if (!size)
		return 0;
	return unmap_range(s2, s2->root, 4, 0, gpa, gpa + size);
}

uint64_t stage2_low_root(struct stage2 *s2)
{
	uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, s2->root);

	if (!present(s2, t[0])) {
		uint64_t pa = s2->alloc.alloc_page(s2->alloc.ctx);
		if (!pa)
			return 0;
		s2->table_pages++;
		__atomic_store_n(&t[0], table_entry(s2, pa, 4), __ATOMIC_RELEASE);
	}
	return t[0] & ADDR_MASK;
}

static int walk(const struct stage2 *s2, uint64_t table, int level, uint64_t gpa_base,
		int (*fn)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size), void *ctx)
{
	const uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, table);

	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		if (!present(s2, e))
			continue;
		uint64_t gpa = gpa_base + ((uint64_t)i << LEVEL_SHIFT(level));
		uint64_t span = 1ull << LEVEL_SHIFT(level);
		int r;
		if (is_leaf(s2, e, level))
			r = fn(ctx, gpa, e & ADDR_MASK & ~(span - 1), span);
		else
			r = walk(s2, e & ADDR_MASK, level - 1, gpa, fn, ctx);
		if (r)
			return r;
	}
	return 0;
}

int stage2_for_each_leaf(const struct stage2 *s2,
			 int (*fn)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size), void *ctx)
{
	return walk(s2, s2->root, 4, 0, fn, ctx);
}

uint64_t stage2_translate(const struct stage2 *s2, uint64_t gpa)
{
	const uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, s2->root);

	if (gpa >> 48)
		return UINT64_MAX;
	for (int l = 4; l >= 1; l--) {
		uint64_t e = t[(gpa >> LEVEL_SHIFT(l)) & 511];
		if (!present(s2, e))
			return UINT64_MAX;
		if (is_leaf(s2, e, l)) {
			uint64_t span = 1ull << LEVEL_SHIFT(l);
			return (e & ADDR_MASK & ~(span - 1)) | (gpa & (span - 1));
		}
		t = s2->alloc.table_ptr(s2->alloc.ctx, e & ADDR_MASK);
	}
	return UINT64_MAX;
}

/* Frees the tables below `table` (of level `level`), then `table` itself. */
static void free_tables(struct stage2 *s2, uint64_t table, int level)
{
	const uint64_t *t = s2->alloc.table_ptr(s2->alloc.ctx, table);

	for (unsigned i = 0; level > 1 && i < 512; i++) {
		uint64_t e = t[i];
		if (present(s2, e) && !is_leaf(s2, e, level))
			free_tables(s2, e & ADDR_MASK, level - 1);
	}
	s2->alloc.free_page(s2->alloc.ctx, table);
	s2->table_pages--;
}

void stage2_free(struct stage2 *s2)
{
	if (s2->root)
		free_tables(s2, s2->root, 4);
	s2->root = 0;
	s2->pages_4k = s2->pages_2m = s2->pages_1g = 0;
}
