/* The 8254 programmable interval timer at ports 0x40-0x43, and port 0x61 (NMI status and control:
 * channel 2's gate and output, as Linux's PIT calibration reads them). Channel 0 drives IRQ0.
 * Counters are computed from guest time when read: nothing ticks. */
#ifndef KEEL_VDEV_PIT8254_H
#define KEEL_VDEV_PIT8254_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define VPIT_HZ 1193182u
#define VPIT_BASE 0x40
#define VPIT_PORT_61 0x61
#define VPIT_IRQ 0

struct vpit_channel {
	uint8_t mode, rw; /* control word fields (8254 data sheet, control word format) */
	bool bcd;
	bool loaded;	/* a full count was written since the control word */
	bool counting;	/* the clock runs into the counter (gate, trigger) */
	bool triggered; /* modes 1 and 5: a gate rising edge started the count */
	bool gate;
	bool null_count;
	uint32_t period;     /* the count as a number of clocks, 1..65536 (10000 in BCD) */
	uint64_t start;	     /* absolute PIT tick at which the counter held period */
	uint64_t frozen;     /* clocks counted when counting stopped */
	uint64_t edges_seen; /* OUT rising edges already turned into IRQ0 pulses */
	uint8_t write_lo;
	bool write_hi_next, read_hi_next;
	uint8_t latch_reads; /* bytes of a latched count left to read */
	bool latch_hi_next;
	uint16_t latch;
	bool status_latched;
	uint8_t status;
};

struct vpit8254 {
	const struct vdev_env *env;
	struct vpit_channel ch[3];
	uint8_t port61; /* bits 0-3 as written */
};

void vpit_init(struct vpit8254 *pit, const struct vdev_env *env);
void vpit_reset(struct vpit8254 *pit);
int vpit_register(struct vpit8254 *pit, struct io_bus *bus);
/* Pulses IRQ0 when channel 0's output rose since the last call (several rises: one pulse). */
void vpit_update(struct vpit8254 *pit);
/* When channel 0's next rising edge is due (guest ns), or UINT64_MAX when none is coming. */
uint64_t vpit_next_event_ns(struct vpit8254 *pit);

#endif
