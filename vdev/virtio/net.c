#include "vdev/virtio/net.h"

#include "lib/kstring.h"
#include "lib/le.h"
#include "lib/log.h"

/* Feature bits (5.1.3).
 *
 * Which offloads keel offers, and why. Under an emulator (and on real hardware, less so) every
 * byte and every frame a guest handles costs it: between two VMs on one keel switch a checksum
 * is pure waste, since the frame never leaves keel's memory and no wire can corrupt it, and so
 * is cutting a TCP stream into 1500-byte frames that the receiver's stack glues back together.
 * Measured with `BENCH_IO=net tools/bench-io` (two Linux VMs, 32 MiB over HTTP; figures and
 * conditions in docs/testing.md), under -icount (BENCH_ICOUNT=1: instructions, which the
 * machine's other load cannot move): no offloads 0.35 s of guest time, CSUM/GUEST_CSUM 0.36 s
 * (Linux's checksum loop is a few instructions per 8 bytes), these and TSO both ways 0.12 s,
 * HOST_TSO without GUEST_TSO (keel cuts) 0.20 s. On the wall clock, in the quieter rounds of a
 * shared machine: 6.2-7.1 MiB/s without offloads, 9.8-17.3 MiB/s with TSO both ways.
 *  - CSUM and GUEST_CSUM: a sender that negotiated CSUM leaves the TCP/UDP checksum open
 *    (NEEDS_CSUM); a receiver that negotiated GUEST_CSUM takes the frame so and computes
 *    nothing either (Linux marks the skb CHECKSUM_PARTIAL and trusts it). Only when the two
 *    sides differ does keel sum the frame, once, for the receiver that cannot take it open.
 *  - HOST_TSO4/6 and GUEST_TSO4/6: Linux hands the device TCP frames of up to 64 KiB; a
 *    receiver with GUEST_TSO takes them whole (up to 45 times fewer frames through both
 *    stacks, the switch and keel's exits); for one without, keel cuts them itself
 *    (io/net_offload.c), which costs what the sender's stack would have.
 *  - MRG_RXBUF: what Linux and Windows prefer. Without it, a Linux driver with GUEST_TSO posts
 *    "big packet" chains (the header, then 17 pages, one ring slot with INDIRECT_DESC) that
 *    each hold a whole 64 KiB frame: about 17 MiB of receive buffers per queue of 256, nearly
 *    all of it idle, as most frames are small. With it, the driver posts buffers of about
 *    1.5 KiB (Linux: sized by its recent frames) and a frame spreads over as many as it needs
 *    (num_buffers): about 1 MiB per queue, and a 64 KiB frame costs 44 chains instead of one.
 *    Measured under -icount (2026-12-03, RUNS=1 BENCH_IO=net BENCH_ICOUNT=1): 32 MiB in 0.11 s
 *    of guest time with it, 0.10 s without (the clock's step is 10 ms), 127 exits per MiB
 *    against 102: memory wins.
 *  - Not offered: HOST_ECN/GUEST_ECN (Linux then cuts frames with ECN's CWR itself), UFO and
 *    USO (UDP segmentation; nothing between keel's VMs sends such bursts), CTRL_VQ (and with it
 *    CTRL_GUEST_OFFLOADS, MQ, RSS), GUEST_ANNOUNCE, hash reports. */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MTU 3
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_GUEST_TSO6 8
#define F_HOST_TSO4 11
#define F_HOST_TSO6 12
#define F_MRG_RXBUF 15
#define F_STATUS 16

/* struct virtio_net_config (5.1.4) up to mtu: mac[6], le16 status, le16 max_virtqueue_pairs,
 * le16 mtu. */
#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_MAX_PAIRS 8
#define CFG_MTU 10
#define CFG_LEN 12
#define S_LINK_UP 1

/* struct virtio_net_hdr (5.1.6): u8 flags, u8 gso_type, le16 hdr_len, le16 gso_size,
 * le16 csum_start, le16 csum_offset, le16 num_buffers. */
#define HDR_FLAGS 0
#define HDR_GSO_TYPE 1
#define HDR_HDR_LEN 2
#define HDR_GSO_SIZE 4
#define HDR_CSUM_START 6
#define HDR_CSUM_OFFSET 8
#define HDR_NUM_BUFFERS 10
#define HDR_F_NEEDS_CSUM 1
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
_Static_assert(GSO_TCPV4 == NET_GSO_TCPV4 && GSO_TCPV6 == NET_GSO_TCPV6,
	       "the switch carries virtio's gso_type values");

