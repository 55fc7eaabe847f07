/* ACPI's DMA Remapping Reporting table (DMAR; Intel VT-d spec rev 4.x, chapter 8): where the
 * machine's VT-d remapping units are, which devices each one translates for, and which memory
 * ranges firmware keeps DMA-ing into (RMRRs). keel reads it before it drives any unit.
 *
 * The caller maps the table with acpi_host_map_table (signature "DMAR", checksum checked) and hands
 * the bytes here; this file only reads that buffer, so it runs unchanged on the host under the
 * sanitizers (tests/unit/test_dmar.c, tests/fuzz/fuzz_dmar.c).
 *
 * The table is untrusted input. Every structure's length is checked against its type's minimum and
 * against the bytes left, every device scope against its structure, so no table can make the
 * parser read out of bounds or loop. Arrays have fixed sizes: what does not fit is counted, not
 * stored, and the caller decides whether a partial picture is safe to use (dmar_complete). */
#ifndef KEEL_DRIVERS_DMAR_H
#define KEEL_DRIVERS_DMAR_H

#include "lib/types.h"

enum dmar_error {
	DMAR_OK = 0,
	DMAR_ETRUNCATED = -1, /* the table is shorter than its 48-byte header or its length field */
	DMAR_EBADSIG = -2,    /* not "DMAR" */
	DMAR_EBADWIDTH = -3,  /* host address width outside 32..64 bits */
	DMAR_EBADLEN = -4,    /* a structure under its type's minimum length or past the table */
	DMAR_EBADSCOPE = -5,  /* a device scope too short, past its structure, odd or bad path */
	DMAR_EBADADDR = -6,   /* a unit's register base 0, not 4 KiB aligned or past the width */
	DMAR_EBADRANGE = -7,  /* an RMRR not 4 KiB aligned at both ends, reversed, past the width */
	DMAR_EDUPLICATE = -8, /* two units' registers overlap, two INCLUDE_PCI_ALL in a segment */
};
const char *dmar_strerror(int err);

/* 8.1: header flags */
#define DMAR_FLAG_INTR_REMAP (1u << 0)
#define DMAR_FLAG_X2APIC_OPT_OUT (1u << 1)
#define DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN (1u << 2)

/* 8.3: DRHD flags */
#define DMAR_UNIT_INCLUDE_PCI_ALL (1u << 0)

/* 8.3.1: device scope types (0 and 6-255 are reserved: skipped and counted) */
enum dmar_scope_type {
	DMAR_SCOPE_PCI_ENDPOINT = 1,
	DMAR_SCOPE_PCI_SUBHIERARCHY = 2,
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,
	DMAR_SCOPE_ACPI_NAMESPACE = 5,
};

#define DMAR_MAX_UNITS 8
#define DMAR_MAX_RMRR 16
#define DMAR_MAX_SCOPES 32	/* per unit */
#define DMAR_MAX_RMRR_SCOPES 16 /* per RMRR */
/* Hops below the start bus. Firmware names root ports and on-board devices, a hop or two deep; a
 * longer path is counted as a dropped scope. */
#define DMAR_MAX_PATH 8

/* One (device, function) hop of a scope's path: device 0..31, function 0..7 (checked). */
struct dmar_hop {
	uint8_t device;
	uint8_t function;
};

struct dmar_scope {
	uint8_t type;	   /* enum dmar_scope_type */
	uint8_t enum_id;   /* IOAPIC ID, HPET number or ACPI device number; 0 for PCI */
	uint8_t start_bus; /* the bus the first hop is on */
	uint8_t path_len;  /* 1..DMAR_MAX_PATH */
	struct dmar_hop path[DMAR_MAX_PATH];
};

/* A DRHD: one remapping unit. */
struct dmar_unit {
	uint64_t base;	     /* register set, 4 KiB aligned, not 0 */
	uint8_t size_log2;   /* the register set is 2^size_log2 4 KiB pages (VT-d 3.x and later) */
	uint8_t flags;	     /* DMAR_UNIT_* */
	uint16_t segment;    /* PCI segment group */
	bool has_proximity;  /* an RHSA named this unit */
	uint32_t proximity;  /* its NUMA proximity domain, when has_proximity */
	unsigned nr_scopes;  /* at most DMAR_MAX_SCOPES */
	unsigned nr_dropped; /* scopes that did not fit or had paths over DMAR_MAX_PATH */
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

/* An RMRR: [base, limit] is memory that devices in its scope DMA into behind the OS's back (USB
 * legacy emulation, integrated graphics); it must stay identity-mapped for them. */
struct dmar_rmrr {
	uint64_t base;	/* 4 KiB aligned */
	uint64_t limit; /* last byte, inclusive; limit + 1 is 4 KiB aligned */
	uint16_t segment;
	unsigned nr_scopes;
	unsigned nr_dropped;
	struct dmar_scope scopes[DMAR_MAX_RMRR_SCOPES];
};

struct dmar_info {
	uint8_t host_addr_width; /* bits of DMA address, the table's value + 1 */
	uint8_t flags;		 /* DMAR_FLAG_* */
	unsigned nr_units;
	unsigned nr_units_dropped; /* DRHDs past DMAR_MAX_UNITS (checked, not stored) */
	struct dmar_unit units[DMAR_MAX_UNITS];
	unsigned nr_rmrrs;
	unsigned nr_rmrrs_dropped; /* RMRRs past DMAR_MAX_RMRR (checked, not stored) */
	unsigned nr_rmrr_overlaps; /* pairs of stored RMRRs of a segment that overlap (allowed) */
	struct dmar_rmrr rmrrs[DMAR_MAX_RMRR];
	/* Checked and counted only, for now. */
	unsigned nr_atsr, nr_rhsa, nr_andd, nr_satc;
	unsigned nr_rhsa_unmatched; /* RHSAs naming no stored unit */
	unsigned nr_unknown;	    /* remapping structures of types keel does not know, skipped */
	unsigned nr_scopes_skipped; /* device scopes of reserved types, skipped */
	/* On an error: the table offset of the structure or scope that caused it. */
	uint32_t error_offset;
};

/* Parses the DMAR in table[0..len). The header's length field must not exceed len; only that
 * many bytes are read. On an error *out still holds what came before the structure at
 * out->error_offset, but the caller must not use it for protection. */
int dmar_parse(const uint8_t *table, uint32_t len, struct dmar_info *out);

/* True when nothing was dropped: every unit, RMRR and scope of the table is in *info. */
bool dmar_complete(const struct dmar_info *info);

/* A scope's requester ID. When the path has one hop the device sits on the start bus and *bdf is
 * start_bus << 8 | device << 3 | function: DMAR_BDF_DIRECT. A longer path passes bridges whose
 * secondary bus numbers only config space knows (8.3.1): DMAR_BDF_NEEDS_WALK, *bdf untouched. */
enum dmar_bdf_result {
	DMAR_BDF_DIRECT = 0,
	DMAR_BDF_NEEDS_WALK = 1,
};
int dmar_scope_bdf(const struct dmar_scope *scope, uint16_t *bdf);

/* One boot log line each, without a newline, e.g. "VT-d unit at 0xfed90000, segment 0, all PCI
 * devices". They return what ksnprintf returns (the full length, even when buf was too short). */
int dmar_describe_header(const struct dmar_info *info, char *buf, size_t size);
int dmar_describe_unit(const struct dmar_unit *unit, char *buf, size_t size);
int dmar_describe_rmrr(const struct dmar_rmrr *rmrr, char *buf, size_t size);

#endif
