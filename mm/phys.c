#include "mm/phys.h"

#include "lib/kstring.h"

void phys_pool_init(struct phys_pool *p)
{
	memset(p, 0, sizeof(*p));
}

static void remove_at(struct phys_pool *p, unsigned i)
{
	memmove(&p->ranges[i], &p->ranges[i + 1], (p->nr - i - 1) * sizeof(p->ranges[0]));
	p->nr--;
}

/* Inserts a range known not to overlap, merging with neighbours. */
static int insert(struct phys_pool *p, uint64_t base, uint64_t size)
{
	unsigned i = 0;

	while (i < p->nr && p->ranges[i].base < base)
		i++;
	if (i > 0 && p->ranges[i - 1].base + p->ranges[i - 1].size > base)
		return -1;
	if (i < p->nr && base + size > p->ranges[i].base)
		return -1;
	bool join_prev = i > 0 && p->ranges[i - 1].base + p->ranges[i - 1].size == base;
	bool join_next = i < p->nr && base + size == p->ranges[i].base;
	if (join_prev && join_next) {
		p->ranges[i - 1].size += size + p->ranges[i].size;
		remove_at(p, i);
	} else if (join_prev) {
		p->ranges[i - 1].size += size;
	} else if (join_next) {
		p->ranges[i].base = base;
		p->ranges[i].size += size;
	} else {
		if (p->nr == PHYS_MAX_RANGES)
			return -1; /* dropping a range only loses memory */
		memmove(&p->ranges[i + 1], &p->ranges[i], (p->nr - i) * sizeof(p->ranges[0]));
		p->ranges[i] = (struct phys_range){ base, size };
		p->nr++;
	}
	p->free_bytes += size;
	return 0;
}

int phys_add(struct phys_pool *p, uint64_t base, uint64_t size)
{
	uint64_t start = ALIGN_UP(base, PAGE_SIZE);
	if (size < start - base)
		return 0;
	uint64_t end = ALIGN_DOWN(base + size, PAGE_SIZE);
	if (end < base) /* wrapped past 2^64 */
		end = ALIGN_DOWN(UINT64_MAX, PAGE_SIZE);
	if (end <= start)
		return 0;
	if (insert(p, start, end - start))
		return -1;
	p->total_bytes += end - start;
	return 0;
}

/* Takes [base, base + size) out of range i, which contains it. */
static void carve(struct phys_pool *p, unsigned i, uint64_t base, uint64_t size)
{
	struct phys_range r = p->ranges[i];
	uint64_t end = base + size, r_end = r.base + r.size;

	p->free_bytes -= size;
	if (base == r.base && end == r_end) {
		remove_at(p, i);
	} else if (base == r.base) {
		p->ranges[i].base = end;
		p->ranges[i].size = r_end - end;
	} else if (end == r_end) {
		p->ranges[i].size = base - r.base;
	} else if (p->nr < PHYS_MAX_RANGES) {
		p->ranges[i].size = base - r.base;
		memmove(&p->ranges[i + 2], &p->ranges[i + 1], (p->nr - i - 1) * sizeof(r));
		p->ranges[i + 1] = (struct phys_range){ end, r_end - end };
		p->nr++;
	} else {
		/* no slot for the upper part: give it up rather than fail */
		p->free_bytes -= r_end - end;
		p->ranges[i].size = base - r.base;
	}
}

void phys_reserve(struct phys_pool *p, uint64_t base, uint64_t size)
{
	uint64_t end = base + size < base ? UINT64_MAX : base + size;

	for (unsigned i = 0; i < p->nr;) {
		struct phys_range r = p->ranges[i];
		uint64_t lo = MAX(r.base, base), hi = MIN(r.base + r.size, end);
		if (lo < hi) {
			unsigned before = p->nr;
			carve(p, i, lo, hi - lo);
			if (p->nr < before)
				continue; /* range i vanished; look at the one that moved in */
			if (lo == r.base)
				continue; /* range i now starts above the hole: check it again */
		}
		i++;
	}
}

uint64_t phys_alloc_range(struct phys_pool *p, uint64_t size, uint64_t align, uint64_t min,
			  uint64_t max)
{
	if (!size || !align || (align & (align - 1)) || align < PAGE_SIZE)
		return 0;
	size = ALIGN_UP(size, PAGE_SIZE);
	if (!size)
		return 0;
	for (unsigned n = p->nr; n-- > 0;) {
		struct phys_range r = p->ranges[n];
		uint64_t top = MIN(r.base + r.size, max);
		if (top < size || top - size < MAX(r.base, min))
			continue;
		uint64_t base = ALIGN_DOWN(top - size, align);
		if (base < r.base || base < min || base == 0)
			continue;
		carve(p, n, base, size);
		return base;
	}
	return 0;
}

uint64_t phys_alloc(struct phys_pool *p, uint64_t size, uint64_t align)
{
	return phys_alloc_range(p, size, align, 0, UINT64_MAX);
}

/* Range r's candidate for phys_alloc_upto: its size (0 when none) and base. */
static uint64_t upto_in_range(const struct phys_range *r, uint64_t max_size, uint64_t align,
			      uint64_t phase, uint64_t *base)
{
	uint64_t start = MAX(r->base, PAGE_SIZE), end = r->base + r->size; /* 0 means failure */
	uint64_t first = start + ((phase - start) & (align - 1));

	if (first < start || first >= end)
		return 0;
	if (end - first < max_size) {
		*base = first;
		return end - first;
	}
	*base = first + ALIGN_DOWN(end - first - max_size, align);
	return max_size;
}

uint64_t phys_alloc_upto(struct phys_pool *p, uint64_t max_size, uint64_t min_size, uint64_t align,
			 uint64_t phase, uint64_t *size)
{
	uint64_t best = 0, best_base = 0;
	unsigned best_i = 0;

	*size = 0;
	max_size = ALIGN_DOWN(max_size, PAGE_SIZE);
	if (!max_size || !align || (align & (align - 1)) || align < PAGE_SIZE || phase >= align ||
	    !IS_ALIGNED(phase, PAGE_SIZE))
		return 0;
	/* from the top down, a tie keeps the higher block: low memory stays free longest */
	for (unsigned n = p->nr; n-- > 0;) {
		uint64_t base, got = upto_in_range(&p->ranges[n], max_size, align, phase, &base);
		if (got > best) {
			best = got;
			best_base = base;
			best_i = n;
		}
	}
	if (!best || best < min_size)
		return 0;
	carve(p, best_i, best_base, best);
	*size = best;
	return best_base;
}

void phys_free(struct phys_pool *p, uint64_t base, uint64_t size)
{
	if (insert(p, base, ALIGN_UP(size, PAGE_SIZE)))
		/* a double free or a freed range we cannot track: losing it is the safe side */
		return;
}

uint64_t phys_largest_free(const struct phys_pool *p, uint64_t align)
{
	uint64_t best = 0;
	for (unsigned i = 0; i < p->nr; i++) {
		const struct phys_range *r = &p->ranges[i];
		uint64_t start = ALIGN_UP(r->base, align), end = r->base + r->size;
		if (start < end && ALIGN_DOWN(end - start, align) > best)
			best = ALIGN_DOWN(end - start, align);
	}
	return best;
}
