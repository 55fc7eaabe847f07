/* The host ACPI parser on hand-made, firmware-like table sets: RSDT-only revision 0 RSDPs, XSDTs,
 * bad checksums, truncated and oversized tables, MADTs with odd entry lengths, FADTs of several
 * revisions, and \_S5 in the encodings real DSDTs use. When the machine running the test exposes
 * its own tables in /sys/firmware/acpi/tables (root only), they are parsed too.
 *
 * Every set is laid out in an image mapped at IMG_BASE with the RSDP first, the format
 * fuzz_acpi_host reads; with ACPI_WRITE_SEEDS=DIR set, each set is written there as a seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "drivers/acpi_host.h"
#include "lib/kstring.h"

#define IMG_BASE 0xE0000ull
#define IMG_SIZE 0x8000

static uint8_t img[IMG_SIZE];
static size_t img_used;

/* Extra ranges beyond the image (the real firmware's DSDT at its own address). */
static struct {
	uint64_t phys;
	size_t size;
	const uint8_t *p;
} extra[2];
static unsigned nr_extra;
static unsigned nr_maps;

static const void *map(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	nr_maps++;
	if (phys >= IMG_BASE && phys - IMG_BASE <= img_used && len <= img_used - (phys - IMG_BASE))
		return img + (phys - IMG_BASE);
	for (unsigned i = 0; i < nr_extra; i++)
		if (phys >= extra[i].phys && phys - extra[i].phys <= extra[i].size &&
		    len <= extra[i].size - (phys - extra[i].phys))
			return extra[i].p + (phys - extra[i].phys);
	return NULL;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Starts a new image; the RSDP's 36 bytes come first. */
static void img_reset(void)
{
	memset(img, 0, sizeof(img));
	img_used = 0x40;
	nr_extra = 0;
}

static uint8_t *img_alloc(size_t len, uint64_t *phys)
{
	size_t off = ALIGN_UP(img_used, 16);
	assert_true(off + len <= IMG_SIZE);
	img_used = off + len;
	*phys = IMG_BASE + off;
	return img + off;
}

static void seal(uint8_t *t)
{
	t[9] = 0;
	t[9] = (uint8_t)-sum(t, t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24);
}

/* A table with a header and body, checksummed. */
static uint64_t table(const char *sig, uint8_t rev, const void *body, size_t body_len)
{
	uint64_t phys;
	uint8_t *t = img_alloc(36 + body_len, &phys);

	memcpy(t, sig, 4);
	put32(t + 4, (uint32_t)(36 + body_len));
	t[8] = rev;
	memcpy(t + 10, "FWVEND", 6);
	memcpy(t + 16, "FWMODEL ", 8);
	if (body_len)
		memcpy(t + 36, body, body_len);
	seal(t);
	return phys;
}

static uint8_t *at(uint64_t phys)
{
	return img + (phys - IMG_BASE);
}

static void rsdp(uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memcpy(img, "RSD PTR ", 8);
	memcpy(img + 9, "FWVEND", 6);
	img[15] = rev;
	put32(img + 16, rsdt);
	if (rev >= 2) {
		put32(img + 20, 36);
		put64(img + 24, xsdt);
	}
	img[8] = (uint8_t)-sum(img, 20);
	if (rev >= 2)
		img[32] = (uint8_t)-sum(img, 36);
}

static uint64_t root(bool xsdt, const uint64_t *tables, unsigned n)
{
	uint8_t body[8 * 128];
	unsigned sz = xsdt ? 8 : 4;

	assert_true(n <= 128);
	for (unsigned i = 0; i < n; i++) {
		if (xsdt)
			put64(body + 8 * i, tables[i]);
		else
			put32(body + 4 * i, (uint32_t)tables[i]);
	}
	return table(xsdt ? "XSDT" : "RSDT", 1, body, sz * n);
}

/* An FADT of len bytes (116: ACPI 1.0, 244: 3.0, 276: 6.x) with PM1a at 0x400 and 0x404, PM1b
 * control at 0x420 and the PM timer at 0x408. */
static uint64_t fadt(uint32_t len, uint8_t rev, uint64_t dsdt)
{
	uint8_t f[276] = { 0 }; /* the header is table()'s; offsets read as in 5.2.9 */

	put32(f + 40, (uint32_t)dsdt);
	put16(f + 46, 9);
	put32(f + 48, 0xB2);
	f[52] = 0xF0;
	put32(f + 56, 0x400);
	put32(f + 64, 0x404);
	put32(f + 68, 0x420);
	put32(f + 76, 0x408);
	f[88] = 4;
	f[89] = 2;
	f[91] = 4;
	put32(f + 112, 1u << 10); /* RESET_REG_SUP */
	if (len >= 129) {
		f[116] = 1;
		f[117] = 8;
		f[119] = 1;
		put64(f + 120, 0xCF9);
		f[128] = 6;
	}
	if (len >= 148)
		put64(f + 140, dsdt);
	return table("FACP", rev, f + 36, len - 36);
}

static uint64_t dsdt(const char *sig, const uint8_t *aml, size_t len)
{
	return table(sig, 2, aml, len);
}

static void write_seed(const char *name)
{
	const char *dir = getenv("ACPI_WRITE_SEEDS");
	char path[512];

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, img_used, f), img_used);
	fclose(f);
}

