/* The host's IOMMUs on the real machine, as the firmware describes them: Intel VT-d units from
 * ACPI's DMAR (drivers/dmar.h), AMD-Vi units from its IVRS (drivers/ivrs.h). So far keel lists
 * them at boot and keeps what it read; it does not program them yet, so DMA is not restricted
 * (the boot log says so). */
#ifndef KEEL_DRIVERS_IOMMU_HW_H
#define KEEL_DRIVERS_IOMMU_HW_H

#include "core/boot_info.h"
#include "drivers/dmar.h"
#include "drivers/ivrs.h"

/* Reads the DMAR and the IVRS (a refused table is logged with why and where, and ignored) and
 * logs one line per unit and reserved range. On the boot CPU, after pci_host_init. */
void iommu_hw_init(const struct boot_info *bi);

/* What was read: NULL when the table was missing or refused. */
const struct dmar_info *iommu_hw_dmar(void);
const struct ivrs_info *iommu_hw_ivrs(void);

#endif
