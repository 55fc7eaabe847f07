/* ACPI PM1a event/control, PM timer and reset register (ACPI 6.4, 4.8.3 "PM1 registers",
 * 4.8.3.3 "Power Management Timer", 4.8.3.6 "Reset Register"). Linux calibrates its TSC against
 * the PM timer when the PIT is too slow to read (EMULATION.md), so the timer is exact to the
 * nanosecond clock: ticks = now_ns * 3579545 / 10^9. */
#include "vdev/acpi_pm.h"

#include "lib/kstring.h"
#include "lib/log.h"

static const struct vacpi_pm_config defaults = {
	.pm1a_evt = VACPI_PM1A_EVT_DEFAULT,
	.pm1a_cnt = VACPI_PM1A_CNT_DEFAULT,
	.pm_tmr = VACPI_PM_TMR_DEFAULT,
	.slp_typ_s5 = VACPI_SLP_TYP_S5_DEFAULT,
	.timer_32bit = false,
	.sci_gsi = VACPI_SCI_GSI_DEFAULT,
};

void vacpi_pm_init(struct vacpi_pm *pm, const struct vdev_env *env,
		   const struct vacpi_pm_config *cfg)
{
	memset(pm, 0, sizeof(*pm));
	pm->env = env;
	pm->cfg = cfg ? *cfg : defaults;
	pm->cfg.slp_typ_s5 &= 7;
	vacpi_pm_reset(pm);
}

static uint64_t ticks(const struct vacpi_pm *pm)
{
	return vdev_muldiv(pm->env->now_ns(pm->env->ctx), VACPI_PM_TIMER_HZ, VDEV_NS_PER_SEC);
}

uint32_t vacpi_pm_timer(const struct vacpi_pm *pm)
{
	uint64_t t = ticks(pm);
	return pm->cfg.timer_32bit ? (uint32_t)t : (uint32_t)(t & 0xFFFFFF);
}

/* TMR_STS is set each time the timer's top bit changes (4.8.3.3); computed when read. */
static uint16_t status(const struct vacpi_pm *pm)
{
	unsigned top = pm->cfg.timer_32bit ? 31 : 23;
	uint16_t s = pm->sts;
	if ((ticks(pm) >> top) != (pm->tmr_sts_base >> top))
		s |= VACPI_PM1_TMR_STS;
	return s;
}

/* The SCI is a level: asserted while an enabled status bit is set and SCI_EN is on. The timer's
 * overflow event is reported in TMR_STS but raises no SCI (nothing arms a timer for it). */
static void update_sci(struct vacpi_pm *pm)
{
	bool level = (pm->sts & pm->en & ~VACPI_PM1_TMR_STS) && (pm->cnt & VACPI_PM1_SCI_EN);
	if (level != pm->sci_level) {
		pm->sci_level = level;
		if (pm->env->set_irq)
			pm->env->set_irq(pm->env->ctx, pm->cfg.sci_gsi, level);
	}
}

void vacpi_pm_reset(struct vacpi_pm *pm)
{
	pm->sts = 0;
	pm->en = 0;
	/* No SMI_CMD in keel's FADT: the platform is always in ACPI mode, SCI_EN reads 1. */
	pm->cnt = VACPI_PM1_SCI_EN;
	pm->tmr_sts_base = ticks(pm);
	pm->reset_reg = 0;
	update_sci(pm);
}

void vacpi_pm_power_button(struct vacpi_pm *pm)
{
	pm->sts |= VACPI_PM1_PWRBTN_STS;
	update_sci(pm);
}

static void request_stop(struct vacpi_pm *pm, enum vm_stop_reason why)
{
	if (pm->env->request_stop)
		pm->env->request_stop(pm->env->ctx, why, 0);
}

static void write_cnt(struct vacpi_pm *pm, uint16_t v)
{
	/* SLP_EN is write-only and starts the sleep (4.8.3.2.1); only S5 is implemented. */
	pm->cnt = (uint16_t)(v & (VACPI_PM1_SCI_EN | 0x0006 | VACPI_PM1_SLP_TYP_MASK));
	pm->cnt |= VACPI_PM1_SCI_EN;
	if (v & VACPI_PM1_SLP_EN) {
		unsigned typ = (v & VACPI_PM1_SLP_TYP_MASK) >> VACPI_PM1_SLP_TYP_SHIFT;
		if (typ == pm->cfg.slp_typ_s5)
			request_stop(pm, VM_STOP_POWER_OFF);
		else
			klog("vm %s: sleep type %u requested; only S5 (%u) is supported, ignored",
			     pm->env->vm_name, typ, pm->cfg.slp_typ_s5);
	}
	update_sci(pm);
}

