/* The host's own local APIC, in xAPIC mode (QEMU 7.2 TCG has no x2APIC: EMULATION.md): keel's
 * one-shot timer, so an idle vCPU sleeps in HLT until its next event and a guest that never exits
 * still gives keel the CPU back (Intel SDM vol 3, 11.5.4 APIC timer). */
#ifndef KEEL_ARCH_X86_APIC_H
#define KEEL_ARCH_X86_APIC_H

#include "lib/types.h"

#define HOST_TIMER_VECTOR 0xef
#define HOST_SPURIOUS_VECTOR 0xff
#define HOST_WAKE_VECTOR 0xee /* an IPI that only ends another CPU's HLT (arch/x86/smp.c) */

/* The CPU's task priority back to 0 (CR8, the local APIC's TPR: SDM vol 3A, 11.8.6) unless it
 * is: keel's slice timer and kicks must never be masked by a priority a guest chose. Guests
 * cannot reach it (VT-x CR8 exiting, AMD-V V_INTR_MASKING); this holds the promise anyway before
 * every slice and every idle wait. */
void host_tpr_open(void);

/* Enables the APIC (never clearing the global enable bit) and calibrates its timer; on the boot
 * CPU, before any other CPU starts. x2APIC mode when the firmware left the CPU in it. */
void host_apic_init(void);
/* The same on an AP: its own APIC's registers, with the boot CPU's mode and timer rate. */
void host_apic_init_ap(void);
bool host_apic_x2apic(void);
/* This CPU's APIC ID, from its APIC. */
uint32_t host_apic_id(void);
/* IPIs to one CPU by APIC ID (physical destination; SDM vol 3, 11.6.1): INIT, start-up at
 * page * 4 KiB, and HOST_WAKE_VECTOR. -1 when the APIC did not send it. */
int host_apic_send_init(uint32_t apic_id);
int host_apic_send_startup(uint32_t apic_id, uint8_t page);
int host_apic_send_wake(uint32_t apic_id);
/* Arms the one-shot timer to fire in `us` microseconds (0 disarms). */
void host_timer_arm_us(uint64_t us);
/* Sleeps in HLT until an interrupt (the timer, at the latest in `us` microseconds). */
void host_idle_us(uint64_t us);
/* Lets a pending host interrupt be taken (after an interrupt exit): sti; nop; cli. */
void host_take_pending_interrupts(void);

#endif
