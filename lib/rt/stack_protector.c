/* keel builds with -fstack-protector-strong -mstack-protector-guard=global: gcc then checks every
 * frame with arrays against __stack_chk_guard and calls __stack_chk_fail on a mismatch. */
#include "lib/rt/stack_protector.h"

#include "core/panic.h"
#include "lib/types.h"

uintptr_t __stack_chk_guard = 0x6b65656c2d677561ull;

NORETURN void __stack_chk_fail(void);

__attribute__((no_stack_protector)) void stack_protector_init(void)
{
	uint64_t v = 0;
	unsigned char ok = 0;
	uint32_t ecx;

	/* CPUID.1:ECX bit 30 = RDRAND (Intel SDM vol 2, CPUID) */
	__asm__ volatile("cpuid" : "=c"(ecx) : "a"(1), "c"(0) : "ebx", "edx");
	if (ecx & (1u << 30))
		for (int i = 0; i < 10 && !ok; i++)
			__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	v ^= ((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ull;
	v &= ~0xffull; /* a zero low byte stops string overflows from copying the canary */
	__stack_chk_guard = v;
}

NORETURN void __stack_chk_fail(void)
{
	panic("stack smashing detected");
}
