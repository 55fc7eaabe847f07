/* vdev/virtio/net.c: two virtio-net devices in slots 5 and 6 of a PCI bus, driven through ECAM and
 * BAR 0 as a modern driver does (MSI-X: vector 0 configuration, 1 receiveq, 2 transmitq), on one
 * of keel's switches with a probe port the test sends and takes frames through. Guest RAM is
 * three extents, each its own allocation, with buffers across their boundaries.
 * Checked: the configuration space and the features offered and refused; transmitted frames
 * split across descriptors every way (header alone, split, sharing a buffer with the frame,
 * across extents, indirect, zero-length buffers) reaching the probe byte for byte; received
 * frames in the guest's buffers with their header and used length; every malformed chain
 * completed and counted (a writable buffer in a transmit chain, offloads in the header, frames
 * too short or too long, receive chains with readable buffers or too small); frames waiting for
 * receive buffers and for bus mastering; two devices talking both ways; a full port ring; one
 * interrupt per call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/net_pkt.h"
#include "tests/support/vdev_fake.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/net.h"

/* virtio_pci_common_cfg (virtio 1.2, 4.1.4.3) */
#define DFSELECT 0
#define DF 4
#define GFSELECT 8
#define GF 12
#define MSIX_CONFIG 16
#define NUM_QUEUES 18
#define STATUS 20
#define Q_SELECT 22
#define Q_SIZE 24
#define Q_MSIX 26
#define Q_ENABLE 28
#define Q_NOTIFY_OFF 30
#define Q_DESC 32
#define Q_DRIVER 40
#define Q_DEVICE 48

/* virtio-net as the driver knows it (5.1.3, 5.1.6) */
#define F_CSUM (1ull << 0)
#define F_GUEST_CSUM (1ull << 1)
#define F_MTU (1ull << 3)
#define F_MAC (1ull << 5)
#define F_GUEST_TSO4 (1ull << 7)
#define F_GUEST_TSO6 (1ull << 8)
#define F_GUEST_ECN (1ull << 9)
#define F_HOST_TSO4 (1ull << 11)
#define F_HOST_TSO6 (1ull << 12)
#define F_HOST_ECN (1ull << 13)
#define F_MRG_RXBUF (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_CTRL_VQ (1ull << 17)
#define F_MQ (1ull << 22)
#define F_SPEED_DUPLEX (1ull << 63)
#define F_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_ECN 0x80
#define HDR 12

/* guest RAM [0, 0x10000), [0x10000, 0x13000), [0x13000, 0x80000): three host blocks */
static const struct vq_range layout[] = { { 0, 0x10000 },
					  { 0x10000, 0x3000 },
					  { 0x13000, 0x6D000 } };
#define RAM_END 0x80000
/* per device i: queue q's rings at 0x1000 + 0x2000 i + 0x1000 q: descriptors +0, available
 * +0x400, used +0x600, indirect tables +0x900 (7 of 16 entries) */
#define RINGS(i, q) (0x1000 + 0x2000 * (i) + 0x1000 * (q))
#define TX_AREA 0x8000			     /* transmit buffers, into the second extent */
#define RX_AREA(i) (0x20000 + 0x20000 * (i)) /* 64 receive buffers of 2 KiB per device */
#define RX_SLOT 0x800
#define QSIZE 64
#define FILL 0xCC
#define NICS 2
#define SLOT0 5

static struct fake_vm vm;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct vq_ram ram;
static struct net_registry *reg;
static struct net_switch *lan;
static struct net_port *probe;
static unsigned probe_notified;

struct nic {
	struct virtio_net dev;
	unsigned idx, slot;
	uint8_t mac[NET_MAC_LEN];
	uint64_t bar0, devcfg, notify_at;
	struct vq_drv q[2];
	uint16_t next[2]; /* the next free descriptor of each queue */
	unsigned tables;  /* indirect tables handed out */
	unsigned kicks;
	unsigned msgs[3]; /* MSI-X messages by vector */
};
static struct nic *nic[NICS];

static void record_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx;
	/* data 0x40 + 4 i + vector */
	unsigned i = (m->data - 0x40) / 4, v = (m->data - 0x40) % 4;
	assert_true(m->data >= 0x40 && i < NICS && v < 3);
	nic[i]->msgs[v]++;
}

static void count_kick(void *ctx)
{
	((struct nic *)ctx)->kicks++;
}

static void count_notify(void *ctx)
{
	(*(unsigned *)ctx)++;
}

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

/* ---- what the driver sees: config space by ECAM, BAR 0 by MMIO ---- */

static uint64_t mem_rd(uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(mmio_bus_read(&mmio, gpa, size, &v), 0);
	return v;
}

static void mem_wr(uint64_t gpa, unsigned size, uint64_t v)
{
	assert_int_equal(mmio_bus_write(&mmio, gpa, size, v), 0);
}

static uint32_t cfg_rd(const struct nic *c, unsigned reg_off, unsigned size)
{
	return (uint32_t)mem_rd(GUEST_PCI_ECAM_BASE + ((uint64_t)c->slot << 15 | reg_off), size);
}

static void cfg_wr(const struct nic *c, unsigned reg_off, unsigned size, uint32_t v)
{
	mem_wr(GUEST_PCI_ECAM_BASE + ((uint64_t)c->slot << 15 | reg_off), size, v);
}

static uint64_t cc_rd(const struct nic *c, unsigned off, unsigned size)
{
	return mem_rd(c->bar0 + off, size);
}

static void cc_wr(const struct nic *c, unsigned off, unsigned size, uint64_t v)
{
	mem_wr(c->bar0 + off, size, v);
}

static uint64_t dcfg(const struct nic *c, unsigned off, unsigned size)
{
	return mem_rd(c->devcfg + off, size);
}

static uint64_t device_features(const struct nic *c)
{
	cc_wr(c, DFSELECT, 4, 0);
	uint64_t lo = cc_rd(c, DF, 4);
	cc_wr(c, DFSELECT, 4, 1);
	return lo | cc_rd(c, DF, 4) << 32;
}

static unsigned msix_cap(const struct nic *c)
{
	for (unsigned at = cfg_rd(c, PCI_CAP_PTR, 1); at; at = cfg_rd(c, at + 1, 1))
		if (cfg_rd(c, at, 1) == PCI_CAP_MSIX)
			return at;
	fail_msg("no MSI-X capability");
	return 0;
}

/* The common configuration at BAR 0 + 0, the device configuration (12 bytes) and notification
 * addresses wherever their capabilities say. */
static void find_caps(struct nic *c)
{
	uint32_t lo = cfg_rd(c, PCI_BAR0, 4), hi = cfg_rd(c, PCI_BAR0 + 4, 4);
	c->bar0 = (uint64_t)hi << 32 | (lo & ~0xFull);
	c->devcfg = c->notify_at = 0;
	unsigned seen = 0;
	for (unsigned at = cfg_rd(c, PCI_CAP_PTR, 1); at; at = cfg_rd(c, at + 1, 1)) {
		assert_true(++seen < 48);
		if (cfg_rd(c, at, 1) != PCI_CAP_VENDOR)
			continue;
		unsigned type = cfg_rd(c, at + 3, 1);
		uint32_t off = cfg_rd(c, at + 8, 4), len = cfg_rd(c, at + 12, 4);
		if (type == 1)
			assert_int_equal(off, 0);
		if (type == 2) {
			c->notify_at = c->bar0 + off;
			assert_int_equal(len, 8); /* two queues, multiplier 4 */
		}
		if (type == 4) {
			c->devcfg = c->bar0 + off;
			assert_int_equal(len, 12); /* mac, status, max_virtqueue_pairs, mtu */
		}
	}
	assert_int_not_equal(c->devcfg, 0);
	assert_int_not_equal(c->notify_at, 0);
}

static void mac_of(unsigned n, uint8_t out[NET_MAC_LEN])
{
	const uint8_t mac[NET_MAC_LEN] = { 0x02, 0x6b, 0x65, 0x65, 0x6c, (uint8_t)n };
	memcpy(out, mac, NET_MAC_LEN);
}

static const uint8_t probe_mac[NET_MAC_LEN] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t broadcast[NET_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	if (vq_ram_init(&ram, layout, ARRAY_SIZE(layout)))
		return -1;
	vm.env.mem = &ram.mem;
	host_log_clear();
	io_bus_init(&io, &vm.env);
	mmio_bus_init(&mmio, &vm.env);
	if (pci_bus_init(&bus, &vm.env, &io, &mmio, &windows, record_msg, NULL))
		return -1;
	reg = calloc(1, sizeof(*reg));
	probe = calloc(1, sizeof(*probe));
	if (!reg || !probe)
		return -1;
	net_registry_init(reg);
	lan = net_switch_find_or_create(reg, "lan");
	probe_notified = 0;
	net_port_init(probe, count_notify, &probe_notified);
	for (unsigned i = 0; i < NICS; i++) {
		struct nic *c = nic[i] = calloc(1, sizeof(struct nic));
		if (!c)
			return -1;
		c->idx = i;
		c->slot = SLOT0 + i;
		mac_of(i, c->mac);
		if (virtio_net_init(&c->dev, &vm.env, c->mac, count_kick, c) ||
		    pci_bus_plug(&bus, c->slot, &c->dev.vpci.pci))
			return -1;
	}
	if (!lan || pci_bus_assign(&bus) || net_switch_attach(lan, probe) ||
	    net_switch_attach(lan, &nic[0]->dev.port))
		return -1;
	for (unsigned i = 0; i < NICS; i++)
		find_caps(nic[i]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NICS; i++) {
		if (nic[i])
			net_switch_detach(&nic[i]->dev.port);
		free(nic[i]);
		nic[i] = NULL;
	}
	if (probe)
		net_switch_detach(probe);
	free(probe);
	free(reg);
	probe = NULL;
	reg = NULL;
	vq_ram_free(&ram);
	return 0;
}

/* virtio 3.1.1 and 5.1.5 as a modern driver does it: reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK (checked), MSI-X (vector 0 configuration, 1 receiveq, 2 transmitq), both queues of
 * qsize entries, DRIVER_OK; bus mastering on. */
