/* Multiboot v1 (the Multiboot Specification 0.6.96): keel's tiny test guests (tests/guests/) are
 * Multiboot ELF32 kernels. The image is loaded from its ELF program headers, or from the header's
 * address fields (the "a.out kludge", flags bit 16), and entered in flat 32-bit protected mode
 * with paging off, EAX = 0x2BADB002 and EBX = the multiboot_info structure (3.2 "Machine
 * state"). */
#include "guest/loader_priv.h"
#include "lib/fmt.h"

/* 3.1.1 "The layout of Multiboot header" */
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_SEARCH_END 8192 /* the header lies wholly in the first 8 KiB, 4-byte aligned */
#define MB_HDR_FLAGS 4
#define MB_HDR_HEADER_ADDR 12 /* the address fields, valid with MB_FLAG_AOUT_KLUDGE */
#define MB_HDR_LOAD_ADDR 16
#define MB_HDR_LOAD_END_ADDR 20
#define MB_HDR_BSS_END_ADDR 24
#define MB_HDR_ENTRY_ADDR 28
#define MB_HDR_SIZE_BASIC 12
#define MB_HDR_SIZE_ADDR 32
#define MB_HDR_SIZE_VIDEO 48

/* 3.1.2 "The magic fields of Multiboot header": bits 0-15 are requirements a loader must refuse
 * when it does not know them; 16-31 are optional. */
#define MB_FLAG_PAGE_ALIGN 0x1	/* modules page aligned: keel always does */
#define MB_FLAG_MEMORY_INFO 0x2 /* mem_* (and mmap): keel always gives them */
#define MB_FLAG_VIDEO_MODE 0x4	/* a video mode: keel's VMs have no display, so none is set */
#define MB_FLAG_AOUT_KLUDGE 0x10000
#define MB_FLAGS_REQUIRED_KNOWN 0x7

/* 3.3 "Boot information format" */
#define MB_BOOTLOADER_MAGIC 0x2BADB002
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_F_MEM 0x1
#define MBI_F_CMDLINE 0x4
#define MBI_F_MODS 0x8
#define MBI_F_MMAP 0x40
#define MBI_F_LOADER_NAME 0x200
#define MB_MOD_SIZE 16 /* mod_start, mod_end (exclusive), string, reserved */
/* mmap entries: size (of the rest: 20), base_addr, length, type */
#define MB_MMAP_ENTRY_SIZE 24

/* where the pieces go in keel's boot-info page, from its start */
#define MB_MODS 0x100
#define MB_MOD_STRING 0x200
#define MB_LOADER_NAME 0x240

long multiboot_find_header(const uint8_t *data, size_t size)
{
	size_t end = MIN(size, (size_t)MB_SEARCH_END);

	for (size_t off = 0; off + MB_HDR_SIZE_BASIC <= end; off += 4) {
		uint32_t magic = ld32(data + off), flags = ld32(data + off + 4);

		/* the checksum makes magic + flags + checksum zero (mod 2^32) */
		if (magic == MB_HEADER_MAGIC &&
		    (uint32_t)(magic + flags + ld32(data + off + 8)) == 0)
			return (long)off;
	}
	return -1;
}

/* An a.out-kludge image: image_len bytes from file offset image_off go to load_addr; the bss
 * runs to mem_end. */
struct kludge {
	uint64_t image_off, image_len, load_addr, mem_end, entry;
};

/* The a.out kludge (3.1.3 "The address fields of Multiboot header"): header_addr is where the
 * header itself lands, which ties file offsets to addresses; load_end_addr 0 means the rest of
 * the file, bss_end_addr 0 means no bss. Checks only: nothing is written yet. */
static int check_kludge(const struct load_ctx *c, const uint8_t *h, size_t hdr_off,
			struct kludge *k)
{
	uint64_t header_addr = ld32(h + MB_HDR_HEADER_ADDR), load_addr = ld32(h + MB_HDR_LOAD_ADDR);
	uint64_t load_end = ld32(h + MB_HDR_LOAD_END_ADDR), bss_end = ld32(h + MB_HDR_BSS_END_ADDR);
	uint64_t image_off, load_len, mem_end, entry = ld32(h + MB_HDR_ENTRY_ADDR);

