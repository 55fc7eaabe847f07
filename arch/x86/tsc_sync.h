/* Whether the host TSC can back one clock shared by every vCPU of a VM (core/vm_clock.h): it must
 * be invariant, the same rate in every P-, C- and T-state (CPUID 0x80000007 EDX bit 8, AMD APM vol
 * 3 and Intel SDM vol 3, 18.17.1), and in step on every CPU, which keel checks at boot by reading
 * it on two CPUs at a time (lib/clock_warp.h). Only then is kvm-clock offered with the stable bit,
 * the guest's licence to skip its own checks. */
#ifndef KEEL_ARCH_X86_TSC_SYNC_H
#define KEEL_ARCH_X86_TSC_SYNC_H

#include "lib/types.h"

/* On the boot CPU once the APs are online: checks, decides and logs the verdict. */
void tsc_sync_check(void);

/* The verdict (false before the check). */
bool tsc_stable(void);

#endif