static int evt_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vacpi_pm *pm = dev;
	uint32_t block = status(pm) | (uint32_t)pm->en << 16;
	*val = vdev_extract(block, (unsigned)(port - pm->cfg.pm1a_evt), size);
	return 0;
}

static int evt_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vacpi_pm *pm = dev;
	unsigned off = (unsigned)(port - pm->cfg.pm1a_evt);
	for (unsigned i = 0; i < size && off + i < 4; i++) {
		unsigned byte = (val >> (8 * i)) & 0xFF, at = off + i;
		if (at < 2) { /* PM1_STS: write 1 to clear */
			uint16_t clear = (uint16_t)(byte << (8 * at));
			pm->sts &= (uint16_t)~clear;
			if (clear & VACPI_PM1_TMR_STS)
				pm->tmr_sts_base = ticks(pm);
		} else {
			unsigned sh = 8 * (at - 2);
			pm->en = (uint16_t)((pm->en & ~(0xFFu << sh)) | (byte << sh));
		}
	}
	pm->en &= 0x0721; /* TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN */
	update_sci(pm);
	return 0;
}

static int cnt_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vacpi_pm *pm = dev;
	*val = vdev_extract(pm->cnt, (unsigned)(port - pm->cfg.pm1a_cnt), size);
	return 0;
}

static int cnt_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vacpi_pm *pm = dev;
	unsigned off = (unsigned)(port - pm->cfg.pm1a_cnt);
	uint32_t v = pm->cnt & ~VACPI_PM1_SLP_EN;
	for (unsigned i = 0; i < size && off + i < 2; i++) {
		unsigned sh = 8 * (off + i);
		v = (v & ~(0xFFu << sh)) | (((val >> (8 * i)) & 0xFF) << sh);
	}
	write_cnt(pm, (uint16_t)v);
	return 0;
}

static int tmr_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vacpi_pm *pm = dev;
	*val = vdev_extract(vacpi_pm_timer(pm), (unsigned)(port - pm->cfg.pm_tmr), size);
	return 0;
}

static int ignore_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	(void)dev, (void)port, (void)size, (void)val;
	return 0; /* the PM timer is read-only */
}

/* Reset control register (Intel ICH/PCH data sheets, "Reset Control Register (CF9h)"): bit 1
 * SYS_RST selects hard or soft, bit 2 RST_CPU starts it; bit 3 FULL_RST. A write of 0x06 or
 * 0x0E (the FADT's RESET_VALUE, or Linux's reboot=pci) resets. */
static int rst_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vacpi_pm *pm = dev;
	(void)port, (void)size;
	*val = pm->reset_reg;
	return 0;
}

static int rst_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vacpi_pm *pm = dev;
	(void)port, (void)size;
	pm->reset_reg = (uint8_t)(val & 0x0A);
	if (val & 0x04)
		request_stop(pm, VM_STOP_RESET);
	return 0;
}

static const struct io_ops evt_ops = { .read = evt_read, .write = evt_write };
static const struct io_ops cnt_ops = { .read = cnt_read, .write = cnt_write };
static const struct io_ops tmr_ops = { .read = tmr_read, .write = ignore_write };
static const struct io_ops rst_ops = { .read = rst_read, .write = rst_write };

int vacpi_pm_register(struct vacpi_pm *pm, struct io_bus *bus)
{
	if (io_bus_register(bus, pm->cfg.pm1a_evt, 4, IO_SIZE_ANY, &evt_ops, pm) ||
	    io_bus_register(bus, pm->cfg.pm1a_cnt, 2, IO_SIZE_ANY, &cnt_ops, pm) ||
	    io_bus_register(bus, pm->cfg.pm_tmr, 4, IO_SIZE_ANY, &tmr_ops, pm) ||
	    io_bus_register(bus, VACPI_RESET_PORT, 1, IO_SIZE_1, &rst_ops, pm))
		return -1;
	return 0;
}
