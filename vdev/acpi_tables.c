/* The guest's ACPI tables (acpi_tables.h). Layouts are from ACPI 6.4, chapter 5; the AML encoding
 * from chapter 20. The tables are built straight into the guest's (not yet running) memory. */
#include "vdev/acpi_tables.h"

#include "core/guest_layout.h"
#include "vdev/aml.h"
#include "vdev/pci/pci_acpi.h"
#include "lib/kstring.h"

#define OEM_ID "KEEL  "
#define OEM_TABLE_ID "KEELVM  "
#define CREATOR_ID "KEEL"

/* 5.2.6 System Description Table Header, common to every table but the RSDP and FACS. */
struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} PACKED;
_Static_assert(sizeof(struct sdt_header) == 36, "5.2.6");

/* 5.2.5.3 Root System Description Pointer, revision 2. */
struct rsdp {
	char signature[8];
	uint8_t checksum; /* of the first 20 bytes (the ACPI 1.0 structure) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum; /* of all 36 bytes */
	uint8_t reserved[3];
} PACKED;
_Static_assert(sizeof(struct rsdp) == 36, "5.2.5.3");

/* 5.2.3.2 Generic Address Structure. */
struct gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} PACKED;
_Static_assert(sizeof(struct gas) == 12, "5.2.3.2");

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

/* 5.2.9 Fixed ACPI Description Table, the revision 6 layout. */
struct fadt {
	struct sdt_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0; /* ACPI 1.0 INT_MODEL */
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct gas x_pm1a_evt_blk;
	struct gas x_pm1b_evt_blk;
	struct gas x_pm1a_cnt_blk;
	struct gas x_pm1b_cnt_blk;
	struct gas x_pm2_cnt_blk;
	struct gas x_pm_tmr_blk;
	struct gas x_gpe0_blk;
	struct gas x_gpe1_blk;
	struct gas sleep_control_reg;
	struct gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} PACKED;
_Static_assert(__builtin_offsetof(struct fadt, sci_int) == 46, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, pm1a_evt_blk) == 56, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, pm1_evt_len) == 88, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, century) == 108, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, flags) == 112, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, reset_reg) == 116, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, x_firmware_ctrl) == 132, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, x_pm1a_evt_blk) == 148, "5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, sleep_control_reg) == 244, "5.2.9");
_Static_assert(sizeof(struct fadt) == 276, "5.2.9");

/* FADT Flags (5.2.9). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)	  /* set: no RTC wake status in the fixed registers */
#define FADT_RESET_REG_SUP (1u << 10)

/* IA-PC Boot Architecture Flags (5.2.9.3). */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042 (1u << 1)
#define IAPC_VGA_NOT_PRESENT (1u << 2)

/* 5.2.10 Firmware ACPI Control Structure. */
struct facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} PACKED;
_Static_assert(sizeof(struct facs) == 64, "5.2.10");

/* 5.2.12 Multiple APIC Description Table and its interrupt controller structures. */
struct madt {
	struct sdt_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} PACKED;
#define MADT_PCAT_COMPAT (1u << 0)

struct madt_lapic { /* 5.2.12.2, type 0 */
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} PACKED;
struct madt_ioapic { /* 5.2.12.3, type 1 */
	uint8_t type, length, id, reserved;
	uint32_t addr;
	uint32_t gsi_base;
} PACKED;
struct madt_iso { /* 5.2.12.5, type 2 */
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} PACKED;
struct madt_lapic_nmi { /* 5.2.12.7, type 4 */
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} PACKED;
struct madt_x2apic { /* 5.2.12.12, type 9 */
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} PACKED;
struct madt_x2apic_nmi { /* 5.2.12.13, type 10 */
	uint8_t type, length;
	uint16_t flags;
	uint32_t uid;
	uint8_t lint;
	uint8_t reserved[3];
} PACKED;
_Static_assert(sizeof(struct madt) == 44 && sizeof(struct madt_lapic) == 8 &&
		       sizeof(struct madt_ioapic) == 12 && sizeof(struct madt_iso) == 10 &&
		       sizeof(struct madt_lapic_nmi) == 6 && sizeof(struct madt_x2apic) == 16 &&
		       sizeof(struct madt_x2apic_nmi) == 12,
	       "5.2.12");

