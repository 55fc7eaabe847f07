/* The consistency checks VMRUN makes on the guest state it loads (AMD APM vol 2, 15.5.1 "Basic
 * Operation", "Canonicalization and Consistency Checks"), done by keel itself when a VMRUN fails
 * with VMEXIT_INVALID, so the log names the rule instead of just "the CPU refused". Pure logic:
 * host-tested, as arch/x86/vmx/guest_state.c is for VT-x. */
#ifndef KEEL_ARCH_X86_SVM_VMCB_CHECK_H
#define KEEL_ARCH_X86_SVM_VMCB_CHECK_H

#include "lib/types.h"

struct svm_vmcb_state {
	uint64_t cr0, cr3, cr4, efer, dr6, dr7;
	uint16_t cs_attr;	  /* VMCB segment attribute format: L bit 9, D bit 10 */
	uint32_t intercept_misc2; /* intercept vector 4: VMRUN in bit 0 */
	uint32_t asid;
	uint64_t eventinj;
	/* what this CPU has: CR4 and EFER bits that exist (core/cr_policy.h over its own CPUID),
	 * and its physical address width (CPUID 8000_0008 EAX[7:0]) */
	uint64_t cr4_valid, efer_valid;
	unsigned maxphyaddr;
};

/* NULL when VMRUN would accept the state; else the broken rule, naming the field, in buf. */
const char *svm_check_vmcb(const struct svm_vmcb_state *g, char *buf, size_t size);

#endif
