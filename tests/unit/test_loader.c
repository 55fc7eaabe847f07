/* Guest kernel loader: Debian's real bzImage and vmlinux (build/guest, made by
 * tools/build-guest-images), Multiboot images built here byte by byte, and every kind of broken
 * file, each of which must fail with a message and never crash (ASan + UBSan watch).
 * The expectations are computed from the files with this test's own parsing (the host's <elf.h>
 * and boot.rst's offsets), not with the loader's helpers.
 * KEEL_LOADER_SEEDS=DIR also writes the fuzz seeds of tests/fuzz/corpus/loader/ into DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core/guest_layout.h"
#include "guest/loader.h"
#include "lib/kstring.h"

#define GUEST_DIR "build/guest/"

/* ---- helpers ----------------------------------------------------------------------------- */

struct vm {
	struct guest_mem m;
	uint64_t memory;
	/* each RAM region in one mapping, the test's contiguous view of it */
	uint8_t *host[2];
	uint64_t gpa[2], size[2];
	unsigned nr_regions;
};

/* Extent sizes, cycled through: keel backs guest RAM with whatever host blocks are free
 * (core/guest_ram.c), so every load here crosses extent boundaries, some inside the boot area,
 * its page tables and boot_params, kernels and initrds. */
static const uint64_t piece[] = {
	4 * KiB, 8 * KiB, 60 * KiB, MiB + 4 * KiB, 3 * MiB - 12 * KiB, 64 * MiB + 20 * KiB
};

/* RAM as guest_ram_regions() lays it out, in lazily committed anonymous mappings, so a 4 GiB VM
 * costs only the pages the loader writes; guest_mem splits each region into extents. */
static void vm_init(struct vm *v, uint64_t memory)
{
	unsigned nr = 0, cap = 0;

	memset(v, 0, sizeof(*v));
	v->memory = memory;
	v->nr_regions = guest_ram_regions(memory, v->gpa, v->size);
	for (unsigned i = 0; i < v->nr_regions; i++) {
		void *p = mmap(NULL, v->size[i], PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(p != MAP_FAILED);
		v->host[i] = p;
		for (uint64_t off = 0, k = 0; off < v->size[i]; k++) {
			uint64_t n = MIN(piece[k % ARRAY_SIZE(piece)], v->size[i] - off);
			if (nr == cap) {
				cap = cap ? 2 * cap : 64;
				v->m.ext = realloc(v->m.ext, cap * sizeof(*v->m.ext));
				assert_non_null(v->m.ext);
			}
			v->m.ext[nr++] =
				(struct gmem_extent){ v->gpa[i] + off, n, v->host[i] + off, 0 };
			off += n;
		}
	}
	v->m.nr = nr;
}

static void vm_free(struct vm *v)
{
	for (unsigned i = 0; i < v->nr_regions; i++)
		munmap(v->host[i], v->size[i]);
	free(v->m.ext);
}

/* The test's own contiguous view of [gpa, gpa + len), inside one region. */
static uint8_t *gp(struct vm *v, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < v->nr_regions; i++)
		if (gpa >= v->gpa[i] && range_within(gpa - v->gpa[i], len, v->size[i]))
			return v->host[i] + (gpa - v->gpa[i]);
	fail_msg("guest range 0x%llx+0x%llx not in RAM", (unsigned long long)gpa,
		 (unsigned long long)len);
	return NULL;
}

static uint16_t r16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t r32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t r64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void w16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void w64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s (make guest-images builds it)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static uint8_t *vmlinuz, *vmlinux, *initrd;
static size_t vmlinuz_size, vmlinux_size, initrd_size;
static char kernel_version[64];

static struct guest_boot boot;
static char err[256];

static int load(struct vm *v, const void *k, size_t ksize, const void *ird, size_t isize,
		const char *cmdline)
{
	memset(err, 0x5a, sizeof(err));
	return guest_load(&v->m, v->memory, k, ksize, ird, isize, cmdline, &boot, err, sizeof(err));
}

/* The load fails with a terminated message containing want (NULL: any message). */
static void expect_fail(struct vm *v, const void *k, size_t ksize, const void *ird, size_t isize,
			const char *cmdline, const char *want)
{
	int r = load(v, k, ksize, ird, isize, cmdline);

	if (r != -1)
		fail_msg("load of %zu bytes succeeded (%s); wanted failure '%s'", ksize,
			 boot.format, want ? want : "");
	assert_true(memchr(err, 0, sizeof(err)) != NULL);
	assert_true(err[0] != 0);
	if (want && !strstr(err, want))
		fail_msg("message '%s' does not contain '%s'", err, want);
}

/* A copy in a buffer of exactly n bytes, so ASan catches any read past the end. */
static uint8_t *exact_copy(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	memcpy(p, src, n);
	return p;
}

static void check_e820_table(const uint8_t *t, unsigned n, size_t stride, size_t skip,
			     uint64_t memory)
{
	struct e820_entry want[GUEST_E820_MAX];
	unsigned nr = guest_e820(memory, want);

	assert_int_equal(n, nr);
	for (unsigned i = 0; i < nr; i++) {
		const uint8_t *e = t + i * stride + skip;
		assert_int_equal(r64(e), want[i].addr);
		assert_int_equal(r64(e + 8), want[i].size);
		assert_int_equal(r32(e + 16), want[i].type);
	}
}

/* The PCI 64-bit window: above RAM and 4 GiB, 1 GiB aligned, below MAXPHYADDR, never on RAM. */
static void pci_mmio64_window(void **state)
{
	(void)state;
	static const struct {
		uint64_t memory;
		unsigned bits;
		uint64_t base, end;
	} cases[] = {
		{ 256ull << 20, 40, 4ull << 30, 68ull << 30 },
		{ 3ull << 30, 40, 4ull << 30, 68ull << 30 },
		{ (3ull << 30) + (2ull << 20), 40, 5ull << 30, 69ull << 30 },
		{ 16ull << 30, 40, 17ull << 30, 81ull << 30 },
		{ 16ull << 30, 36, 17ull << 30, 64ull << 30 }, /* cut at 2^36 */
		{ 62ull << 30, 36, 63ull << 30, 64ull << 30 }, /* 1 GiB left */
		{ (62ull << 30) + (2ull << 20), 36, 0, 0 },    /* none left */
		{ 1024ull << 30, 40, 0, 0 },		       /* RAM beyond 2^40 */
		{ 512ull << 30, 52, 513ull << 30, 577ull << 30 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t base = 1, end = 1, gpa[2], size[2];
		bool got = guest_pci_mmio64(cases[i].memory, cases[i].bits, &base, &end);
		assert_int_equal(base, cases[i].base);
		assert_int_equal(end, cases[i].end);
		assert_int_equal(got, cases[i].end != 0);
		unsigned nr = guest_ram_regions(cases[i].memory, gpa, size);
		if (got)
			assert_true(base >= gpa[nr - 1] + size[nr - 1] && base >= GUEST_4G);
	}
}

/* keel's boot area: 128 KiB (core/guest_layout.h); the GDT at 0x1000 in it, the scratch stack
 * below the GDT. */
#define AREA_SIZE 0x20000ull

/* keel's boot GDT, in the boot area at `area`, and the segment state every mode shares. */
static void check_gdt(struct vm *v, uint64_t area)
{
	const uint8_t *g = gp(v, area + 0x1000, 48);

	assert_int_equal(boot.gdt_base, area + 0x1000);
	assert_int_equal(boot.rsp, area + 0x1000);
	assert_int_equal(boot.gdt_limit, 47);
	assert_int_equal(r64(g), 0);
	assert_int_equal(r64(g + 0x08), 0x00CF9B000000FFFFull); /* 32-bit code, flat */
	assert_int_equal(r64(g + 0x10), 0x00AF9B000000FFFFull); /* 64-bit code: __BOOT_CS */
	assert_int_equal(r64(g + 0x18), 0x00CF93000000FFFFull); /* data, flat: __BOOT_DS */
	assert_int_equal(r64(g + 0x20), 0x00008B0000000067ull); /* busy TSS, base 0, limit 0x67 */
	assert_int_equal(r64(g + 0x28), 0);
	assert_int_equal(boot.tr.sel, 0x20);
	assert_int_equal(boot.tr.limit, 0x67);
	assert_int_equal(boot.tr.ar, 0x8B);
	assert_int_equal(boot.ldtr.ar, 0);
	assert_int_equal(boot.rflags, 2);
	const struct guest_seg *data[] = { &boot.ds, &boot.es, &boot.fs, &boot.gs, &boot.ss };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(data[i]->sel, 0x18);
		assert_int_equal(data[i]->ar, 0xC093);
		assert_int_equal(data[i]->limit, 0xFFFFFFFF);
		assert_int_equal(data[i]->base, 0);
	}
	assert_int_equal(boot.cs.limit, 0xFFFFFFFF);
	assert_int_equal(boot.cs.base, 0);
	/* the VMCB form: type/S/DPL/P in 0-7, AVL/L/D/G in 8-11 */
	assert_int_equal(guest_seg_svm_attrib(&boot.ds), 0xC93);
}

