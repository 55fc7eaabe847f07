#include "core/guest_ram.h"

#include "mm/phys.h"

/* Bytes of guest RAM from gpa a block needs to hold one stage-2 leaf of leaf bytes at a guest
 * address aligned to leaf; 0 when [gpa, gpa + left) holds none, so that alignment buys nothing. */
static uint64_t leaf_need(uint64_t gpa, uint64_t left, uint64_t leaf)
{
	uint64_t need = ALIGN_UP(gpa, leaf) - gpa + leaf;
	return need <= left ? need : 0;
}

/* One block for the guest range at gpa with left bytes to go: the largest congruent to gpa modulo
 * 1 GiB that holds a 1 GiB leaf, else modulo 2 MiB holding a 2 MiB leaf, else any. A block that
 * completes the range is the largest there is, so it is never refused for being small. */
static uint64_t take_block(struct phys_pool *p, uint64_t gpa, uint64_t left, uint64_t *size)
{
	static const uint64_t leaves[] = { GiB, 2 * MiB };

	for (unsigned i = 0; i < ARRAY_SIZE(leaves); i++) {
		uint64_t need = leaf_need(gpa, left, leaves[i]);
		if (!need)
			continue;
		uint64_t hpa =
			phys_alloc_upto(p, left, need, leaves[i], gpa & (leaves[i] - 1), size);
		if (hpa)
			return hpa;
	}
	return phys_alloc_upto(p, left, PAGE_SIZE, PAGE_SIZE, 0, size);
}

int guest_ram_alloc(struct phys_pool *p, uint64_t gpa, uint64_t size, struct gmem_extent *ext,
		    unsigned max, unsigned *nr)
{
	unsigned first = *nr;

	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) || gpa + size < gpa)
		return -1;
	for (uint64_t done = 0; done < size;) {
		uint64_t got, hpa;
		if (*nr == max || !(hpa = take_block(p, gpa + done, size - done, &got))) {
			guest_ram_free(p, ext + first, *nr - first);
			*nr = first;
			return -1;
		}
		ext[(*nr)++] =
			(struct gmem_extent){ gpa + done, got, (uint8_t *)(uintptr_t)hpa, hpa };
		done += got;
	}
	return 0;
}

void guest_ram_free(struct phys_pool *p, const struct gmem_extent *ext, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		phys_free(p, ext[i].hpa, ext[i].size);
}
