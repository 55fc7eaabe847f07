/* The driver's side of a split virtqueue (virtio 1.2, 2.7) for the virtio tests and the fuzzer:
 * guest RAM as several extents, each its own malloc (ASan sees a copy that runs past one), and
 * helpers that write descriptors and the available ring there and read the used ring back, as
 * Linux's virtio_ring does. Header-only. */
#ifndef KEEL_TESTS_SUPPORT_VQ_DRIVER_H
#define KEEL_TESTS_SUPPORT_VQ_DRIVER_H

#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"

#define VQ_RAM_MAX_EXTENTS 8

struct vq_ram {
	struct gmem_extent ext[VQ_RAM_MAX_EXTENTS];
	struct guest_mem mem;
};

struct vq_range {
	uint64_t gpa, size;
};

/* Extents at the given guest ranges (sorted, not overlapping), zeroed. 0, or -1 when malloc
 * fails or there are too many. */
static inline int vq_ram_init(struct vq_ram *r, const struct vq_range *layout, unsigned n)
{
	memset(r, 0, sizeof(*r));
	if (n > VQ_RAM_MAX_EXTENTS)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		r->ext[i] = (struct gmem_extent){ layout[i].gpa, layout[i].size,
						  calloc(1, layout[i].size), 0 };
		if (!r->ext[i].hva)
			return -1;
	}
	r->mem = (struct guest_mem){ .ext = r->ext, .nr = n };
	return 0;
}

static inline void vq_ram_free(struct vq_ram *r)
{
	for (unsigned i = 0; i < r->mem.nr; i++)
		free(r->ext[i].hva);
	memset(r, 0, sizeof(*r));
}

/* Little-endian stores and loads in guest RAM; a test's own addresses are RAM, so a failure is a
 * broken test: abort. */
static inline void vq_w(const struct guest_mem *m, uint64_t gpa, uint64_t v, unsigned size)
{
	if (gmem_write(m, gpa, &v, size))
		abort();
}

static inline uint64_t vq_r(const struct guest_mem *m, uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	if (gmem_read(m, gpa, &v, size))
		abort();
	return v;
}

/* One queue as the driver set it up. */
struct vq_drv {
	const struct guest_mem *m;
	uint64_t desc, avail, used;
	uint16_t size;
	uint16_t avail_idx; /* the driver's next available ring index */
};

/* Descriptor i (2.7.5): le64 addr, le32 len, le16 flags, le16 next. */
static inline void vq_desc(const struct vq_drv *d, uint64_t table, unsigned i, uint64_t addr,
			   uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t at = table + 16ull * i;
	vq_w(d->m, at, addr, 8);
	vq_w(d->m, at + 8, len, 4);
	vq_w(d->m, at + 12, flags, 2);
	vq_w(d->m, at + 14, next, 2);
}

/* Makes head available and publishes the new index (2.7.13). */
static inline void vq_publish(struct vq_drv *d, uint16_t head)
{
	vq_w(d->m, d->avail + 4 + 2ull * (d->avail_idx % d->size), head, 2);
	d->avail_idx++;
	vq_w(d->m, d->avail + 2, d->avail_idx, 2);
}

static inline void vq_set_avail_idx(struct vq_drv *d, uint16_t idx)
{
	d->avail_idx = idx;
	vq_w(d->m, d->avail + 2, idx, 2);
}

static inline uint16_t vq_avail_flags(const struct vq_drv *d)
{
	return (uint16_t)vq_r(d->m, d->avail, 2);
}

static inline void vq_set_avail_flags(const struct vq_drv *d, uint16_t flags)
{
	vq_w(d->m, d->avail, flags, 2);
}

/* used_event: the last entry of the available ring (2.7.10) */
static inline void vq_set_used_event(const struct vq_drv *d, uint16_t ev)
{
	vq_w(d->m, d->avail + 4 + 2ull * d->size, ev, 2);
}

/* avail_event: the last entry of the used ring */
static inline uint16_t vq_avail_event(const struct vq_drv *d)
{
	return (uint16_t)vq_r(d->m, d->used + 4 + 8ull * d->size, 2);
}

static inline uint16_t vq_used_idx(const struct vq_drv *d)
{
	return (uint16_t)vq_r(d->m, d->used + 2, 2);
}

/* The used element at ring index i (taken modulo the size): id and len. */
static inline void vq_used_elem(const struct vq_drv *d, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint64_t at = d->used + 4 + 8ull * (i % d->size);
	*id = (uint32_t)vq_r(d->m, at, 4);
	*len = (uint32_t)vq_r(d->m, at + 4, 4);
}

/* vring_need_event of Linux's include/uapi/linux/virtio_ring.h, as 2.7.10 describes it: an
 * interrupt is wanted when the used index moved past event, from old to new. */
static inline bool vq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif
