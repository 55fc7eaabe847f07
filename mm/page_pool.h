/* Single 4 KiB host frames that came back to keel one by one (pages a guest gave its balloon,
 * core/balloon_mem.h). phys_pool (mm/phys.h) keeps at most PHYS_MAX_RANGES free ranges, and a
 * balloon frees pages scattered over a VM's blocks: given to phys_free they would exhaust the
 * ranges and be lost. So they go on this stack instead, linked through the free frames
 * themselves (each holds the address of the next): no bookkeeping memory, any number of frames,
 * O(1) either way. A frame reaches the stack only once no guest can write it (its stage-2
 * mapping is gone and every TLB flushed), so no guest can reach the links. Frames are reached
 * through keel's identity map (in host tests the address is a pointer). Not locked: the caller
 * holds keel's allocator lock. Host-tested in tests/unit/test_balloon_mem.c. */
#ifndef KEEL_MM_PAGE_POOL_H
#define KEEL_MM_PAGE_POOL_H

#include "lib/types.h"

struct page_pool {
	uint64_t head;	/* the top frame, 0 when empty */
	uint64_t count; /* frames on the stack */
};

/* Frame hpa (4 KiB aligned, not 0) joins the pool. */
void page_pool_put(struct page_pool *p, uint64_t hpa);
/* A zeroed frame from the pool, or 0 when it is empty. */
uint64_t page_pool_get(struct page_pool *p);

#endif