static void check_prot32(struct vm *v, uint64_t area)
{
	check_gdt(v, area);
	assert_int_equal(boot.mode, GUEST_ENTRY_PROT32);
	assert_int_equal(boot.cr0, 0x11);
	assert_int_equal(boot.cr3, 0);
	assert_int_equal(boot.cr4, 0);
	assert_int_equal(boot.efer, 0);
	assert_int_equal(boot.cs.sel, 0x08);
	assert_int_equal(boot.cs.ar, 0xC09B);
	assert_int_equal(guest_seg_svm_attrib(&boot.cs), 0xC9B);
}

/* ---- bzImage: Debian's kernel ------------------------------------------------------------- */

/* boot.rst's setup-header offsets, read straight from the file */
struct bz_facts {
	unsigned version, setup_sects, hdr_end;
	uint64_t pm_offset, pm_size, init_size, pref, align, initrd_max, cmdline_size;
};

static struct bz_facts bz_facts(const uint8_t *k)
{
	struct bz_facts f;

	f.version = r16(k + 0x206);
	f.setup_sects = k[0x1F1] ? k[0x1F1] : 4;
	f.hdr_end = 0x202 + k[0x201];
	f.pm_offset = (f.setup_sects + 1) * 512ull;
	f.pm_size = r32(k + 0x1F4) * 16ull;
	f.init_size = r32(k + 0x260);
	f.pref = r64(k + 0x258);
	f.align = r32(k + 0x230);
	f.initrd_max = r32(k + 0x22C);
	f.cmdline_size = r32(k + 0x238);
	return f;
}

static void check_bzimage(struct vm *v, const char *cmdline, uint64_t want_load)
{
	struct bz_facts f = bz_facts(vmlinuz);
	uint64_t low_end = MIN(v->memory, GUEST_MMIO_HOLE);
	const uint8_t *bp = gp(v, GUEST_BOOT_INFO, 4096);
	char fmt[32];

	snprintf(fmt, sizeof(fmt), "bzImage %u.%u", f.version >> 8, f.version & 0xFF);
	assert_string_equal(boot.format, fmt);
	check_gdt(v, 0);
	assert_int_equal(boot.mode, GUEST_ENTRY_LONG64);
	assert_int_equal(boot.rip, want_load + 0x200);
	assert_int_equal(boot.rsi, GUEST_BOOT_INFO);
	assert_int_equal(boot.cr0, 0x80000031);
	assert_int_equal(boot.cr3, GUEST_PAGE_TABLES);
	assert_int_equal(boot.cr4, 0x20);
	assert_int_equal(boot.efer, 0x500);
	assert_int_equal(boot.cs.sel, 0x10);
	assert_int_equal(boot.cs.ar, 0xA09B);
	assert_int_equal(guest_seg_svm_attrib(&boot.cs), 0xA9B);
	assert_int_equal(boot.kernel_start, want_load);
	assert_int_equal(boot.kernel_end, want_load + MAX(f.init_size, f.pm_size));
	assert_true(want_load % f.align == 0);

	/* the protected-mode kernel, byte for byte */
	assert_memory_equal(gp(v, want_load, f.pm_size), vmlinuz + f.pm_offset, f.pm_size);

	/* identity map of 4 GiB: PML4 -> PDPT -> 4 PDs of 2 MiB pages, present and writable */
	const uint8_t *pt = gp(v, GUEST_PAGE_TABLES, 6 * 4096);
	assert_int_equal(r64(pt), GUEST_PAGE_TABLES + 0x1000 + 3);
	for (unsigned i = 1; i < 512; i++)
		assert_int_equal(r64(pt + 8 * i), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r64(pt + 0x1000 + 8 * i),
				 GUEST_PAGE_TABLES + 0x2000 + i * 0x1000 + 3);
	assert_int_equal(r64(pt + 0x1000 + 32), 0);
	for (uint64_t i = 0; i < 2048; i++)
		assert_int_equal(r64(pt + 0x2000 + 8 * i), (i << 21) | 0x83);

	/* boot_params: the file's setup header, with the loader's fields filled in */
	for (unsigned off = 0x1F1; off < MIN(f.hdr_end, 0x290u); off++) {
		bool loader_field = off == 0x210 || off == 0x211 || (off >= 0x218 && off < 0x220) ||
				    (off >= 0x224 && off < 0x22C) || (off >= 0x250 && off < 0x258);
		if (!loader_field && bp[off] != vmlinuz[off])
			fail_msg("boot_params byte 0x%x is 0x%x; the file has 0x%x", off, bp[off],
				 vmlinuz[off]);
	}
	for (unsigned off = MIN(f.hdr_end, 0x290u); off < 0x290; off++)
		assert_int_equal(bp[off], 0);
	assert_int_equal(r16(bp + 0x1FE), 0xAA55);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	/* type_of_loader; loadflags gain CAN_USE_HEAP and keep LOADED_HIGH */
	assert_int_equal(bp[0x210], 0xFF);
	assert_int_equal(bp[0x211], vmlinuz[0x211] | 0x80);
	assert_true(bp[0x211] & 0x01);
	assert_int_equal(r16(bp + 0x224), 0xFE00);
	assert_int_equal(r32(bp + 0x228), GUEST_CMDLINE);
	assert_int_equal(r64(bp + 0x250), 0);
	assert_int_equal(r64(bp + 0x070), f.version >= 0x20E ? GUEST_ACPI_BASE : 0);
	assert_int_equal(bp[0x1EF], 0); /* sentinel */
	check_e820_table(bp + 0x2D0, bp[0x1E8], 20, 0, v->memory);
	assert_string_equal((const char *)gp(v, GUEST_CMDLINE, 1), cmdline ? cmdline : "");
	assert_int_equal(boot.cmdline_addr, GUEST_CMDLINE);

	/* initrd: page aligned, as high as initrd_addr_max and low RAM allow, above init_size */
	if (boot.initrd_size) {
		uint64_t limit = MIN(f.initrd_max + 1, low_end);
		uint64_t addr = (limit - initrd_size) & ~0xFFFull;
		assert_int_equal(boot.initrd_addr, addr);
		assert_int_equal(boot.initrd_size, initrd_size);
		assert_int_equal(r32(bp + 0x218), addr);
		assert_int_equal(r32(bp + 0x21C), initrd_size);
		assert_true(addr >= boot.kernel_end);
		assert_memory_equal(gp(v, addr, initrd_size), initrd, initrd_size);
	} else {
		assert_int_equal(r32(bp + 0x218), 0);
		assert_int_equal(r32(bp + 0x21C), 0);
	}
}

static void bzimage_256m(void **state)
{
	struct vm v;
	(void)state;
	vm_init(&v, 256 * MiB);
	assert_int_equal(
		load(&v, vmlinuz, vmlinuz_size, initrd, initrd_size, "console=ttyS0 quiet"), 0);
	assert_int_equal(err[0], 0);
	check_bzimage(&v, "console=ttyS0 quiet", bz_facts(vmlinuz).pref);
	vm_free(&v);
}

static void bzimage_4g_no_initrd_no_cmdline(void **state)
{
	struct vm v;
	(void)state;
	vm_init(&v, 4 * GiB);
	assert_int_equal(v.nr_regions, 2);
	assert_int_equal(load(&v, vmlinuz, vmlinuz_size, NULL, 0, NULL), 0);
	check_bzimage(&v, NULL, bz_facts(vmlinuz).pref);
	assert_int_equal(boot.initrd_size, 0);
	/* and with the initrd: it goes below initrd_addr_max (2 GiB for Debian's), not at 3 GiB */
	assert_int_equal(load(&v, vmlinuz, vmlinuz_size, initrd, initrd_size, "a=b"), 0);
	check_bzimage(&v, "a=b", bz_facts(vmlinuz).pref);
	vm_free(&v);
}

/* pref_address + init_size do not fit: the kernel goes to the first kernel_alignment boundary. */
static void bzimage_small_vm_relocates(void **state)
{
	struct bz_facts f = bz_facts(vmlinuz);
	uint64_t low = (GUEST_HIGH_RAM_BASE + f.align - 1) & ~(f.align - 1);
	uint64_t mem = (low + MAX(f.init_size, f.pm_size) + initrd_size + 4 * MiB) & ~(2 * MiB - 1);
	struct vm v;
	(void)state;
	assert_true(mem < f.pref + f.init_size);
	vm_init(&v, mem);
	assert_int_equal(load(&v, vmlinuz, vmlinuz_size, initrd, initrd_size, "x"), 0);
	check_bzimage(&v, "x", low);
	vm_free(&v);
	/* and a VM too small for init_size anywhere */
	vm_init(&v, low + f.init_size - 2 * MiB);
	expect_fail(&v, vmlinuz, vmlinuz_size, NULL, 0, NULL, "(init_size)");
	vm_free(&v);
}

