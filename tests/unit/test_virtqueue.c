/* vdev/virtio/virtqueue.c: the split virtqueue as the device walks it, over guest RAM of four
 * extents (each its own allocation, so ASan catches a copy past one). Chains of readable then
 * writable buffers, copies in and out across an extent boundary, indirect tables, every chain
 * the walker must refuse (a loop, an index past the table, nested indirect, INDIRECT with NEXT,
 * a readable buffer after a writable one, more than VIRTQ_MAX_SEGS buffers, a buffer or table
 * outside RAM, the available index ahead by more than the size), the 16-bit indexes wrapping,
 * EVENT_IDX's avail_event and used_event, NO_INTERRUPT, and the ring checks at enable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/vq_driver.h"
#include "vdev/virtio/virtqueue.h"

/* guest RAM: [0, 0x4000) and [0x4000, 0x6000) (guest neighbours, two host blocks), a gap, then
 * [0x10000, 0x20000) and [0x20000, 0x21000) */
static const struct vq_range layout[] = {
	{ 0x0000, 0x4000 }, { 0x4000, 0x2000 }, { 0x10000, 0x10000 }, { 0x20000, 0x1000 }
};
#define GAP 0x6000
#define RAM_END 0x21000

#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000   /* buffers from here */
#define INDIR 0x18000 /* indirect tables from here */

static struct vq_ram ram;
static const struct guest_mem *m = &ram.mem;
static struct virtq q;
static struct vq_drv drv;
static struct virtq_chain c;
static const char *why;

/* A queue of `size` entries with the rings at DESC/AVAIL/USED, enabled as the transport does. */
static void queue(uint16_t size)
{
	virtq_reset(&q, 256);
	q.size = size;
	q.desc = DESC;
	q.avail = AVAIL;
	q.used = USED;
	q.enabled = true;
	drv = (struct vq_drv){ m, DESC, AVAIL, USED, size, 0 };
}

static int setup(void **state)
{
	(void)state;
	if (vq_ram_init(&ram, layout, ARRAY_SIZE(layout)))
		return -1;
	queue(16);
	why = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vq_ram_free(&ram);
	return 0;
}

static enum virtq_pop pop(void)
{
	why = NULL;
	enum virtq_pop r = virtq_pop(&q, m, &c, &why);
	if (r == VIRTQ_BROKEN)
		assert_non_null(why);
	return r;
}

/* The chain must be refused with a reason containing `what`, and the queue must not move. */
static void broken(const char *what)
{
	uint16_t last = q.last_avail;
	assert_int_equal(pop(), VIRTQ_BROKEN);
	if (!strstr(why, what))
		fail_msg("refused for '%s', wanted '%s'", why, what);
	assert_int_equal(q.last_avail, last);
}

static void fill(uint64_t gpa, uint8_t seed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vq_w(m, gpa + i, (uint8_t)(seed + i * 13), 1);
}

/* ---- chains ---- */

static void reset_state(void **state)
{
	(void)state;
	memset(&q, 0xA5, sizeof(q));
	virtq_reset(&q, 64);
	assert_int_equal(q.max_size, 64);
	assert_int_equal(q.size, 64);
	assert_false(q.enabled);
	assert_int_equal(q.desc | q.avail | q.used, 0);
	assert_int_equal(q.msix_vector, VIRTQ_NO_VECTOR);
	assert_int_equal(q.last_avail, 0);
	assert_int_equal(q.used_idx, 0);
	assert_false(q.indirect);
	assert_false(q.event_idx);
}

