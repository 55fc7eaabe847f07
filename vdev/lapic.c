/* Local APIC register logic. Register map: Intel SDM vol 3A, table 11-1 "Local APIC Register
 * Address Map" (xAPIC) and table 11-6 "Local APIC Register Address Map Supported by x2APIC"
 * (MSR 0x800 + offset / 16). Priorities: 11.8.3.1 "Task and Processor Priorities"; EOI and
 * the IOAPIC broadcast: 11.8.5; the timer: 11.5.4 "APIC Timer" and 11.5.4.1 "TSC-Deadline
 * Mode"; IPIs: 11.6.1 "Interrupt Command Register"; destinations: 11.6.2; x2APIC: 11.12 (state
 * transitions 11.12.5, reserved-bit #GP 11.12.1.2). Every register value is masked to the bits
 * the register has before it is stored or used. */
#include "vdev/lapic.h"

#include "lib/kstring.h"

enum {
	REG_ID = 0x02,
	REG_VER = 0x03,
	REG_TPR = 0x08,
	REG_APR = 0x09,
	REG_PPR = 0x0A,
	REG_EOI = 0x0B,
	REG_RRD = 0x0C,
	REG_LDR = 0x0D,
	REG_DFR = 0x0E,
	REG_SVR = 0x0F,
	REG_ISR = 0x10,
	REG_TMR = 0x18,
	REG_IRR = 0x20,
	REG_ESR = 0x28,
	REG_CMCI = 0x2F,
	REG_ICR_LO = 0x30,
	REG_ICR_HI = 0x31,
	REG_LVT_TIMER = 0x32,
	REG_LVT_ERROR = 0x37,
	REG_TIMER_INIT = 0x38,
	REG_TIMER_CUR = 0x39,
	REG_TIMER_DIV = 0x3E,
	REG_SELF_IPI = 0x3F,
};

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

#define SVR_ENABLE 0x100
#define SVR_WRITABLE 0x3FFu /* vector, software enable, focus processor checking */
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_DEADLINE 2

#define ESR_SEND_ILLEGAL_VECTOR 0x20
#define ESR_RECV_ILLEGAL_VECTOR 0x40
#define ESR_ILLEGAL_REGISTER 0x80

#define ICR_DESTMODE (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_WRITABLE 0x000CCFFFu /* vector, mode, dest mode, level, trigger, shorthand */

/* A periodic timer faster than this is slowed to it: a guest must not make keel spin. */
#define VLAPIC_MIN_PERIOD_NS 100000u

/* Bits software may write in each LVT (11.5.1, figure 11-8). */
static const uint32_t lvt_writable[6] = {
	[LVT_TIMER] = 0x000700FF,   /* vector, mask, timer mode */
	[LVT_THERMAL] = 0x000107FF, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x000107FF,
	[LVT_LINT0] = 0x0001A7FF, /* vector, delivery mode, polarity, trigger, mask */
	[LVT_LINT1] = 0x0001A7FF,
	[LVT_ERROR] = 0x000100FF,
};

static uint64_t now_ns(const struct vlapic *a)
{
	return a->env->now_ns(a->env->ctx);
}

static void kick(struct vlapic *a)
{
	if (a->env->kick)
		a->env->kick(a->env->ctx, a->cpu);
}

static bool bit_test(const uint32_t *v, unsigned n)
{
	return v[n >> 5] & (1u << (n & 31));
}

static void bit_set(uint32_t *v, unsigned n)
{
	v[n >> 5] |= 1u << (n & 31);
}

static void bit_clear(uint32_t *v, unsigned n)
{
	v[n >> 5] &= ~(1u << (n & 31));
}

