/* The host machine's ACPI tables, as the firmware left them (ACPI 6.4, chapter 5): find them from
 * the RSDP, read the MADT's CPUs and IOAPICs and the FADT's fixed-hardware registers, and fish the
 * \_S5 sleep type out of the DSDT's AML so keel can power the machine off (7.4.2, 4.8.3.2.1).
 *
 * The tables are untrusted input: every read goes through the caller's map callback for exactly
 * the bytes it needs, every length is checked against the table's own and against the range
 * mapped, and nothing follows a pointer twice or recursively, so no table set can make the parser
 * read out of bounds or loop. The parser keeps no state between calls beyond struct acpi_host. */
#ifndef KEEL_DRIVERS_ACPI_HOST_H
#define KEEL_DRIVERS_ACPI_HOST_H

#include "lib/types.h"

/* Returns a pointer to [phys, phys + len), readable for len bytes, or NULL when any of it is not
 * readable. In keel physical memory is identity-mapped; host tests back it with a buffer. */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);

enum acpi_host_error {
	ACPI_HOST_OK = 0,
	ACPI_HOST_ENOMAP = -1,	   /* a range the table set points at is not readable */
	ACPI_HOST_EBADSIG = -2,	   /* not the signature expected there */
	ACPI_HOST_EBADSUM = -3,	   /* checksum does not sum to zero */
	ACPI_HOST_EBADLEN = -4,	   /* a length field too small, too big or past its container */
	ACPI_HOST_ENOTFOUND = -5,  /* no such table or object */
	ACPI_HOST_EMALFORMED = -6, /* contents that cannot be walked (entry length 0, bad AML) */
};
const char *acpi_host_strerror(int err);

#define ACPI_HOST_MAX_TABLES 64
/* No firmware table is this big; bigger length fields are treated as corrupt. */
#define ACPI_HOST_MAX_TABLE_LEN (16u * 1024 * 1024)

struct acpi_host {
	acpi_map_fn map;
	void *ctx;
	uint64_t rsdp_phys; /* 0 when the RSDP was handed over as a copy */
	uint8_t rsdp_revision;
	char oem_id[7];
	bool xsdt; /* the tables came from the XSDT (else the RSDT) */
	uint64_t root_phys;
	/* The root table's entries, in order, duplicates dropped, unchecked until used. */
	unsigned nr_tables;
	uint64_t tables[ACPI_HOST_MAX_TABLES];
	unsigned nr_dropped; /* entries past ACPI_HOST_MAX_TABLES, or null */
};

/* Looks for "RSD PTR " with a valid checksum on a 16-byte boundary in the first KiB of the EBDA
 * (its segment is the word at 0x40E) and then in 0xE0000-0xFFFFF (5.2.5.1). 0 or an error. */
int acpi_host_find_rsdp(acpi_map_fn map, void *ctx, uint64_t *rsdp_phys);

/* Validates the RSDP at rsdp_phys (revision 0: RSDT; 2 and later: XSDT when its address is not
 * 0, with the extended checksum) and the root table it points at, and records the entries. */
int acpi_host_init(struct acpi_host *h, acpi_map_fn map, void *ctx, uint64_t rsdp_phys);
/* The same for an RSDP handed over as a copy of len bytes (Multiboot2's ACPI tags, UEFI). */
int acpi_host_init_copy(struct acpi_host *h, acpi_map_fn map, void *ctx, const void *rsdp,
			size_t len);

/* Maps the table at phys when its header, length (36..ACPI_HOST_MAX_TABLE_LEN) and checksum are
 * valid and, when sig is not NULL, its signature is sig. Returns it and its length, or NULL with
 * *err set (err may be NULL). */
const uint8_t *acpi_host_map_table(const struct acpi_host *h, uint64_t phys, const char *sig,
				   uint32_t *len, int *err);

/* The index-th valid root-table entry with signature sig (4 characters): its address, or 0.
 * (The DSDT and FACS are not root-table entries; see struct acpi_host_fadt.) */
uint64_t acpi_host_find_table(const struct acpi_host *h, const char *sig, unsigned index);

/* ---- MADT (5.2.12) ---- */

#define ACPI_HOST_MAX_CPUS 256
#define ACPI_HOST_MAX_IOAPICS 16
#define ACPI_HOST_MAX_OVERRIDES 16

struct acpi_host_cpu {
	uint32_t apic_id;
	uint32_t uid; /* ACPI processor UID */
	bool enabled;
	bool online_capable; /* may be enabled later (MADT revision 5 and later only) */
	bool x2apic;	     /* from a Processor Local x2APIC entry */
};

