/* The IVRS parser (drivers/ivrs.c) on tables assembled here byte by byte: the one QEMU 7.2's
 * amd-iommu device gives a guest (an IVHD of type 10h and one of type 11h for the same IOMMU, with
 * select entries or one "all" entry, and the IOAPIC special entry when intremap is on), a
 * multi-unit table with ranges, aliases, extended and ACPI HID entries and IVMDs, and hostile ones.
 *
 * With IVRS_WRITE_SEEDS=DIR set, each well-formed and each hostile table is written there as a
 * seed for fuzz_ivrs (whose input is a table as it is). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "drivers/ivrs.h"
#include "lib/kstring.h"

#define TBL_MAX 8192

static uint8_t tbl[TBL_MAX];
static uint32_t tlen;
static struct ivrs_info info;

static void put8(uint8_t v)
{
	assert_true(tlen < TBL_MAX);
	tbl[tlen++] = v;
}
static void put16(uint16_t v)
{
	put8((uint8_t)v);
	put8((uint8_t)(v >> 8));
}
static void put32(uint32_t v)
{
	put16((uint16_t)v);
	put16((uint16_t)(v >> 16));
}
static void put64(uint64_t v)
{
	put32((uint32_t)v);
	put32((uint32_t)(v >> 32));
}
static void patch16(uint32_t off, uint16_t v)
{
	tbl[off] = (uint8_t)v;
	tbl[off + 1] = (uint8_t)(v >> 8);
}
static void patch32(uint32_t off, uint32_t v)
{
	patch16(off, (uint16_t)v);
	patch16(off + 2, (uint16_t)(v >> 16));
}

/* The ACPI header (signature, length and checksum fixed by finish()), IVinfo, 8 reserved bytes. */
static void begin(uint8_t revision, uint32_t ivinfo)
{
	memset(tbl, 0, sizeof(tbl));
	tlen = 0;
	put32(0x53525649); /* "IVRS" */
	put32(0);
	put8(revision);
	put8(0);
	for (const char *p = "BOCHS BXPC    "; *p; p++)
		put8((uint8_t)*p);
	put32(1);
	put32(0x43505842); /* "BXPC" */
	put32(1);
	put32(ivinfo);
	put64(0);
	assert_int_equal(tlen, 48);
}

static void finish(void)
{
	uint8_t s = 0;

	patch32(4, tlen);
	tbl[9] = 0;
	for (uint32_t i = 0; i < tlen; i++)
		s = (uint8_t)(s + tbl[i]);
	tbl[9] = (uint8_t)-s;
}

/* An IVHD header (5.2.2); its length is patched by ivhd_end(). */
static uint32_t ivhd(uint8_t type, uint8_t flags, uint16_t devid, uint64_t base, uint16_t seg,
		     uint16_t info_field, uint32_t features, uint64_t efr)
{
	uint32_t at = tlen;

	put8(type);
	put8(flags);
	put16(0);
	put16(devid);
	put16(0x40);
	put64(base);
	put16(seg);
	put16(info_field);
	put32(features);
	if (type != 0x10) {
		put64(efr);
		put64(0);
	}
	return at;
}

static void ivhd_end(uint32_t at)
{
	patch16(at + 2, (uint16_t)(tlen - at));
}

static void e4(uint8_t type, uint16_t id, uint8_t dte)
{
	put8(type);
	put16(id);
	put8(dte);
}

static void e8(uint8_t type, uint16_t id, uint8_t dte, uint32_t tail)
{
	e4(type, id, dte);
	put32(tail);
}

/* 8-byte alias entry: reserved byte 4, source ID at 5-6. */
static void alias8(uint8_t type, uint16_t id, uint8_t dte, uint16_t alias)
{
	e8(type, id, dte, (uint32_t)alias << 8);
}

/* Special entry: handle 4, source ID 5-6, variety 7. */
static void special(uint8_t handle, uint16_t bdf, uint8_t variety, uint8_t dte)
{
	e8(72, 0, dte, handle | (uint32_t)bdf << 8 | (uint32_t)variety << 24);
}

static void hid_entry(uint16_t id, const char *hid, const char *cid, const char *uid)
{
	size_t ul = strlen(uid);

	e4(240, id, 0);
	for (unsigned i = 0; i < 8; i++)
		put8((uint8_t)hid[i]);
	for (unsigned i = 0; i < 8; i++)
		put8((uint8_t)cid[i]);
	put8(2); /* UID format: a string */
	put8((uint8_t)ul);
	for (size_t i = 0; i < ul; i++)
		put8((uint8_t)uid[i]);
}

