#include "drivers/cmos_rtc.h"

/* A BCD or binary register value; -1 for a BCD byte with a digit above 9. */
static int value(uint8_t v, bool binary)
{
	if (binary)
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

int cmos_rtc_decode(const struct cmos_rtc_regs *r, struct wall_time *t)
{
	bool bin = r->reg_b & CMOS_B_BINARY;
	bool pm = !(r->reg_b & CMOS_B_24H) && (r->hour & 0x80);
	int sec = value(r->second, bin), min = value(r->minute, bin);
	int hour = value(r->hour & (r->reg_b & CMOS_B_24H ? 0xff : 0x7f), bin);
	int day = value(r->day, bin), mon = value(r->month, bin), year = value(r->year, bin);
	int cent = r->century ? value(r->century, bin) : 20;

	if (!(r->reg_b & CMOS_B_24H)) {
		if (hour < 1 || hour > 12)
			return -1;
		hour = hour % 12 + (pm ? 12 : 0); /* 12 AM is 0:xx, 12 PM is 12:xx */
	}
	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 || hour > 23 || day < 1 ||
	    day > 31 || mon < 1 || mon > 12 || year < 0 || year > 99 || cent < 19 || cent > 99)
		return -1;
	*t = (struct wall_time){ (uint16_t)(cent * 100 + year),
				 (uint8_t)mon,
				 (uint8_t)day,
				 (uint8_t)hour,
				 (uint8_t)min,
				 (uint8_t)sec };
	return 0;
}