static const uint8_t s5_7[] = { 0x08, '_',  'S',  '5',	'_',  0x12, 0x08,
				0x04, 0x0A, 0x07, 0x0A, 0x07, 0x00, 0x00 };

static const uint8_t madt_two_cpus[] = {
	0x00, 8,  0, 0, 1, 0, 0,    0,		      /* CPU 0: APIC ID 0, enabled */
	0x00, 8,  1, 2, 1, 0, 0,    0,		      /* CPU 1: APIC ID 2, enabled */
	0x01, 12, 3, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0, /* IOAPIC 3 at 0xFEC00000 */
	0x02, 10, 0, 0, 2, 0, 0,    0,	  0, 0,	      /* IRQ0 -> GSI2 */
};

static uint64_t madt(uint8_t rev, const uint8_t *entries, size_t len)
{
	uint8_t b[4096];
	assert_true(len + 8 <= sizeof(b));
	put32(b, 0xFEE00000);
	put32(b + 4, 1);
	memcpy(b + 8, entries, len);
	return table("APIC", rev, b, 8 + len);
}

/* ---- root tables ---- */

static void rsdt_only_v1(void **state)
{
	(void)state;
	struct acpi_host h;
	struct acpi_host_fadt f;
	static struct acpi_host_madt m;
	uint8_t a, b;

	img_reset();
	uint64_t d = dsdt("DSDT", s5_7, sizeof(s5_7));
	uint64_t t[] = { fadt(116, 1, d), madt(1, madt_two_cpus, sizeof(madt_two_cpus)) };
	rsdp(0, (uint32_t)root(false, t, 2), 0);
	write_seed("v1-rsdt");

	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_false(h.xsdt);
	assert_int_equal(h.rsdp_revision, 0);
	assert_string_equal(h.oem_id, "FWVEND");
	assert_int_equal(h.nr_tables, 2);
	assert_int_equal(acpi_host_find_table(&h, "FACP", 0), t[0]);
	assert_int_equal(acpi_host_find_table(&h, "APIC", 0), t[1]);
	assert_int_equal(acpi_host_find_table(&h, "DSDT", 0), 0);

	/* an ACPI 1.0 FADT: ports from the 32-bit fields, no reset register */
	assert_int_equal(acpi_host_parse_fadt(&h, &f), 0);
	assert_int_equal(f.length, 116);
	assert_int_equal(f.dsdt, d);
	assert_int_equal(f.smi_cmd, 0xB2);
	assert_int_equal(f.acpi_enable, 0xF0);
	assert_int_equal(f.pm1a_cnt.space_id, ACPI_GAS_IO);
	assert_int_equal(f.pm1a_cnt.address, 0x404);
	assert_int_equal(f.pm1a_cnt.bit_width, 16);
	assert_int_equal(f.pm1b_cnt.address, 0x420);
	assert_int_equal(f.pm1a_evt.address, 0x400);
	assert_int_equal(f.pm1b_evt.address, 0);
	assert_int_equal(f.pm_tmr.address, 0x408);
	assert_int_equal(f.pm_tmr.bit_width, 32);
	assert_false(f.reset_supported);
	assert_int_equal(acpi_host_get_s5(&h, &f, &a, &b), 0);
	assert_int_equal(a, 7);
	assert_int_equal(b, 7);

	assert_int_equal(acpi_host_parse_madt(&h, &m), 0);
	assert_int_equal(m.nr_cpus, 2);
	assert_int_equal(m.cpus[1].apic_id, 2);
	assert_int_equal(m.cpus[1].uid, 1);
	assert_true(m.cpus[1].enabled);
	assert_int_equal(m.nr_ioapics, 1);
	assert_int_equal(m.ioapics[0].id, 3);
	assert_int_equal(m.ioapics[0].addr, 0xFEC00000);
	assert_int_equal(m.nr_overrides, 1);
	assert_int_equal(m.lapic_addr, 0xFEE00000);

	/* found by the BIOS-area scan; an RSDP on a non-16-byte boundary would not be */
	uint64_t phys = 0;
	assert_int_equal(acpi_host_find_rsdp(map, NULL, &phys), 0);
	assert_int_equal(phys, IMG_BASE);
}

