/* The AMD-Vi format logic (drivers/amdvi.c). Known answers are worked out by hand from the AMD
 * IOMMU specification (pub 48882 rev 3.x, sections cited per test) and cross-read against Linux's
 * drivers/iommu/amd/amd_iommu_types.h; hostile inputs (unaligned, out of range, unknown codes,
 * all-ones words) must be refused or decoded as unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "drivers/amdvi.h"
#include "lib/kstring.h"

/* 3.4 Device Table Base: 64 Ki devices x 32 bytes = 2 MiB = 512 pages, Size 1FFh; 256 devices one
 * page. */
static void test_devtab_base(void **state)
{
	uint64_t reg = 0;
	(void)state;
	assert_int_equal(amdvi_devtab_base(0x12340000, 65536, &reg), AMDVI_OK);
	assert_true(reg == 0x123401ffull);
	assert_true(amdvi_devtab_bytes(reg) == 2 * 1024 * 1024);
	assert_int_equal(amdvi_devtab_base(0x1000, 128, &reg), AMDVI_OK);
	assert_true(reg == 0x1000);
	assert_int_equal(amdvi_devtab_base(0x1000, 129, &reg), AMDVI_OK);
	assert_true(reg == 0x1001);
	assert_int_equal(amdvi_devtab_base(0x1800, 256, &reg), AMDVI_EALIGN);
	assert_int_equal(amdvi_devtab_base(0x1000, 0, &reg), AMDVI_ERANGE);
	assert_int_equal(amdvi_devtab_base(0x1000, 65537, &reg), AMDVI_ERANGE);
	assert_int_equal(amdvi_devtab_base((1ull << 52) - 4096, 128, &reg), AMDVI_OK);
	assert_int_equal(amdvi_devtab_base((1ull << 52) - 4096, 129, &reg), AMDVI_ERANGE);
	assert_int_equal(amdvi_devtab_base(~0ull & ~0xfffull, 1, &reg), AMDVI_ERANGE);
	assert_true(amdvi_devtab_bytes(~0ull) == 512 * 4096);
}

/* 3.4 Command Buffer Base: 512 entries is ComLen 9 in 59:56 (Linux: MMIO_CMD_SIZE_512). */
static void test_ring_base(void **state)
{
	uint64_t reg = 0;
	(void)state;
	assert_int_equal(amdvi_ring_base(0x200000, 9, &reg), AMDVI_OK);
	assert_true(reg == 0x0900000000200000ull);
	assert_int_equal(amdvi_ring_base(0x200000, 8, &reg), AMDVI_OK);
	assert_true(reg == 0x0800000000200000ull);
	assert_int_equal(amdvi_ring_base(0x200000, 15, &reg), AMDVI_OK);
	assert_int_equal(amdvi_ring_base(0x200000, 7, &reg), AMDVI_ERANGE);
	assert_int_equal(amdvi_ring_base(0x200000, 16, &reg), AMDVI_ERANGE);
	assert_int_equal(amdvi_ring_base(0x200010, 9, &reg), AMDVI_EALIGN);
	assert_int_equal(amdvi_ring_base(1ull << 52, 9, &reg), AMDVI_ERANGE);
}

/* 3.4 head/tail pointers: bits 18:4. */
static void test_ring_ptr(void **state)
{
	unsigned idx = 99;
	(void)state;
	assert_true(amdvi_ring_ptr(0) == 0);
	assert_true(amdvi_ring_ptr(1) == 0x10);
	assert_true(amdvi_ring_ptr(511) == 0x1ff0);
	assert_true(amdvi_ring_ptr(32767) == 0x7fff0);
	assert_true(amdvi_ring_index(0x1ff0, 9, &idx) && idx == 511);
	assert_false(amdvi_ring_index(0x2000, 9, &idx)); /* index 512 of a 512-entry ring */
	assert_false(amdvi_ring_index(0x18, 9, &idx));	 /* not entry aligned */
	assert_false(amdvi_ring_index(~0ull, 15, &idx));
	assert_false(amdvi_ring_index(0x10, 3, &idx));
	assert_true(amdvi_ring_index(0x7fff0, 15, &idx) && idx == 32767);
	assert_int_equal(idx, 32767);
}

