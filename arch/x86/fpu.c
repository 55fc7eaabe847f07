#include "arch/x86/fpu.h"

#include "arch/x86/cpu.h"
#include "lib/kstring.h"

#define CPUID1_XSAVE (1u << 26)
#define FXSAVE_AREA_SIZE 512
#define MXCSR_OFFSET 24
#define MXCSR_RESET 0x1f80
#define FCW_RESET 0x37f

static bool has_xsave;
static uint64_t xcr0_all; /* every component the CPU supports */
static size_t area_size = FXSAVE_AREA_SIZE;

void fpu_init(void)
{
	has_xsave = (cpuid(1, 0).ecx & CPUID1_XSAVE) && (read_cr4() & CR4_OSXSAVE);
	if (has_xsave) {
		struct cpuid_regs d = cpuid(0xd, 0);
		xcr0_all = ((uint64_t)d.edx << 32) | d.eax;
		/* ECX: the size every supported component needs, whatever XCR0 holds (SDM 13.4) */
		area_size = d.ecx > FXSAVE_AREA_SIZE ? d.ecx : FXSAVE_AREA_SIZE + 64;
	}
}

size_t fpu_area_size(void)
{
	return area_size;
}

/* An XSAVE header with XSTATE_BV = 0 makes XRSTOR load the initial state of every component,
 * except MXCSR, which it always takes from the legacy area (SDM 13.8.1): 0x1F80, its reset value.
 * FXRSTOR takes everything from the area: FCW 0x37F, the rest zero. */
void fpu_area_init(void *area)
{
	uint8_t *a = area;
	memset(a, 0, area_size);
	memcpy(a + MXCSR_OFFSET, &(uint32_t){ MXCSR_RESET }, 4);
	if (!has_xsave)
		memcpy(a, &(uint16_t){ FCW_RESET }, 2);
}

static void set_xcr0(uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t get_xcr0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

uint64_t fpu_save(void *area)
{
	uint64_t xcr0 = 1;
	if (has_xsave) {
		xcr0 = get_xcr0();
		set_xcr0(xcr0_all); /* XSAVE stores only the components XCR0 enables */
		__asm__ volatile("xsave64 %0"
				 : "=m"(*(uint8_t(*)[FXSAVE_AREA_SIZE])area)
				 : "a"((uint32_t)xcr0_all), "d"((uint32_t)(xcr0_all >> 32))
				 : "memory");
	} else {
		__asm__ volatile("fxsave64 %0"
				 : "=m"(*(uint8_t(*)[FXSAVE_AREA_SIZE])area)
				 :
				 : "memory");
	}
	return xcr0;
}

void fpu_restore(const void *area, uint64_t xcr0)
{
	if (has_xsave) {
		set_xcr0(xcr0_all);
		__asm__ volatile("xrstor64 %0"
				 :
				 : "m"(*(const uint8_t(*)[FXSAVE_AREA_SIZE])area),
				   "a"((uint32_t)xcr0_all), "d"((uint32_t)(xcr0_all >> 32))
				 : "memory");
		set_xcr0(xcr0 ? xcr0 : 1);
	} else {
		__asm__ volatile("fxrstor64 %0"
				 :
				 : "m"(*(const uint8_t(*)[FXSAVE_AREA_SIZE])area)
				 : "memory");
	}
}
