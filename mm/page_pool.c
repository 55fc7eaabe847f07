#include "mm/page_pool.h"

#include "lib/kstring.h"
#include "mm/phys.h"

void page_pool_put(struct page_pool *p, uint64_t hpa)
{
	uint64_t *frame = (uint64_t *)(uintptr_t)hpa;
	frame[0] = p->head;
	p->head = hpa;
	p->count++;
}

uint64_t page_pool_get(struct page_pool *p)
{
	uint64_t hpa = p->head;
	if (!hpa)
		return 0;
	uint64_t *frame = (uint64_t *)(uintptr_t)hpa;
	p->head = frame[0];
	p->count--;
	/* the whole frame: the link, and whatever the guest left before it gave the page away */
	memset(frame, 0, PAGE_SIZE);
	return hpa;
}
