/* The Multiboot2 path's replacements for UEFI's boot and runtime services (mb2_platform.h). */
#include "boot/mb2/mb2_platform.h"

#include "arch/x86/cpu.h"
#include "arch/x86/time.h"
#include "drivers/acpi_host.h"
#include "drivers/cmos_rtc.h"
#include "lib/kstring.h"
#include "lib/log.h"

#define PIT_HZ 1193182u	     /* 8254 input clock */
#define PM_TIMER_HZ 3579545u /* ACPI 6.4, 4.8.3.3 */
#define CALIBRATE_MS 40
#define POLL_LIMIT 20000000u /* reads of a counter before giving up on it (seconds of polling) */

#define FADT_TMR_VAL_EXT (1u << 8) /* the PM timer is 32 bits wide (else 24) */
#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN (1u << 13) /* ACPI 6.4, 4.8.3.2.1 */
#define SLEEP_CTL_SLP_TYP_SHIFT 2
#define SLEEP_CTL_SLP_EN (1u << 5) /* 4.8.3.7, hardware-reduced ACPI */

static struct {
	bool ok;
	struct acpi_host_fadt fadt;
	bool s5;
	uint8_t slp_typa, slp_typb;
	const char *no_s5; /* why power-off cannot work */
} acpi = { .no_s5 = "no ACPI tables" };

void mb2_pic_mask(void)
{
	/* ICW1-4 (8259A data sheet): edge, cascade, vectors 0x20/0x28, slave on IRQ 2, 8086 mode */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/* Before hv_main only the boot page tables' identity-mapped first 4 GiB are reachable. */
static const void *map_identity(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	return range_within(phys, len, 4 * GiB) ? (const void *)(uintptr_t)phys : NULL;
}

int mb2_acpi_init(uint64_t rsdp_phys, const char **why)
{
	static struct acpi_host h;
	int err = acpi_host_init(&h, map_identity, NULL, rsdp_phys);

	if (!err)
		err = acpi_host_parse_fadt(&h, &acpi.fadt);
	if (err) {
		*why = acpi_host_strerror(err);
		acpi.no_s5 = "no usable ACPI FADT";
		return -1;
	}
	acpi.ok = true;
	err = acpi_host_get_s5(&h, &acpi.fadt, &acpi.slp_typa, &acpi.slp_typb);
	if (err)
		acpi.no_s5 = "no \\_S5 object in the DSDT or SSDTs";
	else if (acpi.fadt.hw_reduced ? !acpi.fadt.sleep_control.address
				      : !acpi.fadt.pm1a_cnt.address)
		acpi.no_s5 = "no PM1a control register";
	else
		acpi.s5 = true;
	return 0;
}

bool mb2_acpi_s5(uint16_t *pm1a_cnt, uint8_t *slp_typa, uint8_t *slp_typb)
{
	*pm1a_cnt = (uint16_t)acpi.fadt.pm1a_cnt.address;
	*slp_typa = acpi.slp_typa;
	*slp_typb = acpi.slp_typb;
	return acpi.s5;
}

/* ---- TSC calibration ----
 * The TSC is read around a read of a reference counter, and of five such brackets the narrowest
 * is kept: its midpoint is the TSC value of that counter reading, within half its width. Two
 * such samples 40 ms apart give the rate. Being descheduled (under an emulator) or an SMI in
 * between costs nothing but a wider bracket, which the best-of-five mostly avoids. The error
 * left, reported in ppm, is the two half-widths (a few port reads: microseconds) and one tick
 * of the counter at each end, against 40 ms: about 45 ppm with the PIT, 15 with the PM timer. */

struct tsc_sample {
	uint64_t tsc;
	uint64_t width;
	uint32_t count; /* the reference counter, counting up */
};

static struct tsc_sample sample(uint32_t (*read_counter)(void))
{
	struct tsc_sample best = { 0, UINT64_MAX, 0 };

	for (int i = 0; i < 5; i++) {
		uint64_t a = rdtsc();
		uint32_t c = read_counter();
		uint64_t b = rdtsc();
		if (b - a < best.width)
			best = (struct tsc_sample){ a + (b - a) / 2, b - a, c };
	}
	return best;
}

/* Measures against a counter of hz ticks per second, mask wide; 0 when it does not move. */
static uint64_t measure(uint32_t (*read_counter)(void), uint32_t hz, uint32_t mask, uint32_t *ppm)
{
	const uint32_t target = hz / (1000 / CALIBRATE_MS);
	struct tsc_sample s0 = sample(read_counter), s1;
	uint32_t n = 0;

	do {
		if (++n == POLL_LIMIT)
			return 0;
		s1 = sample(read_counter);
	} while (((s1.count - s0.count) & mask) < target);
	uint64_t ticks = (s1.count - s0.count) & mask;
	uint64_t cycles = s1.tsc - s0.tsc;
	/* each end: half its bracket, plus up to one tick, since a reading only says the
	 * counter was at that tick somewhere within it */
	uint64_t err = (s0.width + s1.width) / 2 * 1000000 / (cycles ? cycles : 1) +
		       2ull * 1000000 / ticks;
	*ppm = (uint32_t)MIN(err, (uint64_t)UINT32_MAX);
	return cycles * hz / ticks;
}

/* PIT channel 2 (gate: port 0x61 bit 0) counting down from 0xFFFF in mode 0, read through the
 * counter-latch command; as an up-counter that wraps after 65536 ticks (55 ms). */
static uint32_t pit_read(void)
{
	outb(0x43, 0x80); /* latch channel 2 */
	uint8_t lo = inb(0x42), hi = inb(0x42);
	return 0xffffu - (uint32_t)(lo | hi << 8);
}

static uint64_t calibrate_pit(uint32_t *ppm)
{
	uint8_t p61 = inb(0x61);
	uint64_t hz = 0;

	for (int tries = 0; tries < 3 && !hz; tries++) {
		outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01)); /* gate on, speaker off */
		outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
		outb(0x42, 0xff);
		outb(0x42, 0xff);
		/* the count loads on the next input clock: until then a read is the old one */
		uint32_t up = 0, n = 0;
		while ((up < 1 || up > 5000) && ++n < POLL_LIMIT)
			up = pit_read();
		hz = measure(pit_read, PIT_HZ, 0xffff, ppm);
		/* OUT (port 0x61 bit 5) rises when the count passes 0: the 16 bits wrapped, so the
		 * tick count is wrong (a stall of 15 ms or more); measure again */
		if (inb(0x61) & 0x20)
			hz = 0;
	}
	outb(0x61, p61);
	return hz;
}

