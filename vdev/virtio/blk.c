#include "vdev/virtio/blk.h"

#include "lib/kstring.h"

/* Feature bits (5.2.3). */
#define F_SIZE_MAX 1
#define F_SEG_MAX 2
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_CONFIG_WCE 11
#define F_DISCARD 13
#define F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define HDR_BYTES 16 /* le32 type, le32 reserved, le64 sector */
#define SEG_BYTES 16 /* discard/write-zeroes: le64 sector, le32 num_sectors, le32 flags */
#define WZ_UNMAP 1u

/* struct virtio_blk_config (5.2.4), up to write_zeroes_may_unmap and its padding. */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_WRITEBACK 32 /* u8: 1 writeback, 0 writethrough (with F_CONFIG_WCE) */
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_ALIGN 44
#define CFG_MAX_WZ_SECTORS 48
#define CFG_MAX_WZ_SEG 52
#define CFG_WZ_MAY_UNMAP 56
#define CFG_LEN 60

#define SEG_MAX (VIRTQ_MAX_SEGS - 2) /* a chain's buffers less the header and the status */
#define SIZE_MAX_BYTES (1u << 20)
#define MAX_RANGE_SECTORS 0x400000u /* 2 GiB per discard or write-zeroes segment */

static int to_status(int rc)
{
	return rc == BLK_OK ? S_OK : rc == BLK_E_UNSUPP ? S_UNSUPP : S_IOERR;
}

/* IN: sectors from the disk into the writable buffers (all but the status byte). */
static int read_data(struct virtio_blk *b, const struct guest_mem *m, const struct virtq_chain *c,
		     uint64_t sector, uint64_t bytes, uint32_t *done)
{
	if (!blk_range_ok(b->disk, sector, bytes >> BLK_SECTOR_SHIFT))
		return S_IOERR;
	for (uint64_t off = 0; off < bytes; off += VIRTIO_BLK_BOUNCE) {
		uint64_t n = MIN(bytes - off, (uint64_t)VIRTIO_BLK_BOUNCE);
		int rc = blk_read(b->disk, sector + (off >> BLK_SECTOR_SHIFT), b->bounce,
				  n >> BLK_SECTOR_SHIFT);
		if (rc)
			return to_status(rc);
		if (virtq_chain_write(m, c, off, b->bounce, n) != n)
			return S_IOERR;
		*done += (uint32_t)n;
	}
	return S_OK;
}

/* OUT: sectors from the readable buffers after the header onto the disk. */
static int write_data(struct virtio_blk *b, const struct guest_mem *m, const struct virtq_chain *c,
		      uint64_t sector, uint64_t bytes)
{
	if (b->disk->read_only)
		return S_IOERR;
	if (!blk_range_ok(b->disk, sector, bytes >> BLK_SECTOR_SHIFT))
		return S_IOERR;
	for (uint64_t off = 0; off < bytes; off += VIRTIO_BLK_BOUNCE) {
		uint64_t n = MIN(bytes - off, (uint64_t)VIRTIO_BLK_BOUNCE);
		if (virtq_chain_read(m, c, HDR_BYTES + off, b->bounce, n) != n)
			return S_IOERR;
		int rc = blk_write(b->disk, sector + (off >> BLK_SECTOR_SHIFT), b->bounce,
				   n >> BLK_SECTOR_SHIFT);
		if (rc)
			return to_status(rc);
	}
	return S_OK;
}

/* DISCARD and WRITE_ZEROES: one segment (max_*_seg is 1), its flags as 5.2.6.2 allows. S_OK
 * with the range, or the status to answer with. */
