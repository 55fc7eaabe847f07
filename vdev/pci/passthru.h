/* A host PCI function passed through to a VM, as the VM sees it: a struct pci_dev on the VM's
 * virtual bus with the host's IDs, class, revision, subsystem and memory BARs (same sizes and
 * kinds), and keel's own header and capabilities around them. The guest reaches the host's
 * registers only through the BARs; everything that could let it out of its box stays keel's:
 * where the BARs really are, the command register (bus mastering follows the guest's bit, nothing
 * else does), the interrupt messages (MSI and MSI-X are virtual; the glue programs the host with
 * keel's own vectors) and the capability list (the host's is read, never shown).
 *
 * This file is the host-testable logic. The glue to the real function (config cycles, the
 * BARs' MMIO, the host's command register and MSI/MSI-X, stage-2 mappings) supplies
 * struct passthru_host_ops. Everything read through cfg_read32 is the device's word: untrusted,
 * checked before use. */
#ifndef KEEL_VDEV_PCI_PASSTHRU_H
#define KEEL_VDEV_PCI_PASSTHRU_H

#include "lib/types.h"
#include "vdev/mmio_bus.h"
#include "vdev/pci/pci_dev.h"

#define PASSTHRU_PAGE 4096u

struct passthru_host_ops {
	/* The host function's config space, a dword at reg (dword-aligned, 0..0xFC). */
	uint32_t (*cfg_read32)(void *ctx, uint16_t reg);
	/* For the glue's own use (its set_command, its MSI programming): passthru.c never calls
	 * it, so no guest config write ever reaches the host's config space. */
	void (*cfg_write32)(void *ctx, uint16_t reg, uint32_t v);
	/* The host BAR's registers: off + size within the host BAR's size, size 1, 2, 4 or 8,
	 * naturally aligned; never inside the MSI-X table or PBA, but for a read (4 or 8 bytes,
	 * aligned) of the PBA's first qword: the pending bits of vectors the guest masks. */
	uint64_t (*bar_read)(void *ctx, unsigned bar, uint64_t off, unsigned size);
	void (*bar_write)(void *ctx, unsigned bar, uint64_t off, unsigned size, uint64_t v);
	/* The guest's memory-space and bus-master bits changed (or a reset: both false). The glue
	 * decodes the host BARs as keel needs; bus mastering must follow bus_master, so a guest
	 * that turns it off stops its device's DMA. */
	void (*set_command)(void *ctx, bool memory, bool bus_master);
	/* The guest changed MSI or MSI-X (enable, function mask, a vector's mask, address or
	 * data): the glue reads passthru_msi/passthru_msix_vector and reprograms the host with
	 * keel's own vectors. */
	void (*msi_changed)(void *ctx);
	/* Where BAR bar decodes in guest-physical space now (after the guest moved it or turned
	 * memory decoding on or off; every "on" is preceded by an "off" for its old place). The
	 * glue maps the pages passthru_page_direct allows at gpa in stage 2, and unmaps them on
	 * "off". Optional. size is the BAR's size as the guest sees it. */
	void (*bar_decoded)(void *ctx, unsigned bar, bool on, uint64_t gpa, uint64_t size);
};

/* One host BAR as the host PCI walk sized it (drivers/pci_host.h, struct pci_host_bar, copied
 * by the glue: vdev/ knows nothing of drivers/). The entry after a 64-bit BAR (its upper half)
 * is ignored; PCI_HBAR_BAD becomes NONE. */
struct passthru_bar_info {
	enum pci_bar_kind kind;
	bool prefetchable;
	uint64_t size; /* a power of two, 0 with NONE */
};

struct passthru;

/* The context of one offered BAR's mmio_ops. */
struct passthru_bar {
	struct passthru *p;
	unsigned n;
	uint64_t host_size; /* the host BAR's size; the guest's (dev.bars[n].size) is >= 4 KiB */
	/* the host's MSI-X table and PBA, [off, end) in this BAR: trapped, never forwarded
	 * (the PBA's pending bits of the guest's masked vectors are read: host_pending) */
	uint64_t trap_off[2], trap_end[2];
	unsigned nr_traps;
	/* what bar_decoded last said */
	bool reported_on;
	uint64_t reported_gpa;
};

struct passthru {
	struct pci_dev dev; /* plug it into the VM's bus (pci_bus_plug) */
	const struct passthru_host_ops *ops;
	void *ctx;
	struct passthru_bar bars[PCI_NR_BARS];
	uint16_t host_msix_vectors; /* the host table's size; the guest sees at most 64 */
	/* the MSI state msi_changed last told of: MSI capability bytes 2-19, MSI-X control and
	 * table */
	uint8_t seen_msi[18];
	uint16_t seen_msix_ctrl;
	uint32_t seen_msix_table[PCI_MSIX_MAX_VECTORS][4];
	uint16_t seen_cmd; /* the memory and bus-master bits set_command last told of */
	uint64_t msi_changes, forwarded; /* counted for `stats` */
};

/* Builds p->dev from the host function: its IDs, class, revision and subsystem through
 * cfg_read32, its memory BARs from host_bars, keel's MSI capability when the host function has
 * MSI and keel's MSI-X capability (at most PCI_MSIX_MAX_VECTORS vectors, table and PBA where the
 * host has them) when it has MSI-X. -1 with why filled when the function cannot be offered:
 * not a type 0 header, no memory BAR, a BAR keel cannot show, an MSI-X table or PBA that does
 * not fit its BAR. Sealed: plug it in. */
int passthru_init(struct passthru *p, const struct passthru_host_ops *ops, void *ctx,
		  const struct passthru_bar_info host_bars[PCI_NR_BARS], char *why,
		  size_t why_size);

/* True when the 4 KiB page at page_off of BAR bar may be mapped straight into the guest: inside
 * the host's BAR, and touching neither the MSI-X table nor the PBA. */
bool passthru_page_direct(const struct passthru *p, unsigned bar, uint64_t page_off);

/* The guest's MSI: false when the function has no MSI capability. masked is the vector's mask
 * bit. addr and data are the guest's words: the glue only turns them into a guest vector and
 * destination, never into a host address. */
struct passthru_msi {
	bool enabled, masked;
	uint64_t addr;
	uint32_t data;
};
bool passthru_msi(const struct passthru *p, struct passthru_msi *m);

/* The number of MSI-X vectors the guest sees (0: no MSI-X), and vector v of them: false when v
 * is not one. */
struct passthru_msix_vector {
	bool enabled, function_masked, masked;
	uint64_t addr;
	uint32_t data;
};
unsigned passthru_msix_vectors(const struct passthru *p);
bool passthru_msix_vector(const struct passthru *p, unsigned v, struct passthru_msix_vector *m);

/* The virtual function back to reset (pci_dev_reset: BARs at 0, MSI and MSI-X off), the host's
 * memory decoding and bus mastering off (set_command(false, false)), msi_changed when MSI state
 * changed, and the bus decoded again when the function is plugged in. */
void passthru_reset(struct passthru *p);

#endif
