/* vdev/virtio/console.c: a virtio console in slot 0x1f of a PCI bus, driven through ECAM and BAR 0
 * as a modern driver does (MSI-X: vector 0 configuration, 1 receiveq, 2 transmitq). Guest RAM is
 * two extents, each its own allocation, with buffers across their boundary.
 * Checked: the identity, configuration space (cols, rows, max_nr_ports, emerg_wr) and the
 * features offered and refused (MULTIPORT); emergency writes; transmitted bytes split across
 * descriptors every way (direct, indirect, zero-length, across extents) reaching the VM's console
 * output byte for byte and in order; malformed transmit chains (a writable buffer) and overlong
 * ones; typed bytes waiting for receive buffers (before DRIVER_OK, without bus mastering, with no
 * chain posted) and delivered on the driver's notification, split over small chains, across the
 * input buffer's wrap; a full input buffer dropping and counting; receive chains with a readable
 * buffer; a broken ring asking for a reset with one log line; one interrupt per call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/console.h"

/* virtio_pci_common_cfg (virtio 1.2, 4.1.4.3) */
#define DFSELECT 0
#define DF 4
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

/* virtio-console as the driver knows it (5.3.3, 5.3.4) */
#define F_SIZE (1ull << 0)
#define F_MULTIPORT (1ull << 1)
#define F_EMERG_WRITE (1ull << 2)
#define F_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)
#define CFG_COLS 0
#define CFG_ROWS 2
#define CFG_MAX_PORTS 4
#define CFG_EMERG_WR 8

#define RXQ 0
#define TXQ 1
/* guest RAM [0, 0x10000) and [0x10000, 0x40000): two host blocks */
static const struct vq_range layout[] = { { 0, 0x10000 }, { 0x10000, 0x30000 } };
/* queue q's rings at 0x1000 + 0x1000 q: descriptors +0, available +0x400, used +0x600,
 * indirect tables +0x900 */
#define RINGS(q) (0x1000 + 0x1000 * (q))
#define TX_AREA 0xF000 /* transmit buffers, into the second extent */
#define RX_AREA 0x20000
#define QSIZE 16
#define SLOT 0x1f

static struct fake_vm vm;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct vq_ram ram;
static struct virtio_console *con;
static uint64_t bar0, devcfg, notify_at;
static struct vq_drv q[2];
static uint16_t next_desc[2];
static unsigned msgs[3]; /* MSI-X messages by vector */

static void record_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx;
	assert_true(m->data >= 0x40 && m->data < 0x43);
	msgs[m->data - 0x40]++;
}

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

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

static uint32_t cfg_rd(unsigned off, unsigned size)
{
	return (uint32_t)mem_rd(GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | off), size);
}

static void cfg_wr(unsigned off, unsigned size, uint32_t v)
{
	mem_wr(GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | off), size, v);
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

static unsigned msix_cap(void)
{
	for (unsigned at = cfg_rd(PCI_CAP_PTR, 1); at; at = cfg_rd(at + 1, 1))
		if (cfg_rd(at, 1) == PCI_CAP_MSIX)
			return at;
	fail_msg("no MSI-X capability");
	return 0;
}

static void find_caps(void)
{
	uint32_t lo = cfg_rd(PCI_BAR0, 4), hi = cfg_rd(PCI_BAR0 + 4, 4);
	bar0 = (uint64_t)hi << 32 | (lo & ~0xFull);
	devcfg = notify_at = 0;
	for (unsigned at = cfg_rd(PCI_CAP_PTR, 1), seen = 0; at; at = cfg_rd(at + 1, 1)) {
		assert_true(++seen < 48);
		if (cfg_rd(at, 1) != PCI_CAP_VENDOR)
			continue;
		unsigned type = cfg_rd(at + 3, 1);
		uint32_t off = cfg_rd(at + 8, 4), len = cfg_rd(at + 12, 4);
		if (type == 2) {
			notify_at = bar0 + off;
			assert_int_equal(len, 8); /* two queues, multiplier 4 */
		}
		if (type == 4) {
			devcfg = bar0 + off;
			assert_int_equal(len, 12); /* cols, rows, max_nr_ports, emerg_wr */
		}
	}
	assert_int_not_equal(devcfg, 0);
	assert_int_not_equal(notify_at, 0);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	if (vq_ram_init(&ram, layout, ARRAY_SIZE(layout)))
		return -1;
	vm.env.mem = &ram.mem;
	host_log_clear();
	memset(msgs, 0, sizeof(msgs));
	io_bus_init(&io, &vm.env);
	mmio_bus_init(&mmio, &vm.env);
	con = calloc(1, sizeof(*con));
	if (!con || pci_bus_init(&bus, &vm.env, &io, &mmio, &windows, record_msg, NULL) ||
	    virtio_console_init(con, &vm.env, 132, 43) ||
	    pci_bus_plug(&bus, SLOT, &con->vpci.pci) || pci_bus_assign(&bus))
		return -1;
	find_caps();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(con);
	con = NULL;
	vq_ram_free(&ram);
	return 0;
}

