/* keel's virtio-net host driver core (drivers/virtio_net_host.h): the capability walk, reset and
 * bring-up as a polled step function (virtio 1.2, 3.1.1), receiveq1 and transmitq1 as split
 * virtqueues (2.7), used ring checks, link following and resets. Section numbers are virtio
 * 1.2's; drivers/virtio_net_host_regs.h says which were verified. */
#include "drivers/virtio_net_host.h"
#include "lib/kstring.h"

/* ---- register and DMA memory access ---------------------------------------------------------- */

static uint8_t cc_rd8(const struct vnh_dev *d, uint64_t off)
{
	return d->ops->read8(d->ops->ctx, d->common.bar, d->common.off + off);
}

static uint16_t cc_rd16(const struct vnh_dev *d, uint64_t off)
{
	return d->ops->read16(d->ops->ctx, d->common.bar, d->common.off + off);
}

static uint32_t cc_rd32(const struct vnh_dev *d, uint64_t off)
{
	return d->ops->read32(d->ops->ctx, d->common.bar, d->common.off + off);
}

static void cc_wr8(const struct vnh_dev *d, uint64_t off, uint8_t v)
{
	d->ops->write8(d->ops->ctx, d->common.bar, d->common.off + off, v);
}

static void cc_wr16(const struct vnh_dev *d, uint64_t off, uint16_t v)
{
	d->ops->write16(d->ops->ctx, d->common.bar, d->common.off + off, v);
}

static void cc_wr32(const struct vnh_dev *d, uint64_t off, uint32_t v)
{
	d->ops->write32(d->ops->ctx, d->common.bar, d->common.off + off, v);
}

/* A 64-bit field as two 32-bit halves, low first (4.1.3.1 allows it). */
static void cc_wr64(const struct vnh_dev *d, uint64_t off, uint64_t v)
{
	cc_wr32(d, off, (uint32_t)v);
	cc_wr32(d, off + 4, (uint32_t)(v >> 32));
}

/* now + ns, saturating */
static uint64_t after(uint64_t t, uint64_t ns)
{
	return t > UINT64_MAX - ns ? UINT64_MAX : t + ns;
}

static unsigned ring_page(const struct vnh_queue *q, const struct vnh_dev *d)
{
	return q == &d->rxq ? VNH_PG_RX_RING : VNH_PG_TX_RING;
}

/* The device may write the rings at any time: each field it writes is read once, through a
 * volatile pointer, and the value read is the one checked and used. */
static volatile struct vnh_desc *desc(const struct vnh_dev *d, const struct vnh_queue *q,
				      unsigned i)
{
	return (volatile struct vnh_desc *)((uint8_t *)d->dma[ring_page(q, d)].va + VNH_DESC_OFF) +
	       i;
}

/* le16 flags, le16 idx, le16 ring[size] */
static volatile uint16_t *avail(const struct vnh_dev *d, const struct vnh_queue *q)
{
	return (volatile uint16_t *)((uint8_t *)d->dma[ring_page(q, d)].va + VNH_AVAIL_OFF);
}

/* le16 flags, le16 idx, then the elements */
static volatile uint16_t *used_hdr(const struct vnh_dev *d, const struct vnh_queue *q)
{
	return (volatile uint16_t *)((uint8_t *)d->dma[ring_page(q, d)].va + VNH_USED_OFF);
}

static volatile struct vnh_used_elem *used_elem(const struct vnh_dev *d, const struct vnh_queue *q,
						unsigned i)
{
	return (volatile struct vnh_used_elem *)((uint8_t *)d->dma[ring_page(q, d)].va +
						 VNH_USED_OFF + 4) +
	       i;
}

/* Buffer i of the RX (first = VNH_PG_RX_BUF0) or TX buffers: page i / 2, half i % 2. */
static uint8_t *buf_va(const struct vnh_dev *d, unsigned first, unsigned i)
{
	return (uint8_t *)d->dma[first + i / VNH_BUFS_PER_PAGE].va +
	       (size_t)(i % VNH_BUFS_PER_PAGE) * VNH_BUF_SIZE;
}

