/* virtio-balloon (vdev/virtio/balloon.c) on a PCI bus in slot BR_SLOT, driven through ECAM and
 * BAR 0 as Linux's virtio_pci_modern does, over a fake backend: a page map of guest RAM where each
 * 4 KiB page is the guest's, inflated, or not RAM (the MMIO pages the rig marks). Shared by the
 * unit test and the fuzz target. Guest RAM is two extents, each its own allocation; rings at
 * 0x1000 + 0x1000 q (descriptors +0, available +0x400, used +0x800), buffers from BR_BUF. INTx.
 * Header-only. */
#ifndef KEEL_TESTS_SUPPORT_BALLOON_RIG_H
#define KEEL_TESTS_SUPPORT_BALLOON_RIG_H

#include <stdlib.h>

#include "core/guest_layout.h"
#include "tests/support/vq_driver.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/balloon.h"

#define BR_SLOT 5
#define BR_PAGES 64 /* guest RAM: [0, 0x30000) and [0x30000, 0x40000) */
#define BR_RINGS(q) (0x1000 + 0x1000 * (q))
#define BR_BUF 0x8000
#define BR_BUF_END 0x30000

enum br_page { BR_GUEST, BR_INFLATED, BR_MMIO };

struct balloon_rig {
	struct vq_ram ram;
	struct vdev_env env;
	struct io_bus io;
	struct mmio_bus mmio;
	struct pci_bus bus;
	struct virtio_balloon dev;
	struct balloon_backend backend;
	struct vq_drv q[3];
	uint16_t next_desc[3];
	uint64_t features;
	uint16_t qsize;
	uint8_t page[BR_PAGES];
	unsigned commits, fail_next; /* fail_next: the backend refuses the next n changes */
	uint64_t now;
};

static inline enum balloon_rc br_change(struct balloon_rig *r, uint64_t gfn, bool inflate)
{
	if (gfn >= BR_PAGES || r->page[gfn] == BR_MMIO)
		return BALLOON_BAD;
	if (r->page[gfn] == (inflate ? BR_INFLATED : BR_GUEST))
		return BALLOON_SAME;
	if (r->fail_next) {
		r->fail_next--;
		return BALLOON_FAIL;
	}
	r->page[gfn] = inflate ? BR_INFLATED : BR_GUEST;
	return BALLOON_OK;
}

static inline enum balloon_rc br_inflate(void *ctx, uint64_t gfn)
{
	return br_change(ctx, gfn, true);
}

static inline enum balloon_rc br_deflate(void *ctx, uint64_t gfn)
{
	return br_change(ctx, gfn, false);
}

static inline void br_commit(void *ctx)
{
	((struct balloon_rig *)ctx)->commits++;
}

static inline uint64_t br_now(void *ctx)
{
	return ((struct balloon_rig *)ctx)->now;
}

static inline void br_irq(void *ctx, unsigned gsi, bool level)
{
	(void)ctx, (void)gsi, (void)level;
}

static inline void br_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx, (void)m;
}

static inline uint64_t br_cfg_addr(unsigned reg)
{
	return GUEST_PCI_ECAM_BASE + ((uint64_t)BR_SLOT << 15 | reg);
}

static inline void br_bar_wr(struct balloon_rig *r, uint64_t off, unsigned size, uint64_t v)
{
	mmio_bus_write(&r->mmio, r->dev.vpci.pci.bars[0].addr + off, size, v);
}

static inline uint64_t br_bar_rd(struct balloon_rig *r, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	mmio_bus_read(&r->mmio, r->dev.vpci.pci.bars[0].addr + off, size, &v);
	return v;
}

