/* The DMAR parser (drivers/dmar.c) on tables assembled here byte by byte: the one QEMU's
 * intel-iommu device gives a q35 guest (hw/i386/acpi-build.c, build_dmar_q35: revision 1, host
 * address width aw-bits - 1, one INCLUDE_PCI_ALL unit at 0xfed90000 whose only scope is the
 * IOAPIC at pseudo-bus 0xff, 00.0; an ATSR for all ports with device-iotlb=on), a multi-unit table
 * of the kind client platforms ship (graphics on its own unit, scopes, RMRRs, RHSA, ANDD, SATC),
 * and hostile tables: each broken so that one check is reached.
 *
 * With DMAR_WRITE_SEEDS=DIR set, each accepted and hostile table is written there, behind the
 * one-byte preamble tests/fuzz/fuzz_dmar.c reads, as a seed for tests/fuzz/corpus/dmar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "drivers/acpi_host.h"
#include "drivers/dmar.h"
#include "lib/kstring.h"

/* ---- the table builder ---- */

#define TBL_MAX 8192

static uint8_t tbl[TBL_MAX];
static uint32_t tbl_len;
static uint32_t open_struct; /* offset of the structure being built, 0 when none */
static uint32_t open_scope;  /* offset of the scope being built, 0 when none */

static void put8(uint8_t v)
{
	assert_true(tbl_len < TBL_MAX);
	tbl[tbl_len++] = v;
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

static void set16(uint32_t off, uint16_t v)
{
	tbl[off] = (uint8_t)v;
	tbl[off + 1] = (uint8_t)(v >> 8);
}

static void set32(uint32_t off, uint32_t v)
{
	set16(off, (uint16_t)v);
	set16(off + 2, (uint16_t)(v >> 16));
}

/* 8.1: the ACPI header (revision 1, as QEMU writes), width - 1, flags, 10 reserved bytes. */
static void begin(unsigned width, uint8_t flags)
{
	memset(tbl, 0, sizeof(tbl));
	tbl_len = 0;
	open_struct = open_scope = 0;
	for (const char *c = "DMAR"; *c; c++)
		put8((uint8_t)*c);
	put32(0); /* length, set by finish() */
	put8(1);  /* revision */
	put8(0);  /* checksum, set by finish() */
	for (const char *c = "KEELFWKEELTEST  "; *c; c++)
		put8((uint8_t)*c); /* OEM ID (6), OEM table ID (8), and 2 of the OEM revision */
	put16(0);
	put32(0x4c45454b); /* creator ID */
	put32(1);	   /* creator revision */
	put8((uint8_t)(width - 1));
	put8(flags);
	for (int i = 0; i < 10; i++)
		put8(0);
	assert_int_equal(tbl_len, 48);
}

/* Closes the open scope and structure: their length fields get what was written into them. */
static void end_scope(void)
{
	if (open_scope)
		tbl[open_scope + 1] = (uint8_t)(tbl_len - open_scope);
	open_scope = 0;
}

static void end_struct(void)
{
	end_scope();
	if (open_struct)
		set16(open_struct + 2, (uint16_t)(tbl_len - open_struct));
	open_struct = 0;
}

static void struct_head(uint16_t type)
{
	end_struct();
	open_struct = tbl_len;
	put16(type);
	put16(0);
}

/* 8.3 */
static void drhd(uint8_t flags, uint8_t size, uint16_t segment, uint64_t base)
{
	struct_head(0);
	put8(flags);
	put8(size);
	put16(segment);
	put64(base);
}

/* 8.4 */
static void rmrr(uint16_t segment, uint64_t base, uint64_t limit)
{
	struct_head(1);
	put16(0);
	put16(segment);
	put64(base);
	put64(limit);
}

/* 8.5 ATSR (type 2) and 8.8 SATC (type 5) */
static void atsr_satc(uint16_t type, uint8_t flags, uint16_t segment)
{
	struct_head(type);
	put8(flags);
	put8(0);
	put16(segment);
}

/* 8.6 */
static void rhsa(uint64_t base, uint32_t domain)
{
	struct_head(3);
	put32(0);
	put64(base);
	put32(domain);
}

/* 8.7 */
static void andd(uint8_t number, const char *name)
{
	struct_head(4);
	put16(0);
	put8(0);
	put8(number);
	do
		put8((uint8_t)*name);
	while (*name++);
}

/* 8.3.1: a scope header; hops follow with hop(). */
static void scope(uint8_t type, uint8_t enum_id, uint8_t bus)
{
	end_scope();
	open_scope = tbl_len;
	put8(type);
	put8(0);
	put8(0); /* flags */
	put8(0);
	put8(enum_id);
	put8(bus);
}

static void hop(uint8_t dev, uint8_t fn)
{
	put8(dev);
	put8(fn);
}

/* Closes everything, sets the length and makes the bytes sum to zero (ACPI 6.4, 5.2.6). */
static void finish(void)
{
	uint8_t s = 0;

	end_struct();
	set32(4, tbl_len);
	tbl[9] = 0;
	for (uint32_t i = 0; i < tbl_len; i++)
		s = (uint8_t)(s + tbl[i]);
	tbl[9] = (uint8_t)-s;
}

static void write_seed(const char *name)
{
	const char *dir = getenv("DMAR_WRITE_SEEDS");
	char path[512];
	uint8_t preamble;

	if (!dir)
		return;
	/* fuzz_dmar's bit 0: keep the table's own signature and length, when they are not the
	 * ones the harness would write anyway (so that mutations that grow the table keep it
	 * whole) */
	preamble =
		memcmp(tbl, "DMAR", 4) != 0 || tbl_len < 8 ||
		(uint32_t)(tbl[4] | tbl[5] << 8 | tbl[6] << 16 | (uint32_t)tbl[7] << 24) != tbl_len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(&preamble, 1, 1, f), 1);
	assert_int_equal(fwrite(tbl, 1, tbl_len, f), tbl_len);
	fclose(f);
}

