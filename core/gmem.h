/* Guest memory: the one bounds-checked way keel touches a VM's RAM (DESIGN.md, "A guest is
 * hostile"). A VM's RAM is backed by whatever host blocks were free when it was set up
 * (core/guest_ram.c): a sorted array of extents, each a guest-physical range and the host memory
 * behind it. In keel the host address is the identity-mapped physical one; in host tests it is a
 * malloc'ed buffer. Every accessor checks the whole [gpa, gpa + len) against the extents, with no
 * wrap; a guest-contiguous range may span several extents, which need not be host neighbours.
 *
 * Invariant keel's extents keep (guest_ram.c): gpa, size and hpa are multiples of 4 KiB, so a
 * range inside one 4 KiB guest page always lies in one extent. */
#ifndef KEEL_CORE_GMEM_H
#define KEEL_CORE_GMEM_H

#include "lib/types.h"

struct gmem_extent {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva; /* where keel reaches it */
	uint64_t hpa; /* what stage 2 maps it to, and what goes back to the allocator */
};

struct guest_mem {
	struct gmem_extent *ext; /* sorted by gpa, not overlapping */
	unsigned nr;
};

/* The extent holding gpa, or NULL. */
const struct gmem_extent *gmem_find(const struct guest_mem *m, uint64_t gpa);
/* Host pointer to [gpa, gpa + len) when it lies inside one extent (host contiguous), else NULL:
 * for a structure that must be written in place; anything larger than a page that may cross an
 * extent goes through gmem_read/gmem_write instead. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* True when every byte of [gpa, gpa + len) is guest RAM (len > 0, no wrap). */
bool gmem_covers(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* 0, or -1 (nothing copied) when any byte is outside guest RAM. */
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int gmem_fill(const struct guest_mem *m, uint64_t gpa, uint8_t byte, uint64_t len);
/* True when gpa is guest RAM. */
bool gmem_is_ram(const struct guest_mem *m, uint64_t gpa);

#endif
