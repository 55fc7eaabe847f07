/* vdev/virtio/virtio_pci.c with virtio-rng (vdev/virtio/rng.c) on a VM's PCI bus, driven the
 * way Linux's virtio_pci_modern does: through ECAM and BAR 0 only. The capability list, feature
 * negotiation and the status machine, a queue set up with MSI-X, buffers filled and used with
 * an interrupt message; INTx with the ISR read-to-clear; FEATURES_OK refused; broken rings and
 * chains setting DEVICE_NEEDS_RESET with a log line; notifications before DRIVER_OK or without
 * bus mastering doing nothing; reset; the VIRTIO_PCI_CAP_PCI_CFG window; MSI-X vectors out of
 * range; rng's cap on one request. Guest RAM is two extents, each its own allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/rng.h"

#define SLOT 5
#define INTX_GSI (PCI_INTX_GSI_BASE + (SLOT + 0) % 4) /* INTA of slot 5 */

/* virtio_pci_common_cfg (virtio 1.2, 4.1.4.3) */
#define DFSELECT 0
#define DF 4
#define GFSELECT 8
#define GF 12
#define MSIX_CONFIG 16
#define NUM_QUEUES 18
#define STATUS 20
#define CFG_GENERATION 21
#define Q_SELECT 22
#define Q_SIZE 24
#define Q_MSIX 26
#define Q_ENABLE 28
#define Q_NOTIFY_OFF 30
#define Q_DESC 32
#define Q_DRIVER 40
#define Q_DEVICE 48

#define S_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRIVER VIRTIO_STATUS_DRIVER
#define S_FEATURES_OK VIRTIO_STATUS_FEATURES_OK
#define S_DRIVER_OK VIRTIO_STATUS_DRIVER_OK
#define S_NEEDS_RESET VIRTIO_STATUS_NEEDS_RESET

#define F_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)

/* guest RAM [0, 0x10000) and [0x10000, 0x20000): two host blocks */
static const struct vq_range layout[] = { { 0, 0x10000 }, { 0x10000, 0x10000 } };
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x8000
#define INDIR 0x6000

static struct fake_vm vm;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct virtio_rng rng;
static struct vq_ram ram;
static struct vq_drv drv;

static struct pci_msg msgs[64];
static unsigned nr_msgs;

static uint32_t rnd_counter;
static unsigned rnd_calls;
static size_t rnd_largest;

static void record_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx;
	if (nr_msgs < ARRAY_SIZE(msgs))
		msgs[nr_msgs] = *m;
	nr_msgs++;
}

/* A deterministic entropy source: byte k of all it ever gave is rnd_byte(k). */
static uint8_t rnd_byte(uint32_t k)
{
	return (uint8_t)(k * 131 + 17 + (k >> 8));
}

static void fake_random(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	uint8_t *b = buf;
	for (size_t i = 0; i < n; i++)
		b[i] = rnd_byte(rnd_counter++);
	rnd_calls++;
	if (n > rnd_largest)
		rnd_largest = n;
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

static uint32_t cfg_rd(unsigned reg, unsigned size)
{
	return (uint32_t)mem_rd(GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | reg), size);
}

static void cfg_wr(unsigned reg, unsigned size, uint32_t v)
{
	mem_wr(GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | reg), size, v);
}

/* The virtio capabilities as virtio_pci_modern's probe finds them (4.1.4). */
struct vcap {
	unsigned at; /* config space offset, 0: absent */
	unsigned len, bar;
	uint32_t offset, length, mult;
};
static struct vcap caps[6]; /* by cfg_type */
static unsigned msix_cap;
static uint64_t bar0;

static void find_caps(void)
{
	memset(caps, 0, sizeof(caps));
	msix_cap = 0;
	assert_true(cfg_rd(PCI_STATUS, 2) & PCI_STS_CAP_LIST);
	unsigned seen = 0;
	for (unsigned at = cfg_rd(PCI_CAP_PTR, 1); at; at = cfg_rd(at + 1, 1)) {
		assert_true(at >= 0x40 && at < 256 && !(at & 3));
		assert_true(++seen < 48); /* the list ends */
		unsigned id = cfg_rd(at, 1);
		if (id == PCI_CAP_MSIX) {
			msix_cap = at;
			continue;
		}
		assert_int_equal(id, PCI_CAP_VENDOR);
		unsigned type = cfg_rd(at + 3, 1);
		assert_true(type >= 1 && type <= 5);
		assert_int_equal(caps[type].at, 0); /* one of each */
		caps[type] = (struct vcap){ at,
					    cfg_rd(at + 2, 1),
					    cfg_rd(at + 4, 1),
					    cfg_rd(at + 8, 4),
					    cfg_rd(at + 12, 4),
					    type == 2 ? cfg_rd(at + 16, 4) : 0 };
	}
	uint32_t lo = cfg_rd(PCI_BAR0, 4), hi = cfg_rd(PCI_BAR0 + 4, 4);
	assert_int_equal(lo & 7, 4); /* memory, 64-bit */
	bar0 = (uint64_t)hi << 32 | (lo & ~0xFull);
}

static uint64_t common(unsigned off)
{
	return bar0 + caps[1].offset + off;
}

static uint64_t cc_rd(unsigned off, unsigned size)
{
	return mem_rd(common(off), size);
}

