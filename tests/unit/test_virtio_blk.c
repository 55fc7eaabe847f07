/* vdev/virtio/blk.c over the in-memory block backend (io/blk_mem.c), in slot 6 of a PCI bus and
 * driven through ECAM and BAR 0 as Linux's virtio_blk over virtio_pci_modern does. The disk is a
 * 256 KiB image with a known pattern, its own allocation (ASan sees a copy past its end); guest
 * RAM is three extents, each its own allocation, with data buffers across their boundaries.
 * Checked: the configuration space and the features offered (read-only, writable, a backend
 * without discard); reads and writes over several buffers, across extents and the bounce size,
 * header and data sharing a buffer, data and status sharing one; every refusal with its status
 * byte, the used length and the disk and guest buffers untouched; GET_ID; discard and
 * write-zeroes; chains without a status byte or with a short header; the request counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/guest_layout.h"
#include "io/blk_mem.h"
#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/blk.h"

#define SLOT 6

/* virtio_pci_common_cfg (virtio 1.2, 4.1.4.3) */
#define DFSELECT 0
#define DF 4
#define GFSELECT 8
#define GF 12
#define STATUS 20
#define Q_SELECT 22
#define Q_SIZE 24
#define Q_ENABLE 28
#define Q_NOTIFY_OFF 30
#define Q_DESC 32
#define Q_DRIVER 40
#define Q_DEVICE 48

/* virtio-blk (5.2.3, 5.2.4, 5.2.6) as the driver knows it */
#define F_SIZE_MAX (1ull << 1)
#define F_SEG_MAX (1ull << 2)
#define F_GEOMETRY (1ull << 4)
#define F_RO (1ull << 5)
#define F_BLK_SIZE (1ull << 6)
#define F_FLUSH (1ull << 9)
#define F_TOPOLOGY (1ull << 10)
#define F_CONFIG_WCE (1ull << 11)
#define F_MQ (1ull << 12)
#define F_DISCARD (1ull << 13)
#define F_WRITE_ZEROES (1ull << 14)
#define F_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define ST_OK 0
#define ST_IOERR 1
#define ST_UNSUPP 2

#define SECTORS 512 /* a 256 KiB disk */
#define DISK_BYTES (SECTORS * 512)

/* guest RAM [0, 0x10000), [0x10000, 0x13000), [0x13000, 0x60000): three host blocks */
static const struct vq_range layout[] = { { 0, 0x10000 },
					  { 0x10000, 0x3000 },
					  { 0x13000, 0x4D000 } };
#define RAM_END 0x60000
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define INDIR 0x4000
#define HDR 0x5000
#define ST 0x5100   /* the status byte */
#define SEGS 0x5200 /* discard / write-zeroes segments */
#define DATA 0x8000 /* data buffers from here to RAM_END */
#define QSIZE 16
#define FILL 0xCC /* guest bytes a request must not write */

static struct fake_vm vm;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct virtio_blk blk;
static struct blk_mem mem;
static struct blk_ops no_range_ops, failing_ops, async_ops;
static void settle(void);
static uint8_t *image, *shadow;
static struct vq_ram ram;
static struct vq_drv drv;
static uint64_t bar0, devcfg, notify_at;
static uint16_t next_head; /* the next free descriptor */

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) * 13 + 1);
}

static void ignore_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx, (void)m;
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

static uint64_t cc_rd(unsigned off, unsigned size)
{
	return mem_rd(bar0 + off, size);
}

static void cc_wr(unsigned off, unsigned size, uint64_t v)
{
	mem_wr(bar0 + off, size, v);
}

static uint64_t device_features(void)
{
	cc_wr(DFSELECT, 4, 0);
	uint64_t lo = cc_rd(DF, 4);
	cc_wr(DFSELECT, 4, 1);
	return lo | cc_rd(DF, 4) << 32;
}

/* The virtio capabilities: the common configuration must be at BAR 0 + 0 (checked), the device
 * configuration and notification addresses wherever they say. */
static void find_caps(void)
{
	uint32_t lo = cfg_rd(PCI_BAR0, 4), hi = cfg_rd(PCI_BAR0 + 4, 4);
	bar0 = (uint64_t)hi << 32 | (lo & ~0xFull);
	devcfg = notify_at = 0;
	unsigned seen = 0;
	for (unsigned at = cfg_rd(PCI_CAP_PTR, 1); at; at = cfg_rd(at + 1, 1)) {
		assert_true(++seen < 48);
		if (cfg_rd(at, 1) != PCI_CAP_VENDOR)
			continue;
		unsigned type = cfg_rd(at + 3, 1);
		assert_int_equal(cfg_rd(at + 4, 1), 0);
		uint32_t off = cfg_rd(at + 8, 4), len = cfg_rd(at + 12, 4);
		if (type == 1)
			assert_int_equal(off, 0);
		if (type == 2)
			notify_at = bar0 + off;
		if (type == 4) {
			devcfg = bar0 + off;
			assert_int_equal(len, 60); /* up to write_zeroes_may_unmap + padding */
		}
	}
	assert_int_not_equal(devcfg, 0);
	assert_int_not_equal(notify_at, 0);
}

/* A disk of SECTORS sectors holding pattern(), read-only or not, with ops (NULL: blk_mem's). */
static int make_device(bool read_only, const struct blk_ops *ops, const char *serial)
{
	fake_vm_init(&vm);
	if (vq_ram_init(&ram, layout, ARRAY_SIZE(layout)))
		return -1;
	image = malloc(DISK_BYTES);
	shadow = malloc(DISK_BYTES);
	if (!image || !shadow)
		return -1;
	for (unsigned i = 0; i < DISK_BYTES; i++)
		image[i] = shadow[i] = pattern(i);
	next_head = 0;
	blk_mem_init(&mem, image, DISK_BYTES, read_only);
	if (ops)
		mem.blk.ops = ops;
	vm.env.mem = &ram.mem;
	host_log_clear();
	io_bus_init(&io, &vm.env);
	mmio_bus_init(&mmio, &vm.env);
	if (pci_bus_init(&bus, &vm.env, &io, &mmio, &windows, ignore_msg, NULL) ||
	    virtio_blk_init(&blk, &vm.env, &mem.blk, serial, NULL, NULL) ||
	    pci_bus_plug(&bus, SLOT, &blk.vpci.pci) || pci_bus_assign(&bus))
		return -1;
	find_caps();
	return 0;
}

static int setup_rw(void **state)
{
	(void)state;
	return make_device(false, NULL, "keel-vda");
}

static int setup_ro(void **state)
{
	(void)state;
	return make_device(true, NULL, "keel-vdb");
}

/* blk_mem without discard and write-zeroes */
static int setup_no_range(void **state)
{
	(void)state;
	static struct blk_mem probe;
	static uint8_t one[512];
	blk_mem_init(&probe, one, sizeof(one), false);
	no_range_ops = *probe.blk.ops;
	no_range_ops.discard = NULL;
	no_range_ops.write_zeroes = NULL;
	return make_device(false, &no_range_ops, "keel-vdc");
}

