/* The Multiboot2 boot-information parser, memory-map builder and framebuffer check
 * (boot/mb2/mb2_parse.c) on GRUB-like structures and on malformed ones, and the CMOS RTC decoder
 * (drivers/cmos_rtc.c). With MB2_WRITE_SEEDS=DIR set, every structure built here is written
 * there as a seed for tests/fuzz/fuzz_mb2.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "boot/mb2/mb2_parse.h"
#include "drivers/cmos_rtc.h"
#include "lib/kstring.h"

static uint8_t buf[16384] __attribute__((aligned(8)));
static size_t len;
static char err[160];
static struct mb2_info mi;
static unsigned nr_seeds;

static void put32(size_t off, uint32_t v)
{
	memcpy(buf + off, &v, 4);
}

static void put64(size_t off, uint64_t v)
{
	memcpy(buf + off, &v, 8);
}

static void begin(void)
{
	memset(buf, 0, sizeof(buf));
	len = 8;
}

/* Appends a tag header of size bytes at the next 8-byte boundary; returns its offset. */
static size_t tag(uint32_t type, uint32_t size)
{
	len = ALIGN_UP(len, (size_t)8);
	size_t off = len;
	put32(off, type);
	put32(off + 4, size);
	len += size;
	return off;
}

static void tag_string(uint32_t type, const char *s)
{
	size_t off = tag(type, (uint32_t)(8 + strlen(s) + 1));
	memcpy(buf + off + 8, s, strlen(s) + 1);
}

static void tag_module(uint32_t start, uint32_t end, const char *s)
{
	size_t off = tag(MB2_TAG_MODULE, (uint32_t)(16 + strlen(s) + 1));
	put32(off + 8, start);
	put32(off + 12, end);
	memcpy(buf + off + 16, s, strlen(s) + 1);
}

static void tag_mmap(const struct mb2_mmap_entry *e, unsigned n)
{
	size_t off = tag(MB2_TAG_MMAP, 16 + 24 * n);
	put32(off + 8, 24);
	put32(off + 12, 0);
	for (unsigned i = 0; i < n; i++) {
		put64(off + 16 + 24 * i, e[i].base);
		put64(off + 24 + 24 * i, e[i].len);
		put32(off + 32 + 24 * i, e[i].type);
	}
}

static void tag_fb(uint64_t addr, uint32_t w, uint32_t h, uint8_t bpp, uint8_t red, uint8_t blue)
{
	size_t off = tag(MB2_TAG_FRAMEBUFFER, 38);
	put64(off + 8, addr);
	put32(off + 16, w * (bpp / 8));
	put32(off + 20, w);
	put32(off + 24, h);
	buf[off + 28] = bpp;
	buf[off + 29] = 1;
	const uint8_t colours[6] = { red, 8, 8, 8, blue, 8 };
	memcpy(buf + off + 32, colours, 6);
}

static void tag_rsdp(uint32_t type, uint8_t revision, size_t n)
{
	size_t off = tag(type, (uint32_t)(8 + n));
	memcpy(buf + off + 8, "RSD PTR ", 8);
	buf[off + 8 + 15] = revision;
}

static void end(void)
{
	tag(MB2_TAG_END, 8);
	put32(0, (uint32_t)len);
}

static void write_seed(void)
{
	const char *dir = getenv("MB2_WRITE_SEEDS");
	if (!dir)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/seed-%02u", dir, nr_seeds++);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
}

static int parse(void)
{
	write_seed();
	return mb2_parse(buf, len, &mi, err, sizeof(err));
}

static const struct mb2_mmap_entry qemu_map[] = {
	{ 0, 0x9fc00, 1 },	    { 0x9fc00, 0x400, 2 },
	{ 0xf0000, 0x10000, 2 },    { 0x100000, 0x3fee0000, 1 },
	{ 0x3ffe0000, 0x20000, 2 }, { 0xfeffc000, 0x4000, 2 },
	{ 0xfffc0000, 0x40000, 2 }, { 0xfd00000000, 0x300000000, 2 },
};

