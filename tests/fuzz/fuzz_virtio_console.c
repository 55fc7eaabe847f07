/* virtio-console (vdev/virtio/console.c): one device on a PCI bus over one guest RAM. The input
 * builds transmit chains (bytes from a counter, split any way, indirect, with a writable buffer or
 * a zero-length one) and receive chains (any size and split, a readable buffer first), types bytes
 * at the console, writes raw descriptors, ring entries and RAM, notifies either queue, runs the
 * receive path, resets the device, turns bus mastering off and on, and reads and writes the
 * device configuration at any offset and size (emerg_wr among them).
 *
 * Guest RAM: [0, 0x4000), [0x4000, 0x14000), [0x14000, 0x26000), each its own allocation (ASan
 * sees any access past one), a gap, then [0x27000, 0x28000). Rings: queue q at 0x400 q:
 * descriptors +0, available +0x100, used +0x200. A chain the input builds lives in the slot of
 * its head, its indirect table (8 entries) at the slot's last 0x80 bytes: transmit slots at
 * 0x1800 + 0x900 head, receive slots at 0x13800 + 0x900 head; both areas cross an extent
 * boundary.
 *
 * Checked after every step: a device without bus mastering or not DRIVER_OK changes no byte of
 * guest RAM; a notification or a receive call completes at most a queue's worth of chains and
 * raises at most two interrupts; no byte typed is lost or made up: taken into the buffer plus
 * dropped is what was typed, delivered plus waiting is what was taken, and waiting never exceeds
 * VIRTIO_CONSOLE_IN_MAX. Until the input writes raw descriptors, ring entries or RAM: every
 * transmit chain comes back with used length 0, and the console's output is exactly the bytes of
 * the well-formed transmit chains in completion order, with each emergency write's byte in
 * between; every receive chain comes back with a length no larger than its writable bytes, 0 when
 * it had a readable buffer, holding the next bytes typed, in order, and nothing past them.
 *
 * Input: byte 0: bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bits 2-4 the queue size 2^(v % 5). Then
 * steps, a byte each (low 4 bits), operands after (missing bytes are 0):
 *   0 RAM write: le16 gpa, u8 n, n bytes                                    (raw)
 *   1 descriptor: u8 queue, u8 i, le16 addr, le16 len, u8 flags, u8 next    (raw)
 *   2 publish: u8 queue, u8 head                                            (raw)
 *   3 notify: u8 queue
 *   4 transmit chain: u8 layout (bits 0-1 pieces - 1, bit 2 indirect, bit 3 a writable buffer
 *     after, bit 4 a zero-length buffer), le16 length (% 0x881)
 *   5 receive chain: u8 layout (bits 0-1 pieces - 1, bit 2 indirect, bit 3 a readable buffer
 *     first, bit 4 a zero-length buffer), le16 bytes (% 0x881)
 *   6 typed: u8 n, then n bytes
 *   7 virtio_console_rx
 *   8 the driver resets the device and sets it up again
 *   9 bus mastering toggled
 *  10 configuration write: u8 offset (% 16), u8 size (1 << v % 4), le32 value
 *  11 configuration read: u8 offset (% 16), u8 size (1 << v % 4)
 *  12-15 nothing */
#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/console.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vq_range layout[] = {
	{ 0, 0x4000 }, { 0x4000, 0x10000 }, { 0x14000, 0x12000 }, { 0x27000, 0x1000 }
};
#define RAM_BYTES (0x4000 + 0x10000 + 0x12000 + 0x1000)
#define RINGS(q) (0x400 * (q))
#define TX_SLOT(h) (0x1800 + 0x900 * (h))
#define RX_SLOT(h) (0x13800 + 0x900 * (h))
#define TABLE_AT 0x880 /* a chain's indirect table in its slot */
#define RX_FILL 0xEE
#define SLOT 0x1f
#define MAX_PIECES 8
#define RXQ VIRTIO_CONSOLE_RXQ
#define TXQ VIRTIO_CONSOLE_TXQ
#define STREAM 0x10000 /* bytes of output or input the model follows */

static struct vq_ram ram;
static const struct guest_mem *m = &ram.mem;
static struct vdev_env env;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct virtio_console dev;
static struct vq_drv drv[2];
static uint64_t features;
static uint16_t qsize;
static bool raw; /* raw descriptors, ring entries or RAM written: no content checks */

/* What the model knows of each chain the input built, by queue and head. */
struct chain {
	bool live;
	unsigned descs;
	bool bad; /* a writable buffer (transmit) or a readable one (receive) */
	unsigned n;
	struct virtq_seg seg[MAX_PIECES]; /* a transmit chain's readable or receive's writable */
	uint64_t bytes;
};
static struct chain chains[2][16];
static unsigned next_desc[2], outstanding[2];

