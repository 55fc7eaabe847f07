#include "core/cpuid_policy.h"

#include "core/kvmclock.h"
#include "lib/kstring.h"

/* Leaf 1 (Intel SDM vol 2, CPUID; AMD APM vol 3, E.3.2). ECX: SSE3, PCLMUL, SSSE3, FMA, CX16,
 * SSE4.1/4.2, x2APIC (emulated), MOVBE, POPCNT, TSC-deadline (emulated), AES, XSAVE, OSXSAVE
 * (from guest CR4), AVX, F16C, RDRAND, hypervisor. Hidden: MONITOR, VMX, SMX, EST, TM2, PDCM,
 * PCID (no INVPCID plumbing yet), DCA. */
#define L1_ECX_ALLOW                                                                               \
	((1u << 0) | (1u << 1) | (1u << 9) | (1u << 12) | (1u << 13) | (1u << 19) | (1u << 20) |   \
	 (1u << 22) | (1u << 23) | (1u << 25) | (1u << 26) | (1u << 28) | (1u << 29) | (1u << 30))
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_HYPERVISOR (1u << 31)
/* EDX: FPU, VME, DE, PSE, TSC, MSR, PAE, CX8, APIC, SEP, PGE, CMOV, PAT, PSE36, CLFSH, MMX,
 * FXSR, SSE, SSE2. Hidden: MCE/MCA (no machine-check MSRs), MTRR (no MTRR emulation), PSN, DS,
 * ACPI thermal, SS, HTT (set below from the vCPU count), TM, PBE. */
#define CPUID_EDX_APIC (1u << 9)
#define L1_EDX_ALLOW                                                                               \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |       \
	 (1u << 8) | (1u << 9) | (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 17) |  \
	 (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26))
/* Leaf 7.0 EBX: FSGSBASE, BMI1, AVX2, SMEP, BMI2, ERMS, ADX, SMAP, CLFLUSHOPT, CLWB, SHA,
 * AVX-512 F/DQ/CD/BW/VL/IFMA. Hidden: TSC_ADJUST, SGX, HLE/RTM, INVPCID, PQM/PQE, MPX, PT. */
#define L7_EBX_ALLOW                                                                               \
	((1u << 0) | (1u << 3) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 16) |      \
	 (1u << 17) | (1u << 19) | (1u << 20) | (1u << 21) | (1u << 23) | (1u << 24) |             \
	 (1u << 28) | (1u << 29) | (1u << 30) | (1u << 31))
/* 7.0 ECX: AVX512_VBMI, UMIP, AVX512_VBMI2, GFNI, VAES, VPCLMULQDQ, AVX512_VNNI, BITALG,
 * VPOPCNTDQ, RDPID. Hidden: PKU/OSPKE, WAITPKG, LA57, SGX_LC. EDX: FSRM, AVX512 4VNNIW/4FMAPS
 * only; no speculation-control MSRs are emulated, so none of those bits. */
#define L7_ECX_ALLOW                                                                               \
	((1u << 1) | (1u << 2) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) |     \
	 (1u << 12) | (1u << 14) | (1u << 22))
#define L7_EDX_ALLOW ((1u << 2) | (1u << 3) | (1u << 4))
/* 0x8000_0001 ECX: LAHF, CMP_LEGACY off, ABM/LZCNT, SSE4A, misaligned SSE, 3DNowPrefetch, XOP,
 * FMA4, TBM. Hidden: SVM, extended APIC space, OSVW, IBS, SKINIT, WDT, topology, perf counters.
 * EDX: SYSCALL, NX, MMXEXT, FXSR_OPT, Page1GB, RDTSCP, LM (and the leaf-1 duplicates). */
#define LX1_ECX_ALLOW                                                                              \
	((1u << 0) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 11) | (1u << 16) |     \
	 (1u << 21))
#define LX1_EDX_ALLOW                                                                              \
	((L1_EDX_ALLOW & 0x0183f3ffu) | (1u << 11) | (1u << 20) | (1u << 22) | (1u << 25) |        \
	 (1u << 26) | (1u << 27) | (1u << 29))
/* XSAVE components keel lets guests enable: x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256,
 * Hi16_ZMM). Not MPX, PT, PKRU or the supervisor states. */
#define XCR0_ALLOW ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7))

#define BASIC_MAX 0xd
#define EXT_MAX 0x80000008u

static void hv_leaves(uint32_t leaf, const struct cpuid_env *env, struct cpuid_result *r)
{
	switch (leaf - CPUID_HV_BASE) {
	case 0x00:
		/* The KVM signature: guests then trust the x2APIC without interrupt remapping;
		 * leaf 0x40000001 lists the only paravirtual features keel implements. */
		r->eax = CPUID_HV_BASE + 0x10;
		memcpy(&r->ebx, "KVMK", 4);
		memcpy(&r->ecx, "VMKV", 4);
		memcpy(&r->edx, "M\0\0\0", 4);
		break;
	case 0x01:
		/* KVM feature bits: kvm-clock through the new MSRs, stable where the host TSC
		 * allows; nothing else (no PV EOI, steal time or async page faults) */
		r->eax = KVM_FEATURE_CLOCKSOURCE2 |
			 (env->tsc_stable ? KVM_FEATURE_CLOCKSOURCE_STABLE_BIT : 0);
		break;
	case 0x10:
		/* timing leaf (the VMware convention): TSC and APIC bus in kHz */
		r->eax = env->tsc_khz;
		r->ebx = env->apic_khz;
		break;
	default:
		break;
	}
}