static void grub_like(void)
{
	begin();
	tag_string(MB2_TAG_CMDLINE, "");
	tag_string(MB2_TAG_LOADER_NAME, "GRUB 2.06-13+deb12u2");
	tag_module(0x189000, 0x189040, "keel.cfg");
	tag_module(0x259000, 0x42f0000, "vmlinux");
	tag_module(0x4300000, 0x4319000, "initrd.gz");
	tag(21, 12); /* load base address: not used */
	tag_mmap(qemu_map, ARRAY_SIZE(qemu_map));
	tag_fb(0xfd000000, 1280, 800, 32, 16, 0);
	tag_rsdp(MB2_TAG_ACPI_NEW, 2, 36);
	tag_rsdp(MB2_TAG_ACPI_OLD, 0, 20); /* after the new one: must not replace it */
	end();
}

static void parses_grub_like(void **state)
{
	(void)state;
	grub_like();
	assert_int_equal(parse(), 0);
	assert_int_equal(mi.total_size, len);
	assert_string_equal(mi.cmdline, "");
	assert_string_equal(mi.loader_name, "GRUB 2.06-13+deb12u2");
	assert_int_equal(mi.nr_modules, 3);
	assert_string_equal(mi.modules[1].string, "vmlinux");
	assert_int_equal(mi.modules[1].start, 0x259000);
	assert_int_equal(mi.modules[1].end, 0x42f0000);
	assert_ptr_equal(mb2_find_module(&mi, "initrd.gz"), &mi.modules[2]);
	assert_null(mb2_find_module(&mi, "initrd"));
	assert_null(mb2_find_module(&mi, "vmlinux "));
	assert_int_equal(mi.nr_mmap, ARRAY_SIZE(qemu_map));
	assert_int_equal(mi.mmap[7].base, 0xfd00000000ull);
	assert_int_equal(mi.mmap[3].type, 1);
	assert_true(mi.has_fb);
	assert_int_equal(mi.fb.width, 1280);
	assert_int_equal(mi.fb.red_pos, 16);
	assert_int_equal(mi.rsdp_len, 36);
	assert_int_equal(mi.rsdp[15], 2);
	assert_int_equal(mi.nr_unknown, 1);
	for (unsigned i = 0; i < mi.nr_modules; i++) { /* pointers stay inside the structure */
		assert_true((const uint8_t *)mi.modules[i].string > buf);
		assert_true((const uint8_t *)mi.modules[i].string < buf + len);
	}
}

static void old_rsdp_and_leniency(void **state)
{
	(void)state;
	begin();
	tag_rsdp(MB2_TAG_ACPI_OLD, 0, 20);
	size_t fb = tag(MB2_TAG_FRAMEBUFFER, 24); /* too short to describe a screen: ignored */
	(void)fb;
	tag_mmap(qemu_map, 2);
	tag_mmap(qemu_map + 3, 1); /* a second map replaces the first */
	/* a map whose last entry is cut short: the whole entries count */
	size_t off = tag(MB2_TAG_MMAP, 16 + 24 + 12);
	put32(off + 8, 24);
	put64(off + 16, 0x100000);
	put64(off + 24, 0x1000);
	put32(off + 32, 1);
	end();
	assert_int_equal(parse(), 0);
	assert_int_equal(mi.rsdp_len, 20);
	assert_false(mi.has_fb);
	assert_int_equal(mi.nr_mmap, 1);
	assert_int_equal(mi.mmap[0].len, 0x1000);
	assert_null(mi.cmdline);
}

