#include "vdev/virtio/virtqueue.h"

#include "lib/kstring.h"

/* struct virtq_desc (2.7.5): le64 addr, le32 len, le16 flags, le16 next. */
#define DESC_SIZE 16
/* struct virtq_avail (2.7.6): le16 flags, le16 idx, le16 ring[size], le16 used_event. */
#define AVAIL_IDX 2
#define AVAIL_RING 4
/* struct virtq_used (2.7.8): le16 flags, le16 idx, {le32 id, le32 len} ring[size],
 * le16 avail_event. */
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM 8

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

void virtq_reset(struct virtq *q, uint16_t max_size)
{
	memset(q, 0, sizeof(*q));
	q->max_size = max_size;
	q->size = max_size;
	q->msix_vector = VIRTQ_NO_VECTOR;
}

static uint64_t avail_len(uint16_t size)
{
	return AVAIL_RING + 2ull * size + 2;
}

static uint64_t used_len(uint16_t size)
{
	return USED_RING + (uint64_t)USED_ELEM * size + 2;
}

bool virtq_rings_valid(const struct virtq *q, const struct guest_mem *m)
{
	uint16_t n = q->size;
	/* alignment: descriptor table 16, available ring 2, used ring 4 (2.7, table 2.3) */
	return n && !(n & (n - 1)) && n <= q->max_size && !(q->desc & 15) && !(q->avail & 1) &&
	       !(q->used & 3) && gmem_covers(m, q->desc, (uint64_t)DESC_SIZE * n) &&
	       gmem_covers(m, q->avail, avail_len(n)) && gmem_covers(m, q->used, used_len(n));
}

static bool read16(const struct guest_mem *m, uint64_t gpa, uint16_t *v)
{
	return !gmem_read(m, gpa, v, 2);
}

static bool read_desc(const struct guest_mem *m, uint64_t table, unsigned i, struct desc *d)
{
	uint8_t raw[DESC_SIZE];
	if (gmem_read(m, table + (uint64_t)DESC_SIZE * i, raw, sizeof(raw)))
		return false;
	memcpy(&d->addr, raw, 8);
	memcpy(&d->len, raw + 8, 4);
	memcpy(&d->flags, raw + 12, 2);
	memcpy(&d->next, raw + 14, 2);
	return true;
}

/* One buffer into the chain; false (with *why) when the chain cannot take it. */
static bool add_seg(const struct guest_mem *m, struct virtq_chain *c, const struct desc *d,
		    const char **why)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	if (!writable && c->nr_in) {
		*why = "a device-readable buffer after a device-writable one";
		return false;
	}
	if (!d->len)
		return true; /* nothing to move: no segment */
	if (!gmem_covers(m, d->addr, d->len)) {
		*why = "a buffer outside the VM's RAM";
		return false;
	}
	if (c->nr_out + c->nr_in == VIRTQ_MAX_SEGS) {
		*why = "a chain of more buffers than the device takes";
		return false;
	}
	c->seg[c->nr_out + c->nr_in] = (struct virtq_seg){ d->addr, d->len };
	if (writable) {
		c->nr_in++;
		c->in_bytes += d->len;
	} else {
		c->nr_out++;
		c->out_bytes += d->len;
	}
	return true;
}

/* Walks the descriptors of one table (the ring's own, or an indirect one) from index i. At most
 * `limit` descriptors are visited: a chain longer than its table loops (2.7.5.3.1). */
static bool walk(const struct virtq *q, const struct guest_mem *m, uint64_t table, unsigned n,
		 unsigned i, bool nested, struct virtq_chain *c, const char **why)
{
	for (unsigned visited = 0;; visited++) {
		struct desc d;
		if (i >= n || visited >= n) {
			*why = i >= n ? "a descriptor index past the table"
				      : "a descriptor chain loops";
			return false;
		}
		if (!read_desc(m, table, i, &d)) {
			*why = "a descriptor table outside the VM's RAM";
			return false;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: only with the feature, never with NEXT, never inside an
			 * indirect table; its length a whole number of descriptors */
			if (!q->indirect || nested || (d.flags & VIRTQ_DESC_F_NEXT) || !d.len ||
			    d.len % DESC_SIZE || d.len / DESC_SIZE > VIRTQ_MAX_SIZE) {
				*why = "an indirect descriptor the device cannot take";
				return false;
			}
			if (!gmem_covers(m, d.addr, d.len)) {
				*why = "an indirect table outside the VM's RAM";
				return false;
			}
			return walk(q, m, d.addr, d.len / DESC_SIZE, 0, true, c, why);
		}
		if (!add_seg(m, c, &d, why))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		i = d.next;
	}
}

