/* The PCI bus as a guest drives it: any sequence of configuration accesses (ECAM and
 * 0xCF8/0xCFC), BAR moves, accesses to wherever the BARs decode, interrupts raised and lowered by
 * the functions and resets must keep the bus's promises: a BAR decodes only inside the windows,
 * at its own address and size, with its command bit on; no two claims overlap; read-only
 * registers keep their values; a message leaves only with bus mastering on and only for the
 * APICs' window; INTx lines are the OR of the functions that may drive them.
 *
 * Input: 8-byte records (a shorter tail is ignored):
 *   byte 0   bits 0-2  operation: 0 ECAM read, 1 ECAM write, 2 CONFIG_ADDRESS write, 3 data
 *                      port access (value bit 31: write), 4 memory read in the window, 5 memory
 *                      write there, 6 I/O port access (value bit 31: write), 7 device event
 *            bits 3-4  access size: 1, 2, 4, 8 (8: memory only; elsewhere refused)
 *            bit 5     which function (slot 3 or slot 4)
 *   bytes 1-3          offset (ECAM offset, window offset, port), little-endian
 *   bytes 4-7          value; device event: bits 0-1 notify, lower INTx, bus reset, nothing;
 *                      bits 8-15 the vector */
#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/pci_test_dev.h"
#include "vdev/pci/pci_bus.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool irq[24];

static uint64_t fz_now(void *ctx)
{
	(void)ctx;
	return 0;
}

static void fz_set_irq(void *ctx, unsigned gsi, bool level)
{
	(void)ctx;
	if (gsi < PCI_INTX_GSI_BASE || gsi >= PCI_INTX_GSI_BASE + 4)
		abort(); /* INTx drives pins 16-19 only */
	irq[gsi] = level;
}

static void fz_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx;
	if ((m->addr >> 20) != 0xFEE)
		abort();
}

static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct tdev devs[2];
static const unsigned slots[2] = { 3, 4 };

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

static void check_claims(void)
{
	for (unsigned i = 0; i < mmio.nr; i++) {
		const struct mmio_range *r = &mmio.ranges[i];
		if (r->dev == &bus)
			continue; /* ECAM */
		const struct pci_bar *b = r->dev;
		const struct pci_dev *d = &devs[b >= devs[1].pci.bars].pci;
		if (r->base != b->addr || r->size != b->size || b->kind == PCI_BAR_IO ||
		    !(pci_dev_command(d) & PCI_CMD_MEM) || r->base < GUEST_PCI_MMIO32_BASE ||
		    r->base + r->size > GUEST_PCI_MMIO32_END)
			abort();
		for (unsigned k = 0; k < i; k++)
			if (r->base < mmio.ranges[k].base + mmio.ranges[k].size &&
			    mmio.ranges[k].base < r->base + r->size)
				abort();
	}
	for (unsigned i = 0; i < io.nr; i++) {
		const struct io_range *r = &io.ranges[i];
		if (r->dev == &bus)
			continue; /* 0xCF8, 0xCFC */
		const struct pci_bar *b = r->dev;
		const struct pci_dev *d = &devs[b >= devs[1].pci.bars].pci;
		if (r->base != b->addr || r->last + 1u - r->base != b->size ||
		    b->kind != PCI_BAR_IO || !(pci_dev_command(d) & PCI_CMD_IO) ||
		    r->base < GUEST_PCI_IO_BASE)
			abort();
	}
}

/* The flag the bus leaves for the models (pci_bar.decoded) says what the buses hold. */
static void check_decoded_flags(void)
{
	for (unsigned i = 0; i < 2; i++)
		for (unsigned n = 0; n < PCI_NR_BARS; n++) {
			const struct pci_bar *b = &devs[i].pci.bars[n];
			bool claimed = false;
			for (unsigned k = 0; k < mmio.nr; k++)
				claimed |= mmio.ranges[k].dev == b;
			for (unsigned k = 0; k < io.nr; k++)
				claimed |= io.ranges[k].dev == b;
			if (claimed != b->decoded)
				abort();
		}
}

static void check(void)
{
	check_claims();
	check_decoded_flags();
	bool line[4] = { false };
	for (unsigned i = 0; i < 2; i++) {
		const struct pci_dev *d = &devs[i].pci;
		if (d->cfg[PCI_VENDOR_ID] != (TDEV_VENDOR & 0xFF) || d->cfg[PCI_CAP_PTR] != 0x40 ||
		    d->msix_pending >> TDEV_MSIX_VECTORS)
			abort();
		if (d->intx_asserted && !(pci_dev_command(d) & PCI_CMD_INTX_DISABLE) &&
		    !pci_dev_msi_on(d))
			line[(slots[i] + d->cfg[PCI_INT_PIN] - 1) & 3] = true;
	}
	for (unsigned l = 0; l < 4; l++)
		if (irq[PCI_INTX_GSI_BASE + l] != line[l])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vdev_env env = { .vm_name = "fuzz", .now_ns = fz_now, .set_irq = fz_set_irq };

	memset(irq, 0, sizeof(irq));
	host_log_clear();
	io_bus_init(&io, &env);
	mmio_bus_init(&mmio, &env);
	if (pci_bus_init(&bus, &env, &io, &mmio, &windows, fz_msg, NULL))
		abort();
	for (unsigned i = 0; i < 2; i++)
		if (tdev_init(&devs[i]) || pci_bus_plug(&bus, slots[i], &devs[i].pci))
			abort();
	if (pci_bus_assign(&bus))
		abort();
	for (size_t at = 0; at + 8 <= size; at += 8) {
		const uint8_t *r = data + at;
		unsigned op = r[0] & 7, sz = 1u << ((r[0] >> 3) & 3);
		struct tdev *t = &devs[(r[0] >> 5) & 1];
		uint32_t off = (uint32_t)r[1] | (uint32_t)r[2] << 8 | (uint32_t)r[3] << 16;
		uint32_t val = (uint32_t)r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 |
			       (uint32_t)r[7] << 24;
		uint64_t v64 = 0;
		uint32_t v32 = 0;

		switch (op) {
		case 0:
			mmio_bus_read(&mmio, GUEST_PCI_ECAM_BASE + (off & 0xFFFFF), sz, &v64);
			break;
		case 1:
			mmio_bus_write(&mmio, GUEST_PCI_ECAM_BASE + (off & 0xFFFFF), sz, val);
			break;
		case 2:
			io_bus_write(&io, PCI_CONFIG_ADDRESS, 4, val);
			break;
		case 3:
			if (val >> 31)
				io_bus_write(&io, (uint16_t)(PCI_CONFIG_DATA + (off & 3)), sz, val);
			else
				io_bus_read(&io, (uint16_t)(PCI_CONFIG_DATA + (off & 3)), sz, &v32);
			break;
		case 4:
			mmio_bus_read(&mmio, GUEST_PCI_MMIO32_BASE + off, sz, &v64);
			break;
		case 5:
			mmio_bus_write(&mmio, GUEST_PCI_MMIO32_BASE + off, sz, val);
			break;
		case 6:
			if (val >> 31)
				io_bus_write(&io, (uint16_t)off, sz, val);
			else
				io_bus_read(&io, (uint16_t)off, sz, &v32);
			break;
		default:
			switch (val & 3) {
			case 0:
				pci_dev_notify(&t->pci, (val >> 8) & 0xFF);
				break;
			case 1:
				pci_dev_lower_intx(&t->pci);
				break;
			case 2:
				pci_bus_reset(&bus);
				break;
			default:
				break;
			}
		}
		check();
	}
	return 0;
}