static void xsdt_v2_and_fallbacks(void **state)
{
	(void)state;
	struct acpi_host h;
	struct acpi_host_fadt f;

	img_reset();
	uint64_t d = dsdt("DSDT", s5_7, sizeof(s5_7));
	uint64_t fa = fadt(276, 6, d);
	/* X_PM1a_CNT_BLK names another port than the 32-bit field: the X_ field wins (5.2.9) */
	put64(at(fa) + 172 + 4, 0x1804);
	at(fa)[172] = 1;
	at(fa)[173] = 16;
	/* an X_PM1b_CNT_BLK in I/O space above 0xFFFF is unusable: the 32-bit field is used */
	at(fa)[184] = 1;
	put64(at(fa) + 184 + 4, 0x12345);
	seal(at(fa));
	uint64_t t[] = { fa, madt(5, madt_two_cpus, sizeof(madt_two_cpus)) };
	uint64_t rsdt = root(false, t, 1); /* the RSDT lists only the FADT */
	uint64_t xsdt = root(true, t, 2);
	rsdp(2, (uint32_t)rsdt, xsdt);
	write_seed("v2-xsdt");

	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_true(h.xsdt);
	assert_int_equal(h.root_phys, xsdt);
	assert_int_equal(h.nr_tables, 2);
	assert_int_equal(acpi_host_parse_fadt(&h, &f), 0);
	assert_int_equal(f.pm1a_cnt.address, 0x1804);
	assert_int_equal(f.pm1b_cnt.address, 0x420);
	assert_true(f.reset_supported);
	assert_int_equal(f.reset_reg.address, 0xCF9);
	assert_int_equal(f.reset_value, 6);

	/* a bad XSDT checksum: back to the RSDT */
	at(xsdt)[20] ^= 1;
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_false(h.xsdt);
	assert_int_equal(h.nr_tables, 1);
	at(xsdt)[20] ^= 1;

	/* a bad extended checksum: the revision 2 part is not trusted, the RSDT is used */
	img[32] ^= 0x55;
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_false(h.xsdt);
	img[32] ^= 0x55;

	/* an RSDP length under 36 or past what is readable: same */
	put32(img + 20, 35);
	img[32] = 0;
	img[32] = (uint8_t)-sum(img, 36);
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_false(h.xsdt);
	put32(img + 20, 0xFFFFFFFF);
	img[32] = 0;
	img[32] = (uint8_t)-sum(img, 36);
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_false(h.xsdt);

	/* both roots broken: an error, no tables */
	at(rsdt)[20] ^= 1;
	at(xsdt)[20] ^= 1;
	assert_true(acpi_host_init(&h, map, NULL, IMG_BASE) < 0);
	assert_int_equal(h.nr_tables, 0);

	/* the RSDP's own checksum, signature, and readability */
	rsdp(2, (uint32_t)rsdt, xsdt);
	img[8] ^= 1;
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), ACPI_HOST_EBADSUM);
	img[0] = 'X';
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), ACPI_HOST_EBADSIG);
	assert_int_equal(acpi_host_init(&h, map, NULL, 0x1000), ACPI_HOST_ENOMAP);
	assert_int_equal(acpi_host_init(&h, map, NULL, UINT64_MAX - 4), ACPI_HOST_ENOMAP);
	assert_int_equal(acpi_host_init_copy(&h, map, NULL, img, 19), ACPI_HOST_EBADLEN);
	uint64_t phys;
	assert_int_equal(acpi_host_find_rsdp(map, NULL, &phys), ACPI_HOST_ENOTFOUND);
	assert_string_equal(acpi_host_strerror(ACPI_HOST_EBADSIG), "bad signature");
}

static void duplicate_and_odd_root_entries(void **state)
{
	(void)state;
	struct acpi_host h;
	static struct acpi_host_madt m;
	uint64_t t[100];

	img_reset();
	uint64_t ma = madt(1, madt_two_cpus, sizeof(madt_two_cpus));
	uint64_t junk = table("JUNK", 1, NULL, 0);
	/* the MADT listed many times, nulls, an unreadable address, a pointer into the
	 * middle of a table, and (below) the XSDT itself */
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		t[i] = i % 3 == 0 ? ma : i % 3 == 1 ? 0 : junk;
	t[4] = 0xFFFFFFFFFFFFF000ull;
	t[7] = ma + 4;
	uint64_t xsdt = root(true, t, ARRAY_SIZE(t));
	put64(at(xsdt) + 36 + 8 * 10, xsdt);
	seal(at(xsdt));
	rsdp(2, 0, xsdt);
	write_seed("dup-entries");

	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	/* MADT, JUNK, the odd address, the mid-table pointer and the XSDT: once each */
	assert_int_equal(h.nr_tables, 5);
	assert_int_equal(acpi_host_find_table(&h, "APIC", 0), ma);
	assert_int_equal(acpi_host_find_table(&h, "APIC", 1), 0);
	assert_int_equal(acpi_host_find_table(&h, "XSDT", 0), xsdt);
	assert_int_equal(acpi_host_parse_madt(&h, &m), 0);
	assert_int_equal(m.nr_cpus, 2);

	/* more distinct tables than ACPI_HOST_MAX_TABLES: the rest are counted, not kept */
	img_reset();
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		t[i] = IMG_BASE + 0x1000 + 16 * i;
	rsdp(0, (uint32_t)root(false, t, ARRAY_SIZE(t)), 0);
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(h.nr_tables, ACPI_HOST_MAX_TABLES);
	assert_int_equal(h.nr_dropped, ARRAY_SIZE(t) - ACPI_HOST_MAX_TABLES);
	assert_int_equal(acpi_host_find_table(&h, "APIC", 0), 0);
}

