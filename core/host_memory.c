#include "core/host_memory.h"

#include "lib/log.h"

void host_memory_add(struct phys_pool *pool, const struct boot_info *bi, enum mem_type type)
{
	for (unsigned i = 0; i < bi->nr_memmap; i++) {
		const struct mem_range *r = &bi->memmap[i];
		if (r->type == type && phys_add(pool, r->base, r->size))
			klog("keel: memory range %llx+%llx overlaps another; left unused",
			     (unsigned long long)r->base, (unsigned long long)r->size);
	}
	phys_reserve(pool, 0, MiB);
}
