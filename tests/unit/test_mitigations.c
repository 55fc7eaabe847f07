/* core/mitigations.c: which transient-execution mitigations keel applies for what a CPU
 * enumerates, what a CPU does when it changes VM, and the boot line's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/mitigations.h"

static struct mitig_policy choose(enum mitig_vendor v, uint32_t ebx7, uint32_t edx7,
				  uint32_t ext8_ebx, uint64_t arch_caps)
{
	struct mitig_cpu c = { v, ebx7, edx7, ext8_ebx, arch_caps };
	return mitig_choose(&c);
}

/* QEMU 7.2 TCG, -cpu EPYC (and max): none of the speculation-control bits survive TCG's filter */
static void amd_without_ibpb(void **state)
{
	(void)state;
	struct mitig_policy p = choose(MITIG_VENDOR_AMD, 0, 0, 0, 0);
	assert_int_equal(p.apply, MITIG_RSB_FILL);
	assert_int_equal(p.missing, MITIG_IBPB_ON_SWITCH);
}

static void amd_with_ibpb(void **state)
{
	(void)state;
	struct mitig_policy p = choose(MITIG_VENDOR_AMD, 0, 0, CPUID_EXT8_EBX_IBPB, 0);
	assert_int_equal(p.apply, MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL);
	assert_int_equal(p.missing, 0);
	/* AMD is not affected by L1TF or MDS, whatever else it sets: Intel's bits mean nothing */
	p = choose(MITIG_VENDOR_AMD, CPUID7_EBX_RTM,
		   CPUID7_EDX_MD_CLEAR | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_IBRS_IBPB, 0, 0);
	assert_int_equal(p.apply, MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL);
	assert_int_equal(p.missing, 0);
}

/* An Intel CPU before the 2018 microcode: affected by everything, offers nothing */
static void intel_old_microcode(void **state)
{
	(void)state;
	struct mitig_policy p = choose(MITIG_VENDOR_INTEL, 0, 0, 0, 0);
	assert_int_equal(p.apply, MITIG_RSB_FILL);
	assert_int_equal(p.missing, MITIG_IBPB_ON_SWITCH | MITIG_L1D_FLUSH | MITIG_VERW);
}

/* Skylake-era with current microcode but no IA32_ARCH_CAPABILITIES: every mitigation */
static void intel_affected_with_microcode(void **state)
{
	(void)state;
	uint32_t edx = CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_L1D_FLUSH |
		       CPUID7_EDX_MD_CLEAR;
	struct mitig_policy p = choose(MITIG_VENDOR_INTEL, CPUID7_EBX_RTM, edx, 0, 0);
	/* the L1D flush command clears the buffers VERW would on such microcode */
	assert_int_equal(p.apply, MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL | MITIG_L1D_FLUSH);
	assert_int_equal(p.missing, 0);
	/* a flush without MD_CLEAR leaves VERW owed */
	p = choose(MITIG_VENDOR_INTEL, 0, edx & ~CPUID7_EDX_MD_CLEAR, 0, 0);
	assert_int_equal(p.apply, MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL | MITIG_L1D_FLUSH);
	assert_int_equal(p.missing, MITIG_VERW);
	/* IBPB alone: the flush and VERW are still owed */
	p = choose(MITIG_VENDOR_INTEL, 0, CPUID7_EDX_IBRS_IBPB, 0, 0);
	assert_int_equal(p.apply, MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL);
	assert_int_equal(p.missing, MITIG_L1D_FLUSH | MITIG_VERW);
	/* IBPB as AMD enumerates it counts on Intel too (a hypervisor below may offer it so) */
	p = choose(MITIG_VENDOR_INTEL, 0, 0, CPUID_EXT8_EBX_IBPB,
		   ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO);
	assert_int_equal(p.apply, MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL);
	assert_int_equal(p.missing, 0);
}

