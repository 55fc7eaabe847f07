/* MC146818A real-time clock (Motorola MC146818A data sheet: "Address Map", "Register A" to
 * "Register D", "Update Cycle", "Interrupts"). Time is kept as seconds since 1970 plus the guest
 * nanosecond at which that second began; the calendar registers are computed when read, in BCD or
 * binary and 12- or 24-hour form per register B. The update-in-progress bit is high for the
 * 244 us before each second boundary and the 1984 us update cycle after it, as on the chip, so a
 * guest that waits for UIP to clear reads a consistent time. */
#include "vdev/rtc_cmos.h"

#include "lib/kstring.h"

enum {
	REG_SEC = 0x00,
	REG_SEC_ALARM = 0x01,
	REG_MIN = 0x02,
	REG_MIN_ALARM = 0x03,
	REG_HOUR = 0x04,
	REG_HOUR_ALARM = 0x05,
	REG_WDAY = 0x06,
	REG_MDAY = 0x07,
	REG_MON = 0x08,
	REG_YEAR = 0x09,
	REG_A = 0x0A,
	REG_B = 0x0B,
	REG_C = 0x0C,
	REG_D = 0x0D,
};

#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80

#define UIP_BEFORE_NS 244000u
#define UIP_AFTER_NS 1984000u

/* Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" construction:
 * years counted from March so the leap day is last; valid for the years 1900-9999 used here). */
static int64_t days_from_date(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = y / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void date_from_days(int64_t z, struct vrtc_time *t)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	t->day = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
	t->mon = (uint8_t)(mp < 10 ? mp + 3 : mp - 9);
	t->year = (uint16_t)(yoe + era * 400 + (t->mon <= 2));
}

static unsigned days_in_month(unsigned year, unsigned mon)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return mon == 2 && leap ? 29 : days[mon - 1];
}

/* Guest-written fields are clamped into a real date before any arithmetic. */
static int64_t secs_from_time(const struct vrtc_time *t)
{
	unsigned year = MIN(MAX(t->year, 1900u), 9999u);
	unsigned mon = MIN(MAX(t->mon, 1u), 12u);
	unsigned day = MIN(MAX(t->day, 1u), days_in_month(year, mon));
	int64_t days = days_from_date(year, mon, day);
	return days * 86400 + MIN(t->hour, 23u) * 3600LL + MIN(t->min, 59u) * 60LL +
	       MIN(t->sec, 59u);
}

static void time_from_secs(int64_t s, struct vrtc_time *t)
{
	int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
	int64_t rem = s - days * 86400;
	date_from_days(days, t);
	t->hour = (uint8_t)(rem / 3600);
	t->min = (uint8_t)(rem / 60 % 60);
	t->sec = (uint8_t)(rem % 60);
}

static uint64_t now_ns(const struct vrtc_cmos *rtc)
{
	return rtc->env->now_ns(rtc->env->ctx);
}

static int64_t current_secs(const struct vrtc_cmos *rtc)
{
	if (rtc->reg_b & B_SET)
		return rtc->frozen_secs;
	uint64_t now = now_ns(rtc);
	uint64_t el = now > rtc->base_ns ? now - rtc->base_ns : 0;
	return rtc->base_secs + (int64_t)(el / VDEV_NS_PER_SEC);
}

void vrtc_now(const struct vrtc_cmos *rtc, struct vrtc_time *out)
{
	time_from_secs(current_secs(rtc), out);
}

static void set_secs(struct vrtc_cmos *rtc, int64_t secs)
{
	if (rtc->reg_b & B_SET) {
		rtc->frozen_secs = secs;
	} else {
		/* keep the phase of the second: the divider chain runs on */
		uint64_t now = now_ns(rtc);
		uint64_t el = now > rtc->base_ns ? now - rtc->base_ns : 0;
		rtc->base_secs = secs - (int64_t)(el / VDEV_NS_PER_SEC);
	}
}

void vrtc_init(struct vrtc_cmos *rtc, const struct vdev_env *env, const struct vrtc_time *when)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->env = env;
	rtc->initial = *when;
	vrtc_reset(rtc);
}

void vrtc_reset(struct vrtc_cmos *rtc)
{
	rtc->index = 0;
	rtc->nmi_disabled = false;
	rtc->reg_a = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	rtc->reg_b = B_24H;
	rtc->reg_c = 0;
	rtc->base_ns = now_ns(rtc);
	rtc->base_secs = secs_from_time(&rtc->initial);
	rtc->frozen_secs = rtc->base_secs;
	rtc->flags_ns = rtc->base_ns;
	memset(rtc->alarm, 0, sizeof(rtc->alarm));
	memset(rtc->ram, 0, sizeof(rtc->ram));
	if (rtc->irq_level && rtc->env->set_irq)
		rtc->env->set_irq(rtc->env->ctx, VRTC_IRQ, false);
	rtc->irq_level = false;
}

bool vrtc_nmi_disabled(const struct vrtc_cmos *rtc)
{
	return rtc->nmi_disabled;
}

