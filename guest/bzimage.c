/* Linux bzImage through the 64-bit boot protocol (Documentation/arch/x86/boot.rst, "64-bit BOOT
 * PROTOCOL"; the zero page: Documentation/arch/x86/zero-page.rst). keel skips the real-mode setup
 * code: it copies the protected-mode kernel, fills boot_params itself and starts the vCPU in long
 * mode at the kernel's 64-bit entry, load address + 0x200. */
#include "guest/loader_priv.h"
#include "lib/fmt.h"

/* Setup header fields (boot.rst "THE REAL-MODE KERNEL HEADER"). The header is copied to the same
 * offset in boot_params, so one offset names the field in both. */
#define HDR_START 0x1F1 /* setup_sects: the header's first byte */
#define HDR_SYSSIZE 0x1F4
#define HDR_JUMP 0x200
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21C
#define HDR_HEAP_END_PTR 0x224
#define HDR_EXT_LOADER_VER 0x226
#define HDR_EXT_LOADER_TYPE 0x227
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_SETUP_DATA 0x250
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_END_MIN 0x264 /* through init_size, the last field keel reads (protocol 2.10) */
#define HDR_END_MAX 0x290 /* boot_params holds the header up to edd_mbr_sig_buffer at 0x290 */

#define LOADED_HIGH 0x01      /* loadflags: protected-mode code at 0x100000 (a bzImage) */
#define CAN_USE_HEAP 0x80     /* loadflags: heap_end_ptr is valid */
#define XLF_KERNEL_64 0x01    /* xloadflags: the 64-bit entry at 0x200 exists */
#define LOADER_UNDEFINED 0xFF /* type_of_loader: a boot loader with no assigned ID */
/* heap_end_ptr: the end of the setup heap relative to the real-mode code, minus 0x200; only the
 * real-mode setup code uses it, which keel skips: the customary full 64 KiB segment */
#define HEAP_END 0xFE00

/* boot_params fields outside the setup header (zero-page.rst). */
#define BP_SIZE 4096
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define BP_E820_ENTRY_SIZE 20 /* addr, size: 8 bytes each; type: 4 */

#define PROTOCOL_MIN 0x020C  /* 2.12: xloadflags, the 64-bit entry flag */
#define PROTOCOL_RSDP 0x020E /* 2.14: acpi_rsdp_addr */

/* Paging-structure entry bits (Intel SDM vol 3A, 4.5 "4-Level Paging", tables "Format of a
 * PML4 Entry", "... a PDPTE that References a Page Directory", "... a PDE that Maps a 2-MByte
 * Page"). */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

/* Identity map of the first 4 GiB with 2 MiB pages: PML4 -> one PDPT -> four page directories,
 * six pages from GUEST_PAGE_TABLES. boot.rst asks for the kernel's init_size range, the zero page
 * and the command line to be identity mapped; 4 GiB covers all low RAM. 2 MiB pages need no
 * CPUID check, unlike 1 GiB pages. */
static int write_page_tables(const struct load_ctx *c)
{
	uint64_t base = c->area + GUEST_PAGE_TABLES;
	uint8_t e[8];
	bool bad;

	/* entry by entry: the six pages may lie in different host blocks (core/gmem.h) */
	bad = gmem_fill(c->m, base, 0, 6 * PAGE_SIZE) != 0;
	st64(e, (base + PAGE_SIZE) | PTE_P | PTE_RW);
	bad |= gmem_write(c->m, base, e, 8) != 0;
	for (uint64_t i = 0; i < 4; i++) {
		st64(e, (base + (2 + i) * PAGE_SIZE) | PTE_P | PTE_RW);
		bad |= gmem_write(c->m, base + PAGE_SIZE + 8 * i, e, 8) != 0;
	}
	for (uint64_t i = 0; i < 4 * 512ull; i++) {
		st64(e, (i * 2 * MiB) | PTE_P | PTE_RW | PTE_PS);
		bad |= gmem_write(c->m, base + 2 * PAGE_SIZE + 8 * i, e, 8) != 0;
	}
	if (bad)
		return load_fail(c, "boot page tables could not be written");
	return 0;
}