/* virtio 3.1.1 and 5.3.5 as a modern driver does it: reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK (checked), MSI-X, both queues, then DRIVER_OK when driver_ok; bus mastering on. */
static void bring_up(uint64_t features, bool driver_ok)
{
	for (unsigned i = 0; i < 2; i++) {
		uint64_t r = RINGS(i);
		assert_int_equal(gmem_fill(&ram.mem, r, 0, 0x1000), 0);
		q[i] = (struct vq_drv){ &ram.mem, r, r + 0x400, r + 0x600, QSIZE, 0 };
		next_desc[i] = 0;
	}
	memset(msgs, 0, sizeof(msgs));
	cc_wr(STATUS, 1, 0);
	cc_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	cc_wr(GFSELECT, 4, 0);
	cc_wr(GF, 4, (uint32_t)features);
	cc_wr(GFSELECT, 4, 1);
	cc_wr(GF, 4, features >> 32);
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	cc_wr(STATUS, 1, s);
	assert_int_equal(cc_rd(STATUS, 1), s);
	cfg_wr(PCI_COMMAND, 2, cfg_rd(PCI_COMMAND, 2) | PCI_CMD_MASTER);
	cfg_wr(msix_cap() + 2, 2, 0x8000);
	for (unsigned v = 0; v < 3; v++) {
		uint64_t e = bar0 + VIRTIO_MSIX_TABLE_OFF + 16 * v;
		mem_wr(e, 4, 0xFEE00000);
		mem_wr(e + 4, 4, 0);
		mem_wr(e + 8, 4, 0x40 + v);
		mem_wr(e + 12, 4, 0);
	}
	cc_wr(MSIX_CONFIG, 2, 0);
	for (unsigned i = 0; i < 2; i++) {
		cc_wr(Q_SELECT, 2, i);
		assert_int_equal(cc_rd(Q_SIZE, 2), VIRTIO_CONSOLE_QUEUE_SIZE);
		cc_wr(Q_SIZE, 2, QSIZE);
		cc_wr(Q_DESC, 8, q[i].desc);
		cc_wr(Q_DRIVER, 8, q[i].avail);
		cc_wr(Q_DEVICE, 8, q[i].used);
		cc_wr(Q_MSIX, 2, i + 1);
		cc_wr(Q_ENABLE, 2, 1);
	}
	if (driver_ok)
		cc_wr(STATUS, 1, s | VIRTIO_STATUS_DRIVER_OK);
}

/* What Linux takes, less EVENT_IDX, so that every completion interrupts. */
static void up(void)
{
	bring_up(F_VERSION_1 | F_INDIRECT | F_SIZE, true);
}

static void notify_queue(unsigned qi)
{
	mem_wr(notify_at + 4 * qi, 2, qi);
}

static bool needs_reset(void)
{
	return cc_rd(STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET;
}

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool w; /* device-writable */
};

/* Publishes one chain of n buffers on queue qi (direct, or one indirect table); returns its
 * head. */
