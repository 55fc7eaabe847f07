/* virtio-balloon (vdev/virtio/balloon.c) through tests/support/balloon_rig.h: one device on a PCI
 * bus over a fake page backend (64 pages of guest RAM, pages 16 and 17 play MMIO). The input
 * sends inflate and deflate chains of any frame numbers (RAM, MMIO, past the end, repeated),
 * statistics reports of any length, raw descriptors, ring entries and RAM, targets, stats
 * requests, configuration writes, resets, bus mastering off and on, and backend failures.
 *
 * Checked after every step: the pages the backend holds inflated are exactly those the device
 * counted (inflated - deflated); the MMIO pages stay MMIO; a device without bus mastering
 * changes no page; num_pages reads back as keel's last target whatever the guest wrote; a step
 * completes at most a queue's worth of chains per queue.
 *
 * Input: byte 0: bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bits 2-4 the queue size 2^(v % 5). Then
 * steps, a byte each (low 4 bits), operands after (missing bytes are 0):
 *   0 RAM write: le16 gpa, u8 n, n bytes
 *   1 descriptor: u8 q, u8 i, le16 addr (x 4), le16 len, u8 flags, u8 next
 *   2 publish: u8 q, u8 head
 *   3 notify: u8 q (% 3)
 *   4 frame-number chain: u8 bit 0 deflate, u8 n, n bytes (255: 0xFFFFFFFF, else % 80)
 *   5 stats report: u8 entries, then per entry u8 tag, u8 value
 *   6 keel asks for statistics
 *   7 keel sets the target: le32 pages
 *   8 the driver resets the device and sets it up again
 *   9 bus mastering toggled
 *  10 configuration write: u8 offset (% 8), u8 size (1, 2, 4, 8), le32 value
 *  11 the backend refuses the next u8 % 4 changes
 *  12-15 nothing */
#include "tests/support/balloon_rig.h"
#include "tests/support/host_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct balloon_rig rig;

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

static void check(const struct balloon_rig *r, const uint8_t *before, bool dma)
{
	if (br_count(r, BR_INFLATED) != r->dev.inflated - r->dev.deflated)
		abort();
	if (r->page[16] != BR_MMIO || r->page[17] != BR_MMIO)
		abort();
	if (!dma && memcmp(before, r->page, BR_PAGES) != 0)
		abort();
}

static void run(struct balloon_rig *r, struct input *in)
{
	uint8_t cfg = (uint8_t)take(in, 1);
	r->features |= (cfg & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		       (cfg & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	r->qsize = (uint16_t)(1u << (((cfg >> 2) & 7) % 5));
	br_bring_up(r);
	uint64_t buf = BR_BUF;
	uint32_t target = 0;

	for (unsigned op = 0; in->left && op < 1024; op++) {
		uint8_t before[BR_PAGES];
		memcpy(before, r->page, BR_PAGES);
		bool dma = virtio_pci_dma(&r->dev.vpci) != NULL;
		unsigned q;
		uint16_t used_before[3];
		for (q = 0; q < 3; q++)
			used_before[q] = r->dev.vpci.vq[q].used_idx;
		unsigned step = (unsigned)take(in, 1) & 15;
		switch (step) {
		case 0: {
			uint64_t gpa = take(in, 2) * 4 % 0x40000;
			unsigned n = (unsigned)take(in, 1);
			for (unsigned i = 0; i < n && in->left; i++) {
				uint8_t v = (uint8_t)take(in, 1);
				if (gmem_is_ram(&r->ram.mem, gpa + i))
					vq_w(&r->ram.mem, gpa + i, v, 1);
			}
			break;
		}
		case 1: {
			struct vq_drv *d = &r->q[take(in, 1) % 3];
			unsigned i = (unsigned)take(in, 1) % r->qsize;
			uint64_t addr = take(in, 2) * 4;
			uint32_t len = (uint32_t)take(in, 2);
			uint16_t fl = (uint16_t)take(in, 1), next = (uint16_t)take(in, 1);
			vq_desc(d, d->desc, i, addr, len, fl, next);
			break;
		}
		case 2:
			q = (unsigned)(take(in, 1) % 3);
			vq_publish(&r->q[q], (uint16_t)take(in, 1));
			break;
		case 3:
			br_notify(r, (unsigned)(take(in, 1) % 3));
			break;
		case 4: {
			q = (unsigned)take(in, 1) & 1;
			unsigned n = (unsigned)take(in, 1);
			uint32_t pfn[255];
			for (unsigned i = 0; i < n; i++) {
				uint8_t v = (uint8_t)take(in, 1);
				pfn[i] = v == 255 ? 0xFFFFFFFFu : v % 80u;
			}
			if (buf + 4ull * n > BR_BUF_END)
				buf = BR_BUF;
			br_post_pfns(r, q, buf, pfn, n);
			buf += 4ull * n;
			br_notify(r, q);
			break;
		}
		case 5: {
			unsigned n = (unsigned)take(in, 1) % 40;
			if (buf + 10ull * n + 1 > BR_BUF_END)
				buf = BR_BUF;
			for (unsigned i = 0; i < n; i++) {
				vq_w(&r->ram.mem, buf + 10ull * i, take(in, 1), 2);
				vq_w(&r->ram.mem, buf + 10ull * i + 2, take(in, 1), 8);
			}
			br_post(r, VIRTIO_BALLOON_Q_STATS, buf, 10 * n);
			buf += 10ull * n + 1;
			br_notify(r, VIRTIO_BALLOON_Q_STATS);
			break;
		}
		case 6:
			virtio_balloon_request_stats(&r->dev);
			break;
		case 7:
			target = (uint32_t)take(in, 4);
			virtio_balloon_set_target(&r->dev, target);
			break;
		case 8:
			br_bring_up(r);
			break;
		case 9: {
			uint64_t cmd = 0;
			mmio_bus_read(&r->mmio, br_cfg_addr(PCI_COMMAND), 2, &cmd);
			mmio_bus_write(&r->mmio, br_cfg_addr(PCI_COMMAND), 2, cmd ^ PCI_CMD_MASTER);
			break;
		}
		case 10: {
			unsigned off = (unsigned)take(in, 1) % 8, sz = 1u << (take(in, 1) % 4);
			uint64_t v = take(in, 4);
			if (off + sz <= 8)
				br_bar_wr(r, VIRTIO_DEVCFG_OFF + off, sz, v);
			break;
		}
		case 11:
			r->fail_next = (unsigned)take(in, 1) % 4;
			break;
		default:
			break;
		}
		check(r, before, dma || virtio_pci_dma(&r->dev.vpci));
		if (br_bar_rd(r, VIRTIO_DEVCFG_OFF, 4) != target)
			abort();
		for (q = 0; q < 3 && step != 8; q++) /* a reset starts the rings afresh */
			if ((uint16_t)(r->dev.vpci.vq[q].used_idx - used_before[q]) > r->qsize)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	if (br_init(&rig))
		abort();
	host_log_clear();
	run(&rig, &in);
	br_fini(&rig);
	return 0;
}
