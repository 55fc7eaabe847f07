#include "vdev/pci/pci_bus.h"

#include "lib/kstring.h"
#include "lib/log.h"

/* CONFIG_ADDRESS (PCI Local Bus 3.0, 3.2.2.3.2, figure 3-1): enable, bus, device, function,
 * dword register; bits 30:24 reserved, 1:0 read as 0. */
#define CFG_ADDR_ENABLE (1u << 31)
#define CFG_ADDR_MASK 0x80FFFFFCu

/* log keys, apart from the buses' port and page keys by their top bits */
#define LOG_KEY_BAR (1ull << 62)
#define LOG_KEY_MSG (2ull << 62)

static struct pci_dev *dev_at(struct pci_bus *bus, uint32_t ecam_off)
{
	/* function 0 only: every function here is a single-function device (header type 0) */
	if (ecam_off >= 1u << 20 || ((ecam_off >> 12) & 7))
		return NULL;
	return bus->slot[(ecam_off >> 15) & 31];
}

uint32_t pci_bus_cfg_read(struct pci_bus *bus, uint32_t ecam_off, unsigned size)
{
	struct pci_dev *d = dev_at(bus, ecam_off);
	uint32_t ones = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
	unsigned reg = ecam_off & 0xFFF;
	if (!d || (size != 1 && size != 2 && size != 4) || (reg & (size - 1)))
		return ones; /* no function there: a master abort reads all ones (3.2.2.3.4) */
	return pci_cfg_read(d, reg, size);
}

void pci_bus_cfg_write(struct pci_bus *bus, uint32_t ecam_off, unsigned size, uint32_t val)
{
	struct pci_dev *d = dev_at(bus, ecam_off);
	unsigned reg = ecam_off & 0xFFF;
	if (d && (size == 1 || size == 2 || size == 4) && !(reg & (size - 1)))
		pci_cfg_write(d, reg, size, val);
}

/* ---- configuration mechanism #1 ----------------------------------------------------------- */

static int cf8_read(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	struct pci_bus *bus = ctx;
	/* only a dword access at 0xCF8 is CONFIG_ADDRESS; others are plain I/O nobody answers */
	*val = size == 4 && port == PCI_CONFIG_ADDRESS
		       ? bus->config_address
		       : (size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
	return 0;
}

static int cf8_write(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	struct pci_bus *bus = ctx;
	if (size == 4 && port == PCI_CONFIG_ADDRESS)
		bus->config_address = val & CFG_ADDR_MASK;
	return 0;
}

/* The ECAM offset CONFIG_ADDRESS names for an access at data port `port`, or false when it
 * names nothing of bus 0 (disabled, another bus, an access crossing the dword). */
static bool cfc_target(const struct pci_bus *bus, uint16_t port, unsigned size, uint32_t *off)
{
	uint32_t a = bus->config_address;
	unsigned byte = port - PCI_CONFIG_DATA;
	if (!(a & CFG_ADDR_ENABLE) || ((a >> 16) & 0xFF) || byte + size > 4)
		return false;
	*off = ((a >> 11) & 31) << 15 | ((a >> 8) & 7) << 12 | ((a & 0xFC) + byte);
	return true;
}

static int cfc_read(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	struct pci_bus *bus = ctx;
	uint32_t off;
	*val = cfc_target(bus, port, size, &off)
		       ? pci_bus_cfg_read(bus, off, size)
		       : (size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
	return 0;
}

static int cfc_write(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	struct pci_bus *bus = ctx;
	uint32_t off;
	if (cfc_target(bus, port, size, &off))
		pci_bus_cfg_write(bus, off, size, val);
	return 0;
}

static const struct io_ops cf8_ops = { .read = cf8_read, .write = cf8_write };
static const struct io_ops cfc_ops = { .read = cfc_read, .write = cfc_write };

/* ---- ECAM --------------------------------------------------------------------------------- */

static int ecam_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct pci_bus *bus = ctx;
	if (size == 8) /* two dword reads, as a 64-bit access splits on a 32-bit bus */
		*val = pci_bus_cfg_read(bus, (uint32_t)off, 4) |
		       (uint64_t)pci_bus_cfg_read(bus, (uint32_t)off + 4, 4) << 32;
	else
		*val = pci_bus_cfg_read(bus, (uint32_t)off, size);
	return 0;
}

static int ecam_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_bus *bus = ctx;
	if (size == 8 && !(off & 7)) {
		pci_bus_cfg_write(bus, (uint32_t)off, 4, (uint32_t)val);
		pci_bus_cfg_write(bus, (uint32_t)off + 4, 4, (uint32_t)(val >> 32));
	} else {
		pci_bus_cfg_write(bus, (uint32_t)off, size, (uint32_t)val);
	}
	return 0;
}

static const struct mmio_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

/* ---- BARs on the VM's buses --------------------------------------------------------------- */

/* A decoded BAR is claimed with the BAR itself as the range's device, so it can be released by
 * it; these pass the access on to the device model with the offset into the BAR. */
static int bar_mmio_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct pci_bar *b = ctx;
	return b->mmio->read(b->ctx, off, size, val);
}

