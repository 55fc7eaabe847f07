/* virtio-balloon (virtio 1.2, 5.5): keel asks a guest to give RAM back (the target, num_pages in
 * the device configuration), the guest's driver hands pages over on the inflate queue and takes
 * them back on the deflate queue, and reports its memory statistics on the stats queue.
 *
 * The device model only checks and counts; what happens to a page is the backend's business
 * (struct balloon_backend: in keel, core/balloon_mem.c unmaps it from stage 2 and returns its
 * host frame to keel's pool; in host tests, a bitmap). Every page frame number the guest sends is
 * hostile: the backend says whether it names a page of the VM's RAM, repeated and unknown pages
 * are counted and skipped, at most VIRTIO_BALLOON_PFNS_PER_CHAIN of a chain are looked at, and
 * complaints go to a rate-limited log. Host-testable. */
#ifndef KEEL_VDEV_VIRTIO_BALLOON_H
#define KEEL_VDEV_VIRTIO_BALLOON_H

#include "vdev/virtio/virtio_pci.h"

#define VIRTIO_BALLOON_QUEUE_SIZE 16
/* Linux sends at most 256 frame numbers per chain (its VIRTIO_BALLOON_ARRAY_PFNS_MAX); a chain
 * with more has its excess ignored, so one exit handles at most 16 x 256 pages. */
#define VIRTIO_BALLOON_PFNS_PER_CHAIN 256
/* Statistics tags (5.5.6.3) keel keeps; larger tags are ignored. */
#define VIRTIO_BALLOON_NR_STATS 16
#define VIRTIO_BALLOON_S_SWAP_IN 0
#define VIRTIO_BALLOON_S_SWAP_OUT 1
#define VIRTIO_BALLOON_S_MAJFLT 2
#define VIRTIO_BALLOON_S_MINFLT 3
#define VIRTIO_BALLOON_S_MEMFREE 4
#define VIRTIO_BALLOON_S_MEMTOT 5
#define VIRTIO_BALLOON_S_AVAIL 6
#define VIRTIO_BALLOON_S_CACHES 7
#define VIRTIO_BALLOON_S_HTLB_PGALLOC 8
#define VIRTIO_BALLOON_S_HTLB_PGFAIL 9

/* Queues (5.5.2) and feature bits (5.5.3). */
#define VIRTIO_BALLOON_Q_INFLATE 0
#define VIRTIO_BALLOON_Q_DEFLATE 1
#define VIRTIO_BALLOON_Q_STATS 2
#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2

/* What a page change did. */
enum balloon_rc {
	BALLOON_OK,   /* done */
	BALLOON_SAME, /* the page already was in that state (inflated twice, deflated unknown) */
	BALLOON_BAD,  /* not a page of the VM's RAM (MMIO, a hole, past the end) */
	BALLOON_FAIL, /* keel could not do it now (no memory for a page table): the page stays */
};

/* Where pages go. Called under the VM's lock, in the notifying vCPU's exit. */
struct balloon_backend {
	/* Guest page gfn (4 KiB frame number) leaves the guest: out of stage 2, its host frame
	 * to keel once every CPU forgot it (commit). */
	enum balloon_rc (*inflate)(void *ctx, uint64_t gfn);
	/* Guest page gfn is the guest's again (zeroed, now or when first touched). */
	enum balloon_rc (*deflate)(void *ctx, uint64_t gfn);
	/* The end of a batch: flush the VM's TLBs on every CPU, then free what inflate unmapped.
	 * NULL: nothing to do. */
	void (*commit)(void *ctx);
	void *ctx;
};

struct virtio_balloon_stats {
	uint64_t val[VIRTIO_BALLOON_NR_STATS];
	uint32_t valid;	  /* bit t: tag t was in the guest's last report */
	uint64_t reports; /* reports received */
};

struct virtio_balloon {
	struct virtio_pci vpci;
	const struct balloon_backend *backend;
	uint32_t target; /* num_pages: 4 KiB pages keel wants the guest to give */
	uint32_t actual; /* what the driver last wrote: pages it says it gave */
	bool stats_held; /* the driver's stats buffer, kept until keel wants a new report */
	uint16_t stats_head;
	struct virtio_balloon_stats stats;
	/* for `stats`: pages moved, frame numbers refused (not RAM, repeated or unknown, or keel
	 * could not) */
	uint64_t inflated, deflated, bad, repeated, failed;
	struct unclaimed_log log;
	uint32_t pfn[VIRTIO_BALLOON_PFNS_PER_CHAIN]; /* one chain's frame numbers */
};

/* A device giving pages to backend (which must outlive it); -1 when the transport refuses. */
int virtio_balloon_init(struct virtio_balloon *b, const struct vdev_env *env,
			const struct balloon_backend *backend);
/* keel wants the guest to hold `pages` 4 KiB pages in its balloon: a configuration-change
 * interrupt when that is news (5.5.6). Survives device resets. */
void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages);
/* Asks the driver for fresh statistics by handing its buffer back (5.5.6.3); the report arrives
 * later, on the stats queue. A buffer made available without a notification the device saw is
 * read first. False when the driver has none with the device. */
bool virtio_balloon_request_stats(struct virtio_balloon *b);

#endif