static int range_of(const struct guest_mem *m, const struct virtq_chain *c, uint32_t type,
		    uint64_t *sector, uint32_t *count)
{
	uint8_t seg[SEG_BYTES];
	uint32_t flags;
	if (c->out_bytes != HDR_BYTES + SEG_BYTES ||
	    virtq_chain_read(m, c, HDR_BYTES, seg, SEG_BYTES) != SEG_BYTES)
		return S_IOERR; /* none, or more segments than the device said it takes */
	memcpy(sector, seg, 8);
	memcpy(count, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	if (*count > MAX_RANGE_SECTORS)
		return S_IOERR;
	/* the unmap flag means nothing for a discard: the device must refuse it */
	if (type == T_DISCARD ? flags != 0 : (flags & ~WZ_UNMAP) != 0)
		return S_UNSUPP;
	return S_OK;
}

static int range_op(struct virtio_blk *b, const struct guest_mem *m, const struct virtq_chain *c,
		    uint32_t type)
{
	uint64_t sector;
	uint32_t count;
	int status = range_of(m, c, type, &sector, &count);
	if (status != S_OK)
		return status;
	return to_status(type == T_DISCARD ? blk_discard(b->disk, sector, count)
					   : blk_write_zeroes(b->disk, sector, count));
}

static uint32_t serve(struct virtio_pci *v, const struct guest_mem *m, const struct virtq_chain *c)
{
	struct virtio_blk *b = v->ctx;
	uint8_t hdr[HDR_BYTES];
	uint32_t type, written = 0;
	uint64_t sector;
	int status;

	/* the header leads the readable part, the status byte ends the writable part (5.2.6) */
	if (c->in_bytes < 1) {
		b->errors++;
		return 0; /* no room for a status: nothing the driver can read */
	}
	uint64_t in_data = c->in_bytes - 1;
	if (virtq_chain_read(m, c, 0, hdr, HDR_BYTES) != HDR_BYTES) {
		status = S_IOERR; /* no whole header: no request, but the driver must hear so */
		goto done;
	}
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	uint64_t out_data = c->out_bytes - HDR_BYTES;
	switch (type) {
	case T_IN:
		b->reads++;
		status = in_data % BLK_SECTOR_SIZE || out_data
				 ? S_IOERR
				 : read_data(b, m, c, sector, in_data, &written);
		if (status == S_OK)
			b->read_bytes += in_data;
		break;
	case T_OUT:
		b->writes++;
		status = out_data % BLK_SECTOR_SIZE || in_data
				 ? S_IOERR
				 : write_data(b, m, c, sector, out_data);
		/* writethrough: the write completes once it is on the medium (5.2.6.4) */
		if (status == S_OK && !b->writeback)
			status = to_status(blk_flush(b->disk));
		if (status == S_OK)
			b->written_bytes += out_data;
		break;
	case T_FLUSH:
		b->flushes++;
		status = to_status(blk_flush(b->disk));
		break;
	case T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = { 0 };
		memcpy(id, b->serial, kstrnlen(b->serial, sizeof(id)));
		written = (uint32_t)virtq_chain_write(m, c, 0, id, MIN(in_data, sizeof(id)));
		status = S_OK;
		break;
	}
	case T_DISCARD:
	case T_WRITE_ZEROES:
		status = b->disk->read_only ? S_IOERR : range_op(b, m, c, type);
		break;
	default:
		status = S_UNSUPP;
		break;
	}
done:
	if (status != S_OK)
		b->errors++;
	uint8_t s = (uint8_t)status;
	written += (uint32_t)virtq_chain_write(m, c, in_data, &s, 1);
	return written;
}

/* ---- requests on a host device: asynchronous ------------------------------------------------ */

#define PENDING UINT32_MAX /* start: the request went to the backend */
#define GUEST_PAGE 4096u   /* gmem's unit: a range inside one page lies in one extent */

/* Maps up to n bytes of the chain's readable (or writable) part from off on as host pointers
 * into the guest's RAM, a piece per host-contiguous stretch, at most BLK_MAX_SEGS pieces: the
 * bytes mapped, cut back to whole sectors (0 when not one sector maps: a buffer outside the RAM,
 * or pieces too small). The pointers stay good while the request is in flight: the balloon
 * gives no frame back meanwhile (core/vm_balloon.c). */
static uint64_t map_chain(const struct guest_mem *m, const struct virtq_chain *c, bool writable,
			  uint64_t off, uint64_t n, struct blk_seg *segs, unsigned *nr_out)
{
	unsigned first = writable ? c->nr_out : 0, count = writable ? c->nr_in : c->nr_out, nr = 0;
	uint64_t got = 0;

	for (unsigned i = first; i < first + count && got < n && nr < BLK_MAX_SEGS; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t gpa = s->gpa + off, left = MIN(n - got, s->len - off);
		off = 0;
		while (left && nr < BLK_MAX_SEGS) {
			const struct gmem_extent *e = gmem_find(m, gpa);
			if (!e)
				goto trim;
			uint64_t k = MIN(left, e->gpa + e->size - gpa);
			void *p = gmem_ptr(m, gpa, k);
			if (!p) { /* pages the balloon moved: a page at a time */
				k = MIN(k, GUEST_PAGE - (gpa & (GUEST_PAGE - 1)));
				p = gmem_ptr(m, gpa, k);
				if (!p)
					goto trim;
			}
			segs[nr++] = (struct blk_seg){ p, (uint32_t)k };
			gpa += k;
			left -= k;
			got += k;
		}
	}
trim:;
	uint64_t drop = got % BLK_SECTOR_SIZE;
	while (drop && nr) {
		struct blk_seg *last = &segs[nr - 1];
		if (last->len > drop) {
			last->len -= (uint32_t)drop;
			break;
		}
		drop -= last->len;
		nr--;
	}
	*nr_out = nr;
	return got - got % BLK_SECTOR_SIZE;
}