/* Where the protected-mode kernel goes (boot.rst "pref_address", "relocatable_kernel",
 * "kernel_alignment", "init_size"): a relocatable kernel at pref_address when the whole init_size
 * fits there, else at the lowest kernel_alignment boundary from 1 MiB; a fixed kernel at 1 MiB,
 * from where it moves itself to pref_address. [*start, *end) is all it may use before it reads the
 * memory map. */
static int place_kernel(const struct load_ctx *c, const uint8_t *k, uint64_t pm_size,
			uint64_t *load, uint64_t *start, uint64_t *end)
{
	uint64_t init_size = ld32(k + HDR_INIT_SIZE), align = ld32(k + HDR_KERNEL_ALIGNMENT);
	uint64_t pref = ld64(k + HDR_PREF_ADDRESS);
	uint64_t need = MAX(init_size, pm_size);

	if (k[HDR_RELOCATABLE]) {
		if (align == 0 || (align & (align - 1)) || align > GiB)
			return load_fail(c,
					 "bzImage kernel_alignment 0x%llx is not a power of two "
					 "up to 1 GiB",
					 (unsigned long long)align);
		if (pref >= GUEST_HIGH_RAM_BASE && IS_ALIGNED(pref, align) &&
		    range_within(pref, need, c->low_end) && load_range_ok(c, pref, need))
			*load = pref;
		else
			*load = ALIGN_UP(GUEST_HIGH_RAM_BASE, align);
		*start = *load;
		*end = *load + need; /* load <= 1 GiB and need < 4 GiB: no wrap */
	} else {
		if (pref < GUEST_HIGH_RAM_BASE || !range_within(pref, init_size, UINT64_MAX))
			return load_fail(c,
					 "non-relocatable bzImage wants to run at 0x%llx; expected "
					 "1 MiB or above",
					 (unsigned long long)pref);
		*load = GUEST_HIGH_RAM_BASE;
		*start = GUEST_HIGH_RAM_BASE;
		*end = MAX(*load + pm_size, pref + init_size);
	}
	if (*end > c->low_end || !load_range_ok(c, *start, *end - *start))
		return load_fail(c,
				 "bzImage needs %s (init_size) from 0x%llx, more than the VM's %s "
				 "of RAM below 3 GiB hold",
				 size_str(*end - *start).s, (unsigned long long)*start,
				 size_str(c->low_end).s);
	return 0;
}

