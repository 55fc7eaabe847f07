/* The guest's ACPI tables: checksums, lengths, pointers, the MADT for several vCPU counts, the
 * FADT's fields at their ACPI 6.4 offsets (read as raw bytes, independently of the builder's
 * structs), the DSDT's exact AML, a round trip through keel's own host-table parser, and iasl's
 * disassembly as an outside opinion (acpica-tools, installed by tools/install-deps).
 *
 * With ACPI_WRITE_SEEDS=DIR set, also writes the table sets as fuzz seeds for fuzz_acpi_host
 * (the image is mapped at GUEST_ACPI_BASE, RSDP first): tests/fuzz/corpus/acpi_host/guest-*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/guest_layout.h"
#include "drivers/acpi_host.h"
#include "lib/kstring.h"
#include "vdev/acpi_tables.h"

#define RAM_SIZE (2 * MiB)

static struct gmem_extent mem_ext;
static struct guest_mem mem = { .ext = &mem_ext, .nr = 0 };
static struct acpi_guest_config cfg;
static int used;

static int setup(void **state)
{
	(void)state;
	mem.nr = 1;
	mem_ext = (struct gmem_extent){ .gpa = 0, .size = RAM_SIZE, .hva = malloc(RAM_SIZE) };
	if (!mem_ext.hva)
		return -1;
	memset(mem_ext.hva, 0xA5, RAM_SIZE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mem_ext.hva);
	return 0;
}

static const uint8_t *gpa(uint64_t addr, uint64_t len)
{
	const uint8_t *p = gmem_ptr(&mem, addr, len);
	if (!p)
		fail_msg("gpa 0x%llx+%llu is not guest RAM", (unsigned long long)addr,
			 (unsigned long long)len);
	return p;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}
static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): gpa() fails on NULL */
		s = (uint8_t)(s + *p++);
	return s;
}

static int build(unsigned nr_vcpus)
{
	acpi_guest_config_default(&cfg, nr_vcpus);
	used = acpi_build_guest_tables(&mem, &cfg);
	return used;
}

/* Checks a table's header at addr and returns it: signature, length >= 36, all inside the ACPI
 * window, checksum zero. */
static const uint8_t *table(uint64_t addr, const char *sig, uint8_t revision)
{
	const uint8_t *t = gpa(addr, 36);
	uint32_t len = rd32(t + 4);

	assert_memory_equal(t, sig, 4);
	assert_true(len >= 36);
	assert_true(addr >= GUEST_ACPI_BASE && addr + len <= GUEST_ACPI_BASE + (uint64_t)used);
	t = gpa(addr, len);
	assert_int_equal(sum(t, len), 0);
	assert_int_equal(t[8], revision);
	assert_memory_equal(t + 10, "KEEL  ", 6);
	return t;
}

static void check_gas(const uint8_t *g, uint8_t space, uint8_t width, uint8_t access, uint64_t addr)
{
	assert_int_equal(g[0], space);
	assert_int_equal(g[1], width);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], access);
	assert_int_equal(rd64(g + 4), addr);
}

/* ---- PkgLength ---- */

static void pkglen(uint32_t content, unsigned want_n, const uint8_t *want)
{
	uint8_t out[4];
	uint32_t v;
	unsigned n = aml_pkglen_encode(out, content);

	assert_int_equal(n, want_n);
	if (!n)
		return;
	assert_memory_equal(out, want, n);
	assert_int_equal(acpi_aml_pkglen_decode(out, n, &v), n);
	assert_int_equal(v, content + n);
	/* one byte short is refused */
	assert_int_equal(acpi_aml_pkglen_decode(out, n - 1, &v), 0);
}

