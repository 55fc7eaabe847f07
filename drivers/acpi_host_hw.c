/* The host's ACPI tables through keel's identity map (drivers/acpi_host_hw.h). */
#include "drivers/acpi_host_hw.h"

static const void *map_identity(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	/* keel's page tables identity-map all of the memory map; 0 is never a table */
	return phys && range_within(phys, len, UINT64_MAX) ? (const void *)(uintptr_t)phys : NULL;
}

int acpi_host_hw_init(struct acpi_host *h, const struct boot_info *bi)
{
	if (!bi->acpi_rsdp)
		return ACPI_HOST_ENOTFOUND;
	return acpi_host_init(h, map_identity, NULL, bi->acpi_rsdp);
}
