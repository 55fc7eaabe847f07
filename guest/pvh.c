/* The PVH boot ABI (Xen's docs/misc/pvh.pandoc; the structures: xen/include/public/arch-x86/hvm/
 * start_info.h; the note: public/elfnote.h). An ELF kernel that carries XEN_ELFNOTE_PHYS32_ENTRY
 * is loaded at its segments' physical addresses and entered at that address in flat 32-bit
 * protected mode with paging off, EBX pointing at hvm_start_info. Debian's vmlinux boots this way
 * (CONFIG_PVH), which is how keel runs Linux without the bzImage's decompressor. */
#include "guest/loader_priv.h"
#include "lib/fmt.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* struct hvm_start_info, version 1 (start_info.h): all fields little-endian */
#define HVM_START_MAGIC 0x336ec578 /* "xEn3" with the 0x80 bit of the "E" set */
#define SI_MAGIC 0x00
#define SI_VERSION 0x04
#define SI_FLAGS 0x08
#define SI_NR_MODULES 0x0C
#define SI_MODLIST_PADDR 0x10
#define SI_CMDLINE_PADDR 0x18
#define SI_RSDP_PADDR 0x20
#define SI_MEMMAP_PADDR 0x28 /* version 1 from here */
#define SI_MEMMAP_ENTRIES 0x30
#define SI_SIZE 0x38

/* struct hvm_modlist_entry: paddr, size, cmdline_paddr, reserved (8 bytes each) */
#define MOD_ENTRY_SIZE 32
#define PVH_MODLIST 0x100 /* from start_info's start, in the same page */

/* struct hvm_memmap_table_entry: addr, size (8 bytes each), type, reserved (4 each); the types
 * are E820's (XEN_HVM_MEMMAP_TYPE_RAM 1, _RESERVED 2, _ACPI 3 ...) */
#define MEMMAP_ENTRY_SIZE 24

int pvh_find_entry(const struct load_ctx *c, const struct elf_file *f, uint32_t *entry)
{
	const uint8_t *desc;
	uint32_t desc_size;
	uint64_t v;
	int r;

	r = elf_find_note(f, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &desc, &desc_size, c->err,
			  c->err_size);
	if (r <= 0)
		return r;
	/* a numeric Xen note: Linux emits a pointer-sized value (8 bytes in a 64-bit build) */
	if (desc_size == 4)
		v = ld32(desc);
	else if (desc_size == 8)
		v = ld64(desc);
	else
		return load_fail(c,
				 "PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) has %u bytes; "
				 "expected 4 or 8",
				 desc_size);
	if (v >= GUEST_4G)
		return load_fail(c,
				 "PVH entry 0x%llx is above 4 GiB; the 32-bit entry cannot "
				 "reach it",
				 (unsigned long long)v);
	*entry = (uint32_t)v;
	return 1;
}

/* True when addr lies inside a PT_LOAD's memory image. */
static bool in_loaded_segment(const struct elf_file *f, uint64_t addr)
{
	for (unsigned i = 0; i < f->phnum; i++) {
		struct elf_seg s;

		elf_phdr(f, i, &s);
		if (s.type == ELF_PT_LOAD && addr >= s.paddr && addr - s.paddr < s.memsz)
			return true;
	}
	return false;
}

int pvh_load(struct load_ctx *c, const struct elf_file *f, uint32_t entry, struct guest_boot *out)
{
	uint64_t lo = 0, hi = 0, info, memmap;
	uint8_t *si, *mm;

	if (check_elf_segments(c, f, &lo, &hi))
		return -1;
	if (!in_loaded_segment(f, entry))
		return load_fail(c, "PVH entry 0x%x is not inside any loaded segment", entry);
	/* pvh.pandoc places neither start_info nor the command line: keel's area goes where the
	 * kernel is not, then the kernel is written */
	if (place_area(c, lo, hi) || write_elf_segments(c, f))
		return -1;
	if (load_cmdline(c, GUEST_CMDLINE_MAX - 1, out))
		return -1;
	if (load_initrd(c, hi, GUEST_4G, "4 GiB", out))
		return -1;

	info = c->area + GUEST_BOOT_INFO;
	memmap = c->area + GUEST_BOOT_MEMMAP;
	/* each inside one page of the page-aligned area: always inside one host block
	 * (core/gmem.h) */
	si = gmem_ptr(c->m, info, PAGE_SIZE);
	mm = gmem_ptr(c->m, memmap, (uint64_t)c->nr_e820 * MEMMAP_ENTRY_SIZE);
	if (!si || !mm)
		return load_fail(c, "hvm_start_info could not be written");
	memset(si, 0, PAGE_SIZE);
	st32(si + SI_MAGIC, HVM_START_MAGIC);
	st32(si + SI_VERSION, 1);
	st32(si + SI_FLAGS, 0);
	st64(si + SI_CMDLINE_PADDR, out->cmdline_addr);
	st64(si + SI_RSDP_PADDR, GUEST_ACPI_BASE);
	if (out->initrd_size) {
		uint8_t *mod = si + PVH_MODLIST;

		st32(si + SI_NR_MODULES, 1);
		st64(si + SI_MODLIST_PADDR, info + PVH_MODLIST);
		st64(mod, out->initrd_addr);
		st64(mod + 8, out->initrd_size);
		/* cmdline_paddr 0: the initrd has no command line of its own */
	}
	st64(si + SI_MEMMAP_PADDR, memmap);
	st32(si + SI_MEMMAP_ENTRIES, c->nr_e820);
	for (unsigned i = 0; i < c->nr_e820; i++) {
		uint8_t *e = mm + (size_t)i * MEMMAP_ENTRY_SIZE;
		st64(e, c->e820[i].addr);
		st64(e + 8, c->e820[i].size);
		st32(e + 16, c->e820[i].type);
		st32(e + 20, 0);
	}

	if (load_gdt(c, out))
		return -1;
	entry_prot32(c, out);
	out->rip = entry;
	out->rbx = info;
	out->boot_info = info;
	out->kernel_start = lo;
	out->kernel_end = hi;
	kstrlcpy(out->format, "PVH ELF", sizeof(out->format));
	return 0;
}