#define MADT_CPU_ENABLED (1u << 0)
/* MPS INTI flags (5.2.12.5): polarity in bits 1:0, trigger mode in bits 3:2. */
#define MPS_ACTIVE_HIGH 0x1
#define MPS_ACTIVE_LOW 0x3
#define MPS_EDGE (0x1 << 2)
#define MPS_LEVEL (0x3 << 2)

/* ---- the tables --------------------------------------------------------------------------- */

/* The tables for ACPI_MAX_VCPUS x2APIC vCPUs take under 7 KiB (the MADT's 16-byte entries and
 * the DSDT's PCI routing table are most of it); they are built here, on the stack, and then
 * copied into the window, whose guest RAM may lie in several host blocks (core/gmem.h), so no
 * table needs host-contiguous guest memory. */
#define ACPI_TABLES_MAX (12 * KiB)
_Static_assert(ACPI_TABLES_MAX <= GUEST_ACPI_SIZE, "the tables fit in the guest's ACPI window");

/* Bump allocator over a copy of the ACPI window: each table at its required alignment. */
struct acpi_window {
	uint8_t buf[ACPI_TABLES_MAX] __attribute__((aligned(64))); /* as the window's base */
	uint64_t gpa;
	size_t used;
};

static void *window_alloc(struct acpi_window *w, size_t len, size_t align, uint64_t *gpa)
{
	size_t off = ALIGN_UP(w->used, align);

	if (off > sizeof(w->buf) || len > sizeof(w->buf) - off)
		return NULL;
	w->used = off + len;
	*gpa = w->gpa + off;
	return w->buf + off;
}

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)-sum;
}

static void sdt_header_init(struct sdt_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Sets the checksum so the whole table sums to zero (5.2.6); the last thing done to a table. */
static void sdt_seal(struct sdt_header *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, h->length);
}

static struct gas gas_io(uint16_t port, uint8_t bytes, uint8_t access)
{
	return (struct gas){ .space_id = GAS_SYSTEM_IO,
			     .bit_width = (uint8_t)(bytes * 8),
			     .access_size = access,
			     .address = port };
}

void acpi_guest_config_default(struct acpi_guest_config *cfg, unsigned nr_vcpus)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_vcpus = nr_vcpus;
	for (unsigned i = 0; i < nr_vcpus && i < ACPI_MAX_VCPUS; i++)
		cfg->apic_ids[i] = i;
	cfg->ioapic_id = ACPI_DEFAULT_IOAPIC_ID;
	cfg->pm1a_evt_port = ACPI_PM1A_EVT_PORT;
	cfg->pm1a_cnt_port = ACPI_PM1A_CNT_PORT;
	cfg->pm_tmr_port = ACPI_PM_TMR_PORT;
}

static bool ports_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool config_valid(const struct acpi_guest_config *cfg)
{
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > ACPI_MAX_VCPUS)
		return false;
	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		if (cfg->apic_ids[i] == 0xFFFFFFFF)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (cfg->apic_ids[i] == cfg->apic_ids[j])
				return false;
	}
	/* port 0 would read as "block not supported" (5.2.9), and a block must not wrap past
	 * 0xFFFF or overlap another */
	if (!cfg->pm1a_evt_port || !cfg->pm1a_cnt_port || !cfg->pm_tmr_port ||
	    cfg->pm1a_evt_port > 0x10000 - ACPI_PM1_EVT_LEN ||
	    cfg->pm1a_cnt_port > 0x10000 - ACPI_PM1_CNT_LEN ||
	    cfg->pm_tmr_port > 0x10000 - ACPI_PM_TMR_LEN)
		return false;
	return !ports_overlap(cfg->pm1a_evt_port, ACPI_PM1_EVT_LEN, cfg->pm1a_cnt_port,
			      ACPI_PM1_CNT_LEN) &&
	       !ports_overlap(cfg->pm1a_evt_port, ACPI_PM1_EVT_LEN, cfg->pm_tmr_port,
			      ACPI_PM_TMR_LEN) &&
	       !ports_overlap(cfg->pm1a_cnt_port, ACPI_PM1_CNT_LEN, cfg->pm_tmr_port,
			      ACPI_PM_TMR_LEN);
}