/* Each case corrupts a valid structure one way; every one must be refused. */
static void rejects_malformed(void **state)
{
	(void)state;
	uint8_t keep[sizeof(buf)];
	size_t keep_len;

	grub_like();
	memcpy(keep, buf, sizeof(buf));
	keep_len = len;
#define RESET() (memcpy(buf, keep, sizeof(buf)), len = keep_len)
#define REFUSED(what)                                                                              \
	do {                                                                                       \
		assert_int_equal(parse(), -1);                                                     \
		assert_non_null(strstr(err, what));                                                \
		RESET();                                                                           \
	} while (0)

	len = 12;
	REFUSED("too short");
	put32(0, (uint32_t)keep_len + 8); /* past what is readable */
	REFUSED("total size");
	put32(0, (uint32_t)keep_len - 4); /* not a multiple of 8 */
	REFUSED("total size");
	put32(0, 8);
	REFUSED("total size");
	put32(12, 4); /* first tag's size under 8 */
	REFUSED("size 4");
	put32(12, (uint32_t)keep_len); /* first tag runs past the end */
	REFUSED("tag 1 at offset 8");
	put32(0, (uint32_t)keep_len - 8); /* the end tag cut off */
	len = keep_len - 8;
	REFUSED("no end tag");
	buf[8 + 8] = 'x'; /* the empty command line loses its terminator */
	put32(12, 9);
	REFUSED("command-line");

	/* module tags: find the "vmlinux" one */
	size_t m = 0;
	for (size_t off = 8; off < keep_len; off = ALIGN_UP(off + (size_t)buf[off + 4], (size_t)8))
		if (buf[off] == MB2_TAG_MODULE && !memcmp(buf + off + 16, "vmlinux", 7))
			m = off;
	assert_true(m != 0);
	put32(m + 4, 16); /* no room for a string */
	REFUSED("under 17");
	memset(buf + m + 16, 'a', 8); /* string without its NUL */
	REFUSED("no terminator");
	put32(m + 12, 0x1000); /* end below start */
	REFUSED("below its start");

	/* memory-map entry sizes */
	size_t mm = 0;
	for (size_t off = 8; off < keep_len;
	     off = ALIGN_UP(off + (size_t)buf[off + 4] + ((size_t)buf[off + 5] << 8), (size_t)8))
		if (buf[off] == MB2_TAG_MMAP)
			mm = off;
	assert_true(mm != 0);
	put32(mm + 8, 20);
	REFUSED("entry size 20");
	put32(mm + 8, 28);
	REFUSED("entry size 28");
	put32(mm + 4, 12);
	REFUSED("under 16");

	/* more modules than keel keeps */
	begin();
	for (unsigned i = 0; i <= MB2_MAX_MODULES; i++)
		tag_module(0x100000 + i * 0x1000, 0x100000 + i * 0x1000 + 10, "m");
	end();
	assert_int_equal(parse(), -1);
	assert_non_null(strstr(err, "more than"));
	RESET();
#undef REFUSED
#undef RESET
}

static void mem_types(void **state)
{
	(void)state;
	assert_int_equal(mb2_mem_type(1), MEM_FREE);
	assert_int_equal(mb2_mem_type(2), MEM_RESERVED);
	assert_int_equal(mb2_mem_type(3), MEM_ACPI);
	assert_int_equal(mb2_mem_type(4), MEM_RESERVED);
	assert_int_equal(mb2_mem_type(5), MEM_RESERVED);
	assert_int_equal(mb2_mem_type(0x1234), MEM_RESERVED);
}

static void check_sorted(const struct mem_range *r, int n)
{
	for (int i = 0; i < n; i++) {
		assert_true(r[i].size > 0);
		if (i)
			assert_true(r[i - 1].base + r[i - 1].size <= r[i].base);
	}
}

