/* The PC's cascaded 8259A pair: master at 0x20-0x21 (IRQ 0-7), slave at 0xA0-0xA1 (IRQ 8-15) on
 * the master's IR2, and the edge/level control registers at 0x4D0-0x4D1 (ELCR, as on PIIX/ICH).
 * Its INTR output reaches the vCPU through the local APIC's LINT0 (ExtINT). */
#ifndef KEEL_VDEV_PIC8259_H
#define KEEL_VDEV_PIC8259_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define VPIC_MASTER_BASE 0x20
#define VPIC_SLAVE_BASE 0xA0
#define VPIC_ELCR_BASE 0x4D0
#define VPIC_CASCADE_IRQ 2

struct vpic_chip {
	uint8_t irr, isr, imr;
	uint8_t lines; /* input levels, for edge detection */
	uint8_t elcr, elcr_mask;
	uint8_t vector_base; /* ICW2, bits 7-3 */
	uint8_t icw3;
	uint8_t lowest;	   /* priority rotation: the IR with the lowest priority */
	uint8_t init_step; /* 0: ready; 2, 3, 4: expecting that ICW next */
	bool icw4_needed, single, ltim, aeoi, rotate_aeoi, sfnm, special_mask, read_isr, poll;
};

struct vpic8259 {
	const struct vdev_env *env;
	struct vpic_chip chip[2];
};

void vpic_init(struct vpic8259 *pic, const struct vdev_env *env);
void vpic_reset(struct vpic8259 *pic);
int vpic_register(struct vpic8259 *pic, struct io_bus *bus);
/* Input line irq (0-15) to level. Edge-triggered inputs latch a rising edge in IRR. */
void vpic_set_irq(struct vpic8259 *pic, unsigned irq, bool level);
/* True while the master's INTR output is asserted. */
bool vpic_has_interrupt(const struct vpic8259 *pic);
/* The INTA cycle: the vector to inject, with ISR/IRR updated (and auto-EOI applied). With
 * nothing pending the chip answers with its spurious vector (IR7 of master or slave). */
uint8_t vpic_get_interrupt(struct vpic8259 *pic);
/* The vector vpic_get_interrupt() would return now, without acknowledging; -1 with INTR low. */
int vpic_peek_vector(const struct vpic8259 *pic);
/* True when irq (0-15) is masked in IMR (for the slave's lines: or the cascade is). */
bool vpic_irq_masked(const struct vpic8259 *pic, unsigned irq);

#endif