static void intel_l1tf(void **state)
{
	(void)state;
	uint32_t edx = CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAPS;
	uint64_t mds_no = ARCH_CAP_MDS_NO;
	/* affected: flush where the CPU has the command, else it is missing */
	assert_int_equal(choose(MITIG_VENDOR_INTEL, 0, edx, 0, mds_no).apply & MITIG_L1D_FLUSH,
			 MITIG_L1D_FLUSH);
	struct mitig_policy p = choose(MITIG_VENDOR_INTEL, 0, CPUID7_EDX_ARCH_CAPS, 0, mds_no);
	assert_int_equal(p.apply & MITIG_L1D_FLUSH, 0);
	assert_int_equal(p.missing & MITIG_L1D_FLUSH, MITIG_L1D_FLUSH);
	/* RDCL_NO: not affected; SKIP_L1DFL_VMENTRY: affected, but a VMM need not flush */
	p = choose(MITIG_VENDOR_INTEL, 0, edx, 0, mds_no | ARCH_CAP_RDCL_NO);
	assert_int_equal((p.apply | p.missing) & MITIG_L1D_FLUSH, 0);
	p = choose(MITIG_VENDOR_INTEL, 0, edx, 0, mds_no | ARCH_CAP_SKIP_L1DFL_VMENTRY);
	assert_int_equal((p.apply | p.missing) & MITIG_L1D_FLUSH, 0);
	p = choose(MITIG_VENDOR_INTEL, 0, CPUID7_EDX_ARCH_CAPS, 0,
		   mds_no | ARCH_CAP_SKIP_L1DFL_VMENTRY);
	assert_int_equal((p.apply | p.missing) & MITIG_L1D_FLUSH, 0);
	/* IBRS_ALL, RSBA, SSB_NO change nothing here */
	p = choose(MITIG_VENDOR_INTEL, 0, edx, 0,
		   mds_no | ARCH_CAP_IBRS_ALL | ARCH_CAP_RSBA | ARCH_CAP_SSB_NO);
	assert_int_equal(p.apply & MITIG_L1D_FLUSH, MITIG_L1D_FLUSH);
	assert_int_equal(p.apply & MITIG_RSB_FILL, MITIG_RSB_FILL);
}

static void intel_mds_taa(void **state)
{
	(void)state;
	uint32_t edx = CPUID7_EDX_MD_CLEAR | CPUID7_EDX_ARCH_CAPS;
	uint64_t rdcl = ARCH_CAP_RDCL_NO;
	struct mitig_policy p;

	/* not MDS_NO: VERW, or missing without MD_CLEAR */
	p = choose(MITIG_VENDOR_INTEL, 0, edx, 0, rdcl);
	assert_int_equal(p.apply & MITIG_VERW, MITIG_VERW);
	p = choose(MITIG_VENDOR_INTEL, 0, CPUID7_EDX_ARCH_CAPS, 0, rdcl);
	assert_int_equal(p.apply & MITIG_VERW, 0);
	assert_int_equal(p.missing & MITIG_VERW, MITIG_VERW);
	/* MDS_NO without TSX: nothing to clear */
	p = choose(MITIG_VENDOR_INTEL, 0, edx, 0, rdcl | ARCH_CAP_MDS_NO);
	assert_int_equal((p.apply | p.missing) & MITIG_VERW, 0);
	/* MDS_NO with TSX and not TAA_NO (Cascade Lake): TAA still needs VERW */
	p = choose(MITIG_VENDOR_INTEL, CPUID7_EBX_RTM, edx, 0, rdcl | ARCH_CAP_MDS_NO);
	assert_int_equal(p.apply & MITIG_VERW, MITIG_VERW);
	p = choose(MITIG_VENDOR_INTEL, CPUID7_EBX_RTM, CPUID7_EDX_ARCH_CAPS, 0,
		   rdcl | ARCH_CAP_MDS_NO);
	assert_int_equal(p.missing & MITIG_VERW, MITIG_VERW);
	p = choose(MITIG_VENDOR_INTEL, CPUID7_EBX_RTM, edx, 0,
		   rdcl | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO);
	assert_int_equal((p.apply | p.missing) & MITIG_VERW, 0);
}

