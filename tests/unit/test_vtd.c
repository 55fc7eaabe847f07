/* VT-d register and in-memory formats (drivers/vtd.c) against known answers worked out by hand from
 * the VT-d spec rev 4.x and checked against a second reading of the same bits: the capability
 * values QEMU's intel-iommu model reports (hw/i386/intel_iommu.c, vtd_cap_init: FRO 0x220, one
 * fault register, ND 6, MAMV 18, PSI, 2M/1G pages, drain, IRO 0xf0) and a real client part's
 * "cap d2008c40660462 ecap f050da" from a Linux boot log; and the descriptor, IRTE, IRTA and MSI
 * values Linux's intel-iommu code composes for the same inputs (qi_flush_context, qi_flush_iotlb,
 * qi_flush_iec, the wait descriptor of qi_submit_sync, prepare_irte/set_irte_sid, the MSI address
 * of its irq-remapping compose_msi_msg). Then hostile inputs: each refused for its own reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "drivers/vtd.h"

/* QEMU's intel-iommu, aw-bits=39, dma-drain=on (its default), intremap=on, eim=on */
#define QEMU_CAP 0x00d2008c22260206ull
#define QEMU_ECAP 0x0000000000f00f1aull
/* a real unit (a Linux boot log of a client part) */
#define REAL_CAP 0x00d2008c40660462ull
#define REAL_ECAP 0x0000000000f050daull

static void caps_qemu(void **state)
{
	struct vtd_caps c;
	const char *why = NULL;

	(void)state;
	vtd_decode_caps(QEMU_CAP, QEMU_ECAP, &c);
	assert_int_equal(c.nd_bits, 16);
	assert_false(c.afl);
	assert_false(c.rwbf);
	assert_false(c.cm);
	assert_int_equal(c.sagaw, 0x2);
	assert_int_equal(c.mgaw, 39);
	assert_false(c.zlr);
	assert_int_equal(c.fault_reg_offset, 0x220);
	assert_true(c.sllps_2m);
	assert_true(c.sllps_1g);
	assert_true(c.psi);
	assert_int_equal(c.nr_fault_regs, 1);
	assert_int_equal(c.mamv, 18);
	assert_true(c.dwd);
	assert_true(c.drd);
	assert_false(c.pi);
	assert_false(c.coherent);
	assert_true(c.qi);
	assert_false(c.dt);
	assert_true(c.ir);
	assert_true(c.eim);
	assert_false(c.pt);
	assert_false(c.sc);
	assert_int_equal(c.iotlb_reg_offset, 0xf0);
	assert_int_equal(c.mhmv, 0xf);
	assert_int_equal(vtd_pick_levels(&c), 3);
	assert_true(vtd_caps_usable(&c, 4096, &why));
	assert_string_equal(why, "ok");
	assert_int_equal(vtd_fault_reg(&c, 0), 0x220);

	/* aw-bits=48 adds SAGAW bit 2 and MGAW 47 */
	vtd_decode_caps(0x00d2008c222f0606ull, QEMU_ECAP, &c);
	assert_int_equal(c.sagaw, 0x6);
	assert_int_equal(c.mgaw, 48);
	assert_int_equal(vtd_pick_levels(&c), 4);
	/* caching-mode=on */
	vtd_decode_caps(QEMU_CAP | VTD_CAP_CM, QEMU_ECAP, &c);
	assert_true(c.cm);
}

static void caps_real(void **state)
{
	struct vtd_caps c;

	(void)state;
	vtd_decode_caps(REAL_CAP, REAL_ECAP, &c);
	assert_int_equal(c.nd_bits, 8);
	assert_false(c.rwbf);
	assert_false(c.cm);
	assert_int_equal(c.sagaw, 0x4);
	assert_int_equal(c.mgaw, 39);
	assert_true(c.zlr);
	assert_int_equal(c.fault_reg_offset, 0x400);
	assert_int_equal(c.nr_fault_regs, 1);
	assert_true(c.sllps_2m && c.sllps_1g && c.psi);
	assert_int_equal(c.mamv, 18);
	assert_true(c.dwd && c.drd);
	assert_false(c.coherent);
	assert_true(c.qi && c.ir && c.eim && c.pt && c.sc);
	assert_false(c.dt);
	assert_int_equal(c.iotlb_reg_offset, 0x500);
	assert_int_equal(vtd_pick_levels(&c), 4);
	assert_true(vtd_caps_usable(&c, 4096, NULL));

	/* everything set: every field at its maximum, nothing wider than its type */
	vtd_decode_caps(~0ull, ~0ull, &c);
	assert_int_equal(c.nd_bits, 0); /* ND 7 is reserved */
	assert_int_equal(c.mgaw, 64);
	assert_int_equal(c.sagaw, 0x1f);
	assert_int_equal(c.fault_reg_offset, 0x3ff0);
	assert_int_equal(c.nr_fault_regs, 256);
	assert_int_equal(c.mamv, 63);
	assert_int_equal(c.iotlb_reg_offset, 0x3ff0);
	assert_int_equal(c.pss, 31);
	vtd_decode_caps(0, 0, &c);
	assert_int_equal(c.nd_bits, 4);
	assert_int_equal(c.mgaw, 1);
	assert_int_equal(c.nr_fault_regs, 1);
	assert_int_equal(vtd_pick_levels(&c), 0);
}

