/* core/msr_policy.c: the MSR allow-list and the EFER/PAT write checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/msr_policy.h"

static void lookup(void **state)
{
	(void)state;
	assert_int_equal(msr_policy_lookup(0xc0000080), MSR_ACT_EFER);
	assert_int_equal(msr_policy_lookup(0x277), MSR_ACT_PAT);
	assert_int_equal(msr_policy_lookup(0x10), MSR_ACT_TSC);
	assert_int_equal(msr_policy_lookup(0x1b), MSR_ACT_APIC);
	assert_int_equal(msr_policy_lookup(0x6e0), MSR_ACT_APIC);
	assert_int_equal(msr_policy_lookup(0x800), MSR_ACT_APIC);
	assert_int_equal(msr_policy_lookup(0x8ff), MSR_ACT_APIC);
	assert_int_equal(msr_policy_lookup(0x7ff), MSR_ACT_GP);
	assert_int_equal(msr_policy_lookup(0x900), MSR_ACT_GP);
	/* keel's own virtualization MSRs never reach a guest */
	assert_int_equal(msr_policy_lookup(0xc0010117), MSR_ACT_GP); /* VM_HSAVE_PA */
	assert_int_equal(msr_policy_lookup(0x480), MSR_ACT_GP);	     /* IA32_VMX_BASIC */
	assert_int_equal(msr_policy_lookup(0xc0010114), MSR_ACT_ZERO_RO);
	assert_int_equal(msr_policy_lookup(0xffffffff), MSR_ACT_GP);
	assert_int_equal(msr_policy_lookup(0), MSR_ACT_GP);
}

/* AMD's legacy PerfEvtSel0-3 / PerfCtr0-3 and Intel's PMC0-1 / PERFEVTSEL0-1 read 0 and take
 * writes (Linux on AMD writes them without a _safe accessor); their neighbours stay #GP. */
static void pmu_counters(void **state)
{
	(void)state;
	for (uint32_t msr = 0xc0010000; msr <= 0xc0010007; msr++)
		assert_int_equal(msr_policy_lookup(msr), MSR_ACT_PMU);
	assert_int_equal(msr_policy_lookup(0xc000ffff), MSR_ACT_GP);
	assert_int_equal(msr_policy_lookup(0xc0010008), MSR_ACT_GP);
	assert_int_equal(msr_policy_lookup(0xc0010200), MSR_ACT_GP); /* PerfCtrExtCore: hidden */
	assert_int_equal(msr_policy_lookup(0xc1), MSR_ACT_PMU);
	assert_int_equal(msr_policy_lookup(0xc2), MSR_ACT_PMU);
	assert_int_equal(msr_policy_lookup(0xc3), MSR_ACT_GP);
	assert_int_equal(msr_policy_lookup(0x186), MSR_ACT_PMU);
	assert_int_equal(msr_policy_lookup(0x187), MSR_ACT_PMU);
	assert_int_equal(msr_policy_lookup(0x188), MSR_ACT_GP);
	assert_int_equal(msr_policy_lookup(0x38d), MSR_ACT_GP); /* fixed counters: no leaf 0xA */
	assert_int_equal(msr_policy_lookup(0x38f), MSR_ACT_GP);
}

/* RDPMC reads the counters the MSRs offer: 0-3 on AMD, 0-1 on Intel; nothing else. */
static void rdpmc(void **state)
{
	(void)state;
	for (uint32_t c = 0; c < 4; c++)
		assert_true(rdpmc_counter_offered(c, true));
	assert_false(rdpmc_counter_offered(4, true));
	assert_false(rdpmc_counter_offered(6, true)); /* northbridge counters */
	assert_true(rdpmc_counter_offered(0, false));
	assert_true(rdpmc_counter_offered(1, false));
	assert_false(rdpmc_counter_offered(2, false));
	assert_false(rdpmc_counter_offered(1u << 30, false)); /* fixed counter 0 */
	assert_false(rdpmc_counter_offered(1u << 31, true));
	assert_false(rdpmc_counter_offered(0xffffffff, true));
	assert_false(rdpmc_counter_offered(0xffffffff, false));
}

/* MSRs an OS touches without asking CPUID first (docs/config.md "MSRs a guest sees") */
static void unchecked_msrs(void **state)
{
	(void)state;
	assert_int_equal(msr_policy_lookup(0x8b), MSR_ACT_ZERO);	  /* Linux writes 0 first */
	assert_int_equal(msr_policy_lookup(0xc0010015), MSR_ACT_ZERO_W0); /* HWCR */
	assert_int_equal(msr_policy_lookup(0xc0011029), MSR_ACT_ZERO_W0); /* DE_CFG */
	assert_int_equal(msr_policy_lookup(0xc0010058), MSR_ACT_ZERO_W0); /* MMIO_CONF_BASE */
	assert_int_equal(msr_policy_lookup(0xc001001f), MSR_ACT_ZERO);	  /* NB_CFG */
	assert_int_equal(msr_policy_lookup(0x1a0), MSR_ACT_MISC_ENABLE);
	assert_int_equal(MISC_ENABLE_VALUE, 0x1801);
	assert_int_equal(msr_policy_lookup(0xce), MSR_ACT_ZERO_RO);  /* PLATFORM_INFO */
	assert_int_equal(msr_policy_lookup(0x198), MSR_ACT_ZERO_RO); /* PERF_STATUS */
	assert_int_equal(msr_policy_lookup(0x179), MSR_ACT_ZERO_RO); /* MCG_CAP: no banks */
	assert_int_equal(msr_policy_lookup(0x17a), MSR_ACT_ZERO_W0); /* MCG_STATUS */
	assert_int_equal(msr_policy_lookup(0x17b), MSR_ACT_GP);	     /* MCG_CTL: MCG_CTL_P = 0 */
	assert_int_equal(msr_policy_lookup(0x400), MSR_ACT_GP);	     /* MC0_CTL: no banks */
	assert_int_equal(msr_policy_lookup(0x345), MSR_ACT_GP);	    /* PERF_CAPABILITIES: no PDCM */
	assert_int_equal(msr_policy_lookup(0x3a), MSR_ACT_ZERO_RO); /* FEATURE_CONTROL */
}

static void pat(void **state)
{
	(void)state;
	assert_true(pat_write_ok(0x0007040600070406ull));
	assert_true(pat_write_ok(0x0105040600070406ull));
	assert_false(pat_write_ok(0x0007040600070402ull)); /* type 2 is reserved */
	assert_false(pat_write_ok(0x0807040600070406ull));
	assert_false(pat_write_ok(0x0307040600070406ull));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lookup), cmocka_unit_test(pmu_counters),
		cmocka_unit_test(rdpmc),  cmocka_unit_test(unchecked_msrs),
		cmocka_unit_test(pat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
