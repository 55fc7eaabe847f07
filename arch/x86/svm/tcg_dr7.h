/* Guest breakpoints under QEMU's TCG with AMD-V.
 *
 * QEMU 7.2's TCG keeps an x86 CPU's breakpoints in a list of its own, which it changes only when a
 * MOV writes DR7 or DR0-DR3 (target/i386 cpu_x86_update_dr7): what it removes is looked up by the
 * breakpoint types in the DR7 it had before. Its VMRUN and #VMEXIT load DR7 straight from the
 * VMCB and the host save area and leave the list alone (svm_helper.c helper_vmrun, do_vmexit).
 * Two vCPUs taking turns on one CPU then leave each other's breakpoints in that list under the
 * other's breakpoint types, and the next MOV to DR7 frees a data watchpoint as an instruction
 * breakpoint: QEMU dies with SIGSEGV in cpu_breakpoint_remove_by_ref (seen in debugregs-sliced,
 * about one run in three with both host cores busy). Real CPUs load DR7 at VMRUN and clear the
 * host's breakpoints at #VMEXIT (AMD APM vol 2, 15.5.1 and 15.7.2), which keel relies on.
 *
 * So on a CPU without NRIPS (which every AMD CPU with SVM since 2010 has, and QEMU's TCG has not),
 * keel keeps QEMU's list in step with DR7: a guest's MOV to DR7 exits (core/exit_dr7.c puts the
 * value in the VMCB), keel writes the guest's DR7 to the host's DR7 right before VMRUN, so that
 * the list holds exactly the guest's breakpoints while it runs, and right after #VMEXIT writes a
 * DR7 that enables nothing and differs in GE, so that every breakpoint goes again under the very
 * types it was added with (arch/x86/svm/svm_run.S). Between the two writes keel runs a few
 * instructions of svm_run.S with the guest's breakpoints live, and reads struct vcpu_regs: a
 * breakpoint on either would be a #DB in keel, so such a breakpoint is left out, and the guest
 * simply does not see it fire under TCG. */
#ifndef KEEL_ARCH_X86_SVM_TCG_DR7_H
#define KEEL_ARCH_X86_SVM_TCG_DR7_H

#include "lib/types.h"

struct tcg_dr7_range {
	uint64_t start, end; /* linear, [start, end) */
};

/* The DR7 to load into the host before VMRUN for a guest whose DR7 is guest_dr7 and whose
 * DR0-DR3 are dr[]: the guest's, with GD clear (a MOV DR in keel would raise #DB), bit 10 set, and
 * without the instruction breakpoints inside code or the data breakpoints touching data (the
 * ones it leaves out are bits of *dropped, breakpoint n as bit n). 0 when the guest enables no
 * breakpoint: nothing to load, nothing to remove after the exit. */
uint64_t tcg_dr7_to_arm(uint64_t guest_dr7, const uint64_t dr[4], struct tcg_dr7_range code,
			struct tcg_dr7_range data, unsigned *dropped);

#endif