#define PCI_CLASS_ETHERNET 0x020000

_Static_assert(VIRTIO_NET_QUEUE_SIZE <= VIRTQ_MAX_SIZE, "the transport takes the queue size");

/* The driver accepted feature bit f (meaningful once FEATURES_OK is set, as it is whenever a
 * queue runs: virtio_pci_dma). */
static bool negotiated(const struct virtio_net *n, unsigned f)
{
	return n->vpci.driver_features >> f & 1;
}

/* ---- transmit ----------------------------------------------------------------------------- */

static uint32_t transmit(struct virtio_pci *v, const struct guest_mem *m,
			 const struct virtq_chain *c)
{
	struct virtio_net *n = v->ctx;
	if (c->nr_in) {
		n->stats.tx_bad_chain++;
		return 0;
	}
	if (c->out_bytes < VIRTIO_NET_HDR_LEN) {
		n->stats.tx_bad_header++;
		return 0;
	}
	uint64_t len = c->out_bytes - VIRTIO_NET_HDR_LEN;
	bool tso = negotiated(n, F_HOST_TSO4) || negotiated(n, F_HOST_TSO6);
	if (len < NET_ETH_HDR_LEN || len > (tso ? NET_GSO_FRAME_MAX : NET_FRAME_MAX)) {
		n->stats.tx_bad_length++;
		return 0;
	}
	/* one copy into keel's buffer: what is checked is what is sent (io/net_switch.h) */
	size_t total = VIRTIO_NET_HDR_LEN + (size_t)len;
	if (virtq_chain_read(m, c, 0, n->tx_buf, total) != total) {
		n->stats.tx_bad_chain++;
		return 0;
	}
	/* Without VIRTIO_NET_F_CSUM the driver MUST NOT set NEEDS_CSUM, and without HOST_TSO4 or
	 * HOST_TSO6 it MUST send GSO_NONE or the other type (5.1.6.2.1): either would leave keel a
	 * checksum to fill or a frame to cut that it never offered to. ECN, UDP and the rest were
	 * never offered. The offsets and gso_size are the guest's: the switch refuses them unless
	 * the checksum field lies inside the frame and, for a frame to cut, the headers parse
	 * (net_offload_valid). Other flag bits carry nothing for a transmitted frame: ignored
	 * (5.1.6.2.2); so is hdr_len, a hint keel does not need (it finds the headers itself). */
	const uint8_t *h = n->tx_buf;
	struct net_offload off = { .gso_type = h[HDR_GSO_TYPE] };
	if (h[HDR_FLAGS] & HDR_F_NEEDS_CSUM) {
		off.flags = NET_OFF_NEEDS_CSUM;
		off.csum_start = le16(h + HDR_CSUM_START);
		off.csum_offset = le16(h + HDR_CSUM_OFFSET);
	}
	bool ok = !off.flags || negotiated(n, F_CSUM);
	if (off.gso_type == GSO_NONE) {
		/* bounded here; the frame's length is the switch's to judge (tx_bad_length) */
		ok = ok && (!off.flags || (size_t)off.csum_start + off.csum_offset + 2 <= len);
	} else {
		off.gso_size = le16(h + HDR_GSO_SIZE);
		ok = ok &&
		     ((off.gso_type == GSO_TCPV4 && negotiated(n, F_HOST_TSO4)) ||
		      (off.gso_type == GSO_TCPV6 && negotiated(n, F_HOST_TSO6))) &&
		     net_offload_valid(&off, n->tx_buf + VIRTIO_NET_HDR_LEN, (size_t)len);
	}
	if (!ok) {
		n->stats.tx_bad_header++;
		return 0;
	}
	/* A VM sends from its own MAC only. The switch learns source addresses (802.1D, 7.8): a
	 * frame from another VM's MAC would move that MAC to this port, and with it the other
	 * VM's unicast traffic. keel offers no CTRL_MAC_ADDR, so the device's MAC is the only one
	 * the driver was given (5.1.4); a guest that changes its address on its own is cut off. */
	if (memcmp(n->tx_buf + VIRTIO_NET_HDR_LEN + NET_MAC_LEN, n->mac, NET_MAC_LEN) != 0) {
		unsigned suppressed;
		const uint8_t *s = n->tx_buf + VIRTIO_NET_HDR_LEN + NET_MAC_LEN;
		n->stats.tx_spoofed++;
		/* a fresh key per frame (the queue's break lines use small ones): the bucket bounds
		 * the lines */
		if (unclaimed_log_should_print(&v->log, v->env, 1ull << 63 | n->stats.tx_spoofed,
					       &suppressed))
			klog("vm %s: virtio-net 00:%02x.0: a frame from mac "
			     "%02x:%02x:%02x:%02x:%02x:%02x, not the device's own; dropped%s",
			     v->env->vm_name, v->pci.devfn >> 3, s[0], s[1], s[2], s[3], s[4], s[5],
			     suppressed ? " (and earlier lines left out)" : "");
		return 0;
	}
	int r = net_switch_send_offload(&n->port, n->tx_buf + VIRTIO_NET_HDR_LEN, (size_t)len,
					&off);
	if (r == NET_SEND_DETACHED) {
		n->stats.tx_no_link++;
	} else if (r == NET_SEND_MALFORMED) {
		n->stats.tx_bad_length++; /* e.g. 1515-1518 bytes without an 802.1Q tag */
	} else {
		n->stats.tx_frames++;
		n->stats.tx_bytes += len;
	}
	return 0; /* nothing written into the chain (2.7.8: used length is bytes written) */
}

