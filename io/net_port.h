/* One attachment to a keel Ethernet switch (io/net_switch.h): a VM's virtio-net queue pair, or
 * later a host NIC's uplink. The caller allocates and owns the storage (keel: kmem pages per NIC;
 * a test: malloc), so a VM's memory comes back whole when it goes.
 *
 * Each port owns a bounded receive ring: frames the switch delivered and the port's owner has not
 * taken yet, each a 12-byte header (its length and its offload fields, io/net_offload.h) and its
 * bytes, one after the other in a byte ring (a frame may wrap around its end). The ring bridges
 * the time until the receiving vCPU, kicked by `notify`, moves frames into its guest's receive
 * virtqueue, whose buffers are the real receive buffer. It must hold what one sender's notify
 * sends at once. Without segmentation offload that is a whole transmit queue (256 chains) of
 * full-size frames, 392 KiB: with 64 KiB (43 of them) a TCP burst between two Linux VMs lost
 * frames in every window and throughput fell to a twentieth (make bench's net figure), so the
 * ring was 512 KiB. With HOST_TSO a chain may hold a 64 KiB frame to cut; a whole queue of those
 * (16 MiB) is more than a port should cost, and TCP never has that much in flight to one peer:
 * the receiver's window bounds it, and a Linux sender's TCP small queues keep about 1 MiB of a
 * socket's data below the stack (tcp_limit_output_bytes). NET_PORT_RING_BYTES = 1 MiB holds 15
 * of the largest frames, or 685 full-size ones; see docs/testing.md for what it measured. So a
 * port costs 1 MiB plus ~100 bytes, 16 ports of a switch 16 MiB. Nobody waits for a full ring:
 * the frame is dropped for this port and counted.
 *
 * Who calls what: the port's owner (one VM device, serialised by the owner, e.g. its VM's lock)
 * calls net_port_init, net_switch_attach/detach, net_switch_send and net_port_recv for its port;
 * any CPU's sender may queue frames into it meanwhile. Lock order: the switch registry's lock,
 * then a switch's lock, then a port's lock; `notify` runs with none of them held. */
#ifndef KEEL_IO_NET_PORT_H
#define KEEL_IO_NET_PORT_H

#include "io/net_eth.h"
#include "io/net_offload.h"
#include "lib/spinlock.h"

#ifdef KEEL_FUZZ
#define NET_PORT_RING_BYTES 4096u /* small enough that a fuzz input fills it */
#else
#define NET_PORT_RING_BYTES 1048576u /* a power of two: the positions run free and wrap */
#endif
/* before each queued frame: its 4-byte length and its struct net_offload (net_port.c) */
#define NET_PORT_REC_HDR 12

struct net_switch;

/* Counters for `stats NAME` and `nics`. Every frame the switch had for this port is either taken
 * (rx_frames), dropped at a full ring (rx_dropped_full), too big for the taker's buffer
 * (rx_dropped_too_big), thrown away when the port detached (rx_flushed), or still queued. */
struct net_port_stats {
	uint64_t tx_frames, tx_bytes; /* frames this port sent that the switch accepted */
	uint64_t tx_malformed;	      /* shorter than a header or longer than NET_FRAME_MAX */
	uint64_t
		tx_filtered; /* to a MAC learned on this same port: nowhere to go (802.1D, 7.7.1) */
	uint64_t rx_frames, rx_bytes; /* taken by net_port_recv */
	uint64_t rx_dropped_full;     /* the ring had no room */
	uint64_t rx_dropped_too_big;  /* larger than net_port_recv's buffer */
	uint64_t rx_flushed;	      /* queued when the port detached */
	uint32_t rx_queued;	      /* frames in the ring now */
	uint32_t rx_queued_bytes;     /* ring bytes they fill, with their length fields */
};

struct net_port {
	struct spinlock lock; /* the ring and the counters */
	uint8_t slot;	      /* this port's slot in its switch, while attached */
	/* senders between queuing a frame here and calling notify: detach waits for 0, so the port
	 * and notify_ctx outlive every call (atomic) */
	uint32_t notify_refs;
	struct net_switch *sw; /* NULL while detached; set under the switch's lock */
	/* Called after frames were queued for this port (keel: kick the vCPU that drains it), on
	 * the sender's CPU and with no lock held; it must not call into the switch, nor take a lock
	 * that the port's owner holds while it detaches the port. */
	void (*notify)(void *ctx);
	void *notify_ctx;
	struct net_port_stats stats;
	/* queued bytes are ring[tail .. head) modulo NET_PORT_RING_BYTES */
	uint32_t head, tail;
	uint8_t ring[NET_PORT_RING_BYTES];
};

/* A detached port with an empty ring and zero counters; notify may be NULL. */
void net_port_init(struct net_port *p, void (*notify)(void *ctx), void *notify_ctx);
/* The next queued frame copied to buf: its length, or 0 when none is queued. A frame longer than
 * cap is dropped and counted (rx_dropped_too_big), never truncated, and the next one tried: give
 * a buffer of NET_FRAME_MAX bytes to take every frame. */
size_t net_port_recv(struct net_port *p, uint8_t *buf, size_t cap);
/* The same, with what travels with the frame in *off (all 0 when none is queued): a checksum
 * still to fill in (NET_OFF_NEEDS_CSUM), which a taker that cannot pass it on fills with
 * net_csum_fill. */
size_t net_port_recv_offload(struct net_port *p, uint8_t *buf, size_t cap, struct net_offload *off);
/* A consistent snapshot of the counters. */
void net_port_get_stats(struct net_port *p, struct net_port_stats *out);

/* The switch's side (io/net_switch.c), with the switch's lock held. */
/* Queues a valid frame (len <= NET_FRAME_MAX) and its offload fields (off may be NULL: none) when
 * it fits: true; else counts the drop. */
bool net_port_enqueue(struct net_port *p, const uint8_t *frame, size_t len,
		      const struct net_offload *off);
/* What became of a frame this port sent. */
enum net_tx_result {
	NET_TX_FORWARDED, /* valid; queued for, or dropped at, the ports it was meant for */
	NET_TX_FILTERED,  /* valid, to a MAC learned on the sender's own port */
	NET_TX_MALFORMED, /* never looked at further */
};
void net_port_count_tx(struct net_port *p, enum net_tx_result r, size_t len);
/* Drops every queued frame, counted as rx_flushed (the port detaches). */
void net_port_flush(struct net_port *p);

#endif
