/* Guest memory: the one bounds-checked way keel touches a VM's RAM (DESIGN.md, "A guest is
 * hostile"). A VM's RAM is a few contiguous host ranges, each mapped at a guest-physical base. In
 * keel the host address is the identity-mapped physical one; in host tests it is a malloc'ed
 * buffer. Every accessor checks the whole [gpa, gpa + len) against one region, with no wrap. */
#ifndef KEEL_CORE_GMEM_H
#define KEEL_CORE_GMEM_H

#include "lib/types.h"

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct gmem_region regions[GMEM_MAX_REGIONS];
	unsigned nr;
};

/* Host pointer to [gpa, gpa + len) when it lies inside one RAM region, else NULL. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* 0, or -1 (nothing copied) when any byte is outside guest RAM. */
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int gmem_fill(const struct guest_mem *m, uint64_t gpa, uint8_t byte, uint64_t len);
/* True when gpa is guest RAM. */
bool gmem_is_ram(const struct guest_mem *m, uint64_t gpa);

#endif
