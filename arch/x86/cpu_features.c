#include "arch/x86/cpu_features.h"

#include "arch/x86/cpu.h"
#include "lib/log.h"

/* CPUID.7.0:EBX bit 7 SMEP, bit 20 SMAP; CPUID.1:ECX bit 26 XSAVE (Intel SDM vol 2, CPUID) */
#define CPUID7_SMEP (1u << 7)
#define CPUID7_SMAP (1u << 20)
#define CPUID1_XSAVE (1u << 26)

uint64_t cpu_features_enable(void)
{
	uint64_t cr4 = read_cr4();
	struct cpuid_regs l7 =
		cpuid(0, 0).eax >= 7 ? cpuid(7, 0) : (struct cpuid_regs){ 0, 0, 0, 0 };

	if (l7.ebx & CPUID7_SMEP)
		cr4 |= CR4_SMEP;
	if (l7.ebx & CPUID7_SMAP)
		cr4 |= CR4_SMAP;
	if (cpuid(1, 0).ecx & CPUID1_XSAVE)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	write_cr0(read_cr0() | CR0_WP);
	return cr4;
}

void cpu_features_init(void)
{
	uint64_t cr4 = cpu_features_enable();
	klog("keel: root mode: SMEP %s, SMAP %s, XSAVE %s", cr4 & CR4_SMEP ? "on" : "absent",
	     cr4 & CR4_SMAP ? "on" : "absent", cr4 & CR4_OSXSAVE ? "on" : "absent");
}