static int fail_read(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count)
{
	(void)b, (void)sector, (void)buf, (void)count;
	return BLK_E_IO;
}

static int fail_flush(struct blk_backend *b)
{
	(void)b;
	return BLK_E_IO;
}

/* blk_mem whose reads and flushes fail as a host device would */
static int setup_failing(void **state)
{
	(void)state;
	static struct blk_mem probe;
	static uint8_t one[512];
	blk_mem_init(&probe, one, sizeof(one), false);
	failing_ops = *probe.blk.ops;
	failing_ops.read = fail_read;
	failing_ops.flush = fail_flush;
	return make_device(false, &failing_ops, "keel-vdd");
}

/* An asynchronous backend over the same image (as the NVMe namespaces are): blk_submit queues a
 * request, async_run carries the queued ones out and calls their done, as the device's poll
 * would. Counts submissions and the pieces they came in; async_fail makes each one fail. */
#define ASYNC_MAX 32
static struct blk_req *async_q[ASYNC_MAX];
static unsigned async_n, async_calls, async_pieces, async_flushes;
static bool async_fail;

static int async_submit(struct blk_backend *b, struct blk_req *r)
{
	(void)b;
	assert_true(async_n < ASYNC_MAX);
	async_q[async_n++] = r;
	async_calls++;
	return BLK_OK;
}

static void async_run(void)
{
	unsigned n = async_n;
	async_n = 0;
	for (unsigned k = 0; k < n; k++) {
		struct blk_req *r = async_q[k];
		uint64_t at = r->sector * 512, total = 0;
		if (r->op == BLK_OP_FLUSH)
			async_flushes++;
		for (unsigned i = 0; i < r->nr && !async_fail; i++) {
			/* every piece lies in the guest's RAM */
			uint8_t *va = r->segs[i].va;
			bool in_ram = false;
			for (unsigned e = 0; e < ram.mem.nr; e++)
				in_ram |= va >= ram.ext[e].hva &&
					  va + r->segs[i].len <= ram.ext[e].hva + ram.ext[e].size;
			assert_true(in_ram);
			if (r->op == BLK_OP_WRITE)
				memcpy(image + at, va, r->segs[i].len);
			else
				memcpy(va, image + at, r->segs[i].len);
			at += r->segs[i].len;
			total += r->segs[i].len;
			async_pieces++;
		}
		if (!async_fail && (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE))
			assert_int_equal(total, r->count * 512);
		r->done(r, async_fail ? BLK_E_IO : BLK_OK);
	}
}

/* What the vCPU does after an exit, until the backend has nothing left */
static void settle(void)
{
	for (unsigned i = 0; i < 64 && (async_n || blk.completions); i++) {
		async_run();
		virtio_blk_complete(&blk);
	}
}

static int setup_async(void **state)
{
	(void)state;
	static struct blk_mem probe;
	static uint8_t one[512];
	blk_mem_init(&probe, one, sizeof(one), false);
	async_ops = *probe.blk.ops;
	async_ops.submit = async_submit;
	async_n = async_calls = async_pieces = async_flushes = 0;
	async_fail = false;
	return make_device(false, &async_ops, "keel-vde");
}

static int teardown(void **state)
{
	(void)state;
	vq_ram_free(&ram);
	free(image);
	free(shadow);
	image = shadow = NULL;
	return 0;
}

/* virtio 3.1.1 as virtio_dev_probe and vp_modern_find_vqs do it, queue 0 of QSIZE entries,
 * INTx (no MSI-X: the interrupt path is test_virtio_pci's). */
static void bring_up(uint64_t features)
{
	memset(ram.ext[0].hva + DESC, 0, USED + 0x1000 - DESC);
	drv = (struct vq_drv){ &ram.mem, DESC, AVAIL, USED, QSIZE, 0 };
	cc_wr(STATUS, 1, 0);
	cc_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	assert_int_equal(device_features() & features, features);
	cc_wr(GFSELECT, 4, 0);
	cc_wr(GF, 4, (uint32_t)features);
	cc_wr(GFSELECT, 4, 1);
	cc_wr(GF, 4, features >> 32);
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	cc_wr(STATUS, 1, s);
	assert_int_equal(cc_rd(STATUS, 1), s);
	cfg_wr(PCI_COMMAND, 2, cfg_rd(PCI_COMMAND, 2) | PCI_CMD_MASTER);
	cc_wr(Q_SELECT, 2, 0);
	assert_int_equal(cc_rd(Q_SIZE, 2), VIRTIO_BLK_QUEUE_SIZE);
	cc_wr(Q_SIZE, 2, QSIZE);
	cc_wr(Q_DESC, 8, DESC);
	cc_wr(Q_DRIVER, 8, AVAIL);
	cc_wr(Q_DEVICE, 8, USED);
	assert_int_equal(cc_rd(Q_NOTIFY_OFF, 2), 0);
	cc_wr(Q_ENABLE, 2, 1);
	cc_wr(STATUS, 1, s | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(cc_rd(STATUS, 1), s | VIRTIO_STATUS_DRIVER_OK);
}

static void up(void)
{
	bring_up(F_VERSION_1 | F_INDIRECT);
}

/* ---- requests ---- */

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool w; /* device-writable */
};

/* Publishes one chain of n buffers (direct descriptors from next_head on, or one indirect table
 * at INDIR), notifies, and returns the used length of the one chain that must come back. */
