/* The Multiboot2 path's replacements for UEFI's boot and runtime services (mb2_platform.h). */
#include "boot/mb2/mb2_platform.h"

#include "arch/x86/cpu.h"
#include "arch/x86/time.h"
#include "drivers/acpi_host.h"
#include "drivers/cmos_rtc.h"
#include "lib/kstring.h"
#include "lib/log.h"

#define PIT_HZ 1193182u		/* 8254 input clock */
#define PM_TIMER_HZ 3579545u	/* ACPI 6.4, 4.8.3.3 */
#define CALIBRATE_MS 50
#define POLL_LIMIT 20000000u	/* reads of a counter before giving up on it (seconds of polling) */

#define FADT_TMR_VAL_EXT (1u << 8) /* the PM timer is 32 bits wide (else 24) */
#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN (1u << 13)	/* ACPI 6.4, 4.8.3.2.1 */
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

/* ---- TSC calibration ---- */

/* Channel 2 in mode 0 counts PIT_HZ * CALIBRATE_MS / 1000 ticks down with its gate (port 0x61
 * bit 0) up; its output (port 0x61 bit 5) rises at zero. The error is the time between two
 * polls of port 0x61 (about a microsecond on hardware) plus one PIT tick (0.84 us) against
 * 50 ms: under 0.01 %. */
static uint64_t calibrate_pit(void)
{
	const uint32_t latch = PIT_HZ / (1000 / CALIBRATE_MS);
	uint8_t p61 = inb(0x61);
	uint32_t n = 0;

	outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(0x43, 0xb0);			      /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(0x42, latch & 0xff);
	outb(0x42, (uint8_t)(latch >> 8));
	uint64_t t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		if (++n == POLL_LIMIT) {
			outb(0x61, p61);
			return 0;
		}
	uint64_t t1 = rdtsc();
	outb(0x61, p61);
	return (t1 - t0) * PIT_HZ / latch;
}

/* The ACPI PM timer (3.579545 MHz, 24 or 32 bits) over the same 50 ms; same accuracy. */
static uint64_t calibrate_pm_timer(void)
{
	const struct acpi_host_gas *g = &acpi.fadt.pm_tmr;
	uint32_t mask = acpi.fadt.flags & FADT_TMR_VAL_EXT ? 0xffffffffu : 0xffffffu;
	const uint32_t target = PM_TIMER_HZ / (1000 / CALIBRATE_MS);
	uint32_t elapsed = 0, n = 0;

	if (!acpi.ok || g->space_id != ACPI_GAS_IO || !g->address || g->address > 0xffff)
		return 0;
	uint16_t port = (uint16_t)g->address;
	uint32_t start = inl(port) & mask;
	uint64_t t0 = rdtsc();
	while (elapsed < target) {
		if (++n == POLL_LIMIT)
			return 0;
		elapsed = ((inl(port) & mask) - start) & mask;
	}
	uint64_t t1 = rdtsc();
	return (t1 - t0) * PM_TIMER_HZ / elapsed;
}

uint64_t mb2_calibrate_tsc(const char **how)
{
	uint64_t hz = calibrate_pit();

	*how = "PIT channel 2";
	if (!hz) {
		hz = calibrate_pm_timer();
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
		gas_write(&f->sleep_control,
			  (uint16_t)((acpi.slp_typa & 7u) << SLEEP_CTL_SLP_TYP_SHIFT | SLEEP_CTL_SLP_EN),
			  true);
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
