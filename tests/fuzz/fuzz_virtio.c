/* virtio split virtqueues (vdev/virtio/virtqueue.c) and the whole virtio-rng device on its PCI
 * bus (virtio_pci.c, rng.c), fed hostile guest RAM and hostile register writes. Guest RAM is
 * three extents, each its own allocation (ASan sees any access past one): [0, 0x2000) and
 * [0x2000, 0x3000), guest neighbours but not host ones, a gap, then [0x4000, 0x5000).
 *
 * Promises checked: nothing is read or written outside guest RAM; a VIRTQ_GOT chain has at
 * most VIRTQ_MAX_SEGS buffers, each non-empty and wholly RAM, readable ones first, with its byte
 * counts their sums, and last_avail moves by one; VIRTQ_BROKEN gives a reason; a notification
 * uses at most the queue's size of chains and asks the entropy source for at most
 * VIRTIO_RNG_MAX_REQUEST bytes per chain, 256 at a time; without bus mastering, before
 * DRIVER_OK or with NEEDS_RESET, no guest byte changes; an enabled queue has valid rings;
 * NEEDS_RESET stays until a reset; vectors read back in range or NO_VECTOR; messages go to the
 * APICs only, INTx to pins 16-19 only.
 *
 * Input: byte 0 bit 0 picks the mode.
 * Mode 0, the walker: bytes 1-11 the queue: size 2^(b1 % 9), b2 bit 0 INDIRECT_DESC, bit 1
 * EVENT_IDX, b3-4 the starting index (last_avail and used_idx), b5-6 desc, b7-8 avail, b9-10
 * used (le16 guest addresses), b11 unused. Then operations, a byte each (low 3 bits), with
 * operands after it:
 *   0 RAM write: le16 gpa, u8 n, n bytes     1 pop            2 push the oldest popped: le32 len
 *   3 interrupt check since the last one     4 chain read and write back: le16 off, le16 n
 *   5 avail idx: le16                        6 descriptor: u8 i, le16 addr, le16 len, u8 flags,
 *   7 publish: le16 head                       u8 next
 * Mode 1, the device: bytes 1-3 unused, then operations, a byte each (low 4 bits):
 *   0 RAM write (as above)    1 common config write: u8 off, u8 size code, le64 value
 *   2 common config read: u8 off, u8 size code      3 notify: u8 queue (past the region too)
 *   4 ISR read                5 BAR 0 write: le16 off, u8 size code, le32 value
 *   6 BAR 0 read: le16 off, u8 size code            7 config write: u8 reg, u8 size code, le32
 *   8 config read: u8 reg, u8 size code
 *   9 Linux's bring-up: u8 features (bit 0 INDIRECT, 1 EVENT_IDX, 2 no VERSION_1, 3 bit 0),
 *     u8 flags (bit 0 MSI-X, 1 bus master, 2 no DRIVER_OK), u8 size log, le16 desc, le16 avail,
 *     le16 used, u8 queue vector
 *   10 descriptor (as mode 0's 6)   11 publish: le16 head   12 avail flags or used_event: u8
 *   which, le16 value               13 VM reset (pci_bus_reset, 8 at most)  14 configuration
 *   change
 *   15 nothing
 * Size codes: 1, 2, 4, 8 by the low two bits. */
#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/rng.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vq_range layout[] = { { 0, 0x2000 }, { 0x2000, 0x1000 }, { 0x4000, 0x1000 } };
#define RAM_BYTES 0x4000 /* a snapshot of every extent, back to back */
#define SLOT 1

static struct vq_ram ram;
static const struct guest_mem *m = &ram.mem;

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

static void ram_write(struct input *in)
{
	uint64_t gpa = take(in, 2);
	unsigned n = (unsigned)take(in, 1);
	for (unsigned i = 0; i < n && in->left; i++) {
		uint8_t b = (uint8_t)take(in, 1);
		if (gmem_is_ram(m, gpa + i))
			vq_w(m, gpa + i, b, 1);
	}
}

static void ram_snapshot(uint8_t *to)
{
	unsigned at = 0;
	for (unsigned i = 0; i < m->nr; i++) {
		memcpy(to + at, m->ext[i].hva, m->ext[i].size);
		at += (unsigned)m->ext[i].size;
	}
}

static bool ram_unchanged(const uint8_t *snap)
{
	unsigned at = 0;
	for (unsigned i = 0; i < m->nr; i++) {
		if (memcmp(snap + at, m->ext[i].hva, m->ext[i].size) != 0)
			return false;
		at += (unsigned)m->ext[i].size;
	}
	return true;
}