static uint16_t post(unsigned qi, const struct buf *b, unsigned n, bool indirect)
{
	struct vq_drv *d = &q[qi];
	uint16_t head = next_desc[qi];
	if (indirect) {
		uint64_t t = d->desc + 0x900;
		for (unsigned i = 0; i < n; i++)
			vq_desc(d, t, i, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1));
		vq_desc(d, d->desc, head, t, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
		next_desc[qi] = (uint16_t)((head + 1) % d->size);
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t k = (uint16_t)((head + i) % d->size);
			vq_desc(d, d->desc, k, b[i].gpa, b[i].len,
				(uint16_t)((b[i].w ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				(uint16_t)((k + 1) % d->size));
		}
		next_desc[qi] = (uint16_t)((head + n) % d->size);
	}
	vq_publish(d, head);
	return head;
}

static void expect_used(unsigned qi, uint16_t i, uint16_t head, uint32_t len)
{
	uint32_t id, l;
	vq_used_elem(&q[qi], i, &id, &l);
	assert_int_equal(id, head);
	assert_int_equal(l, len);
}

static void put_text(uint64_t gpa, const char *s)
{
	assert_int_equal(gmem_write(&ram.mem, gpa, s, strlen(s)), 0);
}

static void expect_text(uint64_t gpa, const char *s)
{
	char got[256] = { 0 };
	size_t n = strlen(s);
	assert_true(n < sizeof(got));
	assert_int_equal(gmem_read(&ram.mem, gpa, got, n), 0);
	assert_memory_equal(got, s, n);
}

/* ---- identity, configuration, features ---- */

static void identity_and_config(void **state)
{
	(void)state;
	assert_int_equal(cfg_rd(PCI_VENDOR_ID, 2), 0x1AF4);
	assert_int_equal(cfg_rd(PCI_DEVICE_ID, 2), 0x1043); /* 0x1040 + 3 (4.1.2.1) */
	assert_int_equal(cfg_rd(PCI_REVISION, 4) >> 8, 0x078000);
	uint64_t f = device_features();
	assert_int_equal(f, F_VERSION_1 | F_INDIRECT | F_EVENT_IDX | F_SIZE | F_EMERG_WRITE);
	assert_int_equal(mem_rd(devcfg + CFG_COLS, 2), 132);
	assert_int_equal(mem_rd(devcfg + CFG_ROWS, 2), 43);
	assert_int_equal(mem_rd(devcfg + CFG_COLS, 4), 43u << 16 | 132);
	assert_int_equal(mem_rd(devcfg + CFG_MAX_PORTS, 4), 1);
	assert_int_equal(mem_rd(devcfg + CFG_EMERG_WR, 4), 0); /* write-only */
	/* read-only fields stay; a read past the configuration is 0 */
	mem_wr(devcfg + CFG_COLS, 2, 7);
	mem_wr(devcfg + CFG_MAX_PORTS, 4, 9);
	assert_int_equal(mem_rd(devcfg + CFG_COLS, 2), 132);
	assert_int_equal(mem_rd(devcfg + CFG_MAX_PORTS, 4), 1);
	assert_int_equal(mem_rd(devcfg + 12, 4), 0);
	assert_int_equal(vm.out_len, 0);
}

static void multiport_refused(void **state)
{
	(void)state;
	cc_wr(STATUS, 1, 0);
	cc_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	cc_wr(GFSELECT, 4, 0);
	cc_wr(GF, 4, (uint32_t)(F_SIZE | F_MULTIPORT));
	cc_wr(GFSELECT, 4, 1);
	cc_wr(GF, 4, F_VERSION_1 >> 32);
	cc_wr(STATUS, 1,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_false(cc_rd(STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
}

static void emergency_write(void **state)
{
	(void)state;
	/* before any set-up (5.3.4: early output), then after it; only the low byte counts */
	mem_wr(devcfg + CFG_EMERG_WR, 4, 0x4B);
	up();
	mem_wr(devcfg + CFG_EMERG_WR, 4, 0x1265);
	mem_wr(devcfg + CFG_EMERG_WR, 1, 'e');
	mem_wr(devcfg + CFG_EMERG_WR + 1, 1, 'x'); /* not at emerg_wr: dropped */
	mem_wr(devcfg + CFG_EMERG_WR, 2, 'l');
	assert_string_equal(vm.out, "Keel");
	assert_int_equal(con->stats.emerg_bytes, 4);
}

/* ---- transmit ---- */

static void transmit_layouts(void **state)
{
	(void)state;
	up();
	/* one buffer; three with a zero-length one between; across the extents' boundary */
	put_text(TX_AREA, "hello, ");
	post(TXQ, (struct buf[]){ { TX_AREA, 7, false } }, 1, false);
	put_text(TX_AREA + 0x100, "wor");
	put_text(TX_AREA + 0x200, "ld\n");
	uint16_t h1 = post(TXQ,
			   (struct buf[]){ { TX_AREA + 0x100, 3, false },
					   { TX_AREA + 0x180, 0, false },
					   { TX_AREA + 0x200, 3, false } },
			   3, false);
	put_text(0xFFFC, "split!\n");
	uint16_t h2 = post(TXQ, (struct buf[]){ { 0xFFFC, 7, false } }, 1, false);
	notify_queue(TXQ);
	assert_string_equal(vm.out, "hello, world\nsplit!\n");
	assert_int_equal(vq_used_idx(&q[TXQ]), 3);
	expect_used(TXQ, 1, h1, 0);
	expect_used(TXQ, 2, h2, 0);
	assert_int_equal(msgs[2], 1); /* one interrupt for the three chains */
	/* indirect */
	put_text(TX_AREA + 0x300, "in");
	put_text(TX_AREA + 0x400, "direct\n");
	post(TXQ, (struct buf[]){ { TX_AREA + 0x300, 2, false }, { TX_AREA + 0x400, 7, false } }, 2,
	     true);
	notify_queue(TXQ);
	assert_string_equal(vm.out, "hello, world\nsplit!\nindirect\n");
	assert_int_equal(con->stats.tx_bytes, 29);
	assert_int_equal(msgs[2], 2);
	assert_false(needs_reset());
}

static void transmit_malformed(void **state)
{
	(void)state;
	up();
	/* a writable buffer: returned unread */
	put_text(TX_AREA, "nope");
	post(TXQ, (struct buf[]){ { TX_AREA, 4, false }, { TX_AREA + 0x10, 4, true } }, 2, false);
	notify_queue(TXQ);
	assert_int_equal(vm.out_len, 0);
	assert_int_equal(con->stats.tx_bad_chain, 1);
	assert_int_equal(vq_used_idx(&q[TXQ]), 1);
	/* longer than VIRTIO_CONSOLE_TX_MAX: cut there, the rest counted */
	assert_int_equal(gmem_fill(&ram.mem, RX_AREA, 'x', VIRTIO_CONSOLE_TX_MAX), 0);
	post(TXQ,
	     (struct buf[]){ { RX_AREA, VIRTIO_CONSOLE_TX_MAX - 2, false },
			     { RX_AREA, 100, false } },
	     2, false);
	notify_queue(TXQ);
	assert_int_equal(con->stats.tx_bytes, VIRTIO_CONSOLE_TX_MAX);
	assert_int_equal(con->stats.tx_cut, 98);
	assert_false(needs_reset());
}

static void transmit_broken(void **state)
{
	(void)state;
	up();
	/* a buffer outside RAM breaks the queue: NEEDS_RESET, a configuration interrupt, a line */
	post(TXQ, (struct buf[]){ { 0x7FFF0000, 16, false } }, 1, false);
	notify_queue(TXQ);
	assert_true(needs_reset());
	assert_int_equal(msgs[0], 1);
	assert_true(host_log_contains("virtio-console 00:1f.0 queue 1: a buffer outside the VM's "
				      "RAM; the device needs a reset"));
	assert_int_equal(vm.out_len, 0);
	/* nothing more until the driver resets */
	put_text(TX_AREA, "x");
	post(TXQ, (struct buf[]){ { TX_AREA, 1, false } }, 1, false);
	notify_queue(TXQ);
	assert_int_equal(vm.out_len, 0);
	up();
	post(TXQ, (struct buf[]){ { TX_AREA, 1, false } }, 1, false);
	notify_queue(TXQ);
	assert_string_equal(vm.out, "x");
}

/* ---- receive ---- */

static void receive_waits_for_buffers(void **state)
{
	(void)state;
	/* typed before the driver is there, before DRIVER_OK, and before it posts buffers */
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"ab", 2), 2);
	bring_up(F_VERSION_1 | F_SIZE, false);
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"c", 1), 1);
	cc_wr(STATUS, 1, cc_rd(STATUS, 1) | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"de", 2), 2);
	assert_int_equal(virtio_console_waiting(con), 5);
	assert_int_equal(msgs[1], 0);
	/* the buffer comes with the driver's notification */
	uint16_t h = post(RXQ, (struct buf[]){ { RX_AREA, 64, true } }, 1, false);
	assert_int_equal(virtio_console_waiting(con), 5);
	notify_queue(RXQ);
	expect_used(RXQ, 0, h, 5);
	expect_text(RX_AREA, "abcde");
	assert_int_equal(msgs[1], 1);
	assert_int_equal(virtio_console_waiting(con), 0);
	/* with buffers posted, input goes in at once, one interrupt per call */
	h = post(RXQ, (struct buf[]){ { RX_AREA + 0x100, 64, true } }, 1, false);
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"ls\r", 3), 3);
	expect_used(RXQ, 1, h, 3);
	expect_text(RX_AREA + 0x100, "ls\r");
	assert_int_equal(msgs[1], 2);
	assert_int_equal(con->stats.rx_bytes, 8);
}