static uint16_t pm_timer_port;

static uint32_t pm_timer_read(void)
{
	return inl(pm_timer_port);
}

/* The ACPI PM timer (3.579545 MHz, 24 or 32 bits: wraps after 4.7 s at the least). */
static uint64_t calibrate_pm_timer(uint32_t *ppm)
{
	const struct acpi_host_gas *g = &acpi.fadt.pm_tmr;
	uint32_t mask = acpi.fadt.flags & FADT_TMR_VAL_EXT ? 0xffffffffu : 0xffffffu;

	if (!acpi.ok || g->space_id != ACPI_GAS_IO || !g->address || g->address > 0xffff)
		return 0;
	pm_timer_port = (uint16_t)g->address;
	return measure(pm_timer_read, PM_TIMER_HZ, mask, ppm);
}

uint64_t mb2_calibrate_tsc(const char **how, uint32_t *ppm)
{
	uint64_t hz = calibrate_pit(ppm);

	*how = "PIT channel 2";
	if (!hz) {
		hz = calibrate_pm_timer(ppm);
		*how = "ACPI PM timer";
	}
	return hz;
}

/* ---- CMOS RTC ---- */

static uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

/* Waits out an update in progress (it lasts under 2 ms); false if it never ends. */
static bool cmos_wait_update(void)
{
	for (uint32_t n = 0; n < POLL_LIMIT; n++)
		if (!(cmos_read(CMOS_REG_A) & CMOS_A_UIP))
			return true;
	return false;
}

static void cmos_snapshot(struct cmos_rtc_regs *r)
{
	r->second = cmos_read(CMOS_SECONDS);
	r->minute = cmos_read(CMOS_MINUTES);
	r->hour = cmos_read(CMOS_HOURS);
	r->day = cmos_read(CMOS_DAY);
	r->month = cmos_read(CMOS_MONTH);
	r->year = cmos_read(CMOS_YEAR);
	r->century = cmos_read(CMOS_CENTURY);
	r->reg_b = cmos_read(CMOS_REG_B);
}