/* The backend finished the part on the way (any CPU, the backend's lock held): mark it, wake. */
static void part_done(struct blk_req *r, int status)
{
	struct virtio_blk_slot *s = r->ctx;
	struct virtio_blk *b = s->dev;

	s->result = status;
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	__atomic_store_n(&b->completions, true, __ATOMIC_RELEASE);
	if (b->kick)
		b->kick(b->kick_ctx);
}

static uint32_t submit(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	s->req.done = part_done;
	s->req.ctx = s;
	__atomic_store_n(&b->sent, b->sent + 1, __ATOMIC_RELAXED);
	int rc = blk_submit(b->disk, &s->req);
	return rc == BLK_OK ? PENDING : (uint32_t)to_status(rc);
}

/* The request's next part of its data (as much as maps in one go): PENDING, or a status. */
static uint32_t send_part(struct virtio_blk *b, const struct guest_mem *m,
			  struct virtio_blk_slot *s)
{
	bool in = s->type == T_IN;
	unsigned nr = 0;

	s->part = map_chain(m, &s->chain, in, (in ? 0 : HDR_BYTES) + s->at, s->bytes - s->at,
			    s->segs, &nr);
	if (!s->part)
		return S_IOERR;
	s->req = (struct blk_req){ .op = in ? BLK_OP_READ : BLK_OP_WRITE,
				   .sector = s->sector + (s->at >> BLK_SECTOR_SHIFT),
				   .count = s->part >> BLK_SECTOR_SHIFT,
				   .segs = s->segs,
				   .nr = nr };
	return submit(b, s);
}

static uint32_t send_flush(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	s->flushing = true;
	s->part = 0;
	s->req = (struct blk_req){ .op = BLK_OP_FLUSH };
	return submit(b, s);
}

/* After the data: a write on a writethrough cache is flushed before it completes (5.2.6.4). */
static uint32_t after_data(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	return s->type == T_OUT && !b->writeback && !s->flushing ? send_flush(b, s) : S_OK;
}

/* Starts the request in s->chain on a backend with blk_submit: PENDING, or the status it
 * completes with now. Requests the backend is not needed for, or whose layout is wrong, are
 * the synchronous path's (serve): *sync is set. */
static uint32_t start_async(struct virtio_blk *b, const struct guest_mem *m,
			    struct virtio_blk_slot *s, bool *sync)
{
	const struct virtq_chain *c = &s->chain;
	uint8_t hdr[HDR_BYTES];
	uint32_t count;

	*sync = true;
	if (c->in_bytes < 1 || virtq_chain_read(m, c, 0, hdr, HDR_BYTES) != HDR_BYTES)
		return S_IOERR;
	memcpy(&s->type, hdr, 4);
	memcpy(&s->sector, hdr + 8, 8);
	uint64_t in_data = c->in_bytes - 1, out_data = c->out_bytes - HDR_BYTES;
	s->at = 0;
	s->part = 0;
	s->flushing = false;
	switch (s->type) {
	case T_IN:
		if (in_data % BLK_SECTOR_SIZE || out_data)
			return S_IOERR;
		*sync = false;
		b->reads++;
		s->bytes = in_data;
		if (!blk_range_ok(b->disk, s->sector, in_data >> BLK_SECTOR_SHIFT))
			return S_IOERR;
		return in_data ? send_part(b, m, s) : S_OK;
	case T_OUT:
		if (out_data % BLK_SECTOR_SIZE || in_data)
			return S_IOERR;
		*sync = false;
		b->writes++;
		s->bytes = out_data;
		if (b->disk->read_only ||
		    !blk_range_ok(b->disk, s->sector, out_data >> BLK_SECTOR_SHIFT))
			return S_IOERR;
		return out_data ? send_part(b, m, s) : after_data(b, s);
	case T_FLUSH:
		*sync = false;
		b->flushes++;
		s->bytes = 0;
		return send_flush(b, s);
	case T_DISCARD:
		if (b->disk->read_only || !blk_can_discard(b->disk))
			return S_IOERR;
		*sync = false;
		s->bytes = 0;
		uint32_t st = (uint32_t)range_of(m, c, T_DISCARD, &s->sector, &count);
		if (st != S_OK)
			return st;
		s->req = (struct blk_req){ .op = BLK_OP_DISCARD,
					   .sector = s->sector,
					   .count = count };
		return submit(b, s);
	default:
		return S_IOERR;
	}
}

