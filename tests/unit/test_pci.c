/* The virtual PCI bus and its functions: configuration space through 0xCF8/0xCFC and ECAM, BAR
 * sizing and moves and where they decode, MSI and MSI-X with masking and pending bits, shared
 * INTx lines, reset; and through the platform, the host bridge and an MSI reaching a local
 * APIC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/pci_test_dev.h"
#include "tests/support/vdev_fake.h"
#include "vdev/pci/host_bridge.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/platform.h"

static struct fake_vm vm;
static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;
static struct tdev dev, dev2;
static struct pci_dev bridge;

static struct pci_msg msgs[16];
static unsigned nr_msgs;

static void record_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx;
	if (nr_msgs < 16)
		msgs[nr_msgs] = *m;
	nr_msgs++;
}

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .mmio64_base = 0x1000000000ull,
					       .mmio64_end = 0x1400000000ull,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	io_bus_init(&io, &vm.env);
	mmio_bus_init(&mmio, &vm.env);
	host_log_clear();
	nr_msgs = 0;
	if (pci_bus_init(&bus, &vm.env, &io, &mmio, &windows, record_msg, NULL))
		return -1;
	pci_host_bridge_init(&bridge);
	if (tdev_init(&dev) || tdev_init(&dev2) || pci_bus_plug(&bus, 0, &bridge) ||
	    pci_bus_plug(&bus, 3, &dev.pci))
		return -1;
	return pci_bus_assign(&bus);
}

/* ---- config space access, the guest's ways ---- */

static uint32_t cf8(unsigned slot, unsigned reg)
{
	return 0x80000000u | slot << 11 | (reg & 0xFC);
}

static uint32_t io_rd(uint16_t port, unsigned size)
{
	uint32_t v = 0;
	assert_int_equal(io_bus_read(&io, port, size, &v), 0);
	return v;
}

static void io_wr(uint16_t port, unsigned size, uint32_t v)
{
	assert_int_equal(io_bus_write(&io, port, size, v), 0);
}

static uint32_t cfg_rd(unsigned slot, unsigned reg, unsigned size)
{
	io_wr(0xCF8, 4, cf8(slot, reg));
	return io_rd((uint16_t)(0xCFC + (reg & 3)), size);
}

static void cfg_wr(unsigned slot, unsigned reg, unsigned size, uint32_t v)
{
	io_wr(0xCF8, 4, cf8(slot, reg));
	io_wr((uint16_t)(0xCFC + (reg & 3)), size, v);
}

static uint64_t mem_rd(uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(mmio_bus_read(&mmio, gpa, size, &v), 0);
	return v;
}

static void mem_wr(uint64_t gpa, unsigned size, uint64_t v)
{
	assert_int_equal(mmio_bus_write(&mmio, gpa, size, v), 0);
}

static uint64_t ecam(unsigned slot, unsigned fn, unsigned reg)
{
	return GUEST_PCI_ECAM_BASE + ((uint64_t)slot << 15 | fn << 12 | reg);
}