static void receive_small_chains(void **state)
{
	(void)state;
	up();
	/* 10 bytes over chains of 4 bytes: one split in two buffers across the extents */
	uint16_t h0 =
		post(RXQ, (struct buf[]){ { 0xFFFE, 2, true }, { 0x10000, 2, true } }, 2, false);
	uint16_t h1 = post(RXQ, (struct buf[]){ { RX_AREA, 4, true } }, 1, false);
	uint16_t h2 = post(RXQ, (struct buf[]){ { RX_AREA + 0x10, 4, true } }, 1, true);
	uint16_t h3 = post(RXQ, (struct buf[]){ { RX_AREA + 0x20, 4, true } }, 1, false);
	notify_queue(RXQ);
	assert_int_equal(vq_used_idx(&q[RXQ]), 0); /* nothing to give: chains stay */
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"0123456789", 10), 10);
	assert_int_equal(vq_used_idx(&q[RXQ]), 3);
	expect_used(RXQ, 0, h0, 4);
	expect_used(RXQ, 1, h1, 4);
	expect_used(RXQ, 2, h2, 2);
	expect_text(0xFFFE, "0123");
	expect_text(RX_AREA, "4567");
	expect_text(RX_AREA + 0x10, "89");
	assert_int_equal(msgs[1], 1);
	/* the fourth chain takes the next byte */
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"!", 1), 1);
	expect_used(RXQ, 3, h3, 1);
}

