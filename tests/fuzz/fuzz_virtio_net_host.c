/* The virtio-net host driver core (drivers/virtio_net_host.c) against a device the fuzzer plays.
 *
 * Input: a byte stream read as needed (zeros once it runs out). The first byte picks which BAR
 * holds the structures and its size, and whether a second BAR is mapped; then up to 15 bytes of
 * the PCI configuration space (which holds four good vendor capabilities) may be overwritten from
 * the input: BAR indexes, offsets, lengths, the notify multiplier, the list pointers. Then step
 * bytes drive both sides in turn: the clock advances by one of eight amounts, the driver may be
 * handed a frame to transmit (length and bytes from the input, 0 and over 1514 included), the
 * device may receive frames into the buffers the driver made available (used lengths good or
 * raw, frame bytes from the input), transmit what the driver made available (or hold it), or
 * write used entries of its own (ids, lengths, index steps from the input); then vnh_rx and
 * vnh_poll run. Register reads come from the input where they matter: device_status (the value
 * written, or raw: all ones, NEEDS_RESET, FEATURES_OK dropped), the feature words, num_queues,
 * queue sizes and notify offsets, config_generation, the MAC and the link status.
 *
 * Checked: no crash or sanitizer report (the driver's DMA pages are separate allocations); every
 * MMIO access naturally aligned, inside a BAR the glue mapped and inside one of the structures
 * the capabilities named; notifications name queue 0 or 1; configuration space reads aligned and
 * below 256; ring addresses given at queue enable aligned and inside the driver's pages; every
 * descriptor the device takes names a whole buffer of the driver's (RX buffers device-writable,
 * TX device-readable with a length of header plus 1..1514); every frame handed up 1..1518 bytes,
 * just past the header of an RX buffer the driver has taken back; the driver's books balanced at
 * every step: each queue's outstanding count equals its published minus returned entries and its
 * outstanding flags, and every frame vnh_tx accepted is accounted for exactly once: reclaimed
 * (tx_frames), lost to a reset (in tx_dropped beyond the refusals) or in flight. */
#include "drivers/virtio_net_host.h"
#include "lib/kstring.h"
#include "tests/support/virtio_pci_caps.h"
#include "tests/support/fuzz_input.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRV_BASE 0x1000000000ull
#define CC 0x0000u
#define ISR 0x1000u
#define DEVCFG 0x2000u
#define NOTIFY 0x3000u

struct fzq {
	uint16_t size, last_avail, used_idx;
	uint64_t desc, drv, dev;
	bool enabled;
};

static struct {
	uint8_t cfg[256];
	uint64_t bar_size[6];
	uint8_t status;
	uint32_t dfsel, drfsel;
	uint16_t qsel;
	struct fzq q[2];
	uint64_t now;
	uint64_t tx_ok, tx_refused;
} fz;

static uint8_t *drv_pages[VNH_DMA_PAGES];
static struct vnh_dev dev;

/* The driver's memory at pa for len bytes, inside one of its pages, or abort. */
static uint8_t *drv_mem(uint64_t pa, uint64_t len)
{
	uint64_t i = (pa - DRV_BASE) / VNH_PAGE_SIZE, in = pa % VNH_PAGE_SIZE;

	if (pa < DRV_BASE || i >= VNH_DMA_PAGES || len > VNH_PAGE_SIZE - in)
		abort();
	return drv_pages[i] + in;
}

static void put32(unsigned off, uint32_t v)
{
	vcap_put32(fz.cfg, off, v);
}

static void cap(unsigned ptr, unsigned next, unsigned type, unsigned bar, uint32_t off,
		uint32_t len)
{
	vcap_put(fz.cfg, ptr, next, type, bar, off, len, 4);
}

static uint32_t cfg_read32(void *ctx, uint32_t off)
{
	uint32_t v;

	(void)ctx;
	if (off % 4 || off >= 256)
		abort();
	memcpy(&v, &fz.cfg[off], 4);
	return v;
}

