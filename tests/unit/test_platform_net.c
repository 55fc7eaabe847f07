/* keel.cfg's `net` through the real platform code (vdev/platform.c): two VMs' platforms, each with
 * a virtio-net device on one switch, driven through ECAM and BAR 0 as a guest driver does (MSI-X:
 * vector 0x40 receiveq, 0x41 transmitq, to vCPU 0's local APIC). Checked: the nets' PCI slots
 * after the disks; the MAC the platform was given; a frame from one guest's transmit queue
 * kicking the other VM's vCPU 0 without moving anything, then platform_net_rx putting it into the
 * guest's receive buffer and raising its interrupt; a frame waiting for receive buffers; a
 * restart (platform_fini, platform_init) leaving the switch and joining it again with a fresh
 * device; platform_init refusing a bad net and leaving no port attached when a switch is full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "core/guest_layout.h"
#include "io/blk_mem.h"
#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "tests/support/vq_driver.h"
#include "vdev/platform.h"

/* virtio_pci_common_cfg (virtio 1.2, 4.1.4.3) */
#define GFSELECT 8
#define GF 12
#define MSIX_CONFIG 16
#define STATUS 20
#define Q_SELECT 22
#define Q_SIZE 24
#define Q_MSIX 26
#define Q_ENABLE 28
#define Q_DESC 32
#define Q_DRIVER 40
#define Q_DEVICE 48
#define NO_VECTOR 0xFFFF

#define F_MTU (1ull << 3)
#define F_MAC (1ull << 5)
#define F_STATUS (1ull << 16)
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)
#define HDR VIRTIO_NET_HDR_LEN

#define RAM_SIZE 0x40000
#define RINGS(q) (0x1000 + 0x1000 * (q)) /* descriptors +0, available +0x400, used +0x600 */
#define TX_BUF 0x8000
#define RX_AREA 0x10000
#define RX_SLOT 0x800
#define QSIZE 16
#define VEC_RX 0x40
#define VEC_TX 0x41
#define FILL 0xCC

static const struct vq_range layout[] = { { 0, RAM_SIZE } };

/* One VM as the platform sees it: its environment, RAM, platform and net device. */
struct side {
	struct fake_vm vm;
	struct vq_ram ram;
	struct platform plat;
	struct virtio_net *dev; /* the caller's storage, as core/vm_io.c allocates it */
	struct platform_net net;
	struct blk_mem disk;
	uint8_t image[4096];
	unsigned nr_disks, slot;
	uint64_t bar0, notify_at;
	struct vq_drv q[2];
	uint16_t next[2];
};

static struct net_registry *reg;
static struct net_switch *lan;
static struct side *a, *b;

/* ---- the guest's view, through the platform ---- */

static uint64_t rd(struct side *s, uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(platform_mmio(&s->plat, 0, gpa, size, false, &v), PLATFORM_OK);
	return v;
}

static void wr(struct side *s, uint64_t gpa, unsigned size, uint64_t v)
{
	assert_int_equal(platform_mmio(&s->plat, 0, gpa, size, true, &v), PLATFORM_OK);
}

static uint64_t ecam(unsigned slot, unsigned off)
{
	return GUEST_PCI_ECAM_BASE + ((uint64_t)slot << 15 | off);
}

static uint32_t cfg_rd(struct side *s, unsigned off, unsigned size)
{
	return (uint32_t)rd(s, ecam(s->slot, off), size);
}

static void cfg_wr(struct side *s, unsigned off, unsigned size, uint32_t v)
{
	wr(s, ecam(s->slot, off), size, v);
}

/* BAR 0, the notification addresses and the device configuration's MAC, from the capabilities */
static void find_caps(struct side *s, uint64_t *devcfg, unsigned *msix)
{
	uint32_t lo = cfg_rd(s, PCI_BAR0, 4), hi = cfg_rd(s, PCI_BAR0 + 4, 4);
	s->bar0 = (uint64_t)hi << 32 | (lo & ~0xFull);
	*devcfg = 0;
	*msix = 0;
	for (unsigned at = cfg_rd(s, PCI_CAP_PTR, 1), n = 0; at; at = cfg_rd(s, at + 1, 1)) {
		assert_true(++n < 48);
		if (cfg_rd(s, at, 1) == PCI_CAP_MSIX)
			*msix = at;
		if (cfg_rd(s, at, 1) != PCI_CAP_VENDOR)
			continue;
		unsigned type = cfg_rd(s, at + 3, 1);
		uint32_t off = cfg_rd(s, at + 8, 4);
		if (type == 2)
			s->notify_at = s->bar0 + off;
		if (type == 4)
			*devcfg = s->bar0 + off;
	}
	assert_int_not_equal(*devcfg, 0);
	assert_int_not_equal(*msix, 0);
}

