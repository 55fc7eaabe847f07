/* The virtio-net host driver core (drivers/virtio_net_host.c) against a fake virtio-net device
 * on the modern virtio-pci transport: a PCI configuration space with the four vendor
 * capabilities, BAR 4 holding the common configuration (0x0000), the ISR byte (0x1000), the
 * network configuration (0x2000) and the notification addresses (0x3000, multiplier 4), and two
 * split virtqueues in fake DMA memory (the driver's pages).
 *
 * The fake transmits when queue 1 is notified (unless a test holds it): it takes each available
 * descriptor, checks it, keeps the frame and returns it used. Tests hand it frames to receive,
 * or write used entries as they say. It checks what a device may rely on: MMIO inside BAR 4 and
 * naturally aligned, feature bits only from those offered, queue sizes powers of two no larger
 * than offered, ring addresses aligned and inside the fake memory, notifications only after
 * DRIVER_OK and with the right queue index, descriptors without NEXT or INDIRECT; each violation
 * is counted in fake.bad and every test ends with it 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "drivers/virtio_net_host.h"
#include "lib/kstring.h"
#include "tests/support/virtio_pci_caps.h"

#define MEM_BASE 0x80000000ull
#define BAR 4
#define BAR_SIZE 0x4000u
#define CC 0x0000u
#define ISR 0x1000u
#define DEVCFG 0x2000u
#define NOTIFY 0x3000u
#define MULT 4u
#define MS 1000000ull
#define MAX_SENT 64

static uint8_t mem[VNH_DMA_PAGES][VNH_PAGE_SIZE] __attribute__((aligned(4096)));

struct fq {
	uint16_t max, size, enable, notify_off;
	uint64_t desc, drv, dev;
	uint16_t last_avail, used_idx;
};

static struct {
	uint8_t cfg[256];
	uint64_t offered, accepted;
	uint32_t dfsel, drfsel;
	uint8_t status, gen;
	uint16_t qsel, num_queues;
	struct fq q[2];
	uint8_t mac[6];
	uint16_t net_status;
	bool gone;	  /* every read all ones, writes lost */
	bool reset_stuck; /* device_status never reads 0 */
	bool refuse_feat; /* FEATURES_OK never sticks */
	bool tx_hold;	  /* notifications of queue 1 are not acted on */
	bool gen_spin;	  /* config_generation changes on every read */
	uint64_t now;
	unsigned bad, resets, notifies[2];
	struct {
		uint8_t data[VNH_BUF_SIZE];
		unsigned len;
	} sent[MAX_SENT];
	unsigned nr_sent, total_sent;
} fake;

static struct vnh_dev dev;

static struct {
	uint8_t data[VNH_BUF_SIZE];
	unsigned len, calls;
	const void *buf;
} got;

static uint64_t pa_of(unsigned page)
{
	return MEM_BASE + (uint64_t)page * VNH_PAGE_SIZE;
}

/* The fake's DMA: only inside the fake memory, else counted. */
static uint8_t *dma(uint64_t pa, uint64_t len)
{
	if (pa < MEM_BASE || !range_within(pa - MEM_BASE, len, sizeof(mem))) {
		fake.bad++;
		return NULL;
	}
	return &mem[0][0] + (pa - MEM_BASE);
}

/* ---- configuration space ---- */

static void put32(unsigned off, uint32_t v)
{
	vcap_put32(fake.cfg, off, v);
}

/* A virtio vendor capability at ptr (next: the following one, 0 to end). */
static void cap(unsigned ptr, unsigned next, unsigned type, unsigned bar, uint32_t off,
		uint32_t len)
{
	vcap_put(fake.cfg, ptr, next, type, bar, off, len, MULT);
}

/* Common 0x40, notify 0x50, ISR 0x64, device 0x74; an MSI-X capability (not vendor) first. */
static void caps_default(void)
{
	memset(fake.cfg, 0, sizeof(fake.cfg));
	put32(0, 0x10411AF4);
	put32(VNH_PCI_STATUS, (uint32_t)VNH_PCI_STATUS_CAP_LIST << 16);
	put32(VNH_PCI_CAP_PTR, 0x98);
	put32(0x98, 0x11 | 0x40 << 8); /* MSI-X, next 0x40 */
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, BAR, CC, 0x1000);
	cap(0x50, 0x64, VNH_CAP_NOTIFY_CFG, BAR, NOTIFY, 0x1000);
	cap(0x64, 0x74, VNH_CAP_ISR_CFG, BAR, ISR, 0x1000);
	cap(0x74, 0, VNH_CAP_DEVICE_CFG, BAR, DEVCFG, 0x1000);
}

static uint32_t cfg_read32(void *ctx, uint32_t off)
{
	uint32_t v;

	assert_ptr_equal(ctx, &fake);
	if (off % 4 || off >= 256) {
		fake.bad++;
		return 0;
	}
	memcpy(&v, &fake.cfg[off], 4);
	return v;
}