static void dev_reset(void)
{
	fz.status = 0;
	memset(fz.q, 0, sizeof(fz.q));
}

static bool in(const struct vnh_region *r, unsigned bar, uint64_t off, unsigned size)
{
	return bar == r->bar && off >= r->off && off + size <= r->off + r->len;
}

/* Every access: aligned, inside a mapped BAR, inside a structure the driver found. Returns
 * which: 'c' common, 'n' notify, 'd' device configuration. */
static char where(unsigned bar, uint64_t off, unsigned size)
{
	if (bar >= 6 || off % size || off + size > fz.bar_size[bar] || off + size < off)
		abort();
	if (in(&dev.common, bar, off, size) && off - dev.common.off < VNH_CC_SIZE)
		return 'c';
	if (in(&dev.notify, bar, off, size))
		return 'n';
	if (in(&dev.device, bar, off, size) && off - dev.device.off < VNH_NET_CFG_SIZE)
		return 'd';
	abort();
}

static struct fzq *selq(void)
{
	return fz.qsel < 2 ? &fz.q[fz.qsel] : NULL;
}

static uint32_t cc_read(uint64_t off)
{
	struct fzq *q = selq();
	uint8_t b;

	switch (off) {
	case VNH_CC_DEVICE_FEATURE:
		if (u8() & 0x80)
			return (uint32_t)un(4);
		if (fz.dfsel == 0) /* MAC, STATUS and MRG_RXBUF (which the driver must not take) */
			return 1u << VNH_F_NET_MAC | 1u << VNH_F_NET_STATUS | 1u << 15;
		return fz.dfsel == 1 ? 1u : 0; /* VERSION_1 */
	case VNH_CC_NUM_QUEUES:
		return (u8() & 0xC0) == 0xC0 ? (uint32_t)u8() : 3;
	case VNH_CC_DEVICE_STATUS:
		b = u8();
		if (b < 0xE0)
			return fz.status;
		return b == 0xFF ? 0xFF : u8();
	case VNH_CC_CONFIG_GENERATION:
		return (u8() & 0xF0) == 0xF0 ? u8() : 0;
	case VNH_CC_QUEUE_SIZE:
		return (u8() & 0xC0) == 0xC0 ? (uint32_t)un(2) : 256;
	case VNH_CC_QUEUE_NOTIFY_OFF:
		return (u8() & 0xC0) == 0xC0 ? (uint32_t)un(2) : fz.qsel;
	case VNH_CC_QUEUE_SELECT:
		return fz.qsel;
	case VNH_CC_QUEUE_ENABLE:
		return q && q->enabled;
	default:
		return (uint32_t)un(4);
	}
}

static uint64_t set_half(uint64_t v, uint64_t off, uint32_t w)
{
	return off % 8 ? (v & 0xFFFFFFFFu) | (uint64_t)w << 32 : (v & ~0xFFFFFFFFull) | w;
}

static void cc_write(uint64_t off, uint32_t v)
{
	struct fzq *q = selq();

	switch (off) {
	case VNH_CC_DEVICE_FEATURE_SELECT:
		fz.dfsel = v;
		break;
	case VNH_CC_DRIVER_FEATURE_SELECT:
		fz.drfsel = v;
		break;
	case VNH_CC_DRIVER_FEATURE: /* only VERSION_1, MAC and STATUS are ever accepted */
		if (fz.drfsel < 2 && ((uint64_t)v << (32 * fz.drfsel)) & ~VNH_FEATURES_WANTED)
			abort();
		break;
	case VNH_CC_DEVICE_STATUS:
		if (v == 0)
			dev_reset();
		else
			fz.status = (uint8_t)v;
		break;
	case VNH_CC_QUEUE_SELECT:
		fz.qsel = (uint16_t)v;
		break;
	case VNH_CC_QUEUE_SIZE:
		if (!q || v == 0 || v > VNH_QSIZE || (v & (v - 1)))
			abort();
		q->size = (uint16_t)v;
		break;
	case VNH_CC_QUEUE_DESC:
	case VNH_CC_QUEUE_DESC + 4:
		if (q)
			q->desc = set_half(q->desc, off, v);
		break;
	case VNH_CC_QUEUE_DRIVER:
	case VNH_CC_QUEUE_DRIVER + 4:
		if (q)
			q->drv = set_half(q->drv, off, v);
		break;
	case VNH_CC_QUEUE_DEVICE:
	case VNH_CC_QUEUE_DEVICE + 4:
		if (q)
			q->dev = set_half(q->dev, off, v);
		break;
	case VNH_CC_QUEUE_ENABLE:
		/* the rings: aligned (2.7) and inside the driver's pages */
		if (!q || q->size == 0 || q->desc % 16 || q->drv % 2 || q->dev % 4)
			abort();
		drv_mem(q->desc, 16ull * q->size);
		drv_mem(q->drv, 6 + 2ull * q->size);
		drv_mem(q->dev, 6 + 8ull * q->size);
		q->enabled = true;
		break;
	default:
		break;
	}
}

