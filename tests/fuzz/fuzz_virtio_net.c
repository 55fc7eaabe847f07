/* virtio-net (vdev/virtio/net.c): two devices A and B on one PCI bus and one guest RAM, both ports
 * of one switch with a probe port the fuzzer sends from and takes from. The input builds
 * transmit chains (frames split any way, offload bits, writable buffers, lengths from 0 to 2047,
 * tagged and untagged, to any destination) and receive chains (any size and split, readable
 * buffers), writes raw descriptors, ring entries and RAM, notifies either queue, runs the receive
 * path, resets devices, turns bus mastering off and on and detaches ports. Port rings are 4 KiB in
 * fuzz builds (io/net_port.h), so they fill.
 *
 * Guest RAM: [0, 0x4000), [0x4000, 0x14000), [0x14000, 0x26000), each its own allocation (ASan
 * sees any access past one), a gap, then [0x27000, 0x28000). Rings: queue q of device d at
 * 0x400 (2 d + q): descriptors +0, available +0x100, used +0x200. A chain the input builds lives
 * in the slot of its head, its indirect table (8 entries) at the slot's last 0x80 bytes: transmit
 * slots at 0x1800 + 0x900 (16 d + head), receive slots at 0x13800 + 0x900 (16 d + head); both
 * areas cross an extent boundary.
 *
 * Checked after every step: a device without bus mastering or not DRIVER_OK changes no byte of
 * guest RAM; a notification or a receive call completes at most a queue's worth of chains and
 * raises at most two interrupts (its queue's and a configuration change); the counters add up:
 * every transmit chain completed is counted once (tx_*), what the device handed the switch is
 * what the port counted, every frame the port gave the device is in the guest or dropped with a
 * reason, every frame queued on the port kicked the owner once, none was too big for the
 * device's buffer. Until the input writes raw descriptors, ring entries or RAM: every transmit
 * chain comes back with used length 0; a receive chain comes back either untouched with length
 * 0 or holding the 12-byte header (num_buffers 1) and a whole frame of 14 to NET_FRAME_MAX bytes
 * whose bytes are what its sender put in it (frames describe themselves: a number, their
 * length and where their sender left a checksum open at bytes 20-30, a pattern from the number
 * after), with length 12 + frame; a frame sent with NEEDS_CSUM arrives with NEEDS_CSUM and the
 * sender's offsets in the header only at a driver that negotiated GUEST_CSUM, and at any other
 * with that checksum filled in (the sum from csum_start, with the sender's seed, verifies) and
 * no other byte changed; the switch never passes a device offsets it cannot use. And a
 * well-formed chain with room for any frame is never returned empty; the probe takes only such
 * frames.
 *
 * Input: byte 0: bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bits 2-4 the queue size 2^(v % 5), bit 5
 * B starts detached, bits 6 and 7 A's and B's drivers take CSUM and GUEST_CSUM. Byte 1: bits 0
 * and 1, A's and B's drivers take MRG_RXBUF (a frame then spreads over consecutive chains, which
 * the checks put together first, num_buffers counting them). Then steps, a byte each (low 4 bits), operands after (missing bytes are 0):
 *   0 RAM write: le16 gpa, u8 n, n bytes                                    (raw)
 *   1 descriptor: u8 sel, u8 i, le16 addr, le16 len, u8 flags, u8 next      (raw)
 *   2 publish: u8 sel, u8 head                                              (raw)
 *   3 notify: u8 sel (bit 0 device, bit 1 queue)
 *   4 transmit chain: u8 dev, u8 layout (bits 0-1 pieces - 1, bit 2 header alone, bit 3
 *     indirect, bit 4 a writable buffer after, bit 5 a zero-length buffer, bit 6 an 802.1Q
 *     tag, bit 7 the frame's source is not the device's MAC), le16 length (low 11 bits), u8
 *     destination (% 6: the other device, broadcast, the probe, a multicast group, itself, an
 *     unknown host), u8 header (bits 0-1 flags 0, NEEDS_CSUM, DATA_VALID, 0xFE; bits 2-3
 *     gso_type 0, TCPV4, ECN, 5; bits 4-6 csum_start and csum_offset: TCP's over IPv4, the
 *     field at the frame's end summed from byte 31 or from 0, one byte past the end, 0xffff
 *     twice, the field at the end alone), u8 where the first piece ends
 *   5 receive chain: u8 dev, u8 layout (bits 0-1 pieces - 1, bit 2 indirect, bit 3 a readable
 *     buffer first, bit 4 a zero-length buffer), le16 bytes (% 0x881)
 *   6 probe sends: u8 count (low 3 bits + 1), le16 length (% 1600), u8 destination (as in 4;
 *     bit 3: the checksum left open at TCP's place over IPv4, from 52 bytes)
 *   7 virtio_net_rx: u8 dev
 *   8 the driver resets the device and sets it up again: u8 dev
 *   9 bus mastering toggled: u8 dev
 *  10 port detached, or attached again: u8 dev
 *  11 the probe takes every frame queued for it
 *  12 the owners run: virtio_net_rx for each device whose rx is pending
 *  13-15 nothing */
#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/net_pkt.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/net.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vq_range layout[] = {
	{ 0, 0x4000 }, { 0x4000, 0x10000 }, { 0x14000, 0x12000 }, { 0x27000, 0x1000 }
};
#define RAM_BYTES (0x4000 + 0x10000 + 0x12000 + 0x1000)
#define RINGS(d, q) (0x400 * (2 * (d) + (q)))
#define TX_SLOT(d, h) (0x1800 + 0x900 * (16 * (d) + (h)))
#define RX_SLOT(d, h) (0x13800 + 0x900 * (16 * (d) + (h)))
#define SLOT_BYTES 0x900
#define TABLE_AT 0x880 /* a chain's indirect table in its slot */
#define RX_FILL 0xEE
#define NDEV 2
#define SLOT0 2
#define MAX_PIECES 8
#define SELF_AT 20 /* where a frame's number and length are, then its checksum fields */
#define SELF_MIN 31
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define HDR_F_NEEDS_CSUM 1

