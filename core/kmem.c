#include "core/kmem.h"

#include "lib/kstring.h"
#include "mm/phys.h"

static struct phys_pool *pool;
static uint64_t used;

void kmem_init(struct phys_pool *p)
{
	pool = p;
}

void *kmem_alloc_pages(uint64_t bytes, uint64_t align)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	uint64_t pa = phys_alloc(pool, bytes, align < PAGE_SIZE ? PAGE_SIZE : align);
	if (!pa)
		return NULL;
	used += bytes;
	void *p = (void *)(uintptr_t)pa;
	memset(p, 0, bytes);
	return p;
}

void kmem_free_pages(void *p, uint64_t bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	used -= bytes;
	phys_free(pool, (uint64_t)(uintptr_t)p, bytes);
}

uint64_t kmem_alloc_guest_ram(uint64_t bytes)
{
	return phys_alloc_guest_ram(pool, bytes);
}

void kmem_free_guest_ram(uint64_t pa, uint64_t bytes)
{
	phys_free(pool, pa, bytes);
}

uint64_t kmem_free_bytes(void)
{
	return pool->free_bytes;
}

uint64_t kmem_used_bytes(void)
{
	return used;
}
