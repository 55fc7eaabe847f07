#include "core/msr_policy.h"

#include "arch/x86/cpu.h"
#include "core/kvmclock.h"
#include "vdev/platform.h"

#define MSR_IA32_MISC_ENABLE 0x1a0

enum msr_action msr_policy_lookup(uint32_t msr)
{
	if (platform_msr_is_apic(msr))
		return MSR_ACT_APIC;
	switch (msr) {
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
	case 0x8b:	 /* microcode patch level: "no update loaded" */
	case 0x3a:	 /* IA32_FEATURE_CONTROL: locked off, so VMX stays hidden */
	case 0xc0010015: /* AMD HWCR */
	case 0xc0011029: /* AMD DE_CFG */
	case 0xc0010114: /* AMD VM_CR: SVM is hidden */
		return MSR_ACT_ZERO_RO;
	case 0x79:	 /* microcode update trigger: ignored */
	case 0xc001001f: /* AMD NB_CFG: Linux sets its extended-config-space bit; no effect */
	case 0xc0010020: /* AMD patch loader: ignored */
		return MSR_ACT_ZERO;
	default:
		return MSR_ACT_GP;
	}
}

bool efer_write_ok(uint64_t v, bool nx_supported, bool ffxsr_supported)
{
	uint64_t allowed = (1ull << 0) | (1ull << 8) | (1ull << 10);
	if (nx_supported)
		allowed |= 1ull << 11;
	if (ffxsr_supported)
		allowed |= 1ull << 14;
	return (v & ~allowed) == 0;
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