/* the console's output, and how much of it the model has matched */
static uint8_t out[STREAM];
static size_t out_len, out_seen;
static bool out_lost;
/* typed bytes taken by the device, and how many of them reached receive chains */
static uint8_t typed[STREAM];
static uint64_t typed_total, taken, delivered;
static uint8_t tx_counter;

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

/* ---- the VM around the device ---- */

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

static void fz_tx(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	if (!n)
		abort(); /* the device hands over bytes, never empty calls */
	if (n > STREAM - out_len) {
		out_lost = true;
		return;
	}
	memcpy(out + out_len, buf, n);
	out_len += n;
}

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

static void bar_wr(uint64_t off, unsigned size, uint64_t v)
{
	mmio_bus_write(&mmio, dev.vpci.pci.bars[0].addr + off, size, v);
}

static uint64_t bar_rd(uint64_t off, unsigned size)
{
	uint64_t v = 0;
	mmio_bus_read(&mmio, dev.vpci.pci.bars[0].addr + off, size, &v);
	return v;
}

static uint64_t cfg_addr(unsigned reg_off)
{
	return GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | reg_off);
}

/* virtio 3.1.1 as Linux does it, both queues of qsize entries, INTx. */
static void bring_up(void)
{
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	bar_wr(20, 1, 0);
	bar_wr(20, 1, s);
	bar_wr(8, 4, 0);
	bar_wr(12, 4, (uint32_t)features);
	bar_wr(8, 4, 1);
	bar_wr(12, 4, features >> 32);
	bar_wr(20, 1, s | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		uint64_t r = RINGS(q);
		if (gmem_fill(m, r, 0, 0x400))
			abort();
		drv[q] = (struct vq_drv){ m, r, r + 0x100, r + 0x200, qsize, 0 };
		bar_wr(22, 2, q);
		bar_wr(24, 2, qsize);
		bar_wr(32, 8, drv[q].desc);
		bar_wr(40, 8, drv[q].avail);
		bar_wr(48, 8, drv[q].used);
		bar_wr(28, 2, 1);
	}
	bar_wr(20, 1, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (!(bar_rd(20, 1) & VIRTIO_STATUS_DRIVER_OK))
		abort();
	memset(chains, 0, sizeof(chains));
	next_desc[0] = next_desc[1] = outstanding[0] = outstanding[1] = 0;
}

/* ---- building chains ---- */

struct piece {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

static void publish(unsigned q, const struct piece *p, unsigned n, uint64_t table, bool indirect,
		    struct chain *rec)
{
	struct vq_drv *v = &drv[q];
	uint16_t head = (uint16_t)(next_desc[q] % qsize);
	bool use_indirect = (indirect && (features >> VIRTIO_F_INDIRECT_DESC & 1)) || n > qsize;
	unsigned need = use_indirect ? 1 : n;
	if (use_indirect) {
		for (unsigned i = 0; i < n; i++)
			vq_desc(v, table, i, p[i].gpa, p[i].len,
				(uint16_t)((p[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1));
		vq_desc(v, v->desc, head, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t k = (uint16_t)((next_desc[q] + i) % qsize);
			vq_desc(v, v->desc, k, p[i].gpa, p[i].len,
				(uint16_t)((p[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)((k + 1) % qsize));
		}
	}
	/* descriptors or slots of a chain still in flight overwritten: the model cannot follow */
	if (outstanding[q] + need > qsize || chains[q][head].live)
		raw = true;
	next_desc[q] += need;
	outstanding[q] += need;
	rec->live = true;
	rec->descs = need;
	chains[q][head] = *rec;
	vq_publish(v, head);
}

/* Cuts total into k pieces. */
static void cut(uint32_t total, unsigned k, uint32_t *len)
{
	uint32_t at = 0;
	for (unsigned i = 0; i < k; i++) {
		len[i] = (total - at) / (k - i);
		at += len[i];
	}
}

static void build(struct input *in, unsigned q)
{
	uint8_t lay = (uint8_t)take(in, 1);
	uint32_t total = (uint32_t)(take(in, 2) % (TABLE_AT + 1));
	uint16_t head = (uint16_t)(next_desc[q] % qsize);
	uint64_t slot = q == TXQ ? TX_SLOT(head) : RX_SLOT(head);
	struct piece p[MAX_PIECES];
	struct chain rec = { 0 };
	uint32_t len[4];
	unsigned n = 0, k = (lay & 3) + 1;
	uint32_t at = 0;
	bool data_w = q == RXQ;
	if (q == TXQ) {
		for (uint32_t i = 0; i < total; i++)
			vq_w(m, slot + i, (uint8_t)(tx_counter + i), 1);
		tx_counter = (uint8_t)(tx_counter + total);
	} else {
		if (gmem_fill(m, slot, RX_FILL, TABLE_AT))
			abort();
		if ((lay & 8) && total) {
			p[n++] = (struct piece){ slot, 1, false };
			rec.bad = true;
			at = 1;
		}
	}
	cut(total - at, k, len);
	for (unsigned i = 0; i < k; i++) {
		p[n++] = (struct piece){ slot + at, len[i], data_w };
		if (len[i])
			rec.seg[rec.n++] = (struct virtq_seg){ slot + at, len[i] };
		rec.bytes += len[i];
		at += len[i];
		if (i == 0 && (lay & 16))
			p[n++] = (struct piece){ slot, 0, data_w };
	}
	if (q == TXQ && (lay & 8)) {
		p[n++] = (struct piece){ slot + TABLE_AT - 16, 16, true };
		rec.bad = true;
	}
	publish(q, p, n, slot + TABLE_AT, lay & 4, &rec);
}

/* ---- checks ---- */

static uint8_t snap[RAM_BYTES], got[TABLE_AT];

static void snapshot(void)
{
	size_t at = 0;
	for (unsigned e = 0; e < m->nr; e++) {
		memcpy(snap + at, m->ext[e].hva, m->ext[e].size);
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

/* The next n bytes of output are these. */
static void output_is(const uint8_t *b, size_t n)
{
	if (out_lost)
		return;
	if (out_len - out_seen < n || memcmp(out + out_seen, b, n) != 0)
		abort();
	out_seen += n;
}

static void tx_done(const struct chain *c, uint32_t len)
{
	if (len)
		abort();
	if (c->bad)
		return; /* returned unread */
	for (unsigned i = 0; i < c->n; i++) {
		if (gmem_read(m, c->seg[i].gpa, got, c->seg[i].len))
			abort();
		output_is(got, c->seg[i].len);
	}
}

static void rx_done(const struct chain *c, uint32_t len)
{
	if (len > c->bytes || (c->bad && len))
		abort();
	size_t at = 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (gmem_read(m, c->seg[i].gpa, got + at, c->seg[i].len))
			abort();
		at += c->seg[i].len;
	}
	for (size_t i = 0; i < at; i++) {
		uint64_t pos = delivered + i;
		bool want_typed = i < len;
		if (want_typed && pos < STREAM && got[i] != typed[pos])
			abort();
		if (!want_typed && got[i] != RX_FILL)
			abort();
	}
}

/* The chains the device returned on q since used index `from`. */
static void collect(unsigned q, uint16_t from)
{
	uint16_t nr = (uint16_t)(dev.vpci.vq[q].used_idx - from);
	if (nr > qsize)
		abort();
	for (uint16_t i = 0; i < nr; i++) {
		uint32_t id, len;
		vq_used_elem(&drv[q], (uint16_t)(from + i), &id, &len);
		if (raw) {
			out_seen = out_len; /* the model no longer follows the bytes */
			continue;
		}
		if (id >= qsize || !chains[q][id].live)
			abort();
		struct chain *c = &chains[q][id];
		if (q == TXQ)
			tx_done(c, len);
		else
			rx_done(c, len);
		if (q == RXQ)
			delivered += len;
		c->live = false;
		outstanding[q] -= c->descs;
	}
}

static void check_counters(void)
{
	const struct virtio_console_stats *s = &dev.stats;
	unsigned waiting = virtio_console_waiting(&dev);
	if (waiting > VIRTIO_CONSOLE_IN_MAX || taken + s->rx_dropped != typed_total ||
	    s->rx_bytes + waiting != taken)
		abort();
	if (!raw && s->rx_bytes != delivered)
		abort();
}

/* A notification of q, or a receive call (rx_call), and what it did. */
static void on_device(unsigned q, bool rx_call, const uint8_t *typed_now, size_t n)
{
	bool quiet = virtio_pci_dma(&dev.vpci) == NULL; /* it must not touch guest RAM */
	if (quiet)
		snapshot();
	uint16_t before[2] = { dev.vpci.vq[0].used_idx, dev.vpci.vq[1].used_idx };
	uint64_t irqs = dev.vpci.interrupts;
	if (typed_now) {
		size_t k = virtio_console_input(&dev, typed_now, n);
		if (k > n)
			abort();
		for (size_t i = 0; i < k; i++)
			if (taken + i < STREAM)
				typed[taken + i] = typed_now[i];
		taken += k;
		typed_total += n;
	} else if (rx_call) {
		virtio_console_rx(&dev);
	} else {
		bar_wr(VIRTIO_NOTIFY_OFF + 4 * q, 2, q);
	}
	if (quiet && !ram_unchanged())
		abort();
	if (dev.vpci.interrupts - irqs > 2)
		abort();
	for (unsigned k = 0; k < 2; k++)
		collect(k, before[k]);
	if (!raw && out_seen != out_len)
		abort(); /* output that no completed chain accounts for */
}

static void config_write(struct input *in)
{
	unsigned off = (unsigned)take(in, 1) % 16, size = 1u << (take(in, 1) % 4);
	uint32_t v = (uint32_t)take(in, 4);
	uint64_t emerg = dev.stats.emerg_bytes;
	bar_wr(VIRTIO_DEVCFG_OFF + off, size, v);
	/* emerg_wr (5.3.4) at offset 8: one byte out for a write there that fits the 12 bytes */
	bool outputs = off == 8 && size <= 4;
	if (dev.stats.emerg_bytes - emerg != (outputs ? 1u : 0u))
		abort();
	if (outputs) {
		uint8_t b = (uint8_t)v;
		if (!raw)
			output_is(&b, 1);
		else
			out_seen = out_len;
	}
}

static void config_read(struct input *in)
{
	unsigned off = (unsigned)take(in, 1) % 16, size = 1u << (take(in, 1) % 4);
	uint64_t v = bar_rd(VIRTIO_DEVCFG_OFF + off, size);
	/* cols 80, rows 25, max_nr_ports 1, emerg_wr 0: the 12 bytes little-endian */
	static const uint8_t cfg[16] = { 80, 0, 25, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	uint64_t want = 0;
	if (off + size <= 12)
		memcpy(&want, cfg + off, size);
	if (v != want)
		abort();
}

/* ---- one input ---- */

static void run(struct input *in)
{
	uint8_t cfg = (uint8_t)take(in, 1);
	features = 1ull << VIRTIO_F_VERSION_1 | 1ull << 0 | 1ull << 2 |
		   (cfg & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		   (cfg & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	qsize = (uint16_t)(1u << (((cfg >> 2) & 7) % 5));
	raw = out_lost = false;
	out_len = out_seen = 0;
	typed_total = taken = delivered = 0;
	tx_counter = 0;

	env = (struct vdev_env){ .vm_name = "fuzz",
				 .now_ns = fz_now,
				 .set_irq = fz_set_irq,
				 .uart_tx = fz_tx,
				 .mem = m };
	io_bus_init(&io, &env);
	mmio_bus_init(&mmio, &env);
	if (pci_bus_init(&bus, &env, &io, &mmio, &windows, fz_msg, NULL) ||
	    virtio_console_init(&dev, &env, VIRTIO_CONSOLE_COLS, VIRTIO_CONSOLE_ROWS) ||
	    pci_bus_plug(&bus, SLOT, &dev.vpci.pci) || pci_bus_assign(&bus))
		abort();
	mmio_bus_write(&mmio, cfg_addr(PCI_COMMAND), 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	bring_up();

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
			sel = (unsigned)take(in, 1) & 1;
			unsigned i = (unsigned)take(in, 1) % qsize;
			uint64_t addr = take(in, 2) * 4;
			uint32_t len = (uint32_t)take(in, 2);
			uint16_t fl = (uint16_t)take(in, 1), next = (uint16_t)take(in, 1);
			vq_desc(&drv[sel], drv[sel].desc, i, addr, len, fl, next);
			raw = true;
			break;
		}
		case 2:
			sel = (unsigned)take(in, 1) & 1;
			vq_publish(&drv[sel], (uint16_t)take(in, 1));
			raw = true;
			break;
		case 3:
			on_device((unsigned)take(in, 1) & 1, false, NULL, 0);
			break;
		case 4:
			build(in, TXQ);
			break;
		case 5:
			build(in, RXQ);
			break;
		case 6: {
			uint8_t b[255];
			unsigned n = (unsigned)take(in, 1);
			for (unsigned i = 0; i < n; i++)
				b[i] = (uint8_t)take(in, 1);
			on_device(RXQ, false, b, n);
			break;
		}
		case 7:
			on_device(RXQ, true, NULL, 0);
			break;
		case 8:
			bring_up();
			break;
		case 9: {
			uint64_t cmd = 0;
			mmio_bus_read(&mmio, cfg_addr(PCI_COMMAND), 2, &cmd);
			mmio_bus_write(&mmio, cfg_addr(PCI_COMMAND), 2, cmd ^ PCI_CMD_MASTER);
			break;
		}
		case 10:
			config_write(in);
			break;
		case 11:
			config_read(in);
			break;
		default:
			break;
		}
		check_counters();
	}
	on_device(RXQ, true, NULL, 0);
	check_counters();
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
