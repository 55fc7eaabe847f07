/* What is shown of the host function, and why (the header says what the file is):
 *  - IDs, class, revision, subsystem: the host's, so the guest loads its own driver.
 *  - Memory BARs: the host's kinds and sizes; a BAR under 4 KiB is shown as 4 KiB (keel's BARs
 *    are whole pages, each its own stage-2 hole), the bytes past the host's size read all ones
 *    and are never forwarded, and such a page is never mapped straight in (it holds whatever
 *    else the host put in that page).
 *  - I/O BARs: hidden. keel would have to forward port I/O one trapped access at a time, with
 *    nothing like stage 2 to hand whole ranges over; the functions worth passing through (NVMe,
 *    NICs, GPUs) have memory BARs for their registers. A function with no memory BAR is refused.
 *  - INTx: pin 0. The host's INTx line is a host IOAPIC pin, level-triggered and shared with
 *    other host functions; routing and acknowledging it for a guest is not done yet, so a
 *    function without MSI or MSI-X is refused (its driver would wait for interrupts forever).
 *  - Capabilities: keel's own MSI and MSI-X, nothing else of the host's list. PCI Express, power
 *    management, vendor capabilities stay hidden: each would need its own model of which writes
 *    are safe (an allow-list may come later). Extended config space reads 0 (pci_cfg_read). */
#include "vdev/pci/passthru.h"

#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/le.h"

/* MSI and MSI-X capability layouts (PCI Local Bus 3.0, 6.8.1 figure 6-9 and 6.8.2 figures
 * 6-10 to 6-12); keel's MSI capability is the 64-bit, per-vector-maskable one. */
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA 12
#define MSI_MASK 16
#define MSI_CTRL_ENABLE (1u << 0)
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_CAP_LEN 12
#define MSIX_CTRL_SIZE 0x7FFu /* table size - 1 */
#define MSIX_CTRL_MASKALL (1u << 14)
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_BIR 7u
#define MSIX_ENTRY_SIZE 16
#define MSIX_VEC_MASKED (1u << 0)

/* the host's MSI state bytes compared for msi_changed: control to the mask bits, not pending */
#define SEEN_MSI_FROM MSI_CTRL
#define SEEN_MSI_LEN (MSI_MASK + 4 - MSI_CTRL)

static uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* ---- MSI state changes --------------------------------------------------------------------- */

/* Records the MSI state the guest set; true when it differs from what was recorded before. */
static bool msi_snapshot(struct passthru *p)
{
	const struct pci_dev *d = &p->dev;
	uint8_t msi[SEEN_MSI_LEN] = { 0 };
	uint16_t msix_ctrl = 0;
	if (d->msi_cap)
		memcpy(msi, d->cfg + d->msi_cap + SEEN_MSI_FROM, sizeof(msi));
	if (d->msix_cap)
		msix_ctrl = le16(d->cfg + d->msix_cap + MSIX_CTRL);
	if (!memcmp(msi, p->seen_msi, sizeof(msi)) && msix_ctrl == p->seen_msix_ctrl &&
	    !memcmp(d->msix_table, p->seen_msix_table, sizeof(p->seen_msix_table)))
		return false;
	memcpy(p->seen_msi, msi, sizeof(msi));
	p->seen_msix_ctrl = msix_ctrl;
	memcpy(p->seen_msix_table, d->msix_table, sizeof(p->seen_msix_table));
	return true;
}

static void check_msi(struct passthru *p)
{
	if (!msi_snapshot(p))
		return;
	p->msi_changes++;
	p->ops->msi_changed(p->ctx);
}

/* The memory-space and bus-master bits go to the host whenever they change; the rest of the
 * command register (I/O, SERR#, parity, INTx disable) stays virtual (PCI Local Bus 3.0, 6.2.2). */
static void check_command(struct passthru *p)
{
	uint16_t cmd = pci_dev_command(&p->dev) & (PCI_CMD_MEM | PCI_CMD_MASTER);
	if (cmd == p->seen_cmd)
		return;
	p->seen_cmd = cmd;
	p->ops->set_command(p->ctx, cmd & PCI_CMD_MEM, cmd & PCI_CMD_MASTER);
}

