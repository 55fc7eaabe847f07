/* Emulation of a decoded memory access to an emulated device (decode.h).
 *
 * The exit handler decodes the instruction at CS:RIP, checks with x86_mem_linear() (after
 * translating it) that the instruction really accesses the faulting guest-physical address, then
 * calls x86_emulate_mmio(): the access goes to the device through the callbacks, the registers,
 * RFLAGS and RIP change as the CPU would have changed them. Pure logic: no state outside *regs
 * and whatever the callbacks touch. */
#ifndef KEEL_ARCH_X86_EMUL_EMULATE_H
#define KEEL_ARCH_X86_EMUL_EMULATE_H

#include "arch/x86/emul/decode.h"
#include "core/vcpu_state.h"

/* RFLAGS bits (Intel SDM vol 1, 3.4.3) */
#define X86_FLAGS_CF (1ull << 0)
#define X86_FLAGS_PF (1ull << 2)
#define X86_FLAGS_AF (1ull << 4)
#define X86_FLAGS_ZF (1ull << 6)
#define X86_FLAGS_SF (1ull << 7)
#define X86_FLAGS_DF (1ull << 10)
#define X86_FLAGS_OF (1ull << 11)
#define X86_FLAGS_RF (1ull << 16)
#define X86_FLAGS_ARITH                                                                            \
	(X86_FLAGS_CF | X86_FLAGS_PF | X86_FLAGS_AF | X86_FLAGS_ZF | X86_FLAGS_SF | X86_FLAGS_OF)

/* Registers as keel keeps them for every vCPU (core/vcpu_state.h): gpr[] by hardware number. */

/* Device access callbacks; each returns 0, or a negative value that x86_emulate_mmio() returns
 * unchanged (nothing in *regs has changed then). size is 1, 2, 4 or 8; a read fills the low size
 * bytes of *val, the rest zero. */
struct emul_mem_ops {
	int (*read)(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);
	int (*write)(void *ctx, uint64_t gpa, unsigned size, uint64_t val);
	/* MOVS only, which has two memory operands of which either (or both) may be a device:
	 * both go through these, by segment and offset; the caller adds the segment base,
	 * translates (guest_walk) and sends each to RAM or a device. NULL: MOVS is unsupported. */
	int (*read_virt)(void *ctx, enum x86_seg seg, uint64_t offset, unsigned size,
			 uint64_t *val);
	int (*write_virt)(void *ctx, enum x86_seg seg, uint64_t offset, unsigned size,
			  uint64_t val);
};

/* Offset of memory operand m of insn (insn->mem or insn->mem2) within its segment: base + index *
 * scale + disp (+ the next instruction's RIP when RIP-relative), truncated to the address size
 * (Intel SDM vol 1, 3.7.5). */
uint64_t x86_mem_offset(const struct x86_insn *insn, const struct x86_mem *m,
			const struct vcpu_regs *regs);
/* Its linear address, given the base of m->seg (in 64-bit mode the caller passes 0 for ES, CS, SS
 * and DS, Intel SDM vol 1, 3.4.2.1); wraps at 4 GiB outside 64-bit mode. No limit checks. */
uint64_t x86_mem_linear(const struct x86_insn *insn, const struct x86_mem *m,
			const struct vcpu_regs *regs, uint64_t seg_base);

/* Performs insn's access at guest-physical gpa (ignored by MOVS, see struct emul_mem_ops) and its
 * effect on regs, then advances RIP, or leaves RIP on the instruction when a REP string
 * instruction has iterations left (one iteration per exit; the guest re-executes it). The whole
 * insn->mem_size access goes to gpa: the caller rejects an access that crosses a page (check
 * x86_mem_linear() + mem_size). LOCK needs nothing more: a device access is never concurrent
 * with the vCPU's own. Single-step (RFLAGS.TF) is the caller's to deliver.
 * 0, -X86_EUNSUPPORTED (register-only form, MOVS without the _virt callbacks), or a callback's
 * error. */
int x86_emulate_mmio(const struct x86_insn *insn, struct vcpu_regs *regs, uint64_t gpa,
		     const struct emul_mem_ops *ops, void *ctx);

/* The result of ALU operation op (X86_OP_ADD..X86_OP_TEST) on size-byte operands a and b, with
 * CF, PF, AF, ZF, SF and OF of *rflags updated (CF is also ADC/SBB's carry in). Exposed for
 * tests. */
uint64_t x86_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *rflags);

#endif