static uint64_t buf_pa(const struct vnh_dev *d, unsigned first, unsigned i)
{
	return d->dma[first + i / VNH_BUFS_PER_PAGE].pa +
	       (uint64_t)(i % VNH_BUFS_PER_PAGE) * VNH_BUF_SIZE;
}

const char *vnh_state_name(enum vnh_state s)
{
	switch (s) {
	case VNH_S_OFF:
		return "off";
	case VNH_S_RESETTING:
		return "resetting";
	case VNH_S_RUNNING:
		return "running";
	case VNH_S_FAILED:
		return "failed";
	}
	return "?";
}

/* ---- capabilities (4.1.4) -------------------------------------------------------------------- */

/* One vendor capability at ptr of cfg_type type: whether its BAR, offset and length are usable
 * for a structure of at least min bytes with offset aligned to align. */
static bool region_ok(const struct vnh_dev *d, const struct vnh_region *r, uint64_t min,
		      uint64_t align)
{
	return r->bar < VNH_NR_BARS && d->bar_size[r->bar] != 0 && r->len >= min &&
	       IS_ALIGNED(r->off, align) && range_within(r->off, r->len, d->bar_size[r->bar]);
}

/* The notify multiplier: 0 (every queue at the same address) or an even power of two
 * (4.1.4.4), and at most a page: keel's bound, so a queue's address stays near the start. */
static bool mult_ok(uint32_t m)
{
	return m == 0 || (m >= 2 && m <= VNH_PAGE_SIZE && (m & (m - 1)) == 0);
}

static bool overlap(const struct vnh_region *a, const struct vnh_region *b)
{
	return a->bar == b->bar && a->off < b->off + b->len && b->off < a->off + a->len;
}

/* Walks the capability list (at most VNH_PCI_MAX_CAPS entries: a list that loops ends there)
 * and keeps, of each structure keel needs, the first one it can use (4.1.4: the device lists
 * them in its order of preference). Returns NULL or why not. */
static const char *find_caps(struct vnh_dev *d)
{
	const struct vnh_ops *o = d->ops;
	bool common = false, notify = false, isr = false, device = false;
	uint32_t st = o->cfg_read32(o->ctx, VNH_PCI_STATUS);
	unsigned ptr;

	if (st == 0xFFFFFFFFu)
		return "configuration space reads all ones";
	if (!((st >> 16) & VNH_PCI_STATUS_CAP_LIST))
		return "no capability list";
	ptr = o->cfg_read32(o->ctx, VNH_PCI_CAP_PTR) & 0xFC;
	for (unsigned n = 0; n < VNH_PCI_MAX_CAPS && ptr >= 0x40; n++) {
		uint32_t h = o->cfg_read32(o->ctx, ptr);
		unsigned next = (h >> 8) & 0xFC, len = (h >> 16) & 0xFF, type = h >> 24;
		struct vnh_region r;

		if ((h & 0xFF) != VNH_PCI_CAP_ID_VNDR || len < VNH_CAP_LEN ||
		    ptr + VNH_CAP_LEN > 256) {
			ptr = next;
			continue;
		}
		r.bar = o->cfg_read32(o->ctx, ptr + 4) & 0xFF;
		r.off = o->cfg_read32(o->ctx, ptr + 8);
		r.len = o->cfg_read32(o->ctx, ptr + 12);
		switch (type) {
		case VNH_CAP_COMMON_CFG: /* 4.1.4.3: 4-byte aligned */
			if (!common && region_ok(d, &r, VNH_CC_SIZE, 4)) {
				d->common = r;
				common = true;
			}
			break;
		case VNH_CAP_NOTIFY_CFG: /* 4.1.4.4: 2-byte aligned, at least 2 bytes */
			if (!notify && len >= VNH_NOTIFY_CAP_LEN &&
			    ptr + VNH_NOTIFY_CAP_LEN <= 256 && region_ok(d, &r, 2, 2)) {
				uint32_t m = o->cfg_read32(o->ctx, ptr + 16);

				if (mult_ok(m)) {
					d->notify = r;
					d->notify_mult = m;
					notify = true;
				}
			}
			break;
		case VNH_CAP_ISR_CFG: /* 4.1.4.5: one byte; found, not read (keel polls) */
			if (!isr && region_ok(d, &r, 1, 1)) {
				d->isr = r;
				isr = true;
			}
			break;
		case VNH_CAP_DEVICE_CFG: /* 4.1.4.6: 4-byte aligned; the MAC at least */
			if (!device && region_ok(d, &r, VNH_NET_CFG_STATUS, 4)) {
				d->device = r;
				device = true;
			}
			break;
		default: /* other and reserved types are ignored (4.1.4) */
			break;
		}
		ptr = next;
	}
	if (!common)
		return "no usable common configuration capability";
	if (!notify)
		return "no usable notification capability";
	if (!isr)
		return "no usable ISR capability";
	if (!device)
		return "no usable device configuration capability";
	/* a notification or a configuration access must not land on another structure */
	if (overlap(&d->common, &d->notify) || overlap(&d->common, &d->device) ||
	    overlap(&d->notify, &d->device))
		return "capability structures overlap";
	return NULL;
}