static uint32_t mmio_read(unsigned bar, uint64_t off, unsigned size)
{
	switch (where(bar, off, size)) {
	case 'c':
		return cc_read(off - dev.common.off);
	case 'd':
		if (off - dev.device.off < 6 && (u8() & 0xE0) != 0xE0)
			return (uint32_t)(off - dev.device.off == 0 ? 0x52 : 0x10 + off);
		return (uint32_t)un(size);
	default:
		return (uint32_t)un(size);
	}
}

static void dev_tx(void);

static void mmio_write(unsigned bar, uint64_t off, unsigned size, uint32_t v)
{
	switch (where(bar, off, size)) {
	case 'c':
		cc_write(off - dev.common.off, v);
		break;
	case 'n':
		if (size != 2 || v > 1)
			abort();
		if (v == 1 && (u8() & 3) == 0)
			dev_tx();
		break;
	default:
		break;
	}
}

static uint8_t rd8(void *c, unsigned bar, uint64_t off)
{
	(void)c;
	return (uint8_t)mmio_read(bar, off, 1);
}

static uint16_t rd16(void *c, unsigned bar, uint64_t off)
{
	(void)c;
	return (uint16_t)mmio_read(bar, off, 2);
}

static uint32_t rd32(void *c, unsigned bar, uint64_t off)
{
	(void)c;
	return mmio_read(bar, off, 4);
}

static void wr8(void *c, unsigned bar, uint64_t off, uint8_t v)
{
	(void)c;
	mmio_write(bar, off, 1, v);
}

static void wr16(void *c, unsigned bar, uint64_t off, uint16_t v)
{
	(void)c;
	mmio_write(bar, off, 2, v);
}

static void wr32(void *c, unsigned bar, uint64_t off, uint32_t v)
{
	(void)c;
	mmio_write(bar, off, 4, v);
}

static uint64_t now_ns(void *ctx)
{
	(void)ctx;
	return fz.now;
}

static const struct vnh_ops ops = { NULL, cfg_read32, rd8, rd16, rd32, wr8, wr16, wr32, now_ns };

static bool live(const struct fzq *q)
{
	return q->enabled && (fz.status & VNH_STATUS_DRIVER_OK);
}

/* A used entry pushed; the index moves by step. */
static void push_used(struct fzq *q, uint32_t id, uint32_t len, uint16_t step)
{
	uint8_t *u = drv_mem(q->dev, 6 + 8ull * q->size);
	uint32_t e[2] = { id, len };

	memcpy(u + 4 + 8 * (q->used_idx % q->size), e, 8);
	q->used_idx = (uint16_t)(q->used_idx + step);
	memcpy(u + 2, &q->used_idx, 2);
}

/* The next available descriptor of q, checked: a head inside the queue whose descriptor names
 * a whole buffer of the driver's. NULL when there is none. */