/* A request of s ended with status: counted, its status byte written and its chain used, unless
 * the device is being reset or no longer may touch the guest's RAM. */
static void finish(struct virtio_blk *b, struct virtio_blk_slot *s, uint32_t status)
{
	struct virtio_pci *v = &b->vpci;
	const struct guest_mem *m = virtio_pci_dma(v);
	uint32_t written = 0;

	if (status != S_OK) {
		b->errors++;
	} else if (s->type == T_IN) {
		b->read_bytes += s->bytes;
		written = (uint32_t)s->bytes;
	} else if (s->type == T_OUT) {
		b->written_bytes += s->bytes;
	}
	s->busy = false;
	__atomic_store_n(&b->inflight, b->inflight - 1, __ATOMIC_RELEASE);
	if (!m || !v->vq[0].enabled)
		return;
	uint8_t st = (uint8_t)status;
	written += (uint32_t)virtq_chain_write(m, &s->chain, s->chain.in_bytes - 1, &st, 1);
	if (virtq_push(&v->vq[0], m, s->chain.head, written))
		virtio_pci_queue_broken(v, 0, "a used ring outside the VM's RAM");
}

static struct virtio_blk_slot *free_slot(struct virtio_blk *b)
{
	for (unsigned i = 0; i < VIRTIO_BLK_INFLIGHT; i++)
		if (!b->slot[i].busy)
			return &b->slot[i];
	return NULL;
}

/* Takes available chains while a slot is free (at most the queue's size per call, so one exit
 * is bounded): each is served at once or goes to the backend; one interrupt for those served. */
static void take_chains(struct virtio_blk *b)
{
	struct virtio_pci *v = &b->vpci;
	struct virtq *vq = &v->vq[0];
	const struct guest_mem *m = virtio_pci_dma(v);
	if (!m || !vq->enabled)
		return;
	uint16_t before = vq->used_idx;
	bool async = blk_can_submit(b->disk);
	for (unsigned n = 0; n < vq->size; n++) {
		struct virtio_blk_slot *s = free_slot(b);
		const char *why = NULL;
		if (!s)
			break;
		enum virtq_pop r = virtq_pop(vq, m, &s->chain, &why);
		if (r == VIRTQ_EMPTY)
			break;
		bool sync = true;
		uint32_t used = 0;
		if (r == VIRTQ_GOT && async) {
			uint32_t st = start_async(b, m, s, &sync);
			if (st == PENDING) {
				s->busy = true;
				__atomic_store_n(&b->inflight, b->inflight + 1, __ATOMIC_RELEASE);
				continue;
			}
			if (!sync) {
				s->busy = true; /* finish counts it out again */
				__atomic_store_n(&b->inflight, b->inflight + 1, __ATOMIC_RELEASE);
				finish(b, s, st);
				continue;
			}
		}
		if (r == VIRTQ_GOT)
			used = serve(v, m, &s->chain);
		if (r == VIRTQ_BROKEN || virtq_push(vq, m, s->chain.head, used)) {
			virtio_pci_queue_broken(v, 0,
						why ? why : "a used ring outside the VM's RAM");
			break;
		}
	}
	virtio_pci_used(v, 0, before);
}