enum virtq_pop virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c,
			 const char **why)
{
	uint16_t idx, head;
	if (!read16(m, q->avail + AVAIL_IDX, &idx)) {
		*why = "an available ring outside the VM's RAM";
		return VIRTQ_BROKEN;
	}
	uint16_t pending = (uint16_t)(idx - q->last_avail);
	if (!pending)
		return VIRTQ_EMPTY;
	if (pending > q->size) {
		*why = "the available index ran ahead of the queue's size";
		return VIRTQ_BROKEN;
	}
	/* the ring entry is read after the index that published it */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!read16(m, q->avail + AVAIL_RING + 2ull * (q->last_avail % q->size), &head)) {
		*why = "an available ring outside the VM's RAM";
		return VIRTQ_BROKEN;
	}
	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_bytes = c->in_bytes = 0;
	if (!walk(q, m, q->desc, q->size, head, false, c, why))
		return VIRTQ_BROKEN;
	q->last_avail++;
	if (q->event_idx) {
		/* avail_event: notify again as soon as anything new is available (2.7.10) */
		uint16_t ev = q->last_avail;
		if (gmem_write(m, q->used + USED_RING + (uint64_t)USED_ELEM * q->size, &ev, 2)) {
			*why = "a used ring outside the VM's RAM";
			return VIRTQ_BROKEN;
		}
	}
	return VIRTQ_GOT;
}

void virtq_unpop(struct virtq *q, uint16_t to)
{
	q->last_avail = to;
}

int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len)
{
	uint32_t elem[2] = { head, len };
	if (gmem_write(m, q->used + USED_RING + (uint64_t)USED_ELEM * (q->used_idx % q->size), elem,
		       sizeof(elem)))
		return -1;
	/* the element is visible before the index that publishes it (2.7.8) */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	uint16_t idx = (uint16_t)(q->used_idx + 1);
	if (gmem_write(m, q->used + USED_IDX, &idx, 2))
		return -1;
	q->used_idx = idx;
	return 0;
}

bool virtq_wants_interrupt(const struct virtq *q, const struct guest_mem *m, uint16_t used_before)
{
	/* the used index is published before the driver's suppression is read (2.7.10) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->used_idx == used_before)
		return false;
	if (q->event_idx) {
		uint16_t ev;
		if (!read16(m, q->avail + AVAIL_RING + 2ull * q->size, &ev))
			return true;
		/* vring_need_event: ev lies in [used_before, used_idx) modulo 2^16 */
		return (uint16_t)(q->used_idx - ev - 1) < (uint16_t)(q->used_idx - used_before);
	}
	uint16_t flags;
	return !read16(m, q->avail, &flags) || !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies between dst/src and the chain's buffers [first, first + count), off bytes in. */
static size_t chain_copy(const struct guest_mem *m, const struct virtq_chain *c, unsigned first,
			 unsigned count, uint64_t off, void *buf, size_t n, bool to_guest)
{
	size_t done = 0;
	for (unsigned i = first; i < first + count && done < n; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		size_t k = MIN((uint64_t)(n - done), s->len - off);
		int rc = to_guest ? gmem_write(m, s->gpa + off, (const uint8_t *)buf + done, k)
				  : gmem_read(m, s->gpa + off, (uint8_t *)buf + done, k);
		if (rc)
			break; /* the guest gave the RAM back meanwhile: a short copy */
		done += k;
		off = 0;
	}
	return done;
}

size_t virtq_chain_read(const struct guest_mem *m, const struct virtq_chain *c, uint64_t off,
			void *dst, size_t n)
{
	return chain_copy(m, c, 0, c->nr_out, off, dst, n, false);
}

size_t virtq_chain_write(const struct guest_mem *m, const struct virtq_chain *c, uint64_t off,
			 const void *src, size_t n)
{
	return chain_copy(m, c, c->nr_out, c->nr_in, off, (void *)(uintptr_t)src, n, true);
}