/* ---- the device ---- */

static void fake_reset(void)
{
	fake.status = 0;
	fake.accepted = 0;
	fake.dfsel = fake.drfsel = 0;
	fake.qsel = 0;
	for (unsigned i = 0; i < 2; i++) {
		uint16_t max = fake.q[i].max;

		memset(&fake.q[i], 0, sizeof(fake.q[i]));
		fake.q[i].max = fake.q[i].size = max;
		fake.q[i].notify_off = (uint16_t)i;
	}
	fake.resets++;
}

static bool running(void)
{
	return (fake.status & VNH_STATUS_DRIVER_OK) && !(fake.status & VNH_STATUS_NEEDS_RESET);
}

static uint16_t *avail_ring(struct fq *q)
{
	return (uint16_t *)dma(q->drv, 4 + 2ull * q->size);
}

static uint8_t *used_ring(struct fq *q)
{
	return dma(q->dev, 4 + 8ull * q->size);
}

static struct vnh_desc *desc_at(struct fq *q, uint16_t head)
{
	if (head >= q->size) {
		fake.bad++;
		return NULL;
	}
	return (struct vnh_desc *)dma(q->desc + 16ull * head, 16);
}

/* A used entry pushed as given: id, len, and the index moved by step (1 normally). */
static void push_used(struct fq *q, uint32_t id, uint32_t len, uint16_t step)
{
	uint8_t *u = used_ring(q);
	struct vnh_used_elem e = { id, len };
	uint16_t idx;

	assert_non_null(u);
	memcpy(u + 4 + 8 * (q->used_idx % q->size), &e, 8);
	q->used_idx = (uint16_t)(q->used_idx + step);
	idx = q->used_idx;
	memcpy(u + 2, &idx, 2);
}

/* The next available head of q, or -1 when there is none. */
static int take_avail(struct fq *q)
{
	uint16_t *a = avail_ring(q);
	int head;

	if (!a || !q->enable || a[1] == q->last_avail)
		return -1;
	head = a[2 + q->last_avail % q->size];
	q->last_avail++;
	return head;
}

static void run_tx(void)
{
	struct fq *q = &fake.q[1];
	int head;

	if (!running() || fake.tx_hold)
		return;
	while ((head = take_avail(q)) >= 0) {
		struct vnh_desc *d = desc_at(q, (uint16_t)head);
		uint8_t *p;
		static const uint8_t zero[VIRTIO_NET_HDR_SIZE];

		assert_non_null(d);
		if (d->flags != 0 || d->len <= VIRTIO_NET_HDR_SIZE ||
		    d->len > VIRTIO_NET_HDR_SIZE + VNH_ETH_MAX)
			fake.bad++;
		p = dma(d->addr, d->len);
		if (p && memcmp(p, zero, VIRTIO_NET_HDR_SIZE) != 0)
			fake.bad++;
		if (p && d->len <= VNH_BUF_SIZE) {
			unsigned k = fake.nr_sent % MAX_SENT;

			memcpy(fake.sent[k].data, p + VIRTIO_NET_HDR_SIZE,
			       d->len - VIRTIO_NET_HDR_SIZE);
			fake.sent[k].len = d->len - VIRTIO_NET_HDR_SIZE;
			fake.nr_sent++;
		}
		push_used(q, (uint32_t)head, 0, 1);
	}
}

/* A frame arriving on the wire; false when the driver had no buffer for it. */
static bool fake_rx(const uint8_t *frame, unsigned len)
{
	struct fq *q = &fake.q[0];
	struct vnh_desc *d;
	uint8_t *p;
	int head;

	if (!running() || (head = take_avail(q)) < 0)
		return false;
	d = desc_at(q, (uint16_t)head);
	assert_non_null(d);
	if (d->flags != VNH_DESC_F_WRITE || d->len < VIRTIO_NET_HDR_SIZE + len)
		fake.bad++;
	p = dma(d->addr, VIRTIO_NET_HDR_SIZE + len);
	assert_non_null(p);
	memset(p, 0, VIRTIO_NET_HDR_SIZE);
	p[10] = 1; /* num_buffers */
	memcpy(p + VIRTIO_NET_HDR_SIZE, frame, len);
	push_used(q, (uint32_t)head, VIRTIO_NET_HDR_SIZE + len, 1);
	return true;
}

static bool bar_ok(unsigned bar, uint64_t off, unsigned size)
{
	if (bar != BAR || off + size > BAR_SIZE || off % size) {
		fake.bad++;
		return false;
	}
	return true;
}

