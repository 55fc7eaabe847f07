/* MSI-X handling of host PCI functions (drivers/pci_msix.c) against a fake config space and a
 * buffer standing in for the memory BAR: the capability walk over good and hostile lists, the
 * table and PBA checked against the BARs, entries programmed, the enable and disable order; and
 * the MSI message keel's vector uses (arch/x86/apic.h).
 *
 * The fake models what the code may rely on: the capability's ID and next pointer are read-only,
 * the status register is RW1C. It logs every config write, in order, and counts as bad a write
 * that would clear a status bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "arch/x86/apic.h"
#include "drivers/pci_msix.h"
#include "lib/kstring.h"

#define BAR0_SIZE 0x10000 /* room for a 2048-entry table (32 KiB) and its PBA */
#define BAR4_SIZE 0x1000
#define STATUS_CAP_LIST (1u << 20)
#define MC_FMASK (1u << 14)
#define MC_ENABLE (1u << 15)
#define MAX_LOG 64

static uint8_t bar0[BAR0_SIZE] __attribute__((aligned(4096)));
static uint8_t bar4[BAR4_SIZE] __attribute__((aligned(4096)));

static struct {
	uint32_t cfg[64];
	unsigned bad, nr_log;
	struct {
		uint16_t reg;
		uint32_t v;
	} log[MAX_LOG];
} fake;

/* the function as enumeration left it: only its BARs matter here */
static struct pci_func fn;
static struct pci_msix msix;

static uint32_t cfg_read(void *ctx, uint16_t reg)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(reg % 4 == 0 && reg < 0x100);
	return fake.cfg[reg / 4];
}

/* Whether reg is the first dword of a capability (its low half is read-only). */
static bool is_cap(uint16_t reg)
{
	uint8_t p = fake.cfg[0x34 / 4] & 0xFC;

	for (unsigned n = 0; p >= 0x40 && n < 48; n++, p = (fake.cfg[p / 4] >> 8) & 0xFC)
		if (p == reg)
			return true;
	return false;
}

static void cfg_write(void *ctx, uint16_t reg, uint32_t v)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(reg % 4 == 0 && reg < 0x100);
	if (fake.nr_log < MAX_LOG)
		fake.log[fake.nr_log++] = (typeof(fake.log[0])){ reg, v };
	if (reg == PCIH_COMMAND) {
		if (v >> 16)
			fake.bad++; /* a 1 would clear a status bit */
		fake.cfg[1] = (fake.cfg[1] & 0xFFFF0000u) | (v & 0xFFFFu);
	} else if (is_cap(reg)) {
		fake.cfg[reg / 4] = (fake.cfg[reg / 4] & 0xFFFFu) | (v & 0xFFFF0000u);
	} else {
		fake.cfg[reg / 4] = v;
	}
}

static const struct pci_msix_cfg cfg = { &fake, cfg_read, cfg_write };

/* A capability of that ID at off, pointing to next. */
static void cap(uint8_t off, uint8_t id, uint8_t next, uint16_t mc)
{
	fake.cfg[off / 4] = (uint32_t)mc << 16 | (uint32_t)next << 8 | id;
}

/* An MSI-X capability at off: N entries, table and PBA as BIR | offset. */
static void msix_cap(uint8_t off, uint8_t next, unsigned n, uint32_t table, uint32_t pba)
{
	cap(off, PCI_CAP_ID_MSIX, next, (uint16_t)(n - 1));
	fake.cfg[off / 4 + 1] = table;
	fake.cfg[off / 4 + 2] = pba;
}

/* An NVMe-like function: memory decoding and bus mastering on, INTx still enabled, a list of
 * power management (0x40) -> MSI (0x50) -> MSI-X (0x70, 32 entries, table at BAR 0 + 0x2000,
 * PBA at BAR 0 + 0x3000). BARs: 0-1 a mapped 64-bit BAR, 2 I/O, 3 an unmapped 32-bit one, 4 a
 * small mapped one, 5 none. */
