#include "core/gmem.h"

#include "lib/kstring.h"

const struct gmem_extent *gmem_find(const struct guest_mem *m, uint64_t gpa)
{
	unsigned lo = 0, hi = m->nr;

	/* the last extent starting at or below gpa */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (m->ext[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct gmem_extent *e = &m->ext[lo - 1];
	return gpa - e->gpa < e->size ? e : NULL;
}

/* The balloon's entry for the page holding gpa: GMEM_FRAME_OWN when it has none. */
static uint64_t frame_of(const struct guest_mem *m, uint64_t gpa)
{
	uint64_t pfn = gpa >> 12;
	return m->frame && pfn < m->nr_frames ? m->frame[pfn] : GMEM_FRAME_OWN;
}

/* Where keel reaches gpa, inside extent e: the page's own frame when the balloon moved it. */
static uint8_t *host_of(const struct gmem_extent *e, uint64_t gpa, uint64_t frame)
{
	if (frame == GMEM_FRAME_OWN)
		return e->hva + (gpa - e->gpa);
	return (uint8_t *)(uintptr_t)frame + (gpa & 4095);
}

/* True when no page of [gpa, gpa + len) (inside RAM) is a hole; with `own`, none is moved either. */
static bool pages_are(const struct guest_mem *m, uint64_t gpa, uint64_t len, bool own)
{
	if (!m->frame)
		return true;
	for (uint64_t p = gpa >> 12; p <= (gpa + len - 1) >> 12 && p < m->nr_frames; p++)
		if (m->frame[p] == GMEM_FRAME_HOLE || (own && m->frame[p] != GMEM_FRAME_OWN))
			return false;
	return true;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct gmem_extent *e = gmem_find(m, gpa);

	if (!e || !range_within(gpa - e->gpa, len, e->size))
		return NULL;
	uint64_t f = frame_of(m, gpa);
	if (len && (gpa & 4095) + len <= 4096) /* inside one page: wherever that page is */
		return f == GMEM_FRAME_HOLE ? NULL : host_of(e, gpa, f);
	/* across pages: only when every one is still in the extent, host contiguous */
	return !len || pages_are(m, gpa, len, true) ? e->hva + (gpa - e->gpa) : NULL;
}

static bool extents_cover(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct gmem_extent *e = gmem_find(m, gpa), *last = m->ext + m->nr;

	if (!e || len == 0)
		return false;
	/* extents are sorted: the range is covered when each one ends where the next begins (a
	 * range past 2^64 would need one after the extent that ends there) */
	while (len > e->size - (gpa - e->gpa)) {
		len -= e->size - (gpa - e->gpa);
		gpa = e->gpa + e->size;
		if (++e == last || e->gpa != gpa)
			return false;
	}
	return true;
}

bool gmem_covers(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return extents_cover(m, gpa, len) && pages_are(m, gpa, len, false);
}

/* Calls fn on each host-contiguous piece of [gpa, gpa + len), which gmem_covers has accepted. */
static void for_each_piece(const struct guest_mem *m, uint64_t gpa, uint64_t len,
			   void (*fn)(uint8_t *host, uint64_t done, uint64_t n, void *arg),
			   void *arg)
{
	const struct gmem_extent *e = gmem_find(m, gpa);
	uint64_t done = 0;

	while (done < len) {
		uint64_t at = gpa + done, off = at - e->gpa, n = MIN(len - done, e->size - off);
		uint64_t f = frame_of(m, at);
		if (m->frame) /* page by page: the balloon may have moved any of them */
			n = MIN(n, 4096 - (at & 4095));
		fn(host_of(e, at, f), done, n, arg);
		done += n;
		if (off + n == e->size)
			e++;
	}
}

static void read_piece(uint8_t *host, uint64_t done, uint64_t n, void *dst)
{
	memcpy((uint8_t *)dst + done, host, n);
}

static void write_piece(uint8_t *host, uint64_t done, uint64_t n, void *src)
{
	memcpy(host, (const uint8_t *)src + done, n);
}

static void fill_piece(uint8_t *host, uint64_t done, uint64_t n, void *byte)
{
	(void)done;
	memset(host, *(const uint8_t *)byte, n);
}

/* An empty range is accepted where the old single-region check accepted it: at a RAM byte or just
 * past the end of RAM (a segment whose file part fills it, then a fill of 0 bytes). */
static bool empty_ok(const struct guest_mem *m, uint64_t gpa)
{
	return gmem_is_ram(m, gpa) || (gpa && gmem_is_ram(m, gpa - 1));
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	if (len == 0)
		return empty_ok(m, gpa) ? 0 : -1;
	if (!gmem_covers(m, gpa, len))
		return -1;
	for_each_piece(m, gpa, len, read_piece, dst);
	return 0;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	if (len == 0)
		return empty_ok(m, gpa) ? 0 : -1;
	if (!gmem_covers(m, gpa, len))
		return -1;
	for_each_piece(m, gpa, len, write_piece, (void *)(uintptr_t)src);
	return 0;
}

int gmem_fill(const struct guest_mem *m, uint64_t gpa, uint8_t byte, uint64_t len)
{
	if (len == 0)
		return empty_ok(m, gpa) ? 0 : -1;
	if (!gmem_covers(m, gpa, len))
		return -1;
	for_each_piece(m, gpa, len, fill_piece, &byte);
	return 0;
}

bool gmem_is_ram(const struct guest_mem *m, uint64_t gpa)
{
	return gmem_find(m, gpa) != NULL && frame_of(m, gpa) != GMEM_FRAME_HOLE;
}