static uint32_t cc_read(uint64_t off)
{
	struct fq *q = &fake.q[fake.qsel < 2 ? fake.qsel : 0];

	switch (off) {
	case VNH_CC_DEVICE_FEATURE:
		return fake.dfsel == 0	 ? (uint32_t)fake.offered
		       : fake.dfsel == 1 ? (uint32_t)(fake.offered >> 32)
					 : 0;
	case VNH_CC_NUM_QUEUES:
		return fake.num_queues;
	case VNH_CC_DEVICE_STATUS:
		if (fake.reset_stuck)
			return fake.status | VNH_STATUS_ACKNOWLEDGE;
		return fake.status;
	case VNH_CC_CONFIG_GENERATION:
		if (fake.gen_spin)
			fake.gen++;
		return fake.gen;
	case VNH_CC_QUEUE_SELECT:
		return fake.qsel;
	case VNH_CC_QUEUE_SIZE:
		return fake.qsel < 2 ? q->size : 0;
	case VNH_CC_QUEUE_ENABLE:
		return q->enable;
	case VNH_CC_QUEUE_NOTIFY_OFF:
		return q->notify_off;
	default:
		return 0;
	}
}

static void cc_write(uint64_t off, uint32_t v)
{
	struct fq *q = &fake.q[fake.qsel < 2 ? fake.qsel : 0];

	switch (off) {
	case VNH_CC_DEVICE_FEATURE_SELECT:
		fake.dfsel = v;
		break;
	case VNH_CC_DRIVER_FEATURE_SELECT:
		fake.drfsel = v;
		break;
	case VNH_CC_DRIVER_FEATURE:
		if (fake.drfsel < 2) {
			fake.accepted &= ~(0xFFFFFFFFull << (32 * fake.drfsel));
			fake.accepted |= (uint64_t)v << (32 * fake.drfsel);
		}
		break;
	case VNH_CC_DEVICE_STATUS:
		if (v == 0) {
			fake_reset();
			break;
		}
		if ((v & VNH_STATUS_FEATURES_OK) && !(fake.status & VNH_STATUS_FEATURES_OK)) {
			if ((fake.accepted & ~fake.offered) != 0)
				fake.bad++;
			if (fake.refuse_feat)
				v &= ~(uint32_t)VNH_STATUS_FEATURES_OK;
		}
		if ((v & VNH_STATUS_DRIVER_OK) && (!q[0].enable || !fake.q[1].enable))
			fake.bad++;
		fake.status = (uint8_t)(v | (fake.status & VNH_STATUS_NEEDS_RESET));
		break;
	case VNH_CC_QUEUE_SELECT:
		fake.qsel = (uint16_t)v;
		break;
	case VNH_CC_QUEUE_SIZE:
		if (v == 0 || v > q->max || (v & (v - 1)) || q->enable)
			fake.bad++;
		q->size = (uint16_t)v;
		break;
	case VNH_CC_QUEUE_ENABLE:
		if (v != 1 || q->desc % 16 || q->drv % 2 || q->dev % 4 ||
		    !dma(q->desc, 16ull * q->size) || !dma(q->drv, 6 + 2ull * q->size) ||
		    !dma(q->dev, 6 + 8ull * q->size))
			fake.bad++;
		q->enable = 1;
		break;
	case VNH_CC_QUEUE_DESC:
	case VNH_CC_QUEUE_DESC + 4:
		q->desc = off % 8 ? (q->desc & 0xFFFFFFFFu) | (uint64_t)v << 32 : v;
		break;
	case VNH_CC_QUEUE_DRIVER:
	case VNH_CC_QUEUE_DRIVER + 4:
		q->drv = off % 8 ? (q->drv & 0xFFFFFFFFu) | (uint64_t)v << 32 : v;
		break;
	case VNH_CC_QUEUE_DEVICE:
	case VNH_CC_QUEUE_DEVICE + 4:
		q->dev = off % 8 ? (q->dev & 0xFFFFFFFFu) | (uint64_t)v << 32 : v;
		break;
	case VNH_CC_QUEUE_MSIX_VECTOR:
		break;
	default:
		fake.bad++;
	}
}

static uint32_t mmio_read(unsigned bar, uint64_t off, unsigned size)
{
	if (!bar_ok(bar, off, size))
		return 0;
	if (fake.gone)
		return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFF : 0xFF;
	if (off < ISR)
		return cc_read(off);
	if (off >= DEVCFG && off < DEVCFG + 6)
		return fake.mac[off - DEVCFG];
	if (off == DEVCFG + VNH_NET_CFG_STATUS)
		return fake.net_status;
	return 0;
}

static void mmio_write(unsigned bar, uint64_t off, unsigned size, uint32_t v)
{
	if (!bar_ok(bar, off, size) || fake.gone)
		return;
	if (off < ISR) {
		cc_write(off, v);
		return;
	}
	if (off >= NOTIFY && off < NOTIFY + 8 && size == 2) {
		unsigned qi = (unsigned)(off - NOTIFY) / MULT;

		if (v != qi || !running())
			fake.bad++;
		fake.notifies[qi]++;
		if (qi == 1)
			run_tx();
		return;
	}
	fake.bad++;
}