static void cc_wr(unsigned off, unsigned size, uint64_t v)
{
	mem_wr(common(off), size, v);
}

static uint8_t status(void)
{
	return (uint8_t)cc_rd(STATUS, 1);
}

static void set_status(uint8_t s)
{
	cc_wr(STATUS, 1, s);
}

static uint64_t device_features(void)
{
	cc_wr(DFSELECT, 4, 0);
	uint64_t lo = cc_rd(DF, 4);
	cc_wr(DFSELECT, 4, 1);
	return lo | cc_rd(DF, 4) << 32;
}

static void set_driver_features(uint64_t f)
{
	cc_wr(GFSELECT, 4, 0);
	cc_wr(GF, 4, (uint32_t)f);
	cc_wr(GFSELECT, 4, 1);
	cc_wr(GF, 4, f >> 32);
}

static uint64_t driver_features(void)
{
	cc_wr(GFSELECT, 4, 0);
	uint64_t lo = cc_rd(GF, 4);
	cc_wr(GFSELECT, 4, 1);
	return lo | cc_rd(GF, 4) << 32;
}

/* vp_iowrite64_twopart: low half, then high half */
static void cc_wr64(unsigned off, uint64_t v)
{
	cc_wr(off, 4, (uint32_t)v);
	cc_wr(off + 4, 4, v >> 32);
}

static uint64_t cc_rd64(unsigned off)
{
	return cc_rd(off, 4) | cc_rd(off + 4, 4) << 32;
}

static uint64_t notify_addr(unsigned q)
{
	cc_wr(Q_SELECT, 2, q);
	return bar0 + caps[2].offset + cc_rd(Q_NOTIFY_OFF, 2) * caps[2].mult;
}

static void notify(unsigned q)
{
	mem_wr(notify_addr(q), 2, q); /* vp_notify writes the queue index */
}

static uint8_t isr(void)
{
	return (uint8_t)mem_rd(bar0 + caps[3].offset, 1);
}

/* MSI-X vector v: its message address and data, unmasked */
static void msix_vector(unsigned v, uint32_t addr, uint32_t data)
{
	uint64_t e = bar0 + VIRTIO_MSIX_TABLE_OFF + 16 * v;
	mem_wr(e, 4, addr);
	mem_wr(e + 4, 4, 0);
	mem_wr(e + 8, 4, data);
	mem_wr(e + 12, 4, 0);
}

static void msix_enable(bool on)
{
	cfg_wr(msix_cap + 2, 2, on ? 0x8000 : 0);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	if (vq_ram_init(&ram, layout, ARRAY_SIZE(layout)))
		return -1;
	vm.env.mem = &ram.mem;
	vm.env.random = fake_random;
	rnd_counter = 0;
	rnd_calls = 0;
	rnd_largest = 0;
	nr_msgs = 0;
	host_log_clear();
	io_bus_init(&io, &vm.env);
	mmio_bus_init(&mmio, &vm.env);
	if (pci_bus_init(&bus, &vm.env, &io, &mmio, &windows, record_msg, NULL) ||
	    virtio_rng_init(&rng, &vm.env) || pci_bus_plug(&bus, SLOT, &rng.vpci.pci) ||
	    pci_bus_assign(&bus))
		return -1;
	find_caps();
	drv = (struct vq_drv){ &ram.mem, DESC, AVAIL, USED, 16, 0 };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vq_ram_free(&ram);
	return 0;
}

/* virtio 3.1.1, as virtio_dev_probe and vp_modern_find_vqs do it: reset, ACKNOWLEDGE, DRIVER,
 * features, FEATURES_OK (checked), the queue (size 16, rings at DESC/AVAIL/USED, MSI-X vector
 * qvec), DRIVER_OK. Bus mastering on, as pci_set_master does. */