static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	memset(&msix, 0, sizeof(msix));
	memset(bar0, 0, sizeof(bar0));
	memset(bar4, 0, sizeof(bar4));
	fake.cfg[0] = 0x5845 << 16 | 0x1B36;
	fake.cfg[1] = STATUS_CAP_LIST | PCIH_CMD_MEM | PCIH_CMD_BUS_MASTER;
	fake.cfg[2] = 0x01080200; /* NVMe */
	fake.cfg[0x34 / 4] = 0x40;
	cap(0x40, 0x01, 0x50, 0x0003);
	cap(0x50, PCI_CAP_ID_MSI, 0x70, 0x0080);
	msix_cap(0x70, 0x00, 32, 0x2000 | 0, 0x3000 | 0);
	memset(&fn, 0, sizeof(fn));
	fn.nr_bars = PCI_HOST_MAX_BARS;
	fn.bar[0] =
		(struct pci_host_bar){ PCI_HBAR_MEM64, false, (uintptr_t)bar0, BAR0_SIZE, true };
	fn.bar[2] = (struct pci_host_bar){ PCI_HBAR_IO, false, 0xC000, 0x100, false };
	fn.bar[3] = (struct pci_host_bar){ PCI_HBAR_MEM32, false, 0xFEB00000, 0x1000, false };
	fn.bar[4] =
		(struct pci_host_bar){ PCI_HBAR_MEM32, false, (uintptr_t)bar4, BAR4_SIZE, true };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(fake.bad, 0);
	return 0;
}

static int open_msix(void)
{
	return pci_msix_open(&msix, &cfg, fn.bar, fn.nr_bars);
}

static uint32_t *entry(uint8_t *bar, uint32_t table_off, unsigned i)
{
	return (uint32_t *)(void *)(bar + table_off + (size_t)i * PCI_MSIX_ENTRY_SIZE);
}

static void good_capability(void **state)
{
	uint16_t off = 0;
	(void)state;

	assert_int_equal(pci_cap_find(&cfg, PCI_CAP_ID_MSI, &off), PCI_MSIX_OK);
	assert_int_equal(off, 0x50);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(msix.cap, 0x70);
	assert_int_equal(msix.nr_entries, 32);
	assert_int_equal(msix.table_bir, 0);
	assert_int_equal(msix.table_off, 0x2000);
	assert_int_equal(msix.pba_off, 0x3000);
	assert_ptr_equal(msix.table, (void *)(bar0 + 0x2000));
	assert_ptr_equal(msix.pba, (void *)(bar0 + 0x3000));
	assert_int_equal(fake.nr_log, 0); /* opening only reads */
	/* the reserved low bits of a pointer are masked (PCI 3.0, 6.7) */
	fake.cfg[0x34 / 4] = 0x43;
	cap(0x40, 0x01, 0x52, 0);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	/* table and PBA in different BARs; Enable and Function Mask already set change nothing */
	msix_cap(0x70, 0, 32, 0xE00 | 4, 0x100 | 0);
	fake.cfg[0x70 / 4] |= (MC_ENABLE | MC_FMASK) << 16;
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(msix.nr_entries, 32);
	assert_ptr_equal(msix.table, (void *)(bar4 + 0xE00));
	assert_ptr_equal(msix.pba, (void *)(bar0 + 0x100));
	assert_string_equal(pci_msix_err_name(PCI_MSIX_OK), "ok");
}

static void no_capability(void **state)
{
	(void)state;
	/* no capability list: status bit 4 clear */
	fake.cfg[1] &= ~STATUS_CAP_LIST;
	assert_int_equal(open_msix(), PCI_MSIX_E_NO_CAP);
	fake.cfg[1] |= STATUS_CAP_LIST;
	/* a list without MSI-X */
	cap(0x50, PCI_CAP_ID_MSI, 0x00, 0);
	assert_int_equal(open_msix(), PCI_MSIX_E_NO_CAP);
	/* an empty list */
	fake.cfg[0x34 / 4] = 0;
	assert_int_equal(open_msix(), PCI_MSIX_E_NO_CAP);
	/* a CardBus bridge keeps its list elsewhere */
	fake.cfg[0x34 / 4] = 0x40;
	cap(0x50, PCI_CAP_ID_MSI, 0x70, 0);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	fake.cfg[PCIH_HEADER_DWORD / 4] = 0x02 << 16;
	assert_int_equal(open_msix(), PCI_MSIX_E_NO_CAP);
	assert_string_equal(pci_msix_err_name(PCI_MSIX_E_NO_CAP), "no MSI-X capability");
}

