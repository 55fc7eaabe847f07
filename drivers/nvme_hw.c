/* keel's NVMe controllers on the real machine (drivers/nvme_hw.h): BAR 0 through keel's uncached
 * identity mapping, DMA pages and buffers in keel's own identity-mapped memory (so an address
 * keel holds is the one the controller is given), and the synchronous block backend. */
#include "drivers/nvme_hw.h"

#include "arch/x86/time.h"
#include "core/kmem.h"
#include "drivers/iommu_hw.h"
#include "arch/x86/apic.h"
#include "drivers/pci_host_hw.h"
#include "drivers/pci_msix_hw.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "mm/phys.h"

/* NVM Express programming interface of class 01 (mass storage), subclass 08 (NVM) */

/* Bytes in one command: the controller's limit, and a scatter list of one entry per page */
#define CHUNK_MAX (32u * PAGE_SIZE)
_Static_assert(CHUNK_MAX % 4096 == 0, "a command cut inside a piece ends on a page");

/* A command of an asynchronous request (struct blk_req) on the controller: one per I/O slot of
 * the core, each with a page for data the controller cannot reach where it is. */
struct hw_cmd {
	bool busy;
	struct blk_req *req;
	enum nvme_op op;
	uint64_t lba;
	uint32_t blocks;
	unsigned nr_sg;
	struct nvme_sg sg[CHUNK_MAX / PAGE_SIZE + 2]; /* a part page at each end */
	uint8_t *bounce;
	unsigned seg_at; /* a read through bounce: where in the request its data goes */
	uint32_t byte_at;
};

/* the core's pages, then a bounce page per command */
#define HW_DMA_PAGES (NVME_DMA_PAGES + NVME_IO_SLOTS)

struct nvme_hw {
	struct nvme_ctrl ctrl;
	struct nvme_ops ops;
	struct pci_func *func;
	volatile uint8_t *bar;
	struct pci_msix msix; /* when ctrl.io_irq: vector 0 wakes the boot CPU */
	/* Held for one submission, one poll or one queue change, never while waiting. One I/O
	 * queue pair serves every CPU under it: lock_waits counts the times a CPU found it taken
	 * (`disks` shows them), what one queue pair per CPU would save. */
	struct spinlock lock;
	uint64_t lock_takes, lock_waits;
	char where[16];
	unsigned idx; /* nvmeN */
	uint64_t nr_done, nr_failed;
	/* what was logged already: each fault once */
	unsigned resets_logged;
	bool failed_logged, error_logged;
	struct hw_cmd cmds[NVME_IO_SLOTS];
	/* asynchronous requests with commands still to send, oldest first (under lock) */
	struct blk_req *queue, *queue_tail;
};

static struct nvme_hw *ctrls[NVME_HW_MAX];
static unsigned nr_ctrls;

static uint32_t bar_read32(void *ctx, uint32_t off)
{
	const struct nvme_hw *h = ctx;

	return *(volatile uint32_t *)(h->bar + off);
}

/* 64-bit registers are read and written in one access (NVMe 1.4, 3.1: the host may use 32- or
 * 64-bit accesses for them) */
static uint64_t bar_read64(void *ctx, uint32_t off)
{
	const struct nvme_hw *h = ctx;

	return *(volatile uint64_t *)(h->bar + off);
}

static void bar_write32(void *ctx, uint32_t off, uint32_t v)
{
	const struct nvme_hw *h = ctx;

	*(volatile uint32_t *)(h->bar + off) = v;
}

static void bar_write64(void *ctx, uint32_t off, uint64_t v)
{
	const struct nvme_hw *h = ctx;

	*(volatile uint64_t *)(h->bar + off) = v;
}

static uint64_t clock_ns(void *ctx)
{
	(void)ctx;
	return time_now_ns();
}

static void lock_counted(struct nvme_hw *h)
{
	if (!spin_trylock(&h->lock)) {
		__atomic_add_fetch(&h->lock_waits, 1, __ATOMIC_RELAXED);
		spin_lock(&h->lock);
	}
	h->lock_takes++;
}

/* One poll of the controller if no other CPU is polling it now (that one completes our commands
 * as well). */
static void pump(struct nvme_hw *h);
static void disable_bus_master(struct pci_func *f);

/* A reset or failure of the controller since the last look, logged once each (lock held). A
 * failed controller loses bus mastering and its interrupt: it may still hold keel's addresses. */