static void write_desc(const struct vq_drv *d, struct input *in)
{
	unsigned i = (unsigned)take(in, 1);
	uint64_t addr = take(in, 2);
	uint32_t len = (uint32_t)take(in, 2);
	uint16_t flags = (uint16_t)take(in, 1), next = (uint16_t)take(in, 1);
	if (gmem_covers(m, d->desc + 16ull * i, 16))
		vq_desc(d, d->desc, i, addr, len, flags, next);
}

static void publish(struct vq_drv *d, uint16_t head)
{
	if (d->size && gmem_covers(m, d->avail, 4 + 2ull * d->size))
		vq_publish(d, head);
}

/* ---- mode 0: the walker alone ---- */

static void check_chain(const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;
	if (c->nr_out + c->nr_in > VIRTQ_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
		if (!c->seg[i].len || !gmem_covers(m, c->seg[i].gpa, c->seg[i].len))
			abort();
		*(i < c->nr_out ? &out : &in) += c->seg[i].len;
	}
	if (out != c->out_bytes || in != c->in_bytes)
		abort();
}

static void walker(struct input *in)
{
	static struct virtq q;
	static struct virtq_chain c;
	static uint8_t buf[0x10000];
	uint16_t popped[64];
	unsigned nr_popped = 0;
	bool have_chain = false;

	virtq_reset(&q, 256);
	q.size = (uint16_t)(1u << (take(in, 1) % 9));
	uint8_t f = (uint8_t)take(in, 1);
	q.indirect = f & 1;
	q.event_idx = f & 2;
	q.last_avail = q.used_idx = (uint16_t)take(in, 2);
	q.desc = take(in, 2);
	q.avail = take(in, 2);
	q.used = take(in, 2);
	take(in, 1);
	if (!virtq_rings_valid(&q, m))
		return; /* the transport would not enable it */
	q.enabled = true;
	struct vq_drv d = { m, q.desc, q.avail, q.used, q.size, q.last_avail };
	vq_w(m, q.used + 2, q.used_idx, 2);
	uint16_t mark = q.used_idx;

	for (unsigned ops = 0; in->left && ops < 4096; ops++) {
		switch (take(in, 1) & 7) {
		case 0:
			ram_write(in);
			break;
		case 1: {
			uint16_t last = q.last_avail;
			const char *why = NULL;
			enum virtq_pop r = virtq_pop(&q, m, &c, &why);
			if (r == VIRTQ_GOT) {
				check_chain(&c);
				if (q.last_avail != (uint16_t)(last + 1) || c.head >= q.size)
					abort();
				have_chain = true;
				if (nr_popped < ARRAY_SIZE(popped))
					popped[nr_popped++] = c.head;
			} else if (r == VIRTQ_BROKEN) {
				if (!why)
					abort();
			} else if (q.last_avail != last) {
				abort();
			}
			break;
		}
		case 2: {
			uint32_t len = (uint32_t)take(in, 4);
			uint16_t head = nr_popped ? popped[0] : (uint16_t)len;
			if (nr_popped)
				memmove(popped, popped + 1, --nr_popped * sizeof(popped[0]));
			uint16_t before = q.used_idx;
			int rc = virtq_push(&q, m, head, len);
			if (q.used_idx != (uint16_t)(before + (rc == 0)))
				abort();
			break;
		}
		case 3:
			virtq_wants_interrupt(&q, m, mark);
			mark = q.used_idx;
			break;
		case 4: {
			uint64_t off = take(in, 2);
			size_t n = (size_t)take(in, 2);
			if (!have_chain)
				break;
			size_t r = virtq_chain_read(m, &c, off, buf, n);
			if (r > n || r > (off < c.out_bytes ? c.out_bytes - off : 0))
				abort();
			size_t w = virtq_chain_write(m, &c, off, buf, n);
			if (w > n || w > (off < c.in_bytes ? c.in_bytes - off : 0))
				abort();
			break;
		}
		case 5:
			vq_set_avail_idx(&d, (uint16_t)take(in, 2));
			break;
		case 6:
			write_desc(&d, in);
			break;
		default:
			publish(&d, (uint16_t)take(in, 2));
			break;
		}
	}
}

/* ---- mode 1: virtio-rng through its BAR ---- */

static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct virtio_rng rng;
static uint64_t rnd_bytes, rnd_calls;

static uint64_t fz_now(void *ctx)
{
	(void)ctx;
	return 0;
}

static void fz_set_irq(void *ctx, unsigned gsi, bool level)
{
	(void)ctx, (void)level;
	if (gsi < PCI_INTX_GSI_BASE || gsi >= PCI_INTX_GSI_BASE + 4)
		abort();
}

static void fz_msg(void *ctx, const struct pci_msg *msg)
{
	(void)ctx;
	if ((msg->addr >> 20) != 0xFEE)
		abort();
}

