/* vdev/virtio/balloon.c through tests/support/balloon_rig.h (PCI, BAR 0, a fake page backend).
 * Checked: the features offered (STATS_VQ, not DEFLATE_ON_OOM) and the configuration space
 * (num_pages read-only, actual the driver's, narrow accesses); a target change interrupts once
 * and survives a reset; inflate and deflate move exactly the pages named, skip and count pages
 * that are not RAM, repeated or unknown, or that keel cannot move, commit once per chain, and
 * never look past VIRTIO_BALLOON_PFNS_PER_CHAIN; hostile input logs at a bounded rate; the
 * stats buffer is held until keel asks, its report read (unknown tags ignored, a short entry
 * dropped), several buffers at once handled; nothing happens without bus mastering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/balloon_rig.h"
#include "tests/support/host_log.h"

#define DF 4
#define DFSELECT 0
#define DEVCFG VIRTIO_DEVCFG_OFF

static struct balloon_rig *r;

static int setup(void **state)
{
	(void)state;
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(br_init(r), 0);
	host_log_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	br_fini(r);
	free(r);
	return 0;
}

static uint64_t device_features(void)
{
	br_bar_wr(r, DFSELECT, 4, 0);
	uint64_t lo = br_bar_rd(r, DF, 4);
	br_bar_wr(r, DFSELECT, 4, 1);
	return lo | br_bar_rd(r, DF, 4) << 32;
}

static void features(void **state)
{
	(void)state;
	uint64_t f = device_features();
	assert_true(f & 1ull << VIRTIO_BALLOON_F_STATS_VQ);
	assert_false(f & 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	assert_false(f & 1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST);
	assert_true(f & 1ull << VIRTIO_F_VERSION_1);
	/* a driver asking for DEFLATE_ON_OOM is refused at FEATURES_OK */
	r->features |= 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	assert_false(br_bring_up(r));
	r->features &= ~(1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	assert_true(br_bring_up(r));
}

static void config_space(void **state)
{
	(void)state;
	virtio_balloon_set_target(&r->dev, 0);	    /* no change: nothing */
	virtio_balloon_set_target(&r->dev, 0x1234); /* before the driver: no interrupt */
	assert_int_equal(r->dev.vpci.interrupts, 0);
	assert_true(br_bring_up(r));
	assert_int_equal(br_bar_rd(r, DEVCFG, 4), 0x1234);
	uint8_t gen = (uint8_t)br_bar_rd(r, 21, 1);
	virtio_balloon_set_target(&r->dev, 0x5678);
	assert_int_equal(r->dev.vpci.interrupts, 1);
	assert_int_not_equal((uint8_t)br_bar_rd(r, 21, 1), gen);
	virtio_balloon_set_target(&r->dev, 0x5678);
	assert_int_equal(r->dev.vpci.interrupts, 1);
	/* num_pages is the device's: a write changes nothing */
	br_bar_wr(r, DEVCFG, 4, 7);
	assert_int_equal(br_bar_rd(r, DEVCFG, 4), 0x5678);
	br_bar_wr(r, DEVCFG + 4, 4, 0xAABBCCDD);
	assert_int_equal(r->dev.actual, 0xAABBCCDD);
	br_bar_wr(r, DEVCFG + 5, 1, 0x11);
	assert_int_equal(r->dev.actual, 0xAABB11DD);
	assert_int_equal(br_bar_rd(r, DEVCFG + 6, 2), 0xAABB);
	assert_int_equal(br_bar_rd(r, DEVCFG, 8), 0xAABB11DD00005678ull);
	/* a reset forgets actual, keeps the target */
	br_bar_wr(r, 20, 1, 0);
	assert_int_equal(r->dev.actual, 0);
	assert_int_equal(r->dev.target, 0x5678);
}