static void bzimage_truncated(void **state)
{
	struct bz_facts f = bz_facts(vmlinuz);
	size_t full = f.pm_offset + f.pm_size;
	struct vm v;
	(void)state;
	vm_init(&v, 256 * MiB);
	/* every length through the setup header, then a spread through the kernel */
	for (size_t n = 0; n < 0x300; n++) {
		uint8_t *k = exact_copy(vmlinuz, n);
		expect_fail(&v, k, n, NULL, 0, NULL, NULL);
		free(k);
	}
	for (size_t n = 0x300; n < full; n += full / 97 + 1) {
		uint8_t *k = n < 256 * KiB ? exact_copy(vmlinuz, n) : vmlinuz;
		expect_fail(&v, k, n, NULL, 0, NULL, NULL);
		if (k != vmlinuz)
			free(k);
	}
	expect_fail(&v, vmlinuz, full - 1, NULL, 0, NULL, "bzImage is truncated");
	assert_int_equal(load(&v, vmlinuz, full, NULL, 0, NULL), 0);
	vm_free(&v);
}

/* One or two field edits of the kernel's setup header, and the message the load must give. */
struct bz_edit {
	unsigned off, width;
	uint64_t val;
	unsigned off2, width2;
	uint64_t val2;
	const char *want;
};

static void poke(uint8_t *p, unsigned width, uint64_t val)
{
	if (width == 1)
		*p = (uint8_t)val;
	else if (width == 2)
		w16(p, (uint16_t)val);
	else if (width == 4)
		w32(p, (uint32_t)val);
	else
		w64(p, val);
}

static const struct bz_edit bz_edits[] = {
	{ 0x206, 2, 0x020B, 0, 0, 0,
	  "bzImage setup header 2.11 is too old; expected 2.12 or later" },
	{ 0x236, 2, 0x7E, 0, 0, 0, "no 64-bit entry point" }, /* xloadflags without KERNEL_64 */
	{ 0x211, 1, 0x00, 0, 0, 0, "zImage" },		      /* loadflags without LOADED_HIGH */
	{ 0x1F1, 1, 0xFF, 0, 0, 0, "bzImage is truncated" },  /* setup_sects */
	{ 0x260, 4, 0xF0000000, 0, 0, 0, "(init_size)" },
	{ 0x230, 4, 0x300000, 0, 0, 0, "kernel_alignment" },
	{ 0x230, 4, 0, 0, 0, 0, "kernel_alignment" },
	{ 0x200, 1, 0x90, 0, 0, 0, "short jump" },
	{ 0x201, 1, 0x20, 0, 0, 0, "before init_size" },
	{ 0x1F4, 4, 0, 0, 0, 0, "syssize is 0" },
	{ 0x1F4, 4, 0xFFFFFFFF, 0, 0, 0, "bzImage is truncated" },
	{ 0x205, 1, 'X', 0, 0, 0, "not a bzImage" }, /* "HdrX" */
	{ 0x1FE, 1, 0, 0, 0, 0, "not a bzImage" },   /* boot_flag */
	{ 0x234, 1, 0, 0x258, 8, 0x1000, "non-relocatable" },
	{ 0x234, 1, 0, 0x258, 8, ~0ull - 0x1000, "non-relocatable" },
	{ 0x22C, 4, 0x1000000, 0, 0, 0, "does not fit below initrd_addr_max" },
};

static void bzimage_corrupt_headers(void **state)
{
	uint8_t *k = malloc(vmlinuz_size);
	struct vm v;
	(void)state;
	vm_init(&v, 256 * MiB);
	for (unsigned i = 0; i < ARRAY_SIZE(bz_edits); i++) {
		const struct bz_edit *e = &bz_edits[i];
		memcpy(k, vmlinuz, vmlinuz_size);
		poke(k + e->off, e->width, e->val);
		if (e->width2)
			poke(k + e->off2, e->width2, e->val2);
		expect_fail(&v, k, vmlinuz_size, initrd, initrd_size, "c", e->want);
	}
	free(k);
	vm_free(&v);
}

static void bzimage_initrd_and_cmdline_limits(void **state)
{
	struct bz_facts f = bz_facts(vmlinuz);
	size_t big = 200 * MiB;
	uint8_t *huge =
		mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *cmd = malloc(f.cmdline_size + 2);
	struct vm v;
	(void)state;
	assert_true(huge != MAP_FAILED);
	vm_init(&v, 256 * MiB);
	expect_fail(&v, vmlinuz, vmlinuz_size, huge, big, NULL,
		    "initrd of 200 MiB does not fit below the end of low RAM");
	munmap(huge, big);

	memset(cmd, 'c', f.cmdline_size + 1);
	cmd[f.cmdline_size + 1] = 0;
	expect_fail(&v, vmlinuz, vmlinuz_size, NULL, 0, cmd, "command line of");
	cmd[f.cmdline_size] = 0; /* exactly cmdline_size: accepted */
	assert_int_equal(load(&v, vmlinuz, vmlinuz_size, NULL, 0, cmd), 0);
	assert_int_equal(strlen((const char *)gp(&v, GUEST_CMDLINE, 1)), f.cmdline_size);
	free(cmd);
	vm_free(&v);
}

/* ---- PVH: Debian's vmlinux ---------------------------------------------------------------- */

/* The PVH entry, found independently: the raw note bytes "namesz 4, descsz 8, type 18, Xen". */
static uint64_t pvh_entry_from_file(void)
{
	static const uint8_t pat[16] = { 4, 0, 0, 0, 8, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0 };
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)vmlinux;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, vmlinux + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		for (uint64_t o = ph.p_offset; o + 24 <= ph.p_offset + ph.p_filesz; o += 4)
			if (memcmp(vmlinux + o, pat, 16) == 0)
				return r64(vmlinux + o + 16);
	}
	fail_msg("vmlinux has no PVH note");
	return 0;
}

static void check_pvh(struct vm *v, const char *cmdline, bool with_initrd)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)vmlinux;
	uint64_t low_end = MIN(v->memory, GUEST_MMIO_HOLE), hi = 0;
	const uint8_t *si = gp(v, GUEST_BOOT_INFO, 0x38);

	assert_string_equal(boot.format, "PVH ELF");
	check_prot32(v, 0);
	assert_int_equal(boot.rip, pvh_entry_from_file());
	assert_int_equal(boot.rbx, GUEST_BOOT_INFO);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, vmlinux + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		assert_memory_equal(gp(v, ph.p_paddr, ph.p_filesz), vmlinux + ph.p_offset,
				    ph.p_filesz);
		const uint8_t *bss = gp(v, ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz + 1);
		for (uint64_t j = 0; j < ph.p_memsz - ph.p_filesz; j++)
			assert_int_equal(bss[j], 0);
		hi = MAX(hi, ph.p_paddr + ph.p_memsz);
	}
	assert_int_equal(boot.kernel_end, hi);

	/* hvm_start_info version 1 (start_info.h) */
	assert_int_equal(r32(si + 0x00), 0x336ec578);
	assert_int_equal(r32(si + 0x04), 1);
	assert_int_equal(r32(si + 0x08), 0);
	assert_int_equal(r64(si + 0x18), GUEST_CMDLINE);
	assert_int_equal(r64(si + 0x20), GUEST_ACPI_BASE);
	assert_int_equal(r32(si + 0x34), 0);
	assert_string_equal((const char *)gp(v, r64(si + 0x18), 1), cmdline);
	check_e820_table(gp(v, r64(si + 0x28), 24 * r32(si + 0x30)), r32(si + 0x30), 24, 0,
			 v->memory);
	for (unsigned i = 0; i < r32(si + 0x30); i++)
		assert_int_equal(r32(gp(v, r64(si + 0x28) + 24 * i + 20, 4)), 0);
	if (with_initrd) {
		const uint8_t *mod;
		uint64_t addr = (low_end - initrd_size) & ~0xFFFull;
		assert_int_equal(r32(si + 0x0C), 1);
		mod = gp(v, r64(si + 0x10), 32);
		assert_int_equal(r64(mod), addr);
		assert_int_equal(r64(mod + 8), initrd_size);
		assert_int_equal(r64(mod + 16), 0);
		assert_int_equal(r64(mod + 24), 0);
		assert_true(addr >= hi);
		assert_memory_equal(gp(v, addr, initrd_size), initrd, initrd_size);
	} else {
		assert_int_equal(r32(si + 0x0C), 0);
		assert_int_equal(r64(si + 0x10), 0);
	}
}

static void pvh_256m(void **state)
{
	struct vm v;
	(void)state;
	vm_init(&v, 256 * MiB);
	/* dirty RAM first, so the bss check means something */
	memset(v.host[0], 0xA5, 128 * MiB);
	assert_int_equal(load(&v, vmlinux, vmlinux_size, initrd, initrd_size, "console=hvc0"), 0);
	check_pvh(&v, "console=hvc0", true);
	vm_free(&v);
}

