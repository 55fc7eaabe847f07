/* keel's clock: the TSC, calibrated once at boot against a known delay. */
#ifndef KEEL_ARCH_X86_TIME_H
#define KEEL_ARCH_X86_TIME_H

#include "lib/types.h"

/* Records that the TSC ticks tsc_hz times a second; time 0 is now. */
void time_init(uint64_t tsc_hz);
uint64_t time_tsc_hz(void);
/* Microseconds since time_init (0 before it). */
uint64_t time_now_us(void);
/* Nanoseconds since time_init. */
uint64_t time_now_ns(void);
/* Spins for at least us microseconds. */
void time_delay_us(uint64_t us);

#endif
