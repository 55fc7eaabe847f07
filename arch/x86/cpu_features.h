#ifndef KEEL_ARCH_X86_CPU_FEATURES_H
#define KEEL_ARCH_X86_CPU_FEATURES_H

#include "lib/types.h"

/* Turns on the root-mode protections and extensions keel relies on, where the CPU has them:
 * SMEP and SMAP (keel maps no user pages, so any user-page access from keel is a bug), CR0.WP,
 * and CR4.OSXSAVE (keel executes a guest's validated XSETBV for it). Logs what it enabled. */
void cpu_features_init(void);
/* The same without the log line (each AP); returns the CR4 it wrote. */
uint64_t cpu_features_enable(void);
/* MAXPHYADDR: CPUID 0x80000008 EAX[7:0], or 36 where that leaf is missing (Intel SDM vol 3A,
 * 4.1.4). A guest sees the same (core/cpuid_policy.c passes the leaf on). */
unsigned cpu_phys_addr_bits(void);

#endif