static const struct vnh_desc *take_avail(struct fzq *q, uint16_t *head)
{
	const uint16_t *a;
	const struct vnh_desc *d;
	uint16_t idx;

	if (!live(q))
		return NULL;
	a = (const uint16_t *)drv_mem(q->drv, 6 + 2ull * q->size);
	idx = a[1];
	if (idx == q->last_avail)
		return NULL;
	if ((uint16_t)(idx - q->last_avail) > q->size) /* fell behind (its own fake completions) */
		q->last_avail = (uint16_t)(idx - q->size);
	*head = a[2 + q->last_avail % q->size];
	q->last_avail++;
	if (*head >= q->size)
		abort();
	d = (const struct vnh_desc *)drv_mem(q->desc + 16ull * *head, 16);
	drv_mem(d->addr, d->len);
	return d;
}

static void dev_tx(void)
{
	struct fzq *q = &fz.q[1];
	const struct vnh_desc *d;
	uint16_t head;

	while ((d = take_avail(q, &head)) != NULL) {
		if (d->flags != 0 || d->len <= VIRTIO_NET_HDR_SIZE ||
		    d->len > VIRTIO_NET_HDR_SIZE + VNH_ETH_MAX)
			abort();
		push_used(q, head, (u8() & 0x80) ? (uint32_t)un(4) : 0, 1);
		if (u8() & 0x80)
			break; /* the rest later */
	}
}

/* Up to 4 frames into the buffers made available. */
static void dev_rx(void)
{
	struct fzq *q = &fz.q[0];

	for (unsigned count = 1 + u8() % 4; count; count--) {
		const struct vnh_desc *d;
		uint16_t head;
		uint8_t kind = u8();
		unsigned len = (unsigned)un(2) % (VNH_ETH_MAX_RX + 1);
		uint8_t *buf;

		if (!(d = take_avail(q, &head)))
			return;
		if (d->flags != VNH_DESC_F_WRITE || d->len != VIRTIO_NET_HDR_SIZE + VNH_ETH_MAX_RX)
			abort();
		buf = drv_mem(d->addr, d->len);
		for (unsigned i = 0, m = u8() % 32; i < m; i++)
			buf[VIRTIO_NET_HDR_SIZE + i] = u8();
		push_used(q, head, (kind & 1) ? (uint32_t)un(4) : VIRTIO_NET_HDR_SIZE + len,
			  (kind & 2) ? (uint16_t)(u8() % 4) : 1);
	}
}

/* Used entries made up by the device: any id, length, index step. */
static void dev_scribble(void)
{
	struct fzq *q = &fz.q[u8() & 1];

	if (!live(q))
		return;
	for (unsigned i = 0, m = 1 + u8() % 4; i < m; i++) {
		uint32_t id = (u8() & 0x80) ? (uint32_t)un(4) : u8() % VNH_QSIZE;

		push_used(q, id, (uint32_t)un(2), (uint16_t)(u8() % 3));
	}
}

