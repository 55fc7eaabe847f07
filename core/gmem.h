/* Guest memory: the one bounds-checked way keel touches a VM's RAM (DESIGN.md, "A guest is
 * hostile"). A VM's RAM is backed by whatever host blocks were free when it was set up
 * (core/guest_ram.c): a sorted array of extents, each a guest-physical range and the host memory
 * behind it. In keel the host address is the identity-mapped physical one; in host tests it is a
 * malloc'ed buffer. Every accessor checks the whole [gpa, gpa + len) against the extents, with no
 * wrap; a guest-contiguous range may span several extents, which need not be host neighbours.
 *
 * Invariant keel's extents keep (guest_ram.c): gpa, size and hpa are multiples of 4 KiB, so a
 * range inside one 4 KiB guest page always lies in one extent.
 *
 * The balloon (core/balloon_mem.h) changes single pages under the extents: a page the guest gave
 * away is a hole (its frame is keel's again: no accessor reaches it, gmem_covers and gmem_is_ram
 * say no, a copy touching it fails whole), a page refaulted later lives in another host frame.
 * `frame` holds one entry per 4 KiB guest page below nr_frames pages once a VM has ballooned
 * (NULL before, and the accessors run as they always did). */
#ifndef KEEL_CORE_GMEM_H
#define KEEL_CORE_GMEM_H

#include "lib/types.h"

struct gmem_extent {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva; /* where keel reaches it */
	uint64_t hpa; /* what stage 2 maps it to, and what goes back to the allocator */
};

/* entries of guest_mem.frame: anything else is the host address of the page's own frame */
#define GMEM_FRAME_OWN 0  /* the extent's host memory, as set up */
#define GMEM_FRAME_HOLE 1 /* in the balloon: no host memory */

struct guest_mem {
	struct gmem_extent *ext; /* sorted by gpa, not overlapping */
	unsigned nr;
	uint64_t *frame;    /* per guest page: GMEM_FRAME_OWN, _HOLE or a host address; or NULL */
	uint64_t nr_frames; /* pages frame covers (from guest-physical 0) */
};

/* The extent holding gpa, or NULL (holes included: the extent says where the guest's RAM is). */
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
/* True when gpa is guest RAM (a balloon's hole is not, until it is refaulted). */
bool gmem_is_ram(const struct guest_mem *m, uint64_t gpa);

#endif
