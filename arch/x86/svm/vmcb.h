/* VMCB layout (AMD APM vol 2, appendix B "Layout of VMCB"): the control area at 0x000 and the
 * state-save area at 0x400, accessed by offset so the layout is visible in one table. */
#ifndef KEEL_ARCH_X86_SVM_VMCB_H
#define KEEL_ARCH_X86_SVM_VMCB_H

#include "lib/types.h"

/* control area */
#define VMCB_INTERCEPT_CR 0x000 /* reads 0-15, writes 16-31 */
#define VMCB_INTERCEPT_DR 0x004
#define VMCB_INTERCEPT_EXC 0x008
#define VMCB_INTERCEPT_MISC1 0x00c
#define VMCB_INTERCEPT_MISC2 0x010
#define VMCB_INTERCEPT_MISC3 0x014 /* intercept vector 5 */
#define VMCB_IOPM_BASE 0x040
#define VMCB_MSRPM_BASE 0x048
#define VMCB_TSC_OFFSET 0x050
#define VMCB_ASID 0x058
#define VMCB_TLB_CONTROL 0x05c
#define VMCB_V_INTR                                                                                \
	0x060 /* V_TPR 0-7, V_IRQ 8, V_INTR_PRIO 16-19, V_IGN_TPR 20, V_INTR_MASKING 24 */
#define VMCB_V_INTR_VECTOR 0x064
#define VMCB_INT_STATE 0x068 /* bit 0: interrupt shadow */
#define VMCB_EXITCODE 0x070
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
#define VMCB_EXITINTINFO 0x088
#define VMCB_NP_ENABLE 0x090
#define VMCB_EVENTINJ 0x0a8
#define VMCB_NCR3 0x0b0
#define VMCB_CLEAN 0x0c0
#define VMCB_PAUSE_FILTER_COUNT 0x03e
#define VMCB_NRIP 0x0c8
#define VMCB_INSN_LEN 0x0d0
#define VMCB_INSN_BYTES 0x0d1

/* state-save area */
#define VMCB_ES 0x400
#define VMCB_CS 0x410
#define VMCB_SS 0x420
#define VMCB_DS 0x430
#define VMCB_FS 0x440
#define VMCB_GS 0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR 0x490
#define VMCB_CPL 0x4cb
#define VMCB_EFER 0x4d0
#define VMCB_CR4 0x548
#define VMCB_CR3 0x550
#define VMCB_CR0 0x558
#define VMCB_DR7 0x560
#define VMCB_DR6 0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP 0x578
#define VMCB_RSP 0x5d8
#define VMCB_RAX 0x5f8
#define VMCB_STAR 0x600
#define VMCB_LSTAR 0x608
#define VMCB_CSTAR 0x610
#define VMCB_SFMASK 0x618
#define VMCB_KERNEL_GS_BASE 0x620
#define VMCB_SYSENTER_CS 0x628
#define VMCB_SYSENTER_ESP 0x630
#define VMCB_SYSENTER_EIP 0x638
#define VMCB_CR2 0x640
#define VMCB_G_PAT 0x668

/* segment register layout inside the save area: selector, attrib, limit, base */
#define VMCB_SEG_SEL 0
#define VMCB_SEG_ATTR 2
#define VMCB_SEG_LIMIT 4
#define VMCB_SEG_BASE 8

/* intercept vectors 3, 4 and 5 (AMD APM vol 2, appendix B, table B-1 "VMCB Layout, Control
 * Area": offsets 0x0C, 0x10, 0x14) */
/* intercept vector 3 (MISC1) */
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_SMI (1u << 2)
#define INTERCEPT_INIT (1u << 3)
#define INTERCEPT_VINTR (1u << 4)
#define INTERCEPT_RDTSC (1u << 14)
#define INTERCEPT_RDPMC (1u << 15)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_IRET (1u << 20)
#define INTERCEPT_INVD (1u << 22)
#define INTERCEPT_PAUSE (1u << 23)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_INVLPGA (1u << 26)
#define INTERCEPT_IOIO (1u << 27)
#define INTERCEPT_MSR (1u << 28)
#define INTERCEPT_TASK_SWITCH (1u << 29)
#define INTERCEPT_SHUTDOWN (1u << 31)
/* intercept vector 4 (MISC2) */
#define INTERCEPT_VMRUN (1u << 0)
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD (1u << 2)
#define INTERCEPT_VMSAVE (1u << 3)
#define INTERCEPT_STGI (1u << 4)
#define INTERCEPT_CLGI (1u << 5)
#define INTERCEPT_SKINIT (1u << 6)
#define INTERCEPT_RDTSCP (1u << 7)
#define INTERCEPT_ICEBP (1u << 8)
#define INTERCEPT_WBINVD (1u << 9)
#define INTERCEPT_MONITOR (1u << 10)
#define INTERCEPT_MWAIT (1u << 11)
#define INTERCEPT_XSETBV (1u << 13)
#define INTERCEPT_RDPRU (1u << 14)
/* intercept vector 5 (MISC3) */
#define INTERCEPT_INVPCID (1u << 2)

/* exit codes (AMD APM vol 2, appendix C) */
#define SVM_EXIT_CR0_WRITE 0x010
#define SVM_EXIT_CR4_WRITE 0x014
#define SVM_EXIT_CR8_WRITE 0x018 /* WRITE_CR0 (0x010) + 8 */
#define SVM_EXIT_DR7_WRITE 0x037 /* WRITE_DR0 (0x030) + 7 */
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_SMI 0x062
#define SVM_EXIT_INIT 0x063
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_RDTSC 0x06e
#define SVM_EXIT_RDPMC 0x06f
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_IRET 0x074
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_PAUSE 0x077
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPG 0x079
#define SVM_EXIT_INVLPGA 0x07a
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_TASK_SWITCH 0x07d
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_RDTSCP 0x087
#define SVM_EXIT_ICEBP 0x088
#define SVM_EXIT_WBINVD 0x089
#define SVM_EXIT_MONITOR 0x08a
#define SVM_EXIT_MWAIT 0x08b
#define SVM_EXIT_MWAIT_COND 0x08c
#define SVM_EXIT_XSETBV 0x08d
#define SVM_EXIT_RDPRU 0x08e
#define SVM_EXIT_INVPCID 0x0a2
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffu /* compare the low 32 bits (EMULATION.md) */

/* EVENTINJ / EXITINTINFO (AMD APM vol 2, 15.20) */
#define SVM_EVT_VALID (1u << 31)
#define SVM_EVT_ERR_VALID (1u << 11)
#define SVM_EVT_TYPE_MASK (7u << 8)
#define SVM_EVT_TYPE_INTR (0u << 8)
#define SVM_EVT_TYPE_NMI (2u << 8)
#define SVM_EVT_TYPE_EXC (3u << 8)
#define SVM_EVT_TYPE_SOFT (4u << 8)

/* MSRs */
#define MSR_VM_CR 0xc0010114
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xc0010117

static inline uint64_t *vmcb64(void *vmcb, unsigned off)
{
	return (uint64_t *)((uint8_t *)vmcb + off);
}
static inline uint32_t *vmcb32(void *vmcb, unsigned off)
{
	return (uint32_t *)((uint8_t *)vmcb + off);
}
static inline uint16_t *vmcb16(void *vmcb, unsigned off)
{
	return (uint16_t *)((uint8_t *)vmcb + off);
}
static inline uint8_t *vmcb8(void *vmcb, unsigned off)
{
	return (uint8_t *)vmcb + off;
}

#endif