/* ---- receive ------------------------------------------------------------------------------ */

/* Frames to give the guest: in the port's ring, or segments of a frame being cut. Only the owner
 * takes frames, so as many are there to take. */
static bool frames_queued(struct virtio_net *n)
{
	struct net_port_stats s;
	if (n->rx_held || net_gso_more(&n->rx_gso))
		return true;
	net_port_get_stats(&n->port, &s);
	return s.rx_queued != 0;
}

/* The driver takes a frame of this gso_type whole (5.1.6.4.1: GUEST_TSO4/6, which need
 * GUEST_CSUM, 5.1.3.1). */
static bool takes_whole(const struct virtio_net *n, uint8_t gso_type)
{
	if (!negotiated(n, F_GUEST_CSUM))
		return false;
	return (gso_type == GSO_TCPV4 && negotiated(n, F_GUEST_TSO4)) ||
	       (gso_type == GSO_TCPV6 && negotiated(n, F_GUEST_TSO6));
}

/* The next segment of the frame being cut: with GUEST_CSUM its checksum left open (NEEDS_CSUM
 * at TCP's, 5.1.6.4.1) so that nobody sums the payload, else summed by keel (flags 0). */
static size_t next_segment(struct virtio_net *n, uint8_t hdr[VIRTIO_NET_HDR_LEN],
			   const uint8_t **frame)
{
	struct net_gso *g = &n->rx_gso;
	g->open_csum = negotiated(n, F_GUEST_CSUM);
	if (g->open_csum) {
		hdr[HDR_FLAGS] = HDR_F_NEEDS_CSUM;
		put_le16(hdr + HDR_CSUM_START, (uint16_t)g->l4);
		put_le16(hdr + HDR_CSUM_OFFSET, 16);
	}
	n->stats.rx_gso_segments++;
	*frame = n->seg_buf;
	return net_gso_next(g, n->seg_buf, sizeof(n->seg_buf));
}

/* The next frame for the guest and its header: the next segment of a frame being cut, or the
 * port's next frame, passed on with its offloads where the driver negotiated them, else filled
 * in or cut by keel. Its length, or 0 (nothing, or a frame dropped and counted). */
