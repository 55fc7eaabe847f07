/* Interrupt lines to controllers, as a PC wires them: ISA IRQ n goes to the 8259 pair's input n
 * and to IOAPIC pin n, except IRQ0 (the PIT), which reaches IOAPIC pin 2 (the ISA override
 * every PC's MADT declares; keel's MADT must too), and IRQ2, the PIC cascade, which no device
 * drives. Lines 16-23 are IOAPIC pins only (PCI INTx). One source drives each line. */
#ifndef KEEL_VDEV_IRQ_ROUTER_H
#define KEEL_VDEV_IRQ_ROUTER_H

#include "lib/types.h"
#include "vdev/ioapic.h"
#include "vdev/pic8259.h"

#define IRQ_ROUTER_LINES 24
#define IRQ_ROUTER_ISA_LINES 16

struct irq_router {
	struct vpic8259 *pic;	/* may be NULL */
	struct vioapic *ioapic; /* may be NULL */
	uint32_t levels;	/* each line's current level */
};

void irq_router_init(struct irq_router *r, struct vpic8259 *pic, struct vioapic *ioapic);
void irq_router_set(struct irq_router *r, unsigned irq, bool level);
/* The IOAPIC pin an ISA IRQ or line reaches, or -1. */
int irq_router_gsi(unsigned irq);
/* True when neither controller would pass irq on (a sleeping vCPU need not wake for it). */
bool irq_router_masked(const struct irq_router *r, unsigned irq);

#endif
