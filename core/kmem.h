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
/* Guest RAM and the balloon's frames are what keel's devices may DMA into (disk requests go
 * straight to guest RAM): taking them adds them to keel's IOMMU domain, giving them back takes
 * them out again before anyone else may get them (drivers/iommu_hw.h). */
/* Guest RAM [gpa, gpa + bytes) backed by free host blocks, appended to ext (core/guest_ram.h);
 * not zeroed by this call. 0, or -1 with nothing taken. */
int kmem_alloc_guest_ram(uint64_t gpa, uint64_t bytes, struct gmem_extent *ext, unsigned max,
			 unsigned *nr);
void kmem_free_guest_ram(const struct gmem_extent *ext, unsigned nr);
/* Single 4 KiB frames (a balloon's pages): a zeroed one from the frames given back, else from the
 * allocator; 0 when there is none. */
uint64_t kmem_alloc_frame(void);
/* Frame hpa is keel's again (mm/page_pool.h says why it does not go back to the ranges). */
void kmem_give_frame(uint64_t hpa);
/* Free host RAM: the allocator's ranges and the single frames given back. */
uint64_t kmem_free_bytes(void);
/* The largest block of free host RAM: how fragmented it is (the shell's `mem`). */
uint64_t kmem_largest_free(void);
/* Bytes keel took for its own structures so far (not guest RAM). */
uint64_t kmem_used_bytes(void);

#endif