/* virtio 3.1.1 as Linux does it: every queue of qsize entries. */
static inline bool br_bring_up(struct balloon_rig *r)
{
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	br_bar_wr(r, 20, 1, 0);
	br_bar_wr(r, 20, 1, s);
	br_bar_wr(r, 8, 4, 0);
	br_bar_wr(r, 12, 4, (uint32_t)r->features);
	br_bar_wr(r, 8, 4, 1);
	br_bar_wr(r, 12, 4, r->features >> 32);
	br_bar_wr(r, 20, 1, s | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 3; q++) {
		uint64_t at = BR_RINGS(q);
		if (gmem_fill(&r->ram.mem, at, 0, 0x1000))
			abort();
		r->q[q] = (struct vq_drv){ &r->ram.mem, at, at + 0x400, at + 0x800, r->qsize, 0 };
		r->next_desc[q] = 0;
		br_bar_wr(r, 22, 2, q);
		br_bar_wr(r, 24, 2, r->qsize);
		br_bar_wr(r, 32, 8, r->q[q].desc);
		br_bar_wr(r, 40, 8, r->q[q].avail);
		br_bar_wr(r, 48, 8, r->q[q].used);
		br_bar_wr(r, 28, 2, 1);
	}
	br_bar_wr(r, 20, 1, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	/* the transport lets DRIVER_OK through after refused features, but serves nothing */
	uint8_t ok = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
	return (br_bar_rd(r, 20, 1) & ok) == ok;
}

/* RAM, buses, the device plugged and its BAR assigned, bus mastering on; not brought up. Pages
 * 16 and 17 play MMIO. 0, or -1. */
static inline int br_init(struct balloon_rig *r)
{
	static const struct vq_range layout[] = { { 0, 0x30000 }, { 0x30000, 0x10000 } };
	static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
						       .mmio_base = GUEST_PCI_MMIO32_BASE,
						       .mmio_end = GUEST_PCI_MMIO32_END,
						       .io_base = GUEST_PCI_IO_BASE,
						       .io_end = GUEST_PCI_IO_END };
	memset(r, 0, sizeof(*r));
	if (vq_ram_init(&r->ram, layout, 2))
		return -1;
	r->page[16] = r->page[17] = BR_MMIO;
	r->env = (struct vdev_env){
		.ctx = r, .vm_name = "t", .now_ns = br_now, .set_irq = br_irq, .mem = &r->ram.mem
	};
	r->backend = (struct balloon_backend){ br_inflate, br_deflate, br_commit, r };
	r->features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BALLOON_F_STATS_VQ;
	r->qsize = 16;
	io_bus_init(&r->io, &r->env);
	mmio_bus_init(&r->mmio, &r->env);
	if (pci_bus_init(&r->bus, &r->env, &r->io, &r->mmio, &windows, br_msg, NULL) ||
	    virtio_balloon_init(&r->dev, &r->env, &r->backend) ||
	    pci_bus_plug(&r->bus, BR_SLOT, &r->dev.vpci.pci) || pci_bus_assign(&r->bus))
		return -1;
	mmio_bus_write(&r->mmio, br_cfg_addr(PCI_COMMAND), 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	return 0;
}

static inline void br_fini(struct balloon_rig *r)
{
	vq_ram_free(&r->ram);
}

/* One chain of a single readable buffer of len bytes at buf, published on queue q. */
static inline uint16_t br_post(struct balloon_rig *r, unsigned q, uint64_t buf, uint32_t len)
{
	struct vq_drv *d = &r->q[q];
	uint16_t head = (uint16_t)(r->next_desc[q]++ % d->size);
	vq_desc(d, d->desc, head, buf, len, 0, 0);
	vq_publish(d, head);
	return head;
}

/* A chain of frame numbers (le32 each) at buf. */
static inline uint16_t br_post_pfns(struct balloon_rig *r, unsigned q, uint64_t buf,
				    const uint32_t *pfn, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		vq_w(&r->ram.mem, buf + 4ull * i, pfn[i], 4);
	return br_post(r, q, buf, 4 * n);
}

static inline void br_notify(struct balloon_rig *r, unsigned q)
{
	br_bar_wr(r, VIRTIO_NOTIFY_OFF + 4 * q, 2, q);
}

static inline unsigned br_count(const struct balloon_rig *r, enum br_page state)
{
	unsigned n = 0;
	for (unsigned i = 0; i < BR_PAGES; i++)
		n += r->page[i] == state;
	return n;
}

#endif
