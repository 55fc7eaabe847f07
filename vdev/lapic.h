/* A vCPU's local APIC, in xAPIC mode (a 4 KiB MMIO page, 32-bit registers at 16-byte strides)
 * and x2APIC mode (MSRs 0x800-0x8FF), with IA32_APIC_BASE, the timer (one-shot, periodic,
 * TSC-deadline), the 256-bit IRR/ISR/TMR and priority rules, and IPIs through a callback.
 * Register layouts: Intel SDM vol 3A, chapter 11 "Advanced Programmable Interrupt Controller". */
#ifndef KEEL_VDEV_LAPIC_H
#define KEEL_VDEV_LAPIC_H

#include "lib/types.h"
#include "vdev/apic_msg.h"
#include "vdev/vdev.h"

#define VLAPIC_DEFAULT_BASE 0xFEE00000ull
#define VLAPIC_MMIO_SIZE 0x1000
/* The timer's input clock (the "bus clock" the divide configuration divides): 1 GHz, so one
 * count is one nanosecond at divide-by-1. CPUID leaf 0x40000010 EBX reports it in kHz. */
#define VLAPIC_TIMER_HZ 1000000000u
#define VLAPIC_TIMER_KHZ (VLAPIC_TIMER_HZ / 1000u)
/* version 0x14, 6 LVT entries (max index 5), no EOI-broadcast suppression */
#define VLAPIC_VERSION 0x00050014u

#define VLAPIC_MSR_APIC_BASE 0x1B
#define VLAPIC_MSR_TSC_DEADLINE 0x6E0
#define VLAPIC_MSR_X2APIC_FIRST 0x800
#define VLAPIC_MSR_X2APIC_LAST 0x8FF

#define VLAPIC_BASE_BSP (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10)
#define VLAPIC_BASE_EN (1ull << 11)

/* ICR destination shorthands (bits 19-18) */
enum vapic_shorthand {
	VAPIC_SH_NONE = 0,
	VAPIC_SH_SELF = 1,
	VAPIC_SH_ALL = 2,
	VAPIC_SH_OTHERS = 3,
};

struct vlapic;

/* What a local APIC needs from the platform: IPIs out, and EOIs of level-triggered vectors to
 * the IOAPIC(s). */
struct vlapic_bus {
	void *ctx;
	void (*send_ipi)(void *ctx, struct vlapic *src, const struct vapic_msg *msg,
			 enum vapic_shorthand sh);
	void (*eoi_broadcast)(void *ctx, uint8_t vector);
};

struct vlapic {
	const struct vdev_env *env;
	const struct vlapic_bus *bus;
	unsigned cpu;	    /* vCPU index */
	uint32_t apic_id;   /* initial APIC ID */
	uint32_t phys_bits; /* MAXPHYADDR: IA32_APIC_BASE bits above it are reserved */
	uint64_t base_msr;  /* IA32_APIC_BASE */

	uint32_t id; /* xAPIC ID register (bits 31-24) */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t esr, esr_pending;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[6]; /* timer, thermal, perf, LINT0, LINT1, error */
	uint32_t timer_initial, timer_divide;
	uint64_t timer_start_ns;  /* when the count was loaded, or the last period began */
	uint64_t timer_period_ns; /* 0: not counting */
	bool timer_fired;	  /* one-shot: expired */
	uint64_t tsc_deadline;	  /* 0: disarmed */
	bool nmi_pending, init_pending, sipi_pending, extint_pending;
	uint8_t sipi_vector;
};

void vlapic_init(struct vlapic *a, const struct vdev_env *env, const struct vlapic_bus *bus,
		 unsigned cpu, uint32_t apic_id, bool bsp);
/* Power-up/INIT state (SDM 11.4.7.1): enabled in xAPIC mode at the default base, software
 * disabled, every LVT masked. */
void vlapic_reset(struct vlapic *a);
/* The state a PC BIOS leaves the BSP in ("virtual wire" mode, MP spec 3.6.2.2): software
 * enabled, LINT0 ExtINT (the 8259's INTR), LINT1 NMI. A kernel booted directly expects it. */