/* virtio 3.1.1 as a modern driver: features, MSI-X to vCPU 0 (receiveq VEC_RX, transmitq
 * VEC_TX), both queues, DRIVER_OK, bus mastering. The device configuration's MAC must be the
 * platform's. */
static void bring_up(struct side *s)
{
	uint64_t devcfg;
	unsigned msix;
	find_caps(s, &devcfg, &msix);
	for (unsigned i = 0; i < NET_MAC_LEN; i++)
		assert_int_equal(rd(s, devcfg + i, 1), s->net.mac[i]);
	for (unsigned q = 0; q < 2; q++) {
		uint64_t r = RINGS(q);
		assert_int_equal(gmem_fill(&s->ram.mem, r, 0, 0x1000), 0);
		s->q[q] = (struct vq_drv){ &s->ram.mem, r, r + 0x400, r + 0x600, QSIZE, 0 };
		s->next[q] = 0;
	}
	uint64_t features = F_VERSION_1 | F_MAC | F_STATUS | F_MTU;
	wr(s, s->bar0 + STATUS, 1, 0);
	wr(s, s->bar0 + STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(s, s->bar0 + GFSELECT, 4, 0);
	wr(s, s->bar0 + GF, 4, (uint32_t)features);
	wr(s, s->bar0 + GFSELECT, 4, 1);
	wr(s, s->bar0 + GF, 4, features >> 32);
	uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	wr(s, s->bar0 + STATUS, 1, st);
	assert_int_equal(rd(s, s->bar0 + STATUS, 1), st);
	cfg_wr(s, PCI_COMMAND, 2, cfg_rd(s, PCI_COMMAND, 2) | PCI_CMD_MASTER);
	cfg_wr(s, msix + 2, 2, 0x8000);
	for (unsigned v = 0; v < 2; v++) {
		uint64_t e = s->bar0 + VIRTIO_MSIX_TABLE_OFF + 16 * v;
		wr(s, e, 4, 0xFEE00000); /* APIC ID 0, physical */
		wr(s, e + 4, 4, 0);
		wr(s, e + 8, 4, v ? VEC_TX : VEC_RX); /* fixed, edge */
		wr(s, e + 12, 4, 0);
	}
	wr(s, s->bar0 + MSIX_CONFIG, 2, NO_VECTOR);
	for (unsigned q = 0; q < 2; q++) {
		wr(s, s->bar0 + Q_SELECT, 2, q);
		wr(s, s->bar0 + Q_SIZE, 2, QSIZE);
		wr(s, s->bar0 + Q_DESC, 8, s->q[q].desc);
		wr(s, s->bar0 + Q_DRIVER, 8, s->q[q].avail);
		wr(s, s->bar0 + Q_DEVICE, 8, s->q[q].used);
		wr(s, s->bar0 + Q_MSIX, 2, q);
		wr(s, s->bar0 + Q_ENABLE, 2, 1);
	}
	wr(s, s->bar0 + STATUS, 1, st | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(s, s->bar0 + STATUS, 1), st | VIRTIO_STATUS_DRIVER_OK);
}

static void notify_queue(struct side *s, unsigned q)
{
	wr(s, s->notify_at + 4 * q, 2, q);
}

/* The vector vCPU 0 takes next (acknowledged), or -1. */
static int take_interrupt(struct side *s)
{
	int v = platform_pending_interrupt(&s->plat, 0);
	if (v >= 0) {
		platform_ack_interrupt(&s->plat, 0, v);
		wr(s, 0xFEE000B0, 4, 0); /* EOI */
	}
	return v;
}

/* ---- building the two VMs ---- */

static void init_side(struct side *s, const char *name, uint8_t last, unsigned nr_disks)
{
	struct platform_config cfg;
	platform_default_config(&cfg);
	s->nr_disks = nr_disks;
	if (nr_disks) {
		blk_mem_init(&s->disk, s->image, sizeof(s->image), false);
		static struct blk_backend *disks[2];
		disks[0] = &s->disk.blk;
		cfg.disks = disks;
		cfg.nr_disks = nr_disks;
	}
	s->net = (struct platform_net){ .dev = s->dev, .sw = lan };
	const uint8_t mac[NET_MAC_LEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, last };
	memcpy(s->net.mac, mac, NET_MAC_LEN);
	cfg.nets = &s->net;
	cfg.nr_nets = 1;
	s->vm.env.vm_name = name;
	assert_int_equal(platform_init(&s->plat, &s->vm.env, &cfg), 0);
	s->slot = PLATFORM_SLOT_DISK0 + nr_disks;
}

static struct side *new_side(const char *name, uint8_t last, unsigned nr_disks)
{
	struct side *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	fake_vm_init(&s->vm);
	assert_int_equal(vq_ram_init(&s->ram, layout, ARRAY_SIZE(layout)), 0);
	s->vm.env.mem = &s->ram.mem;
	s->dev = calloc(1, sizeof(*s->dev));
	assert_non_null(s->dev);
	init_side(s, name, last, nr_disks);
	return s;
}

static void free_side(struct side *s)
{
	if (!s)
		return;
	platform_fini(&s->plat);
	free(s->dev);
	vq_ram_free(&s->ram);
	free(s);
}

static unsigned lan_ports(void)
{
	struct net_switch_stats st;
	net_switch_get_stats(lan, &st);
	return st.ports;
}

static int setup(void **state)
{
	(void)state;
	host_log_clear();
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -1;
	net_registry_init(reg);
	lan = net_switch_find_or_create(reg, "lan");
	a = new_side("a", 0x0a, 1); /* vda at 00:02.0, the net at 00:03.0 */
	b = new_side("b", 0x0b, 0); /* the net at 00:02.0 */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_side(a);
	free_side(b);
	a = b = NULL;
	free(reg);
	reg = NULL;
	return 0;
}

/* ---- frames ---- */

static size_t make_frame(uint8_t *f, const uint8_t dst[NET_MAC_LEN], const uint8_t src[NET_MAC_LEN],
			 size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed * 31 + i * 3);
	memcpy(f, dst, NET_MAC_LEN);
	memcpy(f + NET_ETH_SRC_OFFSET, src, NET_MAC_LEN);
	f[12] = 0x08, f[13] = 0x00;
	return len;
}