static void pkglen_forms(void **state)
{
	(void)state;
	/* 1 byte: value 0..63 in bits 5:0 */
	pkglen(0, 1, (const uint8_t[]){ 0x01 });
	pkglen(5, 1, (const uint8_t[]){ 0x06 });
	pkglen(62, 1, (const uint8_t[]){ 0x3F });
	/* 2 bytes: 63 content bytes + 2 = 65 = 0x41: lead 0x40 | 0x1, then 0x04 */
	pkglen(63, 2, (const uint8_t[]){ 0x41, 0x04 });
	pkglen(0xFFD, 2, (const uint8_t[]){ 0x4F, 0xFF });
	/* 3 bytes */
	pkglen(0xFFE, 3, (const uint8_t[]){ 0x81, 0x00, 0x01 });
	pkglen(0xFFFFC, 3, (const uint8_t[]){ 0x8F, 0xFF, 0xFF });
	/* 4 bytes */
	pkglen(0xFFFFD, 4, (const uint8_t[]){ 0xC1, 0x00, 0x00, 0x01 });
	pkglen(0x0FFFFFFB, 4, (const uint8_t[]){ 0xCF, 0xFF, 0xFF, 0xFF });
	/* too big for 28 bits */
	pkglen(0x0FFFFFFC, 0, NULL);
	pkglen(0xFFFFFFFF, 0, NULL);

	/* every size round-trips through the decoder, with the smallest form */
	for (uint32_t c = 0; c < 0x120000; c += c < 0x2000 ? 1 : 97) {
		uint8_t out[4];
		uint32_t v;
		unsigned n = aml_pkglen_encode(out, c);
		unsigned want = c + 1 < 0x40 ? 1 : c + 2 < 0x1000 ? 2 : c + 3 < 0x100000 ? 3 : 4;
		assert_int_equal(n, want);
		assert_int_equal(acpi_aml_pkglen_decode(out, 4, &v), n);
		assert_int_equal(v, c + n);
	}
	/* multi-byte forms with reserved bits 5:4 set are refused */
	uint32_t v;
	assert_int_equal(acpi_aml_pkglen_decode((const uint8_t[]){ 0x51, 0x04 }, 2, &v), 0);
	assert_int_equal(acpi_aml_pkglen_decode((const uint8_t[]){ 0xE1, 0, 0, 1 }, 4, &v), 0);
}

/* ---- the tables, byte by byte ---- */

static void rsdp_and_roots(void **state)
{
	(void)state;
	assert_true(build(1) > 0);
	assert_true(used <= (int)GUEST_ACPI_SIZE);

	/* 5.2.5.3: at GUEST_ACPI_BASE exactly */
	const uint8_t *r = gpa(GUEST_ACPI_BASE, 36);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_memory_equal(r + 9, "KEEL  ", 6);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 20), 36);
	assert_int_equal(r[33] | r[34] | r[35], 0);

	const uint8_t *x = table(rd64(r + 24), "XSDT", 1);
	const uint8_t *rs = table(rd32(r + 16), "RSDT", 1);
	assert_int_equal(rd32(x + 4), 36 + 3 * 8);
	assert_int_equal(rd32(rs + 4), 36 + 3 * 4);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rd64(x + 36 + 8 * i), rd32(rs + 36 + 4 * i));
	table(rd64(x + 36), "FACP", 6);
	table(rd64(x + 44), "APIC", 5);
	/* PCI Firmware 3.0, 4.1.2: ECAM of segment 0, buses 0-0 */
	const uint8_t *mc = table(rd64(x + 52), "MCFG", 1);
	assert_int_equal(rd32(mc + 4), 60);
	assert_int_equal(rd64(mc + 44), GUEST_PCI_ECAM_BASE);
	assert_int_equal(rd16(mc + 52), 0);
	assert_int_equal(mc[54], 0);
	assert_int_equal(mc[55], 0);
	/* every table is inside the window and they do not overlap */
	uint64_t addr[4] = { GUEST_ACPI_BASE, rd64(r + 24), rd32(r + 16), rd64(x + 36) };
	uint64_t len[4] = { 36, rd32(x + 4), rd32(rs + 4), 276 };
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < i; j++)
			assert_true(addr[i] + len[i] <= addr[j] || addr[j] + len[j] <= addr[i]);
	/* the rest of the window is zeroed, not the RAM's old contents */
	const uint8_t *w = gpa(GUEST_ACPI_BASE, GUEST_ACPI_SIZE);
	for (uint64_t i = (uint64_t)used; i < GUEST_ACPI_SIZE; i++)
		if (w[i])
			fail_msg("byte %llu of the window is 0x%x", (unsigned long long)i, w[i]);
	/* RAM outside the window is untouched */
	assert_int_equal(*gpa(GUEST_ACPI_BASE - 1, 1), 0xA5);
	assert_int_equal(*gpa(GUEST_ACPI_BASE + GUEST_ACPI_SIZE, 1), 0xA5);
}

static const uint8_t *fadt(void)
{
	const uint8_t *r = gpa(GUEST_ACPI_BASE, 36);
	const uint8_t *x = gpa(rd64(r + 24), 52);
	return table(rd64(x + 36), "FACP", 6);
}