/* The QEMU caps with one field replaced */
static bool usable_with(uint64_t cap, uint64_t ecap, uint64_t size, const char **why)
{
	struct vtd_caps c;

	vtd_decode_caps(cap, ecap, &c);
	return vtd_caps_usable(&c, size, why);
}

#define CAP_FRO(x) ((uint64_t)(x) << 24)
#define CAP_FRO_MASK CAP_FRO(0x3ff)
#define CAP_NFR(x) ((uint64_t)(x) << 40)
#define CAP_NFR_MASK CAP_NFR(0xff)
#define ECAP_IRO(x) ((uint64_t)(x) << 8)
#define ECAP_IRO_MASK ECAP_IRO(0x3ff)

static void caps_hostile(void **state)
{
	const char *why = NULL;
	uint64_t cap = QEMU_CAP, ecap = QEMU_ECAP;

	(void)state;
	assert_false(usable_with(cap, ecap & ~VTD_ECAP_QI, 4096, &why));
	assert_string_equal(why, "no queued invalidation");
	/* only 5-level (SAGAW bit 3) */
	assert_false(usable_with((cap & ~(0x1full << 8)) | (0x8ull << 8), ecap, 4096, &why));
	assert_string_equal(why, "no 3- or 4-level second-level tables");
	assert_false(usable_with(cap | 7, ecap, 4096, &why));
	assert_string_equal(why, "reserved number of domains");
	/* fault registers past the page: FRO at its top, or 256 of them from 0x220 */
	assert_false(usable_with((cap & ~CAP_FRO_MASK) | CAP_FRO(0x3ff), ecap, 4096, &why));
	assert_string_equal(why, "fault recording registers outside the register set");
	assert_true(usable_with((cap & ~CAP_FRO_MASK) | CAP_FRO(0x3ff), ecap, 16384, NULL));
	assert_false(usable_with(cap | CAP_NFR(0xff), ecap, 4096, &why));
	assert_string_equal(why, "fault recording registers outside the register set");
	assert_true(usable_with(cap | CAP_NFR(0xff), ecap, 8192, NULL));
	/* the last fault register ending exactly at the end of the page is fine, one more is not */
	assert_true(usable_with((cap & ~CAP_FRO_MASK) | CAP_FRO(0xff), ecap, 4096, NULL));
	assert_false(
		usable_with((cap & ~CAP_FRO_MASK) | CAP_FRO(0xff) | CAP_NFR(1), ecap, 4096, &why));
	assert_true(
		usable_with((cap & ~CAP_FRO_MASK) | CAP_FRO(0xfe) | CAP_NFR(1), ecap, 4096, NULL));
	/* fault registers over GCMD: clearing a fault would write the global command */
	assert_false(usable_with(cap & ~CAP_FRO_MASK, ecap, 4096, &why));
	assert_false(usable_with((cap & ~CAP_FRO_MASK) | CAP_FRO(1), ecap, 4096, &why));
	assert_string_equal(why, "fault recording registers outside the register set");
	/* IOTLB registers at 0x10: their command register would be GCMD */
	assert_false(usable_with(cap, (ecap & ~ECAP_IRO_MASK) | ECAP_IRO(1), 4096, &why));
	assert_string_equal(why, "IOTLB registers outside the register set");
	assert_false(usable_with(cap, (ecap & ~ECAP_IRO_MASK) | ECAP_IRO(0x100), 4096, &why));
	assert_string_equal(why, "IOTLB registers outside the register set");
	assert_true(usable_with(cap, (ecap & ~ECAP_IRO_MASK) | ECAP_IRO(0xff), 4096, NULL));
	/* IOTLB registers inside the fault registers */
	assert_false(usable_with(cap, (ecap & ~ECAP_IRO_MASK) | ECAP_IRO(0x22), 4096, &why));
	assert_string_equal(why, "fault recording and IOTLB registers overlap");
	assert_false(usable_with(cap, ecap, 2048, &why));
	assert_string_equal(why, "register set under 4 KiB");
}

