/* A guest's breakpoint registers that live in the CPU rather than in the VMCB or VMCS: DR0-DR3
 * (breakpoint addresses) on both backends, and DR6 (debug status) on VT-x, which has no VMCS
 * field for it (Intel SDM vol 3, 18.2; AMD-V keeps DR6 and DR7 in the VMCB, AMD APM vol 2,
 * appendix B). keel does not use these registers itself, intercepts no MOV DR (but MOV to DR7 on
 * AMD-V under QEMU's TCG: arch/x86/svm/tcg_dr7.h), and never runs with a breakpoint enabled: a
 * VM exit sets DR7 to 0x400 (SDM vol 3C, 28.5.1) and #VMEXIT disables every breakpoint in the
 * host's DR7 (AMD APM vol 2, 15.6), while the guest's DR7 is
 * switched by the CPU itself (VMCB DR7; VMCS guest DR7 with the debug-controls VM-entry and
 * VM-exit controls). So a guest's values simply stay in the registers across its exits, and the
 * backends save them when another vCPU gets the CPU and load them when this one gets it back
 * (virt_ops vcpu_save_cpu and vcpu_load_cpu, called by core/sched.c), as the FPU state is. */
#ifndef KEEL_ARCH_X86_DEBUGREG_H
#define KEEL_ARCH_X86_DEBUGREG_H

#include "lib/types.h"

#define DR6_RESET 0xffff0ff0ull /* after RESET or INIT (SDM vol 3, table 10-1) */
#define DR7_RESET 0x400ull

/* DR7 (SDM vol 3B, 18.2.4; AMD APM vol 2, 13.1.1.5): L0/G0 ... L3/G3 enable breakpoint n in bits
 * 2n and 2n+1; LE and GE (bits 8, 9) are ignored by today's CPUs; bit 10 reads as 1; GD (bit 13)
 * makes every MOV DR raise #DB; R/Wn and LENn are the 2-bit fields at 16 + 4n and 18 + 4n.
 * Bits 11, 12, 14 and 15 are reserved (bit 11 is Intel's RTM, which a guest is not offered);
 * bits 63:32 must be zero, a MOV writing them raises #GP. */
#define DR7_ENABLES 0xffull
#define DR7_GE (1ull << 9)
#define DR7_FIXED_1 (1ull << 10)
#define DR7_GD (1ull << 13)
#define DR7_WRITABLE 0xffff23ffull
#define DR7_ENABLED(dr7, n) (((dr7) >> (2 * (n))) & 3)
#define DR7_RW(dr7, n) (((dr7) >> (16 + 4 * (n))) & 3)
#define DR7_LEN(dr7, n) (((dr7) >> (18 + 4 * (n))) & 3)
#define DR7_RW_EXEC 0 /* instruction breakpoint; R/W 1 data writes, 2 I/O, 3 data reads/writes */
#define DR7_RW_IO 2

/* What a MOV to DR7 of val leaves in DR7: false when val sets bits 63:32 (#GP, DR7 unchanged);
 * reserved bits are dropped and bit 10 set, as they read on the CPU. */
static inline bool dr7_from_write(uint64_t val, uint64_t *dr7)
{
	if (val >> 32)
		return false;
	*dr7 = (val & DR7_WRITABLE) | DR7_FIXED_1;
	return true;
}

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
/* DR0-DR3 as they are in the CPU now. */
void guest_dregs_read(uint64_t dr[4]);
/* The registers into d: the vCPU leaves the CPU. */
void guest_dregs_save(struct guest_dregs *d);
/* d into the registers: the vCPU gets the CPU. */
void guest_dregs_load(struct guest_dregs *d);
/* Just before entering the guest: loads d if a reset left it newer than the registers. */
void guest_dregs_sync(struct guest_dregs *d);

#endif