static void fz_random(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	if (n > 256)
		abort();
	memset(buf, 0x5A, n);
	rnd_bytes += n;
	rnd_calls++;
}

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

static unsigned size_code(struct input *in)
{
	return 1u << (take(in, 1) & 3);
}

static uint64_t bar0(void)
{
	return rng.vpci.pci.bars[0].addr;
}

/* BAR 0 decodes where the guest put it (the bus claimed it there). */
static bool bar_live(void)
{
	for (unsigned i = 0; i < mmio.nr; i++)
		if (mmio.ranges[i].dev == &rng.vpci.pci.bars[0])
			return mmio.ranges[i].base == bar0();
	return false;
}

static uint64_t bar_rd(uint64_t off, unsigned size)
{
	uint64_t v = 0;
	mmio_bus_read(&mmio, bar0() + off, size, &v);
	return v;
}

static void bar_wr(uint64_t off, unsigned size, uint64_t v)
{
	mmio_bus_write(&mmio, bar0() + off, size, v);
}

static void cfg_wr(unsigned reg, unsigned size, uint32_t v)
{
	mmio_bus_write(&mmio, GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | reg), size, v);
}

static uint32_t cfg_rd(unsigned reg, unsigned size)
{
	uint64_t v = 0;
	mmio_bus_read(&mmio, GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | reg), size, &v);
	return (uint32_t)v;
}

