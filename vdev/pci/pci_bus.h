/* A VM's PCI bus 0 behind its host bridge: configuration space through the 0xCF8/0xCFC ports
 * (configuration mechanism #1, PCI Local Bus 3.0, 3.2.2.3.2) and through ECAM (PCIe Base 4.0,
 * 7.2.2), the functions' BARs claimed on the VM's I/O and MMIO buses wherever the guest puts
 * them, interrupt messages handed to the platform, and INTx wired to IOAPIC pins 16-23.
 *
 * A BAR is decoded only where a real host bridge would forward it: inside the bridge's windows
 * (the ones the DSDT's _CRS gives), with its command register bit on, and not overlapping
 * anything already claimed there (another BAR, ECAM, the IOAPIC). Guest RAM, the local APIC and
 * keel's own devices lie outside the windows, so a BAR moved onto them decodes nowhere and the
 * guest's accesses there keep their old meaning. Every change of a BAR or of a command register
 * decodes the whole bus anew, so the outcome depends only on the BARs, never on the order in
 * which the guest moved them. Host-testable. */
#ifndef KEEL_VDEV_PCI_PCI_BUS_H
#define KEEL_VDEV_PCI_PCI_BUS_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/mmio_bus.h"
#include "vdev/pci/pci_dev.h"
#include "vdev/vdev.h"

#define PCI_SLOTS 32
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
/* INTx of slot s, pin p (1..4) goes to IOAPIC pin PCI_INTX_GSI_BASE + (s + p - 1) % 4, the usual
 * swizzle; the DSDT's _PRT says the same. Level-triggered, active low, shared. */
#define PCI_INTX_GSI_BASE 16

struct pci_bus_config {
	uint64_t ecam_base;	      /* 1 MiB, bus 0 */
	uint64_t mmio_base, mmio_end; /* memory window [base, end) below 4 GiB */
	/* a second memory window [base, end) above RAM for 64-bit BARs; none when end == base */
	uint64_t mmio64_base, mmio64_end;
	uint32_t io_base, io_end; /* I/O window [base, end) */
};

struct pci_bus {
	const struct vdev_env *env;
	struct io_bus *io;
	struct mmio_bus *mmio;
	struct pci_bus_config cfg;
	struct pci_dev *slot[PCI_SLOTS];
	uint32_t config_address; /* the 0xCF8 register */
	/* slots asserting each of the four INTx lines */
	uint32_t intx_slots[4];
	/* where an interrupt message goes (the platform turns it into an APIC message) */
	void (*deliver_msg)(void *ctx, const struct pci_msg *m);
	void *deliver_ctx;
	struct unclaimed_log log; /* BARs not decoded, messages refused: rate-limited lines */
	uint64_t msgs_bad;	  /* messages to an address that is not the local APICs' */
};

/* Claims 0xCF8, 0xCFC-0xCFF and the ECAM window. -1 when one is taken or cfg is not sane. */
int pci_bus_init(struct pci_bus *bus, const struct vdev_env *env, struct io_bus *io,
		 struct mmio_bus *mmio, const struct pci_bus_config *cfg,
		 void (*deliver_msg)(void *ctx, const struct pci_msg *m), void *deliver_ctx);
/* Plugs d (set up and sealed by its model) into slot as function 0. -1 when taken. */
int pci_bus_plug(struct pci_bus *bus, unsigned slot, struct pci_dev *d);
/* What firmware does before the OS runs: gives every BAR an address inside the windows
 * (largest first, each aligned to its size), turns on I/O and memory decoding, and decodes.
 * -1 when the BARs do not fit in the windows. */
int pci_bus_assign(struct pci_bus *bus);
/* Every function back to its reset state, then assigned again (a VM reset). */
void pci_bus_reset(struct pci_bus *bus);
/* Decodes every BAR anew (called by the functions when a BAR or a command register changes). */
void pci_bus_decode(struct pci_bus *bus);

/* Config space of bus 0 by ECAM offset (device << 15 | function << 12 | register). */
uint32_t pci_bus_cfg_read(struct pci_bus *bus, uint32_t ecam_off, unsigned size);
void pci_bus_cfg_write(struct pci_bus *bus, uint32_t ecam_off, unsigned size, uint32_t val);

#endif