static void fadt_fields(void **state)
{
	(void)state;
	assert_true(build(2) > 0);
	const uint8_t *f = fadt();

	/* ACPI 6.4, 5.2.9 */
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(rd32(f + 36), 0);	       /* FIRMWARE_CTRL: X_FIRMWARE_CTRL is used */
	assert_int_equal(rd32(f + 40), rd64(f + 140)); /* DSDT == X_DSDT */
	assert_int_equal(rd16(f + 46), 9);	       /* SCI_INT */
	assert_int_equal(rd32(f + 48), 0);	       /* SMI_CMD: no SMM, always in ACPI mode */
	assert_int_equal(f[52] | f[53], 0);	       /* ACPI_ENABLE/DISABLE */
	assert_int_equal(rd32(f + 56), 0x600);	       /* PM1a_EVT_BLK */
	assert_int_equal(rd32(f + 60), 0);	       /* PM1b_EVT_BLK */
	assert_int_equal(rd32(f + 64), 0x604);	       /* PM1a_CNT_BLK */
	assert_int_equal(rd32(f + 68), 0);	       /* PM1b_CNT_BLK */
	assert_int_equal(rd32(f + 72), 0);	       /* PM2_CNT_BLK */
	assert_int_equal(rd32(f + 76), 0x608);	       /* PM_TMR_BLK */
	assert_int_equal(rd32(f + 80), 0);	       /* GPE0_BLK */
	assert_int_equal(f[88], 4);		       /* PM1_EVT_LEN */
	assert_int_equal(f[89], 2);		       /* PM1_CNT_LEN */
	assert_int_equal(f[91], 4);		       /* PM_TMR_LEN */
	assert_int_equal(rd16(f + 96), 101);	       /* P_LVL2_LAT: no C2 */
	assert_int_equal(rd16(f + 98), 1001);	       /* P_LVL3_LAT: no C3 */
	assert_int_equal(f[108], 0x32);		       /* CENTURY */
	assert_int_equal(rd16(f + 109), 0x0005); /* LEGACY_DEVICES | VGA Not Present, no 8042 */
	/* WBINVD, PROC_C1, PWR_BUTTON, SLP_BUTTON, FIX_RTC, RESET_REG_SUP; not HW_REDUCED */
	assert_int_equal(rd32(f + 112), 0x475);
	assert_int_equal(rd32(f + 112) & (1u << 20), 0);
	check_gas(f + 116, 1, 8, 1, 0xCF9);	 /* RESET_REG */
	assert_int_equal(f[128], 6);		 /* RESET_VALUE */
	assert_int_equal(f[131], 4);		 /* FADT minor version */
	check_gas(f + 148, 1, 32, 2, 0x600);	 /* X_PM1a_EVT_BLK */
	check_gas(f + 160, 0, 0, 0, 0);		 /* X_PM1b_EVT_BLK */
	check_gas(f + 172, 1, 16, 2, 0x604);	 /* X_PM1a_CNT_BLK */
	check_gas(f + 184, 0, 0, 0, 0);		 /* X_PM1b_CNT_BLK */
	check_gas(f + 208, 1, 32, 3, 0x608);	 /* X_PM_TMR_BLK */
	check_gas(f + 244, 0, 0, 0, 0);		 /* SLEEP_CONTROL_REG: not hardware-reduced */
	assert_memory_equal(f + 268, "KEEL", 4); /* hypervisor vendor identity */

	/* 5.2.10 FACS at X_FIRMWARE_CTRL: 64-byte aligned, no checksum */
	uint64_t facs = rd64(f + 132);
	assert_true(facs >= GUEST_ACPI_BASE && facs + 64 <= GUEST_ACPI_BASE + (uint64_t)used);
	assert_int_equal(facs % 64, 0);
	const uint8_t *fc = gpa(facs, 64);
	assert_memory_equal(fc, "FACS", 4);
	assert_int_equal(rd32(fc + 4), 64);
	assert_int_equal(fc[32], 2);
	assert_int_equal(rd32(fc + 16), 0); /* global lock free */

	/* other ports from the config */
	acpi_guest_config_default(&cfg, 1);
	cfg.pm1a_evt_port = 0xB000;
	cfg.pm1a_cnt_port = 0xB004;
	cfg.pm_tmr_port = 0xB008;
	assert_true(acpi_build_guest_tables(&mem, &cfg) > 0);
	f = fadt();
	assert_int_equal(rd32(f + 56), 0xB000);
	assert_int_equal(rd32(f + 64), 0xB004);
	assert_int_equal(rd32(f + 76), 0xB008);
	check_gas(f + 172, 1, 16, 2, 0xB004);
}