static void root_and_context(void **state)
{
	uint64_t e[2];
	struct vtd_caps c;

	(void)state;
	vtd_root_entry(0x12345000, e);
	assert_true(e[0] == 0x12345001 && e[1] == 0);

	/* QEMU reads DID as hi 23:8 and the depth as 2 + AW (vtd_ce_get_level) */
	assert_int_equal(vtd_context_entry(0x12345000, 4, 5, 16, e), 0);
	assert_true(e[0] == 0x12345001 && e[1] == 0x502);
	assert_int_equal(vtd_context_entry(0xfedcb000ull << 8, 3, 0xffff, 16, e), 0);
	assert_true(e[0] == (0xfedcb000ull << 8 | 1) && e[1] == 0xffff01);
	assert_int_equal(vtd_context_entry(0x1000, 3, 0xff, 8, e), 0);
	assert_true(e[0] == 0x1001 && e[1] == 0xff01);

	/* hostile: the entry stays all zero (blocking) on every refusal */
	assert_int_equal(vtd_context_entry(0x1000, 3, 0x100, 8, e), VTD_EDOMAIN);
	assert_true(e[0] == 0 && e[1] == 0);
	assert_int_equal(vtd_context_entry(0x1000, 3, 0x10, 4, e), VTD_EDOMAIN);
	assert_int_equal(vtd_context_entry(0x1000, 3, 0xf, 4, e), 0);
	assert_int_equal(vtd_context_entry(0x1000, 3, 0, 16, e), VTD_EDOMAIN);
	assert_int_equal(vtd_context_entry(0x1000, 3, 1, 0, e), VTD_EDOMAIN);
	assert_int_equal(vtd_context_entry(0x1800, 4, 1, 16, e), VTD_EALIGN);
	assert_true(e[0] == 0 && e[1] == 0);
	assert_int_equal(vtd_context_entry(0x1001, 4, 1, 16, e), VTD_EALIGN);
	assert_int_equal(vtd_context_entry(0x1000, 5, 1, 16, e), VTD_EINVAL);
	assert_int_equal(vtd_context_entry(0x1000, 2, 1, 16, e), VTD_EINVAL);
	/* the reserved ND the decoder leaves as 0 bits admits no domain */
	vtd_decode_caps(QEMU_CAP | 7, QEMU_ECAP, &c);
	assert_int_equal(vtd_context_entry(0x1000, 3, 1, c.nd_bits, e), VTD_EDOMAIN);

	e[0] = e[1] = ~0ull;
	vtd_context_entry_blocked(e);
	assert_true(e[0] == 0 && e[1] == 0);
	assert_true((VTD_SL_R | VTD_SL_W | VTD_SL_X | VTD_SL_PS | VTD_SL_SNP) == 0x887);
}