int mb2_rtc_get_time(struct wall_time *t)
{
	/* read until two snapshots agree, so no update slipped in between the registers */
	for (int tries = 0; tries < 5; tries++) {
		struct cmos_rtc_regs a, b;
		if (!cmos_wait_update())
			return -1;
		cmos_snapshot(&a);
		if (!cmos_wait_update())
			return -1;
		cmos_snapshot(&b);
		if (!memcmp(&a, &b, sizeof(a))) {
			/* a century byte that is not a plausible one: the machine has none */
			struct cmos_rtc_regs c = a;
			if (cmos_rtc_decode(&c, t) == 0)
				return 0;
			c.century = 0;
			return cmos_rtc_decode(&c, t);
		}
	}
	return -1;
}

/* ---- power-off and reset ---- */

static uint16_t gas_read16(const struct acpi_host_gas *g)
{
	if (g->space_id == ACPI_GAS_IO)
		return inw((uint16_t)g->address);
	return *(volatile uint16_t *)(uintptr_t)g->address;
}

static void gas_write(const struct acpi_host_gas *g, uint16_t v, bool byte)
{
	if (g->space_id == ACPI_GAS_IO) {
		if (byte)
			outb((uint16_t)g->address, (uint8_t)v);
		else
			outw((uint16_t)g->address, v);
	} else if (g->space_id == ACPI_GAS_MEMORY) {
		if (byte)
			*(volatile uint8_t *)(uintptr_t)g->address = (uint8_t)v;
		else
			*(volatile uint16_t *)(uintptr_t)g->address = v;
	}
}

static bool gas_usable(const struct acpi_host_gas *g)
{
	return g->address && ((g->space_id == ACPI_GAS_IO && g->address <= 0xffff) ||
			      g->space_id == ACPI_GAS_MEMORY);
}

/* Firmware that starts in legacy mode ignores SLP_EN until the OS enables ACPI (4.8.3.2.1): ask
 * for it through SMI_CMD and wait up to a second for SCI_EN. */
static void acpi_enable_mode(void)
{
	const struct acpi_host_fadt *f = &acpi.fadt;

	if (!f->smi_cmd || !f->acpi_enable || f->smi_cmd > 0xffff ||
	    (gas_read16(&f->pm1a_cnt) & PM1_SCI_EN))
		return;
	outb((uint16_t)f->smi_cmd, f->acpi_enable);
	for (int i = 0; i < 1000 && !(gas_read16(&f->pm1a_cnt) & PM1_SCI_EN); i++)
		time_delay_us(1000);
}

static void pm1_write_typ(const struct acpi_host_gas *g, uint8_t typ, uint16_t extra)
{
	if (!gas_usable(g))
		return;
	uint16_t v = (uint16_t)(gas_read16(g) & ~PM1_SLP_TYP_MASK);
	gas_write(g, (uint16_t)(v | (typ & 7u) << PM1_SLP_TYP_SHIFT | extra), false);
}

void mb2_poweroff(void)
{
	const struct acpi_host_fadt *f = &acpi.fadt;

	irq_disable();
	if (!acpi.s5) {
		klog("keel: cannot power off: %s; halting instead (turn the machine off by hand)",
		     acpi.no_s5);
		cpu_halt_forever();
	}
	if (f->hw_reduced) {
		uint16_t v = (uint16_t)((acpi.slp_typa & 7u) << SLEEP_CTL_SLP_TYP_SHIFT);
		gas_write(&f->sleep_control, v | SLEEP_CTL_SLP_EN, true);
	} else {
		acpi_enable_mode();
		/* SLP_TYP first, then SLP_TYP with SLP_EN, to both blocks (as ACPICA does) */
		pm1_write_typ(&f->pm1a_cnt, acpi.slp_typa, 0);
		pm1_write_typ(&f->pm1b_cnt, acpi.slp_typb, 0);
		pm1_write_typ(&f->pm1a_cnt, acpi.slp_typa, PM1_SLP_EN);
		pm1_write_typ(&f->pm1b_cnt, acpi.slp_typb, PM1_SLP_EN);
	}
	time_delay_us(500000);
	klog("keel: ACPI S5 power-off did not happen; halting instead");
	cpu_halt_forever();
}

void mb2_reset(void)
{
	const struct acpi_host_fadt *f = &acpi.fadt;

	irq_disable();
	if (acpi.ok && f->reset_supported && gas_usable(&f->reset_reg)) {
		gas_write(&f->reset_reg, f->reset_value, true);
		time_delay_us(100000);
	}
	outb(0xcf9, 0x02); /* PCI reset control: hard reset, then do it */
	outb(0xcf9, 0x06);
	time_delay_us(100000);
	outb(0x64, 0xfe); /* the keyboard controller's pulse of the reset line */
	time_delay_us(100000);
	klog("keel: reset did not happen; halting");
	cpu_halt_forever();
}