/* 3.4 Control and Status Register bit positions, cross-read with Linux CONTROL_* and
 * MMIO_STATUS_*. */
static void test_control_status(void **state)
{
	(void)state;
	assert_true(AMDVI_CTRL_CMD_BUF_EN == 0x1000);
	assert_true(AMDVI_CTRL_COHERENT == 0x400);
	assert_true(AMDVI_CTRL_GA_EN == 0x20000);
	assert_true(AMDVI_CTRL_INV_TIMEOUT(AMDVI_INV_TIMEOUT_1S) == 0x80);
	assert_true(AMDVI_CTRL_INT_CAP_XT_EN == 1ull << 51);
	assert_true(AMDVI_STATUS_CMD_BUF_RUN == 0x10);
	assert_int_equal(AMDVI_MMIO_STATUS, 0x2020);
}

/* 3.4 Extended Feature Register: a value with PreFSup, XTSup, IASup, GASup, HATS=01b, GATS=01b,
 * PASmax=15, HDSup. */
static void test_efr(void **state)
{
	struct amdvi_efr e;
	(void)state;
	amdvi_decode_efr(0x0010000f000014c5ull, &e);
	assert_true(e.pref_sup && e.xt_sup && e.ia_sup && e.ga_sup && e.hd_sup);
	assert_false(e.ppr_sup || e.nx_sup || e.gt_sup || e.he_sup || e.pc_sup || e.snp_sup);
	assert_int_equal(e.hats, 1);
	assert_int_equal(e.host_levels, 5);
	assert_int_equal(e.gats, 1);
	assert_int_equal(e.pas_max, 15);
	amdvi_decode_efr(0, &e);
	assert_int_equal(e.host_levels, 4);
	assert_false(e.ia_sup);
	amdvi_decode_efr(~0ull, &e); /* all ones: reserved HATS trusted for nothing */
	assert_int_equal(e.hats, 3);
	assert_int_equal(e.host_levels, 0);
	assert_int_equal(e.pas_max, 31);
	assert_true(e.snp_sup && e.ia_sup);
}

/* 2.2.2.1: V 0, TV 1, Mode 11:9, root 51:12, IR 61, IW 62, DomainID 79:64. */
static void test_dte_translate(void **state)
{
	uint64_t d[4] = { ~0ull, ~0ull, ~0ull, ~0ull };
	struct amdvi_dte_fields f;
	(void)state;
	assert_int_equal(amdvi_dte_translate(d, 0x123456000ull, 4, 3, true, true), AMDVI_OK);
	assert_true(d[0] == 0x6000000123456803ull);
	assert_true(d[1] == 3 && d[2] == 0 && d[3] == 0);
	amdvi_dte_read(d, &f);
	assert_true(f.v && f.tv && f.ir && f.iw && !f.iv);
	assert_int_equal(f.mode, 4);
	assert_true(f.pt_root == 0x123456000ull);
	assert_int_equal(f.domain_id, 3);
	assert_int_equal(amdvi_dte_translate(d, 0x1000, 6, 0xffff, true, false), AMDVI_OK);
	assert_true(d[0] == 0x2000000000001c03ull && d[1] == 0xffff);
	assert_int_equal(amdvi_dte_translate(d, 0x1800, 4, 1, true, true), AMDVI_EALIGN);
	assert_int_equal(amdvi_dte_translate(d, 0x1000, 0, 1, true, true), AMDVI_ERANGE);
	assert_int_equal(amdvi_dte_translate(d, 0x1000, 7, 1, true, true), AMDVI_ERANGE);
	assert_int_equal(amdvi_dte_translate(d, 1ull << 52, 4, 1, true, true), AMDVI_ERANGE);
	assert_int_equal(amdvi_dte_translate(d, ~0ull, 4, 1, true, true), AMDVI_EALIGN);
}

