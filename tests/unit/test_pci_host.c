/* Host PCI enumeration against a fake config space: bridges, multi-function devices, bridges
 * that lie about their buses, another root bus, BAR sizing of every kind with the registers
 * restored exactly, absent functions, a full table, and the boot line's text.
 *
 * The fake models what the enumeration may rely on: an absent function reads all ones, a BAR
 * keeps only its writable address bits, the status register is RW1C. It records every write
 * that the enumeration has no business making. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "drivers/pci_host.h"
#include "lib/kstring.h"

#define MAX_FAKE 1024

struct fake_fn {
	uint8_t bus, dev, fn;
	uint32_t cfg[64];
	uint32_t bar_mask[6]; /* writable bits of each BAR dword */
};

static struct {
	struct fake_fn fn[MAX_FAKE];
	unsigned nr;
	unsigned bad_writes;	  /* outside BARs and the command register, or status bits */
	unsigned sized_decoding;  /* BARs written while the function decoded */
	unsigned reads_out_range; /* reads of buses the walk was told to stay off */
	uint8_t bus_min, bus_max;
} fake;

static struct pci_host ph;

static struct fake_fn *find(uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (unsigned i = 0; i < fake.nr; i++)
		if (fake.fn[i].bus == bus && fake.fn[i].dev == dev && fake.fn[i].fn == fn)
			return &fake.fn[i];
	return NULL;
}

static uint32_t fake_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg)
{
	struct fake_fn *f = find(bus, dev, fn);

	assert_ptr_equal(ctx, &fake);
	assert_true(dev < 32 && fn < 8 && reg % 4 == 0 && reg <= 0xFFC);
	if (bus < fake.bus_min || bus > fake.bus_max)
		fake.reads_out_range++;
	if (!f)
		return 0xFFFFFFFFu;
	return reg < 256 ? f->cfg[reg / 4] : 0;
}

static void fake_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg, uint32_t v)
{
	struct fake_fn *f = find(bus, dev, fn);
	unsigned nr_bars;

	assert_ptr_equal(ctx, &fake);
	if (!f || reg >= 256) {
		fake.bad_writes++;
		return;
	}
	nr_bars = (f->cfg[3] >> 16 & 0x7F) == 0 ? 6 : 2;
	if (reg == 0x04) {
		/* writing 1 to a set status bit would clear it */
		if ((v >> 16) & (f->cfg[1] >> 16))
			fake.bad_writes++;
		f->cfg[1] = (f->cfg[1] & 0xFFFF0000u) | (v & 0xFFFF);
		return;
	}
	if (reg >= 0x10 && reg < 0x10 + 4 * nr_bars) {
		unsigned i = (reg - 0x10) / 4;

		if (f->cfg[1] & 3)
			fake.sized_decoding++;
		f->cfg[reg / 4] = (v & f->bar_mask[i]) | (f->cfg[reg / 4] & ~f->bar_mask[i]);
		return;
	}
	fake.bad_writes++;
}

static const struct pci_cfg_ops ops = { &fake, fake_read, fake_write };

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	memset(&ph, 0, sizeof(ph));
	fake.bus_max = 255;
	return 0;
}

/* A function; header is the header type byte (0x80: multi-function). */
static struct fake_fn *add(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id, uint32_t class_code,
			   uint8_t header)
{
	struct fake_fn *f;

	assert_true(fake.nr < MAX_FAKE);
	f = &fake.fn[fake.nr++];
	memset(f, 0, sizeof(*f));
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	f->cfg[0] = id;
	f->cfg[1] = 0x00100000u | 0x0007; /* capabilities list in status; I/O, memory, master on */
	f->cfg[2] = class_code << 8 | 0x01;
	f->cfg[3] = (uint32_t)header << 16;
	return f;
}

static void bar32(struct fake_fn *f, unsigned i, uint32_t base, uint32_t size, bool pf)
{
	f->cfg[4 + i] = base | (pf ? 8u : 0u);
	f->bar_mask[i] = ~(size - 1) & 0xFFFFFFF0u;
}

static void bar64(struct fake_fn *f, unsigned i, uint64_t base, uint64_t size, bool pf)
{
	uint64_t mask = ~(size - 1) & ~0xFull;

	f->cfg[4 + i] = (uint32_t)base | 4u | (pf ? 8u : 0u);
	f->cfg[5 + i] = (uint32_t)(base >> 32);
	f->bar_mask[i] = (uint32_t)mask;
	f->bar_mask[i + 1] = (uint32_t)(mask >> 32);
}

static void bar_io(struct fake_fn *f, unsigned i, uint16_t base, uint16_t size)
{
	f->cfg[4 + i] = base | 1u;
	f->bar_mask[i] = ~(uint32_t)(size - 1) & 0xFFFCu; /* upper 16 bits read 0 */
}