static void both_mechanisms_read_the_same(void **state)
{
	(void)state;
	assert_int_equal(cfg_rd(0, 0, 4), 0x00081B36);
	assert_int_equal(cfg_rd(0, 0x08, 4), 0x06000000); /* class: host bridge */
	assert_int_equal(cfg_rd(3, 0, 4), TDEV_DEVICE << 16 | TDEV_VENDOR);
	assert_int_equal(cfg_rd(3, 2, 2), TDEV_DEVICE);
	assert_int_equal(cfg_rd(3, 3, 1), TDEV_DEVICE >> 8);
	assert_int_equal(mem_rd(ecam(3, 0, 0), 4), TDEV_DEVICE << 16 | TDEV_VENDOR);
	assert_int_equal(mem_rd(ecam(3, 0, 2), 2), TDEV_DEVICE);
	assert_int_equal(mem_rd(ecam(3, 0, 0), 8),
			 (uint64_t)cfg_rd(3, 4, 4) << 32 | (TDEV_DEVICE << 16 | TDEV_VENDOR));
	/* extended space reads 0: no extended capabilities */
	assert_int_equal(mem_rd(ecam(3, 0, 0x100), 4), 0);
	/* nothing there: all ones (an empty slot, another function, another bus, disabled) */
	assert_int_equal(cfg_rd(5, 0, 4), 0xFFFFFFFF);
	assert_int_equal(mem_rd(ecam(3, 1, 0), 4), 0xFFFFFFFF);
	assert_int_equal(mem_rd(ecam(31, 7, 0xFFC), 4), 0xFFFFFFFF);
	io_wr(0xCF8, 4, 0x80010000u);
	assert_int_equal(io_rd(0xCFC, 4), 0xFFFFFFFF);
	io_wr(0xCF8, 4, 3u << 11);
	assert_int_equal(io_rd(0xCFC, 4), 0xFFFFFFFF);
	/* CONFIG_ADDRESS: reserved and low bits read 0; only a dword access is it */
	io_wr(0xCF8, 4, 0xFFFFFFFF);
	assert_int_equal(io_rd(0xCF8, 4), 0x80FFFFFC);
	io_wr(0xCF8, 1, 0);
	assert_int_equal(io_rd(0xCF8, 4), 0x80FFFFFC);
	/* Linux's probe for mechanism #1 writes a byte to 0xCFB: the bridge's, quietly ignored */
	io_wr(0xCFB, 1, 1);
	io_wr(0xCFA, 4, 0);
	assert_int_equal(io_rd(0xCFA, 2), 0xFFFF);
	assert_int_equal(io_rd(0xCF8, 4), 0x80FFFFFC);
	assert_false(host_log_contains("unclaimed"));
	/* misaligned: an access crossing the data dword or a config register is refused */
	io_wr(0xCF8, 4, cf8(3, 0));
	assert_int_equal(io_rd(0xCFE, 4), 0xFFFFFFFF);
	assert_int_equal(mem_rd(ecam(3, 0, 1), 2), 0xFFFF);
}

static void read_only_fields_stay(void **state)
{
	(void)state;
	cfg_wr(3, 0, 4, 0);
	cfg_wr(3, 0x08, 4, 0);
	cfg_wr(3, PCI_CAP_PTR, 1, 0x80);
	assert_int_equal(cfg_rd(3, 0, 4), TDEV_DEVICE << 16 | TDEV_VENDOR);
	assert_int_equal(cfg_rd(3, 0x08, 4), 0xFF000001);
	assert_int_equal(cfg_rd(3, PCI_CAP_PTR, 1), 0x40);
	assert_true(cfg_rd(3, PCI_STATUS, 2) & PCI_STS_CAP_LIST);
	/* the capability list: MSI at 0x40, MSI-X after it, then the end */
	assert_int_equal(cfg_rd(3, 0x40, 1), PCI_CAP_MSI);
	unsigned next = cfg_rd(3, 0x41, 1);
	assert_int_equal(cfg_rd(3, next, 1), PCI_CAP_MSIX);
	assert_int_equal(cfg_rd(3, next + 1, 1), 0);
	/* interrupt line is the guest's scratch, the pin is fixed */
	cfg_wr(3, PCI_INT_LINE, 2, 0x0B0A);
	assert_int_equal(cfg_rd(3, PCI_INT_LINE, 2), 0x010A);
	/* command: only the defined bits */
	cfg_wr(3, PCI_COMMAND, 2, 0xFFFF);
	assert_int_equal(cfg_rd(3, PCI_COMMAND, 2), 0x0547);
}