void cpuid_policy(uint32_t leaf, uint32_t subleaf, const struct cpuid_env *env,
		  struct cpuid_result *out)
{
	struct cpuid_result h = { 0, 0, 0, 0 }, max = { 0, 0, 0, 0 };
	struct cpuid_result *r = out;

	memset(r, 0, sizeof(*r));
	if (leaf >= CPUID_HV_BASE && leaf < CPUID_HV_BASE + 0x100) {
		hv_leaves(leaf, env, r);
		return;
	}
	bool ext = leaf >= 0x80000000u;
	env->host(ext ? 0x80000000u : 0, 0, &max);
	uint32_t limit = ext ? MIN(max.eax, EXT_MAX) : MIN(max.eax, BASIC_MAX);
	if (leaf > limit)
		return; /* zeros, as AMD CPUs answer past the top leaf */
	env->host(leaf, subleaf, &h);

	switch (leaf) {
	case 0:
	case 0x80000000u:
		*r = h;
		r->eax = limit;
		break;
	case 1:
		r->eax = h.eax;
		/* APIC ID 31-24, logical processors 23-16, CLFLUSH line size 15-8 */
		r->ebx = (h.ebx & 0xff00) | ((uint32_t)(env->vcpu_id & 0xff) << 24) |
			 ((uint32_t)(env->nr_vcpus & 0xff) << 16);
		r->ecx = (h.ecx & L1_ECX_ALLOW) | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE |
			 L1_ECX_HYPERVISOR;
		r->ecx &= ~L1_ECX_OSXSAVE;
		if (env->guest_osxsave && (h.ecx & (1u << 26)))
			r->ecx |= L1_ECX_OSXSAVE;
		r->edx = h.edx & L1_EDX_ALLOW;
		/* the APIC flag follows IA32_APIC_BASE.EN (SDM vol 3A, 11.4.3) */
		if (env->apic_off)
			r->edx &= ~CPUID_EDX_APIC;
		if (env->nr_vcpus > 1)
			r->edx |= 1u << 28; /* HTT: the logical-processor count is valid */
		break;
	case 7:
		if (subleaf == 0) {
			r->eax = 0; /* no further subleaves */
			r->ebx = h.ebx & L7_EBX_ALLOW;
			r->ecx = h.ecx & L7_ECX_ALLOW;
			r->edx = h.edx & L7_EDX_ALLOW;
		}
		break;
	case 0xb:
		/* x2APIC topology: one thread per core, nr_vcpus cores in one package */
		if (subleaf == 0) {
			r->eax = 0;
			r->ebx = 1;
			r->ecx = (1u << 8) | subleaf;
		} else if (subleaf == 1) {
			unsigned shift = 0;
			while ((1u << shift) < env->nr_vcpus && shift < 31)
				shift++;
			r->eax = shift;
			r->ebx = env->nr_vcpus;
			r->ecx = (2u << 8) | subleaf;
		} else {
			r->ecx = subleaf;
		}
		r->edx = env->vcpu_id;
		break;
	case 0xd:
		if (subleaf == 0) {
			r->eax = h.eax & XCR0_ALLOW;
			r->ebx = h.ebx;
			r->ecx = h.ecx;
			r->edx = 0;
		} else if (subleaf == 1) {
			r->eax = h.eax & 0x7; /* XSAVEOPT, XSAVEC, XGETBV1; no XSAVES */
		} else if (subleaf < 32 && (XCR0_ALLOW & (1u << subleaf))) {
			*r = h;
		}
		break;
	case 0x80000001u:
		r->eax = h.eax;
		r->ecx = h.ecx & LX1_ECX_ALLOW;
		r->edx = h.edx & LX1_EDX_ALLOW;
		if (env->apic_off) /* AMD mirrors the APIC flag here (APM vol 3, E.4.2) */
			r->edx &= ~CPUID_EDX_APIC;
		break;
	case 0x80000002u:
	case 0x80000003u:
	case 0x80000004u: /* brand string */
	case 0x80000005u:
	case 0x80000006u: /* cache descriptions */
		*r = h;
		break;
	case 0x80000007u:
		r->edx = h.edx & (1u << 8); /* invariant TSC only */
		break;
	case 0x80000008u:
		r->eax = h.eax & 0xffff; /* physical and linear address sizes */
		r->ecx = env->nr_vcpus ? (env->nr_vcpus - 1) & 0xff : 0;
		break;
	default:
		/* leaves 2-6, 8-0xa, 0xc: caches (4) from the host, the rest (thermal, PMU) zero */
		if (leaf == 2 || leaf == 4)
			*r = h;
		if (leaf == 4)
			r->eax &=
				0x3ff; /* one thread per cache: the vCPU topology is not the host's */
		break;
	}
}