static void test_dte_block(void **state)
{
	uint64_t d[4] = { ~0ull, ~0ull, ~0ull, ~0ull };
	struct amdvi_dte_fields f;
	(void)state;
	amdvi_dte_block(d, 7);
	assert_true(d[0] == 3 && d[1] == 7 && d[2] == 0 && d[3] == 0);
	amdvi_dte_read(d, &f);
	assert_true(f.v && f.tv && !f.ir && !f.iw);
	assert_int_equal(f.mode, 0);
}

/* 2.2.2.1 word 2: IV 128, IntTabLen 132:129, root 179:134, IntCtl 189:188 (Linux:
 * DTE_IRQ_REMAP_INTCTL = 2 << 60, DTE_INTTABLEN = 9 << 1 for 512 entries). */
static void test_dte_intremap(void **state)
{
	uint64_t d[4] = { 0 };
	struct amdvi_dte_fields f;
	(void)state;
	amdvi_dte_block(d, 1);
	assert_int_equal(amdvi_dte_set_intremap(d, 0xabcdef40ull, 9), AMDVI_OK);
	assert_true(d[2] == 0x20000000abcdef53ull);
	assert_true(d[0] == 3 && d[1] == 1);
	amdvi_dte_read(d, &f);
	assert_true(f.iv);
	assert_int_equal(f.int_ctl, AMDVI_INT_CTL_REMAP);
	assert_int_equal(f.int_tab_len, 9);
	assert_true(f.irt_root == 0xabcdef40ull);
	assert_false(f.init_pass || f.eint_pass || f.nmi_pass || f.lint0_pass || f.lint1_pass);
	assert_int_equal(amdvi_dte_set_intremap(d, 0xabcdef20ull, 9), AMDVI_EALIGN);
	assert_int_equal(amdvi_dte_set_intremap(d, 0x1000, 12), AMDVI_ERANGE);
	assert_int_equal(amdvi_dte_set_intremap(d, (1ull << 52) - 64, 2), AMDVI_OK);
	assert_int_equal(amdvi_dte_set_intremap(d, (1ull << 52) - 64, 3), AMDVI_ERANGE);
	assert_int_equal(amdvi_dte_set_intremap(d, 0x1000, 11), AMDVI_OK);
	assert_true(d[2] == 0x2000000000001017ull);
	d[2] = ~0ull;
	amdvi_dte_block_interrupts(d);
	assert_true(d[2] == 1);
	amdvi_dte_read(d, &f);
	assert_true(f.iv && f.int_ctl == AMDVI_INT_CTL_ABORT && f.irt_root == 0);
	d[2] = ~0ull;
	amdvi_dte_read(d, &f);
	assert_true(f.init_pass && f.eint_pass && f.nmi_pass && f.lint0_pass && f.lint1_pass);
	assert_int_equal(f.int_ctl, 3);
	assert_int_equal(f.int_tab_len, 15);
}

/* 2.2.3: PR 0, NextLevel 11:9, address 51:12, U 59, FC 60, IR 61, IW 62. */
static void test_pte(void **state)
{
	(void)state;
	assert_true(amdvi_pde(0x5000, 3) == 0x6000000000005601ull);
	assert_true(amdvi_pde(0x5000, 1) == 0x6000000000005201ull);
	assert_true(amdvi_pde(0x5008, 3) == 0);
	assert_true(amdvi_pde(0x5000, 0) == 0);
	assert_true(amdvi_pde(0x5000, 7) == 0);
	assert_true(amdvi_pde(1ull << 52, 2) == 0);
	assert_true(amdvi_pte(0x7f000, true, true) == 0x700000000007f001ull);
	assert_true(amdvi_pte(0x7f000, true, false) == 0x300000000007f001ull);
	assert_true(amdvi_pte(0x7f000, false, false) == 0x100000000007f001ull);
	assert_true(amdvi_pte(0x7f001, true, true) == 0);
	assert_true(amdvi_pte(~0ull, true, true) == 0);
	assert_true((amdvi_pte(0x200000, true, true) & AMDVI_PTE_NEXT_LEVEL_MASK) == 0);
}

