/* Multiboot2 boot information parser and memory-map builder (mb2_parse.h). Field offsets are from
 * the Multiboot2 specification 1.0, section 3.6; fields are read with memcpy-based helpers since
 * nothing promises more than the 8-byte alignment of a tag's start. */
#include "boot/mb2/mb2_parse.h"

#include "lib/fmt.h"
#include "lib/kstring.h"

#define TAG_HDR 8	  /* u32 type, u32 size */
#define MODULE_MIN 17	  /* header, mod_start, mod_end, at least the string's NUL */
#define MMAP_HDR 16	  /* header, entry_size, entry_version */
#define MMAP_ENTRY_MIN 24 /* base_addr, length, type, reserved */
#define FB_COMMON 31	  /* up to and including framebuffer_type (3.6.12) */
#define FB_RGB_END 38	  /* the six direct-RGB colour bytes end here */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int fail(char *err, size_t err_len, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string field from off to the tag's end: it must hold its NUL there. */
static const char *tag_string(const uint8_t *tag, uint32_t size, uint32_t off)
{
	if (off >= size || !memchr(tag + off, 0, size - off))
		return NULL;
	return (const char *)tag + off;
}

static int parse_mmap(const uint8_t *tag, uint32_t size, uint32_t at, struct mb2_info *out,
		      char *err, size_t err_len)
{
	if (size < MMAP_HDR)
		return fail(err, err_len, "memory-map tag at offset %u: size %u is under %u", at,
			    size, MMAP_HDR);
	uint32_t esize = rd32(tag + 8);
	if (esize < MMAP_ENTRY_MIN || esize % 8)
		return fail(err, err_len,
			    "memory-map tag at offset %u: entry size %u; expected a multiple of 8, "
			    "at least %u",
			    at, esize, MMAP_ENTRY_MIN);
	/* a second memory-map tag replaces the first: keep only the last one's entries */
	out->nr_mmap = 0;
	out->nr_mmap_dropped = 0;
	for (uint32_t off = MMAP_HDR; size - off >= esize; off += esize) {
		const uint8_t *e = tag + off;
		if (out->nr_mmap == MB2_MAX_MMAP) {
			out->nr_mmap_dropped++;
			continue;
		}
		out->mmap[out->nr_mmap++] =
			(struct mb2_mmap_entry){ rd64(e), rd64(e + 8), rd32(e + 16) };
	}
	return 0;
}

static int parse_module(const uint8_t *tag, uint32_t size, uint32_t at, struct mb2_info *out,
			char *err, size_t err_len)
{
	if (size < MODULE_MIN)
		return fail(err, err_len, "module tag at offset %u: size %u is under %u", at, size,
			    MODULE_MIN);
	struct mb2_module m = { rd32(tag + 8), rd32(tag + 12), tag_string(tag, size, 16) };
	if (!m.string)
		return fail(err, err_len, "module tag at offset %u: its string has no terminator",
			    at);
	if (m.end < m.start)
		return fail(err, err_len, "module '%s': end %#x is below its start %#x", m.string,
			    m.end, m.start);
	if (out->nr_modules == MB2_MAX_MODULES)
		return fail(err, err_len, "more than %d modules", MB2_MAX_MODULES);
	out->modules[out->nr_modules++] = m;
	return 0;
}

static void parse_fb(const uint8_t *tag, uint32_t size, struct mb2_info *out)
{
	struct mb2_framebuffer *fb = &out->fb;

	if (size < FB_COMMON)
		return; /* keel can do without a screen: ignore a short tag */
	fb->addr = rd64(tag + 8);
	fb->pitch = rd32(tag + 16);
	fb->width = rd32(tag + 20);
	fb->height = rd32(tag + 24);
	fb->bpp = tag[28];
	fb->type = tag[29];
	if (fb->type == 1) {
		if (size < FB_RGB_END)
			return;
		fb->red_pos = tag[32];
		fb->red_size = tag[33];
		fb->green_pos = tag[34];
		fb->green_size = tag[35];
		fb->blue_pos = tag[36];
		fb->blue_size = tag[37];
	}
	out->has_fb = true;
}

static void keep_rsdp(const uint8_t *tag, uint32_t size, struct mb2_info *out)
{
	size_t n = MIN((size_t)(size - TAG_HDR), sizeof(out->rsdp));
	memset(out->rsdp, 0, sizeof(out->rsdp));
	memcpy(out->rsdp, tag + TAG_HDR, n);
	out->rsdp_len = n;
}