static struct dmar_info info;

/* Parses the built table; writes it as a seed named name. */
static int parse(const char *name)
{
	write_seed(name);
	return dmar_parse(tbl, tbl_len, &info);
}

static const char *unit_line(unsigned i)
{
	static char buf[128];

	assert_true(dmar_describe_unit(&info.units[i], buf, sizeof(buf)) < (int)sizeof(buf));
	return buf;
}

static const char *rmrr_line(unsigned i)
{
	static char buf[128];

	assert_true(dmar_describe_rmrr(&info.rmrrs[i], buf, sizeof(buf)) < (int)sizeof(buf));
	return buf;
}

/* ---- the map callback, for the trip through acpi_host_map_table ---- */

#define TBL_PHYS 0x7fe10000ull

static const void *map(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	if (phys < TBL_PHYS || phys - TBL_PHYS > tbl_len || len > tbl_len - (phys - TBL_PHYS))
		return NULL;
	return tbl + (phys - TBL_PHYS);
}

/* ---- accepted tables ---- */

/* QEMU q35 with -device intel-iommu,intremap=on: aw-bits 39 by default (the table says 38). */
static void build_qemu(uint8_t flags, bool device_iotlb)
{
	begin(39, flags);
	drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_IOAPIC, 0, 0xff);
	hop(0, 0);
	if (device_iotlb)
		atsr_satc(2, 1 /* ALL_PORTS */, 0);
	finish();
}