/* 2.4: opcode in bits 63:60 of the first quadword (Linux CMD_SET_TYPE: dword 1 bits 31:28). */
static void test_commands(void **state)
{
	uint64_t c[2] = { ~0ull, ~0ull };
	struct amdvi_efr efr;
	(void)state;
	assert_int_equal(amdvi_cmd_completion_wait(c, 0x1234568ull, 0xfeedull, false), AMDVI_OK);
	assert_true(c[0] == 0x1000000001234569ull && c[1] == 0xfeed);
	assert_int_equal(amdvi_cmd_completion_wait(c, 0xfffffffffff8ull, 1, true), AMDVI_OK);
	assert_true(c[0] == 0x1000fffffffffffbull);
	assert_int_equal(amdvi_cmd_completion_wait(c, 0x1234564ull, 0, false), AMDVI_EALIGN);
	assert_int_equal(amdvi_cmd_completion_wait(c, 1ull << 52, 0, false), AMDVI_ERANGE);
	amdvi_cmd_inv_devtab_entry(c, 0x0020);
	assert_true(c[0] == 0x2000000000000020ull && c[1] == 0);
	assert_int_equal(amdvi_cmd_inv_page(c, 3, 0x7f000, false), AMDVI_OK);
	assert_true(c[0] == 0x3000000300000000ull && c[1] == 0x7f000);
	assert_int_equal(amdvi_cmd_inv_page(c, 3, 0x7f000, true), AMDVI_OK);
	assert_true(c[1] == 0x7f002);
	assert_int_equal(amdvi_cmd_inv_page(c, 3, 0x7f800, true), AMDVI_EALIGN);
	amdvi_cmd_inv_all_pages(c, 0xffff, true);
	assert_true(c[0] == 0x3000ffff00000000ull && c[1] == 0x7ffffffffffff003ull);
	amdvi_cmd_inv_interrupt_table(c, 0xa0);
	assert_true(c[0] == 0x50000000000000a0ull && c[1] == 0);
	amdvi_decode_efr(0, &efr);
	assert_int_equal(amdvi_cmd_inv_all(c, &efr), AMDVI_ENOTSUP);
	assert_true(c[0] == 0 && c[1] == 0);
	amdvi_decode_efr(1ull << 6, &efr);
	assert_int_equal(amdvi_cmd_inv_all(c, &efr), AMDVI_OK);
	assert_true(c[0] == 0x8000000000000000ull && c[1] == 0);
}

/* 2.5 IO_PAGE_FAULT from 00:04.0 (devid 0x20), domain 3, RW=1 (flag bit 5, bit 53). */
static void test_event_page_fault(void **state)
{
	uint64_t raw[2] = { 0x2020000300000020ull, 0x7f000 };
	struct amdvi_event ev;
	char buf[128];
	(void)state;
	assert_true(amdvi_decode_event(raw, &ev));
	assert_int_equal(ev.code, AMDVI_EV_IO_PAGE_FAULT);
	assert_int_equal(ev.devid, 0x20);
	assert_true(ev.has_domid && !ev.has_pasid);
	assert_int_equal(ev.domid, 3);
	assert_true(ev.write && !ev.present && !ev.interrupt);
	assert_true(ev.addr == 0x7f000);
	int n = amdvi_describe_event(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "fault from 00:04.0 write at 0x7f000 (IO_PAGE_FAULT, domain 3)");
	assert_int_equal(n, (int)strlen(buf));
	/* GN=1: PASID 0x5abcd from bits 19:16 and 47:32; I=1 and PR=1. */
	raw[0] = 0x2019abcd00050108ull;
	assert_true(amdvi_decode_event(raw, &ev));
	assert_true(ev.has_pasid && !ev.has_domid && ev.interrupt && ev.present);
	assert_int_equal(ev.pasid, 0x5abcd);
	assert_int_equal(ev.devid, 0x0108);
	amdvi_describe_event(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "fault from 01:01.0 interrupt at 0x7f000 (IO_PAGE_FAULT, pasid "
				 "0x5abcd, present)");
}

