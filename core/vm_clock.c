#include "core/vm_clock.h"

void vm_clock_start(struct vm_clock *c, uint64_t host_tsc, uint64_t tsc_hz, bool stable)
{
	*c = (struct vm_clock){
		.host_tsc0 = host_tsc,
		.tsc_hz = tsc_hz,
		.scale = pvclock_scale_for(tsc_hz),
		.stable = stable,
		.tsc_offset = (uint64_t)0 - host_tsc,
		.write_value = 0,
		.write_host_tsc = host_tsc,
	};
}

/* Ticks since guest time 0; a host TSC read a little behind (another CPU's, a moment before
 * the start) counts as 0 rather than as a wrap to the far future. */
static uint64_t ticks_since_zero(uint64_t ticks)
{
	return (int64_t)ticks < 0 ? 0 : ticks;
}

uint64_t vm_clock_ns(const struct vm_clock *c, uint64_t host_tsc)
{
	return pvclock_scale_apply(c->scale, ticks_since_zero(host_tsc - c->host_tsc0));
}

uint64_t vm_clock_tsc_ns(const struct vm_clock *c, uint64_t guest_tsc)
{
	return pvclock_scale_apply(c->scale, ticks_since_zero(guest_tsc - vm_clock_tsc_at_zero(c)));
}

uint64_t vm_clock_tsc_at_zero(const struct vm_clock *c)
{
	return c->host_tsc0 + c->tsc_offset;
}

bool vm_clock_write_tsc(struct vm_clock *c, uint64_t value, uint64_t host_tsc)
{
	/* where the TSC the last setting started would be now; a write within a second of it
	 * synchronises (modular: TSC values wrap, the distance is what counts) */
	uint64_t expected = c->write_value + (host_tsc - c->write_host_tsc);
	uint64_t distance = value - expected;
	if ((int64_t)distance < 0)
		distance = (uint64_t)0 - distance;
	if (distance < c->tsc_hz)
		return false;
	c->tsc_offset = value - host_tsc;
	c->write_value = value;
	c->write_host_tsc = host_tsc;
	c->tsc_gen++;
	return true;
}
