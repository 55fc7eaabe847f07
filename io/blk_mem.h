/* A block backend over a disk image in keel's memory (a file the boot stage loaded beside
 * keel.cfg). Writes land in that memory and stay for as long as keel runs: across the guest's
 * restarts, but not across a power cycle (nothing is written back to the ESP or the boot
 * medium). */
#ifndef KEEL_IO_BLK_MEM_H
#define KEEL_IO_BLK_MEM_H

#include "io/blk.h"

struct blk_mem {
	struct blk_backend blk; /* first: &m->blk is what device models get */
	uint8_t *image;
};

/* image holds bytes (a multiple of 512, checked by the caller: blk_mem_init rounds down). The
 * memory must stay for the backend's life and be keel's own, never a guest's RAM. */
void blk_mem_init(struct blk_mem *m, void *image, uint64_t bytes, bool read_only);

#endif