static void ivmd(uint8_t type, uint8_t flags, uint16_t devid, uint16_t aux, uint64_t start,
		 uint64_t len)
{
	put8(type);
	put8(flags);
	put16(32);
	put16(devid);
	put16(aux);
	put64(0);
	put64(start);
	put64(len);
}

static void write_seed(const char *name)
{
	const char *dir = getenv("IVRS_WRITE_SEEDS");
	char path[512];

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(tbl, 1, tlen, f), tlen);
	fclose(f);
}

static int parse(const char *seed)
{
	write_seed(seed);
	return ivrs_parse(tbl, tlen, &info);
}

#define BDF(b, d, f) ((uint16_t)((b) << 8 | (d) << 3 | (f)))

/* QEMU 7.2's entries for a q35 machine with amd-iommu at 00:02.0: one select entry per function
 * on bus 0, then the IOAPIC (ID 0) behind 00:14.0 when intremap is on. */
static void qemu_entries(bool intremap, bool all)
{
	static const uint16_t devs[] = { BDF(0, 0, 0),	 BDF(0, 1, 0),	  BDF(0, 2, 0),
					 BDF(0, 3, 0),	 BDF(0, 0x1f, 0), BDF(0, 0x1f, 2),
					 BDF(0, 0x1f, 3) };
	if (all)
		e4(1, 0, 0);
	else
		for (unsigned i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
			e4(2, devs[i], 0);
	if (intremap)
		special(0, BDF(0, 0x14, 0), 1, 0);
}

static void qemu_table(bool intremap, bool all)
{
	begin(1, 40u << 8 | 1);
	uint32_t a = ivhd(0x10, 0xD1, BDF(0, 2, 0), 0xfed80000, 0, 0, 0, 0);
	qemu_entries(intremap, all);
	ivhd_end(a);
	a = ivhd(0x11, 0x11, BDF(0, 2, 0), 0xfed80000, 0, 0, 0,
		 1u << 1 | 1u << 4 | 2u << 10 | 2u << 12);
	qemu_entries(intremap, all);
	ivhd_end(a);
	finish();
}

static void qemu_amd_iommu(void **state)
{
	(void)state;
	unsigned unit;
	uint16_t alias;
	char line[160];

	qemu_table(true, false);
	assert_int_equal(parse("qemu-select-intremap"), IVRS_OK);
	assert_int_equal(info.revision, 1);
	assert_true(info.efr_sup);
	assert_int_equal(info.pa_size, 40);
	assert_int_equal(info.va_size, 0);
	assert_int_equal(info.nr_units, 1);
	assert_int_equal(info.nr_superseded, 1);
	const struct ivrs_unit *u = &info.units[0];
	assert_int_equal(u->type, 0x11); /* the higher type of the two */
	assert_int_equal(u->devid, BDF(0, 2, 0));
	assert_int_equal(u->base, 0xfed80000);
	assert_int_equal(u->mmio_len, 16 * 1024);
	assert_int_equal(u->cap_offset, 0x40);
	assert_int_equal(u->efr, 1u << 1 | 1u << 4 | 2u << 10 | 2u << 12);
	assert_int_equal(u->nr_ranges, 7);
	assert_int_equal(u->nr_special, 1);
	assert_int_equal(u->special[0].variety, IVRS_SPECIAL_IOAPIC);
	assert_int_equal(u->special[0].handle, 0);
	assert_int_equal(u->special[0].bdf, BDF(0, 0x14, 0));
	assert_true(ivrs_device_covered(&info, 0, BDF(0, 3, 0), &unit, &alias));
	assert_int_equal(unit, 0);
	assert_int_equal(alias, BDF(0, 3, 0));
	assert_false(ivrs_device_covered(&info, 0, BDF(0, 4, 0), &unit, &alias));
	assert_false(ivrs_device_covered(&info, 1, BDF(0, 3, 0), NULL, NULL));
	ivrs_format_unit(&info, 0, line, sizeof(line));
	assert_string_equal(line,
			    "AMD-Vi unit 00:02.0 at 0xfed80000, segment 0, type 11h, 7 device "
			    "ranges, 0 aliases, 1 special, 0 acpi");

	/* without intremap, and with the "all" entry QEMU falls back to */
	qemu_table(false, true);
	assert_int_equal(parse("qemu-all"), IVRS_OK);
	assert_int_equal(info.nr_units, 1);
	assert_int_equal(info.units[0].nr_ranges, 1);
	assert_true(info.units[0].ranges[0].all);
	assert_int_equal(info.units[0].nr_special, 0);
	assert_true(ivrs_device_covered(&info, 0, BDF(5, 0, 0), &unit, &alias));
	assert_int_equal(alias, BDF(5, 0, 0));
}

/* Two segments; ranges, aliases, extended entries, an ACPI HID device, three IVMD kinds. */
static void multi_table(void)
{
	begin(2, 1u | 2u << 5 | 48u << 8 | 48u << 15 | 1u << 22);
	uint32_t a = ivhd(0x40, 0, BDF(0, 0, 2), 0xfd200000, 0, 0x0304, 0, 1ull << 9);
	e4(3, BDF(0, 1, 0), 0x01);
	e4(4, BDF(0, 0x1f, 7), 0);
	e4(2, BDF(1, 0, 0), IVRS_DTE_LINT0_PASS | IVRS_DTE_LINT1_PASS);
	alias8(67, BDF(3, 0, 0), 0, BDF(2, 0, 0)); /* PCIe-to-PCI bridge at 02:00.0 */
	e4(4, BDF(3, 0x1f, 7), 0);
	alias8(66, BDF(4, 0, 0), 0, BDF(0, 0x14, 4));
	e8(70, BDF(5, 0, 0), 0, 1u << 31);
	e8(71, BDF(6, 0, 0), 0, 0);
	e4(4, BDF(6, 0, 7), 0);
	special(0x21, BDF(0, 0x14, 0), 1, 0xD7);
	special(0, BDF(0, 0x14, 0), 2, 0);
	hid_entry(BDF(0, 0x14, 5), "AMDI0040", "\0\0\0\0\0\0\0\0", "0");
	e4(0, 0, 0); /* padding */
	ivhd_end(a);
	/* the same IOMMU as 10h, after its 40h: superseded */
	a = ivhd(0x10, 0, BDF(0, 0, 2), 0xfd200000, 0, 0, 0, 0);
	e4(1, 0, 0);
	ivhd_end(a);
	a = ivhd(0x11, 0, BDF(0x40, 0, 2), 0xfd300000, 1, 0, 0, 0);
	e4(1, 0, 0);
	ivhd_end(a);
	ivmd(0x20, IVRS_IVMD_UNITY | IVRS_IVMD_READ | IVRS_IVMD_WRITE, 0, 0, 0x9d000000, 0x10000);
	ivmd(0x21, IVRS_IVMD_EXCLUSION, BDF(1, 0, 0), 0, 0x100000000ull, 0x1000);
	ivmd(0x22, IVRS_IVMD_UNITY | IVRS_IVMD_READ, BDF(6, 0, 0), BDF(6, 0, 7), 0xe0000, 0x20000);
	finish();
}

static void multi_unit(void **state)
{
	(void)state;
	unsigned unit;
	uint16_t alias;
	char line[160];

	multi_table();
	assert_int_equal(parse("multi"), IVRS_OK);
	assert_int_equal(info.revision, 2);
	assert_true(info.efr_sup);
	assert_int_equal(info.gva_size, 2);
	assert_int_equal(info.pa_size, 48);
	assert_int_equal(info.va_size, 48);
	assert_true(info.ht_ats_resv);
	assert_int_equal(info.nr_units, 2);
	assert_int_equal(info.nr_superseded, 1);
	const struct ivrs_unit *u = &info.units[0];
	assert_int_equal(u->type, 0x40);
	assert_int_equal(u->msi_num, 4);
	assert_int_equal(u->unit_id, 3);
	assert_int_equal(u->mmio_len, 512 * 1024);
	assert_int_equal(u->nr_ranges, 4);
	assert_int_equal(u->ranges[0].first, BDF(0, 1, 0));
	assert_int_equal(u->ranges[0].last, BDF(0, 0x1f, 7));
	assert_int_equal(u->ranges[0].dte, IVRS_DTE_INIT_PASS);
	assert_true(u->ranges[2].ext);
	assert_int_equal(u->ranges[2].ext_dte, 1u << 31);
	assert_int_equal(u->ranges[3].first, BDF(6, 0, 0));
	assert_int_equal(u->ranges[3].last, BDF(6, 0, 7));
	assert_int_equal(u->nr_aliases, 2);
	assert_int_equal(u->nr_special, 2);
	assert_int_equal(u->special[0].handle, 0x21);
	assert_int_equal(u->special[0].dte, 0xD7);
	assert_int_equal(u->special[1].variety, IVRS_SPECIAL_HPET);
	assert_int_equal(u->nr_hid, 1);
	assert_string_equal(u->hid[0].hid, "AMDI0040");
	assert_string_equal(u->hid[0].cid, "????????");
	assert_int_equal(u->hid[0].uid_len, 1);
	assert_int_equal(info.units[1].segment, 1);

	/* behind the PCIe-to-PCI bridge: seen as the bridge */
	assert_true(ivrs_device_covered(&info, 0, BDF(3, 5, 1), &unit, &alias));
	assert_int_equal(unit, 0);
	assert_int_equal(alias, BDF(2, 0, 0));
	assert_true(ivrs_device_covered(&info, 0, BDF(4, 0, 0), &unit, &alias));
	assert_int_equal(alias, BDF(0, 0x14, 4));
	assert_true(ivrs_device_covered(&info, 0, BDF(6, 0, 3), &unit, &alias));
	assert_int_equal(alias, BDF(6, 0, 3));
	assert_false(ivrs_device_covered(&info, 0, BDF(7, 0, 0), &unit, &alias));
	assert_true(ivrs_device_covered(&info, 1, BDF(7, 0, 0), &unit, &alias));
	assert_int_equal(unit, 1);
	assert_false(ivrs_device_covered(&info, 2, BDF(7, 0, 0), &unit, &alias));

	assert_int_equal(info.nr_ivmd, 3);
	assert_int_equal(info.ivmd[0].first, 0);
	assert_int_equal(info.ivmd[0].last, 0xFFFF);
	assert_int_equal(info.ivmd[1].first, BDF(1, 0, 0));
	assert_int_equal(info.ivmd[1].last, BDF(1, 0, 0));
	assert_int_equal(info.ivmd[1].start, 0x100000000ull);
	assert_int_equal(info.ivmd[2].last, BDF(6, 0, 7));

	ivrs_format_unit(&info, 0, line, sizeof(line));
	assert_string_equal(line,
			    "AMD-Vi unit 00:00.2 at 0xfd200000, segment 0, type 40h, 4 device "
			    "ranges, 2 aliases, 2 special, 1 acpi");
	ivrs_format_unit(&info, 1, line, sizeof(line));
	assert_string_equal(line,
			    "AMD-Vi unit 40:00.2 at 0xfd300000, segment 1, type 11h, 1 device "
			    "range, 0 aliases, 0 special, 0 acpi");
	ivrs_format_ivmd(&info, 0, line, sizeof(line));
	assert_string_equal(line, "AMD-Vi IVMD type 20h devices 00:00.0-ff:1f.7 "
				  "0x9d000000-0x9d00ffff unity r w");
	ivrs_format_ivmd(&info, 1, line, sizeof(line));
	assert_string_equal(line, "AMD-Vi IVMD type 21h devices 01:00.0-01:00.0 "
				  "0x100000000-0x100000fff exclusion");
	ivrs_format_unit(&info, 5, line, sizeof(line));
	assert_string_equal(line, "AMD-Vi unit 5: none");
}

/* The same IOMMU described 40h first, 10h second: 40h still wins, and the 10h block's entries
 * are held to the same rules though they are not used. */
static void block_order(void **state)
{
	(void)state;

	begin(2, 0);
	uint32_t a = ivhd(0x11, 0, BDF(0, 0, 2), 0xfd200000, 0, 0, 0, 0);
	e4(2, BDF(0, 1, 0), 0);
	ivhd_end(a);
	a = ivhd(0x10, 0, BDF(0, 0, 2), 0xfd200000, 0, 0, 0, 0);
	e4(1, 0, 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("order"), IVRS_OK);
	assert_int_equal(info.units[0].type, 0x11);
	assert_int_equal(info.units[0].nr_ranges, 1);
	assert_false(info.units[0].ranges[0].all);

	tlen -= 28;
	a = ivhd(0x10, 0, BDF(0, 0, 2), 0xfd200000, 0, 0, 0, 0);
	e4(4, BDF(0, 1, 0), 0); /* a stray end in the superseded block */
	ivhd_end(a);
	finish();
	assert_int_equal(parse("order-bad-superseded"), IVRS_EMALFORMED);

	/* two of the same type: the first kept */
	tlen -= 28;
	a = ivhd(0x11, 0, BDF(0, 0, 2), 0xfd100000, 0, 0, 0, 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("order-same-type"), IVRS_OK);
	assert_int_equal(info.units[0].base, 0xfd200000);
	assert_int_equal(info.nr_superseded, 1);
}

static void hostile_framing(void **state)
{
	(void)state;

	/* not an IVRS; too short; length field past the buffer or under 48 */
	qemu_table(false, true);
	tbl[0] = 'D';
	assert_int_equal(ivrs_parse(tbl, tlen, &info), IVRS_EBADSIG);
	assert_int_equal(ivrs_parse(tbl, 40, &info), IVRS_EBADLEN);
	qemu_table(false, true);
	patch32(4, tlen + 1);
	assert_int_equal(ivrs_parse(tbl, tlen, &info), IVRS_EBADLEN);
	patch32(4, 47);
	assert_int_equal(ivrs_parse(tbl, tlen, &info), IVRS_EBADLEN);

	/* no blocks at all */
	begin(2, 0);
	finish();
	assert_int_equal(parse("empty"), IVRS_ENOUNITS);

	/* a zero-length block */
	begin(2, 0);
	put32(0x00000030);
	finish();
	assert_int_equal(parse("zero-len-block"), IVRS_EBADLEN);

	/* a block running past the table */
	qemu_table(false, true);
	patch16(48 + 2, (uint16_t)(tlen - 48 + 4));
	finish();
	assert_int_equal(parse("block-past-end"), IVRS_EBADLEN);

	/* an IVHD shorter than its header */
	begin(2, 0);
	uint32_t a = ivhd(0x11, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	ivhd_end(a);
	patch16(a + 2, 24);
	finish();
	assert_int_equal(parse("ivhd-short"), IVRS_EBADLEN);

	/* 3 trailing bytes: not even a block header */
	qemu_table(false, true);
	put8(0x30);
	put16(0);
	finish();
	assert_int_equal(parse("trailing"), IVRS_EBADLEN);

	/* an 8-byte entry cut by the end of its block */
	begin(2, 0);
	a = ivhd(0x10, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	e4(66, BDF(1, 0, 0), 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("entry-past-block"), IVRS_EBADLEN);

	/* an HID entry whose UID runs past its block */
	begin(2, 0);
	a = ivhd(0x40, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	hid_entry(BDF(0, 0x14, 5), "AMDI0040", "PNP0C0F ", "abc");
	ivhd_end(a);
	patch16(a + 2, (uint16_t)(tlen - a - 1));
	tbl[tlen - 1] = 0;
	tlen--;
	finish();
	assert_int_equal(parse("hid-past-block"), IVRS_EBADLEN);
}

static void hostile_ranges(void **state)
{
	(void)state;

	/* a range start without its end */
	begin(2, 0);
	uint32_t a = ivhd(0x10, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	e4(3, BDF(1, 0, 0), 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("start-no-end"), IVRS_EMALFORMED);

	/* a start followed by something other than its end */
	begin(2, 0);
	a = ivhd(0x10, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	alias8(67, BDF(1, 0, 0), 0, BDF(0, 8, 0));
	e4(2, BDF(2, 0, 0), 0);
	e4(4, BDF(1, 0x1f, 7), 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("start-select-end"), IVRS_EMALFORMED);

	/* a stray end */
	begin(2, 0);
	a = ivhd(0x10, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	e4(4, BDF(1, 0, 0), 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("stray-end"), IVRS_EMALFORMED);

	/* an end before its start */
	begin(2, 0);
	a = ivhd(0x10, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	e8(71, BDF(2, 0, 0), 0, 0);
	e4(4, BDF(1, 0, 0), 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("end-before-start"), IVRS_EMALFORMED);

	/* a start whose end is in the next IVHD */
	begin(2, 0);
	a = ivhd(0x10, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	e4(3, BDF(1, 0, 0), 0);
	ivhd_end(a);
	a = ivhd(0x10, 0, 0x18, 0xfed90000 - 0x10000 + 0x4000, 0, 0, 0, 0);
	e4(4, BDF(1, 0x1f, 7), 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("start-across-blocks"), IVRS_EMALFORMED);
}

static void hostile_addresses(void **state)
{
	(void)state;
	static const uint64_t bad_base[] = { 0, 0xfed81000, 1ull << 52, (1ull << 52) - 0x4000,
					     ~0ull << 14 };

	for (unsigned i = 0; i < sizeof(bad_base) / sizeof(bad_base[0]); i++) {
		/* (1 << 52) - 16 KiB fits a 16 KiB region but not the 512 KiB one of PCSup */
		begin(2, 0);
		uint32_t a = ivhd(0x11, 0, 0x10, bad_base[i], 0, 0, 0, 1ull << 9);
		e4(1, 0, 0);
		ivhd_end(a);
		finish();
		char name[32];
		snprintf(name, sizeof(name), "bad-base-%u", i);
		assert_int_equal(parse(i == 1 ? "unaligned-base" : name), IVRS_EBADBASE);
	}

	static const struct {
		uint8_t type;
		uint16_t first, last;
		uint64_t start, len;
	} bad_ivmd[] = {
		{ 0x20, 0, 0, 0x1000, 0 },		       /* empty */
		{ 0x20, 0, 0, 0x1800, 0x1000 },		       /* unaligned start */
		{ 0x21, 1, 0, 0x1000, 0x800 },		       /* unaligned length */
		{ 0x22, 9, 8, 0x1000, 0x1000 },		       /* end device before start */
		{ 0x20, 0, 0, ~0ull << 12, 0x2000 },	       /* wraps */
		{ 0x20, 0, 0, (1ull << 52) - 0x1000, 0x2000 }, /* past 52 bits */
	};
	for (unsigned i = 0; i < sizeof(bad_ivmd) / sizeof(bad_ivmd[0]); i++) {
		qemu_table(false, true);
		ivmd(bad_ivmd[i].type, 1, bad_ivmd[i].first, bad_ivmd[i].last, bad_ivmd[i].start,
		     bad_ivmd[i].len);
		finish();
		char name[32];
		snprintf(name, sizeof(name), "ivmd-bad-%u", i);
		assert_int_equal(parse(i == 4 ? "ivmd-overflow" : name), IVRS_EBADIVMD);
	}
	/* the last page below 2^52 is fine */
	qemu_table(false, true);
	ivmd(0x20, 1, 0, 0, (1ull << 52) - 0x1000, 0x1000);
	finish();
	assert_int_equal(parse("ivmd-top"), IVRS_OK);
	/* an IVMD shorter than 32 bytes */
	qemu_table(false, true);
	ivmd(0x21, 1, 0, 0, 0x1000, 0x1000);
	patch16(tlen - 30, 24);
	tlen -= 8;
	finish();
	assert_int_equal(parse("ivmd-short"), IVRS_EBADLEN);
}

static void too_many(void **state)
{
	(void)state;
	char line[160];

	/* 70 select entries, 70 aliases, 20 specials, 10 HID devices in one unit */
	begin(2, 0);
	uint32_t a = ivhd(0x40, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	for (unsigned i = 0; i < 70; i++)
		e4(2, (uint16_t)(0x100 + i), 0);
	for (unsigned i = 0; i < 70; i++)
		alias8(66, (uint16_t)(0x200 + i), 0, 0x1FF);
	for (unsigned i = 0; i < 20; i++)
		special((uint8_t)i, (uint16_t)(0xa0 + i), 1, 0);
	for (unsigned i = 0; i < 10; i++)
		hid_entry((uint16_t)(0xa5 + i), "AMDI0020", "        ", "");
	ivhd_end(a);
	/* 9 more units, the last one past IVRS_MAX_UNITS */
	for (unsigned i = 0; i < 9; i++) {
		a = ivhd(0x10, 0, (uint16_t)(0x18 + 8 * i), 0xfe000000 + 0x80000ull * i, 0, 0, 0,
			 0);
		e4(1, 0, 0);
		ivhd_end(a);
	}
	for (unsigned i = 0; i < 20; i++)
		ivmd(0x21, 1, (uint16_t)i, 0, 0x1000ull * (i + 1), 0x1000);
	finish();
	assert_int_equal(parse("too-many"), IVRS_OK);
	const struct ivrs_unit *u = &info.units[0];
	assert_int_equal(u->nr_ranges, IVRS_MAX_RANGES);
	assert_int_equal(u->nr_ranges_dropped, 70 - IVRS_MAX_RANGES);
	assert_int_equal(u->nr_aliases, IVRS_MAX_ALIASES);
	assert_int_equal(u->nr_aliases_dropped, 70 - IVRS_MAX_ALIASES);
	assert_int_equal(u->nr_special, IVRS_MAX_SPECIAL);
	assert_int_equal(u->nr_special_dropped, 20 - IVRS_MAX_SPECIAL);
	assert_int_equal(u->nr_hid, IVRS_MAX_HID);
	assert_int_equal(u->nr_hid_dropped, 10 - IVRS_MAX_HID);
	assert_int_equal(info.nr_units, IVRS_MAX_UNITS);
	assert_int_equal(info.nr_units_dropped, 2);
	assert_int_equal(info.nr_ivmd, IVRS_MAX_IVMD);
	assert_int_equal(info.nr_ivmd_dropped, 20 - IVRS_MAX_IVMD);
	/* a dropped select entry's device is not covered (by unit 0; unit 1 covers all) */
	assert_true(ivrs_device_covered(&info, 0, 0x100 + IVRS_MAX_RANGES - 1, NULL, NULL));
	unsigned unit;
	assert_true(ivrs_device_covered(&info, 0, 0x100 + IVRS_MAX_RANGES, &unit, NULL));
	assert_int_equal(unit, 1);
	ivrs_format_unit(&info, 0, line, sizeof(line));
	assert_non_null(strstr(line, ", entries dropped"));
}

static void unknown_types(void **state)
{
	(void)state;

	begin(2, 0);
	put8(0x30); /* an unknown block */
	put8(0);
	put16(12);
	put64(0xFFFFFFFFFFFFFFFFull);
	uint32_t a = ivhd(0x40, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	e4(0x05, 0, 0);	     /* unknown 4-byte */
	e8(0x41, 0, 0, ~0u); /* unknown 8-byte ("not used") */
	e8(0x80, 0, 0, ~0u); /* unknown 16-byte */
	put64(~0ull);
	e4(2, BDF(1, 0, 0), 0);
	e8(0x40, 0, 0, 0); /* 8-byte padding */
	e8(0xC5, 0, 0, 0); /* unknown variable length: the walk ends here */
	e4(2, BDF(2, 0, 0), 0);
	ivhd_end(a);
	put8(0x23); /* an unknown type in the IVMD range: skipped too */
	put8(0);
	put16(4);
	finish();
	assert_int_equal(parse("unknown-types"), IVRS_OK);
	assert_int_equal(info.nr_unknown_blocks, 2);
	const struct ivrs_unit *u = &info.units[0];
	assert_int_equal(u->nr_unknown_entries, 4);
	assert_true(u->truncated);
	assert_int_equal(u->nr_ranges, 1);
	assert_true(ivrs_device_covered(&info, 0, BDF(1, 0, 0), NULL, NULL));
	assert_false(ivrs_device_covered(&info, 0, BDF(2, 0, 0), NULL, NULL));

	/* the unknown 16-byte entry cut short by its block */
	begin(2, 0);
	a = ivhd(0x10, 0, 0x10, 0xfed80000, 0, 0, 0, 0);
	e8(0x80, 0, 0, 0);
	ivhd_end(a);
	finish();
	assert_int_equal(parse("unknown-16-short"), IVRS_EBADLEN);
}

static void strerror_all(void **state)
{
	(void)state;

	for (int e = 0; e >= -7; e--)
		assert_non_null(ivrs_strerror(e));
	assert_string_equal(ivrs_strerror(IVRS_EMALFORMED), "malformed device entries");
	assert_string_equal(ivrs_strerror(-100), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_amd_iommu), cmocka_unit_test(multi_unit),
		cmocka_unit_test(block_order),	  cmocka_unit_test(hostile_framing),
		cmocka_unit_test(hostile_ranges), cmocka_unit_test(hostile_addresses),
		cmocka_unit_test(too_many),	  cmocka_unit_test(unknown_types),
		cmocka_unit_test(strerror_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