static void on_rx(void *arg, const void *buf, unsigned len)
{
	const uint8_t *b = buf;
	bool ours = false;
	volatile uint8_t sum = 0;

	(void)arg;
	if (len < 1 || len > VNH_ETH_MAX_RX)
		abort();
	for (unsigned i = 0; i < VNH_QSIZE; i++)
		if (b == drv_pages[VNH_PG_RX_BUF0 + i / VNH_BUFS_PER_PAGE] +
				 (i % VNH_BUFS_PER_PAGE) * VNH_BUF_SIZE + VIRTIO_NET_HDR_SIZE) {
			if (i >= dev.rxq.size || dev.rxq.out[i])
				abort(); /* a buffer the device still has */
			ours = true;
		}
	if (!ours)
		abort();
	for (unsigned i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
}

static void driver_tx(void)
{
	uint8_t frame[1600];
	unsigned len = (unsigned)un(2) % sizeof(frame);
	int rc;

	memset(frame, u8(), len);
	rc = vnh_tx(&dev, frame, len);
	if (rc == VNH_OK)
		fz.tx_ok++;
	else if (rc < 0)
		fz.tx_refused++;
	else
		abort();
}

static void check_queue(const struct vnh_queue *q)
{
	unsigned out = 0;

	if (q->size > VNH_QSIZE || (q->size & (q->size - 1)) || q->busy > q->size)
		abort();
	for (unsigned i = 0; i < VNH_QSIZE; i++)
		out += q->out[i];
	if (out != q->busy || (uint16_t)(q->avail_idx - q->used_seen) != q->busy)
		abort();
}

static void check(void)
{
	const struct vnh_stats *s = &dev.st;

	if (s->tx_dropped < fz.tx_refused)
		abort();
	if (fz.tx_ok != s->tx_frames + (s->tx_dropped - fz.tx_refused) + dev.txq.busy)
		abort();
	if (dev.state > VNH_S_FAILED)
		abort();
	check_queue(&dev.rxq);
	check_queue(&dev.txq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t dt[8] = { 0,	   1000,       1000000,	   10000000,
					100000000, 1000000000, 2100000000, 0 };
	static const uint64_t bar_sizes[4] = { 0x4000, 0x3000, 0x10000, 0x2000 };
	struct vnh_dma_page pages[VNH_DMA_PAGES];
	uint8_t mode;
	unsigned bar;

	if (!drv_pages[0])
		for (unsigned i = 0; i < VNH_DMA_PAGES; i++)
			drv_pages[i] = aligned_alloc(VNH_PAGE_SIZE, VNH_PAGE_SIZE);
	memset(&fz, 0, sizeof(fz));
	memset(&dev, 0, sizeof(dev));
	fuzz_input_start(data, size);
	mode = u8();
	bar = (mode & 0x70) == 0x70 ? 0 : 4;
	fz.bar_size[bar] = bar_sizes[(mode >> 1) & 3];
	if (mode & 0x80)
		fz.bar_size[2] = 0x1000;
	put32(VNH_PCI_STATUS, (uint32_t)VNH_PCI_STATUS_CAP_LIST << 16);
	put32(VNH_PCI_CAP_PTR, 0x40);
	cap(0x40, 0x50, VNH_CAP_COMMON_CFG, bar, CC, 0x1000);
	cap(0x50, 0x64, VNH_CAP_NOTIFY_CFG, bar, NOTIFY, 0x1000);
	cap(0x64, 0x74, VNH_CAP_ISR_CFG, bar, ISR, 0x1000);
	cap(0x74, 0, VNH_CAP_DEVICE_CFG, bar, DEVCFG, 0x1000);
	if (mode & 1)
		for (unsigned i = 0, m = u8() % 16; i < m; i++) {
			uint8_t off = u8();

			fz.cfg[off] = u8();
		}
	for (unsigned i = 0; i < VNH_DMA_PAGES; i++) {
		memset(drv_pages[i], 0xEE, VNH_PAGE_SIZE);
		pages[i] = (struct vnh_dma_page){ drv_pages[i], DRV_BASE + i * VNH_PAGE_SIZE };
	}
	if (vnh_init(&dev, &ops, fz.bar_size, pages) != VNH_OK) {
		if (!(mode & 1) && fz.bar_size[bar] >= 0x4000)
			abort(); /* good capabilities inside their BAR refused */
		return 0;
	}

	for (unsigned steps = 0; fuzz_input_left() && steps < 4000; steps++) {
		uint8_t s = u8();

		fz.now += (s & 7) == 7 ? un(4) : dt[s & 7];
		if (s & 0x08)
			driver_tx();
		if (s & 0x10)
			dev_rx();
		if (s & 0x20)
			dev_tx();
		if (s & 0x40)
			dev_scribble();
		if (s & 0x80)
			vnh_rx(&dev, on_rx, NULL);
		vnh_poll(&dev, fz.now);
		check();
	}
	/* the input is over: the device transmits everything, time runs on */
	for (unsigned i = 0; i < 50; i++) {
		fz.now += 100000000ull;
		if (live(&fz.q[1]))
			dev_tx();
		vnh_rx(&dev, on_rx, NULL);
		vnh_poll(&dev, fz.now);
		check();
	}
	return 0;
}
