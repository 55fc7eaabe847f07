/* Which host PCI functions a VM may take (keel.cfg `pci = BB:DD.F`, docs/config.md
 * "Passthrough"), and the claims themselves: plain logic over struct pci_host, tested on the host.
 *
 * A function may go to a VM when it is on this machine, is an endpoint (not a bridge, host bridge
 * or IOMMU), no keel driver and no other VM holds it, an IOMMU translates its DMA, and no other
 * function of its IOMMU group is keel's or another VM's. Every refusal says what was expected, for
 * the keel.cfg:LINE: message. */
#ifndef KEEL_DRIVERS_PCI_CLAIM_H
#define KEEL_DRIVERS_PCI_CLAIM_H

#include "drivers/pci_host.h"
#include "lib/types.h"

/* The index of segment:bus:dev.fn in ph, or -1. */
int pci_claim_find(const struct pci_host *ph, uint16_t segment, uint8_t bus, uint8_t dev,
		   uint8_t fn);

/* Whether the IOMMU may not tell a's DMA from b's, so both must have one owner. */
bool pci_same_iommu_group(const struct pci_func *a, const struct pci_func *b);

/* Whether VM vm_index (its index in keel.cfg) may take segment:bus:dev.fn; iommu_covers: an
 * IOMMU translates that function's requests. Returns its index in ph, or -1 with err set ("no PCI
 * function 00:09.0 on this machine; ...", "00:04.0 is [vm b]'s; ..."), without the
 * "keel.cfg:LINE: pci = X: " the caller puts before it. */
int pci_claim_check(const struct pci_host *ph, uint16_t segment, uint8_t bus, uint8_t dev,
		    uint8_t fn, unsigned vm_index, bool iommu_covers, char *err, size_t err_size);

/* Keeps keel's drivers off segment:bus:dev.fn and the rest of its IOMMU group (those nobody
 * holds yet): keel.cfg gives it to VM vm, which must outlive the table. Called before the drivers
 * start. Returns how many functions it set aside (0: no such function, or all held already). */
unsigned pci_claim_set_aside(struct pci_host *ph, uint16_t segment, uint8_t bus, uint8_t dev,
			     uint8_t fn, const char *vm);

/* Gives function idx (checked above) to VM vm_index named vm, which must outlive the claim. */
void pci_claim_take(struct pci_host *ph, unsigned idx, unsigned vm_index, const char *vm);
/* Ends a VM's claim on idx (owner none again); a function keel drives is left keel's. */
void pci_claim_release(struct pci_host *ph, unsigned idx);

#endif
