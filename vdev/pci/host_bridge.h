/* The host bridge at 00:00.0: the function through which the DSDT's PNP0A08 device (its _CRS
 * windows, MCFG's ECAM) and the guest's view of bus 0 meet. It has no BARs and no interrupt. */
#ifndef KEEL_VDEV_PCI_HOST_BRIDGE_H
#define KEEL_VDEV_PCI_HOST_BRIDGE_H

#include "vdev/pci/pci_dev.h"

/* Red Hat's ID for a generic PCIe host bridge (PCI ID repository, vendor 1b36 device 0008):
 * drivers know it as a bridge that needs no quirks. */
#define PCI_HOST_BRIDGE_VENDOR 0x1B36
#define PCI_HOST_BRIDGE_DEVICE 0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000 /* bridge, host, no programming interface */

void pci_host_bridge_init(struct pci_dev *d);

#endif