void vlapic_virtual_wire(struct vlapic *a);

/* State */
bool vlapic_enabled(const struct vlapic *a);	   /* IA32_APIC_BASE.EN */
bool vlapic_x2apic(const struct vlapic *a);	   /* x2APIC mode */
uint64_t vlapic_mmio_base(const struct vlapic *a); /* the page, valid in xAPIC mode */

/* IA32_APIC_BASE. Write returns -1 (inject #GP) for reserved bits or an illegal transition
 * (SDM 11.12.5: x2APIC to xAPIC, disabled to x2APIC, EXTD without EN). */
uint64_t vlapic_base_read(const struct vlapic *a);
int vlapic_base_write(struct vlapic *a, uint64_t v);

/* xAPIC page accesses at offset off (0-0xFFF). Registers are 32 bits wide; a narrower read
 * sees its bytes, a narrower write is dropped, an 8-byte access covers the 4 reserved bytes
 * after the register. */
void vlapic_mmio_read(struct vlapic *a, uint64_t off, unsigned size, uint64_t *val);
void vlapic_mmio_write(struct vlapic *a, uint64_t off, unsigned size, uint64_t val);
/* x2APIC MSRs 0x800-0x8FF and IA32_TSC_DEADLINE. -1: inject #GP (not in x2APIC mode, no such
 * register, read of a write-only or write of a read-only one, reserved bits set). */
int vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *val);
int vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t val);

/* An interrupt message for this APIC (the platform matched the destination). */
void vlapic_deliver(struct vlapic *a, const struct vapic_msg *msg);
/* True when this APIC is a destination of (dest, logical) (SDM 11.6.2). vioapic_dest: an 8-bit
 * destination from an IOAPIC or xAPIC ICR, where 0xFF is the broadcast in either mode. */
bool vlapic_match_dest(const struct vlapic *a, uint32_t dest, bool logical, bool vioapic_dest);
/* Local interrupt pins: LINT0/LINT1 (pin 0/1), as the LVT entry programs them. */
void vlapic_set_lint(struct vlapic *a, unsigned pin, bool level);

/* Fires the timer if it expired. */
void vlapic_update(struct vlapic *a);
/* When the timer next expires with an unmasked LVT (guest ns), or UINT64_MAX. */
uint64_t vlapic_next_event_ns(struct vlapic *a);
/* The highest IRR vector above the processor priority, or -1 (SDM 11.8.3.1). */
int vlapic_pending_vector(struct vlapic *a);
/* The vCPU injected vector: IRR to ISR. */
void vlapic_ack(struct vlapic *a, uint8_t vector);
/* The 8259's INTR reaches this CPU: APIC globally disabled, or LINT0 programmed ExtINT and
 * unmasked. */
bool vlapic_accepts_extint(const struct vlapic *a);
/* INIT and SIPI messages for this vCPU (the vCPU loop resets / starts the vCPU). Taking an INIT
 * resets this APIC as INIT does (all but the APIC ID and IA32_APIC_BASE); a SIPI that came
 * before the INIT was dropped with it. The loop takes a SIPI only in wait-for-SIPI state and
 * drops one that reaches a running vCPU (SDM vol 3A, 9.4.4). */
bool vlapic_take_init(struct vlapic *a);
int vlapic_take_sipi(struct vlapic *a); /* the start-up vector, or -1 */
/* NMI (from LINT1, ICR or IOAPIC): true once per NMI. */
bool vlapic_take_nmi(struct vlapic *a);
uint32_t vlapic_ppr(const struct vlapic *a);
/* CR8 is a view of the TPR (SDM vol 3A, 11.8.6.1; AMD APM vol 2, 16.6.4): it reads TPR[7:4],
 * and a write sets TPR[7:4] and clears the subclass TPR[3:0]. */
uint8_t vlapic_cr8(const struct vlapic *a);
void vlapic_set_cr8(struct vlapic *a, uint8_t cr8);
/* The priority class (vector >> 4) of the highest requested interrupt when only the TPR keeps it
 * out (lowering CR8 below the class would let it in), else -1. */
int vlapic_tpr_blocked_class(struct vlapic *a);

#endif
