/* MSI-X of a host PCI function on the real machine (pci_msix_hw.c): drivers/pci_msix.h bound to
 * the config access of drivers/pci_host_hw.h, and messages that wake a CPU.
 *
 * For an NVMe controller, after claiming f (memory decoding on, INTx off) and before its first
 * nvme_poll: pci_msix_host_open(&m, f); pci_msix_host_enable_wake(&m, 1, host_apic_id() of the
 * CPU that polls it); nvme_init(...); ctrl.io_irq = true. When either MSI-X call fails, leave
 * io_irq false: the controller is polled as before. pci_msix_disable(&m) when giving it up. */
#ifndef KEEL_DRIVERS_PCI_MSIX_HW_H
#define KEEL_DRIVERS_PCI_MSIX_HW_H

#include "drivers/pci_msix.h"

#define PCI_MSIX_HOST_MAX_WAKE 32 /* entries pci_msix_host_enable_wake programs at most */

/* pci_msix_open over f's config space and BARs (f must be owned by the caller and stay put: m
 * keeps a pointer to it). Returns an enum pci_msix_err. */
int pci_msix_host_open(struct pci_msix *m, struct pci_func *f);
/* pci_msix_enable with entries 0..nr-1 all sending HOST_DEVICE_VECTOR to the CPU of xAPIC ID
 * apic_id (arch/x86/apic.h): each only wakes that CPU, whose loop then polls the device.
 * PCI_MSIX_E_INVAL when apic_id has no xAPIC MSI address or nr is 0 or above the limit. */
int pci_msix_host_enable_wake(struct pci_msix *m, unsigned nr, uint32_t apic_id);

#endif