struct acpi_host_ioapic {
	uint8_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct acpi_host_override {
	uint8_t bus;	/* 0: ISA */
	uint8_t source; /* the bus IRQ */
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2 */
};

struct acpi_host_madt {
	uint8_t revision;
	uint32_t flags;	     /* bit 0 PCAT_COMPAT */
	uint64_t lapic_addr; /* from the header, or the Local APIC Address Override */
	unsigned nr_cpus;
	struct acpi_host_cpu cpus[ACPI_HOST_MAX_CPUS];
	unsigned nr_ioapics;
	struct acpi_host_ioapic ioapics[ACPI_HOST_MAX_IOAPICS];
	unsigned nr_overrides;
	struct acpi_host_override overrides[ACPI_HOST_MAX_OVERRIDES];
	/* entries that did not fit the arrays above, repeated APIC IDs, or invalid IDs */
	unsigned nr_dropped;
	/* entries shorter than their type's structure, skipped */
	unsigned nr_short;
};

/* Parses the MADT found through the root table. On ACPI_HOST_EMALFORMED (an entry with length
 * under 2 or past the table's end) *out still holds the entries before it. */
int acpi_host_parse_madt(const struct acpi_host *h, struct acpi_host_madt *out);

/* ---- FADT (5.2.9) ---- */

/* 5.2.3.2 Generic Address Structure, as read. */
struct acpi_host_gas {
	uint8_t space_id; /* ACPI_GAS_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address; /* 0: the register does not exist */
};
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO 1

struct acpi_host_fadt {
	uint8_t revision;
	uint32_t length;
	uint32_t flags;
	uint16_t iapc_boot_arch;
	bool hw_reduced; /* HW_REDUCED_ACPI: no PM1 blocks, sleep through the SLEEP_* registers */
	uint16_t sci_int;
	uint32_t smi_cmd; /* 0: ACPI mode is always on */
	uint8_t acpi_enable;
	uint64_t dsdt; /* X_DSDT when present and not 0, else DSDT */
	uint64_t facs; /* X_FIRMWARE_CTRL when present and not 0, else FIRMWARE_CTRL */
	/* The fixed registers, from the X_ field when it is present and usable, else built from
	 * the 32-bit port and its length. address 0 when absent. */
	struct acpi_host_gas pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm_tmr;
	uint8_t pm1_evt_len, pm1_cnt_len, pm_tmr_len;
	bool reset_supported; /* RESET_REG_SUP and a register in a FADT long enough to hold it */
	struct acpi_host_gas reset_reg;
	uint8_t reset_value;
	struct acpi_host_gas sleep_control, sleep_status; /* revision 5 and later */
};

#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED (1u << 20)

int acpi_host_parse_fadt(const struct acpi_host *h, struct acpi_host_fadt *out);

/* ---- MCFG (PCI Firmware Specification 3.0, 4.1.2) ---- */

#define ACPI_HOST_MAX_MCFG 16

/* One ECAM range: the configuration space of buses bus_start..bus_end of a segment group. The
 * function at bus B, device D, function F is at base + (B << 20 | D << 15 | F << 12) (PCIe Base
 * 4.0, 7.2.2); base is the address bus 0 would have, even when bus_start is not 0. */
struct acpi_host_mcfg_alloc {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

struct acpi_host_mcfg {
	unsigned nr;
	struct acpi_host_mcfg_alloc alloc[ACPI_HOST_MAX_MCFG];
	/* entries refused: end bus below the start bus, a base that is 0, not 1 MiB aligned or
	 * whose bus range runs past 52-bit physical addresses, one overlapping an earlier entry of
	 * its segment, or one past ACPI_HOST_MAX_MCFG */
	unsigned nr_dropped;
};

/* Parses the MCFG found through the root table (trailing bytes that do not make a whole entry
 * are ignored). ACPI_HOST_ENOTFOUND when there is none: config space then goes through the
 * legacy ports 0xCF8/0xCFC. */
int acpi_host_parse_mcfg(const struct acpi_host *h, struct acpi_host_mcfg *out);

/* ---- \_S5 ---- */

/* Finds Name (_S5, Package () {...}) in an AML byte stream: "_S5_" after NameOp (0x08), with an
 * optional root prefix '\' or parent prefixes '^', whose value is a package of integer constants
 * (ZeroOp, OneOp, OnesOp, Byte/Word/DWord/QWordPrefix). SLP_TYPa is element 0 and SLP_TYPb
 * element 1; a one-element package holds both, a in bits 7:0 and b in bits 15:8. The values are
 * the low bytes, as the OS uses them; the PM1 writer masks them to SLP_TYP's 3 bits. */
int acpi_host_find_s5_aml(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb);

/* \_S5 from the DSDT at fadt->dsdt, else from the SSDTs in root-table order. */
int acpi_host_get_s5(const struct acpi_host *h, const struct acpi_host_fadt *fadt,
		     uint8_t *slp_typa, uint8_t *slp_typb);

/* Decodes a PkgLength at p (20.2.4): its value in *value (which counts the PkgLength's own bytes)
 * and its size in bytes, 1..4, or 0 when it runs past len or its reserved bits are set. */
unsigned acpi_aml_pkglen_decode(const uint8_t *p, size_t len, uint32_t *value);

#endif