static size_t next_frame(struct virtio_net *n, uint8_t hdr[VIRTIO_NET_HDR_LEN],
			 const uint8_t **frame)
{
	/* GSO_NONE, hdr_len and gso_size 0 unless set below; num_buffers 1 without MRG_RXBUF
	 * (5.1.6.4.1) */
	memset(hdr, 0, VIRTIO_NET_HDR_LEN);
	hdr[HDR_NUM_BUFFERS] = 1;
	if (n->rx_held) {
		n->rx_held = false;
		memcpy(hdr, n->rx_held_hdr, VIRTIO_NET_HDR_LEN);
		*frame = n->rx_held_frame;
		return n->rx_held_len;
	}
	if (net_gso_more(&n->rx_gso))
		return next_segment(n, hdr, frame);
	struct net_offload off;
	size_t len = net_port_recv_offload(&n->port, n->rx_buf, sizeof(n->rx_buf), &off);
	*frame = n->rx_buf;
	if (!len)
		return 0; /* cannot happen (only the owner takes frames) */
	if (off.gso_type != GSO_NONE) {
		/* checked by the switch; parsed again, as this is what gives hdr_len */
		if (!net_gso_start(&n->rx_gso, n->rx_buf, len, &off)) {
			n->stats.rx_bad_offload++;
			return 0;
		}
		if (!takes_whole(n, off.gso_type)) {
			n->stats.rx_gso_split++;
			return next_segment(n, hdr, frame);
		}
		/* whole, as the sender gave it: NEEDS_CSUM, the MSS, and hdr_len covering every
		 * header up to the payload (5.1.6.4.1's SHOULD) */
		put_le16(hdr + HDR_HDR_LEN, (uint16_t)net_gso_hdr_len(&n->rx_gso));
		n->rx_gso = (struct net_gso){ 0 };
		hdr[HDR_GSO_TYPE] = off.gso_type;
		put_le16(hdr + HDR_GSO_SIZE, off.gso_size);
	}
	if ((off.flags & NET_OFF_NEEDS_CSUM) && negotiated(n, F_GUEST_CSUM)) {
		/* the driver fills the checksum in itself, or needs none (5.1.6.4.1: NEEDS_CSUM
		 * and offsets that make a fully checksummed frame; the sender's stack made them) */
		hdr[HDR_FLAGS] = HDR_F_NEEDS_CSUM;
		put_le16(hdr + HDR_CSUM_START, off.csum_start);
		put_le16(hdr + HDR_CSUM_OFFSET, off.csum_offset);
	} else if (!net_csum_fill(n->rx_buf, len, &off)) {
		/* without GUEST_CSUM flags stay 0 and the frame is whole (5.1.6.4.1): keel sums it.
		 * The switch checked the offsets, so this is a frame nobody could checksum. */
		n->stats.rx_bad_offload++;
		return 0;
	}
	return len;
}

/* One frame into one chain: the used length. */
static uint32_t receive(struct virtio_net *n, const struct guest_mem *m,
			const struct virtq_chain *c)
{
	if (c->nr_out) {
		n->stats.rx_bad_chain++; /* the frames stay queued for a chain that can take one */
		return 0;
	}
	uint8_t hdr[VIRTIO_NET_HDR_LEN];
	const uint8_t *frame;
	size_t len = next_frame(n, hdr, &frame);
	if (!len)
		return 0; /* an empty buffer back */
	if (c->in_bytes < VIRTIO_NET_HDR_LEN + len) {
		n->stats.rx_too_small++;
		return 0;
	}
	if (virtq_chain_write(m, c, 0, hdr, VIRTIO_NET_HDR_LEN) != VIRTIO_NET_HDR_LEN ||
	    virtq_chain_write(m, c, VIRTIO_NET_HDR_LEN, frame, len) != len) {
		n->stats.rx_lost++; /* RAM gone under the chain: the frame is lost, the chain empty */
		return 0;
	}
	return (uint32_t)(VIRTIO_NET_HDR_LEN + len); /* counted once the driver can see it */
}

/* Without MRG_RXBUF: one chain, one frame. False when the queue has no chain or broke. */
static bool receive_single(struct virtio_net *n, const struct guest_mem *m, struct virtq *vq)
{
	const char *why = NULL;
	enum virtq_pop r = virtq_pop(vq, m, &n->rx_chain, &why);
	if (r == VIRTQ_EMPTY)
		return false; /* the driver's next notification of this queue brings us back */
	uint32_t used = r == VIRTQ_GOT ? receive(n, m, &n->rx_chain) : 0;
	if (r == VIRTQ_BROKEN || virtq_push(vq, m, n->rx_chain.head, used)) {
		if (used)
			n->stats.rx_lost++;
		virtio_pci_queue_broken(&n->vpci, VIRTIO_NET_RXQ,
					why ? why : "a used ring outside the VM's RAM");
		return false;
	}
	if (used) {
		n->stats.rx_frames++;
		n->stats.rx_bytes += used - VIRTIO_NET_HDR_LEN;
	}
	return true;
}

