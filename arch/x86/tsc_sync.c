#include "arch/x86/tsc_sync.h"

#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "lib/clock_warp.h"
#include "lib/log.h"

#define CPUID_APM_INVARIANT_TSC (1u << 8) /* CPUID 0x80000007 EDX */
/* reads per CPU and pair: a few milliseconds where both CPUs run at once */
#define WARP_ROUNDS 20000
/* polls for the other CPU to arrive: seconds on the slowest emulator, never forever */
#define WARP_PATIENCE 50000000ul
#define WARP_WAIT_US 10000000 /* for the AP to finish its rounds once the boot CPU has */

static bool stable;
static struct clock_warp warp;

/* RDTSC may run before earlier instructions finish; LFENCE first keeps each read after the
 * lock was taken (Intel SDM vol 2, RDTSC). */
static uint64_t rdtsc_ordered(void)
{
	__asm__ volatile("lfence" ::: "memory");
	return rdtsc();
}

static void warp_job(void *arg)
{
	(void)arg;
	clock_warp_run(&warp, this_cpu()->index, 2, WARP_ROUNDS, WARP_PATIENCE);
}

static bool tsc_invariant(void)
{
	return cpuid(0x80000000u, 0).eax >= 0x80000007u &&
	       (cpuid(0x80000007u, 0).edx & CPUID_APM_INVARIANT_TSC);
}

void tsc_sync_check(void)
{
	unsigned cpus = 1, handoffs = 0;

	if (!tsc_invariant()) {
		klog("keel: TSC: not invariant (CPUID 0x80000007 EDX bit 8 clear): kvm-clock is "
		     "offered without the stable bit");
		return;
	}
	for (unsigned i = 1; i < percpu_count(); i++) {
		struct percpu *pc = percpu_get(i);
		if (pc->state != CPU_ONLINE)
			continue;
		clock_warp_init(&warp, rdtsc_ordered);
		bool ran = !smp_post(i, warp_job, NULL) &&
			   clock_warp_run(&warp, 0, 2, WARP_ROUNDS, WARP_PATIENCE);
		if (smp_wait(i, WARP_WAIT_US) || !ran) {
			klog("keel: TSC: cpu %u did not take part in the check: kvm-clock is offered "
			     "without the stable bit",
			     i);
			return;
		}
		if (warp.warps) {
			klog("keel: TSC: cpu %u and cpu 0 are out of step (%u reads stepped back, by up "
			     "to %llu ticks): kvm-clock is offered without the stable bit",
			     i, warp.warps, (unsigned long long)warp.max_back);
			return;
		}
		cpus++;
		handoffs += warp.handoffs;
	}
	stable = true;
	if (cpus == 1)
		klog("keel: TSC: invariant, on the only CPU: kvm-clock is offered stable");
	else
		klog("keel: TSC: invariant and in step on %u CPUs (%u reads passed between CPUs, "
		     "none stepped back): kvm-clock is offered stable",
		     cpus, handoffs);
}

bool tsc_stable(void)
{
	return stable;
}