static void note_faults(struct nvme_hw *h)
{
	const struct nvme_ctrl *c = &h->ctrl;

	if (c->nr_resets != h->resets_logged) {
		h->resets_logged = c->nr_resets;
		klog("keel: nvme%u: %s reset (%s); its commands in flight fail", h->idx, h->where,
		     c->why ? c->why : "?");
	}
	if (c->state == NVME_S_FAILED && !h->failed_logged) {
		h->failed_logged = true;
		disable_bus_master(h->func);
		if (c->io_irq)
			pci_msix_disable(&h->msix);
		klog("keel: nvme%u: %s failed (%s); bus mastering off, its disks' requests fail",
		     h->idx, h->where, c->why ? c->why : "?");
	}
}

static enum nvme_state poll_once(struct nvme_hw *h)
{
	enum nvme_state s;

	if (!spin_trylock(&h->lock))
		return NVME_S_READY;
	h->lock_takes++;
	s = nvme_poll(&h->ctrl, time_now_ns());
	note_faults(h);
	pump(h); /* slots the completions freed go to the requests waiting for one */
	spin_unlock(&h->lock);
	return s;
}

static void log_namespaces(const struct nvme_hw *h, unsigned idx)
{
	const struct nvme_ctrl *c = &h->ctrl;

	for (unsigned i = 0; i < c->nr_ns && i < NVME_MAX_NS; i++) {
		const struct nvme_ns *ns = &c->ns[i];

		if (ns->usable)
			klog("keel: nvme%u: namespace %u: %llu blocks of %u bytes (%llu MiB)", idx,
			     ns->nsid, (unsigned long long)ns->nsze, 1u << ns->lba_shift,
			     (unsigned long long)((ns->nsze << ns->lba_shift) / MiB));
		else
			klog("keel: nvme%u: namespace %u refused: %s", idx, ns->nsid,
			     ns->why ? ns->why : "?");
	}
}

/* Claims f: memory decoding and bus mastering on, INTx off (the driver polls). */
static void enable_function(struct pci_func *f)
{
	uint32_t cmd = pci_host_cfg_read32(f, PCIH_COMMAND);

	cmd = (cmd & 0xFFFFu) | PCIH_CMD_MEM | PCIH_CMD_BUS_MASTER | PCIH_CMD_INTX_DISABLE;
	pci_host_cfg_write32(f, PCIH_COMMAND, cmd & 0xFFFFu); /* status bits (RW1C) written 0 */
	f->owner = PCI_OWNER_KEEL;
}

static void disable_bus_master(struct pci_func *f)
{
	uint32_t cmd = pci_host_cfg_read32(f, PCIH_COMMAND);

	pci_host_cfg_write32(f, PCIH_COMMAND, (cmd & 0xFFFFu) & ~PCIH_CMD_BUS_MASTER);
}

