/* A host function passed through: what the guest sees of it (IDs, memory BARs of the host's
 * sizes, keel's capabilities only), what reaches the host (BAR accesses outside the MSI-X table
 * and PBA, the memory and bus-master bits; never a config write), where the BARs decode, which
 * pages may be mapped straight in, and a hostile host config space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "vdev/pci/passthru.h"
#include "vdev/pci/pci_bus.h"

/* ---- the fake host function ---- */

struct access {
	unsigned bar;
	uint64_t off;
	unsigned size;
	uint64_t val;
	bool write;
};

struct decoded_call {
	unsigned bar;
	bool on;
	uint64_t gpa, size;
};

static struct host {
	uint8_t cfg[256];
	unsigned cfg_reads, cfg_writes;
	struct access acc[64];
	unsigned nr_acc;
	bool memory, master;
	unsigned set_commands, msi_changes;
	struct decoded_call dec[32];
	unsigned nr_dec;
	uint64_t pba; /* the first qword of BAR3's host PBA, at 0x2000 */
} h;

static void put16(unsigned off, uint16_t v)
{
	h.cfg[off] = (uint8_t)v;
	h.cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(unsigned off, uint32_t v)
{
	put16(off, (uint16_t)v);
	put16(off + 2, (uint16_t)(v >> 16));
}

static uint32_t h_cfg_read32(void *ctx, uint16_t reg)
{
	assert_ptr_equal(ctx, &h);
	assert_int_equal(reg & 3, 0);
	assert_true(reg < 256);
	h.cfg_reads++;
	return h.cfg[reg] | h.cfg[reg + 1] << 8 | h.cfg[reg + 2] << 16 |
	       (uint32_t)h.cfg[reg + 3] << 24;
}

static void h_cfg_write32(void *ctx, uint16_t reg, uint32_t v)
{
	(void)ctx, (void)reg, (void)v;
	h.cfg_writes++;
}

static void log_acc(unsigned bar, uint64_t off, unsigned size, uint64_t v, bool write)
{
	if (h.nr_acc < 64)
		h.acc[h.nr_acc] = (struct access){ bar, off, size, v, write };
	h.nr_acc++;
}

static uint64_t h_bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size)
{
	(void)ctx;
	log_acc(bar, off, size, 0, false);
	if (bar == 3 && off >= 0x2000 && off < 0x2008)
		return h.pba >> (8 * (off - 0x2000)); /* upper bytes left for the model to drop */
	return 0x1122334455667788ull + off;
}

static void h_bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	(void)ctx;
	log_acc(bar, off, size, v, true);
}

static void h_set_command(void *ctx, bool memory, bool master)
{
	(void)ctx;
	h.memory = memory;
	h.master = master;
	h.set_commands++;
}

static void h_msi_changed(void *ctx)
{
	(void)ctx;
	h.msi_changes++;
}

static void h_bar_decoded(void *ctx, unsigned bar, bool on, uint64_t gpa, uint64_t size)
{
	(void)ctx;
	if (h.nr_dec < 32)
		h.dec[h.nr_dec] = (struct decoded_call){ bar, on, gpa, size };
	h.nr_dec++;
}

static const struct passthru_host_ops ops = {
	.cfg_read32 = h_cfg_read32,
	.cfg_write32 = h_cfg_write32,
	.bar_read = h_bar_read,
	.bar_write = h_bar_write,
	.set_command = h_set_command,
	.msi_changed = h_msi_changed,
	.bar_decoded = h_bar_decoded,
};

/* BAR0 32-bit 128 KiB, BAR2 I/O 32 ports, BAR3 32-bit 16 KiB (MSI-X: 5 vectors at 0, PBA at
 * 0x2000), BAR4-5 64-bit prefetchable 1 MiB. Capabilities: power management at 0x40, MSI
 * (32-bit) at 0x50, MSI-X at 0x70, PCI Express at 0xA0. */
static struct passthru_bar_info bars[PCI_NR_BARS];

