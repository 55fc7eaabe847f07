/* A guest's breakpoint registers that live in the CPU rather than in the VMCB or VMCS: DR0-DR3
 * (breakpoint addresses) on both backends, and DR6 (debug status) on VT-x, which has no VMCS
 * field for it (Intel SDM vol 3, 18.2; AMD-V keeps DR6 and DR7 in the VMCB, AMD APM vol 2,
 * appendix B). keel neither intercepts MOV DR nor uses these registers itself, and it never runs
 * with a breakpoint enabled: a VM exit sets DR7 to 0x400 (SDM vol 3C, 28.5.1) and #VMEXIT
 * disables every breakpoint in the host's DR7 (AMD APM vol 2, 15.6), while the guest's DR7 is
 * switched by the CPU itself (VMCB DR7; VMCS guest DR7 with the debug-controls VM-entry and
 * VM-exit controls). So a guest's values simply stay in the registers across its exits, and the
 * backends save them when another vCPU gets the CPU and load them when this one gets it back
 * (virt_ops vcpu_save_cpu and vcpu_load_cpu, called by core/sched.c), as the FPU state is. */
#ifndef KEEL_ARCH_X86_DEBUGREG_H
#define KEEL_ARCH_X86_DEBUGREG_H

#include "lib/types.h"

#define DR6_RESET 0xffff0ff0ull /* after RESET or INIT (SDM vol 3, table 10-1) */
#define DR7_RESET 0x400ull

struct guest_dregs {
	uint64_t dr[4];
	uint64_t dr6;
	bool has_dr6; /* DR6 is the CPU's too (VT-x); set once by the backend */
	/* dr[] and dr6 are newer than the registers: the guest was reset (boot, INIT) while its
	 * vCPU held the CPU, so they go to the registers before its next entry */
	bool pending;
};

/* The power-on values: DR0-DR3 zero, DR6 0xFFFF0FF0. */
void guest_dregs_reset(struct guest_dregs *d);
/* The registers into d: the vCPU leaves the CPU. */
void guest_dregs_save(struct guest_dregs *d);
/* d into the registers: the vCPU gets the CPU. */
void guest_dregs_load(struct guest_dregs *d);
/* Just before entering the guest: loads d if a reset left it newer than the registers. */
void guest_dregs_sync(struct guest_dregs *d);

#endif
