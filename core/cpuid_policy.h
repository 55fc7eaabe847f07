/* What CPUID tells a guest: the host's answer filtered to what keel virtualizes (an allow-list
 * per leaf), with the hypervisor bit, a KVM-compatible hypervisor leaf range (EMULATION.md, the
 * x2APIC note) and each vCPU's own APIC ID. Pure logic: host-tested and fuzzed. */
#ifndef KEEL_CORE_CPUID_POLICY_H
#define KEEL_CORE_CPUID_POLICY_H

#include "lib/types.h"

struct cpuid_result {
	uint32_t eax, ebx, ecx, edx;
};

struct cpuid_env {
	/* the real CPU's answer */
	void (*host)(uint32_t leaf, uint32_t subleaf, struct cpuid_result *r);
	unsigned vcpu_id; /* also its APIC ID */
	unsigned nr_vcpus;
	bool guest_osxsave; /* guest CR4.OSXSAVE, mirrored in leaf 1 ECX bit 27 */
	uint32_t tsc_khz;   /* guest TSC frequency */
	bool tsc_stable;    /* kvm-clock is one clock on every vCPU (arch/x86/tsc_sync.h) */
	uint32_t apic_khz;  /* local APIC timer input frequency */
	bool apic_off;	    /* IA32_APIC_BASE.EN clear: leaf 1 EDX.APIC reads 0 */
};

#define CPUID_HV_BASE 0x40000000u

void cpuid_policy(uint32_t leaf, uint32_t subleaf, const struct cpuid_env *env,
		  struct cpuid_result *out);

#endif
