/* A PCI function for the bus tests and the fuzzer: every kind of BAR and both interrupt message
 * capabilities. BAR0 I/O (32 ports), BAR1 32-bit memory (4 KiB), BAR2-3 64-bit prefetchable
 * memory (16 KiB: MSI-X table of 4 vectors at 0, PBA at 0x800, the rest a scratch register
 * file), MSI, INTA. Records the last access each BAR handler saw. Header-only. */
#ifndef KEEL_TESTS_SUPPORT_PCI_TEST_DEV_H
#define KEEL_TESTS_SUPPORT_PCI_TEST_DEV_H

#include "vdev/pci/pci_dev.h"

#define TDEV_VENDOR 0x1234
#define TDEV_DEVICE 0x5678
#define TDEV_MSIX_VECTORS 4
#define TDEV_PBA 0x800

struct tdev {
	struct pci_dev pci;
	uint64_t last_off;
	unsigned last_size, last_bar;
	uint64_t last_val;
	unsigned accesses;
	uint64_t scratch[2048];
};

static inline int tdev_io_read(void *ctx, uint16_t off, unsigned size, uint32_t *val)
{
	struct tdev *t = ctx;
	t->last_bar = 0, t->last_off = off, t->last_size = size, t->accesses++;
	*val = 0xC0DE0000u | off;
	return 0;
}

static inline int tdev_io_write(void *ctx, uint16_t off, unsigned size, uint32_t val)
{
	struct tdev *t = ctx;
	t->last_bar = 0, t->last_off = off, t->last_size = size, t->last_val = val, t->accesses++;
	return 0;
}

static inline int tdev_mem1_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct tdev *t = ctx;
	t->last_bar = 1, t->last_off = off, t->last_size = size, t->accesses++;
	*val = 0xB1000000u | off;
	return 0;
}

static inline int tdev_mem1_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct tdev *t = ctx;
	t->last_bar = 1, t->last_off = off, t->last_size = size, t->last_val = val, t->accesses++;
	return 0;
}

static inline int tdev_mem2_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct tdev *t = ctx;
	t->last_bar = 2, t->last_off = off, t->last_size = size, t->accesses++;
	if (pci_msix_mmio_claims(&t->pci, 2, off))
		pci_msix_mmio_read(&t->pci, off, size, val);
	else
		*val = off < sizeof(t->scratch) ? t->scratch[off / 8] : ~0ull;
	return 0;
}

static inline int tdev_mem2_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct tdev *t = ctx;
	t->last_bar = 2, t->last_off = off, t->last_size = size, t->last_val = val, t->accesses++;
	if (pci_msix_mmio_claims(&t->pci, 2, off))
		pci_msix_mmio_write(&t->pci, off, size, val);
	else if (off < sizeof(t->scratch))
		t->scratch[off / 8] = val;
	return 0;
}

static const struct io_ops tdev_io_ops = { .read = tdev_io_read, .write = tdev_io_write };
static const struct mmio_ops tdev_mem1_ops = { .read = tdev_mem1_read, .write = tdev_mem1_write };
static const struct mmio_ops tdev_mem2_ops = { .read = tdev_mem2_read, .write = tdev_mem2_write };

/* 0, or -1 when a declaration was refused (a bug the tests report). */
static inline int tdev_init(struct tdev *t)
{
	memset(t, 0, sizeof(*t));
	pci_dev_init(&t->pci, TDEV_VENDOR, TDEV_DEVICE, 0xFF0000, 1, 1);
	if (pci_dev_add_bar(&t->pci, 0, PCI_BAR_IO, false, 32, &tdev_io_ops, t) ||
	    pci_dev_add_bar(&t->pci, 1, PCI_BAR_MEM32, false, 4096, &tdev_mem1_ops, t) ||
	    pci_dev_add_bar(&t->pci, 2, PCI_BAR_MEM64, true, 16384, &tdev_mem2_ops, t) ||
	    pci_dev_add_msi(&t->pci) ||
	    pci_dev_add_msix(&t->pci, TDEV_MSIX_VECTORS, 2, 0, TDEV_PBA))
		return -1;
	pci_dev_seal(&t->pci);
	return 0;
}

#endif