static int bar_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_bar *b = ctx;
	return b->mmio->write(b->ctx, off, size, val);
}

static int bar_io_read(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	struct pci_bar *b = ctx;
	return b->io->read(b->ctx, (uint16_t)(port - b->addr), size, val);
}

static int bar_io_write(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	struct pci_bar *b = ctx;
	return b->io->write(b->ctx, (uint16_t)(port - b->addr), size, val);
}

static const struct mmio_ops bar_mmio_ops = { .read = bar_mmio_read, .write = bar_mmio_write };
static const struct io_ops bar_io_ops = { .read = bar_io_read, .write = bar_io_write };

static void log_not_decoded(struct pci_bus *bus, unsigned slot, unsigned n, const char *why)
{
	const struct pci_bar *b = &bus->slot[slot]->bars[n];
	unsigned suppressed;
	uint64_t key = LOG_KEY_BAR | (uint64_t)slot << 52 | (uint64_t)n << 48 | b->addr;
	if (!unclaimed_log_should_print(&bus->log, bus->env, key, &suppressed))
		return;
	klog("vm %s: pci 00:%02x.0 BAR %u (%s, %llu bytes) at 0x%llx is not decoded: %s%s",
	     bus->env->vm_name, slot, n, b->kind == PCI_BAR_IO ? "I/O" : "memory",
	     (unsigned long long)b->size, (unsigned long long)b->addr, why,
	     suppressed ? " (and earlier lines left out)" : "");
}

static bool in_window(const struct pci_bus *bus, const struct pci_bar *b)
{
	if (b->kind == PCI_BAR_IO)
		return b->addr >= bus->cfg.io_base &&
		       range_within(b->addr - bus->cfg.io_base, b->size,
				    bus->cfg.io_end - bus->cfg.io_base);
	return (b->addr >= bus->cfg.mmio_base &&
		range_within(b->addr - bus->cfg.mmio_base, b->size,
			     bus->cfg.mmio_end - bus->cfg.mmio_base)) ||
	       (b->addr >= bus->cfg.mmio64_base && bus->cfg.mmio64_end > bus->cfg.mmio64_base &&
		range_within(b->addr - bus->cfg.mmio64_base, b->size,
			     bus->cfg.mmio64_end - bus->cfg.mmio64_base));
}

static void decode_bar(struct pci_bus *bus, unsigned slot, unsigned n)
{
	struct pci_bar *b = &bus->slot[slot]->bars[n];
	uint64_t base, size;
	if (!pci_dev_bar_decoded(bus->slot[slot], n, &base, &size))
		return;
	if (!in_window(bus, b)) {
		/* 0 is where a BAR sits before anyone assigned it: no news */
		if (base)
			log_not_decoded(bus, slot, n, "outside the host bridge's windows");
		return;
	}
	int rc = b->kind == PCI_BAR_IO ? io_bus_register(bus->io, (uint16_t)base, (uint32_t)size,
							 IO_SIZE_ANY, &bar_io_ops, b)
				       : mmio_bus_register(bus->mmio, base, size, &bar_mmio_ops, b);
	if (rc)
		log_not_decoded(bus, slot, n, "it overlaps another BAR or device");
	b->decoded = !rc;
}

void pci_bus_decode(struct pci_bus *bus)
{
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		for (unsigned n = 0; bus->slot[s] && n < PCI_NR_BARS; n++) {
			io_bus_unregister(bus->io, &bus->slot[s]->bars[n]);
			mmio_bus_unregister(bus->mmio, &bus->slot[s]->bars[n]);
			bus->slot[s]->bars[n].decoded = false;
		}
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		for (unsigned n = 0; bus->slot[s] && n < PCI_NR_BARS; n++)
			decode_bar(bus, s, n);
	/* told only once the whole bus is decoded: a BAR may lose its place to another's */
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (bus->slot[s] && bus->slot[s]->bars_decoded)
			bus->slot[s]->bars_decoded(bus->slot[s]);
}

/* ---- interrupts --------------------------------------------------------------------------- */

static void send_msg(void *ctx, struct pci_dev *d, const struct pci_msg *m)
{
	struct pci_bus *bus = ctx;
	/* an MSI is a write to the local APICs' window, 0xFEExxxxx (Intel SDM vol 3A, 11.11.1); a
	 * write anywhere else would be DMA into guest memory, which keel's devices never do */
	if ((m->addr >> 20) != 0xFEE) {
		unsigned suppressed;
		bus->msgs_bad++;
		if (unclaimed_log_should_print(&bus->log, bus->env,
					       LOG_KEY_MSG | (uint64_t)d->devfn << 32 |
						       (m->addr & 0xFFFFFFFF),
					       &suppressed))
			klog("vm %s: pci 00:%02x.0 interrupt message to 0x%llx dropped: not the "
			     "local APICs' address%s",
			     bus->env->vm_name, d->devfn >> 3, (unsigned long long)m->addr,
			     suppressed ? " (and earlier lines left out)" : "");
		return;
	}
	bus->deliver_msg(bus->deliver_ctx, m);
}

