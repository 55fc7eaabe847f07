#include "vdev/pci/pci_dev.h"

#include "lib/kstring.h"

/* MSI capability layout with 64-bit addresses and per-vector masking (PCI Local Bus 3.0,
 * 6.8.1, figure 6-9, the last of its four layouts). */
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA 12
#define MSI_MASK 16
#define MSI_PENDING 20
#define MSI_CAP_LEN 24
#define MSI_CTRL_ENABLE (1u << 0)
#define MSI_CTRL_64BIT (1u << 7)
#define MSI_CTRL_MASKABLE (1u << 8)

/* MSI-X capability and table (6.8.2, figures 6-10 to 6-12). */
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_CAP_LEN 12
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_MASKALL (1u << 14)
#define MSIX_ENTRY_SIZE 16
#define MSIX_VEC_MASKED (1u << 0)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision, uint8_t pin)
{
	memset(d, 0, sizeof(*d));
	wr16(d->cfg + PCI_VENDOR_ID, vendor);
	wr16(d->cfg + PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	wr16(d->cfg + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	d->cfg[PCI_HEADER_TYPE] = 0; /* type 0, single function */
	d->cfg[PCI_INT_PIN] = pin <= 4 ? pin : 0;
	/* command: I/O, memory, bus master, parity, SERR#, interrupt disable (6.2.2) */
	wr16(d->wmask + PCI_COMMAND, 0x0547);
	/* status: the error bits are write-1-to-clear (6.2.3) */
	wr16(d->w1c + PCI_STATUS, 0xF900);
	d->wmask[0x0C] = 0xFF; /* cache line size */
	d->wmask[0x0D] = 0xFF; /* latency timer */
	d->wmask[PCI_INT_LINE] = 0xFF;
	d->cap_next_free = 0x40;
}

void pci_dev_set_subsystem(struct pci_dev *d, uint16_t vendor, uint16_t id)
{
	wr16(d->cfg + PCI_SUBSYS_VENDOR, vendor);
	wr16(d->cfg + PCI_SUBSYS_ID, id);
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The BAR register's low bits: space, type, prefetchable (6.2.5.1, figures 6-5 and 6-6). */
static uint32_t bar_flags(const struct pci_bar *b)
{
	switch (b->kind) {
	case PCI_BAR_IO:
		return 1;
	case PCI_BAR_MEM64:
		return 4 | (b->prefetchable ? 8u : 0u);
	case PCI_BAR_MEM32:
		return b->prefetchable ? 8u : 0u;
	default:
		return 0;
	}
}

/* BAR n's register (and the next one, for a 64-bit BAR) from its address. */
static void bar_store(struct pci_dev *d, unsigned n)
{
	const struct pci_bar *b = &d->bars[n];
	wr32(d->cfg + PCI_BAR0 + (size_t)4 * n, (uint32_t)b->addr | bar_flags(b));
	if (b->kind == PCI_BAR_MEM64)
		wr32(d->cfg + PCI_BAR0 + (size_t)4 * (n + 1), (uint32_t)(b->addr >> 32));
}

int pci_dev_add_bar(struct pci_dev *d, unsigned n, enum pci_bar_kind kind, bool prefetchable,
		    uint64_t size, const void *ops, void *ctx)
{
	unsigned span = kind == PCI_BAR_MEM64 ? 2 : 1;
	if (n + span > PCI_NR_BARS || !pow2(size) || !ops || kind == PCI_BAR_NONE)
		return -1;
	for (unsigned i = n; i < n + span; i++)
		if (d->bars[i].kind != PCI_BAR_NONE || (i && d->bars[i - 1].kind == PCI_BAR_MEM64))
			return -1;
	/* memory BARs of whole pages, so each is its own stage-2 hole */
	if (kind == PCI_BAR_IO ? size < 4 || size > 256
			       : size < 4096 || (kind == PCI_BAR_MEM32 && size > GiB))
		return -1;
	struct pci_bar *b = &d->bars[n];
	*b = (struct pci_bar){ .kind = kind,
			       .prefetchable = prefetchable && kind != PCI_BAR_IO,
			       .size = size,
			       .ctx = ctx };
	if (kind == PCI_BAR_IO)
		b->io = ops;
	else
		b->mmio = ops;
	bar_store(d, n);
	return 0;
}

unsigned pci_dev_add_cap(struct pci_dev *d, uint8_t id, unsigned len)
{
	unsigned at = d->cap_next_free;
	if (len < 2 || at + len > PCI_CFG_SIZE)
		return 0; /* capabilities live in 0x40-0xFF (6.7) */
	d->cfg[at] = id;
	d->cfg[at + 1] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = (uint8_t)at;
	else
		d->cfg[PCI_CAP_PTR] = (uint8_t)at;
	d->cap_last = (uint8_t)at;
	d->cap_next_free = (uint16_t)ALIGN_UP(at + len, 4u); /* each starts dword-aligned */
	wr16(d->cfg + PCI_STATUS, rd16(d->cfg + PCI_STATUS) | PCI_STS_CAP_LIST);
	return at;
}

int pci_dev_add_msi(struct pci_dev *d)
{
	unsigned at = d->msi_cap ? 0 : pci_dev_add_cap(d, PCI_CAP_MSI, MSI_CAP_LEN);
	if (!at)
		return -1;
	d->msi_cap = (uint8_t)at;
	/* one vector (Multiple Message Capable 0), so Multiple Message Enable stays 0 */
	wr16(d->cfg + at + MSI_CTRL, MSI_CTRL_64BIT | MSI_CTRL_MASKABLE);
	wr16(d->wmask + at + MSI_CTRL, MSI_CTRL_ENABLE);
	wr32(d->wmask + at + MSI_ADDR_LO, 0xFFFFFFFC);
	wr32(d->wmask + at + MSI_ADDR_HI, 0xFFFFFFFF);
	wr16(d->wmask + at + MSI_DATA, 0xFFFF);
	wr32(d->wmask + at + MSI_MASK, 1);
	return 0;
}

int pci_dev_add_msix(struct pci_dev *d, unsigned vectors, unsigned bar, uint32_t table_off,
		     uint32_t pba_off)
{
	if (d->msix_cap || !vectors || vectors > PCI_MSIX_MAX_VECTORS || bar >= PCI_NR_BARS)
		return -1;
	const struct pci_bar *b = &d->bars[bar];
	uint64_t table_len = (uint64_t)vectors * MSIX_ENTRY_SIZE, pba_len = 8;
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || (table_off | pba_off) & 7 ||
	    !range_within(table_off, table_len, b->size) ||
	    !range_within(pba_off, pba_len, b->size) ||
	    (table_off < pba_off + pba_len && pba_off < table_off + table_len))
		return -1;
	unsigned at = pci_dev_add_cap(d, PCI_CAP_MSIX, MSIX_CAP_LEN);
	if (!at)
		return -1;
	d->msix_cap = (uint8_t)at;
	d->msix_bar = (uint8_t)bar;
	d->msix_vectors = (uint16_t)vectors;
	d->msix_table_off = table_off;
	d->msix_pba_off = pba_off;
	wr16(d->cfg + at + MSIX_CTRL, (uint16_t)(vectors - 1));
	wr16(d->wmask + at + MSIX_CTRL, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	wr32(d->cfg + at + MSIX_TABLE, table_off | bar);
	wr32(d->cfg + at + MSIX_PBA, pba_off | bar);
	for (unsigned v = 0; v < vectors; v++)
		d->msix_table[v][3] = MSIX_VEC_MASKED;
	return 0;
}

void pci_dev_seal(struct pci_dev *d)
{
	memcpy(d->cfg_at_reset, d->cfg, sizeof(d->cfg));
}

uint16_t pci_dev_command(const struct pci_dev *d)
{
	return rd16(d->cfg + PCI_COMMAND);
}

bool pci_dev_bus_master(const struct pci_dev *d)
{
	return pci_dev_command(d) & PCI_CMD_MASTER;
}

bool pci_dev_bar_decoded(const struct pci_dev *d, unsigned n, uint64_t *base, uint64_t *size)
{
	if (n >= PCI_NR_BARS)
		return false;
	const struct pci_bar *b = &d->bars[n];
	uint16_t want = b->kind == PCI_BAR_IO ? PCI_CMD_IO : PCI_CMD_MEM;
	if (b->kind == PCI_BAR_NONE || !(pci_dev_command(d) & want))
		return false;
	*base = b->addr;
	*size = b->size;
	return true;
}

/* ---- interrupts --------------------------------------------------------------------------- */

static uint16_t msi_ctrl(const struct pci_dev *d)
{
	return d->msi_cap ? rd16(d->cfg + d->msi_cap + MSI_CTRL) : 0;
}

static uint16_t msix_ctrl(const struct pci_dev *d)
{
	return d->msix_cap ? rd16(d->cfg + d->msix_cap + MSIX_CTRL) : 0;
}

bool pci_dev_msi_on(const struct pci_dev *d)
{
	return (msix_ctrl(d) & MSIX_CTRL_ENABLE) || (msi_ctrl(d) & MSI_CTRL_ENABLE);
}

static void send(struct pci_dev *d, uint64_t addr, uint32_t data)
{
	if (!d->send_msg)
		return; /* a function on no bus */
	struct pci_msg m = { addr, data };
	d->msgs_sent++;
	d->send_msg(d->bus, d, &m);
}

static void intx_update(struct pci_dev *d)
{
	bool level = d->intx_asserted && !(pci_dev_command(d) & PCI_CMD_INTX_DISABLE) &&
		     !pci_dev_msi_on(d);
	uint16_t sts = rd16(d->cfg + PCI_STATUS);
	/* the status bit shows the function's own request, whatever masks it (6.2.3) */
	wr16(d->cfg + PCI_STATUS,
	     d->intx_asserted ? (uint16_t)(sts | PCI_STS_INTX) : (uint16_t)(sts & ~PCI_STS_INTX));
	if (d->set_intx && d->cfg[PCI_INT_PIN])
		d->set_intx(d->bus, d, level);
}

static bool msix_vector_masked(const struct pci_dev *d, unsigned v)
{
	return (msix_ctrl(d) & MSIX_CTRL_MASKALL) || (d->msix_table[v][3] & MSIX_VEC_MASKED);
}

/* Sends what unmasking let out: MSI-X vectors with their pending bit, the MSI vector. An MSI is
 * a memory write the function makes: with bus mastering off it cannot (PCI Local Bus 3.0, 6.8),
 * so its messages stay pending until bus mastering is back. */
static void flush_pending(struct pci_dev *d)
{
	if (!pci_dev_bus_master(d))
		return;
	if (msix_ctrl(d) & MSIX_CTRL_ENABLE) {
		for (unsigned v = 0; v < d->msix_vectors; v++) {
			if (!(d->msix_pending & (1ull << v)) || msix_vector_masked(d, v))
				continue;
			d->msix_pending &= ~(1ull << v);
			const uint32_t *e = d->msix_table[v];
			send(d, e[0] | (uint64_t)e[1] << 32, e[2]);
		}
	} else if (msi_ctrl(d) & MSI_CTRL_ENABLE) {
		uint8_t *c = d->cfg + d->msi_cap;
		if ((rd32(c + MSI_PENDING) & 1) && !(rd32(c + MSI_MASK) & 1)) {
			wr32(c + MSI_PENDING, 0);
			send(d, rd32(c + MSI_ADDR_LO) | (uint64_t)rd32(c + MSI_ADDR_HI) << 32,
			     rd16(c + MSI_DATA));
		}
	}
}

void pci_dev_notify(struct pci_dev *d, unsigned vector)
{
	if (msix_ctrl(d) & MSIX_CTRL_ENABLE) {
		if (vector >= d->msix_vectors)
			return;
		d->msix_pending |= 1ull << vector;
		if (msix_vector_masked(d, vector) || !pci_dev_bus_master(d))
			d->msgs_held++;
		flush_pending(d);
	} else if (msi_ctrl(d) & MSI_CTRL_ENABLE) {
		uint8_t *c = d->cfg + d->msi_cap;
		wr32(c + MSI_PENDING, 1);
		if ((rd32(c + MSI_MASK) & 1) || !pci_dev_bus_master(d))
			d->msgs_held++;
		flush_pending(d);
	} else {
		d->intx_asserted = true;
		intx_update(d);
	}
}

void pci_dev_lower_intx(struct pci_dev *d)
{
	if (!d->intx_asserted)
		return;
	d->intx_asserted = false;
	intx_update(d);
}

/* ---- config space ------------------------------------------------------------------------- */

static bool hooked(const struct pci_dev *d, unsigned off, unsigned size)
{
	return d->hook && off < d->hook_off + d->hook_len && d->hook_off < off + size;
}

uint32_t pci_cfg_read(struct pci_dev *d, unsigned off, unsigned size)
{
	if (off >= PCI_CFG_SIZE || (size != 1 && size != 2 && size != 4) || (off & (size - 1)))
		return 0;
	if (hooked(d, off, size))
		d->hook(d, off, size, false);
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

/* BAR register n takes a write: the address bits the size leaves, the flag bits fixed
 * (6.2.5.1: writing all ones and reading back gives the size). A 64-bit BAR's upper half
 * takes all 32 bits. */
static void bar_write(struct pci_dev *d, unsigned n, uint32_t val)
{
	if (n && d->bars[n - 1].kind == PCI_BAR_MEM64) {
		struct pci_bar *b = &d->bars[n - 1];
		b->addr = (b->addr & 0xFFFFFFFFull) | (uint64_t)val << 32;
		bar_store(d, n - 1);
		return;
	}
	struct pci_bar *b = &d->bars[n];
	if (b->kind == PCI_BAR_NONE)
		return;
	uint64_t mask = ~(b->size - 1);
	if (b->kind == PCI_BAR_IO)
		/* x86 I/O space is 64 KiB: the upper 16 bits are hardwired to 0 (6.2.5.1) */
		b->addr = val & mask & 0xFFFCull;
	else
		b->addr = (b->addr & ~0xFFFFFFFFull) | (val & mask & 0xFFFFFFF0ull);
	bar_store(d, n);
}

void pci_cfg_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t val)
{
	if (off >= PCI_CFG_SIZE || (size != 1 && size != 2 && size != 4) || (off & (size - 1)))
		return;
	unsigned dw = off & ~3u;
	uint32_t old_cmd = pci_dev_command(d), old_msi = msi_ctrl(d), old_msix = msix_ctrl(d);

	if (dw >= PCI_BAR0 && dw < PCI_BAR0 + 4 * PCI_NR_BARS) {
		/* merge the written bytes into the register as it reads, then take the dword */
		uint32_t cur = rd32(d->cfg + dw);
		unsigned shift = 8 * (off & 3);
		uint32_t bytes = size == 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1) << shift;
		bar_write(d, (dw - PCI_BAR0) / 4, (cur & ~bytes) | ((val << shift) & bytes));
		if (d->decode_changed)
			d->decode_changed(d->bus, d);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), *c = &d->cfg[off + i];
		*c = (uint8_t)((*c & ~d->wmask[off + i]) | (b & d->wmask[off + i]));
		*c = (uint8_t)(*c & ~(b & d->w1c[off + i]));
	}
	uint32_t cmd = pci_dev_command(d);
	if ((cmd ^ old_cmd) & (PCI_CMD_IO | PCI_CMD_MEM) && d->decode_changed)
		d->decode_changed(d->bus, d);
	if ((cmd ^ old_cmd) & PCI_CMD_INTX_DISABLE || (msi_ctrl(d) ^ old_msi) & MSI_CTRL_ENABLE ||
	    (msix_ctrl(d) ^ old_msix) & MSIX_CTRL_ENABLE)
		intx_update(d);
	if (hooked(d, off, size))
		d->hook(d, off, size, true);
	/* an unmask, or bus mastering coming back, lets held messages out */
	flush_pending(d);
}

/* ---- the MSI-X table and PBA, inside a memory BAR ----------------------------------------- */

bool pci_msix_mmio_claims(const struct pci_dev *d, unsigned bar, uint64_t off)
{
	if (!d->msix_cap || bar != d->msix_bar)
		return false;
	return (off >= d->msix_table_off &&
		off - d->msix_table_off < (uint64_t)d->msix_vectors * MSIX_ENTRY_SIZE) ||
	       (off >= d->msix_pba_off && off - d->msix_pba_off < 8);
}

/* One dword of the table or the PBA; false when off is in neither. */
static bool msix_dword(const struct pci_dev *d, uint64_t off, uint32_t *v)
{
	if (off >= d->msix_table_off) {
		uint64_t t = off - d->msix_table_off;
		if (t < (uint64_t)d->msix_vectors * MSIX_ENTRY_SIZE) {
			*v = d->msix_table[t / MSIX_ENTRY_SIZE][(t % MSIX_ENTRY_SIZE) / 4];
			return true;
		}
	}
	if (off >= d->msix_pba_off && off - d->msix_pba_off < 8) {
		*v = (uint32_t)(d->msix_pending >> (8 * (off - d->msix_pba_off)));
		return true;
	}
	return false;
}

/* Software reads and writes the table in aligned dwords or qwords (6.8.2); anything else reads
 * all ones and is not written. */
void pci_msix_mmio_read(struct pci_dev *d, uint64_t off, unsigned size, uint64_t *val)
{
	uint32_t lo, hi;
	*val = ~0ull;
	if (size == 4 && !(off & 3) && msix_dword(d, off, &lo))
		*val = lo;
	else if (size == 8 && !(off & 7) && msix_dword(d, off, &lo) && msix_dword(d, off + 4, &hi))
		*val = lo | (uint64_t)hi << 32;
}

static void msix_write_dword(struct pci_dev *d, uint64_t off, uint32_t v)
{
	if (off < d->msix_table_off)
		return;
	uint64_t t = off - d->msix_table_off;
	if (t >= (uint64_t)d->msix_vectors * MSIX_ENTRY_SIZE)
		return; /* the PBA is read-only */
	unsigned vec = (unsigned)(t / MSIX_ENTRY_SIZE), word = (unsigned)(t % MSIX_ENTRY_SIZE) / 4;
	static const uint32_t writable[4] = { 0xFFFFFFFC, 0xFFFFFFFF, 0xFFFFFFFF, MSIX_VEC_MASKED };
	d->msix_table[vec][word] = v & writable[word];
	if (word == 3)
		flush_pending(d);
}

void pci_msix_mmio_write(struct pci_dev *d, uint64_t off, unsigned size, uint64_t val)
{
	if (size == 4 && !(off & 3)) {
		msix_write_dword(d, off, (uint32_t)val);
	} else if (size == 8 && !(off & 7)) {
		msix_write_dword(d, off, (uint32_t)val);
		msix_write_dword(d, off + 4, (uint32_t)(val >> 32));
	}
}

void pci_dev_reset(struct pci_dev *d)
{
	bool was_asserted = d->intx_asserted;
	memcpy(d->cfg, d->cfg_at_reset, sizeof(d->cfg));
	for (unsigned n = 0; n < PCI_NR_BARS; n++)
		d->bars[n].addr = 0;
	for (unsigned v = 0; v < d->msix_vectors; v++) {
		memset(d->msix_table[v], 0, sizeof(d->msix_table[v]));
		d->msix_table[v][3] = MSIX_VEC_MASKED;
	}
	d->msix_pending = 0;
	d->intx_asserted = false;
	if (was_asserted)
		intx_update(d);
	if (d->model_reset)
		d->model_reset(d);
}