static void bring_up(struct pci_func *f)
{
	const struct pci_host_bar *bar0 = &f->bar[0];
	unsigned idx = nr_ctrls;
	struct nvme_dma_page pages[NVME_DMA_PAGES];
	struct nvme_hw *h;
	uint8_t *dma;
	enum nvme_state s;

	if ((bar0->kind != PCI_HBAR_MEM32 && bar0->kind != PCI_HBAR_MEM64) || !bar0->mapped ||
	    bar0->size < 0x2000) {
		klog("keel: nvme: %02x:%02x.%x: BAR 0 is not a mapped memory BAR of 8 KiB or more; "
		     "left alone",
		     f->bus, f->dev, f->fn);
		return;
	}
	h = kmem_alloc_pages(sizeof(*h), PAGE_SIZE);
	dma = kmem_alloc_pages((uint64_t)HW_DMA_PAGES * PAGE_SIZE, PAGE_SIZE);
	if (!h || !dma) {
		klog("keel: nvme: %02x:%02x.%x: out of memory; left alone", f->bus, f->dev, f->fn);
		if (h)
			kmem_free_pages(h, sizeof(*h));
		if (dma)
			kmem_free_pages(dma, (uint64_t)HW_DMA_PAGES * PAGE_SIZE);
		return;
	}
	if (iommu_attach_keel(f)) {
		kmem_free_pages(h, sizeof(*h));
		kmem_free_pages(dma, (uint64_t)HW_DMA_PAGES * PAGE_SIZE);
		return;
	}
	/* queues and bounce pages: the controller's DMA reaches them, and guest RAM, nothing else */
	iommu_dma_allow((uintptr_t)dma, (uint64_t)HW_DMA_PAGES * PAGE_SIZE);
	for (unsigned i = 0; i < NVME_DMA_PAGES; i++)
		pages[i] = (struct nvme_dma_page){ dma + (size_t)i * PAGE_SIZE,
						   (uintptr_t)dma + (uint64_t)i * PAGE_SIZE };
	for (unsigned i = 0; i < NVME_IO_SLOTS; i++)
		h->cmds[i].bounce = dma + (size_t)(NVME_DMA_PAGES + i) * PAGE_SIZE;
	h->func = f;
	h->bar = (volatile uint8_t *)(uintptr_t)bar0->base;
	h->ops = (struct nvme_ops){ h, bar_read32, bar_read64, bar_write32, bar_write64, clock_ns };
	ksnprintf(h->where, sizeof(h->where), "%02x:%02x.%x", f->bus, f->dev, f->fn);
	enable_function(f);
	nvme_init(&h->ctrl, &h->ops, bar0->size, pages);
	/* completions raise MSI-X vector 0 (admin and I/O queue alike), which only wakes the boot
	 * CPU (its loop, or its guest's exit, then polls): a controller without MSI-X is polled */
	int mrc = pci_msix_host_open(&h->msix, f);
	if (mrc == PCI_MSIX_OK)
		mrc = pci_msix_host_enable_wake(&h->msix, 1, host_apic_id());
	h->ctrl.io_irq = mrc == PCI_MSIX_OK;
	if (!h->ctrl.io_irq)
		klog("keel: nvme: %02x:%02x.%x: no MSI-X (%s): polled", f->bus, f->dev, f->fn,
		     pci_msix_err_name(mrc));
	do {
		s = nvme_poll(&h->ctrl, time_now_ns());
		__builtin_ia32_pause();
	} while (s != NVME_S_READY && s != NVME_S_FAILED);
	h->idx = idx;
	h->resets_logged = h->ctrl.nr_resets;
	if (s == NVME_S_FAILED) {
		/* the core gave up on it: it may still hold addresses of keel's pages */
		h->failed_logged = true;
		disable_bus_master(f);
		if (h->ctrl.io_irq)
			pci_msix_disable(&h->msix);
		klog("keel: nvme%u: %s failed: %s; bus mastering off", idx, h->where,
		     h->ctrl.why ? h->ctrl.why : "?");
	} else {
		klog("keel: nvme%u: %s %s, serial %s, firmware %s, NVMe %u.%u, %u namespaces", idx,
		     h->where, h->ctrl.model, h->ctrl.serial, h->ctrl.firmware, h->ctrl.vs >> 16,
		     (h->ctrl.vs >> 8) & 0xFF, h->ctrl.nr_ns);
		log_namespaces(h, idx);
	}
	ctrls[nr_ctrls++] = h;
}

void nvme_hw_init(void)
{
	const struct pci_host *ph = pci_host_table();

	for (unsigned i = 0; i < ph->nr; i++) {
		struct pci_func *f = pci_host_func_mut(i);

		if (f->class_code != PCI_CLASS_NVME || f->owner != PCI_OWNER_NONE ||
		    f->set_aside_for)
			continue;
		if (nr_ctrls == NVME_HW_MAX) {
			klog("keel: nvme: %02x:%02x.%x: more than %d controllers; left alone",
			     f->bus, f->dev, f->fn, NVME_HW_MAX);
			continue;
		}
		bring_up(f);
	}
}

unsigned nvme_hw_count(void)
{
	return nr_ctrls;
}

const struct nvme_ctrl *nvme_hw_ctrl(unsigned i)
{
	return i < nr_ctrls ? &ctrls[i]->ctrl : NULL;
}

const char *nvme_hw_where(unsigned i)
{
	return i < nr_ctrls ? ctrls[i]->where : "";
}

void nvme_hw_counts(unsigned i, struct nvme_hw_counts *out)
{
	const struct nvme_hw *h = i < nr_ctrls ? ctrls[i] : NULL;

	if (!h)
		return;
	/* changed under the lock; a racy snapshot is fine for the shell */
	out->done = __atomic_load_n(&h->nr_done, __ATOMIC_RELAXED);
	out->failed = __atomic_load_n(&h->nr_failed, __ATOMIC_RELAXED);
	out->lock_takes = __atomic_load_n(&h->lock_takes, __ATOMIC_RELAXED);
	out->lock_waits = __atomic_load_n(&h->lock_waits, __ATOMIC_RELAXED);
}

/* ---- one command, waited for ----------------------------------------------------------------- */

struct waiter {
	bool done;
	int status;
};

static void wake(void *arg, int status)
{
	struct waiter *w = arg;

	w->status = status;
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
}

/* Submits one command and polls until it completes. A full queue, or a reset under way, is waited
 * out; a failed controller or a refused command comes back at once. Returns the completion
 * status (0, the device's SCT << 8 | SC, or a negative enum nvme_err). */
