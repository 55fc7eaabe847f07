/* A vCPU's architectural state in a backend-neutral form: what the loaders produce, what INIT/SIPI
 * and reset set, and what the backends load into a VMCB or VMCS. */
#ifndef KEEL_CORE_VCPU_STATE_H
#define KEEL_CORE_VCPU_STATE_H

#include "lib/types.h"

/* General registers in hardware encoding order (ModRM reg numbers). */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	NR_GPRS
};

struct vcpu_regs {
	uint64_t gpr[NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
};

/* Segment attributes packed as in the VMCB (AMD APM vol 2, 15.5.1): descriptor bits 40-47 in
 * 0-7 (type, S, DPL, P) and bits 52-55 in 8-11 (AVL, L, D/B, G). A VMX backend converts. */
#define SEG_ATTR_TYPE(t) ((t)&0xf)
#define SEG_ATTR_S (1u << 4)
#define SEG_ATTR_DPL(d) (((d)&3) << 5)
#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define SEG_ATTR_G (1u << 11)

struct segment {
	uint16_t selector;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
};

struct table_reg {
	uint64_t base;
	uint16_t limit;
};

struct vcpu_sregs {
	struct segment cs, ds, es, fs, gs, ss, tr, ldtr;
	struct table_reg gdtr, idtr;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint64_t pat;
};

#define RFLAGS_FIXED (1ull << 1)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_TF (1ull << 8)

#endif
