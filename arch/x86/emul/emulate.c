/* MMIO instruction emulation (emulate.h). Register-write and flag rules: Intel SDM vol 1, 3.4.1.1
 * (32-bit results zero-extend in 64-bit mode, 8/16-bit ones merge), 3.4.3.1 and appendix A
 * (status flags), vol 2 instruction pages for each operation. */
#include "arch/x86/emul/emulate.h"

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t sign_bit(unsigned size)
{
	return 1ull << (8 * size - 1);
}

static uint64_t reg_read(const struct vcpu_regs *regs, unsigned num, unsigned size, bool high8)
{
	uint64_t v = regs->gpr[num & 15];
	if (high8)
		return (regs->gpr[num & 3] >> 8) & 0xff;
	return v & size_mask(size);
}

static void reg_write(struct vcpu_regs *regs, unsigned num, unsigned size, bool high8, uint64_t v)
{
	uint64_t *r = high8 ? &regs->gpr[num & 3] : &regs->gpr[num & 15];

	if (high8)
		*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
	else if (size >= 4)
		*r = v & size_mask(size); /* a 32-bit write clears bits 63:32 */
	else
		*r = (*r & ~size_mask(size)) | (v & size_mask(size));
}

uint64_t x86_mem_offset(const struct x86_insn *insn, const struct x86_mem *m,
			const struct vcpu_regs *regs)
{
	/* Register values wider than the address size do not matter: the sum is taken modulo
	 * 2^(8 * addr_size), so adding whole registers and truncating once is exact. */
	uint64_t ea = (uint64_t)m->disp;

	if (m->base != X86_REG_NONE)
		ea += regs->gpr[m->base & 15];
	if (m->index != X86_REG_NONE)
		ea += regs->gpr[m->index & 15] * m->scale;
	if (m->rip_rel)
		ea += regs->rip + insn->len;
	return ea & size_mask(insn->addr_size);
}

uint64_t x86_mem_linear(const struct x86_insn *insn, const struct x86_mem *m,
			const struct vcpu_regs *regs, uint64_t seg_base)
{
	uint64_t la = seg_base + x86_mem_offset(insn, m, regs);
	return insn->mode == X86_MODE_LONG64 ? la : la & 0xffffffffull;
}

static bool parity_even(uint64_t v)
{
	/* PF looks at the low byte only (SDM vol 1, 3.4.3.1) */
	uint8_t b = (uint8_t)v;
	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

uint64_t x86_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *rflags)
{
	uint64_t mask = size_mask(size), sign = sign_bit(size), r, f = 0;
	uint64_t cin = (*rflags & X86_FLAGS_CF) ? 1 : 0;

	a &= mask;
	b &= mask;
	switch (op) {
	case X86_OP_ADD:
	case X86_OP_ADC:
		if (op == X86_OP_ADD)
			cin = 0;
		r = (a + b + cin) & mask;
		if (r < a || (cin && r == a))
			f |= X86_FLAGS_CF;
		if ((a ^ r) & (b ^ r) & sign)
			f |= X86_FLAGS_OF;
		f |= (a ^ b ^ r) & X86_FLAGS_AF;
		break;
	case X86_OP_SUB:
	case X86_OP_SBB:
	case X86_OP_CMP:
		if (op != X86_OP_SBB)
			cin = 0;
		r = (a - b - cin) & mask;
		if (a < b || (cin && a == b))
			f |= X86_FLAGS_CF;
		if ((a ^ b) & (a ^ r) & sign)
			f |= X86_FLAGS_OF;
		f |= (a ^ b ^ r) & X86_FLAGS_AF;
		break;
	case X86_OP_OR:
		r = a | b; /* logic ops clear CF and OF; AF is undefined, keel clears it */
		break;
	case X86_OP_XOR:
		r = a ^ b;
		break;
	default: /* AND, TEST */
		r = a & b;
		break;
	}
	if (!r)
		f |= X86_FLAGS_ZF;
	if (r & sign)
		f |= X86_FLAGS_SF;
	if (parity_even(r))
		f |= X86_FLAGS_PF;
	*rflags = (*rflags & ~X86_FLAGS_ARITH) | f;
	return r;
}

/* rSI/rDI/rCX updates of string instructions use the address size (SDM vol 2, MOVS, REP). */
static void addr_reg_write(struct vcpu_regs *regs, const struct x86_insn *insn, unsigned num,
			   uint64_t v)
{
	reg_write(regs, num, insn->addr_size, false, v);
}

