/* Intel 8259A PIC pair. Initialization (ICW1-ICW4), operation commands (OCW1-OCW3), priority
 * rotation, special mask and fully nested modes, poll, auto-EOI and the cascade: Intel 8259A data
 * sheet (231468), "Programming the 8259A" and "Interrupt Sequence". The edge/level control
 * registers are the PIIX/ICH ELCR1/ELCR2 (Intel 82371AB PIIX4 data sheet, 4.1.x "ELCR"): IRQ 0,
 * 1, 2, 8 and 13 are always edge-triggered. */
#include "vdev/pic8259.h"

#include "lib/kstring.h"

#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_INIT 0x10
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_POLL 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40

static void reset_chip(struct vpic_chip *c, uint8_t elcr_mask)
{
	memset(c, 0, sizeof(*c));
	c->elcr_mask = elcr_mask;
	c->lowest = 7;
}

void vpic_init(struct vpic8259 *pic, const struct vdev_env *env)
{
	memset(pic, 0, sizeof(*pic));
	pic->env = env;
	vpic_reset(pic);
}

void vpic_reset(struct vpic8259 *pic)
{
	reset_chip(&pic->chip[0], 0xF8);
	reset_chip(&pic->chip[1], 0xDE);
}

static uint8_t level_mask(const struct vpic_chip *c)
{
	return c->ltim ? 0xFF : c->elcr;
}

/* The highest-priority set bit of mask under the chip's rotation, or 8 for none. */
static unsigned highest(const struct vpic_chip *c, uint8_t mask)
{
	for (unsigned i = 1; i <= 8; i++) {
		unsigned irq = (c->lowest + i) & 7;
		if (mask & (1u << irq))
			return irq;
	}
	return 8;
}

/* The IR the chip would interrupt for now, or 8. An in-service IR blocks equal and lower
 * priorities, except: special mask mode (masked ISR bits do not block) and, on a master in
 * special fully nested mode, the cascade input (the slave does its own nesting). */
static unsigned chip_pending(const struct vpic_chip *c, bool master)
{
	uint8_t req = c->irr & (uint8_t)~c->imr;
	unsigned irq = highest(c, req);
	if (irq == 8)
		return 8;
	uint8_t blocking = c->isr;
	if (c->special_mask)
		blocking &= (uint8_t)~c->imr;
	if (master && c->sfnm)
		blocking &= (uint8_t) ~(1u << VPIC_CASCADE_IRQ);
	unsigned in_service = highest(c, blocking);
	if (in_service == 8)
		return irq;
	/* compare priorities: distance from the highest-priority position */
	unsigned p_irq = (irq - c->lowest - 1) & 7, p_isr = (in_service - c->lowest - 1) & 7;
	return p_irq < p_isr ? irq : 8;
}

static void chip_set_line(struct vpic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);
	if (level_mask(c) & bit) {
		/* level: IRR follows the line */
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit; /* edge: a rising edge is latched until acknowledged */
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= (uint8_t)~bit;
}

/* The slave's INTR drives the master's IR2. It is taken as a level: the slave holds INTR while
 * it has a request, so a second slave request behind an acknowledged one is not lost. */
static void update_cascade(struct vpic8259 *pic)
{
	struct vpic_chip *m = &pic->chip[0];
	if (chip_pending(&pic->chip[1], false) != 8)
		m->irr |= 1u << VPIC_CASCADE_IRQ;
	else
		m->irr &= (uint8_t) ~(1u << VPIC_CASCADE_IRQ);
}

void vpic_set_irq(struct vpic8259 *pic, unsigned irq, bool level)
{
	if (irq >= 16 || irq == VPIC_CASCADE_IRQ)
		return; /* IR2 of the master is wired to the slave, not to a device */
	chip_set_line(&pic->chip[irq >> 3], irq & 7, level);
	update_cascade(pic);
}

bool vpic_has_interrupt(const struct vpic8259 *pic)
{
	return chip_pending(&pic->chip[0], true) != 8;
}

bool vpic_irq_masked(const struct vpic8259 *pic, unsigned irq)
{
	if (irq >= 16)
		return true;
	if (irq >= 8 && (pic->chip[0].imr & (1u << VPIC_CASCADE_IRQ)))
		return true;
	return pic->chip[irq >> 3].imr & (1u << (irq & 7));
}

/* The first INTA pulse on one chip: IRR to ISR (unless auto-EOI), edge IRR cleared. */
static void chip_ack(struct vpic_chip *c, unsigned ir)
{
	uint8_t bit = (uint8_t)(1u << ir);
	if (!(level_mask(c) & bit))
		c->irr &= (uint8_t)~bit;
	if (c->aeoi) {
		if (c->rotate_aeoi)
			c->lowest = (uint8_t)ir;
	} else {
		c->isr |= bit;
	}
}

int vpic_peek_vector(const struct vpic8259 *pic)
{
	const struct vpic_chip *m = &pic->chip[0], *s = &pic->chip[1];
	unsigned irq = chip_pending(m, true);
	if (irq == 8)
		return -1;
	if (irq == VPIC_CASCADE_IRQ && !m->single) {
		unsigned sirq = chip_pending(s, false);
		return (int)(s->vector_base | (sirq == 8 ? 7 : sirq));
	}
	return (int)(m->vector_base | irq);
}

