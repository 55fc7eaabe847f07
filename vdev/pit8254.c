/* Intel 8254 PIT. Modes, control word, counter latch and read-back: Intel 8254 data sheet
 * (231164), "Control Word Format", "Read-Back Command", "Mode 0" to "Mode 5" and the gate
 * table. A count of 0 means 65536 (10000 in BCD). The counter is the elapsed PIT ticks since the
 * count was loaded, so a guest polling it sees exact time without any exit-free ticking. */
#include "vdev/pit8254.h"

#include "lib/kstring.h"

#define RW_LATCH 0
#define RW_LSB 1
#define RW_MSB 2
#define RW_LOHI 3

#define P61_GATE2 0x01
#define P61_SPKR 0x02
#define P61_REFRESH 0x10
#define P61_OUT2 0x20

static uint64_t now_ticks(const struct vpit8254 *pit)
{
	return vdev_muldiv(pit->env->now_ns(pit->env->ctx), VPIT_HZ, VDEV_NS_PER_SEC);
}

static void reset_channel(struct vpit_channel *c, bool gate)
{
	memset(c, 0, sizeof(*c));
	c->gate = gate;
	c->rw = RW_LOHI;
	c->period = 65536;
}

void vpit_init(struct vpit8254 *pit, const struct vdev_env *env)
{
	memset(pit, 0, sizeof(*pit));
	pit->env = env;
	vpit_reset(pit);
}

void vpit_reset(struct vpit8254 *pit)
{
	/* Gates of channels 0 and 1 are tied high on a PC; channel 2's is port 0x61 bit 0. */
	reset_channel(&pit->ch[0], true);
	reset_channel(&pit->ch[1], true);
	reset_channel(&pit->ch[2], false);
	pit->port61 = 0;
}

static uint64_t elapsed(const struct vpit_channel *c, uint64_t now)
{
	if (!c->loaded)
		return 0;
	return c->counting && now >= c->start ? now - c->start : c->frozen;
}

/* The value in the counting element (8254 data sheet, "Mode 0" to "Mode 5"). */
static uint32_t counter_value(const struct vpit_channel *c, uint64_t e)
{
	uint32_t n = c->period, wrap = c->bcd ? 10000 : 65536;
	if (!c->loaded)
		return 0;
	switch (c->mode) {
	case 2: /* counts n .. 1, reloads */
		return n - (uint32_t)(e % n);
	case 3: { /* decrements by two, each half period reloads */
		uint32_t p = (uint32_t)(e % n), high = (n + 1) / 2;
		return p < high ? n - 2 * p : n - 2 * (p - high);
	}
	default: /* 0, 1, 4, 5: counts down once, then wraps */
		return (uint32_t)((n + wrap - e % wrap) % wrap);
	}
}

static bool output(const struct vpit_channel *c, uint64_t e)
{
	uint32_t n = c->period;
	if (!c->loaded)
		return c->mode != 0; /* after the control word: mode 0 low, the others high */
	switch (c->mode) {
	case 0:
		return e >= n;
	case 1:
		return !c->triggered || e >= n;
	case 2: /* low for the one clock when the count is 1 */
		return !c->gate || e % n != n - 1;
	case 3:
		return !c->gate || e % n < (n + 1) / 2;
	case 4:
		return e != n;
	default: /* 5 */
		return !c->triggered || e != n;
	}
}

/* OUT rising edges since the count was loaded: these are channel 0's IRQ0 pulses. */
static uint64_t edges(const struct vpit_channel *c, uint64_t e)
{
	switch (c->mode) {
	case 0:
		return e >= c->period;
	case 2:
	case 3:
		return e / c->period;
	case 4:
		return e >= (uint64_t)c->period + 1;
	default:
		return 0;
	}
}