/* After every guest config write outside the BARs (pci_dev's hook covers 0x04-0xFF); before a
 * read there is nothing to fetch: every register the guest sees is keel's. */
static void cfg_hook(struct pci_dev *d, unsigned off, unsigned size, bool write)
{
	(void)off;
	(void)size;
	if (!write)
		return;
	check_command(d->hook_ctx);
	check_msi(d->hook_ctx);
}

static void model_reset(struct pci_dev *d)
{
	struct passthru *p = d->hook_ctx;
	p->seen_cmd = 0;
	p->ops->set_command(p->ctx, false, false);
	check_msi(p);
}

/* ---- BARs ---------------------------------------------------------------------------------- */

/* True when [off, off + size) touches the MSI-X table or PBA of this BAR. */
static bool trapped(const struct passthru_bar *b, uint64_t off, uint64_t size)
{
	uint64_t end = off + size < off ? ~0ull : off + size;
	for (unsigned i = 0; i < b->nr_traps; i++)
		if (off < b->trap_end[i] && b->trap_off[i] < end)
			return true;
	return false;
}

/* Forwarded only as the host BAR can take it: size 1, 2, 4 or 8, naturally aligned, inside the
 * host's BAR. A guest's unaligned access to device registers has no defined meaning there. */
static bool forwardable(const struct passthru_bar *b, uint64_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && !(off & (size - 1)) &&
	       range_within(off, size, b->host_size);
}

/* PCI Local Bus 3.0, 6.8.2.10 Pending Bits. While the guest masks a vector (its mask bit or
 * the function mask), the glue keeps the host's entry masked too (core/vm_pci.c), so a message
 * the function raises for it waits in the host's PBA, not in keel's. The guest may poll its PBA
 * for such a vector: a read of keel's PBA (an aligned dword or qword of its first qword, at the
 * host PBA's place) also shows the host's bits of the guest's masked vectors. An unmasked
 * vector's host bit is a message on its way to keel anyway; with MSI-X off there is none. The
 * host's PBA is only read. */
static uint64_t host_pending(const struct passthru_bar *b, uint64_t off, unsigned size)
{
	const struct passthru *p = b->p;
	const struct pci_dev *d = &p->dev;
	if ((size != 4 && size != 8) || (off & (size - 1)) || off < d->msix_pba_off ||
	    off - d->msix_pba_off >= 8)
		return 0; /* not the PBA, or all ones already (pci_msix_mmio_read) */
	uint16_t ctrl = le16(d->cfg + d->msix_cap + MSIX_CTRL);
	if (!(ctrl & MSIX_CTRL_ENABLE))
		return 0; /* the host's MSI-X is off too: what its PBA holds is stale */
	bool all = ctrl & MSIX_CTRL_MASKALL;
	uint64_t masked = 0;
	for (unsigned v = 0; v < passthru_msix_vectors(p); v++)
		if (all || (d->msix_table[v][3] & MSIX_VEC_MASKED))
			masked |= 1ull << v;
	masked = (masked >> (8 * (off - d->msix_pba_off))) & ones(size);
	/* inside the host BAR: add_msix checked the host PBA fits it */
	return masked ? p->ops->bar_read(p->ctx, b->n, off, size) & masked : 0;
}

static int bar_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct passthru_bar *b = ctx;
	struct passthru *p = b->p;
	if (trapped(b, off, size)) {
		/* keel's virtual table and PBA; the host entries past the vectors shown read 0 */
		if (pci_msix_mmio_claims(&p->dev, b->n, off)) {
			pci_msix_mmio_read(&p->dev, off, size, val);
			*val |= host_pending(b, off, size);
		} else {
			*val = 0;
		}
	} else if (forwardable(b, off, size)) {
		p->forwarded++;
		*val = p->ops->bar_read(p->ctx, b->n, off, size) & ones(size);
	} else {
		*val = ones(size);
	}
	return 0;
}

