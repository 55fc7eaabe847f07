/* The ACPI tables keel writes into each guest's memory (ACPI 6.4): RSDP, RSDT, XSDT, FADT, FACS,
 * MADT and a DSDT whose AML is encoded here, all inside [GUEST_ACPI_BASE, +GUEST_ACPI_SIZE), a
 * range the guest's E820 map reports as reserved. The tables describe the virtual platform keel
 * emulates, so the constants below are also the contract with those device models:
 *
 *   I/O 0x600-0x603  PM1a event block: PM1_STS (2 bytes) then PM1_EN (2 bytes)   (4.8.3.1)
 *   I/O 0x604-0x605  PM1a control block: PM1_CNT; writing SLP_EN with SLP_TYP = ACPI_S5_SLP_TYP
 *                    is the guest asking to be powered off (4.8.3.2.1, 7.4.2)
 *   I/O 0x608-0x60B  PM timer, 24 bits at 3.579545 MHz (4.8.3.3)
 *   I/O 0xCF9        reset register: the guest writes ACPI_RESET_VALUE to reset (4.8.3.6)
 *   IRQ 9            the SCI, level-triggered and active-low on the IOAPIC (GSI 9)
 *
 * There is no SMI_CMD port: ACPI mode is always on, so PM1_CNT must read back with SCI_EN set.
 * The DSDT defines \_S5 (and \_S0) and an empty \_SB scope; devices can grow there later. */
#ifndef KEEL_VDEV_ACPI_TABLES_H
#define KEEL_VDEV_ACPI_TABLES_H

#include "core/gmem.h"
#include "lib/types.h"
#include "vdev/aml.h"

/* Default fixed-hardware I/O ports (FADT PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK). */
#define ACPI_PM1A_EVT_PORT 0x600
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1A_CNT_PORT 0x604
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_PORT 0x608
#define ACPI_PM_TMR_LEN 4
#define ACPI_RESET_PORT 0xCF9
#define ACPI_RESET_VALUE 0x06
#define ACPI_SCI_IRQ 9

/* PM1 control register bits (ACPI 6.4, 4.8.3.2.1). */
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)
#define ACPI_PM1_CNT_SLP_TYP(v) (((v)&ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT)

/* SLP_TYP values of the DSDT's \_Sx packages: a PM1a_CNT write with SLP_EN set and SLP_TYP ==
 * ACPI_S5_SLP_TYP powers the VM off. S0 is "working", so 0 must not mean off. */
#define ACPI_S0_SLP_TYP 0
#define ACPI_S5_SLP_TYP 5

#define ACPI_MAX_VCPUS 256
#define ACPI_DEFAULT_IOAPIC_ID 0

struct acpi_guest_config {
	unsigned nr_vcpus; /* 1..ACPI_MAX_VCPUS */
	/* Local APIC ID of vCPU i (its ACPI processor UID is i). IDs below 255 get a Processor
	 * Local APIC entry, others an x2APIC one; all unique, 0xFFFFFFFF is not an ID. */
	uint32_t apic_ids[ACPI_MAX_VCPUS];
	uint8_t ioapic_id;
	uint16_t pm1a_evt_port; /* ACPI_PM1_EVT_LEN bytes */
	uint16_t pm1a_cnt_port; /* ACPI_PM1_CNT_LEN bytes */
	uint16_t pm_tmr_port;	/* ACPI_PM_TMR_LEN bytes */
	/* the host bridge's 64-bit memory window [base, end) in its _CRS; none when end == base */
	uint64_t pci_mmio64_base, pci_mmio64_end;
};

/* A config for nr_vcpus vCPUs with APIC IDs 0..n-1, the default IOAPIC ID and ports. */
void acpi_guest_config_default(struct acpi_guest_config *cfg, unsigned nr_vcpus);

/* Writes the tables into guest memory: RSDP at GUEST_ACPI_BASE exactly, the rest after it.
 * Returns the bytes used from GUEST_ACPI_BASE, or -1 when the config is invalid, the window is
 * not guest RAM, or the tables do not fit. */
int acpi_build_guest_tables(const struct guest_mem *m, const struct acpi_guest_config *cfg);

#endif