/* ---- resets ---------------------------------------------------------------------------------- */

static void set_link(struct vnh_dev *d, bool up)
{
	if (up != d->link_up)
		d->st.link_changes++;
	d->link_up = up;
}

/* Frames queued but not reclaimed are lost: counted once, as dropped. Both queues forgotten. */
static void forget_queues(struct vnh_dev *d)
{
	d->st.tx_dropped += d->txq.busy;
	memset(&d->rxq, 0, sizeof(d->rxq));
	memset(&d->txq, 0, sizeof(d->txq));
}

/* Gives up on the device: a reset (so it stops using the queues), then FAILED (3.1.1: the
 * driver sets it when it gives up). */
static void dev_fail(struct vnh_dev *d, const char *why)
{
	cc_wr8(d, VNH_CC_DEVICE_STATUS, 0);
	cc_wr8(d, VNH_CC_DEVICE_STATUS, VNH_STATUS_FAILED);
	forget_queues(d);
	set_link(d, false);
	d->state = VNH_S_FAILED;
	d->why = why;
}

/* A reset: device_status 0 (4.1.4.3.2: the driver then waits until it reads 0). counted: any
 * reset but bring-up's own; more than VNH_MAX_RESETS in a row without a frame moving fail the
 * device. */
static void dev_reset(struct vnh_dev *d, uint64_t now, const char *why, bool counted)
{
	forget_queues(d);
	set_link(d, false);
	d->why = why;
	if (counted) {
		d->st.resets++;
		if (++d->resets_in_row > VNH_MAX_RESETS) {
			dev_fail(d, "too many resets");
			return;
		}
	}
	cc_wr8(d, VNH_CC_DEVICE_STATUS, 0);
	d->state = VNH_S_RESETTING;
	d->since = now;
}

/* A used entry a well-behaved device never writes: counted, and the device reset. */
static void bad_used(struct vnh_dev *d, const char *why)
{
	d->st.bad_used++;
	dev_reset(d, d->ops->now_ns(d->ops->ctx), why, true);
}

/* ---- bring-up (3.1.1) ------------------------------------------------------------------------ */

/* A station address keel can use: not multicast (bit 0 of the first byte), not all zeros. */
static bool mac_ok(const uint8_t m[6])
{
	static const uint8_t zero[6];

	return (m[0] & 1) == 0 && memcmp(m, zero, 6) != 0;
}

static uint8_t status_rd(const struct vnh_dev *d)
{
	return cc_rd8(d, VNH_CC_DEVICE_STATUS);
}

static uint64_t features_rd(const struct vnh_dev *d)
{
	uint64_t f;

	cc_wr32(d, VNH_CC_DEVICE_FEATURE_SELECT, 0);
	f = cc_rd32(d, VNH_CC_DEVICE_FEATURE);
	cc_wr32(d, VNH_CC_DEVICE_FEATURE_SELECT, 1);
	return f | (uint64_t)cc_rd32(d, VNH_CC_DEVICE_FEATURE) << 32;
}

