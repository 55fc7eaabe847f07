/* Decode + emulate on hostile bytes and registers: never a crash or sanitizer report, callbacks
 * see only the decoded size, a failing callback leaves the registers alone, and a success
 * changes only what the instruction may change.
 *
 * Input layout (missing bytes read as zero):
 *   [0]      mode (enum x86_cpu_mode, modulo 4)
 *   [1]      RFLAGS: bit 0 CF, bit 1 DF, bits 2-7 spread over PF AF ZF SF OF RF
 *   [2]      bit 0: reads fail, bit 1: writes fail, bit 2: no MOVS (_virt) callbacks
 *   [3..18]  16 instruction bytes
 *   [19..26] the value device reads return (little endian)
 *   [27..]   rip, then rax, rcx, ... r15, 8 bytes each, little endian */
#include "arch/x86/emul/emulate.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fctx {
	uint64_t value;
	unsigned size;
	uint8_t fail;
	unsigned calls;
};

static void check_size(struct fctx *c, unsigned size)
{
	if (size != c->size)
		abort();
	c->calls++;
}

static int f_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct fctx *c = ctx;
	(void)gpa;
	check_size(c, size);
	if (c->fail & 1)
		return -1000;
	*val = size == 8 ? c->value : c->value & ((1ull << (8 * size)) - 1);
	return 0;
}

static int f_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct fctx *c = ctx;
	(void)gpa;
	check_size(c, size);
	if (size < 8 && val >> (8 * size))
		abort(); /* a write never carries bits beyond its size */
	return (c->fail & 2) ? -1001 : 0;
}

static int f_read_virt(void *ctx, enum x86_seg seg, uint64_t off, unsigned size, uint64_t *val)
{
	(void)off;
	if (seg > X86_SEG_GS)
		abort();
	return f_read(ctx, 0, size, val);
}

static int f_write_virt(void *ctx, enum x86_seg seg, uint64_t off, unsigned size, uint64_t val)
{
	(void)off;
	if (seg != X86_SEG_ES)
		abort();
	return f_write(ctx, 0, size, val);
}

static uint64_t le64(const uint8_t *data, size_t size, size_t off)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		if (off + i < size)
			v |= (uint64_t)data[off + i] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t flag_bits[6] = { X86_FLAGS_PF, X86_FLAGS_AF, X86_FLAGS_ZF,
					       X86_FLAGS_SF, X86_FLAGS_OF, X86_FLAGS_RF };
	struct emul_mem_ops ops = { f_read, f_write, f_read_virt, f_write_virt };
	struct vcpu_regs regs, before;
	struct x86_insn in;
	struct fctx c = { 0 };
	uint8_t insn_bytes[16] = { 0 };
	enum x86_cpu_mode mode;
	uint8_t fl, ctl;
	int rc;

	if (size < 1)
		return 0;
	mode = (enum x86_cpu_mode)(data[0] % 4);
	fl = size > 1 ? data[1] : 0;
	ctl = size > 2 ? data[2] : 0;
	for (unsigned i = 0; i < 16 && 3 + i < size; i++)
		insn_bytes[i] = data[3 + i];
	c.value = le64(data, size, 19);
	c.fail = ctl & 3;
	if (ctl & 4)
		ops.read_virt = NULL, ops.write_virt = NULL;
	regs.rip = le64(data, size, 27);
	for (unsigned i = 0; i < 16; i++)
		regs.gpr[i] = le64(data, size, 35 + 8 * i);
	regs.rflags = 2 | ((fl & 1) ? X86_FLAGS_CF : 0) | ((fl & 2) ? X86_FLAGS_DF : 0);
	for (unsigned i = 0; i < 6; i++)
		if (fl & (4 << i))
			regs.rflags |= flag_bits[i];

	if (x86_decode(insn_bytes, sizeof(insn_bytes), mode, &in))
		return 0;
	if (in.len < 1 || in.len > X86_MAX_INSN_LEN)
		abort();
	(void)x86_mem_linear(&in, &in.mem, &regs, le64(data, size, 11));
	(void)x86_mem_offset(&in, &in.mem2, &regs);
	c.size = in.op == X86_OP_MOVS || in.op == X86_OP_STOS ? in.op_size : in.mem_size;
	before = regs;
	rc = x86_emulate_mmio(&in, &regs, 0xfee00000, &ops, &c);
	if (rc) {
		/* failure: nothing architectural changed */
		if (memcmp(&regs, &before, sizeof(regs)) != 0)
			abort();
		if (rc != -1000 && rc != -1001 && rc != -X86_EUNSUPPORTED)
			abort();
		return 0;
	}
	/* success: flags other than the status flags and RF never change */
	if ((regs.rflags ^ before.rflags) & ~(X86_FLAGS_ARITH | X86_FLAGS_RF))
		abort();
	if (regs.rip != before.rip) {
		uint64_t want = before.rip + in.len;
		if (mode == X86_MODE_PROT32)
			want &= 0xffffffffull;
		else if (mode != X86_MODE_LONG64)
			want &= 0xffff;
		if (regs.rip != want)
			abort();
	} else if (!in.rep) {
		abort(); /* only an unfinished REP string instruction stays on its RIP */
	}
	/* registers: only the instruction's register operand, or rSI/rDI/rCX for strings */
	for (unsigned i = 0; i < 16; i++) {
		bool may = (in.reg != X86_REG_NONE && i == (in.reg_high8 ? in.reg & 3u : in.reg)) ||
			   ((in.op == X86_OP_MOVS || in.op == X86_OP_STOS) &&
			    (i == X86_RSI || i == X86_RDI || i == X86_RCX));
		if (!may && regs.gpr[i] != before.gpr[i])
			abort();
	}
	return 0;
}