/* Bytes [at, at + len) of header-then-frame into chain c at offset 0: true when all went in. */
static bool write_piece(const struct guest_mem *m, const struct virtq_chain *c,
			const uint8_t hdr[VIRTIO_NET_HDR_LEN], const uint8_t *frame, size_t at,
			size_t len)
{
	size_t done = 0;
	if (at < VIRTIO_NET_HDR_LEN) {
		size_t h = MIN(len, VIRTIO_NET_HDR_LEN - at);
		if (virtq_chain_write(m, c, 0, hdr + at, h) != h)
			return false;
		done = h;
	}
	size_t f = len - done;
	return virtq_chain_write(m, c, done, frame + (at + done - VIRTIO_NET_HDR_LEN), f) == f;
}

/* With MRG_RXBUF (5.1.6.4.2): the header and the frame fill as many chains as they need, one
 * after the other; num_buffers in the first chain's header counts them, and they complete
 * together, in order, as the driver reads them from consecutive used entries. Each chain must be
 * device-writable and hold at least the header (5.1.6.3.1): one that is not ends the frame
 * (dropped, counted), and every chain it took goes back with used length 0. When the queue runs
 * dry (or this call's budget of chains ends) mid-frame, the chains go back to the available ring
 * untouched in its eyes (virtq_unpop) and the frame waits in the device for more buffers. False
 * when the queue has no chain, broke, or the budget ended. */
static bool receive_merged(struct virtio_net *n, const struct guest_mem *m, struct virtq *vq,
			   unsigned *budget)
{
	uint8_t hdr[VIRTIO_NET_HDR_LEN];
	const uint8_t *frame = NULL;
	uint16_t first_avail = vq->last_avail;
	size_t len = 0, total = 0, done = 0;
	unsigned nbuf = 0;
	bool whole = false;
	while (!whole) {
		struct virtq_chain *c = nbuf ? &n->rx_chain : &n->rx_first;
		const char *why = NULL;
		enum virtq_pop r = *budget ? virtq_pop(vq, m, c, &why) : VIRTQ_EMPTY;
		if (r == VIRTQ_EMPTY) {
			if (nbuf) {
				virtq_unpop(vq, first_avail);
				n->rx_held = true;
				memcpy(n->rx_held_hdr, hdr, VIRTIO_NET_HDR_LEN);
				n->rx_held_frame = frame;
				n->rx_held_len = len;
			}
			if (!*budget) /* come back on the vCPU's next pass */
				__atomic_store_n(&n->rx_waiting, true, __ATOMIC_SEQ_CST);
			return false;
		}
		if (r == VIRTQ_BROKEN) {
			if (nbuf)
				n->stats.rx_lost++;
			virtio_pci_queue_broken(&n->vpci, VIRTIO_NET_RXQ, why);
			return false;
		}
		(*budget)--;
		n->rx_heads[nbuf] = c->head;
		n->rx_lens[nbuf] = 0;
		nbuf++;
		if (c->nr_out || c->in_bytes < VIRTIO_NET_HDR_LEN) {
			n->stats.rx_bad_chain++;
			if (len)
				n->stats.rx_too_small++;
			break; /* a frame taken is dropped; without one, the next chain tries */
		}
		if (nbuf == 1) {
			len = next_frame(n, hdr, &frame);
			if (!len)
				break; /* dropped and counted: the chain goes back empty */
			total = VIRTIO_NET_HDR_LEN + len;
		}
		size_t piece = (size_t)MIN((uint64_t)(total - done), c->in_bytes);
		if (!write_piece(m, c, hdr, frame, done, piece)) {
			n->stats.rx_lost++; /* RAM gone under the chain: the frame is lost */
			break;
		}
		n->rx_lens[nbuf - 1] = (uint32_t)piece;
		done += piece;
		whole = done == total;
	}
	if (whole) {
		uint8_t nb[2];
		put_le16(nb, (uint16_t)nbuf);
		if (virtq_chain_write(m, &n->rx_first, HDR_NUM_BUFFERS, nb, 2) != 2) {
			n->stats.rx_lost++;
			whole = false;
		}
	}
	for (unsigned i = 0; i < nbuf; i++)
		if (virtq_push(vq, m, n->rx_heads[i], whole ? n->rx_lens[i] : 0)) {
			if (whole)
				n->stats.rx_lost++;
			virtio_pci_queue_broken(&n->vpci, VIRTIO_NET_RXQ,
						"a used ring outside the VM's RAM");
			return false;
		}
	if (whole) {
		n->stats.rx_frames++;
		n->stats.rx_bytes += len;
	}
	return true;
}