/* PCI Local Bus 3.0, 6.2.5.1: all ones in, the size mask and the fixed flag bits out. */
static void bars_size(void **state)
{
	(void)state;
	cfg_wr(3, PCI_COMMAND, 2, 0);
	for (unsigned n = 0; n < 6; n++)
		cfg_wr(3, PCI_BAR0 + 4 * n, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_rd(3, 0x10, 4), 0x0000FFE1); /* I/O, 32 ports, 16-bit decode */
	assert_int_equal(cfg_rd(3, 0x14, 4), 0xFFFFF000); /* 32-bit memory, 4 KiB */
	assert_int_equal(cfg_rd(3, 0x18, 4), 0xFFFFC00C); /* 64-bit prefetchable, 16 KiB */
	assert_int_equal(cfg_rd(3, 0x1C, 4), 0xFFFFFFFF);
	assert_int_equal(cfg_rd(3, 0x20, 4), 0); /* no BAR 4, 5 */
	assert_int_equal(cfg_rd(3, 0x24, 4), 0);
	/* a byte write merges into the BAR */
	cfg_wr(3, 0x14, 4, 0xC0001000);
	cfg_wr(3, 0x17, 1, 0xD0);
	assert_int_equal(cfg_rd(3, 0x14, 4), 0xD0001000);
	assert_int_equal(dev.pci.bars[1].addr, 0xD0001000);
	/* the 64-bit BAR's halves */
	cfg_wr(3, 0x18, 4, 0x12345678);
	cfg_wr(3, 0x1C, 4, 0x9);
	assert_int_equal(dev.pci.bars[2].addr, 0x912344000ull);
}

static bool decoded_at(const struct tdev *t, unsigned n, uint64_t addr)
{
	for (unsigned i = 0; i < mmio.nr; i++)
		if (mmio.ranges[i].dev == &t->pci.bars[n])
			return mmio.ranges[i].base == addr;
	for (unsigned i = 0; i < io.nr; i++)
		if (io.ranges[i].dev == &t->pci.bars[n])
			return io.ranges[i].base == addr;
	return false;
}

static bool decoded(const struct tdev *t, unsigned n)
{
	bool on = decoded_at(t, n, t->pci.bars[n].addr);
	assert_int_equal(t->pci.bars[n].decoded, on); /* what the bus tells the model */
	return on;
}

static unsigned decodes_told;
static bool told[PCI_NR_BARS];

static void bars_decoded(struct pci_dev *d)
{
	decodes_told++;
	for (unsigned n = 0; n < PCI_NR_BARS; n++)
		told[n] = d->bars[n].decoded;
}

static void models_told_of_decodes(void **state)
{
	(void)state;
	decodes_told = 0;
	dev.pci.bars_decoded = bars_decoded;
	cfg_wr(3, 0x14, 4, 0xC8000000);
	assert_int_equal(decodes_told, 1);
	assert_true(told[0] && told[1] && told[2] && !told[3]);
	/* BAR 2 onto BAR 1: the model hears once the whole bus is decoded, BAR 2 lost */
	cfg_wr(3, 0x18, 4, 0xC8000000);
	cfg_wr(3, 0x1C, 4, 0);
	assert_int_equal(decodes_told, 3);
	assert_true(told[1] && !told[2]);
	/* another function's move decodes the bus too: told again */
	assert_int_equal(pci_bus_plug(&bus, 4, &dev2.pci), 0);
	pci_cfg_write(&dev2.pci, 0x14, 4, 0xCA000000);
	assert_int_equal(decodes_told, 4);
	cfg_wr(3, PCI_COMMAND, 2, PCI_CMD_IO);
	assert_int_equal(decodes_told, 5);
	assert_true(told[0] && !told[1] && !told[2]);
	dev.pci.bars_decoded = NULL;
}

static void assigned_bars_decode(void **state)
{
	(void)state;
	/* firmware's assignment: inside the windows, aligned, decoding on, bus mastering off */
	for (unsigned n = 0; n < 3; n++) {
		const struct pci_bar *b = &dev.pci.bars[n];
		assert_int_equal(b->addr % b->size, 0);
		assert_true(decoded(&dev, n));
	}
	assert_true(dev.pci.bars[0].addr >= GUEST_PCI_IO_BASE);
	assert_true(dev.pci.bars[1].addr >= GUEST_PCI_MMIO32_BASE);
	assert_int_equal(cfg_rd(3, PCI_COMMAND, 2), PCI_CMD_IO | PCI_CMD_MEM);
	uint16_t port = (uint16_t)dev.pci.bars[0].addr;
	assert_int_equal(io_rd((uint16_t)(port + 6), 2), 0xC0DE0006 & 0xFFFF);
	assert_int_equal(dev.last_off, 6);
	mem_wr(dev.pci.bars[1].addr + 0x10, 4, 0xAB);
	assert_int_equal(dev.last_bar, 1);
	assert_int_equal(dev.last_off, 0x10);
	assert_int_equal(dev.last_val, 0xAB);
	mem_wr(dev.pci.bars[2].addr + 0x1000, 8, 0x1122334455667788ull);
	assert_int_equal(mem_rd(dev.pci.bars[2].addr + 0x1000, 8), 0x1122334455667788ull);
	/* decoding off: the ranges are gone, accesses unclaimed */
	cfg_wr(3, PCI_COMMAND, 2, PCI_CMD_IO);
	assert_false(decoded(&dev, 1));
	assert_false(decoded(&dev, 2));
	assert_true(decoded(&dev, 0));
	unsigned before = dev.accesses;
	assert_int_equal(mem_rd(dev.pci.bars[1].addr, 4), 0xFFFFFFFF);
	assert_int_equal(dev.accesses, before);
	cfg_wr(3, PCI_COMMAND, 2, 0);
	assert_false(decoded(&dev, 0));
}