static void bring_up(uint64_t features, bool with_msix, uint16_t qvec)
{
	/* fresh rings, as the driver allocates them */
	memset(ram.ext[0].hva + DESC, 0, USED + 0x1000 - DESC);
	drv.avail_idx = 0;
	set_status(0);
	assert_int_equal(status(), 0);
	set_status(S_ACK);
	set_status(S_ACK | S_DRIVER);
	assert_int_equal(device_features() & features, features);
	set_driver_features(features);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	assert_int_equal(status(), S_ACK | S_DRIVER | S_FEATURES_OK);
	cfg_wr(PCI_COMMAND, 2, cfg_rd(PCI_COMMAND, 2) | PCI_CMD_MASTER);
	if (with_msix) {
		msix_enable(true);
		msix_vector(0, 0xFEE00000, 0x40);
		msix_vector(1, 0xFEE01000, 0x41);
		cc_wr(MSIX_CONFIG, 2, 0);
		assert_int_equal(cc_rd(MSIX_CONFIG, 2), 0);
	}
	cc_wr(Q_SELECT, 2, 0);
	assert_int_equal(cc_rd(Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	cc_wr(Q_SIZE, 2, 16);
	cc_wr64(Q_DESC, DESC);
	cc_wr64(Q_DRIVER, AVAIL);
	cc_wr64(Q_DEVICE, USED);
	if (with_msix) {
		cc_wr(Q_MSIX, 2, qvec);
		assert_int_equal(cc_rd(Q_MSIX, 2), qvec);
	}
	cc_wr(Q_ENABLE, 2, 1);
	assert_int_equal(cc_rd(Q_ENABLE, 2), 1);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	assert_int_equal(status(), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* One writable buffer of len bytes at gpa as chain head d. */
static void request(uint16_t d, uint64_t gpa, uint32_t len)
{
	vq_desc(&drv, DESC, d, gpa, len, VIRTQ_DESC_F_WRITE, 0);
	vq_publish(&drv, d);
}

static void expect_random(uint64_t gpa, uint32_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vq_r(&ram.mem, gpa + i, 1) != rnd_byte((uint32_t)(first + i)))
			fail_msg("byte %zu at 0x%llx is not the source's byte %u", i,
				 (unsigned long long)(gpa + i), (unsigned)(first + i));
}

/* ---- the tests ---- */

static void capabilities(void **state)
{
	(void)state;
	/* 4.1.2.1: 0x1040 + 4, revision 1, subsystem ID 0x40 or more */
	assert_int_equal(cfg_rd(PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	assert_int_equal(cfg_rd(PCI_DEVICE_ID, 2), 0x1044);
	assert_true(cfg_rd(PCI_REVISION, 1) >= 1);
	assert_int_equal(cfg_rd(PCI_SUBSYS_VENDOR, 2), VIRTIO_PCI_VENDOR);
	assert_true(cfg_rd(PCI_SUBSYS_ID, 2) >= 0x40);
	assert_int_equal(cfg_rd(PCI_INT_PIN, 1), 1);
	/* BAR 0: 64-bit memory of VIRTIO_BAR_SIZE, assigned in the window */
	assert_true(bar0 >= GUEST_PCI_MMIO32_BASE && bar0 < GUEST_PCI_MMIO32_END);
	assert_int_equal(bar0 % VIRTIO_BAR_SIZE, 0);
	uint16_t cmd = (uint16_t)cfg_rd(PCI_COMMAND, 2);
	cfg_wr(PCI_COMMAND, 2, 0);
	cfg_wr(PCI_BAR0, 4, 0xFFFFFFFF);
	cfg_wr(PCI_BAR0 + 4, 4, 0xFFFFFFFF);
	/* 64-bit, prefetchable as QEMU's modern virtio BAR */
	assert_int_equal(cfg_rd(PCI_BAR0, 4), (uint32_t)-VIRTIO_BAR_SIZE | 0xC);
	assert_int_equal(cfg_rd(PCI_BAR0 + 4, 4), 0xFFFFFFFF);
	cfg_wr(PCI_BAR0, 4, (uint32_t)bar0);
	cfg_wr(PCI_BAR0 + 4, 4, (uint32_t)(bar0 >> 32));
	cfg_wr(PCI_COMMAND, 2, cmd);
	/* the vendor capabilities, all in BAR 0, inside it, where the header says */
	static const struct {
		unsigned type, len;
		uint32_t offset, length;
	} want[] = {
		{ 1, 16, 0, 60 },		 /* common: the whole 1.2 structure */
		{ 2, 20, VIRTIO_NOTIFY_OFF, 4 }, /* notify: one queue, multiplier 4 */
		{ 3, 16, 0x1000, 1 },		 /* ISR */
		{ 5, 20, 0, 0 },		 /* PCI configuration access */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		const struct vcap *c = &caps[want[i].type];
		assert_int_not_equal(c->at, 0);
		assert_int_equal(c->len, want[i].len);
		assert_int_equal(c->bar, 0);
		assert_int_equal(c->offset, want[i].offset);
		assert_int_equal(c->length, want[i].length);
		assert_true(c->offset + c->length <= VIRTIO_BAR_SIZE);
	}
	assert_int_equal(caps[2].mult, 4);
	assert_int_equal(caps[4].at, 0); /* rng has no device configuration */
	/* MSI-X: two vectors (configuration, the queue), table and PBA in BAR 0 */
	assert_int_not_equal(msix_cap, 0);
	assert_int_equal(cfg_rd(msix_cap + 2, 2) & 0x7FF, 1);
	assert_int_equal(cfg_rd(msix_cap + 4, 4), VIRTIO_MSIX_TABLE_OFF | 0);
	assert_int_equal(cfg_rd(msix_cap + 8, 4), VIRTIO_MSIX_PBA_OFF | 0);
	/* the capabilities are read-only but the PCI_CFG window's fields */
	cfg_wr(caps[1].at + 8, 4, 0x1234);
	cfg_wr(caps[2].at + 16, 4, 8);
	assert_int_equal(cfg_rd(caps[1].at + 8, 4), 0);
	assert_int_equal(cfg_rd(caps[2].at + 16, 4), 4);
	/* the common configuration's read-only fields */
	assert_int_equal(cc_rd(NUM_QUEUES, 2), 1);
	assert_int_equal(cc_rd(Q_NOTIFY_OFF, 2), 0);
	assert_int_equal(device_features(), F_VERSION_1 | F_INDIRECT | F_EVENT_IDX);
	cc_wr(DFSELECT, 4, 2);
	assert_int_equal(cc_rd(DF, 4), 0);
	cc_wr(NUM_QUEUES, 2, 7);
	assert_int_equal(cc_rd(NUM_QUEUES, 2), 1);
	/* a field read at the wrong width reads 0 */
	assert_int_equal(cc_rd(NUM_QUEUES, 4), 0);
	assert_int_equal(cc_rd(STATUS, 2), 0);
}

/* The whole path: negotiation, a queue with MSI-X, buffers filled with the source's bytes, the
 * used ring, one message per notification on the queue's vector. */
static void rng_with_msix(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_INDIRECT, true, 1);
	assert_int_equal(driver_features(), F_VERSION_1 | F_INDIRECT);
	assert_int_equal(cc_rd64(Q_DESC), DESC);
	assert_int_equal(cc_rd(Q_DRIVER, 8), AVAIL);
	assert_int_equal(cc_rd64(Q_DEVICE), USED);
	assert_int_equal(nr_msgs, 0);

	request(0, BUF, 32);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 1);
	uint32_t id, len;
	vq_used_elem(&drv, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 32);
	expect_random(BUF, 0, 32);
	assert_int_equal(vq_r(&ram.mem, BUF + 32, 1), 0);
	assert_int_equal(nr_msgs, 1);
	assert_int_equal(msgs[0].addr, 0xFEE01000);
	assert_int_equal(msgs[0].data, 0x41);
	assert_false(vm.irq[INTX_GSI]);
	assert_int_equal(isr(), 0); /* MSI-X: the ISR is not used */

	/* two chains in one notification: one message; one of them indirect, across the
	 * boundary of the two extents */
	request(1, 0xFFF0, 0x20);
	vq_desc(&drv, INDIR, 0, BUF + 0x100, 10, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, INDIR, 1, BUF + 0x200, 6, VIRTQ_DESC_F_WRITE, 0);
	vq_desc(&drv, DESC, 2, INDIR, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vq_publish(&drv, 2);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 3);
	vq_used_elem(&drv, 2, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 16);
	expect_random(0xFFF0, 32, 0x20);
	expect_random(BUF + 0x100, 64, 10);
	expect_random(BUF + 0x200, 74, 6);
	assert_int_equal(nr_msgs, 2);
	assert_int_equal(rng.bytes, 80);
	assert_int_equal(rng.vpci.notifies, 2);
	/* a notification with nothing new: no message */
	notify(0);
	assert_int_equal(nr_msgs, 2);
	/* the value written to the notify address is not trusted: the address names the queue */
	request(3, BUF + 0x300, 4);
	mem_wr(notify_addr(0), 2, 0xFFFF);
	assert_int_equal(vq_used_idx(&drv), 4);
	assert_int_equal(nr_msgs, 3);
	/* past the notify region: nothing */
	request(4, BUF + 0x400, 4);
	mem_wr(bar0 + VIRTIO_NOTIFY_OFF + 4, 2, 0);
	assert_int_equal(vq_used_idx(&drv), 4);
	/* masked vector: held in the PBA, sent on unmask */
	mem_wr(bar0 + VIRTIO_MSIX_TABLE_OFF + 16 + 12, 4, 1);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 5);
	assert_int_equal(nr_msgs, 3);
	assert_int_equal(mem_rd(bar0 + VIRTIO_MSIX_PBA_OFF, 8), 2);
	mem_wr(bar0 + VIRTIO_MSIX_TABLE_OFF + 16 + 12, 4, 0);
	assert_int_equal(nr_msgs, 4);
	assert_int_equal(msgs[3].data, 0x41);
	/* the queue's vector NO_VECTOR: used, but no message (4.1.5.1.2) */
	assert_int_equal(rng.vpci.vq[0].msix_vector, 1);
	rng.vpci.vq[0].msix_vector = VIRTQ_NO_VECTOR; /* set before enabling by a driver */
	request(5, BUF + 0x500, 4);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 6);
	assert_int_equal(nr_msgs, 4);
	assert_int_equal(rng.vpci.interrupts, 4);
}

/* Without MSI-X: INTx, and the ISR says why; reading it acknowledges and lowers the line. */
static void intx_and_isr(void **state)
{
	(void)state;
	bring_up(F_VERSION_1, false, 0);
	assert_false(vm.irq[INTX_GSI]);
	request(0, BUF, 8);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 1);
	assert_true(vm.irq[INTX_GSI]);
	assert_true(cfg_rd(PCI_STATUS, 2) & PCI_STS_INTX);
	assert_int_equal(nr_msgs, 0);
	assert_int_equal(isr(), 1); /* a queue interrupt */
	assert_false(vm.irq[INTX_GSI]);
	assert_false(cfg_rd(PCI_STATUS, 2) & PCI_STS_INTX);
	assert_int_equal(isr(), 0);
	/* a configuration change: bit 1, a new generation */
	uint8_t gen = (uint8_t)cc_rd(CFG_GENERATION, 1);
	virtio_pci_config_changed(&rng.vpci);
	assert_int_equal(cc_rd(CFG_GENERATION, 1), (uint8_t)(gen + 1));
	assert_true(vm.irq[INTX_GSI]);
	request(1, BUF, 8);
	notify(0);
	assert_int_equal(isr(), 3);
	assert_false(vm.irq[INTX_GSI]);
	/* a write to the ISR does nothing */
	request(2, BUF, 8);
	notify(0);
	mem_wr(bar0 + caps[3].offset, 1, 0);
	assert_true(vm.irq[INTX_GSI]);
	/* the driver asked for no interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT): none */
	assert_int_equal(isr(), 1);
	vq_set_avail_flags(&drv, VIRTQ_AVAIL_F_NO_INTERRUPT);
	request(3, BUF, 8);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 4);
	assert_false(vm.irq[INTX_GSI]);
	assert_int_equal(isr(), 0);
}

