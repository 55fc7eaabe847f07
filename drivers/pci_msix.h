/* MSI-X for keel's host PCI functions (PCI Local Bus 3.0, 6.8.2; PCIe Base 4.0, 7.7.2): finds the
 * capability, checks where the function says its vector table and pending-bit array are, and
 * programs, enables and disables it.
 *
 * Config space comes through struct pci_msix_cfg and the BARs as the plain data enumeration left
 * in struct pci_func (drivers/pci_host.h), so the same code runs in keel, where pci_msix_hw.c binds
 * it to a host function, and on the host, where tests/unit/test_pci_msix.c and
 * tests/fuzz/fuzz_pci_msix.c give it a fake config space and a buffer as the BAR.
 *
 * What the function reports is untrusted: the capability walk is bounded and refuses pointers into
 * the header, misplaced capabilities and loops; the table and PBA must lie inside a memory BAR that
 * keel mapped. Nothing here is used as an index without a check.
 *
 * In keel an MSI-X message only wakes a CPU (HOST_DEVICE_VECTOR, arch/x86/apic.h): the driver still
 * finds its work by polling. */
#ifndef KEEL_DRIVERS_PCI_MSIX_H
#define KEEL_DRIVERS_PCI_MSIX_H

#include "drivers/pci_host.h"
#include "lib/types.h"

/* Naturally aligned 32-bit config register reg (a multiple of 4 below 0x100) of one function. */
struct pci_msix_cfg {
	void *ctx;
	uint32_t (*read32)(void *ctx, uint16_t reg);
	void (*write32)(void *ctx, uint16_t reg, uint32_t v);
};

/* Capability IDs (PCI Code and ID Assignment 1.11, 2) */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11

#define PCI_MSIX_MAX_ENTRIES 2048 /* Table Size is 11 bits, N - 1 */
#define PCI_MSIX_ENTRY_SIZE 16

enum pci_msix_err {
	PCI_MSIX_OK = 0,
	PCI_MSIX_E_NO_CAP = -1,	   /* no capability list, or no MSI-X capability in it */
	PCI_MSIX_E_BAD_LIST = -2,  /* a pointer into the header, a loop, too many capabilities */
	PCI_MSIX_E_BAD_CAP = -3,   /* the capability runs past the 256-byte config space */
	PCI_MSIX_E_BAD_BIR = -4,   /* the BIR names no memory BAR that keel mapped */
	PCI_MSIX_E_BAD_RANGE = -5, /* table or PBA not inside its BAR, or the two overlap */
	PCI_MSIX_E_INVAL = -6,	   /* an entry past the table, a bad address, no entries */
	PCI_MSIX_E_DECODE = -7,	   /* memory decoding is off: the table is out of reach */
};

/* One function's MSI-X as pci_msix_open found it. */
struct pci_msix {
	struct pci_msix_cfg cfg;
	uint16_t cap;	     /* config offset of the capability */
	unsigned nr_entries; /* 1..PCI_MSIX_MAX_ENTRIES */
	uint8_t table_bir, pba_bir;
	uint32_t table_off, pba_off;  /* within their BARs, QWORD aligned */
	volatile uint32_t *table;     /* entry i is table[4 * i .. 4 * i + 3] */
	const volatile uint32_t *pba; /* pending bit i is bit i % 32 of pba[i / 32] */
};

/* A message to program into one entry. */
struct pci_msix_msg {
	uint64_t addr; /* dword aligned */
	uint32_t data;
};

/* The config offset of the first capability with that ID in the function's capability list (PCI
 * 3.0, 6.7), walked with every pointer checked: at most 48 capabilities, each at or above 0x40 and
 * none twice. PCI_MSIX_OK, PCI_MSIX_E_NO_CAP or PCI_MSIX_E_BAD_LIST. */
int pci_cap_find(const struct pci_msix_cfg *cfg, uint8_t id, uint16_t *off);

/* Finds the MSI-X capability and checks its table and PBA against bars[0..nr_bars) (the function's
 * BARs as enumeration left them; the BAR base is used as a pointer: keel maps memory BARs at their
 * physical address). Fills *m on success; touches no register but reads. Returns an enum
 * pci_msix_err. */
int pci_msix_open(struct pci_msix *m, const struct pci_msix_cfg *cfg,
		  const struct pci_host_bar *bars, unsigned nr_bars);

/* Writes entry i: masks it, writes address and data, unmasks it (PCI 3.0, 6.8.2.6-6.8.2.9). */
int pci_msix_set_entry(struct pci_msix *m, unsigned i, const struct pci_msix_msg *msg);
/* Sets or clears entry i's mask bit alone. */
int pci_msix_mask_entry(struct pci_msix *m, unsigned i, bool masked);
/* Whether entry i's pending bit is set (false past the table). */
bool pci_msix_pending(const struct pci_msix *m, unsigned i);

/* Turns MSI-X on with msgs[0..nr) in entries 0..nr-1 and every other entry masked (nr 0: all
 * masked, msgs may be NULL): INTx disabled
 * and MSI off first, then MSI-X Enable with Function Mask, the table, then Function Mask cleared.
 * Memory decoding must be on (PCI_MSIX_E_DECODE otherwise). Returns an enum pci_msix_err; on an
 * error nothing was written. */
int pci_msix_enable(struct pci_msix *m, const struct pci_msix_msg *msgs, unsigned nr);
/* Clears MSI-X Enable: the function is back to INTx, which stays disabled. The table keeps its
 * contents for a later pci_msix_enable. */
void pci_msix_disable(struct pci_msix *m);

/* "no MSI-X capability" ... for a log line. */
const char *pci_msix_err_name(int err);

#endif