static void dsdt_aml(void **state)
{
	(void)state;
	assert_true(build(1) > 0);
	const uint8_t *f = fadt();
	const uint8_t *d = table(rd64(f + 140), "DSDT", 2);
	static const uint8_t want[] = {
		/* Name (_S0, Package (0x04) { Zero, Zero, Zero, Zero }) */
		0x08,
		'_',
		'S',
		'0',
		'_',
		0x12,
		0x06,
		0x04,
		0x00,
		0x00,
		0x00,
		0x00,
		/* Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) */
		0x08,
		'_',
		'S',
		'5',
		'_',
		0x12,
		0x08,
		0x04,
		0x0A,
		0x05,
		0x0A,
		0x05,
		0x00,
		0x00,
	};
	assert_memory_equal(d + 36, want, sizeof(want));
	/* then Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A08")) ... } } to the end
	 * of the table (the rest is iasl's to read, below) */
	const uint8_t *sc = d + 36 + sizeof(want);
	uint32_t scope_len = rd32(d + 4) - 36 - (uint32_t)sizeof(want);
	unsigned plen = (sc[1] >> 6) + 1u;
	uint32_t pkg = sc[1] & (plen == 1 ? 0x3F : 0x0F);
	for (unsigned i = 1; i < plen; i++)
		pkg |= (uint32_t)sc[1 + i] << (4 + 8 * (i - 1));
	assert_int_equal(sc[0], 0x10);
	assert_int_equal(1 + pkg, scope_len);
	assert_memory_equal(sc + 1 + plen, "\\_SB_\x5B\x82", 7);
	const uint8_t *dev = sc + 1 + plen + 5;
	unsigned dlen = (dev[2] >> 6) + 1u;
	static const uint8_t hid[] = { 'P', 'C', 'I',  '0',  0x08, '_',	 'H',
				       'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x08 };
	assert_memory_equal(dev + 2 + dlen, hid, sizeof(hid));
	assert_int_equal(ACPI_S5_SLP_TYP, 5);
	assert_int_equal(ACPI_PM1_CNT_SLP_TYP(ACPI_S5_SLP_TYP << 10 | ACPI_PM1_CNT_SLP_EN), 5);
}

/* Walks the MADT: counts entries by type and checks the fixed ones. */
static void check_madt(unsigned n)
{
	const uint8_t *r = gpa(GUEST_ACPI_BASE, 36);
	const uint8_t *x = gpa(rd64(r + 24), 52);
	const uint8_t *m = table(rd64(x + 44), "APIC", 5);
	uint32_t len = rd32(m + 4), off;
	unsigned count[16] = { 0 }, cpu = 0;
	bool any_x2 = false;

	assert_int_equal(rd32(m + 36), 0xFEE00000);
	assert_int_equal(rd32(m + 40), 1); /* PCAT_COMPAT */
	for (off = 44; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;
		assert_true(e[1] >= 2 && off + e[1] <= len);
		assert_true(e[0] < 16);
		count[e[0]]++;
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], cpu); /* UID */
			assert_int_equal(e[3], cfg.apic_ids[cpu]);
			assert_int_equal(rd32(e + 4), 1); /* enabled */
			cpu++;
			break;
		case 9:
			assert_int_equal(e[1], 16);
			assert_int_equal(rd32(e + 4), cfg.apic_ids[cpu]);
			assert_int_equal(rd32(e + 8), 1);
			assert_int_equal(rd32(e + 12), cpu);
			assert_true(cfg.apic_ids[cpu] >= 255 || cpu >= 255);
			any_x2 = true;
			cpu++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], cfg.ioapic_id);
			assert_int_equal(rd32(e + 4), 0xFEC00000);
			assert_int_equal(rd32(e + 8), 0);
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			if (e[3] == 0) {
				assert_int_equal(rd32(e + 4), 2);
				assert_int_equal(rd16(e + 8), 0x5); /* edge, active high */
			} else {
				assert_int_equal(e[3], 9);
				assert_int_equal(rd32(e + 4), 9);
				assert_int_equal(rd16(e + 8), 0xF); /* level, active low */
			}
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF);
			assert_int_equal(e[5], 1); /* LINT1 */
			break;
		case 10:
			assert_int_equal(e[1], 12);
			assert_int_equal(rd32(e + 4), 0xFFFFFFFF);
			assert_int_equal(e[8], 1);
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(cpu, n);
	assert_int_equal(count[0] + count[9], n);
	assert_int_equal(count[1], 1);
	assert_int_equal(count[2], 2);
	assert_int_equal(count[4], 1);
	assert_int_equal(count[10], any_x2 ? 1 : 0);
	assert_int_equal(len, 44 + 8 * count[0] + 16 * count[9] + 12 + 20 + 6 + 12 * count[10]);
}

