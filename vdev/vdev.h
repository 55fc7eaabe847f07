/* The world as a virtual platform device sees it. A device knows nothing of SVM/VMX or of vCPU
 * internals: it reads guest time, raises and lowers interrupt lines, asks for the VM to stop and
 * hands console bytes out, all through this environment. The VM (core/) fills one in; the
 * platform (vdev/platform.c) gives each device a copy whose set_irq goes to the IRQ router.
 *
 * Every value a guest writes into a device register is hostile: devices mask it to the bits the
 * register has and never index with it unchecked. */
#ifndef KEEL_VDEV_VDEV_H
#define KEEL_VDEV_VDEV_H

#include "core/gmem.h"
#include "lib/types.h"

/* Why a device asks for the VM to stop (CONVENTIONS.md, "Console lines the checks read"). */
enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_EXIT_PORT, /* a write to the exit port: "vm NAME: exit code N" */
	VM_STOP_POWER_OFF, /* ACPI S5: "vm NAME: powered off" */
	VM_STOP_RESET,	   /* 0xCF9, keyboard controller 0xFE, port 0x92: "vm NAME: reset" */
	VM_STOP_CRASH,	   /* keel stopped it: "vm NAME: crashed: WHY" (core/vm_run.c) */
	VM_STOP_SHELL,	   /* keel's shell stopped it: "vm NAME: stopped from the shell" */
};

struct vdev_env {
	void *ctx;
	/* For log lines: "vm NAME: ...". Never NULL once the platform is created. */
	const char *vm_name;
	/* Guest-visible monotonic time in nanoseconds; never goes backwards. */
	uint64_t (*now_ns)(void *ctx);
	/* Drives interrupt line irq to level: 0-15 are ISA IRQs (to the 8259 pair and, through the
	 * ISA overrides, to the IOAPIC: IRQ0 is GSI 2), 16-23 IOAPIC pins only. Edge devices pulse
	 * it (true, then false). */
	void (*set_irq)(void *ctx, unsigned irq, bool level);
	/* The VM must stop (code: the exit port's value, else 0). Devices do not log: the VM prints
	 * the console line ("vm NAME: exit code N", "powered off", "reset") when it stops. */
	void (*request_stop)(void *ctx, enum vm_stop_reason reason, uint32_t code);
	/* Bytes the guest wrote to its console UART, in order: at line ends, when the line buffer
	 * fills, or when the platform flushes it. */
	void (*uart_tx)(void *ctx, const uint8_t *buf, size_t n);
	/* The guest TSC value tsc as guest nanoseconds (for the local APIC's TSC-deadline timer).
	 * NULL: the guest TSC runs at 1 GHz from guest time 0. */
	uint64_t (*tsc_to_ns)(void *ctx, uint64_t tsc);
	/* An interrupt became pending for vCPU cpu (wake it from HLT, or kick it out of guest
	 * mode). Optional (NULL): the vCPU loop then polls platform_pending_interrupt(). */
	void (*kick)(void *ctx, unsigned cpu);
	/* The VM's RAM, for devices that DMA (virtio): filled once memory is set up. */
	const struct guest_mem *mem;
	/* Fills buf with n bytes of entropy (virtio-rng). */
	void (*random)(void *ctx, void *buf, size_t n);
};

/* a * mul / div without overflowing the intermediate product (mul, div < 2^32, div != 0): time
 * conversions between nanoseconds and device clocks (no floating point in keel: DESIGN.md). */
static inline uint64_t vdev_muldiv(uint64_t a, uint32_t mul, uint32_t div)
{
	return (a / div) * mul + (a % div) * mul / div;
}

#define VDEV_NS_PER_SEC 1000000000u

/* Bytes [0, size) of v, for a narrower access at byte offset off of a wider register. */
static inline uint32_t vdev_extract(uint64_t v, unsigned off, unsigned size)
{
	v >>= 8 * (off & 7);
	return size >= 4 ? (uint32_t)v : (uint32_t)(v & ((1u << (8 * size)) - 1));
}

#endif
