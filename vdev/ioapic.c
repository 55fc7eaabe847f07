/* 82093AA I/O APIC register logic (Intel 82093AA IOAPIC data sheet, 3.0 "Register
 * Description": IOREGSEL/IOWIN 3.1, IOAPICID/IOAPICVER/IOAPICARB 3.2.1-3.2.3, the redirection
 * table 3.2.4). Edge-triggered pins latch a rising edge (kept while masked, delivered on unmask,
 * as a guest that masks a pin briefly expects); level-triggered pins deliver while asserted and
 * then wait for the EOI to clear Remote IRR. The polarity bit is stored only: lines carry their
 * asserted state, and keel's ACPI tables describe each line as it is wired. */
#include "vdev/ioapic.h"

#include "lib/kstring.h"

#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define REG_REDIR 0x10

#define RTE_VECTOR 0xFFull
#define RTE_DELMODE_SHIFT 8
#define RTE_DESTMODE (1ull << 11)
#define RTE_DELIVS (1ull << 12)
#define RTE_POLARITY (1ull << 13)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASK (1ull << 16)
#define RTE_DEST_SHIFT 56
/* what a guest may write: all but delivery status and Remote IRR, and bits 17-55 reserved */
#define RTE_WRITABLE                                                                               \
	(0xFF00000000000000ull | RTE_MASK | RTE_LEVEL | RTE_POLARITY | RTE_DESTMODE | 0x7FFull)

void vioapic_init(struct vioapic *io, const struct vdev_env *env,
		  void (*deliver)(void *ctx, const struct vapic_msg *msg), void *deliver_ctx)
{
	memset(io, 0, sizeof(*io));
	io->env = env;
	io->deliver = deliver;
	io->deliver_ctx = deliver_ctx;
	vioapic_reset(io);
}

void vioapic_reset(struct vioapic *io)
{
	io->sel = 0;
	io->id = 0;
	io->irr = 0;
	/* every entry masked after reset (3.2.4, bit 16) */
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		io->redir[i] = RTE_MASK;
}

bool vioapic_pin_masked(const struct vioapic *io, unsigned pin)
{
	return pin >= VIOAPIC_PINS || (io->redir[pin] & RTE_MASK);
}

static void send(struct vioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	struct vapic_msg m = {
		.vector = (uint8_t)(e & RTE_VECTOR),
		.delivery = (uint8_t)((e >> RTE_DELMODE_SHIFT) & 7),
		.logical = e & RTE_DESTMODE,
		.level = e & RTE_LEVEL,
		.dest = (uint32_t)(e >> RTE_DEST_SHIFT),
	};
	if (io->deliver)
		io->deliver(io->deliver_ctx, &m);
}

/* Delivers what pin has pending, if the entry lets it through. */
static void service(struct vioapic *io, unsigned pin)
{
	uint64_t *e = &io->redir[pin];
	uint32_t bit = 1u << pin;
	if (*e & RTE_MASK)
		return;
	if (*e & RTE_LEVEL) {
		if (!(io->lines & bit) || (*e & RTE_REMOTE_IRR))
			return;
		/* Remote IRR: accepted by a local APIC, no EOI yet (3.2.4, bit 14). Fixed and
		 * lowest-priority only: the other modes have no EOI. */
		unsigned dm = (*e >> RTE_DELMODE_SHIFT) & 7;
		if (dm == VAPIC_DM_FIXED || dm == VAPIC_DM_LOWEST)
			*e |= RTE_REMOTE_IRR;
		send(io, pin);
	} else if (io->irr & bit) {
		io->irr &= ~bit;
		send(io, pin);
	}
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	if (pin >= VIOAPIC_PINS)
		return;
	uint32_t bit = 1u << pin;
	bool was = io->lines & bit;
	if (level)
		io->lines |= bit;
	else
		io->lines &= ~bit;
	if (level && !was && !(io->redir[pin] & RTE_LEVEL))
		io->irr |= bit;
	if (level)
		service(io, pin);
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned i = 0; i < VIOAPIC_PINS; i++) {
		uint64_t *e = &io->redir[i];
		if ((*e & RTE_VECTOR) != vector || !(*e & RTE_REMOTE_IRR))
			continue;
		*e &= ~RTE_REMOTE_IRR;
		service(io, i);
	}
}

static uint32_t read_reg(const struct vioapic *io, uint8_t reg)
{
	switch (reg) {
	case REG_ID:
		return io->id;
	case REG_VER:
		return VIOAPIC_VERSION;
	case REG_ARB:
		return io->id; /* the arbitration ID loads from the APIC ID (3.2.3) */
	default:
		if (reg >= REG_REDIR && reg < REG_REDIR + 2 * VIOAPIC_PINS) {
			uint64_t e = io->redir[(reg - REG_REDIR) / 2];
			return (uint32_t)(reg & 1 ? e >> 32 : e);
		}
		return 0xFFFFFFFFu; /* no register: reads as an empty bus */
	}
}

static void write_reg(struct vioapic *io, uint8_t reg, uint32_t v)
{
	if (reg == REG_ID) {
		io->id = v & 0x0F000000u;
		return;
	}
	if (reg < REG_REDIR || reg >= REG_REDIR + 2 * VIOAPIC_PINS)
		return; /* version, arbitration: read-only */
	unsigned pin = (reg - REG_REDIR) / 2;
	uint64_t *e = &io->redir[pin];
	uint64_t nv = reg & 1 ? (*e & 0xFFFFFFFFull) | (uint64_t)v << 32
			      : (*e & 0xFFFFFFFF00000000ull) | v;
	nv = (nv & RTE_WRITABLE) | (*e & (RTE_REMOTE_IRR | RTE_DELIVS));
	/* an edge entry has no Remote IRR: switching to edge must not leave it stuck */
	if (!(nv & RTE_LEVEL))
		nv &= ~RTE_REMOTE_IRR;
	*e = nv;
	service(io, pin);
}

/* The page holds IOREGSEL at 0x00 and IOWIN at 0x10, 32 bits each (3.1); narrower accesses see
 * their bytes of those, wider ones cover the next dword too (nothing there). */
static uint32_t read_dword(struct vioapic *io, uint64_t off)
{
	if (off == 0x00)
		return io->sel;
	if (off == 0x10)
		return read_reg(io, io->sel);
	return 0;
}

void vioapic_mmio_read(struct vioapic *io, uint64_t off, unsigned size, uint64_t *val)
{
	uint64_t base = off & ~3ull;
	uint64_t v = read_dword(io, base);
	if (size == 8)
		v |= (uint64_t)read_dword(io, base + 4) << 32;
	*val = size == 8 ? v >> (8 * (off & 3)) : vdev_extract(v, (unsigned)(off & 3), size);
}

void vioapic_mmio_write(struct vioapic *io, uint64_t off, unsigned size, uint64_t val)
{
	uint64_t base = off & ~3ull;
	unsigned shift = 8 * (unsigned)(off & 3);
	uint32_t mask = size >= 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1) << shift;
	uint32_t v = (uint32_t)(val << shift);
	if (base == 0x00) {
		io->sel = (uint8_t)((io->sel & ~mask) | (v & mask));
	} else if (base == 0x10) {
		uint32_t cur = read_reg(io, io->sel);
		write_reg(io, io->sel, (cur & ~mask) | (v & mask));
	}
}