static void bring_up(struct nic *c, uint64_t features, uint16_t qsize)
{
	for (unsigned q = 0; q < 2; q++) {
		uint64_t r = RINGS(c->idx, q);
		assert_int_equal(gmem_fill(&ram.mem, r, 0, 0x1000), 0);
		c->q[q] = (struct vq_drv){ &ram.mem, r, r + 0x400, r + 0x600, qsize, 0 };
		c->next[q] = 0;
	}
	c->tables = 0;
	memset(c->msgs, 0, sizeof(c->msgs));
	cc_wr(c, STATUS, 1, 0);
	cc_wr(c, STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	assert_int_equal(device_features(c) & features, features);
	cc_wr(c, GFSELECT, 4, 0);
	cc_wr(c, GF, 4, (uint32_t)features);
	cc_wr(c, GFSELECT, 4, 1);
	cc_wr(c, GF, 4, features >> 32);
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	cc_wr(c, STATUS, 1, s);
	assert_int_equal(cc_rd(c, STATUS, 1), s);
	cfg_wr(c, PCI_COMMAND, 2, cfg_rd(c, PCI_COMMAND, 2) | PCI_CMD_MASTER);
	cfg_wr(c, msix_cap(c) + 2, 2, 0x8000);
	for (unsigned v = 0; v < 3; v++) {
		uint64_t e = c->bar0 + VIRTIO_MSIX_TABLE_OFF + 16 * v;
		mem_wr(e, 4, 0xFEE00000);
		mem_wr(e + 4, 4, 0);
		mem_wr(e + 8, 4, 0x40 + 4 * c->idx + v);
		mem_wr(e + 12, 4, 0);
	}
	cc_wr(c, MSIX_CONFIG, 2, 0);
	for (unsigned q = 0; q < 2; q++) {
		cc_wr(c, Q_SELECT, 2, q);
		assert_int_equal(cc_rd(c, Q_SIZE, 2), VIRTIO_NET_QUEUE_SIZE);
		cc_wr(c, Q_SIZE, 2, qsize);
		cc_wr(c, Q_DESC, 8, c->q[q].desc);
		cc_wr(c, Q_DRIVER, 8, c->q[q].avail);
		cc_wr(c, Q_DEVICE, 8, c->q[q].used);
		cc_wr(c, Q_MSIX, 2, q + 1);
		assert_int_equal(cc_rd(c, Q_MSIX, 2), q + 1);
		assert_int_equal(cc_rd(c, Q_NOTIFY_OFF, 2), q);
		cc_wr(c, Q_ENABLE, 2, 1);
	}
	cc_wr(c, STATUS, 1, s | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(cc_rd(c, STATUS, 1), s | VIRTIO_STATUS_DRIVER_OK);
}

/* keel's offer, less the offloads: what a driver that takes none of them negotiates */
static const uint64_t plain = F_VERSION_1 | F_INDIRECT | F_EVENT_IDX | F_MAC | F_STATUS | F_MTU;
static const uint64_t offered = plain | F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 | F_HOST_TSO6 |
				F_GUEST_TSO4 | F_GUEST_TSO6 | F_MRG_RXBUF;

/* What Linux takes, less the offloads and EVENT_IDX, so that every completion interrupts
 * (receive_full_queue has it on); the offload tests take more. */
static void up(struct nic *c)
{
	bring_up(c, plain & ~F_EVENT_IDX, QSIZE);
}

/* As up, with these offloads too. */
static void up_with(struct nic *c, uint64_t offloads)
{
	bring_up(c, (plain & ~F_EVENT_IDX) | offloads, QSIZE);
}

static void notify_queue(const struct nic *c, unsigned q)
{
	mem_wr(c->notify_at + 4 * q, 2, q);
}

static bool needs_reset(const struct nic *c)
{
	return cc_rd(c, STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET;
}

/* ---- chains ---- */

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool w; /* device-writable */
};

/* Publishes one chain of n buffers on queue q (direct descriptors from next[q] on, or one
 * indirect table); returns its head. */
static uint16_t post(struct nic *c, unsigned q, const struct buf *b, unsigned n, bool indirect)
{
	struct vq_drv *d = &c->q[q];
	if (!d->size)
		abort(); /* the queue was never set up */
	uint16_t head = c->next[q];
	if (indirect) {
		assert_true(n <= 16);
		uint64_t t = d->desc + 0x900 + 0x100 * (c->tables++ % 7);
		for (unsigned i = 0; i < n; i++)
			vq_desc(d, t, i, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1));
		vq_desc(d, d->desc, head, t, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
		c->next[q] = (uint16_t)((head + 1) % d->size);
	} else {
		assert_true(n <= d->size);
		for (unsigned i = 0; i < n; i++) {
			uint16_t k = (uint16_t)((head + i) % d->size);
			vq_desc(d, d->desc, k, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)((k + 1) % d->size));
		}
		c->next[q] = (uint16_t)((head + n) % d->size);
	}
	vq_publish(d, head);
	return head;
}

/* The used element i of queue q is (head, len). */
static void expect_used(const struct nic *c, unsigned q, uint16_t i, uint16_t head, uint32_t len)
{
	uint32_t id, l;
	vq_used_elem(&c->q[q], i, &id, &l);
	assert_int_equal(id, head);
	assert_int_equal(l, len);
}

/* ---- frames ---- */

/* A frame of len bytes to dst from src (IPv4, or 802.1Q-tagged IPv4 when tagged), its payload a
 * pattern of seed. */
static size_t make_frame(uint8_t *f, const uint8_t dst[NET_MAC_LEN], const uint8_t src[NET_MAC_LEN],
			 size_t len, unsigned seed, bool tagged)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed * 29 + i * 7 + (i >> 8));
	memcpy(f, dst, NET_MAC_LEN);
	memcpy(f + NET_ETH_SRC_OFFSET, src, NET_MAC_LEN);
	if (tagged) {
		f[12] = 0x81, f[13] = 0x00, f[14] = 0x00, f[15] = 0x05; /* VLAN 5 */
		f[16] = 0x08, f[17] = 0x00;
	} else if (len >= 14) {
		f[12] = 0x08, f[13] = 0x00;
	}
	return len;
}

/* Writes the virtio header (flags, gso_type, the rest 0) and the frame across the buffers in
 * order; the buffers must hold exactly HDR + len bytes. */
static void lay_out(const struct buf *b, unsigned n, uint8_t flags, uint8_t gso, const uint8_t *f,
		    size_t len)
{
	static uint8_t all[HDR + 2048];
	assert_true(HDR + len <= sizeof(all));
	memset(all, 0, HDR);
	all[0] = flags;
	all[1] = gso;
	memcpy(all + HDR, f, len);
	size_t at = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!b[i].len)
			continue;
		assert_true(at + b[i].len <= HDR + len);
		assert_int_equal(gmem_write(&ram.mem, b[i].gpa, all + at, b[i].len), 0);
		at += b[i].len;
	}
	assert_int_equal(at, HDR + len);
}

/* Transmits one chain and checks it came back at once with used length 0, the queue whole. */
static void transmit(struct nic *c, const struct buf *b, unsigned n, bool indirect)
{
	uint16_t used = vq_used_idx(&c->q[1]);
	uint16_t head = post(c, 1, b, n, indirect);
	notify_queue(c, 1);
	assert_false(needs_reset(c));
	assert_int_equal(vq_used_idx(&c->q[1]), (uint16_t)(used + 1));
	expect_used(c, 1, used, head, 0);
}

/* The probe's next frame is f. */
static void probe_gets(const uint8_t *f, size_t len)
{
	static uint8_t got[NET_FRAME_MAX];
	size_t n = net_port_recv(probe, got, sizeof(got));
	assert_int_equal(n, len);
	assert_memory_equal(got, f, len);
}

static void probe_gets_nothing(void)
{
	struct net_port_stats s;
	net_port_get_stats(probe, &s);
	assert_int_equal(s.rx_queued, 0);
}

/* One receive buffer of RX_SLOT bytes (slot k of the device's area), filled with FILL. */
static struct buf rx_slot(const struct nic *c, unsigned k)
{
	struct buf b = { RX_AREA(c->idx) + RX_SLOT * (uint64_t)k, RX_SLOT, true };
	assert_int_equal(gmem_fill(&ram.mem, b.gpa, FILL, RX_SLOT), 0);
	return b;
}

/* The chain's writable bytes hold the receive header (num_buffers 1), then f, then FILL. */
static void expect_received(const struct buf *b, unsigned n, const uint8_t *f, size_t len)
{
	static uint8_t got[0x4000];
	size_t at = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!b[i].w)
			continue;
		assert_true(at + b[i].len <= sizeof(got));
		assert_int_equal(gmem_read(&ram.mem, b[i].gpa, got + at, b[i].len), 0);
		at += b[i].len;
	}
	assert_true(at >= HDR + len);
	static const uint8_t hdr[HDR] = { [10] = 1 };
	assert_memory_equal(got, hdr, HDR);
	assert_memory_equal(got + HDR, f, len);
	for (size_t i = HDR + len; i < at; i++)
		if (got[i] != FILL)
			fail_msg("receive byte %zu past the frame changed", i);
}

static void expect_untouched(uint64_t gpa, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (vq_r(&ram.mem, gpa + i, 1) != FILL)
			fail_msg("guest byte 0x%llx changed", (unsigned long long)(gpa + i));
}

static unsigned port_queued(struct net_port *p)
{
	struct net_port_stats s;
	net_port_get_stats(p, &s);
	return s.rx_queued;
}

/* ---- configuration and features ---- */