static void madt_vcpu_counts(void **state)
{
	(void)state;
	static const unsigned counts[] = { 1, 2, 4, 64, 254, 255, 256 };
	for (unsigned i = 0; i < ARRAY_SIZE(counts); i++) {
		assert_true(build(counts[i]) > 0);
		check_madt(counts[i]);
	}
	/* sparse IDs, some needing x2APIC entries, and another IOAPIC ID */
	acpi_guest_config_default(&cfg, 4);
	cfg.apic_ids[1] = 254;
	cfg.apic_ids[2] = 255;
	cfg.apic_ids[3] = 0x12345;
	cfg.ioapic_id = 8;
	used = acpi_build_guest_tables(&mem, &cfg);
	assert_true(used > 0);
	check_madt(4);
}

static void bad_configs(void **state)
{
	(void)state;
	assert_int_equal(build(0), -1);
	assert_int_equal(build(ACPI_MAX_VCPUS + 1), -1);
	acpi_guest_config_default(&cfg, 3);
	cfg.apic_ids[2] = 1;
	assert_int_equal(acpi_build_guest_tables(&mem, &cfg), -1);
	cfg.apic_ids[2] = 0xFFFFFFFF;
	assert_int_equal(acpi_build_guest_tables(&mem, &cfg), -1);
	acpi_guest_config_default(&cfg, 1);
	cfg.pm_tmr_port = 0;
	assert_int_equal(acpi_build_guest_tables(&mem, &cfg), -1);
	acpi_guest_config_default(&cfg, 1);
	cfg.pm1a_cnt_port = 0x602; /* inside the event block */
	assert_int_equal(acpi_build_guest_tables(&mem, &cfg), -1);
	acpi_guest_config_default(&cfg, 1);
	cfg.pm_tmr_port = 0xFFFE; /* would wrap */
	assert_int_equal(acpi_build_guest_tables(&mem, &cfg), -1);

	/* the window must be guest RAM */
	struct gmem_extent small_ext = { .gpa = 0,
					 .size = GUEST_ACPI_BASE + 0x1000,
					 .hva = mem_ext.hva };
	struct guest_mem small = { .ext = &small_ext, .nr = 1 };
	acpi_guest_config_default(&cfg, 1);
	assert_int_equal(acpi_build_guest_tables(&small, &cfg), -1);
	assert_true(acpi_build_guest_tables(&mem, &cfg) > 0);
}

/* ---- round trip through drivers/acpi_host ---- */

static const void *map_guest(void *ctx, uint64_t phys, size_t len)
{
	return gmem_ptr(ctx, phys, len);
}

