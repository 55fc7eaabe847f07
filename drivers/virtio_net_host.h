/* keel's host NIC driver core for virtio-net over the modern virtio-pci transport: what keel sees
 * in a cloud VM, and what QEMU gives with `-device virtio-net-pci,disable-legacy=on`. The DRIVER
 * side; vdev/virtio/ is keel's device side and shares no code with this.
 *
 * Section numbers are those of virtio 1.2 (OASIS, cs01). 4.1.4.3 (common configuration layout)
 * was checked against a public copy; the others are from memory of that document's layout and
 * NOT verified.
 *
 * The core reaches the device only through struct vnh_ops (32-bit reads of PCI configuration
 * space, 8/16/32-bit MMIO by BAR index and offset, a monotonic clock) and memory keel owns:
 * VNH_DMA_PAGES pages of 4 KiB with their physical addresses, handed over at vnh_init. The glue
 * maps the BARs and passes their sizes; the core only names (bar, offset). So the same code runs
 * in keel and on the host, where tests/unit/test_virtio_net_host.c drives it against a fake
 * device and tests/fuzz/fuzz_virtio_net_host.c lets the fuzzer play the device.
 *
 * Everything the device hands back is hostile: the capability list (BAR index, offset and length
 * inside that BAR, sizes, alignment, the notify multiplier), register values, and every used ring
 * entry (the used index may advance at most by what is outstanding, the id must name a buffer the
 * driver posted and not got back, the length must fit that buffer). A used entry a well-behaved
 * device never writes is counted and the device reset; a device that asks for a reset
 * (DEVICE_NEEDS_RESET, 2.1.2), reads all ones (surprise removal) or stops transmitting is reset,
 * and after VNH_MAX_RESETS in a row without a frame moving it is declared failed. No function
 * here waits: bring-up and resets advance in vnh_poll, called with the current time.
 *
 * There so far: the device reset and initialisation of 3.1.1, features VERSION_1, MAC and STATUS
 * only (no offloads, no MRG_RXBUF, no control queue, no event index, no ACCESS_PLATFORM: a device
 * that insists on one of them does not keep FEATURES_OK and is failed), the MAC address from the
 * device configuration (a device without VIRTIO_NET_F_MAC is failed: keel needs a stable
 * address), the link from its status field (up when STATUS is not offered), receiveq1 and
 * transmitq1 as split virtqueues of up to 32 entries, one 2 KiB buffer per descriptor, interrupts
 * suppressed (VIRTQ_AVAIL_F_NO_INTERRUPT), polling.
 *
 * Not there yet: MSI-X, multiqueue, offloads, VIRTIO_F_ACCESS_PLATFORM (an IOMMU in front of the
 * device), packed virtqueues, PCI configuration writes (the glue turns bus mastering on and
 * off), and the glue in keel. */
#ifndef KEEL_DRIVERS_VIRTIO_NET_HOST_H
#define KEEL_DRIVERS_VIRTIO_NET_HOST_H

#include "drivers/virtio_net_host_regs.h"
#include "lib/types.h"

struct vnh_ops {
	void *ctx;
	/* PCI configuration space, off 4-byte aligned and below 256 */
	uint32_t (*cfg_read32)(void *ctx, uint32_t off);
	/* MMIO of memory BAR bar (0..5) at off (naturally aligned, inside the size given at init) */
	uint8_t (*read8)(void *ctx, unsigned bar, uint64_t off);
	uint16_t (*read16)(void *ctx, unsigned bar, uint64_t off);
	uint32_t (*read32)(void *ctx, unsigned bar, uint64_t off);
	void (*write8)(void *ctx, unsigned bar, uint64_t off, uint8_t v);
	void (*write16)(void *ctx, unsigned bar, uint64_t off, uint16_t v);
	void (*write32)(void *ctx, unsigned bar, uint64_t off, uint32_t v);
	/* monotonic nanoseconds */
	uint64_t (*now_ns)(void *ctx);
};

/* One page of memory keel owns, for the device to DMA to and from. */
struct vnh_dma_page {
	void *va;    /* keel's mapping, 4 KiB aligned, write-back cacheable (coherent DMA) */
	uint64_t pa; /* the address the device uses, 4 KiB aligned */
};

/* Sizes the driver chooses. */
#define VNH_PAGE_SIZE 4096u
#define VNH_QSIZE 32u	   /* entries per queue at most (less when the device offers less) */
#define VNH_BUF_SIZE 2048u /* per descriptor: the 12-byte header and a frame of up to 1518 */
#define VNH_BUFS_PER_PAGE (VNH_PAGE_SIZE / VNH_BUF_SIZE)
#define VNH_MAX_RESETS 3 /* resets in a row without any frame moving before giving up */
#define VNH_RESET_TIMEOUT_NS 100000000ull /* device_status must read 0 within 100 ms */
#define VNH_TX_TIMEOUT_NS 2000000000ull	  /* transmit must progress within 2 s with link up */
#define VNH_GEN_TRIES 4 /* config_generation changing under a read of the MAC: retries */

/* A queue's rings in its page (2.7: descriptors 16-aligned, available 2, used 4). */
#define VNH_DESC_OFF 0u
#define VNH_AVAIL_OFF 512u
#define VNH_USED_OFF 1024u
_Static_assert(VNH_QSIZE *VIRTQ_DESC_SIZE <= VNH_AVAIL_OFF, "descriptor table");
_Static_assert(VNH_AVAIL_OFF + 6 + 2 * VNH_QSIZE <= VNH_USED_OFF, "available ring");
_Static_assert(VNH_USED_OFF + 6 + 8 * VNH_QSIZE <= VNH_PAGE_SIZE, "used ring");
_Static_assert(VIRTIO_NET_HDR_SIZE + VNH_ETH_MAX_RX <= VNH_BUF_SIZE, "RX buffer");