int mb2_parse(const void *info, size_t avail, struct mb2_info *out, char *err, size_t err_len)
{
	const uint8_t *p = info;
	bool have_new_rsdp = false;

	memset(out, 0, sizeof(*out));
	if (avail < 16)
		return fail(err, err_len, "%zu bytes is too short to hold a header and an end tag",
			    avail);
	uint32_t total = rd32(p);
	if (total < 16 || total > avail || total > MB2_INFO_MAX || total % 8)
		return fail(err, err_len, "total size %u; expected a multiple of 8 from 16 to %zu",
			    total, MIN(avail, (size_t)MB2_INFO_MAX));
	out->total_size = total;

	for (uint32_t off = 8;;) {
		if (total - off < TAG_HDR)
			return fail(err, err_len, "no end tag within the total size %u", total);
		const uint8_t *tag = p + off;
		uint32_t type = rd32(tag), size = rd32(tag + 4);
		if (size < TAG_HDR || size > total - off)
			return fail(err, err_len, "tag %u at offset %u: size %u; expected 8 to %u",
				    type, off, size, total - off);
		switch (type) {
		case MB2_TAG_END:
			return 0;
		case MB2_TAG_CMDLINE:
			out->cmdline = tag_string(tag, size, TAG_HDR);
			if (!out->cmdline)
				return fail(err, err_len, "command-line tag has no terminator");
			break;
		case MB2_TAG_LOADER_NAME:
			out->loader_name = tag_string(tag, size, TAG_HDR);
			break;
		case MB2_TAG_MODULE:
			if (parse_module(tag, size, off, out, err, err_len))
				return -1;
			break;
		case MB2_TAG_MMAP:
			if (parse_mmap(tag, size, off, out, err, err_len))
				return -1;
			break;
		case MB2_TAG_FRAMEBUFFER:
			parse_fb(tag, size, out);
			break;
		case MB2_TAG_ACPI_OLD: /* a copy of the ACPI 1.0 RSDP: only when no 2.0 copy came */
			if (!have_new_rsdp)
				keep_rsdp(tag, size, out);
			break;
		case MB2_TAG_ACPI_NEW:
			keep_rsdp(tag, size, out);
			have_new_rsdp = true;
			break;
		default:
			out->nr_unknown++;
			break;
		}
		/* the next tag starts at the next 8-byte boundary (total % 8 == 0 keeps it in) */
		off += ALIGN_UP(size, 8u);
		if (off >= total)
			return fail(err, err_len, "no end tag within the total size %u", total);
	}
}

const struct mb2_module *mb2_find_module(const struct mb2_info *mi, const char *name)
{
	for (unsigned i = 0; i < mi->nr_modules; i++)
		if (!strcmp(mi->modules[i].string, name))
			return &mi->modules[i];
	return NULL;
}

enum mem_type mb2_mem_type(uint32_t type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE:
		return MEM_FREE;
	case MB2_MEM_ACPI_RECLAIMABLE:
		return MEM_ACPI;
	default: /* reserved, ACPI NVS, bad RAM and types keel does not know: never touch */
		return MEM_RESERVED;
	}
}

/* How strongly a type claims memory: where entries overlap, the strongest wins. */
static int strength(enum mem_type t)
{
	switch (t) {
	case MEM_FREE:
		return 1;
	case MEM_FREE_LATER:
		return 2;
	case MEM_ACPI:
		return 3;
	case MEM_KEEL:
		return 5;
	default:
		return 4;
	}
}

#define MAX_INPUT (MB2_MAX_MMAP + BOOT_MAX_MODULES + MB2_MAX_MODULES + 8)

struct span {
	uint64_t base, end; /* end exclusive; end > base */
	enum mem_type type;
};

/* Turns [base, base + len) into a span, clamping a range that runs past the address space. */
static bool make_span(uint64_t base, uint64_t len, enum mem_type type, struct span *s)
{
	if (len == 0)
		return false;
	s->base = base;
	s->end = len > UINT64_MAX - base ? UINT64_MAX : base + len;
	s->type = type;
	return s->end > s->base;
}

