/* What drivers/iommu_hw.c, which keeps the translation domains and reads the faults out, asks of
 * a vendor's IOMMU driver (drivers/vtd_hw.c for Intel VT-d, drivers/amdvi_hw.c for AMD-Vi). Only
 * those three files include this. */
#ifndef KEEL_DRIVERS_IOMMU_UNIT_H
#define KEEL_DRIVERS_IOMMU_UNIT_H

#include "mm/stage2.h"

/* A translation domain: DMA addresses to host-physical, in the vendor's page-table format, built
 * by mm/stage2.c. Every unit tags the translations it caches with id. */
struct iommu_domain {
	struct stage2 tables;
	uint16_t id;
};

/* One DMA fault a unit logged, as the vendor's decoder read it (the record is the device's word:
 * bdf and address are whatever it sent). */
struct iommu_fault {
	uint16_t segment, bdf;
	uint64_t addr;
	bool write;
	bool interrupt; /* an interrupt the units refused: addr is the entry's index */
	char why[64];	/* the unit's reason, e.g. "reason 0x06: no page" */
};

struct iommu_vendor {
	const char *name; /* "VT-d", "AMD-Vi" */
	const struct stage2_format *fmt;
	/* DMA addresses every unit can translate lie below this (2^39 for three levels) */
	uint64_t dma_limit;
	/* the units cache absent entries too (VT-d caching mode): flush after a map as well */
	bool flush_after_map;
	/* Requester bdf of segment now translates through d, or (d NULL) has its DMA blocked again;
	 * its cached translations are dropped. 0; -1 when no unit covers it (nothing changed). */
	int (*attach)(uint16_t segment, uint16_t bdf, struct iommu_domain *d);
	/* Entries of d were removed (or, on a unit that caches absent ones, added): when this
	 * returns, no unit holds a translation of d from before the call. */
	void (*flush)(struct iommu_domain *d);
	/* Takes every fault the units logged since the last call, giving each to report. */
	void (*take_faults)(void (*report)(const struct iommu_fault *f));
	/* Interrupt remapping: message `index` (an MSI-X entry, 0 for MSI) of requester bdf now
	 * sends vector to the CPU of xAPIC ID apic_id, through an entry only that requester may use;
	 * *addr and *data are what the device must send. false: no entry left. NULL when the units
	 * do not remap (interrupts then go unremapped, in the compatibility format). */
	bool (*msi)(uint16_t segment, uint16_t bdf, unsigned index, uint32_t apic_id,
		    uint8_t vector, uint64_t *addr, uint32_t *data);
};

/* The requester the firmware's tables describe bdf by: an SR-IOV VF's PF (a VF is in its PF's
 * scope, as Linux's dmar_find_matched_drhd_unit takes it: the DMAR and IVRS list the functions
 * present at boot), else bdf itself. For the units' lookups; iommu_hw.c keeps the list. */
uint16_t iommu_scope_bdf(uint16_t segment, uint16_t bdf);

/* Called by iommu_hw_init with what the firmware described; on success they return their ops,
 * every unit translating and every requester blocked (NULL: logged why, nothing left on). */
struct dmar_info;
struct ivrs_info;
const struct iommu_vendor *vtd_hw_init(const struct dmar_info *dmar);
const struct iommu_vendor *amdvi_hw_init(const struct ivrs_info *ivrs);

#endif