static uint16_t to_bcd(uint32_t v)
{
	v %= 10000;
	return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t from_bcd(uint16_t v)
{
	/* digits above 9 are a guest's nonsense; they still give a bounded count */
	return (v >> 12) * 1000u + ((v >> 8) & 0xF) * 100u + ((v >> 4) & 0xF) * 10u + (v & 0xF);
}

static uint16_t read_value(const struct vpit8254 *pit, const struct vpit_channel *c)
{
	uint32_t v = counter_value(c, elapsed(c, now_ticks(pit)));
	return c->bcd ? to_bcd(v) : (uint16_t)v;
}

/* Counting runs in modes 0, 2, 3 and 4 while the gate is high; modes 1 and 5 wait for a gate
 * rising edge (never, on channels 0 and 1). */
static void start_counting(struct vpit_channel *c, uint64_t now)
{
	c->triggered = false;
	c->edges_seen = 0;
	c->frozen = 0;
	c->counting = c->gate && c->mode != 1 && c->mode != 5;
	c->start = now;
}

static void load_count(struct vpit8254 *pit, struct vpit_channel *c, uint16_t raw)
{
	uint32_t n = c->bcd ? from_bcd(raw) : raw;
	if (!n)
		n = c->bcd ? 10000 : 65536;
	/* Mode 2 and 3 divide by at least 2 on the chip; a count of 1 would be an IRQ storm. */
	if ((c->mode == 2 || c->mode == 3) && n < 2)
		n = 2;
	c->period = n;
	c->loaded = true;
	c->null_count = false;
	start_counting(c, now_ticks(pit));
}

static void set_gate(struct vpit8254 *pit, struct vpit_channel *c, bool gate)
{
	uint64_t now = now_ticks(pit);
	bool rise = gate && !c->gate;
	/* Gate low pauses modes 0 and 4 and stops 2 and 3; modes 1 and 5 only watch its edges. */
	if (c->loaded && !gate && c->counting && c->mode != 1 && c->mode != 5) {
		c->frozen = now - c->start;
		c->counting = false;
	}
	c->gate = gate;
	if (!c->loaded || !rise)
		return;
	switch (c->mode) {
	case 0:
	case 4: /* gate low only paused the count */
		c->counting = true;
		c->start = now - c->frozen;
		break;
	case 1:
	case 5: /* the rising edge (re)triggers from the full count */
	case 2:
	case 3: /* the rising edge reloads */
		c->counting = true;
		c->start = now;
		c->frozen = 0;
		c->edges_seen = 0;
		c->triggered = true;
		break;
	}
}

static uint8_t status_byte(const struct vpit8254 *pit, const struct vpit_channel *c)
{
	bool out = output(c, elapsed(c, now_ticks(pit)));
	return (uint8_t)((out ? 0x80 : 0) | (c->null_count ? 0x40 : 0) | c->rw << 4 | c->mode << 1 |
			 (c->bcd ? 1 : 0));
}

static void latch_count(struct vpit8254 *pit, struct vpit_channel *c)
{
	if (c->latch_reads)
		return; /* a second latch before the first is read is ignored */
	c->latch = read_value(pit, c);
	c->latch_reads = c->rw == RW_LOHI ? 2 : 1;
	c->latch_hi_next = c->rw == RW_MSB;
}

static void control_word(struct vpit8254 *pit, uint8_t v)
{
	unsigned sc = v >> 6, rw = (v >> 4) & 3;
	if (sc == 3) { /* read-back: bit 5 low latches counts, bit 4 low latches status */
		for (unsigned i = 0; i < 3; i++) {
			struct vpit_channel *c = &pit->ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				latch_count(pit, c);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = status_byte(pit, c);
				c->status_latched = true;
			}
		}
		return;
	}
	struct vpit_channel *c = &pit->ch[sc];
	if (rw == RW_LATCH) {
		latch_count(pit, c);
		return;
	}
	unsigned mode = (v >> 1) & 7;
	c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 6 and 7 are 2 and 3 */
	c->rw = (uint8_t)rw;
	c->bcd = v & 1;
	c->loaded = false;
	c->counting = false;
	c->null_count = true;
	c->write_hi_next = c->read_hi_next = false;
	c->latch_reads = 0;
	c->status_latched = false;
	c->edges_seen = 0;
}

static void write_counter(struct vpit8254 *pit, struct vpit_channel *c, uint8_t v)
{
	switch (c->rw) {
	case RW_LSB:
		load_count(pit, c, v);
		break;
	case RW_MSB:
		load_count(pit, c, (uint16_t)(v << 8));
		break;
	default:
		if (!c->write_hi_next) {
			c->write_lo = v;
			c->write_hi_next = true;
			/* mode 0: writing the first byte stops the count */
			if (c->mode == 0) {
				c->loaded = false;
				c->null_count = true;
			}
		} else {
			c->write_hi_next = false;
			load_count(pit, c, (uint16_t)(c->write_lo | v << 8));
		}
		break;
	}
}

