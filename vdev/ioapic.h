/* The I/O APIC (Intel 82093AA) at 0xFEC00000: 24 pins, version 0x11. Pins carry the asserted
 * state of their line; redirected interrupts leave through a callback to the local APICs. */
#ifndef KEEL_VDEV_IOAPIC_H
#define KEEL_VDEV_IOAPIC_H

#include "lib/types.h"
#include "vdev/apic_msg.h"
#include "vdev/vdev.h"

#define VIOAPIC_PINS 24
#define VIOAPIC_MMIO_SIZE 0x1000
#define VIOAPIC_VERSION 0x00170011u /* 24 entries (max index 0x17), version 0x11 */

struct vioapic {
	const struct vdev_env *env;
	void (*deliver)(void *ctx, const struct vapic_msg *msg);
	void *deliver_ctx;
	uint8_t sel;	/* IOREGSEL */
	uint32_t id;	/* IOAPICID bits 27-24 */
	uint32_t lines; /* asserted input pins */
	uint32_t irr;	/* edge pins with a latched, undelivered edge */
	uint64_t redir[VIOAPIC_PINS];
};

void vioapic_init(struct vioapic *io, const struct vdev_env *env,
		  void (*deliver)(void *ctx, const struct vapic_msg *msg), void *deliver_ctx);
void vioapic_reset(struct vioapic *io);
/* Pin (0-23) to level (asserted or not). */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);
/* A local APIC's EOI for a level-triggered vector: clears Remote IRR on the entries with that
 * vector, and delivers again where the line is still asserted. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);
/* MMIO at offset off (0-0xFFF) of the IOAPIC page; sizes 1, 2, 4, 8. */
void vioapic_mmio_read(struct vioapic *io, uint64_t off, unsigned size, uint64_t *val);
void vioapic_mmio_write(struct vioapic *io, uint64_t off, unsigned size, uint64_t val);
/* True when pin is masked (a sleeping vCPU need not wake for it). */
bool vioapic_pin_masked(const struct vioapic *io, unsigned pin);

#endif