static uint8_t rd8(void *ctx, unsigned bar, uint64_t off)
{
	assert_ptr_equal(ctx, &fake);
	return (uint8_t)mmio_read(bar, off, 1);
}

static uint16_t rd16(void *ctx, unsigned bar, uint64_t off)
{
	assert_ptr_equal(ctx, &fake);
	return (uint16_t)mmio_read(bar, off, 2);
}

static uint32_t rd32(void *ctx, unsigned bar, uint64_t off)
{
	assert_ptr_equal(ctx, &fake);
	return mmio_read(bar, off, 4);
}

static void wr8(void *ctx, unsigned bar, uint64_t off, uint8_t v)
{
	assert_ptr_equal(ctx, &fake);
	mmio_write(bar, off, 1, v);
}

static void wr16(void *ctx, unsigned bar, uint64_t off, uint16_t v)
{
	assert_ptr_equal(ctx, &fake);
	mmio_write(bar, off, 2, v);
}

static void wr32(void *ctx, unsigned bar, uint64_t off, uint32_t v)
{
	assert_ptr_equal(ctx, &fake);
	mmio_write(bar, off, 4, v);
}

static uint64_t now_ns(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return fake.now;
}

static const struct vnh_ops ops = { &fake, cfg_read32, rd8, rd16, rd32, wr8, wr16, wr32, now_ns };

static const uint64_t bars[6] = { 0, 0, 0, 0, BAR_SIZE, 0 };

/* ---- the tests ---- */

static void on_rx(void *arg, const void *buf, unsigned len)
{
	assert_ptr_equal(arg, &got);
	assert_true(len >= 1 && len <= VNH_ETH_MAX_RX);
	assert_true((const uint8_t *)buf >= mem[VNH_PG_RX_BUF0] &&
		    (const uint8_t *)buf + len <= mem[VNH_PG_TX_BUF0]);
	memcpy(got.data, buf, len);
	got.len = len;
	got.buf = buf;
	got.calls++;
}

static int init_dev(void)
{
	struct vnh_dma_page pages[VNH_DMA_PAGES];

	for (unsigned i = 0; i < VNH_DMA_PAGES; i++)
		pages[i] = (struct vnh_dma_page){ mem[i], pa_of(i) };
	return vnh_init(&dev, &ops, bars, pages);
}