static void empty_then_one_chain(void **state)
{
	(void)state;
	assert_int_equal(pop(), VIRTQ_EMPTY);
	/* a request as virtio-blk sends it: header (out), data (out), status (in); the chain's
	 * descriptors in any order in the table */
	vq_desc(&drv, DESC, 5, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	vq_desc(&drv, DESC, 2, BUF + 0x100, 512, VIRTQ_DESC_F_NEXT, 9);
	vq_desc(&drv, DESC, 9, BUF + 0x1000, 1, VIRTQ_DESC_F_WRITE, 0);
	fill(BUF, 1, 16);
	fill(BUF + 0x100, 2, 512);
	vq_publish(&drv, 5);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(c.head, 5);
	assert_int_equal(c.nr_out, 2);
	assert_int_equal(c.nr_in, 1);
	assert_int_equal(c.out_bytes, 528);
	assert_int_equal(c.in_bytes, 1);
	assert_int_equal(c.seg[0].gpa, BUF);
	assert_int_equal(c.seg[0].len, 16);
	assert_int_equal(c.seg[1].gpa, BUF + 0x100);
	assert_int_equal(c.seg[2].gpa, BUF + 0x1000);
	assert_int_equal(q.last_avail, 1);
	assert_int_equal(pop(), VIRTQ_EMPTY);

	/* reads run across the readable buffers, from any offset, and stop at their end */
	uint8_t got[600], want[528];
	for (unsigned i = 0; i < 16; i++)
		want[i] = (uint8_t)(1 + i * 13);
	for (unsigned i = 0; i < 512; i++)
		want[16 + i] = (uint8_t)(2 + i * 13);
	assert_int_equal(virtq_chain_read(m, &c, 0, got, sizeof(got)), 528);
	assert_memory_equal(got, want, 528);
	assert_int_equal(virtq_chain_read(m, &c, 10, got, 20), 20);
	assert_memory_equal(got, want + 10, 20);
	assert_int_equal(virtq_chain_read(m, &c, 527, got, 8), 1);
	assert_int_equal(virtq_chain_read(m, &c, 528, got, 8), 0);
	/* writes go to the writable ones only */
	uint8_t st[2] = { 0x5A, 0x6B };
	assert_int_equal(virtq_chain_write(m, &c, 0, st, 2), 1);
	assert_int_equal(vq_r(m, BUF + 0x1000, 1), 0x5A);
	assert_int_equal(vq_r(m, BUF + 0x1001, 1), 0);
	assert_int_equal(virtq_chain_write(m, &c, 1, st, 1), 0);
	assert_int_equal(vq_r(m, BUF, 1), 1); /* the readable buffer untouched */

	/* used: the element, then the index */
	assert_int_equal(virtq_push(&q, m, c.head, 1), 0);
	uint32_t id, len;
	vq_used_elem(&drv, 0, &id, &len);
	assert_int_equal(id, 5);
	assert_int_equal(len, 1);
	assert_int_equal(vq_used_idx(&drv), 1);
	assert_int_equal(q.used_idx, 1);
}

/* A zero-length descriptor moves nothing: it is walked but is no segment. */
static void zero_length_buffers(void **state)
{
	(void)state;
	vq_desc(&drv, DESC, 0, BUF, 0, VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, DESC, 1, 0xDEAD000000ull, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	vq_desc(&drv, DESC, 2, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	vq_publish(&drv, 0);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(c.nr_out, 0);
	assert_int_equal(c.nr_in, 1);
	assert_int_equal(c.seg[0].len, 8);
}

/* A buffer across the boundary of two extents (guest neighbours, not host ones). */
static void buffer_across_extents(void **state)
{
	(void)state;
	vq_desc(&drv, DESC, 0, 0x3FF0, 0x20, VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, DESC, 1, 0x1FFF8, 0x10, VIRTQ_DESC_F_WRITE, 0);
	fill(0x3FF0, 7, 0x20);
	vq_publish(&drv, 0);
	assert_int_equal(pop(), VIRTQ_GOT);
	uint8_t got[0x20], data[0x10];
	assert_int_equal(virtq_chain_read(m, &c, 0, got, sizeof(got)), 0x20);
	for (unsigned i = 0; i < 0x20; i++)
		assert_int_equal(got[i], (uint8_t)(7 + i * 13));
	assert_int_equal(ram.ext[1].hva[0xF], (uint8_t)(7 + 0x1F * 13));
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0x80 + i);
	assert_int_equal(virtq_chain_write(m, &c, 0, data, sizeof(data)), 0x10);
	assert_int_equal(ram.ext[2].hva[0xFFFF], 0x87);
	assert_int_equal(ram.ext[3].hva[0], 0x88);
	assert_int_equal(ram.ext[3].hva[7], 0x8F);
	assert_int_equal(ram.ext[3].hva[8], 0);
}

/* The rings themselves across extent boundaries: every access goes through gmem. */
static void rings_across_extents(void **state)
{
	(void)state;
	q.desc = drv.desc = 0x3F80;    /* 16 descriptors, 0x3F80-0x4080 */
	q.avail = drv.avail = 0x1FFF0; /* 0x1FFF0-0x20016 */
	q.used = drv.used = 0x20020;
	assert_true(virtq_rings_valid(&q, m));
	q.event_idx = true;
	for (unsigned i = 0; i < 16; i++)
		vq_desc(&drv, q.desc, i, BUF + 0x100 * i, 0x10, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned round = 0; round < 40; round++) {
		vq_publish(&drv, (uint16_t)(round % 16));
		assert_int_equal(pop(), VIRTQ_GOT);
		assert_int_equal(c.head, round % 16);
		assert_int_equal(c.seg[0].gpa, BUF + 0x100 * (round % 16));
		assert_int_equal(vq_avail_event(&drv), round + 1);
		assert_int_equal(virtq_push(&q, m, c.head, round), 0);
		uint32_t id, len;
		vq_used_elem(&drv, (uint16_t)round, &id, &len);
		assert_int_equal(id, round % 16);
		assert_int_equal(len, round);
		assert_int_equal(vq_used_idx(&drv), round + 1);
	}
}

/* ---- chains the walker refuses ---- */

static void buffers_outside_ram(void **state)
{
	(void)state;
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ GAP, 1 },		  /* in the gap */
		{ GAP - 0x10, 0x11 },	  /* running into it */
		{ RAM_END - 8, 9 },	  /* past the end */
		{ BUF, 0xFFFFFFFF },	  /* far past it */
		{ UINT64_MAX - 7, 0x10 }, /* wrapping 2^64 */
		{ 0xFEE00000, 4 },	  /* the local APIC: MMIO, not RAM */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		for (unsigned w = 0; w < 2; w++) {
			queue(16);
			vq_desc(&drv, DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
			vq_desc(&drv, DESC, 1, bad[i].addr, bad[i].len, w ? VIRTQ_DESC_F_WRITE : 0,
				0);
			vq_publish(&drv, 0);
			broken("a buffer outside the VM's RAM");
		}
	}
	/* the last byte of RAM is fine */
	queue(16);
	vq_desc(&drv, DESC, 0, RAM_END - 8, 8, 0, 0);
	vq_publish(&drv, 0);
	assert_int_equal(pop(), VIRTQ_GOT);
}

static void loops_and_indexes(void **state)
{
	(void)state;
	/* a descriptor pointing at itself */
	vq_desc(&drv, DESC, 3, BUF, 8, VIRTQ_DESC_F_NEXT, 3);
	vq_publish(&drv, 3);
	broken("loops");
	/* a longer loop, 0 -> 1 -> 2 -> 0, of zero-length buffers (no segments to count) */
	queue(16);
	vq_desc(&drv, DESC, 0, BUF, 0, VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, DESC, 1, BUF, 0, VIRTQ_DESC_F_NEXT, 2);
	vq_desc(&drv, DESC, 2, BUF, 0, VIRTQ_DESC_F_NEXT, 0);
	vq_publish(&drv, 0);
	broken("loops");
	/* a chain through every descriptor is not a loop */
	queue(16);
	for (unsigned i = 0; i < 16; i++)
		vq_desc(&drv, DESC, i, BUF + i, 1, i < 15 ? VIRTQ_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	vq_publish(&drv, 0);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(c.nr_out, 16);
	/* a head past the table, a next past it */
	queue(16);
	vq_publish(&drv, 16);
	broken("past the table");
	queue(16);
	vq_publish(&drv, 0xFFFF);
	broken("past the table");
	queue(16);
	vq_desc(&drv, DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 16);
	vq_publish(&drv, 0);
	broken("past the table");
}

static void readable_after_writable(void **state)
{
	(void)state;
	vq_desc(&drv, DESC, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, DESC, 1, BUF + 8, 8, 0, 0);
	vq_publish(&drv, 0);
	broken("a device-readable buffer after a device-writable one");
}

/* VIRTQ_MAX_SEGS buffers are taken; one more breaks the queue. */
static void segment_limit(void **state)
{
	(void)state;
	for (unsigned n = VIRTQ_MAX_SEGS; n <= VIRTQ_MAX_SEGS + 1; n++) {
		queue(256);
		for (unsigned i = 0; i < n; i++)
			vq_desc(&drv, DESC, i, BUF + 4 * i, 4,
				(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
					(i >= 64 ? VIRTQ_DESC_F_WRITE : 0),
				(uint16_t)(i + 1));
		vq_publish(&drv, 0);
		if (n == VIRTQ_MAX_SEGS) {
			assert_int_equal(pop(), VIRTQ_GOT);
			assert_int_equal(c.nr_out, 64);
			assert_int_equal(c.nr_in, VIRTQ_MAX_SEGS - 64);
			assert_int_equal(c.out_bytes + c.in_bytes, 4 * VIRTQ_MAX_SEGS);
		} else {
			broken("more buffers than the device takes");
		}
	}
}

/* The available index ran ahead by more than the queue holds: the driver is confused. */
static void avail_index_jumps(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 16; i++)
		vq_desc(&drv, DESC, i, BUF + 8 * i, 8, 0, 0);
	vq_set_avail_idx(&drv, 17);
	broken("ran ahead");
	vq_set_avail_idx(&drv, 0x8000);
	broken("ran ahead");
	vq_set_avail_idx(&drv, 0xFFFF); /* behind: as far ahead as 2^16 - 1 */
	broken("ran ahead");
	/* exactly the size is a full ring */
	vq_set_avail_idx(&drv, 16);
	for (unsigned i = 0; i < 16; i++) {
		vq_w(m, AVAIL + 4 + 2 * i, 15 - i, 2);
	}
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(pop(), VIRTQ_GOT);
		assert_int_equal(c.head, 15 - i);
	}
	assert_int_equal(pop(), VIRTQ_EMPTY);
}

/* ---- indirect descriptors (2.7.5.3) ---- */

static void indirect_tables(void **state)
{
	(void)state;
	/* an indirect table of 3: out, out, in, its descriptors chained in any order */
	vq_desc(&drv, INDIR, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	vq_desc(&drv, INDIR, 2, BUF + 16, 32, VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, INDIR, 1, BUF + 64, 8, VIRTQ_DESC_F_WRITE, 0);
	vq_desc(&drv, DESC, 4, INDIR, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	vq_publish(&drv, 4);
	/* not negotiated: refused */
	broken("an indirect descriptor the device cannot take");
	q.indirect = true;
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(c.head, 4);
	assert_int_equal(c.nr_out, 2);
	assert_int_equal(c.nr_in, 1);
	assert_int_equal(c.seg[0].gpa, BUF);
	assert_int_equal(c.seg[1].gpa, BUF + 16);
	assert_int_equal(c.seg[2].gpa, BUF + 64);
	assert_int_equal(c.out_bytes, 48);
	assert_int_equal(c.in_bytes, 8);
	/* the device ignores WRITE on the indirect descriptor itself (2.7.5.3.2) */
	vq_desc(&drv, DESC, 4, INDIR, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	vq_publish(&drv, 4);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(c.nr_out, 2);
	/* an indirect table larger than the ring, across an extent boundary */
	queue(4);
	q.indirect = true;
	uint64_t t = 0x3F00; /* 32 descriptors, 0x3F00-0x4100 */
	for (unsigned i = 0; i < 32; i++)
		vq_desc(&drv, t, i, BUF + i, 1,
			(i < 31 ? VIRTQ_DESC_F_NEXT : 0) | (i >= 16 ? VIRTQ_DESC_F_WRITE : 0),
			(uint16_t)(i + 1));
	vq_desc(&drv, DESC, 0, t, 32 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	vq_publish(&drv, 0);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(c.nr_out, 16);
	assert_int_equal(c.nr_in, 16);
	assert_int_equal(c.seg[31].gpa, BUF + 31);
}

static void bad_indirect(void **state)
{
	(void)state;
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
		const char *why;
	} bad[] = {
		{ INDIR, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, "cannot take" },
		{ INDIR, 0, VIRTQ_DESC_F_INDIRECT, "cannot take" },
		{ INDIR, 24, VIRTQ_DESC_F_INDIRECT, "cannot take" },
		{ INDIR, 16 * (VIRTQ_MAX_SIZE + 1), VIRTQ_DESC_F_INDIRECT, "cannot take" },
		{ GAP, 32, VIRTQ_DESC_F_INDIRECT, "an indirect table outside the VM's RAM" },
		{ RAM_END - 16, 32, VIRTQ_DESC_F_INDIRECT, "an indirect table outside" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		queue(16);
		q.indirect = true;
		vq_desc(&drv, INDIR, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
		vq_desc(&drv, INDIR, 1, BUF, 8, 0, 0);
		vq_desc(&drv, DESC, 0, bad[i].addr, bad[i].len, bad[i].flags, 1);
		vq_desc(&drv, DESC, 1, BUF, 8, 0, 0);
		vq_publish(&drv, 0);
		broken(bad[i].why);
	}
	/* an indirect descriptor inside an indirect table */
	queue(16);
	q.indirect = true;
	vq_desc(&drv, INDIR, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, INDIR, 1, INDIR + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vq_desc(&drv, INDIR + 0x100, 0, BUF, 8, 0, 0);
	vq_desc(&drv, DESC, 0, INDIR, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vq_publish(&drv, 0);
	broken("cannot take");
	/* inside the indirect table: a loop, an index past its end, a readable after a writable, a
	 * buffer outside RAM, more than VIRTQ_MAX_SEGS buffers */
	queue(16);
	q.indirect = true;
	vq_desc(&drv, INDIR, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	vq_desc(&drv, INDIR, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	vq_desc(&drv, DESC, 0, INDIR, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vq_publish(&drv, 0);
	broken("loops");
	vq_desc(&drv, INDIR, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	broken("past the table");
	vq_desc(&drv, INDIR, 0, BUF, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	vq_desc(&drv, INDIR, 1, BUF, 8, 0, 0);
	broken("a device-readable buffer after a device-writable one");
	vq_desc(&drv, INDIR, 1, GAP, 8, VIRTQ_DESC_F_WRITE, 0);
	broken("a buffer outside the VM's RAM");
	unsigned n = VIRTQ_MAX_SEGS + 1;
	for (unsigned i = 0; i < n; i++)
		vq_desc(&drv, INDIR, i, BUF + i, 1, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	vq_desc(&drv, DESC, 0, INDIR, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	broken("more buffers than the device takes");
	/* buffers in the ring's table before the indirect one count towards the limit too */
	queue(16);
	q.indirect = true;
	for (unsigned i = 0; i < VIRTQ_MAX_SEGS; i++)
		vq_desc(&drv, INDIR, i, BUF + i, 1, i + 1 < VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	vq_desc(&drv, DESC, 1, BUF, 1, VIRTQ_DESC_F_NEXT, 0);
	vq_desc(&drv, DESC, 0, INDIR, 16 * VIRTQ_MAX_SEGS, VIRTQ_DESC_F_INDIRECT, 0);
	vq_publish(&drv, 0);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(c.nr_out, VIRTQ_MAX_SEGS);
	vq_publish(&drv, 1);
	broken("more buffers than the device takes");
	/* a ring's own table outside RAM (the driver gave the RAM back after enabling) */
	queue(16);
	q.desc = GAP;
	vq_publish(&drv, 0);
	broken("a descriptor table outside the VM's RAM");
}

/* ---- indexes wrap at 2^16 ---- */

static void indexes_wrap(void **state)
{
	(void)state;
	queue(8);
	q.last_avail = q.used_idx = 0xFFFC;
	vq_w(m, USED + 2, 0xFFFC, 2);
	drv.avail_idx = 0xFFFC;
	for (unsigned i = 0; i < 8; i++)
		vq_desc(&drv, DESC, i, BUF + 0x10 * i, 0x10, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned k = 0; k < 8; k++)
			vq_publish(&drv, (uint16_t)((k + round) % 8));
		uint16_t before = q.used_idx;
		for (unsigned k = 0; k < 8; k++) {
			assert_int_equal(pop(), VIRTQ_GOT);
			assert_int_equal(c.head, (k + round) % 8);
			assert_int_equal(virtq_push(&q, m, c.head, 0x10), 0);
		}
		assert_int_equal(pop(), VIRTQ_EMPTY);
		for (unsigned k = 0; k < 8; k++) {
			uint32_t id, len;
			vq_used_elem(&drv, (uint16_t)(before + k), &id, &len);
			assert_int_equal(id, (k + round) % 8);
		}
		assert_int_equal(vq_used_idx(&drv), (uint16_t)(before + 8));
		assert_true(virtq_wants_interrupt(&q, m, before));
	}
	assert_int_equal(q.last_avail, (uint16_t)(0xFFFC + 24));
	/* ahead by more than the size across the wrap is still refused */
	vq_set_avail_idx(&drv, (uint16_t)(q.last_avail + 9));
	broken("ran ahead");
}

/* ---- interrupt suppression ---- */

static void no_interrupt_flag(void **state)
{
	(void)state;
	vq_desc(&drv, DESC, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	/* nothing used: never */
	assert_false(virtq_wants_interrupt(&q, m, q.used_idx));
	vq_publish(&drv, 0);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(virtq_push(&q, m, 0, 8), 0);
	assert_true(virtq_wants_interrupt(&q, m, 0));
	vq_set_avail_flags(&drv, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_false(virtq_wants_interrupt(&q, m, 0));
	/* with EVENT_IDX the flag means nothing; used_event decides */
	q.event_idx = true;
	vq_set_used_event(&drv, 0);
	assert_true(virtq_wants_interrupt(&q, m, 0));
	vq_set_used_event(&drv, 1);
	assert_false(virtq_wants_interrupt(&q, m, 0));
	/* an available ring outside RAM: the interrupt goes (better one too many than none) */
	q.avail = GAP;
	assert_true(virtq_wants_interrupt(&q, m, 0));
	q.event_idx = false;
	assert_true(virtq_wants_interrupt(&q, m, 0));
}

/* 2.7.10: with EVENT_IDX the device writes avail_event after taking chains, and interrupts when
 * the used index passes used_event, exactly as vring_need_event says, across the wrap too. */
static void event_idx(void **state)
{
	(void)state;
	queue(16);
	q.event_idx = true;
	for (unsigned i = 0; i < 16; i++)
		vq_desc(&drv, DESC, i, BUF + 8 * i, 8, VIRTQ_DESC_F_WRITE, 0);
	vq_w(m, USED + 4 + 8 * 16, 0x7777, 2);
	/* nothing taken: avail_event untouched */
	assert_int_equal(pop(), VIRTQ_EMPTY);
	assert_int_equal(vq_avail_event(&drv), 0x7777);
	for (unsigned i = 0; i < 3; i++)
		vq_publish(&drv, (uint16_t)i);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(vq_avail_event(&drv), 1);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(pop(), VIRTQ_GOT);
	assert_int_equal(vq_avail_event(&drv), 3);
	assert_int_equal(pop(), VIRTQ_EMPTY);
	assert_int_equal(vq_avail_event(&drv), 3);
	/* used_event 1: pushes 0 -> 1 do not pass it, 1 -> 2 does, 2 -> 3 does not */
	vq_set_used_event(&drv, 1);
	uint16_t before = q.used_idx;
	assert_int_equal(virtq_push(&q, m, 0, 8), 0);
	assert_false(virtq_wants_interrupt(&q, m, before));
	before = q.used_idx;
	assert_int_equal(virtq_push(&q, m, 1, 8), 0);
	assert_true(virtq_wants_interrupt(&q, m, before));
	before = q.used_idx;
	assert_int_equal(virtq_push(&q, m, 2, 8), 0);
	assert_false(virtq_wants_interrupt(&q, m, before));
	/* several pushes at once: wanted when used_event lies in [before, now) */
	before = 0;
	vq_set_used_event(&drv, 2);
	assert_true(virtq_wants_interrupt(&q, m, before));
	vq_set_used_event(&drv, 3);
	assert_false(virtq_wants_interrupt(&q, m, before));
	vq_set_used_event(&drv, 0xFFFF);
	assert_false(virtq_wants_interrupt(&q, m, before));

	/* against the reference for every used_event around a window, the window anywhere on
	 * the 16-bit circle */
	srand(10);
	for (unsigned trial = 0; trial < 2000; trial++) {
		uint16_t old = (uint16_t)(trial < 40 ? 0xFFF0 + trial : (unsigned)rand());
		uint16_t moved = (uint16_t)(1 + rand() % 20);
		uint16_t now = (uint16_t)(old + moved);
		uint16_t ev = (uint16_t)(old + rand() % 48 - 24);
		q.used_idx = now;
		vq_set_used_event(&drv, ev);
		if (virtq_wants_interrupt(&q, m, old) != vq_need_event(ev, now, old))
			fail_msg("used_event %u, used %u -> %u: wrong answer", ev, old, now);
	}
}

/* ---- the ring checks at enable (2.7, table 2.3) ---- */

static void rings_valid(void **state)
{
	(void)state;
	queue(16);
	q.max_size = 64;
	assert_true(virtq_rings_valid(&q, m));
	static const uint16_t sizes[] = { 0, 3, 6, 12, 15, 17, 128, 0x8000, 0xFFFF };
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		q.size = sizes[i];
		assert_false(virtq_rings_valid(&q, m));
	}
	for (uint16_t s = 1; s <= 64; s *= 2) {
		q.size = s;
		assert_true(virtq_rings_valid(&q, m));
	}
	q.size = 16;
	/* alignment: descriptors 16, available 2, used 4 */
	q.desc = DESC + 8;
	assert_false(virtq_rings_valid(&q, m));
	q.desc = DESC + 16;
	assert_true(virtq_rings_valid(&q, m));
	q.avail = AVAIL + 1;
	assert_false(virtq_rings_valid(&q, m));
	q.avail = AVAIL + 2;
	assert_true(virtq_rings_valid(&q, m));
	q.used = USED + 2;
	assert_false(virtq_rings_valid(&q, m));
	q.used = USED + 4;
	assert_true(virtq_rings_valid(&q, m));
	/* each ring must lie wholly in RAM: its last byte (used_event, avail_event) included */
	queue(16);
	q.desc = GAP - 16 * 16;
	assert_true(virtq_rings_valid(&q, m));
	q.desc = GAP - 16 * 15;
	assert_false(virtq_rings_valid(&q, m));
	queue(16);
	q.avail = GAP - (4 + 2 * 16 + 2);
	assert_true(virtq_rings_valid(&q, m));
	q.avail += 2;
	assert_false(virtq_rings_valid(&q, m));
	queue(16);
	q.used = RAM_END - (4 + 8 * 16 + 2) - 2;
	assert_true(virtq_rings_valid(&q, m));
	q.used += 4;
	assert_false(virtq_rings_valid(&q, m));
	queue(16);
	q.used = UINT64_MAX - 3;
	assert_false(virtq_rings_valid(&q, m));
	queue(16);
	q.desc = 0xFEE00000;
	assert_false(virtq_rings_valid(&q, m));
	/* across two extents that are guest neighbours: fine */
	queue(16);
	q.desc = 0x4000 - 0x80;
	assert_true(virtq_rings_valid(&q, m));
	/* no RAM at all */
	struct guest_mem none = { .ext = NULL, .nr = 0 };
	queue(16);
	assert_false(virtq_rings_valid(&q, &none));
}

/* Rings the driver moved out of RAM after enabling: pop and push fail cleanly. */
static void rings_leave_ram(void **state)
{
	(void)state;
	vq_desc(&drv, DESC, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	vq_publish(&drv, 0);
	q.used = GAP;
	q.event_idx = true;
	/* the chain was walked, but avail_event cannot be written */
	assert_int_equal(pop(), VIRTQ_BROKEN);
	assert_non_null(strstr(why, "a used ring outside the VM's RAM"));
	assert_int_equal(virtq_push(&q, m, 0, 8), -1);
	assert_int_equal(q.used_idx, 0);
	/* the element in RAM but not the index before it: refused, used_idx unchanged */
	q.used = BUF - 4;
	assert_int_equal(virtq_push(&q, m, 0, 8), -1);
	assert_int_equal(q.used_idx, 0);
	queue(16);
	q.avail = GAP;
	broken("an available ring outside the VM's RAM");
	/* the index in RAM, the ring entry not */
	queue(16);
	q.avail = GAP - 4;
	vq_w(m, GAP - 2, 1, 2);
	broken("an available ring outside the VM's RAM");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reset_state),		  T(empty_then_one_chain),    T(zero_length_buffers),
		T(buffer_across_extents), T(rings_across_extents),    T(buffers_outside_ram),
		T(loops_and_indexes),	  T(readable_after_writable), T(segment_limit),
		T(avail_index_jumps),	  T(indirect_tables),	      T(bad_indirect),
		T(indexes_wrap),	  T(no_interrupt_flag),	      T(event_idx),
		T(rings_valid),		  T(rings_leave_ram),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
