/* Where each vCPU runs (the policy core/sched.h describes), as a pure function so the host's unit
 * tests can hold it to the policy: pinned vCPUs where they are pinned; every other vCPU, in
 * order, on the usable CPU with the fewest vCPUs so far (the lowest number on a tie), so each
 * vCPU has a CPU of its own while they last and the rest are spread evenly. */
#ifndef KEEL_CORE_PLACEMENT_H
#define KEEL_CORE_PLACEMENT_H

#include "lib/types.h"

/* nr vCPUs: pins[i] is the CPU vCPU i is pinned to, or -1; usable[c] says whether CPU c (of
 * ncpu, CPU 0 the boot CPU, always usable) runs vCPUs. Writes each vCPU's CPU to cpu_of[i] and
 * the number of vCPUs per CPU to load[c]. A pin to an unusable CPU or one past ncpu is the
 * caller's to refuse first (hv_vcpu_pin does). */
void placement_assign(const int *pins, unsigned nr, const bool *usable, unsigned ncpu,
		      unsigned *cpu_of, unsigned *load);

#endif
