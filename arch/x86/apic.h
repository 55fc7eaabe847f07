/* The host's own local APIC, in xAPIC mode (QEMU 7.2 TCG has no x2APIC: EMULATION.md): keel's
 * one-shot timer, so an idle vCPU sleeps in HLT until its next event and a guest that never exits
 * still gives keel the CPU back (Intel SDM vol 3, 11.5.4 APIC timer). */
#ifndef KEEL_ARCH_X86_APIC_H
#define KEEL_ARCH_X86_APIC_H

#include "lib/types.h"

#define HOST_TIMER_VECTOR 0xef
#define HOST_SPURIOUS_VECTOR 0xff

/* Enables the APIC (never clearing the global enable bit) and calibrates its timer. */
void host_apic_init(void);
/* Arms the one-shot timer to fire in `us` microseconds (0 disarms). */
void host_timer_arm_us(uint64_t us);
/* Sleeps in HLT until an interrupt (the timer, at the latest in `us` microseconds). */
void host_idle_us(uint64_t us);
/* Lets a pending host interrupt be taken (after an interrupt exit): sti; nop; cli. */
void host_take_pending_interrupts(void);

#endif
