/* MSI-X capability handling for host PCI functions: see pci_msix.h. */
#include "drivers/pci_msix.h"

/* Header registers the walk needs (PCI 3.0, 6.1 and 6.7): status bit 4 says a capability list
 * exists; its first pointer is at 0x34 in type 0 and type 1 headers (CardBus bridges keep theirs
 * elsewhere and are refused). */
#define PCI_STATUS_CAP_LIST (1u << (16 + 4)) /* in the dword at PCIH_COMMAND */
#define PCI_CAP_PTR 0x34
#define PCI_CAP_FIRST 0x40 /* capabilities live after the 64-byte header */
#define PCI_CFG_SIZE 0x100 /* the list is in the conventional config space */
#define PCI_CAP_MAX ((PCI_CFG_SIZE - PCI_CAP_FIRST) / 4) /* 48 dword slots: a longer list loops */
#define PCI_HEADER_TYPE(dw) (((dw) >> 16) & PCIH_HEADER_TYPE_MASK)

/* MSI-X capability (PCI 3.0, 6.8.2): dword 0 is ID 7:0, next pointer 15:8 and Message Control
 * 31:16 (6.8.2.3: Table Size N - 1 in 10:0, Function Mask bit 14, MSI-X Enable bit 15); dword 1
 * Table Offset/BIR and dword 2 PBA Offset/BIR (6.8.2.4, 6.8.2.5: BIR in 2:0, the offset is the
 * dword with those bits cleared, so always QWORD aligned). */
#define MSIX_CAP_LEN 12
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_MC_SIZE_MASK 0x7FFu
#define MSIX_MC_FMASK (1u << 14)
#define MSIX_MC_ENABLE (1u << 15)
#define MSIX_BIR_MASK 7u

/* MSI capability (PCI 3.0, 6.8.1.3): Message Control bit 0 is MSI Enable. MSI and MSI-X must not
 * be on together (6.8.2). */
#define MSI_MC_ENABLE (1u << 0)

/* Table entry dwords (PCI 3.0, 6.8.2.6-6.8.2.9): Message Address (bits 1:0 zero: dword aligned),
 * Message Upper Address, Message Data, Vector Control (bit 0 Mask; the other bits reserved,
 * preserved on write). */
#define ENT_ADDR_LO 0
#define ENT_ADDR_HI 1
#define ENT_DATA 2
#define ENT_CTRL 3
#define ENT_CTRL_MASK (1u << 0)

static uint32_t rd(const struct pci_msix_cfg *cfg, uint16_t reg)
{
	return cfg->read32(cfg->ctx, reg);
}

static void wr(const struct pci_msix_cfg *cfg, uint16_t reg, uint32_t v)
{
	cfg->write32(cfg->ctx, reg, v);
}

int pci_cap_find(const struct pci_msix_cfg *cfg, uint8_t id, uint16_t *off)
{
	uint64_t seen = 0; /* one bit per dword slot at and above 0x40 */
	unsigned ptr;

	if (!(rd(cfg, PCIH_COMMAND) & PCI_STATUS_CAP_LIST))
		return PCI_MSIX_E_NO_CAP;
	if (PCI_HEADER_TYPE(rd(cfg, PCIH_HEADER_DWORD)) > 1)
		return PCI_MSIX_E_NO_CAP;
	/* "software must mask" the two low bits of every pointer (6.7): they are reserved */
	ptr = rd(cfg, PCI_CAP_PTR) & 0xFCu;
	for (unsigned n = 0; ptr; n++) {
		unsigned slot;
		uint32_t dw;

		if (n >= PCI_CAP_MAX || ptr < PCI_CAP_FIRST)
			return PCI_MSIX_E_BAD_LIST;
		slot = (ptr - PCI_CAP_FIRST) / 4;
		if (seen & (1ull << slot))
			return PCI_MSIX_E_BAD_LIST;
		seen |= 1ull << slot;
		dw = rd(cfg, (uint16_t)ptr);
		if ((dw & 0xFFu) == id) {
			*off = (uint16_t)ptr;
			return PCI_MSIX_OK;
		}
		ptr = (dw >> 8) & 0xFCu;
	}
	return PCI_MSIX_E_NO_CAP;
}