static void qemu_intel_iommu(void **state)
{
	struct acpi_host h = { .map = map };
	const uint8_t *t;
	uint32_t len;
	uint16_t bdf = 0;
	char line[128];
	int err;

	(void)state;
	build_qemu(DMAR_FLAG_INTR_REMAP | DMAR_FLAG_X2APIC_OPT_OUT, false);
	/* the way keel will get it: through the ACPI mapper, checksum and signature checked */
	t = acpi_host_map_table(&h, TBL_PHYS, "DMAR", &len, &err);
	assert_non_null(t);
	assert_int_equal(len, 48 + 16 + 8);
	write_seed("qemu-intremap");
	assert_int_equal(dmar_parse(t, len, &info), DMAR_OK);
	assert_int_equal(info.host_addr_width, 39);
	assert_int_equal(info.flags, DMAR_FLAG_INTR_REMAP | DMAR_FLAG_X2APIC_OPT_OUT);
	assert_int_equal(info.nr_units, 1);
	assert_int_equal(info.nr_rmrrs, 0);
	assert_true(dmar_complete(&info));
	assert_int_equal(info.units[0].base, 0xfed90000);
	assert_int_equal(info.units[0].size_log2, 0);
	assert_int_equal(info.units[0].segment, 0);
	assert_int_equal(info.units[0].flags, DMAR_UNIT_INCLUDE_PCI_ALL);
	assert_int_equal(info.units[0].nr_scopes, 1);
	assert_int_equal(info.units[0].scopes[0].type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(info.units[0].scopes[0].enum_id, 0);
	assert_int_equal(info.units[0].scopes[0].start_bus, 0xff);
	assert_int_equal(info.units[0].scopes[0].path_len, 1);
	assert_int_equal(dmar_scope_bdf(&info.units[0].scopes[0], &bdf), DMAR_BDF_DIRECT);
	assert_int_equal(bdf, 0xff00);
	assert_string_equal(unit_line(0), "VT-d unit at 0xfed90000, segment 0, all PCI devices");
	dmar_describe_header(&info, line, sizeof(line));
	assert_string_equal(line, "VT-d: 39-bit DMA addresses, 1 unit, 0 reserved ranges, "
				  "interrupt remapping, x2APIC opt-out");

	/* the flags QEMU's build_dmar_q35 itself writes for intremap=on (INT_REMAP only), and
	 * device-iotlb=on's ATSR */
	build_qemu(DMAR_FLAG_INTR_REMAP, true);
	assert_int_equal(parse("qemu-intremap-iotlb"), DMAR_OK);
	assert_int_equal(info.flags, DMAR_FLAG_INTR_REMAP);
	assert_int_equal(info.nr_units, 1);
	assert_int_equal(info.nr_atsr, 1);
	/* and without interrupt remapping */
	build_qemu(0, false);
	assert_int_equal(parse("qemu-plain"), DMAR_OK);
	assert_int_equal(info.flags, 0);
	dmar_describe_header(&info, line, sizeof(line));
	assert_string_equal(line, "VT-d: 39-bit DMA addresses, 1 unit, 0 reserved ranges");
}

/* A client platform: graphics behind its own unit, the rest behind an INCLUDE_PCI_ALL unit; USB
 * and graphics RMRRs that overlap; then every other structure type, a second segment, a type
 * from the future and a reserved scope type. */
static void build_multi(void)
{
	begin(46, DMAR_FLAG_INTR_REMAP | DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN);
	drhd(0, 0, 0, 0xfed90000); /* graphics: 00:02.0 */
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(2, 0);
	drhd(0, 1, 0, 0xfed92000); /* 2 pages: a root port's subtree and a device two hops down */
	scope(DMAR_SCOPE_PCI_SUBHIERARCHY, 0, 0);
	hop(0x1c, 0);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(0x1c, 4);
	hop(0, 0);
	scope(9, 0, 0); /* reserved type: skipped */
	hop(1, 1);
	drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 0, 0xfed91000);
	scope(DMAR_SCOPE_IOAPIC, 2, 0xf0);
	hop(0x1f, 0);
	scope(DMAR_SCOPE_HPET, 0, 0);
	hop(0x1f, 7);
	scope(DMAR_SCOPE_ACPI_NAMESPACE, 1, 0);
	hop(0x15, 0);
	drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 1, 0x1fed90000ull); /* segment 1, above 4 GiB */
	rmrr(0, 0x7d000000, 0x7d7fffff);		       /* USB */
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(0x14, 0);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(0x1a, 0);
	rmrr(0, 0x7b800000, 0x7fffffff); /* graphics stolen memory, over the USB one */
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(2, 0);
	rmrr(1, 0x7d000000, 0x7d000fff); /* the same addresses in another segment: no overlap */
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(3, 0);
	atsr_satc(2, 0, 0);
	scope(DMAR_SCOPE_PCI_SUBHIERARCHY, 0, 0);
	hop(0x1c, 0);
	rhsa(0xfed92000, 1);
	rhsa(0xfee00000, 2); /* names no unit */
	andd(1, "\\_SB.PCI0.UAR0");
	atsr_satc(5, 1, 0);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(2, 0);
	struct_head(0x77); /* a type from a later spec, 12 bytes */
	put32(0xdeadbeef);
	put32(0);
	finish();
}

