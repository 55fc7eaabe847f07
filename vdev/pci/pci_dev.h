/* One PCI function's configuration space as the guest sees it (PCI Local Bus 3.0, chapter 6),
 * shared by every device model on keel's virtual PCI bus: the type 0 header with its
 * write masks, the BARs the guest sizes and moves, the capabilities list, MSI and MSI-X, and INTx.
 * A device model fills the header and declares its BARs and capabilities once; the guest's
 * config writes are then checked here, so no model sees a value outside the bits a register has.
 * Where a BAR is decoded is the bus's business (vdev/pci/pci_bus.c); this file only says where
 * the guest put it and whether decoding is on. Host-testable: no locks, no VM. */
#ifndef KEEL_VDEV_PCI_PCI_DEV_H
#define KEEL_VDEV_PCI_PCI_DEV_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/mmio_bus.h"

/* Conventional config space. ECAM's extended space (0x100-0xFFF) reads as zero: an extended
 * capability header of 0 ends the (empty) extended list (PCIe Base 4.0, 7.6.3). */
#define PCI_CFG_SIZE 256
#define PCI_NR_BARS 6

/* Type 0 header offsets (PCI Local Bus 3.0, 6.1, figure 6-1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0A
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2C
#define PCI_SUBSYS_ID 0x2E
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3C
#define PCI_INT_PIN 0x3D

/* Command register bits (6.2.2). */
#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_SERR (1u << 8)
#define PCI_CMD_INTX_DISABLE (1u << 10)
/* Status register bits (6.2.3). */
#define PCI_STS_INTX (1u << 3)
#define PCI_STS_CAP_LIST (1u << 4)

/* Capability IDs (PCI Code and ID Assignment, chapter 2). */
#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11

#define PCI_MSIX_MAX_VECTORS 64

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

/* A BAR's region, as the device model serves it: offsets from the BAR's base. An I/O BAR's
 * handler gets the offset in `port`. */
struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetchable;
	uint64_t size; /* a power of two: I/O 4..256, memory 4 KiB or more (one page each) */
	uint64_t addr; /* the base the guest programmed, size-aligned (sizing writes included) */
	const struct mmio_ops *mmio;
	const struct io_ops *io;
	void *ctx;
	bool decoded; /* claimed on the VM's bus at addr by the last pci_bus_decode */
};

/* An interrupt message the function sends: a memory write of data to addr (6.8). */
struct pci_msg {
	uint64_t addr;
	uint32_t data;
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	    /* bits a config write may change */
	uint8_t w1c[PCI_CFG_SIZE];	    /* bits a config write of 1 clears */
	uint8_t cfg_at_reset[PCI_CFG_SIZE]; /* cfg as the device model set it up (pci_dev_seal) */
	struct pci_bar bars[PCI_NR_BARS];
	uint16_t cap_next_free; /* where the next capability goes */
	uint8_t cap_last;	/* the last capability in the list, 0 with none */

	/* MSI (6.8.1): 64-bit addresses, per-vector masking, one vector */
	uint8_t msi_cap;
	/* MSI-X (6.8.2): table and PBA in BAR msix_bar at the offsets below */
	uint8_t msix_cap;
	uint8_t msix_bar;
	uint16_t msix_vectors;
	uint32_t msix_table_off, msix_pba_off;
	uint32_t msix_table[PCI_MSIX_MAX_VECTORS][4]; /* address low, high, data, control */
	uint64_t msix_pending;

	bool intx_asserted;
	/* counted for `stats`: messages sent, and those a masked vector or bus mastering off held
	 * back (pending until unmasked, or bus mastering is on again) */
	uint64_t msgs_sent, msgs_held;

	/* A device-specific window of config space [hook_off, hook_off + hook_len): hook runs
	 * before a read of it (to fill cfg) and after a write to it (to act on cfg). */
	uint16_t hook_off, hook_len;
	void (*hook)(struct pci_dev *d, unsigned off, unsigned size, bool write);
	void *hook_ctx;
	/* The device model's own state back to reset when the function is (a VM reset,
	 * pci_dev_reset); its context is hook_ctx. Optional. */
	void (*model_reset)(struct pci_dev *d);
	/* Called after every decode of the whole bus (pci_bus_decode), whatever caused it: a model
	 * whose BARs are more than trapped ranges (a passed-through function's, mapped in stage 2)
	 * learns from bars[n].decoded and addr where each decodes now. Optional; hook_ctx. */
	void (*bars_decoded)(struct pci_dev *d);