/* BAR bir if it is memory that keel mapped and [off, off + len) lies inside it; its base then. */
static bool bar_range(const struct pci_host_bar *bars, unsigned nr_bars, unsigned bir, uint64_t off,
		      uint64_t len, uint64_t *base, int *err)
{
	const struct pci_host_bar *b;

	if (bir >= nr_bars || bir >= PCI_HOST_MAX_BARS) {
		*err = PCI_MSIX_E_BAD_BIR;
		return false;
	}
	b = &bars[bir];
	if ((b->kind != PCI_HBAR_MEM32 && b->kind != PCI_HBAR_MEM64) || !b->mapped || !b->base ||
	    !b->size || b->base + b->size < b->base || (uint64_t)(uintptr_t)b->base != b->base) {
		*err = PCI_MSIX_E_BAD_BIR;
		return false;
	}
	if (!range_within(off, len, b->size)) {
		*err = PCI_MSIX_E_BAD_RANGE;
		return false;
	}
	*base = b->base;
	return true;
}

int pci_msix_open(struct pci_msix *m, const struct pci_msix_cfg *cfg,
		  const struct pci_host_bar *bars, unsigned nr_bars)
{
	uint16_t cap;
	uint32_t mc, tdw, pdw;
	uint64_t tlen, plen, tbase, pbase;
	int err = pci_cap_find(cfg, PCI_CAP_ID_MSIX, &cap);

	if (err)
		return err;
	if (cap + MSIX_CAP_LEN > PCI_CFG_SIZE)
		return PCI_MSIX_E_BAD_CAP;
	mc = rd(cfg, cap) >> 16;
	tdw = rd(cfg, (uint16_t)(cap + MSIX_TABLE));
	pdw = rd(cfg, (uint16_t)(cap + MSIX_PBA));

	m->cfg = *cfg;
	m->cap = cap;
	m->nr_entries = (mc & MSIX_MC_SIZE_MASK) + 1;
	m->table_bir = (uint8_t)(tdw & MSIX_BIR_MASK);
	m->table_off = tdw & ~MSIX_BIR_MASK;
	m->pba_bir = (uint8_t)(pdw & MSIX_BIR_MASK);
	m->pba_off = pdw & ~MSIX_BIR_MASK;
	/* 16 bytes per entry; one pending bit per entry in whole QWORDs (6.8.2.10) */
	tlen = (uint64_t)m->nr_entries * PCI_MSIX_ENTRY_SIZE;
	plen = ((uint64_t)m->nr_entries + 63) / 64 * 8;
	if (!bar_range(bars, nr_bars, m->table_bir, m->table_off, tlen, &tbase, &err) ||
	    !bar_range(bars, nr_bars, m->pba_bir, m->pba_off, plen, &pbase, &err))
		return err;
	/* the two may share a BAR but must not overlap (6.8.2) */
	if (m->table_bir == m->pba_bir && m->pba_off < m->table_off + tlen &&
	    m->table_off < m->pba_off + plen)
		return PCI_MSIX_E_BAD_RANGE;
	m->table = (volatile uint32_t *)(uintptr_t)(tbase + m->table_off);
	m->pba = (const volatile uint32_t *)(uintptr_t)(pbase + m->pba_off);
	return PCI_MSIX_OK;
}

int pci_msix_mask_entry(struct pci_msix *m, unsigned i, bool masked)
{
	volatile uint32_t *e;
	uint32_t ctrl;

	if (i >= m->nr_entries)
		return PCI_MSIX_E_INVAL;
	e = m->table + (size_t)i * 4;
	ctrl = e[ENT_CTRL];
	e[ENT_CTRL] = masked ? ctrl | ENT_CTRL_MASK : ctrl & ~ENT_CTRL_MASK;
	return PCI_MSIX_OK;
}

static bool msg_ok(const struct pci_msix_msg *msg)
{
	return (msg->addr & 3) == 0;
}

/* Masked while it changes, so the function never sends half of an old and half of a new message
 * (6.8.2.9: software must not modify an unmasked entry). */