static void inflate_deflate(void **state)
{
	(void)state;
	assert_true(br_bring_up(r));
	/* 3 and 4 are RAM, 16 MMIO, 4 again, 64 and 0xFFFFFFFF past RAM, 40 in the second extent */
	const uint32_t in[] = { 3, 4, 16, 4, 64, 0xFFFFFFFFu, 40 };
	br_post_pfns(r, VIRTIO_BALLOON_Q_INFLATE, BR_BUF, in, 7);
	br_notify(r, VIRTIO_BALLOON_Q_INFLATE);
	assert_int_equal(vq_used_idx(&r->q[0]), 1);
	uint32_t id, len;
	vq_used_elem(&r->q[0], 0, &id, &len);
	assert_int_equal(len, 0);
	assert_int_equal(br_count(r, BR_INFLATED), 3);
	assert_int_equal(r->page[3], BR_INFLATED);
	assert_int_equal(r->page[40], BR_INFLATED);
	assert_int_equal(r->dev.inflated, 3);
	assert_int_equal(r->dev.bad, 3);
	assert_int_equal(r->dev.repeated, 1);
	assert_int_equal(r->commits, 1);
	assert_true(host_log_contains("vm t: virtio-balloon: not a page of the VM's RAM (page "
				      "frame 10); skipped"));
	assert_true(host_log_contains("a page already in the balloon (page frame 4)"));

	/* deflate 3 and 5 (never inflated), then a chain keel cannot serve in part */
	const uint32_t out[] = { 3, 5 };
	br_post_pfns(r, VIRTIO_BALLOON_Q_DEFLATE, BR_BUF + 0x100, out, 2);
	br_notify(r, VIRTIO_BALLOON_Q_DEFLATE);
	assert_int_equal(r->page[3], BR_GUEST);
	assert_int_equal(r->dev.deflated, 1);
	assert_int_equal(r->dev.repeated, 2);
	r->fail_next = 1;
	const uint32_t more[] = { 8, 9 };
	br_post_pfns(r, VIRTIO_BALLOON_Q_INFLATE, BR_BUF + 0x200, more, 2);
	br_notify(r, VIRTIO_BALLOON_Q_INFLATE);
	assert_int_equal(r->page[8], BR_GUEST);
	assert_int_equal(r->page[9], BR_INFLATED);
	assert_int_equal(r->dev.failed, 1);
	assert_int_equal(r->commits, 3);
	assert_int_equal(r->dev.vpci.broken, 0);
}

/* A chain split over two buffers across the extents' boundary, an odd trailing byte, an empty
 * chain and one larger than the device takes. */
static void chain_shapes(void **state)
{
	(void)state;
	assert_true(br_bring_up(r));
	struct vq_drv *d = &r->q[0];
	vq_w(&r->ram.mem, 0x2FFFC, 20, 4); /* the last word of extent 0 */
	vq_w(&r->ram.mem, 0x30000, 21, 4);
	vq_w(&r->ram.mem, 0x30004, 22, 2); /* a half frame number: ignored */
	vq_desc(d, d->desc, 0, 0x2FFFC, 4, VIRTQ_DESC_F_NEXT, 1);
	vq_desc(d, d->desc, 1, 0x30000, 6, 0, 0);
	vq_publish(d, 0);
	r->next_desc[0] = 2;
	br_post(r, 0, BR_BUF, 0);
	br_notify(r, 0);
	assert_int_equal(br_count(r, BR_INFLATED), 2);
	assert_int_equal(r->page[20] + r->page[21], 2 * BR_INFLATED);
	assert_int_equal(vq_used_idx(d), 2);

	/* 300 frame numbers: the first 256 are looked at, the rest ignored with a line */
	uint32_t many[300];
	for (unsigned i = 0; i < 300; i++)
		many[i] = i < VIRTIO_BALLOON_PFNS_PER_CHAIN ? 30 + i % 4 : 50;
	br_post_pfns(r, 0, BR_BUF + 0x1000, many, 300);
	br_notify(r, 0);
	assert_int_equal(r->page[50], BR_GUEST);
	assert_int_equal(r->page[30] + r->page[33], 2 * BR_INFLATED);
	assert_int_equal(r->dev.repeated, VIRTIO_BALLOON_PFNS_PER_CHAIN - 4);
	assert_true(host_log_contains("a chain of more page frames than the device takes"));
}

/* A guest sending garbage makes keel print a burst, then one line a second. */
static void log_bounded(void **state)
{
	(void)state;
	assert_true(br_bring_up(r));
	uint32_t bad[200];
	for (unsigned i = 0; i < 200; i++)
		bad[i] = 1000 + i;
	br_post_pfns(r, 0, BR_BUF, bad, 200);
	br_notify(r, 0);
	assert_int_equal(r->dev.bad, 200);
	unsigned lines = 0;
	for (const char *p = host_log_text(); (p = strstr(p, "virtio-balloon")); p++)
		lines++;
	assert_in_range(lines, 1, UNCLAIMED_BURST);
	r->now += 3ull * VDEV_NS_PER_SEC;
	br_post_pfns(r, 0, BR_BUF, bad, 1);
	br_notify(r, 0);
	assert_true(host_log_contains("(and earlier lines left out)"));
}

static void put_stat(uint64_t at, uint16_t tag, uint64_t val)
{
	vq_w(&r->ram.mem, at, tag, 2);
	vq_w(&r->ram.mem, at + 2, val, 8);
}