static void list_loops(void **state)
{
	(void)state;
	/* 0x40 -> 0x50 -> 0x40 */
	cap(0x50, PCI_CAP_ID_MSI, 0x40, 0);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_LIST);
	/* a capability pointing at itself, through the masked low bits */
	cap(0x40, 0x01, 0x42, 0);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_LIST);
	/* a list of all ones: 0xFC points at itself */
	memset(&fake.cfg[0x40 / 4], 0xFF, 0xC0);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_LIST);
	/* a function that is gone reads all ones: header type 0x7F has no list at 0x34 */
	memset(fake.cfg, 0xFF, sizeof(fake.cfg));
	assert_int_equal(open_msix(), PCI_MSIX_E_NO_CAP);
	assert_int_equal(fake.nr_log, 0);
}

static void pointers_into_header(void **state)
{
	(void)state;
	fake.cfg[0x34 / 4] = 0x3C;
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_LIST);
	fake.cfg[0x34 / 4] = 0x40;
	cap(0x50, PCI_CAP_ID_MSI, 0x10, 0); /* into the BARs */
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_LIST);
	cap(0x50, PCI_CAP_ID_MSI, 0x03, 0); /* 0 after masking: the end of the list */
	assert_int_equal(open_msix(), PCI_MSIX_E_NO_CAP);
}

/* 48 capabilities fill every dword from 0x40: the longest list there can be without a loop. */
static void longest_list(void **state)
{
	(void)state;
	for (unsigned off = 0x40; off < 0x100; off += 4)
		cap((uint8_t)off, 0x09, (uint8_t)(off + 4 < 0x100 ? off + 4 : 0), 0);
	assert_int_equal(open_msix(), PCI_MSIX_E_NO_CAP);
	/* MSI-X as the last one: its table and PBA dwords would be past config space */
	cap(0xFC, PCI_CAP_ID_MSIX, 0, 31);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_CAP);
	cap(0xFC, 0x09, 0, 0);
	cap(0xF8, PCI_CAP_ID_MSIX, 0xFC, 31);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_CAP);
	/* at 0xF4 it fits, after 45 others */
	cap(0xF8, 0x09, 0xFC, 0);
	msix_cap(0xF4, 0xF8, 32, 0x2000, 0x3000);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(msix.cap, 0xF4);
	/* and the 48th is still walked when nothing loops */
	cap(0xF4, 0x09, 0xF8, 0);
	cap(0xF8, 0x09, 0xFC, 0);
	cap(0xFC, PCI_CAP_ID_MSI, 0, 0);
	uint16_t off = 0;
	assert_int_equal(pci_cap_find(&cfg, PCI_CAP_ID_MSI, &off), PCI_MSIX_OK);
	assert_int_equal(off, 0xFC);
}

static void bad_bir(void **state)
{
	static const uint32_t birs[] = {
		1, /* the upper half of BAR 0 */
		2, /* I/O */
		3, /* not mapped */
		5, /* not implemented */
		6, /* reserved */
		7, /* reserved */
	};
	(void)state;

	for (unsigned i = 0; i < ARRAY_SIZE(birs); i++) {
		msix_cap(0x70, 0, 32, 0x0 | birs[i], 0x3000);
		assert_int_equal(open_msix(), PCI_MSIX_E_BAD_BIR);
		msix_cap(0x70, 0, 32, 0x2000, 0x0 | birs[i]);
		assert_int_equal(open_msix(), PCI_MSIX_E_BAD_BIR);
	}
	/* BAR 4 is fine, unless the function has only two BARs (a bridge) */
	msix_cap(0x70, 0, 32, 0x0 | 4, 0x3000);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(pci_msix_open(&msix, &cfg, fn.bar, 2), PCI_MSIX_E_BAD_BIR);
	/* a mapped BAR at 0 or of size 0 is refused too */
	fn.bar[4].size = 0;
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_BIR);
	fn.bar[4].size = BAR4_SIZE;
	fn.bar[4].base = 0;
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_BIR);
	fn.bar[4].base = ~0ull - 0x7FF; /* wraps */
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_BIR);
}

