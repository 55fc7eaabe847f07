/* MSI-X of host PCI functions on the real machine: see pci_msix_hw.h. */
#include "drivers/pci_msix_hw.h"

#include "arch/x86/apic.h"
#include "drivers/iommu_hw.h"
#include "drivers/pci_host_hw.h"

static uint32_t cfg_read(void *ctx, uint16_t reg)
{
	return pci_host_cfg_read32(ctx, reg);
}

static void cfg_write(void *ctx, uint16_t reg, uint32_t v)
{
	pci_host_cfg_write32(ctx, reg, v);
}

int pci_msix_host_open(struct pci_msix *m, struct pci_func *f)
{
	const struct pci_msix_cfg cfg = { f, cfg_read, cfg_write };

	return pci_msix_open(m, &cfg, f->bar, f->nr_bars);
}

int pci_msix_host_enable_wake(struct pci_msix *m, unsigned nr, uint32_t apic_id)
{
	struct pci_msix_msg msgs[PCI_MSIX_HOST_MAX_WAKE];

	if (!nr || nr > PCI_MSIX_HOST_MAX_WAKE)
		return PCI_MSIX_E_INVAL;
	/* through an interrupt-remapping entry of the function's own when the IOMMU remaps */
	for (unsigned i = 0; i < nr; i++)
		if (!iommu_hw_msi(m->cfg.ctx, i, apic_id, HOST_DEVICE_VECTOR, &msgs[i].addr,
				  &msgs[i].data))
			return PCI_MSIX_E_INVAL;
	return pci_msix_enable(m, msgs, nr);
}