static void set_intx(void *ctx, struct pci_dev *d, bool level)
{
	struct pci_bus *bus = ctx;
	unsigned slot = d->devfn >> 3, pin = d->cfg[PCI_INT_PIN];
	if (pin < 1 || pin > 4)
		return;
	unsigned line = (slot + pin - 1) & 3;
	uint32_t before = bus->intx_slots[line];
	if (level)
		bus->intx_slots[line] |= 1u << slot;
	else
		bus->intx_slots[line] &= ~(1u << slot);
	/* the line is the wired OR of every function on it */
	if (!before != !bus->intx_slots[line] && bus->env->set_irq)
		bus->env->set_irq(bus->env->ctx, PCI_INTX_GSI_BASE + line, bus->intx_slots[line]);
}

static void decode_changed(void *ctx, struct pci_dev *d)
{
	(void)d;
	pci_bus_decode(ctx);
}

/* ---- set-up ------------------------------------------------------------------------------- */

int pci_bus_init(struct pci_bus *bus, const struct vdev_env *env, struct io_bus *io,
		 struct mmio_bus *mmio, const struct pci_bus_config *cfg,
		 void (*deliver_msg)(void *ctx, const struct pci_msg *m), void *deliver_ctx)
{
	memset(bus, 0, sizeof(*bus));
	if (!deliver_msg || cfg->mmio_base >= cfg->mmio_end || cfg->io_base >= cfg->io_end ||
	    cfg->io_end > 0x10000 || (cfg->ecam_base & 0xFFFFF))
		return -1;
	bus->env = env;
	bus->io = io;
	bus->mmio = mmio;
	bus->cfg = *cfg;
	bus->deliver_msg = deliver_msg;
	bus->deliver_ctx = deliver_ctx;
	unclaimed_log_init(&bus->log);
	/* CONFIG_ADDRESS is the dword at 0xCF8; a byte at 0xCF9 stays the reset register. Bytes
	 * at 0xCFA-0xCFB are the bridge's too: Linux pokes 0xCFB to probe for mechanism #1. */
	if (io_bus_register(io, PCI_CONFIG_ADDRESS, 1, IO_SIZE_ANY, &cf8_ops, bus) ||
	    io_bus_register(io, PCI_CONFIG_ADDRESS + 2, 2, IO_SIZE_ANY, &cf8_ops, bus) ||
	    io_bus_register(io, PCI_CONFIG_DATA, 4, IO_SIZE_ANY, &cfc_ops, bus) ||
	    mmio_bus_register(mmio, cfg->ecam_base, 1u << 20, &ecam_ops, bus))
		return -1;
	return 0;
}

int pci_bus_plug(struct pci_bus *bus, unsigned slot, struct pci_dev *d)
{
	if (slot >= PCI_SLOTS || bus->slot[slot])
		return -1;
	d->bus = bus;
	d->devfn = (uint8_t)(slot << 3);
	d->send_msg = send_msg;
	d->set_intx = set_intx;
	d->decode_changed = decode_changed;
	bus->slot[slot] = d;
	return 0;
}

/* Next address for a BAR of size bytes at or above *next, inside [*next, end); 0 when full. */
static uint64_t place(uint64_t *next, uint64_t end, uint64_t size)
{
	uint64_t at = ALIGN_UP(*next, size);
	if (at < *next || !range_within(at, size, end))
		return 0;
	*next = at + size;
	return at;
}

int pci_bus_assign(struct pci_bus *bus)
{
	uint64_t mem = bus->cfg.mmio_base, io = bus->cfg.io_base;
	int rc = 0;
	/* largest first, so alignment wastes nothing: sizes are powers of two */
	for (uint64_t size = 1ull << 31; size >= 4; size >>= 1)
		for (unsigned s = 0; s < PCI_SLOTS; s++)
			for (unsigned n = 0; bus->slot[s] && n < PCI_NR_BARS; n++) {
				struct pci_dev *d = bus->slot[s];
				struct pci_bar *b = &d->bars[n];
				if (b->kind == PCI_BAR_NONE || b->size != size)
					continue;
				uint64_t at = b->kind == PCI_BAR_IO
						      ? place(&io, bus->cfg.io_end, size)
						      : place(&mem, bus->cfg.mmio_end, size);
				if (!at)
					rc = -1;
				/* through config space, as firmware would */
				pci_cfg_write(d, PCI_BAR0 + 4 * n, 4, (uint32_t)at);
				if (b->kind == PCI_BAR_MEM64)
					pci_cfg_write(d, PCI_BAR0 + 4 * (n + 1), 4,
						      (uint32_t)(at >> 32));
			}
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (bus->slot[s])
			pci_cfg_write(bus->slot[s], PCI_COMMAND, 2,
				      pci_dev_command(bus->slot[s]) | PCI_CMD_IO | PCI_CMD_MEM);
	pci_bus_decode(bus);
	return rc;
}

void pci_bus_reset(struct pci_bus *bus)
{
	bus->config_address = 0;
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (bus->slot[s])
			pci_dev_reset(bus->slot[s]);
	pci_bus_assign(bus);
}