/* 3.1.1: the device refuses FEATURES_OK for features it did not offer, and for a driver without
 * VERSION_1; the features are fixed once it is accepted. */
static void features_ok_refused(void **state)
{
	(void)state;
	static const uint64_t bad[] = { 0,
					F_INDIRECT,
					F_VERSION_1 | 1,
					F_VERSION_1 | 1ull << 33,
					F_VERSION_1 | 1ull << 63,
					F_VERSION_1 | 1ull << 24 };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		set_status(0);
		set_status(S_ACK | S_DRIVER);
		set_driver_features(bad[i]);
		assert_int_equal(driver_features(), bad[i]);
		set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
		assert_int_equal(status(), S_ACK | S_DRIVER);
		/* nor does a refused set take effect, or a driver going on to DRIVER_OK get DMA */
		assert_false(rng.vpci.vq[0].indirect);
		cfg_wr(PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
		set_status(S_ACK | S_DRIVER | S_DRIVER_OK);
		assert_null(virtio_pci_dma(&rng.vpci));
	}
	set_status(0);
	assert_int_equal(driver_features(), 0);
	set_status(S_ACK | S_DRIVER);
	set_driver_features(F_VERSION_1 | F_EVENT_IDX);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	assert_int_equal(status(), S_ACK | S_DRIVER | S_FEATURES_OK);
	assert_true(rng.vpci.vq[0].event_idx);
	assert_false(rng.vpci.vq[0].indirect);
	/* fixed now */
	set_driver_features(F_VERSION_1 | F_INDIRECT | 1);
	assert_int_equal(driver_features(), F_VERSION_1 | F_EVENT_IDX);
	/* a select past the two words: reads 0, writes nothing */
	cc_wr(GFSELECT, 4, 2);
	assert_int_equal(cc_rd(GFSELECT, 4), 2);
	assert_int_equal(cc_rd(GF, 4), 0);
}

