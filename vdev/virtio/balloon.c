#include "vdev/virtio/balloon.h"

#include "lib/kstring.h"
#include "lib/log.h"

#define PCI_CLASS_OTHER 0xFF0000

/* struct virtio_balloon_config (5.5.4): le32 num_pages, le32 actual. The free page hint and
 * poison fields follow only with features keel does not offer. */
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL 4
#define CFG_LEN 8

/* struct virtio_balloon_stat (5.5.6.3): le16 tag, le64 val, packed. */
#define STAT_BYTES 10

/* Features offered. STATS_VQ: keel's `stats` shows what the guest reports.
 * Not DEFLATE_ON_OOM (5.5.6.1): with it, a guest under memory pressure takes pages back on its
 * own, below keel's target, so a target could never be relied on to keep memory free for other
 * VMs; without it Linux deflates only when keel raises the target, and a guest short of memory
 * is the guest's own affair. Not MUST_TELL_HOST: a page is refaulted zeroed when touched
 * (core/balloon_mem.c), so keel needs no notice before the guest reuses one. */
#define FEATURES (1ull << VIRTIO_BALLOON_F_STATS_VQ)

/* Log keys: a fresh key per complaint, the bucket (vdev/io_bus.h) bounds the lines. `frames`
 * is a chain's count of page frames (then `pfn` is not used), or 0 for one page's complaint. */
static void complain(struct virtio_balloon *b, uint64_t count, const char *what, uint64_t pfn,
		     uint64_t frames)
{
	unsigned suppressed;
	if (!unclaimed_log_should_print(&b->log, b->vpci.env, count, &suppressed))
		return;
	const char *more = suppressed ? " (and earlier lines left out)" : "";
	if (frames)
		klog("vm %s: virtio-balloon: %s (%llu page frames); those past the first %u "
		     "skipped%s",
		     b->vpci.env->vm_name, what, (unsigned long long)frames,
		     VIRTIO_BALLOON_PFNS_PER_CHAIN, more);
	else
		klog("vm %s: virtio-balloon: %s (page frame %llx); skipped%s", b->vpci.env->vm_name,
		     what, (unsigned long long)pfn, more);
}

/* One inflate or deflate chain: its readable bytes are le32 page frame numbers of 4 KiB
 * (VIRTIO_BALLOON_PFN_SHIFT 12, 5.5.6). */
static uint32_t pages(struct virtio_pci *v, const struct guest_mem *m, const struct virtq_chain *c,
		      bool inflate)
{
	struct virtio_balloon *b = v->ctx;
	uint64_t want = MIN(c->out_bytes / 4, (uint64_t)VIRTIO_BALLOON_PFNS_PER_CHAIN);
	size_t n = virtq_chain_read(m, c, 0, b->pfn, (size_t)want * 4) / 4;

	if (c->out_bytes / 4 > VIRTIO_BALLOON_PFNS_PER_CHAIN)
		complain(b, ++b->bad << 2, "a chain of more page frames than the device takes", 0,
			 c->out_bytes / 4);
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = b->pfn[i];
		enum balloon_rc rc = inflate ? b->backend->inflate(b->backend->ctx, pfn)
					     : b->backend->deflate(b->backend->ctx, pfn);
		switch (rc) {
		case BALLOON_OK:
			if (inflate)
				b->inflated++;
			else
				b->deflated++;
			break;
		case BALLOON_SAME:
			complain(b, ++b->repeated << 2 | 1,
				 inflate ? "a page already in the balloon"
					 : "a page not in the balloon",
				 pfn, 0);
			break;
		case BALLOON_BAD:
			complain(b, ++b->bad << 2, "not a page of the VM's RAM", pfn, 0);
			break;
		case BALLOON_FAIL:
			complain(b, ++b->failed << 2 | 2, "keel could not move the page", pfn, 0);
			break;
		}
	}
	if (b->backend->commit)
		b->backend->commit(b->backend->ctx);
	return 0; /* the buffers are device-readable: nothing written (5.5.6) */
}

static uint32_t inflate_chain(struct virtio_pci *v, const struct guest_mem *m,
			      const struct virtq_chain *c)
{
	return pages(v, m, c, true);
}

static uint32_t deflate_chain(struct virtio_pci *v, const struct guest_mem *m,
			      const struct virtq_chain *c)
{
	return pages(v, m, c, false);
}

/* A statistics report: tag/value pairs, unknown tags ignored, the last of a repeated tag wins. */
static void read_stats(struct virtio_balloon *b, const struct guest_mem *m,
		       const struct virtq_chain *c)
{
	uint8_t raw[VIRTIO_BALLOON_NR_STATS * 2 * STAT_BYTES];
	size_t n = virtq_chain_read(m, c, 0, raw, MIN(c->out_bytes, (uint64_t)sizeof(raw)));

	b->stats.valid = 0;
	for (size_t at = 0; at + STAT_BYTES <= n; at += STAT_BYTES) {
		uint16_t tag;
		uint64_t val;
		memcpy(&tag, raw + at, 2);
		memcpy(&val, raw + at + 2, 8);
		if (tag >= VIRTIO_BALLOON_NR_STATS)
			continue;
		b->stats.val[tag] = val;
		b->stats.valid |= 1u << tag;
	}
	b->stats.reports++;
}

