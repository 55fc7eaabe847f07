#ifndef KEEL_CORE_LAUNCH_H
#define KEEL_CORE_LAUNCH_H

#include "core/boot_info.h"

struct vm;

/* Creates, fills and loads every VM of bi->config into vms[]; runs none. -1 after logging a
 * keel.cfg:LINE: message. */
int launch_vms(const struct boot_info *bi, struct vm **vms);

/* Keeps keel's drivers off every host function a VM's `pci =` names (and the rest of its IOMMU
 * group), so the VM can claim it when it is built: called after the PCI walk, before the
 * drivers start. A function not on the machine is left to launch_vms's keel.cfg:LINE: error. */
void launch_set_aside_pci(const struct boot_info *bi);

/* keel.cfg's [host] sriov lines: each physical function's VFs enabled and added to the host PCI
 * table (for an NVMe controller keel drives, brought online and given their namespaces), after
 * the drivers started and before the disks are listed and the APs start. -1 after a keel.cfg:LINE:
 * message (then no VM may start). */
int launch_sriov(const struct boot_info *bi);

#endif
