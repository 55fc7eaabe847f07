/* The host's IVRS table (AMD I/O Virtualization Technology (IOMMU) Specification, rev 3.x, section
 * 5 "I/O Virtualization ACPI Table"): which AMD-Vi IOMMUs the machine has, where their registers
 * are, which PCI requesters each one translates and under which requester ID, and the memory
 * ranges firmware wants mapped or excluded (IVMD).
 *
 * The parser reads a table that acpi_host_map_table already mapped and checksummed, and trusts
 * nothing in it: every block and device entry is checked against its minimum length and its
 * container, range starts must be closed by range ends, and every array is bounded, what does not
 * fit being counted rather than written. It keeps no state between calls beyond struct ivrs_info
 * and touches no hardware, so it builds for the host too (unit tests, fuzz_ivrs). */
#ifndef KEEL_DRIVERS_IVRS_H
#define KEEL_DRIVERS_IVRS_H

#include "lib/types.h"

enum ivrs_error {
	IVRS_OK = 0,
	IVRS_EBADSIG = -1,    /* not "IVRS" */
	IVRS_EBADLEN = -2,    /* a length under its minimum, zero, or past its container */
	IVRS_EMALFORMED = -3, /* a range start not closed by a range end, a stray end */
	IVRS_EBADBASE = -4,   /* an IOMMU base address that is 0, not 16 KiB aligned or too high */
	IVRS_EBADIVMD = -5,   /* an IVMD range unaligned, empty, wrapping or with end < start */
	IVRS_ENOUNITS = -6,   /* no IVHD block that keel understands */
};
const char *ivrs_strerror(int err);

/* Fixed maxima: a table that describes more is parsed, the excess counted in the nr_*_dropped
 * fields (a device whose entry was dropped is then not covered: keel refuses to pass it through,
 * never lets it DMA untranslated). */
#define IVRS_MAX_UNITS 8
#define IVRS_MAX_RANGES 64  /* per unit: select, range and "all" entries */
#define IVRS_MAX_ALIASES 64 /* per unit */
#define IVRS_MAX_SPECIAL 16 /* per unit: IOAPICs and HPETs */
#define IVRS_MAX_HID 8	    /* per unit: ACPI HID devices (type F0h entries) */
#define IVRS_MAX_IVMD 16

/* 5.2.2.2 the DTE setting byte of a device entry: what the IOMMU lets through untranslated. */
#define IVRS_DTE_INIT_PASS (1u << 0)
#define IVRS_DTE_EINT_PASS (1u << 1)
#define IVRS_DTE_NMI_PASS (1u << 2)
#define IVRS_DTE_SYSMGT_SHIFT 4 /* 2 bits */
#define IVRS_DTE_LINT0_PASS (1u << 6)
#define IVRS_DTE_LINT1_PASS (1u << 7)

/* Requester IDs first..last (bus << 8 | device << 3 | function) behind one IOMMU. */
struct ivrs_range {
	uint16_t first, last;
	uint8_t dte;	  /* IVRS_DTE_* */
	bool all;	  /* from a type 1 "all devices" entry */
	bool ext;	  /* from a type 70/71 entry: ext_dte is valid */
	uint32_t ext_dte; /* extended DTE setting (bit 31: ATS disabled) */
};

/* Requesters first..last whose DMA reaches the IOMMU as requester ID alias (a PCIe-to-PCI bridge
 * takes ownership of its secondary bus's transactions). */
struct ivrs_alias {
	uint16_t first, last;
	uint16_t alias;
	uint8_t dte;
};

#define IVRS_SPECIAL_IOAPIC 1
#define IVRS_SPECIAL_HPET 2

/* A type 72 entry: a non-PCI interrupt source and the requester ID it uses. */
struct ivrs_special {
	uint8_t variety; /* IVRS_SPECIAL_*, other values kept as read */
	uint8_t handle;	 /* the IOAPIC ID or the HPET number */
	uint16_t bdf;
	uint8_t dte;
};

/* A type 240 entry: an ACPI device (by _HID/_CID) that masters DMA with requester ID bdf. */
struct ivrs_hid {
	uint16_t bdf;
	uint8_t dte;
	char hid[9]; /* printable ASCII, NUL-terminated; other bytes become '?' */
	char cid[9];
	uint8_t uid_len;
};