void virtio_net_rx(struct virtio_net *n)
{
	struct virtio_pci *v = &n->vpci;
	struct virtq *vq = &v->vq[VIRTIO_NET_RXQ];
	/* cleared first: a frame queued from here on sets it again, so none waits unseen */
	__atomic_store_n(&n->rx_waiting, false, __ATOMIC_SEQ_CST);
	const struct guest_mem *m = virtio_pci_dma(v);
	if (!m || !vq->enabled)
		return;
	uint16_t before = vq->used_idx;
	/* at most one queue's worth of chains per call: one exit does bounded work */
	unsigned budget = vq->size;
	if (negotiated(n, F_MRG_RXBUF)) {
		while (budget && frames_queued(n) && receive_merged(n, m, vq, &budget))
			;
	} else {
		for (; budget && frames_queued(n) && receive_single(n, m, vq); budget--)
			;
	}
	virtio_pci_used(v, VIRTIO_NET_RXQ, before);
}

bool virtio_net_rx_pending(const struct virtio_net *n)
{
	return __atomic_load_n(&n->rx_waiting, __ATOMIC_ACQUIRE);
}

/* The switch queued frames for us: on the sender's CPU, maybe under its VM's lock, so no lock. */
static void port_notify(void *ctx)
{
	struct virtio_net *n = ctx;
	__atomic_store_n(&n->rx_waiting, true, __ATOMIC_SEQ_CST);
	if (n->kick)
		n->kick(n->kick_ctx);
}

/* ---- the transport's callbacks ------------------------------------------------------------ */

static void notify(struct virtio_pci *v, unsigned q)
{
	struct virtio_net *n = v->ctx;
	if (q == VIRTIO_NET_TXQ)
		virtio_pci_drain(v, q, transmit);
	else
		virtio_net_rx(n); /* new receive buffers: frames may be waiting for them */
}

static uint64_t cfg_read(struct virtio_pci *v, unsigned off, unsigned size)
{
	const struct virtio_net *n = v->ctx;
	uint8_t cfg[CFG_LEN];
	uint16_t w;
	memcpy(cfg + CFG_MAC, n->mac, NET_MAC_LEN);
	w = S_LINK_UP;
	memcpy(cfg + CFG_STATUS, &w, 2);
	w = 1; /* only meaningful with MQ or RSS, neither offered: 1 pair */
	memcpy(cfg + CFG_MAX_PAIRS, &w, 2);
	w = NET_MTU;
	memcpy(cfg + CFG_MTU, &w, 2);
	uint64_t val = 0;
	memcpy(&val, cfg + off, size); /* the transport keeps off + size inside CFG_LEN */
	return val;
}

/* No cfg_write: every field is read-only for the driver (5.1.4); a write is dropped. */
static const struct virtio_dev_ops net_ops = { .notify = notify, .cfg_read = cfg_read };

int virtio_net_init(struct virtio_net *n, const struct vdev_env *env,
		    const uint8_t mac[NET_MAC_LEN], void (*kick)(void *ctx), void *kick_ctx)
{
	static const uint8_t zero[NET_MAC_LEN];
	memset(n, 0, offsetof(struct virtio_net, port));
	net_port_init(&n->port, port_notify, n);
	if (net_mac_is_group(mac) || !memcmp(mac, zero, NET_MAC_LEN))
		return -1;
	memcpy(n->mac, mac, NET_MAC_LEN);
	n->kick = kick;
	n->kick_ctx = kick_ctx;
	uint64_t f = 1ull << F_MAC | 1ull << F_STATUS | 1ull << F_MTU | 1ull << F_CSUM |
		     1ull << F_GUEST_CSUM | 1ull << F_HOST_TSO4 | 1ull << F_HOST_TSO6 |
		     1ull << F_GUEST_TSO4 | 1ull << F_GUEST_TSO6 | 1ull << F_MRG_RXBUF;
	/* network controller, Ethernet (PCI Code and ID Assignment, 1.2) */
	return virtio_pci_init(&n->vpci, env, VIRTIO_ID_NET, PCI_CLASS_ETHERNET, 2,
			       VIRTIO_NET_QUEUE_SIZE, f, CFG_LEN, &net_ops, n);
}
