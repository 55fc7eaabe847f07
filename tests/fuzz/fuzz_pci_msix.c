/* MSI-X of a host PCI function (drivers/pci_msix.c) over a config space and BARs the fuzzer makes
 * up: what a function reports is untrusted input.
 *
 * Input: byte 0 the number of BARs (mod 7); bytes 1-12 two per BAR: its kind (bits 2:0, mod 5),
 * whether keel mapped it (bit 3), and log2 of its size (mod 17, so at most 64 KiB); byte 13 how many
 * entries to enable (mod 40), byte 14 an entry to program alone, then the 256 bytes of config
 * space (zeros past the input's end). A mapped BAR's base is a buffer of 64 KiB; an unmapped one's
 * an address the code must never touch.
 *
 * Checked: the capability walk ends and names a dword at or above 0x40 holding the ID asked for;
 * an opened table and PBA lie inside their BAR's size; enabling writes only the command register
 * (never a status bit), the MSI and MSI-X capabilities' Message Control (never their read-only
 * low half), leaves INTx disabled, MSI-X enabled without Function Mask, entries 0..nr-1 holding
 * their messages and unmasked, every other entry masked; disabling clears Enable. */
#include "drivers/pci_msix.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PRE_LEN 15
#define BUF_SIZE 0x10000
#define MAX_MSGS 40

static uint8_t buf[PCI_HOST_MAX_BARS][BUF_SIZE] __attribute__((aligned(4096)));

static struct pci_func fn; /* only its BARs matter here */
static struct pci_host_bar *const bars = fn.bar;

static struct {
	uint32_t cfg[64];
	uint16_t msi_cap; /* 0: none */
	uint16_t msix_cap;
} fs;

static uint32_t rd(void *ctx, uint16_t reg)
{
	(void)ctx;
	if (reg % 4 || reg >= 0x100)
		abort();
	return fs.cfg[reg / 4];
}

static void wr(void *ctx, uint16_t reg, uint32_t v)
{
	(void)ctx;
	if (reg % 4 || reg >= 0x100)
		abort();
	if (reg == PCIH_COMMAND) {
		if (v >> 16)
			abort(); /* would clear a status bit (RW1C) */
		fs.cfg[1] = (fs.cfg[1] & 0xFFFF0000u) | v;
		return;
	}
	if ((reg != fs.msi_cap || !fs.msi_cap) && reg != fs.msix_cap)
		abort();
	if ((v & 0xFFFFu) != (fs.cfg[reg / 4] & 0xFFFFu))
		abort(); /* the ID and next pointer are read-only: written back as read */
	fs.cfg[reg / 4] = v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Whether [p, p + len) lies inside BAR bir's size. */
static bool in_bar(unsigned bir, const volatile void *p, uint64_t len)
{
	uintptr_t a = (uintptr_t)p;

	return a >= bars[bir].base && range_within(a - bars[bir].base, len, bars[bir].size);
}

static uint32_t ent(const struct pci_msix *m, unsigned i, unsigned dw)
{
	return m->table[(size_t)i * 4 + dw];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_msix_msg msgs[MAX_MSGS];
	const struct pci_msix_cfg cfg = { NULL, rd, wr };
	struct pci_msix m;
	unsigned nr_bars, nr_msgs;
	uint8_t cfg_bytes[256] = { 0 };
	int err;

	if (size < PRE_LEN)
		return 0;
	memset(&fs, 0, sizeof(fs));
	memset(&fn, 0, sizeof(fn));
	nr_bars = data[0] % (PCI_HOST_MAX_BARS + 1);
	for (unsigned i = 0; i < PCI_HOST_MAX_BARS; i++) {
		uint8_t k = data[1 + 2 * i], s = data[2 + 2 * i];

		bars[i].kind = (uint8_t)((k & 7) % 5);
		bars[i].mapped = k & 8;
		bars[i].size = 1ull << (s % 17);
		bars[i].base = bars[i].mapped ? (uintptr_t)buf[i] : 0xFEB00000ull + i * 0x10000ull;
	}
	nr_msgs = data[13] % MAX_MSGS;
	memcpy(cfg_bytes, data + PRE_LEN, MIN(size - PRE_LEN, sizeof(cfg_bytes)));
	for (unsigned i = 0; i < 64; i++)
		fs.cfg[i] = le32(cfg_bytes + 4 * i);

	uint16_t off = 0;
	if (pci_cap_find(&cfg, PCI_CAP_ID_MSI, &off) == PCI_MSIX_OK) {
		if (off < 0x40 || off >= 0x100 || off % 4 ||
		    (fs.cfg[off / 4] & 0xFF) != PCI_CAP_ID_MSI)
			abort();
		fs.msi_cap = off;
	}
	err = pci_msix_open(&m, &cfg, bars, nr_bars);
	if (err) {
		if (err > 0 || err < PCI_MSIX_E_DECODE || !pci_msix_err_name(err)[0])
			abort();
		return 0;
	}
	fs.msix_cap = m.cap;
	if (m.cap < 0x40 || m.cap + 12 > 0x100 || m.cap % 4 ||
	    (fs.cfg[m.cap / 4] & 0xFF) != PCI_CAP_ID_MSIX || m.nr_entries < 1 ||
	    m.nr_entries > PCI_MSIX_MAX_ENTRIES || m.table_bir >= nr_bars || m.pba_bir >= nr_bars ||
	    !bars[m.table_bir].mapped || !bars[m.pba_bir].mapped ||
	    !in_bar(m.table_bir, m.table, (uint64_t)m.nr_entries * PCI_MSIX_ENTRY_SIZE) ||
	    !in_bar(m.pba_bir, m.pba, ((uint64_t)m.nr_entries + 63) / 64 * 8))
		abort();

	for (unsigned i = 0; i < nr_msgs; i++)
		msgs[i] = (struct pci_msix_msg){ 0xFEE00000ull | (uint64_t)i << 12, 0x40 + i };
	err = pci_msix_enable(&m, msgs, nr_msgs);
	if (err == PCI_MSIX_OK) {
		uint32_t mc = fs.cfg[m.cap / 4] >> 16;

		if (!(mc & (1u << 15)) || (mc & (1u << 14)) ||
		    !(fs.cfg[1] & PCIH_CMD_INTX_DISABLE) ||
		    (fs.msi_cap && (fs.cfg[fs.msi_cap / 4] & (1u << 16))))
			abort();
		for (unsigned i = 0; i < m.nr_entries; i++) {
			bool masked = ent(&m, i, 3) & 1;

			if (i < nr_msgs
				    ? masked || ent(&m, i, 0) != (uint32_t)msgs[i].addr ||
					      ent(&m, i, 1) != 0 || ent(&m, i, 2) != msgs[i].data
				    : !masked)
				abort();
		}
		pci_msix_disable(&m);
		if (fs.cfg[m.cap / 4] & (1u << 31))
			abort();
	} else if (err != PCI_MSIX_E_INVAL && err != PCI_MSIX_E_DECODE) {
		abort();
	}
	struct pci_msix_msg one = { 0xFEE01000ull, 0xED };
	unsigned i = data[14] * 9u;
	if ((pci_msix_set_entry(&m, i, &one) == PCI_MSIX_OK) != (i < m.nr_entries))
		abort();
	(void)pci_msix_pending(&m, i);
	(void)pci_msix_mask_entry(&m, i, true);
	return 0;
}