static void table_past_bar(void **state)
{
	(void)state;
	/* 32 entries are 512 bytes: 0xE00 ends at BAR 4's end, 0xE08 goes past */
	msix_cap(0x70, 0, 32, 0xE00 | 4, 0x3000);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	msix_cap(0x70, 0, 32, 0xE08 | 4, 0x3000);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	msix_cap(0x70, 0, 32, 0xFFFFFFF8u | 4, 0x3000);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	/* the PBA: 32 entries take one QWORD */
	msix_cap(0x70, 0, 32, 0x2000, 0xFF8 | 4);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	msix_cap(0x70, 0, 65, 0x2000, 0xFF8 | 4); /* 65 take two */
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	msix_cap(0x70, 0, 32, 0x2000, 0x1000 | 4);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	/* table and PBA overlapping in one BAR */
	msix_cap(0x70, 0, 32, 0x2000, 0x21F8);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	msix_cap(0x70, 0, 65, 0x2000, 0x1FF8); /* 16 bytes of PBA from 0x1FF8 */
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	/* right after the table, right before it: fine */
	msix_cap(0x70, 0, 32, 0x2000, 0x2200);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	msix_cap(0x70, 0, 32, 0x2000, 0x1FF8);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	/* a table offset's low 3 bits are the BIR: an offset is always QWORD aligned */
	msix_cap(0x70, 0, 32, 0x2008 | 0, 0x3000);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(msix.table_off, 0x2008);
}

/* Table Size 0x7FF: 2048 entries, 32 KiB of table and 256 bytes of PBA. */
static void table_2048_entries(void **state)
{
	(void)state;
	msix_cap(0x70, 0, 2048, 0x0000, 0x8000);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(msix.nr_entries, PCI_MSIX_MAX_ENTRIES);
	/* reserved bits 13:11 do not count */
	fake.cfg[0x70 / 4] |= 0x3800u << 16;
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(msix.nr_entries, PCI_MSIX_MAX_ENTRIES);
	msix_cap(0x70, 0, 2048, 0x9000, 0x0);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	msix_cap(0x70, 0, 2048, 0x0000, 0xFF08);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE); /* the PBA's 256 bytes do not fit */
	msix_cap(0x70, 0, 2048, 0x8000, 0x0000);
	assert_int_equal(open_msix(), PCI_MSIX_OK); /* the table ends where the BAR does */
	msix_cap(0x70, 0, 2048, 0x0000, 0xFF00);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	/* and in the small BAR, never */
	msix_cap(0x70, 0, 2048, 0x0 | 4, 0xFF00);
	assert_int_equal(open_msix(), PCI_MSIX_E_BAD_RANGE);
	/* the last entry is reachable and nothing past it */
	msix_cap(0x70, 0, 2048, 0x0000, 0x8000);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	struct pci_msix_msg msg = { 0xFEE00000u, 0x41 };
	assert_int_equal(pci_msix_set_entry(&msix, 2047, &msg), PCI_MSIX_OK);
	assert_int_equal(entry(bar0, 0, 2047)[2], 0x41);
	assert_int_equal(pci_msix_set_entry(&msix, 2048, &msg), PCI_MSIX_E_INVAL);
	assert_int_equal(bar0[0x8000], 0);
}

static void program_entry(void **state)
{
	uint32_t *e;
	(void)state;

	assert_int_equal(open_msix(), PCI_MSIX_OK);
	e = entry(bar0, 0x2000, 3);
	e[3] = 0xABCD0001; /* masked, reserved bits set: they must stay */
	struct pci_msix_msg msg = { 0x1FEE01000ull, 0xED };
	assert_int_equal(pci_msix_set_entry(&msix, 3, &msg), PCI_MSIX_OK);
	assert_int_equal(e[0], 0xFEE01000u);
	assert_int_equal(e[1], 0x1);
	assert_int_equal(e[2], 0xED);
	assert_int_equal(e[3], 0xABCD0000u);
	assert_int_equal(pci_msix_mask_entry(&msix, 3, true), PCI_MSIX_OK);
	assert_int_equal(e[3], 0xABCD0001u);
	assert_int_equal(pci_msix_mask_entry(&msix, 3, false), PCI_MSIX_OK);
	assert_int_equal(e[3], 0xABCD0000u);
	/* past the table, or an address that is not dword aligned */
	assert_int_equal(pci_msix_set_entry(&msix, 32, &msg), PCI_MSIX_E_INVAL);
	assert_int_equal(pci_msix_mask_entry(&msix, 32, true), PCI_MSIX_E_INVAL);
	msg.addr = 0xFEE00002;
	assert_int_equal(pci_msix_set_entry(&msix, 0, &msg), PCI_MSIX_E_INVAL);
	assert_int_equal(entry(bar0, 0x2000, 0)[0], 0);
	assert_int_equal(entry(bar0, 0x2000, 32)[0], 0); /* the dword after the table */
	assert_int_equal(fake.nr_log, 0);		 /* the table is memory, not config */
}

