/* The Multiboot2 boot information as GRUB (or anything else) may hand it over: any bytes must
 * parse or be refused cleanly, with every pointer inside the input; a parsed one then goes through
 * the memory-map builder, whose output must be sorted and non-overlapping with no free byte inside
 * a range keel keeps (its image, the information, every module). The first bytes also go to the
 * CMOS RTC decoder. Seeds: MB2_WRITE_SEEDS=DIR build/unit/test_mb2. */
#include "boot/mb2/mb2_parse.h"
#include "drivers/cmos_rtc.h"
#include "lib/kstring.h"

#include <stdlib.h>

#define LIMIT (4ull << 30)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const void *p, const uint8_t *buf, size_t size)
{
	return (const uint8_t *)p >= buf && (const uint8_t *)p < buf + size;
}

static void check_memmap(const struct mb2_info *mi)
{
	static struct mem_range keep[MB2_MAX_MODULES + 2], out[BOOT_MAX_MEMMAP];
	unsigned nr_keep = 0, dropped;

	keep[nr_keep++] = (struct mem_range){ 0x200000, 0x59000, MEM_KEEL };
	keep[nr_keep++] = (struct mem_range){ 0x189010, mi->total_size, MEM_KEEL };
	for (unsigned i = 0; i < mi->nr_modules; i++)
		keep[nr_keep++] =
			(struct mem_range){ mi->modules[i].start,
					    mi->modules[i].end - mi->modules[i].start, MEM_KEEL };
	int n = mb2_build_memmap(mi, keep, nr_keep, LIMIT, out, BOOT_MAX_MEMMAP, &dropped);
	if (n < 0 || n > BOOT_MAX_MEMMAP)
		abort(); /* at most 256 entries and 66 keeps always fit 512 ranges */
	for (int i = 0; i < n; i++) {
		const struct mem_range *r = &out[i];
		if (r->size == 0 || r->base + r->size < r->base)
			abort();
		if (i && out[i - 1].base + out[i - 1].size > r->base)
			abort();
		if (r->type == MEM_FREE && r->base + r->size > LIMIT)
			abort();
		if (r->type != MEM_FREE && r->type != MEM_FREE_LATER)
			continue;
		for (unsigned k = 0; k < nr_keep; k++)
			if (keep[k].size && r->base < keep[k].base + keep[k].size &&
			    keep[k].base < r->base + r->size)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mb2_info mi;
	char err[160];
	/* GRUB's structure is 8-byte aligned; a fresh copy also lets ASan see every overread */
	uint8_t *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	if (mb2_parse(buf, size, &mi, err, sizeof(err)) == 0) {
		if (mi.total_size > size || mi.nr_modules > MB2_MAX_MODULES ||
		    mi.nr_mmap > MB2_MAX_MMAP || mi.rsdp_len > MB2_RSDP_MAX)
			abort();
		if ((mi.cmdline && !inside(mi.cmdline, buf, size)) ||
		    (mi.loader_name && !inside(mi.loader_name, buf, size)))
			abort();
		for (unsigned i = 0; i < mi.nr_modules; i++) {
			const struct mb2_module *m = &mi.modules[i];
			if (!inside(m->string, buf, size) || m->end < m->start ||
			    strlen(m->string) >= size)
				abort();
			if (mb2_find_module(&mi, m->string) == NULL)
				abort();
		}
		check_memmap(&mi);
		struct boot_framebuffer fb;
		if (mb2_framebuffer(&mi, LIMIT, &fb) &&
		    (fb.base + (uint64_t)fb.pitch_pixels * 4 * fb.height > LIMIT ||
		     fb.pitch_pixels < fb.width))
			abort();
	} else if (!memchr(err, 0, sizeof(err)) || !err[0]) {
		abort(); /* a refusal always says why */
	}
	if (size >= 8) {
		struct cmos_rtc_regs r = { data[0], data[1], data[2], data[3],
					   data[4], data[5], data[6], data[7] };
		struct wall_time t;
		if (cmos_rtc_decode(&r, &t) == 0 &&
		    (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 ||
		     t.minute > 59 || t.second > 59 || t.year < 1900 || t.year > 9999))
			abort();
	}
	free(buf);
	return 0;
}