static void host_setup(void)
{
	memset(&h, 0, sizeof(h));
	put32(0x00, 0x15338086);
	put32(0x04, (uint32_t)PCI_STS_CAP_LIST << 16 | 0x0406);
	put32(0x08, 0x02000003);
	put32(0x0C, 0x00800010); /* multi-function */
	put32(0x10, 0xF0000000);
	put32(0x2C, 0x00018086);
	h.cfg[0x34] = 0x40;
	put32(0x3C, 0x010B);
	put32(0x40, 0x0003 << 16 | 0x50 << 8 | 0x01);
	put32(0x50, 0x0080 << 16 | 0x70 << 8 | PCI_CAP_MSI);
	put32(0x70, 0x0004u << 16 | 0xA0 << 8 | PCI_CAP_MSIX);
	put32(0x74, 0x0000 | 3);
	put32(0x78, 0x2000 | 3);
	put32(0xA0, 0x0002 << 16 | 0x00 << 8 | 0x10);
	put32(0xA4, 0xFFFFFFFF);
	memset(bars, 0, sizeof(bars));
	bars[0] = (struct passthru_bar_info){ PCI_BAR_MEM32, false, 128 * KiB };
	bars[2] = (struct passthru_bar_info){ PCI_BAR_IO, false, 32 };
	bars[3] = (struct passthru_bar_info){ PCI_BAR_MEM32, false, 16 * KiB };
	bars[4] = (struct passthru_bar_info){ PCI_BAR_MEM64, true, MiB };
}

static struct passthru p;
static char why[128];

static int setup(void **state)
{
	(void)state;
	host_setup();
	host_log_clear();
	return passthru_init(&p, &ops, &h, bars, why, sizeof(why));
}

static uint32_t rd(unsigned off, unsigned size)
{
	return pci_cfg_read(&p.dev, off, size);
}

static void wr(unsigned off, unsigned size, uint32_t v)
{
	pci_cfg_write(&p.dev, off, size, v);
}

static uint64_t bar_rd(unsigned n, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(p.dev.bars[n].mmio->read(p.dev.bars[n].ctx, off, size, &v), 0);
	return v;
}

static void bar_wr(unsigned n, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(p.dev.bars[n].mmio->write(p.dev.bars[n].ctx, off, size, v), 0);
}

static unsigned host_writes(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < h.nr_acc && i < 64; i++)
		n += h.acc[i].write;
	return n;
}

/* ---- the tests ---- */