static struct vq_ram ram;
static const struct guest_mem *m = &ram.mem;
static struct vdev_env env;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct net_registry reg;
static struct net_switch *lan;
static struct net_port probe;
static struct virtio_net dev[NDEV];
static uint8_t mac[NDEV][NET_MAC_LEN];
static uint64_t kicks[NDEV];
static struct vq_drv drv[NDEV][2];
static uint64_t features;   /* both devices' */
static bool offloads[NDEV]; /* the device's driver took CSUM and GUEST_CSUM too */
/* and of segmentation: A takes HOST_TSO4/6 and GUEST_TSO4/6, B HOST_TSO4 only */
static bool host_tso4[NDEV], host_tso6[NDEV], guest_tso[NDEV];
static bool mrg[NDEV]; /* the device's driver took MRG_RXBUF */
#define GSO_TCPV4_T 1
#define GSO_TCPV6_T 4
#define TCP_FRAME_MAX 2047   /* the fuzzer's frames to cut: small ones, in few segments or many */
#define ETH_TYPE_SELF 0x88b5 /* IEEE 802 local experimental: the self-describing frames */
static uint16_t qsize;
static bool raw;	  /* raw descriptors, ring entries or RAM written: no content checks */
static uint32_t next_seq; /* the next frame's number */
static uint64_t completed[NDEV][2]; /* chains the device returned, per queue */

static const uint8_t probe_mac[NET_MAC_LEN] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t bcast[NET_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[NET_MAC_LEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t stranger[NET_MAC_LEN] = { 0x02, 0x55, 0, 0, 0, 0x01 };

/* What the model knows of each chain the input built, by queue and head. */
struct chain {
	bool live;
	unsigned descs; /* descriptors it took in the ring's table */
	bool readable;	/* a receive chain with a device-readable buffer */
	unsigned n;
	struct virtq_seg w[MAX_PIECES]; /* a receive chain's writable buffers */
	uint64_t in_bytes;
};
static struct chain chains[NDEV][2][16];
static unsigned next_desc[NDEV][2], outstanding[NDEV][2];

/* ---- the input ---- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n && in->left; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

/* ---- frames that describe themselves ---- */

static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + (i >> 8));
}

/* Where a sender's NEEDS_CSUM puts the checksum: start and offset, or none. */
struct csum {
	bool open;
	uint16_t start, offset;
};

static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src, bool tag,
		       struct csum cs)
{
	uint32_t seq = next_seq++;
	for (size_t i = 0; i < len; i++)
		f[i] = pattern(seq, i);
	uint8_t head[SELF_MIN] = { 0 };
	memcpy(head, dst, NET_MAC_LEN);
	memcpy(head + NET_ETH_SRC_OFFSET, src, NET_MAC_LEN);
	static const uint8_t tagged[] = {
		0x81, 0x00, 0x00, 0x05, ETH_TYPE_SELF >> 8, ETH_TYPE_SELF & 0xff
	};
	memcpy(head + 12, tagged + (tag ? 0 : 4), tag ? 6 : 2);
	memcpy(head + SELF_AT, &seq, 4);
	uint16_t l = (uint16_t)len;
	memcpy(head + SELF_AT + 4, &l, 2);
	memcpy(head + SELF_AT + 6, &cs.start, 2);
	memcpy(head + SELF_AT + 8, &cs.offset, 2);
	head[SELF_AT + 10] = cs.open;
	memcpy(f, head, len < SELF_MIN ? len : SELF_MIN);
}

/* The checksum the frame's sender left open: where, when the frame says it did (a frame
 * shorter than SELF_MIN says nothing, and no field may lie in its first SELF_MIN bytes). */
static struct csum frame_csum(const uint8_t *f, size_t len)
{
	struct csum cs = { 0 };
	if (len < SELF_MIN || !f[SELF_AT + 10])
		return cs;
	cs.open = true;
	memcpy(&cs.start, f + SELF_AT + 6, 2);
	memcpy(&cs.offset, f + SELF_AT + 8, 2);
	if ((size_t)cs.start + cs.offset + 2 > len || cs.start + cs.offset < SELF_MIN)
		abort(); /* a sender sent what it should not have been able to */
	return cs;
}

/* A frame some sender built, whole: its length and pattern are its own. `open`: it came with
 * NEEDS_CSUM (its checksum field as the sender left it), else a checksum its sender left open
 * was filled in: the sum from csum_start on verifies (RFC 1071) and no other byte changed. */
static void check_frame(const uint8_t *f, size_t len, bool open)
{
	if (len < NET_ETH_HDR_LEN || len > NET_FRAME_MAX)
		abort();
	if (raw || len < SELF_MIN) {
		if (open && !raw)
			abort();
		return;
	}
	uint32_t seq;
	uint16_t l;
	memcpy(&seq, f + SELF_AT, 4);
	memcpy(&l, f + SELF_AT + 4, 2);
	if (l != len)
		abort();
	struct csum cs = frame_csum(f, len);
	if (open && !cs.open)
		abort();
	size_t field = cs.open && !open ? (size_t)cs.start + cs.offset : len;
	for (size_t i = SELF_MIN; i < len; i++)
		if (f[i] != pattern(seq, i) && i != field && i != field + 1)
			abort();
	if (field < len && cs.offset % 2 == 0) {
		/* the field held the sender's seed (a pseudo-header's sum): the filled checksum
		 * makes the bytes from csum_start plus that seed sum to all ones. (At an odd
		 * csum_offset, which no protocol uses, the field straddles words: only bounded.) */
		uint32_t sum = (uint32_t)pattern(seq, field) << 8 | pattern(seq, field + 1);
		for (size_t i = cs.start; i < len; i++)
			sum += i % 2 == cs.start % 2 ? (uint32_t)f[i] << 8 : f[i];
		while (sum > 0xffff)
			sum = (sum & 0xffff) + (sum >> 16);
		if (sum != 0xffff)
			abort();
	}
}

