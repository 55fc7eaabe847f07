/* Host PCI functions passed to a VM (keel.cfg `pci =`, docs/config.md "Passthrough"): each is
 * claimed from the host table (drivers/pci_claim.h), attached to the VM's IOMMU domain
 * (core/vm_dma.h) so its DMA reaches only the VM's RAM, and shown to the guest by the
 * vdev/pci/passthru.h model, whose BAR accesses this file forwards to the real registers and
 * whose MSI and MSI-X it turns into keel's own vectors: a host interrupt from the function is
 * then sent as the guest programmed it (pci_dev_notify), never where the device says. */
#ifndef KEEL_CORE_VM_PCI_H
#define KEEL_CORE_VM_PCI_H

#include "lib/types.h"

struct vm;
struct pci_dev;

#define VM_MAX_PCI 8

/* The function's virtual PCI device, to plug into the VM's bus at each life's start. */
struct pci_dev *vm_pci_dev(struct vm *vm, unsigned i);
/* Each life: the host function quiet (bus mastering and decoding off) and the virtual side at
 * reset, before the platform plugs it in. */
void vm_pci_life_start(struct vm *vm);
/* Sends the guest the interrupts its functions raised since the last call; any CPU, no lock of
 * the VM's held. */
void vm_pci_poll(void);
/* hv_vm_destroy: every function quiet, blocked in the IOMMU and given back; the domain freed. */
void vm_pci_destroy(struct vm *vm);
/* Interrupts keel took for a VM's functions through their remapping entries, and the DMA faults
 * the IOMMU logged for them (the shell's stats) */
uint64_t vm_pci_interrupts(const struct vm *vm);
/* Of those, the ones a CPU took while it ran the vCPU they went to (host_target) */
uint64_t vm_pci_interrupts_on_target(const struct vm *vm);
uint64_t vm_pci_faults(const struct vm *vm);

#endif
