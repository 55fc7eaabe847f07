/* guest_load(): finds the kernel's format from its bytes and hands it to its loader; and the
 * placement helpers the three loaders share (checked ranges, ELF segments, initrd, command line,
 * keel's boot GDT, the flat 32-bit entry state). */
#include "guest/loader.h"

#include "guest/loader_priv.h"
#include "lib/fmt.h"

/* Segment descriptor bits 40..55 (Intel SDM vol 3A, 3.4.5 "Segment Descriptors", 3.4.5.1 "Code-
 * and Data-Segment Descriptor Types"); the accessed bit is set because VM entry requires it of
 * every usable code and data segment (SDM vol 3C, "Checks on Guest Segment Registers"). */
#define AR_CODE32 0xC09B /* G, D, P, S, type 0xB: execute/read, accessed */
#define AR_CODE64 0xA09B /* G, L, P, S, type 0xB */
#define AR_DATA 0xC093	 /* G, B, P, S, type 0x3: read/write, accessed */
#define AR_TSS 0x008B	 /* P, type 0xB: busy 32-bit (in long mode 64-bit) TSS ("TSS Descriptor") */
#define TSS_LIMIT 0x67	 /* the 104-byte 32-bit TSS; pvh.pandoc asks for exactly this limit */
#define FLAT_LIMIT 0xFFFFFFFFu