	if (load_addr > header_addr || header_addr - load_addr > hdr_off)
		return load_fail(c,
				 "Multiboot load_addr 0x%llx does not fit header_addr 0x%llx and "
				 "the header's file offset 0x%zx",
				 (unsigned long long)load_addr, (unsigned long long)header_addr,
				 hdr_off);
	image_off = hdr_off - (header_addr - load_addr);
	if (load_end == 0)
		load_len = c->kernel_size - image_off;
	else if (load_end > load_addr)
		load_len = load_end - load_addr;
	else
		return load_fail(c, "Multiboot load_end_addr 0x%llx is not above load_addr 0x%llx",
				 (unsigned long long)load_end, (unsigned long long)load_addr);
	if (!range_within(image_off, load_len, c->kernel_size))
		return load_fail(c,
				 "Multiboot image of %s at file offset 0x%llx runs past the end "
				 "of the file (%zu bytes)",
				 size_str(load_len).s, (unsigned long long)image_off,
				 c->kernel_size);
	mem_end = load_addr + load_len;
	if (bss_end) {
		if (bss_end < mem_end)
			return load_fail(
				c,
				"Multiboot bss_end_addr 0x%llx is below the loaded image's "
				"end 0x%llx",
				(unsigned long long)bss_end, (unsigned long long)mem_end);
		mem_end = bss_end;
	}
	if (!ram_range_ok(c, load_addr, mem_end - load_addr))
		return load_fail(c, "Multiboot image at 0x%llx (%s) is not inside the VM's RAM",
				 (unsigned long long)load_addr, size_str(mem_end - load_addr).s);
	if (entry < load_addr || entry >= mem_end)
		return load_fail(c, "Multiboot entry_addr 0x%llx is outside the loaded image",
				 (unsigned long long)entry);
	*k = (struct kludge){ image_off, load_len, load_addr, mem_end, entry };
	return 0;
}

static int write_kludge(const struct load_ctx *c, const struct kludge *k)
{
	if (gmem_write(c->m, k->load_addr, c->kernel + k->image_off, k->image_len) ||
	    gmem_fill(c->m, k->load_addr + k->image_len, 0,
		      k->mem_end - k->load_addr - k->image_len))
		return load_fail(c, "Multiboot image could not be written");
	return 0;
}

/* e_entry is a virtual address: the segment holding it gives its physical one (GRUB does the
 * same; for the usual identity-linked kernel the two are equal). */
static int elf_entry_phys(const struct load_ctx *c, const struct elf_file *f, uint64_t *entry)
{
	for (unsigned i = 0; i < f->phnum; i++) {
		struct elf_seg s;

		elf_phdr(f, i, &s);
		if (s.type == ELF_PT_LOAD && f->entry >= s.vaddr && f->entry - s.vaddr < s.memsz) {
			*entry = f->entry - s.vaddr + s.paddr;
			return 0;
		}
	}
	return load_fail(c, "Multiboot ELF entry 0x%llx is not inside any loaded segment",
			 (unsigned long long)f->entry);
}

static int write_info(const struct load_ctx *c, const struct guest_boot *out)
{
	uint64_t info = c->area + GUEST_BOOT_INFO, memmap = c->area + GUEST_BOOT_MEMMAP;
	/* each inside one page of the page-aligned area: always inside one host block
	 * (core/gmem.h) */
	uint8_t *mbi = gmem_ptr(c->m, info, PAGE_SIZE);
	uint8_t *mm = gmem_ptr(c->m, memmap, (uint64_t)c->nr_e820 * MB_MMAP_ENTRY_SIZE);
	uint32_t flags = MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MMAP | MBI_F_LOADER_NAME;

	if (!mbi || !mm)
		return load_fail(c, "multiboot_info could not be written");
	memset(mbi, 0, PAGE_SIZE);
	/* KiB below 640 KiB, and from 1 MiB up to the first hole (3.3, mem_lower/mem_upper) */
	st32(mbi + MBI_MEM_LOWER, (uint32_t)(GUEST_LOW_RAM_END / KiB));
	st32(mbi + MBI_MEM_UPPER, (uint32_t)((c->low_end - GUEST_HIGH_RAM_BASE) / KiB));
	st32(mbi + MBI_CMDLINE, (uint32_t)out->cmdline_addr);
	if (out->initrd_size) {
		uint8_t *mod = mbi + MB_MODS;

		flags |= MBI_F_MODS;
		st32(mbi + MBI_MODS_COUNT, 1);
		st32(mbi + MBI_MODS_ADDR, (uint32_t)(info + MB_MODS));
		st32(mod, (uint32_t)out->initrd_addr);
		st32(mod + 4, (uint32_t)(out->initrd_addr + out->initrd_size));
		st32(mod + 8, (uint32_t)(info + MB_MOD_STRING));
		memcpy(mbi + MB_MOD_STRING, "initrd", sizeof("initrd"));
	}
	st32(mbi + MBI_MMAP_LENGTH, c->nr_e820 * MB_MMAP_ENTRY_SIZE);
	st32(mbi + MBI_MMAP_ADDR, (uint32_t)memmap);
	for (unsigned i = 0; i < c->nr_e820; i++) {
		uint8_t *e = mm + (size_t)i * MB_MMAP_ENTRY_SIZE;
		st32(e, MB_MMAP_ENTRY_SIZE - 4);
		st64(e + 4, c->e820[i].addr);
		st64(e + 12, c->e820[i].size);
		st32(e + 20, c->e820[i].type);
	}
	st32(mbi + MBI_BOOT_LOADER_NAME, (uint32_t)(info + MB_LOADER_NAME));
	memcpy(mbi + MB_LOADER_NAME, "keel", sizeof("keel"));
	st32(mbi + MBI_FLAGS, flags);
	return 0;
}