static void multi_unit(void **state)
{
	const struct dmar_unit *u;
	uint16_t bdf = 0;

	(void)state;
	build_multi();
	assert_int_equal(parse("multi"), DMAR_OK);
	assert_int_equal(info.host_addr_width, 46);
	assert_int_equal(info.flags, DMAR_FLAG_INTR_REMAP | DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN);
	assert_int_equal(info.nr_units, 4);
	assert_int_equal(info.nr_rmrrs, 3);
	assert_true(dmar_complete(&info));

	u = &info.units[0];
	assert_int_equal(u->base, 0xfed90000);
	assert_int_equal(u->nr_scopes, 1);
	assert_int_equal(dmar_scope_bdf(&u->scopes[0], &bdf), DMAR_BDF_DIRECT);
	assert_int_equal(bdf, 0x0010); /* 00:02.0 */
	assert_string_equal(unit_line(0), "VT-d unit at 0xfed90000, segment 0, 1 device scope");

	u = &info.units[1];
	assert_int_equal(u->base, 0xfed92000);
	assert_int_equal(u->size_log2, 1);
	assert_int_equal(u->nr_scopes, 2);
	assert_int_equal(u->scopes[0].type, DMAR_SCOPE_PCI_SUBHIERARCHY);
	assert_int_equal(dmar_scope_bdf(&u->scopes[0], &bdf), DMAR_BDF_DIRECT);
	assert_int_equal(bdf, 0x00e0); /* 00:1c.0 */
	assert_int_equal(u->scopes[1].path_len, 2);
	assert_int_equal(u->scopes[1].path[0].device, 0x1c);
	assert_int_equal(u->scopes[1].path[0].function, 4);
	assert_int_equal(u->scopes[1].path[1].device, 0);
	bdf = 0x1234;
	assert_int_equal(dmar_scope_bdf(&u->scopes[1], &bdf), DMAR_BDF_NEEDS_WALK);
	assert_int_equal(bdf, 0x1234);
	assert_true(u->has_proximity);
	assert_int_equal(u->proximity, 1);
	assert_string_equal(unit_line(1), "VT-d unit at 0xfed92000, segment 0, 2 device scopes");
	assert_int_equal(info.nr_scopes_skipped, 1);

	u = &info.units[2];
	assert_int_equal(u->nr_scopes, 3);
	assert_int_equal(u->scopes[0].type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(u->scopes[0].enum_id, 2);
	assert_int_equal(u->scopes[1].type, DMAR_SCOPE_HPET);
	assert_int_equal(u->scopes[2].type, DMAR_SCOPE_ACPI_NAMESPACE);
	assert_false(u->has_proximity);
	assert_string_equal(unit_line(2), "VT-d unit at 0xfed91000, segment 0, all PCI devices");
	assert_string_equal(unit_line(3), "VT-d unit at 0x1fed90000, segment 1, all PCI devices");

	assert_int_equal(info.rmrrs[0].base, 0x7d000000);
	assert_int_equal(info.rmrrs[0].limit, 0x7d7fffff);
	assert_int_equal(info.rmrrs[0].nr_scopes, 2);
	assert_int_equal(info.nr_rmrr_overlaps, 1);
	assert_string_equal(
		rmrr_line(0),
		"VT-d reserved memory 0x7d000000-0x7d7fffff, segment 0, 2 device scopes");
	assert_string_equal(
		rmrr_line(2),
		"VT-d reserved memory 0x7d000000-0x7d000fff, segment 1, 1 device scope");

	assert_int_equal(info.nr_atsr, 1);
	assert_int_equal(info.nr_satc, 1);
	assert_int_equal(info.nr_andd, 1);
	assert_int_equal(info.nr_rhsa, 2);
	assert_int_equal(info.nr_rhsa_unmatched, 1);
	assert_int_equal(info.nr_unknown, 1);
}

/* More than the arrays hold: counted, not stored, and the table still accepted. */
static void too_many(void **state)
{
	char line[128];

	(void)state;
	begin(39, 0);
	for (unsigned i = 0; i < DMAR_MAX_UNITS + 2; i++)
		drhd(0, 0, 0, 0xfed00000 + 0x1000ull * i);
	finish();
	assert_int_equal(parse("units-10"), DMAR_OK);
	assert_int_equal(info.nr_units, DMAR_MAX_UNITS);
	assert_int_equal(info.nr_units_dropped, 2);
	assert_false(dmar_complete(&info));
	dmar_describe_header(&info, line, sizeof(line));
	assert_string_equal(line, "VT-d: 39-bit DMA addresses, 10 units, 0 reserved ranges");

	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	for (unsigned i = 0; i < DMAR_MAX_SCOPES + 8; i++) {
		scope(DMAR_SCOPE_PCI_ENDPOINT, 0, (uint8_t)(i / 32));
		hop((uint8_t)(i % 32), 0);
	}
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0); /* a path deeper than DMAR_MAX_PATH */
	for (unsigned i = 0; i < DMAR_MAX_PATH + 1; i++)
		hop(1, 0);
	finish();
	assert_int_equal(parse("scopes-41"), DMAR_OK);
	assert_int_equal(info.units[0].nr_scopes, DMAR_MAX_SCOPES);
	assert_int_equal(info.units[0].nr_dropped, 9);
	assert_false(dmar_complete(&info));
	assert_string_equal(unit_line(0),
			    "VT-d unit at 0xfed90000, segment 0, 41 device scopes, 9 not recorded");

	/* a path of exactly DMAR_MAX_PATH hops is kept */
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	for (unsigned i = 0; i < DMAR_MAX_PATH; i++)
		hop((uint8_t)i, (uint8_t)(i % 8));
	finish();
	assert_int_equal(parse("path-8"), DMAR_OK);
	assert_int_equal(info.units[0].nr_scopes, 1);
	assert_int_equal(info.units[0].scopes[0].path_len, DMAR_MAX_PATH);
	assert_int_equal(info.units[0].scopes[0].path[7].device, 7);
	assert_true(dmar_complete(&info));

	begin(39, 0);
	for (unsigned i = 0; i < DMAR_MAX_RMRR + 2; i++) {
		rmrr(0, 0x10000000ull * (i + 1), 0x10000000ull * (i + 1) + 0xfff);
		scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
		hop(0x14, 0);
	}
	rmrr(0, 0x1000, 0x1fff); /* one with too many scopes */
	for (unsigned i = 0; i < DMAR_MAX_RMRR_SCOPES + 1; i++) {
		scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
		hop((uint8_t)i, 0);
	}
	finish();
	assert_int_equal(parse("rmrr-19"), DMAR_OK);
	assert_int_equal(info.nr_rmrrs, DMAR_MAX_RMRR);
	assert_int_equal(info.nr_rmrrs_dropped, 3);
	assert_int_equal(info.nr_rmrr_overlaps, 0);
	assert_false(dmar_complete(&info));

	begin(39, 0);
	rmrr(0, 0x1000, 0x1fff);
	for (unsigned i = 0; i < DMAR_MAX_RMRR_SCOPES + 1; i++) {
		scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
		hop((uint8_t)i, 0);
	}
	finish();
	assert_int_equal(parse("rmrr-scopes-17"), DMAR_OK);
	assert_int_equal(info.rmrrs[0].nr_scopes, DMAR_MAX_RMRR_SCOPES);
	assert_int_equal(info.rmrrs[0].nr_dropped, 1);
	assert_string_equal(rmrr_line(0),
			    "VT-d reserved memory 0x1000-0x1fff, segment 0, 17 device "
			    "scopes, 1 not recorded");
}

