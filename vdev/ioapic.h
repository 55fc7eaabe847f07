/* The I/O APIC (Intel 82093AA) at 0xFEC00000: 24 pins, version 0x11. Pins carry the asserted
 * state of their line; redirected interrupts leave through a callback to the local APICs. */
#ifndef KEEL_VDEV_IOAPIC_H
#define KEEL_VDEV_IOAPIC_H

#include "lib/types.h"
#include "vdev/apic_msg.h"
#include "vdev/vdev.h"

#define IOAPIC_PINS 24
#define IOAPIC_MMIO_SIZE 0x1000
#define IOAPIC_VERSION 0x00170011u /* 24 entries (max index 0x17), version 0x11 */

struct ioapic {
	const struct vdev_env *env;
	void (*deliver)(void *ctx, const struct apic_msg *msg);
	void *deliver_ctx;
	uint8_t sel;	  /* IOREGSEL */
	uint32_t id;	  /* IOAPICID bits 27-24 */
	uint32_t lines;	  /* asserted input pins */
	uint32_t irr;	  /* edge pins with a latched, undelivered edge */
	uint64_t redir[IOAPIC_PINS];
};

void ioapic_init(struct ioapic *io, const struct vdev_env *env,
		 void (*deliver)(void *ctx, const struct apic_msg *msg), void *deliver_ctx);
void ioapic_reset(struct ioapic *io);
/* Pin (0-23) to level (asserted or not). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* A local APIC's EOI for a level-triggered vector: clears Remote IRR on the entries with that
 * vector, and delivers again where the line is still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
/* MMIO at offset off (0-0xFFF) of the IOAPIC page; sizes 1, 2, 4, 8. */
void ioapic_mmio_read(struct ioapic *io, uint64_t off, unsigned size, uint64_t *val);
void ioapic_mmio_write(struct ioapic *io, uint64_t off, unsigned size, uint64_t val);
/* True when pin is masked (a sleeping vCPU need not wake for it). */
bool ioapic_pin_masked(const struct ioapic *io, unsigned pin);

#endif
