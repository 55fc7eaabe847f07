/* A split virtqueue as the device side walks it (virtio 1.2, 2.7): the driver's descriptor
 * table, available ring and used ring live in guest RAM, and every byte of them is hostile.
 * Descriptors are copied out once and checked before use (so the guest cannot change one under
 * the walker); every buffer must lie in guest RAM (never on MMIO or outside the VM); a chain
 * that loops, outgrows the queue, nests indirect tables or puts a readable buffer after a
 * writable one breaks the queue, and the device then asks for a reset (2.1.2). Guest memory is
 * reached through core/gmem.h only, by guest-physical address: stage 2's view, never a host
 * address the guest supplies. Host-testable. */
#ifndef KEEL_VDEV_VIRTIO_VIRTQUEUE_H
#define KEEL_VDEV_VIRTIO_VIRTQUEUE_H

#include "core/gmem.h"
#include "lib/types.h"

#define VIRTQ_MAX_SIZE 1024 /* the largest queue a keel device offers */
#define VIRTQ_MAX_SEGS 128  /* buffers per chain, indirect tables included */
#define VIRTQ_NO_VECTOR 0xFFFF

/* Descriptor flags (2.7.5) and ring flags (2.7.6, 2.7.8). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq {
	uint16_t max_size; /* what the device offers */
	uint16_t size;	   /* what the driver chose: a power of two, 1..max_size */
	bool enabled;
	uint64_t desc, avail, used; /* guest-physical ring addresses */
	uint16_t msix_vector;
	uint16_t last_avail; /* next available ring entry the device takes */
	uint16_t used_idx;   /* the device's copy of used->idx */
	bool indirect;	     /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	bool event_idx;	     /* VIRTIO_F_RING_EVENT_IDX negotiated */
};

struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
};

/* One chain: nr_out device-readable buffers, then nr_in device-writable ones. */
struct virtq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	uint64_t out_bytes, in_bytes;
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

enum virtq_pop { VIRTQ_EMPTY, VIRTQ_GOT, VIRTQ_BROKEN };

/* Back to what reset leaves (2.1.2, 4.1.4.3): disabled, addresses 0, size max_size. */
void virtq_reset(struct virtq *q, uint16_t max_size);
/* The driver enabled the queue: true when its size and rings are usable (aligned, 2.7, and all
 * inside guest RAM). */
bool virtq_rings_valid(const struct virtq *q, const struct guest_mem *m);
/* Takes the next available chain. VIRTQ_BROKEN sets *why (a short phrase for the log). */
enum virtq_pop virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c,
			 const char **why);
/* Gives back the chains taken since last_avail was `to`, unused: the next virtq_pop takes them
 * again. The driver never sees it; avail_event (EVENT_IDX) stays where the pops left it, so
 * the driver still notifies once it makes a chain available past those. */
void virtq_unpop(struct virtq *q, uint16_t to);
/* Returns chain head to the driver with len bytes written into its writable buffers. -1 when
 * the used ring is not guest RAM any more (the queue is then broken). */
int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len);
/* After pushes that moved used_idx from used_before: does the driver want an interrupt
 * (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX, 2.7.10)? */
bool virtq_wants_interrupt(const struct virtq *q, const struct guest_mem *m, uint16_t used_before);

/* Copies from the chain's readable buffers, starting off bytes into them; returns the bytes
 * copied (fewer when the chain is shorter). */
size_t virtq_chain_read(const struct guest_mem *m, const struct virtq_chain *c, uint64_t off,
			void *dst, size_t n);
/* Copies into the chain's writable buffers, off bytes into them; returns the bytes written. */
size_t virtq_chain_write(const struct guest_mem *m, const struct virtq_chain *c, uint64_t off,
			 const void *src, size_t n);

#endif