static void receive_full_buffer(void **state)
{
	(void)state;
	up();
	uint8_t typed[VIRTIO_CONSOLE_IN_MAX + 88];
	for (size_t i = 0; i < sizeof(typed); i++)
		typed[i] = (uint8_t)('a' + i % 26);
	assert_int_equal(virtio_console_input(con, typed, sizeof(typed)), VIRTIO_CONSOLE_IN_MAX);
	assert_int_equal(con->stats.rx_dropped, 88);
	assert_int_equal(virtio_console_input(con, typed, 1), 0);
	assert_int_equal(con->stats.rx_dropped, 89);
	/* 4 chains of 100 bytes, then 2 more: everything waiting arrives in order */
	for (unsigned i = 0; i < 4; i++)
		post(RXQ, (struct buf[]){ { RX_AREA + 0x100ull * i, 100, true } }, 1, false);
	notify_queue(RXQ);
	assert_int_equal(virtio_console_waiting(con), VIRTIO_CONSOLE_IN_MAX - 400);
	/* room again: new bytes queue behind the old ones, across the buffer's wrap */
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"XYZ", 3), 3);
	post(RXQ, (struct buf[]){ { RX_AREA + 0x400, 100, true } }, 1, false);
	post(RXQ, (struct buf[]){ { RX_AREA + 0x500, 100, true } }, 1, false);
	notify_queue(RXQ);
	assert_int_equal(virtio_console_waiting(con), 0);
	expect_used(RXQ, 4, 4, 100);
	expect_used(RXQ, 5, 5, 15);
	uint8_t got[VIRTIO_CONSOLE_IN_MAX + 3];
	for (unsigned i = 0; i < 6; i++) {
		size_t n = i < 5 ? 100 : 15;
		assert_int_equal(gmem_read(&ram.mem, RX_AREA + 0x100ull * i, got + 100 * i, n), 0);
	}
	assert_memory_equal(got, typed, VIRTIO_CONSOLE_IN_MAX);
	assert_memory_equal(got + VIRTIO_CONSOLE_IN_MAX, "XYZ", 3);
	assert_int_equal(con->stats.rx_bytes, VIRTIO_CONSOLE_IN_MAX + 3);
}