static void enable_order(void **state)
{
	struct pci_msix_msg msg;
	(void)state;

	assert_true(host_msi_message(0, HOST_DEVICE_VECTOR, &msg.addr, &msg.data));
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	fake.cfg[1] |= 1u << 27;	/* a status bit (RW1C) that a write must not clear */
	fake.cfg[0x50 / 4] |= 1u << 16; /* MSI on, as firmware might leave it */
	for (unsigned i = 0; i < 32; i++)
		entry(bar0, 0x2000, i)[3] = 0; /* unmasked garbage from before */
	assert_int_equal(pci_msix_enable(&msix, &msg, 1), PCI_MSIX_OK);
	/* INTx off (status written 0), MSI off, Enable with Function Mask, then Function Mask off */
	assert_int_equal(fake.nr_log, 4);
	assert_int_equal(fake.log[0].reg, PCIH_COMMAND);
	assert_int_equal(fake.log[0].v, PCIH_CMD_MEM | PCIH_CMD_BUS_MASTER | PCIH_CMD_INTX_DISABLE);
	assert_int_equal(fake.log[1].reg, 0x50);
	assert_int_equal(fake.log[1].v & (1u << 16), 0);
	assert_int_equal(fake.log[2].reg, 0x70);
	assert_int_equal(fake.log[2].v >> 16, MC_ENABLE | MC_FMASK | 31);
	assert_int_equal(fake.log[3].reg, 0x70);
	assert_int_equal(fake.log[3].v >> 16, MC_ENABLE | 31);
	assert_int_equal(fake.cfg[0x70 / 4], (uint32_t)(MC_ENABLE | 31) << 16 | PCI_CAP_ID_MSIX);
	assert_true(fake.cfg[1] & STATUS_CAP_LIST);
	/* entry 0 sends keel's vector to APIC 0, unmasked; every other one is masked */
	assert_int_equal(entry(bar0, 0x2000, 0)[0], 0xFEE00000u);
	assert_int_equal(entry(bar0, 0x2000, 0)[1], 0);
	assert_int_equal(entry(bar0, 0x2000, 0)[2], HOST_DEVICE_VECTOR);
	assert_int_equal(entry(bar0, 0x2000, 0)[3], 0);
	for (unsigned i = 1; i < 32; i++)
		assert_int_equal(entry(bar0, 0x2000, i)[3], 1);

	/* disable: Enable cleared, nothing else; INTx stays off */
	fake.nr_log = 0;
	pci_msix_disable(&msix);
	assert_int_equal(fake.nr_log, 1);
	assert_int_equal(fake.cfg[0x70 / 4] >> 16, 31);
	assert_true(fake.cfg[1] & PCIH_CMD_INTX_DISABLE);

	/* again, INTx and MSI already off: only the two Message Control writes */
	fake.nr_log = 0;
	assert_int_equal(pci_msix_enable(&msix, &msg, 1), PCI_MSIX_OK);
	assert_int_equal(fake.nr_log, 2);
	assert_int_equal(fake.log[0].reg, 0x70);
	assert_int_equal(fake.log[1].reg, 0x70);
}