static int run_command(struct nvme_hw *h, uint32_t nsid, enum nvme_op op, uint64_t lba,
		       uint32_t nblocks, const struct nvme_sg *sg, unsigned nr_sg)
{
	struct waiter w = { false, 0 };
	int rc;

	for (;;) {
		enum nvme_state s;

		lock_counted(h);
		rc = nvme_submit(&h->ctrl, nsid, op, lba, nblocks, sg, nr_sg, wake, &w);
		s = h->ctrl.state;
		if (rc == NVME_E_BUSY || (rc == NVME_E_NOT_READY && s != NVME_S_FAILED))
			s = nvme_poll(&h->ctrl, time_now_ns());
		spin_unlock(&h->lock);
		if (rc == NVME_OK)
			break;
		if ((rc != NVME_E_BUSY && rc != NVME_E_NOT_READY) || s == NVME_S_FAILED) {
			__atomic_add_fetch(&h->nr_failed, 1, __ATOMIC_RELAXED);
			return rc;
		}
		__builtin_ia32_pause();
	}
	while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
		poll_once(h);
		__builtin_ia32_pause();
	}
	__atomic_add_fetch(w.status ? &h->nr_failed : &h->nr_done, 1, __ATOMIC_RELAXED);
	return w.status;
}

/* ---- the block backend ----------------------------------------------------------------------- */

struct nvme_disk {
	struct blk_backend blk; /* first: &d->blk is what device models get */
	struct nvme_hw *hw;
	uint32_t nsid;
	struct spinlock bounce_lock;
	uint8_t *bounce; /* one page, for a caller's buffer not on a dword boundary */
};

/* The PRP rules of drivers/nvme.h over [va, va + len) of keel's identity-mapped memory. */
static unsigned sg_of(uintptr_t va, uint32_t len, struct nvme_sg *sg)
{
	unsigned n = 0;

	while (len) {
		uint32_t in_page = PAGE_SIZE - (uint32_t)(va & (PAGE_SIZE - 1));
		uint32_t take = len < in_page ? len : in_page;

		sg[n++] = (struct nvme_sg){ va, take };
		va += take;
		len -= take;
	}
	return n;
}

static uint32_t chunk_bytes(const struct nvme_disk *d)
{
	uint32_t max = d->hw->ctrl.max_xfer;

	return max && max < CHUNK_MAX ? max : CHUNK_MAX;
}

static int to_blk(int status)
{
	return status ? BLK_E_IO : BLK_OK;
}

/* count sectors at sector to or from buf, in chunks the controller takes */
static int transfer(struct nvme_disk *d, enum nvme_op op, uint64_t sector, uint8_t *buf,
		    uint64_t count)
{
	struct nvme_sg sg[CHUNK_MAX / PAGE_SIZE + 1];
	uint64_t sectors_per_chunk = chunk_bytes(d) / BLK_SECTOR_SIZE;

	if (!IS_ALIGNED((uintptr_t)buf, 4) || iommu_hw_active()) {
		/* PRP entries need dword alignment (NVMe 1.4, 4.3), and behind an IOMMU the
		 * controller reaches only pages keel gave it (a caller's buffer may be keel's own):
		 * a page at a time through the bounce page, which one request of this disk uses at
		 * a time */
		int rc = BLK_OK;

		sectors_per_chunk = PAGE_SIZE / BLK_SECTOR_SIZE;
		spin_lock(&d->bounce_lock);
		for (uint64_t done = 0; done < count && rc == BLK_OK;) {
			uint64_t n =
				count - done < sectors_per_chunk ? count - done : sectors_per_chunk;
			uint32_t bytes = (uint32_t)(n * BLK_SECTOR_SIZE);
			uint8_t *at = buf + done * BLK_SECTOR_SIZE;

			if (op == NVME_OP_WRITE)
				memcpy(d->bounce, at, bytes);
			rc = to_blk(run_command(d->hw, d->nsid, op, sector + done, (uint32_t)n, sg,
						sg_of((uintptr_t)d->bounce, bytes, sg)));
			if (rc == BLK_OK && op == NVME_OP_READ)
				memcpy(at, d->bounce, bytes);
			done += n;
		}
		spin_unlock(&d->bounce_lock);
		return rc;
	}
	for (uint64_t done = 0; done < count;) {
		uint64_t n = count - done < sectors_per_chunk ? count - done : sectors_per_chunk;
		uint32_t bytes = (uint32_t)(n * BLK_SECTOR_SIZE);
		int rc = to_blk(
			run_command(d->hw, d->nsid, op, sector + done, (uint32_t)n, sg,
				    sg_of((uintptr_t)(buf + done * BLK_SECTOR_SIZE), bytes, sg)));

		if (rc != BLK_OK)
			return rc;
		done += n;
	}
	return BLK_OK;
}

static int disk_read(struct blk_backend *b, uint64_t sector, void *buf, uint64_t count)
{
	return transfer((struct nvme_disk *)b, NVME_OP_READ, sector, buf, count);
}

