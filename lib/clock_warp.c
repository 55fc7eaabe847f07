#include "lib/clock_warp.h"

void clock_warp_init(struct clock_warp *w, uint64_t (*read)(void))
{
	*w = (struct clock_warp){ .read = read };
}

void clock_warp_read(struct clock_warp *w, unsigned cpu)
{
	unsigned ticket = __atomic_fetch_add(&w->next_ticket, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&w->serving, __ATOMIC_ACQUIRE) != ticket)
		__builtin_ia32_pause();
	/* read under the lock: this read comes after the last one in time */
	uint64_t now = w->read();
	if (w->any && now < w->last) {
		w->warps++;
		if (w->last - now > w->max_back)
			w->max_back = w->last - now;
	}
	if (w->any && w->last_cpu != cpu)
		w->handoffs++;
	w->last = now;
	w->last_cpu = cpu;
	w->any = true;
	__atomic_store_n(&w->serving, ticket + 1, __ATOMIC_RELEASE);
}

bool clock_warp_run(struct clock_warp *w, unsigned cpu, unsigned cpus, unsigned rounds,
		    unsigned long patience)
{
	__atomic_add_fetch(&w->arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&w->arrived, __ATOMIC_ACQUIRE) < cpus) {
		if (!patience--)
			return false;
		__builtin_ia32_pause();
	}
	for (unsigned i = 0; i < rounds; i++)
		clock_warp_read(w, cpu);
	return true;
}