static void advance_rip(const struct x86_insn *insn, struct vcpu_regs *regs)
{
	uint64_t rip = regs->rip + insn->len;

	/* IP wraps at the code segment's size (SDM vol 1, 3.6) */
	if (insn->mode == X86_MODE_PROT32)
		rip &= 0xffffffffull;
	else if (insn->mode != X86_MODE_LONG64)
		rip &= 0xffffull;
	regs->rip = rip;
	/* a completed instruction clears RF (SDM vol 3, 18.3.1.1) */
	regs->rflags &= ~X86_FLAGS_RF;
}

static int emulate_string(const struct x86_insn *insn, struct vcpu_regs *regs, uint64_t gpa,
			  const struct emul_mem_ops *ops, void *ctx)
{
	unsigned size = insn->op_size;
	uint64_t amask = size_mask(insn->addr_size), count = 0, step, val;
	int rc;

	if (insn->op == X86_OP_MOVS && (!ops->read_virt || !ops->write_virt))
		return -X86_EUNSUPPORTED;
	if (insn->rep) {
		count = regs->gpr[X86_RCX] & amask;
		if (!count) {
			advance_rip(insn, regs);
			return 0;
		}
	}
	if (insn->op == X86_OP_MOVS) {
		rc = ops->read_virt(ctx, insn->mem.seg, x86_mem_offset(insn, &insn->mem, regs),
				    size, &val);
		if (!rc)
			rc = ops->write_virt(ctx, X86_SEG_ES,
					     x86_mem_offset(insn, &insn->mem2, regs), size, val);
	} else {
		rc = ops->write(ctx, gpa, size, reg_read(regs, X86_RAX, size, false));
	}
	if (rc)
		return rc;

	step = (regs->rflags & X86_FLAGS_DF) ? (uint64_t)-size : size;
	if (insn->op == X86_OP_MOVS)
		addr_reg_write(regs, insn, X86_RSI, regs->gpr[X86_RSI] + step);
	addr_reg_write(regs, insn, X86_RDI, regs->gpr[X86_RDI] + step);
	if (insn->rep) {
		addr_reg_write(regs, insn, X86_RCX, count - 1);
		if (count - 1)
			return 0; /* RIP stays: the guest runs the next iteration */
	}
	advance_rip(insn, regs);
	return 0;
}

int x86_emulate_mmio(const struct x86_insn *insn, struct vcpu_regs *regs, uint64_t gpa,
		     const struct emul_mem_ops *ops, void *ctx)
{
	unsigned size = insn->mem_size, op = insn->op;
	uint64_t mem = 0, other, res, flags;
	int rc;

	if (!insn->has_mem || (size != 1 && size != 2 && size != 4 && size != 8))
		return -X86_EUNSUPPORTED;
	if (op == X86_OP_MOVS || op == X86_OP_STOS)
		return emulate_string(insn, regs, gpa, ops, ctx);

	/* stores that do not read */
	if (op == X86_OP_MOV && insn->mem_is_dst) {
		other = insn->has_imm ? insn->imm
				      : reg_read(regs, insn->reg, size, insn->reg_high8);
		rc = ops->write(ctx, gpa, size, other & size_mask(size));
		if (rc)
			return rc;
		advance_rip(insn, regs);
		return 0;
	}

	rc = ops->read(ctx, gpa, size, &mem);
	if (rc)
		return rc;
	mem &= size_mask(size);

	switch (op) {
	case X86_OP_MOV:
		reg_write(regs, insn->reg, insn->op_size, insn->reg_high8, mem);
		break;
	case X86_OP_MOVZX:
		reg_write(regs, insn->reg, insn->op_size, false, mem);
		break;
	case X86_OP_MOVSX:
		res = (mem ^ sign_bit(size)) - sign_bit(size);
		reg_write(regs, insn->reg, insn->op_size, false, res);
		break;
	case X86_OP_XCHG:
		other = reg_read(regs, insn->reg, size, insn->reg_high8);
		rc = ops->write(ctx, gpa, size, other);
		if (rc)
			return rc;
		reg_write(regs, insn->reg, size, insn->reg_high8, mem);
		break;
	default:
		if (op < X86_OP_ADD || op > X86_OP_TEST)
			return -X86_EUNSUPPORTED;
		other = insn->has_imm ? insn->imm
				      : reg_read(regs, insn->reg, size, insn->reg_high8);
		flags = regs->rflags;
		if (insn->mem_is_dst) {
			res = x86_alu(op, size, mem, other, &flags);
			if (op != X86_OP_CMP && op != X86_OP_TEST) {
				rc = ops->write(ctx, gpa, size, res);
				if (rc)
					return rc;
			}
		} else {
			res = x86_alu(op, size, other, mem, &flags);
			if (op != X86_OP_CMP && op != X86_OP_TEST)
				reg_write(regs, insn->reg, size, insn->reg_high8, res);
		}
		regs->rflags = flags;
		break;
	}
	advance_rip(insn, regs);
	return 0;
}