static int setup(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	(void)state;

	memset(&fake, 0, sizeof(fake));
	memset(&got, 0, sizeof(got));
	memset(mem, 0xEE, sizeof(mem));
	memcpy(fake.mac, mac, 6);
	caps_default();
	fake.offered = 1ull << VNH_F_VERSION_1 | 1ull << VNH_F_NET_MAC | 1ull << VNH_F_NET_STATUS |
		       1ull << 15 /* MRG_RXBUF */ | 1ull << 17 /* CTRL_VQ */ |
		       1ull << 29 /* EVENT_IDX */ | 1ull << 0 /* CSUM */;
	fake.num_queues = 3;
	fake.q[0].max = fake.q[1].max = 256;
	fake.net_status = VNH_NET_S_LINK_UP;
	fake_reset();
	fake.status = VNH_STATUS_ACKNOWLEDGE | VNH_STATUS_DRIVER; /* left by firmware */
	fake.resets = 0;
	assert_int_equal(init_dev(), VNH_OK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(fake.bad, 0);
	return 0;
}

static enum vnh_state poll_at(uint64_t now)
{
	fake.now = now;
	return vnh_poll(&dev, now);
}

static void bring_up(void)
{
	assert_int_equal(poll_at(1 * MS), VNH_S_RUNNING);
	assert_true(dev.link_up);
}

static int tx(unsigned len, uint8_t fill)
{
	uint8_t frame[VNH_ETH_MAX + 1];

	memset(frame, fill, len);
	return vnh_tx(&dev, frame, len);
}

static void bring_up_ok(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	(void)state;

	assert_int_equal(dev.state, VNH_S_OFF);
	bring_up();
	assert_int_equal(fake.resets, 1);
	assert_memory_equal(dev.mac, mac, 6);
	assert_int_equal(fake.accepted, VNH_FEATURES_WANTED);
	assert_int_equal(fake.status, VNH_STATUS_ACKNOWLEDGE | VNH_STATUS_DRIVER |
					      VNH_STATUS_FEATURES_OK | VNH_STATUS_DRIVER_OK);
	assert_int_equal(fake.q[0].size, VNH_QSIZE);
	assert_int_equal(fake.q[1].size, VNH_QSIZE);
	assert_int_equal(fake.q[0].desc, pa_of(VNH_PG_RX_RING) + VNH_DESC_OFF);
	assert_int_equal(fake.q[1].dev, pa_of(VNH_PG_TX_RING) + VNH_USED_OFF);
	assert_int_equal(fake.notifies[0], 1); /* the receive buffers, once */
	assert_int_equal(dev.rxq.busy, VNH_QSIZE);
	assert_int_equal(dev.st.resets, 0);
	assert_int_equal(dev.st.link_changes, 1);
	assert_string_equal(vnh_state_name(dev.state), "running");
}

/* A device offering fewer entries: the largest power of two not above its maximum. */
static void small_queues(void **state)
{
	(void)state;

	fake.q[0].max = 8;
	fake.q[1].max = 6;
	fake_reset();
	bring_up();
	assert_int_equal(dev.rxq.size, 8);
	assert_int_equal(dev.txq.size, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(tx(60, (uint8_t)i), VNH_OK);
	assert_int_equal(fake.nr_sent, 4);
}

static void no_version_1(void **state)
{
	(void)state;

	fake.offered &= ~(1ull << VNH_F_VERSION_1);
	assert_int_equal(poll_at(MS), VNH_S_FAILED);
	assert_true(fake.status & VNH_STATUS_FAILED);
	assert_int_equal(tx(60, 1), VNH_E_NOT_READY);
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 0);
	assert_int_equal(poll_at(10 * MS), VNH_S_FAILED);
}

static void features_ok_not_sticking(void **state)
{
	(void)state;

	fake.refuse_feat = true;
	assert_int_equal(poll_at(MS), VNH_S_FAILED);
	assert_string_equal(dev.why, "FEATURES_OK did not stick");
}

static void no_mac(void **state)
{
	(void)state;

	fake.offered &= ~(1ull << VNH_F_NET_MAC);
	assert_int_equal(poll_at(MS), VNH_S_FAILED);
	fake.offered |= 1ull << VNH_F_NET_MAC;
	fake.mac[0] = 1; /* multicast */
	assert_int_equal(init_dev(), VNH_OK);
	assert_int_equal(poll_at(MS), VNH_S_FAILED);
	memset(fake.mac, 0, 6);
	assert_int_equal(init_dev(), VNH_OK);
	assert_int_equal(poll_at(MS), VNH_S_FAILED);
}

/* Without STATUS the link is taken as up; with it, followed. */
static void link_status(void **state)
{
	(void)state;

	fake.offered &= ~(1ull << VNH_F_NET_STATUS);
	fake.net_status = 0;
	bring_up();
	assert_int_equal(fake.accepted, VNH_FEATURES_WANTED & ~(1ull << VNH_F_NET_STATUS));
	assert_int_equal(init_dev(), VNH_OK);
	fake.offered |= 1ull << VNH_F_NET_STATUS;
	assert_int_equal(poll_at(MS), VNH_S_RUNNING);
	assert_false(dev.link_up);
	assert_int_equal(tx(60, 1), VNH_E_LINK_DOWN);
	assert_int_equal(dev.st.tx_dropped, 1);
	fake.net_status = VNH_NET_S_LINK_UP;
	poll_at(2 * MS);
	assert_true(dev.link_up);
	fake.net_status = 0;
	poll_at(3 * MS);
	assert_false(dev.link_up);
	assert_int_equal(dev.st.link_changes, 2);
}

static void tx_rx_round_trip(void **state)
{
	uint8_t frame[100];
	(void)state;

	bring_up();
	assert_int_equal(tx(60, 0xAB), VNH_OK);
	assert_int_equal(fake.nr_sent, 1);
	assert_int_equal(fake.sent[0].len, 60);
	assert_int_equal(fake.sent[0].data[59], 0xAB);
	poll_at(2 * MS);
	assert_int_equal(dev.st.tx_frames, 1);
	assert_int_equal(dev.st.tx_bytes, 60);
	assert_int_equal(dev.txq.busy, 0);

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	assert_true(fake_rx(frame, sizeof(frame)));
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 1);
	assert_int_equal(got.len, sizeof(frame));
	assert_memory_equal(got.data, frame, sizeof(frame));
	assert_ptr_equal(got.buf, mem[VNH_PG_RX_BUF0] + VIRTIO_NET_HDR_SIZE);
	assert_int_equal(dev.st.rx_frames, 1);
	assert_int_equal(dev.st.rx_bytes, sizeof(frame));
	assert_int_equal(dev.rxq.busy, VNH_QSIZE);
	/* a largest frame, an empty one (dropped), bad lengths refused by vnh_tx */
	assert_true(fake_rx(frame, 0));
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 0);
	assert_int_equal(dev.st.rx_dropped, 1);
	assert_int_equal(tx(VNH_ETH_MAX, 1), VNH_OK);
	assert_int_equal(tx(VNH_ETH_MAX + 1, 1), VNH_E_INVAL);
	assert_int_equal(tx(0, 1), VNH_E_INVAL);
	assert_int_equal(dev.st.tx_dropped, 2);
}