/* ---- hostile tables ---- */

/* Parses and checks the error and where it was found. */
static void expect(const char *name, int err, uint32_t where)
{
	assert_int_equal(parse(name), err);
	assert_int_equal(info.error_offset, where);
	assert_string_not_equal(dmar_strerror(err), "unknown error");
}

static void bad_header(void **state)
{
	(void)state;
	build_qemu(DMAR_FLAG_INTR_REMAP, false);
	assert_int_equal(dmar_parse(tbl, 47, &info), DMAR_ETRUNCATED);
	assert_int_equal(dmar_parse(tbl, tbl_len - 1, &info), DMAR_ETRUNCATED); /* length field */
	/* a buffer longer than the table: only the table is read */
	assert_int_equal(dmar_parse(tbl, TBL_MAX, &info), DMAR_OK);
	tbl[0] = 'X';
	expect("bad-sig", DMAR_EBADSIG, 0);

	build_qemu(0, false);
	set32(4, 40); /* under the 48-byte header */
	expect("len-40", DMAR_ETRUNCATED, 0);

	begin(31, 0);
	finish();
	expect("width-31", DMAR_EBADWIDTH, 0);
	begin(65, 0);
	finish();
	expect("width-65", DMAR_EBADWIDTH, 0);
	begin(32, 0); /* the narrowest accepted, and no structures at all */
	finish();
	assert_int_equal(parse("width-32-empty"), DMAR_OK);
	assert_int_equal(info.nr_units, 0);
	begin(64, 0);
	finish();
	assert_int_equal(parse("width-64-empty"), DMAR_OK);
}