static uint8_t encode(const struct vrtc_cmos *rtc, unsigned v)
{
	v %= 100;
	return (uint8_t)(rtc->reg_b & B_DM_BINARY ? v : (v / 10) << 4 | v % 10);
}

static unsigned decode(const struct vrtc_cmos *rtc, uint8_t v)
{
	return rtc->reg_b & B_DM_BINARY ? v : (v >> 4) * 10u + (v & 0xF);
}

static uint8_t encode_hour(const struct vrtc_cmos *rtc, unsigned h)
{
	if (rtc->reg_b & B_24H)
		return encode(rtc, h);
	/* 12-hour: 12, 1 .. 11 with bit 7 for PM ("Time, Calendar and Alarm Data Modes") */
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(encode(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned decode_hour(const struct vrtc_cmos *rtc, uint8_t v)
{
	if (rtc->reg_b & B_24H)
		return decode(rtc, v);
	unsigned h = decode(rtc, v & 0x7F) % 12;
	return v & 0x80 ? h + 12 : h;
}

static bool uip(const struct vrtc_cmos *rtc)
{
	if (rtc->reg_b & B_SET)
		return false;
	uint64_t now = now_ns(rtc);
	uint64_t phase = (now - rtc->base_ns) % VDEV_NS_PER_SEC;
	return phase >= VDEV_NS_PER_SEC - UIP_BEFORE_NS ||
	       (now - rtc->base_ns >= VDEV_NS_PER_SEC && phase < UIP_AFTER_NS);
}

/* The periodic interrupt's period from register A's rate select ("Periodic Interrupt Rate"):
 * 0 none; 1 and 2 are 3.90625 and 7.8125 ms; 3-15 are 2^(rs-1) cycles of 32.768 kHz. */
static uint64_t periodic_ns(const struct vrtc_cmos *rtc)
{
	unsigned rs = rtc->reg_a & 0xF;
	if (!rs)
		return 0;
	unsigned cycles = rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
	return vdev_muldiv(cycles, VDEV_NS_PER_SEC, 32768);
}

/* Register C's flags for the events between flags_ns and now. The update flag follows second
 * boundaries (none while SET holds updates); the alarm flag is set when the time read now matches
 * the alarm (don't-care values 0xC0-0xFF match anything). */
static void collect_flags(struct vrtc_cmos *rtc)
{
	uint64_t now = now_ns(rtc);
	if (now <= rtc->flags_ns)
		return;
	uint64_t sec_then = (rtc->flags_ns - rtc->base_ns) / VDEV_NS_PER_SEC;
	uint64_t sec_now = (now - rtc->base_ns) / VDEV_NS_PER_SEC;
	if (!(rtc->reg_b & B_SET) && sec_then != sec_now) {
		rtc->reg_c |= C_UF;
		struct vrtc_time t;
		vrtc_now(rtc, &t);
		unsigned vals[3] = { t.sec, t.min, t.hour };
		bool match = true;
		for (unsigned i = 0; i < 3; i++) {
			uint8_t a = rtc->alarm[i];
			if ((a & 0xC0) == 0xC0)
				continue;
			unsigned want = i == 2 ? decode_hour(rtc, a) : decode(rtc, a);
			match &= want == vals[i];
		}
		if (match)
			rtc->reg_c |= C_AF;
	}
	uint64_t p = periodic_ns(rtc);
	if (p && rtc->flags_ns / p != now / p)
		rtc->reg_c |= C_PF;
	rtc->flags_ns = now;
}

static void update_irq(struct vrtc_cmos *rtc)
{
	uint8_t enabled = rtc->reg_c & rtc->reg_b & (C_PF | C_AF | C_UF);
	if (enabled)
		rtc->reg_c |= C_IRQF;
	bool level = rtc->reg_c & C_IRQF;
	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		if (rtc->env->set_irq)
			rtc->env->set_irq(rtc->env->ctx, VRTC_IRQ, level);
	}
}

void vrtc_update(struct vrtc_cmos *rtc)
{
	if (!(rtc->reg_b & (B_PIE | B_AIE | B_UIE)))
		return;
	collect_flags(rtc);
	update_irq(rtc);
}

uint64_t vrtc_next_event_ns(const struct vrtc_cmos *rtc)
{
	uint64_t next = UINT64_MAX, now = now_ns(rtc);
	if (rtc->irq_level)
		return UINT64_MAX; /* IRQ 8 stays high until register C is read */
	if ((rtc->reg_b & (B_UIE | B_AIE)) && !(rtc->reg_b & B_SET))
		next = rtc->base_ns +
		       ((now - rtc->base_ns) / VDEV_NS_PER_SEC + 1) * VDEV_NS_PER_SEC;
	uint64_t p = periodic_ns(rtc);
	if ((rtc->reg_b & B_PIE) && p)
		next = MIN(next, (now / p + 1) * p);
	return next;
}

static uint8_t read_reg(struct vrtc_cmos *rtc, unsigned idx)
{
	struct vrtc_time t;
	if (idx <= REG_YEAR || idx == VRTC_CENTURY_REG)
		vrtc_now(rtc, &t);
	switch (idx) {
	case REG_SEC:
		return encode(rtc, t.sec);
	case REG_MIN:
		return encode(rtc, t.min);
	case REG_HOUR:
		return encode_hour(rtc, t.hour);
	case REG_SEC_ALARM:
	case REG_MIN_ALARM:
	case REG_HOUR_ALARM:
		return rtc->alarm[(idx - 1) / 2];
	case REG_WDAY: { /* 1 = Sunday; 1970-01-01 was a Thursday */
		int64_t days = days_from_date(t.year, t.mon, t.day);
		return encode(rtc, (unsigned)(((days % 7) + 11) % 7) + 1);
	}
	case REG_MDAY:
		return encode(rtc, t.day);
	case REG_MON:
		return encode(rtc, t.mon);
	case REG_YEAR:
		return encode(rtc, t.year % 100);
	case VRTC_CENTURY_REG:
		return encode(rtc, t.year / 100);
	case REG_A:
		return (uint8_t)((rtc->reg_a & 0x7F) | (uip(rtc) ? A_UIP : 0));
	case REG_B:
		return rtc->reg_b;
	case REG_C: { /* read clears all flags and drops IRQ 8 */
		collect_flags(rtc);
		update_irq(rtc);
		uint8_t v = rtc->reg_c;
		rtc->reg_c = 0;
		update_irq(rtc);
		return v;
	}
	case REG_D:
		return D_VRT; /* the battery is fine */
	default:
		return rtc->ram[idx - 0x0E];
	}
}

static void write_time_field(struct vrtc_cmos *rtc, unsigned idx, uint8_t v)
{
	struct vrtc_time t;
	vrtc_now(rtc, &t);
	switch (idx) {
	case REG_SEC:
		t.sec = (uint8_t)MIN(decode(rtc, v & 0x7F), 59u);
		break;
	case REG_MIN:
		t.min = (uint8_t)MIN(decode(rtc, v & 0x7F), 59u);
		break;
	case REG_HOUR:
		t.hour = (uint8_t)MIN(decode_hour(rtc, v), 23u);
		break;
	case REG_MDAY:
		t.day = (uint8_t)MIN(decode(rtc, v), 31u);
		break;
	case REG_MON:
		t.mon = (uint8_t)MIN(decode(rtc, v), 12u);
		break;
	case REG_YEAR:
		t.year = (uint16_t)(t.year / 100 * 100 + decode(rtc, v) % 100);
		break;
	case VRTC_CENTURY_REG:
		t.year = (uint16_t)(MIN(MAX(decode(rtc, v), 19u), 99u) * 100 + t.year % 100);
		break;
	default:
		return; /* the day of the week is derived from the date */
	}
	set_secs(rtc, secs_from_time(&t));
}

static void write_reg(struct vrtc_cmos *rtc, unsigned idx, uint8_t v)
{
	switch (idx) {
	case REG_SEC_ALARM:
	case REG_MIN_ALARM:
	case REG_HOUR_ALARM:
		rtc->alarm[(idx - 1) / 2] = v;
		break;
	case REG_A: /* UIP is read-only */
		collect_flags(rtc);
		rtc->reg_a = v & 0x7F;
		break;
	case REG_B:
		collect_flags(rtc);
		if ((v & B_SET) && !(rtc->reg_b & B_SET)) {
			rtc->frozen_secs = current_secs(rtc);
			/* SET clears UIE as well ("Register B", SET) */
			v &= (uint8_t)~B_UIE;
		} else if (!(v & B_SET) && (rtc->reg_b & B_SET)) {
			/* updates resume with a fresh second from now */
			rtc->base_secs = rtc->frozen_secs;
			rtc->base_ns = now_ns(rtc);
			rtc->flags_ns = rtc->base_ns;
		}
		rtc->reg_b = v;
		update_irq(rtc);
		break;
	case REG_C:
	case REG_D:
		break; /* read-only */
	case REG_SEC:
	case REG_MIN:
	case REG_HOUR:
	case REG_WDAY:
	case REG_MDAY:
	case REG_MON:
	case REG_YEAR:
	case VRTC_CENTURY_REG:
		write_time_field(rtc, idx, v);
		break;
	default:
		rtc->ram[idx - 0x0E] = v;
		break;
	}
}

static int vrtc_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vrtc_cmos *rtc = dev;
	(void)size;
	if (port == VRTC_INDEX_PORT)
		*val = 0xFF; /* the index register is write-only on PC chipsets */
	else
		*val = read_reg(rtc, rtc->index);
	return 0;
}

static int vrtc_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vrtc_cmos *rtc = dev;
	(void)size;
	if (port == VRTC_INDEX_PORT) {
		rtc->index = val & 0x7F;
		rtc->nmi_disabled = val & 0x80;
	} else {
		write_reg(rtc, rtc->index, (uint8_t)val);
	}
	return 0;
}

static const struct io_ops vrtc_ops = { .read = vrtc_read, .write = vrtc_write };

int vrtc_register(struct vrtc_cmos *rtc, struct io_bus *bus)
{
	return io_bus_register(bus, VRTC_INDEX_PORT, 2, IO_SIZE_1, &vrtc_ops, rtc);
}