static void tx_ring_full(void **state)
{
	(void)state;

	bring_up();
	fake.tx_hold = true;
	for (unsigned i = 0; i < VNH_QSIZE; i++)
		assert_int_equal(tx(60, (uint8_t)i), VNH_OK);
	assert_int_equal(tx(60, 0xFF), VNH_E_BUSY);
	assert_int_equal(dev.st.tx_dropped, 1);
	fake.tx_hold = false;
	run_tx();
	assert_int_equal(fake.nr_sent, VNH_QSIZE);
	/* the full queue is reclaimed by vnh_tx itself */
	assert_int_equal(tx(60, 0xFE), VNH_OK);
	assert_int_equal(dev.st.tx_frames, VNH_QSIZE);
	assert_int_equal(fake.sent[VNH_QSIZE].data[0], 0xFE);
}

/* More than 65536 frames each way: the 16-bit indices wrap. The device completes TX out of
 * order sometimes (held, then released in a batch). */
static void wrap_around(void **state)
{
	uint8_t frame[64];
	(void)state;

	bring_up();
	for (unsigned i = 0; i < 70000; i++) {
		fake.tx_hold = (i % 7) != 0;
		assert_int_equal(tx(60 + i % 8, (uint8_t)i), VNH_OK);
		frame[0] = (uint8_t)i;
		frame[1] = (uint8_t)(i >> 8);
		assert_true(fake_rx(frame, 64));
		assert_int_equal(vnh_rx(&dev, on_rx, &got), 1);
		assert_int_equal(got.data[0], (uint8_t)i);
		assert_int_equal(got.data[1], (uint8_t)(i >> 8));
		if (i % 16 == 0)
			poll_at(MS + i);
	}
	fake.tx_hold = false;
	run_tx();
	poll_at(2 * MS + 70000);
	assert_int_equal(dev.st.tx_frames, 70000);
	assert_int_equal(dev.st.rx_frames, 70000);
	assert_int_equal(dev.st.resets, 0);
	assert_true(fake.q[0].used_idx == (uint16_t)70000);
}

/* Each bad used entry: counted, the device reset, and it comes back. */
static void bad_used_entries(void **state)
{
	struct fq *rq = &fake.q[0], *tq = &fake.q[1];
	(void)state;

	bring_up();
	/* id out of range */
	assert_true(take_avail(rq) >= 0);
	push_used(rq, VNH_QSIZE, 100, 1);
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 0);
	assert_int_equal(dev.st.bad_used, 1);
	assert_int_equal(dev.state, VNH_S_RESETTING);
	assert_int_equal(poll_at(2 * MS), VNH_S_RUNNING);

	/* id not outstanding: a TX completion for a descriptor never given */
	fake.tx_hold = true;
	assert_int_equal(tx(60, 1), VNH_OK);
	push_used(tq, 5, 0, 1);
	poll_at(3 * MS);
	assert_int_equal(dev.st.bad_used, 2);
	assert_int_equal(dev.st.tx_dropped, 1); /* the frame in flight, lost */
	assert_int_equal(poll_at(4 * MS), VNH_S_RUNNING);

	/* the same id twice */
	fake.tx_hold = false;
	assert_int_equal(tx(60, 1), VNH_OK);
	push_used(tq, 0, 0, 1);
	poll_at(5 * MS);
	assert_int_equal(dev.st.bad_used, 3);
	assert_int_equal(poll_at(6 * MS), VNH_S_RUNNING);

	/* RX length past the buffer, then shorter than the header */
	uint8_t frame[60] = { 1 };
	assert_true(fake_rx(frame, 60));
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 1); /* a frame moved: resets_in_row 0 */
	assert_int_equal(take_avail(rq), 1);
	push_used(rq, 1, VIRTIO_NET_HDR_SIZE + VNH_ETH_MAX_RX + 1, 1);
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 0);
	assert_int_equal(dev.st.bad_used, 4);
	assert_int_equal(poll_at(7 * MS), VNH_S_RUNNING);
	assert_int_equal(take_avail(rq), 0);
	push_used(rq, 0, VIRTIO_NET_HDR_SIZE - 1, 1);
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 0);
	assert_int_equal(dev.st.bad_used, 5);
	assert_int_equal(poll_at(8 * MS), VNH_S_RUNNING);
	assert_true(fake_rx(frame, 60));
	assert_int_equal(vnh_rx(&dev, on_rx, &got), 1);

	/* the used index jumping past what is outstanding */
	assert_int_equal(tx(60, 1), VNH_OK); /* sent and used at once: busy 0 after reclaim */
	poll_at(9 * MS);
	push_used(tq, 0, 0, 3);
	poll_at(10 * MS);
	assert_int_equal(dev.st.bad_used, 6);
	assert_int_equal(dev.state, VNH_S_RESETTING);
	assert_int_equal(poll_at(11 * MS), VNH_S_RUNNING);
	assert_int_equal(got.calls, 2);
}

