/* Stage-2 (guest-physical → host-physical) page tables, written once for both backends: AMD NPT
 * uses the ordinary x86-64 4-level format (AMD APM vol 2, 15.25.5: leaves need U/S = 1), Intel EPT
 * its own bits (Intel SDM vol 3, 29.3.2). A backend describes its format in struct stage2_format;
 * the builder picks the largest leaf that alignment and the format allow. */
#ifndef KEEL_MM_STAGE2_H
#define KEEL_MM_STAGE2_H

#include "lib/types.h"

struct stage2_format {
	uint64_t table_bits; /* flags of a non-leaf entry */
	uint64_t leaf_rwx;   /* flags of a readable, writable, executable leaf */
	/* flags of a readable, writable leaf onto device memory (a passed function's BAR), with
	 * the uncached memory type; 0 when the format has none (IOMMU tables) */
	uint64_t leaf_device;
	uint64_t large_bit;    /* the page-size bit of 2 MiB / 1 GiB leaves */
	uint64_t present_mask; /* an entry is present when any of these bits is set */
	bool gib_leaves;       /* 1 GiB leaves allowed (CPU capability) */
	bool mib_leaves;       /* 2 MiB leaves allowed */
	/* 0, or where a 3-bit "next level" field starts: AMD-Vi I/O page tables (AMD IOMMU spec
	 * 2.2.3) mark a table entry with the level of the table it points to and a leaf of any
	 * size with 0, instead of a page-size bit (large_bit is then 0). */
	uint8_t next_level_shift;
};

/* Page-table pages come from and go back to the caller (phys pool in keel, malloc in tests). */
struct stage2_alloc {
	/* a zeroed, 4 KiB-aligned page: its physical address, 0 when out of memory */
	uint64_t (*alloc_page)(void *ctx);
	/* host pointer for a physical address of a table page */
	uint64_t *(*table_ptr)(void *ctx, uint64_t pa);
	/* gives a page alloc_page returned back (stage2_free) */
	void (*free_page)(void *ctx, uint64_t pa);
	void *ctx;
};

struct stage2 {
	const struct stage2_format *fmt;
	struct stage2_alloc alloc;
	uint64_t root;			       /* physical address of the top table (PML4) */
	uint64_t pages_4k, pages_2m, pages_1g; /* leaves in use, for the log and the tests */
	uint64_t table_pages;
};

int stage2_init(struct stage2 *s2, const struct stage2_format *fmt, const struct stage2_alloc *a);
/* Maps [gpa, gpa + size) to [hpa, ...); all three 4 KiB aligned, gpa + size ≤ 2^48. Existing
 * mappings in the range are an error (-1): keel never remaps silently. */
int stage2_map(struct stage2 *s2, uint64_t gpa, uint64_t hpa, uint64_t size);
/* Maps [gpa, gpa + size) to device memory at [hpa, ...) with 4 KiB leaves of fmt->leaf_device
 * (uncached, so the guest's accesses reach the device as it made them). -1, with nothing of the
 * range left mapped, when a page there is mapped, a table page is missing, or the format has no
 * device leaves. */
int stage2_map_device(struct stage2 *s2, uint64_t gpa, uint64_t hpa, uint64_t size);
/* Unmaps the 4 KiB page at gpa (4 KiB aligned). A 2 MiB or 1 GiB leaf covering it is split
 * first into a table of the next smaller leaves mapping the same host memory, down to 4 KiB
 * leaves around gpa alone (the rest of a split 1 GiB leaf keeps 2 MiB leaves), so large leaves
 * are split only where a page leaves. The old hpa in *hpa. 0; 1 when gpa was not mapped; -1 when
 * a table page could not be allocated (nothing changed). The caller flushes the TLBs of every
 * CPU that may hold the old translation (AMD APM vol 2, 15.16.1; Intel SDM vol 3, 29.4.3). */
int stage2_unmap_page(struct stage2 *s2, uint64_t gpa, uint64_t *hpa);
/* Unmaps every page of [gpa, gpa + size) (4 KiB aligned) that is mapped; holes are skipped. A
 * large leaf only partly inside is split first (as stage2_unmap_page does); table pages left
 * empty stay, for the next mapping. 0, or -1 when a split could not get a table page (what came
 * before that leaf is unmapped). The caller flushes the TLBs, as for stage2_unmap_page. */
int stage2_unmap_range(struct stage2 *s2, uint64_t gpa, uint64_t size);
/* The level-3 table that maps [0, 512 GiB), made when missing: the root for a walker of three
 * levels (a VT-d unit with 39-bit guest addresses only, Intel VT-d spec 3.6), which then sees
 * only what is mapped below 512 GiB. Its physical address, or 0 when out of memory. */
uint64_t stage2_low_root(struct stage2 *s2);
/* Calls fn for every leaf (gpa, hpa, size) in guest-physical order; stops at the first non-zero
 * return and returns it. */
int stage2_for_each_leaf(const struct stage2 *s2,
			 int (*fn)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size),
			 void *ctx);
/* The host-physical address gpa maps to, or -1 (all ones) when unmapped. */
uint64_t stage2_translate(const struct stage2 *s2, uint64_t gpa);
/* Gives every table page back through alloc.free_page, the root last; the leaves' memory is the
 * caller's. Afterwards s2 maps nothing and holds no page (root 0): only stage2_init uses it again.
 * No CPU may still walk these tables: their pages become anyone's. */
void stage2_free(struct stage2 *s2);

#endif