static void enable_bad_rings(uint64_t desc, uint64_t avail, uint64_t used, uint16_t size)
{
	cc_wr(Q_SELECT, 2, 0);
	cc_wr(Q_SIZE, 2, size);
	cc_wr64(Q_DESC, desc);
	cc_wr64(Q_DRIVER, avail);
	cc_wr64(Q_DEVICE, used);
	cc_wr(Q_ENABLE, 2, 1);
}

/* Rings the device cannot use: the queue stays disabled, DEVICE_NEEDS_RESET, a configuration
 * interrupt and one log line (2.1.2); only a reset clears it. */
static void bad_rings_need_reset(void **state)
{
	(void)state;
	static const struct {
		uint64_t desc, avail, used;
		uint16_t size;
	} bad[] = {
		{ DESC + 8, AVAIL, USED, 16 },	     /* descriptors misaligned */
		{ DESC, AVAIL + 1, USED, 16 },	     /* available ring misaligned */
		{ DESC, AVAIL, USED + 2, 16 },	     /* used ring misaligned */
		{ DESC, AVAIL, USED, 12 },	     /* not a power of two */
		{ DESC, AVAIL, USED, 0 },	     /* empty */
		{ DESC, AVAIL, USED, 128 },	     /* more than offered */
		{ 0x1FF80, AVAIL, USED, 16 },	     /* past the end of RAM */
		{ DESC, 0xC0000000, USED, 16 },	     /* MMIO */
		{ DESC, AVAIL, 0x100000000ull, 16 }, /* above 4 GiB, no RAM there */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		set_status(0);
		set_status(S_ACK | S_DRIVER);
		set_driver_features(F_VERSION_1);
		set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
		msix_enable(true);
		msix_vector(0, 0xFEE00000, 0x40);
		cc_wr(MSIX_CONFIG, 2, 0);
		cfg_wr(PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
		unsigned before = nr_msgs;
		enable_bad_rings(bad[i].desc, bad[i].avail, bad[i].used, bad[i].size);
		assert_int_equal(cc_rd(Q_ENABLE, 2), 0);
		assert_true(status() & S_NEEDS_RESET);
		assert_int_equal(nr_msgs, before + 1); /* on the configuration vector */
		assert_int_equal(msgs[before].data, 0x40);
		/* DRIVER_OK on top keeps NEEDS_RESET; a notification does nothing */
		set_status(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		assert_int_equal(status(),
				 S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK | S_NEEDS_RESET);
		notify(0);
		assert_int_equal(rng.vpci.notifies, 0);
	}
	assert_true(host_log_contains("vm t: virtio-rng 00:05.0 queue 0: rings misaligned, of a "
				      "bad size or outside RAM; the device needs a reset"));
	/* a line each time it breaks (the driver reset it in between), within the log's bucket */
	unsigned lines = 0;
	for (const char *p = host_log_text(); (p = strstr(p, "the device needs a reset")); p++)
		lines++;
	assert_int_equal(lines, MIN(ARRAY_SIZE(bad), (size_t)UNCLAIMED_BURST));
	assert_int_equal(rng.vpci.broken, ARRAY_SIZE(bad));
	/* a reset clears it; good rings then work */
	bring_up(F_VERSION_1, true, 1);
	request(0, BUF, 8);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 1);
	/* INTx: the configuration reason in the ISR */
	set_status(0);
	msix_enable(false);
	set_status(S_ACK | S_DRIVER);
	enable_bad_rings(DESC + 4, AVAIL, USED, 16);
	assert_true(vm.irq[INTX_GSI]);
	assert_int_equal(isr(), 2);
}

/* A chain the walker refuses at run time breaks the queue the same way, with its reason. */
static void broken_chain_needs_reset(void **state)
{
	(void)state;
	bring_up(F_VERSION_1, true, 1);
	request(0, BUF, 8);
	vq_desc(&drv, DESC, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 1); /* a loop */
	vq_publish(&drv, 1);
	request(2, BUF + 0x100, 8);
	notify(0);
	/* the chain before it was used; the loop and what follows were not */
	assert_int_equal(vq_used_idx(&drv), 1);
	assert_true(status() & S_NEEDS_RESET);
	assert_true(host_log_contains(
		"vm t: virtio-rng 00:05.0 queue 0: a descriptor chain loops; the device needs a "
		"reset"));
	/* the queue's message for the used chain, the configuration one for the break */
	assert_int_equal(nr_msgs, 2);
	assert_int_equal(msgs[0].data, 0x40);
	assert_int_equal(msgs[1].data, 0x41);
	assert_int_equal(rng.vpci.broken, 1);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 1);
	assert_int_equal(rng.vpci.broken, 1);
	assert_null(virtio_pci_dma(&rng.vpci));
	/* the available index running ahead */
	bring_up(F_VERSION_1, true, 1);
	vq_set_avail_idx(&drv, 17);
	notify(0);
	assert_true(status() & S_NEEDS_RESET);
	assert_int_equal(rng.vpci.broken, 2);
	/* an indirect descriptor without the feature */
	bring_up(F_VERSION_1, true, 1);
	vq_desc(&drv, DESC, 0, INDIR, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vq_publish(&drv, 0);
	notify(0);
	assert_true(status() & S_NEEDS_RESET);
	assert_int_equal(vq_used_idx(&drv), 0);
}

/* Nothing happens before DRIVER_OK (3.1.1), nor without bus mastering: no DMA at all. */
static void no_dma_before_driver_ok_or_without_master(void **state)
{
	(void)state;
	set_status(S_ACK | S_DRIVER);
	set_driver_features(F_VERSION_1);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	cfg_wr(PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	enable_bad_rings(DESC, AVAIL, USED, 16); /* good ones, in fact */
	assert_int_equal(cc_rd(Q_ENABLE, 2), 1);
	request(0, BUF, 8);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 0);
	assert_int_equal(rng.vpci.notifies, 0);
	assert_int_equal(rnd_calls, 0);
	assert_int_equal(vq_r(&ram.mem, BUF, 8), 0);
	assert_false(vm.irq[INTX_GSI]);
	/* DRIVER_OK, bus mastering off: the notification arrives, no guest memory is touched */
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	cfg_wr(PCI_COMMAND, 2, PCI_CMD_MEM);
	notify(0);
	assert_int_equal(rng.vpci.notifies, 1);
	assert_int_equal(vq_used_idx(&drv), 0);
	assert_int_equal(rnd_calls, 0);
	assert_int_equal(vq_r(&ram.mem, BUF, 8), 0);
	assert_null(virtio_pci_dma(&rng.vpci));
	/* bus mastering on: the chain waiting is served at the next notification */
	cfg_wr(PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	assert_ptr_equal(virtio_pci_dma(&rng.vpci), &ram.mem);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 1);
	expect_random(BUF, 0, 8);
	/* a queue not enabled: nothing, whatever the driver published */
	set_status(0);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	notify(0);
	assert_int_equal(rng.vpci.notifies, 2);
}

/* Status 0 is a reset (4.1.4.3.1): everything the driver set goes back. */
static void reset_clears_everything(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT, true, 1);
	request(0, BUF, 8);
	notify(0);
	virtio_pci_config_changed(&rng.vpci);
	msix_enable(false);
	virtio_pci_config_changed(&rng.vpci);
	assert_true(vm.irq[INTX_GSI]);
	cc_wr(DFSELECT, 4, 1);
	cc_wr(Q_SELECT, 2, 3);
	set_status(0);
	assert_int_equal(status(), 0);
	assert_false(vm.irq[INTX_GSI]);
	assert_int_equal(isr(), 0);
	assert_int_equal(cc_rd(DFSELECT, 4), 0);
	assert_int_equal(cc_rd(Q_SELECT, 2), 0);
	assert_int_equal(driver_features(), 0);
	assert_int_equal(cc_rd(MSIX_CONFIG, 2), VIRTQ_NO_VECTOR);
	assert_int_equal(cc_rd(Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	assert_int_equal(cc_rd(Q_MSIX, 2), VIRTQ_NO_VECTOR);
	assert_int_equal(cc_rd(Q_ENABLE, 2), 0);
	assert_int_equal(cc_rd64(Q_DESC), 0);
	assert_int_equal(cc_rd64(Q_DRIVER), 0);
	assert_int_equal(cc_rd64(Q_DEVICE), 0);
	const struct virtq *q = &rng.vpci.vq[0];
	assert_int_equal(q->last_avail, 0);
	assert_int_equal(q->used_idx, 0);
	assert_false(q->event_idx || q->indirect);
	/* the driver starts again with the ring where it was: the device starts from index 0 */
	bring_up(F_VERSION_1, true, 1);
	request(0, BUF, 8);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 1);
	/* a reset of the whole bus (the VM's) resets the device too */
	pci_bus_reset(&bus);
	assert_int_equal(status(), 0);
	assert_int_equal(cc_rd(Q_ENABLE, 2), 0);
}

/* 4.1.4.9: the driver names a BAR 0 offset and width in the capability, then reads or writes
 * pci_cfg_data. */
static void pci_cfg_window(void **state)
{
	(void)state;
	unsigned c = caps[5].at, data = c + 16;
	/* status through the window */
	cfg_wr(c + 4, 1, 0);
	cfg_wr(c + 8, 4, STATUS);
	cfg_wr(c + 12, 4, 1);
	cfg_wr(data, 1, S_ACK);
	assert_int_equal(status(), S_ACK);
	assert_int_equal(cfg_rd(data, 1), S_ACK);
	/* the device features, a dword at a time */
	cfg_wr(c + 8, 4, DFSELECT);
	cfg_wr(c + 12, 4, 4);
	cfg_wr(data, 4, 1);
	cfg_wr(c + 8, 4, DF);
	assert_int_equal(cfg_rd(data, 4), 1); /* VERSION_1 in the high word */
	/* num_queues as a word, and the byte of data read alone */
	cfg_wr(c + 8, 4, NUM_QUEUES);
	cfg_wr(c + 12, 4, 2);
	assert_int_equal(cfg_rd(data, 2), 1);
	assert_int_equal(cfg_rd(data, 1), 1);
	/* the ISR through the window: read to clear as well */
	set_status(0);
	enable_bad_rings(DESC + 4, AVAIL, USED, 16);
	assert_true(vm.irq[INTX_GSI]);
	cfg_wr(c + 8, 4, caps[3].offset);
	cfg_wr(c + 12, 4, 1);
	assert_int_equal(cfg_rd(data, 1), 2);
	assert_false(vm.irq[INTX_GSI]);
	/* refused: another BAR, a width of 3 or 8, misaligned, past the BAR: data keeps its
	 * value, the BAR is not touched */
	set_status(0);
	static const struct {
		unsigned bar;
		uint32_t off, len;
	} bad[] = { { 1, STATUS, 1 },	      { 0, STATUS, 3 },		 { 0, Q_DESC, 8 },
		    { 0, NUM_QUEUES + 1, 2 }, { 0, VIRTIO_BAR_SIZE, 1 }, { 0, 0xFFFFFFFF, 1 } };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg_wr(c + 4, 1, bad[i].bar);
		cfg_wr(c + 8, 4, bad[i].off);
		cfg_wr(c + 12, 4, bad[i].len);
		cfg_wr(data, 4, 0xA5A5A5A5);
		assert_int_equal(cfg_rd(data, 4), 0xA5A5A5A5);
	}
	cfg_wr(c + 4, 1, 1);
	cfg_wr(c + 8, 4, STATUS);
	cfg_wr(c + 12, 4, 1);
	cfg_wr(data, 1, S_ACK);
	assert_int_equal(status(), 0);
	/* the rest of the capability stays read-only */
	cfg_wr(c + 3, 1, 1);
	assert_int_equal(cfg_rd(c + 3, 1), 5);
}