static void bad_tables(void **state)
{
	(void)state;
	struct acpi_host h;
	struct acpi_host_fadt f;
	static struct acpi_host_madt m;
	uint32_t len;
	int err;

	img_reset();
	uint64_t fa = fadt(276, 6, 0);
	uint64_t ma = madt(3, madt_two_cpus, sizeof(madt_two_cpus));
	uint64_t t[] = { fa, ma };
	rsdp(0, (uint32_t)root(false, t, 2), 0);
	write_seed("bad-tables");
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);

	/* bad checksum: not found, and map_table says why */
	at(fa)[50] ^= 0x10;
	assert_int_equal(acpi_host_find_table(&h, "FACP", 0), 0);
	assert_int_equal(acpi_host_parse_fadt(&h, &f), ACPI_HOST_ENOTFOUND);
	assert_null(acpi_host_map_table(&h, fa, "FACP", &len, &err));
	assert_int_equal(err, ACPI_HOST_EBADSUM);
	at(fa)[50] ^= 0x10;
	assert_int_equal(acpi_host_parse_fadt(&h, &f), 0);
	assert_null(acpi_host_map_table(&h, fa, "APIC", &len, &err));
	assert_int_equal(err, ACPI_HOST_EBADSIG);

	/* lengths: under a header, past the readable memory, absurd */
	static const uint32_t lens[] = { 0, 35, IMG_SIZE, 0x7FFFFFFF, 0xFFFFFFFF };
	static const int want[] = { ACPI_HOST_EBADLEN, ACPI_HOST_EBADLEN, ACPI_HOST_ENOMAP,
				    ACPI_HOST_EBADLEN, ACPI_HOST_EBADLEN };
	for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
		put32(at(ma) + 4, lens[i]);
		assert_null(acpi_host_map_table(&h, ma, NULL, &len, &err));
		assert_int_equal(err, want[i]);
		assert_int_equal(acpi_host_parse_madt(&h, &m), ACPI_HOST_ENOTFOUND);
	}
	/* a table whose header is readable but whose end is not (truncated by the image) */
	put32(at(ma) + 4, 36 + 8 + sizeof(madt_two_cpus));
	seal(at(ma));
	assert_int_equal(acpi_host_parse_madt(&h, &m), 0);
	size_t keep = img_used;
	img_used = (size_t)(ma - IMG_BASE) + 40;
	assert_int_equal(acpi_host_parse_madt(&h, &m), ACPI_HOST_ENOTFOUND);
	img_used = keep;

	/* an FADT too short to reach Flags */
	put32(at(fa) + 4, 100);
	seal(at(fa));
	assert_int_equal(acpi_host_parse_fadt(&h, &f), ACPI_HOST_EBADLEN);
	/* a 3.0-size FADT: no SLEEP_* registers, 64-bit DSDT pointer used */
	put32(at(fa) + 4, 244);
	put64(at(fa) + 140, 0x12345678900ull);
	seal(at(fa));
	assert_int_equal(acpi_host_parse_fadt(&h, &f), 0);
	assert_int_equal(f.dsdt, 0x12345678900ull);
	assert_int_equal(f.sleep_control.address, 0);
	uint8_t a, b;
	assert_int_equal(acpi_host_get_s5(&h, &f, &a, &b), ACPI_HOST_ENOMAP);
	/* a MADT too short for its fixed fields */
	put32(at(ma) + 4, 40);
	seal(at(ma));
	assert_int_equal(acpi_host_parse_madt(&h, &m), ACPI_HOST_EBADLEN);
}

/* ---- MADT entries ---- */

static int parse_madt(uint8_t rev, const uint8_t *entries, size_t len, struct acpi_host_madt *m)
{
	struct acpi_host h;

	img_reset();
	uint64_t t[] = { madt(rev, entries, len) };
	rsdp(0, (uint32_t)root(false, t, 1), 0);
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	return acpi_host_parse_madt(&h, m);
}

