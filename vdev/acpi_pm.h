/* ACPI fixed hardware (ACPI 6.4, 4.8 "ACPI Hardware Model"): the PM1a event and control blocks,
 * the PM timer and the reset register the FADT points at (0xCF9, as on Intel chipsets). The ACPI
 * tables keel builds must give the same ports, timer width and \_S5 value as the config here. */
#ifndef KEEL_VDEV_ACPI_PM_H
#define KEEL_VDEV_ACPI_PM_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define VACPI_PM1A_EVT_DEFAULT 0x600 /* 4 bytes: PM1_STS, PM1_EN */
#define VACPI_PM1A_CNT_DEFAULT 0x604 /* 2 bytes: PM1_CNT */
#define VACPI_PM_TMR_DEFAULT 0x608   /* 4 bytes */
#define VACPI_RESET_PORT 0xCF9	     /* FADT RESET_REG; RESET_VALUE 0x06 */
#define VACPI_RESET_VALUE 0x06
#define VACPI_SLP_TYP_S5_DEFAULT 5
#define VACPI_SCI_GSI_DEFAULT 9
#define VACPI_PM_TIMER_HZ 3579545u /* ACPI 6.4, 4.8.2.1 */

/* PM1 status/enable bits (ACPI 6.4, tables 4.16 and 4.17) */
#define VACPI_PM1_TMR_STS 0x0001
#define VACPI_PM1_GBL_STS 0x0020
#define VACPI_PM1_PWRBTN_STS 0x0100
#define VACPI_PM1_SLPBTN_STS 0x0200
#define VACPI_PM1_RTC_STS 0x0400
#define VACPI_PM1_WAK_STS 0x8000
/* PM1 control bits (ACPI 6.4, table 4.18) */
#define VACPI_PM1_SCI_EN 0x0001
#define VACPI_PM1_SLP_TYP_SHIFT 10
#define VACPI_PM1_SLP_TYP_MASK 0x1C00
#define VACPI_PM1_SLP_EN 0x2000

struct vacpi_pm_config {
	uint16_t pm1a_evt, pm1a_cnt, pm_tmr;
	uint8_t slp_typ_s5; /* the SLP_TYPa value of the DSDT's \_S5 package */
	bool timer_32bit;   /* FADT flag TMR_VAL_EXT */
	unsigned sci_gsi;
};

struct vacpi_pm {
	const struct vdev_env *env;
	struct vacpi_pm_config cfg;
	uint16_t sts, en, cnt;
	uint64_t tmr_sts_base; /* timer ticks when TMR_STS was last cleared */
	uint8_t reset_reg;
	bool sci_level;
};

/* cfg NULL: the defaults above. */
void vacpi_pm_init(struct vacpi_pm *pm, const struct vdev_env *env,
		   const struct vacpi_pm_config *cfg);
void vacpi_pm_reset(struct vacpi_pm *pm);
int vacpi_pm_register(struct vacpi_pm *pm, struct io_bus *bus);
/* The PM timer's value now (24 or 32 bits). */
uint32_t vacpi_pm_timer(const struct vacpi_pm *pm);
/* The host asks for a clean shutdown: PWRBTN_STS, and an SCI when the guest enabled it. */
void vacpi_pm_power_button(struct vacpi_pm *pm);

#endif