static void round_trip_one(unsigned n)
{
	struct acpi_host h;
	static struct acpi_host_madt madt;
	struct acpi_host_fadt f;
	uint8_t a = 0xEE, b = 0xEE;
	uint64_t rsdp;

	assert_true(build(n) > 0);
	assert_int_equal(acpi_host_find_rsdp(map_guest, &mem, &rsdp), 0);
	assert_int_equal(rsdp, GUEST_ACPI_BASE);
	assert_int_equal(acpi_host_init(&h, map_guest, &mem, rsdp), 0);
	assert_true(h.xsdt);
	assert_int_equal(h.rsdp_revision, 2);
	assert_string_equal(h.oem_id, "KEEL  ");
	assert_int_equal(h.nr_tables, 3);
	assert_true(acpi_host_find_table(&h, "FACP", 0) != 0);
	assert_true(acpi_host_find_table(&h, "MCFG", 0) != 0);
	assert_true(acpi_host_find_table(&h, "APIC", 0) != 0);
	assert_int_equal(acpi_host_find_table(&h, "APIC", 1), 0);
	assert_int_equal(acpi_host_find_table(&h, "HPET", 0), 0);

	assert_int_equal(acpi_host_parse_madt(&h, &madt), 0);
	assert_int_equal(madt.lapic_addr, GUEST_LAPIC_BASE);
	assert_int_equal(madt.flags, 1);
	assert_int_equal(madt.nr_cpus, n);
	assert_int_equal(madt.nr_dropped, 0);
	assert_int_equal(madt.nr_short, 0);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(madt.cpus[i].apic_id, cfg.apic_ids[i]);
		assert_int_equal(madt.cpus[i].uid, i);
		assert_true(madt.cpus[i].enabled);
		assert_false(madt.cpus[i].online_capable);
		assert_int_equal(madt.cpus[i].x2apic, cfg.apic_ids[i] >= 255 || i >= 255);
	}
	assert_int_equal(madt.nr_ioapics, 1);
	assert_int_equal(madt.ioapics[0].addr, GUEST_IOAPIC_BASE);
	assert_int_equal(madt.ioapics[0].gsi_base, 0);
	assert_int_equal(madt.nr_overrides, 2);
	assert_int_equal(madt.overrides[0].source, 0);
	assert_int_equal(madt.overrides[0].gsi, 2);
	assert_int_equal(madt.overrides[1].source, 9);
	assert_int_equal(madt.overrides[1].flags, 0xF);

	assert_int_equal(acpi_host_parse_fadt(&h, &f), 0);
	assert_int_equal(f.revision, 6);
	assert_false(f.hw_reduced);
	assert_int_equal(f.sci_int, ACPI_SCI_IRQ);
	assert_int_equal(f.smi_cmd, 0);
	assert_int_equal(f.pm1a_evt.space_id, ACPI_GAS_IO);
	assert_int_equal(f.pm1a_evt.address, ACPI_PM1A_EVT_PORT);
	assert_int_equal(f.pm1a_cnt.address, ACPI_PM1A_CNT_PORT);
	assert_int_equal(f.pm1a_cnt.bit_width, 16);
	assert_int_equal(f.pm1b_cnt.address, 0);
	assert_int_equal(f.pm_tmr.address, ACPI_PM_TMR_PORT);
	assert_int_equal(f.pm_tmr_len, 4);
	assert_true(f.reset_supported);
	assert_int_equal(f.reset_reg.space_id, ACPI_GAS_IO);
	assert_int_equal(f.reset_reg.address, ACPI_RESET_PORT);
	assert_int_equal(f.reset_value, ACPI_RESET_VALUE);
	assert_true(f.dsdt >= GUEST_ACPI_BASE && f.dsdt < GUEST_ACPI_BASE + GUEST_ACPI_SIZE);
	assert_int_equal(f.facs % 64, 0);

	assert_int_equal(acpi_host_get_s5(&h, &f, &a, &b), 0);
	assert_int_equal(a, ACPI_S5_SLP_TYP);
	assert_int_equal(b, ACPI_S5_SLP_TYP);

	/* the same through a copy of the RSDP, as Multiboot2 hands it over */
	uint8_t copy[36];
	memcpy(copy, gpa(GUEST_ACPI_BASE, 36), 36);
	assert_int_equal(acpi_host_init_copy(&h, map_guest, &mem, copy, sizeof(copy)), 0);
	assert_true(h.xsdt);
	/* a revision 0 reader sees the RSDT with the same tables */
	assert_int_equal(acpi_host_init_copy(&h, map_guest, &mem, copy, 20), 0);
	assert_false(h.xsdt);
	assert_int_equal(h.nr_tables, 3);
	assert_int_equal(acpi_host_parse_madt(&h, &madt), 0);
	assert_int_equal(madt.nr_cpus, n);
}

static void round_trip(void **state)
{
	(void)state;
	static const unsigned counts[] = { 1, 2, 4, 64, 256 };
	for (unsigned i = 0; i < ARRAY_SIZE(counts); i++)
		round_trip_one(counts[i]);
}

