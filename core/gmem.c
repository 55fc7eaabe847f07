#include "core/gmem.h"

#include "lib/kstring.h"

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr && i < GMEM_MAX_REGIONS; i++) {
		const struct gmem_region *r = &m->regions[i];
		if (gpa >= r->gpa && range_within(gpa - r->gpa, len, r->size))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -1;
	memcpy(p, src, len);
	return 0;
}

int gmem_fill(const struct guest_mem *m, uint64_t gpa, uint8_t byte, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -1;
	memset(p, byte, len);
	return 0;
}

bool gmem_is_ram(const struct guest_mem *m, uint64_t gpa)
{
	return gmem_ptr(m, gpa, 1) != NULL;
}
