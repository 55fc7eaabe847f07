/* virtio-net (virtio 1.2, 5.1) as a port of keel's Ethernet switch (io/net_switch.h): queue 0 is
 * receiveq1, queue 1 transmitq1; no control queue, no multiqueue. Offered: VIRTIO_NET_F_MAC (the
 * MAC given at init), VIRTIO_NET_F_STATUS (the link is always up), VIRTIO_NET_F_MTU (1500),
 * checksum offload both ways (CSUM, GUEST_CSUM), TCP segmentation offload both ways (HOST_TSO4,
 * HOST_TSO6, GUEST_TSO4, GUEST_TSO6), mergeable receive buffers (MRG_RXBUF), and the
 * transport's VERSION_1, INDIRECT_DESC and EVENT_IDX; net.c says why these and not the others.
 * Without MRG_RXBUF each receive chain holds one frame, so it must have room for the 12-byte
 * struct virtio_net_hdr (its VERSION_1 size, 5.1.6) plus the whole frame: VIRTIO_NET_RX_BUF_MIN
 * bytes takes any frame of a 1500-byte MTU (1518 bytes with an 802.1Q tag), 12 +
 * NET_GSO_FRAME_MAX = 65562 any frame a driver with GUEST_TSO4/6 may get (5.1.6.3.1), as Linux's
 * "big packet" chains have. With it, a frame spreads over as many chains as it needs.
 *
 * Transmit (5.1.6.2): a chain is the header then the frame, in device-readable buffers split
 * anywhere (the header may share a buffer with the frame). It is copied into keel's memory,
 * checked and given to net_switch_send_offload; the chain completes at once with used length 0,
 * whatever became of the frame. With VIRTIO_NET_F_CSUM a frame may carry NEEDS_CSUM: its
 * csum_start and csum_offset travel with it through the switch (io/net_offload.h), bounded
 * first (the 2-byte field inside the frame). With HOST_TSO4/6 it may be a TCP frame of up to
 * NET_GSO_FRAME_MAX bytes with gso_type TCPV4/TCPV6 and gso_size, NEEDS_CSUM at TCP's checksum:
 * its headers are parsed and bounded (net_gso_start) before it goes on as one frame. Dropped and
 * counted: a chain with a device-writable buffer, fewer than 12 bytes, NEEDS_CSUM without CSUM
 * or with offsets outside the frame, a gso_type not negotiated (ECN, UDP: never offered) or on
 * a frame keel could not cut, a frame shorter than an Ethernet header or longer than
 * NET_FRAME_MAX (NET_GSO_FRAME_MAX to cut). Other flag bits are ignored, as 5.1.6.2.2
 * requires; so are hdr_len (a hint: keel finds the headers itself) and num_buffers. Nothing
 * ever waits.
 *
 * Receive (5.1.6.3, 5.1.6.4): frames the switch queued on the port go into the receive queue's
 * chains, one per chain: a 12-byte header (num_buffers 1), then the frame; used length 12 +
 * frame. With MRG_RXBUF (5.1.6.4.2) header and frame fill chains one after the other, each
 * completed with the bytes it got, in consecutive used entries, num_buffers saying how many; a
 * chain smaller than the header (5.1.6.3.1) or with a device-readable buffer drops the frame
 * (counted) and goes back empty with the others it took; a queue that runs dry mid-frame takes
 * its chains back unused, and the frame waits in the device for the driver's next buffers. A frame whose sender left its checksum open goes to a driver with GUEST_CSUM as it is,
 * with NEEDS_CSUM, csum_start and csum_offset in the header (5.1.6.4.1); to any other with the
 * checksum filled in by keel and flags 0. A frame to cut goes whole to a driver with GUEST_CSUM
 * and GUEST_TSO4 (TCPV4) or GUEST_TSO6 (TCPV6), with gso_type, gso_size and hdr_len; any other
 * driver gets its MTU-sized segments, cut by keel one per chain as chains come, each whole and
 * checksummed. The spec gives a device no rule for a chain too small for the frame without
 * MRG_RXBUF (the driver SHOULD give 1526 bytes, 65562 with GUEST_TSO, 5.1.6.3.1, and with
 * VIRTIO_NET_F_MTU MUST give room for an mtu-sized frame, 5.1.4.2): keel drops that frame
 * (counted) and returns the chain with used length 0, nothing written, so the driver sees an
 * empty buffer it can replace (Linux counts a length error) rather than a cut frame, and a small
 * buffer cannot hold the queue up. A chain with a device-readable buffer is returned the same
 * way without taking a frame. With no chain available, frames wait in the port's ring (which
 * drops and counts when full, io/net_port.h), and the rest of a frame being cut in the device.
 *
 * Who runs what: the port's `notify` runs on the sending CPU, maybe under the sender's VM lock,
 * so it takes no lock: it sets an atomic flag and calls the owner's kick. The owner (under its
 * own VM lock, like every other call here) then calls virtio_net_rx. The driver's notification
 * of the receive queue (new buffers) runs the same receive path. Host-testable. */
