#include "core/placement.h"

void placement_assign(const int *pins, unsigned nr, const bool *usable, unsigned ncpu,
		      unsigned *cpu_of, unsigned *load)
{
	for (unsigned c = 0; c < ncpu; c++)
		load[c] = 0;
	/* pinned vCPUs first, so the others keep away from their CPUs */
	for (unsigned i = 0; i < nr; i++)
		if (pins[i] >= 0 && (unsigned)pins[i] < ncpu) {
			cpu_of[i] = (unsigned)pins[i];
			load[cpu_of[i]]++;
		}
	for (unsigned i = 0; i < nr; i++) {
		if (pins[i] >= 0 && (unsigned)pins[i] < ncpu)
			continue;
		unsigned best = 0;
		for (unsigned c = 1; c < ncpu; c++)
			if (usable[c] && load[c] < load[best])
				best = c;
		cpu_of[i] = best;
		load[best]++;
	}
}