/* The DMA pages: the receive queue's rings, the transmit queue's, then the RX buffers and the TX
 * buffers, two 2 KiB buffers per page (descriptor i uses page i / 2, half i % 2). */
enum {
	VNH_PG_RX_RING,
	VNH_PG_TX_RING,
	VNH_PG_RX_BUF0,
	VNH_PG_TX_BUF0 = VNH_PG_RX_BUF0 + VNH_QSIZE / VNH_BUFS_PER_PAGE,
	VNH_DMA_PAGES = VNH_PG_TX_BUF0 + VNH_QSIZE / VNH_BUFS_PER_PAGE,
};

/* Return values of vnh_init and vnh_tx: the same as enum e1000e_err, for the glue. */
enum vnh_err {
	VNH_OK = 0,
	VNH_E_BUSY = -1,      /* the TX queue is full: frame dropped (counted) */
	VNH_E_INVAL = -2,     /* bad pages or capabilities (init), or a frame of 0 or over 1514 */
	VNH_E_NOT_READY = -3, /* bring-up or a reset under way, or failed: frame dropped */
	VNH_E_LINK_DOWN = -4, /* no link: frame dropped */
};

enum vnh_state {
	VNH_S_OFF,	 /* after vnh_init: the next poll starts the reset */
	VNH_S_RESETTING, /* device_status 0 written, waiting for it to read 0 */
	VNH_S_RUNNING,	 /* DRIVER_OK: frames move while the link is up */
	VNH_S_FAILED,	 /* given up (why says why) */
};

/* A vendor capability as found (4.1.4): BAR, offset and length inside it, checked. */
struct vnh_region {
	unsigned bar;
	uint64_t off, len;
};

/* Counters: frames and bytes as handed up or reclaimed after transmission (without headers). */
struct vnh_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_dropped;   /* empty frames (a used length of just the header) */
	uint64_t tx_dropped;   /* refused by vnh_tx (queue full, link down, not running, bad
				* length) or lost in flight by a reset */
	uint64_t bad_used;     /* used entries a well-behaved device never writes: each resets */
	uint64_t link_changes; /* link status changes seen: the glue logs each once */
	unsigned resets;       /* resets after bring-up's own */
	unsigned tx_timeouts;  /* transmit not progressing */
	unsigned gone;	       /* device_status read all ones (surprise removal) */
	unsigned needs_reset;  /* DEVICE_NEEDS_RESET seen, or the device dropped DRIVER_OK */
};

/* A received frame: len 1..VNH_ETH_MAX_RX bytes at buf, in one of the driver's RX buffers (just
 * past its header), valid only during the call. The frame's bytes are the device's: hostile. */
typedef void (*vnh_rx_fn)(void *arg, const void *buf, unsigned len);

/* The driver's side of one split virtqueue (2.7). */
struct vnh_queue {
	uint16_t size;	     /* negotiated: a power of two, 1..VNH_QSIZE */
	uint64_t notify_off; /* queue_notify_off * multiplier, checked inside the notify region */
	uint16_t avail_idx;  /* the driver's next available index (free-running, 2.7.6) */
	uint16_t used_seen;  /* used index up to which entries were taken (2.7.8) */
	unsigned busy;	     /* descriptors with the device */
	bool out[VNH_QSIZE]; /* descriptor i (and its buffer) is with the device */
	uint16_t len[VNH_QSIZE]; /* TX: frame bytes in descriptor i */
};

struct vnh_dev {
	const struct vnh_ops *ops;
	uint64_t bar_size[6];
	struct vnh_dma_page dma[VNH_DMA_PAGES];
	struct vnh_region common, notify, isr, device;
	uint32_t notify_mult;
	enum vnh_state state;
	const char *why; /* why it failed or was last reset */
	uint64_t since;	 /* when the current reset started */
	unsigned resets_in_row;

	uint64_t features; /* negotiated */
	uint8_t mac[6];
	bool link_up;

	struct vnh_queue rxq, txq;
	uint64_t tx_progress; /* last time the TX queue was empty or a frame completed */

	struct vnh_stats st;
};

/* Takes the ops, the six BARs' sizes (0: not a memory BAR the glue mapped) and the DMA pages
 * (copied; the pages stay the driver's until the device is failed and its bus mastering turned
 * off), and walks the capability list for the common, notify, ISR and device configuration
 * structures. Touches no device register: the first vnh_poll starts the reset. Returns
 * VNH_E_INVAL (why says which) if a page is NULL or not 4 KiB aligned, or a structure is
 * missing or does not fit its BAR. */
int vnh_init(struct vnh_dev *d, const struct vnh_ops *ops, const uint64_t bar_size[6],
	     const struct vnh_dma_page pages[VNH_DMA_PAGES]);

/* Advances bring-up or a reset, follows the link, reclaims transmitted frames and watches for a
 * device that stopped answering. Returns the state. */
enum vnh_state vnh_poll(struct vnh_dev *d, uint64_t now);

/* Copies one frame (1..1514 bytes, no CRC) behind a zeroed header into a TX buffer and hands it
 * to the device. Returns VNH_OK or a negative enum vnh_err; a refused frame is counted in
 * tx_dropped. */
int vnh_tx(struct vnh_dev *d, const void *frame, unsigned len);

/* Hands each good frame received since the last call to cb (at most one queue's worth), then
 * posts the buffers again. Returns the number of frames handed up. cb may call vnh_tx, not
 * vnh_rx or vnh_poll. */
unsigned vnh_rx(struct vnh_dev *d, vnh_rx_fn cb, void *arg);

const char *vnh_state_name(enum vnh_state s);

#endif