static void madt_odd_entries(void **state)
{
	(void)state;
	static struct acpi_host_madt m;

	/* length 0 and length 1 end the walk (they cannot advance), keeping what came before */
	static const uint8_t zero_len[] = { 0x00, 8, 0, 0, 1, 0, 0, 0, 0x00, 0, 1, 1, 1, 0, 0, 0 };
	nr_maps = 0;
	assert_int_equal(parse_madt(1, zero_len, sizeof(zero_len), &m), ACPI_HOST_EMALFORMED);
	assert_int_equal(m.nr_cpus, 1);
	assert_true(nr_maps < 20);
	write_seed("madt-zero-len");
	static const uint8_t one_len[] = { 0x01, 1, 0, 0 };
	assert_int_equal(parse_madt(1, one_len, sizeof(one_len), &m), ACPI_HOST_EMALFORMED);
	/* an entry running past the table, and a lone trailing byte */
	static const uint8_t past_end[] = { 0x00, 8, 0, 0, 1, 0, 0, 0, 0x00, 9, 1, 1, 1, 0, 0, 0 };
	assert_int_equal(parse_madt(1, past_end, sizeof(past_end), &m), ACPI_HOST_EMALFORMED);
	assert_int_equal(m.nr_cpus, 1);
	static const uint8_t trailing[] = { 0x00, 8, 0, 0, 1, 0, 0, 0, 0x00 };
	assert_int_equal(parse_madt(1, trailing, sizeof(trailing), &m), ACPI_HOST_EMALFORMED);

	static const uint8_t odd[] = {
		0x00, 10, 0, 4,	   1,	 0,    0,    0,	   0xAA, 0xBB, /* longer than 8: fine, read the 8 */
		0x00, 6,  1, 5,	   1,	 0,			       /* shorter than 8: skipped */
		0x7F, 3,  0,					       /* unknown type: skipped */
		0x00, 8,  2, 4,	   1,	 0,    0,    0, /* APIC ID 4 again: dropped */
		0x00, 8,  3, 0xFF, 0,	 0,    0,    0, /* APIC ID 0xFF: not a processor */
		0x00, 8,  4, 6,	   0,	 0,    0,    0, /* disabled, not online capable */
		0x00, 8,  5, 7,	   2,	 0,    0,    0, /* online capable (revision 5 only) */
		0x09, 16, 0, 0,	   0x00, 0x01, 0,    0,	   1,	 0,    0, 0,	9,
		0,    0,  0, /* x2APIC ID 256 */
		0x09, 16, 0, 0,	   0xFF, 0xFF, 0xFF, 0xFF, 1,	 0,    0, 0,	10,
		0,    0,  0,						     /* invalid ID */
		0x09, 12, 0, 0,	   0x01, 0x01, 0,    0,	   1,	 0,    0, 0, /* too short: skipped */
		0x05, 12, 0, 0,	   0,	 0,    0xE0, 0xFE, 1,	 0,    0, 0, /* LAPIC address override */
		0x01, 12, 1, 0,	   0,	 0,    0xC0, 0xFE, 0,	 0,    0, 0,	0x01,
		12,   2,  0, 0,	   0x10, 0xC0, 0xFE, 24,   0,	 0,    0, 0x02, 10,
		0,    9,  9, 0,	   0,	 0,    0x0D, 0,
	};
	assert_int_equal(parse_madt(5, odd, sizeof(odd), &m), 0);
	write_seed("madt-odd");
	assert_int_equal(m.nr_cpus, 4);
	assert_int_equal(m.cpus[0].apic_id, 4);
	assert_true(m.cpus[0].enabled);
	assert_int_equal(m.cpus[1].apic_id, 6);
	assert_false(m.cpus[1].enabled);
	assert_false(m.cpus[1].online_capable);
	assert_int_equal(m.cpus[2].apic_id, 7);
	assert_false(m.cpus[2].enabled);
	assert_true(m.cpus[2].online_capable);
	assert_int_equal(m.cpus[3].apic_id, 256);
	assert_int_equal(m.cpus[3].uid, 9);
	assert_true(m.cpus[3].x2apic);
	assert_int_equal(m.nr_dropped, 3);
	assert_int_equal(m.nr_short, 2);
	assert_int_equal(m.lapic_addr, 0x1FEE00000ull);
	assert_int_equal(m.nr_ioapics, 2);
	assert_int_equal(m.ioapics[1].gsi_base, 24);
	assert_int_equal(m.ioapics[1].addr, 0xFEC01000);
	assert_int_equal(m.nr_overrides, 1);
	assert_int_equal(m.overrides[0].flags, 0xD);
	/* before revision 5 the Online Capable bit is reserved and ignored */
	assert_int_equal(parse_madt(3, odd, sizeof(odd), &m), 0);
	assert_false(m.cpus[2].online_capable);

	/* more CPUs than ACPI_HOST_MAX_CPUS: the rest are counted */
	static uint8_t many[300 * 8];
	for (unsigned i = 0; i < 300; i++) {
		uint8_t e[8] = { 0, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0 };
		memcpy(many + 8 * i, e, 8);
		if (i >= 255)
			many[8 * i + 3] = (uint8_t)(i - 255); /* repeats */
	}
	assert_int_equal(parse_madt(1, many, sizeof(many), &m), 0);
	assert_int_equal(m.nr_cpus, 255);
	assert_int_equal(m.nr_dropped, 300 - 255);
}

/* ---- \_S5 ---- */

static int s5(const uint8_t *aml, size_t len, uint8_t *a, uint8_t *b)
{
	/* an exact-size copy, so ASan sees any read past the end */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, aml, len);
	*a = *b = 0xEE;
	int r = acpi_host_find_s5_aml(copy, len, a, b);
	free(copy);
	return r;
}

#define S5_OK(want_a, want_b, ...)                                                                 \
	do {                                                                                       \
		static const uint8_t aml_[] = { __VA_ARGS__ };                                     \
		uint8_t a_, b_;                                                                    \
		assert_int_equal(s5(aml_, sizeof(aml_), &a_, &b_), 0);                             \
		assert_int_equal(a_, want_a);                                                      \
		assert_int_equal(b_, want_b);                                                      \
	} while (0)

#define S5_NONE(...)                                                                               \
	do {                                                                                       \
		static const uint8_t aml_[] = { __VA_ARGS__ };                                     \
		uint8_t a_, b_;                                                                    \
		assert_int_equal(s5(aml_, sizeof(aml_), &a_, &b_), ACPI_HOST_ENOTFOUND);           \
	} while (0)

#define NAME_S5 0x08, '_', 'S', '5', '_'

