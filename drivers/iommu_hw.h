/* The host's IOMMUs on the real machine: Intel VT-d units from ACPI's DMAR (drivers/dmar.h,
 * driven by drivers/vtd_hw.c), AMD-Vi units from its IVRS (drivers/ivrs.h, drivers/amdvi_hw.c).
 *
 * Once iommu_hw_init has programmed them, every requester's DMA is blocked but:
 *   - the devices firmware names in its reserved ranges (RMRR, IVMD), to those ranges;
 *   - the functions keel's own drivers claim (iommu_attach_keel), to keel's DMA domain, which
 *     holds what iommu_dma_allow added: the drivers' queues and bounce pages and guest RAM
 *     (disk requests go straight to and from it), identity-mapped. keel's code, heap and page
 *     tables are in no domain.
 * Faults are read from the units' logs by iommu_hw_poll, which keel's CPU loops call. Without a
 * usable IOMMU all of this does nothing and the boot log says DMA is not restricted. */
#ifndef KEEL_DRIVERS_IOMMU_HW_H
#define KEEL_DRIVERS_IOMMU_HW_H

#include "core/boot_info.h"
#include "drivers/dmar.h"
#include "drivers/ivrs.h"

/* Reads the DMAR and the IVRS (a refused table is logged with why and where, and ignored) and
 * logs one line per unit and reserved range. On the boot CPU, after pci_host_init. */
void iommu_hw_init(const struct boot_info *bi);

/* Whether the units translate (false: no IOMMU, or it could not be driven). */
bool iommu_hw_active(void);
/* "VT-d" or "AMD-Vi" when active, else NULL */
const char *iommu_hw_vendor(void);

/* [hpa, hpa + size) (4 KiB aligned) becomes reachable by, or unreachable to, the DMA of keel's
 * devices. revoke returns once no unit holds a translation of it from before. Either may be
 * called on any CPU, with a VM's or a controller's lock held. */
void iommu_dma_allow(uint64_t hpa, uint64_t size);
void iommu_dma_revoke(uint64_t hpa, uint64_t size);

struct pci_func;
/* f's DMA now goes through keel's domain: call before turning its bus mastering on. 0; -1 when
 * no unit covers it (logged: the driver must leave it alone). */
int iommu_attach_keel(const struct pci_func *f);

/* The IDs of keel's domain and firmware's; a VM's domain has one from 3 (pci_func.dma_domain) */
#define IOMMU_DOMAIN_KEEL 1
#define IOMMU_DOMAIN_FIRMWARE 2

/* A VM's DMA domain: what the functions passed to it may reach, its RAM at guest-physical
 * addresses (core/vm_dma.c keeps it in step with the VM's stage 2, balloon included). */
struct iommu_domain;
/* An empty domain with its own ID; NULL without an IOMMU, out of IDs or memory. */
struct iommu_domain *iommu_domain_new(void);
/* Maps [iova, iova + size) to [hpa, ...) (4 KiB aligned); -1 when a page there is mapped, a
 * table page was missing or iova is past what the units translate. */
int iommu_domain_map(struct iommu_domain *d, uint64_t iova, uint64_t hpa, uint64_t size);
/* Unmaps what is mapped in [iova, iova + size); with flush, no unit holds a translation of it
 * when this returns (else the caller calls iommu_domain_flush before the memory is reused).
 * -1 when a large page could not be split (what came before it is unmapped). */
int iommu_domain_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size, bool flush);
void iommu_domain_flush(struct iommu_domain *d);
/* f's DMA now goes through d (0), or -1 when no unit covers it. */
int iommu_domain_attach(struct iommu_domain *d, const struct pci_func *f);
/* f's DMA is blocked again; its translations dropped. */
void iommu_domain_detach(const struct pci_func *f);
/* Gives d's tables and ID back: no function may still be attached to it. */
void iommu_domain_free(struct iommu_domain *d);
/* The ID the units tag d's translations with (the shell's `pci`) */
uint16_t iommu_domain_id(const struct iommu_domain *d);

/* Reads the units' fault logs when a fault event came or every 10 ms: each (device, page) is
 * logged once, "keel: iommu: fault from BB:DD.F write at 0xADDR (OWNER): REASON", and a device
 * with 64 faults has its bus mastering turned off. Cheap when there is nothing to do. */
void iommu_hw_poll(void);

/* The message f's MSI-X entry (or MSI, index 0) `index` must send for vector to reach the CPU of
 * xAPIC ID apic_id: with interrupt remapping, a remappable message naming an entry keel wrote
 * for f alone; without, the compatibility format (arch/x86/apic.h host_msi_message). false when
 * no entry is left or apic_id has no xAPIC address. */
bool iommu_hw_msi(const struct pci_func *f, unsigned index, uint32_t apic_id, uint8_t vector,
		  uint64_t *addr, uint32_t *data);
/* Whether the units remap interrupts (an interrupt no entry allows is blocked and logged) */
bool iommu_hw_remaps(void);

struct iommu_counts {
	uint64_t faults;	     /* fault records read */
	uint64_t interrupts_blocked; /* of those, interrupts no entry allowed */
	uint64_t faults_unlisted;    /* faults of (device, page) pairs past the ones remembered */
	unsigned devices_stopped;    /* bus mastering turned off */
	unsigned firmware_devices;   /* devices given the firmware's reserved ranges */
	uint64_t map_failures;	     /* allow/revoke that could not be done in full */
};
void iommu_hw_counts(struct iommu_counts *out);
/* At shutdown: one line of the counts and of the host devices' interrupts. */
void iommu_hw_log_counts(void);

/* What was read: NULL when the table was missing or refused. */
const struct dmar_info *iommu_hw_dmar(void);
const struct ivrs_info *iommu_hw_ivrs(void);

#endif