static void bridge(struct fake_fn *f, uint8_t primary, uint8_t secondary, uint8_t subordinate)
{
	f->cfg[6] = primary | (uint32_t)secondary << 8 | (uint32_t)subordinate << 16;
}

static const struct pci_func *listed(uint8_t bus, uint8_t dev, uint8_t fn)
{
	const struct pci_func *r = NULL;

	for (unsigned i = 0; i < ph.nr; i++)
		if (ph.funcs[i].bus == bus && ph.funcs[i].dev == dev && ph.funcs[i].fn == fn) {
			assert_null(r); /* listed once */
			r = &ph.funcs[i];
		}
	return r;
}

static void no_bad_access(void)
{
	assert_int_equal(fake.bad_writes, 0);
	assert_int_equal(fake.sized_decoding, 0);
	assert_int_equal(fake.reads_out_range, 0);
}

static void nothing_there(void **state)
{
	(void)state;
	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 255), 0);
	assert_int_equal(ph.nr_buses, 1);
	assert_int_equal(ph.nr_root_buses, 0);
	/* vendor all ones is absent whatever the device ID says; vendor 0 too */
	add(0, 1, 0, 0x1234FFFFu, 0x020000, 0);
	add(0, 2, 0, 0x12340000u, 0x020000, 0);
	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 255), 0);
	no_bad_access();
}

/* Every kind of BAR on a function that decodes: sized with decoding off, all restored. */
static void bars_sized_and_restored(void **state)
{
	(void)state;
	struct fake_fn *f = add(0, 3, 0, 0x10D38086u, 0x020000, 0);
	uint32_t before[64];

	bar32(f, 0, 0xFEB80000u, 128 * KiB, false);
	bar_io(f, 1, 0xC000, 32);
	bar64(f, 2, 0x800000000ull, 8 * GiB, true); /* size above 4 GiB: the high dword counts */
	bar64(f, 4, 0xFE000000ull, 16 * KiB, false);
	f->cfg[1] |= 0x80000000u; /* a status bit set (RW1C): must survive */
	memcpy(before, f->cfg, sizeof(before));

	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 255), 1);
	no_bad_access();
	assert_memory_equal(before, f->cfg, sizeof(before));

	const struct pci_func *p = listed(0, 3, 0);
	assert_non_null(p);
	assert_int_equal(p->vendor, 0x8086);
	assert_int_equal(p->device, 0x10d3);
	assert_int_equal(p->class_code, 0x020000);
	assert_int_equal(p->revision, 1);
	assert_int_equal(p->header_type, 0);
	assert_int_equal(p->nr_bars, 6);
	assert_int_equal(p->owner, PCI_OWNER_NONE);
	assert_int_equal(p->bar[0].kind, PCI_HBAR_MEM32);
	assert_int_equal(p->bar[0].base, 0xFEB80000u);
	assert_int_equal(p->bar[0].size, 128 * KiB);
	assert_false(p->bar[0].prefetchable);
	assert_int_equal(p->bar[1].kind, PCI_HBAR_IO);
	assert_int_equal(p->bar[1].base, 0xC000);
	assert_int_equal(p->bar[1].size, 32);
	assert_int_equal(p->bar[2].kind, PCI_HBAR_MEM64);
	assert_int_equal(p->bar[2].base, 0x800000000ull);
	assert_int_equal(p->bar[2].size, 8 * GiB);
	assert_true(p->bar[2].prefetchable);
	assert_int_equal(p->bar[3].kind, PCI_HBAR_NONE); /* the upper half */
	assert_int_equal(p->bar[4].kind, PCI_HBAR_MEM64);
	assert_int_equal(p->bar[4].base, 0xFE000000ull);
	assert_int_equal(p->bar[4].size, 16 * KiB);
	assert_int_equal(p->bar[5].kind, PCI_HBAR_NONE);

	char line[200];
	pci_func_describe(p, line, sizeof(line));
	assert_string_equal(line,
			    "00:03.0 8086:10d3 class 020000 Ethernet; bar0 mem32 feb80000+128K; "
			    "bar1 io c000+32; bar2 mem64 pf 800000000+8G; bar4 mem64 "
			    "fe000000+16K");
	/* a short buffer cuts, terminated */
	assert_int_equal(pci_func_describe(p, line, 12), 11);
	assert_string_equal(line, "00:03.0 808");
}