static void receive_malformed(void **state)
{
	(void)state;
	up();
	/* a readable buffer: returned empty, the bytes stay for the next chain */
	uint16_t h0 = post(RXQ, (struct buf[]){ { RX_AREA, 8, false }, { RX_AREA + 8, 8, true } },
			   2, false);
	uint16_t h1 = post(RXQ, (struct buf[]){ { RX_AREA + 0x40, 8, true } }, 1, false);
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"ok", 2), 2);
	expect_used(RXQ, 0, h0, 0);
	expect_used(RXQ, 1, h1, 2);
	expect_text(RX_AREA + 0x40, "ok");
	assert_int_equal(con->stats.rx_bad_chain, 1);
	/* zero-length chains take nothing */
	uint16_t h2 = post(RXQ, (struct buf[]){ { RX_AREA + 0x80, 0, true } }, 1, false);
	uint16_t h3 = post(RXQ, (struct buf[]){ { RX_AREA + 0x90, 4, true } }, 1, false);
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"z", 1), 1);
	expect_used(RXQ, 2, h2, 0);
	expect_used(RXQ, 3, h3, 1);
	assert_false(needs_reset());
	/* an available index that ran ahead breaks the queue; the bytes wait for the reset */
	vq_set_avail_idx(&q[RXQ], (uint16_t)(q[RXQ].avail_idx + QSIZE + 1));
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"w", 1), 1);
	assert_true(needs_reset());
	assert_true(host_log_contains("virtio-console 00:1f.0 queue 0: the available index ran "
				      "ahead of the queue's size"));
	assert_int_equal(virtio_console_waiting(con), 1);
	up();
	uint16_t h = post(RXQ, (struct buf[]){ { RX_AREA, 8, true } }, 1, false);
	notify_queue(RXQ);
	expect_used(RXQ, 0, h, 1);
	expect_text(RX_AREA, "w");
}

static void receive_needs_bus_master(void **state)
{
	(void)state;
	up();
	cfg_wr(PCI_COMMAND, 2, cfg_rd(PCI_COMMAND, 2) & ~PCI_CMD_MASTER);
	post(RXQ, (struct buf[]){ { RX_AREA, 8, true } }, 1, false);
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"q", 1), 1);
	assert_int_equal(vq_used_idx(&q[RXQ]), 0);
	assert_int_equal(virtio_console_waiting(con), 1);
	cfg_wr(PCI_COMMAND, 2, cfg_rd(PCI_COMMAND, 2) | PCI_CMD_MASTER);
	virtio_console_rx(con);
	assert_int_equal(vq_used_idx(&q[RXQ]), 1);
	expect_text(RX_AREA, "q");
}

static void receive_bounded_per_call(void **state)
{
	(void)state;
	up();
	/* 16 one-byte chains; 20 bytes typed: 16 delivered, 4 wait, one interrupt */
	for (unsigned i = 0; i < QSIZE; i++)
		post(RXQ, (struct buf[]){ { RX_AREA + i, 1, true } }, 1, false);
	assert_int_equal(virtio_console_input(con, (const uint8_t *)"abcdefghijklmnopqrst", 20),
			 20);
	assert_int_equal(vq_used_idx(&q[RXQ]), QSIZE);
	assert_int_equal(virtio_console_waiting(con), 4);
	assert_int_equal(msgs[1], 1);
	expect_text(RX_AREA, "abcdefghijklmnop");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(identity_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(multiport_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(emergency_write, setup, teardown),
		cmocka_unit_test_setup_teardown(transmit_layouts, setup, teardown),
		cmocka_unit_test_setup_teardown(transmit_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(transmit_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_waits_for_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_small_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_full_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_needs_bus_master, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_bounded_per_call, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
