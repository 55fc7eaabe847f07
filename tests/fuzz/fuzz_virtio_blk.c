/* virtio-blk (vdev/virtio/blk.c) on its PCI bus over a small in-memory disk (io/blk_mem.c),
 * fed hostile requests: types, sectors, lengths, buffer layouts, header and status placement,
 * descriptors and RAM written under the device. The transport itself is fuzz_virtio's; here the
 * device is brought up the way Linux does it and the input drives the requests.
 *
 * Guest RAM is three extents, each its own allocation (ASan sees any access past one):
 * [0, 0x4000) and [0x4000, 0x5000), guest neighbours but not host ones, a gap, then
 * [0x6000, 0xE000). Rings at 0x0 (descriptors), 0x400 (available), 0x600 (used); indirect
 * tables at 0x1000 + 0x80 k; status bytes at 0x1800 + head; headers at 0x1C00 + 16 head; data
 * buffers anywhere from 0x2000 on (the gap included). The disk is 1 to 40 sectors, its own
 * allocation with GUARD bytes on both sides.
 *
 * Promises checked after every notification: the guard bytes never change; a read-only disk
 * never changes; the backend is asked only for sectors inside the disk, and at most a queue's
 * worth of chains, each at most the disk's sectors in bounce-sized pieces, is served; every
 * chain the input built and nothing overwrote comes back with the used length and status
 * (0, 1 or 2) a model of 5.2.6 gives for IN, OUT, FLUSH, GET_ID and unknown types, any status
 * byte written is 0, 1 or 2, and the disk changes only when an OUT, DISCARD or WRITE_ZEROES
 * completed with OK. With an asynchronous backend a chain still out when a later one broke the
 * queue is never used (the device then needs a reset): such chains count as taken, and their
 * outcome as unknown.
 *
 * Input: byte 0: bit 0 read-only disk, bit 1 a backend without discard and write-zeroes,
 * bits 2-7 the sectors (1 + value % 40); byte 1: bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bit 2 an
 * asynchronous backend (blk_submit: the request's pieces must lie in the guest's RAM), bit 3
 * its requests done at the notification's end rather than at once; byte 2:
 * the queue size, 2^(value % 7). Then operations, a byte each (low 3 bits), operands after:
 *   0 RAM write: le16 gpa, u8 n, n bytes (the model's records are void from then on)
 *   1 descriptor: u8 i, le16 addr, le16 len, u8 flags, u8 next (records void)
 *   2 publish: u8 head (records void)
 *   3 notify
 *   4 request: u8 type (low 4 bits: IN IN OUT OUT FLUSH GET_ID DISCARD WRITE_ZEROES IN OUT
 *     DISCARD WRITE_ZEROES 2 10 14, 15 a le32 follows), u8 sector (bit 7: a le64 follows,
 *     else the low 7 bits), u8 layout (bits 0-1 data buffers, bit 2 indirect, bit 3 header
 *     split 8 + 8, bit 4 status as the last data byte, bit 5 no status, bit 6 data the other
 *     direction, bit 7 a header of 8 bytes), per data buffer le16 length (low 15 bits) and
 *     le16 offset from 0x2000; DISCARD and WRITE_ZEROES then 16 bytes for the first buffer
 *   5 device reset and bring-up again
 *   6 fill data: le16 offset, u8 n, u8 byte (no RAM the model cares about)
 *   7 nothing */
#include "core/guest_layout.h"
#include "io/blk_mem.h"
#include "tests/support/host_log.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/blk.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vq_range layout[] = { { 0, 0x4000 }, { 0x4000, 0x1000 }, { 0x6000, 0x8000 } };
#define SLOT 2
#define DESC 0x0
#define AVAIL 0x400
#define USED 0x600
#define INDIR 0x1000
#define ST 0x1800
#define HDR 0x1C00
#define DATA 0x2000
#define DATA_SPAN 0xC000
#define GUARD 64
#define MAX_SECTORS 40
#define MAX_BUFS 6

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13