/* xAPIC entries hold an 8-bit APIC ID and UID, and 0xFF means "all processors" in the NMI entry,
 * so a vCPU with either at 255 or above is described by an x2APIC entry (5.2.12.12). */
static bool vcpu_needs_x2apic(const struct acpi_guest_config *cfg, unsigned i)
{
	return cfg->apic_ids[i] >= 0xFF || i >= 0xFF;
}

static int build_madt(struct acpi_window *w, const struct acpi_guest_config *cfg, uint64_t *gpa)
{
	size_t len = sizeof(struct madt) + sizeof(struct madt_ioapic) +
		     2 * sizeof(struct madt_iso) + sizeof(struct madt_lapic_nmi);
	bool any_x2apic = false;
	struct madt *t;
	uint8_t *p;

	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		bool x2 = vcpu_needs_x2apic(cfg, i);
		len += x2 ? sizeof(struct madt_x2apic) : sizeof(struct madt_lapic);
		any_x2apic |= x2;
	}
	if (any_x2apic)
		len += sizeof(struct madt_x2apic_nmi);
	t = window_alloc(w, len, 16, gpa);
	if (!t)
		return -1;
	/* revision 5 is ACPI 6.4's, where the Online Capable flag is defined */
	sdt_header_init(&t->h, "APIC", (uint32_t)len, 5);
	t->lapic_addr = (uint32_t)GUEST_LAPIC_BASE;
	/* keel's VMs have the dual 8259 PICs too, which the OS must mask when it uses the IOAPIC */
	t->flags = MADT_PCAT_COMPAT;
	p = (uint8_t *)(t + 1);

	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		if (vcpu_needs_x2apic(cfg, i)) {
			struct madt_x2apic e = { .type = 9,
						 .length = sizeof(e),
						 .x2apic_id = cfg->apic_ids[i],
						 .flags = MADT_CPU_ENABLED,
						 .uid = i };
			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
		} else {
			struct madt_lapic e = { .type = 0,
						.length = sizeof(e),
						.uid = (uint8_t)i,
						.apic_id = (uint8_t)cfg->apic_ids[i],
						.flags = MADT_CPU_ENABLED };
			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
		}
	}
	struct madt_ioapic io = { .type = 1,
				  .length = sizeof(io),
				  .id = cfg->ioapic_id,
				  .addr = (uint32_t)GUEST_IOAPIC_BASE,
				  .gsi_base = 0 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	/* The PIT's IRQ0 is wired to IOAPIC pin 2 (pin 0 is the 8259's cascade), as on every PC;
	 * the SCI is a shareable level interrupt, active-low by convention (5.2.12.5). */
	struct madt_iso iso[2] = {
		{ .type = 2,
		  .length = sizeof(iso[0]),
		  .source = 0,
		  .gsi = 2,
		  .flags = MPS_ACTIVE_HIGH | MPS_EDGE },
		{ .type = 2,
		  .length = sizeof(iso[0]),
		  .source = ACPI_SCI_IRQ,
		  .gsi = ACPI_SCI_IRQ,
		  .flags = MPS_ACTIVE_LOW | MPS_LEVEL },
	};
	memcpy(p, iso, sizeof(iso));
	p += sizeof(iso);
	/* NMIs arrive on every local APIC's LINT1 (5.2.12.7); UID 0xFF means all processors */
	struct madt_lapic_nmi nmi = { .type = 4, .length = sizeof(nmi), .uid = 0xFF, .lint = 1 };
	memcpy(p, &nmi, sizeof(nmi));
	p += sizeof(nmi);
	if (any_x2apic) {
		struct madt_x2apic_nmi xnmi = {
			.type = 10, .length = sizeof(xnmi), .uid = 0xFFFFFFFF, .lint = 1
		};
		memcpy(p, &xnmi, sizeof(xnmi));
		/* NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): p kept at the end */
		p += sizeof(xnmi);
	}
	sdt_seal(&t->h);
	return 0;
}