/* The stats queue (5.5.6.3): the driver makes one buffer available holding its report; the
 * device keeps it until it wants the next report, then uses it, and the driver refills it. A
 * driver that makes several available gets all but the newest back at once. */
static void stats_notify(struct virtio_balloon *b)
{
	struct virtio_pci *v = &b->vpci;
	struct virtq *vq = &v->vq[VIRTIO_BALLOON_Q_STATS];
	const struct guest_mem *m = virtio_pci_dma(v);
	if (!m)
		return;
	uint16_t before = vq->used_idx;
	for (unsigned n = 0; n < vq->size; n++) {
		const char *why = NULL;
		enum virtq_pop r = virtq_pop(vq, m, &v->chain, &why);
		if (r == VIRTQ_EMPTY)
			break;
		if (r == VIRTQ_BROKEN || (b->stats_held && virtq_push(vq, m, b->stats_head, 0))) {
			b->stats_held = false;
			virtio_pci_queue_broken(v, VIRTIO_BALLOON_Q_STATS,
						why ? why : "a used ring outside the VM's RAM");
			return;
		}
		read_stats(b, m, &v->chain);
		b->stats_head = v->chain.head;
		b->stats_held = true;
	}
	virtio_pci_used(v, VIRTIO_BALLOON_Q_STATS, before);
}

static void notify(struct virtio_pci *v, unsigned q)
{
	struct virtio_balloon *b = v->ctx;
	if (q == VIRTIO_BALLOON_Q_INFLATE)
		virtio_pci_drain(v, q, inflate_chain);
	else if (q == VIRTIO_BALLOON_Q_DEFLATE)
		virtio_pci_drain(v, q, deflate_chain);
	else if (q == VIRTIO_BALLOON_Q_STATS)
		stats_notify(b);
}

static uint64_t cfg_read(struct virtio_pci *v, unsigned off, unsigned size)
{
	const struct virtio_balloon *b = v->ctx;
	uint64_t all = (uint64_t)b->actual << 32 | b->target;
	return size == 8 ? all : vdev_extract(all, off, size); /* 8 bytes: the whole of it */
}

/* Only actual is the driver's (5.5.4); a narrower write changes its bytes alone. */
static void cfg_write(struct virtio_pci *v, unsigned off, unsigned size, uint64_t val)
{
	struct virtio_balloon *b = v->ctx;
	for (unsigned i = 0; i < size && off + i < CFG_LEN; i++) {
		unsigned at = off + i;
		if (at < CFG_ACTUAL)
			continue;
		unsigned shift = 8 * (at - CFG_ACTUAL);
		b->actual = (b->actual & ~(0xFFu << shift)) | (uint32_t)((val >> (8 * i)) & 0xFF)
								      << shift;
	}
}

/* The driver is gone: its stats buffer with it. Inflated pages stay out of the guest (a touch
 * refaults them zeroed); the target stays, so the next driver inflates to it. */
static void reset(struct virtio_pci *v)
{
	struct virtio_balloon *b = v->ctx;
	b->stats_held = false;
	b->actual = 0;
}

static const struct virtio_dev_ops balloon_ops = {
	.notify = notify, .cfg_read = cfg_read, .cfg_write = cfg_write, .reset = reset
};

int virtio_balloon_init(struct virtio_balloon *b, const struct vdev_env *env,
			const struct balloon_backend *backend)
{
	memset(b, 0, sizeof(*b));
	if (!backend || !backend->inflate || !backend->deflate)
		return -1;
	b->backend = backend;
	unclaimed_log_init(&b->log);
	return virtio_pci_init(&b->vpci, env, VIRTIO_ID_BALLOON, PCI_CLASS_OTHER, 3,
			       VIRTIO_BALLOON_QUEUE_SIZE, FEATURES, CFG_LEN, &balloon_ops, b);
}

void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages)
{
	if (b->target == pages)
		return;
	b->target = pages;
	/* without a driver there is no one to interrupt; it reads the target when it comes */
	if (b->vpci.status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_config_changed(&b->vpci);
	else
		b->vpci.config_generation++;
}

bool virtio_balloon_request_stats(struct virtio_balloon *b)
{
	struct virtio_pci *v = &b->vpci;
	const struct guest_mem *m = virtio_pci_dma(v);
	struct virtq *vq = &v->vq[VIRTIO_BALLOON_Q_STATS];
	/* Linux makes its first report available and notifies before DRIVER_OK, when the
	 * transport ignores notifications: look at the queue first */
	if (!b->stats_held && m && vq->enabled)
		stats_notify(b);
	if (!b->stats_held || !m || !vq->enabled)
		return false;
	uint16_t before = vq->used_idx;
	b->stats_held = false;
	if (virtq_push(vq, m, b->stats_head, 0)) {
		virtio_pci_queue_broken(v, VIRTIO_BALLOON_Q_STATS,
					"a used ring outside the VM's RAM");
		return false;
	}
	virtio_pci_used(v, VIRTIO_BALLOON_Q_STATS, before);
	return true;
}