/* 4.1.4.3, 4.1.5.1.2: a vector the MSI-X table does not have reads back NO_VECTOR. */
static void msix_vector_out_of_range(void **state)
{
	(void)state;
	static const uint16_t vectors[] = { 2, 3, 64, 0x7FF, 0xFFFE };
	for (unsigned i = 0; i < ARRAY_SIZE(vectors); i++) {
		cc_wr(MSIX_CONFIG, 2, vectors[i]);
		assert_int_equal(cc_rd(MSIX_CONFIG, 2), VIRTQ_NO_VECTOR);
		cc_wr(Q_MSIX, 2, vectors[i]);
		assert_int_equal(cc_rd(Q_MSIX, 2), VIRTQ_NO_VECTOR);
	}
	cc_wr(MSIX_CONFIG, 2, 1);
	assert_int_equal(cc_rd(MSIX_CONFIG, 2), 1);
	cc_wr(Q_MSIX, 2, 0);
	assert_int_equal(cc_rd(Q_MSIX, 2), 0);
	/* a queue that does not exist: size 0 (4.1.4.3), no vector, nothing kept */
	cc_wr(Q_SELECT, 2, 1);
	assert_int_equal(cc_rd(Q_SIZE, 2), 0);
	assert_int_equal(cc_rd(Q_MSIX, 2), VIRTQ_NO_VECTOR);
	cc_wr(Q_MSIX, 2, 1);
	cc_wr(Q_SIZE, 2, 8);
	cc_wr64(Q_DESC, DESC);
	cc_wr(Q_ENABLE, 2, 1);
	assert_int_equal(cc_rd(Q_MSIX, 2), VIRTQ_NO_VECTOR);
	assert_int_equal(cc_rd(Q_SIZE, 2), 0);
	assert_int_equal(cc_rd64(Q_DESC), 0);
	assert_int_equal(cc_rd(Q_ENABLE, 2), 0);
	cc_wr(Q_SELECT, 2, 0xFFFF);
	assert_int_equal(cc_rd(Q_SIZE, 2), 0);
	assert_false(status() & S_NEEDS_RESET);
}

