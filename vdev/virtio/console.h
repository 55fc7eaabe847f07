/* virtio-console (virtio 1.2, 5.3) as the VM's console (keel.cfg `console = virtio`): one port,
 * no VIRTIO_CONSOLE_F_MULTIPORT, so queue 0 is receiveq (port 0, keel to guest) and queue 1
 * transmitq (port 0, guest to keel) (5.3.2). Offered: VIRTIO_CONSOLE_F_SIZE (the columns and rows
 * given at init) and VIRTIO_CONSOLE_F_EMERG_WRITE (a write to emerg_wr outputs its low byte,
 * 5.3.4), besides the transport's VERSION_1, INDIRECT_DESC and EVENT_IDX.
 *
 * Output (5.3.6.2): the device-readable bytes of each transmit chain, at most
 * VIRTIO_CONSOLE_TX_MAX of them, go to env->uart_tx, the path the 8250 UART's output takes, so the
 * VM's console ring, its `NAME| ` prefix and its line buffering treat both alike. The chain
 * completes at once with used length 0. A chain with a device-writable buffer is returned unread
 * and counted (the driver MUST NOT offer one, 5.3.6.1); a longer one is cut and counted.
 *
 * Input (5.3.6.1): bytes typed at keel's console for the VM wait in a buffer of
 * VIRTIO_CONSOLE_IN_MAX bytes (the rest are dropped and counted) and go into the receive queue's
 * chains as they come, each chain taking as many as it holds; the driver's notification of the
 * receive queue (new buffers) delivers what waits. A receive chain with a device-readable buffer
 * is returned empty and counted. Nothing is lost while the driver gives buffers.
 *
 * Every call runs under the VM's lock; each does at most a queue's worth of chains. Host-testable. */
#ifndef KEEL_VDEV_VIRTIO_CONSOLE_H
#define KEEL_VDEV_VIRTIO_CONSOLE_H

#include "vdev/virtio/virtio_pci.h"

#define VIRTIO_CONSOLE_QUEUE_SIZE 64
#define VIRTIO_CONSOLE_RXQ 0
#define VIRTIO_CONSOLE_TXQ 1
#define VIRTIO_CONSOLE_IN_MAX 512  /* typed bytes waiting for receive buffers */
#define VIRTIO_CONSOLE_TX_MAX 8192 /* bytes of one transmit chain that are output */
#define VIRTIO_CONSOLE_COLS 80
#define VIRTIO_CONSOLE_ROWS 25

/* Counted for `stats`. */
struct virtio_console_stats {
	uint64_t tx_bytes;     /* output from transmit chains */
	uint64_t tx_bad_chain; /* a device-writable buffer in a transmit chain: not read */
	uint64_t tx_cut;       /* bytes of transmit chains past VIRTIO_CONSOLE_TX_MAX: not output */
	uint64_t emerg_bytes;  /* output through emerg_wr */
	uint64_t rx_bytes;     /* put into receive chains */
	uint64_t rx_bad_chain; /* a device-readable buffer in a receive chain: returned empty */
	uint64_t rx_dropped;   /* typed while the buffer was full */
};

struct virtio_console {
	struct virtio_pci vpci;
	uint16_t cols, rows;
	struct virtio_console_stats stats;
	uint8_t in[VIRTIO_CONSOLE_IN_MAX]; /* typed bytes: in_tail .. in_head, free-running */
	unsigned in_head, in_tail;
	struct virtq_chain
		rx_chain; /* the receive path's own: input may arrive beside a transmit */
	uint8_t tx_buf[256];
};

/* A console of cols x rows (reported with VIRTIO_CONSOLE_F_SIZE). -1 when the transport
 * refuses. */
int virtio_console_init(struct virtio_console *c, const struct vdev_env *env, uint16_t cols,
			uint16_t rows);
/* Bytes typed for the guest: buffered (what does not fit is dropped and counted), then moved into
 * the receive queue as far as its chains go. Returns the bytes taken into the buffer. */
size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t n);
/* Moves buffered input into the receive queue's chains while there are both (at most the queue's
 * size of chains), then raises at most one interrupt. Without bus mastering or before DRIVER_OK
 * the bytes wait. */
void virtio_console_rx(struct virtio_console *c);
/* Bytes waiting for receive buffers. */
unsigned virtio_console_waiting(const struct virtio_console *c);

#endif