static int bar_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct passthru_bar *b = ctx;
	struct passthru *p = b->p;
	if (trapped(b, off, size)) {
		if (pci_msix_mmio_claims(&p->dev, b->n, off)) {
			pci_msix_mmio_write(&p->dev, off, size, val);
			check_msi(p);
		}
	} else if (forwardable(b, off, size)) {
		p->forwarded++;
		p->ops->bar_write(p->ctx, b->n, off, size, val & ones(size));
	}
	return 0;
}

static const struct mmio_ops bar_ops = { .read = bar_read, .write = bar_write };

/* After every decode of the VM's bus: tell the glue of each BAR that stopped decoding or moved,
 * then of each that decodes somewhere new, so it never maps two BARs' pages at one place. */
static void bars_decoded(struct pci_dev *d)
{
	struct passthru *p = d->hook_ctx;
	for (unsigned n = 0; n < PCI_NR_BARS; n++) {
		struct passthru_bar *b = &p->bars[n];
		const struct pci_bar *vb = &d->bars[n];
		if (!b->p || !b->reported_on || (vb->decoded && vb->addr == b->reported_gpa))
			continue;
		b->reported_on = false;
		if (p->ops->bar_decoded)
			p->ops->bar_decoded(p->ctx, n, false, b->reported_gpa, vb->size);
	}
	for (unsigned n = 0; n < PCI_NR_BARS; n++) {
		struct passthru_bar *b = &p->bars[n];
		const struct pci_bar *vb = &d->bars[n];
		if (!b->p || b->reported_on || !vb->decoded)
			continue;
		b->reported_on = true;
		b->reported_gpa = vb->addr;
		if (p->ops->bar_decoded)
			p->ops->bar_decoded(p->ctx, n, true, vb->addr, vb->size);
	}
}

bool passthru_page_direct(const struct passthru *p, unsigned bar, uint64_t page_off)
{
	if (bar >= PCI_NR_BARS || !p->bars[bar].p)
		return false;
	const struct passthru_bar *b = &p->bars[bar];
	uint64_t page = ALIGN_DOWN(page_off, (uint64_t)PASSTHRU_PAGE);
	/* PCI Local Bus 3.0, 6.8.2: the table and PBA should sit in pages of their own, but a
	 * function may share them with other registers; those pages stay trapped whole */
	return range_within(page, PASSTHRU_PAGE, b->host_size) && !trapped(b, page, PASSTHRU_PAGE);
}

/* ---- set-up -------------------------------------------------------------------------------- */

static int add_bars(struct passthru *p, const struct passthru_bar_info *host, char *why,
		    size_t why_size)
{
	unsigned nr_mem = 0;
	for (unsigned n = 0; n < PCI_NR_BARS; n++) {
		const struct passthru_bar_info *h = &host[n];
		if (h->kind == PCI_BAR_NONE || h->kind == PCI_BAR_IO)
			continue; /* I/O BARs hidden: see the top of this file */
		if (h->kind != PCI_BAR_MEM32 && h->kind != PCI_BAR_MEM64)
			return kfail(why, why_size, "BAR %u: unknown kind %d", n, (int)h->kind);
		uint64_t size = h->size < PASSTHRU_PAGE ? PASSTHRU_PAGE : h->size;
		struct passthru_bar *b = &p->bars[n];
		*b = (struct passthru_bar){ .p = p, .n = n, .host_size = h->size };
		if (!h->size || (h->size & (h->size - 1)) ||
		    pci_dev_add_bar(&p->dev, n, h->kind, h->prefetchable, size, &bar_ops, b))
			return kfail(why, why_size, "BAR %u (%s, %llu bytes) cannot be shown", n,
				     h->kind == PCI_BAR_MEM64 ? "64-bit" : "32-bit",
				     (unsigned long long)h->size);
		nr_mem++;
		if (h->kind == PCI_BAR_MEM64)
			n++; /* its upper half */
	}
	if (!nr_mem)
		return kfail(why, why_size, "no memory BAR (I/O BARs are not passed through)");
	return 0;
}