static struct vq_ram ram;
static const struct guest_mem *m = &ram.mem;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct virtio_blk blk;
static struct blk_mem disk;
static struct blk_ops ops;
static const struct blk_ops *mem_ops;
static uint8_t *area; /* GUARD, the image, GUARD */
static uint64_t sectors;
static uint64_t calls, moved; /* backend calls and sectors, for the bound */

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

/* ---- the backend: blk_mem, each op checked and counted ---- */

static void in_disk(uint64_t sector, uint64_t count)
{
	if (!count || count > sectors || sector > sectors - count)
		abort();
	calls++;
	moved += count;
}

static int c_read(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count)
{
	in_disk(sector, count);
	return mem_ops->read(b, sector, buf, count);
}

static int c_write(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count)
{
	in_disk(sector, count);
	return mem_ops->write(b, sector, buf, count);
}

/* Asynchronous (byte 1 bit 2): every piece inside one extent of the guest's RAM, as the device
 * mapped the chain, of any length */
static bool in_ram(const void *va, uint32_t len)
{
	for (unsigned i = 0; i < ram.mem.nr; i++) {
		const uint8_t *h = ram.ext[i].hva;
		if ((const uint8_t *)va >= h && len <= ram.ext[i].size &&
		    (uint64_t)((const uint8_t *)va - h) <= ram.ext[i].size - len)
			return true;
	}
	return false;
}

static int c_vec(struct blk_backend *b, uint64_t sector, const struct blk_seg *segs, unsigned nr,
		 uint64_t count, bool to_disk)
{
	uint8_t *at = ((struct blk_mem *)b)->image + sector * 512;
	for (unsigned i = 0; i < nr; i++)
		if (!segs[i].len || !in_ram(segs[i].va, segs[i].len))
			abort();
	in_disk(sector, count);
	if (to_disk && b->read_only)
		abort();
	for (unsigned i = 0; i < nr; i++) {
		if (to_disk)
			memcpy(at, segs[i].va, segs[i].len);
		else
			memcpy(segs[i].va, at, segs[i].len);
		at += segs[i].len;
	}
	return BLK_OK;
}

static int c_flush(struct blk_backend *b);
static int c_discard(struct blk_backend *b, uint64_t sector, uint64_t count);

/* The asynchronous backend carries a request out at once (done from inside blk_submit), or
 * (byte 1 bit 3) queues it until the notification's end, as a device's poll would. */
static struct blk_req *queued[VIRTIO_BLK_INFLIGHT + 1];
static unsigned nr_queued;
static bool deferred;

static void carry_out(struct blk_req *r)
{
	struct blk_backend *b = &disk.blk;
	int rc;
	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		rc = c_vec(b, r->sector, r->segs, r->nr, r->count, r->op == BLK_OP_WRITE);
		break;
	case BLK_OP_FLUSH:
		rc = c_flush(b);
		break;
	default:
		rc = c_discard(b, r->sector, r->count);
		break;
	}
	r->done(r, rc);
}

static int c_submit(struct blk_backend *b, struct blk_req *r)
{
	(void)b;
	if (!deferred) {
		carry_out(r);
		return BLK_OK;
	}
	if (nr_queued == ARRAY_SIZE(queued))
		abort(); /* more requests on the backend than the device has slots */
	queued[nr_queued++] = r;
	return BLK_OK;
}

/* What the vCPU does after the exit: the backend's work, then the device's completions, until
 * nothing is left */
static void settle(void)
{
	for (unsigned i = 0; i < 64 && (nr_queued || blk.completions); i++) {
		unsigned n = nr_queued;
		nr_queued = 0;
		for (unsigned k = 0; k < n; k++)
			carry_out(queued[k]);
		virtio_blk_complete(&blk);
	}
	if (nr_queued || blk.completions || virtio_blk_busy(&blk))
		abort();
}

static int c_flush(struct blk_backend *b)
{
	calls++;
	return mem_ops->flush(b);
}

