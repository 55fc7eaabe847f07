/* Host PCI on the real machine (pci_host_hw.c): enumeration at boot and the table it fills. */
#ifndef KEEL_DRIVERS_PCI_HOST_HW_H
#define KEEL_DRIVERS_PCI_HOST_HW_H

#include "drivers/pci_host.h"

struct boot_info;

/* Reads the MCFG through the RSDP in bi (mechanism #1 when there is none), walks every bus, sizes
 * the BARs, maps the memory BARs uncached and logs one line per function. Runs on the boot CPU
 * before any other CPU is up: it changes keel's page tables and flushes only this CPU's TLB. */
void pci_host_init(const struct boot_info *bi);
/* The functions found (empty before pci_host_init). */
const struct pci_host *pci_host_table(void);

/* The table for the claims of VMs (drivers/pci_claim.h), while VMs are built and destroyed. */
struct pci_host *pci_host_table_mut(void);
/* Function i of the table for a host driver to claim (owner) and use; NULL past the end. */
struct pci_func *pci_host_func_mut(unsigned i);
/* Enables nr virtual functions of the SR-IOV physical function pf_index (PCIe 4.0, 9.3.3): NumVFs,
 * the VFs planned on the PF's bus with the VF BARs where the firmware placed them, VF Enable and
 * VF MSE, 100 ms, then each VF appended to the table (owner none) with its BARs mapped uncached
 * and a boot line ("keel: pci 00:04.1 ... (VF 1 of 00:04.0)"). Boot CPU, before the APs (it
 * changes keel's page tables). The number added, or -1 with why (nothing enabled). */
int pci_host_enable_vfs(unsigned pf_index, unsigned nr, char *why, size_t why_size);

/* Config register reg (a multiple of 4 below 0x1000; 0x100 through ports) of f, through the
 * mechanism it was found with: all ones when it is gone; an SR-IOV VF's IDs as listed (its own
 * read 0xFFFF). Only the driver owning f may write. */
uint32_t pci_host_cfg_read32(const struct pci_func *f, uint16_t reg);
void pci_host_cfg_write32(const struct pci_func *f, uint16_t reg, uint32_t v);

#endif