static void moved_bars_follow_or_refuse(void **state)
{
	(void)state;
	/* moved inside the window: decoded there and only there */
	cfg_wr(3, 0x14, 4, 0xC8000000);
	assert_true(decoded_at(&dev, 1, 0xC8000000));
	unsigned before = dev.accesses;
	mem_rd(0xC8000000, 4);
	assert_int_equal(dev.accesses, before + 1);
	/* onto another BAR: the bus decodes in slot and BAR order, so BAR 1 keeps it and BAR 2
	 * (64-bit) does not decode at all */
	cfg_wr(3, 0x18, 4, 0xC8000000);
	cfg_wr(3, 0x1C, 4, 0);
	assert_true(decoded_at(&dev, 1, 0xC8000000));
	assert_false(decoded(&dev, 2));
	assert_true(host_log_contains("vm t: pci 00:03.0 BAR 2 (memory, 16384 bytes) at 0xc8000000 "
				      "is not decoded: it overlaps another BAR or device"));
	/* BAR 1 moves away: BAR 2 decodes where the guest put it, whatever the order of moves */
	cfg_wr(3, 0x14, 4, 0xC9000000);
	assert_true(decoded(&dev, 1));
	assert_true(decoded_at(&dev, 2, 0xC8000000));
	/* onto guest RAM, the local APIC, ECAM, above 4 GiB: outside the windows, not decoded */
	static const uint64_t outside[] = { 0x100000, GUEST_LAPIC_BASE, GUEST_PCI_ECAM_BASE,
					    0x100000000ull, GUEST_PCI_MMIO32_BASE - 0x4000 };
	for (unsigned i = 0; i < ARRAY_SIZE(outside); i++) {
		cfg_wr(3, 0x18, 4, (uint32_t)outside[i]);
		cfg_wr(3, 0x1C, 4, (uint32_t)(outside[i] >> 32));
		assert_false(decoded(&dev, 2));
	}
	assert_true(host_log_contains("is not decoded: outside the host bridge's windows"));
	/* the 64-bit BAR in the window above RAM: decoded there, with all 64 address bits; at
	 * its last 16 KiB still, right after it not */
	cfg_wr(3, 0x18, 4, 0x4000);
	cfg_wr(3, 0x1C, 4, 0x10);
	assert_true(decoded_at(&dev, 2, 0x1000004000ull));
	mem_wr(0x1000004000ull + 0x1000, 8, 0x0102030405060708ull);
	assert_int_equal(mem_rd(0x1000004000ull + 0x1000, 8), 0x0102030405060708ull);
	cfg_wr(3, 0x18, 4, 0xFFFFC000);
	cfg_wr(3, 0x1C, 4, 0x13);
	assert_true(decoded_at(&dev, 2, 0x13FFFFC000ull));
	cfg_wr(3, 0x18, 4, 0);
	cfg_wr(3, 0x1C, 4, 0x14);
	assert_false(decoded(&dev, 2));
	/* an I/O BAR onto the platform's ports or past 64 KiB */
	cfg_wr(3, 0x10, 4, 0x3E0);
	assert_false(decoded(&dev, 0));
	cfg_wr(3, 0x10, 4, 0xFFE0);
	assert_true(decoded(&dev, 0));
	/* the I/O BAR's top 16 bits are 0 */
	cfg_wr(3, 0x10, 4, 0x1FFE0);
	assert_int_equal(cfg_rd(3, 0x10, 4), 0xFFE1);
}