static void pvh_4g(void **state)
{
	struct vm v;
	(void)state;
	vm_init(&v, 4 * GiB);
	assert_int_equal(load(&v, vmlinux, vmlinux_size, initrd, initrd_size, ""), 0);
	check_pvh(&v, "", true);
	assert_int_equal(load(&v, vmlinux, vmlinux_size, NULL, 0, NULL), 0);
	check_pvh(&v, "", false);
	vm_free(&v);
}

/* The file bytes the loader must have: the ends of every PT_LOAD and PT_NOTE. */
static size_t vmlinux_needed(void)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)vmlinux;
	size_t end = 0;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, vmlinux + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD || ph.p_type == PT_NOTE)
			end = MAX(end, ph.p_offset + ph.p_filesz);
	}
	return end;
}

static void pvh_truncated_and_too_small(void **state)
{
	struct vm v;
	(void)state;
	vm_init(&v, 256 * MiB);
	for (size_t n = 0; n < 0x400; n += 3) {
		uint8_t *k = exact_copy(vmlinux, n);
		expect_fail(&v, k, n, NULL, 0, NULL, NULL);
		free(k);
	}
	for (size_t n = 0x400; n < vmlinux_needed(); n += vmlinux_size / 61) {
		uint8_t *k = n < 256 * KiB ? exact_copy(vmlinux, n) : vmlinux;
		expect_fail(&v, k, n, NULL, 0, NULL, NULL);
		if (k != vmlinux)
			free(k);
	}
	vm_free(&v);
	/* RAM that ends inside the kernel's segments */
	vm_init(&v, 48 * MiB);
	expect_fail(&v, vmlinux, vmlinux_size, NULL, 0, NULL, "lies beyond the VM's RAM");
	vm_free(&v);
}

/* ---- tiny images built here --------------------------------------------------------------- */

struct seg_spec {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* An ELF executable header and program headers at the start of buf (contents are the caller's). */
static void put_elf(uint8_t *buf, bool is64, uint16_t machine, uint64_t entry,
		    const struct seg_spec *s, unsigned n)
{
	memcpy(buf, ELFMAG, SELFMAG);
	buf[4] = is64 ? 2 : 1;
	buf[5] = 1;
	buf[6] = 1;
	w16(buf + 16, 2);
	w16(buf + 18, machine);
	w32(buf + 20, 1);
	if (is64) {
		w64(buf + 24, entry);
		w64(buf + 32, 64);
		w16(buf + 52, 64);
		w16(buf + 54, 56);
		w16(buf + 56, (uint16_t)n);
		for (unsigned i = 0; i < n; i++) {
			uint8_t *p = buf + 64 + 56 * i;
			w32(p, s[i].type);
			w32(p + 4, 7);
			w64(p + 8, s[i].offset);
			w64(p + 16, s[i].vaddr);
			w64(p + 24, s[i].paddr);
			w64(p + 32, s[i].filesz);
			w64(p + 40, s[i].memsz);
			w64(p + 48, s[i].align);
		}
	} else {
		w32(buf + 24, (uint32_t)entry);
		w32(buf + 28, 52);
		w16(buf + 40, 52);
		w16(buf + 42, 32);
		w16(buf + 44, (uint16_t)n);
		for (unsigned i = 0; i < n; i++) {
			uint8_t *p = buf + 52 + 32 * i;
			w32(p, s[i].type);
			w32(p + 4, (uint32_t)s[i].offset);
			w32(p + 8, (uint32_t)s[i].vaddr);
			w32(p + 12, (uint32_t)s[i].paddr);
			w32(p + 16, (uint32_t)s[i].filesz);
			w32(p + 20, (uint32_t)s[i].memsz);
			w32(p + 24, 7);
			w32(p + 28, (uint32_t)s[i].align);
		}
	}
}

#define TINY_SIZE 0x300
#define PVH_LOAD 0x200000ull
#define PVH_ENTRY (PVH_LOAD + 0x10)
#define PVH_NOTE_OFF 0x100
#define PVH_PH_LOAD (buf + 64)
#define PVH_PH_NOTE (buf + 64 + 56)

/* ELF64: one PT_LOAD (0x100 bytes of code, 0x3000 in memory) at 2 MiB, one PT_NOTE with the PVH
 * entry note (8 bytes) after a GNU note it must skip. */
static void build_pvh(uint8_t buf[TINY_SIZE])
{
	const struct seg_spec s[2] = {
		{ PT_LOAD, 0x200, 0xffffffff80200000ull, PVH_LOAD, 0x100, 0x3000, 0x1000 },
		{ PT_NOTE, PVH_NOTE_OFF, 0, 0, 20 + 24, 20 + 24, 4 },
	};
	uint8_t *n = buf + PVH_NOTE_OFF;

	memset(buf, 0, TINY_SIZE);
	put_elf(buf, true, EM_X86_64, 0xffffffff80200000ull, s, 2);
	w32(n, 4); /* "GNU", a 4-byte descriptor, type 1 */
	w32(n + 4, 4);
	w32(n + 8, 1);
	memcpy(n + 12, "GNU", 4);
	n += 20;
	w32(n, 4);
	w32(n + 4, 8);
	w32(n + 8, 18);
	memcpy(n + 12, "Xen", 4);
	w64(n + 16, PVH_ENTRY);
	for (unsigned i = 0; i < 0x100; i++)
		buf[0x200 + i] = (uint8_t)(i * 7 + 1);
}

#define MB_LOAD 0x100000ull
#define MB_ENTRY (MB_LOAD + 0x20)
#define MB_HDR_OFF 0x100

static void put_mb_header(uint8_t *h, uint32_t flags)
{
	w32(h, 0x1BADB002);
	w32(h + 4, flags);
	w32(h + 8, (uint32_t) - (0x1BADB002u + flags));
}

/* ELF32 i386 (or ELF64 linked high, is64): the Multiboot header opens the one PT_LOAD at 1 MiB,
 * 0x200 bytes of file and 0x1000 of memory. */
static void build_mb(uint8_t buf[TINY_SIZE], bool is64)
{
	uint64_t vbase = is64 ? 0xffffffff80100000ull : MB_LOAD;
	const struct seg_spec s[1] = {
		{ PT_LOAD, MB_HDR_OFF, vbase, MB_LOAD, 0x200, 0x1000, 0x1000 },
	};

	memset(buf, 0, TINY_SIZE);
	put_elf(buf, is64, is64 ? EM_X86_64 : EM_386, vbase + 0x20, s, 1);
	put_mb_header(buf + MB_HDR_OFF, 0x3);
	for (unsigned i = 12; i < 0x200; i++)
		buf[MB_HDR_OFF + i] = (uint8_t)(0xF4 ^ i);
}

/* A raw image with the a.out kludge: the header at file offset 0x40 names its own address. The
 * whole file goes to load, its bss runs to bss_end. */
#define KL_LOAD 0x180000ull
static void build_kludge_at(uint8_t buf[TINY_SIZE], uint32_t load, uint32_t bss_end)
{
	uint8_t *h = buf + 0x40;

	memset(buf, 0x90, TINY_SIZE);
	put_mb_header(h, 0x10003);
	w32(h + 12, load + 0x40); /* header_addr */
	w32(h + 16, load);	  /* load_addr */
	w32(h + 20, 0);		  /* load_end_addr: the whole file */
	w32(h + 24, bss_end);
	w32(h + 28, load + 0x80); /* entry */
}

static void build_kludge(uint8_t buf[TINY_SIZE])
{
	build_kludge_at(buf, KL_LOAD, KL_LOAD + 0x2000);
}

/* ELF32 Multiboot image of n PT_LOADs, identity-linked, at seg[i][0] with seg[i][1] bytes of
 * memory; each loads the 0x200 file bytes from the Multiboot header on (memsz >= 0x200), and the
 * entry is 0x20 into the first. */
static void build_mb_at(uint8_t buf[TINY_SIZE], const uint64_t seg[][2], unsigned n)
{
	struct seg_spec s[2];

	assert_true(n <= 2);
	for (unsigned i = 0; i < n; i++)
		s[i] = (struct seg_spec){ PT_LOAD, MB_HDR_OFF, seg[i][0], seg[i][0],
					  0x200,   seg[i][1],  0x1000 };
	memset(buf, 0, TINY_SIZE);
	put_elf(buf, false, EM_386, seg[0][0] + 0x20, s, n);
	put_mb_header(buf + MB_HDR_OFF, 0x3);
	for (unsigned i = 12; i < 0x200; i++)
		buf[MB_HDR_OFF + i] = (uint8_t)(0x4C ^ i);
}

static void tiny_pvh(void **state)
{
	uint8_t buf[TINY_SIZE];
	const uint8_t ird[5000] = { 1, 2, 3 };
	struct vm v;
	(void)state;
	build_pvh(buf);
	vm_init(&v, 64 * MiB);
	memset(gp(&v, PVH_LOAD, 0x3000), 0xEE, 0x3000);
	assert_int_equal(load(&v, buf, sizeof(buf), ird, sizeof(ird), "pvh"), 0);
	check_prot32(&v, 0);
	assert_string_equal(boot.format, "PVH ELF");
	assert_int_equal(boot.rip, PVH_ENTRY);
	assert_memory_equal(gp(&v, PVH_LOAD, 0x100), buf + 0x200, 0x100);
	for (unsigned i = 0x100; i < 0x3000; i++)
		assert_int_equal(*gp(&v, PVH_LOAD + i, 1), 0);
	assert_int_equal(boot.kernel_start, PVH_LOAD);
	assert_int_equal(boot.kernel_end, PVH_LOAD + 0x3000);
	assert_int_equal(boot.initrd_addr, 64 * MiB - 8192);
	assert_memory_equal(gp(&v, boot.initrd_addr, sizeof(ird)), ird, sizeof(ird));
	/* 4-byte note form */
	w32(buf + PVH_NOTE_OFF + 24, 4);
	w32(buf + PVH_NOTE_OFF + 36, (uint32_t)PVH_ENTRY + 4);
	w32(PVH_PH_NOTE + 32, 20 + 20);
	assert_int_equal(load(&v, buf, sizeof(buf), NULL, 0, NULL), 0);
	assert_int_equal(boot.rip, PVH_ENTRY + 4);
	vm_free(&v);
}

/* Each edit of the tiny PVH image must fail with want. */
static void pvh_bad(struct vm *v, const char *want, size_t off, unsigned width, uint64_t val)
{
	uint8_t buf[TINY_SIZE];
	uint8_t *k;

	build_pvh(buf);
	if (width == 2)
		w16(buf + off, (uint16_t)val);
	else if (width == 4)
		w32(buf + off, (uint32_t)val);
	else if (width == 8)
		w64(buf + off, val);
	else
		buf[off] = (uint8_t)val;
	k = exact_copy(buf, sizeof(buf));
	expect_fail(v, k, sizeof(buf), NULL, 0, NULL, want);
	free(k);
}

#define PH_PADDR 24
#define PH_OFFSET 8
#define PH_FILESZ 32
#define PH_MEMSZ 40
#define XEN_NOTE (PVH_NOTE_OFF + 20)

static void tiny_pvh_corrupt(void **state)
{
	struct vm v;
	(void)state;
	vm_init(&v, 64 * MiB);
	pvh_bad(&v, "lies beyond the VM's RAM", 64 + PH_PADDR, 8, 300 * MiB);
	pvh_bad(&v, "lies beyond the VM's RAM", 64 + PH_PADDR, 8, 64 * MiB - 0x1000);
	pvh_bad(&v, "not inside one RAM range", 64 + PH_PADDR, 8, 0x9E000); /* legacy hole */
	pvh_bad(&v, "wraps around", 64 + PH_PADDR, 8, ~0ull - 0x1000);
	pvh_bad(&v, "p_filesz 0x4000 is larger than p_memsz", 64 + PH_FILESZ, 8, 0x4000);
	pvh_bad(&v, "run past the end of the file", 64 + PH_OFFSET, 8, 0x250);
	pvh_bad(&v, "run past the end of the file", 64 + PH_OFFSET, 8, ~0ull - 0x10);
	pvh_bad(&v, "is larger than p_memsz", 64 + PH_FILESZ, 8, ~0ull);
	pvh_bad(&v, "keel accepts at most", 56, 2, 0xFFFF); /* e_phnum */
	pvh_bad(&v, "keel accepts at most", 56, 2, 129);
	pvh_bad(&v, "program headers (100 at", 56, 2, 100); /* table past the end */
	pvh_bad(&v, "no program headers", 56, 2, 0);
	pvh_bad(&v, "program header size", 54, 2, 32);		   /* e_phentsize */
	pvh_bad(&v, "run past the end of the file", 32, 8, 0x2F0); /* e_phoff */
	pvh_bad(&v, "run past the end of the file", 32, 8, ~0ull - 8);
	pvh_bad(&v, "ELF class 3", 4, 1, 3);
	pvh_bad(&v, "little-endian", 5, 1, 2);
	pvh_bad(&v, "ELF version", 6, 1, 0);
	pvh_bad(&v, "not an executable", 16, 2, 3); /* ET_DYN */
	pvh_bad(&v, "ELF machine 40", 18, 2, 40);   /* ARM */
	/* notes */
	pvh_bad(&v, "has 2 bytes; expected 4 or 8", XEN_NOTE + 4, 4, 2);
	pvh_bad(&v, "run past the segment", XEN_NOTE + 4, 4, 0xFFFFFFF0);
	pvh_bad(&v, "run past the segment", XEN_NOTE, 4, 0xFFFFFFFF);
	pvh_bad(&v, "run past the segment", PVH_NOTE_OFF + 4, 4, 0xFFFFFFFD); /* the GNU note */
	pvh_bad(&v, "note segment 1", 64 + 56 + PH_OFFSET, 8, 0x2F0);
	pvh_bad(&v, "note segment 1", 64 + 56 + PH_FILESZ, 8, ~0ull);
	pvh_bad(&v, "nor a Multiboot header", XEN_NOTE + 8, 4, 17); /* another Xen note */
	pvh_bad(&v, "nor a Multiboot header", XEN_NOTE + 12, 1, 'x');
	pvh_bad(&v, "not inside any loaded segment", XEN_NOTE + 16, 8, PVH_LOAD + 0x3000);
	pvh_bad(&v, "above 4 GiB", XEN_NOTE + 16, 8, GUEST_4G + PVH_LOAD);
	/* a third program header (it fits before the notes): a PT_LOAD over the first */
	{
		uint8_t buf[TINY_SIZE];
		const struct seg_spec over = {
			PT_LOAD, 0x200, 0, PVH_LOAD + 0x2000, 0x10, 0x2000, 0
		};
		build_pvh(buf);
		w16(buf + 56, 3);
		w32(buf + 64 + 112, over.type);
		w64(buf + 64 + 112 + PH_OFFSET, over.offset);
		w64(buf + 64 + 112 + PH_PADDR, over.paddr);
		w64(buf + 64 + 112 + PH_FILESZ, over.filesz);
		w64(buf + 64 + 112 + PH_MEMSZ, over.memsz);
		expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL, "segments 0 and 2 overlap");
		/* no PT_LOAD at all */
		build_pvh(buf);
		w32(PVH_PH_LOAD, 6);
		expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL, "no loadable segment");
	}
	vm_free(&v);
}