/* The host's MSI-X capability at cap, rebuilt as keel's: same table and PBA places, at most
 * PCI_MSIX_MAX_VECTORS vectors (a driver asks for what the table size allows and copes with
 * fewer). The whole host table and PBA stay trapped, so the guest never writes a host entry. */
static int add_msix(struct passthru *p, const struct passthru_bar_info *host, unsigned cap,
		    char *why, size_t why_size)
{
	uint32_t ctrl = p->ops->cfg_read32(p->ctx, (uint16_t)cap) >> 16;
	uint32_t table = p->ops->cfg_read32(p->ctx, (uint16_t)(cap + MSIX_TABLE));
	uint32_t pba = p->ops->cfg_read32(p->ctx, (uint16_t)(cap + MSIX_PBA));
	unsigned vectors = (ctrl & MSIX_CTRL_SIZE) + 1, bar = table & MSIX_BIR;
	uint64_t toff = table & ~MSIX_BIR, poff = pba & ~MSIX_BIR;
	uint64_t tlen = (uint64_t)vectors * MSIX_ENTRY_SIZE, plen = ALIGN_UP(vectors, 64u) / 8;
	if ((pba & MSIX_BIR) != bar)
		return kfail(why, why_size, "MSI-X table in BAR %u, PBA in BAR %u: not supported",
			     bar, pba & MSIX_BIR);
	if (bar >= PCI_NR_BARS || !p->bars[bar].p)
		return kfail(why, why_size, "MSI-X table in BAR %u, not a memory BAR", bar);
	struct passthru_bar *b = &p->bars[bar];
	if (!range_within(toff, tlen, host[bar].size) ||
	    !range_within(poff, plen, host[bar].size) || (toff < poff + plen && poff < toff + tlen))
		return kfail(why, why_size,
			     "MSI-X table (0x%llx, %u vectors) or PBA (0x%llx) does not fit BAR %u",
			     (unsigned long long)toff, vectors, (unsigned long long)poff, bar);
	p->host_msix_vectors = (uint16_t)vectors;
	b->trap_off[0] = toff;
	b->trap_end[0] = toff + tlen;
	b->trap_off[1] = poff;
	b->trap_end[1] = poff + plen;
	b->nr_traps = 2;
	if (pci_dev_add_msix(&p->dev, MIN(vectors, PCI_MSIX_MAX_VECTORS), bar, (uint32_t)toff,
			     (uint32_t)poff))
		return kfail(why, why_size, "MSI-X capability does not fit");
	return 0;
}

/* Walks the host's capability list (PCI Local Bus 3.0, 6.7) for MSI and MSI-X. The list is the
 * device's word: pointers are masked to dwords (their low two bits are reserved), must lie in
 * 0x40-0xFF with the capability inside, and each dword is visited once, so a loop ends. */
static int add_caps(struct passthru *p, const struct passthru_bar_info *host, char *why,
		    size_t why_size)
{
	unsigned msi = 0, msix = 0;
	uint64_t seen = 0; /* dwords 0x40-0xFC */
	if ((p->ops->cfg_read32(p->ctx, PCI_COMMAND) >> 16) & PCI_STS_CAP_LIST) {
		unsigned at = p->ops->cfg_read32(p->ctx, PCI_CAP_PTR) & 0xFC;
		while (at >= 0x40 && !(seen & (1ull << ((at - 0x40) / 4)))) {
			seen |= 1ull << ((at - 0x40) / 4);
			uint32_t hdr = p->ops->cfg_read32(p->ctx, (uint16_t)at);
			if ((hdr & 0xFF) == PCI_CAP_MSI && !msi)
				msi = at;
			if ((hdr & 0xFF) == PCI_CAP_MSIX && !msix)
				msix = at;
			at = (hdr >> 8) & 0xFC;
		}
	}
	/* keel's MSI has its own layout; the host's (whatever its size) is the glue's to program */
	if (msi && pci_dev_add_msi(&p->dev))
		return kfail(why, why_size, "MSI capability does not fit");
	if (msix) {
		if (msix + MSIX_CAP_LEN > PCI_CFG_SIZE)
			return kfail(why, why_size, "MSI-X capability at 0x%x runs past 0xFF",
				     msix);
		if (add_msix(p, host, msix, why, why_size))
			return -1;
	}
	if (!msi && !msix)
		return kfail(why, why_size, "neither MSI nor MSI-X (INTx is not passed through)");
	return 0;
}

