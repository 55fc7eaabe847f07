#include "core/kmem.h"

#include "core/guest_ram.h"
#include "drivers/iommu_hw.h"
#include "lib/kstring.h"
#include "lib/spinlock.h"
#include "mm/page_pool.h"
#include "mm/phys.h"

static struct phys_pool *pool;
static struct page_pool frames; /* 4 KiB frames balloons gave back */
static uint64_t used;
/* every CPU allocates from the one pool */
static struct spinlock lock;

void kmem_init(struct phys_pool *p)
{
	pool = p;
}

void *kmem_alloc_pages(uint64_t bytes, uint64_t align)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	spin_lock(&lock);
	uint64_t pa = phys_alloc(pool, bytes, align < PAGE_SIZE ? PAGE_SIZE : align);
	if (pa)
		used += bytes;
	spin_unlock(&lock);
	if (!pa)
		return NULL;
	void *p = (void *)(uintptr_t)pa;
	memset(p, 0, bytes);
	return p;
}

void kmem_free_pages(void *p, uint64_t bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	spin_lock(&lock);
	used -= bytes;
	phys_free(pool, (uint64_t)(uintptr_t)p, bytes);
	spin_unlock(&lock);
}

int kmem_alloc_guest_ram(uint64_t gpa, uint64_t bytes, struct gmem_extent *ext, unsigned max,
			 unsigned *nr)
{
	spin_lock(&lock);
	unsigned first = *nr;
	int r = guest_ram_alloc(pool, gpa, bytes, ext, max, nr);
	spin_unlock(&lock);
	for (unsigned i = first; r == 0 && i < *nr; i++)
		iommu_dma_allow(ext[i].hpa, ext[i].size);
	return r;
}

void kmem_free_guest_ram(const struct gmem_extent *ext, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		iommu_dma_revoke(ext[i].hpa, ext[i].size);
	spin_lock(&lock);
	guest_ram_free(pool, ext, nr);
	spin_unlock(&lock);
}

uint64_t kmem_alloc_frame(void)
{
	spin_lock(&lock);
	uint64_t pa = page_pool_get(&frames);
	bool zeroed = pa != 0;
	if (!pa)
		pa = phys_alloc(pool, PAGE_SIZE, PAGE_SIZE);
	spin_unlock(&lock);
	if (pa && !zeroed)
		memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
	if (pa)
		iommu_dma_allow(pa, PAGE_SIZE);
	return pa;
}

void kmem_give_frame(uint64_t hpa)
{
	iommu_dma_revoke(hpa, PAGE_SIZE);
	spin_lock(&lock);
	page_pool_put(&frames, hpa);
	spin_unlock(&lock);
}

uint64_t kmem_free_bytes(void)
{
	return pool->free_bytes + frames.count * PAGE_SIZE;
}

uint64_t kmem_largest_free(void)
{
	spin_lock(&lock);
	uint64_t n = phys_largest_free(pool, PAGE_SIZE);
	spin_unlock(&lock);
	return n;
}

uint64_t kmem_used_bytes(void)
{
	return used;
}