uint8_t vpic_get_interrupt(struct vpic8259 *pic)
{
	struct vpic_chip *m = &pic->chip[0], *s = &pic->chip[1];
	unsigned irq = chip_pending(m, true);
	uint8_t vec;

	if (irq == 8) /* the request went away before INTA: spurious IR7 (data sheet) */
		return (uint8_t)(m->vector_base | 7);
	chip_ack(m, irq);
	if (irq == VPIC_CASCADE_IRQ && !m->single) {
		unsigned sirq = chip_pending(s, false);
		if (sirq == 8) {
			vec = (uint8_t)(s->vector_base | 7);
		} else {
			chip_ack(s, sirq);
			vec = (uint8_t)(s->vector_base | sirq);
		}
	} else {
		vec = (uint8_t)(m->vector_base | irq);
	}
	update_cascade(pic);
	return vec;
}

static void eoi(struct vpic8259 *pic, struct vpic_chip *c, unsigned ir, bool rotate)
{
	if (ir == 8)
		return;
	c->isr &= (uint8_t) ~(1u << ir);
	if (rotate)
		c->lowest = (uint8_t)ir;
	update_cascade(pic);
}

static void write_command(struct vpic8259 *pic, struct vpic_chip *c, uint8_t v)
{
	if (v & ICW1_INIT) {
		/* ICW1 clears IMR and ISR, resets priorities and the special mask, and reads IRR
		 * next ("Initialization Command Words"); IRR's edge memory is lost too. */
		c->icw4_needed = v & ICW1_IC4;
		c->single = v & ICW1_SNGL;
		c->ltim = v & ICW1_LTIM;
		/* the edge sense is reset: only levels still high request again */
		c->imr = c->isr = 0;
		c->irr = c->lines & level_mask(c);
		c->lowest = 7;
		c->special_mask = c->read_isr = c->poll = false;
		c->aeoi = c->sfnm = c->rotate_aeoi = false;
		c->init_step = 2;
		update_cascade(pic);
		return;
	}
	if (v & 0x08) { /* OCW3 */
		if (v & OCW3_POLL) {
			c->poll = true;
			return;
		}
		if (v & OCW3_RR)
			c->read_isr = v & OCW3_RIS;
		if (v & OCW3_ESMM)
			c->special_mask = v & OCW3_SMM;
		update_cascade(pic);
		return;
	}
	/* OCW2: R, SL, EOI in bits 7-5, the level in bits 2-0 */
	unsigned level = v & 7;
	switch (v >> 5) {
	case 1: /* non-specific EOI */
		eoi(pic, c, highest(c, c->isr), false);
		break;
	case 3: /* specific EOI */
		eoi(pic, c, level, false);
		break;
	case 5: /* rotate on non-specific EOI */
		eoi(pic, c, highest(c, c->isr), true);
		break;
	case 4: /* set / clear rotate in auto-EOI mode */
		c->rotate_aeoi = true;
		break;
	case 0:
		c->rotate_aeoi = false;
		break;
	case 7: /* rotate on specific EOI */
		eoi(pic, c, level, true);
		break;
	case 6: /* set priority */
		c->lowest = (uint8_t)level;
		update_cascade(pic);
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_data(struct vpic8259 *pic, struct vpic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = v & 0xF8;
		c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = v;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:
		/* bit 0 (8086 mode) is assumed: an 8080 call sequence makes no sense here */
		c->aeoi = v & ICW4_AEOI;
		c->sfnm = v & ICW4_SFNM;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		update_cascade(pic);
		break;
	}
}

/* Poll command: the next read of the command port acknowledges as INTA would and returns
 * 0x80 | IR, or 0 with nothing pending. */
static uint8_t poll_read(struct vpic8259 *pic, struct vpic_chip *c)
{
	bool master = c == &pic->chip[0];
	unsigned ir = chip_pending(c, master);
	c->poll = false;
	if (ir == 8)
		return 0;
	chip_ack(c, ir);
	update_cascade(pic);
	return (uint8_t)(0x80 | ir);
}

static int vpic_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vpic8259 *pic = dev;
	(void)size;
	if (port == VPIC_ELCR_BASE || port == VPIC_ELCR_BASE + 1) {
		*val = pic->chip[port - VPIC_ELCR_BASE].elcr;
		return 0;
	}
	struct vpic_chip *c = &pic->chip[port >= VPIC_SLAVE_BASE];
	if (c->poll)
		*val = poll_read(pic, c);
	else if (port & 1)
		*val = c->imr;
	else
		*val = c->read_isr ? c->isr : c->irr;
	return 0;
}

static int vpic_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpic8259 *pic = dev;
	uint8_t v = (uint8_t)val;
	(void)size;
	if (port == VPIC_ELCR_BASE || port == VPIC_ELCR_BASE + 1) {
		struct vpic_chip *c = &pic->chip[port - VPIC_ELCR_BASE];
		c->elcr = v & c->elcr_mask;
		update_cascade(pic);
		return 0;
	}
	struct vpic_chip *c = &pic->chip[port >= VPIC_SLAVE_BASE];
	if (port & 1)
		write_data(pic, c, v);
	else
		write_command(pic, c, v);
	return 0;
}

static const struct io_ops vpic_ops = { .read = vpic_read, .write = vpic_write };

int vpic_register(struct vpic8259 *pic, struct io_bus *bus)
{
	if (io_bus_register(bus, VPIC_MASTER_BASE, 2, IO_SIZE_1, &vpic_ops, pic) ||
	    io_bus_register(bus, VPIC_SLAVE_BASE, 2, IO_SIZE_1, &vpic_ops, pic) ||
	    io_bus_register(bus, VPIC_ELCR_BASE, 2, IO_SIZE_1, &vpic_ops, pic))
		return -1;
	return 0;
}