/* The highest set bit of a 256-bit register, or -1. */
static int highest_bit(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

bool vlapic_enabled(const struct vlapic *a)
{
	return a->base_msr & VLAPIC_BASE_EN;
}

bool vlapic_x2apic(const struct vlapic *a)
{
	const uint64_t both = VLAPIC_BASE_EN | VLAPIC_BASE_EXTD;
	return (a->base_msr & both) == both;
}

uint64_t vlapic_mmio_base(const struct vlapic *a)
{
	return a->base_msr & ~0xFFFull & ((1ull << a->phys_bits) - 1);
}

static bool sw_enabled(const struct vlapic *a)
{
	return a->svr & SVR_ENABLE;
}

static void reset_registers(struct vlapic *a)
{
	a->id = a->apic_id << 24;
	a->tpr = 0;
	a->ldr = 0;
	a->dfr = 0xFFFFFFFFu;
	a->svr = 0xFF;
	memset(a->irr, 0, sizeof(a->irr));
	memset(a->isr, 0, sizeof(a->isr));
	memset(a->tmr, 0, sizeof(a->tmr));
	a->esr = a->esr_pending = 0;
	a->icr_lo = a->icr_hi = 0;
	for (unsigned i = 0; i < 6; i++)
		a->lvt[i] = LVT_MASKED;
	a->timer_initial = 0;
	a->timer_divide = 0;
	a->timer_period_ns = 0;
	a->timer_fired = false;
	a->tsc_deadline = 0;
	a->nmi_pending = a->init_pending = a->sipi_pending = a->extint_pending = false;
}

void vlapic_init(struct vlapic *a, const struct vdev_env *env, const struct vlapic_bus *bus,
		 unsigned cpu, uint32_t apic_id, bool bsp)
{
	memset(a, 0, sizeof(*a));
	a->env = env;
	a->bus = bus;
	a->cpu = cpu;
	a->apic_id = apic_id;
	a->phys_bits = 48;
	a->base_msr = bsp ? VLAPIC_BASE_BSP : 0;
	vlapic_reset(a);
}

void vlapic_reset(struct vlapic *a)
{
	a->base_msr = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (a->base_msr & VLAPIC_BASE_BSP);
	reset_registers(a);
}

void vlapic_virtual_wire(struct vlapic *a)
{
	a->svr = SVR_ENABLE | 0xFF;
	a->lvt[LVT_LINT0] = VAPIC_DM_EXTINT << 8;
	a->lvt[LVT_LINT1] = VAPIC_DM_NMI << 8;
}

uint32_t vlapic_ppr(const struct vlapic *a)
{
	int isrv = highest_bit(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	return (a->tpr & 0xF0) >= isr_class ? a->tpr & 0xFF : isr_class;
}

static uint32_t apr(const struct vlapic *a)
{
	int irrv = highest_bit(a->irr), isrv = highest_bit(a->isr);
	uint32_t cls = (uint32_t)MAX(MAX(irrv, isrv), 0) & 0xF0;
	return (a->tpr & 0xF0) >= cls ? a->tpr & 0xFF : cls;
}

static void accept_fixed(struct vlapic *a, uint8_t vector, bool level);

/* An error (11.5.3): latched for the next ESR write, and the LVT error interrupt. */
static void error(struct vlapic *a, uint32_t bits)
{
	a->esr_pending |= bits;
	uint32_t lvt = a->lvt[LVT_ERROR];
	if (!(lvt & LVT_MASKED) && (lvt & 0xFF) >= 16)
		accept_fixed(a, (uint8_t)lvt, false);
}

static void accept_fixed(struct vlapic *a, uint8_t vector, bool level)
{
	if (vector < 16) { /* vectors 0-15 are exceptions: "receive illegal vector" */
		error(a, ESR_RECV_ILLEGAL_VECTOR);
		return;
	}
	bit_set(a->irr, vector);
	if (level)
		bit_set(a->tmr, vector);
	else
		bit_clear(a->tmr, vector);
	kick(a);
}

void vlapic_deliver(struct vlapic *a, const struct vapic_msg *m)
{
	if (!vlapic_enabled(a))
		return;
	switch (m->delivery) {
	case VAPIC_DM_FIXED:
	case VAPIC_DM_LOWEST:
		accept_fixed(a, m->vector, m->level);
		break;
	case VAPIC_DM_NMI:
		a->nmi_pending = true;
		kick(a);
		break;
	case VAPIC_DM_INIT:
		a->init_pending = true;
		a->sipi_pending = false; /* a SIPI before the INIT is stale: the CPU was running */
		kick(a);
		break;
	case VAPIC_DM_SIPI:
		a->sipi_pending = true;
		a->sipi_vector = m->vector;
		kick(a);
		break;
	case VAPIC_DM_EXTINT:
		a->extint_pending = true;
		kick(a);
		break;
	default: /* SMI and the reserved modes: nothing to do */
		break;
	}
}

bool vlapic_match_dest(const struct vlapic *a, uint32_t dest, bool logical, bool short_dest)
{
	if (!vlapic_enabled(a))
		return false;
	if (vlapic_x2apic(a)) {
		if (dest == 0xFFFFFFFFu || (short_dest && dest == 0xFF))
			return true;
		if (!logical)
			return dest == a->apic_id;
		/* cluster in bits 31-16, member bitmap in 15-0 (11.12.10.2) */
		return (dest >> 16) == (a->ldr >> 16) && (dest & a->ldr & 0xFFFF);
	}
	uint8_t d = (uint8_t)dest;
	if (d == 0xFF)
		return true;
	if (!logical)
		return d == (a->id >> 24);
	uint8_t ldr = (uint8_t)(a->ldr >> 24);
	if ((a->dfr >> 28) == 0xF) /* flat model */
		return ldr & d;
	return (d >> 4) == (ldr >> 4) && (d & ldr & 0xF); /* cluster model */
}

static unsigned divisor(const struct vlapic *a)
{
	/* divide configuration bits 0, 1, 3 (11.5.4, figure 11-10): 000 = 2 .. 110 = 128,
	 * 111 = 1 */
	unsigned v = (a->timer_divide & 3) | ((a->timer_divide >> 1) & 4);
	return v == 7 ? 1 : 2u << v;
}

static unsigned timer_mode(const struct vlapic *a)
{
	return LVT_TIMER_MODE(a->lvt[LVT_TIMER]);
}

static void timer_interrupt(struct vlapic *a)
{
	uint32_t lvt = a->lvt[LVT_TIMER];
	if (!(lvt & LVT_MASKED))
		accept_fixed(a, (uint8_t)lvt, false);
}

static uint64_t deadline_ns(const struct vlapic *a)
{
	if (!a->env->tsc_to_ns)
		return a->tsc_deadline;
	return a->env->tsc_to_ns(a->env->ctx, a->tsc_deadline);
}

void vlapic_update(struct vlapic *a)
{
	uint64_t now = now_ns(a);
	if (timer_mode(a) == TIMER_DEADLINE) {
		if (a->tsc_deadline && now >= deadline_ns(a)) {
			a->tsc_deadline = 0;
			timer_interrupt(a);
		}
		return;
	}
	if (!a->timer_period_ns || now < a->timer_start_ns + a->timer_period_ns)
		return;
	if (timer_mode(a) == TIMER_PERIODIC) {
		/* several periods late: one interrupt, the next period stays on the grid */
		uint64_t k = (now - a->timer_start_ns) / a->timer_period_ns;
		a->timer_start_ns += k * a->timer_period_ns;
		timer_interrupt(a);
	} else if (!a->timer_fired) {
		a->timer_fired = true;
		timer_interrupt(a);
	}
}

uint64_t vlapic_next_event_ns(struct vlapic *a)
{
	vlapic_update(a);
	if (!vlapic_enabled(a) || (a->lvt[LVT_TIMER] & LVT_MASKED))
		return UINT64_MAX;
	if (timer_mode(a) == TIMER_DEADLINE)
		return a->tsc_deadline ? deadline_ns(a) : UINT64_MAX;
	if (!a->timer_period_ns || (timer_mode(a) != TIMER_PERIODIC && a->timer_fired))
		return UINT64_MAX;
	return a->timer_start_ns + a->timer_period_ns;
}

static void timer_stop(struct vlapic *a)
{
	a->timer_period_ns = 0;
	a->timer_fired = false;
}

static void timer_load(struct vlapic *a, uint32_t count)
{
	a->timer_initial = count;
	if (!count) {
		timer_stop(a);
		return;
	}
	uint64_t ns = vdev_muldiv((uint64_t)count * divisor(a), VDEV_NS_PER_SEC, VLAPIC_TIMER_HZ);
	if (timer_mode(a) == TIMER_PERIODIC && ns < VLAPIC_MIN_PERIOD_NS)
		ns = VLAPIC_MIN_PERIOD_NS;
	a->timer_period_ns = ns ? ns : 1;
	a->timer_start_ns = now_ns(a);
	a->timer_fired = false;
}

static uint32_t timer_current(const struct vlapic *a)
{
	if (timer_mode(a) == TIMER_DEADLINE || !a->timer_period_ns)
		return 0;
	uint64_t el = now_ns(a) - a->timer_start_ns;
	if (timer_mode(a) == TIMER_PERIODIC)
		el %= a->timer_period_ns;
	else if (el >= a->timer_period_ns || a->timer_fired)
		return 0;
	uint64_t left = vdev_muldiv(a->timer_period_ns - el, VLAPIC_TIMER_HZ, VDEV_NS_PER_SEC);
	left /= divisor(a);
	return (uint32_t)MIN(left, (uint64_t)a->timer_initial);
}

uint8_t vlapic_cr8(const struct vlapic *a)
{
	return (uint8_t)((a->tpr >> 4) & 0xF);
}

/* SDM vol 3A, 11.8.6.1: a MOV to CR8 sets TPR[7:4] to CR8[3:0] and clears TPR[3:0]. */
void vlapic_set_cr8(struct vlapic *a, uint8_t cr8)
{
	a->tpr = (uint32_t)(cr8 & 0xF) << 4;
}

int vlapic_tpr_blocked_class(struct vlapic *a)
{
	vlapic_update(a);
	if (!vlapic_enabled(a) || !sw_enabled(a))
		return -1;
	int irrv = highest_bit(a->irr), isrv = highest_bit(a->isr);
	uint32_t irr_class = (uint32_t)MAX(irrv, 0) & 0xF0;
	uint32_t isr_class = (uint32_t)MAX(isrv, 0) & 0xF0;
	/* blocked by the TPR alone: above what is in service, not above the task priority */
	if (irrv < 0 || (isrv >= 0 && irr_class <= isr_class) || irr_class > (a->tpr & 0xF0))
		return -1;
	return (int)(irr_class >> 4);
}

int vlapic_pending_vector(struct vlapic *a)
{
	vlapic_update(a);
	if (!vlapic_enabled(a) || !sw_enabled(a))
		return -1;
	int irrv = highest_bit(a->irr);
	if (irrv < 0 || ((uint32_t)irrv & 0xF0) <= (vlapic_ppr(a) & 0xF0))
		return -1;
	return irrv;
}

void vlapic_ack(struct vlapic *a, uint8_t vector)
{
	if (!bit_test(a->irr, vector))
		return;
	bit_clear(a->irr, vector);
	bit_set(a->isr, vector);
}

bool vlapic_accepts_extint(const struct vlapic *a)
{
	if (!vlapic_enabled(a))
		return true; /* the APIC is out of the way: INTR goes to the core */
	if (a->extint_pending)
		return true;
	uint32_t l = a->lvt[LVT_LINT0];
	return sw_enabled(a) && !(l & LVT_MASKED) && ((l >> 8) & 7) == VAPIC_DM_EXTINT;
}

bool vlapic_take_init(struct vlapic *a)
{
	if (!a->init_pending)
		return false;
	/* SDM vol 3A, 11.4.7.3: INIT puts the local APIC in its power-up state but for the APIC
	 * ID; IA32_APIC_BASE (and with it x2APIC mode) stays. A SIPI that came after the INIT is
	 * for the wait-for-SIPI state INIT leads to: it stays. */
	uint32_t id = a->id;
	bool sipi = a->sipi_pending;
	uint8_t vector = a->sipi_vector;
	reset_registers(a);
	a->id = id;
	a->sipi_pending = sipi;
	a->sipi_vector = vector;
	return true;
}

int vlapic_take_sipi(struct vlapic *a)
{
	if (!a->sipi_pending)
		return -1;
	a->sipi_pending = false;
	return a->sipi_vector;
}

bool vlapic_take_nmi(struct vlapic *a)
{
	bool n = a->nmi_pending;
	a->nmi_pending = false;
	return n;
}

void vlapic_set_lint(struct vlapic *a, unsigned pin, bool level)
{
	if (pin > 1 || !level || !vlapic_enabled(a))
		return;
	uint32_t l = a->lvt[LVT_LINT0 + pin];
	if (l & LVT_MASKED)
		return;
	struct vapic_msg m = { .vector = (uint8_t)l,
			       .delivery = (uint8_t)((l >> 8) & 7),
			       .level = l & (1u << 15) };
	vlapic_deliver(a, &m);
}

static void eoi(struct vlapic *a)
{
	int v = highest_bit(a->isr);
	if (v < 0)
		return;
	bit_clear(a->isr, (unsigned)v);
	/* level-triggered: the IOAPIC must clear Remote IRR (11.8.5) */
	if (bit_test(a->tmr, (unsigned)v) && a->bus && a->bus->eoi_broadcast)
		a->bus->eoi_broadcast(a->bus->ctx, (uint8_t)v);
	if (highest_bit(a->irr) >= 0)
		kick(a);
}

static void send_ipi(struct vlapic *a, uint32_t lo, uint32_t dest)
{
	struct vapic_msg m = {
		.vector = (uint8_t)lo,
		.delivery = (uint8_t)((lo >> 8) & 7),
		.logical = lo & ICR_DESTMODE,
		.level = lo & ICR_TRIGGER_LEVEL,
		.dest = dest,
	};
	enum vapic_shorthand sh = (enum vapic_shorthand)((lo >> 18) & 3);
	switch (m.delivery) {
	case VAPIC_DM_FIXED:
	case VAPIC_DM_LOWEST:
		if (m.vector < 16) {
			error(a, ESR_SEND_ILLEGAL_VECTOR);
			return;
		}
		if (m.delivery == VAPIC_DM_LOWEST && sh != VAPIC_SH_NONE)
			return; /* lowest priority to a shorthand is invalid (11.6.1) */
		break;
	case VAPIC_DM_INIT:
		/* "INIT level de-assert" only synchronises arbitration IDs */
		if ((lo & ICR_TRIGGER_LEVEL) && !(lo & ICR_LEVEL_ASSERT))
			return;
		break;
	case VAPIC_DM_NMI:
	case VAPIC_DM_SIPI:
		break;
	default: /* SMI, ExtINT and the reserved modes are not sent by keel's guests */
		return;
	}
	if (sh == VAPIC_SH_SELF) {
		vlapic_deliver(a, &m);
		return;
	}
	if (a->bus && a->bus->send_ipi)
		a->bus->send_ipi(a->bus->ctx, a, &m, sh);
	else if (sh == VAPIC_SH_ALL ||
		 (sh == VAPIC_SH_NONE && vlapic_match_dest(a, dest, m.logical, !vlapic_x2apic(a))))
		vlapic_deliver(a, &m);
}

static uint32_t x2apic_ldr(const struct vlapic *a)
{
	return ((a->apic_id >> 4) << 16) | (1u << (a->apic_id & 0xF));
}

/* A register's value; -1 when there is none (in x2APIC mode also for write-only ones). */
static int read_reg(struct vlapic *a, unsigned idx, bool x2, uint64_t *v)
{
	vlapic_update(a);
	switch (idx) {
	case REG_ID:
		*v = x2 ? a->apic_id : a->id;
		return 0;
	case REG_VER:
		*v = VLAPIC_VERSION;
		return 0;
	case REG_TPR:
		*v = a->tpr;
		return 0;
	case REG_APR:
		if (x2)
			return -1;
		*v = apr(a);
		return 0;
	case REG_PPR:
		*v = vlapic_ppr(a);
		return 0;
	case REG_EOI:
		if (x2)
			return -1;
		*v = 0;
		return 0;
	case REG_LDR:
		*v = a->ldr;
		return 0;
	case REG_DFR:
		if (x2)
			return -1;
		*v = a->dfr;
		return 0;
	case REG_SVR:
		*v = a->svr;
		return 0;
	case REG_ESR:
		*v = a->esr;
		return 0;
	case REG_ICR_LO:
		*v = x2 ? (uint64_t)a->icr_hi << 32 | a->icr_lo : a->icr_lo;
		return 0;
	case REG_ICR_HI:
		if (x2)
			return -1;
		*v = a->icr_hi;
		return 0;
	case REG_TIMER_INIT:
		*v = a->timer_initial;
		return 0;
	case REG_TIMER_CUR:
		*v = timer_current(a);
		return 0;
	case REG_TIMER_DIV:
		*v = a->timer_divide;
		return 0;
	default:
		break;
	}
	if (idx >= REG_ISR && idx < REG_ISR + 8) {
		*v = a->isr[idx - REG_ISR];
		return 0;
	}
	if (idx >= REG_TMR && idx < REG_TMR + 8) {
		*v = a->tmr[idx - REG_TMR];
		return 0;
	}
	if (idx >= REG_IRR && idx < REG_IRR + 8) {
		*v = a->irr[idx - REG_IRR];
		return 0;
	}
	if (idx >= REG_LVT_TIMER && idx <= REG_LVT_ERROR) {
		*v = a->lvt[idx - REG_LVT_TIMER];
		return 0;
	}
	return -1; /* CMCI (not implemented: 6 LVTs), RRD, SELF IPI (write-only), reserved */
}

/* xAPIC: the registers of table 11-1 keel implements (no CMCI, no remote read). */
static bool implemented(unsigned idx)
{
	return (idx >= REG_ID && idx <= REG_VER) || (idx >= REG_TPR && idx <= REG_EOI) ||
	       (idx >= REG_LDR && idx <= REG_ESR) || (idx >= REG_ICR_LO && idx <= REG_TIMER_CUR) ||
	       idx == REG_TIMER_DIV;
}

static void write_lvt(struct vlapic *a, unsigned n, uint32_t v)
{
	uint32_t keep = a->lvt[n] & ~lvt_writable[n] & (1u << 14); /* LINT Remote IRR */
	uint32_t nv = (v & lvt_writable[n]) | keep;
	if (!sw_enabled(a)) /* software-disabled: the masks stay set (11.4.7.2) */
		nv |= LVT_MASKED;
	if (n == LVT_TIMER && LVT_TIMER_MODE(nv) != timer_mode(a)) {
		/* changing the timer mode disarms it (11.5.4.1) */
		timer_stop(a);
		a->timer_initial = 0;
		a->tsc_deadline = 0;
	}
	a->lvt[n] = nv;
}

/* x2APIC: bits a write must leave clear (11.12.1.2), per register; UINT32_MAX = any. */
static bool x2_reserved(unsigned idx, uint64_t v)
{
	uint32_t ok;
	if (idx == REG_ICR_LO)
		return (uint32_t)v & ~ICR_WRITABLE;
	if (v >> 32)
		return true;
	switch (idx) {
	case REG_TPR:
	case REG_SELF_IPI:
		ok = 0xFF;
		break;
	case REG_EOI:
	case REG_ESR:
		ok = 0;
		break;
	case REG_SVR:
		ok = SVR_WRITABLE;
		break;
	case REG_TIMER_DIV:
		ok = 0xB;
		break;
	case REG_TIMER_INIT:
		ok = 0xFFFFFFFFu;
		break;
	default:
		if (idx >= REG_LVT_TIMER && idx <= REG_LVT_ERROR) {
			/* delivery status (12) and remote IRR (14) are read-only, not reserved:
			 * writes to them are ignored, never #GP (Linux's disconnect_bsp_APIC
			 * writes both into LINT0 at power-off) */
			ok = lvt_writable[idx - REG_LVT_TIMER] | (1u << 12) | (1u << 14);
			if (idx == REG_LVT_TIMER && LVT_TIMER_MODE(v) == 3)
				return true; /* the reserved timer mode */
			break;
		}
		return false;
	}
	return (uint32_t)v & ~ok;
}

static int write_reg(struct vlapic *a, unsigned idx, uint64_t v64, bool x2)
{
	uint32_t v = (uint32_t)v64;
	vlapic_update(a);
	if (x2 && x2_reserved(idx, v64))
		return -1;
	switch (idx) {
	case REG_TPR:
		a->tpr = v & 0xFF;
		if (highest_bit(a->irr) >= 0)
			kick(a);
		return 0;
	case REG_EOI:
		eoi(a);
		return 0;
	case REG_LDR:
		if (x2)
			return -1;
		a->ldr = v & 0xFF000000u;
		return 0;
	case REG_DFR:
		if (x2)
			return -1;
		a->dfr = (v & 0xF0000000u) | 0x0FFFFFFFu;
		return 0;
	case REG_SVR:
		a->svr = v & SVR_WRITABLE;
		if (!sw_enabled(a))
			for (unsigned i = 0; i < 6; i++)
				a->lvt[i] |= LVT_MASKED;
		return 0;
	case REG_ESR:
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		return 0;
	case REG_ICR_LO:
		if (x2) {
			a->icr_lo = v & ICR_WRITABLE;
			a->icr_hi = (uint32_t)(v64 >> 32);
			send_ipi(a, a->icr_lo, a->icr_hi);
		} else {
			a->icr_lo = v & ICR_WRITABLE;
			send_ipi(a, a->icr_lo, a->icr_hi >> 24);
		}
		return 0;
	case REG_ICR_HI:
		if (x2)
			return -1;
		a->icr_hi = v & 0xFF000000u;
		return 0;
	case REG_TIMER_INIT:
		if (timer_mode(a) != TIMER_DEADLINE) /* ignored in TSC-deadline mode */
			timer_load(a, v);
		return 0;
	case REG_TIMER_DIV:
		a->timer_divide = v & 0xB;
		return 0;
	case REG_SELF_IPI:
		if (!x2)
			return -1;
		accept_fixed(a, (uint8_t)v, false);
		return 0;
	case REG_ID:
		/* Read-only here: keel routes by the initial APIC ID. */
		return x2 ? -1 : 0;
	default:
		break;
	}
	if (idx >= REG_LVT_TIMER && idx <= REG_LVT_ERROR) {
		write_lvt(a, idx - REG_LVT_TIMER, v);
		return 0;
	}
	/* version, APR, PPR, ISR/TMR/IRR, current count (read-only: ignored), or nothing */
	if (!x2 && !implemented(idx))
		error(a, ESR_ILLEGAL_REGISTER);
	return -1;
}

void vlapic_mmio_read(struct vlapic *a, uint64_t off, unsigned size, uint64_t *val)
{
	uint64_t v = 0;
	if (!vlapic_enabled(a) || vlapic_x2apic(a)) {
		*val = size == 8 ? ~0ull : vdev_extract(~0ull, 0, size);
		return;
	}
	off &= VLAPIC_MMIO_SIZE - 1;
	/* bytes 4-15 of each 16-byte slot are reserved and read 0 */
	if ((off & 0xF) < 4 && read_reg(a, (unsigned)(off >> 4), false, &v)) {
		v = 0;
		if (!implemented((unsigned)(off >> 4)))
			error(a, ESR_ILLEGAL_REGISTER);
	}
	if ((off & 0xF) >= 4)
		v = 0;
	v &= 0xFFFFFFFFull;
	*val = size == 8 ? v >> (8 * (off & 3)) : vdev_extract(v, (unsigned)(off & 3), size);
}

void vlapic_mmio_write(struct vlapic *a, uint64_t off, unsigned size, uint64_t val)
{
	if (!vlapic_enabled(a) || vlapic_x2apic(a))
		return;
	off &= VLAPIC_MMIO_SIZE - 1;
	/* Only aligned 32-bit stores reach a register (11.4.1); an 8-byte store writes its low half
	 * to the register and the rest to reserved space. */
	if ((off & 0xF) || size < 4)
		return;
	write_reg(a, (unsigned)(off >> 4), val & 0xFFFFFFFFull, false);
}

int vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *val)
{
	*val = 0;
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*val = vlapic_base_read(a);
		return 0;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		vlapic_update(a);
		*val = timer_mode(a) == TIMER_DEADLINE ? a->tsc_deadline : 0;
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST || !vlapic_x2apic(a))
		return -1;
	unsigned idx = msr - VLAPIC_MSR_X2APIC_FIRST;
	if (idx >= 0x40 || idx == REG_SELF_IPI)
		return -1;
	if (read_reg(a, idx, true, val))
		return -1;
	return 0;
}

int vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t val)
{
	if (msr == VLAPIC_MSR_APIC_BASE)
		return vlapic_base_write(a, val);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		vlapic_update(a);
		/* outside TSC-deadline mode writes are ignored (11.5.4.1) */
		if (timer_mode(a) == TIMER_DEADLINE) {
			a->tsc_deadline = val;
			vlapic_update(a);
		}
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST || !vlapic_x2apic(a))
		return -1;
	unsigned idx = msr - VLAPIC_MSR_X2APIC_FIRST;
	if (idx >= 0x40)
		return -1;
	return write_reg(a, idx, val, true);
}

uint64_t vlapic_base_read(const struct vlapic *a)
{
	return a->base_msr;
}

int vlapic_base_write(struct vlapic *a, uint64_t v)
{
	uint64_t reserved = 0x2FFull | ~((1ull << a->phys_bits) - 1);
	if (v & reserved & ~VLAPIC_BASE_BSP)
		return -1;
	bool en = v & VLAPIC_BASE_EN, extd = v & VLAPIC_BASE_EXTD;
	bool was_en = vlapic_enabled(a), was_x2 = vlapic_x2apic(a);
	if (extd && !en)
		return -1; /* invalid state */
	if (was_x2 && en && !extd)
		return -1; /* x2APIC to xAPIC must go through disabled */
	if (!was_en && en && extd)
		return -1;			      /* disabled to x2APIC must go through xAPIC */
	uint64_t bsp = a->base_msr & VLAPIC_BASE_BSP; /* read-only */
	a->base_msr = (v & ~(reserved | VLAPIC_BASE_BSP)) | bsp;
	if (!en) {
		/* disabling loses the APIC's state (11.4.3) */
		reset_registers(a);
	} else if (extd && !was_x2) {
		/* into x2APIC: the ID is the 32-bit x2APIC ID, the LDR is derived (11.12.10.2) */
		a->ldr = x2apic_ldr(a);
		a->icr_hi = 0;
	}
	return 0;
}