int load_fail(const struct load_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err && c->err_size) {
		va_start(ap, fmt);
		kvsnprintf(c->err, c->err_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

struct size_str size_str(uint64_t bytes)
{
	struct size_str r;

	if (bytes < KiB)
		ksnprintf(r.s, sizeof(r.s), "%llu bytes", (unsigned long long)bytes);
	else if (bytes < MiB)
		ksnprintf(r.s, sizeof(r.s), "%llu KiB",
			  (unsigned long long)((bytes + KiB - 1) / KiB));
	else
		ksnprintf(r.s, sizeof(r.s), "%llu MiB",
			  (unsigned long long)(bytes / MiB + (bytes % MiB != 0)));
	return r;
}

bool ram_range_ok(const struct load_ctx *c, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		return false;
	for (unsigned i = 0; i < c->nr_e820; i++) {
		const struct e820_entry *e = &c->e820[i];
		if (e->type == E820_RAM && gpa >= e->addr &&
		    range_within(gpa - e->addr, len, e->size))
			return gmem_covers(c->m, gpa, len);
	}
	return false;
}

bool load_range_ok(const struct load_ctx *c, uint64_t gpa, uint64_t len)
{
	/* c->area is below 4 GiB, so its end does not wrap */
	return ram_range_ok(c, gpa, len) &&
	       (gpa >= c->area + GUEST_BOOT_AREA_SIZE || (gpa < c->area && len <= c->area - gpa));
}

/* The area at base lies in low RAM (so every address the 32-bit entry hands over is below
 * 4 GiB) and clear of the kernel's extent [lo, hi). */
static bool area_fits(const struct load_ctx *c, uint64_t base, uint64_t lo, uint64_t hi)
{
	return base <= c->low_end && GUEST_BOOT_AREA_SIZE <= c->low_end - base &&
	       ram_range_ok(c, base, GUEST_BOOT_AREA_SIZE) &&
	       (base >= hi || (base <= lo && lo - base >= GUEST_BOOT_AREA_SIZE));
}

/* The first place that fits of: 0, where every other address keel reports stays as it always
 * was; the top of low RAM, below the legacy EBDA, which a kernel linked low usually leaves
 * alone; the lowest 4 KiB boundary in RAM above the kernel's end (in its RAM range, or at the
 * start of a later one). The extent is the whole [lo, hi), gaps between segments included: the
 * kernel may use all of it before it reads the memory map (struct guest_boot). */
int place_area(struct load_ctx *c, uint64_t lo, uint64_t hi)
{
	const uint64_t below[] = { 0, GUEST_LOW_RAM_END - GUEST_BOOT_AREA_SIZE };

	for (unsigned i = 0; i < ARRAY_SIZE(below); i++) {
		if (area_fits(c, below[i], lo, hi)) {
			c->area = below[i];
			return 0;
		}
	}
	/* guest_e820() lists its entries in address order, so the first fit is the lowest; hi is
	 * inside the VM's RAM (the kernel was checked), so aligning it up cannot wrap */
	for (unsigned i = 0; i < c->nr_e820; i++) {
		uint64_t base = ALIGN_UP(MAX(hi, c->e820[i].addr), PAGE_SIZE);

		if (c->e820[i].type == E820_RAM && area_fits(c, base, lo, hi)) {
			c->area = base;
			return 0;
		}
	}
	return load_fail(c,
			 "kernel at 0x%llx-0x%llx leaves no room for keel's %s boot area: not at "
			 "0x0 or 0x%llx, nor in RAM above the kernel and below 0x%llx",
			 (unsigned long long)lo, (unsigned long long)hi,
			 size_str(GUEST_BOOT_AREA_SIZE).s, (unsigned long long)below[1],
			 (unsigned long long)c->low_end);
}

/* Why [gpa, gpa + len) was refused, for the message. */
static const char *range_problem(const struct load_ctx *c, uint64_t gpa, uint64_t len)
{
	if (!range_within(gpa, len, UINT64_MAX))
		return "wraps around the address space";
	if (gpa + len > c->memory + (c->memory > GUEST_MMIO_HOLE ? GUEST_4G - GUEST_MMIO_HOLE : 0))
		return "lies beyond the VM's RAM";
	return "is not inside one RAM range of the VM's memory map";
}

int check_elf_segments(const struct load_ctx *c, const struct elf_file *f, uint64_t *lo,
		       uint64_t *hi)
{
	uint64_t low = UINT64_MAX, high = 0;
	unsigned loads = 0;

	/* Every segment is checked before anything is written, so a bad file leaves guest memory
	 * alone and keel's boot area can be placed off the kernel. */
	for (unsigned i = 0; i < f->phnum; i++) {
		struct elf_seg s;

		elf_phdr(f, i, &s);
		if (s.type != ELF_PT_LOAD)
			continue;
		if (s.filesz > s.memsz)
			return load_fail(
				c, "ELF segment %u: p_filesz 0x%llx is larger than p_memsz 0x%llx",
				i, (unsigned long long)s.filesz, (unsigned long long)s.memsz);
		if (!range_within(s.offset, s.filesz, f->size))
			return load_fail(
				c,
				"ELF segment %u: %llu bytes at file offset 0x%llx run past the "
				"end of the file (%zu bytes)",
				i, (unsigned long long)s.filesz, (unsigned long long)s.offset,
				f->size);
		if (s.memsz == 0)
			continue;
		if (!range_within(s.paddr, s.memsz, UINT64_MAX) ||
		    !ram_range_ok(c, s.paddr, s.memsz))
			return load_fail(c, "ELF segment %u at 0x%llx (%s) %s", i,
					 (unsigned long long)s.paddr, size_str(s.memsz).s,
					 range_problem(c, s.paddr, s.memsz));
		for (unsigned j = 0; j < i; j++) {
			struct elf_seg t;

			elf_phdr(f, j, &t);
			if (t.type == ELF_PT_LOAD && t.memsz && s.paddr < t.paddr + t.memsz &&
			    t.paddr < s.paddr + s.memsz)
				return load_fail(c, "ELF segments %u and %u overlap in memory", j,
						 i);
		}
		low = MIN(low, s.paddr);
		high = MAX(high, s.paddr + s.memsz);
		loads++;
	}
	if (!loads)
		return load_fail(c, "ELF has no loadable segment");
	*lo = low;
	*hi = high;
	return 0;
}

int write_elf_segments(const struct load_ctx *c, const struct elf_file *f)
{
	for (unsigned i = 0; i < f->phnum; i++) {
		struct elf_seg s;

		elf_phdr(f, i, &s);
		if (s.type != ELF_PT_LOAD || s.memsz == 0)
			continue;
		if (gmem_write(c->m, s.paddr, f->data + s.offset, s.filesz) ||
		    gmem_fill(c->m, s.paddr + s.filesz, 0, s.memsz - s.filesz))
			return load_fail(c, "ELF segment %u could not be written", i);
	}
	return 0;
}

int load_initrd(const struct load_ctx *c, uint64_t above, uint64_t limit, const char *what,
		struct guest_boot *out)
{
	uint64_t size = c->initrd_size, addr;

	out->initrd_addr = 0;
	out->initrd_size = 0;
	if (!c->initrd)
		return 0;
	if (limit > c->low_end) {
		limit = c->low_end;
		what = "the end of low RAM";
	}
	/* above keel's boot area too, where place_area() put it after the kernel; above is at
	 * most low_end here (the kernel and the area are in RAM), so no wrap */
	above = MAX(above, c->area + GUEST_BOOT_AREA_SIZE);
	above = ALIGN_UP(MIN(above, c->low_end), PAGE_SIZE);
	if (above > limit || size > limit - above ||
	    (addr = ALIGN_DOWN(limit - size, PAGE_SIZE)) < above || !load_range_ok(c, addr, size))
		return load_fail(c,
				 "initrd of %s does not fit below %s (0x%llx) and above the kernel "
				 "and keel's boot area (0x%llx)",
				 size_str(size).s, what, (unsigned long long)limit,
				 (unsigned long long)above);
	if (gmem_write(c->m, addr, c->initrd, size))
		return load_fail(c, "initrd could not be written");
	out->initrd_addr = addr;
	out->initrd_size = size;
	return 0;
}

int load_cmdline(const struct load_ctx *c, uint64_t max, struct guest_boot *out)
{
	max = MIN(max, GUEST_CMDLINE_MAX - 1);
	if (c->cmdline_len > max)
		return load_fail(c,
				 "command line of %zu%s bytes is longer than the %llu the kernel "
				 "accepts",
				 c->cmdline_len, c->cmdline_len >= GUEST_CMDLINE_MAX ? "+" : "",
				 (unsigned long long)max);
	if (gmem_write(c->m, c->area + GUEST_CMDLINE, c->cmdline, c->cmdline_len) ||
	    gmem_fill(c->m, c->area + GUEST_CMDLINE + c->cmdline_len, 0, 1))
		return load_fail(c, "command line could not be written");
	out->cmdline_addr = c->area + GUEST_CMDLINE;
	return 0;
}

/* A descriptor from its parts (SDM vol 3A, 3.4.5, figure "Segment Descriptor"): limit is the raw
 * 20-bit field, in 4 KiB units when G is set in ar. */
static uint64_t gdt_desc(uint32_t base, uint32_t limit, uint16_t ar)
{
	return (limit & 0xFFFFull) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)(ar & 0xFF) << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)((ar >> 12) & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

static struct guest_seg seg(uint16_t sel, uint16_t ar, uint32_t limit)
{
	return (struct guest_seg){ .sel = sel, .ar = ar, .limit = limit, .base = 0 };
}

int load_gdt(const struct load_ctx *c, struct guest_boot *out)
{
	uint64_t gdt[GDT_ENTRIES] = { 0 };

	gdt[GDT_SEL_CODE32 / 8] = gdt_desc(0, 0xFFFFF, AR_CODE32);
	gdt[GDT_SEL_CODE64 / 8] = gdt_desc(0, 0xFFFFF, AR_CODE64);
	gdt[GDT_SEL_DATA / 8] = gdt_desc(0, 0xFFFFF, AR_DATA);
	/* the upper half of the 16-byte long-mode TSS descriptor (base 63:32) stays 0 */
	gdt[GDT_SEL_TSS / 8] = gdt_desc(0, TSS_LIMIT, AR_TSS);
	if (gmem_write(c->m, c->area + GUEST_GDT, gdt, sizeof(gdt)))
		return load_fail(c, "boot GDT could not be written");
	out->gdt_base = c->area + GUEST_GDT;
	out->gdt_limit = sizeof(gdt) - 1;
	out->tr = seg(GDT_SEL_TSS, AR_TSS, TSS_LIMIT);
	out->ldtr = seg(0, 0, 0);
	return 0;
}

static void flat_data(struct guest_boot *out)
{
	out->ds = out->es = out->fs = out->gs = out->ss = seg(GDT_SEL_DATA, AR_DATA, FLAT_LIMIT);
}

void entry_prot32(const struct load_ctx *c, struct guest_boot *out)
{
	out->mode = GUEST_ENTRY_PROT32;
	out->cr0 = 0x11; /* PE, and ET, which reads as 1 on every CPU since the 486 */
	out->cr3 = out->cr4 = out->efer = 0;
	out->rflags = 0x2; /* IF, TF and VM clear; bit 1 is always 1 */
	out->rsp = c->area + BOOT_SCRATCH_STACK;
	out->cs = seg(GDT_SEL_CODE32, AR_CODE32, FLAT_LIMIT);
	flat_data(out);
}

void entry_long64(const struct load_ctx *c, struct guest_boot *out)
{
	out->mode = GUEST_ENTRY_LONG64;
	out->cr0 = 0x80000031; /* PG, NE, ET, PE */
	out->cr3 = c->area + GUEST_PAGE_TABLES;
	out->cr4 = 0x20;   /* PAE */
	out->efer = 0x500; /* LMA, LME */
	out->rflags = 0x2; /* interrupts off */
	out->rsp = c->area + BOOT_SCRATCH_STACK;
	out->cs = seg(GDT_SEL_CODE64, AR_CODE64, FLAT_LIMIT);
	flat_data(out);
}

static bool is_bzimage(const uint8_t *k, size_t size)
{
	/* boot.rst: boot_flag 0xAA55 at 0x1FE, "HdrS" at 0x202 */
	return size >= 0x206 && ld16(k + 0x1FE) == 0xAA55 && memcmp(k + 0x202, "HdrS", 4) == 0;
}

int guest_load(const struct guest_mem *m, uint64_t memory, const void *kernel, size_t kernel_size,
	       const void *initrd, size_t initrd_size, const char *cmdline, struct guest_boot *out,
	       char *err, size_t err_size)
{
	struct load_ctx c = { .m = m, .memory = memory, .err = err, .err_size = err_size };
	uint64_t gpa[2], size[2];
	struct elf_file elf;
	const struct elf_file *fp = NULL;
	unsigned nr;
	long mb;

	if (err && err_size)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (!kernel || kernel_size == 0)
		return load_fail(&c, "kernel file is empty");
	if (memory < 2 * MiB)
		return load_fail(&c, "VM memory of %s is too small; expected at least 2 MiB",
				 size_str(memory).s);
	nr = guest_ram_regions(memory, gpa, size);
	for (unsigned i = 0; i < nr; i++)
		if (!gmem_covers(m, gpa[i], size[i]))
			return load_fail(&c,
					 "guest memory does not cover the VM's RAM at 0x%llx (%s)",
					 (unsigned long long)gpa[i], size_str(size[i]).s);
	c.low_end = size[0];
	c.nr_e820 = guest_e820(memory, c.e820);
	c.kernel = kernel;
	c.kernel_size = kernel_size;
	if (initrd && initrd_size) {
		c.initrd = initrd;
		c.initrd_size = initrd_size;
	}
	c.cmdline = cmdline ? cmdline : "";
	c.cmdline_len = kstrnlen(c.cmdline, GUEST_CMDLINE_MAX);

	if (is_bzimage(c.kernel, kernel_size))
		return bzimage_load(&c, out);
	if (elf_is_elf(kernel, kernel_size)) {
		uint32_t entry;
		int r;

		if (elf_open(&elf, kernel, kernel_size, err, err_size))
			return -1;
		r = pvh_find_entry(&c, &elf, &entry);
		if (r < 0)
			return -1;
		if (r > 0)
			return pvh_load(&c, &elf, entry, out);
		fp = &elf;
	}
	mb = multiboot_find_header(c.kernel, kernel_size);
	if (mb >= 0)
		return multiboot_load(&c, fp, (size_t)mb, out);
	if (fp)
		return load_fail(&c, "ELF kernel has neither a PVH entry note "
				     "(XEN_ELFNOTE_PHYS32_ENTRY) nor a Multiboot header");
	return load_fail(&c,
			 "kernel is not a bzImage, an ELF with a PVH entry note, or a Multiboot "
			 "image (no known magic)");
}
