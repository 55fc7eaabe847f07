#include "core/msr_policy.h"

#include "arch/x86/cpu.h"
#include "core/kvmclock.h"
#include "vdev/platform.h"

#define MSR_IA32_MISC_ENABLE 0x1a0

/* Performance counters an OS may touch without asking CPUID: AMD's legacy PerfEvtSel0-3 and
 * PerfCtr0-3 (AMD APM vol 2, 13.2.1), Intel's IA32_PMC0-1 and IA32_PERFEVTSEL0-1 (Intel SDM vol 3,
 * 20.6.1; vol 4, table 2-2). KVM answers the same set so when it offers no PMU. */
#define MSR_K7_EVNTSEL0 0xc0010000
#define MSR_K7_PERFCTR3 0xc0010007
#define MSR_IA32_PMC0 0xc1
#define MSR_IA32_PMC1 0xc2
#define MSR_IA32_PERFEVTSEL0 0x186
#define MSR_IA32_PERFEVTSEL1 0x187

enum msr_action msr_policy_lookup(uint32_t msr)
{
	if (platform_msr_is_apic(msr))
		return MSR_ACT_APIC;
	if (msr >= MSR_K7_EVNTSEL0 && msr <= MSR_K7_PERFCTR3)
		return MSR_ACT_PMU;
	switch (msr) {
	case MSR_IA32_PMC0:
	case MSR_IA32_PMC1:
	case MSR_IA32_PERFEVTSEL0:
	case MSR_IA32_PERFEVTSEL1:
		return MSR_ACT_PMU;
	case MSR_EFER:
		return MSR_ACT_EFER;
	case MSR_PAT:
		return MSR_ACT_PAT;
	case MSR_TSC:
		return MSR_ACT_TSC;
	case MSR_IA32_MISC_ENABLE:
		return MSR_ACT_MISC_ENABLE;
	case MSR_TSC_AUX:
		return MSR_ACT_TSC_AUX;
	case MSR_KVM_WALL_CLOCK_NEW:
		return MSR_ACT_KVM_WALL_CLOCK;
	case MSR_KVM_SYSTEM_TIME_NEW:
		return MSR_ACT_KVM_SYSTEM_TIME;
	case 0x3a:	 /* IA32_FEATURE_CONTROL: locked off, so VMX stays hidden */
	case 0xc0010114: /* AMD VM_CR: SVM is hidden */
	case 0xce:	 /* Intel PLATFORM_INFO: no ratios, no CPUID faulting */
	case 0x179:	 /* IA32_MCG_CAP: no banks, no MCG_CTL */
	case 0x198:	 /* IA32_PERF_STATUS: no P-state to report */
		return MSR_ACT_ZERO_RO;
	case 0x17a:	 /* IA32_MCG_STATUS: nothing in progress; 0 may be written back */
	case 0xc0010015: /* AMD HWCR: none of its switches is offered */
	case 0xc0011029: /* AMD DE_CFG */
	case 0xc0010058: /* AMD MMIO_CONF_BASE: MMCONFIG off (enable bit 0) */
		return MSR_ACT_ZERO_W0;
	case 0x8b:	 /* microcode patch level: "no update loaded"; Linux writes 0 before
			  * reading it (Intel SDM vol 3, 10.11.7.1), without a _safe accessor */
	case 0x79:	 /* microcode update trigger: ignored */
	case 0xc001001f: /* AMD NB_CFG: Linux sets its extended-config-space bit; no effect */
	case 0xc0010020: /* AMD patch loader: ignored */
		return MSR_ACT_ZERO;
	default:
		return MSR_ACT_GP;
	}
}

bool rdpmc_counter_offered(uint32_t ecx, bool amd)
{
	return ecx < (amd ? 4u : 2u);
}

bool pat_write_ok(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;
		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}