static void qi_descriptors(void **state)
{
	struct vtd_caps c, nodrain;
	uint64_t d[2];

	(void)state;
	vtd_decode_caps(QEMU_CAP, QEMU_ECAP, &c);
	vtd_decode_caps(QEMU_CAP & ~(3ull << 54), QEMU_ECAP, &nodrain);

	vtd_qi_cc_global(d);
	assert_true(d[0] == 0x11 && d[1] == 0);
	vtd_qi_cc_domain(5, d);
	assert_true(d[0] == 0x50021 && d[1] == 0);
	assert_int_equal(vtd_qi_cc_device(5, 0x0020, 0, d), 0);
	assert_true(d[0] == 0x0000002000050031ull && d[1] == 0);
	assert_int_equal(vtd_qi_cc_device(0xffff, 0xffff, 3, d), 0);
	assert_true(d[0] == 0x0003ffffffff0031ull);
	assert_int_equal(vtd_qi_cc_device(1, 1, 4, d), VTD_EINVAL);

	vtd_qi_iotlb_global(&c, d);
	assert_true(d[0] == 0xd2 && d[1] == 0);
	vtd_qi_iotlb_global(&nodrain, d);
	assert_true(d[0] == 0x12 && d[1] == 0);
	vtd_qi_iotlb_domain(&c, 5, d);
	assert_true(d[0] == 0x500e2 && d[1] == 0);
	assert_int_equal(vtd_qi_iotlb_page(&c, 5, 0x7f000, 0, false, d), 0);
	assert_true(d[0] == 0x500f2 && d[1] == 0x7f000);
	assert_int_equal(vtd_qi_iotlb_page(&nodrain, 5, 0x80000, 2, true, d), 0);
	assert_true(d[0] == 0x50032 && d[1] == 0x80042);
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 0x7f000, 2, false, d), VTD_EALIGN);
	assert_true(d[0] == 0 && d[1] == 0);
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 0x7f800, 0, false, d), VTD_EALIGN);
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 0, 18, false, d), 0);
	assert_true(d[1] == 18);
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 0, 19, false, d), VTD_ENOTSUP);
	c.mamv = 63;
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 0, 63, false, d), 0);
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 1ull << 63, 63, false, d), VTD_EALIGN);
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 1ull << 63, 51, false, d), 0);
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 0, 64, false, d), VTD_ENOTSUP);
	c.psi = false;
	assert_int_equal(vtd_qi_iotlb_page(&c, 1, 0, 0, false, d), VTD_ENOTSUP);

	vtd_qi_iec_global(d);
	assert_true(d[0] == 0x4 && d[1] == 0);
	assert_int_equal(vtd_qi_iec_index(32, 3, d), 0);
	assert_true(d[0] == 0x0000002018000014ull && d[1] == 0);
	assert_int_equal(vtd_qi_iec_index(7, 0, d), 0);
	assert_true(d[0] == 0x0000000700000014ull);
	assert_int_equal(vtd_qi_iec_index(0, 16, d), 0);
	assert_int_equal(vtd_qi_iec_index(33, 3, d), VTD_EALIGN);
	assert_int_equal(vtd_qi_iec_index(0x8000, 16, d), VTD_EALIGN);
	assert_int_equal(vtd_qi_iec_index(0, 17, d), VTD_EINVAL);

	assert_int_equal(vtd_qi_wait(1, 0x1000, false, true, d), 0);
	assert_true(d[0] == 0x0000000100000065ull && d[1] == 0x1000);
	assert_int_equal(vtd_qi_wait(0xdeadbeef, 0x12344, true, false, d), 0);
	assert_true(d[0] == 0xdeadbeef00000035ull && d[1] == 0x12344);
	assert_int_equal(vtd_qi_wait(1, 0x1002, false, false, d), VTD_EALIGN);
	assert_true(d[0] == 0 && d[1] == 0);
}

static void queue_registers(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vtd_iqa(0x100000, 0, &v), 0);
	assert_true(v == 0x100000);
	assert_int_equal(vtd_iqa(0x100000, 7, &v), 0);
	assert_true(v == 0x100007);
	assert_int_equal(vtd_iqa(0x100000, 8, &v), VTD_EINVAL);
	assert_int_equal(vtd_iqa(0x100800, 0, &v), VTD_EALIGN);
	assert_true(v == 0);
	assert_int_equal(vtd_iq_entries(0), 256);
	assert_int_equal(vtd_iq_entries(7), 32768);
	assert_true(vtd_iq_reg(3) == 0x30);
	assert_true(vtd_iq_reg(0x7fff) == 0x7fff0);
	assert_int_equal(vtd_iq_index(0x7fff0), 0x7fff);
	assert_int_equal(vtd_iq_index(0x80030), 3); /* bit 19 and up are not the index */
	assert_int_equal(vtd_iq_index(0x3f), 3);    /* nor bits 3:0 */
}