/* Bochs 2.7 models with sca_mitigations (tigerlake): CPUID.7.0:EDX 26-31 and MD_CLEAR,
 * IA32_ARCH_CAPABILITIES 0x1F (RDCL_NO IBRS_ALL RSBA SKIP_L1DFL_VMENTRY SSB_NO) */
static void bochs_sca_model(void **state)
{
	(void)state;
	uint32_t edx = CPUID7_EDX_MD_CLEAR | CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP |
		       CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAPS | (1u << 30) | (1u << 31);
	struct mitig_policy p = choose(MITIG_VENDOR_INTEL, 0, edx, 0, 0x1f);
	assert_int_equal(p.apply, MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL | MITIG_VERW);
	assert_int_equal(p.missing, 0);
}

static void other_vendor(void **state)
{
	(void)state;
	struct mitig_policy p = choose(MITIG_VENDOR_OTHER, CPUID7_EBX_RTM,
				       CPUID7_EDX_MD_CLEAR | CPUID7_EDX_L1D_FLUSH, 0, 0);
	assert_int_equal(p.apply, MITIG_RSB_FILL);
	assert_int_equal(p.missing, MITIG_IBPB_ON_SWITCH);
}

/* Every combination of the bits the choice reads, for each vendor: the sets are disjoint, the
 * RSB fill always on, IBPB exactly where enumerated, L1D flush and VERW only on Intel, and a
 * mitigation applied only when its bit is enumerated. */
static void every_combination(void **state)
{
	(void)state;
	static const uint32_t edx_bits[] = { CPUID7_EDX_MD_CLEAR, CPUID7_EDX_IBRS_IBPB,
					     CPUID7_EDX_L1D_FLUSH };
	static const uint64_t cap_bits[] = { ARCH_CAP_RDCL_NO, ARCH_CAP_SKIP_L1DFL_VMENTRY,
					     ARCH_CAP_MDS_NO, ARCH_CAP_TAA_NO };
	unsigned seen_apply = 0, seen_missing = 0;

	for (int v = MITIG_VENDOR_OTHER; v <= MITIG_VENDOR_AMD; v++)
		for (unsigned m = 0; m < 1u << 9; m++) {
			uint32_t edx = 0, ebx = m & 1 ? CPUID7_EBX_RTM : 0;
			uint32_t ext8 = m & 2 ? CPUID_EXT8_EBX_IBPB : 0;
			uint64_t caps = 0;
			for (unsigned b = 0; b < 3; b++)
				if (m & (4u << b))
					edx |= edx_bits[b];
			for (unsigned b = 0; b < 4; b++)
				if (m & (32u << b))
					caps |= cap_bits[b];
			struct mitig_policy p = choose((enum mitig_vendor)v, ebx, edx, ext8, caps);
			seen_apply |= p.apply;
			seen_missing |= p.missing;
			assert_int_equal(p.apply & p.missing, 0);
			assert_int_equal((p.apply | p.missing) & ~MITIG_ALL, 0);
			assert_true(p.apply & MITIG_RSB_FILL);
			bool ibpb = (edx & CPUID7_EDX_IBRS_IBPB) || ext8;
			assert_int_equal(!!(p.apply & MITIG_IBPB_ON_SWITCH), ibpb);
			assert_int_equal(!!(p.missing & MITIG_IBPB_ON_SWITCH), !ibpb);
			if (v != MITIG_VENDOR_INTEL)
				assert_int_equal(
					(p.apply | p.missing) & (MITIG_L1D_FLUSH | MITIG_VERW), 0);
			if (p.apply & MITIG_L1D_FLUSH)
				assert_true(edx & CPUID7_EDX_L1D_FLUSH);
			if (p.apply & MITIG_VERW)
				assert_true(edx & CPUID7_EDX_MD_CLEAR);
			/* VERW is owed on Intel without MDS_NO, or with TSX but not TAA_NO; a
			 * flush on MD_CLEAR microcode clears the buffers itself */
			bool mds = !(caps & ARCH_CAP_MDS_NO) ||
				   ((ebx & CPUID7_EBX_RTM) && !(caps & ARCH_CAP_TAA_NO));
			bool covered = (p.apply & MITIG_L1D_FLUSH) && (edx & CPUID7_EDX_MD_CLEAR);
			if (v == MITIG_VENDOR_INTEL)
				assert_int_equal(!!((p.apply | p.missing) & MITIG_VERW),
						 mds && !covered);
			if (caps & (ARCH_CAP_RDCL_NO | ARCH_CAP_SKIP_L1DFL_VMENTRY))
				assert_int_equal((p.apply | p.missing) & MITIG_L1D_FLUSH, 0);
		}
	assert_int_equal(seen_apply, MITIG_ALL);
	assert_int_equal(seen_missing, MITIG_IBPB_ON_SWITCH | MITIG_L1D_FLUSH | MITIG_VERW);
}