static void features_wr(const struct vnh_dev *d, uint64_t f)
{
	cc_wr32(d, VNH_CC_DRIVER_FEATURE_SELECT, 0);
	cc_wr32(d, VNH_CC_DRIVER_FEATURE, (uint32_t)f);
	cc_wr32(d, VNH_CC_DRIVER_FEATURE_SELECT, 1);
	cc_wr32(d, VNH_CC_DRIVER_FEATURE, (uint32_t)(f >> 32));
}

/* Queue qi (4.1.5.1.3, virtqueue configuration): its size (the device's maximum, at most
 * VNH_QSIZE, rounded down to a power of two as split rings need, 2.7), its notification address
 * (checked inside the notify structure), the three ring addresses in its page, then enabled.
 * The rings start empty; RX descriptors each name their buffer, device-writable. Returns NULL
 * or why not. */
static const char *setup_queue(struct vnh_dev *d, struct vnh_queue *q, uint16_t qi)
{
	unsigned pg = ring_page(q, d);
	uint64_t pa = d->dma[pg].pa, noff;
	uint16_t max, size = VNH_QSIZE;

	memset(q, 0, sizeof(*q));
	memset(d->dma[pg].va, 0, VNH_PAGE_SIZE);
	cc_wr16(d, VNH_CC_QUEUE_SELECT, qi);
	max = cc_rd16(d, VNH_CC_QUEUE_SIZE);
	if (max == 0)
		return "a queue is not available (size 0)";
	while (size > max)
		size /= 2;
	noff = (uint64_t)cc_rd16(d, VNH_CC_QUEUE_NOTIFY_OFF) * d->notify_mult;
	if (!range_within(noff, 2, d->notify.len))
		return "a queue's notification address is outside the notify structure";
	q->size = size;
	q->notify_off = noff;
	cc_wr16(d, VNH_CC_QUEUE_SIZE, size);
	cc_wr16(d, VNH_CC_QUEUE_MSIX_VECTOR, VNH_NO_VECTOR);
	cc_wr64(d, VNH_CC_QUEUE_DESC, pa + VNH_DESC_OFF);
	cc_wr64(d, VNH_CC_QUEUE_DRIVER, pa + VNH_AVAIL_OFF);
	cc_wr64(d, VNH_CC_QUEUE_DEVICE, pa + VNH_USED_OFF);
	avail(d, q)[0] = VNH_AVAIL_F_NO_INTERRUPT; /* 2.7.7: keel polls */
	cc_wr16(d, VNH_CC_QUEUE_ENABLE, 1);
	return NULL;
}

/* Makes the available entries written since the last call visible, then notifies queue qi
 * unless the device said it does not need it. */