/* the controller only reads buf on a write */
static int disk_write(struct blk_backend *b, uint64_t sector, const void *buf, uint64_t count)
{
	return transfer((struct nvme_disk *)b, NVME_OP_WRITE, sector, (uint8_t *)(uintptr_t)buf,
			count);
}

/* Flush makes what the controller completed durable (NVMe 1.4, 6.8): sent whether or not it
 * reports a volatile write cache, as a controller without one completes it at once. */
static int disk_flush(struct blk_backend *b)
{
	struct nvme_disk *d = (struct nvme_disk *)b;

	return to_blk(run_command(d->hw, d->nsid, NVME_OP_FLUSH, 0, 0, NULL, 0));
}

static int disk_discard(struct blk_backend *b, uint64_t sector, uint64_t count)
{
	struct nvme_disk *d = (struct nvme_disk *)b;

	/* one range of at most 2^32 - 1 blocks per DSM command (NVMe 1.4, 6.7) */
	for (uint64_t done = 0; done < count;) {
		uint64_t n = count - done < 0xFFFFFFFFu ? count - done : 0xFFFFFFFFu;
		int rc = to_blk(run_command(d->hw, d->nsid, NVME_OP_DEALLOCATE, sector + done,
					    (uint32_t)n, NULL, 0));

		if (rc != BLK_OK)
			return rc;
		done += n;
	}
	return BLK_OK;
}

/* ---- asynchronous requests: nobody waits ------------------------------------------------------ */

/* Whether segs suit PRP lists as one transfer (NVMe 1.4, 4.3): every piece on a 512-byte
 * boundary and a whole number of sectors (so a split at any page boundary is too), every piece
 * but the first starting on a page, every piece but the last ending on one. */
static bool segs_fit_prps(const struct blk_seg *segs, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		uintptr_t va = (uintptr_t)segs[i].va;

		if (!IS_ALIGNED(va, BLK_SECTOR_SIZE) || segs[i].len % BLK_SECTOR_SIZE ||
		    !segs[i].len)
			return false;
		if (i > 0 && !IS_ALIGNED(va, PAGE_SIZE))
			return false;
		if (i + 1 < nr && !IS_ALIGNED(va + segs[i].len, PAGE_SIZE))
			return false;
	}
	return true;
}

/* Copies n bytes between buf and the request's pieces from (*seg, *at) on, moving the cursor
 * (only moving it when buf is NULL). */
static void copy_pieces(const struct blk_req *r, unsigned *seg, uint32_t *at, uint8_t *buf,
			uint32_t n, bool to_pieces)
{
	while (n && *seg < r->nr) {
		const struct blk_seg *s = &r->segs[*seg];
		uint32_t k = MIN(n, s->len - *at);
		uint8_t *p = (uint8_t *)s->va + *at;

		if (buf && to_pieces)
			memcpy(p, buf, k);
		else if (buf)
			memcpy(buf, p, k);
		if (buf)
			buf += k;
		n -= k;
		*at += k;
		if (*at == s->len) {
			(*seg)++;
			*at = 0;
		}
	}
}

static enum nvme_op op_of(enum blk_op op)
{
	switch (op) {
	case BLK_OP_READ:
		return NVME_OP_READ;
	case BLK_OP_WRITE:
		return NVME_OP_WRITE;
	case BLK_OP_FLUSH:
		return NVME_OP_FLUSH;
	default:
		return NVME_OP_DEALLOCATE;
	}
}

/* The next command of r into c, moving r's cursor (r->all_sent once it has its last one). Data
 * the controller can reach goes straight: whole pages of each piece, cut at page boundaries,
 * up to chunk_bytes. Other data goes a page at a time through c's bounce page. */