int passthru_init(struct passthru *p, const struct passthru_host_ops *ops, void *ctx,
		  const struct passthru_bar_info host_bars[PCI_NR_BARS], char *why, size_t why_size)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->ctx = ctx;
	uint32_t id = ops->cfg_read32(ctx, PCI_VENDOR_ID);
	uint32_t class_rev = ops->cfg_read32(ctx, PCI_REVISION);
	uint32_t hdr = ops->cfg_read32(ctx, 0x0C);
	uint32_t subsys = ops->cfg_read32(ctx, PCI_SUBSYS_VENDOR);
	if ((uint16_t)id == 0xFFFF || (uint16_t)id == 0)
		return kfail(why, why_size, "no function (vendor 0x%04x)", (uint16_t)id);
	/* header type without the multi-function bit (6.2.1): the guest sees function 0 alone */
	if ((hdr >> 16 & 0x7F) != 0)
		return kfail(why, why_size, "header type %u: only type 0 functions",
			     hdr >> 16 & 0x7F);
	pci_dev_init(&p->dev, (uint16_t)id, (uint16_t)(id >> 16), class_rev >> 8,
		     (uint8_t)class_rev, 0);
	pci_dev_set_subsystem(&p->dev, (uint16_t)subsys, (uint16_t)(subsys >> 16));
	if (add_bars(p, host_bars, why, why_size) || add_caps(p, host_bars, why, why_size))
		return -1;
	p->dev.hook_off = PCI_COMMAND;
	p->dev.hook_len = PCI_CFG_SIZE - PCI_COMMAND;
	p->dev.hook = cfg_hook;
	p->dev.hook_ctx = p;
	p->dev.model_reset = model_reset;
	p->dev.bars_decoded = bars_decoded;
	pci_dev_seal(&p->dev);
	/* the glue starts from the reset state: nothing enabled, every MSI-X vector masked */
	msi_snapshot(p);
	return 0;
}

void passthru_reset(struct passthru *p)
{
	pci_dev_reset(&p->dev); /* then model_reset */
	if (p->dev.decode_changed)
		p->dev.decode_changed(p->dev.bus, &p->dev);
}

/* ---- accessors for the glue ---------------------------------------------------------------- */

bool passthru_msi(const struct passthru *p, struct passthru_msi *m)
{
	const struct pci_dev *d = &p->dev;
	if (!d->msi_cap)
		return false;
	const uint8_t *c = d->cfg + d->msi_cap;
	m->enabled = le16(c + MSI_CTRL) & MSI_CTRL_ENABLE;
	m->masked = le32(c + MSI_MASK) & 1;
	m->addr = le32(c + MSI_ADDR_LO) | (uint64_t)le32(c + MSI_ADDR_HI) << 32;
	m->data = le16(c + MSI_DATA);
	return true;
}

unsigned passthru_msix_vectors(const struct passthru *p)
{
	return p->dev.msix_cap ? p->dev.msix_vectors : 0;
}

bool passthru_msix_vector(const struct passthru *p, unsigned v, struct passthru_msix_vector *m)
{
	const struct pci_dev *d = &p->dev;
	if (v >= passthru_msix_vectors(p))
		return false;
	uint16_t ctrl = le16(d->cfg + d->msix_cap + MSIX_CTRL);
	const uint32_t *e = d->msix_table[v];
	m->enabled = ctrl & MSIX_CTRL_ENABLE;
	m->function_masked = ctrl & MSIX_CTRL_MASKALL;
	m->masked = e[3] & MSIX_VEC_MASKED;
	m->addr = e[0] | (uint64_t)e[1] << 32;
	m->data = e[2];
	return true;
}
