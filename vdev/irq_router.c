/* The PC's interrupt wiring; see irq_router.h. ACPI 6.4, 5.2.12.5 "Interrupt Source Override
 * Structure" describes the IRQ0 to GSI 2 override. */
#include "vdev/irq_router.h"

#include "lib/kstring.h"

void irq_router_init(struct irq_router *r, struct pic8259 *pic, struct ioapic *ioapic)
{
	memset(r, 0, sizeof(*r));
	r->pic = pic;
	r->ioapic = ioapic;
}

int irq_router_gsi(unsigned irq)
{
	if (irq >= IRQ_LINES || irq == 2)
		return -1;
	return irq == 0 ? 2 : (int)irq;
}

void irq_router_set(struct irq_router *r, unsigned irq, bool level)
{
	if (irq >= IRQ_LINES)
		return;
	if (level)
		r->levels |= 1u << irq;
	else
		r->levels &= ~(1u << irq);
	if (irq < IRQ_ISA_LINES && r->pic)
		pic_set_irq(r->pic, irq, level);
	int gsi = irq_router_gsi(irq);
	if (gsi >= 0 && r->ioapic)
		ioapic_set_irq(r->ioapic, (unsigned)gsi, level);
}

bool irq_router_masked(const struct irq_router *r, unsigned irq)
{
	bool pic_masked = !r->pic || irq >= IRQ_ISA_LINES || pic_irq_masked(r->pic, irq);
	int gsi = irq_router_gsi(irq);
	bool io_masked = !r->ioapic || gsi < 0 || ioapic_pin_masked(r->ioapic, (unsigned)gsi);
	return pic_masked && io_masked;
}