/* [a, a + alen) lies inside keel's boot area at `area` and clear of the kernel and the initrd. */
static void check_in_area(uint64_t area, uint64_t a, uint64_t alen)
{
	if (a < area || a + alen > area + AREA_SIZE)
		fail_msg("0x%llx+0x%llx is outside keel's area at 0x%llx", (unsigned long long)a,
			 (unsigned long long)alen, (unsigned long long)area);
	if (a < boot.kernel_end && boot.kernel_start < a + alen)
		fail_msg("0x%llx+0x%llx overlaps the kernel at 0x%llx-0x%llx",
			 (unsigned long long)a, (unsigned long long)alen,
			 (unsigned long long)boot.kernel_start,
			 (unsigned long long)boot.kernel_end);
	if (boot.initrd_size && a < boot.initrd_addr + boot.initrd_size &&
	    boot.initrd_addr < a + alen)
		fail_msg("0x%llx+0x%llx overlaps the initrd", (unsigned long long)a,
			 (unsigned long long)alen);
}

/* The Multiboot boot state with keel's boot area at `area`: multiboot_info at 0x8000 in it, and
 * everything it points at inside the area too (only the initrd outside, above it). */
static void check_mb_info(struct vm *v, uint64_t area, const char *cmdline, const void *ird,
			  size_t isize)
{
	const uint8_t *mbi = gp(v, area + 0x8000, 116);
	uint32_t flags = r32(mbi);
	uint64_t low_end = MIN(v->memory, GUEST_MMIO_HOLE);

	check_prot32(v, area);
	assert_int_equal(boot.rax, 0x2BADB002);
	assert_int_equal(boot.rbx, area + 0x8000);
	assert_int_equal(boot.boot_info, area + 0x8000);
	assert_int_equal(boot.cmdline_addr, area + 0xA000);
	check_in_area(area, boot.boot_info, 116);
	check_in_area(area, boot.gdt_base, 48);
	check_in_area(area, boot.rsp - 16, 16);
	check_in_area(area, r32(mbi + 16), strlen(cmdline) + 1);
	check_in_area(area, r32(mbi + 48), r32(mbi + 44));
	check_in_area(area, r32(mbi + 64), 5);
	assert_int_equal(flags, 0x1 | 0x4 | 0x40 | 0x200 | (isize ? 0x8 : 0));
	assert_int_equal(r32(mbi + 4), 636);
	assert_int_equal(r32(mbi + 8), (low_end - MiB) / KiB);
	assert_string_equal((const char *)gp(v, r32(mbi + 16), 1), cmdline);
	assert_string_equal((const char *)gp(v, r32(mbi + 64), 1), "keel");
	/* mmap: size-prefixed entries, size counting the 20 bytes after it */
	assert_int_equal(r32(mbi + 44) % 24, 0);
	const uint8_t *mm = gp(v, r32(mbi + 48), r32(mbi + 44));
	for (unsigned i = 0; i < r32(mbi + 44) / 24; i++)
		assert_int_equal(r32(mm + 24 * i), 20);
	check_e820_table(mm, r32(mbi + 44) / 24, 24, 4, v->memory);
	if (isize) {
		const uint8_t *mod;
		assert_int_equal(r32(mbi + 20), 1);
		mod = gp(v, r32(mbi + 24), 16);
		check_in_area(area, r32(mbi + 24), 16);
		check_in_area(area, r32(mod + 8), 7);
		assert_int_equal(r32(mod) % 4096, 0);
		assert_int_equal(r32(mod + 4) - r32(mod), isize);
		assert_true(r32(mod) >= boot.kernel_end);
		assert_true(r32(mod) >= area + AREA_SIZE);
		assert_true(r32(mod + 4) <= low_end);
		assert_string_equal((const char *)gp(v, r32(mod + 8), 1), "initrd");
		assert_memory_equal(gp(v, r32(mod), isize), ird, isize);
	}
}

