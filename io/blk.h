/* Block backends: what owns a guest disk's data, below the device the guest sees (virtio-blk) and
 * above any host driver (DESIGN.md "Guest I/O has three layers"). A device model knows only this
 * interface; a backend does not know which device or guest asks. Backends so far: an image in
 * keel's memory (io/blk_mem.h); host GPT partitions and NVMe namespaces come behind the same ops.
 *
 * Sectors are 512 bytes. Every request goes through the blk_* calls below, which check it against
 * the capacity (a request past the end, or one whose sector + count or count * 512 overflows,
 * fails and touches nothing) and refuse every change to a read-only backend, before a backend's
 * op runs: an op may assume its range is inside the disk. */
#ifndef KEEL_IO_BLK_H
#define KEEL_IO_BLK_H

#include "lib/types.h"

#define BLK_SECTOR_SHIFT 9
#define BLK_SECTOR_SIZE (1u << BLK_SECTOR_SHIFT)

/* What a request came to. A virtio-blk device reports BLK_OK as VIRTIO_BLK_S_OK, BLK_E_UNSUPP as
 * VIRTIO_BLK_S_UNSUPP and every other value as VIRTIO_BLK_S_IOERR (virtio 1.2, 5.2.6). */
enum blk_status {
	BLK_OK = 0,
	BLK_E_RANGE = -1,    /* past the end of the disk, or sector/count overflow */
	BLK_E_READONLY = -2, /* a change to a read-only backend */
	BLK_E_IO = -3,	     /* the backend failed (a host device error) */
	BLK_E_UNSUPP = -4,   /* the backend has no such operation */
};

struct blk_backend;

/* A piece of a vectored request: len bytes at va, in keel's identity-mapped memory (so va is also
 * the physical address a device may be given); a guest's RAM as its device model mapped it. */
struct blk_seg {
	void *va;
	uint32_t len;
};
#define BLK_MAX_SEGS 64

/* A backend's operations, called only with a checked range. discard and write_zeroes may be NULL
 * (the request then gets BLK_E_UNSUPP, and a device should not offer the feature). */
struct blk_ops {
	int (*read)(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count);
	int (*write)(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count);
	/* makes every completed write durable */
	int (*flush)(struct blk_backend *b);
	int (*discard)(struct blk_backend *b, uint64_t sector, uint64_t count);
	int (*write_zeroes)(struct blk_backend *b, uint64_t sector, uint64_t count);
	/* Optional, both or neither: count sectors straight to or from nr segments (their lengths
	 * add up to count * 512; nr <= BLK_MAX_SEGS), with no copy in between, for a backend whose
	 * device moves the data itself. BLK_E_UNSUPP when the segments do not suit the device
	 * (alignment): the caller then goes through a buffer of its own with read/write. */
	int (*readv)(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs,
		     unsigned nr, uint64_t count);
	int (*writev)(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs,
		      unsigned nr, uint64_t count);
};

struct blk_backend {
	const struct blk_ops *ops;
	uint64_t sectors; /* capacity in 512-byte sectors */
	bool read_only;
	/* Set by whoever created the backend: gives back its structure and anything it holds
	 * (blk_release). NULL when the creator frees it some other way. */
	void (*release)(struct blk_backend *b);
};

int blk_read(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count);
int blk_write(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count);
int blk_flush(struct blk_backend *b);
int blk_discard(struct blk_backend *b, uint64_t sector, uint64_t count);
int blk_write_zeroes(struct blk_backend *b, uint64_t sector, uint64_t count);
/* Vectored reads and writes: the same checks, plus the segments' lengths adding up to count *
 * 512 and nr within 1..BLK_MAX_SEGS (else BLK_E_RANGE); BLK_E_UNSUPP without readv/writev. */
int blk_readv(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs, unsigned nr,
	      uint64_t count);
int blk_writev(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs, unsigned nr,
	       uint64_t count);
bool blk_can_vector(const struct blk_backend *b);
/* Whether [sector, sector + count) is inside the disk and count * 512 fits a size_t. */
bool blk_range_ok(const struct blk_backend *b, uint64_t sector, uint64_t count);
/* Whether the backend has discard or write_zeroes (what a device may offer the guest). */
bool blk_can_discard(const struct blk_backend *b);
bool blk_can_write_zeroes(const struct blk_backend *b);
void blk_release(struct blk_backend *b);
/* "ok", "out of range" ... for logs and tests */
const char *blk_status_name(int status);

#endif