static uint32_t submit(const struct buf *b, unsigned n, bool indirect)
{
	uint16_t head = next_head;
	if (indirect) {
		for (unsigned i = 0; i < n; i++)
			vq_desc(&drv, INDIR, i, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1));
		vq_desc(&drv, DESC, head, INDIR, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
		next_head = (uint16_t)((head + 1) % QSIZE);
	} else {
		assert_true(n <= QSIZE);
		for (unsigned i = 0; i < n; i++) {
			uint16_t d = (uint16_t)((head + i) % QSIZE);
			vq_desc(&drv, DESC, d, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)((d + 1) % QSIZE));
		}
		next_head = (uint16_t)((head + n) % QSIZE);
	}
	uint16_t used = vq_used_idx(&drv);
	vq_publish(&drv, head);
	mem_wr(notify_at, 2, 0);
	settle();
	assert_int_equal(cc_rd(STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	assert_int_equal(vq_used_idx(&drv), (uint16_t)(used + 1));
	uint32_t id, len;
	vq_used_elem(&drv, used, &id, &len);
	assert_int_equal(id, head);
	return len;
}

static void header(uint32_t type, uint64_t sector)
{
	vq_w(&ram.mem, HDR, type, 4);
	vq_w(&ram.mem, HDR + 4, 0, 4);
	vq_w(&ram.mem, HDR + 8, sector, 8);
}

static uint8_t status_byte(void)
{
	return (uint8_t)vq_r(&ram.mem, ST, 1);
}

static void fill(uint64_t gpa, uint64_t n, uint8_t v)
{
	assert_int_equal(gmem_fill(&ram.mem, gpa, v, n), 0);
}

/* A request of the usual shape: header, the data buffers, the status byte. Returns the used
 * length; the status byte is set to FILL before. */
static uint32_t request(uint32_t type, uint64_t sector, const struct buf *data, unsigned n)
{
	struct buf b[QSIZE];
	assert_true(n + 2 <= QSIZE);
	header(type, sector);
	vq_w(&ram.mem, ST, FILL, 1);
	b[0] = (struct buf){ HDR, 16, false };
	for (unsigned i = 0; i < n; i++)
		b[1 + i] = data[i];
	b[n + 1] = (struct buf){ ST, 1, true };
	return submit(b, n + 2, false);
}

/* The guest's bytes [gpa, gpa + n) hold the disk's from byte disk_off on. */
static void expect_disk_bytes(uint64_t gpa, uint64_t disk_off, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (vq_r(&ram.mem, gpa + i, 1) != image[disk_off + i])
			fail_msg("guest byte 0x%llx is not disk byte 0x%llx",
				 (unsigned long long)(gpa + i), (unsigned long long)(disk_off + i));
}

static void expect_guest(uint64_t gpa, uint64_t n, uint8_t v)
{
	for (uint64_t i = 0; i < n; i++)
		if (vq_r(&ram.mem, gpa + i, 1) != v)
			fail_msg("guest byte 0x%llx changed", (unsigned long long)(gpa + i));
}

/* The image equals shadow, which a test changes as it expects the disk to change. */
static void expect_image(void)
{
	for (uint64_t i = 0; i < DISK_BYTES; i++)
		if (image[i] != shadow[i])
			fail_msg("disk byte 0x%llx is 0x%02x, not 0x%02x", (unsigned long long)i,
				 image[i], shadow[i]);
}

/* ---- configuration and features ---- */

static uint64_t dcfg(unsigned off, unsigned size)
{
	return mem_rd(devcfg + off, size);
}

static void config_space(void **state)
{
	(void)state;
	assert_int_equal(cfg_rd(PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	assert_int_equal(cfg_rd(PCI_DEVICE_ID, 2), 0x1042);
	assert_int_equal(cfg_rd(PCI_CLASS_PROG, 1), 0x00);
	assert_int_equal(cfg_rd(PCI_CLASS_DEVICE, 2), 0x0180); /* mass storage, other */
	assert_int_equal(cc_rd(18, 2), 1);		       /* num_queues */
	/* struct virtio_blk_config (5.2.4) */
	assert_int_equal(dcfg(0, 8), SECTORS); /* capacity */
	assert_int_equal(dcfg(0, 4), SECTORS); /* as the halves virtio_cread64 reads */
	assert_int_equal(dcfg(4, 4), 0);
	assert_int_equal(dcfg(8, 4), 1u << 20);		   /* size_max */
	assert_int_equal(dcfg(12, 4), VIRTQ_MAX_SEGS - 2); /* seg_max */
	assert_int_equal(dcfg(16, 4), 0);		   /* geometry: not offered */
	assert_int_equal(dcfg(20, 4), 512);		   /* blk_size */
	assert_int_equal(dcfg(24, 8), 0);		   /* topology: not offered */
	assert_int_equal(dcfg(32, 1), 1);		   /* writeback: a writeback cache */
	assert_int_equal(dcfg(34, 2), 0);		   /* num_queues: no MQ */
	assert_int_equal(dcfg(36, 4), 0x400000);	   /* max_discard_sectors */
	assert_int_equal(dcfg(40, 4), 1);		   /* max_discard_seg */
	assert_int_equal(dcfg(44, 4), 1);		   /* discard_sector_alignment */
	assert_int_equal(dcfg(48, 4), 0x400000);	   /* max_write_zeroes_sectors */
	assert_int_equal(dcfg(52, 4), 1);		   /* max_write_zeroes_seg */
	assert_int_equal(dcfg(56, 1), 0);		   /* write_zeroes_may_unmap */
	assert_int_equal(dcfg(57, 2), 0);
	/* byte reads inside a field, and past the structure */
	assert_int_equal(dcfg(21, 1), 2);
	assert_int_equal(dcfg(10, 2), 0x10);
	assert_int_equal(dcfg(60, 4), 0);
	assert_int_equal(dcfg(56, 8), 0); /* would run past the 60 bytes: refused, 0 */
	/* nothing in it is writable: writeback only once CONFIG_WCE is negotiated
	 * (writethrough_flushes) */
	mem_wr(devcfg + 0, 8, 7);
	mem_wr(devcfg + 32, 1, 0);
	assert_int_equal(dcfg(0, 8), SECTORS);
	assert_int_equal(dcfg(32, 1), 1);
}

static const uint64_t always = F_VERSION_1 | F_INDIRECT | F_EVENT_IDX | F_SIZE_MAX | F_SEG_MAX |
			       F_BLK_SIZE | F_FLUSH | F_CONFIG_WCE;

static void features_writable(void **state)
{
	(void)state;
	assert_int_equal(device_features(), always | F_DISCARD | F_WRITE_ZEROES);
	/* what keel does not offer may not be taken */
	static const uint64_t refused[] = { F_RO, F_GEOMETRY, F_TOPOLOGY, F_MQ };
	for (unsigned i = 0; i < ARRAY_SIZE(refused); i++) {
		cc_wr(STATUS, 1, 0);
		cc_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
		cc_wr(GFSELECT, 4, 0);
		cc_wr(GF, 4, (uint32_t)refused[i]);
		cc_wr(GFSELECT, 4, 1);
		cc_wr(GF, 4, 1); /* VERSION_1 */
		cc_wr(STATUS, 1,
		      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		assert_int_equal(cc_rd(STATUS, 1),
				 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	}
	bring_up(device_features());
}

static void features_read_only(void **state)
{
	(void)state;
	assert_int_equal(device_features(), always | F_RO);
	bring_up(always | F_RO);
}

/* ---- reads and writes ---- */

/* 40 sectors into four buffers of odd sizes: across the boundaries of all three extents, the
 * bounce buffer's 8 KiB steps falling inside buffers. */
static void read_across_buffers(void **state)
{
	(void)state;
	up();
	fill(DATA, RAM_END - DATA, FILL);
	const uint32_t total = 40 * 512;
	struct buf d[4] = { { 0xFF00, 0x123, true },
			    { 0x12F80, 0x8DD, true },
			    { 0x20001, 0x1FFF, true },
			    { 0x30000, 0, true } };
	d[3].len = total - d[0].len - d[1].len - d[2].len;
	assert_int_equal(request(T_IN, 3, d, 4), total + 1);
	assert_int_equal(status_byte(), ST_OK);
	uint64_t off = 3 * 512;
	for (unsigned i = 0; i < 4; i++) {
		expect_disk_bytes(d[i].gpa, off, d[i].len);
		off += d[i].len;
		expect_guest(d[i].gpa - 1, 1, FILL);
		expect_guest(d[i].gpa + d[i].len, 1, FILL);
	}
	assert_int_equal(blk.reads, 1);
	assert_int_equal(blk.errors, 0);

	/* the whole disk into one buffer across two extents, then the last sector */
	fill(DATA, RAM_END - DATA, FILL);
	struct buf whole = { 0x12000, DISK_BYTES, true };
	assert_int_equal(request(T_IN, 0, &whole, 1), DISK_BYTES + 1);
	assert_int_equal(status_byte(), ST_OK);
	expect_disk_bytes(whole.gpa, 0, DISK_BYTES);
	expect_guest(whole.gpa + DISK_BYTES, 1, FILL);
	struct buf last = { DATA, 512, true };
	assert_int_equal(request(T_IN, SECTORS - 1, &last, 1), 513);
	expect_disk_bytes(DATA, DISK_BYTES - 512, 512);

	/* data and status in one writable buffer, as a driver may frame it (2.6.4) */
	fill(DATA, 0x1000, FILL);
	header(T_IN, 7);
	struct buf b[2] = { { HDR, 16, false }, { DATA, 1025, true } };
	assert_int_equal(submit(b, 2, false), 1025);
	expect_disk_bytes(DATA, 7 * 512, 1024);
	assert_int_equal(vq_r(&ram.mem, DATA + 1024, 1), ST_OK);
	expect_guest(DATA + 1025, 1, FILL);

	/* twenty buffers in an indirect table, 2 sectors each */
	fill(DATA, RAM_END - DATA, FILL);
	struct buf t[22];
	t[0] = (struct buf){ HDR, 16, false };
	for (unsigned i = 0; i < 20; i++)
		t[1 + i] = (struct buf){ 0xF000 + 0x500 * i, 1024, true };
	t[21] = (struct buf){ ST, 1, true };
	header(T_IN, 100);
	assert_int_equal(submit(t, 22, true), 20 * 1024 + 1);
	assert_int_equal(status_byte(), ST_OK);
	for (unsigned i = 0; i < 20; i++) {
		expect_disk_bytes(t[1 + i].gpa, (100 + 2 * i) * 512, 1024);
		expect_guest(t[1 + i].gpa + 1024, 0x100, FILL);
	}
	/* no data at all, at the very end: nothing to do, OK */
	assert_int_equal(request(T_IN, SECTORS, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_OK);
	assert_int_equal(blk.reads, 6);
	assert_int_equal(blk.errors, 0);
	expect_image();
}

/* Writes from several buffers (12 KiB: more than one bounce), the header sharing its buffer with
 * the first data bytes; the sectors land, their neighbours stay. */
static void write_lands(void **state)
{
	(void)state;
	up();
	enum { SECTOR = 100, TOTAL = 24 * 512, FIRST = 0x300, SECOND = 0x2345 };
	static uint8_t want[TOTAL];
	for (unsigned i = 0; i < TOTAL; i++)
		want[i] = (uint8_t)(i * 31 + 5);
	uint8_t hdr[16] = { T_OUT };
	uint64_t sector = SECTOR;
	memcpy(hdr + 8, &sector, 8);
	/* header + FIRST data bytes at 0xFF00 (across extents 0 and 1), then two more buffers */
	assert_int_equal(gmem_write(&ram.mem, 0xFF00, hdr, 16), 0);
	assert_int_equal(gmem_write(&ram.mem, 0xFF10, want, FIRST), 0);
	assert_int_equal(gmem_write(&ram.mem, 0x12F00, want + FIRST, SECOND), 0);
	assert_int_equal(
		gmem_write(&ram.mem, 0x25003, want + FIRST + SECOND, TOTAL - FIRST - SECOND), 0);
	vq_w(&ram.mem, ST, FILL, 1);
	struct buf b[4] = { { 0xFF00, 16 + FIRST, false },
			    { 0x12F00, SECOND, false },
			    { 0x25003, TOTAL - FIRST - SECOND, false },
			    { ST, 1, true } };
	assert_int_equal(submit(b, 4, false), 1);
	assert_int_equal(status_byte(), ST_OK);
	memcpy(shadow + SECTOR * 512, want, TOTAL);
	expect_image();
	assert_int_equal(blk.writes, 1);

	/* read back through the device */
	fill(DATA, TOTAL + 1, FILL);
	struct buf r = { DATA, TOTAL, true };
	assert_int_equal(request(T_IN, SECTOR, &r, 1), TOTAL + 1);
	expect_disk_bytes(DATA, SECTOR * 512, TOTAL);

	/* the header split 8 + 8 (2.6.4), one sector to the very end of the disk, through an
	 * indirect table */
	fill(DATA, 512, 0x5A);
	header(T_OUT, SECTORS - 1);
	vq_w(&ram.mem, ST, FILL, 1);
	struct buf s[4] = {
		{ HDR, 8, false }, { HDR + 8, 8, false }, { DATA, 512, false }, { ST, 1, true }
	};
	assert_int_equal(submit(s, 4, true), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + DISK_BYTES - 512, 0x5A, 512);
	expect_image();
	/* no data: nothing written, OK */
	assert_int_equal(request(T_OUT, 3, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_OK);
	expect_image();
	assert_int_equal(blk.writes, 3);
	assert_int_equal(blk.reads, 1);
	assert_int_equal(blk.errors, 0);
}

/* Past the end, straddling it, sector numbers that wrap: IOERR, nothing moved. */
static void out_of_range(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x2000, FILL);
	static const uint64_t bad[] = { SECTORS,    SECTORS - 1, SECTORS - 3,	SECTORS + 1,
					1ull << 55, UINT64_MAX,	 UINT64_MAX - 2 };
	struct buf in = { DATA, 4 * 512, true };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(request(T_IN, bad[i], &in, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		expect_guest(DATA, 0x2000, FILL);
	}
	fill(DATA, 0x2000, 0x77);
	struct buf out = { DATA, 4 * 512, false };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(request(T_OUT, bad[i], &out, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		expect_image();
	}
	/* zero sectors past the end: still out of range */
	assert_int_equal(request(T_IN, SECTORS + 1, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	assert_int_equal(blk.reads, ARRAY_SIZE(bad) + 1);
	assert_int_equal(blk.writes, ARRAY_SIZE(bad));
	assert_int_equal(blk.errors, 2 * ARRAY_SIZE(bad) + 1);
	/* the last four sectors exactly: fine */
	assert_int_equal(request(T_OUT, SECTORS - 4, &out, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + DISK_BYTES - 4 * 512, 0x77, 4 * 512);
	expect_image();
}

/* Data that is not a whole number of sectors: IOERR, nothing moved. */
static void partial_sectors(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x2000, FILL);
	static const uint32_t lens[] = { 1, 511, 513, 1023, 4095 };
	for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
		struct buf in = { DATA, lens[i], true };
		assert_int_equal(request(T_IN, 0, &in, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		expect_guest(DATA, 0x2000, FILL);
		struct buf out = { DATA, lens[i], false };
		assert_int_equal(request(T_OUT, 0, &out, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		expect_image();
	}
	/* 512 over two buffers that are not: fine */
	struct buf two[2] = { { DATA, 100, true }, { DATA + 0x1000, 412, true } };
	assert_int_equal(request(T_IN, 2, two, 2), 513);
	assert_int_equal(status_byte(), ST_OK);
	expect_disk_bytes(DATA, 1024, 100);
	expect_disk_bytes(DATA + 0x1000, 1124, 412);
	assert_int_equal(blk.errors, 2 * ARRAY_SIZE(lens));
}

/* OUT with device-writable data, IN with device-readable data: IOERR, nothing moved. */
static void wrong_directions(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x2000, 0x77);
	header(T_OUT, 5);
	vq_w(&ram.mem, ST, FILL, 1);
	struct buf w[3] = { { HDR, 16, false }, { DATA, 512, true }, { ST, 1, true } };
	assert_int_equal(submit(w, 3, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_guest(DATA, 0x2000, 0x77);
	expect_image();
	/* an OUT with its data right but a writable buffer besides the status */
	w[1].w = false;
	struct buf w2[4] = { w[0], w[1], { DATA + 0x1000, 512, true }, { ST, 1, true } };
	assert_int_equal(submit(w2, 4, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_guest(DATA, 0x2000, 0x77);
	expect_image();

	header(T_IN, 5);
	vq_w(&ram.mem, ST, FILL, 1);
	struct buf r[3] = { { HDR, 16, false }, { DATA, 512, false }, { ST, 1, true } };
	assert_int_equal(submit(r, 3, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	/* readable and writable data both */
	struct buf r2[4] = { r[0], r[1], { DATA + 0x1000, 512, true }, { ST, 1, true } };
	vq_w(&ram.mem, ST, FILL, 1);
	assert_int_equal(submit(r2, 4, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_guest(DATA, 0x2000, 0x77);
	assert_int_equal(blk.reads, 2);
	assert_int_equal(blk.writes, 2);
	assert_int_equal(blk.errors, 4);
}

static uint32_t range_request(uint32_t type, uint64_t sector, uint32_t count, uint32_t flags,
			      unsigned nsegs)
{
	for (unsigned i = 0; i < nsegs; i++) {
		vq_w(&ram.mem, SEGS + 16 * i, sector + 64 * i, 8);
		vq_w(&ram.mem, SEGS + 16 * i + 8, count, 4);
		vq_w(&ram.mem, SEGS + 16 * i + 12, flags, 4);
	}
	struct buf seg = { SEGS, 16 * nsegs, false };
	return request(type, sector, &seg, nsegs ? 1 : 0);
}

/* A read-only disk: every change refused with IOERR, reads, flushes and GET_ID fine. */
static void read_only_disk(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_RO | F_FLUSH);
	fill(DATA, 0x1000, 0x77);
	struct buf out = { DATA, 1024, false };
	assert_int_equal(request(T_OUT, 8, &out, 1), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	assert_int_equal(range_request(T_DISCARD, 8, 2, 0, 1), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	assert_int_equal(range_request(T_WRITE_ZEROES, 8, 2, 0, 1), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_image();
	assert_int_equal(request(T_FLUSH, 0, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_OK);
	struct buf in = { DATA, 1024, true };
	assert_int_equal(request(T_IN, 8, &in, 1), 1025);
	assert_int_equal(status_byte(), ST_OK);
	expect_disk_bytes(DATA, 8 * 512, 1024);
	struct buf id = { DATA, 20, true };
	assert_int_equal(request(T_GET_ID, 0, &id, 1), 21);
	assert_memory_equal(ram.ext[0].hva + DATA, "keel-vdb\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	expect_image();
	assert_int_equal(blk.writes, 1);
	assert_int_equal(blk.reads, 1);
	assert_int_equal(blk.flushes, 1);
	assert_int_equal(blk.errors, 3);
}

static void flush(void **state)
{
	(void)state;
	up();
	assert_int_equal(request(T_FLUSH, 0, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_OK);
	/* the sector field means nothing for a flush */
	assert_int_equal(request(T_FLUSH, UINT64_MAX, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_OK);
	assert_int_equal(blk.flushes, 2);
	assert_int_equal(blk.errors, 0);
	expect_image();
}

/* GET_ID: the serial padded with zeros to 20 bytes, cut to the buffer. */
static void get_id(void **state)
{
	(void)state;
	up();
	fill(DATA, 64, FILL);
	struct buf id = { DATA, 20, true };
	assert_int_equal(request(T_GET_ID, 0, &id, 1), 21);
	assert_int_equal(status_byte(), ST_OK);
	assert_memory_equal(ram.ext[0].hva + DATA, "keel-vda\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	expect_guest(DATA + 20, 44, FILL);
	/* a shorter buffer: the first bytes */
	fill(DATA, 64, FILL);
	id.len = 4;
	assert_int_equal(request(T_GET_ID, 0, &id, 1), 5);
	assert_int_equal(status_byte(), ST_OK);
	assert_memory_equal(ram.ext[0].hva + DATA, "keel", 4);
	expect_guest(DATA + 4, 60, FILL);
	/* a longer one: 20 bytes, the rest untouched */
	fill(DATA, 64, FILL);
	id.len = 32;
	assert_int_equal(request(T_GET_ID, 0, &id, 1), 21);
	assert_int_equal(status_byte(), ST_OK);
	assert_memory_equal(ram.ext[0].hva + DATA, "keel-vda\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	expect_guest(DATA + 20, 44, FILL);
	/* none: just the status */
	assert_int_equal(request(T_GET_ID, 0, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_OK);
	/* split over two buffers across extents */
	struct buf two[2] = { { 0xFFFA, 6, true }, { 0x10000, 14, true } };
	fill(0xFFF0, 0x20, FILL);
	assert_int_equal(request(T_GET_ID, 0, two, 2), 21);
	uint8_t got[20];
	assert_int_equal(gmem_read(&ram.mem, 0xFFFA, got, 20), 0);
	assert_memory_equal(got, "keel-vda\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(blk.errors, 0);

	/* a serial of 20 characters or more: 20 of them, no terminator */
	teardown(NULL);
	assert_int_equal(make_device(false, NULL, "0123456789abcdefghijKLMNO"), 0);
	up();
	fill(DATA, 64, FILL);
	id.len = 24;
	assert_int_equal(request(T_GET_ID, 0, &id, 1), 21);
	assert_memory_equal(ram.ext[0].hva + DATA, "0123456789abcdefghij", 20);
	expect_guest(DATA + 20, 44, FILL);
}

/* DISCARD and WRITE_ZEROES: exactly their sectors zeroed, one segment, the flags 5.2.6.2
 * allows. */
static void discard_write_zeroes(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_DISCARD | F_WRITE_ZEROES);
	assert_int_equal(range_request(T_DISCARD, 10, 5, 0, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + 10 * 512, 0, 5 * 512);
	expect_image();
	assert_int_equal(range_request(T_WRITE_ZEROES, 30, 3, 0, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + 30 * 512, 0, 3 * 512);
	expect_image();
	/* write-zeroes may carry unmap */
	assert_int_equal(range_request(T_WRITE_ZEROES, 40, 2, 1, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + 40 * 512, 0, 2 * 512);
	/* the last sector */
	assert_int_equal(range_request(T_DISCARD, SECTORS - 1, 1, 0, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + DISK_BYTES - 512, 0, 512);
	expect_image();
	unsigned errors = 0;
	/* unmap on a discard, and any unknown flag: UNSUPP */
	static const struct {
		uint32_t type, flags;
	} unsupp[] = { { T_DISCARD, 1 },      { T_DISCARD, 2 },	     { T_DISCARD, 0x80000000 },
		       { T_WRITE_ZEROES, 2 }, { T_WRITE_ZEROES, 3 }, { T_WRITE_ZEROES, 0x100 } };
	for (unsigned i = 0; i < ARRAY_SIZE(unsupp); i++) {
		assert_int_equal(range_request(unsupp[i].type, 50, 4, unsupp[i].flags, 1), 1);
		assert_int_equal(status_byte(), ST_UNSUPP);
		errors++;
	}
	expect_image();
	/* more than one segment (max_*_seg is 1), none, a short one, out of range: IOERR */
	for (unsigned t = 0; t < 2; t++) {
		uint32_t type = t ? T_WRITE_ZEROES : T_DISCARD;
		assert_int_equal(range_request(type, 60, 2, 0, 2), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		assert_int_equal(range_request(type, 60, 2, 0, 3), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		assert_int_equal(range_request(type, 60, 2, 0, 0), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		struct buf part = { SEGS, 15, false };
		assert_int_equal(request(type, 60, &part, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		assert_int_equal(range_request(type, SECTORS - 1, 2, 0, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		assert_int_equal(range_request(type, SECTORS, 1, 0, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		assert_int_equal(range_request(type, UINT64_MAX, 2, 0, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		assert_int_equal(range_request(type, 0, 0x400001, 0, 1), 1);
		assert_int_equal(status_byte(), ST_IOERR);
		errors += 8;
		/* zero sectors: nothing to do */
		assert_int_equal(range_request(type, 60, 0, 0, 1), 1);
		assert_int_equal(status_byte(), ST_OK);
	}
	expect_image();
	/* the header and the segment in one buffer, the segment across extents 0 and 1 */
	uint8_t req[32] = { T_WRITE_ZEROES };
	uint64_t sector = 70;
	uint32_t count = 6;
	memcpy(req + 16, &sector, 8);
	memcpy(req + 24, &count, 4);
	assert_int_equal(gmem_write(&ram.mem, 0xFFF4, req, 32), 0);
	vq_w(&ram.mem, ST, FILL, 1);
	struct buf one[2] = { { 0xFFF4, 32, false }, { ST, 1, true } };
	assert_int_equal(submit(one, 2, false), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + 70 * 512, 0, 6 * 512);
	expect_image();
	assert_int_equal(blk.errors, errors);
}

/* A backend without discard and write-zeroes: neither offered, both UNSUPP if sent anyway. */
static void backend_without_range_ops(void **state)
{
	(void)state;
	assert_int_equal(device_features(), always);
	up();
	assert_int_equal(range_request(T_DISCARD, 10, 5, 0, 1), 1);
	assert_int_equal(status_byte(), ST_UNSUPP);
	assert_int_equal(range_request(T_WRITE_ZEROES, 10, 5, 0, 1), 1);
	assert_int_equal(status_byte(), ST_UNSUPP);
	expect_image();
	assert_int_equal(blk.errors, 2);
}

static void unknown_types(void **state)
{
	(void)state;
	up();
	/* GET_LIFETIME (10), SECURE_ERASE (14), and never-defined ones */
	static const uint32_t types[] = { 2,  3,  5,  6,  7,	      9,	 10,
					  12, 14, 15, 16, 0x80000000, UINT32_MAX };
	fill(DATA, 0x1000, FILL);
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		struct buf in = { DATA, 512, true };
		assert_int_equal(request(types[i], 0, &in, 1), 1);
		assert_int_equal(status_byte(), ST_UNSUPP);
		struct buf out = { DATA, 512, false };
		assert_int_equal(request(types[i], 0, &out, 1), 1);
		assert_int_equal(status_byte(), ST_UNSUPP);
	}
	expect_guest(DATA, 0x1000, FILL);
	expect_image();
	assert_int_equal(blk.errors, 2 * ARRAY_SIZE(types));
	assert_int_equal(blk.reads + blk.writes + blk.flushes, 0);
}

/* No writable byte: no status to give; the chain comes back with length 0, nothing moved, not
 * even a valid write. */
static void no_status_byte(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x1000, 0x77);
	vq_w(&ram.mem, ST, FILL, 1);
	header(T_OUT, 4);
	struct buf b[2] = { { HDR, 16, false }, { DATA, 512, false } };
	assert_int_equal(submit(b, 2, false), 0);
	header(T_IN, 4);
	assert_int_equal(submit(b, 2, false), 0);
	header(T_GET_ID, 0);
	assert_int_equal(submit(b, 1, false), 0);
	expect_image();
	expect_guest(DATA, 0x1000, 0x77);
	assert_int_equal(status_byte(), FILL);
	assert_int_equal(blk.errors, 3);
	assert_int_equal(blk.reads + blk.writes, 0);
}

/* A header shorter than 16 bytes is no request: IOERR in the status byte, nothing moved. */
static void short_header(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x1000, FILL);
	header(T_IN, 0);
	vq_w(&ram.mem, ST, FILL, 1);
	struct buf b[3] = { { HDR, 8, false }, { ST, 1, true } };
	assert_int_equal(submit(b, 2, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	/* 15 bytes, then data to read into */
	b[0].len = 15;
	b[1] = (struct buf){ DATA, 512, true };
	b[2] = (struct buf){ ST, 1, true };
	vq_w(&ram.mem, ST, FILL, 1);
	assert_int_equal(submit(b, 3, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	/* no readable buffer at all */
	vq_w(&ram.mem, ST, FILL, 1);
	assert_int_equal(submit(b + 1, 2, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_guest(DATA, 0x1000, FILL);
	/* 12 header bytes in their buffer and 512 more readable ones: the header is the first 16
	 * readable bytes wherever the buffers split (2.6.4), so this is an OUT of 508 bytes (and
	 * a sector number partly from the data): IOERR, no write */
	header(T_OUT, 0);
	struct buf o[3] = { { HDR, 12, false }, { DATA, 512, false }, { ST, 1, true } };
	vq_w(&ram.mem, ST, FILL, 1);
	assert_int_equal(submit(o, 3, false), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_image();
	assert_int_equal(blk.errors, 4);
	assert_int_equal(blk.reads, 0);
	assert_int_equal(blk.writes, 1);
}

/* Five requests in one notification, each with its own status byte. */
static void several_per_notification(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x8000, FILL);
	uint16_t used = vq_used_idx(&drv);
	for (unsigned i = 0; i < 5; i++) {
		uint64_t hdr = HDR + 0x20 * i, st = ST + i;
		vq_w(&ram.mem, hdr, T_IN, 4);
		vq_w(&ram.mem, hdr + 4, 0, 4);
		vq_w(&ram.mem, hdr + 8, 20 * i, 8);
		vq_w(&ram.mem, st, FILL, 1);
		uint16_t d = (uint16_t)(3 * i);
		vq_desc(&drv, DESC, d, hdr, 16, VIRTQ_DESC_F_NEXT, d + 1);
		vq_desc(&drv, DESC, d + 1, DATA + 0x1000 * i, 512 * (i + 1),
			VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, d + 2);
		vq_desc(&drv, DESC, d + 2, st, 1, VIRTQ_DESC_F_WRITE, 0);
		vq_publish(&drv, d);
	}
	mem_wr(notify_at, 2, 0);
	settle();
	assert_int_equal(vq_used_idx(&drv), (uint16_t)(used + 5));
	for (unsigned i = 0; i < 5; i++) {
		uint32_t id, len;
		vq_used_elem(&drv, (uint16_t)(used + i), &id, &len);
		assert_int_equal(id, 3 * i);
		assert_int_equal(len, 512 * (i + 1) + 1);
		assert_int_equal(vq_r(&ram.mem, ST + i, 1), ST_OK);
		expect_disk_bytes(DATA + 0x1000 * i, 20 * i * 512, 512 * (i + 1));
		expect_guest(DATA + 0x1000 * i + 512 * (i + 1), 1, FILL);
	}
	assert_int_equal(blk.reads, 5);
	assert_int_equal(blk.vpci.notifies, 1);
}

/* A backend whose reads and flushes fail: IOERR, no data in the guest; writes still land. */
static void backend_errors(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x1000, FILL);
	struct buf in = { DATA, 1024, true };
	assert_int_equal(request(T_IN, 0, &in, 1), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_guest(DATA, 0x1000, FILL);
	assert_int_equal(request(T_FLUSH, 0, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	struct buf out = { DATA, 1024, false };
	assert_int_equal(request(T_OUT, 2, &out, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + 1024, FILL, 1024);
	expect_image();
	assert_int_equal(blk.reads, 1);
	assert_int_equal(blk.writes, 1);
	assert_int_equal(blk.flushes, 1);
	assert_int_equal(blk.errors, 2);
}

/* CONFIG_WCE (5.2.5): writeback 0 makes every write flushed before it completes, and a write
 * whose flush fails an IOERR; a device reset brings writeback back. */
static void writethrough_flushes(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_FLUSH | F_CONFIG_WCE);
	struct buf out = { DATA, 1024, false };
	fill(DATA, 1024, FILL);
	assert_int_equal(request(T_OUT, 2, &out, 1), 1);
	assert_int_equal(status_byte(), ST_OK); /* writeback: no flush of its own */
	mem_wr(devcfg + 32, 2, 0);		/* only a byte write of the byte counts */
	assert_int_equal(dcfg(32, 1), 1);
	mem_wr(devcfg + 32, 1, 0);
	assert_int_equal(dcfg(32, 1), 0);
	assert_int_equal(request(T_OUT, 4, &out, 1), 1);
	assert_int_equal(status_byte(), ST_IOERR); /* written, but its flush failed */
	memset(shadow + 1024, FILL, 2048);
	expect_image();
	mem_wr(devcfg + 32, 1, 7);
	assert_int_equal(dcfg(32, 1), 1);
	assert_int_equal(request(T_OUT, 4, &out, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	mem_wr(devcfg + 32, 1, 0);
	bring_up(F_VERSION_1 | F_FLUSH); /* resets the device first */
	assert_int_equal(dcfg(32, 1), 1);
	mem_wr(devcfg + 32, 1, 0); /* without CONFIG_WCE: not the driver's to write */
	assert_int_equal(dcfg(32, 1), 1);
	assert_int_equal(blk.writes, 3);
	assert_int_equal(blk.written_bytes, 2048);
	assert_int_equal(blk.errors, 1);
}

/* An asynchronous backend gets the guest's buffers themselves, one piece per buffer and per RAM
 * extent, whatever their alignment; the bytes are the same as through the bounce buffer. */
static void async_pieces_are_guest_buffers(void **state)
{
	(void)state;
	up();
	fill(DATA, RAM_END - DATA, FILL);
	/* across two extents of the guest's RAM: two pieces, one submission */
	struct buf whole = { 0x12000, DISK_BYTES, true };
	assert_int_equal(request(T_IN, 0, &whole, 1), DISK_BYTES + 1);
	assert_int_equal(status_byte(), ST_OK);
	expect_disk_bytes(whole.gpa, 0, DISK_BYTES);
	expect_guest(whole.gpa + DISK_BYTES, 1, FILL);
	assert_int_equal(async_calls, 1);
	assert_true(async_pieces >= 2);
	/* odd buffers: pieces of any length */
	struct buf odd[2] = { { 0x20001, 0x123, true }, { 0x21000, 1024 - 0x123, true } };
	assert_int_equal(request(T_IN, 2, odd, 2), 1025);
	assert_int_equal(status_byte(), ST_OK);
	expect_disk_bytes(odd[0].gpa, 1024, 0x123);
	expect_disk_bytes(odd[1].gpa, 1024 + 0x123, 1024 - 0x123);
	assert_int_equal(async_calls, 2);
	/* a write from two buffers lands */
	fill(0x22000, 1024, 0x5a);
	fill(0x24000, 512, 0xa5);
	header(T_OUT, 7);
	vq_w(&ram.mem, ST, FILL, 1);
	struct buf b[4] = { { HDR, 16, false },
			    { 0x22000, 1024, false },
			    { 0x24000, 512, false },
			    { ST, 1, true } };
	assert_int_equal(submit(b, 4, false), 1);
	assert_int_equal(status_byte(), ST_OK);
	memset(shadow + 7 * 512, 0x5a, 1024);
	memset(shadow + 9 * 512, 0xa5, 512);
	expect_image();
	assert_int_equal(async_calls, 3);
	assert_int_equal(blk.read_bytes, DISK_BYTES + 1024);
	assert_int_equal(blk.written_bytes, 1536);
	assert_false(virtio_blk_busy(&blk));
}

/* Publishes n reads of one sector each (sector i into DATA + 0x200 i), each chain one
 * descriptor to its own indirect table, and notifies once. */
static uint16_t publish_reads(unsigned n)
{
	uint16_t used = vq_used_idx(&drv);
	assert_true(n <= QSIZE && n <= 16);
	for (unsigned i = 0; i < n; i++) {
		uint64_t hdr = HDR + 0x10 * i, st = ST + i, table = INDIR + 0x40 * i;
		vq_w(&ram.mem, hdr, T_IN, 4);
		vq_w(&ram.mem, hdr + 4, 0, 4);
		vq_w(&ram.mem, hdr + 8, i, 8);
		vq_w(&ram.mem, st, FILL, 1);
		vq_desc(&drv, table, 0, hdr, 16, VIRTQ_DESC_F_NEXT, 1);
		vq_desc(&drv, table, 1, DATA + 0x200 * i, 512,
			VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
		vq_desc(&drv, table, 2, st, 1, VIRTQ_DESC_F_WRITE, 0);
		vq_desc(&drv, DESC, (uint16_t)i, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
		vq_publish(&drv, (uint16_t)i);
	}
	mem_wr(notify_at, 2, 0);
	return used;
}

/* Nothing completes before the backend says so; at most VIRTIO_BLK_INFLIGHT requests are on it,
 * the others wait in the available ring and start as slots free up. */
static void async_completes_later(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x4000, FILL);
	uint16_t used = publish_reads(5);
	assert_int_equal(async_n, 5);
	assert_int_equal(vq_used_idx(&drv), used);
	assert_true(virtio_blk_busy(&blk));
	assert_true(virtio_blk_dma_busy(&blk));
	async_run();
	assert_false(virtio_blk_dma_busy(&blk)); /* the data is in: the balloon may go on */
	assert_true(virtio_blk_busy(&blk));	 /* but the chains are not used yet */
	assert_int_equal(vq_used_idx(&drv), used);
	virtio_blk_complete(&blk);
	assert_int_equal(vq_used_idx(&drv), (uint16_t)(used + 5));
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(vq_r(&ram.mem, ST + i, 1), ST_OK);
		expect_disk_bytes(DATA + 0x200 * i, 512 * i, 512);
	}
	assert_false(virtio_blk_busy(&blk));
}

static void async_slots_bound_inflight(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x4000, FILL);
	unsigned n = VIRTIO_BLK_INFLIGHT + 2;
	uint16_t used = publish_reads(n);
	assert_int_equal(async_n, VIRTIO_BLK_INFLIGHT);
	settle();
	assert_int_equal(vq_used_idx(&drv), (uint16_t)(used + n));
	assert_int_equal(async_calls, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(vq_r(&ram.mem, ST + i, 1), ST_OK);
}

/* A driver's reset waits for the requests on the backend: status reads non-zero until their DMA
 * is over, and their chains are not used (the driver forgot them). */
static void async_reset_waits(void **state)
{
	(void)state;
	up();
	fill(DATA, 0x4000, FILL);
	uint16_t used = publish_reads(2);
	cc_wr(STATUS, 1, 0);
	assert_int_not_equal(cc_rd(STATUS, 1), 0);
	cc_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE); /* ignored until the reset is done */
	assert_int_not_equal(cc_rd(STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	mem_wr(notify_at, 2, 0);
	assert_int_equal(async_n, 2); /* and nothing new starts */
	settle();
	assert_int_equal(cc_rd(STATUS, 1), 0);
	assert_int_equal(vq_used_idx(&drv), used);
	assert_int_equal(vq_r(&ram.mem, ST, 1), FILL);
	assert_false(virtio_blk_busy(&blk));
	/* and the device works again */
	up();
	fill(DATA, 0x1000, FILL);
	struct buf one = { DATA, 512, true };
	assert_int_equal(request(T_IN, 3, &one, 1), 513);
	expect_disk_bytes(DATA, 3 * 512, 512);
}

/* A failure on the backend is IOERR; a writethrough write is flushed on the backend too; flush
 * and discard go to the backend. */
static void async_errors_and_flushes(void **state)
{
	(void)state;
	bring_up(F_VERSION_1 | F_FLUSH | F_CONFIG_WCE | F_DISCARD);
	fill(DATA, 0x1000, FILL);
	struct buf one = { DATA, 512, true };
	async_fail = true;
	assert_int_equal(request(T_IN, 0, &one, 1), 1);
	assert_int_equal(status_byte(), ST_IOERR);
	expect_guest(DATA, 512, FILL);
	async_fail = false;
	assert_int_equal(request(T_FLUSH, 0, NULL, 0), 1);
	assert_int_equal(status_byte(), ST_OK);
	assert_int_equal(async_flushes, 1);
	mem_wr(devcfg + 32, 1, 0); /* writethrough */
	struct buf out = { DATA, 512, false };
	fill(DATA, 512, 0x77);
	assert_int_equal(request(T_OUT, 5, &out, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	assert_int_equal(async_flushes, 2);
	memset(shadow + 5 * 512, 0x77, 512);
	expect_image();
	assert_int_equal(range_request(T_DISCARD, 0, 8, 0, 1), 1);
	assert_int_equal(status_byte(), ST_OK);
	assert_int_equal(blk.errors, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_rw, teardown)
	const struct CMUnitTest tests[] = {
		T(config_space),
		T(features_writable),
		cmocka_unit_test_setup_teardown(features_read_only, setup_ro, teardown),
		T(read_across_buffers),
		T(write_lands),
		T(out_of_range),
		T(partial_sectors),
		T(wrong_directions),
		cmocka_unit_test_setup_teardown(read_only_disk, setup_ro, teardown),
		T(flush),
		T(get_id),
		T(discard_write_zeroes),
		cmocka_unit_test_setup_teardown(backend_without_range_ops, setup_no_range,
						teardown),
		T(unknown_types),
		T(no_status_byte),
		T(short_header),
		T(several_per_notification),
		cmocka_unit_test_setup_teardown(backend_errors, setup_failing, teardown),
		cmocka_unit_test_setup_teardown(writethrough_flushes, setup_failing, teardown),
#define A(f) cmocka_unit_test_setup_teardown(f, setup_async, teardown)
		A(async_pieces_are_guest_buffers),
		A(read_across_buffers),
		A(write_lands),
		A(out_of_range),
		A(partial_sectors),
		A(several_per_notification),
		A(async_completes_later),
		A(async_slots_bound_inflight),
		A(async_reset_waits),
		A(async_errors_and_flushes),
#undef A
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