static void faults(void **state)
{
	struct vtd_fault f;
	char buf[160];
	char tiny[10];
	int n;

	(void)state;
	/* QEMU's vtd_record_frcd for a write by 00:04.0 to 0x7f000 (reason 5): F, FR, SID, T clear */
	assert_true(vtd_decode_fault(0x7f000, 0x8000000500000020ull, &f));
	assert_int_equal(f.sid, 0x20);
	assert_true(f.addr == 0x7f000);
	assert_int_equal(f.reason, 5);
	assert_true(f.write);
	assert_int_equal(f.type, 0);
	assert_false(f.pasid_present || f.priv || f.exe || f.intr);
	n = vtd_describe_fault(&f, buf, sizeof(buf));
	assert_string_equal(buf, "fault from 00:04.0 write at 0x7f000 (reason 0x05: write to a "
				 "read-only or absent page)");
	assert_int_equal(n, (int)strlen(buf));
	n = vtd_describe_fault(&f, tiny, sizeof(tiny));
	assert_string_equal(tiny, "fault fro");
	assert_int_equal(n, (int)strlen(buf));

	/* a read (T1) by 3a:1f.7 with a PASID, privileged, execute, AT 2; bits 11:0 of FI ignored */
	assert_true(vtd_decode_fault(0xfffffffffffff123ull,
				     1ull << 63 | 1ull << 62 | 2ull << 60 | 0xabcdeull << 40 |
					     0x06ull << 32 | 1ull << 31 | 1ull << 30 | 1ull << 29 |
					     0x3aff,
				     &f));
	assert_false(f.write);
	assert_int_equal(f.type, VTD_FAULT_READ);
	assert_true(f.pasid_present && f.pasid == 0xabcde && f.priv && f.exe);
	assert_int_equal(f.at, 2);
	assert_true(f.addr == 0xfffffffffffff000ull);
	vtd_describe_fault(&f, buf, sizeof(buf));
	assert_string_equal(buf, "fault from 3a:1f.7 read at 0xfffffffffffff000 (reason 0x06: read "
				 "from an unreadable or absent page)");
	/* T2 alone is not a write */
	assert_true(vtd_decode_fault(0, 1ull << 63 | 1ull << 28, &f));
	assert_false(f.write);
	assert_int_equal(f.type, VTD_FAULT_TRANSLATION);
	vtd_describe_fault(&f, buf, sizeof(buf));
	assert_string_equal(buf,
			    "fault from 00:00.0 translation request at 0x0 (reason 0x00: unknown)");
	assert_true(vtd_decode_fault(0, 1ull << 63 | 1ull << 62 | 1ull << 28, &f));
	assert_int_equal(f.type, VTD_FAULT_ATOMIC);
	assert_false(f.write);
	/* PV without PP is not a PASID */
	assert_true(vtd_decode_fault(0, 1ull << 63 | 0xfffffull << 40, &f));
	assert_false(f.pasid_present);
	assert_int_equal(f.pasid, 0);

	/* interrupt remapping: FI 63:48 is the interrupt index */
	assert_true(vtd_decode_fault(0x0005000000000000ull, 1ull << 63 | 0x22ull << 32 | 0xf8, &f));
	assert_true(f.intr);
	assert_int_equal(f.index, 5);
	assert_true(f.addr == 0);
	vtd_describe_fault(&f, buf, sizeof(buf));
	assert_string_equal(buf,
			    "fault from 00:1f.0 interrupt index 5 (reason 0x22: interrupt entry "
			    "not present)");

	/* F clear: nothing recorded, whatever else the register holds */
	f.sid = 7;
	assert_false(vtd_decode_fault(~0ull, ~0ull >> 1, &f));
	assert_int_equal(f.sid, 0);
	assert_false(f.write);

	assert_string_equal(vtd_fault_reason(0x1), "root entry not present");
	assert_string_equal(vtd_fault_reason(0xd),
			    "request blocked by the context entry's translation type");
	assert_string_equal(vtd_fault_reason(0x20), "reserved bits set in an interrupt request");
	assert_string_equal(vtd_fault_reason(0x26), "interrupt source id check failed");
	assert_string_equal(vtd_fault_reason(0x27), "posted-interrupt descriptor unreadable");
	assert_string_equal(vtd_fault_reason(0x0), "unknown");
	assert_string_equal(vtd_fault_reason(0xe), "unknown");
	assert_string_equal(vtd_fault_reason(0x1f), "unknown");
	assert_string_equal(vtd_fault_reason(0x28), "unknown");
	assert_string_equal(vtd_fault_reason(0xff), "unknown");
	for (unsigned r = 0; r < 256; r++)
		assert_non_null(vtd_fault_reason((uint8_t)r));
}