static void s5_encodings(void **state)
{
	(void)state;
	/* BytePrefix, as iasl writes 0x07 */
	S5_OK(7, 7, NAME_S5, 0x12, 0x08, 0x04, 0x0A, 0x07, 0x0A, 0x07, 0x00, 0x00);
	/* ZeroOp and OneOp */
	S5_OK(0, 0, NAME_S5, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00);
	S5_OK(1, 0, NAME_S5, 0x12, 0x04, 0x02, 0x01, 0x00);
	/* Word, DWord and QWord constants: the low byte counts */
	S5_OK(5, 6, NAME_S5, 0x12, 0x0A, 0x02, 0x0B, 0x05, 0x00, 0x0C, 0x06, 0, 0, 0);
	S5_OK(7, 3, NAME_S5, 0x12, 0x0D, 0x02, 0x0E, 7, 0, 0, 0, 0, 0, 0, 0, 0x0A, 0x03);
	/* OnesOp */
	S5_OK(0xFF, 0xFF, NAME_S5, 0x12, 0x04, 0x02, 0xFF, 0xFF);
	/* a root prefix, parent prefixes, and inside Scope (\) { } */
	S5_OK(7, 7, 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0A, 0x07, 0x0A, 0x07);
	S5_OK(6, 6, 0x08, '^', '^', '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0A, 0x06, 0x0A, 0x06);
	S5_OK(5, 5, 0x10, 0x0F, '\\', 0x00, NAME_S5, 0x12, 0x06, 0x02, 0x0A, 0x05, 0x0A, 0x05);
	/* one element holding both: a in bits 7:0, b in bits 15:8 */
	S5_OK(7, 6, NAME_S5, 0x12, 0x05, 0x01, 0x0B, 0x07, 0x06);
	S5_OK(7, 0, NAME_S5, 0x12, 0x04, 0x01, 0x0A, 0x07);
	/* a two-byte PkgLength (not the shortest form: still valid) */
	S5_OK(7, 7, NAME_S5, 0x12, 0x49, 0x00, 0x04, 0x0A, 0x07, 0x0A, 0x07, 0x00, 0x00);
	/* a decoy: "_S5_" in a string and after a MethodOp's PkgLength, then the real one */
	S5_OK(3, 4, 0x0D, '_', 'S', '5', '_', 0x00, 0x14, 0x08, '_', 'S', '5', '_', 0x00, 0xA4,
	      0x00, NAME_S5, 0x12, 0x06, 0x02, 0x0A, 0x03, 0x0A, 0x04);
	/* a NameOp _S5_ whose value is not a package, then a good one */
	S5_OK(2, 2, NAME_S5, 0x0A, 0x05, NAME_S5, 0x12, 0x06, 0x02, 0x0A, 0x02, 0x0A, 0x02);

	S5_NONE();
	S5_NONE('_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x0A, 0x02);
	S5_NONE(NAME_S5);
	S5_NONE(NAME_S5, 0x12);
	S5_NONE(NAME_S5, 0x12, 0x02, 0x00); /* no elements */
	/* two elements promised, one given */
	S5_NONE(NAME_S5, 0x0A, 0x05, NAME_S5, 0x12, 0x04, 0x02, 0x0A, 0x02);
	S5_NONE(NAME_S5, 0x12, 0x05, 0x02, 0x0A, 0x02);		    /* PkgLength past the end */
	S5_NONE(NAME_S5, 0x12, 0x05, 0x02, 0x0A, 0x02, 0x0A);	    /* element cut by the end */
	S5_NONE(NAME_S5, 0x12, 0x04, 0x02, 0x0A, 0x02, 0x0A, 0x02); /* ... by the PkgLength */
	S5_NONE(NAME_S5, 0x12, 0x00, 0x02, 0x0A, 0x02, 0x0A, 0x02); /* PkgLength 0 */
	S5_NONE(NAME_S5, 0x12, 0x01, 0x02, 0x0A, 0x02, 0x0A, 0x02); /* PkgLength under itself */
	S5_NONE(NAME_S5, 0x12, 0x59, 0x00, 0x02, 0x0A, 0x02, 0x0A, 0x02); /* reserved bits */
	S5_NONE(NAME_S5, 0x12, 0xC9, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0x00); /* huge PkgLength */
	S5_NONE(NAME_S5, 0x12, 0x07, 0x02, 'A', 'B', 'C', 'D', 0x00);	  /* a name, not a value */
	S5_NONE(NAME_S5, 0x13, 0x05, 0x0A, 0x02, 0x0A, 0x02);		  /* VarPackageOp */
	S5_NONE(0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x0A, 0x02);

	/* a big package (PkgLength over 63) whose first two elements are S5's */
	uint8_t big[5 + 3 + 1 + 2 * 100];
	memcpy(big, (const uint8_t[]){ NAME_S5 }, 5);
	big[5] = 0x12;
	uint32_t plen = 2 + 1 + 2 * 100;
	big[6] = (uint8_t)(0x40 | (plen & 0xF));
	big[7] = (uint8_t)(plen >> 4);
	big[8] = 100;
	for (unsigned i = 0; i < 100; i++) {
		big[9 + 2 * i] = 0x0A;
		big[10 + 2 * i] = (uint8_t)(i + 3);
	}
	uint8_t a, b;
	assert_int_equal(s5(big, sizeof(big), &a, &b), 0);
	assert_int_equal(a, 3);
	assert_int_equal(b, 4);
	assert_int_equal(s5(big, sizeof(big) - 1, &a, &b), ACPI_HOST_ENOTFOUND);
}

static void s5_from_ssdt(void **state)
{
	(void)state;
	struct acpi_host h;
	struct acpi_host_fadt f;
	uint8_t a, b;
	static const uint8_t no_s5[] = { 0x10, 0x06, '\\', '_', 'S', 'B', '_' };
	static const uint8_t s5_3[] = { NAME_S5, 0x12, 0x06, 0x02, 0x0A, 0x03, 0x0A, 0x03 };

	img_reset();
	uint64_t d = dsdt("DSDT", no_s5, sizeof(no_s5));
	uint64_t ssdt1 = dsdt("SSDT", no_s5, sizeof(no_s5));
	uint64_t ssdt2 = dsdt("SSDT", s5_3, sizeof(s5_3));
	uint64_t t[] = { fadt(276, 6, d), ssdt1, ssdt2 };
	rsdp(2, 0, root(true, t, 3));
	write_seed("s5-in-ssdt");
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(acpi_host_parse_fadt(&h, &f), 0);
	assert_int_equal(acpi_host_get_s5(&h, &f, &a, &b), 0);
	assert_int_equal(a, 3);
	assert_int_equal(acpi_host_find_table(&h, "SSDT", 1), ssdt2);
	/* no _S5 anywhere */
	at(ssdt2)[36 + 2] = 'X';
	seal(at(ssdt2));
	assert_int_equal(acpi_host_get_s5(&h, &f, &a, &b), ACPI_HOST_ENOTFOUND);
	/* a DSDT with a bad checksum is not read */
	static const uint8_t s5_dsdt[] = { NAME_S5, 0x12, 0x06, 0x02, 0x0A, 0x03, 0x0A, 0x03 };
	img_reset();
	d = dsdt("DSDT", s5_dsdt, sizeof(s5_dsdt));
	uint64_t t2[] = { fadt(276, 6, d) };
	rsdp(2, 0, root(true, t2, 1));
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(acpi_host_parse_fadt(&h, &f), 0);
	assert_int_equal(acpi_host_get_s5(&h, &f, &a, &b), 0);
	at(d)[40] ^= 1;
	assert_int_equal(acpi_host_get_s5(&h, &f, &a, &b), ACPI_HOST_EBADSUM);
}

/* ---- this machine's own tables, when it shows them ---- */

static size_t read_file(const char *path, uint8_t *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

static void this_machine(void **state)
{
	(void)state;
	static const char dir[] = "/sys/firmware/acpi/tables";
	static uint8_t dsdt_buf[1 << 20];
	uint64_t t[32];
	unsigned n = 0;
	struct acpi_host h;
	struct acpi_host_fadt f;
	static struct acpi_host_madt m;
	char path[600];
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		printf("  (no %s: skipped)\n", dir);
		return;
	}
	/* the tables as the firmware wrote them, each at a new address behind our own RSDP and
	 * XSDT; the DSDT (not a root-table entry) stays at the address the FADT gives */
	img_reset();
	while ((de = readdir(d)) && n < ARRAY_SIZE(t)) {
		uint8_t buf[IMG_SIZE / 2];
		size_t len;
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "DSDT") || strlen(de->d_name) > 5)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = read_file(path, buf, sizeof(buf));
		if (len < 36 || len >= sizeof(buf) || img_used + len + 0x100 > IMG_SIZE)
			continue;
		uint64_t phys;
		memcpy(img_alloc(len, &phys), buf, len);
		t[n++] = phys;
	}
	closedir(d);
	if (n == 0) {
		printf("  (%s not readable: skipped)\n", dir);
		return;
	}
	rsdp(2, 0, root(true, t, n));
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(h.nr_tables, n);
	for (unsigned i = 0; i < n; i++)
		assert_non_null(acpi_host_map_table(&h, t[i], NULL, NULL, NULL));
	printf("  this machine: %u tables", n);
	if (acpi_host_parse_madt(&h, &m) == 0) {
		assert_true(m.nr_cpus >= 1);
		printf(", MADT: %u CPUs, %u IOAPICs", m.nr_cpus, m.nr_ioapics);
	}
	static struct acpi_host_mcfg mc;
	if (acpi_host_parse_mcfg(&h, &mc) == 0)
		printf(", MCFG: %u ranges (%u refused)", mc.nr, mc.nr_dropped);
	if (acpi_host_parse_fadt(&h, &f) == 0) {
		printf(", FADT rev %u%s, PM1a_CNT 0x%llx", f.revision,
		       f.hw_reduced ? " (hardware-reduced)" : "",
		       (unsigned long long)f.pm1a_cnt.address);
		snprintf(path, sizeof(path), "%s/DSDT", dir);
		size_t len = read_file(path, dsdt_buf, sizeof(dsdt_buf));
		if (len >= 36 && f.dsdt) {
			extra[nr_extra++] = (typeof(extra[0])){ f.dsdt, len, dsdt_buf };
			uint8_t a, b;
			int r = acpi_host_get_s5(&h, &f, &a, &b);
			assert_true(r == 0 || r == ACPI_HOST_ENOTFOUND);
			if (r == 0)
				printf(", _S5 %u/%u", a, b);
			else
				printf(", no _S5");
		}
	}
	printf("\n");
}

