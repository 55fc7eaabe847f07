/* Host ACPI parser (RSDP, root tables, MADT, FADT, MCFG, \_S5): the input is a physical memory
 * image mapped at IMAGE_BASE with the RSDP at its start (the layout of the seeds test_acpi_tables
 * and test_acpi_host write). Any bytes must parse or fail cleanly: no read outside the image, no
 * loop, and results within their limits.
 * The input is also fed to the AML \_S5 search and the RSDP copy path as it is. */
#include "drivers/acpi_host.h"
#include "lib/kstring.h"

#include <stdlib.h>

#define IMAGE_BASE 0xE0000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct image {
	const uint8_t *p;
	size_t size;
};

static const void *map(void *ctx, uint64_t phys, size_t len)
{
	const struct image *im = ctx;

	uint64_t off = phys - IMAGE_BASE;

	if (phys < IMAGE_BASE || off > im->size || len > im->size - off)
		return NULL;
	return im->p + off;
}

static void check_host(const struct acpi_host *h)
{
	static struct acpi_host_madt m;
	static struct acpi_host_mcfg mc;
	struct acpi_host_fadt f;
	uint8_t a, b;

	if (h->nr_tables > ACPI_HOST_MAX_TABLES)
		abort();
	for (unsigned i = 0; i < h->nr_tables; i++) {
		if (h->tables[i] == 0)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (h->tables[i] == h->tables[j])
				abort();
	}
	acpi_host_find_table(h, "SSDT", 1);
	if (acpi_host_parse_madt(h, &m) != ACPI_HOST_ENOTFOUND) {
		if (m.nr_cpus > ACPI_HOST_MAX_CPUS || m.nr_ioapics > ACPI_HOST_MAX_IOAPICS ||
		    m.nr_overrides > ACPI_HOST_MAX_OVERRIDES)
			abort();
		for (unsigned i = 0; i < m.nr_cpus; i++) {
			if ((!m.cpus[i].x2apic && m.cpus[i].apic_id >= 0xFF) ||
			    m.cpus[i].apic_id == 0xFFFFFFFF)
				abort();
			for (unsigned j = 0; j < i; j++)
				if (m.cpus[i].apic_id == m.cpus[j].apic_id)
					abort();
		}
	}
	if (acpi_host_parse_mcfg(h, &mc) != ACPI_HOST_ENOTFOUND) {
		if (mc.nr > ACPI_HOST_MAX_MCFG)
			abort();
		for (unsigned i = 0; i < mc.nr; i++) {
			const struct acpi_host_mcfg_alloc *a = &mc.alloc[i];

			/* what pci_host_hw.c maps: 1 MiB per bus, aligned, below 2^52 */
			if (a->bus_start > a->bus_end || !a->base || a->base % MiB ||
			    a->base + ((uint64_t)a->bus_end + 1) * MiB > 1ull << 52)
				abort();
			for (unsigned j = 0; j < i; j++)
				if (mc.alloc[j].segment == a->segment &&
				    mc.alloc[j].bus_start <= a->bus_end &&
				    a->bus_start <= mc.alloc[j].bus_end)
					abort();
		}
	}
	if (acpi_host_parse_fadt(h, &f) == ACPI_HOST_OK) {
		if ((f.pm1a_cnt.space_id == ACPI_GAS_IO && f.pm1a_cnt.address > 0xFFFF) ||
		    f.length < 116)
			abort();
		acpi_host_get_s5(h, &f, &a, &b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copy so ASan catches any read past the end */
	uint8_t *copy = malloc(size ? size : 1);
	struct image im = { copy, size };
	struct acpi_host h;
	uint64_t rsdp;
	uint32_t v;
	uint8_t a, b;

	memcpy(copy, data, size);
	if (acpi_host_init(&h, map, &im, IMAGE_BASE) == ACPI_HOST_OK)
		check_host(&h);
	if (acpi_host_init_copy(&h, map, &im, copy, size) == ACPI_HOST_OK)
		check_host(&h);
	/* the BIOS-area scan makes 8K map calls: one input in 16 is enough for it */
	if ((size & 15) == 0 && acpi_host_find_rsdp(map, &im, &rsdp) == ACPI_HOST_OK &&
	    (rsdp < IMAGE_BASE || rsdp % 16 != 0))
		abort();
	acpi_host_find_s5_aml(copy, size, &a, &b);
	if (acpi_aml_pkglen_decode(copy, size, &v) > 4)
		abort();
	free(copy);
	return 0;
}