static void multiboot_elf(void **state)
{
	uint8_t buf[TINY_SIZE];
	uint8_t ird[3000];
	struct vm v;
	(void)state;
	for (unsigned i = 0; i < sizeof(ird); i++)
		ird[i] = (uint8_t)(i * 13);
	vm_init(&v, 32 * MiB);
	for (int is64 = 0; is64 <= 1; is64++) {
		build_mb(buf, is64);
		memset(gp(&v, MB_LOAD, 0x1000), 0xCC, 0x1000);
		assert_int_equal(load(&v, buf, sizeof(buf), ird, sizeof(ird), "test=mb"), 0);
		assert_string_equal(boot.format, "Multiboot ELF");
		assert_int_equal(boot.rip, MB_ENTRY);
		assert_memory_equal(gp(&v, MB_LOAD, 0x200), buf + MB_HDR_OFF, 0x200);
		for (unsigned i = 0x200; i < 0x1000; i++)
			assert_int_equal(*gp(&v, MB_LOAD + i, 1), 0);
		assert_int_equal(boot.kernel_end, MB_LOAD + 0x1000);
		check_mb_info(&v, 0, "test=mb", ird, sizeof(ird));
	}
	/* no initrd, no command line */
	build_mb(buf, false);
	assert_int_equal(load(&v, buf, sizeof(buf), NULL, 0, NULL), 0);
	check_mb_info(&v, 0, "", NULL, 0);
	/* a video-mode request is accepted (no framebuffer is described) */
	put_mb_header(buf + MB_HDR_OFF, 0x7);
	assert_int_equal(load(&v, buf, sizeof(buf), NULL, 0, NULL), 0);
	assert_int_equal(r32(gp(&v, 0x8000, 4)) & 0x1800, 0);
	vm_free(&v);
}

static void multiboot_kludge(void **state)
{
	uint8_t buf[TINY_SIZE];
	uint8_t ird[100] = { 9 };
	struct vm v;
	(void)state;
	build_kludge(buf);
	vm_init(&v, 32 * MiB);
	memset(gp(&v, KL_LOAD, 0x2000), 0xCC, 0x2000);
	assert_int_equal(load(&v, buf, sizeof(buf), ird, sizeof(ird), "k"), 0);
	assert_string_equal(boot.format, "Multiboot a.out kludge");
	assert_int_equal(boot.rip, KL_LOAD + 0x80);
	assert_memory_equal(gp(&v, KL_LOAD, sizeof(buf)), buf, sizeof(buf));
	for (unsigned i = sizeof(buf); i < 0x2000; i++)
		assert_int_equal(*gp(&v, KL_LOAD + i, 1), 0);
	assert_int_equal(boot.kernel_start, KL_LOAD);
	assert_int_equal(boot.kernel_end, KL_LOAD + 0x2000);
	check_mb_info(&v, 0, "k", ird, sizeof(ird));
	/* load_end_addr set: only that much is copied */
	w32(buf + 0x40 + 20, KL_LOAD + 0x100);
	put_mb_header(buf + 0x40, 0x10003);
	assert_int_equal(load(&v, buf, sizeof(buf), NULL, 0, NULL), 0);
	assert_int_equal(*gp(&v, KL_LOAD + 0x100, 1), 0);
	vm_free(&v);
}

/* Edit a Multiboot image (make() builds it), fix nothing, expect want. */
static void mb_bad(struct vm *v, void (*make)(uint8_t *), size_t off, uint32_t val,
		   const char *want)
{
	uint8_t buf[TINY_SIZE];
	uint8_t *k;

	make(buf);
	w32(buf + off, val);
	k = exact_copy(buf, sizeof(buf));
	expect_fail(v, k, sizeof(buf), NULL, 0, NULL, want);
	free(k);
}

static void make_mb32(uint8_t *b)
{
	build_mb(b, false);
}
static void make_kludge(uint8_t *b)
{
	build_kludge(b);
}

static void multiboot_corrupt(void **state)
{
	uint8_t buf[TINY_SIZE];
	struct vm v;
	(void)state;
	vm_init(&v, 32 * MiB);
	mb_bad(&v, make_mb32, MB_HDR_OFF + 8, 0, "nor a Multiboot header");
	mb_bad(&v, make_mb32, 24, 0x200000, "not inside any loaded segment");	/* e_entry */
	mb_bad(&v, make_mb32, 52 + 12, 0x40000000, "lies beyond the VM's RAM"); /* p_paddr */
	mb_bad(&v, make_mb32, 52 + 16, 0x2000, "larger than p_memsz");
	mb_bad(&v, make_kludge, 0x40 + 16, KL_LOAD + 0x80, "does not fit header_addr");
	mb_bad(&v, make_kludge, 0x40 + 16, KL_LOAD - 0x1000, "does not fit header_addr");
	mb_bad(&v, make_kludge, 0x40 + 20, KL_LOAD - 1, "is not above load_addr");
	mb_bad(&v, make_kludge, 0x40 + 20, KL_LOAD + 0x1000, "runs past the end of the file");
	mb_bad(&v, make_kludge, 0x40 + 24, KL_LOAD + 0x10, "bss_end_addr");
	mb_bad(&v, make_kludge, 0x40 + 28, KL_LOAD + 0x2000, "entry_addr");
	mb_bad(&v, make_kludge, 0x40 + 24, 0xFFFFF000, "is not inside the VM's RAM");
	/* header fields with a correct checksum but unknown requirement bits */
	build_mb(buf, false);
	put_mb_header(buf + MB_HDR_OFF, 0x3 | 0x20);
	expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL, "requires features keel does not know");
	/* a raw image without the kludge */
	build_kludge(buf);
	put_mb_header(buf + 0x40, 0x3);
	expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL, "must be an ELF");
	/* a kludge header cut off by the end of the file */
	{
		uint8_t small[0x50];
		memset(small, 0, sizeof(small));
		put_mb_header(small + 0x40, 0x10000);
		expect_fail(&v, small, sizeof(small), NULL, 0, NULL, "is cut off");
	}
	/* the header past the first 8 KiB is not found */
	{
		uint8_t *big = calloc(1, 9000);
		put_mb_header(big + 8192, 0x10000);
		expect_fail(&v, big, 9000, NULL, 0, NULL, "no known magic");
		free(big);
	}
	/* initrd that cannot fit */
	build_mb(buf, false);
	{
		size_t isize = 32 * MiB;
		uint8_t *ird = mmap(NULL, isize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		expect_fail(&v, buf, sizeof(buf), ird, isize, NULL,
			    "initrd of 32 MiB does not fit");
		munmap(ird, isize);
	}
	vm_free(&v);
}

static void misc_failures(void **state)
{
	uint8_t buf[TINY_SIZE];
	char small_err[12];
	struct vm v, part;
	(void)state;
	build_mb(buf, false);
	vm_init(&v, 32 * MiB);
	expect_fail(&v, NULL, 0, NULL, 0, NULL, "kernel file is empty");
	expect_fail(&v, buf, 0, NULL, 0, NULL, "kernel file is empty");
	expect_fail(&v, "garbage!", 8, NULL, 0, NULL, "no known magic");
	expect_fail(&v, ELFMAG, SELFMAG, NULL, 0, NULL, "ELF header truncated");
	/* a command line longer than keel's area */
	{
		size_t n = GUEST_CMDLINE_MAX + 10;
		char *cmd = malloc(n + 1);
		memset(cmd, 'x', n);
		cmd[n] = 0;
		expect_fail(&v, buf, sizeof(buf), NULL, 0, cmd, "command line of");
		cmd[GUEST_CMDLINE_MAX - 1] = 0;
		assert_int_equal(load(&v, buf, sizeof(buf), NULL, 0, cmd), 0);
		free(cmd);
	}
	/* VM memory too small, or not covered by the regions given */
	v.memory = MiB;
	expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL, "too small");
	v.memory = 64 * MiB;
	expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL, "does not cover");
	v.memory = 32 * MiB;
	/* RAM up to 16 MiB only */
	part = v;
	part.m.ext = malloc(v.m.nr * sizeof(*v.m.ext));
	memcpy(part.m.ext, v.m.ext, v.m.nr * sizeof(*v.m.ext));
	while (part.m.nr && part.m.ext[part.m.nr - 1].gpa >= 16 * MiB)
		part.m.nr--;
	part.m.ext[part.m.nr - 1].size = 16 * MiB - part.m.ext[part.m.nr - 1].gpa;
	expect_fail(&part, buf, sizeof(buf), NULL, 0, NULL, "does not cover");
	free(part.m.ext);
	/* a tiny error buffer is truncated and terminated; none at all is fine too */
	assert_int_equal(guest_load(&v.m, v.memory, "junk", 4, NULL, 0, NULL, &boot, small_err,
				    sizeof(small_err)),
			 -1);
	assert_int_equal(strlen(small_err), sizeof(small_err) - 1);
	assert_int_equal(guest_load(&v.m, v.memory, "junk", 4, NULL, 0, NULL, &boot, NULL, 0), -1);
	vm_free(&v);
}