struct ivrs_unit {
	uint8_t type; /* the IVHD type this unit was read from: 0x10, 0x11 or 0x40 */
	uint8_t flags;
	uint16_t segment;
	uint16_t devid; /* the IOMMU's own requester ID */
	uint16_t cap_offset;
	uint64_t base;	    /* MMIO registers, 16 KiB aligned */
	uint32_t mmio_len;  /* 16 KiB, or 512 KiB with performance counters (EFR PCSup) */
	uint8_t msi_num;    /* IOMMU info bits 4:0 */
	uint8_t unit_id;    /* IOMMU info bits 12:8 */
	uint32_t features;  /* type 10h: IOMMU feature reporting; 11h/40h: IOMMU attributes */
	uint64_t efr, efr2; /* 11h/40h: the EFR register images; 0 for 10h */
	unsigned nr_ranges;
	struct ivrs_range ranges[IVRS_MAX_RANGES];
	unsigned nr_aliases;
	struct ivrs_alias aliases[IVRS_MAX_ALIASES];
	unsigned nr_special;
	struct ivrs_special special[IVRS_MAX_SPECIAL];
	unsigned nr_hid;
	struct ivrs_hid hid[IVRS_MAX_HID];
	/* entries past the arrays above */
	unsigned nr_ranges_dropped, nr_aliases_dropped, nr_special_dropped, nr_hid_dropped;
	/* entries of types the parser does not know, skipped by their length */
	unsigned nr_unknown_entries;
	/* a variable-length entry of unknown type ended the walk: later entries were not read */
	bool truncated;
};

#define IVRS_IVMD_UNITY (1u << 0)
#define IVRS_IVMD_READ (1u << 1)
#define IVRS_IVMD_WRITE (1u << 2)
#define IVRS_IVMD_EXCLUSION (1u << 3)

struct ivrs_ivmd {
	uint8_t type; /* 0x20 all peripherals, 0x21 one, 0x22 a range */
	uint8_t flags;
	uint16_t first, last; /* 0..0xFFFF for type 20h */
	uint64_t start, len;  /* 4 KiB aligned, len > 0, start + len does not wrap */
};

struct ivrs_info {
	uint8_t revision;
	/* IVinfo */
	bool efr_sup;	  /* bit 0: the EFR images of 11h/40h blocks are valid */
	bool dma_remap;	  /* bit 1: firmware left DMA remapping on for pre-boot protection */
	uint8_t gva_size; /* bits 7:5, encoded (2: 48 bits) */
	uint8_t pa_size;  /* bits 14:8, in bits */
	uint8_t va_size;  /* bits 21:15, in bits */
	bool ht_ats_resv; /* bit 22: the HyperTransport ATS range is reserved */
	unsigned nr_units;
	struct ivrs_unit units[IVRS_MAX_UNITS];
	unsigned nr_ivmd;
	struct ivrs_ivmd ivmd[IVRS_MAX_IVMD];
	unsigned nr_units_dropped; /* IOMMUs past IVRS_MAX_UNITS */
	unsigned nr_ivmd_dropped;
	/* IVHD blocks describing a unit another block of a preferred (higher) type also describes,
	 * or repeating one of the same type */
	unsigned nr_superseded;
	unsigned nr_unknown_blocks; /* skipped by their length */
};

/* Parses table[0..len) ("IVRS", its length field at most len and at least 48). On an error *out
 * may hold part of the table; use it only on IVRS_OK. */
int ivrs_parse(const uint8_t *table, uint32_t len, struct ivrs_info *out);

/* Which IOMMU translates requester bdf of PCI segment segment: true with *unit its index in
 * info->units and *alias the requester ID the IOMMU sees (bdf itself unless an alias entry names
 * another). A select or range entry is preferred to a unit's "all devices" entry. Either out
 * pointer may be NULL. */
bool ivrs_device_covered(const struct ivrs_info *info, uint16_t segment, uint16_t bdf,
			 unsigned *unit, uint16_t *alias);

/* One boot log line (no newline) for unit index or IVMD index, e.g.
 * "AMD-Vi unit 00:02.0 at 0xfed80000, segment 0, type 11h, 3 device ranges, 1 alias";
 * returns what ksnprintf returns. */
int ivrs_format_unit(const struct ivrs_info *info, unsigned index, char *buf, size_t size);
int ivrs_format_ivmd(const struct ivrs_info *info, unsigned index, char *buf, size_t size);

#endif