int multiboot_load(struct load_ctx *c, const struct elf_file *f, size_t hdr_off,
		   struct guest_boot *out)
{
	const uint8_t *h = c->kernel + hdr_off;
	uint32_t flags = ld32(h + MB_HDR_FLAGS);
	size_t hdr_size = (flags & MB_FLAG_VIDEO_MODE)	  ? MB_HDR_SIZE_VIDEO
			  : (flags & MB_FLAG_AOUT_KLUDGE) ? MB_HDR_SIZE_ADDR
							  : MB_HDR_SIZE_BASIC;
	uint64_t lo = 0, hi = 0, entry = 0;
	struct kludge k = { 0 };

	if (hdr_off + hdr_size > MIN(c->kernel_size, (size_t)MB_SEARCH_END))
		return load_fail(c,
				 "Multiboot header at 0x%zx is cut off (it needs %zu bytes within "
				 "the first 8 KiB of the file)",
				 hdr_off, hdr_size);
	if (flags & 0xFFFF & ~MB_FLAGS_REQUIRED_KNOWN)
		return load_fail(c,
				 "Multiboot header requires features keel does not know (flags "
				 "0x%x; known: bits 0-2)",
				 flags);
	if (flags & MB_FLAG_AOUT_KLUDGE) {
		if (check_kludge(c, h, hdr_off, &k))
			return -1;
		lo = k.load_addr;
		hi = k.mem_end;
		entry = k.entry;
		kstrlcpy(out->format, "Multiboot a.out kludge", sizeof(out->format));
	} else if (f) {
		if (check_elf_segments(c, f, &lo, &hi) || elf_entry_phys(c, f, &entry))
			return -1;
		kstrlcpy(out->format, "Multiboot ELF", sizeof(out->format));
	} else {
		return load_fail(c, "Multiboot image without address fields (flags bit 16) must be "
				    "an ELF");
	}
	/* everything must be reachable from 32-bit protected mode */
	if (hi > GUEST_4G || entry >= GUEST_4G)
		return load_fail(c, "Multiboot kernel reaches above 4 GiB (ends at 0x%llx)",
				 (unsigned long long)hi);
	/* the boot information and what it points at may lie anywhere in memory (3.3): keel's
	 * area goes where the kernel is not, then the kernel is written */
	if (place_area(c, lo, hi))
		return -1;
	if ((flags & MB_FLAG_AOUT_KLUDGE) ? write_kludge(c, &k) : write_elf_segments(c, f))
		return -1;
	if (load_cmdline(c, GUEST_CMDLINE_MAX - 1, out) ||
	    load_initrd(c, hi, GUEST_4G, "4 GiB", out) || write_info(c, out) || load_gdt(c, out))
		return -1;
	entry_prot32(c, out);
	out->rip = entry;
	out->rax = MB_BOOTLOADER_MAGIC;
	out->rbx = c->area + GUEST_BOOT_INFO;
	out->boot_info = c->area + GUEST_BOOT_INFO;
	out->kernel_start = lo;
	out->kernel_end = hi;
	return 0;
}