static void bad_lengths(void **state)
{
	(void)state;
	/* a zero-length structure would loop a walk that trusts it */
	build_qemu(0, false);
	tbl_len = 48;
	put16(0x77);
	put16(0);
	finish();
	expect("zero-len", DMAR_EBADLEN, 48);

	/* a unit whose length runs past the table */
	build_qemu(0, false);
	set16(48 + 2, 200);
	finish();
	expect("past-end", DMAR_EBADLEN, 48);

	/* a second structure of which only 2 bytes are left */
	build_qemu(0, false);
	put16(0);
	set32(4, tbl_len);
	expect("header-cut", DMAR_EBADLEN, 72);

	/* each known type under its minimum length, and an unknown type under 4 */
	static const struct {
		uint16_t type, len;
	} short_ones[] = {
		{ 0, 15 }, { 1, 23 }, { 2, 7 }, { 3, 19 }, { 4, 8 }, { 5, 7 }, { 9, 3 }
	};
	for (unsigned i = 0; i < ARRAY_SIZE(short_ones); i++) {
		char name[32];

		begin(39, 0);
		struct_head(short_ones[i].type);
		for (unsigned j = 4; j < short_ones[i].len; j++)
			put8(0);
		finish();
		set16(48 + 2, short_ones[i].len); /* the builder cannot write a length under 4 */
		snprintf(name, sizeof(name), "short-type-%u", short_ones[i].type);
		expect(name, DMAR_EBADLEN, 48);
	}
}

static void bad_scopes(void **state)
{
	(void)state;
	/* a scope whose length runs past its unit (the table goes on behind it) */
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(2, 0);
	end_struct();
	rmrr(0, 0x1000, 0x1fff);
	finish();
	tbl[48 + 16 + 1] = 16;
	expect("scope-past-struct", DMAR_EBADSCOPE, 64);

	/* an odd path length: 9 bytes, half a hop */
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(2, 0);
	put8(0);
	finish();
	expect("scope-odd", DMAR_EBADSCOPE, 64);

	/* no hop at all, length 0, a lone byte left at the unit's end */
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	finish();
	expect("scope-no-path", DMAR_EBADSCOPE, 64);
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(2, 0);
	end_scope();
	put8(0);
	finish();
	expect("scope-lone-byte", DMAR_EBADSCOPE, 72);
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	scope(9, 0, 0);
	put8(0);
	put8(0);
	open_scope = 0; /* leave its length 0 */
	finish();
	expect("scope-reserved-zero", DMAR_EBADSCOPE, 64);

	/* device 32, function 8 */
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(32, 0);
	finish();
	expect("scope-dev-32", DMAR_EBADSCOPE, 64);
	begin(39, 0);
	rmrr(0, 0x1000, 0x1fff);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(1, 0);
	hop(0, 8);
	finish();
	expect("scope-fn-8", DMAR_EBADSCOPE, 72);

	/* scopes of the structures only checked are checked too, and of a unit not stored */
	begin(39, 0);
	atsr_satc(2, 0, 0);
	scope(DMAR_SCOPE_PCI_SUBHIERARCHY, 0, 0);
	finish();
	expect("atsr-bad-scope", DMAR_EBADSCOPE, 56);
	begin(39, 0);
	for (unsigned i = 0; i < DMAR_MAX_UNITS; i++)
		drhd(0, 0, 0, 0xfed00000 + 0x1000ull * i);
	drhd(0, 0, 0, 0xfee00000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
	hop(2, 0);
	put8(0);
	finish();
	expect("dropped-unit-bad-scope", DMAR_EBADSCOPE, 48 + 16 * DMAR_MAX_UNITS + 16);
	assert_int_equal(info.nr_units, DMAR_MAX_UNITS);
}

static void bad_units(void **state)
{
	(void)state;
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90800);
	finish();
	expect("unit-unaligned", DMAR_EBADADDR, 48);
	begin(39, 0);
	drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 0, 0);
	finish();
	expect("unit-zero", DMAR_EBADADDR, 48);
	begin(39, 0);
	drhd(0, 0, 0, 1ull << 39);
	finish();
	expect("unit-past-width", DMAR_EBADADDR, 48);
	begin(39, 0);
	drhd(0, 0xf, 0, (1ull << 39) - 0x1000); /* 128 MiB of registers from the last page */
	finish();
	expect("unit-size-past-width", DMAR_EBADADDR, 48);
	begin(64, 0);
	drhd(0, 0xf, 0, UINT64_MAX - 0xfff); /* the same, at the top of a 64-bit width */
	finish();
	expect("unit-size-wraps", DMAR_EBADADDR, 48);

	/* a unit inside the registers of one before it; the same base twice */
	begin(39, 0);
	drhd(0, 2, 0, 0xfed90000);
	drhd(0, 0, 1, 0xfed93000);
	finish();
	expect("unit-overlap", DMAR_EDUPLICATE, 64);
	begin(39, 0);
	drhd(0, 0, 0, 0xfed90000);
	drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	finish();
	expect("unit-same-base", DMAR_EDUPLICATE, 64);
	/* two units each claiming all of segment 0 */
	begin(39, 0);
	drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 0, 0xfed91000);
	finish();
	expect("unit-two-pci-all", DMAR_EDUPLICATE, 64);
	assert_int_equal(info.nr_units, 1);
}