static void memmap_carves_keel_and_modules(void **state)
{
	(void)state;
	struct mem_range out[64];
	unsigned dropped;
	const struct mb2_mmap_entry map[] = {
		{ 0x100000, 0x3ff00000, 1 },	/* 1 MiB - 1 GiB free */
		{ 0, 0x9fc00, 1 },		/* unsorted input */
		{ 0x3ff00000, 0x100000, 2 },	/* overlaps the free range's end: reserved wins */
		{ 0x3fe00000, 0x100000, 3 },	/* ACPI inside the free range */
		{ 0x100000000, 0x80000000, 1 }, /* above the boot mapping: free later */
		{ 0xffff000, 0, 1 },		/* empty: dropped */
	};
	const struct mem_range keep[] = {
		{ 0x200000, 0x59000, MEM_KEEL },   /* keel's image */
		{ 0x189010, 0x100, MEM_KEEL },	   /* the information, not page aligned */
		{ 0x259000, 0x4000000, MEM_KEEL }, /* a module right after keel */
		{ 0x5000000, 0, MEM_KEEL },	   /* an empty module: nothing to keep */
	};
	const struct mem_range want[] = {
		{ 0, 0x9fc00, MEM_FREE }, /* a partial page stays: phys_add trims it */
		{ 0x100000, 0x89000, MEM_FREE },
		{ 0x189000, 0x1000, MEM_KEEL },
		{ 0x18a000, 0x76000, MEM_FREE },
		{ 0x200000, 0x4059000, MEM_KEEL },
		{ 0x4259000, 0x3fe00000 - 0x4259000, MEM_FREE },
		{ 0x3fe00000, 0x100000, MEM_ACPI },
		{ 0x3ff00000, 0x100000, MEM_RESERVED },
		{ 0x100000000, 0x80000000, MEM_FREE_LATER },
	};

	begin();
	tag_mmap(map, ARRAY_SIZE(map));
	end();
	assert_int_equal(parse(), 0);
	int n = mb2_build_memmap(&mi, keep, ARRAY_SIZE(keep), 4ull << 30, out, ARRAY_SIZE(out),
				 &dropped);
	assert_int_equal(n, ARRAY_SIZE(want));
	assert_int_equal(dropped, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(out[i].base, want[i].base);
		assert_int_equal(out[i].size, want[i].size);
		assert_int_equal(out[i].type, want[i].type);
	}
	check_sorted(out, n);
}

static void memmap_limits(void **state)
{
	(void)state;
	struct mem_range out[4];
	unsigned dropped;
	const struct mb2_mmap_entry map[] = {
		{ 0x100000, 0x100000, 1 },
		{ 0x300000, 0x100000, 2 },
		{ 0x500000, 0x100000, 1 },
		{ 0x700000, 0x100000, 1 },
		{ 0x900000, 0x100000, 1 },
		{ 0xfffffffffffff000ull, 0x10000, 2 }, /* runs past the address space: clamped */
		{ 0x3ff00000, 0x200000, 1 },	       /* crosses the boot-mapping limit */
	};

	begin();
	tag_mmap(map, ARRAY_SIZE(map));
	end();
	assert_int_equal(parse(), 0);
	/* a free range that does not fit is dropped and counted */
	int n = mb2_build_memmap(&mi, NULL, 0, 1ull << 30, out, 4, &dropped);
	assert_int_equal(n, -1); /* the reserved range at the top does not fit: refused */
	struct mem_range big[16];
	n = mb2_build_memmap(&mi, NULL, 0, 1ull << 30, big, ARRAY_SIZE(big), &dropped);
	assert_int_equal(n, 8);
	assert_int_equal(dropped, 0);
	check_sorted(big, n);
	assert_int_equal(big[5].base, 0x3ff00000);
	assert_int_equal(big[5].type, MEM_FREE);
	assert_int_equal(big[6].base, 0x40000000);
	assert_int_equal(big[6].type, MEM_FREE_LATER);
	assert_int_equal(big[7].base + big[7].size, UINT64_MAX);
	/* only free ranges overflowing: dropped, not refused */
	begin();
	tag_mmap(map, 5);
	end();
	assert_int_equal(parse(), 0);
	n = mb2_build_memmap(&mi, NULL, 0, 1ull << 30, out, 3, &dropped);
	assert_int_equal(n, 3);
	assert_int_equal(dropped, 2);
}