/* virtio 3.1.1 as virtio_pci_modern does it, with the fuzzer's choices. */
static void bring_up(struct input *in, struct vq_drv *d)
{
	uint8_t f = (uint8_t)take(in, 1), flags = (uint8_t)take(in, 1);
	uint16_t size = (uint16_t)(1u << (take(in, 1) % 8));
	uint64_t desc = take(in, 2), avail = take(in, 2), used = take(in, 2);
	uint16_t qvec = (uint16_t)take(in, 1);
	uint64_t feat = (f & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
			(f & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0) |
			(f & 4 ? 0 : 1ull << VIRTIO_F_VERSION_1) | (f & 8 ? 1 : 0);
	bar_wr(20, 1, 0);
	bar_wr(20, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	bar_wr(8, 4, 0);
	bar_wr(12, 4, (uint32_t)feat);
	bar_wr(8, 4, 1);
	bar_wr(12, 4, feat >> 32);
	bar_wr(20, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	uint16_t cmd = (uint16_t)cfg_rd(PCI_COMMAND, 2);
	cfg_wr(PCI_COMMAND, 2, flags & 2 ? cmd | PCI_CMD_MASTER : cmd & ~PCI_CMD_MASTER);
	unsigned mc = rng.vpci.pci.msix_cap;
	if (flags & 1) {
		cfg_wr(mc + 2, 2, 0x8000);
		for (unsigned v = 0; v < 2; v++) {
			bar_wr(VIRTIO_MSIX_TABLE_OFF + 16 * v, 4, 0xFEE00000);
			bar_wr(VIRTIO_MSIX_TABLE_OFF + 16 * v + 8, 4, 0x40 + v);
			bar_wr(VIRTIO_MSIX_TABLE_OFF + 16 * v + 12, 4, 0);
		}
		bar_wr(16, 2, 0);
	} else {
		cfg_wr(mc + 2, 2, 0);
	}
	bar_wr(22, 2, 0);
	bar_wr(24, 2, size);
	bar_wr(32, 4, (uint32_t)desc);
	bar_wr(36, 4, 0);
	bar_wr(40, 8, avail);
	bar_wr(48, 4, (uint32_t)used);
	bar_wr(52, 4, 0);
	bar_wr(26, 2, qvec);
	bar_wr(28, 2, 1);
	if (!(flags & 4))
		bar_wr(20, 1, (uint8_t)bar_rd(20, 1) | VIRTIO_STATUS_DRIVER_OK);
	*d = (struct vq_drv){ m, desc, avail, used, size, 0 };
}

static void check_device(void)
{
	const struct virtio_pci *v = &rng.vpci;
	const struct virtq *q = &v->vq[0];
	if (q->enabled && !virtq_rings_valid(q, m))
		abort();
	if ((v->config_vector != VIRTQ_NO_VECTOR && v->config_vector >= v->pci.msix_vectors) ||
	    (q->msix_vector != VIRTQ_NO_VECTOR && q->msix_vector >= v->pci.msix_vectors) ||
	    v->isr > 3)
		abort();
}

static void device(struct input *in)
{
	static struct vdev_env env;
	static uint8_t snap[RAM_BYTES];
	struct vq_drv d = { m, 0, 0, 0, 0, 0 };
	unsigned resets = 0;

	env = (struct vdev_env){ .vm_name = "fuzz",
				 .now_ns = fz_now,
				 .set_irq = fz_set_irq,
				 .mem = m,
				 .random = fz_random };
	io_bus_init(&io, &env);
	mmio_bus_init(&mmio, &env);
	if (pci_bus_init(&bus, &env, &io, &mmio, &windows, fz_msg, NULL) ||
	    virtio_rng_init(&rng, &env) || pci_bus_plug(&bus, SLOT, &rng.vpci.pci) ||
	    pci_bus_assign(&bus))
		abort();
	take(in, 3);

	for (unsigned ops = 0; in->left && ops < 2048; ops++) {
		unsigned op = (unsigned)take(in, 1) & 15;
		uint8_t status_before = rng.vpci.status;
		switch (op) {
		case 0:
			ram_write(in);
			break;
		case 1: {
			unsigned off = (unsigned)take(in, 1) & 63, sz = size_code(in);
			bar_wr(off, sz, take(in, 8));
			break;
		}
		case 2: {
			unsigned off = (unsigned)take(in, 1) & 63;
			bar_rd(off, size_code(in));
			break;
		}
		case 3: {
			unsigned qn = (unsigned)take(in, 1) & 3;
			bool no_dma = !virtio_pci_dma(&rng.vpci);
			uint16_t used = rng.vpci.vq[0].used_idx;
			uint64_t bytes = rnd_bytes, calls = rnd_calls;
			if (no_dma)
				ram_snapshot(snap);
			bar_wr(VIRTIO_NOTIFY_OFF + 4 * qn, 2, qn);
			uint16_t chains = (uint16_t)(rng.vpci.vq[0].used_idx - used);
			/* bounded: one queue's worth of chains, each capped */
			if (chains > rng.vpci.vq[0].size ||
			    rnd_bytes - bytes > (uint64_t)chains * VIRTIO_RNG_MAX_REQUEST ||
			    rnd_calls - calls > (uint64_t)chains * (VIRTIO_RNG_MAX_REQUEST / 256))
				abort();
			if (no_dma && (chains || rnd_calls != calls || !ram_unchanged(snap)))
				abort();
			break;
		}
		case 4: {
			bar_rd(0x1000, 1);
			/* read to clear, when the read reached the device (the guest may have
			 * moved the BAR or turned decoding off) */
			if (rng.vpci.isr && bar_live())
				abort();
			break;
		}
		case 5: {
			uint64_t off = take(in, 2) & 0x7FFF;
			unsigned sz = size_code(in);
			bar_wr(off, sz, take(in, 4));
			break;
		}
		case 6: {
			uint64_t off = take(in, 2) & 0x7FFF;
			bar_rd(off, size_code(in));
			break;
		}
		case 7: {
			unsigned reg = (unsigned)take(in, 1), sz = size_code(in);
			uint32_t val = (uint32_t)take(in, 4);
			if (sz <= 4)
				cfg_wr(reg & ~(sz - 1), sz, val);
			break;
		}
		case 8: {
			unsigned reg = (unsigned)take(in, 1), sz = size_code(in);
			if (sz <= 4)
				cfg_rd(reg & ~(sz - 1), sz);
			break;
		}
		case 9:
			bring_up(in, &d);
			break;
		case 10:
			write_desc(&d, in);
			break;
		case 11:
			publish(&d, (uint16_t)take(in, 2));
			break;
		case 12: {
			unsigned which = (unsigned)take(in, 1) & 1;
			uint16_t val = (uint16_t)take(in, 2);
			if (!d.size)
				break;
			uint64_t at = which ? d.avail + 4 + 2ull * d.size : d.avail;
			if (gmem_covers(m, at, 2))
				vq_w(m, at, val, 2);
			break;
		}
		case 13:
			if (++resets > 8)
				break; /* pci_bus_assign is slow; more resets find nothing new */
			pci_bus_reset(&bus);
			if (rng.vpci.status || rng.vpci.vq[0].enabled)
				abort();
			break;
		case 14:
			virtio_pci_config_changed(&rng.vpci);
			break;
		default:
			break;
		}
		/* NEEDS_RESET goes only with a reset (status 0, or the VM's) */
		if ((status_before & VIRTIO_STATUS_NEEDS_RESET) &&
		    !(rng.vpci.status & VIRTIO_STATUS_NEEDS_RESET) && rng.vpci.status && op != 9 &&
		    op != 13)
			abort();
		check_device();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	if (vq_ram_init(&ram, layout, ARRAY_SIZE(layout)))
		abort();
	host_log_clear();
	rnd_bytes = rnd_calls = 0;
	if (take(&in, 1) & 1)
		device(&in);
	else
		walker(&in);
	vq_ram_free(&ram);
	return 0;
}
