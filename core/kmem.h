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
/* Guest RAM: not zeroed by this call, 2 MiB aligned (or 1 GiB when it is that large). */
uint64_t kmem_alloc_guest_ram(uint64_t bytes);
void kmem_free_guest_ram(uint64_t pa, uint64_t bytes);
uint64_t kmem_free_bytes(void);
/* Bytes keel took for its own structures so far (not guest RAM). */
uint64_t kmem_used_bytes(void);

#endif
