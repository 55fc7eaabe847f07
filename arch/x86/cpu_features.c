#include "arch/x86/cpu_features.h"

#include "arch/x86/cpu.h"
#include "lib/log.h"

/* CPUID.7.0:EBX bit 7 SMEP, bit 20 SMAP; CPUID.1:ECX bit 26 XSAVE (Intel SDM vol 2, CPUID) */
#define CPUID7_SMEP (1u << 7)
#define CPUID7_SMAP (1u << 20)
#define CPUID1_XSAVE (1u << 26)

/* `make SMAP=0` builds keel without SMAP in root mode, to compare (EMULATION.md: SMAP under TCG
 * broke another hypervisor's PV guests here; keel's guests are not affected either way). */
#ifndef KEEL_SMAP
#define KEEL_SMAP 1
#endif

uint64_t cpu_features_enable(void)
{
	uint64_t cr4 = read_cr4();
	struct cpuid_regs l7 =
		cpuid(0, 0).eax >= 7 ? cpuid(7, 0) : (struct cpuid_regs){ 0, 0, 0, 0 };

	if (l7.ebx & CPUID7_SMEP)
		cr4 |= CR4_SMEP;
	if (KEEL_SMAP && (l7.ebx & CPUID7_SMAP))
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
	const char *smap = "absent";
	if (cr4 & CR4_SMAP)
		smap = "on";
	else if (cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & CPUID7_SMAP))
		smap = "off (SMAP=0 build)";
	klog("keel: root mode: SMEP %s, SMAP %s, XSAVE %s", cr4 & CR4_SMEP ? "on" : "absent", smap,
	     cr4 & CR4_OSXSAVE ? "on" : "absent");
}

unsigned cpu_phys_addr_bits(void)
{
	if (cpuid(0x80000000, 0).eax < 0x80000008)
		return 36;
	return cpuid(0x80000008, 0).eax & 0xff;
}