static void enable_refused(void **state)
{
	struct pci_msix_msg msgs[33];
	(void)state;

	for (unsigned i = 0; i < ARRAY_SIZE(msgs); i++)
		msgs[i] = (struct pci_msix_msg){ 0xFEE00000u, 0x40 + i };
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	assert_int_equal(pci_msix_enable(&msix, msgs, 33), PCI_MSIX_E_INVAL);
	msgs[5].addr |= 1;
	assert_int_equal(pci_msix_enable(&msix, msgs, 8), PCI_MSIX_E_INVAL);
	msgs[5].addr &= ~1ull;
	fake.cfg[1] &= ~PCIH_CMD_MEM;
	assert_int_equal(pci_msix_enable(&msix, msgs, 8), PCI_MSIX_E_DECODE);
	assert_int_equal(fake.nr_log, 0); /* nothing written on an error */
	fake.cfg[1] |= PCIH_CMD_MEM;
	assert_int_equal(pci_msix_enable(&msix, msgs, 32), PCI_MSIX_OK);
	for (unsigned i = 0; i < 32; i++) {
		assert_int_equal(entry(bar0, 0x2000, i)[2], 0x40 + i);
		assert_int_equal(entry(bar0, 0x2000, i)[3], 0);
	}
}

/* nr 0: MSI-X on with every entry masked (a passed function before its guest unmasks one) */
static void enable_all_masked(void **state)
{
	(void)state;
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	for (unsigned i = 0; i < 32; i++)
		entry(bar0, 0x2000, i)[3] = 0;
	assert_int_equal(pci_msix_enable(&msix, NULL, 0), PCI_MSIX_OK);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(entry(bar0, 0x2000, i)[3], 1);
	assert_int_equal(fake.cfg[0x70 / 4] >> 16 & 0xC000, 0x8000); /* Enable, no Function Mask */
}

static void pending_bits(void **state)
{
	(void)state;
	msix_cap(0x70, 0, 100, 0x2000, 0x3000);
	assert_int_equal(open_msix(), PCI_MSIX_OK);
	bar0[0x3000] = 0x01;
	bar0[0x3000 + 99 / 8] = 1u << (99 % 8);
	assert_true(pci_msix_pending(&msix, 0));
	assert_false(pci_msix_pending(&msix, 1));
	assert_true(pci_msix_pending(&msix, 99));
	bar0[0x3000 + 100 / 8] = 0xFF;
	assert_false(pci_msix_pending(&msix, 100)); /* past the table */
}

/* Intel SDM vol 3A, 11.11.1 and 11.11.2: 0xFEE00000 | ID << 12; data = vector (fixed, edge). */
static void msi_message(void **state)
{
	uint64_t addr = 0;
	uint32_t data = 0;
	(void)state;

	assert_true(host_msi_message(1, HOST_DEVICE_VECTOR, &addr, &data));
	assert_int_equal(addr, 0xFEE01000u);
	assert_int_equal(data, 0xED);
	assert_true(host_msi_message(255, 0x20, &addr, &data));
	assert_int_equal(addr, 0xFEEFF000u);
	assert_int_equal(data, 0x20);
	assert_false(host_msi_message(256, HOST_DEVICE_VECTOR, &addr, &data));
	assert_false(host_msi_message(0xFFFFFFFFu, HOST_DEVICE_VECTOR, &addr, &data));
	assert_false(host_msi_message(0, 14, &addr, &data)); /* an exception's vector */
	assert_int_equal(addr, 0xFEEFF000u);		     /* untouched when refused */
	/* keel's vectors do not collide */
	assert_int_not_equal(HOST_DEVICE_VECTOR, HOST_WAKE_VECTOR);
	assert_int_not_equal(HOST_DEVICE_VECTOR, HOST_TIMER_VECTOR);
	assert_int_not_equal(HOST_DEVICE_VECTOR, HOST_SPURIOUS_VECTOR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(good_capability, setup, teardown),
		cmocka_unit_test_setup_teardown(no_capability, setup, teardown),
		cmocka_unit_test_setup_teardown(list_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(pointers_into_header, setup, teardown),
		cmocka_unit_test_setup_teardown(longest_list, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_bir, setup, teardown),
		cmocka_unit_test_setup_teardown(table_past_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(table_2048_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(program_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(enable_order, setup, teardown),
		cmocka_unit_test_setup_teardown(enable_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(enable_all_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(msi_message, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