static int c_discard(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	in_disk(sector, count);
	return mem_ops->discard(b, sector, count);
}

static int c_write_zeroes(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	in_disk(sector, count);
	return mem_ops->write_zeroes(b, sector, count);
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

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

static void bar_wr(uint64_t off, unsigned size, uint64_t v)
{
	mmio_bus_write(&mmio, blk.vpci.pci.bars[0].addr + off, size, v);
}

static uint8_t dev_status(void)
{
	uint64_t v = 0;
	mmio_bus_read(&mmio, blk.vpci.pci.bars[0].addr + 20, 1, &v);
	return (uint8_t)v;
}

static struct vq_drv drv;
static uint64_t features;

static void bring_up(void)
{
	memset(ram.ext[0].hva, 0, 0x1000); /* fresh rings */
	bar_wr(20, 1, 0);
	bar_wr(20, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	bar_wr(8, 4, 0);
	bar_wr(12, 4, (uint32_t)features);
	bar_wr(8, 4, 1);
	bar_wr(12, 4, features >> 32);
	bar_wr(20, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	bar_wr(22, 2, 0);
	bar_wr(24, 2, drv.size);
	bar_wr(32, 8, DESC);
	bar_wr(40, 8, AVAIL);
	bar_wr(48, 8, USED);
	bar_wr(28, 2, 1);
	bar_wr(20, 1,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		       VIRTIO_STATUS_DRIVER_OK);
	if (!(dev_status() & VIRTIO_STATUS_DRIVER_OK))
		abort();
	drv.avail_idx = 0;
}

/* ---- the model: what each chain the input built must come back as ---- */

struct record {
	bool live;
	uint32_t type;
	int want_status; /* -1: any of 0, 1, 2 */
	uint32_t want_len;
	uint64_t status_gpa; /* 0: none to check (no status, or one a later chain may overwrite) */
};

static struct record rec[64];
static bool void_records; /* raw writes happened: no chain's shape is known */
static unsigned next_desc, used_descs, tables;

static bool range_ok(uint64_t sector, uint64_t count)
{
	return count <= sectors && sector <= sectors - count;
}

static void predict(struct record *r, uint64_t sector, uint64_t out, uint64_t in, bool whole_hdr)
{
	r->want_status = -1;
	if (!in) {
		r->want_len = 0; /* no status byte */
		return;
	}
	uint64_t in_data = in - 1, out_data = out >= 16 ? out - 16 : 0;
	r->want_len = 1;
	if (out < 16) {
		r->want_status = 1;
		return;
	}
	if (!whole_hdr)
		return; /* the type or sector came partly from data bytes */
	switch (r->type) {
	case T_IN:
		r->want_status = in_data % 512 || out_data || !range_ok(sector, in_data / 512);
		if (!r->want_status)
			r->want_len += (uint32_t)in_data;
		break;
	case T_OUT:
		r->want_status = out_data % 512 || in_data || disk.blk.read_only ||
				 !range_ok(sector, out_data / 512);
		break;
	case T_FLUSH:
		r->want_status = 0;
		break;
	case T_GET_ID:
		r->want_status = 0;
		r->want_len += (uint32_t)(in_data < 20 ? in_data : 20);
		break;
	case T_DISCARD:
	case T_WRITE_ZEROES:
		if (disk.blk.read_only)
			r->want_status = 1;
		break;
	default:
		r->want_status = 2;
		break;
	}
}

struct bufd {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

static const uint32_t types[16] = { T_IN,    T_IN,     T_OUT,	  T_OUT,
				    T_FLUSH, T_GET_ID, T_DISCARD, T_WRITE_ZEROES,
				    T_IN,    T_OUT,    T_DISCARD, T_WRITE_ZEROES,
				    2,	     10,       14,	  0 };

static void build_request(struct input *in)
{
	unsigned sel = (unsigned)take(in, 1) & 15;
	uint32_t type = sel == 15 ? (uint32_t)take(in, 4) : types[sel];
	uint8_t sb = (uint8_t)take(in, 1);
	uint64_t sector = sb & 0x80 ? take(in, 8) : (uint64_t)(sb & 0x7F);
	uint8_t lay = (uint8_t)take(in, 1);
	unsigned ndata = lay & 3;
	bool indirect = lay & 4, split = lay & 8, merged = lay & 16, no_status = lay & 32;
	bool flip = lay & 64, short_hdr = lay & 128;
	bool data_w = (type == T_IN || type == T_GET_ID) != flip;

	struct bufd b[MAX_BUFS];
	unsigned n = 0;
	uint64_t hdr = HDR + 16 * (next_desc % drv.size); /* the head's: one per chain in flight */
	vq_w(m, hdr, type, 4);
	vq_w(m, hdr + 4, 0, 4);
	vq_w(m, hdr + 8, sector, 8);
	if (short_hdr)
		b[n++] = (struct bufd){ hdr, 8, false };
	else if (split) {
		b[n++] = (struct bufd){ hdr, 8, false };
		b[n++] = (struct bufd){ hdr + 8, 8, false };
	} else
		b[n++] = (struct bufd){ hdr, 16, false };
	for (unsigned i = 0; i < ndata; i++) {
		uint32_t len = (uint32_t)take(in, 2) & 0x7FFF;
		uint64_t gpa = DATA + take(in, 2) % DATA_SPAN;
		b[n++] = (struct bufd){ gpa, len, data_w };
	}
	if ((type == T_DISCARD || type == T_WRITE_ZEROES) && ndata) {
		for (unsigned i = 0; i < 16; i++) {
			uint8_t v = (uint8_t)take(in, 1);
			if (i < b[n - ndata].len && gmem_is_ram(m, b[n - ndata].gpa + i))
				vq_w(m, b[n - ndata].gpa + i, v, 1);
		}
	}
	uint64_t status_gpa = 0;
	bool merge = merged && ndata && data_w && b[n - 1].len < 0x7FFF;
	if (merge) {
		b[n - 1].len++; /* the status is the last data byte: a later chain may write it */
	} else if (!no_status) {
		uint16_t head = (uint16_t)(next_desc % drv.size);
		status_gpa = ST + head;
		b[n++] = (struct bufd){ status_gpa, 1, true };
	}
	if (status_gpa)
		vq_w(m, status_gpa, 0xFF, 1);

	/* the model: bytes each way as the walker sums them; zero-length buffers count nothing */
	uint64_t out = 0, inb = 0;
	bool in_seen = false, order_ok = true;
	for (unsigned i = 0; i < n; i++) {
		if (!b[i].len)
			continue;
		if (b[i].w) {
			inb += b[i].len;
			in_seen = true;
		} else {
			out += b[i].len;
			order_ok &= !in_seen;
		}
	}

	/* descriptors: n in a row from next_desc, or one that points at an indirect table */
	uint16_t head = (uint16_t)(next_desc % drv.size);
	bool use_indirect =
		(indirect && (features & 1ull << VIRTIO_F_INDIRECT_DESC)) || n > drv.size;
	unsigned need = use_indirect ? 1 : n;
	if (use_indirect) {
		uint64_t t = INDIR + 0x80 * (tables++ % 16);
		for (unsigned i = 0; i < n; i++)
			vq_desc(&drv, t, i, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1));
		vq_desc(&drv, DESC, head, t, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t d = (uint16_t)((next_desc + i) % drv.size);
			vq_desc(&drv, DESC, d, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)((next_desc + i + 1) % drv.size));
		}
	}
	next_desc += need;
	used_descs += need;
	/* overwrote descriptors or a table of a chain not yet served, or one not the walker's */
	if (used_descs > drv.size || tables > 16 || !order_ok)
		void_records = true;
	struct record *r = &rec[head];
	*r = (struct record){ .live = true, .type = type, .status_gpa = status_gpa };
	predict(r, sector, out, inb, !short_hdr);
	vq_publish(&drv, head);
}

/* ---- one notification and its checks ---- */

static uint8_t snap[MAX_SECTORS * 512];

static void guards_check(void)
{
	static uint8_t guard[GUARD];
	if (!guard[0])
		memset(guard, 0xEE, GUARD);
	if (memcmp(area, guard, GUARD) != 0 ||
	    memcmp(area + GUARD + sectors * 512, guard, GUARD) != 0)
		abort();
}

static void notify(void)
{
	uint8_t *image = area + GUARD;
	uint64_t bytes = sectors * 512;
	memcpy(snap, image, bytes);
	uint16_t before = blk.vpci.vq[0].used_idx; /* the device's own: the guest may write RAM's */
	uint16_t avail_before = blk.vpci.vq[0].last_avail;
	uint64_t calls0 = calls, moved0 = moved;
	bar_wr(VIRTIO_NOTIFY_OFF, 2, 0);
	settle();
	guards_check();
	if (disk.blk.read_only && memcmp(snap, image, bytes) != 0)
		abort();
	uint16_t chains = (uint16_t)(blk.vpci.vq[0].used_idx - before);
	/* taken: used, or (an asynchronous backend's) still out when a later chain broke the
	 * queue, whose used entry a device needing a reset no longer writes */
	uint16_t taken = (uint16_t)(blk.vpci.vq[0].last_avail - avail_before);
	if (chains > drv.size || taken > drv.size || chains > taken)
		abort();
	/* per chain: at most the disk in bounce-sized pieces (or one flush) */
	if (moved - moved0 > taken * sectors ||
	    calls - calls0 > taken * (sectors * 512 / VIRTIO_BLK_BOUNCE + 1))
		abort();
	/* a chain taken and never used may have been a write that landed */
	bool all_known = !void_records && taken == chains, changed_ok = false;
	for (uint16_t i = 0; i < chains && !void_records; i++) {
		uint32_t id, len;
		vq_used_elem(&drv, (uint16_t)(before + i), &id, &len);
		if (id >= drv.size)
			abort();
		struct record *r = &rec[id];
		if (!r->live) {
			all_known = false;
			continue;
		}
		r->live = false;
		if (len != r->want_len)
			abort();
		if (r->status_gpa && len) {
			uint8_t s = (uint8_t)vq_r(m, r->status_gpa, 1);
			if (s > 2 || (r->want_status >= 0 && s != r->want_status))
				abort();
			if (!s &&
			    (r->type == T_OUT || r->type == T_DISCARD || r->type == T_WRITE_ZEROES))
				changed_ok = true;
		} else if (!r->status_gpa || !len) {
			/* unknown status: it might have been a write */
			if (r->type == T_OUT || r->type == T_DISCARD || r->type == T_WRITE_ZEROES)
				changed_ok = true;
		}
	}
	if (all_known && !changed_ok && memcmp(snap, image, bytes) != 0)
		abort();
	/* everything published was served, unless the queue broke */
	if (!(dev_status() & VIRTIO_STATUS_NEEDS_RESET)) {
		used_descs = 0;
		tables = 0;
	}
}

static void reset_model(void)
{
	memset(rec, 0, sizeof(rec));
	next_desc = used_descs = tables = 0;
}

static void run(struct input *in)
{
	static struct vdev_env env;
	uint8_t cfg = (uint8_t)take(in, 1), f = (uint8_t)take(in, 1);
	drv = (struct vq_drv){ m, DESC, AVAIL, USED, (uint16_t)(1u << (take(in, 1) % 7)), 0 };
	features = 1ull << VIRTIO_F_VERSION_1 | (f & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		   (f & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	sectors = 1 + (cfg >> 2) % MAX_SECTORS;
	area = malloc(GUARD + sectors * 512 + GUARD);
	if (!area)
		abort();
	memset(area, 0xEE, GUARD + sectors * 512 + GUARD);
	static uint8_t disk_pattern[MAX_SECTORS * 512];
	if (!disk_pattern[0])
		for (unsigned i = 0; i < sizeof(disk_pattern); i++)
			disk_pattern[i] = (uint8_t)(i * 7 + (i >> 9) + 1);
	memcpy(area + GUARD, disk_pattern, sectors * 512);
	blk_mem_init(&disk, area + GUARD, sectors * 512, cfg & 1);
	mem_ops = disk.blk.ops;
	ops = (struct blk_ops){ .read = c_read,
				.write = c_write,
				.flush = c_flush,
				.discard = c_discard,
				.write_zeroes = c_write_zeroes };
	if (cfg & 2)
		ops.discard = ops.write_zeroes = NULL;
	if (f & 4)
		ops.submit = c_submit;
	deferred = f & 8;
	nr_queued = 0;
	disk.blk.ops = &ops;
	calls = moved = 0;
	void_records = false;
	reset_model();
	/* data RAM starts with a pattern, so writes change the disk */
	static uint8_t data_pattern[0xE000 - DATA];
	if (!data_pattern[0])
		for (unsigned i = 0; i < sizeof(data_pattern); i++)
			data_pattern[i] = (uint8_t)((DATA + i) * 13 + 3);
	for (unsigned e = 0; e < m->nr; e++) {
		uint64_t from = m->ext[e].gpa > DATA ? m->ext[e].gpa : DATA;
		uint64_t to = m->ext[e].gpa + m->ext[e].size;
		if (from < to)
			memcpy(m->ext[e].hva + (from - m->ext[e].gpa), data_pattern + (from - DATA),
			       to - from);
	}

	env = (struct vdev_env){
		.vm_name = "fuzz", .now_ns = fz_now, .set_irq = fz_set_irq, .mem = m
	};
	io_bus_init(&io, &env);
	mmio_bus_init(&mmio, &env);
	if (pci_bus_init(&bus, &env, &io, &mmio, &windows, fz_msg, NULL) ||
	    virtio_blk_init(&blk, &env, &disk.blk, "keel-vda", NULL, NULL) ||
	    pci_bus_plug(&bus, SLOT, &blk.vpci.pci) || pci_bus_assign(&bus))
		abort();
	mmio_bus_write(&mmio, GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | PCI_COMMAND), 2,
		       PCI_CMD_MEM | PCI_CMD_MASTER);
	bring_up();

	for (unsigned op = 0; in->left && op < 1024; op++) {
		switch (take(in, 1) & 7) {
		case 0: {
			uint64_t gpa = take(in, 2);
			unsigned n = (unsigned)take(in, 1);
			for (unsigned i = 0; i < n && in->left; i++) {
				uint8_t v = (uint8_t)take(in, 1);
				if (gmem_is_ram(m, gpa + i))
					vq_w(m, gpa + i, v, 1);
			}
			void_records = true;
			break;
		}
		case 1: {
			unsigned i = (unsigned)take(in, 1) % drv.size;
			uint64_t addr = take(in, 2);
			uint32_t len = (uint32_t)take(in, 2);
			uint16_t fl = (uint16_t)take(in, 1), next = (uint16_t)take(in, 1);
			vq_desc(&drv, DESC, i, addr, len, fl, next);
			void_records = true;
			break;
		}
		case 2:
			vq_publish(&drv, (uint16_t)take(in, 1));
			void_records = true;
			break;
		case 3:
			notify();
			break;
		case 4:
			build_request(in);
			break;
		case 5:
			bring_up();
			reset_model();
			void_records = false;
			break;
		case 6: {
			uint64_t off = take(in, 2) % DATA_SPAN;
			unsigned n = (unsigned)take(in, 1);
			uint8_t v = (uint8_t)take(in, 1);
			for (unsigned i = 0; i < n; i++)
				if (gmem_is_ram(m, DATA + off + i))
					vq_w(m, DATA + off + i, v, 1);
			break;
		}
		default:
			break;
		}
	}
	notify();
	free(area);
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
