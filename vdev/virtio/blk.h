/* virtio-blk (virtio 1.2, 5.2) over a block backend (io/blk.h): one request queue; reads,
 * writes, flushes, the device ID, and discard and write-zeroes when the backend has them. The
 * device says it has a writeback cache (FLUSH makes writes durable); a driver that takes
 * CONFIG_WCE may switch it to writethrough, and then each write is flushed before it completes. A
 * request is checked before anything moves: its header and status byte where the spec puts them,
 * data a whole number of sectors, every sector inside the disk (io/blk.c), no writes to a
 * read-only disk; a bad one completes with IOERR (or UNSUPP) and touches nothing. Data moves
 * straight between the guest's buffers and a backend whose device can take them (blk_readv,
 * blk_writev: the NVMe namespaces), else through a small bounce buffer, a piece at a time. */
#ifndef KEEL_VDEV_VIRTIO_BLK_H
#define KEEL_VDEV_VIRTIO_BLK_H

#include "io/blk.h"
#include "vdev/virtio/virtio_pci.h"

#define VIRTIO_BLK_QUEUE_SIZE 128
#define VIRTIO_BLK_BOUNCE 8192
#define VIRTIO_BLK_ID_BYTES 20 /* a GET_ID answer (5.2.6) */

struct virtio_blk {
	struct virtio_pci vpci;
	struct blk_backend *disk;
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	uint64_t reads, writes, flushes, errors; /* requests, for `stats` */
	uint64_t read_bytes, written_bytes;	 /* of the requests that succeeded */
	bool writeback; /* the cache mode the driver sees; false: every write is flushed */
	struct blk_seg segs[BLK_MAX_SEGS]; /* a request mapped for a vectoring backend */
	uint8_t bounce[VIRTIO_BLK_BOUNCE];
};

/* A device for disk (named for GET_ID, e.g. "keel-vda"); -1 when the transport refuses. */
int virtio_blk_init(struct virtio_blk *b, const struct vdev_env *env, struct blk_backend *disk,
		    const char *serial);

#endif
