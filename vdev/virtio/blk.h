/* virtio-blk (virtio 1.2, 5.2) over a block backend (io/blk.h): one request queue; reads,
 * writes, flushes, the device ID, and discard and write-zeroes when the backend has them. The
 * device says it has a writeback cache (FLUSH makes writes durable); a driver that takes
 * CONFIG_WCE may switch it to writethrough, and then each write is flushed before it completes. A
 * request is checked before anything moves: its header and status byte where the spec puts them,
 * data a whole number of sectors, every sector inside the disk (io/blk.c), no writes to a
 * read-only disk; a bad one completes with IOERR (or UNSUPP) and touches nothing.
 *
 * A backend in keel's memory is served at once, through a small bounce buffer. A backend of a
 * host device (blk_submit: the NVMe namespaces) is served asynchronously, so no vCPU waits for
 * the device with its VM's lock held: a notification starts up to VIRTIO_BLK_INFLIGHT requests
 * (the rest stay in the available ring until a slot frees up), each handed to the backend as
 * pieces of the guest's RAM; the backend's done callback only marks the slot and kicks the VM;
 * virtio_blk_complete, on a vCPU under the VM's lock, then sends the next piece of a request
 * too scattered for one submission, or the flush a writethrough write needs, or writes the
 * status and puts the chain in the used ring. A reset waits for the requests in flight
 * (virtio_pci's ops->busy): the device's DMA must be over before the driver reuses the memory. */
#ifndef KEEL_VDEV_VIRTIO_BLK_H
#define KEEL_VDEV_VIRTIO_BLK_H

#include "io/blk.h"
#include "vdev/virtio/virtio_pci.h"

#define VIRTIO_BLK_QUEUE_SIZE 128
#define VIRTIO_BLK_BOUNCE 8192
#define VIRTIO_BLK_ID_BYTES 20 /* a GET_ID answer (5.2.6) */
#define VIRTIO_BLK_INFLIGHT 8  /* requests on a host device at once, per disk */

struct virtio_blk;

/* A request on the backend: its chain (the device's copy of its buffers), the part of its data
 * on the way now, and what it came to. */
struct virtio_blk_slot {
	struct virtio_blk *dev;
	bool busy;
	bool done; /* set by the backend's callback (atomic), taken by virtio_blk_complete */
	bool flushing;
	int result; /* the backend's status for the part on the way */
	uint32_t type;
	uint64_t sector;
	uint64_t bytes; /* of data in the request */
	uint64_t at;	/* bytes done before the part on the way */
	uint64_t part;	/* bytes of the part on the way */
	struct blk_req req;
	struct virtq_chain chain;
	struct blk_seg segs[BLK_MAX_SEGS];
};

struct virtio_blk {
	struct virtio_pci vpci;
	struct blk_backend *disk;
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	uint64_t reads, writes, flushes, errors; /* requests, for `stats` */
	uint64_t read_bytes, written_bytes;	 /* of the requests that succeeded */
	bool writeback; /* the cache mode the driver sees; false: every write is flushed */
	/* the backend's callbacks set it (atomic); it wakes the VM to run virtio_blk_complete */
	bool completions;
	unsigned inflight; /* busy slots (atomic reads: the balloon waits for none) */
	uint64_t sent;	   /* parts sent to the backend (atomic reads: a vCPU polls after some) */
	void (*kick)(void *ctx);
	void *kick_ctx;
	struct virtio_blk_slot slot[VIRTIO_BLK_INFLIGHT];
	uint8_t bounce[VIRTIO_BLK_BOUNCE];
};

/* A device for disk (named for GET_ID, e.g. "keel-vda"); -1 when the transport refuses. kick
 * (may be NULL) is called, with no lock of the VM held, when a request on the backend finished:
 * the VM should then run virtio_blk_complete under its lock. */
int virtio_blk_init(struct virtio_blk *b, const struct vdev_env *env, struct blk_backend *disk,
		    const char *serial, void (*kick)(void *ctx), void *kick_ctx);
/* Finishes what the backend completed (under the VM's lock): next parts, flushes, statuses and
 * used entries, one interrupt; then takes more chains if slots freed up. */
void virtio_blk_complete(struct virtio_blk *b);
/* Whether requests of b are on the backend (its DMA may still reach the guest's RAM). */
bool virtio_blk_busy(const struct virtio_blk *b);
/* Whether the backend may still be moving data of b's requests (a part on its way): changes
 * with the backend's poll alone, with no lock of the VM. */
bool virtio_blk_dma_busy(const struct virtio_blk *b);

#endif
