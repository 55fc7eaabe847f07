/* Block backends: what owns a guest disk's data, below the device the guest sees (virtio-blk) and
 * above any host driver (DESIGN.md "Guest I/O has three layers"). A device model knows only this
 * interface; a backend does not know which device or guest asks. Backends so far: an image in
 * keel's memory (io/blk_mem.h); host GPT partitions and NVMe namespaces come behind the same ops.
 *
 * Sectors are 512 bytes. Every request goes through the blk_* calls below, which check it against
 * the capacity (a request past the end, or one whose sector + count or count * 512 overflows,
 * fails and touches nothing) and refuse every change to a read-only backend, before a backend's
 * op runs: an op may assume its range is inside the disk. A backend of a host device may also
 * take requests asynchronously (blk_submit), so that nobody holds a lock while it waits. */
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

/* A piece of a request's data: len bytes at va, in keel's identity-mapped memory (so va is also
 * the physical address a device may be given); a guest's RAM as its device model mapped it.
 * Pieces may have any length and alignment: a backend copies what its device cannot take. */
struct blk_seg {
	void *va;
	uint32_t len;
};
#define BLK_MAX_SEGS 128

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,	/* sector, count and segs unused */
	BLK_OP_DISCARD, /* segs unused */
};

/* A request handed to a backend that works asynchronously (blk_submit): the caller fills the
 * first part and keeps the request and its pieces untouched until done runs. */
struct blk_req {
	enum blk_op op;
	uint64_t sector, count;
	const struct blk_seg *segs; /* count * 512 bytes in all, in nr pieces */
	unsigned nr;
	/* Runs once with the request's status, from blk_submit itself or later from the backend's
	 * poll on any CPU, with the backend's lock held: it may only record the outcome and wake
	 * whoever finishes the request (no lock a submitter may hold, no blk_* call). */
	void (*done)(struct blk_req *r, int status);
	void *ctx;
	/* the backend's while it has the request: which of its disks has it, how far it got (the
	 * piece and byte, the sector), whether its data goes through a copy, its commands in
	 * flight, the first failure, and its place in the backend's queue */
	void *held_by;
	unsigned seg_at;
	uint32_t byte_at;
	uint64_t sector_at;
	bool copy, all_sent;
	unsigned inflight;
	int status;
	struct blk_req *next;
};

struct blk_ops {
	int (*read)(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count);
	int (*write)(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count);
	/* makes every completed write durable */
	int (*flush)(struct blk_backend *b);
	int (*discard)(struct blk_backend *b, uint64_t sector, uint64_t count);
	int (*write_zeroes)(struct blk_backend *b, uint64_t sector, uint64_t count);
	/* Optional, for a backend whose device works on its own (a host NVMe namespace): starts r
	 * (checked: range, read-only, pieces) and returns BLK_OK, after which r->done runs once;
	 * any other value means done never runs. Nobody waits: the device moves the data straight
	 * to or from the pieces where it can, and the backend's poll completes the request. */
	int (*submit)(struct blk_backend *b, struct blk_req *r);
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
/* An asynchronous request: the same checks as the calls above (a read or write also needs its
 * pieces to add up to count * 512 in 1..BLK_MAX_SEGS of them, a discard the backend's discard),
 * then the backend's submit. BLK_OK: r->done will run once. Anything else: it never will
 * (BLK_E_UNSUPP without submit). */
int blk_submit(struct blk_backend *b, struct blk_req *r);
bool blk_can_submit(const struct blk_backend *b);
/* Whether [sector, sector + count) is inside the disk and count * 512 fits a size_t. */
bool blk_range_ok(const struct blk_backend *b, uint64_t sector, uint64_t count);
/* Whether the backend has discard or write_zeroes (what a device may offer the guest). */
bool blk_can_discard(const struct blk_backend *b);
bool blk_can_write_zeroes(const struct blk_backend *b);
void blk_release(struct blk_backend *b);
/* "ok", "out of range" ... for logs and tests */
const char *blk_status_name(int status);

#endif
