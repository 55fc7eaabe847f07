/* Which MSRs a guest may touch and how (DESIGN.md: every guest value is checked). The lookup is
 * pure logic, host-tested and fuzzed; core/exit_msr.c carries the actions out. An MSR that is not
 * listed gets #GP and one log line (issue: never a keel crash). docs/config.md "MSRs a guest
 * sees" gives the reasons, MSR by MSR. */
#ifndef KEEL_CORE_MSR_POLICY_H
#define KEEL_CORE_MSR_POLICY_H

#include "lib/types.h"

enum msr_action {
	MSR_ACT_GP,		/* not offered: #GP */
	MSR_ACT_EFER,		/* guest EFER, validated on write */
	MSR_ACT_PAT,		/* guest PAT, validated on write */
	MSR_ACT_TSC,		/* read: guest TSC; write: moves the TSC offset */
	MSR_ACT_APIC,		/* IA32_APIC_BASE, TSC_DEADLINE, x2APIC: the virtual local APIC */
	MSR_ACT_ZERO,		/* reads 0, writes ignored: harmless model-specific MSRs */
	MSR_ACT_ZERO_RO,	/* reads 0, writes #GP */
	MSR_ACT_ZERO_W0,	/* reads 0, a write of 0 (the value read) accepted, others #GP */
	MSR_ACT_PMU,		/* a performance counter or its event select: reads 0, writes
				 * ignored, counted (no PMU is offered) */
	MSR_ACT_MISC_ENABLE,	/* reads MISC_ENABLE_VALUE, writes of the same value accepted */
	MSR_ACT_TSC_AUX,	/* RDTSCP's auxiliary value, per vCPU */
	MSR_ACT_KVM_WALL_CLOCK, /* kvm-clock (core/kvmclock.h) */
	MSR_ACT_KVM_SYSTEM_TIME,
};

enum msr_action msr_policy_lookup(uint32_t msr);

/* IA32_MISC_ENABLE as a guest reads it (Intel SDM vol 4, table 2-2): fast strings (bit 0), BTS
 * and PEBS unavailable (bits 11, 12); no performance monitoring (7), no MONITOR/MWAIT (18). */
#define MISC_ENABLE_VALUE 0x1801ull

/* RDPMC's counter number in ECX: true for the counters keel offers, which read 0, as the MSRs
 * behind them do (MSR_ACT_PMU): on AMD the four legacy counters every AMD64 CPU has, PerfCtr0-3
 * (AMD APM vol 3, RDPMC; vol 2, 13.2.1); on Intel the two that predate architectural performance
 * monitoring, IA32_PMC0-1 (Intel SDM vol 3, 20.6.1). Any other ECX #GPs, as on a CPU without
 * that counter: CPUID offers neither PerfCtrExtCore nor leaf 0xA counters. */
bool rdpmc_counter_offered(uint32_t ecx, bool amd);

/* EFER writes are checked by core/cr_policy.h efer_write_check. */
/* Every PAT entry must be a defined memory type: 0, 1, 4, 5, 6 or 7 (Intel SDM vol 3, 12.12.2). */
bool pat_write_ok(uint64_t pat);

#endif