static void stats(void **state)
{
	(void)state;
	assert_true(br_bring_up(r));
	struct vq_drv *s = &r->q[VIRTIO_BALLOON_Q_STATS];
	assert_false(virtio_balloon_request_stats(&r->dev)); /* no buffer yet */
	put_stat(BR_BUF, VIRTIO_BALLOON_S_MEMFREE, 1000);
	put_stat(BR_BUF + 10, VIRTIO_BALLOON_S_MEMTOT, 4000);
	put_stat(BR_BUF + 20, 200, 7); /* unknown tag */
	put_stat(BR_BUF + 30, VIRTIO_BALLOON_S_SWAP_IN, 5);
	br_post(r, VIRTIO_BALLOON_Q_STATS, BR_BUF, 39); /* the last entry cut short */
	br_notify(r, VIRTIO_BALLOON_Q_STATS);
	assert_int_equal(vq_used_idx(s), 0); /* held */
	assert_int_equal(r->dev.stats.reports, 1);
	assert_int_equal(r->dev.stats.val[VIRTIO_BALLOON_S_MEMFREE], 1000);
	assert_int_equal(r->dev.stats.val[VIRTIO_BALLOON_S_MEMTOT], 4000);
	assert_int_equal(r->dev.stats.valid,
			 1u << VIRTIO_BALLOON_S_MEMFREE | 1u << VIRTIO_BALLOON_S_MEMTOT);
	unsigned irqs = (unsigned)r->dev.vpci.interrupts;
	assert_true(virtio_balloon_request_stats(&r->dev));
	assert_int_equal(vq_used_idx(s), 1);
	assert_int_equal(r->dev.vpci.interrupts, irqs + 1);
	assert_false(virtio_balloon_request_stats(&r->dev)); /* handed back already */

	/* the driver refills: two buffers at once, the older comes back at once */
	put_stat(BR_BUF + 0x100, VIRTIO_BALLOON_S_AVAIL, 77);
	br_post(r, VIRTIO_BALLOON_Q_STATS, BR_BUF, 10);
	br_post(r, VIRTIO_BALLOON_Q_STATS, BR_BUF + 0x100, 10);
	br_notify(r, VIRTIO_BALLOON_Q_STATS);
	assert_int_equal(vq_used_idx(s), 2);
	assert_int_equal(r->dev.stats.reports, 3);
	assert_int_equal(r->dev.stats.valid, 1u << VIRTIO_BALLOON_S_AVAIL);
	assert_int_equal(r->dev.stats.val[VIRTIO_BALLOON_S_AVAIL], 77);
	/* a reset drops the held buffer */
	br_bar_wr(r, 20, 1, 0);
	assert_false(virtio_balloon_request_stats(&r->dev));
}

/* Linux notifies its first report before DRIVER_OK, which the transport ignores: keel's first
 * request finds the buffer all the same. */
static void stats_before_driver_ok(void **state)
{
	(void)state;
	assert_true(br_bring_up(r));
	put_stat(BR_BUF, VIRTIO_BALLOON_S_MEMTOT, 123);
	br_post(r, VIRTIO_BALLOON_Q_STATS, BR_BUF, 10); /* no notification */
	assert_int_equal(r->dev.stats.reports, 0);
	assert_true(virtio_balloon_request_stats(&r->dev));
	assert_int_equal(r->dev.stats.reports, 1);
	assert_int_equal(r->dev.stats.val[VIRTIO_BALLOON_S_MEMTOT], 123);
	assert_int_equal(vq_used_idx(&r->q[VIRTIO_BALLOON_Q_STATS]), 1);
}

static void no_bus_master(void **state)
{
	(void)state;
	assert_true(br_bring_up(r));
	mmio_bus_write(&r->mmio, br_cfg_addr(PCI_COMMAND), 2, PCI_CMD_MEM);
	const uint32_t in[] = { 3 };
	br_post_pfns(r, 0, BR_BUF, in, 1);
	br_notify(r, 0);
	assert_int_equal(r->page[3], BR_GUEST);
	assert_int_equal(vq_used_idx(&r->q[0]), 0);
	mmio_bus_write(&r->mmio, br_cfg_addr(PCI_COMMAND), 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	br_notify(r, 0);
	assert_int_equal(r->page[3], BR_INFLATED);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(features),	T(config_space), T(inflate_deflate),	    T(chain_shapes),
		T(log_bounded), T(stats),	 T(stats_before_driver_ok), T(no_bus_master),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
