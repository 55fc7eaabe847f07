/* ASIDs for SVM: which TLB tag a vCPU runs with on a physical CPU (AMD APM vol 2, 15.16 "TLB
 * Control"). A tag names one vCPU's translations on one CPU (DESIGN.md), and a CPU has only
 * CPUID Fn8000_000A EBX of them (ASID 0 is the host's), which may be far fewer than the vCPUs it
 * runs: a nested hypervisor may offer 8 or 16. So each CPU hands its ASIDs out in generations,
 * as Linux KVM's SVM backend does: when the pool is used up, the CPU starts a new generation,
 * flushes every ASID's entries (TLB_CONTROL = 1) on its next VMRUN and hands out ASID 1 again.
 * A vCPU holds its ASID only while it stays on the CPU it got it from, in the generation it got
 * it in; else it takes a fresh one before VMRUN. No two vCPUs ever hold one ASID on one CPU in a
 * generation, and an ASID is only handed out again after a flush of everything.
 * Pure logic (no privileged instruction): host-tested (tests/unit/test_svm_asid.c). Each struct
 * asid_cpu is touched only by its own CPU, so there is no locking. */
#ifndef KEEL_ARCH_X86_SVM_ASID_H
#define KEEL_ARCH_X86_SVM_ASID_H

#include "lib/types.h"

#define ASID_NO_CPU 0xffffffffu

struct asid_cpu {
	uint64_t generation; /* starts at 1: 0 means "never had an ASID" in struct asid_vcpu */
	uint32_t next;	     /* the next ASID to hand out; past max: the pool is used up */
	uint32_t max;	     /* the highest ASID: CPUID's count - 1 */
	bool flush_all;	     /* a new generation began: flush every ASID on the next VMRUN */
};

struct asid_vcpu {
	uint64_t generation; /* of the CPU it got its ASID from */
	uint32_t cpu;	     /* that CPU's index, or ASID_NO_CPU */
	uint32_t asid;
};

/* nr_asids as CPUID Fn8000_000A EBX reports it; -1 when there is no guest ASID (fewer than 2).
 * The first assignment on the CPU starts a generation, so whatever the TLB held before keel
 * (firmware, an earlier hypervisor) is flushed before any guest runs. */
int asid_cpu_init(struct asid_cpu *c, uint32_t nr_asids);

/* A vCPU that has not run yet, or that will next run elsewhere: it takes a fresh ASID then. */
void asid_vcpu_reset(struct asid_vcpu *v);

/* Just before VMRUN of vCPU v on CPU cpu_index (whose state c is): keeps v's ASID when it got it
 * here in the current generation, else hands it the next one (starting a new generation when the
 * pool is used up). Returns true when this VMRUN must flush every ASID (TLB_CONTROL = 1); the
 * ASID to run with is then in v->asid. */
bool asid_assign(struct asid_cpu *c, uint32_t cpu_index, struct asid_vcpu *v);

#endif