static const uint8_t broadcast[NET_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* The guest of s sends one frame: header and frame in one buffer; the chain completes at once. */
static void guest_send(struct side *s, const uint8_t *f, size_t len)
{
	struct vq_drv *d = &s->q[1];
	uint8_t buf[HDR + NET_FRAME_MAX] = { 0 };
	memcpy(buf + HDR, f, len);
	assert_int_equal(gmem_write(&s->ram.mem, TX_BUF, buf, HDR + len), 0);
	uint16_t head = s->next[1]++ % QSIZE, used = vq_used_idx(d);
	vq_desc(d, d->desc, head, TX_BUF, (uint32_t)(HDR + len), 0, 0);
	vq_publish(d, head);
	notify_queue(s, 1);
	assert_int_equal(vq_used_idx(d), (uint16_t)(used + 1));
	assert_int_equal(take_interrupt(s), VEC_TX);
}

/* The guest of s gives n receive buffers of RX_SLOT bytes (slots k0 ...), filled with FILL. */
static void guest_give_rx(struct side *s, unsigned k0, unsigned n, bool notify)
{
	struct vq_drv *d = &s->q[0];
	for (unsigned k = k0; k < k0 + n; k++) {
		uint64_t gpa = RX_AREA + (uint64_t)RX_SLOT * k;
		assert_int_equal(gmem_fill(&s->ram.mem, gpa, FILL, RX_SLOT), 0);
		uint16_t head = s->next[0]++ % QSIZE;
		vq_desc(d, d->desc, head, gpa, RX_SLOT, VIRTQ_DESC_F_WRITE, 0);
		vq_publish(d, head);
	}
	if (notify)
		notify_queue(s, 0);
}

/* Receive buffer slot k of s holds the header (num_buffers 1) and f, and the used ring says so
 * at index i. */
static void expect_received(struct side *s, uint16_t i, unsigned k, const uint8_t *f, size_t len)
{
	uint32_t id, ulen;
	vq_used_elem(&s->q[0], i, &id, &ulen);
	assert_int_equal(id, k % QSIZE);
	assert_int_equal(ulen, HDR + len);
	uint8_t got[HDR + NET_FRAME_MAX + 1];
	assert_int_equal(
		gmem_read(&s->ram.mem, RX_AREA + (uint64_t)RX_SLOT * k, got, HDR + len + 1), 0);
	static const uint8_t hdr[HDR] = { [10] = 1 };
	assert_memory_equal(got, hdr, HDR);
	assert_memory_equal(got + HDR, f, len);
	assert_int_equal(got[HDR + len], FILL);
}

/* ---- the cases ---- */

/* Nets follow the disks on bus 0, each with the MAC it was given, its port on its switch. */
static void slots_and_macs(void **state)
{
	(void)state;
	assert_int_equal(rd(a, ecam(PLATFORM_SLOT_DISK0, 0), 4), 0x10421AF4); /* vda */
	assert_int_equal(rd(a, ecam(PLATFORM_SLOT_DISK0 + 1, 0), 4), 0x10411AF4);
	assert_int_equal(rd(b, ecam(PLATFORM_SLOT_DISK0, 0), 4), 0x10411AF4);
	assert_int_equal(rd(b, ecam(PLATFORM_SLOT_DISK0 + 1, 0), 4), 0xFFFFFFFF);
	assert_int_equal(lan_ports(), 2);
	assert_ptr_equal(a->dev->port.sw, lan);
	bring_up(a);
	bring_up(b);
}

/* A's guest broadcasts: B's vCPU 0 is kicked, nothing moves until platform_net_rx (under B's
 * lock, in keel), which fills B's buffer and interrupts B's vCPU 0. B answers A by unicast. */
static void frame_between_two_vms(void **state)
{
	(void)state;
	bring_up(a);
	bring_up(b);
	guest_give_rx(b, 0, 4, true);
	assert_int_equal(b->vm.kicks, 0);
	uint8_t f[NET_FRAME_MAX];
	size_t len = make_frame(f, broadcast, a->net.mac, 98, 1);
	guest_send(a, f, len);
	assert_int_equal(a->dev->stats.tx_frames, 1);
	assert_int_equal(b->vm.kicks, 1); /* (A's own kicks are its interrupts reaching its APIC) */
	assert_true(virtio_net_rx_pending(b->dev));
	assert_int_equal(vq_used_idx(&b->q[0]), 0); /* the sender's CPU moved nothing */
	assert_int_equal(platform_pending_interrupt(&b->plat, 0), -1);

	platform_net_rx(&b->plat);
	assert_false(virtio_net_rx_pending(b->dev));
	assert_int_equal(vq_used_idx(&b->q[0]), 1);
	expect_received(b, 0, 0, f, len);
	assert_int_equal(take_interrupt(b), VEC_RX);
	assert_int_equal(b->dev->stats.rx_frames, 1);
	assert_int_equal(b->dev->stats.rx_bytes, len);
	platform_net_rx(&b->plat); /* nothing pending: nothing more */
	assert_int_equal(vq_used_idx(&b->q[0]), 1);
	assert_int_equal(take_interrupt(b), -1);

	/* B answers A, whose guest has no receive buffers yet: the frame waits in A's port */
	unsigned kicks = a->vm.kicks;
	len = make_frame(f, a->net.mac, b->net.mac, 60, 2);
	guest_send(b, f, len);
	assert_int_equal(a->vm.kicks, kicks + 1);
	platform_net_rx(&a->plat);
	assert_int_equal(vq_used_idx(&a->q[0]), 0);
	assert_int_equal(take_interrupt(a), -1);
	/* the driver's receive-queue notification takes it (the vCPU's exit, under the lock) */
	guest_give_rx(a, 0, 2, true);
	assert_int_equal(vq_used_idx(&a->q[0]), 1);
	expect_received(a, 0, 0, f, len);
	assert_int_equal(take_interrupt(a), VEC_RX);
	assert_int_equal(a->dev->stats.rx_frames, 1);
}

/* A restart: platform_fini takes B off the switch (its queued frame flushed), A's frames reach
 * nobody and kick nobody; platform_init puts a fresh device on again, whose guest then
 * receives. platform_fini twice, or on a zeroed platform, does nothing. */
static void restart_leaves_and_joins(void **state)
{
	(void)state;
	bring_up(a);
	bring_up(b);
	uint8_t f[NET_FRAME_MAX];
	size_t len = make_frame(f, broadcast, a->net.mac, 64, 3);
	guest_send(a, f, len);		  /* queued for B, which has no buffers */
	assert_int_equal(b->vm.kicks, 1); /* B's guest took no interrupt yet: this is the net's */
	platform_fini(&b->plat);
	platform_fini(&b->plat);
	assert_int_equal(lan_ports(), 1);
	assert_null(b->dev->port.sw);
	struct net_port_stats ps;
	net_port_get_stats(&b->dev->port, &ps);
	assert_int_equal(ps.rx_flushed, 1);
	assert_int_equal(ps.rx_queued, 0);
	guest_send(a, f, len);
	assert_int_equal(b->vm.kicks, 1);
	assert_int_equal(a->dev->stats.tx_frames, 2);

	init_side(b, "b", 0x0b, 0);
	assert_int_equal(lan_ports(), 2);
	assert_int_equal(b->dev->stats.rx_frames, 0); /* the new life's device */
	bring_up(b);
	guest_give_rx(b, 0, 1, true);
	len = make_frame(f, broadcast, a->net.mac, 70, 4);
	guest_send(a, f, len);
	assert_int_equal(b->vm.kicks, 2);
	platform_net_rx(&b->plat);
	expect_received(b, 0, 0, f, len);

	static struct platform zeroed;
	platform_fini(&zeroed);
}

/* A net platform_init cannot build, or a switch without room: -1, no port left attached. */
static void init_refuses(void **state)
{
	(void)state;
	struct side *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	fake_vm_init(&c->vm);
	assert_int_equal(vq_ram_init(&c->ram, layout, ARRAY_SIZE(layout)), 0);
	c->vm.env.mem = &c->ram.mem;
	struct virtio_net *devs = calloc(2, sizeof(*devs));
	assert_non_null(devs);
	struct platform_net nets[PLATFORM_MAX_NETS + 1];
	for (unsigned i = 0; i < ARRAY_SIZE(nets); i++) {
		nets[i] = (struct platform_net){ .dev = &devs[i % 2], .sw = lan };
		const uint8_t mac[NET_MAC_LEN] = { 0x02, 0, 0, 0, 1, (uint8_t)i };
		memcpy(nets[i].mac, mac, NET_MAC_LEN);
	}
	struct platform_config cfg;
	platform_default_config(&cfg);
	cfg.nets = nets;
	cfg.nr_nets = PLATFORM_MAX_NETS + 1;
	assert_int_equal(platform_init(&c->plat, &c->vm.env, &cfg), -1);
	cfg.nets = NULL;
	cfg.nr_nets = 1;
	assert_int_equal(platform_init(&c->plat, &c->vm.env, &cfg), -1);
	cfg.nets = nets;
	nets[0].mac[0] = 0x01; /* multicast */
	assert_int_equal(platform_init(&c->plat, &c->vm.env, &cfg), -1);
	nets[0].mac[0] = 0x02;
	nets[0].sw = NULL;
	assert_int_equal(platform_init(&c->plat, &c->vm.env, &cfg), -1);
	assert_int_equal(lan_ports(), 2);

	/* "full" has one free slot: the first net joins it, the second cannot, both end detached */
	struct net_switch *full = net_switch_find_or_create(reg, "full");
	assert_non_null(full);
	static struct net_port fillers[NET_SWITCH_MAX_PORTS - 1];
	for (unsigned i = 0; i < ARRAY_SIZE(fillers); i++) {
		net_port_init(&fillers[i], NULL, NULL);
		assert_int_equal(net_switch_attach(full, &fillers[i]), 0);
	}
	nets[0].sw = nets[1].sw = full;
	cfg.nr_nets = 2;
	assert_int_equal(platform_init(&c->plat, &c->vm.env, &cfg), -1);
	assert_null(devs[0].port.sw);
	assert_null(devs[1].port.sw);
	struct net_switch_stats st;
	net_switch_get_stats(full, &st);
	assert_int_equal(st.ports, NET_SWITCH_MAX_PORTS - 1);
	/* with room for both, both join, in two slots after the (absent) disks */
	net_switch_detach(&fillers[0]);
	assert_int_equal(platform_init(&c->plat, &c->vm.env, &cfg), 0);
	assert_ptr_equal(devs[0].port.sw, full);
	assert_ptr_equal(devs[1].port.sw, full);
	assert_int_equal(rd(c, ecam(PLATFORM_SLOT_DISK0, 0), 4), 0x10411AF4);
	assert_int_equal(rd(c, ecam(PLATFORM_SLOT_DISK0 + 1, 0), 4), 0x10411AF4);
	platform_fini(&c->plat);
	net_switch_get_stats(full, &st);
	assert_int_equal(st.ports, NET_SWITCH_MAX_PORTS - 2);
	for (unsigned i = 1; i < ARRAY_SIZE(fillers); i++)
		net_switch_detach(&fillers[i]);
	free(devs);
	vq_ram_free(&c->ram);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(slots_and_macs, setup, teardown),
		cmocka_unit_test_setup_teardown(frame_between_two_vms, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_leaves_and_joins, setup, teardown),
		cmocka_unit_test_setup_teardown(init_refuses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
