/* The host's IOMMUs as ACPI describes them (drivers/iommu_hw.h). */
#include "drivers/iommu_hw.h"

#include "drivers/acpi_host_hw.h"
#include "lib/log.h"

static struct dmar_info dmar; /* ~11 KiB each: not on a stack */
static struct ivrs_info ivrs;
static bool have_dmar, have_ivrs;

/* The table of signature sig, mapped and checksummed, or NULL (logged when it was refused). */
static const uint8_t *table(const struct acpi_host *acpi, const char *sig, uint32_t *len)
{
	uint64_t phys = acpi_host_find_table(acpi, sig, 0);
	int err = 0;

	if (!phys)
		return NULL;
	const uint8_t *t = acpi_host_map_table(acpi, phys, sig, len, &err);
	if (!t)
		klog("keel: iommu: the %s table at %llx is refused: %s", sig,
		     (unsigned long long)phys, acpi_host_strerror(err));
	return t;
}

static void read_dmar(const struct acpi_host *acpi)
{
	char line[160];
	uint32_t len;
	const uint8_t *t = table(acpi, "DMAR", &len);

	if (!t)
		return;
	int rc = dmar_parse(t, len, &dmar);
	if (rc) {
		klog("keel: iommu: the DMAR is refused: %s at offset %u", dmar_strerror(rc),
		     dmar.error_offset);
		return;
	}
	have_dmar = true;
	dmar_describe_header(&dmar, line, sizeof(line));
	klog("keel: iommu: %s", line);
	for (unsigned i = 0; i < dmar.nr_units; i++) {
		dmar_describe_unit(&dmar.units[i], line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	for (unsigned i = 0; i < dmar.nr_rmrrs; i++) {
		dmar_describe_rmrr(&dmar.rmrrs[i], line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	if (!dmar_complete(&dmar))
		klog("keel: iommu: the DMAR has more than keel keeps; the rest is not listed");
}

static void read_ivrs(const struct acpi_host *acpi)
{
	char line[160];
	uint32_t len;
	const uint8_t *t = table(acpi, "IVRS", &len);

	if (!t)
		return;
	int rc = ivrs_parse(t, len, &ivrs);
	if (rc) {
		klog("keel: iommu: the IVRS is refused: %s", ivrs_strerror(rc));
		return;
	}
	have_ivrs = true;
	for (unsigned i = 0; i < ivrs.nr_units; i++) {
		ivrs_format_unit(&ivrs, i, line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	for (unsigned i = 0; i < ivrs.nr_ivmd; i++) {
		ivrs_format_ivmd(&ivrs, i, line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	if (ivrs.nr_units_dropped || ivrs.nr_ivmd_dropped)
		klog("keel: iommu: the IVRS has more than keel keeps; the rest is not listed");
}

void iommu_hw_init(const struct boot_info *bi)
{
	static struct acpi_host acpi;
	int err = acpi_host_hw_init(&acpi, bi);

	if (err) {
		klog("keel: iommu: no ACPI tables (%s): no IOMMU found", acpi_host_strerror(err));
		return;
	}
	read_dmar(&acpi);
	read_ivrs(&acpi);
	if (!have_dmar && !have_ivrs)
		klog("keel: iommu: none found (no usable DMAR or IVRS): devices' DMA is not "
		     "restricted");
	else
		klog("keel: iommu: not programmed yet: devices' DMA is not restricted");
}

const struct dmar_info *iommu_hw_dmar(void)
{
	return have_dmar ? &dmar : NULL;
}

const struct ivrs_info *iommu_hw_ivrs(void)
{
	return have_ivrs ? &ivrs : NULL;
}
