/* The PCI host bridge as the DSDT describes it: \_SB.PCI0, a PNP0A08 (PCI Express) root bridge
 * with PNP0A03 as its compatible ID, segment 0, bus 0; its _CRS gives the windows pci_bus.c
 * decodes BARs in, and its _PRT the INTx swizzle onto IOAPIC pins 16-23. Together with the MCFG
 * table (ECAM at GUEST_PCI_ECAM_BASE) this is all an OS needs to find the bus without options. */
#ifndef KEEL_VDEV_PCI_PCI_ACPI_H
#define KEEL_VDEV_PCI_PCI_ACPI_H

#include "vdev/aml.h"

/* Emits Device (PCI0) { ... } into the open \_SB scope; its _CRS has the 64-bit memory window
 * [mmio64_base, mmio64_end) too unless that is empty. */
void pci_acpi_host_bridge(struct aml *a, uint64_t mmio64_base, uint64_t mmio64_end);

#endif
