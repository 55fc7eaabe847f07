#include "vdev/virtio/net.h"

#include "lib/kstring.h"

/* Feature bits (5.1.3).
 *
 * Which offloads keel offers, and why. Under an emulator (and on real hardware, less so) every
 * byte a guest touches costs it: between two VMs on one keel switch a checksum is pure waste,
 * since the frame never leaves keel's memory and no wire can corrupt it.
 *  - CSUM and GUEST_CSUM (offered): a sender that negotiated CSUM leaves the TCP/UDP checksum
 *    open (NEEDS_CSUM), a receiver that negotiated GUEST_CSUM takes the frame so and computes
 *    nothing either (Linux marks the skb CHECKSUM_PARTIAL and trusts it). Only when the two
 *    sides differ does keel sum the frame, once, for the receiver that cannot take it open
 *    (io/net_offload.c). `RUNS=1 BENCH_IO=net tools/bench-io` (two Linux VMs, 32 MiB over
 *    HTTP; docs/testing.md): 6.5 MiB/s without (net-ratio 0.17), 12.2 MiB/s with (0.53).
 *  - Not offered: HOST_TSO4/6 and GUEST_TSO4/6 (frames up to 64 KiB through the switch),
 *    MRG_RXBUF, HOST_ECN/GUEST_ECN, UFO/USO, CTRL_VQ (and with it CTRL_GUEST_OFFLOADS, MQ,
 *    RSS), GUEST_ANNOUNCE, hash reports. */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MTU 3
#define F_MAC 5
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
#define HDR_CSUM_START 6
#define HDR_CSUM_OFFSET 8
#define HDR_NUM_BUFFERS 10
#define HDR_F_NEEDS_CSUM 1
#define GSO_NONE 0

#define PCI_CLASS_ETHERNET 0x020000

_Static_assert(VIRTIO_NET_QUEUE_SIZE <= VIRTQ_MAX_SIZE, "the transport takes the queue size");

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

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
	if (len < NET_ETH_HDR_LEN || len > NET_FRAME_MAX) {
		n->stats.tx_bad_length++;
		return 0;
	}
	/* one copy into keel's buffer: what is checked is what is sent (io/net_switch.h) */
	size_t total = VIRTIO_NET_HDR_LEN + (size_t)len;
	if (virtq_chain_read(m, c, 0, n->tx_buf, total) != total) {
		n->stats.tx_bad_chain++;
		return 0;
	}
	/* without VIRTIO_NET_F_CSUM the driver MUST NOT set NEEDS_CSUM, and without the HOST_*
	 * offloads it MUST send GSO_NONE (5.1.6.2.1): either would leave keel a checksum to fill
	 * or a frame to cut that it never offered to. With CSUM, csum_start and csum_offset are
	 * the guest's: the switch refuses them unless the checksum field lies inside the frame
	 * (net_offload_valid). Other flag bits carry nothing for a transmitted frame: ignored
	 * (5.1.6.2.2), and so are hdr_len and gso_size without a gso_type. */
	struct net_offload off = { 0 };
	if (n->tx_buf[HDR_FLAGS] & HDR_F_NEEDS_CSUM) {
		off.flags = NET_OFF_NEEDS_CSUM;
		off.csum_start = le16(n->tx_buf + HDR_CSUM_START);
		off.csum_offset = le16(n->tx_buf + HDR_CSUM_OFFSET);
	}
	if ((off.flags && !negotiated(n, F_CSUM)) || n->tx_buf[HDR_GSO_TYPE] != GSO_NONE ||
	    !net_offload_valid(&off, (size_t)len)) {
		n->stats.tx_bad_header++;
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

/* Frames in the port's ring now. Only the owner takes them, so as many are there to take. */
static bool frames_queued(struct virtio_net *n)
{
	struct net_port_stats s;
	net_port_get_stats(&n->port, &s);
	return s.rx_queued != 0;
}

/* One frame into one chain: the used length. */
static uint32_t receive(struct virtio_net *n, const struct guest_mem *m,
			const struct virtq_chain *c)
{
	if (c->nr_out) {
		n->stats.rx_bad_chain++; /* the frames stay queued for a chain that can take one */
		return 0;
	}
	struct net_offload off;
	size_t len = net_port_recv_offload(&n->port, n->rx_buf, sizeof(n->rx_buf), &off);
	if (!len)
		return 0; /* cannot happen (only the owner takes frames); an empty buffer back */
	if (c->in_bytes < VIRTIO_NET_HDR_LEN + len) {
		n->stats.rx_too_small++;
		return 0;
	}
	/* no GUEST_* segmentation, no MRG_RXBUF: GSO_NONE, hdr_len and gso_size 0, num_buffers 1
	 * (5.1.6.4.1) */
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = { 0 };
	hdr[HDR_NUM_BUFFERS] = 1;
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
	if (virtq_chain_write(m, c, 0, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    virtq_chain_write(m, c, VIRTIO_NET_HDR_LEN, n->rx_buf, len) != len) {
		n->stats.rx_lost++; /* RAM gone under the chain: the frame is lost, the chain empty */
		return 0;
	}
	return (uint32_t)(VIRTIO_NET_HDR_LEN + len); /* counted once the driver can see it */
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
	for (unsigned i = 0; i < vq->size && frames_queued(n); i++) {
		const char *why = NULL;
		enum virtq_pop r = virtq_pop(vq, m, &n->rx_chain, &why);
		if (r == VIRTQ_EMPTY)
			break; /* the driver's next notification of this queue brings us back */
		uint32_t used = r == VIRTQ_GOT ? receive(n, m, &n->rx_chain) : 0;
		if (r == VIRTQ_BROKEN || virtq_push(vq, m, n->rx_chain.head, used)) {
			if (used)
				n->stats.rx_lost++;
			virtio_pci_queue_broken(v, VIRTIO_NET_RXQ,
						why ? why : "a used ring outside the VM's RAM");
			break;
		}
		if (used) {
			n->stats.rx_frames++;
			n->stats.rx_bytes += used - VIRTIO_NET_HDR_LEN;
		}
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
		     1ull << F_GUEST_CSUM;
	/* network controller, Ethernet (PCI Code and ID Assignment, 1.2) */
	return virtio_pci_init(&n->vpci, env, VIRTIO_ID_NET, PCI_CLASS_ETHERNET, 2,
			       VIRTIO_NET_QUEUE_SIZE, f, CFG_LEN, &net_ops, n);
}
