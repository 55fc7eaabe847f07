/* Which MSRs a guest may touch and how (DESIGN.md: every guest value is checked). The lookup is
 * pure logic, host-tested and fuzzed; core/vm_run.c carries the actions out. An MSR that is not
 * listed gets #GP and one log line (issue: never a keel crash). */
#ifndef KEEL_CORE_MSR_POLICY_H
#define KEEL_CORE_MSR_POLICY_H

#include "lib/types.h"

enum msr_action {
	MSR_GP,		/* not offered: #GP */
	MSR_EFER,	/* guest EFER, validated on write */
	MSR_PAT,	/* guest PAT, validated on write */
	MSR_TSC,	/* read: guest TSC; write: moves the TSC offset */
	MSR_APIC,	/* IA32_APIC_BASE, x2APIC 0x800-0x8FF and TSC_DEADLINE: the local APIC */
	MSR_READ_ZERO,	/* reads 0, writes ignored: harmless model-specific status MSRs */
	MSR_READ_ZERO_GP_WRITE, /* reads 0, writes #GP */
	MSR_MISC_ENABLE,/* reads fast-strings only, writes of the same value accepted */
};

enum msr_action msr_policy_lookup(uint32_t msr);

#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_IA32_PAT 0x277
#define MSR_IA32_EFER 0xc0000080
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

/* EFER bits a guest may set: SCE, LME, LMA (checked against LME), NXE, and FFXSR when the CPU has
 * it (AMD APM vol 2, 3.1.7). Returns true when new_efer is acceptable. */
bool efer_write_ok(uint64_t new_efer, bool nx_supported, bool ffxsr_supported);
/* Every PAT entry must be a defined memory type: 0, 1, 4, 5, 6 or 7 (Intel SDM vol 3, 12.12.2). */
bool pat_write_ok(uint64_t pat);

#endif