#ifndef KEEL_VDEV_VIRTIO_NET_H
#define KEEL_VDEV_VIRTIO_NET_H

#include "io/net_switch.h"
#include "vdev/virtio/virtio_pci.h"

#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr with VERSION_1, no hash report (5.1.6) */
#define VIRTIO_NET_RX_BUF_MIN (VIRTIO_NET_HDR_LEN + NET_FRAME_MAX)

/* Counted for `stats`. Every chain the driver makes available is completed, and every frame taken
 * from the port is either in the guest (rx_frames) or dropped with a reason. */
struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes; /* given to the switch, which took them (frame bytes only) */
	uint64_t tx_bad_chain;	      /* a device-writable buffer in a transmit chain */
	/* fewer than 12 bytes, NEEDS_CSUM without VIRTIO_NET_F_CSUM or with offsets outside the
	 * frame, or a gso_type */
	uint64_t tx_bad_header;
	uint64_t tx_bad_length;	      /* a frame the switch may not carry */
	uint64_t tx_no_link;	      /* the port is on no switch */
	uint64_t tx_spoofed;	      /* a source MAC that is not the device's own */
	uint64_t rx_frames, rx_bytes; /* put into receive chains (frame bytes only) */
	/* a device-readable buffer in a receive chain (with MRG_RXBUF, or one smaller than the
	 * header): returned empty */
	uint64_t rx_bad_chain;
	/* a frame dropped: its chain could not hold header + frame (with MRG_RXBUF: a bad chain
	 * came before it was all in) */
	uint64_t rx_too_small;
	uint64_t rx_lost;	  /* a frame written but the used ring was gone (queue broken) */
	uint64_t rx_bad_offload;  /* offloads that do not fit the frame (the switch checked them) */
	uint64_t rx_gso_split;	  /* frames keel cut into segments for a driver without GUEST_TSO */
	uint64_t rx_gso_segments; /* segments made of them (each then in rx_frames or dropped) */
};

struct virtio_net {
	struct virtio_pci vpci;
	uint8_t mac[NET_MAC_LEN];
	/* the owner's: called from the port's notify, on any CPU, with no lock held */
	void (*kick)(void *ctx);
	void *kick_ctx;
	bool rx_waiting; /* the switch queued frames since virtio_net_rx last ran (atomic) */
	struct virtio_net_stats stats;
	struct virtq_chain rx_chain; /* the receive path's own: it may run beside a transmit */
	struct net_gso rx_gso;	     /* the frame in rx_buf being cut, segment by segment */
	/* MRG_RXBUF: the first chain of the frame being received (num_buffers goes into its
	 * header once the frame is all in) and every chain it took, with the bytes each got */
	struct virtq_chain rx_first;
	uint16_t rx_heads[VIRTIO_NET_QUEUE_SIZE];
	uint32_t rx_lens[VIRTIO_NET_QUEUE_SIZE];
	/* a frame taken from the port that waits for more receive buffers (MRG_RXBUF ran out of
	 * chains mid-frame): its header, and its bytes where they are (rx_buf or seg_buf) */
	bool rx_held;
	uint8_t rx_held_hdr[VIRTIO_NET_HDR_LEN];
	const uint8_t *rx_held_frame;
	size_t rx_held_len;
	uint8_t tx_buf[VIRTIO_NET_HDR_LEN + NET_GSO_FRAME_MAX];
	uint8_t rx_buf[NET_GSO_FRAME_MAX];
	uint8_t seg_buf[NET_FRAME_MAX];
	struct net_port port; /* last: its 64 KiB ring needs no clearing */
};

/* A device with address mac (an individual, non-zero address: -1 otherwise, or when the
 * transport refuses) and a detached port: attaching it to a switch (net_switch_attach(sw,
 * &n->port)) is the caller's job, and so is detaching it before n is freed. kick may be NULL. */
int virtio_net_init(struct virtio_net *n, const struct vdev_env *env,
		    const uint8_t mac[NET_MAC_LEN], void (*kick)(void *ctx), void *kick_ctx);
/* True when the switch queued frames for the device since virtio_net_rx last ran (any CPU). */
bool virtio_net_rx_pending(const struct virtio_net *n);
/* Moves queued frames into the receive queue's chains while there are both (at most the queue's
 * size per call), then raises at most one interrupt. Does nothing without bus mastering or before
 * DRIVER_OK: the frames wait. Under the owner's lock. */
void virtio_net_rx(struct virtio_net *n);

#endif