static void write_entry(struct pci_msix *m, unsigned i, const struct pci_msix_msg *msg)
{
	volatile uint32_t *e = m->table + (size_t)i * 4;

	pci_msix_mask_entry(m, i, true);
	e[ENT_ADDR_LO] = (uint32_t)msg->addr;
	e[ENT_ADDR_HI] = (uint32_t)(msg->addr >> 32);
	e[ENT_DATA] = msg->data;
	pci_msix_mask_entry(m, i, false);
}

int pci_msix_set_entry(struct pci_msix *m, unsigned i, const struct pci_msix_msg *msg)
{
	if (i >= m->nr_entries || !msg_ok(msg))
		return PCI_MSIX_E_INVAL;
	write_entry(m, i, msg);
	return PCI_MSIX_OK;
}

bool pci_msix_pending(const struct pci_msix *m, unsigned i)
{
	if (i >= m->nr_entries)
		return false;
	return (m->pba[i / 32] >> (i % 32)) & 1u;
}

static void write_mc(struct pci_msix *m, uint32_t set, uint32_t clear)
{
	uint32_t dw = rd(&m->cfg, m->cap);
	uint32_t mc = ((dw >> 16) | set) & ~clear;

	/* the low half (ID, next pointer) is read-only: written back as read */
	wr(&m->cfg, m->cap, (dw & 0xFFFFu) | mc << 16);
}

int pci_msix_enable(struct pci_msix *m, const struct pci_msix_msg *msgs, unsigned nr)
{
	uint32_t cmd = rd(&m->cfg, PCIH_COMMAND);
	uint16_t msi;

	if (nr > m->nr_entries)
		return PCI_MSIX_E_INVAL;
	for (unsigned i = 0; i < nr; i++)
		if (!msg_ok(&msgs[i]))
			return PCI_MSIX_E_INVAL;
	if (!(cmd & PCIH_CMD_MEM))
		return PCI_MSIX_E_DECODE;
	/* INTx off (command bit 10, 6.2.2); the status half is RW1C, so it is written 0 */
	if (!(cmd & PCIH_CMD_INTX_DISABLE))
		wr(&m->cfg, PCIH_COMMAND, (cmd & 0xFFFFu) | PCIH_CMD_INTX_DISABLE);
	if (pci_cap_find(&m->cfg, PCI_CAP_ID_MSI, &msi) == PCI_MSIX_OK) {
		uint32_t dw = rd(&m->cfg, msi);

		if (dw & (MSI_MC_ENABLE << 16))
			wr(&m->cfg, msi, dw & ~(MSI_MC_ENABLE << 16));
	}
	/* Function Mask holds every vector while the table is written; enabling first is allowed
	 * and keeps the function off INTx in between (6.8.2.3) */
	write_mc(m, MSIX_MC_ENABLE | MSIX_MC_FMASK, 0);
	for (unsigned i = 0; i < m->nr_entries; i++) {
		if (i < nr)
			write_entry(m, i, &msgs[i]);
		else
			pci_msix_mask_entry(m, i, true);
	}
	write_mc(m, 0, MSIX_MC_FMASK);
	return PCI_MSIX_OK;
}

void pci_msix_disable(struct pci_msix *m)
{
	write_mc(m, 0, MSIX_MC_ENABLE);
}

const char *pci_msix_err_name(int err)
{
	switch (err) {
	case PCI_MSIX_OK:
		return "ok";
	case PCI_MSIX_E_NO_CAP:
		return "no MSI-X capability";
	case PCI_MSIX_E_BAD_LIST:
		return "bad capability list";
	case PCI_MSIX_E_BAD_CAP:
		return "MSI-X capability past config space";
	case PCI_MSIX_E_BAD_BIR:
		return "MSI-X BIR names no mapped memory BAR";
	case PCI_MSIX_E_BAD_RANGE:
		return "MSI-X table or PBA outside its BAR";
	case PCI_MSIX_E_INVAL:
		return "bad MSI-X entry or message";
	case PCI_MSIX_E_DECODE:
		return "memory decoding off";
	default:
		return "?";
	}
}