static void next_command(struct nvme_disk *d, struct blk_req *r, struct hw_cmd *c)
{
	uint64_t left = r->sector + r->count - r->sector_at;

	c->req = r;
	c->op = op_of(r->op);
	c->lba = r->sector_at;
	c->nr_sg = 0;
	c->blocks = 0;
	if (r->op == BLK_OP_FLUSH) {
		r->all_sent = true;
		return;
	}
	if (r->op == BLK_OP_DISCARD) {
		/* one range of at most 2^32 - 1 blocks per DSM command (NVMe 1.4, 6.7) */
		c->blocks = (uint32_t)MIN(left, 0xFFFFFFFFu);
	} else if (r->copy) {
		uint32_t bytes = (uint32_t)MIN(left * BLK_SECTOR_SIZE, (uint64_t)PAGE_SIZE);

		/* a write's data goes into the page now; a read's comes out of it at completion,
		 * from where c's cursor says */
		c->seg_at = r->seg_at;
		c->byte_at = r->byte_at;
		copy_pieces(r, &r->seg_at, &r->byte_at, r->op == BLK_OP_WRITE ? c->bounce : NULL,
			    bytes, false);
		c->nr_sg = sg_of((uintptr_t)c->bounce, bytes, c->sg);
		c->blocks = bytes / BLK_SECTOR_SIZE;
	} else {
		uint32_t max = chunk_bytes(d), bytes = 0;

		/* whole pages from each piece, then whatever it has left, up to max */
		while (r->seg_at < r->nr && bytes < max) {
			const struct blk_seg *s = &r->segs[r->seg_at];
			uintptr_t va = (uintptr_t)s->va + r->byte_at;
			uint32_t rest = s->len - r->byte_at, room = max - bytes;
			uint32_t take = rest <= room ? rest : (room / PAGE_SIZE) * PAGE_SIZE;

			if (take < rest) /* a cut inside a piece lands on a page boundary */
				take = (uint32_t)(ALIGN_DOWN(va + take, PAGE_SIZE) - va);
			uint64_t pages =
				(ALIGN_UP(va + take, PAGE_SIZE) - ALIGN_DOWN(va, PAGE_SIZE)) /
				PAGE_SIZE;
			if (!take || c->nr_sg + pages > ARRAY_SIZE(c->sg))
				break;
			c->nr_sg += sg_of(va, take, c->sg + c->nr_sg);
			bytes += take;
			r->byte_at += take;
			if (r->byte_at == s->len) {
				r->seg_at++;
				r->byte_at = 0;
			}
		}
		c->blocks = bytes / BLK_SECTOR_SIZE;
	}
	r->sector_at += c->blocks;
	r->all_sent = r->sector_at == r->sector + r->count;
}
/* The controller finished c (from nvme_poll, lock held): a read through the bounce page is
 * copied out, and the request completes with its last command. */
static void command_done(void *arg, int status)
{
	struct hw_cmd *c = arg;
	struct blk_req *r = c->req;
	struct nvme_hw *h = ((struct nvme_disk *)r->held_by)->hw;

	if (!status && r->copy && c->op == NVME_OP_READ)
		copy_pieces(r, &c->seg_at, &c->byte_at, c->bounce, c->blocks * BLK_SECTOR_SIZE,
			    true);
	if (status && r->status == BLK_OK)
		r->status = BLK_E_IO;
	if (status && !h->error_logged) {
		h->error_logged = true;
		klog("keel: nvme%u: a command failed (status %d); `disks` counts the others",
		     h->idx, status);
	}
	h->nr_done += status == 0;
	h->nr_failed += status != 0;
	c->busy = false;
	if (--r->inflight == 0 && r->all_sent)
		r->done(r, r->status);
}

static struct hw_cmd *free_command(struct nvme_hw *h)
{
	for (unsigned i = 0; i < NVME_IO_SLOTS; i++)
		if (!h->cmds[i].busy)
			return &h->cmds[i];
	return NULL;
}

/* Sends the queued requests' commands while the controller takes them (lock held). A full queue,
 * or a reset under way, leaves the rest for the next poll; a failed controller or a refused
 * command ends the request with BLK_E_IO once its commands in flight are back. */
static void pump(struct nvme_hw *h)
{
	struct hw_cmd *c;

	while (h->queue && (c = free_command(h))) {
		struct blk_req *r = h->queue;
		struct nvme_disk *d = r->held_by;
		unsigned seg_at = r->seg_at;
		uint32_t byte_at = r->byte_at;
		uint64_t sector_at = r->sector_at;

		next_command(d, r, c);
		int rc = nvme_submit(&h->ctrl, d->nsid, c->op, c->lba, c->blocks, c->sg, c->nr_sg,
				     command_done, c);
		if (rc == NVME_E_BUSY ||
		    (rc == NVME_E_NOT_READY && h->ctrl.state != NVME_S_FAILED)) {
			r->seg_at = seg_at; /* the same command again, later */
			r->byte_at = byte_at;
			r->sector_at = sector_at;
			r->all_sent = false;
			return;
		}
		if (rc == NVME_OK) {
			c->busy = true;
			r->inflight++;
		} else {
			h->nr_failed++;
			r->status = BLK_E_IO;
			r->all_sent = true;
		}
		if (r->all_sent) {
			h->queue = r->next;
			if (!h->queue)
				h->queue_tail = NULL;
			if (!r->inflight)
				r->done(r, r->status);
		}
	}
}

