#include "arch/x86/time.h"

#include "arch/x86/cpu.h"

static uint64_t tsc_start;
static uint64_t tsc_hz;

void time_init(uint64_t hz)
{
	tsc_start = rdtsc();
	tsc_hz = hz ? hz : 1000000000ull;
}

uint64_t time_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t time_now_us(void)
{
	if (!tsc_hz)
		return 0;
	uint64_t d = rdtsc() - tsc_start;
	/* split to avoid overflowing d * 1e6 */
	return d / tsc_hz * 1000000ull + d % tsc_hz * 1000000ull / tsc_hz;
}

uint64_t time_now_ns(void)
{
	if (!tsc_hz)
		return 0;
	uint64_t d = rdtsc() - tsc_start;
	return d / tsc_hz * 1000000000ull + d % tsc_hz * 1000000000ull / tsc_hz;
}

void time_delay_us(uint64_t us)
{
	uint64_t end = time_now_us() + us;
	while (time_now_us() < end)
		cpu_relax();
}
