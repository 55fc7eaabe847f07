/* The MC146818A-compatible RTC and CMOS RAM at ports 0x70/0x71 (index, data), IRQ 8. The time
 * starts at a wall-clock value the host gives and advances with guest time. Byte 0x32 is the
 * century (the FADT's CENTURY field must say so). */
#ifndef KEEL_VDEV_RTC_CMOS_H
#define KEEL_VDEV_RTC_CMOS_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define VRTC_INDEX_PORT 0x70
#define VRTC_DATA_PORT 0x71
#define VRTC_IRQ 8
#define VRTC_CENTURY_REG 0x32
#define VRTC_CMOS_SIZE 128

struct vrtc_time {
	uint8_t sec, min, hour; /* 0-59, 0-59, 0-23 */
	uint8_t day, mon;	/* 1-31, 1-12 */
	uint16_t year;		/* e.g. 2026 */
};

struct vrtc_cmos {
	const struct vdev_env *env;
	uint8_t index;
	bool nmi_disabled; /* port 0x70 bit 7 */
	uint8_t reg_a, reg_b, reg_c;
	int64_t base_secs; /* seconds since 1970-01-01 at base_ns */
	uint64_t base_ns;
	int64_t frozen_secs; /* the time while register B.SET holds updates */
	uint64_t flags_ns;   /* register C's update/periodic flags cover events up to here */
	bool irq_level;
	uint8_t alarm[3];		    /* seconds, minutes, hours alarm, as written */
	uint8_t ram[VRTC_CMOS_SIZE - 0x0E]; /* 0x0E-0x7F */
	struct vrtc_time initial;
};

/* when: the wall-clock time at the current guest time (invalid fields are clamped). */
void vrtc_init(struct vrtc_cmos *rtc, const struct vdev_env *env, const struct vrtc_time *when);
void vrtc_reset(struct vrtc_cmos *rtc);
int vrtc_register(struct vrtc_cmos *rtc, struct io_bus *bus);
/* The time the RTC shows now. */
void vrtc_now(const struct vrtc_cmos *rtc, struct vrtc_time *out);
/* Raises IRQ 8 when an enabled periodic or update-ended event happened since the last call. */
void vrtc_update(struct vrtc_cmos *rtc);
/* When the next enabled periodic or update-ended interrupt is due, or UINT64_MAX. */
uint64_t vrtc_next_event_ns(const struct vrtc_cmos *rtc);
/* Port 0x70 bit 7: the guest asked for NMIs to be masked. */
bool vrtc_nmi_disabled(const struct vrtc_cmos *rtc);

#endif