static int disk_submit(struct blk_backend *b, struct blk_req *r)
{
	struct nvme_disk *d = (struct nvme_disk *)b;
	struct nvme_hw *h = d->hw;

	r->held_by = d;
	r->seg_at = 0;
	r->byte_at = 0;
	r->sector_at = r->sector;
	r->copy = (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) && !segs_fit_prps(r->segs, r->nr);
	r->all_sent = false;
	r->inflight = 0;
	r->status = BLK_OK;
	r->next = NULL;
	lock_counted(h);
	if (h->queue_tail)
		h->queue_tail->next = r;
	else
		h->queue = r;
	h->queue_tail = r;
	pump(h);
	spin_unlock(&h->lock);
	return BLK_OK;
}

void nvme_hw_log_counts(void)
{
	for (unsigned i = 0; i < nr_ctrls; i++) {
		struct nvme_hw_counts n = { 0 };

		nvme_hw_counts(i, &n);
		klog("keel: nvme%u: %llu commands, %llu failed, %u resets; its lock found taken %llu "
		     "times of %llu",
		     i, (unsigned long long)n.done, (unsigned long long)n.failed,
		     ctrls[i]->ctrl.nr_resets, (unsigned long long)n.lock_waits,
		     (unsigned long long)n.lock_takes);
	}
}

uint64_t nvme_hw_completions(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nr_ctrls; i++)
		n += __atomic_load_n(&ctrls[i]->nr_done, __ATOMIC_RELAXED) +
		     __atomic_load_n(&ctrls[i]->nr_failed, __ATOMIC_RELAXED);
	return n;
}

bool nvme_hw_interrupts(void)
{
	for (unsigned i = 0; i < nr_ctrls; i++)
		if (!ctrls[i]->ctrl.io_irq && ctrls[i]->ctrl.state != NVME_S_FAILED)
			return false;
	return true;
}

bool nvme_hw_poll(void)
{
	bool busy = false;

	for (unsigned i = 0; i < nr_ctrls; i++) {
		struct nvme_hw *h = ctrls[i];

		/* nothing outstanding and nothing to bring up: no need to look */
		if (!__atomic_load_n(&h->ctrl.nr_busy, __ATOMIC_RELAXED) &&
		    !__atomic_load_n(&h->queue, __ATOMIC_RELAXED) &&
		    (h->ctrl.state == NVME_S_READY || h->ctrl.state == NVME_S_FAILED))
			continue;
		poll_once(h);
		busy = true;
	}
	return busy;
}

static const struct blk_ops disk_ops = {
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
	.submit = disk_submit,
};

/* the same with discard, for a controller whose ONCS has Dataset Management */
static const struct blk_ops disk_ops_dsm = {
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
	.discard = disk_discard,
	.submit = disk_submit,
};

static void release_disk(struct blk_backend *b)
{
	struct nvme_disk *d = (struct nvme_disk *)b;

	iommu_dma_revoke((uintptr_t)d->bounce, PAGE_SIZE);
	kmem_free_pages(d->bounce, PAGE_SIZE);
	kmem_free_pages(d, sizeof(*d));
}

struct blk_backend *nvme_hw_disk(unsigned ctrl, uint32_t nsid, bool read_only, const char **why)
{
	const struct nvme_ns *ns;
	struct nvme_disk *d;

	if (ctrl >= nr_ctrls || ctrls[ctrl]->ctrl.state != NVME_S_READY) {
		*why = "the controller is not ready";
		return NULL;
	}
	ns = nvme_ns_get(&ctrls[ctrl]->ctrl, nsid);
	if (!ns) {
		*why = "no usable namespace of that number";
		return NULL;
	}
	if (ns->lba_shift != BLK_SECTOR_SHIFT) {
		*why = "its blocks are not 512 bytes (keel serves 512-byte namespaces only so far)";
		return NULL;
	}
	d = kmem_alloc_pages(sizeof(*d), PAGE_SIZE);
	if (d)
		d->bounce = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!d || !d->bounce) {
		if (d)
			kmem_free_pages(d, sizeof(*d));
		*why = "out of memory";
		return NULL;
	}
	iommu_dma_allow((uintptr_t)d->bounce, PAGE_SIZE);
	d->hw = ctrls[ctrl];
	d->nsid = nsid;
	d->blk.ops = ctrls[ctrl]->ctrl.oncs & NVME_ONCS_DSM ? &disk_ops_dsm : &disk_ops;
	d->blk.sectors = ns->nsze;
	d->blk.read_only = read_only;
	d->blk.release = release_disk;
	return &d->blk;
}

/* ---- SR-IOV of a physical function keel drives (at boot, before any VM) ------------------- */

int nvme_hw_index_of(const struct pci_func *f)
{
	for (unsigned i = 0; i < nr_ctrls; i++)
		if (ctrls[i]->func == f)
			return (int)i;
	return -1;
}

/* Polls h until its SR-IOV sequence is done and it is READY again, or it failed; the core's
 * timeouts bound the wait. */