/* A second function on the same bus with its BAR moved onto the first's. */
static void two_functions_one_address(void **state)
{
	(void)state;
	assert_int_equal(pci_bus_plug(&bus, 3, &dev2.pci), -1); /* taken */
	assert_int_equal(pci_bus_plug(&bus, 4, &dev2.pci), 0);
	assert_int_equal(pci_bus_assign(&bus), 0);
	assert_true(decoded(&dev2, 1));
	assert_true(dev2.pci.bars[1].addr != dev.pci.bars[1].addr);
	cfg_wr(4, 0x14, 4, (uint32_t)dev.pci.bars[1].addr);
	assert_true(decoded(&dev, 1));
	assert_false(decoded(&dev2, 1));
	cfg_wr(3, PCI_COMMAND, 2, 0); /* the first stops decoding: the second takes it */
	assert_true(decoded(&dev2, 1));
}

/* ---- MSI ---- */

static void msi_delivered_masked_held(void **state)
{
	(void)state;
	unsigned c = 0x40;
	assert_int_equal(cfg_rd(3, c + 2, 2), 0x0180); /* 64-bit, per-vector masking, 1 vector */
	cfg_wr(3, c + 4, 4, 0xFEE01003);	       /* low bits reserved */
	cfg_wr(3, c + 8, 4, 0);
	cfg_wr(3, c + 12, 2, 0x4041);
	cfg_wr(3, c + 2, 2, 0xFFFF);
	assert_int_equal(cfg_rd(3, c + 2, 2), 0x0181); /* only enable is writable */
	assert_true(pci_dev_msi_on(&dev.pci));
	/* bus mastering off: a function cannot write the message; it stays pending, and goes out
	 * once when bus mastering is on again */
	pci_dev_notify(&dev.pci, 0);
	pci_dev_notify(&dev.pci, 0);
	assert_int_equal(nr_msgs, 0);
	assert_int_equal(dev.pci.msgs_held, 2);
	assert_int_equal(cfg_rd(3, c + 20, 4), 1); /* the pending bit */
	cfg_wr(3, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	assert_int_equal(nr_msgs, 1);
	assert_int_equal(msgs[0].addr, 0xFEE01000);
	assert_int_equal(msgs[0].data, 0x4041);
	assert_int_equal(cfg_rd(3, c + 20, 4), 0);
	pci_dev_notify(&dev.pci, 0);
	assert_int_equal(nr_msgs, 2);
	/* masked: held, its pending bit set; unmasked: sent once */
	cfg_wr(3, c + 16, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_rd(3, c + 16, 4), 1);
	pci_dev_notify(&dev.pci, 0);
	pci_dev_notify(&dev.pci, 0);
	assert_int_equal(nr_msgs, 2);
	assert_int_equal(dev.pci.msgs_held, 4);
	assert_int_equal(cfg_rd(3, c + 20, 4), 1);
	cfg_wr(3, c + 20, 4, 0); /* pending is read-only */
	assert_int_equal(cfg_rd(3, c + 20, 4), 1);
	cfg_wr(3, c + 16, 4, 0);
	assert_int_equal(nr_msgs, 3);
	assert_int_equal(cfg_rd(3, c + 20, 4), 0);
	/* MSI on: INTx stays low */
	assert_false(vm.irq[PCI_INTX_GSI_BASE + 3]);
}

/* A message to anything but the APICs' window is dropped and logged, never written. */
static void msi_to_memory_is_dropped(void **state)
{
	(void)state;
	cfg_wr(3, PCI_COMMAND, 2, PCI_CMD_MASTER);
	cfg_wr(3, 0x44, 4, 0x00100000);
	cfg_wr(3, 0x42, 2, 1);
	pci_dev_notify(&dev.pci, 0);
	assert_int_equal(nr_msgs, 0);
	assert_int_equal(bus.msgs_bad, 1);
	assert_true(host_log_contains("vm t: pci 00:03.0 interrupt message to 0x100000 dropped"));
	cfg_wr(3, 0x48, 4, 0xFEE00000 >> 0); /* high half: 0xFEE00000_00100000 */
	pci_dev_notify(&dev.pci, 0);
	assert_int_equal(nr_msgs, 0);
	assert_int_equal(bus.msgs_bad, 2);
}

/* ---- MSI-X ---- */

static void msix_table_pba_and_masks(void **state)
{
	(void)state;
	uint64_t t = dev.pci.bars[2].addr, pba = t + TDEV_PBA;
	unsigned c = cfg_rd(3, 0x41, 1);
	assert_int_equal(cfg_rd(3, c + 2, 2), TDEV_MSIX_VECTORS - 1);
	assert_int_equal(cfg_rd(3, c + 4, 4), 2);	     /* table at 0 in BAR 2 */
	assert_int_equal(cfg_rd(3, c + 8, 4), TDEV_PBA | 2); /* PBA */
	/* every vector starts masked (6.8.2.9) */
	for (unsigned v = 0; v < TDEV_MSIX_VECTORS; v++)
		assert_int_equal(mem_rd(t + 16 * v + 12, 4), 1);
	mem_wr(t + 16 + 0, 8, 0x00000000FEE02000ull);
	mem_wr(t + 16 + 8, 4, 0x51);
	assert_int_equal(mem_rd(t + 16, 4), 0xFEE02000);
	assert_int_equal(mem_rd(t + 16 + 2, 2), 0xFFFF); /* not a dword: all ones */
	cfg_wr(3, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	cfg_wr(3, c + 2, 2, 0xC000); /* enable, function masked */
	assert_true(pci_dev_msi_on(&dev.pci));
	mem_wr(t + 16 + 12, 4, 0); /* vector 1 unmasked, but the function is masked */
	pci_dev_notify(&dev.pci, 1);
	assert_int_equal(nr_msgs, 0);
	assert_int_equal(mem_rd(pba, 4), 2);
	mem_wr(pba, 4, 0); /* read-only */
	assert_int_equal(mem_rd(pba, 8), 2);
	cfg_wr(3, c + 2, 2, 0x8000); /* function unmasked: the pending message goes */
	assert_int_equal(nr_msgs, 1);
	assert_int_equal(msgs[0].addr, 0xFEE02000);
	assert_int_equal(msgs[0].data, 0x51);
	assert_int_equal(mem_rd(pba, 4), 0);
	/* a masked vector holds, an unmask through the table lets it go */
	pci_dev_notify(&dev.pci, 2);
	assert_int_equal(nr_msgs, 1);
	assert_int_equal(mem_rd(pba, 4), 4);
	mem_wr(t + 32 + 12, 4, 0xFFFFFFFE);
	assert_int_equal(mem_rd(t + 32 + 12, 4), 0);
	/* it left the function, to address 0 where the guest left vector 2's: dropped */
	assert_int_equal(mem_rd(pba, 4), 0);
	assert_int_equal(nr_msgs, 1);
	assert_int_equal(bus.msgs_bad, 1);
	/* no such vector: nothing */
	pci_dev_notify(&dev.pci, TDEV_MSIX_VECTORS);
	pci_dev_notify(&dev.pci, 1000);
	assert_int_equal(nr_msgs, 1);
	assert_int_equal(mem_rd(pba, 4), 0);
	/* MSI-X wins over MSI */
	cfg_wr(3, 0x42, 2, 1);
	pci_dev_notify(&dev.pci, 1);
	assert_int_equal(nr_msgs, 2);
	assert_int_equal(msgs[1].addr, 0xFEE02000);
}

/* ---- INTx ---- */

static void intx_lines_are_shared(void **state)
{
	(void)state;
	/* slot 3 INTA: line (3 + 0) % 4 = 3; slot 4 INTA: line 0; slot 7 INTA: line 3 */
	assert_int_equal(pci_bus_plug(&bus, 7, &dev2.pci), 0);
	pci_dev_notify(&dev.pci, 0);
	assert_true(vm.irq[PCI_INTX_GSI_BASE + 3]);
	assert_true(cfg_rd(3, PCI_STATUS, 2) & PCI_STS_INTX);
	pci_dev_notify(&dev2.pci, 0);
	pci_dev_lower_intx(&dev.pci);
	assert_true(vm.irq[PCI_INTX_GSI_BASE + 3]); /* the other still asserts it */
	assert_false(cfg_rd(3, PCI_STATUS, 2) & PCI_STS_INTX);
	pci_dev_lower_intx(&dev2.pci);
	assert_false(vm.irq[PCI_INTX_GSI_BASE + 3]);
	/* Interrupt Disable masks the line, not the status bit */
	pci_dev_notify(&dev.pci, 0);
	cfg_wr(3, PCI_COMMAND, 2, PCI_CMD_INTX_DISABLE);
	assert_false(vm.irq[PCI_INTX_GSI_BASE + 3]);
	assert_true(cfg_rd(3, PCI_STATUS, 2) & PCI_STS_INTX);
	cfg_wr(3, PCI_COMMAND, 2, 0);
	assert_true(vm.irq[PCI_INTX_GSI_BASE + 3]);
	/* turning MSI on takes INTx down */
	cfg_wr(3, 0x42, 2, 1);
	assert_false(vm.irq[PCI_INTX_GSI_BASE + 3]);
}

static void reset_restores(void **state)
{
	(void)state;
	uint64_t bar1 = dev.pci.bars[1].addr;
	unsigned c = cfg_rd(3, 0x41, 1);
	pci_dev_notify(&dev.pci, 0);
	cfg_wr(3, 0x14, 4, 0xC8000000);
	cfg_wr(3, PCI_COMMAND, 2, PCI_CMD_MASTER | PCI_CMD_MEM);
	cfg_wr(3, c + 2, 2, 0x8000);
	mem_wr(dev.pci.bars[2].addr + 12, 4, 0);
	io_wr(0xCF8, 4, cf8(3, 0));
	pci_bus_reset(&bus);
	assert_int_equal(io_rd(0xCF8, 4), 0);
	assert_int_equal(dev.pci.bars[1].addr, bar1); /* assigned again, the same way */
	assert_int_equal(cfg_rd(3, PCI_COMMAND, 2), PCI_CMD_IO | PCI_CMD_MEM);
	assert_false(pci_dev_msi_on(&dev.pci));
	assert_int_equal(mem_rd(dev.pci.bars[2].addr + 12, 4), 1);
	assert_false(vm.irq[PCI_INTX_GSI_BASE + 3]);
	assert_false(cfg_rd(3, PCI_STATUS, 2) & PCI_STS_INTX);
	assert_int_equal(cfg_rd(3, 0, 4), TDEV_DEVICE << 16 | TDEV_VENDOR);
}

static void bad_declarations_refused(void **state)
{
	(void)state;
	struct pci_dev d;
	pci_dev_init(&d, 1, 2, 0, 0, 9);
	assert_int_equal(d.cfg[PCI_INT_PIN], 0);
	assert_int_equal(pci_dev_add_bar(&d, 0, PCI_BAR_IO, false, 3, &tdev_io_ops, NULL), -1);
	assert_int_equal(pci_dev_add_bar(&d, 0, PCI_BAR_IO, false, 512, &tdev_io_ops, NULL), -1);
	assert_int_equal(pci_dev_add_bar(&d, 0, PCI_BAR_MEM32, false, 2048, &tdev_mem1_ops, NULL),
			 -1);
	assert_int_equal(pci_dev_add_bar(&d, 5, PCI_BAR_MEM64, false, 4096, &tdev_mem1_ops, NULL),
			 -1);
	assert_int_equal(pci_dev_add_bar(&d, 4, PCI_BAR_MEM64, false, 4096, &tdev_mem1_ops, NULL),
			 0);
	assert_int_equal(pci_dev_add_bar(&d, 5, PCI_BAR_IO, false, 16, &tdev_io_ops, NULL), -1);
	assert_int_equal(pci_dev_add_bar(&d, 4, PCI_BAR_IO, false, 16, &tdev_io_ops, NULL), -1);
	/* MSI-X table outside its BAR, overlapping the PBA, in an absent BAR */
	assert_int_equal(pci_dev_add_msix(&d, 4, 4, 4096 - 32, 0), -1);
	assert_int_equal(pci_dev_add_msix(&d, 4, 4, 0, 32), -1);
	assert_int_equal(pci_dev_add_msix(&d, 4, 0, 0, 64), -1);
	assert_int_equal(pci_dev_add_msix(&d, 65, 4, 0, 2048), -1);
	assert_int_equal(pci_dev_add_msix(&d, 4, 4, 0, 64), 0);
	assert_int_equal(pci_dev_add_msix(&d, 4, 4, 128, 256), -1); /* only one */
	/* capabilities until the space is full */
	unsigned n = 0;
	while (pci_dev_add_cap(&d, PCI_CAP_VENDOR, 16))
		n++;
	assert_true(n > 0);
	assert_true(d.cap_last + 16 <= PCI_CFG_SIZE);
}

/* ---- through the platform: the host bridge and an MSI into a local APIC ---- */

static void platform_bus(void **state)
{
	(void)state;
	static struct platform plat;
	struct platform_config cfg;
	platform_default_config(&cfg);
	cfg.cpus = 2;
	assert_int_equal(platform_init(&plat, &vm.env, &cfg), 0);
	uint32_t v = cf8(0, 0);
	assert_int_equal(platform_io(&plat, 0xCF8, 4, true, &v), PLATFORM_OK);
	assert_int_equal(platform_io(&plat, 0xCFC, 4, false, &v), PLATFORM_OK);
	assert_int_equal(v, 0x00081B36);
	uint64_t q = 0;
	assert_int_equal(platform_mmio(&plat, 1, GUEST_PCI_ECAM_BASE + 0xA, 2, false, &q),
			 PLATFORM_OK);
	assert_int_equal(q, 0x0600);
	/* a byte at 0xCF9 is still the reset register */
	v = 0x06;
	assert_int_equal(platform_io(&plat, 0xCF9, 1, true, &v), PLATFORM_STOP);
	platform_reset(&plat);

	/* a function's MSI, physical destination APIC 1, vector 0x61 */
	static struct tdev t;
	assert_int_equal(tdev_init(&t), 0);
	assert_int_equal(pci_bus_plug(&plat.pci, 2, &t.pci), 0);
	pci_cfg_write(&t.pci, PCI_COMMAND, 2, PCI_CMD_MASTER);
	pci_cfg_write(&t.pci, 0x44, 4, 0xFEE01000);
	pci_cfg_write(&t.pci, 0x4C, 2, 0x0061);
	pci_cfg_write(&t.pci, 0x42, 2, 1);
	/* APIC software enable (SVR bit 8) on vCPU 1 */
	q = 0x1FF;
	assert_int_equal(platform_mmio(&plat, 1, GUEST_LAPIC_BASE + 0xF0, 4, true, &q),
			 PLATFORM_OK);
	pci_dev_notify(&t.pci, 0);
	assert_int_equal(platform_pending_interrupt(&plat, 1), 0x61);
	assert_int_equal(platform_pending_interrupt(&plat, 0), -1);
	/* an INIT or SMI message is not a device's to send */
	pci_cfg_write(&t.pci, 0x4C, 2, 0x0562);
	pci_dev_notify(&t.pci, 0);
	platform_ack_interrupt(&plat, 1, 0x61);
	assert_int_equal(platform_pending_interrupt(&plat, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(both_mechanisms_read_the_same, setup),
		cmocka_unit_test_setup(read_only_fields_stay, setup),
		cmocka_unit_test_setup(bars_size, setup),
		cmocka_unit_test_setup(assigned_bars_decode, setup),
		cmocka_unit_test_setup(moved_bars_follow_or_refuse, setup),
		cmocka_unit_test_setup(models_told_of_decodes, setup),
		cmocka_unit_test_setup(two_functions_one_address, setup),
		cmocka_unit_test_setup(msi_delivered_masked_held, setup),
		cmocka_unit_test_setup(msi_to_memory_is_dropped, setup),
		cmocka_unit_test_setup(msix_table_pba_and_masks, setup),
		cmocka_unit_test_setup(intx_lines_are_shared, setup),
		cmocka_unit_test_setup(reset_restores, setup),
		cmocka_unit_test_setup(bad_declarations_refused, setup),
		cmocka_unit_test_setup(platform_bus, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
