/* The checks VM entry makes on the guest-state area (Intel SDM vol 3C, 27.3.1 "Checks on the
 * Guest State Area"), done by keel itself when an entry fails with "invalid guest state", so the
 * log names the field instead of just the exit reason. Pure logic: host-tested. Covers the rules
 * that keel's own state can break (control registers, EFER, RFLAGS, segment registers in
 * protected, long and unrestricted real mode, descriptor tables, RIP, activity and
 * interruptibility, the VMCS link pointer); virtual-8086 mode and SMM are not keel's. */
#ifndef KEEL_ARCH_X86_VMX_GUEST_STATE_H
#define KEEL_ARCH_X86_VMX_GUEST_STATE_H

#include "lib/types.h"

enum { VGS_ES, VGS_CS, VGS_SS, VGS_DS, VGS_FS, VGS_GS, VGS_LDTR, VGS_TR, VGS_NR_SEGS };

struct vmx_guest_state {
	uint64_t cr0, cr3, cr4, efer, rflags, dr7, rip;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool unrestricted; /* secondary control "unrestricted guest" */
	bool ia32e;	   /* VM-entry control "IA-32e mode guest" */
	bool load_efer;	   /* VM-entry control "load IA32_EFER" */
	struct {
		uint16_t sel;
		uint32_t ar; /* VMCS access rights: bit 16 = unusable */
		uint32_t limit;
		uint64_t base;
	} seg[VGS_NR_SEGS];
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint32_t activity, interruptibility;
	uint64_t link_pointer;
};

/* NULL when the state passes every check; else why not, naming the field, in buf. */
const char *vmx_check_guest_state(const struct vmx_guest_state *g, char *buf, size_t size);

#endif
