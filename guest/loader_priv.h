/* Shared by the loaders in guest/ only: the load context, the checked placement helpers, and
 * little-endian field access for file and boot-structure bytes (unaligned-safe). */
#ifndef KEEL_GUEST_LOADER_PRIV_H
#define KEEL_GUEST_LOADER_PRIV_H

#include "core/guest_layout.h"
#include "guest/elf.h"
#include "guest/loader.h"
#include "lib/kstring.h"

#define PAGE_SIZE 4096ull

/* A scratch stack top, as an offset in keel's boot area: the area's first page holds nothing of
 * keel's, and none of the three ABIs hands the kernel a stack, so this only catches a call made
 * before the kernel sets its own. */
#define BOOT_SCRATCH_STACK GUEST_GDT

/* keel's boot GDT (guest_write_gdt): one layout that serves every entry mode. __BOOT_CS and
 * __BOOT_DS are the selectors Linux's 64-bit boot protocol names (boot.rst). */
#define GDT_SEL_CODE32 0x08
#define GDT_SEL_CODE64 0x10 /* __BOOT_CS */
#define GDT_SEL_DATA 0x18   /* __BOOT_DS */
#define GDT_SEL_TSS 0x20    /* 16 bytes: a 64-bit system descriptor also spans 0x28 */
#define GDT_ENTRIES 6

struct load_ctx {
	const struct guest_mem *m;
	uint64_t memory;
	uint64_t low_end; /* end of the RAM below the MMIO hole */
	struct e820_entry e820[GUEST_E820_MAX];
	unsigned nr_e820;
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd; /* NULL when there is none */
	size_t initrd_size;
	const char *cmdline; /* never NULL */
	size_t cmdline_len;
	/* keel's boot area (core/guest_layout.h): [area, area + GUEST_BOOT_AREA_SIZE), 4 KiB
	 * aligned, below 4 GiB; 0 unless place_area() moved it away from the kernel */
	uint64_t area;
	char *err;
	size_t err_size;
};

/* Writes the message into c->err and returns -1. */
int load_fail(const struct load_ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* A size for a message: "512 bytes", "12 KiB", "900 MiB" (rounded up). */
struct size_str {
	char s[24];
};
struct size_str size_str(uint64_t bytes);

/* True when [gpa, gpa + len) lies inside one E820 RAM entry and inside one guest memory region. */
bool ram_range_ok(const struct load_ctx *c, uint64_t gpa, uint64_t len);

/* ram_range_ok(), and clear of keel's boot area. */
bool load_range_ok(const struct load_ctx *c, uint64_t gpa, uint64_t len);

/* Moves keel's boot area off the kernel's extent [lo, hi) (core/guest_layout.h says where it
 * may go); -1 with a message when no place fits. Call before anything is written. */
int place_area(struct load_ctx *c, uint64_t lo, uint64_t hi);

/* Validates every PT_LOAD of f (in the file, in RAM, clear of each other) without writing
 * anything. *lo, *hi: the lowest and highest address (exclusive) they occupy. */
int check_elf_segments(const struct load_ctx *c, const struct elf_file *f, uint64_t *lo,
		       uint64_t *hi);

/* Copies the PT_LOADs that check_elf_segments() accepted to p_paddr and zeroes their bss. */
int write_elf_segments(const struct load_ctx *c, const struct elf_file *f);

/* Puts the initrd page-aligned as high as possible in [above, limit) and records it in *out
 * (nothing when there is no initrd). what names the limit for the message. */
int load_initrd(const struct load_ctx *c, uint64_t above, uint64_t limit, const char *what,
		struct guest_boot *out);

/* Writes the command line (NUL-terminated) at GUEST_CMDLINE in the area; max is the longest
 * allowed. */
int load_cmdline(const struct load_ctx *c, uint64_t max, struct guest_boot *out);

/* Writes keel's boot GDT at GUEST_GDT in the area; fills gdt_base/limit, TR and LDTR in *out. */
int load_gdt(const struct load_ctx *c, struct guest_boot *out);

/* Flat 32-bit protected mode, paging off (pvh.pandoc "Initial state"; Multiboot 0.6.96, 3.2
 * "Machine state"): CS a 32-bit code segment, DS/ES/FS/GS/SS flat data. */
void entry_prot32(const struct load_ctx *c, struct guest_boot *out);

/* Long mode with keel's identity map (bzimage.c writes it): CS __BOOT_CS, the rest __BOOT_DS. */
void entry_long64(const struct load_ctx *c, struct guest_boot *out);

int bzimage_load(const struct load_ctx *c, struct guest_boot *out);
int pvh_load(struct load_ctx *c, const struct elf_file *f, uint32_t entry, struct guest_boot *out);
/* Finds a Multiboot v1 header (4-aligned, in the first 8 KiB, checksum good): its offset or -1. */
long multiboot_find_header(const uint8_t *data, size_t size);
int multiboot_load(struct load_ctx *c, const struct elf_file *f, size_t hdr_off,
		   struct guest_boot *out);
/* Probes for a PVH entry note: 1 with *entry, 0 when there is none, -1 (message) when malformed. */
int pvh_find_entry(const struct load_ctx *c, const struct elf_file *f, uint32_t *entry);

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void st8(uint8_t *p, uint8_t v)
{
	*p = v;
}

static inline void st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

#endif