static void switch_between_vms(void **state)
{
	(void)state;
	int a = 0, b = 0;
	struct mitig_policy with = { MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL, 0 };
	struct mitig_policy without = { MITIG_RSB_FILL, MITIG_IBPB_ON_SWITCH };

	assert_int_equal(mitig_on_switch(&with, &a, &b), MITIG_IBPB_ON_SWITCH);
	assert_int_equal(mitig_on_switch(&with, &b, &a), MITIG_IBPB_ON_SWITCH);
	assert_int_equal(mitig_on_switch(&with, &a, &a), 0);   /* another vCPU of the same VM */
	assert_int_equal(mitig_on_switch(&with, NULL, &a), 0); /* the CPU's first VM */
	assert_int_equal(mitig_on_switch(&without, &a, &b), 0);
}

static void describe(void **state)
{
	(void)state;
	char buf[160];
	struct mitig_policy p = { MITIG_ALL, 0 };

	mitig_describe(&p, buf, sizeof(buf));
	assert_string_equal(buf, "IBPB on VM switch, RSB fill on exit, L1D flush on entry, "
				 "VERW on entry");
	p = (struct mitig_policy){ MITIG_RSB_FILL, MITIG_IBPB_ON_SWITCH | MITIG_VERW };
	size_t n = mitig_describe(&p, buf, sizeof(buf));
	assert_string_equal(buf, "RSB fill on exit; needed but not enumerated: IBPB on VM switch, "
				 "VERW on entry");
	assert_int_equal(n, strlen(buf));
	p = (struct mitig_policy){ 0, 0 };
	mitig_describe(&p, buf, sizeof(buf));
	assert_string_equal(buf, "none needed");
	p = (struct mitig_policy){ 0, MITIG_L1D_FLUSH };
	mitig_describe(&p, buf, sizeof(buf));
	assert_string_equal(buf, "none available; needed but not enumerated: L1D flush on entry");
	/* a short buffer: cut, terminated, the length what it holds */
	char small[10];
	memset(small, 'x', sizeof(small));
	p = (struct mitig_policy){ MITIG_ALL, 0 };
	n = mitig_describe(&p, small, sizeof(small));
	assert_string_equal(small, "IBPB on V");
	assert_int_equal(n, 9);
	assert_int_equal(mitig_describe(&p, small, 0), 0);
	assert_int_equal(small[0], 'I'); /* untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(amd_without_ibpb),
		cmocka_unit_test(amd_with_ibpb),
		cmocka_unit_test(intel_old_microcode),
		cmocka_unit_test(intel_affected_with_microcode),
		cmocka_unit_test(intel_l1tf),
		cmocka_unit_test(intel_mds_taa),
		cmocka_unit_test(bochs_sca_model),
		cmocka_unit_test(other_vendor),
		cmocka_unit_test(every_combination),
		cmocka_unit_test(switch_between_vms),
		cmocka_unit_test(describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