/* ---- kernels that want low memory: keel's boot area moves ------------------------------- */

/* The kernel's n segments hold their file bytes and zeroed bss, whatever keel wrote. */
static void check_mb_segments(struct vm *v, const uint8_t *buf, const uint64_t seg[][2], unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *g = gp(v, seg[i][0], seg[i][1]);
		assert_memory_equal(g, buf + MB_HDR_OFF, 0x200);
		for (uint64_t j = 0x200; j < seg[i][1]; j++)
			if (g[j])
				fail_msg("bss byte 0x%llx of segment %u is 0x%x",
					 (unsigned long long)j, i, g[j]);
	}
}

/* A Multiboot ELF linked at 0x8000, as GRUB and QEMU load them: keel's area goes to the top
 * of low RAM, the kernel stays whole, the initrd goes above both. */
static void multiboot_at_0x8000(void **state)
{
	const uint64_t seg[1][2] = { { 0x8000, 0x6000 } };
	uint8_t buf[TINY_SIZE], ird[5000];
	struct vm v;
	(void)state;
	for (unsigned i = 0; i < sizeof(ird); i++)
		ird[i] = (uint8_t)(i * 31 + 7);
	build_mb_at(buf, seg, 1);
	vm_init(&v, 32 * MiB);
	memset(gp(&v, 0, 0x9F000), 0xA5, 0x9F000);
	assert_int_equal(load(&v, buf, sizeof(buf), ird, sizeof(ird), "low=1"), 0);
	assert_string_equal(boot.format, "Multiboot ELF");
	assert_int_equal(boot.rip, 0x8020);
	assert_int_equal(boot.kernel_start, 0x8000);
	assert_int_equal(boot.kernel_end, 0xE000);
	check_mb_segments(&v, buf, seg, 1);
	check_mb_info(&v, 0x7F000, "low=1", ird, sizeof(ird));
	/* without an initrd or a command line */
	assert_int_equal(load(&v, buf, sizeof(buf), NULL, 0, NULL), 0);
	check_mb_segments(&v, buf, seg, 1);
	check_mb_info(&v, 0x7F000, "", NULL, 0);
	vm_free(&v);
}

/* Where the area goes for kernels at each edge of the places it may take. */
static void multiboot_low_placements(void **state)
{
	static const struct {
		uint64_t seg[2][2];
		unsigned n;
		uint64_t area;
	} cases[] = {
		{ { { 0x1000, 0x1000 } }, 1, 0x7F000 },
		{ { { 0, 0x1000 } }, 1, 0x7F000 },
		{ { { 0x10000, 0x1000 } }, 1, 0x7F000 },
		{ { { 0x1F000, 0x1000 } }, 1, 0x7F000 },  /* its last page is the area's */
		{ { { 0x20000, 0x1000 } }, 1, 0 },	  /* just above the area at 0 */
		{ { { 0x1000, 0x7E000 } }, 1, 0x7F000 },  /* ends where the area starts */
		{ { { 0x1000, 0x7E001 } }, 1, 0x100000 }, /* one byte more: 1 MiB */
		{ { { 0x1000, 0x9D000 } }, 1, 0x100000 }, /* low RAM but its first and last pages */
		{ { { 0, 0x9F000 } }, 1, 0x100000 },	  /* all of low RAM */
		{ { { 0x8000, 0x1000 }, { 0x200000, 0x1800 } }, 2, 0x202000 }, /* past the hole */
		{ { { 0, 0x9F000 }, { 0x100000, 0x1000 } }, 2, 0x101000 },
		{ { { 0x8000, 0x1000 }, { 0x100000, 0x1E00000 } },
		  2,
		  0x1F00000 }, /* right after it */
	};
	uint8_t buf[TINY_SIZE], ird[100] = { 42 };
	struct vm v;
	(void)state;
	vm_init(&v, 32 * MiB);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		build_mb_at(buf, cases[i].seg, cases[i].n);
		memset(gp(&v, 0, 0x9F000), 0xA5, 0x9F000);
		if (load(&v, buf, sizeof(buf), ird, sizeof(ird), "placed") != 0)
			fail_msg("case %u: %s", i, err);
		check_mb_segments(&v, buf, cases[i].seg, cases[i].n);
		check_mb_info(&v, cases[i].area, "placed", ird, sizeof(ird));
	}
	vm_free(&v);
}

/* An a.out-kludge image low in memory: the same placement from its address fields. */
static void kludge_low(void **state)
{
	uint8_t buf[TINY_SIZE], ird[300] = { 5 };
	struct vm v;
	(void)state;
	vm_init(&v, 32 * MiB);
	build_kludge_at(buf, 0x2000, 0x3000);
	assert_int_equal(load(&v, buf, sizeof(buf), ird, sizeof(ird), "kl"), 0);
	assert_string_equal(boot.format, "Multiboot a.out kludge");
	assert_int_equal(boot.rip, 0x2080);
	assert_memory_equal(gp(&v, 0x2000, sizeof(buf)), buf, sizeof(buf));
	check_mb_info(&v, 0x7F000, "kl", ird, sizeof(ird));
	/* its bss over all of low RAM's upper part: the area goes to 1 MiB */
	build_kludge_at(buf, 0x2000, 0x9F000);
	memset(gp(&v, 0x2000, 0x9D000), 0xA5, 0x9D000);
	assert_int_equal(load(&v, buf, sizeof(buf), ird, sizeof(ird), "kl"), 0);
	assert_memory_equal(gp(&v, 0x2000, sizeof(buf)), buf, sizeof(buf));
	for (uint64_t a = 0x2000 + sizeof(buf); a < 0x9F000; a++)
		assert_int_equal(*gp(&v, a, 1), 0);
	check_mb_info(&v, 0x100000, "kl", ird, sizeof(ird));
	vm_free(&v);
}

/* A PVH kernel at 0x8000: hvm_start_info, its module list and memory map, the command line and
 * the GDT all move with the area. */
static void pvh_low(void **state)
{
	uint8_t buf[TINY_SIZE];
	const uint8_t ird[2000] = { 7, 8, 9 };
	struct vm v;
	const uint8_t *si;
	(void)state;
	build_pvh(buf);
	w64(PVH_PH_LOAD + PH_PADDR, 0x8000);
	w64(buf + XEN_NOTE + 16, 0x8010);
	vm_init(&v, 64 * MiB);
	memset(gp(&v, 0, 0x9F000), 0xA5, 0x9F000);
	assert_int_equal(load(&v, buf, sizeof(buf), ird, sizeof(ird), "pvh low"), 0);
	check_prot32(&v, 0x7F000);
	assert_string_equal(boot.format, "PVH ELF");
	assert_int_equal(boot.rip, 0x8010);
	assert_int_equal(boot.rbx, 0x7F000 + 0x8000);
	assert_int_equal(boot.boot_info, 0x7F000 + 0x8000);
	assert_memory_equal(gp(&v, 0x8000, 0x100), buf + 0x200, 0x100);
	for (unsigned i = 0x100; i < 0x3000; i++)
		assert_int_equal(*gp(&v, 0x8000 + i, 1), 0);
	si = gp(&v, boot.rbx, 0x38);
	assert_int_equal(r32(si), 0x336ec578);
	check_in_area(0x7F000, boot.rbx, 0x38);
	check_in_area(0x7F000, boot.gdt_base, 48);
	check_in_area(0x7F000, r64(si + 0x18), sizeof("pvh low"));
	assert_string_equal((const char *)gp(&v, r64(si + 0x18), 1), "pvh low");
	check_in_area(0x7F000, r64(si + 0x10), 32);
	check_in_area(0x7F000, r64(si + 0x28), 24 * r32(si + 0x30));
	check_e820_table(gp(&v, r64(si + 0x28), 24 * r32(si + 0x30)), r32(si + 0x30), 24, 0,
			 v.memory);
	assert_int_equal(r64(gp(&v, r64(si + 0x10), 8)), boot.initrd_addr);
	assert_true(boot.initrd_addr >= 0x7F000 + AREA_SIZE);
	assert_memory_equal(gp(&v, boot.initrd_addr, sizeof(ird)), ird, sizeof(ird));
	vm_free(&v);
}

