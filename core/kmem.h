/* Memory for keel's own structures (VMCBs, bitmaps, stage-2 tables, per-VM state): whole zeroed
 * pages from the physical allocator, identity mapped. */
#ifndef KEEL_CORE_KMEM_H
#define KEEL_CORE_KMEM_H

#include "lib/types.h"

struct phys_pool;

void kmem_init(struct phys_pool *pool);
/* Zeroed, `align`-aligned (power of two ≥ 4 KiB) memory; NULL when out of memory. */
void *kmem_alloc_pages(uint64_t bytes, uint64_t align);
void kmem_free_pages(void *p, uint64_t bytes);
struct gmem_extent;
/* Guest RAM [gpa, gpa + bytes) backed by free host blocks, appended to ext (core/guest_ram.h);
 * not zeroed by this call. 0, or -1 with nothing taken. */
int kmem_alloc_guest_ram(uint64_t gpa, uint64_t bytes, struct gmem_extent *ext, unsigned max,
			 unsigned *nr);
void kmem_free_guest_ram(const struct gmem_extent *ext, unsigned nr);
uint64_t kmem_free_bytes(void);
/* The largest block of free host RAM: how fragmented it is (the shell's `mem`). */
uint64_t kmem_largest_free(void);
/* Bytes keel took for its own structures so far (not guest RAM). */
uint64_t kmem_used_bytes(void);

#endif
