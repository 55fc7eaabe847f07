#include "vdev/pci/host_bridge.h"

void pci_host_bridge_init(struct pci_dev *d)
{
	pci_dev_init(d, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE, PCI_CLASS_HOST_BRIDGE, 0,
		     0);
	pci_dev_seal(d);
}
