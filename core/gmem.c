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

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct gmem_extent *e = gmem_find(m, gpa);

	if (!e || !range_within(gpa - e->gpa, len, e->size))
		return NULL;
	return e->hva + (gpa - e->gpa);
}

bool gmem_covers(const struct guest_mem *m, uint64_t gpa, uint64_t len)
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

/* Calls fn on each host-contiguous piece of [gpa, gpa + len), which gmem_covers has accepted. */
static void for_each_piece(const struct guest_mem *m, uint64_t gpa, uint64_t len,
			   void (*fn)(uint8_t *host, uint64_t done, uint64_t n, void *arg),
			   void *arg)
{
	const struct gmem_extent *e = gmem_find(m, gpa);
	uint64_t done = 0;

	while (done < len) {
		uint64_t off = gpa + done - e->gpa, n = MIN(len - done, e->size - off);
		fn(e->hva + off, done, n, arg);
		done += n;
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
	return gmem_find(m, gpa) != NULL;
}