static enum nvme_state wait_sriov(struct nvme_hw *h)
{
	enum nvme_state s;

	do {
		s = poll_once(h);
		__builtin_ia32_pause();
	} while (s != NVME_S_FAILED &&
		 (h->ctrl.sriov.step != NVME_SRIOV_DONE || s != NVME_S_READY));
	return s;
}

/* Starts SR-IOV step `release` (else bring-up of nr_vfs) on controller i and waits for its end:
 * the controller, or NULL with why. */
static struct nvme_hw *run_sriov(unsigned i, bool release, unsigned nr_vfs, char *why,
				 size_t why_size)
{
	struct nvme_hw *h = i < nr_ctrls ? ctrls[i] : NULL;

	if (!h || h->ctrl.state != NVME_S_READY) {
		kfail(why, why_size, "keel's NVMe driver does not have it ready");
		return NULL;
	}
	spin_lock(&h->lock);
	/* a secondary needs its admin queue and one I/O queue pair, and one interrupt */
	int rc = release ? nvme_sriov_release_primary(&h->ctrl)
			 : nvme_sriov_bring_online(&h->ctrl, nr_vfs, 2, 1);
	spin_unlock(&h->lock);
	if (rc) {
		kfail(why, why_size, "its controller takes no admin request (%d)", rc);
		return NULL;
	}
	if (wait_sriov(h) == NVME_S_FAILED) {
		kfail(why, why_size, "its controller failed: %s", h->ctrl.why ? h->ctrl.why : "?");
		return NULL;
	}
	return h;
}

int nvme_hw_sriov_release(unsigned i, char *why, size_t why_size)
{
	struct nvme_hw *h = run_sriov(i, true, 0, why, why_size);

	if (!h)
		return -1;
	if (h->ctrl.sriov.primary_status)
		return kfail(
			why, why_size,
			"its controller kept its flexible resources (Virtualization Management "
			"status 0x%x)",
			(unsigned)h->ctrl.sriov.primary_status);
	return 0;
}

int nvme_hw_sriov_online(unsigned i, unsigned nr_vfs, uint16_t scid[], char *why, size_t why_size)
{
	struct nvme_hw *h = run_sriov(i, false, nr_vfs, why, why_size);

	if (!h)
		return -1;
	if (h->ctrl.sriov.list_status)
		return kfail(why, why_size, "its secondary controller list was refused (%d)",
			     h->ctrl.sriov.list_status);
	for (unsigned v = 0; v < nr_vfs; v++) {
		const struct nvme_vf_result *r = &h->ctrl.sriov.vf[v];
		if (!r->online)
			return kfail(why, why_size,
				     "VF %u's secondary controller did not come online (action %u, "
				     "status %d)",
				     v + 1, r->failed_act, r->status);
		scid[v] = r->scid;
	}
	return 0;
}

struct admin_wait {
	bool done;
	int status;
};

static void admin_done(void *arg, int status, uint32_t dw0, const void *data)
{
	struct admin_wait *w = arg;
	(void)dw0;
	(void)data;
	w->status = status;
	w->done = true;
}

int nvme_hw_attach_ns(unsigned i, uint32_t nsid, uint16_t cntlid, bool attach, char *why,
		      size_t why_size)
{
	struct nvme_hw *h = i < nr_ctrls ? ctrls[i] : NULL;
	struct admin_wait w = { false, 0 };
	struct nvme_admin_req r;

	if (!h)
		return kfail(why, why_size, "keel's NVMe driver does not have it");
	if (!nsid || nsid == NVME_NSID_ALL)
		return kfail(why, why_size, "namespace %u is not one namespace", nsid);
	nvme_cmd_ns_attach(&r, attach ? NVME_NSA_ATTACH : NVME_NSA_DETACH, nsid, cntlid);
	r.done = admin_done;
	r.arg = &w;
	spin_lock(&h->lock);
	int rc = nvme_admin_submit(&h->ctrl, &r);
	spin_unlock(&h->lock);
	if (rc)
		return kfail(why, why_size, "its controller takes no admin request (%d)", rc);
	/* done runs once whatever happens (a timeout resets the controller and fails it) */
	while (!w.done) {
		poll_once(h);
		__builtin_ia32_pause();
	}
	/* detaching what is not attached leaves it as wanted */
	if (!attach && w.status == (NVME_SCT_CMD_SPECIFIC << 8 | NVME_SC_NS_NOT_ATTACHED))
		return 0;
	if (w.status)
		return kfail(why, why_size,
			     "Namespace Attachment (%s) of namespace %u to controller %u refused "
			     "(status 0x%x)",
			     attach ? "attach" : "detach", nsid, cntlid, (unsigned)w.status);
	return 0;
}