static void interrupt_remapping(void **state)
{
	uint64_t e[2], v;

	(void)state;
	/* Linux prepare_irte + set_irte_sid(SVT_VERIFY_SID_SQ, SQ_ALL_16, sid) for xAPIC id 1 */
	assert_int_equal(vtd_irte_remapped(0x30, 1, false, false, false, 0x0020, e), 0);
	assert_true(e[0] == 0x0000010000300001ull && e[1] == 0x40020);
	assert_int_equal(vtd_irte_remapped(0x30, 0xff, false, true, false, 0xffff, e), 0);
	assert_true(e[0] == 0x0000ff0000300011ull && e[1] == 0x4ffff);
	/* x2APIC: the whole 32-bit id; level, lowest priority with its redirection hint */
	assert_int_equal(vtd_irte_remapped(0xef, 0x100, true, true, true, 0x0100, e), 0);
	assert_true(e[0] == 0x0000010000ef0039ull && e[1] == 0x40100);
	assert_int_equal(vtd_irte_remapped(0x20, 0xffffffff, true, false, false, 0, e), 0);
	assert_true(e[0] == 0xffffffff00200001ull && e[1] == 0x40000);
	/* hostile: no xAPIC id above 0xff, no exception vectors; the entry stays not present */
	assert_int_equal(vtd_irte_remapped(0x30, 0x100, false, false, false, 0, e), VTD_EINVAL);
	assert_true(e[0] == 0 && e[1] == 0);
	assert_int_equal(vtd_irte_remapped(15, 1, false, false, false, 0, e), VTD_EINVAL);
	e[0] = e[1] = 1;
	vtd_irte_blocked(e);
	assert_true(e[0] == 0 && e[1] == 0);

	/* Linux's IRTA: 65536 entries (S 15) and IR_X2APIC_MODE at bit 11 */
	assert_int_equal(vtd_irta(0x200000, 65536, true, &v), 0);
	assert_true(v == 0x20080f);
	assert_int_equal(vtd_irta(0x200000, 256, false, &v), 0);
	assert_true(v == 0x200007);
	assert_int_equal(vtd_irta(0x200000, 2, false, &v), 0);
	assert_true(v == 0x200000);
	assert_int_equal(vtd_irta(0x200000, 1, false, &v), VTD_EINVAL);
	assert_int_equal(vtd_irta(0x200000, 0, false, &v), VTD_EINVAL);
	assert_int_equal(vtd_irta(0x200000, 3, false, &v), VTD_EINVAL);
	assert_int_equal(vtd_irta(0x200000, 131072, false, &v), VTD_EINVAL);
	assert_int_equal(vtd_irta(0x200010, 256, false, &v), VTD_EALIGN);
	assert_true(v == 0);
}

static void msi(void **state)
{
	uint32_t addr, data;
	struct vtd_msi_remap m;

	(void)state;
	/* Linux: MSI_ADDR_BASE_LO | IR_EXT_INT (bit 4) | INDEX1 (handle bit 15 at 2) | INDEX2 */
	vtd_msi_remappable(5, false, 9, &addr, &data);
	assert_true(addr == 0xfee000b0u && data == 0);
	assert_true(vtd_msi_decode(addr, data, &m));
	assert_true(m.handle == 5 && !m.shv && m.subhandle == 0 && m.index == 5);
	vtd_msi_remappable(0x8001, true, 2, &addr, &data);
	assert_true(addr == 0xfee0003cu && data == 2);
	assert_true(vtd_msi_decode(addr, data, &m));
	assert_true(m.handle == 0x8001 && m.shv && m.subhandle == 2 && m.index == 0x8003);
	vtd_msi_remappable(0xffff, true, 0xffff, &addr, &data);
	assert_true(addr == 0xfeeffffcu && data == 0xffff);
	assert_true(vtd_msi_decode(addr | 3, 0xabcdffff, &m));
	assert_true(m.handle == 0xffff && m.subhandle == 0xffff && m.index == 0x1fffe);
	/* data is ignored without SHV */
	assert_true(vtd_msi_decode(0xfee000b0u, 0x1234, &m));
	assert_true(m.subhandle == 0 && m.index == 5);
	/* compatibility format, or not an interrupt address at all */
	m.handle = 1;
	assert_false(vtd_msi_decode(0xfee01000u, 0, &m));
	assert_int_equal(m.handle, 0);
	assert_false(vtd_msi_decode(0xfed000b0u, 0, &m));
	assert_false(vtd_msi_decode(0x7ee000b0u, 0, &m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(caps_qemu),
		cmocka_unit_test(caps_real),
		cmocka_unit_test(caps_hostile),
		cmocka_unit_test(root_and_context),
		cmocka_unit_test(qi_descriptors),
		cmocka_unit_test(queue_registers),
		cmocka_unit_test(faults),
		cmocka_unit_test(interrupt_remapping),
		cmocka_unit_test(msi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