	/* Filled by the bus when the function is plugged in. */
	void *bus;
	uint8_t devfn; /* device << 3 | function */
	/* How an interrupt leaves the function: a message, or INTx at level. */
	void (*send_msg)(void *bus, struct pci_dev *d, const struct pci_msg *m);
	void (*set_intx)(void *bus, struct pci_dev *d, bool level);
	/* The command register or a BAR changed: the bus decodes the BARs anew. */
	void (*decode_changed)(void *bus, struct pci_dev *d);
};

/* A function with the given IDs and class (base class << 16 | subclass << 8 | prog-if), no BARs,
 * no capabilities, INTx pin pin (1 = INTA .. 4 = INTD, 0 = none). */
void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision, uint8_t pin);
void pci_dev_set_subsystem(struct pci_dev *d, uint16_t vendor, uint16_t id);
/* Declares BAR n (a 64-bit BAR takes n and n + 1). -1 when n or the size is not valid. */
int pci_dev_add_bar(struct pci_dev *d, unsigned n, enum pci_bar_kind kind, bool prefetchable,
		    uint64_t size, const void *ops, void *ctx);
/* Appends a capability of len bytes (its ID and next pointer included) to the list; the
 * caller fills the rest of cfg and wmask. Returns its offset, or 0 when it does not fit. */
unsigned pci_dev_add_cap(struct pci_dev *d, uint8_t id, unsigned len);
/* An MSI capability: one vector, 64-bit, maskable. -1 when it does not fit. */
int pci_dev_add_msi(struct pci_dev *d);
/* An MSI-X capability of `vectors` entries with its table at table_off and its PBA at pba_off
 * inside memory BAR bar (already declared, both inside it, 8-byte aligned). The device model's
 * BAR handler passes accesses to that range to pci_msix_mmio_read/write. -1 when invalid. */
int pci_dev_add_msix(struct pci_dev *d, unsigned vectors, unsigned bar, uint32_t table_off,
		     uint32_t pba_off);

/* The device model has declared everything: what cfg holds now is what a reset goes back to. */
void pci_dev_seal(struct pci_dev *d);

/* Config space access at offset off (0..4095; beyond PCI_CFG_SIZE reads 0, writes are
 * dropped) of size 1, 2 or 4, naturally aligned (the bus refuses others). */
uint32_t pci_cfg_read(struct pci_dev *d, unsigned off, unsigned size);
void pci_cfg_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t val);

uint16_t pci_dev_command(const struct pci_dev *d);
/* True when the function may read or write guest memory (bus mastering on). */
bool pci_dev_bus_master(const struct pci_dev *d);
/* Where BAR n decodes now: false when it is not declared or its kind of decoding is off. */
bool pci_dev_bar_decoded(const struct pci_dev *d, unsigned n, uint64_t *base, uint64_t *size);

/* True when off (from the MSI-X BAR's base) lies in the table or the PBA: the device model's
 * BAR handler then hands the access over to the two calls below. */
bool pci_msix_mmio_claims(const struct pci_dev *d, unsigned bar, uint64_t off);
void pci_msix_mmio_read(struct pci_dev *d, uint64_t off, unsigned size, uint64_t *val);
void pci_msix_mmio_write(struct pci_dev *d, uint64_t off, unsigned size, uint64_t val);

/* The device signals interrupt `vector` (an MSI-X table index; MSI and INTx have one).
 * Through MSI-X when it is on, else MSI, else INTx (asserted until pci_dev_lower_intx). A
 * masked vector's message is held pending and goes out when it is unmasked. */
void pci_dev_notify(struct pci_dev *d, unsigned vector);
void pci_dev_lower_intx(struct pci_dev *d);
/* True when MSI-X or MSI is enabled (a device then has no use for INTx). */
bool pci_dev_msi_on(const struct pci_dev *d);

/* Back to the state pci_dev_seal recorded: command 0, BARs at 0, MSI and MSI-X off, every
 * MSI-X vector masked (6.8.2.9), nothing pending, INTx low; then the device model's
 * model_reset. */
void pci_dev_reset(struct pci_dev *d);

#endif
