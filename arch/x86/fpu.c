#include "arch/x86/fpu.h"

#include "arch/x86/cpu.h"
#include "lib/kstring.h"

#define CPUID1_XSAVE (1u << 26)

static bool has_xsave;
static uint64_t xcr0_all; /* every component the CPU supports */
/* An XSAVE header with XSTATE_BV = 0 makes XRSTOR load the initial state of every component,
 * except MXCSR, which it always takes from the legacy area (SDM 13.8.1): 0x1F80, its reset value.
 * FXRSTOR takes everything from the area: FCW 0x37F, the rest zero. */
static uint8_t init_area[4096] __attribute__((aligned(64)));

void fpu_init(void)
{
	has_xsave = (cpuid(1, 0).ecx & CPUID1_XSAVE) && (read_cr4() & CR4_OSXSAVE);
	memset(init_area, 0, sizeof(init_area));
	*(uint32_t *)&init_area[24] = 0x1f80;
	if (has_xsave) {
		struct cpuid_regs d = cpuid(0xd, 0);
		xcr0_all = ((uint64_t)d.edx << 32) | d.eax;
	} else {
		*(uint16_t *)&init_area[0] = 0x37f;
	}
}

static void set_xcr0(uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void fpu_reset(void)
{
	if (has_xsave) {
		set_xcr0(xcr0_all);
		__asm__ volatile("xrstor %0"
				 :
				 : "m"(init_area), "a"((uint32_t)xcr0_all),
				   "d"((uint32_t)(xcr0_all >> 32))
				 : "memory");
		set_xcr0(1);
	} else {
		__asm__ volatile("fxrstor %0" : : "m"(init_area) : "memory");
	}
}