static void framebuffers(void **state)
{
	(void)state;
	struct boot_framebuffer fb = { 0 };

	begin();
	tag_fb(0xfd000000, 1024, 768, 32, 16, 0);
	end();
	assert_int_equal(parse(), 0);
	assert_true(mb2_framebuffer(&mi, 4ull << 30, &fb));
	assert_int_equal(fb.base, 0xfd000000);
	assert_int_equal(fb.pitch_pixels, 1024);
	assert_true(fb.bgr);
	assert_false(mb2_framebuffer(&mi, 0xfd000000 + 1024 * 768 * 4 - 1, &fb)); /* past limit */
	mi.fb.red_pos = 0;
	mi.fb.blue_pos = 16;
	assert_true(mb2_framebuffer(&mi, 4ull << 30, &fb));
	assert_false(fb.bgr);
	mi.fb.red_pos = 8; /* neither layout */
	assert_false(mb2_framebuffer(&mi, 4ull << 30, &fb));
	mi.fb.red_pos = 0;
	mi.fb.bpp = 24;
	assert_false(mb2_framebuffer(&mi, 4ull << 30, &fb));
	mi.fb.bpp = 32;
	mi.fb.type = 2; /* EGA text */
	assert_false(mb2_framebuffer(&mi, 4ull << 30, &fb));
	mi.fb.type = 1;
	mi.fb.pitch = 1023 * 4; /* narrower than the width */
	assert_false(mb2_framebuffer(&mi, 4ull << 30, &fb));
	mi.has_fb = false;
	mi.fb.pitch = 1024 * 4;
	assert_false(mb2_framebuffer(&mi, 4ull << 30, &fb));
}

static void rtc_decoding(void **state)
{
	(void)state;
	struct wall_time t;
	struct cmos_rtc_regs bcd = { 0x59, 0x07, 0x23, 0x26, 0x11, 0x26, 0x20, CMOS_B_24H };
	assert_int_equal(cmos_rtc_decode(&bcd, &t), 0);
	assert_int_equal(t.year, 2026);
	assert_int_equal(t.month, 11);
	assert_int_equal(t.day, 26);
	assert_int_equal(t.hour, 23);
	assert_int_equal(t.minute, 7);
	assert_int_equal(t.second, 59);

	struct cmos_rtc_regs bin = { 5, 30, 0x80 | 12, 1, 1, 99, 19, CMOS_B_BINARY }; /* 12 PM */
	assert_int_equal(cmos_rtc_decode(&bin, &t), 0);
	assert_int_equal(t.year, 1999);
	assert_int_equal(t.hour, 12);
	bin.hour = 12; /* 12 AM */
	assert_int_equal(cmos_rtc_decode(&bin, &t), 0);
	assert_int_equal(t.hour, 0);
	bin.hour = 0x80 | 3; /* 3 PM */
	assert_int_equal(cmos_rtc_decode(&bin, &t), 0);
	assert_int_equal(t.hour, 15);
	bin.hour = 0; /* no hour 0 on a 12-hour clock */
	assert_int_equal(cmos_rtc_decode(&bin, &t), -1);

	struct cmos_rtc_regs bad = bcd;
	bad.minute = 0x6a; /* not BCD */
	assert_int_equal(cmos_rtc_decode(&bad, &t), -1);
	bad = bcd;
	bad.month = 0x13;
	assert_int_equal(cmos_rtc_decode(&bad, &t), -1);
	bad = bcd;
	bad.century = 0; /* no century byte: 20xx */
	assert_int_equal(cmos_rtc_decode(&bad, &t), 0);
	assert_int_equal(t.year, 2026);
	bad.century = 0xff;
	assert_int_equal(cmos_rtc_decode(&bad, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_grub_like),
		cmocka_unit_test(old_rsdp_and_leniency),
		cmocka_unit_test(rejects_malformed),
		cmocka_unit_test(mem_types),
		cmocka_unit_test(memmap_carves_keel_and_modules),
		cmocka_unit_test(memmap_limits),
		cmocka_unit_test(framebuffers),
		cmocka_unit_test(rtc_decoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
