/* The Multiboot2 boot information (Multiboot2 spec 1.0, 3.6) as GRUB hands it to keel.elf, and
 * the memory map keel builds from it. Firmware input is untrusted all the same: the parser checks
 * every tag against the structure's total size, the 8-byte tag alignment and its own minimum
 * size before it reads a field, and copies out only what keel uses. Pure logic: host-tested in
 * tests/unit/test_mb2.c and fuzzed by tests/fuzz/fuzz_mb2.c. */
#ifndef KEEL_BOOT_MB2_MB2_PARSE_H
#define KEEL_BOOT_MB2_MB2_PARSE_H

#include "core/boot_info.h"
#include "lib/types.h"

#define MB2_BOOTLOADER_MAGIC 0x36D76289u
/* keel reads nothing bigger; GRUB's structures are a few KiB plus the module strings. */
#define MB2_INFO_MAX (1u * 1024 * 1024)
#define MB2_MAX_MMAP 256
/* keel.cfg and every file it may name */
#define MB2_MAX_MODULES (1 + BOOT_MAX_MODULES)
#define MB2_RSDP_MAX 64 /* bytes of the RSDP copy kept: 36 for ACPI 2.0 and later */

/* Tag types (3.6.x) */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

/* Memory-map entry types (3.6.8; the BIOS E820 types) */
#define MB2_MEM_AVAILABLE 1
#define MB2_MEM_RESERVED 2
#define MB2_MEM_ACPI_RECLAIMABLE 3
#define MB2_MEM_NVS 4
#define MB2_MEM_BADRAM 5

struct mb2_mmap_entry {
	uint64_t base, len;
	uint32_t type;
};

struct mb2_module {
	uint32_t start, end; /* physical, end exclusive, end >= start */
	const char *string;  /* NUL-terminated inside its tag */
};

struct mb2_framebuffer {
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, type; /* type 0 indexed, 1 direct RGB, 2 EGA text */
	/* direct RGB only (type 1) */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct mb2_info {
	uint32_t total_size;
	const char *cmdline;	 /* NULL when absent */
	const char *loader_name; /* NULL when absent */
	unsigned nr_mmap;
	struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
	unsigned nr_mmap_dropped; /* entries past MB2_MAX_MMAP */
	unsigned nr_modules;
	struct mb2_module modules[MB2_MAX_MODULES];
	bool has_fb;
	struct mb2_framebuffer fb;
	/* A copy of the RSDP from the ACPI new (preferred) or old tag; rsdp_len 0 when none. */
	size_t rsdp_len;
	uint8_t rsdp[MB2_RSDP_MAX];
	unsigned nr_unknown; /* tags keel does not use, skipped */
};

/* Parses the information structure at info, of which avail bytes are readable. Returns 0, or -1
 * with a reason in err ("tag 3 at offset 40: size 12 is under 17" style). On success every
 * pointer in *out points inside info. */
int mb2_parse(const void *info, size_t avail, struct mb2_info *out, char *err, size_t err_len);

/* The module whose string is exactly name, or NULL. */
const struct mb2_module *mb2_find_module(const struct mb2_info *mi, const char *name);

/* keel's memory-map type for a Multiboot2 (E820) type. */
enum mem_type mb2_mem_type(uint32_t type);

/* Builds keel's memory map from the Multiboot2 one: sorted, non-overlapping ranges, where a
 * stretch that several entries claim gets the most restrictive type (reserved over ACPI over
 * free), and each of the nr_keep ranges in keep (keel's image, the boot information, the
 * modules; widened to whole pages) becomes MEM_KEEL, carved out of whatever it overlaps. Free
 * RAM at or above boot_map_limit (what the boot page tables map) becomes MEM_FREE_LATER, so keel
 * only uses it once it runs on its own page tables. Returns the number of ranges written to out
 * (at most cap; free ranges that do not fit are dropped, counted in *nr_dropped), or -1 when a
 * range other than a free one does not fit. */
int mb2_build_memmap(const struct mb2_info *mi, const struct mem_range *keep, unsigned nr_keep,
		     uint64_t boot_map_limit, struct mem_range *out, unsigned cap,
		     unsigned *nr_dropped);

/* A framebuffer keel's console can draw on: 32 bpp direct RGB with 8-bit fields in the x,R,G,B or
 * x,B,G,R layouts, wholly below limit. Returns false (and leaves *fb alone) otherwise. */
bool mb2_framebuffer(const struct mb2_info *mi, uint64_t limit, struct boot_framebuffer *fb);

#endif