static uint8_t read_counter(struct vpit8254 *pit, struct vpit_channel *c)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latch_reads) {
		uint8_t b = (uint8_t)(c->latch_hi_next ? c->latch >> 8 : c->latch);
		c->latch_hi_next = !c->latch_hi_next;
		c->latch_reads--;
		return b;
	}
	uint16_t v = read_value(pit, c);
	switch (c->rw) {
	case RW_LSB:
		return (uint8_t)v;
	case RW_MSB:
		return (uint8_t)(v >> 8);
	default:
		c->read_hi_next = !c->read_hi_next;
		return (uint8_t)(c->read_hi_next ? v : v >> 8);
	}
}

void vpit_update(struct vpit8254 *pit)
{
	struct vpit_channel *c = &pit->ch[0];
	if (!c->loaded || !c->counting)
		return;
	uint64_t e = edges(c, elapsed(c, now_ticks(pit)));
	if (e > c->edges_seen) {
		c->edges_seen = e;
		if (pit->env->set_irq) {
			pit->env->set_irq(pit->env->ctx, VPIT_IRQ, true);
			pit->env->set_irq(pit->env->ctx, VPIT_IRQ, false);
		}
	}
}

uint64_t vpit_next_event_ns(struct vpit8254 *pit)
{
	struct vpit_channel *c = &pit->ch[0];
	uint64_t at;
	if (!c->loaded || !c->counting)
		return UINT64_MAX;
	switch (c->mode) {
	case 0:
		if (c->edges_seen)
			return UINT64_MAX;
		at = c->period;
		break;
	case 2:
	case 3:
		at = (c->edges_seen + 1) * c->period;
		break;
	case 4:
		if (c->edges_seen)
			return UINT64_MAX;
		at = (uint64_t)c->period + 1;
		break;
	default:
		return UINT64_MAX;
	}
	/* The first nanosecond at which now_ticks() has reached the edge's tick. */
	return vdev_muldiv(c->start + at, VDEV_NS_PER_SEC, VPIT_HZ) + 1;
}

static int vpit_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vpit8254 *pit = dev;
	(void)size;
	if (port == VPIT_PORT_61) {
		/* 8254 data sheet does not cover port 0x61: it is the PC's "NMI status and
		 * control" register (Intel ICH data sheets): bit 4 toggles with DRAM refresh every
		 * 15.085 us, bit 5 is channel 2's OUT. */
		uint64_t ns = pit->env->now_ns(pit->env->ctx);
		struct vpit_channel *c = &pit->ch[2];
		*val = (pit->port61 & 0x0F) | ((ns / 15085) & 1 ? P61_REFRESH : 0) |
		       (output(c, elapsed(c, now_ticks(pit))) ? P61_OUT2 : 0);
		return 0;
	}
	unsigned i = (unsigned)(port - VPIT_BASE);
	*val = i < 3 ? read_counter(pit, &pit->ch[i]) : 0xFF; /* the control word is write-only */
	return 0;
}

static int vpit_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpit8254 *pit = dev;
	(void)size;
	if (port == VPIT_PORT_61) {
		pit->port61 = (uint8_t)(val & 0x0F);
		set_gate(pit, &pit->ch[2], val & P61_GATE2);
	} else if (port == VPIT_BASE + 3) {
		control_word(pit, (uint8_t)val);
	} else {
		write_counter(pit, &pit->ch[port - VPIT_BASE], (uint8_t)val);
	}
	vpit_update(pit);
	return 0;
}

static const struct io_ops vpit_ops = { .read = vpit_read, .write = vpit_write };

int vpit_register(struct vpit8254 *pit, struct io_bus *bus)
{
	if (io_bus_register(bus, VPIT_BASE, 4, IO_SIZE_1, &vpit_ops, pit) ||
	    io_bus_register(bus, VPIT_PORT_61, 1, IO_SIZE_1, &vpit_ops, pit))
		return -1;
	return 0;
}