/* An MCFG allocation structure (PCI Firmware Specification 3.0, 4.1.2, table 4-3). */
static void mcfg_entry(uint8_t *e, uint64_t base, uint16_t seg, uint8_t start, uint8_t end)
{
	put64(e, base);
	put16(e + 8, seg);
	e[10] = start;
	e[11] = end;
}

/* MCFGs: QEMU q35's one range, ranges that overlap, lie about their bus numbers, sit unaligned,
 * at 0 or past 52-bit addresses, more entries than fit, a truncated entry, a table too short. */
static void mcfg_allocations(void **state)
{
	(void)state;
	struct acpi_host h;
	static struct acpi_host_mcfg m;
	uint8_t body[8 + 16 * 24] = { 0 }; /* 8 reserved bytes, then the entries */
	uint8_t *e = body + 8;

	img_reset();
	mcfg_entry(e, 0xB0000000, 0, 0, 255);
	uint64_t t[] = { table("MCFG", 1, body, 8 + 16 + 7) }; /* 7 trailing bytes: ignored */
	rsdp(2, 0, root(true, t, 1));
	write_seed("mcfg-q35");
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(acpi_host_parse_mcfg(&h, &m), 0);
	assert_int_equal(m.nr, 1);
	assert_int_equal(m.nr_dropped, 0);
	assert_int_equal(m.alloc[0].base, 0xB0000000);
	assert_int_equal(m.alloc[0].segment, 0);
	assert_int_equal(m.alloc[0].bus_start, 0);
	assert_int_equal(m.alloc[0].bus_end, 255);

	img_reset();
	memset(body, 0, sizeof(body));
	mcfg_entry(e + 0 * 16, 0xE0000000, 0, 0, 0x3F);	     /* kept */
	mcfg_entry(e + 1 * 16, 0xF0000000, 0, 0x3F, 0x40);   /* overlaps the first: dropped */
	mcfg_entry(e + 2 * 16, 0xC0000000, 1, 0x80, 0xFF);   /* segment 1, starts at bus 0x80 */
	mcfg_entry(e + 3 * 16, 0xD0000000, 0, 0x50, 0x4F);   /* end below start */
	mcfg_entry(e + 4 * 16, 0, 0, 0x60, 0x6F);	     /* base 0 */
	mcfg_entry(e + 5 * 16, 0xD0080000, 0, 0x70, 0x7F);   /* not 1 MiB aligned */
	mcfg_entry(e + 6 * 16, (1ull << 52) - MiB, 2, 0, 1); /* bus 1 past 2^52 */
	mcfg_entry(e + 7 * 16, ~0ull & ~(MiB - 1), 3, 0, 0); /* would wrap */
	mcfg_entry(e + 8 * 16, (1ull << 52) - MiB, 4, 0, 0); /* the last MiB below 2^52 */
	for (unsigned i = 9; i < 24; i++)		     /* 13 more fit, 2 do not */
		mcfg_entry(e + i * 16, 0x100000000ull * i, (uint16_t)(10 + i), 0, 0);
	uint64_t t2[] = { table("MCFG", 1, body, sizeof(body)) };
	rsdp(0, (uint32_t)root(false, t2, 1), 0);
	write_seed("mcfg-odd");
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(acpi_host_parse_mcfg(&h, &m), 0);
	assert_int_equal(m.nr, ACPI_HOST_MAX_MCFG);
	assert_int_equal(m.nr_dropped, 6 + 2);
	assert_int_equal(m.alloc[0].base, 0xE0000000);
	assert_int_equal(m.alloc[1].segment, 1);
	assert_int_equal(m.alloc[1].bus_start, 0x80);
	assert_int_equal(m.alloc[2].segment, 4);
	assert_int_equal(m.alloc[3].base, 0x900000000ull);

	/* a header alone, without the 8 reserved bytes: too short */
	img_reset();
	uint64_t t3[] = { table("MCFG", 1, NULL, 0) };
	rsdp(0, (uint32_t)root(false, t3, 1), 0);
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(acpi_host_parse_mcfg(&h, &m), ACPI_HOST_EBADLEN);

	/* none at all */
	img_reset();
	uint64_t t4[] = { fadt(116, 1, 0) };
	rsdp(0, (uint32_t)root(false, t4, 1), 0);
	assert_int_equal(acpi_host_init(&h, map, NULL, IMG_BASE), 0);
	assert_int_equal(acpi_host_parse_mcfg(&h, &m), ACPI_HOST_ENOTFOUND);
	assert_int_equal(m.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rsdt_only_v1),
		cmocka_unit_test(xsdt_v2_and_fallbacks),
		cmocka_unit_test(duplicate_and_odd_root_entries),
		cmocka_unit_test(bad_tables),
		cmocka_unit_test(madt_odd_entries),
		cmocka_unit_test(s5_encodings),
		cmocka_unit_test(s5_from_ssdt),
		cmocka_unit_test(mcfg_allocations),
		cmocka_unit_test(this_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
