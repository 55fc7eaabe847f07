/* core/cpuid_policy.c against a fake host CPU that answers every bit set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/cpuid_policy.h"

static void all_ones_host(uint32_t leaf, uint32_t subleaf, struct cpuid_result *r)
{
	(void)subleaf;
	r->eax = r->ebx = r->ecx = r->edx = 0xffffffffu;
	if (leaf == 0) {
		r->eax = 0x10;
		memcpy(&r->ebx, "Auth", 4);
		memcpy(&r->edx, "enti", 4);
		memcpy(&r->ecx, "cAMD", 4);
	} else if (leaf == 0x80000000u) {
		r->eax = 0x80000021u;
	}
}

static struct cpuid_env env = { .host = all_ones_host,
				.vcpu_id = 0,
				.nr_vcpus = 1,
				.tsc_khz = 2000000,
				.tsc_stable = true,
				.apic_khz = 1000000 };

static struct cpuid_result q(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_result r;
	cpuid_policy(leaf, subleaf, &env, &r);
	return r;
}

static void vendor_and_limits(void **state)
{
	(void)state;
	struct cpuid_result r = q(0, 0);
	assert_int_equal(r.eax, 0xd);
	assert_memory_equal(&r.ebx, "Auth", 4);
	assert_int_equal(q(0x80000000u, 0).eax, 0x80000008u);
	r = q(0xe, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = q(0x80000021u, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void hidden_and_forced_bits(void **state)
{
	(void)state;
	struct cpuid_result r = q(1, 0);
	assert_true(r.ecx & (1u << 31));		 /* hypervisor */
	assert_false(r.ecx & (1u << 5));		 /* VMX */
	assert_false(r.ecx & (1u << 3));		 /* MONITOR */
	assert_true(r.ecx & (1u << 21));		 /* x2APIC (emulated) */
	assert_false(r.ecx & (1u << 27));		 /* OSXSAVE follows guest CR4 */
	assert_false(r.edx & (1u << 12));		 /* MTRR */
	assert_false(r.edx & (1u << 7));		 /* MCE */
	assert_false(r.edx & (1u << 28));		 /* HTT with one vCPU */
	assert_false(q(0x80000001u, 0).ecx & (1u << 2)); /* SVM */
	r = q(0x8000000au, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	assert_int_equal(q(7, 0).edx & ~((1u << 2) | (1u << 3) | (1u << 4)), 0);
	assert_int_equal(q(7, 1).ebx, 0);
	assert_int_equal(q(0xa, 0).eax, 0); /* no PMU */
	env.guest_osxsave = true;
	assert_true(q(1, 0).ecx & (1u << 27));
	env.guest_osxsave = false;
	/* the APIC flag follows IA32_APIC_BASE.EN, in both leaves that have it */
	assert_true(q(1, 0).edx & (1u << 9));
	assert_true(q(0x80000001u, 0).edx & (1u << 9));
	env.apic_off = true;
	assert_false(q(1, 0).edx & (1u << 9));
	assert_false(q(0x80000001u, 0).edx & (1u << 9));
	env.apic_off = false;
}

static void per_vcpu_ids(void **state)
{
	(void)state;
	env.vcpu_id = 3;
	env.nr_vcpus = 4;
	struct cpuid_result r = q(1, 0);
	assert_int_equal(r.ebx >> 24, 3);
	assert_int_equal((r.ebx >> 16) & 0xff, 4);
	assert_true(r.edx & (1u << 28));
	assert_int_equal(q(0xb, 0).edx, 3);
	assert_int_equal(q(0xb, 1).ebx, 4);
	assert_int_equal(q(0xb, 1).eax, 2);
	env.vcpu_id = 0;
	env.nr_vcpus = 1;
}

static void hypervisor_leaves(void **state)
{
	(void)state;
	struct cpuid_result r = q(0x40000000u, 0);
	char sig[13] = { 0 };
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_string_equal(sig, "KVMKVMKVM");
	assert_int_equal(r.eax, 0x40000010u);
	assert_int_equal(q(0x40000001u, 0).eax, (1u << 3) | (1u << 24)); /* kvm-clock only */
	env.tsc_stable = false; /* a host TSC keel cannot vouch for: no stable bit */
	assert_int_equal(q(0x40000001u, 0).eax, 1u << 3);
	env.tsc_stable = true;
	assert_int_equal(q(0x40000010u, 0).eax, 2000000);
	r = q(0x400000ffu, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void xsave_components(void **state)
{
	(void)state;
	assert_int_equal(q(0xd, 0).eax, 0xe7);
	assert_int_equal(q(0xd, 0).edx, 0);
	struct cpuid_result r = q(0xd, 9); /* PKRU: not offered */
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	assert_int_equal(q(0xd, 1).eax, 0x7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vendor_and_limits), cmocka_unit_test(hidden_and_forced_bits),
		cmocka_unit_test(per_vcpu_ids),	     cmocka_unit_test(hypervisor_leaves),
		cmocka_unit_test(xsave_components),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