static int check_header(const struct load_ctx *c, size_t *hdr_end)
{
	const uint8_t *k = c->kernel;
	size_t size = c->kernel_size;
	unsigned version;

	if (size < HDR_VERSION + 2)
		return load_fail(c, "bzImage is truncated inside its setup header (%zu bytes)",
				 size);
	version = ld16(k + HDR_VERSION);
	if (version < PROTOCOL_MIN)
		return load_fail(c, "bzImage setup header %u.%u is too old; expected 2.12 or later",
				 version >> 8, version & 0xFF);
	/* the header's length: it ends at 0x202 + the displacement of the short jump at 0x200
	 * (boot.rst "64-bit BOOT PROTOCOL") */
	if (k[HDR_JUMP] != 0xEB)
		return load_fail(c, "bzImage has no short jump at 0x200 to size its setup header");
	*hdr_end = 0x202 + (size_t)k[HDR_JUMP + 1];
	if (*hdr_end < HDR_END_MIN)
		return load_fail(c,
				 "bzImage setup header ends at 0x%zx, before init_size (it must "
				 "reach 0x%x)",
				 *hdr_end, HDR_END_MIN);
	if (*hdr_end > size)
		return load_fail(c,
				 "bzImage is truncated inside its setup header (%zu bytes, header "
				 "ends at 0x%zx)",
				 size, *hdr_end);
	*hdr_end = MIN(*hdr_end, (size_t)HDR_END_MAX);
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return load_fail(c, "zImage (loaded low, loadflags bit 0 clear) is not supported; "
				    "expected a bzImage");
	if (!(ld16(k + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return load_fail(c, "bzImage has no 64-bit entry point (xloadflags bit 0 clear); "
				    "keel starts Linux in 64-bit mode");
	return 0;
}

int bzimage_load(const struct load_ctx *c, struct guest_boot *out)
{
	const uint8_t *k = c->kernel;
	size_t hdr_end = 0;
	uint64_t setup_size, pm_size, load = 0, start = 0, end = 0, limit;
	unsigned setup_sects, version;
	uint8_t *bp;

	if (check_header(c, &hdr_end))
		return -1;
	version = ld16(k + HDR_VERSION);
	/* setup_sects 0 means 4 (boot.rst "setup_sects"); plus the boot sector */
	setup_sects = k[HDR_START] ? k[HDR_START] : 4;
	setup_size = (setup_sects + 1) * 512ull;
	pm_size = ld32(k + HDR_SYSSIZE) * 16ull; /* syssize: 16-byte paragraphs (2.04+) */
	if (pm_size == 0)
		return load_fail(c, "bzImage syssize is 0: no protected-mode kernel");
	if (!range_within(setup_size, pm_size, c->kernel_size))
		return load_fail(
			c,
			"bzImage is truncated: setup (%s) and kernel (%s) need %llu bytes, "
			"the file has %zu",
			size_str(setup_size).s, size_str(pm_size).s,
			(unsigned long long)setup_size + pm_size, c->kernel_size);
	if (place_kernel(c, k, pm_size, &load, &start, &end))
		return -1;
	if (load_cmdline(c, ld32(k + HDR_CMDLINE_SIZE), out))
		return -1;
	/* initrd_addr_max is the highest address the initrd may occupy (inclusive) */
	limit = (uint64_t)ld32(k + HDR_INITRD_ADDR_MAX) + 1;
	if (load_initrd(c, end, limit, "initrd_addr_max", out))
		return -1;
	if (gmem_write(c->m, load, k + setup_size, pm_size))
		return load_fail(c, "bzImage kernel could not be written");

	/* boot_params: zeroed, then the file's setup header, then what a boot loader fills in */
	/* one page at a page-aligned address: always inside one host block (core/gmem.h) */
	bp = gmem_ptr(c->m, c->area + GUEST_BOOT_INFO, BP_SIZE);
	if (!bp)
		return load_fail(c, "boot_params could not be written");
	memset(bp, 0, BP_SIZE);
	memcpy(bp + HDR_START, k + HDR_START, hdr_end - HDR_START);
	st8(bp + HDR_TYPE_OF_LOADER, LOADER_UNDEFINED);
	st8(bp + HDR_EXT_LOADER_VER, 0);
	st8(bp + HDR_EXT_LOADER_TYPE, 0);
	st8(bp + HDR_LOADFLAGS, bp[HDR_LOADFLAGS] | CAN_USE_HEAP);
	st16(bp + HDR_HEAP_END_PTR, HEAP_END);
	st32(bp + HDR_CMD_LINE_PTR, (uint32_t)out->cmdline_addr);
	st32(bp + HDR_RAMDISK_IMAGE, (uint32_t)out->initrd_addr);
	st32(bp + HDR_RAMDISK_SIZE, (uint32_t)out->initrd_size);
	st64(bp + HDR_SETUP_DATA, 0); /* no setup_data list, whatever the file says */
	if (version >= PROTOCOL_RSDP)
		st64(bp + BP_ACPI_RSDP_ADDR, GUEST_ACPI_BASE);
	st8(bp + BP_E820_ENTRIES, (uint8_t)c->nr_e820);
	for (unsigned i = 0; i < c->nr_e820; i++) {
		uint8_t *e = bp + BP_E820_TABLE + (size_t)i * BP_E820_ENTRY_SIZE;
		st64(e, c->e820[i].addr);
		st64(e + 8, c->e820[i].size);
		st32(e + 16, c->e820[i].type);
	}

	if (write_page_tables(c) || load_gdt(c, out))
		return -1;
	entry_long64(c, out);
	out->rip = load + 0x200;
	out->rsi = c->area + GUEST_BOOT_INFO;
	out->boot_info = c->area + GUEST_BOOT_INFO;
	out->kernel_start = start;
	out->kernel_end = end;
	ksnprintf(out->format, sizeof(out->format), "bzImage %u.%u", version >> 8, version & 0xFF);
	return 0;
}