static int build_dsdt(struct acpi_window *w, const struct acpi_guest_config *cfg, uint64_t *gpa)
{
	static const uint64_t s0[4] = { ACPI_S0_SLP_TYP, ACPI_S0_SLP_TYP, 0, 0 };
	static const uint64_t s5[4] = { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };
	struct sdt_header *t;
	struct aml a;
	size_t scope;

	/* build into the rest of the window, then claim exactly what the AML took */
	t = window_alloc(w, sizeof(*t), 16, gpa);
	if (!t)
		return -1;
	a = (struct aml){ .buf = (uint8_t *)(t + 1), .cap = sizeof(w->buf) - w->used };

	/* \_Sx: {SLP_TYPa, SLP_TYPb, reserved, reserved} (7.4.2); the OS writes SLP_TYP | SLP_EN
	 * to PM1a_CNT (and PM1b_CNT, which keel does not have) to enter the state. */
	aml_name_package(&a, "_S0_", s0, 4);
	aml_name_package(&a, "_S5_", s5, 4);
	scope = aml_scope_begin(&a, "\\_SB_");
	pci_acpi_host_bridge(&a, cfg->pci_mmio64_base, cfg->pci_mmio64_end);
	aml_pkg_end(&a, scope);
	if (a.overflow)
		return -1;
	w->used += a.len;

	/* revision 2: the AML's integers are 64 bits wide (5.2.11.1) */
	sdt_header_init(t, "DSDT", (uint32_t)(sizeof(*t) + a.len), 2);
	sdt_seal(t);
	return 0;
}

/* PCI Firmware Specification 3.0, 4.1.2: MCFG, the ECAM window of segment 0, bus 0. */
struct mcfg {
	struct sdt_header h;
	uint64_t reserved;
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved1;
} PACKED;
_Static_assert(sizeof(struct mcfg) == 60, "PCI Firmware 3.0, table 4-3");

static int build_mcfg(struct acpi_window *w, uint64_t *gpa)
{
	struct mcfg *t = window_alloc(w, sizeof(*t), 16, gpa);
	if (!t)
		return -1;
	sdt_header_init(&t->h, "MCFG", sizeof(*t), 1);
	t->base = GUEST_PCI_ECAM_BASE;
	t->segment = 0;
	t->start_bus = 0;
	t->end_bus = (uint8_t)(GUEST_PCI_ECAM_SIZE / (1u << 20) - 1);
	sdt_seal(&t->h);
	return 0;
}

static void build_fadt(struct fadt *f, const struct acpi_guest_config *cfg, uint64_t dsdt,
		       uint64_t facs)
{
	sdt_header_init(&f->h, "FACP", sizeof(*f), 6);
	f->minor_version = 4; /* ACPI 6.4 */
	/* X_FIRMWARE_CTRL and FIRMWARE_CTRL must not both be set; DSDT and X_DSDT may, and carry
	 * the same address so 32-bit-only readers find the DSDT too (5.2.9). */
	f->x_firmware_ctrl = facs;
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	/* SMI_CMD = 0: there is no SMM, ACPI mode is always on (5.2.9, 4.8.2.5) */
	f->smi_cmd = 0;
	f->pm1a_evt_blk = cfg->pm1a_evt_port;
	f->pm1a_cnt_blk = cfg->pm1a_cnt_port;
	f->pm_tmr_blk = cfg->pm_tmr_port;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->pm_tmr_len = ACPI_PM_TMR_LEN;
	f->x_pm1a_evt_blk = gas_io(cfg->pm1a_evt_port, ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD);
	f->x_pm1a_cnt_blk = gas_io(cfg->pm1a_cnt_port, ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD);
	f->x_pm_tmr_blk = gas_io(cfg->pm_tmr_port, ACPI_PM_TMR_LEN, GAS_ACCESS_DWORD);
	/* no C2/C3: latencies above 100 and 1000 us say so (5.2.9) */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	f->century = 0x32; /* the CMOS RTC's century register */
	/* The guest has ISA-style devices (COM1, PIT, RTC) but no 8042 keyboard controller: keel
	 * emulates only its reset and status ports, and a clear 8042 bit keeps the OS from
	 * probing for a keyboard that is not there. No VGA either. */
	f->iapc_boot_arch = IAPC_LEGACY_DEVICES | IAPC_VGA_NOT_PRESENT;
	/* no power or sleep button and no RTC wake in the fixed registers; C1 is HLT */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIX_RTC |
		   FADT_RESET_REG_SUP;
	/* 4.8.3.6: the reset register, the PC's 0xCF9 "reset control" */
	f->reset_reg = gas_io(ACPI_RESET_PORT, 1, GAS_ACCESS_BYTE);
	f->reset_value = ACPI_RESET_VALUE;
	memcpy(&f->hypervisor_vendor_id, "KEEL\0\0\0\0", 8);
	sdt_seal(&f->h);
}