/* ---- iasl ---- */

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static char *read_text(const char *path)
{
	static char buf[256 * 1024];
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("no %s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* iasl aligns its columns with runs of blanks; compare with each run squeezed to one */
static void squeeze(char *s)
{
	char *start = s, *o = s;
	for (; *s; s++)
		if (*s != ' ' || o == start || o[-1] != ' ')
			*o++ = *s;
	*o = 0;
}

static void expect_in(const char *text, const char *what, const char *file)
{
	if (!strstr(text, what))
		fail_msg("%s: no '%s' in iasl's output:\n%s", file, what, text);
}

static const char *const xsdt_expect[] = { "Table Length : 0000003C", NULL };
static const char *const facp_expect[] = {
	"Table Length : 00000114",
	"SCI Interrupt : 0009",
	"SMI Command Port : 00000000",
	"PM1A Event Block Address : 00000600",
	"PM1A Control Block Address : 00000604",
	"PM Timer Block Address : 00000608",
	"RTC Century Index : 32",
	"Legacy Devices Supported (V2) : 1",
	"8042 Present on ports 60/64 (V2) : 0",
	"Reset Register Supported (V2) : 1",
	"Hardware Reduced (V5) : 0",
	"Address : 0000000000000CF9",
	"Value to cause reset : 06",
	"Address : 0000000000000604",
	NULL,
};
static const char *const apic_expect[] = {
	"Local Apic Address : FEE00000",
	"Processor Enabled : 1",
	"Address : FEC00000",
	"Source : 09",
	"Interrupt : 00000002",
	"Subtable Type : 04 [Local APIC NMI]",
	"Interrupt Input LINT : 01",
	NULL,
};
static const char *const dsdt_expect[] = {
	"Name (_S0, Package (0x04)",
	"Name (_S5, Package (0x04)",
	"0x05,",
	"Scope (\\_SB)",
	"Device (PCI0)",
	"Name (_HID, EisaId (\"PNP0A08\") /* PCI Express Bus */)",
	"Name (_CID, EisaId (\"PNP0A03\") /* PCI Bus */)",
	"Name (_SEG, Zero)",
	"Name (_BBN, Zero)",
	"WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
	"IO (Decode16,\n 0x0CF8, // Range Minimum\n 0x0CF8, // Range Maximum\n 0x01,",
	"0x01, // Alignment\n 0x08, // Length",
	"WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,\n 0x0000,",
	"0x0000, // Granularity\n 0x1000, // Range Minimum\n 0xFFFF, // Range Maximum",
	"DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,",
	"ReadWrite,\n 0x00000000, // Granularity\n 0xC0000000, // Range Minimum\n 0xDFFFFFFF,",
	"0xDFFFFFFF, // Range Maximum",
	/* the 64-bit window iasl_disassembly gives */
	"QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,",
	"0x0000000000000000, // Granularity\n 0x0000000100000000, // Range Minimum",
	"0x0000000100000000, // Range Minimum\n 0x00000010FFFFFFFF, // Range Maximum",
	"0x0000001000000000, // Length",
	"Name (_PRT, Package (0x80)",
	/* slot 31, INTD: (31 + 3) % 4 = 2, GSI 18 */
	"0x001FFFFF, \n 0x03, \n Zero, \n 0x12\n",
	NULL,
};
static const char *const mcfg_expect[] = {
	"Base Address : 00000000E0000000",
	"Segment Group Number : 0000",
	"Start Bus Number : 00",
	"End Bus Number : 00",
	NULL,
};

static void iasl_disassembly(void **state)
{
	(void)state;
	char dir[] = "/tmp/keel-acpi-XXXXXX", cmd[512], path[600];

	if (system("command -v iasl >/dev/null 2>&1") != 0)
		fail_msg("iasl not found: install acpica-tools (tools/install-deps)");
	assert_non_null(mkdtemp(dir));
	acpi_guest_config_default(&cfg, 4);
	cfg.pci_mmio64_base = 0x100000000ull; /* a VM of up to 3 GiB, 64 GiB */
	cfg.pci_mmio64_end = 0x1100000000ull;
	used = acpi_build_guest_tables(&mem, &cfg);
	assert_true(used > 0);

	/* (iasl does not take a lone RSDP) */
	const uint8_t *r = gpa(GUEST_ACPI_BASE, 36);
	const uint8_t *x = gpa(rd64(r + 24), 52);
	const uint8_t *f = fadt();
	const uint8_t *m = gpa(rd64(x + 44), 36);
	const uint8_t *d = gpa(rd64(f + 140), 36);
	struct {
		const char *name;
		const uint8_t *p;
		size_t len;
		const char *const *expect;
	} files[] = {
		{ "xsdt", x, rd32(x + 4), xsdt_expect },
		{ "facp", f, rd32(f + 4), facp_expect },
		{ "apic", m, rd32(m + 4), apic_expect },
		{ "facs", gpa(rd64(f + 132), 64), 64,
		  (const char *const[]){ "Version : 02", NULL } },
		{ "dsdt", d, rd32(d + 4), dsdt_expect },
		{ "mcfg", gpa(rd64(x + 52), 60), 60, mcfg_expect },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s.dat", dir, files[i].name);
		write_file(path, files[i].p, files[i].len);
		snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat >%s.log 2>&1", dir,
			 files[i].name, files[i].name);
		if (system(cmd) != 0) {
			snprintf(path, sizeof(path), "%s/%s.log", dir, files[i].name);
			fail_msg("iasl -d %s failed:\n%s", files[i].name, read_text(path));
		}
		snprintf(path, sizeof(path), "%s/%s.dsl", dir, files[i].name);
		char *dsl = read_text(path);
		squeeze(dsl);
		/* iasl flags a bad checksum, a bad length or an unknown subtable in comments */
		if (strstr(dsl, "Incorrect") || strstr(dsl, "Invalid") || strstr(dsl, "Error") ||
		    strstr(dsl, "Unknown"))
			fail_msg("iasl complains about %s:\n%s", files[i].name, dsl);
		for (const char *const *e = files[i].expect; *e; e++)
			expect_in(dsl, *e, path);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- fuzz seeds ---- */

static void write_seeds(void **state)
{
	(void)state;
	const char *dir = getenv("ACPI_WRITE_SEEDS");
	char path[512];
	static const unsigned counts[] = { 1, 4, 16 };

	if (!dir)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(counts); i++) {
		assert_true(build(counts[i]) > 0);
		snprintf(path, sizeof(path), "%s/guest-%ucpu", dir, counts[i]);
		write_file(path, gpa(GUEST_ACPI_BASE, (uint64_t)used), (size_t)used);
	}
	acpi_guest_config_default(&cfg, 2);
	cfg.apic_ids[1] = 0x100;
	assert_true((used = acpi_build_guest_tables(&mem, &cfg)) > 0);
	snprintf(path, sizeof(path), "%s/guest-x2apic", dir);
	write_file(path, gpa(GUEST_ACPI_BASE, (uint64_t)used), (size_t)used);
}

/* Guest RAM in several host blocks, the ACPI window across three of them, each block its own
 * allocation (ASan sees a write past one): the window holds the same bytes as in one block, with
 * 256 x2APIC vCPUs, the largest tables there are. */
static void window_across_extents(void **state)
{
	static const uint64_t cut[] = { 0, 0xE0400, 0xE1000, 0xF0000, RAM_SIZE };
	struct gmem_extent ext[4];
	struct guest_mem split = { .ext = ext, .nr = 4 };
	uint8_t *want = malloc(GUEST_ACPI_SIZE), *got = malloc(GUEST_ACPI_SIZE);
	int n;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		ext[i] = (struct gmem_extent){ cut[i], cut[i + 1] - cut[i],
					       malloc(cut[i + 1] - cut[i]), 0 };
	acpi_guest_config_default(&cfg, ACPI_MAX_VCPUS);
	for (unsigned i = 0; i < ACPI_MAX_VCPUS; i++)
		cfg.apic_ids[i] = 0x1000 + i;
	n = acpi_build_guest_tables(&split, &cfg);
	assert_true(n > 0x1000); /* the MADT alone crosses 0xE0400 and 0xE1000 */
	assert_int_equal(acpi_build_guest_tables(&mem, &cfg), n);
	assert_int_equal(gmem_read(&split, GUEST_ACPI_BASE, got, GUEST_ACPI_SIZE), 0);
	assert_int_equal(gmem_read(&mem, GUEST_ACPI_BASE, want, GUEST_ACPI_SIZE), 0);
	assert_memory_equal(got, want, GUEST_ACPI_SIZE);
	/* a hole in the window: nothing built */
	split.ext[2].gpa += 0x1000;
	split.ext[2].size -= 0x1000;
	assert_int_equal(acpi_build_guest_tables(&split, &cfg), -1);
	for (unsigned i = 0; i < 4; i++)
		free(ext[i].hva);
	free(want);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pkglen_forms),	    cmocka_unit_test(rsdp_and_roots),
		cmocka_unit_test(fadt_fields),	    cmocka_unit_test(dsdt_aml),
		cmocka_unit_test(madt_vcpu_counts), cmocka_unit_test(bad_configs),
		cmocka_unit_test(round_trip),	    cmocka_unit_test(iasl_disassembly),
		cmocka_unit_test(write_seeds),	    cmocka_unit_test(window_across_extents),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
