/* The host's MC146818-compatible CMOS real-time clock: decoding what its registers hold (BCD or
 * binary per register B bit 2, 12- or 24-hour per bit 1). The port reads are the boot entry's
 * (boot/mb2/mb2_platform.c); the decoding is pure and host-tested (tests/unit/test_mb2.c). */
#ifndef KEEL_DRIVERS_CMOS_RTC_H
#define KEEL_DRIVERS_CMOS_RTC_H

#include "core/boot_info.h"
#include "lib/types.h"

/* CMOS register indexes (MC146818A data sheet; 0x32 is the PC century byte, which ACPI's FADT
 * CENTURY field names on most machines) */
#define CMOS_SECONDS 0x00
#define CMOS_MINUTES 0x02
#define CMOS_HOURS 0x04
#define CMOS_DAY 0x07
#define CMOS_MONTH 0x08
#define CMOS_YEAR 0x09
#define CMOS_REG_A 0x0a
#define CMOS_REG_B 0x0b
#define CMOS_CENTURY 0x32
#define CMOS_A_UIP 0x80	   /* update in progress: the time registers are changing */
#define CMOS_B_24H 0x02	   /* hours 0-23 (else 1-12 with bit 7 = PM) */
#define CMOS_B_BINARY 0x04 /* binary values (else BCD) */

struct cmos_rtc_regs {
	uint8_t second, minute, hour, day, month, year;
	uint8_t century; /* 0 when the machine has no century byte: 2000-2099 is assumed */
	uint8_t reg_b;
};

/* Decodes and range-checks the registers; 0, or -1 when they do not hold a valid date. */
int cmos_rtc_decode(const struct cmos_rtc_regs *r, struct wall_time *t);

#endif