void virtio_blk_complete(struct virtio_blk *b)
{
	struct virtio_pci *v = &b->vpci;
	const struct guest_mem *m = v->env->mem;
	uint16_t before = v->vq[0].used_idx;

	if (!__atomic_exchange_n(&b->completions, false, __ATOMIC_ACQ_REL))
		return;
	for (unsigned i = 0; i < VIRTIO_BLK_INFLIGHT; i++) {
		struct virtio_blk_slot *s = &b->slot[i];
		if (!s->busy || !__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
			continue;
		s->done = false;
		uint32_t status = (uint32_t)to_status(s->result);
		/* a reset under way wants the DMA over, not more of it */
		if (status == S_OK && !v->reset_pending && !s->flushing) {
			s->at += s->part;
			status = s->at < s->bytes ? send_part(b, m, s) : after_data(b, s);
		}
		if (status != PENDING)
			finish(b, s, status);
	}
	virtio_pci_used(v, 0, before);
	if (v->reset_pending) {
		if (!b->inflight)
			virtio_pci_reset_done(v);
		return;
	}
	take_chains(b);
}

bool virtio_blk_busy(const struct virtio_blk *b)
{
	return __atomic_load_n(&b->inflight, __ATOMIC_ACQUIRE) != 0;
}

bool virtio_blk_dma_busy(const struct virtio_blk *b)
{
	for (unsigned i = 0; i < VIRTIO_BLK_INFLIGHT; i++) {
		const struct virtio_blk_slot *s = &b->slot[i];
		if (__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE) &&
		    !__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

static bool busy(struct virtio_pci *v)
{
	return virtio_blk_busy(v->ctx);
}

static void notify(struct virtio_pci *v, unsigned q)
{
	(void)q; /* the one queue */
	take_chains(v->ctx);
}

static uint64_t cfg_read(struct virtio_pci *v, unsigned off, unsigned size)
{
	const struct virtio_blk *b = v->ctx;
	uint8_t cfg[CFG_LEN] = { 0 };
	uint32_t w;
	memcpy(cfg + CFG_CAPACITY, &b->disk->sectors, 8);
	w = SIZE_MAX_BYTES;
	memcpy(cfg + CFG_SIZE_MAX, &w, 4);
	w = SEG_MAX;
	memcpy(cfg + CFG_SEG_MAX, &w, 4);
	w = BLK_SECTOR_SIZE;
	memcpy(cfg + CFG_BLK_SIZE, &w, 4);
	w = MAX_RANGE_SECTORS;
	memcpy(cfg + CFG_MAX_DISCARD_SECTORS, &w, 4);
	memcpy(cfg + CFG_MAX_WZ_SECTORS, &w, 4);
	w = 1;
	memcpy(cfg + CFG_MAX_DISCARD_SEG, &w, 4);
	memcpy(cfg + CFG_DISCARD_ALIGN, &w, 4);
	memcpy(cfg + CFG_MAX_WZ_SEG, &w, 4);
	cfg[CFG_WZ_MAY_UNMAP] = 0;
	cfg[CFG_WRITEBACK] = b->writeback;
	uint64_t val = 0;
	memcpy(&val, cfg + off, size); /* the transport keeps off + size inside CFG_LEN */
	return val;
}

/* Only writeback is the driver's to write, and only once it took F_CONFIG_WCE (5.2.5): 0 turns
 * the cache to writethrough, anything else back to writeback. */
static void cfg_write(struct virtio_pci *v, unsigned off, unsigned size, uint64_t val)
{
	struct virtio_blk *b = v->ctx;

	if (off == CFG_WRITEBACK && size == 1 && (v->driver_features & 1ull << F_CONFIG_WCE))
		b->writeback = val != 0;
}

/* A reset brings back the cache mode the device starts with */
static void reset(struct virtio_pci *v)
{
	struct virtio_blk *b = v->ctx;

	b->writeback = true;
}

static const struct virtio_dev_ops blk_ops = {
	.notify = notify, .cfg_read = cfg_read, .cfg_write = cfg_write, .reset = reset, .busy = busy
};

int virtio_blk_init(struct virtio_blk *b, const struct vdev_env *env, struct blk_backend *disk,
		    const char *serial, void (*kick)(void *ctx), void *kick_ctx)
{
	memset(b, 0, offsetof(struct virtio_blk, bounce));
	b->disk = disk;
	b->kick = kick;
	b->kick_ctx = kick_ctx;
	for (unsigned i = 0; i < VIRTIO_BLK_INFLIGHT; i++)
		b->slot[i].dev = b;
	kstrlcpy(b->serial, serial, sizeof(b->serial));
	/* a writeback cache with FLUSH, which the driver may turn writethrough (CONFIG_WCE) */
	b->writeback = true;
	uint64_t f = 1ull << F_SIZE_MAX | 1ull << F_SEG_MAX | 1ull << F_BLK_SIZE | 1ull << F_FLUSH |
		     1ull << F_CONFIG_WCE;
	if (disk->read_only)
		f |= 1ull << F_RO;
	else {
		if (blk_can_discard(disk))
			f |= 1ull << F_DISCARD;
		if (blk_can_write_zeroes(disk))
			f |= 1ull << F_WRITE_ZEROES;
	}
	/* mass storage, other (PCI Code and ID Assignment, 1.2) */
	return virtio_pci_init(&b->vpci, env, VIRTIO_ID_BLOCK, 0x018000, 1, VIRTIO_BLK_QUEUE_SIZE,
			       f, CFG_LEN, &blk_ops, b);
}