/* Kernels that leave no 128 KiB of low RAM and nothing above them: refused, memory untouched. */
static void low_kernel_no_room(void **state)
{
	const uint64_t full[2][2] = { { 0x1000, 0x9E000 }, { 0x100000, 0x1EE1000 } };
	const uint64_t fits[2][2] = { { 0x1000, 0x9E000 }, { 0x100000, 0x1EE0000 } };
	const uint64_t small[2][2] = { { 0x1000, 0x9E000 }, { 0x100000, 0xF0000 } };
	uint8_t buf[TINY_SIZE];
	struct vm v;
	(void)state;
	vm_init(&v, 32 * MiB);
	memset(gp(&v, 0, 0x9F000), 0xA5, 0x9F000);
	build_mb_at(buf, full, 2);
	expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL,
		    "kernel at 0x1000-0x1fe1000 leaves no room for keel's 128 KiB boot area");
	assert_int_equal(*gp(&v, 0x1000, 1), 0xA5);
	/* one page less: the area just fits at the end of RAM, and no initrd does */
	build_mb_at(buf, fits, 2);
	assert_int_equal(load(&v, buf, sizeof(buf), NULL, 0, "end"), 0);
	check_mb_segments(&v, buf, fits, 2);
	check_mb_info(&v, 32 * MiB - AREA_SIZE, "end", NULL, 0);
	expect_fail(&v, buf, sizeof(buf), "x", 1, NULL, "initrd of 1 bytes does not fit");
	vm_free(&v);
	/* the smallest VM (2 MiB), 64 KiB of it left past the kernel */
	vm_init(&v, 2 * MiB);
	build_mb_at(buf, small, 2);
	expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL, "leaves no room for keel's");
	vm_free(&v);
	/* a PVH kernel in all of low RAM with a second segment to the end of RAM */
	vm_init(&v, 64 * MiB);
	build_pvh(buf);
	w64(PVH_PH_LOAD + PH_PADDR, 0);
	w64(PVH_PH_LOAD + PH_MEMSZ, 0x9F000);
	w64(buf + XEN_NOTE + 16, 0x10);
	{
		const struct seg_spec rest = { PT_LOAD, 0x200, 0, 0x100000, 0x10, 63 * MiB, 0 };
		uint8_t *p = buf + 64 + 112;
		w16(buf + 56, 3);
		w32(p, rest.type);
		w64(p + PH_OFFSET, rest.offset);
		w64(p + PH_PADDR, rest.paddr);
		w64(p + PH_FILESZ, rest.filesz);
		w64(p + PH_MEMSZ, rest.memsz);
	}
	expect_fail(&v, buf, sizeof(buf), NULL, 0, NULL,
		    "kernel at 0x0-0x4000000 leaves no room for keel's 128 KiB boot area");
	vm_free(&v);
}

/* ---- fuzz seeds ----------------------------------------------------------------------------- */

static void write_seed(const char *dir, const char *name, const void *data, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* The fuzz target (tests/fuzz/fuzz_loader.c) takes the input's last byte * 16 as the initrd
 * length, from the end of the input, and loads into 32 MiB. */
static void write_seeds(void **state)
{
	const char *dir = getenv("KEEL_LOADER_SEEDS");
	uint8_t buf[TINY_SIZE + 1];
	(void)state;
	build_pvh(buf);
	buf[TINY_SIZE] = 0;
	write_seed(dir, "tiny-pvh.elf", buf, sizeof(buf));
	build_mb(buf, false);
	buf[TINY_SIZE] = 4;
	write_seed(dir, "tiny-multiboot32.elf", buf, sizeof(buf));
	build_mb(buf, true);
	buf[TINY_SIZE] = 0;
	write_seed(dir, "tiny-multiboot64.elf", buf, sizeof(buf));
	build_kludge(buf);
	buf[TINY_SIZE] = 2;
	write_seed(dir, "multiboot-kludge.bin", buf, sizeof(buf));
	/* kernels in low memory: keel's boot area moves to 0x7F000, past the hole, or nowhere */
	{
		const uint64_t low[1][2] = { { 0x8000, 0x6000 } };
		const uint64_t hole[2][2] = { { 0x8000, 0x1000 }, { 0x200000, 0x1800 } };
		const uint64_t full[2][2] = { { 0x1000, 0x9E000 }, { 0x100000, 0x1EE1000 } };

		build_mb_at(buf, low, 1);
		buf[TINY_SIZE] = 3;
		write_seed(dir, "multiboot-low.elf", buf, sizeof(buf));
		build_mb_at(buf, hole, 2);
		buf[TINY_SIZE] = 1;
		write_seed(dir, "multiboot-past-hole.elf", buf, sizeof(buf));
		build_mb_at(buf, full, 2);
		buf[TINY_SIZE] = 0;
		write_seed(dir, "multiboot-no-room.elf", buf, sizeof(buf));
		build_kludge_at(buf, 0x2000, 0x9F000);
		buf[TINY_SIZE] = 2;
		write_seed(dir, "kludge-low.bin", buf, sizeof(buf));
		build_pvh(buf);
		w64(PVH_PH_LOAD + PH_PADDR, 0x8000);
		w64(buf + XEN_NOTE + 16, 0x8010);
		buf[TINY_SIZE] = 1;
		write_seed(dir, "pvh-low.elf", buf, sizeof(buf));
	}
	/* Debian's setup header, cut to 1 setup sector and 2 KiB of kernel, init_size 1 MiB, so
	 * the whole bzImage path runs in the fuzzer's 32 MiB */
	{
		size_t n = 1024 + 2048 + 1;
		uint8_t *k = calloc(1, n);
		memcpy(k, vmlinuz, 1024);
		k[0x1F1] = 1;
		w32(k + 0x1F4, 2048 / 16);
		w32(k + 0x260, 0x100000);
		memcpy(k + 1024, vmlinuz + bz_facts(vmlinuz).pm_offset, 2048);
		k[n - 1] = 8;
		write_seed(dir, "bzimage-head", k, n);
		free(k);
	}
}

static int setup(void **state)
{
	FILE *f;
	(void)state;
	vmlinuz = read_file(GUEST_DIR "vmlinuz", &vmlinuz_size);
	vmlinux = read_file(GUEST_DIR "vmlinux", &vmlinux_size);
	initrd = read_file(GUEST_DIR "initrd.gz", &initrd_size);
	f = fopen(GUEST_DIR "kernel-version", "r");
	if (f) {
		if (!fgets(kernel_version, sizeof(kernel_version), f))
			kernel_version[0] = 0;
		kernel_version[strcspn(kernel_version, "\n")] = 0;
		fclose(f);
	}
	return 0;
}

static void kernel_version_matches(void **state)
{
	(void)state;
	/* boot.rst: kernel_version (0x20E) points, from 0x200, at a string starting with the
	 * release, which tools/build-guest-images wrote into kernel-version */
	uint16_t off = r16(vmlinuz + 0x20E) + 0x200;
	assert_true(off + strlen(kernel_version) < vmlinuz_size);
	assert_memory_equal(vmlinuz + off, kernel_version, strlen(kernel_version));
	assert_true(strlen(kernel_version) > 0);
}

static int teardown(void **state)
{
	(void)state;
	free(vmlinuz);
	free(vmlinux);
	free(initrd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kernel_version_matches),
		cmocka_unit_test(pci_mmio64_window),
		cmocka_unit_test(bzimage_256m),
		cmocka_unit_test(bzimage_4g_no_initrd_no_cmdline),
		cmocka_unit_test(bzimage_small_vm_relocates),
		cmocka_unit_test(bzimage_truncated),
		cmocka_unit_test(bzimage_corrupt_headers),
		cmocka_unit_test(bzimage_initrd_and_cmdline_limits),
		cmocka_unit_test(pvh_256m),
		cmocka_unit_test(pvh_4g),
		cmocka_unit_test(pvh_truncated_and_too_small),
		cmocka_unit_test(tiny_pvh),
		cmocka_unit_test(tiny_pvh_corrupt),
		cmocka_unit_test(multiboot_elf),
		cmocka_unit_test(multiboot_kludge),
		cmocka_unit_test(multiboot_corrupt),
		cmocka_unit_test(misc_failures),
		cmocka_unit_test(multiboot_at_0x8000),
		cmocka_unit_test(multiboot_low_placements),
		cmocka_unit_test(kludge_low),
		cmocka_unit_test(pvh_low),
		cmocka_unit_test(low_kernel_no_room),
	};
	const struct CMUnitTest seeds[] = { cmocka_unit_test(write_seeds) };

	if (getenv("KEEL_LOADER_SEEDS"))
		return cmocka_run_group_tests(seeds, setup, teardown);
	return cmocka_run_group_tests(tests, setup, teardown);
}
