/* The host's ACPI tables on the real machine (drivers/acpi_host.h over keel's identity map): one
 * place for what every boot-time reader of a table (CPUs, PCI, IOMMUs) starts with. */
#ifndef KEEL_DRIVERS_ACPI_HOST_HW_H
#define KEEL_DRIVERS_ACPI_HOST_HW_H

#include "core/boot_info.h"
#include "drivers/acpi_host.h"

/* acpi_host_init on the RSDP the boot stage found: 0, or an enum acpi_host_error
 * (ACPI_HOST_ENOTFOUND when the boot stage found none). */
int acpi_host_hw_init(struct acpi_host *h, const struct boot_info *bi);

#endif