/* ---- TCP frames: to cut, or with their checksum open ---- */

/* The frame is one of the TCP frames below (its type, after a tag, is IPv4's or IPv6's). */
static bool is_tcp(const uint8_t *f, size_t len)
{
	if (len < NET_ETH_HDR_LEN + NET_VLAN_TAG_LEN)
		return false;
	uint16_t t = pkt_get16(f + 12);
	if (t == NET_ETH_TYPE_VLAN)
		t = pkt_get16(f + 16);
	return t == 0x0800 || t == 0x86dd;
}

/* A TCP frame as a sender built it (pkt_tcp: its seed is the source port, its MSS the window,
 * its first sequence number 0), or a segment of one. hdr: the virtio header it came with, or
 * NULL from the probe's port (off then). `whole_ok`: the taker negotiated GUEST_TSO;
 * `open_ok`: it negotiated GUEST_CSUM. */
static void check_tcp(const uint8_t *f, size_t len, const uint8_t *hdr,
		      const struct net_offload *poff, bool whole_ok, bool open_ok)
{
	bool vlan = pkt_get16(f + 12) == NET_ETH_TYPE_VLAN;
	size_t l3 = vlan ? 18 : 14;
	bool v6 = pkt_get16(f + l3 - 2) == 0x86dd;
	size_t l4 = l3 + (v6 ? 40 : 20), h = l4 + 20;
	if (len < h)
		abort();
	struct net_offload off = { 0 };
	if (hdr) {
		off.flags = hdr[0];
		off.gso_type = hdr[1];
		off.gso_size = (uint16_t)(hdr[4] | hdr[5] << 8);
		off.csum_start = (uint16_t)(hdr[6] | hdr[7] << 8);
		off.csum_offset = (uint16_t)(hdr[8] | hdr[9] << 8);
		uint16_t hdr_len = (uint16_t)(hdr[2] | hdr[3] << 8);
		if (hdr[10] != 1 || hdr[11] || hdr_len != (off.gso_type ? h : 0))
			abort();
	} else {
		off = *poff;
	}
	if (off.flags & ~NET_OFF_NEEDS_CSUM)
		abort();
	bool open = off.flags & NET_OFF_NEEDS_CSUM;
	if ((off.gso_type && !whole_ok) || (open && !open_ok))
		abort();
	if (off.gso_type) {
		if (off.gso_type != (v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4) || !open ||
		    off.gso_size != pkt_get16(f + l4 + 14))
			abort();
	} else if (len > (vlan ? NET_FRAME_MAX : NET_FRAME_MAX_UNTAGGED)) {
		abort();
	}
	if (open) {
		/* as the sender left it: the pseudo-header's sum in the field */
		if (off.csum_start != l4 || off.csum_offset != 16 ||
		    pkt_get16(f + l4 + 16) != pkt_fold(pkt_pseudo(f, l3, v6, len - l4)))
			abort();
	} else if (!pkt_tcp_ok(f, len, l3, v6)) {
		abort();
	}
	uint16_t seed = pkt_get16(f + l4);
	uint32_t at = pkt_get32(f + l4 + 4);
	for (size_t i = h; i < len; i++)
		if (f[i] != pkt_payload_byte(seed, at + i - h))
			abort();
}

/* Builds a TCP frame of about len bytes (at least one payload byte) into f: its length. */
static size_t make_tcp(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src, bool v6,
		       bool vlan, uint16_t mss)
{
	struct pkt_spec s = { .v6 = v6, .vlan = vlan, .dst = dst, .src = src };
	size_t h = pkt_l4(&s) + 20;
	s.payload = len > h ? len - h : 1;
	s.sport = (uint16_t)(1000 + next_seq++);
	s.seed = s.sport;
	s.window = mss;
	s.tcp_flags = PKT_TCP_ACK | PKT_TCP_PSH;
	return pkt_tcp(f, &s, true);
}

static const uint8_t *destination(unsigned sel, unsigned d)
{
	switch (sel % 6) {
	case 0:
		return mac[d ^ 1];
	case 1:
		return bcast;
	case 2:
		return probe_mac;
	case 3:
		return mcast;
	case 4:
		return mac[d];
	default:
		return stranger;
	}
}

/* ---- the PCI side ---- */

static uint64_t fz_now(void *ctx)
{
	(void)ctx;
	return 0;
}

static void fz_set_irq(void *ctx, unsigned gsi, bool level)
{
	(void)ctx, (void)gsi, (void)level;
}

static void fz_msg(void *ctx, const struct pci_msg *msg)
{
	(void)ctx, (void)msg;
}

static void fz_kick(void *ctx)
{
	kicks[(uintptr_t)ctx]++;
}

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

static void bar_wr(unsigned d, uint64_t off, unsigned size, uint64_t v)
{
	mmio_bus_write(&mmio, dev[d].vpci.pci.bars[0].addr + off, size, v);
}

static uint8_t dev_status(unsigned d)
{
	uint64_t v = 0;
	mmio_bus_read(&mmio, dev[d].vpci.pci.bars[0].addr + 20, 1, &v);
	return (uint8_t)v;
}

