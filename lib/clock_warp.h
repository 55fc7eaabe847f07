/* A clock read on several CPUs at once, each read ordered after the one before it by a lock:
 * a read lower than the one before it, made on another CPU, is a step back (a warp). This is how
 * keel checks at boot that the host TSC is in step on every CPU (arch/x86/tsc_sync.c), the way
 * Linux checks its own TSCs. Freestanding: compiler atomics only. */
#ifndef KEEL_LIB_CLOCK_WARP_H
#define KEEL_LIB_CLOCK_WARP_H

#include "lib/types.h"

struct clock_warp {
	uint64_t (*read)(void); /* the clock */
	/* a ticket lock: fair, so reads pass between the CPUs (a test-and-set lock lets one CPU
	 * take it again and again, and the check then compares a CPU with itself) */
	unsigned next_ticket, serving;
	uint64_t last;	   /* the latest read, under the lock */
	unsigned last_cpu; /* who made it */
	bool any;	   /* last holds a read */
	uint64_t max_back; /* the largest step back seen */
	unsigned warps;	   /* how many reads stepped back */
	unsigned handoffs; /* reads that followed another CPU's: the check means something */
	unsigned arrived;  /* CPUs at the start line */
};

void clock_warp_init(struct clock_warp *w, uint64_t (*read)(void));

/* One read of the clock on CPU cpu, ordered after every read before it. */
void clock_warp_read(struct clock_warp *w, unsigned cpu);

/* Run by each of `cpus` CPUs at once (cpu: its own number): waits until all have arrived, then
 * reads the clock `rounds` times. Returns false when the others never came (after `patience`
 * polls), true when it ran its rounds. */
bool clock_warp_run(struct clock_warp *w, unsigned cpu, unsigned cpus, unsigned rounds,
		    unsigned long patience);

#endif
