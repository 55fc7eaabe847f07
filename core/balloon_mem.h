/* What happens to a VM's memory when its balloon (vdev/virtio/balloon.h) moves a page: the
 * backend the device calls, pure logic over the VM's guest_mem, its stage 2 and keel's frame
 * allocator (callbacks), host-tested in tests/unit/test_balloon_mem.c.
 *
 * Inflating a page: it leaves stage 2 (stage2_unmap_page splits a large leaf only where it must),
 * becomes a hole in guest_mem (GMEM_FRAME_HOLE: every gmem accessor treats it as not RAM), and its
 * host frame waits in `pending` until commit has every vCPU of the VM forget its stage-2
 * translations; only then does the frame go back to keel (ops.free_frame; keel's page pool,
 * mm/page_pool.h), so no guest reaches a frame keel may hand to someone else.
 * Deflating a page, or a guest touching a hole (refault): a zeroed frame from keel, mapped at once,
 * recorded in guest_mem.frame; a page is never given back with anything of its past. Deflate maps
 * eagerly so the driver finds the page ready; a touch of a page still in the balloon (a driver
 * bug, or one without MUST_TELL_HOST reusing a page early) is a stage-2 fault that refaults it.
 * A request of a virtio device whose buffer lies on a hole fails as a buffer outside RAM would
 * (the queue breaks: the driver gave that page away): keel never allocates on a device's behalf.
 *
 * Locks: every call under the VM's lock, which is also what gmem's users hold, so no device copy
 * runs while a page moves. keel's allocator lock is the callbacks' business. */
#ifndef KEEL_CORE_BALLOON_MEM_H
#define KEEL_CORE_BALLOON_MEM_H

#include "core/gmem.h"
#include "mm/stage2.h"
#include "vdev/virtio/balloon.h"

/* Frames unmapped before one flush: an inflate chain's worth; more commit in between. */
#define BALLOON_MEM_PENDING VIRTIO_BALLOON_PFNS_PER_CHAIN

struct balloon_mem_ops {
	/* A zeroed 4 KiB host frame, or 0 when keel has none left. */
	uint64_t (*alloc_frame)(void *ctx);
	/* Frame hpa is keel's again: no guest can reach it. */
	void (*free_frame)(void *ctx, uint64_t hpa);
	/* When it returns, no vCPU of the VM runs with a stage-2 translation made before the call
	 * (each flushes its TLB, AMD APM vol 2, 15.16.1 / Intel SDM vol 3, 29.4.3, before it
	 * enters the guest again, and those in the guest now have left it). */
	void (*flush)(void *ctx);
	void *ctx;
	/* Optional: page gpa left stage 2 (before the flush above), or came back mapped to hpa:
	 * another translation of guest RAM (the VM's IOMMU domain) follows. Each returns 0, or -1
	 * when it could not follow: the page then stays as it was (the guest's, or a hole). */
	int (*unmapped)(void *ctx, uint64_t gpa);
	int (*mapped)(void *ctx, uint64_t gpa, uint64_t hpa);
};

struct balloon_mem {
	struct guest_mem *gm;
	struct stage2 *s2;
	const struct balloon_mem_ops *ops;
	uint64_t *
		frame; /* the caller's table, nr_frames entries, attached to gm when first needed */
	uint64_t nr_frames; /* guest pages from 0 to the end of RAM */
	uint64_t inflated;  /* pages in the balloon now (holes) */
	uint64_t refaults;  /* holes the guest touched */
	uint64_t pending[BALLOON_MEM_PENDING];
	unsigned nr_pending;
	struct balloon_backend backend; /* for virtio_balloon_init: calls the three below */
};

/* frame: nr_frames zeroed entries (one per 4 KiB page up to the end of gm's RAM). */
void balloon_mem_init(struct balloon_mem *bm, struct guest_mem *gm, struct stage2 *s2,
		      const struct balloon_mem_ops *ops, uint64_t *frame, uint64_t nr_frames);
enum balloon_rc balloon_mem_inflate(struct balloon_mem *bm, uint64_t gfn);
enum balloon_rc balloon_mem_deflate(struct balloon_mem *bm, uint64_t gfn);
/* Flushes and frees what inflate unmapped. */
void balloon_mem_commit(struct balloon_mem *bm);
/* A stage-2 fault at gpa: BALLOON_OK when it was a hole, now mapped (resume the guest);
 * BALLOON_SAME when gpa is guest RAM already mapped (another vCPU refaulted it: resume);
 * BALLOON_BAD when gpa is no RAM of the VM (not the balloon's fault); BALLOON_FAIL when keel has
 * no frame (the VM must stop). */
enum balloon_rc balloon_mem_refault(struct balloon_mem *bm, uint64_t gpa);
/* Every hole gets a zeroed frame again (a new life of the VM: loaders and firmware tables expect
 * all of RAM). -1 when keel ran out of frames on the way (the holes left stay holes). */
int balloon_mem_fill_all(struct balloon_mem *bm);

#endif