static void bad_rmrrs(void **state)
{
	static const struct {
		const char *name;
		uint64_t base, limit;
	} bad[] = {
		{ "rmrr-reversed", 0x7d000000, 0x7cffffff },
		{ "rmrr-base-unaligned", 0x7d000800, 0x7d000fff },
		{ "rmrr-limit-unaligned", 0x7d000000, 0x7d000ffe },
		{ "rmrr-limit-page", 0x7d000000, 0x7d001000 },
		{ "rmrr-past-width", 0x7fffff000ull, 0x8000000fffull },
		{ "rmrr-top", 0, UINT64_MAX },
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		begin(39, 0);
		drhd(DMAR_UNIT_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
		rmrr(0, bad[i].base, bad[i].limit);
		scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0);
		hop(0x14, 0);
		finish();
		expect(bad[i].name, DMAR_EBADRANGE, 64);
		assert_int_equal(info.nr_units, 1); /* what came before is kept */
		assert_int_equal(info.nr_rmrrs, 0);
	}
	/* one page, and the last page a 39-bit width reaches */
	begin(39, 0);
	rmrr(0, 0x7d000000, 0x7d000fff);
	rmrr(0, (1ull << 39) - 0x1000, (1ull << 39) - 1);
	finish();
	assert_int_equal(parse("rmrr-edges"), DMAR_OK);
	assert_int_equal(info.nr_rmrrs, 2);
}

static void strings(void **state)
{
	char small[8];
	int n;

	(void)state;
	for (int e = DMAR_OK; e >= DMAR_EDUPLICATE; e--) {
		assert_string_not_equal(dmar_strerror(e), "unknown error");
		for (int f = DMAR_OK; f > e; f--)
			assert_string_not_equal(dmar_strerror(e), dmar_strerror(f));
	}
	assert_string_equal(dmar_strerror(-99), "unknown error");

	build_qemu(0, false);
	assert_int_equal(parse("qemu-plain"), DMAR_OK);
	n = dmar_describe_unit(&info.units[0], small, sizeof(small));
	assert_int_equal(n, (int)strlen("VT-d unit at 0xfed90000, segment 0, all PCI devices"));
	assert_string_equal(small, "VT-d un");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_intel_iommu), cmocka_unit_test(multi_unit),
		cmocka_unit_test(too_many),	    cmocka_unit_test(bad_header),
		cmocka_unit_test(bad_lengths),	    cmocka_unit_test(bad_scopes),
		cmocka_unit_test(bad_units),	    cmocka_unit_test(bad_rmrrs),
		cmocka_unit_test(strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