/* The ring addresses: whole 64-bit or as either half; fixed once the queue is enabled. */
static void ring_addresses(void **state)
{
	(void)state;
	cc_wr(Q_SELECT, 2, 0);
	cc_wr(Q_DESC, 8, 0x1122334455667780ull);
	assert_int_equal(cc_rd(Q_DESC, 8), 0x1122334455667780ull);
	cc_wr(Q_DESC + 4, 4, 0);
	assert_int_equal(cc_rd(Q_DESC, 8), 0x55667780);
	cc_wr(Q_DESC, 4, DESC);
	assert_int_equal(cc_rd64(Q_DESC), DESC);
	cc_wr(Q_DRIVER + 4, 4, 0xAABBCCDD);
	assert_int_equal(cc_rd(Q_DRIVER + 4, 4), 0xAABBCCDD);
	assert_int_equal(cc_rd(Q_DRIVER, 4), 0);
	/* other widths and offsets: nothing */
	cc_wr(Q_DRIVER + 2, 4, 0x12345678);
	cc_wr(Q_DRIVER + 4, 8, 0x12345678);
	cc_wr(Q_DRIVER, 2, 0x1234);
	assert_int_equal(cc_rd(Q_DRIVER, 8), 0xAABBCCDD00000000ull);
	assert_int_equal(cc_rd(Q_DRIVER + 2, 4), 0);
	bring_up(F_VERSION_1, true, 1);
	cc_wr64(Q_DESC, 0x5000);
	cc_wr(Q_SIZE, 2, 32);
	assert_int_equal(cc_rd64(Q_DESC), DESC);
	assert_int_equal(cc_rd(Q_SIZE, 2), 16);
	/* 0 to queue_enable does not disable it */
	cc_wr(Q_ENABLE, 2, 0);
	assert_int_equal(cc_rd(Q_ENABLE, 2), 1);
}