/* A 64-bit BAR in the last slot has no upper half: left alone. A reserved type too. */
static void bad_bars_untouched(void **state)
{
	(void)state;
	struct fake_fn *f = add(0, 0, 0, 0x00011234u, 0x0C0330, 0);
	uint32_t before[64];

	f->cfg[4 + 5] = 0xF0000004u; /* 64-bit in BAR5 */
	f->bar_mask[5] = 0xFFFFFFF0u;
	f->cfg[4 + 3] = 0x000D0002u; /* type 1: "below 1 MiB", reserved since PCI 3.0 */
	f->bar_mask[3] = 0xFFFFFFF0u;
	bar32(f, 0, 0, 4096, false); /* implemented, unassigned */
	memcpy(before, f->cfg, sizeof(before));
	pci_host_enumerate(&ph, &ops, 0, 0, 255);
	no_bad_access();
	assert_memory_equal(before, f->cfg, sizeof(before));
	const struct pci_func *p = listed(0, 0, 0);
	assert_int_equal(p->bar[5].kind, PCI_HBAR_BAD);
	assert_int_equal(p->bar[3].kind, PCI_HBAR_BAD);
	assert_int_equal(p->bar[3].size, 0);
	assert_int_equal(p->bar[0].kind, PCI_HBAR_MEM32);
	assert_int_equal(p->bar[0].base, 0);
	assert_int_equal(p->bar[0].size, 4096);
	char line[200];
	pci_func_describe(p, line, sizeof(line));
	assert_string_equal(line, "00:00.0 1234:0001 class 0c0330 USB; bar0 mem32 0+4K; bar3 bad; "
				  "bar5 bad");
}

static void multi_function(void **state)
{
	(void)state;
	add(0, 3, 0, 0x11118086u, 0x060100, 0x80);
	add(0, 3, 2, 0x22228086u, 0x010601, 0);
	add(0, 3, 7, 0x33338086u, 0x0C0500, 0);
	/* no multi-function bit at function 0: function 1 answering is the same function aliased */
	add(0, 4, 0, 0x44448086u, 0x030000, 0);
	add(0, 4, 1, 0x55558086u, 0x030000, 0);
	/* function 0 absent: the device is absent (6.1), whatever function 1 says */
	add(0, 5, 1, 0x66668086u, 0x030000, 0x80);

	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 255), 4);
	no_bad_access();
	assert_true(listed(0, 3, 0)->multi_fn);
	assert_non_null(listed(0, 3, 2));
	assert_non_null(listed(0, 3, 7));
	assert_null(listed(0, 3, 1));
	assert_non_null(listed(0, 4, 0));
	assert_null(listed(0, 4, 1));
	assert_null(listed(0, 5, 1));
}

/* Bus 0 -> bridge -> bus 1 -> bridge -> bus 2, and a second bridge on bus 0 to bus 3. */
static void bridges(void **state)
{
	(void)state;
	struct fake_fn *b;

	add(0, 0, 0, 0x29C08086u, 0x060000, 0);
	b = add(0, 1, 0, 0x000C1B36u, 0x060400, 1);
	bridge(b, 0, 1, 2);
	bar32(b, 0, 0xFE000000u, 4096, false);
	b = add(1, 0, 0, 0x000C1B36u, 0x060400, 1);
	bridge(b, 1, 2, 2);
	add(2, 0, 0, 0x00101B36u, 0x010802, 0);
	b = add(0, 2, 0, 0x000C1B36u, 0x060400, 0x81);
	bridge(b, 0, 3, 3);
	add(3, 0, 0, 0x10D38086u, 0x020000, 0);

	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 255), 6);
	no_bad_access();
	assert_int_equal(ph.nr_buses, 4);
	assert_int_equal(ph.nr_bad_bridges, 0);
	assert_int_equal(ph.nr_root_buses, 0);
	const struct pci_func *p = listed(0, 1, 0);
	assert_int_equal(p->header_type, 1);
	assert_int_equal(p->nr_bars, 2);
	assert_int_equal(p->sec_bus, 1);
	assert_int_equal(p->sub_bus, 2);
	assert_true(p->bridge_walked);
	assert_int_equal(p->bar[0].size, 4096);
	assert_non_null(listed(2, 0, 0));
	assert_non_null(listed(3, 0, 0));
	char line[200];
	pci_func_describe(p, line, sizeof(line));
	assert_string_equal(line, "00:01.0 1b36:000c class 060400 PCI bridge bus 01-02; bar0 mem32 "
				  "fe000000+4K");
}

/* Bridges that point back at their own bus or above, name a bus already walked, run outside the
 * range, or claim a subordinate below the secondary: each bus is walked once, none outside. */