static void ids_copied(void **state)
{
	(void)state;
	assert_int_equal(rd(PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(rd(PCI_DEVICE_ID, 2), 0x1533);
	assert_int_equal(rd(PCI_REVISION, 1), 3);
	assert_int_equal(rd(0x08, 4) >> 8, 0x020000);
	assert_int_equal(rd(PCI_SUBSYS_VENDOR, 2), 0x8086);
	assert_int_equal(rd(PCI_SUBSYS_ID, 2), 0x0001);
	/* one function, type 0; no INTx; the host's command, status bits and line are not shown */
	assert_int_equal(rd(PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(rd(PCI_INT_PIN, 1), 0);
	assert_int_equal(rd(PCI_INT_LINE, 1), 0);
	assert_int_equal(rd(PCI_COMMAND, 2), 0);
	assert_int_equal(rd(PCI_STATUS, 2), PCI_STS_CAP_LIST);
	assert_int_equal(h.cfg_writes, 0);
}

static uint32_t size_bar(unsigned reg)
{
	uint32_t old = rd(reg, 4);
	wr(reg, 4, 0xFFFFFFFF);
	uint32_t v = rd(reg, 4);
	wr(reg, 4, old);
	return v;
}

static void bars_sized_like_the_host(void **state)
{
	(void)state;
	assert_int_equal(size_bar(PCI_BAR0), 0xFFFE0000);
	assert_int_equal(size_bar(PCI_BAR0 + 4), 0);
	assert_int_equal(size_bar(PCI_BAR0 + 8), 0); /* the I/O BAR is hidden */
	assert_int_equal(size_bar(PCI_BAR0 + 12), 0xFFFFC000);
	assert_int_equal(size_bar(PCI_BAR0 + 16), 0xFFF0000C); /* 64-bit, prefetchable */
	assert_int_equal(size_bar(PCI_BAR0 + 20), 0xFFFFFFFF);
	assert_int_equal(p.dev.bars[2].kind, PCI_BAR_NONE);
	assert_int_equal(h.cfg_writes, 0);
	assert_int_equal(h.nr_acc, 0);
}

static void only_keels_capabilities(void **state)
{
	(void)state;
	uint8_t ids[8] = { 0 };
	unsigned n = 0;
	for (unsigned at = rd(PCI_CAP_PTR, 1); at && n < 8; at = rd(at + 1, 1))
		ids[n++] = (uint8_t)rd(at, 1);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], PCI_CAP_MSI);
	assert_int_equal(ids[1], PCI_CAP_MSIX);
	unsigned msix = p.dev.msix_cap;
	assert_int_equal(rd(msix + 2, 2), 4); /* 5 vectors */
	assert_int_equal(rd(msix + 4, 4), 0x0000 | 3);
	assert_int_equal(rd(msix + 8, 4), 0x2000 | 3);
	/* keel's MSI: 64-bit, maskable, whatever the host's is */
	assert_int_equal(rd(p.dev.msi_cap + 2, 2), 0x0180);
	/* extended config space: nothing, not the host's PCI Express capabilities */
	for (unsigned off = 0x100; off < 0x1000; off += 4)
		assert_int_equal(rd(off, 4), 0);
	assert_int_equal(passthru_msix_vectors(&p), 5);
}

static void config_writes_never_reach_the_host(void **state)
{
	(void)state;
	static const uint32_t vals[] = { 0, 0xFFFFFFFF, 0x5A5A5A5A, 0x00000007 };
	for (unsigned v = 0; v < 4; v++)
		for (unsigned size = 1; size <= 4; size *= 2)
			for (unsigned off = 0; off < 0x1000; off += size)
				wr(off, size, vals[v]);
	assert_int_equal(h.cfg_writes, 0);
	assert_int_equal(h.nr_acc, 0);
	/* the IDs stayed */
	assert_int_equal(rd(0, 4), 0x15338086);
}

static void command_bits_mirrored(void **state)
{
	(void)state;
	wr(PCI_COMMAND, 2, PCI_CMD_MASTER);
	assert_int_equal(h.set_commands, 1);
	assert_false(h.memory);
	assert_true(h.master);
	wr(PCI_COMMAND, 2, PCI_CMD_MASTER | PCI_CMD_MEM);
	assert_int_equal(h.set_commands, 2);
	assert_true(h.memory);
	/* INTx disable, I/O, SERR#: virtual, nothing to tell */
	wr(PCI_COMMAND, 2, PCI_CMD_MASTER | PCI_CMD_MEM | PCI_CMD_INTX_DISABLE | PCI_CMD_SERR);
	assert_int_equal(h.set_commands, 2);
	assert_int_equal(rd(PCI_COMMAND, 2),
			 PCI_CMD_MASTER | PCI_CMD_MEM | PCI_CMD_INTX_DISABLE | PCI_CMD_SERR);
	/* the guest stops its device's DMA: bus mastering off on the host */
	wr(PCI_COMMAND, 1, PCI_CMD_MEM);
	assert_int_equal(h.set_commands, 3);
	assert_false(h.master);
	assert_true(h.memory);
	wr(PCI_COMMAND, 2, PCI_CMD_MASTER);
	passthru_reset(&p);
	assert_false(h.master);
	assert_false(h.memory);
	assert_int_equal(rd(PCI_COMMAND, 2), 0);
	assert_int_equal(h.cfg_writes, 0);
}

static void msi_virtual_and_told(void **state)
{
	(void)state;
	struct passthru_msi m;
	unsigned c = p.dev.msi_cap;
	assert_true(passthru_msi(&p, &m));
	assert_false(m.enabled);
	wr(c + 4, 4, 0xFEE01000);
	assert_int_equal(h.msi_changes, 1);
	wr(c + 8, 4, 0);
	assert_int_equal(h.msi_changes, 1); /* no change */
	wr(c + 12, 2, 0x4041);
	wr(c + 16, 4, 1);
	wr(c + 2, 2, 1);
	assert_int_equal(h.msi_changes, 4);
	assert_true(passthru_msi(&p, &m));
	assert_true(m.enabled);
	assert_true(m.masked);
	assert_int_equal(m.addr, 0xFEE01000);
	assert_int_equal(m.data, 0x4041);
	/* a reset turns it off, and the glue hears of it */
	passthru_reset(&p);
	assert_int_equal(h.msi_changes, 5);
	assert_true(passthru_msi(&p, &m));
	assert_false(m.enabled);
	assert_int_equal(h.cfg_writes, 0);
}

static void msix_table_stays_virtual(void **state)
{
	(void)state;
	struct passthru_msix_vector v;
	assert_true(passthru_msix_vector(&p, 4, &v));
	assert_false(passthru_msix_vector(&p, 5, &v));
	assert_true(v.masked);
	bar_wr(3, 0x40, 8, 0xFEE02000);
	bar_wr(3, 0x48, 4, 0x55);
	bar_wr(3, 0x4C, 4, 0);
	assert_int_equal(h.msi_changes, 3);
	assert_int_equal(bar_rd(3, 0x40, 8), 0xFEE02000);
	assert_int_equal(bar_rd(3, 0x48, 4), 0x55);
	wr(p.dev.msix_cap + 2, 2, 0xC000); /* enable, function mask */
	assert_int_equal(h.msi_changes, 4);
	assert_true(passthru_msix_vector(&p, 4, &v));
	assert_true(v.enabled);
	assert_true(v.function_masked);
	assert_false(v.masked);
	assert_int_equal(v.addr, 0xFEE02000);
	assert_int_equal(v.data, 0x55);
	/* the PBA: read-only, virtual; an unchanged write tells nothing */
	bar_wr(3, 0x2000, 8, ~0ull);
	assert_int_equal(bar_rd(3, 0x2000, 8), 0);
	bar_wr(3, 0x48, 4, 0x55);
	assert_int_equal(h.msi_changes, 4);
	/* straddling the table's end: not forwarded either; the PBA read above read the host's
	 * pending bits (every vector function-masked), nothing else */
	bar_wr(3, 0x4C, 8, 0);
	assert_int_equal(h.nr_acc, 1);
	assert_int_equal(h.acc[0].off, 0x2000);
	assert_int_equal(h.acc[0].size, 8);
	assert_false(h.acc[0].write);
}

/* PCI Local Bus 3.0, 6.8.2.10: a vector the guest masks is masked on the host too, so its
 * message waits in the host's PBA; the guest's PBA read shows it. Unmasked vectors and vectors
 * past the guest's count do not show the host's bits. */
static void pba_shows_host_pending_of_masked_vectors(void **state)
{
	(void)state;
	wr(p.dev.msix_cap + 2, 2, 0x8000); /* enable; all 5 vectors masked since reset */
	bar_wr(3, 1 * 16 + 12, 4, 0);	   /* unmask vector 1 */
	/* host: vectors 1, 3 and (not shown to the guest) 5, 40, 63 pending */
	h.pba = 1ull << 1 | 1ull << 3 | 1ull << 5 | 1ull << 40 | 1ull << 63;
	p.dev.msix_pending = 1ull << 4; /* keel's own: vector 4 raised while masked */
	h.nr_acc = 0;
	assert_int_equal(bar_rd(3, 0x2000, 8), 1ull << 3 | 1ull << 4);
	assert_int_equal(h.nr_acc, 1);
	assert_int_equal(h.acc[0].bar, 3);
	assert_int_equal(h.acc[0].off, 0x2000);
	assert_int_equal(h.acc[0].size, 8);
	assert_int_equal(bar_rd(3, 0x2000, 4), 1ull << 3 | 1ull << 4);
	assert_int_equal(h.acc[1].off, 0x2000);
	assert_int_equal(h.acc[1].size, 4);
	/* the upper dword: no vector of the guest's there, the host not even asked */
	assert_int_equal(bar_rd(3, 0x2004, 4), 0);
	assert_int_equal(h.nr_acc, 2);
	/* vector 3 unmasked: its host bit is a message keel gets; the function mask masks all */
	bar_wr(3, 3 * 16 + 12, 4, 0);
	assert_int_equal(bar_rd(3, 0x2000, 8), 1ull << 4);
	wr(p.dev.msix_cap + 2, 2, 0xC000);
	assert_int_equal(bar_rd(3, 0x2000, 8), 1ull << 1 | 1ull << 3 | 1ull << 4);
	/* bad sizes and alignments: all ones as before, the host not asked */
	unsigned before = h.nr_acc;
	assert_int_equal(bar_rd(3, 0x2000, 2), ~0ull);
	assert_int_equal(bar_rd(3, 0x2002, 4), ~0ull);
	assert_int_equal(bar_rd(3, 0x2004, 8), ~0ull);
	assert_int_equal(bar_rd(3, 0x2001, 1), ~0ull);
	assert_int_equal(h.nr_acc, before);
	/* the PBA is read-only: writes of any size never reach the host */
	bar_wr(3, 0x2000, 8, ~0ull);
	bar_wr(3, 0x2000, 4, 0);
	bar_wr(3, 0x2004, 4, ~0u);
	assert_int_equal(host_writes(), 0);
	assert_int_equal(bar_rd(3, 0x2000, 8), 1ull << 1 | 1ull << 3 | 1ull << 4);
	assert_int_equal(h.cfg_writes, 0);
	/* MSI-X off: the host's is off too, its PBA stale and not asked */
	wr(p.dev.msix_cap + 2, 2, 0x4000);
	before = h.nr_acc;
	assert_int_equal(bar_rd(3, 0x2000, 8) & (1ull << 1 | 1ull << 3), 0);
	assert_int_equal(h.nr_acc, before);
}

/* 64 vectors: both dwords of the PBA are the guest's; 4-byte reads agree with the 8-byte one. */
static void pba_dwords_agree(void **state)
{
	(void)state;
	put32(0x70, 0x003Fu << 16 | 0xA0 << 8 | PCI_CAP_MSIX);
	assert_int_equal(passthru_init(&p, &ops, &h, bars, why, sizeof(why)), 0);
	assert_int_equal(passthru_msix_vectors(&p), 64);
	wr(p.dev.msix_cap + 2, 2, 0x8000);
	/* unmask vectors 0, 2, 33, 62 */
	static const unsigned unmask[] = { 0, 2, 33, 62 };
	uint64_t unmasked = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(unmask); i++) {
		bar_wr(3, unmask[i] * 16 + 12, 4, 0);
		unmasked |= 1ull << unmask[i];
	}
	h.pba = 0xF00DCAFE12345677ull;
	uint64_t want = h.pba & ~unmasked;
	assert_int_equal(bar_rd(3, 0x2000, 8), want);
	assert_int_equal(bar_rd(3, 0x2000, 4), (uint32_t)want);
	assert_int_equal(bar_rd(3, 0x2004, 4), want >> 32);
	assert_int_equal(bar_rd(3, 0x2000, 4) | bar_rd(3, 0x2004, 4) << 32, bar_rd(3, 0x2000, 8));
	/* function mask: every host bit */
	wr(p.dev.msix_cap + 2, 2, 0xC000);
	assert_int_equal(bar_rd(3, 0x2000, 8), h.pba);
	assert_int_equal(bar_rd(3, 0x2004, 4), h.pba >> 32);
	assert_int_equal(host_writes(), 0);
}

static void other_offsets_forwarded(void **state)
{
	(void)state;
	assert_int_equal(bar_rd(0, 0x10, 4), (uint32_t)(0x1122334455667788ull + 0x10));
	assert_int_equal(h.nr_acc, 1);
	assert_int_equal(h.acc[0].bar, 0);
	assert_int_equal(h.acc[0].off, 0x10);
	assert_int_equal(h.acc[0].size, 4);
	bar_wr(3, 0x3008, 8, 0xAABBCCDDEEFF0011ull); /* MSI-X BAR, past the PBA */
	assert_int_equal(h.acc[1].bar, 3);
	assert_int_equal(h.acc[1].off, 0x3008);
	assert_int_equal(h.acc[1].size, 8);
	assert_int_equal(h.acc[1].val, 0xAABBCCDDEEFF0011ull);
	assert_true(h.acc[1].write);
	bar_wr(4, 0xFFFFE, 2, 0x1234);
	assert_int_equal(h.acc[2].bar, 4);
	assert_int_equal(h.acc[2].off, 0xFFFFE);
	assert_int_equal(h.acc[2].val, 0x1234);
	/* unaligned or past the BAR: not forwarded, reads all ones */
	assert_int_equal(bar_rd(0, 0x11, 4), 0xFFFFFFFF);
	assert_int_equal(bar_rd(0, 128 * KiB - 4, 8), ~0ull);
	bar_wr(4, MiB, 4, 0);
	assert_int_equal(h.nr_acc, 3);
}

static void pages_mapped_straight_in(void **state)
{
	(void)state;
	assert_false(passthru_page_direct(&p, 3, 0));	   /* the table */
	assert_false(passthru_page_direct(&p, 3, 0x2010)); /* the PBA */
	assert_true(passthru_page_direct(&p, 3, 0x1000));
	assert_true(passthru_page_direct(&p, 3, 0x3FFF));
	assert_false(passthru_page_direct(&p, 3, 0x4000));
	for (uint64_t off = 0; off < 128 * KiB; off += 4096)
		assert_true(passthru_page_direct(&p, 0, off));
	assert_true(passthru_page_direct(&p, 4, MiB - 4096));
	assert_false(passthru_page_direct(&p, 2, 0)); /* I/O, hidden */
	assert_false(passthru_page_direct(&p, 5, 0)); /* the upper half */
	assert_false(passthru_page_direct(&p, 6, 0));
	assert_false(passthru_page_direct(&p, 0, ~0ull));
}

static void small_bar_shown_as_a_page(void **state)
{
	(void)state;
	host_setup();
	bars[0].size = 256;
	assert_int_equal(passthru_init(&p, &ops, &h, bars, why, sizeof(why)), 0);
	assert_int_equal(size_bar(PCI_BAR0), 0xFFFFF000);
	/* the page holds whatever else the host put there: trapped, the rest never forwarded */
	assert_false(passthru_page_direct(&p, 0, 0));
	bar_rd(0, 0xFC, 4);
	assert_int_equal(h.nr_acc, 1);
	assert_int_equal(bar_rd(0, 0x100, 4), 0xFFFFFFFF);
	assert_int_equal(bar_rd(0, 0xFF8, 8), ~0ull);
	assert_int_equal(h.nr_acc, 1);
}

static void no_msg(void *ctx, const struct pci_msg *m)
{
	(void)ctx, (void)m;
	fail(); /* a passed-through function's messages are the host's, never pci_dev's */
}

static void decoding_reported(void **state)
{
	(void)state;
	static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
						       .mmio_base = GUEST_PCI_MMIO32_BASE,
						       .mmio_end = GUEST_PCI_MMIO32_END,
						       .io_base = GUEST_PCI_IO_BASE,
						       .io_end = GUEST_PCI_IO_END };
	static struct fake_vm vm;
	static struct io_bus io;
	static struct mmio_bus mmio;
	static struct pci_bus bus;
	fake_vm_init(&vm);
	io_bus_init(&io, &vm.env);
	mmio_bus_init(&mmio, &vm.env);
	assert_int_equal(pci_bus_init(&bus, &vm.env, &io, &mmio, &windows, no_msg, NULL), 0);
	assert_int_equal(pci_bus_plug(&bus, 2, &p.dev), 0);
	assert_int_equal(pci_bus_assign(&bus), 0);
	assert_true(h.memory); /* firmware turned memory decoding on */
	assert_int_equal(h.nr_dec, 3);
	for (unsigned i = 0; i < 3; i++) {
		unsigned n = h.dec[i].bar;
		assert_true(h.dec[i].on);
		assert_int_equal(h.dec[i].gpa, p.dev.bars[n].addr);
		assert_int_equal(h.dec[i].size, p.dev.bars[n].size);
		assert_true(p.dev.bars[n].addr >= GUEST_PCI_MMIO32_BASE);
	}
	/* the guest's accesses there reach the host function */
	uint64_t v;
	assert_int_equal(mmio_bus_read(&mmio, p.dev.bars[0].addr + 0x20, 4, &v), 0);
	assert_int_equal(h.acc[0].bar, 0);
	assert_int_equal(h.acc[0].off, 0x20);
	/* moved: off at the old place, then on at the new */
	uint64_t old = p.dev.bars[3].addr, to = GUEST_PCI_MMIO32_BASE + 0x10000000;
	h.nr_dec = 0;
	wr(PCI_BAR0 + 12, 4, (uint32_t)to);
	assert_int_equal(h.nr_dec, 2);
	assert_int_equal(h.dec[0].bar, 3);
	assert_false(h.dec[0].on);
	assert_int_equal(h.dec[0].gpa, old);
	assert_true(h.dec[1].on);
	assert_int_equal(h.dec[1].gpa, to);
	/* moved outside the windows: off only */
	h.nr_dec = 0;
	wr(PCI_BAR0 + 12, 4, 0x1000);
	assert_int_equal(h.nr_dec, 1);
	assert_false(h.dec[0].on);
	/* decoding off: everything off; a reset too, with nothing on after it but firmware's */
	wr(PCI_BAR0 + 12, 4, (uint32_t)to);
	h.nr_dec = 0;
	wr(PCI_COMMAND, 2, 0);
	assert_int_equal(h.nr_dec, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_false(h.dec[i].on);
	h.nr_dec = 0;
	passthru_reset(&p);
	assert_int_equal(h.nr_dec, 0);
	assert_int_equal(h.cfg_writes, 0);
}

/* ---- a hostile host ---- */

static void refused(const char *expect)
{
	why[0] = 0;
	if (passthru_init(&p, &ops, &h, bars, why, sizeof(why)) != -1)
		fail_msg("accepted, expected \"%s\"", expect);
	if (!strstr(why, expect))
		fail_msg("why: \"%s\", expected \"%s\"", why, expect);
}

static void capability_loops_and_bad_pointers(void **state)
{
	(void)state;
	/* a loop back to the first capability: the walk ends, MSI and MSI-X are found */
	put32(0xA0, 0x0002 << 16 | 0x40 << 8 | 0x10);
	assert_int_equal(passthru_init(&p, &ops, &h, bars, why, sizeof(why)), 0);
	assert_true(h.cfg_reads < 64);
	assert_int_equal(passthru_msix_vectors(&p), 5);
	/* a capability pointing at itself */
	host_setup();
	put32(0x40, 0x0003 << 16 | 0x40 << 8 | 0x01);
	refused("neither MSI nor MSI-X");
	/* pointers with the reserved low bits set, into the header, past 0xFF */
	host_setup();
	h.cfg[0x34] = 0x53; /* 0x50 */
	put32(0x70, 0x0004u << 16 | 0x23 << 8 | PCI_CAP_MSIX);
	assert_int_equal(passthru_init(&p, &ops, &h, bars, why, sizeof(why)), 0);
	assert_int_equal(passthru_msix_vectors(&p), 5);
	host_setup();
	put32(0x50, 0x0080 << 16 | 0xFF << 8 | PCI_CAP_MSI);
	put32(0xFC, 0x0004u << 16 | 0x00 << 8 | PCI_CAP_MSIX);
	refused("runs past");
	/* no capability list bit: none looked at */
	host_setup();
	put32(0x04, 0);
	refused("neither MSI nor MSI-X");
	/* every dword a capability pointing to the next, the last back to the first */
	host_setup();
	for (unsigned at = 0x40; at < 0x100; at += 4)
		put32(at, (at == 0xFC ? 0x40 : at + 4) << 8 | 0x01);
	put32(0x80, 0x84 << 8 | PCI_CAP_MSI);
	assert_int_equal(passthru_init(&p, &ops, &h, bars, why, sizeof(why)), 0);
	assert_true(h.cfg_reads < 64 + 8);
	assert_int_equal(passthru_msix_vectors(&p), 0);
	assert_int_not_equal(p.dev.msi_cap, 0);
}

static void msix_table_hostile(void **state)
{
	(void)state;
	/* 2048 vectors: 64 shown, the whole host table and PBA trapped */
	put32(0x70, 0x07FFu << 16 | 0xA0 << 8 | PCI_CAP_MSIX);
	put32(0x78, 0x8000 | 3);
	bars[3].size = 64 * KiB;
	assert_int_equal(passthru_init(&p, &ops, &h, bars, why, sizeof(why)), 0);
	assert_int_equal(passthru_msix_vectors(&p), PCI_MSIX_MAX_VECTORS);
	assert_int_equal(rd(p.dev.msix_cap + 2, 2), PCI_MSIX_MAX_VECTORS - 1);
	bar_wr(3, 100 * 16, 4, 0xFEE00000); /* an entry not shown */
	assert_int_equal(bar_rd(3, 100 * 16, 4), 0);
	assert_int_equal(bar_rd(3, 0x8000 + 0xF8, 8), 0); /* the host PBA's last qword */
	assert_int_equal(h.nr_acc, 0);
	for (uint64_t off = 0; off < 0x9000; off += 4096)
		assert_false(passthru_page_direct(&p, 3, off));
	assert_true(passthru_page_direct(&p, 3, 0x9000));
	bar_rd(3, 0x8100, 4);
	assert_int_equal(h.nr_acc, 1);
	/* ... but 2048 vectors do not fit 16 KiB */
	bars[3].size = 16 * KiB;
	refused("does not fit");
	/* table and PBA overlapping; PBA elsewhere; a BIR of 7; the I/O BAR; upper half */
	host_setup();
	put32(0x78, 0x0040 | 3);
	refused("does not fit");
	host_setup();
	put32(0x78, 0x2000 | 0);
	refused("not supported");
	host_setup();
	put32(0x74, 7);
	put32(0x78, 7);
	refused("not a memory BAR");
	host_setup();
	put32(0x74, 2);
	put32(0x78, 0x2000 | 2);
	refused("not a memory BAR");
	host_setup();
	put32(0x74, 5);
	put32(0x78, 0x2000 | 5);
	refused("not a memory BAR");
	host_setup();
	put32(0x74, 0xFFFFFFF8 | 3);
	refused("does not fit");
}

static void functions_refused(void **state)
{
	(void)state;
	put32(0x00, 0xFFFFFFFF);
	refused("no function");
	host_setup();
	put32(0x0C, 0x00010000);
	refused("header type 1");
	host_setup();
	memset(bars, 0, sizeof(bars));
	bars[2] = (struct passthru_bar_info){ PCI_BAR_IO, false, 32 };
	refused("no memory BAR");
	host_setup();
	bars[5] = (struct passthru_bar_info){ PCI_BAR_MEM64, false, MiB };
	assert_int_equal(passthru_init(&p, &ops, &h, bars, why, sizeof(why)), 0); /* BAR 4's half */
	bars[4].kind = PCI_BAR_NONE;
	refused("BAR 5");
	host_setup();
	bars[0].size = 3 * 4096;
	refused("BAR 0");
	host_setup();
	bars[0].size = 2 * GiB;
	refused("BAR 0");
	host_setup();
	bars[1] = (struct passthru_bar_info){ (enum pci_bar_kind)9, false, 4096 };
	refused("unknown kind");
	assert_int_equal(h.cfg_writes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(ids_copied, setup),
		cmocka_unit_test_setup(bars_sized_like_the_host, setup),
		cmocka_unit_test_setup(only_keels_capabilities, setup),
		cmocka_unit_test_setup(config_writes_never_reach_the_host, setup),
		cmocka_unit_test_setup(command_bits_mirrored, setup),
		cmocka_unit_test_setup(msi_virtual_and_told, setup),
		cmocka_unit_test_setup(msix_table_stays_virtual, setup),
		cmocka_unit_test_setup(pba_shows_host_pending_of_masked_vectors, setup),
		cmocka_unit_test_setup(pba_dwords_agree, setup),
		cmocka_unit_test_setup(other_offsets_forwarded, setup),
		cmocka_unit_test_setup(pages_mapped_straight_in, setup),
		cmocka_unit_test_setup(small_bar_shown_as_a_page, setup),
		cmocka_unit_test_setup(decoding_reported, setup),
		cmocka_unit_test_setup(capability_loops_and_bad_pointers, setup),
		cmocka_unit_test_setup(msix_table_hostile, setup),
		cmocka_unit_test_setup(functions_refused, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
