/* Host RAM behind a VM's guest RAM: whatever blocks the physical allocator has free, so a VM fits
 * wherever the host has enough memory in total, however fragmented. Pure logic over a phys_pool:
 * host-tested in tests/unit/test_guest_ram.c. */
#ifndef KEEL_CORE_GUEST_RAM_H
#define KEEL_CORE_GUEST_RAM_H

#include "core/gmem.h"

struct phys_pool;

/* Backs guest RAM [gpa, gpa + size) (4 KiB aligned) with host blocks, appending one extent per
 * block to ext[*nr ...] (room for max in all) in guest-physical order. Each block's host address
 * is congruent to its guest address modulo 1 GiB where a 1 GiB stage-2 leaf fits in the guest
 * range, else modulo 2 MiB where a 2 MiB leaf fits, so stage 2 keeps its large leaves. 0, or -1
 * with every block this call took given back and *nr as it was. hva is the identity-mapped hpa. */
int guest_ram_alloc(struct phys_pool *p, uint64_t gpa, uint64_t size, struct gmem_extent *ext,
		    unsigned max, unsigned *nr);
/* Gives every extent's host block back. */
void guest_ram_free(struct phys_pool *p, const struct gmem_extent *ext, unsigned nr);

#endif