static void needs_reset(void **state)
{
	(void)state;

	bring_up();
	fake.status |= VNH_STATUS_NEEDS_RESET;
	assert_int_equal(poll_at(2 * MS), VNH_S_RESETTING);
	assert_int_equal(dev.st.needs_reset, 1);
	assert_false(dev.link_up);
	assert_int_equal(poll_at(3 * MS), VNH_S_RUNNING);
	assert_int_equal(dev.st.resets, 1);
	assert_int_equal(dev.st.link_changes, 3);
}

/* The device vanishes: all ones, reset attempts that time out, then failed. */
static void surprise_removal(void **state)
{
	(void)state;

	bring_up();
	fake.gone = true;
	assert_int_equal(poll_at(2 * MS), VNH_S_RESETTING);
	assert_int_equal(dev.st.gone, 1);
	assert_int_equal(poll_at(50 * MS), VNH_S_RESETTING);
	for (uint64_t t = 200; t < 1000; t += 150)
		poll_at(t * MS);
	assert_int_equal(dev.state, VNH_S_FAILED);
	assert_string_equal(dev.why, "too many resets");
	assert_int_equal(dev.st.resets, VNH_MAX_RESETS + 1);
}

/* NEEDS_RESET over and over with no frame moving: failed after VNH_MAX_RESETS. */
static void failed_after_resets(void **state)
{
	(void)state;

	bring_up();
	for (unsigned i = 0; i < VNH_MAX_RESETS; i++) {
		fake.status |= VNH_STATUS_NEEDS_RESET;
		assert_int_equal(poll_at((2 + 2 * i) * MS), VNH_S_RESETTING);
		assert_int_equal(poll_at((3 + 2 * i) * MS), VNH_S_RUNNING);
	}
	fake.status |= VNH_STATUS_NEEDS_RESET;
	assert_int_equal(poll_at(20 * MS), VNH_S_FAILED);
	assert_true(fake.status & VNH_STATUS_FAILED);
}

static void tx_timeout(void **state)
{
	(void)state;

	bring_up();
	fake.tx_hold = true;
	fake.now = 10 * MS;
	assert_int_equal(tx(60, 1), VNH_OK);
	assert_int_equal(poll_at(10 * MS + VNH_TX_TIMEOUT_NS - 1), VNH_S_RUNNING);
	assert_int_equal(poll_at(10 * MS + VNH_TX_TIMEOUT_NS), VNH_S_RESETTING);
	assert_int_equal(dev.st.tx_timeouts, 1);
	assert_int_equal(dev.st.tx_dropped, 1);
	fake.tx_hold = false;
	assert_int_equal(poll_at(3000 * MS), VNH_S_RUNNING);
}

static void reset_stuck(void **state)
{
	(void)state;

	fake.reset_stuck = true;
	assert_int_equal(poll_at(MS), VNH_S_RESETTING);
	for (uint64_t t = 2; t < 1000; t += 10)
		poll_at(t * MS);
	assert_int_equal(dev.state, VNH_S_FAILED);
}

static void generation_spins(void **state)
{
	(void)state;

	fake.gen_spin = true;
	assert_int_equal(poll_at(MS), VNH_S_RESETTING);
	assert_string_equal(dev.why, "config_generation kept changing");
	fake.gen_spin = false;
	assert_int_equal(poll_at(2 * MS), VNH_S_RUNNING);
}

/* VIRTQ_USED_F_NO_NOTIFY: the driver does not notify; the frames still go once the device looks. */
static void no_notify(void **state)
{
	(void)state;

	bring_up();
	assert_int_equal(tx(60, 1), VNH_OK);
	used_ring(&fake.q[1])[0] = VNH_USED_F_NO_NOTIFY;
	assert_int_equal(tx(60, 2), VNH_OK);
	assert_int_equal(fake.notifies[1], 1);
	assert_int_equal(fake.nr_sent, 1);
	used_ring(&fake.q[1])[0] = 0;
	assert_int_equal(tx(60, 3), VNH_OK);
	assert_int_equal(fake.notifies[1], 2);
	assert_int_equal(fake.nr_sent, 3);
}