static void test_event_others(void **state)
{
	struct amdvi_event ev;
	char buf[160];
	(void)state;
	uint64_t cmd[2] = { 0x5000000000000000ull, 0x123450ull };
	assert_true(amdvi_decode_event(cmd, &ev));
	assert_false(ev.has_devid || ev.has_domid);
	amdvi_describe_event(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "illegal command at 0x123450 (ILLEGAL_COMMAND_ERROR)");
	uint64_t ptw[2] = { 0x4000000700000010ull, 0x9000ull };
	assert_true(amdvi_decode_event(ptw, &ev));
	assert_true(ev.has_domid && ev.domid == 7);
	amdvi_describe_event(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "hardware error reading page table for 00:02.0 at 0x9000 "
				 "(PAGE_TAB_HARDWARE_ERROR, domain 7)");
	for (unsigned code = 1; code <= 8; code++) {
		uint64_t r[2] = { (uint64_t)code << 60 | 0xffff, 0 };
		assert_true(amdvi_decode_event(r, &ev));
		assert_string_equal(amdvi_event_name(ev.code) + 0, amdvi_event_name((uint8_t)code));
		assert_true(amdvi_describe_event(&ev, buf, sizeof(buf)) > 0);
		assert_true(strstr(buf, amdvi_event_name((uint8_t)code)) != NULL);
	}
}

/* Unknown codes (0, 9-15) and all-ones words: decoded as unknown, raw kept. */
static void test_event_hostile(void **state)
{
	struct amdvi_event ev;
	char buf[96], small[8];
	(void)state;
	uint64_t zero[2] = { 0, 0 };
	assert_false(amdvi_decode_event(zero, &ev));
	assert_false(ev.known);
	uint64_t ones[2] = { ~0ull, ~0ull };
	assert_false(amdvi_decode_event(ones, &ev));
	assert_int_equal(ev.code, 15);
	assert_false(ev.has_devid || ev.has_domid || ev.write);
	amdvi_describe_event(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "unknown event code 0xf: ffffffffffffffff ffffffffffffffff");
	int n = amdvi_describe_event(&ev, small, sizeof(small));
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	for (unsigned code = 9; code < 16; code++) {
		uint64_t r[2] = { (uint64_t)code << 60, 0 };
		assert_false(amdvi_decode_event(r, &ev));
	}
	assert_string_equal(amdvi_event_name(200), "UNKNOWN");
	/* IO_PAGE_FAULT with every other bit set: bounded fields. */
	uint64_t pf[2] = { 0x2fffffffffffffffull, ~0ull };
	assert_true(amdvi_decode_event(pf, &ev));
	assert_int_equal(ev.devid, 0xffff);
	assert_int_equal(ev.pasid, 0xfffff);
	assert_int_equal(ev.flags, 0xfff);
	amdvi_describe_event(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "fault from ff:1f.7 interrupt at 0xffffffffffffffff "
				 "(IO_PAGE_FAULT, pasid 0xfffff, present)");
}

/* 2.2.5 32-bit IRTE (Linux union irte: valid, no_fault, int_type:3, rq_eoi, dm, rsvd,
 * destination:8, vector:8). */