/* virtio-rng gives at most VIRTIO_RNG_MAX_REQUEST bytes to one chain, and nothing to a chain
 * without writable buffers. */
static void rng_request_cap(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_INDIRECT, true, 1);
	/* 3000 + 3000 bytes writable, the second across the extents' boundary */
	vq_desc(&drv, DESC, 0, 0x9000, 3000, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, DESC, 1, 0xF800, 3000, VIRTQ_DESC_F_WRITE, 0);
	vq_publish(&drv, 0);
	notify(0);
	uint32_t id, len;
	vq_used_elem(&drv, 0, &id, &len);
	assert_int_equal(len, VIRTIO_RNG_MAX_REQUEST);
	assert_int_equal(rng.bytes, VIRTIO_RNG_MAX_REQUEST);
	expect_random(0x9000, 0, 3000);
	expect_random(0xF800, 3000, VIRTIO_RNG_MAX_REQUEST - 3000);
	assert_int_equal(vq_r(&ram.mem, 0xF800 + VIRTIO_RNG_MAX_REQUEST - 3000, 1), 0);
	assert_true(rnd_largest <= 256);
	/* only readable buffers: used with length 0, no entropy spent */
	unsigned calls = rnd_calls;
	vq_desc(&drv, DESC, 2, BUF, 64, 0, 0);
	vq_publish(&drv, 2);
	notify(0);
	vq_used_elem(&drv, 1, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 0);
	assert_int_equal(rnd_calls, calls);
	/* a full ring of requests, 16 chains in one notification, one message */
	unsigned before = nr_msgs;
	for (unsigned i = 0; i < 16; i++)
		request((uint16_t)i, BUF + 0x100 * i, 0x100);
	notify(0);
	assert_int_equal(vq_used_idx(&drv), 18);
	assert_int_equal(nr_msgs, before + 1);
	assert_false(status() & S_NEEDS_RESET);
}

/* EVENT_IDX through the transport: the device writes avail_event, and interrupts only when
 * used_event is passed. */
static void event_idx_suppression(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_EVENT_IDX, true, 1);
	vq_set_used_event(&drv, 2); /* interrupt when the third buffer is used */
	for (unsigned i = 0; i < 3; i++) {
		request((uint16_t)i, BUF + 0x10 * i, 0x10);
		notify(0);
		assert_int_equal(vq_avail_event(&drv), i + 1);
		assert_int_equal(nr_msgs, i == 2 ? 1 : 0);
	}
	/* the flag means nothing with EVENT_IDX */
	vq_set_avail_flags(&drv, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq_set_used_event(&drv, 3);
	request(3, BUF, 0x10);
	notify(0);
	assert_int_equal(nr_msgs, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(capabilities),
		T(rng_with_msix),
		T(intx_and_isr),
		T(features_ok_refused),
		T(bad_rings_need_reset),
		T(broken_chain_needs_reset),
		T(no_dma_before_driver_ok_or_without_master),
		T(reset_clears_everything),
		T(pci_cfg_window),
		T(msix_vector_out_of_range),
		T(ring_addresses),
		T(rng_request_cap),
		T(event_idx_suppression),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