int acpi_build_guest_tables(const struct guest_mem *m, const struct acpi_guest_config *cfg)
{
	uint64_t rsdt_gpa = 0, xsdt_gpa = 0, fadt_gpa = 0, facs_gpa = 0, madt_gpa = 0, dsdt_gpa = 0;
	uint64_t mcfg_gpa = 0, rsdp_gpa = 0;
	struct acpi_window w;
	struct sdt_header *rsdt, *xsdt;
	struct rsdp *rsdp;
	struct facs *facs;
	struct fadt *fadt;
	uint8_t *entries;

	if (!config_valid(cfg))
		return -1;
	memset(&w, 0, sizeof(w));
	w.gpa = GUEST_ACPI_BASE;
	if (gmem_fill(m, GUEST_ACPI_BASE, 0, GUEST_ACPI_SIZE))
		return -1;

	/* The RSDP sits on a 16-byte boundary in 0xE0000-0xFFFFF, where a legacy OS scans for it
	 * (5.2.5.1); the FACS must be 64-byte aligned (5.2.10). */
	rsdp = window_alloc(&w, sizeof(*rsdp), 16, &rsdp_gpa);
	facs = window_alloc(&w, sizeof(*facs), 64, &facs_gpa);
	rsdt = window_alloc(&w, sizeof(*rsdt) + 3 * sizeof(uint32_t), 16, &rsdt_gpa);
	xsdt = window_alloc(&w, sizeof(*xsdt) + 3 * sizeof(uint64_t), 16, &xsdt_gpa);
	fadt = window_alloc(&w, sizeof(*fadt), 16, &fadt_gpa);
	if (!rsdp || !facs || !rsdt || !xsdt || !fadt)
		return -1;
	if (build_madt(&w, cfg, &madt_gpa) < 0 || build_mcfg(&w, &mcfg_gpa) < 0 ||
	    build_dsdt(&w, cfg, &dsdt_gpa) < 0)
		return -1;

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2; /* the X_Firmware_Waking_Vector layout, ACPI 4.0 and later */

	build_fadt(fadt, cfg, dsdt_gpa, facs_gpa);

	/* 5.2.7 RSDT (32-bit entries) for ACPI 1.0 readers, 5.2.8 XSDT (64-bit) for the rest */
	const uint64_t tables[3] = { fadt_gpa, madt_gpa, mcfg_gpa };
	sdt_header_init(rsdt, "RSDT", sizeof(*rsdt) + 3 * sizeof(uint32_t), 1);
	entries = (uint8_t *)(rsdt + 1);
	for (unsigned i = 0; i < 3; i++)
		memcpy(entries + (size_t)4 * i, &(uint32_t){ (uint32_t)tables[i] }, 4);
	sdt_seal(rsdt);
	sdt_header_init(xsdt, "XSDT", sizeof(*xsdt) + 3 * sizeof(uint64_t), 1);
	entries = (uint8_t *)(xsdt + 1);
	memcpy(entries, tables, sizeof(tables));
	sdt_seal(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt = (uint32_t)rsdt_gpa;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt = xsdt_gpa;
	rsdp->checksum = checksum(rsdp, 20);
	rsdp->ext_checksum = checksum(rsdp, sizeof(*rsdp));
	if (gmem_write(m, GUEST_ACPI_BASE, w.buf, w.used))
		return -1;
	return (int)w.used;
}