static void test_irte32(void **state)
{
	struct amdvi_irte e = { .remap_en = true,
				.int_type = AMDVI_IRTE_INT_TYPE_FIXED,
				.dest = 0x02,
				.vector = 0x41 };
	struct amdvi_irte d;
	uint32_t raw = 0;
	(void)state;
	assert_true(amdvi_irte32_encode(&e, &raw));
	assert_true(raw == 0x00410201u);
	e.sup_iopf = e.rq_eoi = e.dm = true;
	e.int_type = AMDVI_IRTE_INT_TYPE_ARBITRATED;
	e.dest = 0xff;
	e.vector = 0xef;
	assert_true(amdvi_irte32_encode(&e, &raw));
	assert_true(raw == 0x00efff67u);
	amdvi_irte32_decode(raw, &d);
	assert_true(d.remap_en && d.sup_iopf && d.rq_eoi && d.dm && !d.guest_mode);
	assert_int_equal(d.int_type, 1);
	assert_int_equal(d.dest, 0xff);
	assert_int_equal(d.vector, 0xef);
	e.dest = 0x100;
	assert_false(amdvi_irte32_encode(&e, &raw));
	e.dest = 1;
	e.int_type = 4; /* NMI: goes by the DTE pass bits, never an IRTE */
	assert_false(amdvi_irte32_encode(&e, &raw));
	amdvi_irte32_decode(~0u, &d);
	assert_true(d.guest_mode);
	assert_int_equal(d.int_type, 7);
}

/* 2.2.5 128-bit IRTE (Linux irte_ga_lo destination:24 at 31:8; irte_ga_hi vector 7:0,
 * destination 63:56). */
static void test_irte128(void **state)
{
	struct amdvi_irte e = { .remap_en = true, .dest = 0x12345678, .vector = 0x30 };
	struct amdvi_irte d;
	uint64_t raw[2] = { ~0ull, ~0ull };
	(void)state;
	assert_true(amdvi_irte128_encode(&e, raw));
	assert_true(raw[0] == 0x0000000034567801ull);
	assert_true(raw[1] == 0x1200000000000030ull);
	amdvi_irte128_decode(raw, &d);
	assert_true(d.remap_en && !d.guest_mode);
	assert_true(d.dest == 0x12345678);
	assert_int_equal(d.vector, 0x30);
	e.int_type = 2;
	assert_false(amdvi_irte128_encode(&e, raw));
	uint64_t ones[2] = { ~0ull, ~0ull };
	amdvi_irte128_decode(ones, &d);
	assert_true(d.dest == 0xffffffffu && d.guest_mode && d.vector == 0xff);
}

/* 2.2.5.1: index = MSI data 10:0 for MT 000b/001b. */
static void test_msi_index(void **state)
{
	unsigned idx = 0;
	(void)state;
	assert_true(amdvi_msi_index(0x0005, 9, &idx) && idx == 5);
	assert_true(amdvi_msi_index(0x01ff, 9, &idx) && idx == 0x1ff);
	assert_false(amdvi_msi_index(0x0010, 4, &idx)); /* past a 16-entry table */
	assert_true(amdvi_msi_index(0x000f, 4, &idx) && idx == 15);
	assert_false(amdvi_msi_index(0x0205, 11, &idx)); /* MT 010b: SMI */
	assert_false(amdvi_msi_index(0x0405, 11, &idx)); /* MT 100b: NMI */
	assert_false(amdvi_msi_index(0x0001, 12, &idx));
	assert_true(amdvi_msi_index(0xffff0100u, 9, &idx) && idx == 0x100); /* bits above 10 */
	assert_false(amdvi_msi_index(~0u, 11, &idx));
	assert_true(amdvi_msi_index(0, 0, &idx) && idx == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devtab_base),
		cmocka_unit_test(test_ring_base),
		cmocka_unit_test(test_ring_ptr),
		cmocka_unit_test(test_control_status),
		cmocka_unit_test(test_efr),
		cmocka_unit_test(test_dte_translate),
		cmocka_unit_test(test_dte_block),
		cmocka_unit_test(test_dte_intremap),
		cmocka_unit_test(test_pte),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_event_page_fault),
		cmocka_unit_test(test_event_others),
		cmocka_unit_test(test_event_hostile),
		cmocka_unit_test(test_irte32),
		cmocka_unit_test(test_irte128),
		cmocka_unit_test(test_msi_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