/* Capabilities the driver cannot use are refused at init, before any device register. */
static void bad_caps(void **state)
{
	struct vnh_dma_page pages[VNH_DMA_PAGES];
	(void)state;

	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, 6, CC, 0x1000); /* BAR index out of range */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	assert_string_equal(dev.why, "no usable common configuration capability");
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, 2, CC, 0x1000); /* a BAR the glue did not map */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, BAR, BAR_SIZE - 0x20, 0x1000); /* past the BAR */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, BAR, 0xFFFFFFF0u, 0x20); /* offset + length wraps */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, BAR, CC, 0x20); /* shorter than the structure */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, BAR, CC + 2, 0x100); /* misaligned */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, BAR, CC, 0x1000);
	assert_int_equal(init_dev(), VNH_OK);

	put32(0x50 + 16, 3); /* multiplier not a power of two */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	assert_string_equal(dev.why, "no usable notification capability");
	put32(0x50 + 16, 1u << 20); /* insanely large */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	put32(0x50 + 16, MULT);
	cap(0x50, 0x64, VNH_CAP_NOTIFY_CFG, BAR, CC, 0x1000); /* on the common structure */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	assert_string_equal(dev.why, "capability structures overlap");
	cap(0x50, 0x64, VNH_CAP_NOTIFY_CFG, BAR, NOTIFY, 0x1000);
	cap(0x74, 0, VNH_CAP_DEVICE_CFG, BAR, NOTIFY + 0xF00, 0x1000 - 0xF00); /* inside notify */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	cap(0x74, 0, VNH_CAP_DEVICE_CFG, BAR, DEVCFG, 4); /* no room for the MAC */
	assert_int_equal(init_dev(), VNH_E_INVAL);
	cap(0x74, 0, VNH_CAP_DEVICE_CFG, BAR, DEVCFG, 0x1000);
	/* a list that loops: the walk ends, the ISR and device structures are never reached */
	put32(0x50, (fake.cfg[0x50] | 0x50 << 8 | VNH_NOTIFY_CAP_LEN << 16 |
		     (uint32_t)VNH_CAP_NOTIFY_CFG << 24));
	assert_int_equal(init_dev(), VNH_E_INVAL);
	assert_string_equal(dev.why, "no usable ISR capability");
	caps_default();
	/* a second common capability after a bad one: the first usable is taken */
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, 7, CC, 0x1000);
	cap(0x88, 0, VNH_CAP_COMMON_CFG, BAR, CC, 0x1000);
	cap(0x74, 0x88, VNH_CAP_DEVICE_CFG, BAR, DEVCFG, 0x1000);
	assert_int_equal(init_dev(), VNH_OK);
	bring_up();
	/* no capability list at all; configuration space all ones */
	put32(VNH_PCI_STATUS, 0);
	assert_int_equal(init_dev(), VNH_E_INVAL);
	memset(fake.cfg, 0xFF, sizeof(fake.cfg));
	assert_int_equal(init_dev(), VNH_E_INVAL);
	caps_default();
	/* bad DMA pages */
	for (unsigned i = 0; i < VNH_DMA_PAGES; i++)
		pages[i] = (struct vnh_dma_page){ mem[i], pa_of(i) };
	pages[3].pa += 8;
	assert_int_equal(vnh_init(&dev, &ops, bars, pages), VNH_E_INVAL);
	pages[3].pa -= 8;
	pages[4].va = NULL;
	assert_int_equal(vnh_init(&dev, &ops, bars, pages), VNH_E_INVAL);
	assert_int_equal(tx(60, 1), VNH_E_NOT_READY);
}

/* A notify offset that puts queue 1 past the notify structure: failed at bring-up. */
static void notify_outside(void **state)
{
	(void)state;

	cap(0x50, 0x64, VNH_CAP_NOTIFY_CFG, BAR, NOTIFY, 6); /* queue 1 at +4 needs 6 bytes */
	assert_int_equal(init_dev(), VNH_OK);
	bring_up();
	cap(0x50, 0x64, VNH_CAP_NOTIFY_CFG, BAR, NOTIFY, 5);
	assert_int_equal(init_dev(), VNH_OK);
	assert_int_equal(poll_at(MS), VNH_S_FAILED);
	fake.num_queues = 1;
	cap(0x50, 0x64, VNH_CAP_NOTIFY_CFG, BAR, NOTIFY, 0x1000);
	assert_int_equal(init_dev(), VNH_OK);
	assert_int_equal(poll_at(MS), VNH_S_FAILED);
	assert_string_equal(dev.why, "fewer than 2 queues");
}

static void echo(void *arg, const void *buf, unsigned len)
{
	(void)arg;
	assert_int_equal(vnh_tx(&dev, buf, len), VNH_OK);
}

static void rx_callback_transmits(void **state)
{
	uint8_t frame[80];
	(void)state;

	bring_up();
	memset(frame, 0x42, sizeof(frame));
	assert_true(fake_rx(frame, sizeof(frame)));
	assert_int_equal(vnh_rx(&dev, echo, NULL), 1);
	assert_int_equal(fake.nr_sent, 1);
	assert_memory_equal(fake.sent[0].data, frame, sizeof(frame));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bring_up_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(small_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(no_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(features_ok_not_sticking, setup, teardown),
		cmocka_unit_test_setup_teardown(no_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(link_status, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_rx_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_used_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(surprise_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_after_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(generation_spins, setup, teardown),
		cmocka_unit_test_setup_teardown(no_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(notify_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(rx_callback_transmits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