static void config_space(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	assert_int_equal(cfg_rd(c, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	assert_int_equal(cfg_rd(c, PCI_DEVICE_ID, 2), 0x1041);
	assert_int_equal(cfg_rd(c, PCI_CLASS_PROG, 1), 0x00);
	assert_int_equal(cfg_rd(c, PCI_CLASS_DEVICE, 2), 0x0200); /* network, Ethernet */
	assert_int_equal(cc_rd(c, NUM_QUEUES, 2), 2);
	/* struct virtio_net_config (5.1.4) */
	for (unsigned i = 0; i < NET_MAC_LEN; i++)
		assert_int_equal(dcfg(c, i, 1), c->mac[i]);
	assert_int_equal(dcfg(c, 0, 4), 0x65656b02); /* 02 6b 65 65 */
	assert_int_equal(dcfg(c, 4, 2), 0x006c);     /* 6c 00 */
	assert_int_equal(dcfg(c, 6, 2), 1);	     /* status: LINK_UP */
	assert_int_equal(dcfg(c, 8, 2), 1);	     /* max_virtqueue_pairs */
	assert_int_equal(dcfg(c, 10, 2), 1500);	     /* mtu */
	assert_int_equal(dcfg(c, 8, 4), 1500u << 16 | 1);
	assert_int_equal(dcfg(c, 11, 1), 1500 >> 8);
	/* nothing past the 12 bytes, nor an access running past them */
	assert_int_equal(dcfg(c, 12, 4), 0);
	assert_int_equal(dcfg(c, 10, 4), 0);
	assert_int_equal(dcfg(c, 8, 8), 0);
	/* read-only for the driver (5.1.4) */
	mem_wr(c->devcfg, 4, 0x11111111);
	mem_wr(c->devcfg + 6, 2, 0);
	mem_wr(c->devcfg + 10, 2, 9000);
	for (unsigned i = 0; i < NET_MAC_LEN; i++)
		assert_int_equal(dcfg(c, i, 1), c->mac[i]);
	assert_int_equal(dcfg(c, 6, 2), 1);
	assert_int_equal(dcfg(c, 10, 2), 1500);
	/* the other device has its own MAC */
	assert_int_equal(dcfg(nic[1], 5, 1), 1);
	for (unsigned q = 0; q < 2; q++) {
		cc_wr(c, Q_SELECT, 2, q);
		assert_int_equal(cc_rd(c, Q_SIZE, 2), VIRTIO_NET_QUEUE_SIZE);
	}
	cc_wr(c, Q_SELECT, 2, 2); /* no control queue */
	assert_int_equal(cc_rd(c, Q_SIZE, 2), 0);
}

static void features(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	assert_int_equal(device_features(c), offered);
	/* what keel does not offer may not be taken (3.1.1) */
	static const uint64_t refused[] = { F_GUEST_ECN, F_HOST_ECN, F_CTRL_VQ, F_MQ,
					    F_SPEED_DUPLEX };
	for (unsigned i = 0; i < ARRAY_SIZE(refused); i++) {
		uint64_t f = F_VERSION_1 | F_MAC | refused[i];
		cc_wr(c, STATUS, 1, 0);
		cc_wr(c, STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
		cc_wr(c, GFSELECT, 4, 0);
		cc_wr(c, GF, 4, (uint32_t)f);
		cc_wr(c, GFSELECT, 4, 1);
		cc_wr(c, GF, 4, (uint32_t)(f >> 32));
		cc_wr(c, STATUS, 1,
		      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		assert_int_equal(cc_rd(c, STATUS, 1),
				 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	}
	/* "a truly minimal driver" (5.1.5): VERSION_1 and MAC only; frames still flow */
	bring_up(c, F_VERSION_1 | F_MAC, 16);
	uint8_t f[64];
	make_frame(f, probe_mac, c->mac, sizeof(f), 1, false);
	struct buf b = { TX_AREA, HDR + sizeof(f), false };
	lay_out(&b, 1, 0, 0, f, sizeof(f));
	transmit(c, &b, 1, false);
	probe_gets(f, sizeof(f));
	bring_up(c, offered, QSIZE);
}

static void bad_macs(void **state)
{
	(void)state;
	static struct virtio_net n;
	static const uint8_t group[NET_MAC_LEN] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t zero[NET_MAC_LEN];
	assert_int_equal(virtio_net_init(&n, &vm.env, group, NULL, NULL), -1);
	assert_int_equal(virtio_net_init(&n, &vm.env, broadcast, NULL, NULL), -1);
	assert_int_equal(virtio_net_init(&n, &vm.env, zero, NULL, NULL), -1);
	assert_int_equal(virtio_net_init(&n, &vm.env, probe_mac, NULL, NULL), 0);
}

/* ---- transmit ---- */

/* One frame in every shape a driver may give it; each reaches the probe byte for byte. */
static void transmit_layouts(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	static uint8_t f[NET_FRAME_MAX];
	const uint64_t a = TX_AREA;
	unsigned sent = 0;
	uint64_t bytes = 0;
	struct {
		size_t len;
		bool tagged, indirect;
		unsigned n;
		struct buf b[6];
	} cases[] = {
		/* header and frame in one buffer, as Linux sends without offloads */
		{ 60, false, false, 1, { { a, HDR + 60, false } } },
		/* the smallest frame: a header alone */
		{ 14, false, false, 1, { { a, HDR + 14, false } } },
		/* header in its own buffer, then the frame */
		{ 100, false, false, 2, { { a, HDR, false }, { a + 0x100, 100, false } } },
		/* the header split 5 + 7, the frame in three pieces */
		{ 300,
		  false,
		  false,
		  5,
		  { { a, 5, false },
		    { a + 0x40, 7, false },
		    { a + 0x80, 1, false },
		    { a + 0x100, 200, false },
		    { a + 0x400, 99, false } } },
		/* header and the frame's first 20 bytes share a buffer */
		{ 500, false, false, 2, { { a, HDR + 20, false }, { a + 0x800, 480, false } } },
		/* a full untagged frame across the extent boundary at 0x10000 */
		{ NET_FRAME_MAX_UNTAGGED,
		  false,
		  false,
		  1,
		  { { 0xFC00, HDR + NET_FRAME_MAX_UNTAGGED, false } } },
		/* a full 802.1Q-tagged frame in an indirect table, with zero-length buffers */
		{ NET_FRAME_MAX,
		  true,
		  true,
		  4,
		  { { a, HDR, false },
		    { a + 0x100, 0, false },
		    { 0xFE00, NET_FRAME_MAX - 1, false },
		    { a + 0x40, 1, false } } },
		/* the header across extents, the frame behind it in the next extent */
		{ 1000, false, true, 2, { { 0xFFFA, HDR, false }, { 0x11000, 1000, false } } },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		make_frame(f, broadcast, c->mac, cases[i].len, i, cases[i].tagged);
		lay_out(cases[i].b, cases[i].n, 0, 0, f, cases[i].len);
		transmit(c, cases[i].b, cases[i].n, cases[i].indirect);
		probe_gets(f, cases[i].len);
		sent++;
		bytes += cases[i].len;
	}
	/* flag bits other than NEEDS_CSUM mean nothing on transmit: ignored (5.1.6.2.2) */
	make_frame(f, probe_mac, c->mac, 80, 77, false);
	struct buf one = { a, HDR + 80, false };
	lay_out(&one, 1, HDR_F_DATA_VALID | 0xF0, 0, f, 80);
	transmit(c, &one, 1, false);
	probe_gets(f, 80);
	sent++;
	bytes += 80;
	assert_int_equal(c->dev.stats.tx_frames, sent);
	assert_int_equal(c->dev.stats.tx_bytes, bytes);
	assert_int_equal(c->dev.stats.tx_bad_chain + c->dev.stats.tx_bad_header +
				 c->dev.stats.tx_bad_length + c->dev.stats.tx_no_link,
			 0);
	struct net_port_stats ps;
	net_port_get_stats(&c->dev.port, &ps);
	assert_int_equal(ps.tx_frames, sent);
	/* one transmit interrupt per notification, none on the receive queue */
	assert_int_equal(c->msgs[2], sent);
	assert_int_equal(c->msgs[1], 0);
	assert_int_equal(c->kicks, 0);
}

/* Several chains in one notification: every one sent in order, one interrupt. */
static void transmit_batch(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	static uint8_t f[10][200];
	for (unsigned i = 0; i < 10; i++) {
		make_frame(f[i], probe_mac, c->mac, 100 + 10 * i, i, false);
		struct buf b[2] = { { TX_AREA + 0x400 * i, HDR, false },
				    { TX_AREA + 0x400 * i + 0x20, 100 + 10 * i, false } };
		lay_out(b, 2, 0, 0, f[i], b[1].len);
		post(c, 1, b, 2, false);
	}
	notify_queue(c, 1);
	assert_int_equal(vq_used_idx(&c->q[1]), 10);
	for (unsigned i = 0; i < 10; i++) {
		expect_used(c, 1, (uint16_t)i, (uint16_t)(2 * i), 0);
		probe_gets(f[i], 100 + 10 * i);
	}
	assert_int_equal(c->msgs[2], 1);
	assert_int_equal(c->dev.stats.tx_frames, 10);
}

/* Malformed transmit chains: each completes with used length 0, is counted, sends nothing, and
 * the queue keeps working. */
static void transmit_malformed(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	static uint8_t f[NET_FRAME_MAX + 8];
	const uint64_t a = TX_AREA;
	make_frame(f, probe_mac, c->mac, 64, 3, false);

	/* a device-writable buffer after the frame, and a chain of writable buffers only */
	struct buf w[2] = { { a, HDR + 64, false }, { a + 0x200, 16, true } };
	lay_out(w, 1, 0, 0, f, 64);
	transmit(c, w, 2, false);
	w[0].w = true;
	transmit(c, w, 1, false);
	assert_int_equal(c->dev.stats.tx_bad_chain, 2);

	/* offloads nobody negotiated: NEEDS_CSUM, a GSO type, the ECN bit alone */
	struct buf one = { a, HDR + 64, false };
	static const uint8_t bad[][2] = {
		{ HDR_F_NEEDS_CSUM, 0 }, { HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID, 0 },
		{ 0, GSO_TCPV4 },	 { HDR_F_NEEDS_CSUM, GSO_TCPV4 },
		{ 0, GSO_ECN },		 { 0, 5 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		lay_out(&one, 1, bad[i][0], bad[i][1], f, 64);
		transmit(c, &one, 1, false);
	}
	/* fewer bytes than a header: none, 11, and 11 split */
	struct buf none = { a, 0, false };
	transmit(c, &none, 1, false);
	struct buf short_hdr = { a, 11, false };
	transmit(c, &short_hdr, 1, false);
	struct buf split[2] = { { a, 5, false }, { a + 0x40, 6, false } };
	transmit(c, split, 2, true);
	assert_int_equal(c->dev.stats.tx_bad_header, ARRAY_SIZE(bad) + 3);

	/* frames the switch may not carry: none, 13 bytes, longer than NET_FRAME_MAX, and 1515
	 * to 1518 untagged (the switch's own check) */
	static const size_t lens[] = { 0,
				       1,
				       NET_ETH_HDR_LEN - 1,
				       NET_FRAME_MAX + 1,
				       NET_FRAME_MAX + 8,
				       NET_FRAME_MAX_UNTAGGED + 1,
				       NET_FRAME_MAX };
	for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
		make_frame(f, probe_mac, c->mac, lens[i], i, false);
		struct buf b[2] = { { a, HDR, false }, { a + 0x100, (uint32_t)lens[i], false } };
		lay_out(b, 2, 0, 0, f, lens[i]);
		transmit(c, b, 2, false);
	}
	/* a chain of 320 KiB: far past any frame, never copied */
	struct buf giant[2] = { { a, HDR, false }, { 0x20000, 0x50000, false } };
	transmit(c, giant, 2, false);
	assert_int_equal(c->dev.stats.tx_bad_length, ARRAY_SIZE(lens) + 1);
	assert_int_equal(c->dev.stats.tx_frames, 0);
	probe_gets_nothing();
	/* the switch counted only those it saw (the untagged 1515 and 1518) */
	struct net_port_stats ps;
	net_port_get_stats(&c->dev.port, &ps);
	assert_int_equal(ps.tx_malformed, 2);
	assert_int_equal(ps.tx_frames, 0);

	/* and the queue still works */
	make_frame(f, probe_mac, c->mac, 64, 9, false);
	lay_out(&one, 1, 0, 0, f, 64);
	transmit(c, &one, 1, false);
	probe_gets(f, 64);
	assert_int_equal(c->dev.stats.tx_frames, 1);
	assert_string_equal(host_log_text(), "");
}

/* A frame from a MAC that is not the device's own never reaches the switch: its learning
 * table keeps the real owner, who still gets its unicast frames. */
static void transmit_spoofed(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	static uint8_t f[64], g[64];
	const uint64_t a = TX_AREA;
	struct buf one = { a, HDR + 64, false };

	/* the switch learns probe_mac at the probe's port */
	make_frame(g, broadcast, probe_mac, 64, 1, false);
	assert_int_equal(net_switch_send(probe, g, 64), 1);
	/* the device claims probe_mac, and then a MAC nobody has */
	make_frame(f, broadcast, probe_mac, 64, 2, false);
	lay_out(&one, 1, 0, 0, f, 64);
	transmit(c, &one, 1, false);
	static const uint8_t other[NET_MAC_LEN] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	make_frame(f, broadcast, other, 64, 3, false);
	lay_out(&one, 1, 0, 0, f, 64);
	transmit(c, &one, 1, false);
	assert_int_equal(c->dev.stats.tx_spoofed, 2);
	assert_int_equal(c->dev.stats.tx_frames, 0);
	probe_gets_nothing();
	assert_true(
		host_log_contains("vm t: virtio-net 00:05.0: a frame from mac 02:00:00:00:00:99, "
				  "not the device's own; dropped"));
	/* a frame to probe_mac from the device's own MAC goes to the probe alone */
	make_frame(f, probe_mac, c->mac, 64, 4, false);
	lay_out(&one, 1, 0, 0, f, 64);
	transmit(c, &one, 1, false);
	probe_gets(f, 64);
	assert_int_equal(c->dev.stats.tx_frames, 1);
}

/* A port on no switch: the frame is counted and the chain completes. */
static void transmit_detached(void **state)
{
	(void)state;
	struct nic *c = nic[1]; /* never attached */
	up(c);
	uint8_t f[60];
	make_frame(f, probe_mac, c->mac, sizeof(f), 1, false);
	struct buf one = { TX_AREA, HDR + sizeof(f), false };
	lay_out(&one, 1, 0, 0, f, sizeof(f));
	transmit(c, &one, 1, false);
	assert_int_equal(c->dev.stats.tx_no_link, 1);
	assert_int_equal(c->dev.stats.tx_frames, 0);
	probe_gets_nothing();
}

/* ---- receive ---- */

/* Frames from the probe into receive chains of every shape: the header, the frame, the used
 * length; one kick per frame queued, one interrupt per call. */
static void receive_layouts(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	const uint64_t r = RX_AREA(0);
	assert_int_equal(gmem_fill(&ram.mem, r, FILL, 0x10000), 0);
	assert_int_equal(gmem_fill(&ram.mem, 0xF000, FILL, 0x2000), 0);
	struct {
		size_t len;
		bool tagged, indirect;
		unsigned n;
		struct buf b[4];
	} cases[] = {
		/* one buffer of the size Linux gives (header + 1518) */
		{ 60, false, false, 1, { { r, VIRTIO_NET_RX_BUF_MIN, true } } },
		/* header in its own buffer */
		{ 1514, false, false, 2, { { r + 0x800, HDR, true }, { r + 0x1000, 1600, true } } },
		/* across the extent boundary, split inside the header */
		{ 1518,
		  true,
		  false,
		  3,
		  { { 0xFFF8, 4, true }, { 0xFFFC, 800, true }, { 0x10400, 800, true } } },
		/* indirect, exactly header + frame */
		{ 200,
		  false,
		  true,
		  2,
		  { { r + 0x2000, 100, true }, { r + 0x3000, HDR + 100, true } } },
		/* the smallest frame */
		{ 14, false, false, 1, { { r + 0x4000, 64, true } } },
	};
	static uint8_t f[ARRAY_SIZE(cases)][NET_FRAME_MAX];
	uint16_t heads[ARRAY_SIZE(cases)];
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		heads[i] = post(c, 0, cases[i].b, cases[i].n, cases[i].indirect);
	/* buffers alone move nothing */
	notify_queue(c, 0);
	assert_int_equal(vq_used_idx(&c->q[0]), 0);
	assert_int_equal(c->msgs[1], 0);
	assert_false(virtio_net_rx_pending(&c->dev));

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		make_frame(f[i], c->mac, probe_mac, cases[i].len, 40 + i, cases[i].tagged);
		assert_int_equal(net_switch_send(probe, f[i], cases[i].len), 1);
	}
	assert_int_equal(c->kicks, ARRAY_SIZE(cases));
	assert_true(virtio_net_rx_pending(&c->dev));
	virtio_net_rx(&c->dev);
	assert_false(virtio_net_rx_pending(&c->dev));
	assert_int_equal(vq_used_idx(&c->q[0]), ARRAY_SIZE(cases));
	uint64_t bytes = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		expect_used(c, 0, (uint16_t)i, heads[i], (uint32_t)(HDR + cases[i].len));
		expect_received(cases[i].b, cases[i].n, f[i], cases[i].len);
		bytes += cases[i].len;
	}
	assert_int_equal(c->msgs[1], 1);
	assert_int_equal(c->msgs[2], 0);
	assert_int_equal(c->dev.stats.rx_frames, ARRAY_SIZE(cases));
	assert_int_equal(c->dev.stats.rx_bytes, bytes);
	/* nothing more: no interrupt */
	virtio_net_rx(&c->dev);
	assert_int_equal(c->msgs[1], 1);
	assert_int_equal(port_queued(&c->dev.port), 0);
}

/* No receive buffers: frames wait in the port's ring, in order, until the driver gives some and
 * notifies the receive queue. */
static void receive_waits_for_buffers(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	static uint8_t f[6][300];
	for (unsigned i = 0; i < 6; i++) {
		make_frame(f[i], c->mac, probe_mac, 100 + 30 * i, i, false);
		net_switch_send(probe, f[i], 100 + 30 * i);
	}
	virtio_net_rx(&c->dev);
	assert_int_equal(port_queued(&c->dev.port), 6);
	assert_int_equal(vq_used_idx(&c->q[0]), 0);
	assert_int_equal(c->msgs[1], 0);
	/* four buffers: four frames, one interrupt */
	struct buf b[6];
	for (unsigned i = 0; i < 4; i++) {
		b[i] = rx_slot(c, i);
		post(c, 0, &b[i], 1, false);
	}
	notify_queue(c, 0);
	assert_int_equal(vq_used_idx(&c->q[0]), 4);
	assert_int_equal(port_queued(&c->dev.port), 2);
	assert_int_equal(c->msgs[1], 1);
	for (unsigned i = 0; i < 4; i++) {
		expect_used(c, 0, (uint16_t)i, (uint16_t)i, HDR + 100 + 30 * i);
		expect_received(&b[i], 1, f[i], 100 + 30 * i);
	}
	/* two more */
	for (unsigned i = 4; i < 6; i++) {
		b[i] = rx_slot(c, i);
		post(c, 0, &b[i], 1, false);
	}
	notify_queue(c, 0);
	assert_int_equal(vq_used_idx(&c->q[0]), 6);
	for (unsigned i = 4; i < 6; i++)
		expect_received(&b[i], 1, f[i], 100 + 30 * i);
	assert_int_equal(c->msgs[1], 2);
	assert_int_equal(c->dev.stats.rx_frames, 6);
	/* a buffer with nothing to put in it stays available */
	struct buf spare = rx_slot(c, 7);
	post(c, 0, &spare, 1, false);
	notify_queue(c, 0);
	assert_int_equal(vq_used_idx(&c->q[0]), 6);
	uint8_t late[70];
	make_frame(late, broadcast, probe_mac, sizeof(late), 99, false);
	net_switch_send(probe, late, sizeof(late));
	virtio_net_rx(&c->dev);
	assert_int_equal(vq_used_idx(&c->q[0]), 7);
	expect_received(&spare, 1, late, sizeof(late));
}

/* A receive chain with a device-readable buffer: returned empty, the frame kept for the next
 * chain. One too small for header + frame: the frame dropped, the chain returned empty and
 * untouched (the choice net.h explains). */
static void receive_malformed(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	static uint8_t f[3][1514];
	make_frame(f[0], c->mac, probe_mac, 1000, 1, false);
	make_frame(f[1], c->mac, probe_mac, 1514, 2, false);
	make_frame(f[2], c->mac, probe_mac, 500, 3, false);
	for (unsigned i = 0; i < 3; i++)
		net_switch_send(probe, f[i], i == 0 ? 1000 : i == 1 ? 1514 : 500);

	struct buf ro[2] = { rx_slot(c, 0), rx_slot(c, 1) };
	ro[0].w = false; /* readable, then writable */
	uint16_t h0 = post(c, 0, ro, 2, false);
	struct buf good = rx_slot(c, 2);
	uint16_t h1 = post(c, 0, &good, 1, false);
	/* one byte short of header + 1514, split, then one that fits 500 exactly */
	struct buf small[2] = { rx_slot(c, 3), rx_slot(c, 4) };
	small[0].len = 1000;
	small[1].len = HDR + 1514 - 1000 - 1;
	uint16_t h2 = post(c, 0, small, 2, true);
	struct buf exact = rx_slot(c, 5);
	exact.len = HDR + 500;
	uint16_t h3 = post(c, 0, &exact, 1, false);
	virtio_net_rx(&c->dev);
	assert_false(needs_reset(c));
	assert_int_equal(vq_used_idx(&c->q[0]), 4);
	expect_used(c, 0, 0, h0, 0);
	expect_used(c, 0, 1, h1, HDR + 1000);
	expect_used(c, 0, 2, h2, 0);
	expect_used(c, 0, 3, h3, HDR + 500);
	expect_untouched(ro[1].gpa, RX_SLOT);
	expect_received(&good, 1, f[0], 1000);
	expect_untouched(small[0].gpa, small[0].len);
	expect_untouched(small[1].gpa, small[1].len);
	expect_received(&exact, 1, f[2], 500);
	assert_int_equal(c->dev.stats.rx_bad_chain, 1);
	assert_int_equal(c->dev.stats.rx_too_small, 1);
	assert_int_equal(c->dev.stats.rx_frames, 2);
	assert_int_equal(c->dev.stats.rx_bytes, 1500);
	assert_int_equal(c->msgs[1], 1);

	/* a chain with no writable byte at all (zero-length buffers only) is too small too */
	net_switch_send(probe, f[2], 500);
	struct buf empty = { RX_AREA(0), 0, true };
	post(c, 0, &empty, 1, false);
	virtio_net_rx(&c->dev);
	expect_used(c, 0, 4, 5, 0);
	assert_int_equal(c->dev.stats.rx_too_small, 2);
	assert_int_equal(port_queued(&c->dev.port), 0);
}

/* With MRG_RXBUF the n chains (one buffer each) hold header then f, filled in order, the last
 * one up to its used length only; num_buffers is n. Their used entries, from used index u on,
 * give each chain's bytes. */
static void expect_merged(const struct nic *c, uint16_t u, const struct buf *b,
			  const uint16_t *heads, unsigned n, const uint8_t *f, size_t len)
{
	static uint8_t got[0x10000];
	size_t at = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t piece = MIN((size_t)b[i].len, HDR + len - at);
		expect_used(c, 0, (uint16_t)(u + i), heads[i], (uint32_t)piece);
		assert_int_equal(gmem_read(&ram.mem, b[i].gpa, got + at, piece), 0);
		if (piece < b[i].len)
			expect_untouched(b[i].gpa + piece, b[i].len - piece);
		at += piece;
	}
	assert_int_equal(at, HDR + len);
	uint8_t hdr[HDR] = { 0 };
	hdr[10] = (uint8_t)n;
	assert_memory_equal(got, hdr, HDR);
	assert_memory_equal(got + HDR, f, len);
}

/* MRG_RXBUF (5.1.6.4.2): a frame spreads over as many chains as it needs, num_buffers counts
 * them, and they complete together in consecutive used entries with one interrupt; a small frame
 * takes one chain. A queue that runs dry mid-frame gives its chains back unused and the frame
 * waits for the driver's next buffer. */
static void receive_mergeable(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up_with(c, F_MRG_RXBUF);
	static uint8_t f[3][1514];
	make_frame(f[0], c->mac, probe_mac, 1400, 1, false);
	make_frame(f[1], c->mac, probe_mac, 60, 2, false);
	make_frame(f[2], c->mac, probe_mac, 1514, 3, false);
	struct buf b[8];
	uint16_t h[8];
	for (unsigned i = 0; i < 4; i++) {
		b[i] = rx_slot(c, i);
		b[i].len = 600;
		h[i] = post(c, 0, &b[i], 1, false);
	}
	net_switch_send(probe, f[0], 1400);
	net_switch_send(probe, f[1], 60);
	virtio_net_rx(&c->dev);
	assert_false(needs_reset(c));
	/* 12 + 1400 bytes: 600, 600 and 212; the 60-byte frame in the fourth chain */
	assert_int_equal(vq_used_idx(&c->q[0]), 4);
	expect_merged(c, 0, b, h, 3, f[0], 1400);
	expect_merged(c, 3, &b[3], &h[3], 1, f[1], 60);
	assert_int_equal(c->msgs[1], 1);

	/* two chains for 12 + 1514 bytes: nothing used, the frame waits, and the chains come back
	 * with the third one */
	for (unsigned i = 4; i < 6; i++) {
		b[i] = rx_slot(c, i);
		b[i].len = 600;
		h[i] = post(c, 0, &b[i], 1, false);
	}
	net_switch_send(probe, f[2], 1514);
	virtio_net_rx(&c->dev);
	assert_false(needs_reset(c));
	assert_int_equal(vq_used_idx(&c->q[0]), 4);
	assert_int_equal(port_queued(&c->dev.port), 0);
	assert_int_equal(c->msgs[1], 1);
	b[6] = rx_slot(c, 6);
	b[6].len = 600;
	h[6] = post(c, 0, &b[6], 1, false);
	notify_queue(c, 0);
	assert_int_equal(vq_used_idx(&c->q[0]), 7);
	expect_merged(c, 4, &b[4], &h[4], 3, f[2], 1514);
	assert_int_equal(c->msgs[1], 2);
	assert_int_equal(c->dev.stats.rx_frames, 3);
	assert_int_equal(c->dev.stats.rx_bytes, 1400 + 60 + 1514);
	assert_int_equal(c->dev.stats.rx_too_small + c->dev.stats.rx_bad_chain, 0);
}

/* MRG_RXBUF with bad chains: one smaller than the header (5.1.6.3.1) or with a device-readable
 * buffer goes back empty; first in line, it takes no frame; in the middle of a frame, the frame is
 * dropped (counted) and every chain it took goes back empty, and the next frame starts afresh. */
static void receive_mergeable_malformed(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up_with(c, F_MRG_RXBUF);
	static uint8_t f[2][1514];
	make_frame(f[0], c->mac, probe_mac, 1000, 1, false);
	make_frame(f[1], c->mac, probe_mac, 700, 2, false);
	net_switch_send(probe, f[0], 1000);
	net_switch_send(probe, f[1], 700);
	struct buf tiny = rx_slot(c, 0);
	tiny.len = HDR - 1;
	uint16_t h_tiny = post(c, 0, &tiny, 1, false);
	struct buf b[4];
	uint16_t h[4];
	b[0] = rx_slot(c, 1);
	b[0].len = 600;
	h[0] = post(c, 0, &b[0], 1, false);
	struct buf ro[2] = { rx_slot(c, 2), rx_slot(c, 3) };
	ro[0].w = false;
	uint16_t h_ro = post(c, 0, ro, 2, false);
	for (unsigned i = 1; i < 3; i++) {
		b[i] = rx_slot(c, 3 + i);
		b[i].len = 600;
		h[i] = post(c, 0, &b[i], 1, false);
	}
	virtio_net_rx(&c->dev);
	assert_false(needs_reset(c));
	/* tiny: empty, no frame; b[0] then the readable chain: both empty, frame 0 dropped; frame
	 * 1 (12 + 700 bytes) in b[1] and b[2] */
	assert_int_equal(vq_used_idx(&c->q[0]), 5);
	expect_used(c, 0, 0, h_tiny, 0);
	expect_untouched(tiny.gpa, tiny.len);
	expect_used(c, 0, 1, h[0], 0);
	expect_used(c, 0, 2, h_ro, 0);
	expect_untouched(ro[1].gpa, ro[1].len);
	expect_merged(c, 3, &b[1], &h[1], 2, f[1], 700);
	assert_int_equal(c->dev.stats.rx_bad_chain, 2);
	assert_int_equal(c->dev.stats.rx_too_small, 1);
	assert_int_equal(c->dev.stats.rx_frames, 1);
	assert_int_equal(port_queued(&c->dev.port), 0);
}

/* A broken receive ring: the device needs a reset, the frame stays queued, and once the driver
 * resets and sets up again it arrives. */
static void receive_broken_ring(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	uint8_t f[90];
	make_frame(f, c->mac, probe_mac, sizeof(f), 5, false);
	net_switch_send(probe, f, sizeof(f));
	struct buf out = { RAM_END - 0x10, 0x800, true }; /* past the end of RAM */
	post(c, 0, &out, 1, false);
	virtio_net_rx(&c->dev);
	assert_true(needs_reset(c));
	assert_int_equal(vq_used_idx(&c->q[0]), 0);
	assert_int_equal(port_queued(&c->dev.port), 1);
	assert_int_equal(c->msgs[0], 1); /* the configuration interrupt */
	assert_true(host_log_contains(
		"vm t: virtio-net 00:05.0 queue 0: a buffer outside the VM's RAM"));
	/* nothing moves while it needs a reset */
	virtio_net_rx(&c->dev);
	assert_int_equal(port_queued(&c->dev.port), 1);
	up(c);
	struct buf b = rx_slot(c, 0);
	post(c, 0, &b, 1, false);
	notify_queue(c, 0);
	expect_used(c, 0, 0, 0, HDR + sizeof(f));
	expect_received(&b, 1, f, sizeof(f));
}

/* Bus mastering off: no DMA at all. Transmit chains wait unread, received frames wait in the
 * port's ring; both flow once it is back on. Before DRIVER_OK the same. */
static void no_bus_master(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	struct buf rx = rx_slot(c, 0);
	post(c, 0, &rx, 1, false);
	uint8_t in[120], out[80];
	make_frame(in, c->mac, probe_mac, sizeof(in), 1, false);
	make_frame(out, probe_mac, c->mac, sizeof(out), 2, false);
	struct buf tx = { TX_AREA, HDR + sizeof(out), false };
	lay_out(&tx, 1, 0, 0, out, sizeof(out));
	post(c, 1, &tx, 1, false);

	cfg_wr(c, PCI_COMMAND, 2, cfg_rd(c, PCI_COMMAND, 2) & ~PCI_CMD_MASTER);
	uint8_t rings[0x2000];
	assert_int_equal(gmem_read(&ram.mem, RINGS(0, 0), rings, sizeof(rings)), 0);
	notify_queue(c, 1);
	net_switch_send(probe, in, sizeof(in));
	assert_true(virtio_net_rx_pending(&c->dev));
	virtio_net_rx(&c->dev);
	notify_queue(c, 0);
	uint8_t now[0x2000];
	assert_int_equal(gmem_read(&ram.mem, RINGS(0, 0), now, sizeof(now)), 0);
	assert_memory_equal(rings, now, sizeof(rings));
	expect_untouched(rx.gpa, RX_SLOT);
	probe_gets_nothing();
	assert_int_equal(port_queued(&c->dev.port), 1);
	assert_int_equal(c->msgs[1] + c->msgs[2], 0);

	cfg_wr(c, PCI_COMMAND, 2, cfg_rd(c, PCI_COMMAND, 2) | PCI_CMD_MASTER);
	notify_queue(c, 1);
	probe_gets(out, sizeof(out));
	notify_queue(c, 0);
	expect_used(c, 0, 0, 0, HDR + sizeof(in));
	expect_received(&rx, 1, in, sizeof(in));

	/* a device the driver has not finished setting up takes nothing either */
	cc_wr(c, STATUS, 1, 0);
	net_switch_send(probe, in, sizeof(in));
	virtio_net_rx(&c->dev);
	assert_int_equal(port_queued(&c->dev.port), 1);
	assert_int_equal(c->dev.stats.rx_frames, 1);
	assert_int_equal(c->dev.stats.tx_frames, 1);
}

/* Two devices on one switch: unicast both ways once each learned the other, broadcasts to both
 * the other device and the probe, byte for byte. */
static void two_devices(void **state)
{
	(void)state;
	struct nic *a = nic[0], *b = nic[1];
	assert_int_equal(net_switch_attach(lan, &b->dev.port), 0);
	up(a);
	up(b);
	struct buf ra[8], rb[8];
	for (unsigned i = 0; i < 8; i++) {
		ra[i] = rx_slot(a, i);
		rb[i] = rx_slot(b, i);
		post(a, 0, &ra[i], 1, false);
		post(b, 0, &rb[i], 1, false);
	}
	notify_queue(a, 0);
	notify_queue(b, 0);
	static uint8_t f[8][1514];
	/* a broadcasts (b and the probe get it), b answers unicast, a replies unicast */
	size_t len[8] = { 42, 60, 1514, 98, 1000, 64, 1514, 14 };
	struct nic *from[8] = { a, b, a, b, a, b, b, a };
	for (unsigned i = 0; i < 8; i++) {
		struct nic *src = from[i], *dst = src == a ? b : a;
		make_frame(f[i], i ? dst->mac : broadcast, src->mac, len[i], 60 + i, false);
		struct buf t[2] = { { TX_AREA + 0x1000 * src->idx, HDR, false },
				    { TX_AREA + 0x1000 * src->idx + 0x100, (uint32_t)len[i],
				      false } };
		lay_out(t, 2, 0, 0, f[i], len[i]);
		unsigned kicks = dst->kicks;
		transmit(src, t, 2, i % 2);
		assert_int_equal(dst->kicks, kicks + 1);
		assert_true(virtio_net_rx_pending(&dst->dev));
		assert_false(virtio_net_rx_pending(&src->dev));
		virtio_net_rx(&dst->dev);
	}
	probe_gets(f[0], len[0]); /* the broadcast; the rest were unicast to learned MACs */
	probe_gets_nothing();
	unsigned ka = 0, kb = 0;
	for (unsigned i = 0; i < 8; i++) {
		struct nic *dst = from[i] == a ? b : a;
		unsigned k = dst == a ? ka++ : kb++;
		expect_used(dst, 0, (uint16_t)k, (uint16_t)k, (uint32_t)(HDR + len[i]));
		expect_received(dst == a ? &ra[k] : &rb[k], 1, f[i], len[i]);
	}
	assert_int_equal(a->dev.stats.tx_frames, 4);
	assert_int_equal(b->dev.stats.tx_frames, 4);
	assert_int_equal(a->dev.stats.rx_frames, 4);
	assert_int_equal(b->dev.stats.rx_frames, 4);
	assert_int_equal(a->msgs[1], 4);
	assert_int_equal(b->msgs[1], 4);
	net_switch_detach(&b->dev.port);
}

/* With no receive buffers the port's ring fills: FIT full-size frames fit (more than a whole
 * transmit queue of them, so one sender's notify never overflows it), the rest are dropped and
 * counted by the port; the FIT then arrive in order, 32 buffers at a time. */
static void full_port_ring(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up(c);
	enum { FIT = NET_PORT_RING_BYTES / (NET_PORT_REC_HDR + NET_FRAME_MAX_UNTAGGED) };
	enum { SENT = FIT + 7, ROUND = 32 };
	static uint8_t f[SENT][NET_FRAME_MAX_UNTAGGED];
	for (unsigned i = 0; i < SENT; i++) {
		make_frame(f[i], c->mac, probe_mac, sizeof(f[i]), i, false);
		assert_int_equal(net_switch_send(probe, f[i], sizeof(f[i])), i < FIT ? 1 : 0);
	}
	struct net_port_stats ps;
	net_port_get_stats(&c->dev.port, &ps);
	assert_true(FIT > VIRTIO_NET_QUEUE_SIZE);
	assert_int_equal(ps.rx_queued, FIT);
	assert_int_equal(ps.rx_dropped_full, SENT - FIT);
	assert_int_equal(c->kicks, FIT); /* a dropped frame kicks nobody */
	virtio_net_rx(&c->dev);
	assert_int_equal(port_queued(&c->dev.port), FIT);
	/* each frame once, in order */
	static struct buf b[FIT];
	unsigned got = 0;
	for (unsigned round = 0; got < FIT; round++) {
		unsigned n = MIN((unsigned)ROUND, FIT - got);
		for (unsigned i = 0; i < n; i++) {
			b[got + i] = rx_slot(c, (got + i) % QSIZE);
			post(c, 0, &b[got + i], 1, false);
		}
		notify_queue(c, 0);
		for (unsigned i = 0; i < n; i++) {
			expect_used(c, 0, (uint16_t)(got + i), (uint16_t)((got + i) % QSIZE),
				    HDR + NET_FRAME_MAX_UNTAGGED);
			expect_received(&b[got + i], 1, f[got + i], NET_FRAME_MAX_UNTAGGED);
		}
		got += n;
		assert_int_equal(c->msgs[1], round + 1);
	}
	assert_int_equal(port_queued(&c->dev.port), 0);
	assert_int_equal(c->dev.stats.rx_frames, FIT);
	/* room again */
	assert_int_equal(net_switch_send(probe, f[0], sizeof(f[0])), 1);
}

/* A full queue of receive buffers and more frames than buffers: one call fills the queue, one
 * interrupt, and what is left waits. EVENT_IDX respected: no interrupt before used_event. */
static void receive_full_queue(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	bring_up(c, plain, 16);
	static uint8_t f[20][200];
	for (unsigned i = 0; i < 20; i++) {
		make_frame(f[i], c->mac, probe_mac, 200, i, false);
		net_switch_send(probe, f[i], 200);
	}
	struct buf b[16];
	for (unsigned i = 0; i < 16; i++) {
		b[i] = rx_slot(c, i);
		post(c, 0, &b[i], 1, false);
	}
	vq_set_used_event(&c->q[0], 0);
	virtio_net_rx(&c->dev);
	assert_int_equal(vq_used_idx(&c->q[0]), 16);
	assert_int_equal(c->msgs[1], 1);
	assert_int_equal(port_queued(&c->dev.port), 4);
	for (unsigned i = 0; i < 16; i++)
		expect_received(&b[i], 1, f[i], 200);
	/* avail_event follows the device: the driver's next buffer is worth a notification */
	assert_int_equal(vq_avail_event(&c->q[0]), 16);
	/* used_event far ahead: the next frames come without an interrupt */
	vq_set_used_event(&c->q[0], 100);
	for (unsigned i = 0; i < 4; i++) {
		b[i] = rx_slot(c, i);
		post(c, 0, &b[i], 1, false);
	}
	virtio_net_rx(&c->dev);
	assert_int_equal(vq_used_idx(&c->q[0]), 20);
	assert_int_equal(c->msgs[1], 1);
	for (unsigned i = 0; i < 4; i++)
		expect_received(&b[i], 1, f[16 + i], 200);
}

/* ---- checksum offload ---- */

/* Writes a whole 12-byte header (flags, gso_type, csum_start, csum_offset; the rest 0) and the
 * frame into one transmit buffer. */
static void lay_out_csum(const struct buf *b, uint8_t flags, uint8_t gso, uint16_t start,
			 uint16_t off, const uint8_t *f, size_t len)
{
	uint8_t h[HDR] = { flags, gso };
	h[6] = (uint8_t)start, h[7] = (uint8_t)(start >> 8);
	h[8] = (uint8_t)off, h[9] = (uint8_t)(off >> 8);
	assert_int_equal(b->len, HDR + len);
	assert_int_equal(gmem_write(&ram.mem, b->gpa, h, HDR), 0);
	assert_int_equal(gmem_write(&ram.mem, b->gpa + HDR, f, len), 0);
}

/* A driver with VIRTIO_NET_F_CSUM sends TCP frames with their checksum open: they reach the
 * switch as they are, with csum_start and csum_offset beside them; offsets that put the
 * checksum outside the frame, or a gso_type, are still refused and counted. */
static void transmit_csum(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up_with(c, F_CSUM);
	static uint8_t f[NET_FRAME_MAX], got[NET_FRAME_MAX];
	struct buf b = { TX_AREA, 0, false };
	unsigned sent = 0;
	for (unsigned v = 0; v < 4; v++) {
		struct pkt_spec s = { .v6 = v & 1,
				      .vlan = v & 2,
				      .dst = probe_mac,
				      .src = c->mac,
				      .payload = 1000 + v,
				      .seq = 7,
				      .tcp_flags = PKT_TCP_ACK };
		size_t len = pkt_tcp(f, &s, true);
		b.len = (uint32_t)(HDR + len);
		lay_out_csum(&b, HDR_F_NEEDS_CSUM, 0, (uint16_t)pkt_l4(&s), 16, f, len);
		transmit(c, &b, 1, false);
		sent++;
		struct net_offload off;
		assert_int_equal(net_port_recv_offload(probe, got, sizeof(got), &off), len);
		assert_memory_equal(got, f, len); /* untouched: the receiver sums it */
		assert_int_equal(off.flags, NET_OFF_NEEDS_CSUM);
		assert_int_equal(off.csum_start, pkt_l4(&s));
		assert_int_equal(off.csum_offset, 16);
	}
	/* DATA_VALID beside NEEDS_CSUM means nothing on transmit */
	struct pkt_spec s = { .dst = probe_mac, .src = c->mac, .payload = 10 };
	size_t len = pkt_tcp(f, &s, true);
	b.len = (uint32_t)(HDR + len);
	lay_out_csum(&b, HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID, 0, 34, 16, f, len);
	transmit(c, &b, 1, false);
	sent++;
	probe_gets(f, len);
	/* the field's last byte is the frame's last: fine; one further: refused */
	lay_out_csum(&b, HDR_F_NEEDS_CSUM, 0, (uint16_t)(len - 2), 0, f, len);
	transmit(c, &b, 1, false);
	sent++;
	probe_gets(f, len);
	static const uint16_t bad[][2] = { { 34, 30 }, { 0xffff, 0xffff }, { 0, 0xffff } };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		lay_out_csum(&b, HDR_F_NEEDS_CSUM, 0, bad[i][0], bad[i][1], f, len);
		transmit(c, &b, 1, false);
	}
	lay_out_csum(&b, HDR_F_NEEDS_CSUM, 0, (uint16_t)(len - 1), 0, f, len);
	transmit(c, &b, 1, false);
	/* segmentation was not negotiated */
	lay_out_csum(&b, HDR_F_NEEDS_CSUM, GSO_TCPV4, 34, 16, f, len);
	transmit(c, &b, 1, false);
	assert_int_equal(c->dev.stats.tx_bad_header, ARRAY_SIZE(bad) + 2);
	assert_int_equal(c->dev.stats.tx_frames, sent);
	probe_gets_nothing();
	struct net_port_stats ps;
	net_port_get_stats(&c->dev.port, &ps);
	assert_int_equal(ps.tx_malformed, 0); /* the device refused them before the switch */
}

/* The probe sends frames with their checksum open: a driver with GUEST_CSUM gets them so, with
 * NEEDS_CSUM and the offsets in the header; one without gets them summed by keel, flags 0. */
static void receive_csum(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	static uint8_t partial[4][NET_FRAME_MAX], full[4][NET_FRAME_MAX];
	size_t len[4];
	struct pkt_spec s[4];
	for (unsigned v = 0; v < 4; v++) {
		s[v] = (struct pkt_spec){ .v6 = v & 1,
					  .vlan = v & 2,
					  .dst = c->mac,
					  .src = probe_mac,
					  .payload = 1400 - 17 * v,
					  .seq = 0x10000u * v,
					  .tcp_flags = PKT_TCP_ACK | PKT_TCP_PSH,
					  .seed = v };
		len[v] = pkt_tcp(partial[v], &s[v], true);
		pkt_tcp(full[v], &s[v], false);
	}
	for (unsigned guest_csum = 0; guest_csum < 2; guest_csum++) {
		up_with(c, guest_csum ? F_GUEST_CSUM : 0);
		struct buf b[4];
		for (unsigned v = 0; v < 4; v++) {
			b[v] = rx_slot(c, v);
			post(c, 0, &b[v], 1, false);
			struct net_offload off = { .flags = NET_OFF_NEEDS_CSUM,
						   .csum_start = (uint16_t)pkt_l4(&s[v]),
						   .csum_offset = 16 };
			assert_int_equal(net_switch_send_offload(probe, partial[v], len[v], &off),
					 1);
		}
		virtio_net_rx(&c->dev);
		for (unsigned v = 0; v < 4; v++) {
			expect_used(c, 0, (uint16_t)v, (uint16_t)v, (uint32_t)(HDR + len[v]));
			if (!guest_csum) {
				expect_received(&b[v], 1, full[v], len[v]);
				continue;
			}
			static uint8_t got[HDR + NET_FRAME_MAX];
			assert_int_equal(gmem_read(&ram.mem, b[v].gpa, got, HDR + len[v]), 0);
			uint8_t h[HDR] = { HDR_F_NEEDS_CSUM,	   0, 0,  0, 0, 0,
					   (uint8_t)pkt_l4(&s[v]), 0, 16, 0, 1, 0 };
			assert_memory_equal(got, h, HDR);
			assert_memory_equal(got + HDR, partial[v], len[v]);
		}
		assert_int_equal(c->dev.stats.rx_frames, 4 * (guest_csum + 1));
	}
	/* a frame whose fields do not fit (only another keel component could queue one: the
	 * switch refuses it from a sender) is dropped and counted, its chain returned empty */
	up(c);
	struct buf b = rx_slot(c, 0);
	post(c, 0, &b, 1, false);
	struct net_offload off = { .flags = NET_OFF_NEEDS_CSUM,
				   .csum_start = 60,
				   .csum_offset = 0 };
	assert_true(net_port_enqueue(&c->dev.port, partial[0], 61, &off));
	virtio_net_rx(&c->dev);
	expect_used(c, 0, 0, 0, 0);
	expect_untouched(b.gpa, RX_SLOT);
	assert_int_equal(c->dev.stats.rx_bad_offload, 1);
}

/* Device a (CSUM) sends to b without GUEST_CSUM and to the probe, then to b with it. */
static void csum_between_devices(void **state)
{
	(void)state;
	struct nic *a = nic[0], *b = nic[1];
	assert_int_equal(net_switch_attach(lan, &b->dev.port), 0);
	up_with(a, F_CSUM | F_GUEST_CSUM);
	static uint8_t f[NET_FRAME_MAX], want[NET_FRAME_MAX];
	struct pkt_spec s = { .dst = broadcast,
			      .src = a->mac,
			      .payload = 1460,
			      .seq = 99,
			      .tcp_flags = PKT_TCP_ACK };
	size_t len = pkt_tcp(f, &s, true);
	pkt_tcp(want, &s, false);
	struct buf t = { TX_AREA, (uint32_t)(HDR + len), false };
	for (unsigned guest_csum = 0; guest_csum < 2; guest_csum++) {
		up_with(b, guest_csum ? F_GUEST_CSUM : 0);
		struct buf r = rx_slot(b, 0);
		post(b, 0, &r, 1, false);
		lay_out_csum(&t, HDR_F_NEEDS_CSUM, 0, 34, 16, f, len);
		transmit(a, &t, 1, false);
		virtio_net_rx(&b->dev);
		expect_used(b, 0, 0, 0, (uint32_t)(HDR + len));
		static uint8_t got[HDR + NET_FRAME_MAX];
		assert_int_equal(gmem_read(&ram.mem, r.gpa, got, HDR + len), 0);
		assert_int_equal(got[0], guest_csum ? HDR_F_NEEDS_CSUM : 0);
		assert_memory_equal(got + HDR, guest_csum ? f : want, len);
		assert_true(pkt_tcp_ok(got + HDR, len, 14, false) == !guest_csum);
		/* the probe's copy still has its checksum open: b's filling was b's own */
		struct net_offload off;
		assert_int_equal(net_port_recv_offload(probe, got, sizeof(got), &off), len);
		assert_memory_equal(got, f, len);
		assert_int_equal(off.flags, NET_OFF_NEEDS_CSUM);
	}
	net_switch_detach(&b->dev.port);
}

/* ---- segmentation offload ---- */

#define TX_BIG 0x60000			/* one frame of up to 64 KiB: [0x60000, 0x70010) */
#define RX_BIG(i) (RX_AREA(i) + 0xF000) /* one 68 KiB receive buffer, over slots 30-63 */
#define RX_BIG_LEN 0x11000

/* The 12-byte header of a frame to cut (num_buffers 0, as a driver sends it). */
static void gso_hdr(uint8_t h[HDR], uint8_t flags, uint8_t type, uint16_t hdr_len, uint16_t mss,
		    uint16_t start, uint16_t off)
{
	memset(h, 0, HDR);
	h[0] = flags;
	h[1] = type;
	h[2] = (uint8_t)hdr_len, h[3] = (uint8_t)(hdr_len >> 8);
	h[4] = (uint8_t)mss, h[5] = (uint8_t)(mss >> 8);
	h[6] = (uint8_t)start, h[7] = (uint8_t)(start >> 8);
	h[8] = (uint8_t)off, h[9] = (uint8_t)(off >> 8);
}

/* Header then frame at TX_BIG as three buffers (header alone, the frame split in two), sent. */
static void transmit_big(struct nic *c, const uint8_t h[HDR], const uint8_t *f, size_t len)
{
	assert_int_equal(gmem_write(&ram.mem, TX_BIG, h, HDR), 0);
	assert_int_equal(gmem_write(&ram.mem, TX_BIG + 0x100, f, len), 0);
	uint32_t first = (uint32_t)(len / 3);
	struct buf b[3] = { { TX_BIG, HDR, false },
			    { TX_BIG + 0x100, first, false },
			    { TX_BIG + 0x100 + first, (uint32_t)(len - first), false } };
	transmit(c, b, 3, true);
}

static struct pkt_spec gso_spec(bool v6, bool vlan, const uint8_t *dst, const uint8_t *src,
				size_t payload)
{
	return (struct pkt_spec){ .v6 = v6,
				  .vlan = vlan,
				  .dst = dst,
				  .src = src,
				  .payload = payload,
				  .seq = 1000,
				  .tcp_flags = PKT_TCP_ACK | PKT_TCP_PSH,
				  .ip_id = 77,
				  .seed = 3 };
}

/* HOST_TSO4/6: frames of up to 64 KiB reach the switch whole, with their gso fields; what was not
 * negotiated, or does not parse, is refused and counted. */
static void transmit_gso(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	up_with(c, F_CSUM | F_HOST_TSO4 | F_HOST_TSO6);
	static uint8_t f[NET_GSO_FRAME_MAX + 1], got[NET_GSO_FRAME_MAX];
	uint8_t h[HDR];
	for (unsigned v = 0; v < 4; v++) {
		struct pkt_spec s = gso_spec(v & 1, v & 2, probe_mac, c->mac, 60000 + v);
		size_t len = pkt_tcp(f, &s, true), l4 = pkt_l4(&s);
		uint16_t mss = (uint16_t)(1514 - 14 - (l4 - pkt_l3(&s)) - 20);
		gso_hdr(h, HDR_F_NEEDS_CSUM, v & 1 ? GSO_TCPV6 : GSO_TCPV4, (uint16_t)(l4 + 20),
			mss, (uint16_t)l4, 16);
		transmit_big(c, h, f, len);
		struct net_offload off;
		assert_int_equal(net_port_recv_offload(probe, got, sizeof(got), &off), len);
		assert_memory_equal(got, f, len);
		assert_int_equal(off.flags, NET_OFF_NEEDS_CSUM);
		assert_int_equal(off.gso_type, v & 1 ? NET_GSO_TCPV6 : NET_GSO_TCPV4);
		assert_int_equal(off.gso_size, mss);
		assert_int_equal(off.csum_start, l4);
		assert_int_equal(off.csum_offset, 16);
	}
	assert_int_equal(c->dev.stats.tx_frames, 4);
	/* hdr_len is a hint (5.1.6.2): a wrong one changes nothing */
	struct pkt_spec s = gso_spec(false, false, probe_mac, c->mac, 5000);
	size_t len = pkt_tcp(f, &s, true);
	gso_hdr(h, HDR_F_NEEDS_CSUM, GSO_TCPV4, 9999, 1448, 34, 16);
	transmit_big(c, h, f, len);
	assert_int_equal(net_port_recv(probe, got, sizeof(got)), len);
	/* refused: no NEEDS_CSUM, ECN, UDP, an MSS of 0 or one past the MTU, TCP's offsets
	 * elsewhere, the other IP version's type */
	static const uint8_t bad[][5] = {
		/* flags, type, mss - 1448 (signed), start - 34, off */
		{ 0, GSO_TCPV4, 0, 0, 16 }, { 1, GSO_TCPV4 | GSO_ECN, 0, 0, 16 },
		{ 1, 3, 0, 0, 16 },	    { 1, 5, 0, 0, 6 },
		{ 1, GSO_TCPV4, 0, 4, 16 }, { 1, GSO_TCPV4, 0, 0, 18 },
		{ 1, GSO_TCPV6, 0, 0, 16 }, { 1, 0x40, 0, 0, 16 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		gso_hdr(h, bad[i][0], bad[i][1], 54, 1448, (uint16_t)(34 + bad[i][3]), bad[i][4]);
		transmit_big(c, h, f, len);
	}
	gso_hdr(h, 1, GSO_TCPV4, 54, 0, 34, 16);
	transmit_big(c, h, f, len);
	gso_hdr(h, 1, GSO_TCPV4, 54, 1461, 34, 16);
	transmit_big(c, h, f, len);
	assert_int_equal(c->dev.stats.tx_bad_header, ARRAY_SIZE(bad) + 2);
	/* longer than any frame to cut */
	memset(f + len, 0, NET_GSO_FRAME_MAX + 1 - len);
	gso_hdr(h, 1, GSO_TCPV4, 54, 1448, 34, 16);
	transmit_big(c, h, f, NET_GSO_FRAME_MAX + 1);
	assert_int_equal(c->dev.stats.tx_bad_length, 1);
	/* only TSO4 negotiated: an IPv6 frame to cut is refused; without TSO a 2000-byte frame
	 * is too long */
	up_with(c, F_CSUM | F_HOST_TSO4);
	s = gso_spec(true, false, probe_mac, c->mac, 5000);
	len = pkt_tcp(f, &s, true);
	gso_hdr(h, 1, GSO_TCPV6, 74, 1440, 54, 16);
	transmit_big(c, h, f, len);
	assert_int_equal(c->dev.stats.tx_bad_header, ARRAY_SIZE(bad) + 3);
	up_with(c, F_CSUM);
	s = gso_spec(false, false, probe_mac, c->mac, 2000);
	len = pkt_tcp(f, &s, true);
	gso_hdr(h, 1, 0, 0, 0, 34, 16);
	transmit_big(c, h, f, len);
	gso_hdr(h, 1, GSO_TCPV4, 54, 1448, 34, 16);
	transmit_big(c, h, f, len);
	assert_int_equal(c->dev.stats.tx_bad_length, 3);
	assert_int_equal(c->dev.stats.tx_frames, 5);
	probe_gets_nothing();
}

/* Segment k of the frame s, as the receiver should get it: checked by the independent sums.
 * open: the driver took GUEST_CSUM, so the checksum comes open (NEEDS_CSUM at TCP's). */
static void expect_segment(const struct buf *b, const struct pkt_spec *s, const uint8_t *whole,
			   uint16_t mss, unsigned k, unsigned nr, bool open)
{
	static uint8_t got[HDR + NET_FRAME_MAX];
	size_t l3 = pkt_l3(s), l4 = pkt_l4(s), hdr = l4 + 20;
	size_t n = k + 1 < nr ? mss : s->payload - (size_t)mss * k;
	assert_int_equal(gmem_read(&ram.mem, b->gpa, got, HDR + hdr + n), 0);
	uint8_t want_hdr[HDR] = { [10] = 1 };
	if (open) {
		want_hdr[0] = HDR_F_NEEDS_CSUM;
		want_hdr[6] = (uint8_t)l4;
		want_hdr[8] = 16;
	}
	assert_memory_equal(got, want_hdr, HDR);
	if (open)
		assert_true(pkt_tcp_open_ok(got + HDR, hdr + n, l3, s->v6));
	else
		assert_true(pkt_tcp_ok(got + HDR, hdr + n, l3, s->v6));
	assert_memory_equal(got + HDR + hdr, whole + hdr + (size_t)mss * k, n);
	assert_int_equal(pkt_get32(got + HDR + pkt_l4(s) + 4), s->seq + (uint32_t)mss * k);
}

/* A frame to cut from the probe: whole to a driver with GUEST_TSO4 (and GUEST_CSUM), in segments
 * to one without, the segments waiting for buffers like frames do. */
static void receive_gso(void **state)
{
	(void)state;
	struct nic *c = nic[0];
	static uint8_t f[NET_GSO_FRAME_MAX], got[HDR + NET_GSO_FRAME_MAX];
	struct pkt_spec s = gso_spec(false, false, c->mac, probe_mac, 20000);
	size_t len = pkt_tcp(f, &s, true);
	struct net_offload off = { .flags = NET_OFF_NEEDS_CSUM,
				   .gso_type = NET_GSO_TCPV4,
				   .gso_size = 1448,
				   .csum_start = 34,
				   .csum_offset = 16 };
	/* whole */
	up_with(c, F_GUEST_CSUM | F_GUEST_TSO4);
	struct buf big = { RX_BIG(0), RX_BIG_LEN, true };
	post(c, 0, &big, 1, false);
	assert_int_equal(net_switch_send_offload(probe, f, len, &off), 1);
	virtio_net_rx(&c->dev);
	expect_used(c, 0, 0, 0, (uint32_t)(HDR + len));
	assert_int_equal(gmem_read(&ram.mem, big.gpa, got, HDR + len), 0);
	uint8_t h[HDR];
	gso_hdr(h, HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16);
	h[10] = 1;
	assert_memory_equal(got, h, HDR);
	assert_memory_equal(got + HDR, f, len);
	/* whole, but into a buffer too small: dropped, counted, the chain back empty */
	struct buf small = rx_slot(c, 0);
	post(c, 0, &small, 1, false);
	assert_int_equal(net_switch_send_offload(probe, f, len, &off), 1);
	virtio_net_rx(&c->dev);
	expect_used(c, 0, 1, 1, 0);
	expect_untouched(small.gpa, RX_SLOT);
	assert_int_equal(c->dev.stats.rx_too_small, 1);
	assert_int_equal(c->dev.stats.rx_gso_split, 0);

	/* cut: for a driver with GUEST_CSUM only, with GUEST_TSO4 but not GUEST_CSUM (which it
	 * needs, 5.1.3.1), and with GUEST_TSO6 only for this IPv4 frame */
	static const uint64_t without[] = { F_GUEST_CSUM, F_GUEST_TSO4,
					    F_GUEST_CSUM | F_GUEST_TSO6 };
	const unsigned nr = (20000 + 1447) / 1448; /* 14 */
	for (unsigned w = 0; w < ARRAY_SIZE(without); w++) {
		up_with(c, without[w]);
		struct buf b[14];
		for (unsigned k = 0; k < 10; k++) {
			b[k] = rx_slot(c, k);
			post(c, 0, &b[k], 1, false);
		}
		assert_int_equal(net_switch_send_offload(probe, f, len, &off), 1);
		virtio_net_rx(&c->dev);
		assert_int_equal(vq_used_idx(&c->q[0]), 10);
		for (unsigned k = 0; k < 10; k++) {
			expect_used(c, 0, (uint16_t)k, (uint16_t)k,
				    (uint32_t)(HDR + 54 + (k + 1 < nr ? 1448 : 20000 - 1448 * k)));
			expect_segment(&b[k], &s, f, 1448, k, nr, without[w] & F_GUEST_CSUM);
		}
		assert_int_equal(port_queued(&c->dev.port), 0);
		/* the rest wait for buffers: the driver's next notification brings them */
		for (unsigned k = 10; k < nr; k++) {
			b[k] = rx_slot(c, k);
			post(c, 0, &b[k], 1, false);
		}
		notify_queue(c, 0);
		assert_int_equal(vq_used_idx(&c->q[0]), nr);
		for (unsigned k = 10; k < nr; k++)
			expect_segment(&b[k], &s, f, 1448, k, nr, without[w] & F_GUEST_CSUM);
		assert_int_equal(c->dev.stats.rx_gso_split, w + 1);
		assert_int_equal(c->dev.stats.rx_gso_segments, nr * (w + 1));
	}
	assert_int_equal(c->dev.stats.rx_frames, 1 + nr * ARRAY_SIZE(without));
	assert_int_equal(c->dev.stats.rx_bad_offload, 0);
}

/* Device a (CSUM, HOST_TSO4/6) sends 64 KiB frames to b: whole with GUEST_TSO4/6, in segments
 * without, IPv4 and IPv6. */
static void gso_between_devices(void **state)
{
	(void)state;
	struct nic *a = nic[0], *b = nic[1];
	assert_int_equal(net_switch_attach(lan, &b->dev.port), 0);
	up_with(a, F_CSUM | F_HOST_TSO4 | F_HOST_TSO6);
	static uint8_t f[NET_GSO_FRAME_MAX], got[HDR + NET_GSO_FRAME_MAX];
	for (unsigned v = 0; v < 2; v++) {
		struct pkt_spec s = gso_spec(v, false, b->mac, a->mac, 64000);
		size_t len = pkt_tcp(f, &s, true), l4 = pkt_l4(&s);
		uint16_t mss = v ? 1440 : 1460;
		uint8_t h[HDR];
		gso_hdr(h, HDR_F_NEEDS_CSUM, v ? GSO_TCPV6 : GSO_TCPV4, (uint16_t)(l4 + 20), mss,
			(uint16_t)l4, 16);
		/* whole */
		up_with(b, F_GUEST_CSUM | F_GUEST_TSO4 | F_GUEST_TSO6);
		struct buf r = { RX_BIG(1), RX_BIG_LEN, true };
		post(b, 0, &r, 1, false);
		transmit_big(a, h, f, len);
		virtio_net_rx(&b->dev);
		expect_used(b, 0, 0, 0, (uint32_t)(HDR + len));
		assert_int_equal(gmem_read(&ram.mem, r.gpa, got, HDR + len), 0);
		h[10] = 1;
		assert_memory_equal(got, h, HDR);
		assert_memory_equal(got + HDR, f, len);
		/* cut: 64000 / mss segments, and a last one; their checksums open for IPv4 (the
		 * driver takes GUEST_CSUM), summed by keel for IPv6 (it does not) */
		up_with(b, v ? 0 : F_GUEST_CSUM);
		unsigned nr = (64000 + mss - 1) / mss;
		assert_true(nr <= 46); /* and the queue has QSIZE = 64 entries */
		struct buf seg[46];
		for (unsigned k = 0; k < nr; k++) {
			seg[k] = (struct buf){ RX_AREA(1) + 0x600 * (uint64_t)k, 0x600, true };
			post(b, 0, &seg[k], 1, false);
		}
		transmit_big(a, h, f, len);
		virtio_net_rx(&b->dev);
		assert_int_equal(vq_used_idx(&b->q[0]), nr);
		for (unsigned k = 0; k < nr; k++)
			expect_segment(&seg[k], &s, f, mss, k, nr, !v);
		assert_int_equal(b->msgs[1], 1);
	}
	assert_int_equal(a->dev.stats.tx_frames, 4);
	net_switch_detach(&b->dev.port);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(config_space),
		T(features),
		T(bad_macs),
		T(transmit_layouts),
		T(transmit_batch),
		T(transmit_malformed),
		T(transmit_spoofed),
		T(transmit_detached),
		T(receive_layouts),
		T(receive_mergeable),
		T(receive_mergeable_malformed),
		T(receive_waits_for_buffers),
		T(receive_malformed),
		T(receive_broken_ring),
		T(no_bus_master),
		T(two_devices),
		T(full_port_ring),
		T(receive_full_queue),
		T(transmit_csum),
		T(receive_csum),
		T(csum_between_devices),
		T(transmit_gso),
		T(receive_gso),
		T(gso_between_devices),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