static void lying_bridges(void **state)
{
	(void)state;
	struct fake_fn *b;

	fake.bus_max = 0x10;
	bridge(add(0, 1, 0, 0x00011B36u, 0x060400, 1), 0, 0, 0);       /* itself */
	bridge(add(0, 2, 0, 0x00011B36u, 0x060400, 1), 0, 1, 1);       /* good */
	bridge(add(1, 0, 0, 0x00011B36u, 0x060400, 1), 1, 1, 1);       /* its own bus again */
	bridge(add(1, 1, 0, 0x00011B36u, 0x060400, 1), 1, 0, 0);       /* back to bus 0 */
	bridge(add(0, 3, 0, 0x00011B36u, 0x060400, 1), 0, 1, 1);       /* bus 1, seen */
	bridge(add(0, 4, 0, 0x00011B36u, 0x060400, 1), 0, 0x20, 0x20); /* out of range */
	bridge(add(0, 5, 0, 0x00011B36u, 0x060400, 1), 0, 5, 4);       /* subordinate < secondary */
	add(0x20, 0, 0, 0x12345678u, 0x020000, 0);		       /* never reached */
	b = add(1, 2, 0, 0x00011B36u, 0x060400, 1);
	bridge(b, 1, 2, 2);
	add(2, 0, 0, 0x87654321u, 0x020000, 0);

	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 0x10), 9);
	no_bad_access();
	assert_null(listed(0x20, 0, 0));
	assert_non_null(listed(2, 0, 0));
	assert_int_equal(ph.nr_buses, 3);
	assert_int_equal(ph.nr_bad_bridges, 6);
	assert_false(listed(0, 1, 0)->bridge_walked);
	assert_true(listed(0, 2, 0)->bridge_walked);
	assert_false(listed(0, 3, 0)->bridge_walked);
	char line[200];
	pci_func_describe(listed(0, 4, 0), line, sizeof(line));
	assert_string_equal(line, "00:04.0 1b36:0001 class 060400 PCI bridge bus 20-20 (ignored)");
}

/* A bus with devices that no bridge leads to is another root bus; a bus range that does not start
 * at 0 (a second MCFG allocation) is walked from its own first bus. */
static void other_root_buses(void **state)
{
	(void)state;
	add(0, 0, 0, 0x29C08086u, 0x060000, 0);
	add(0x80, 0, 0, 0x14501022u, 0x060000, 0);
	bridge(add(0x80, 1, 0, 0x14531022u, 0x060400, 1), 0x80, 0x81, 0x81);
	add(0x81, 0, 0, 0x00101B36u, 0x010802, 0);

	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 255), 4);
	no_bad_access();
	assert_int_equal(ph.nr_root_buses, 1);
	assert_int_equal(ph.nr_buses, 3);
	assert_non_null(listed(0x81, 0, 0));

	memset(&ph, 0, sizeof(ph));
	fake.bus_min = 0x80;
	assert_int_equal(pci_host_enumerate(&ph, &ops, 1, 0x80, 0xFF), 3);
	no_bad_access();
	assert_int_equal(ph.nr_root_buses, 0);
	assert_int_equal(ph.funcs[0].segment, 1);
	char line[200];
	pci_func_describe(&ph.funcs[2], line, sizeof(line));
	assert_string_equal(line, "0001:81:00.0 1b36:0010 class 010802 NVMe");
}

/* More functions than the table holds: the rest are counted, nothing overflows. */
static void table_full(void **state)
{
	(void)state;
	for (unsigned bus = 0; bus < 3; bus++)
		for (unsigned dev = 0; dev < 32; dev++)
			for (unsigned fn = 0; fn < 8; fn++)
				add((uint8_t)bus, (uint8_t)dev, (uint8_t)fn, 0x00011234u, 0xFF0000,
				    fn == 0 ? 0x80 : 0);
	assert_int_equal(pci_host_enumerate(&ph, &ops, 0, 0, 255), PCI_HOST_MAX_FUNCS);
	assert_int_equal(ph.nr, PCI_HOST_MAX_FUNCS);
	assert_int_equal(ph.nr_dropped, 3 * 256 - PCI_HOST_MAX_FUNCS);
	assert_int_equal(ph.nr_root_buses, 2);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(pci_class_name(0x010802), "NVMe");
	assert_string_equal(pci_class_name(0x060400), "PCI bridge");
	assert_null(pci_class_name(0xFF0000));
	assert_string_equal(pci_owner_name(PCI_OWNER_NONE), "none");
	assert_string_equal(pci_owner_name(PCI_OWNER_KEEL), "keel");
	assert_string_equal(pci_owner_name(PCI_OWNER_VM), "vm");
	assert_string_equal(pci_owner_name(77), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(nothing_there, setup),
		cmocka_unit_test_setup(bars_sized_and_restored, setup),
		cmocka_unit_test_setup(bad_bars_untouched, setup),
		cmocka_unit_test_setup(multi_function, setup),
		cmocka_unit_test_setup(bridges, setup),
		cmocka_unit_test_setup(lying_bridges, setup),
		cmocka_unit_test_setup(other_root_buses, setup),
		cmocka_unit_test_setup(table_full, setup),
		cmocka_unit_test_setup(names, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