static void publish(struct vnh_dev *d, struct vnh_queue *q, uint16_t qi)
{
	/* 2.7.13.3: the ring entries (and descriptors, buffers) before the index that shows them */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail(d, q)[1] = q->avail_idx;
	/* 2.7.13.4: the index is visible before the device's flags are read (a full barrier:
	 * store then load) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(used_hdr(d, q)[0] & VNH_USED_F_NO_NOTIFY))
		d->ops->write16(d->ops->ctx, d->notify.bar, d->notify.off + q->notify_off, qi);
}

/* RX descriptor i made available again: its own buffer, whatever was written over it. */
static void rx_post(struct vnh_dev *d, unsigned i)
{
	volatile struct vnh_desc *e = desc(d, &d->rxq, i);

	e->addr = buf_pa(d, VNH_PG_RX_BUF0, i);
	e->len = VIRTIO_NET_HDR_SIZE + VNH_ETH_MAX_RX;
	e->flags = VNH_DESC_F_WRITE;
	e->next = 0;
	avail(d, &d->rxq)[2 + d->rxq.avail_idx % d->rxq.size] = (uint16_t)i;
	d->rxq.avail_idx++;
	d->rxq.out[i] = true;
	d->rxq.busy++;
}

/* The MAC address and link status, read between two equal config_generation values (2.4.1: the
 * configuration may change under a read of several fields). Returns false when it kept changing. */
static bool read_config(struct vnh_dev *d, uint16_t *status)
{
	for (unsigned t = 0; t < VNH_GEN_TRIES; t++) {
		uint8_t g = cc_rd8(d, VNH_CC_CONFIG_GENERATION);

		for (unsigned i = 0; i < 6; i++)
			d->mac[i] = d->ops->read8(d->ops->ctx, d->device.bar,
						  d->device.off + VNH_NET_CFG_MAC + i);
		*status = VNH_NET_S_LINK_UP;
		if (d->features & (1ull << VNH_F_NET_STATUS))
			*status = d->ops->read16(d->ops->ctx, d->device.bar,
						 d->device.off + VNH_NET_CFG_STATUS);
		if (cc_rd8(d, VNH_CC_CONFIG_GENERATION) == g)
			return true;
	}
	return false;
}

/* device_status has read 0: the initialisation sequence of 3.1.1, all of it in this call (no
 * step waits for the device). */
static void bring_up(struct vnh_dev *d, uint64_t now)
{
	uint64_t want = VNH_FEATURES_WANTED;
	uint16_t status;
	uint8_t s;
	const char *why;

	cc_wr8(d, VNH_CC_DEVICE_STATUS, VNH_STATUS_ACKNOWLEDGE);
	cc_wr8(d, VNH_CC_DEVICE_STATUS, VNH_STATUS_ACKNOWLEDGE | VNH_STATUS_DRIVER);
	/* the status field needs the configuration to reach it */
	if (d->device.len < VNH_NET_CFG_SIZE)
		want &= ~(1ull << VNH_F_NET_STATUS);
	d->features = features_rd(d);
	if (!(d->features & (1ull << VNH_F_VERSION_1))) {
		dev_fail(d, "the device does not offer VIRTIO_F_VERSION_1");
		return;
	}
	if (!(d->features & (1ull << VNH_F_NET_MAC))) {
		dev_fail(d, "the device has no MAC address (VIRTIO_NET_F_MAC)");
		return;
	}
	d->features &= want;
	features_wr(d, d->features);
	cc_wr8(d, VNH_CC_DEVICE_STATUS,
	       VNH_STATUS_ACKNOWLEDGE | VNH_STATUS_DRIVER | VNH_STATUS_FEATURES_OK);
	s = status_rd(d);
	if (s == 0xFF) {
		d->st.gone++;
		dev_reset(d, now, "device_status reads all ones", true);
		return;
	}
	if (!(s & VNH_STATUS_FEATURES_OK)) { /* 3.1.1 step 6: the device refused the subset */
		dev_fail(d, "FEATURES_OK did not stick");
		return;
	}
	if (cc_rd16(d, VNH_CC_NUM_QUEUES) < 2) {
		dev_fail(d, "fewer than 2 queues");
		return;
	}
	why = setup_queue(d, &d->rxq, VNH_QUEUE_RX);
	if (!why)
		why = setup_queue(d, &d->txq, VNH_QUEUE_TX);
	if (why) {
		dev_fail(d, why);
		return;
	}
	if (!read_config(d, &status)) {
		dev_reset(d, now, "config_generation kept changing", true);
		return;
	}
	if (!mac_ok(d->mac)) {
		dev_fail(d, "the device's MAC address is multicast or zero");
		return;
	}
	/* 3.1.1 step 7: the receive queue populated, then DRIVER_OK; no notification before it */
	for (unsigned i = 0; i < d->rxq.size; i++)
		rx_post(d, i);
	cc_wr8(d, VNH_CC_DEVICE_STATUS,
	       VNH_STATUS_ACKNOWLEDGE | VNH_STATUS_DRIVER | VNH_STATUS_FEATURES_OK |
		       VNH_STATUS_DRIVER_OK);
	publish(d, &d->rxq, VNH_QUEUE_RX);
	set_link(d, (status & VNH_NET_S_LINK_UP) != 0);
	d->tx_progress = now;
	d->state = VNH_S_RUNNING;
	d->why = NULL;
}

static void poll_resetting(struct vnh_dev *d, uint64_t now)
{
	if (status_rd(d) == 0)
		bring_up(d, now);
	else if (now >= after(d->since, VNH_RESET_TIMEOUT_NS))
		dev_reset(d, now, "device_status did not read 0 after a reset", true);
}

int vnh_init(struct vnh_dev *d, const struct vnh_ops *ops, const uint64_t bar_size[6],
	     const struct vnh_dma_page pages[VNH_DMA_PAGES])
{
	memset(d, 0, sizeof(*d));
	d->state = VNH_S_FAILED;
	for (unsigned i = 0; i < VNH_DMA_PAGES; i++)
		if (!pages[i].va || !IS_ALIGNED((uintptr_t)pages[i].va, VNH_PAGE_SIZE) ||
		    !IS_ALIGNED(pages[i].pa, VNH_PAGE_SIZE)) {
			d->why = "bad DMA pages";
			return VNH_E_INVAL;
		}
	d->ops = ops;
	memcpy(d->bar_size, bar_size, sizeof(d->bar_size));
	memcpy(d->dma, pages, sizeof(d->dma));
	d->why = find_caps(d);
	if (d->why)
		return VNH_E_INVAL;
	d->state = VNH_S_OFF;
	return VNH_OK;
}

/* ---- running --------------------------------------------------------------------------------- */

/* The next used entry of q, checked (2.7.8): the used index may have advanced at most by the
 * buffers outstanding, the id must name one of them, an RX length must cover the header and fit
 * the buffer. 1 with *id and *len, 0 when there is none, -1 when the entry was bad (the device
 * is then being reset). */
static int used_next(struct vnh_dev *d, struct vnh_queue *q, uint16_t *id, uint32_t *len)
{
	uint16_t idx = used_hdr(d, q)[1], n = (uint16_t)(idx - q->used_seen);
	volatile struct vnh_used_elem *e;
	uint32_t i, l;

	if (n == 0)
		return 0;
	if (n > q->busy) {
		bad_used(d, "the used index ran past the buffers outstanding");
		return -1;
	}
	/* 2.7.14: the used index is read before the entries it shows */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	e = used_elem(d, q, q->used_seen % q->size);
	i = e->id;
	l = e->len;
	if (i >= q->size || !q->out[i]) {
		bad_used(d, "a used id that is not outstanding");
		return -1;
	}
	if (q == &d->rxq && (l < VIRTIO_NET_HDR_SIZE || l > VIRTIO_NET_HDR_SIZE + VNH_ETH_MAX_RX)) {
		bad_used(d, "a used length outside the receive buffer");
		return -1;
	}
	q->out[i] = false;
	q->busy--;
	q->used_seen++;
	*id = (uint16_t)i;
	*len = l;
	return 1;
}

/* Transmitted frames, in the order the device returns them. The used length of a TX buffer (the
 * bytes the device wrote: none) is not looked at. */
static void reclaim_tx(struct vnh_dev *d, uint64_t now)
{
	uint16_t id;
	uint32_t len;

	for (unsigned n = 0; n < VNH_QSIZE && used_next(d, &d->txq, &id, &len) > 0; n++) {
		d->st.tx_frames++;
		d->st.tx_bytes += d->txq.len[id];
		d->tx_progress = now;
		d->resets_in_row = 0;
	}
}

static void poll_running(struct vnh_dev *d, uint64_t now)
{
	uint8_t s = status_rd(d);

	if (s == 0xFF) { /* a read nobody answers: the device is gone or wedged */
		d->st.gone++;
		dev_reset(d, now, "device_status reads all ones", true);
		return;
	}
	if ((s & VNH_STATUS_NEEDS_RESET) || !(s & VNH_STATUS_DRIVER_OK)) { /* 2.1.2 */
		d->st.needs_reset++;
		dev_reset(d, now, "the device needs a reset", true);
		return;
	}
	if (d->features & (1ull << VNH_F_NET_STATUS))
		set_link(d, (d->ops->read16(d->ops->ctx, d->device.bar,
					    d->device.off + VNH_NET_CFG_STATUS) &
			     VNH_NET_S_LINK_UP) != 0);
	reclaim_tx(d, now);
	if (d->state != VNH_S_RUNNING)
		return;
	if (!d->link_up || d->txq.busy == 0) {
		d->tx_progress = now; /* nothing is expected to move */
	} else if (now >= after(d->tx_progress, VNH_TX_TIMEOUT_NS)) {
		d->st.tx_timeouts++;
		dev_reset(d, now, "transmit stopped", true);
	}
}

enum vnh_state vnh_poll(struct vnh_dev *d, uint64_t now)
{
	switch (d->state) {
	case VNH_S_OFF:
		dev_reset(d, now, "bring-up", false);
		poll_resetting(d, now); /* a device that resets at once comes up in this call */
		break;
	case VNH_S_RESETTING:
		poll_resetting(d, now);
		break;
	case VNH_S_RUNNING:
		poll_running(d, now);
		break;
	case VNH_S_FAILED:
		break;
	}
	return d->state;
}

static int tx_refuse(struct vnh_dev *d, int err)
{
	d->st.tx_dropped++;
	return err;
}

int vnh_tx(struct vnh_dev *d, const void *frame, unsigned len)
{
	struct vnh_queue *q = &d->txq;
	volatile struct vnh_desc *e;
	unsigned i;
	uint8_t *buf;

	if (d->state != VNH_S_RUNNING)
		return tx_refuse(d, VNH_E_NOT_READY);
	if (len == 0 || len > VNH_ETH_MAX)
		return tx_refuse(d, VNH_E_INVAL);
	if (!d->link_up)
		return tx_refuse(d, VNH_E_LINK_DOWN);
	if (q->busy >= q->size)
		reclaim_tx(d, d->ops->now_ns(d->ops->ctx));
	if (d->state != VNH_S_RUNNING) /* the reclaim met a bad used entry */
		return tx_refuse(d, VNH_E_NOT_READY);
	for (i = 0; i < q->size && q->out[i]; i++) /* a free descriptor */
		;
	if (i == q->size) /* all with the device */
		return tx_refuse(d, VNH_E_BUSY);
	buf = buf_va(d, VNH_PG_TX_BUF0, i);
	memset(buf, 0, VIRTIO_NET_HDR_SIZE); /* no offloads: flags 0, GSO_NONE (5.1.6) */
	memcpy(buf + VIRTIO_NET_HDR_SIZE, frame, len);
	e = desc(d, q, i);
	e->addr = buf_pa(d, VNH_PG_TX_BUF0, i);
	e->len = VIRTIO_NET_HDR_SIZE + len;
	e->flags = 0; /* one device-readable buffer */
	e->next = 0;
	q->out[i] = true;
	q->len[i] = (uint16_t)len;
	if (q->busy == 0)
		d->tx_progress = d->ops->now_ns(d->ops->ctx);
	q->busy++;
	avail(d, q)[2 + q->avail_idx % q->size] = (uint16_t)i;
	q->avail_idx++;
	publish(d, q, VNH_QUEUE_TX);
	return VNH_OK;
}

unsigned vnh_rx(struct vnh_dev *d, vnh_rx_fn cb, void *arg)
{
	unsigned handed = 0, posted = 0;
	uint16_t id;
	uint32_t len;

	if (d->state != VNH_S_RUNNING)
		return 0;
	/* at most one queue's worth, so a device that keeps writing cannot hold keel here */
	for (unsigned n = 0; n < d->rxq.size; n++) {
		if (used_next(d, &d->rxq, &id, &len) <= 0)
			break;
		if (len == VIRTIO_NET_HDR_SIZE) { /* an empty frame */
			d->st.rx_dropped++;
		} else {
			/* the header is ignored: no offload was negotiated (5.1.6.4) */
			cb(arg, buf_va(d, VNH_PG_RX_BUF0, id) + VIRTIO_NET_HDR_SIZE,
			   len - VIRTIO_NET_HDR_SIZE);
			d->st.rx_frames++;
			d->st.rx_bytes += len - VIRTIO_NET_HDR_SIZE;
			d->resets_in_row = 0;
			handed++;
		}
		if (d->state != VNH_S_RUNNING) /* cb's vnh_tx met a bad used entry */
			return handed;
		rx_post(d, id);
		posted++;
	}
	if (posted && d->state == VNH_S_RUNNING)
		publish(d, &d->rxq, VNH_QUEUE_RX);
	return handed;
}
