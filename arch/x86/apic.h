/* The host's own local APIC, in xAPIC mode (QEMU 7.2 TCG has no x2APIC: EMULATION.md): keel's
 * one-shot timer, so an idle vCPU sleeps in HLT until its next event and a guest that never exits
 * still gives keel the CPU back (Intel SDM vol 3, 11.5.4 APIC timer). */
#ifndef KEEL_ARCH_X86_APIC_H
#define KEEL_ARCH_X86_APIC_H

#include "lib/types.h"

#define HOST_TIMER_VECTOR 0xef
#define HOST_SPURIOUS_VECTOR 0xff
#define HOST_WAKE_VECTOR 0xee /* an IPI that only ends another CPU's HLT (arch/x86/smp.c) */
/* Host devices' MSI/MSI-X messages (an NVMe completion queue's vector): the interrupt only ends
 * HLT or forces a VM exit so that keel's loop polls the device; the handler does nothing else. */
#define HOST_DEVICE_VECTOR 0xed
/* Vectors HOST_PASSTHRU_VECTOR + 0 .. 15: the interrupts of functions passed through to VMs
 * (core/vm_pci.c), one per message, so the handler knows whose it is. */
#define HOST_PASSTHRU_VECTOR 0xd0
#define HOST_PASSTHRU_VECTORS 16

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
/* The passthrough vectors taken since the last call (bit n: HOST_PASSTHRU_VECTOR + n), cleared. */
uint32_t host_passthru_take(void);
/* The CPU (its index) that took passthrough vector HOST_PASSTHRU_VECTOR + n last. */
unsigned host_passthru_cpu(unsigned n);
/* HOST_DEVICE_VECTOR interrupts taken so far, on all CPUs. */
uint64_t host_device_interrupts(void);
/* The MSI address and data (Intel SDM vol 3A, 11.11.1 and 11.11.2) that deliver `vector` to the
 * xAPIC ID apic_id: fixed delivery, physical destination, edge triggered. false when apic_id does
 * not fit the xAPIC format's 8-bit destination field (> 255) or the vector is an exception's (< 16
 * is illegal for fixed delivery, 11.5.2; keel gives devices vectors above 31). Inline, so that the
 * host tests check it (tests/unit/test_pci_msix.c). */
#define HOST_MSI_ADDR_BASE 0xFEE00000u /* 0xFEE in address bits 31:20 */
#define HOST_MSI_DEST_SHIFT 12	       /* destination ID in bits 19:12 */
#define HOST_MSI_MIN_VECTOR 32
static inline bool host_msi_message(uint32_t apic_id, uint8_t vector, uint64_t *addr,
				    uint32_t *data)
{
	if (apic_id > 0xFF || vector < HOST_MSI_MIN_VECTOR)
		return false;
	/* address bit 3 RH = 0 and bit 2 DM = 0: no redirection, physical destination mode */
	*addr = HOST_MSI_ADDR_BASE | apic_id << HOST_MSI_DEST_SHIFT;
	/* data: vector 7:0, delivery mode 10:8 = 000 (fixed), level bit 14 and trigger bit 15 = 0
	 * (edge; the level bit is ignored for edge) */
	*data = vector;
	return true;
}
/* Lets a pending host interrupt be taken (after an interrupt exit): sti; nop; cli. */
void host_take_pending_interrupts(void);

#endif
