/* keel's physical memory allocator: a sorted list of free ranges built from the boot memory map.
 * Allocations are page-granular and may ask for a large alignment (2 MiB or 1 GiB guest RAM, so
 * stage-2 tables can use large pages). Pure logic: host-tested in tests/unit/test_phys.c. */
#ifndef KEEL_MM_PHYS_H
#define KEEL_MM_PHYS_H

#include "lib/types.h"

#define PAGE_SIZE 4096ull
#define PHYS_MAX_RANGES 256

struct phys_range {
	uint64_t base, size;
};

struct phys_pool {
	struct phys_range ranges[PHYS_MAX_RANGES];
	unsigned nr;
	uint64_t free_bytes;
	uint64_t total_bytes; /* everything ever added */
};

void phys_pool_init(struct phys_pool *p);
/* Adds [base, base + size), trimmed to whole pages; overlapping an existing free range is a bug
 * in the caller and is refused (returns -1). */
int phys_add(struct phys_pool *p, uint64_t base, uint64_t size);
/* Removes [base, base + size) from the free ranges, wherever they overlap it. */
void phys_reserve(struct phys_pool *p, uint64_t base, uint64_t size);
/* size bytes aligned to align (a power of two, at least a page) between min and max (exclusive
 * end); 0 when nothing fits. Takes the highest fitting address so low memory stays available for
 * things that need it (AP trampolines, 32-bit DMA). */
uint64_t phys_alloc_range(struct phys_pool *p, uint64_t size, uint64_t align, uint64_t min,
			  uint64_t max);
uint64_t phys_alloc(struct phys_pool *p, uint64_t size, uint64_t align);
void phys_free(struct phys_pool *p, uint64_t base, uint64_t size);
/* The largest free block of at most max_size bytes whose base is congruent to phase modulo align
 * (a power of two, at least a page; phase below it), and of at least min_size bytes: taken, its
 * size in *size, its base returned; 0 when there is none. The congruence is what guest RAM needs:
 * a block whose host address matches its guest address modulo 2 MiB or 1 GiB can be mapped with
 * leaves that large wherever the guest range allows (core/guest_ram.c). A block smaller than
 * max_size is a whole free range's tail; one of max_size bytes sits as high as it fits. */
uint64_t phys_alloc_upto(struct phys_pool *p, uint64_t max_size, uint64_t min_size, uint64_t align,
			 uint64_t phase, uint64_t *size);
/* The largest block of size align-multiple that could be allocated at that alignment now. */
uint64_t phys_largest_free(const struct phys_pool *p, uint64_t align);

#endif