static int emit(struct mem_range *out, unsigned cap, unsigned *n, unsigned *nr_dropped,
		uint64_t base, uint64_t end, enum mem_type type)
{
	if (*n && out[*n - 1].type == type && out[*n - 1].base + out[*n - 1].size == base) {
		out[*n - 1].size += end - base;
		return 0;
	}
	if (*n == cap) {
		if (type != MEM_FREE && type != MEM_FREE_LATER)
			return -1;
		(*nr_dropped)++;
		return 0;
	}
	out[(*n)++] = (struct mem_range){ base, end - base, type };
	return 0;
}

int mb2_build_memmap(const struct mb2_info *mi, const struct mem_range *keep, unsigned nr_keep,
		     uint64_t boot_map_limit, struct mem_range *out, unsigned cap,
		     unsigned *nr_dropped)
{
	static struct span in[MAX_INPUT];
	static uint64_t cut[2 * MAX_INPUT + 1];
	unsigned nr_in = 0, nr_cut = 0, n = 0;

	*nr_dropped = 0;
	for (unsigned i = 0; i < mi->nr_mmap && nr_in < MAX_INPUT; i++)
		if (make_span(mi->mmap[i].base, mi->mmap[i].len, mb2_mem_type(mi->mmap[i].type),
			      &in[nr_in]))
			nr_in++;
	for (unsigned i = 0; i < nr_keep; i++) {
		if (nr_in == MAX_INPUT)
			return -1; /* a range to keep that cannot be kept: never drop it */
		uint64_t base = ALIGN_DOWN(keep[i].base, 4096ull);
		uint64_t end = keep[i].size > UINT64_MAX - keep[i].base
				       ? UINT64_MAX
				       : keep[i].base + keep[i].size;
		end = end > UINT64_MAX - 4095 ? UINT64_MAX : ALIGN_UP(end, 4096ull);
		if (keep[i].size && make_span(base, end - base, MEM_KEEL, &in[nr_in]))
			nr_in++;
	}

	/* every boundary, plus the boot mapping's limit where free RAM changes its type */
	for (unsigned i = 0; i < nr_in; i++) {
		cut[nr_cut++] = in[i].base;
		cut[nr_cut++] = in[i].end;
	}
	cut[nr_cut++] = boot_map_limit;
	/* insertion sort, duplicates dropped: a few hundred points at most */
	unsigned m = 0;
	for (unsigned i = 0; i < nr_cut; i++) {
		uint64_t v = cut[i];
		unsigned j = m;
		bool dup = false;
		for (unsigned k = 0; k < m && !dup; k++)
			dup = cut[k] == v;
		if (dup)
			continue;
		while (j > 0 && cut[j - 1] > v) {
			cut[j] = cut[j - 1];
			j--;
		}
		cut[j] = v;
		m++;
	}

	for (unsigned i = 0; i + 1 < m; i++) {
		uint64_t base = cut[i], end = cut[i + 1];
		int best = 0;
		enum mem_type type = MEM_RESERVED;
		for (unsigned k = 0; k < nr_in; k++)
			if (in[k].base <= base && in[k].end >= end && strength(in[k].type) > best) {
				best = strength(in[k].type);
				type = in[k].type;
			}
		if (!best)
			continue; /* a hole no entry describes */
		if (type == MEM_FREE && base >= boot_map_limit)
			type = MEM_FREE_LATER;
		if (emit(out, cap, &n, nr_dropped, base, end, type))
			return -1;
	}
	return (int)n;
}

bool mb2_framebuffer(const struct mb2_info *mi, uint64_t limit, struct boot_framebuffer *fb)
{
	const struct mb2_framebuffer *f = &mi->fb;
	bool xrgb, xbgr;

	if (!mi->has_fb || f->type != 1 || f->bpp != 32 || f->addr == 0 || f->width == 0 ||
	    f->height == 0 || f->pitch % 4 || f->pitch / 4 < f->width)
		return false;
	if (f->red_size != 8 || f->green_size != 8 || f->blue_size != 8 || f->green_pos != 8)
		return false;
	xrgb = f->red_pos == 16 && f->blue_pos == 0; /* bytes B,G,R,x in memory */
	xbgr = f->red_pos == 0 && f->blue_pos == 16; /* bytes R,G,B,x */
	if (!xrgb && !xbgr)
		return false;
	if (!range_within(f->addr, (uint64_t)f->pitch * f->height, limit))
		return false;
	*fb = (struct boot_framebuffer){ .base = f->addr,
					 .width = f->width,
					 .height = f->height,
					 .pitch_pixels = f->pitch / 4,
					 .bgr = xrgb };
	return true;
}
