/* The host's PCI functions: found by walking config space from a root bus through every
 * PCI-to-PCI bridge, with each BAR sized, and kept in one table for the host drivers (NVMe, NICs)
 * and the IOMMU that will hand functions to VMs.
 *
 * Config space is reached through struct pci_cfg_ops (ECAM or the legacy ports in keel, a fake
 * in the host tests). What a function reports is untrusted: bridges may name buses already seen
 * or outside the range, headers may be garbage. The walk visits each bus at most once, stays in
 * [bus_start, bus_end], and touches a function only to read its header and size its BARs, after
 * which its BARs and command register hold exactly what they held before. */
#ifndef KEEL_DRIVERS_PCI_HOST_H
#define KEEL_DRIVERS_PCI_HOST_H

#include "lib/types.h"

/* Naturally aligned 32-bit config register reg (0..0xFFC, a multiple of 4) of function
 * bus:dev.fn of the segment the ops were made for. A function that is not there reads all ones. */
struct pci_cfg_ops {
	void *ctx;
	uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg);
	void (*write32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg, uint32_t v);
};

/* Type 0 and type 1 config header registers (PCI Local Bus 3.0, 6.1; PCI-to-PCI Bridge 1.2,
 * 3.2). */
#define PCIH_VENDOR_DEVICE 0x00
#define PCIH_COMMAND 0x04 /* 16 bits; the status register above it is RW1C */
#define PCIH_CLASS_REV 0x08
#define PCIH_HEADER_DWORD 0x0C /* header type in bits 23:16 */
#define PCIH_BAR0 0x10
#define PCIH_BRIDGE_BUSES 0x18 /* primary 7:0, secondary 15:8, subordinate 23:16 */
#define PCIH_CMD_IO (1u << 0)
#define PCIH_CMD_MEM (1u << 1)
#define PCIH_CMD_BUS_MASTER (1u << 2)
#define PCIH_CMD_INTX_DISABLE (1u << 10)
#define PCIH_HEADER_MULTI_FN 0x80
/* Class codes keel's drivers look for (PCI Code and ID Assignment 1.x: base, sub, prog-if) */
#define PCI_CLASS_NVME 0x010802u /* mass storage, non-volatile memory, NVM Express */
#define PCIH_HEADER_TYPE_MASK 0x7F

#define PCI_HOST_MAX_FUNCS 512
#define PCI_HOST_MAX_BARS 6

enum pci_host_bar_kind {
	PCI_HBAR_NONE = 0, /* not implemented (reads back 0), or the upper half of a 64-bit BAR */
	PCI_HBAR_IO,
	PCI_HBAR_MEM32,
	PCI_HBAR_MEM64,
	PCI_HBAR_BAD, /* a 64-bit BAR in the last slot, or a reserved type: left alone */
};

struct pci_host_bar {
	uint8_t kind; /* enum pci_host_bar_kind */
	bool prefetchable;
	uint64_t base; /* as the firmware assigned it; 0: unassigned */
	uint64_t size; /* a power of two; 0 when kind is NONE or BAD */
	bool mapped;   /* memory BAR mapped uncached in keel's page tables (identity) */
};

enum pci_owner {
	PCI_OWNER_NONE = 0, /* nobody drives it: untouched since it was sized */
	PCI_OWNER_KEEL,	    /* one of keel's host drivers */
	PCI_OWNER_VM,	    /* passed through to VM owner_vm */
};

struct pci_func {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class_code; /* base class 23:16, subclass 15:8, programming interface 7:0 */
	uint8_t revision;
	uint8_t header_type; /* without the multi-function bit */
	bool multi_fn;	     /* bit 7 of the header type (read at function 0) */
	unsigned nr_bars;    /* BAR slots of its header type: 6 (type 0) or 2 (type 1) */
	struct pci_host_bar bar[PCI_HOST_MAX_BARS];
	/* bridges (type 1): the buses behind it as it reports them, and whether they were walked
	 * (false: 0, below its own bus, outside the range, already seen, or subordinate <
	 * secondary) */
	uint8_t sec_bus, sub_bus;
	bool bridge_walked;
	uint8_t owner; /* enum pci_owner */
	unsigned owner_vm;
	/* the VM's name while owner is PCI_OWNER_VM (pci_claim.h sets both; it outlives the
	 * claim), for messages that name the holder without reaching into core */
	const char *owner_name;
	/* the VM whose keel.cfg `pci =` names this function or another of its IOMMU group: keel's
	 * drivers leave it alone, so the claim finds it free (pci_claim_set_aside) */
	const char *set_aside_for;
	/* DMA faults the IOMMU logged for it, and whether that turned its bus mastering off */
	unsigned iommu_faults;
	bool dma_stopped;
	/* the IOMMU domain its DMA goes through (iommu_hw.h IOMMU_DOMAIN_*, a VM's from 3), 0 while
	 * blocked or without an IOMMU */
	uint16_t dma_domain;
	/* SR-IOV (drivers/sriov.h): a PF's capability offset (0: none known); a VF, with the
	 * table index of its PF. A VF's BARs are the ones computed from its PF's VF BARs. */
	uint16_t sriov_cap;
	bool is_vf;
	uint16_t pf_index;
};

struct pci_host {
	unsigned nr;
	struct pci_func funcs[PCI_HOST_MAX_FUNCS];
	unsigned nr_dropped;	 /* functions past PCI_HOST_MAX_FUNCS */
	unsigned nr_bad_bridges; /* bridges whose buses were not walked */
	unsigned nr_buses;	 /* buses walked */
	unsigned nr_root_buses;	 /* root buses found besides each walk's bus_start */
	const char *mechanism;	 /* "ECAM" or "ports 0xCF8" (set by the caller) */
};

/* Walks segment's buses from bus_start (the root bus) through every bridge within [bus_start,
 * bus_end], then probes each bus of the range not reached that way for devices (another root
 * bus) and walks those too; appends every function found to ph (which the caller zeroed once).
 * Returns the number added. */
unsigned pci_host_enumerate(struct pci_host *ph, const struct pci_cfg_ops *ops, uint16_t segment,
			    uint8_t bus_start, uint8_t bus_end);

/* Sizes the BAR whose register is reg (a header BAR, or an SR-IOV VF BAR) of bus:dev.fn into
 * *bar, slots being the BAR registers left in its block from reg on (a 64-bit BAR needs two);
 * the caller has turned off the decoding the BAR governs. Writes all ones and restores exactly
 * what the registers held (PCI Local Bus 3.0, 6.2.5.1). Returns the registers it used (1, or 2
 * for a 64-bit BAR, whose upper register is left to the caller as kind NONE). */
unsigned pci_bar_size(const struct pci_cfg_ops *o, uint8_t bus, uint8_t dev, uint8_t fn,
		      uint16_t reg, unsigned slots, struct pci_host_bar *bar);

/* A short name of a well-known class ("NVMe controller", "Ethernet" ...), or NULL. */
const char *pci_class_name(uint32_t class_code);

/* One line describing f without an owner: "BB:DD.F VVVV:DDDD class CCCCCC NAME; BARs"
 * (SSSS:BB:DD.F outside segment 0). Returns what ksnprintf returns. */
int pci_func_describe(const struct pci_func *f, char *buf, size_t size);
/* "none", "keel" or "vm" */
const char *pci_owner_name(uint8_t owner);

#endif