static uint64_t cfg_addr(unsigned d, unsigned reg_off)
{
	return GUEST_PCI_ECAM_BASE + ((uint64_t)(SLOT0 + d) << 15 | reg_off);
}

static void forget(unsigned d)
{
	memset(chains[d], 0, sizeof(chains[d]));
	for (unsigned q = 0; q < 2; q++)
		next_desc[d][q] = outstanding[d][q] = 0;
}

/* virtio 3.1.1 as Linux does it, both queues of qsize entries, INTx. */
static void bring_up(unsigned d)
{
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	bar_wr(d, 20, 1, 0);
	bar_wr(d, 20, 1, s);
	bar_wr(d, 8, 4, 0);
	uint64_t f = features | (offloads[d] ? 1ull << F_CSUM | 1ull << F_GUEST_CSUM : 0) |
		     (host_tso4[d] ? 1ull << 11 : 0) | (host_tso6[d] ? 1ull << 12 : 0) |
		     (guest_tso[d] ? 1ull << 7 | 1ull << 8 : 0) | (mrg[d] ? 1ull << 15 : 0);
	bar_wr(d, 12, 4, (uint32_t)f);
	bar_wr(d, 8, 4, 1);
	bar_wr(d, 12, 4, f >> 32);
	bar_wr(d, 20, 1, s | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		uint64_t r = RINGS(d, q);
		if (gmem_fill(m, r, 0, 0x400))
			abort();
		drv[d][q] = (struct vq_drv){ m, r, r + 0x100, r + 0x200, qsize, 0 };
		bar_wr(d, 22, 2, q);
		bar_wr(d, 24, 2, qsize);
		bar_wr(d, 32, 8, drv[d][q].desc);
		bar_wr(d, 40, 8, drv[d][q].avail);
		bar_wr(d, 48, 8, drv[d][q].used);
		bar_wr(d, 28, 2, 1);
	}
	bar_wr(d, 20, 1, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (!(dev_status(d) & VIRTIO_STATUS_DRIVER_OK))
		abort();
	forget(d);
}

static bool dma_on(unsigned d)
{
	return virtio_pci_dma(&dev[d].vpci) != NULL;
}

/* ---- building chains ---- */

struct piece {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

/* Writes the pieces as descriptors (direct from the queue's next free one, or one indirect
 * table at `table`) and publishes the head. When the model can no longer follow (a chain in
 * flight overwritten), raw from then on. */
static void publish(unsigned d, unsigned q, const struct piece *p, unsigned n, uint64_t table,
		    bool indirect, struct chain *rec)
{
	struct vq_drv *v = &drv[d][q];
	uint16_t head = (uint16_t)(next_desc[d][q] % qsize);
	bool use_indirect = (indirect && (features >> VIRTIO_F_INDIRECT_DESC & 1)) || n > qsize;
	unsigned need = use_indirect ? 1 : n;
	if (use_indirect) {
		uint64_t t = table;
		for (unsigned i = 0; i < n; i++)
			vq_desc(v, t, i, p[i].gpa, p[i].len,
				(uint16_t)((p[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1));
		vq_desc(v, v->desc, head, t, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t k = (uint16_t)((next_desc[d][q] + i) % qsize);
			vq_desc(v, v->desc, k, p[i].gpa, p[i].len,
				(uint16_t)((p[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)((k + 1) % qsize));
		}
	}
	/* descriptors or slots of a chain still in flight overwritten: the model cannot follow */
	if (outstanding[d][q] + need > qsize || chains[d][q][head].live)
		raw = true;
	next_desc[d][q] += need;
	outstanding[d][q] += need;
	rec->live = true;
	rec->descs = need;
	chains[d][q][head] = *rec;
	vq_publish(v, head);
}

/* Cuts [0, total) into k pieces, the first ending at `first` (when it fits). */
static unsigned cut(uint32_t total, unsigned k, unsigned first, uint32_t *len)
{
	uint32_t at = 0;
	for (unsigned i = 0; i < k; i++) {
		uint32_t l = (total - at) / (k - i);
		if (i == 0 && k > 1 && first <= total)
			l = first;
		len[i] = l;
		at += l;
	}
	len[k - 1] += total - at;
	return k;
}

static void build_tx(struct input *in)
{
	unsigned d = (unsigned)take(in, 1) & 1;
	uint8_t lay = (uint8_t)take(in, 1);
	uint16_t lenf = (uint16_t)take(in, 2);
	uint32_t flen = lenf & 0x7FF;
	unsigned dsel = (unsigned)take(in, 1);
	uint8_t hb = (uint8_t)take(in, 1);
	unsigned first = (unsigned)take(in, 1);
	static const uint8_t flag_vals[4] = { 0, 1, 2, 0xFE }, gso_vals[4] = { 0, 1, 0x80, 5 };

	static uint8_t bytes[VIRTIO_NET_HDR_LEN + 0x800];
	memset(bytes, 0, VIRTIO_NET_HDR_LEN);
	bytes[0] = flag_vals[hb & 3];
	bytes[1] = gso_vals[(hb >> 2) & 3];
	/* csum_start and csum_offset: TCP's over IPv4, the field at the frame's end (summed
	 * from SELF_MIN or from 0), one byte past it, and the largest values */
	uint16_t start, off;
	switch (hb >> 4 & 7) {
	case 0:
		start = 34, off = 16;
		break;
	case 1:
		start = SELF_MIN, off = (uint16_t)(flen - 2 - SELF_MIN);
		break;
	case 2:
		start = 0, off = (uint16_t)(flen - 2);
		break;
	case 3:
		start = (uint16_t)(flen - 1), off = 0;
		break;
	case 4:
		start = 0xffff, off = 0xffff;
		break;
	default:
		start = (uint16_t)(flen - 2), off = 0;
		break;
	}
	memcpy(bytes + 6, &start, 2);
	memcpy(bytes + 8, &off, 2);
	/* what the device should send: the flag negotiated, no gso, the field inside the frame
	 * and (for this model) past the self-description */
	struct csum cs = { 0 };
	if ((bytes[0] & HDR_F_NEEDS_CSUM) && offloads[d] && !bytes[1] &&
	    (size_t)start + off + 2 <= flen && (size_t)start + off >= SELF_MIN && flen >= SELF_MIN)
		cs = (struct csum){ true, start, off };
	else if ((bytes[0] & HDR_F_NEEDS_CSUM) && offloads[d] && !bytes[1] &&
		 (size_t)start + off + 2 <= flen)
		bytes[0] &= (uint8_t)~HDR_F_NEEDS_CSUM; /* a field the model cannot follow */
	make_frame(bytes + VIRTIO_NET_HDR_LEN, flen, destination(dsel, d),
		   lay & 128 ? stranger : mac[d], lay & 64, cs);
	if (hb & 128) {
		/* a TCP frame instead, its checksum open: to cut (bits 2-3: TCPV4, TCPV6, or
		 * TCPV4's type on IPv6), or not (ECN's bit alone: no gso_type); its MSS from the
		 * length's top 5 bits */
		bool v6 = (hb >> 2 & 3) != 0;
		uint16_t mss = (uint16_t)(((lenf >> 11) + 1) * 48);
		flen = (uint32_t)make_tcp(bytes + VIRTIO_NET_HDR_LEN, flen, destination(dsel, d),
					  lay & 128 ? stranger : mac[d], v6, lay & 64, mss);
		static const uint8_t types[4] = { GSO_TCPV4_T, GSO_TCPV6_T, 0, GSO_TCPV4_T };
		size_t l4 = (lay & 64 ? 18 : 14) + (v6 ? 40 : 20);
		memset(bytes, 0, VIRTIO_NET_HDR_LEN);
		bytes[0] = HDR_F_NEEDS_CSUM;
		bytes[1] = types[hb >> 2 & 3];
		bytes[2] = (uint8_t)(l4 + 20);
		bytes[4] = (uint8_t)mss, bytes[5] = (uint8_t)(mss >> 8);
		bytes[6] = (uint8_t)l4;
		bytes[8] = 16;
	}
	uint32_t total = VIRTIO_NET_HDR_LEN + flen;

	uint16_t head = (uint16_t)(next_desc[d][1] % qsize);
	uint64_t slot = TX_SLOT(d, head);
	struct piece p[MAX_PIECES];
	uint32_t len[4];
	unsigned n = 0, k = (lay & 3) + 1;
	uint32_t at = 0;
	if (lay & 4) {
		p[n++] = (struct piece){ slot, VIRTIO_NET_HDR_LEN, false };
		at = VIRTIO_NET_HDR_LEN;
	}
	cut(total - at, k, first, len);
	for (unsigned i = 0; i < k; i++) {
		p[n++] = (struct piece){ slot + at, len[i], false };
		at += len[i];
		if (i == 0 && (lay & 32))
			p[n++] = (struct piece){ slot, 0, false };
	}
	if (gmem_write(m, slot, bytes, total))
		abort();
	if (lay & 16)
		p[n++] = (struct piece){ slot + total, 16, true };
	struct chain rec = { 0 };
	publish(d, 1, p, n, slot + TABLE_AT, lay & 8, &rec);
}

static void build_rx(struct input *in)
{
	unsigned d = (unsigned)take(in, 1) & 1;
	uint8_t lay = (uint8_t)take(in, 1);
	uint32_t total = (uint32_t)(take(in, 2) % (TABLE_AT + 1));
	uint16_t head = (uint16_t)(next_desc[d][0] % qsize);
	uint64_t slot = RX_SLOT(d, head);
	if (gmem_fill(m, slot, RX_FILL, TABLE_AT))
		abort();
	struct piece p[MAX_PIECES];
	struct chain rec = { 0 };
	uint32_t len[4];
	unsigned n = 0, k = (lay & 3) + 1;
	uint32_t at = 0;
	if ((lay & 8) && total) {
		p[n++] = (struct piece){ slot, 1, false };
		rec.readable = true;
		at = 1;
	}
	cut(total - at, k, (total - at) / 3, len);
	for (unsigned i = 0; i < k; i++) {
		p[n++] = (struct piece){ slot + at, len[i], true };
		if (len[i])
			rec.w[rec.n++] = (struct virtq_seg){ slot + at, len[i] };
		rec.in_bytes += len[i];
		at += len[i];
		if (i == 0 && (lay & 16))
			p[n++] = (struct piece){ slot, 0, true };
	}
	publish(d, 0, p, n, slot + TABLE_AT, lay & 4, &rec);
}

/* ---- checks ---- */

static uint8_t snap[RAM_BYTES];

static void snapshot(uint8_t *out)
{
	size_t at = 0;
	for (unsigned e = 0; e < m->nr; e++) {
		memcpy(out + at, m->ext[e].hva, m->ext[e].size);
		at += m->ext[e].size;
	}
}

static bool ram_unchanged(void)
{
	size_t at = 0;
	for (unsigned e = 0; e < m->nr; e++) {
		if (memcmp(snap + at, m->ext[e].hva, m->ext[e].size) != 0)
			return false;
		at += m->ext[e].size;
	}
	return true;
}

/* The writable bytes of chain c into got (at most SLOT_BYTES); returns how many. */
static size_t chain_bytes(const struct chain *c, uint8_t *got)
{
	size_t at = 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (gmem_read(m, c->w[i].gpa, got + at, c->w[i].len))
			abort();
		at += c->w[i].len;
	}
	return at;
}

/* What a receive chain (or, with MRG_RXBUF, nb chains put together) held: len bytes of header
 * and a whole frame, num_buffers nb. */
static void check_rx_frame(unsigned d, const uint8_t *got, size_t len, unsigned nb)
{
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = { [10] = (uint8_t)nb };
	if (len < VIRTIO_NET_HDR_LEN || got[11])
		abort();
	const uint8_t *fr = got + VIRTIO_NET_HDR_LEN;
	size_t flen = len - VIRTIO_NET_HDR_LEN;
	if (is_tcp(fr, flen)) {
		uint8_t h1[VIRTIO_NET_HDR_LEN]; /* check_tcp wants num_buffers 1 */
		memcpy(h1, got, sizeof(h1));
		if (h1[10] != nb)
			abort();
		h1[10] = 1;
		check_tcp(fr, flen, h1, NULL, guest_tso[d] && offloads[d], offloads[d]);
		return;
	}
	/* NEEDS_CSUM only to a driver with GUEST_CSUM, with the sender's offsets */
	bool open = got[0] == HDR_F_NEEDS_CSUM;
	if (open) {
		struct csum cs = frame_csum(fr, flen);
		if (!offloads[d])
			abort();
		hdr[0] = HDR_F_NEEDS_CSUM;
		memcpy(hdr + 6, &cs.start, 2);
		memcpy(hdr + 8, &cs.offset, 2);
	}
	if (memcmp(got, hdr, sizeof(hdr)) != 0)
		abort();
	check_frame(fr, flen, open);
}

/* A receive chain came back with len: untouched past len, and without MRG_RXBUF either empty or
 * a header and a whole frame. With MRG_RXBUF collect puts the frame together (check_merged), and
 * a chain that comes back empty may hold part of a frame dropped after it was written (the
 * device MAY write more than len, virtio 1.2, 2.7.8.2). */
static void check_rx_chain(unsigned d, const struct chain *c, uint32_t len)
{
	static uint8_t got[SLOT_BYTES];
	size_t at = chain_bytes(c, got);
	if (len > at || (len && c->readable))
		abort();
	if (mrg[d]) {
		if (!len)
			return;
	} else if (len) {
		check_rx_frame(d, got, len, 1);
	} else if (!c->readable &&
		   c->in_bytes >= (guest_tso[d] && offloads[d] ? VIRTIO_NET_HDR_LEN + TCP_FRAME_MAX
							       : VIRTIO_NET_RX_BUF_MIN)) {
		abort(); /* room for any frame, yet returned empty */
	}
	for (size_t i = len; i < at; i++)
		if (got[i] != RX_FILL)
			abort();
}

/* With MRG_RXBUF: the frame whose first chain came back with len at used index i of (d, rx),
 * and the chains after it: num_buffers of them (all in this batch of nr, 5.1.6.4.2), each but
 * the last filled to its end, put together and checked. Returns how many more entries it took. */
static uint16_t check_merged(unsigned d, uint16_t from, uint16_t i, uint16_t nr, uint32_t len)
{
	static uint8_t whole[VIRTIO_NET_HDR_LEN + TCP_FRAME_MAX + SLOT_BYTES];
	static uint8_t got[SLOT_BYTES];
	uint32_t id;
	vq_used_elem(&drv[d][VIRTIO_NET_RXQ], (uint16_t)(from + i), &id, &len);
	if (id >= qsize || !chains[d][VIRTIO_NET_RXQ][id].live)
		abort();
	size_t at = chain_bytes(&chains[d][VIRTIO_NET_RXQ][id], got);
	if (len < VIRTIO_NET_HDR_LEN || len > at)
		abort();
	unsigned nb = (unsigned)(got[10] | got[11] << 8);
	if (!nb || nb > (unsigned)(nr - i))
		abort();
	memcpy(whole, got, len);
	size_t total = len;
	bool full = len == chains[d][VIRTIO_NET_RXQ][id].in_bytes;
	for (unsigned k = 1; k < nb; k++) {
		uint32_t l;
		vq_used_elem(&drv[d][VIRTIO_NET_RXQ], (uint16_t)(from + i + k), &id, &l);
		if (id >= qsize || !chains[d][VIRTIO_NET_RXQ][id].live)
			abort();
		const struct chain *c = &chains[d][VIRTIO_NET_RXQ][id];
		at = chain_bytes(c, got);
		/* each chain before this one filled to its end, this one not empty */
		if (!full || !l || l > at || total + l > sizeof(whole))
			abort();
		memcpy(whole + total, got, l);
		total += l;
		full = l == c->in_bytes;
	}
	check_rx_frame(d, whole, total, nb);
	return (uint16_t)(nb - 1);
}

/* The chains the device returned on (d, q) since used index `from`. */
static void collect(unsigned d, unsigned q, uint16_t from)
{
	uint16_t to = dev[d].vpci.vq[q].used_idx;
	uint16_t nr = (uint16_t)(to - from);
	if (nr > qsize)
		abort();
	completed[d][q] += nr;
	uint16_t pieces_left = 0; /* MRG_RXBUF: entries that continue the frame checked last */
	for (uint16_t i = 0; i < nr; i++) {
		uint32_t id, len;
		if (raw)
			continue; /* a hostile chain may have had the device write over the ring */
		vq_used_elem(&drv[d][q], (uint16_t)(from + i), &id, &len);
		bool piece = q == VIRTIO_NET_RXQ && pieces_left;
		if (piece)
			pieces_left--;
		else if (q == VIRTIO_NET_RXQ && mrg[d] && len)
			pieces_left = check_merged(d, from, i, nr, len);
		if (len > VIRTIO_NET_HDR_LEN + TCP_FRAME_MAX ||
		    (len && !piece && len < VIRTIO_NET_HDR_LEN + NET_ETH_HDR_LEN))
			abort();
		if (id >= qsize || !chains[d][q][id].live)
			abort();
		struct chain *c = &chains[d][q][id];
		if (q == VIRTIO_NET_TXQ && len)
			abort();
		if (q == VIRTIO_NET_RXQ)
			check_rx_chain(d, c, len);
		c->live = false;
		outstanding[d][q] -= c->descs;
	}
}

static void check_counters(void)
{
	for (unsigned d = 0; d < NDEV; d++) {
		const struct virtio_net_stats *s = &dev[d].stats;
		struct net_port_stats ps;
		net_port_get_stats(&dev[d].port, &ps);
		if (s->tx_frames != ps.tx_frames + ps.tx_filtered ||
		    s->tx_bad_length < ps.tx_malformed)
			abort();
		/* a frame from `stranger` (not the device's MAC) is dropped as spoofed */
		if (s->tx_frames + s->tx_bad_chain + s->tx_bad_header + s->tx_bad_length +
			    s->tx_no_link + s->tx_spoofed !=
		    completed[d][VIRTIO_NET_TXQ])
			abort();
		/* the switch bounds every checksum field: none reaches a device that cannot sum it */
		/* a frame cut is one taken from the port and as many handled as segments */
		/* with MRG_RXBUF a frame may wait in the device for more buffers */
		if (ps.rx_frames + s->rx_gso_segments - s->rx_gso_split !=
			    s->rx_frames + s->rx_too_small + s->rx_lost + dev[d].rx_held ||
		    ps.rx_dropped_too_big || s->rx_bad_offload ||
		    s->rx_gso_segments < s->rx_gso_split)
			abort();
		/* a chain per frame and per bad chain; with MRG_RXBUF a frame takes one or more, and
		 * a frame dropped mid-way ends at a bad chain */
		uint64_t done = s->rx_frames + s->rx_too_small + s->rx_bad_chain;
		if (mrg[d] ? completed[d][VIRTIO_NET_RXQ] < s->rx_frames + s->rx_bad_chain
			   : completed[d][VIRTIO_NET_RXQ] < done ||
				     completed[d][VIRTIO_NET_RXQ] > done + s->rx_lost)
			abort();
		if (kicks[d] != ps.rx_frames + ps.rx_flushed + ps.rx_queued)
			abort();
	}
}

/* Runs fn on device d (a notification or a receive call) and checks what it did. */
static void on_device(unsigned d, unsigned q, bool rx_call)
{
	bool quiet = !dma_on(d); /* it must not touch guest RAM */
	if (quiet)
		snapshot(snap);
	uint16_t before[2] = { dev[d].vpci.vq[0].used_idx, dev[d].vpci.vq[1].used_idx };
	uint64_t irqs = dev[d].vpci.interrupts;
	if (rx_call)
		virtio_net_rx(&dev[d]);
	else
		bar_wr(d, VIRTIO_NOTIFY_OFF + 4 * q, 2, q);
	if (quiet && !ram_unchanged())
		abort();
	if (dev[d].vpci.interrupts - irqs > 2)
		abort();
	for (unsigned k = 0; k < 2; k++)
		collect(d, k, before[k]);
}

static void probe_takes(void)
{
	static uint8_t f[NET_GSO_FRAME_MAX];
	size_t len;
	struct net_offload off;
	while ((len = net_port_recv_offload(&probe, f, sizeof(f), &off)) != 0) {
		if (is_tcp(f, len)) {
			if (!raw)
				check_tcp(f, len, NULL, &off, true, true);
			continue;
		}
		bool open = off.flags & NET_OFF_NEEDS_CSUM;
		struct csum cs = { 0 };
		if (!raw)
			cs = frame_csum(f, len);
		if (!raw && open != cs.open)
			abort();
		if (!raw && open && (off.csum_start != cs.start || off.csum_offset != cs.offset))
			abort();
		check_frame(f, len, open);
	}
}

static void probe_sends(struct input *in)
{
	unsigned count = ((unsigned)take(in, 1) & 7) + 1;
	size_t len = (size_t)(take(in, 2) % 1600);
	unsigned dsel = (unsigned)take(in, 1);
	static uint8_t f[TCP_FRAME_MAX + 1];
	for (unsigned i = 0; i < count; i++) {
		if (dsel & 16) {
			/* bit 4: a TCP frame to cut (bit 5 IPv6, bit 6 tagged), MSS from the
			 * length's top bits */
			bool v6 = dsel & 32, tag = dsel & 64;
			uint16_t mss = (uint16_t)(((len >> 6) % 24 + 1) * 60);
			size_t l = make_tcp(f, len > TCP_FRAME_MAX ? TCP_FRAME_MAX : len,
					    destination(dsel, i & 1), probe_mac, v6, tag, mss);
			size_t l4 = (tag ? 18 : 14) + (v6 ? 40 : 20);
			struct net_offload off = { .flags = NET_OFF_NEEDS_CSUM,
						   .gso_type = v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4,
						   .gso_size = mss,
						   .csum_start = (uint16_t)l4,
						   .csum_offset = 16 };
			net_switch_send_offload(&probe, f, l, &off);
			continue;
		}
		/* bit 3 of the destination: the checksum left open, TCP's place over IPv4 */
		struct csum cs = { 0 };
		if ((dsel & 8) && len >= 52)
			cs = (struct csum){ true, 34, 16 };
		make_frame(f, len, dsel % 6 == 4 ? probe_mac : destination(dsel, i & 1), probe_mac,
			   false, cs);
		struct net_offload off = { .flags = cs.open ? NET_OFF_NEEDS_CSUM : 0,
					   .csum_start = cs.start,
					   .csum_offset = cs.offset };
		net_switch_send_offload(&probe, f, len, &off);
	}
}

/* ---- one input ---- */

static void run(struct input *in)
{
	uint8_t cfg = (uint8_t)take(in, 1);
	features = 1ull << VIRTIO_F_VERSION_1 | 1ull << 5 | 1ull << 16 | 1ull << 3 |
		   (cfg & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		   (cfg & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	qsize = (uint16_t)(1u << (((cfg >> 2) & 7) % 5));
	offloads[0] = cfg & 64;
	offloads[1] = cfg & 128;
	host_tso4[0] = host_tso6[0] = guest_tso[0] = offloads[0];
	host_tso4[1] = offloads[1];
	host_tso6[1] = guest_tso[1] = false;
	uint8_t cfg2 = (uint8_t)take(in, 1);
	mrg[0] = cfg2 & 1;
	mrg[1] = cfg2 & 2;
	raw = false;
	next_seq = 0;
	memset(kicks, 0, sizeof(kicks));
	memset(completed, 0, sizeof(completed));

	env = (struct vdev_env){
		.vm_name = "fuzz", .now_ns = fz_now, .set_irq = fz_set_irq, .mem = m
	};
	io_bus_init(&io, &env);
	mmio_bus_init(&mmio, &env);
	net_registry_init(&reg);
	lan = net_switch_find_or_create(&reg, "lan");
	net_port_init(&probe, NULL, NULL);
	if (!lan || pci_bus_init(&bus, &env, &io, &mmio, &windows, fz_msg, NULL) ||
	    net_switch_attach(lan, &probe))
		abort();
	for (unsigned d = 0; d < NDEV; d++) {
		const uint8_t a[NET_MAC_LEN] = { 0x02, 0x6b, 0, 0, 0, (uint8_t)(d + 1) };
		memcpy(mac[d], a, NET_MAC_LEN);
		if (virtio_net_init(&dev[d], &env, mac[d], fz_kick, (void *)(uintptr_t)d) ||
		    pci_bus_plug(&bus, SLOT0 + d, &dev[d].vpci.pci))
			abort();
	}
	if (pci_bus_assign(&bus))
		abort();
	for (unsigned d = 0; d < NDEV; d++) {
		if ((d == 0 || !(cfg & 32)) && net_switch_attach(lan, &dev[d].port))
			abort();
		mmio_bus_write(&mmio, cfg_addr(d, PCI_COMMAND), 2, PCI_CMD_MEM | PCI_CMD_MASTER);
		bring_up(d);
	}

	for (unsigned op = 0; in->left && op < 1024; op++) {
		unsigned sel;
		switch (take(in, 1) & 15) {
		case 0: {
			uint64_t gpa = take(in, 2) % RAM_BYTES;
			unsigned n = (unsigned)take(in, 1);
			for (unsigned i = 0; i < n && in->left; i++) {
				uint8_t v = (uint8_t)take(in, 1);
				if (gmem_is_ram(m, gpa + i))
					vq_w(m, gpa + i, v, 1);
			}
			raw = true;
			break;
		}
		case 1: {
			sel = (unsigned)take(in, 1);
			unsigned i = (unsigned)take(in, 1) % qsize;
			uint64_t addr = take(in, 2) * 4;
			uint32_t len = (uint32_t)take(in, 2);
			uint16_t fl = (uint16_t)take(in, 1), next = (uint16_t)take(in, 1);
			struct vq_drv *v = &drv[sel & 1][sel >> 1 & 1];
			vq_desc(v, v->desc, i, addr, len, fl, next);
			raw = true;
			break;
		}
		case 2:
			sel = (unsigned)take(in, 1);
			vq_publish(&drv[sel & 1][sel >> 1 & 1], (uint16_t)take(in, 1));
			raw = true;
			break;
		case 3:
			sel = (unsigned)take(in, 1);
			on_device(sel & 1, sel >> 1 & 1, false);
			break;
		case 4:
			build_tx(in);
			break;
		case 5:
			build_rx(in);
			break;
		case 6:
			probe_sends(in);
			break;
		case 7:
			on_device((unsigned)take(in, 1) & 1, 0, true);
			break;
		case 8:
			bring_up((unsigned)take(in, 1) & 1);
			break;
		case 9: {
			sel = (unsigned)take(in, 1) & 1;
			uint64_t cmd = 0;
			mmio_bus_read(&mmio, cfg_addr(sel, PCI_COMMAND), 2, &cmd);
			mmio_bus_write(&mmio, cfg_addr(sel, PCI_COMMAND), 2, cmd ^ PCI_CMD_MASTER);
			break;
		}
		case 10:
			sel = (unsigned)take(in, 1) & 1;
			if (dev[sel].port.sw)
				net_switch_detach(&dev[sel].port);
			else if (net_switch_attach(lan, &dev[sel].port))
				abort();
			break;
		case 11:
			probe_takes();
			break;
		case 12:
			for (unsigned d = 0; d < NDEV; d++)
				if (virtio_net_rx_pending(&dev[d]))
					on_device(d, 0, true);
			break;
		default:
			break;
		}
		check_counters();
	}
	for (unsigned d = 0; d < NDEV; d++)
		on_device(d, 0, true);
	probe_takes();
	check_counters();
	for (unsigned d = 0; d < NDEV; d++)
		net_switch_detach(&dev[d].port);
	net_switch_detach(&probe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	if (vq_ram_init(&ram, layout, ARRAY_SIZE(layout)))
		abort();
	host_log_clear();
	run(&in);
	vq_ram_free(&ram);
	return 0;
}
