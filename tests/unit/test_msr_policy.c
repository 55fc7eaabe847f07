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

static void efer(void **state)
{
	(void)state;
	assert_true(efer_write_ok(0xd01, true, false));	     /* SCE LME LMA NXE */
	assert_false(efer_write_ok(0x800, false, false));    /* NXE without NX */
	assert_false(efer_write_ok(1ull << 12, true, true)); /* SVME: never */
	assert_false(efer_write_ok(1ull << 63, true, true));
	assert_true(efer_write_ok(1ull << 14, true, true));
	assert_false(efer_write_ok(1ull << 14, true, false));
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
		cmocka_unit_test(lookup),
		cmocka_unit_test(efer),
		cmocka_unit_test(pat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
