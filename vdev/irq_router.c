/* The PC's interrupt wiring; see irq_router.h. ACPI 6.4, 5.2.12.5 "Interrupt Source Override
 * Structure" describes the IRQ0 to GSI 2 override. */
#include "vdev/irq_router.h"

#include "lib/kstring.h"

void irq_router_init(struct irq_router *r, struct vpic8259 *pic, struct vioapic *ioapic)
{
	memset(r, 0, sizeof(*r));
	r->pic = pic;
	r->ioapic = ioapic;
}

int irq_router_gsi(unsigned irq)
{
	if (irq >= IRQ_ROUTER_LINES || irq == 2)
		return -1;
	return irq == 0 ? 2 : (int)irq;
}

void irq_router_set(struct irq_router *r, unsigned irq, bool level)
{
	if (irq >= IRQ_ROUTER_LINES)
		return;
	if (level)
		r->levels |= 1u << irq;
	else
		r->levels &= ~(1u << irq);
	if (irq < IRQ_ROUTER_ISA_LINES && r->pic)
		vpic_set_irq(r->pic, irq, level);
	int gsi = irq_router_gsi(irq);
	if (gsi >= 0 && r->ioapic)
		vioapic_set_irq(r->ioapic, (unsigned)gsi, level);
}

bool irq_router_masked(const struct irq_router *r, unsigned irq)
{
	bool vpic_masked = !r->pic || irq >= IRQ_ROUTER_ISA_LINES || vpic_irq_masked(r->pic, irq);
	int gsi = irq_router_gsi(irq);
	bool io_masked = !r->ioapic || gsi < 0 || vioapic_pin_masked(r->ioapic, (unsigned)gsi);
	return vpic_masked && io_masked;
}
