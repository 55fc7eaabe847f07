/* MMIO emulation (arch/x86/emul/emulate.h): results and flags of every ALU form against the host
 * CPU running the same instruction (a true oracle), register write rules (zero/sign extension,
 * merges, AH..BH), REP MOVS/STOS one iteration per exit, RIP advance and wrap, effective
 * addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "arch/x86/emul/emulate.h"
#include "lib/kstring.h"

/* ---- the host CPU as oracle ------------------------------------------------------------------ */

/* Runs `insn y, x` on the host with RFLAGS = fin, returns x and the flags after. The stack pointer
 * steps over the red zone first, since push/pop would clobber it under the compiler's feet. */
#define HOST_ALU(name, insn, type)                                                                 \
	static uint64_t name(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fout)                 \
	{                                                                                          \
		type x = (type)a, y = (type)b;                                                     \
		uint64_t f;                                                                        \
		__asm__ volatile("add $-128, %%rsp\n\tpush %[fin]\n\tpopfq\n\t" insn               \
				 " %[y], %[x]\n\tpushfq\n\tpop %[f]\n\tsub $-128, %%rsp"           \
				 : [x] "+q"(x), [f] "=&r"(f)                                       \
				 : [y] "q"(y), [fin] "r"(fin)                                      \
				 : "cc", "memory");                                                \
		*fout = f;                                                                         \
		return x;                                                                          \
	}
#define HOST_ALU_SIZES(op)                                                                         \
	HOST_ALU(host_##op##8, #op "b", uint8_t)                                                   \
	HOST_ALU(host_##op##16, #op "w", uint16_t)                                                 \
	HOST_ALU(host_##op##32, #op "l", uint32_t)                                                 \
	HOST_ALU(host_##op##64, #op "q", uint64_t)
HOST_ALU_SIZES(add)
HOST_ALU_SIZES(or)
HOST_ALU_SIZES(adc)
HOST_ALU_SIZES(sbb)
HOST_ALU_SIZES(and)
HOST_ALU_SIZES(sub)
HOST_ALU_SIZES(xor)
HOST_ALU_SIZES(cmp)
HOST_ALU_SIZES(test)

typedef uint64_t (*host_fn)(uint64_t, uint64_t, uint64_t, uint64_t *);
#define ROW(op)                                                                                    \
	{                                                                                          \
		host_##op##8, host_##op##16, host_##op##32, host_##op##64                          \
	}
/* indexed [op - X86_OP_ADD][log2 size] */
static const host_fn host_alu[9][4] = {
	ROW(add), ROW(or), ROW(adc), ROW(sbb), ROW(and), ROW(sub), ROW(xor), ROW(cmp), ROW(test),
};

static unsigned log2_size(unsigned size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/* Flags the SDM leaves undefined: AF after AND, OR, XOR and TEST. */
static uint64_t defined_flags(unsigned op)
{
	if (op == X86_OP_AND || op == X86_OP_OR || op == X86_OP_XOR || op == X86_OP_TEST)
		return X86_FLAGS_ARITH & ~X86_FLAGS_AF;
	return X86_FLAGS_ARITH;
}

/* Expected (result, flags) of op on the host; cmp/test leave x, so the result is computed from
 * the matching sub/and. */
static uint64_t host_expect(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t fin,
			    uint64_t *fout)
{
	uint64_t r = host_alu[op - X86_OP_ADD][log2_size(size)](a, b, fin, fout);
	return r;
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Operand values that hit every flag edge: zero, one, sign boundaries, all ones, and random. */
static uint64_t interesting(void)
{
	static const uint64_t v[] = { 0,	  1,	      2,	  0x0f,	      0x10,
				      0x7f,	  0x80,	      0xff,	  0x7fff,     0x8000,
				      0xffff,	  0x7fffffff, 0x80000000, 0xffffffff, 1ull << 63,
				      ~0ull >> 1, ~0ull,      0x5555,	  0xaaaaaaaa, 0x100 };
	uint64_t r = rnd();
	return (r & 3) ? v[(r >> 2) % ARRAY_SIZE(v)] - ((r >> 10) & 1) : rnd();
}

static void alu_flags_vs_host(void **state)
{
	unsigned long n = 0;
	(void)state;

	for (unsigned op = X86_OP_ADD; op <= X86_OP_TEST; op++)
		for (unsigned s = 0; s < 4; s++)
			for (unsigned i = 0; i < 20000; i++) {
				unsigned size = 1u << s;
				uint64_t a = interesting(), b = interesting();
				uint64_t fin = 2 | (rnd() & X86_FLAGS_ARITH), fhost, fkeel = fin;
				uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
				uint64_t rh = host_expect(op, size, a, b, fin, &fhost);
				uint64_t rk = x86_alu(op, size, a, b, &fkeel);
				uint64_t fm = defined_flags(op);

				if (op == X86_OP_CMP || op == X86_OP_TEST)
					rh = x86_alu(op == X86_OP_CMP ? X86_OP_SUB : X86_OP_AND,
						     size, a, b, &(uint64_t){ fin });
				if ((rh & mask) != rk || (fhost & fm) != (fkeel & fm))
					fail_msg("op %u size %u a %#llx b %#llx fin %#llx: host "
						 "%#llx "
						 "flags %#llx, keel %#llx flags %#llx",
						 op, size, (unsigned long long)a,
						 (unsigned long long)b, (unsigned long long)fin,
						 (unsigned long long)rh, (unsigned long long)fhost,
						 (unsigned long long)rk, (unsigned long long)fkeel);
				n++;
			}
	printf("ALU: %lu operations compared with the host CPU\n", n);
}

/* ---- a fake device -------------------------------------------------------------------------- */

struct dev {
	uint64_t value; /* what a read returns */
	uint64_t gpa, wval;
	unsigned rsize, wsize, reads, writes;
	int fail;
	/* MOVS: a little guest-virtual memory, offsets 0..255 in ES and DS */
	uint8_t virt[256];
	unsigned virt_reads, virt_writes;
	uint8_t last_seg;
};

static int dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct dev *d = ctx;
	if (d->fail)
		return -99;
	d->gpa = gpa;
	d->rsize = size;
	d->reads++;
	*val = size == 8 ? d->value : d->value & ((1ull << (8 * size)) - 1);
	return 0;
}

static int dev_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct dev *d = ctx;
	if (d->fail)
		return -99;
	d->gpa = gpa;
	d->wsize = size;
	d->wval = val;
	d->writes++;
	return 0;
}

static int dev_read_virt(void *ctx, enum x86_seg seg, uint64_t off, unsigned size, uint64_t *val)
{
	struct dev *d = ctx;
	if (off + size > sizeof(d->virt))
		return -98;
	*val = 0;
	memcpy(val, d->virt + off, size);
	d->last_seg = seg;
	d->virt_reads++;
	return 0;
}

static int dev_write_virt(void *ctx, enum x86_seg seg, uint64_t off, unsigned size, uint64_t val)
{
	struct dev *d = ctx;
	if (off + size > sizeof(d->virt) || seg != X86_SEG_ES)
		return -98;
	memcpy(d->virt + off, &val, size);
	d->virt_writes++;
	return 0;
}

static const struct emul_mem_ops ops = { dev_read, dev_write, dev_read_virt, dev_write_virt };

static size_t hex(const char *s, uint8_t *b)
{
	size_t n = 0;
	unsigned v;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		sscanf(s, "%2x", &v);
		b[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Decodes and emulates bytes with regs, device d; asserts both succeed. */
static void run(const char *bytes, enum x86_cpu_mode mode, struct vcpu_regs *regs, struct dev *d,
		struct x86_insn *in)
{
	uint8_t b[16];
	size_t n = hex(bytes, b);
	int rc = x86_decode(b, n, mode, in);
	if (rc)
		fail_msg("decode %s: %d", bytes, rc);
	rc = x86_emulate_mmio(in, regs, 0xfee00000, &ops, d);
	if (rc)
		fail_msg("emulate %s: %d", bytes, rc);
}

static void random_regs(struct vcpu_regs *r)
{
	for (unsigned i = 0; i < 16; i++)
		r->gpr[i] = rnd();
	r->rip = 0x1000;
	r->rflags = 2 | (rnd() & X86_FLAGS_ARITH);
}

/* Every ALU encoding with a memory operand ([rdi] / [bx] in 16-bit): 00-3B, 80-83, 84/85,
 * F6/F7 /0, in 64-bit and 16-bit mode, against the host. */
static void alu_forms_vs_host(void **state)
{
	unsigned long n = 0;
	(void)state;

	for (unsigned mi = 0; mi < 2; mi++) {
		enum x86_cpu_mode mode = mi ? X86_MODE_REAL : X86_MODE_LONG64;
		unsigned modrm_rm = 7; /* [bx] in real mode, [rdi] in long mode */
		for (unsigned form = 0; form < 8 * 4 + 4 * 8 + 4; form++) {
			for (unsigned it = 0; it < 200; it++) {
				struct vcpu_regs r, r0;
				struct dev d = { .value = interesting() };
				struct x86_insn in;
				uint8_t b[16];
				size_t len = 0;
				unsigned regf = rnd() % 8, op, opc, size;
				bool rex_w = !mi && (rnd() & 1), reg_dst = false;
				uint64_t fexp, a, bv, res, mask;

				if (rex_w)
					b[len++] = 0x48;
				if (form < 32) {
					op = X86_OP_ADD + form / 4;
					opc = (form / 4) * 8 + form % 4;
					reg_dst = opc & 2;
					b[len++] = (uint8_t)opc;
					b[len++] = (uint8_t)(regf << 3 | modrm_rm);
				} else if (form < 64) {
					static const uint8_t g1[4] = { 0x80, 0x81, 0x83, 0x80 };
					op = X86_OP_ADD + (form - 32) / 4;
					opc = g1[(form - 32) % 4];
					b[len++] = (uint8_t)opc;
					b[len++] = (uint8_t)((op - X86_OP_ADD) << 3 | modrm_rm);
					for (unsigned k = 0; k < 4; k++)
						b[len++] = (uint8_t)rnd();
				} else {
					static const uint8_t t[4] = { 0x84, 0x85, 0xf6, 0xf7 };
					op = X86_OP_TEST;
					opc = t[form - 64];
					b[len++] = (uint8_t)opc;
					b[len++] =
						(uint8_t)((opc >= 0xf6 ? 0 : regf << 3) | modrm_rm);
					for (unsigned k = 0; k < 4; k++)
						b[len++] = (uint8_t)rnd();
				}
				random_regs(&r);
				r0 = r;
				assert_int_equal(x86_decode(b, len, mode, &in), 0);
				assert_int_equal(x86_emulate_mmio(&in, &r, 0xfee00010, &ops, &d),
						 0);
				size = in.op_size;
				mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
				/* the other operand as the CPU sees it */
				if (in.has_imm)
					bv = in.imm;
				else if (in.reg_high8)
					bv = r0.gpr[in.reg & 3] >> 8;
				else
					bv = r0.gpr[in.reg];
				a = d.value;
				if (reg_dst) {
					uint64_t t = a;
					a = bv;
					bv = t;
				}
				res = host_expect(op, size, a, bv, r0.rflags, &fexp);
				if (op == X86_OP_CMP || op == X86_OP_TEST)
					res = a & mask;
				assert_int_equal(d.reads, 1);
				assert_int_equal(d.gpa, 0xfee00010);
				if (op == X86_OP_CMP || op == X86_OP_TEST) {
					assert_int_equal(d.writes, 0);
					assert_memory_equal(r.gpr, r0.gpr, sizeof(r.gpr));
				} else if (reg_dst) {
					uint64_t got = in.reg_high8 ? r.gpr[in.reg & 3] >> 8
								    : r.gpr[in.reg];
					assert_int_equal(d.writes, 0);
					assert_int_equal(got & mask, res & mask);
				} else {
					assert_int_equal(d.writes, 1);
					assert_int_equal(d.wsize, size);
					assert_int_equal(d.wval, res & mask);
					assert_memory_equal(r.gpr, r0.gpr, sizeof(r.gpr));
				}
				if ((r.rflags & defined_flags(op)) != (fexp & defined_flags(op)))
					fail_msg("opcode %02x op %u: flags %#llx, host %#llx", opc,
						 op, (unsigned long long)r.rflags,
						 (unsigned long long)fexp);
				assert_int_equal(r.rip, 0x1000 + in.len);
				n++;
			}
		}
	}
	printf("ALU forms: %lu decoded+emulated instructions compared with the host CPU\n", n);
}

static void mov_extension_rules(void **state)
{
	struct vcpu_regs r = { .rip = 0x1000 };
	struct dev d = { .value = 0x8899aabbccddeeffull };
	struct x86_insn in;
	(void)state;

	/* mov eax, [rdi]: 32-bit destination zeroes bits 63:32 */
	r.gpr[X86_RAX] = ~0ull;
	run("8b 07", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RAX], 0xccddeeffull);
	assert_int_equal(d.rsize, 4);
	/* mov ax, [rdi]: 16-bit keeps the rest */
	r.gpr[X86_RAX] = 0x1111222233334444ull;
	run("66 8b 07", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RAX], 0x111122223333eeffull);
	/* mov ah, [rdi] without REX; mov spl, [rdi] with REX */
	r.gpr[X86_RAX] = 0x1111222233334444ull;
	r.gpr[X86_RSP] = 0x5555666677778888ull;
	run("8a 27", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RAX], 0x111122223333ff44ull);
	assert_int_equal(r.gpr[X86_RSP], 0x5555666677778888ull);
	run("40 8a 27", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RSP], 0x55556666777788ffull);
	/* mov r15, [rdi] */
	run("4c 8b 3f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[15], 0x8899aabbccddeeffull);
	assert_int_equal(d.rsize, 8);
	/* movzx ecx, byte [rdi]; movzx cx, byte; movsx rcx, word; movsx ecx, byte; movsx cx, byte
	 */
	r.gpr[X86_RCX] = ~0ull;
	run("0f b6 0f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RCX], 0xff);
	assert_int_equal(d.rsize, 1);
	r.gpr[X86_RCX] = ~0ull;
	run("66 0f b6 0f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RCX], 0xffffffffffff00ffull);
	run("48 0f bf 0f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RCX], 0xffffffffffffeeffull);
	assert_int_equal(d.rsize, 2);
	d.value = 0x80;
	run("0f be 0f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RCX], 0xffffff80ull);
	r.gpr[X86_RCX] = 0x1234567800000000ull;
	run("66 0f be 0f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RCX], 0x123456780000ff80ull);
	d.value = 0x7f;
	run("0f bf 0f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RCX], 0x7f);
	/* flags are untouched by moves */
	r.rflags = 0x2 | X86_FLAGS_ARITH;
	run("8b 07", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.rflags, 0x2 | X86_FLAGS_ARITH);
}

static void stores_and_xchg(void **state)
{
	struct vcpu_regs r = { .rip = 0x1000 };
	struct dev d = { .value = 0xabcdef0123456789ull };
	struct x86_insn in;
	(void)state;

	r.gpr[X86_RBX] = 0x1122334455667788ull;
	run("89 1f", X86_MODE_LONG64, &r, &d, &in); /* mov [rdi], ebx */
	assert_int_equal(d.wsize, 4);
	assert_int_equal(d.wval, 0x55667788);
	assert_int_equal(d.reads, 0);
	run("88 3f", X86_MODE_LONG64, &r, &d, &in); /* mov [rdi], bh */
	assert_int_equal(d.wval, 0x77);
	assert_int_equal(d.wsize, 1);
	run("48 c7 07 fe ff ff ff", X86_MODE_LONG64, &r, &d, &in); /* mov qword [rdi], -2 */
	assert_int_equal(d.wval, 0xfffffffffffffffeull);
	assert_int_equal(d.wsize, 8);
	run("66 c7 07 34 12", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(d.wval, 0x1234);
	assert_int_equal(d.wsize, 2);
	/* mov [moffs32], eax in 32-bit mode; mov al, [moffs] */
	r.gpr[X86_RAX] = 0xdeadbeefcafef00dull;
	run("a3 00 00 e0 fe", X86_MODE_PROT32, &r, &d, &in);
	assert_int_equal(d.wval, 0xcafef00d);
	run("a0 00 00 e0 fe", X86_MODE_PROT32, &r, &d, &in);
	assert_int_equal(r.gpr[X86_RAX], 0xdeadbeefcafef089ull);
	/* xchg [rdi], ecx */
	r.gpr[X86_RCX] = 0xffffffff11111111ull;
	d.reads = d.writes = 0;
	run("87 0f", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(d.reads, 1);
	assert_int_equal(d.writes, 1);
	assert_int_equal(d.wval, 0x11111111);
	assert_int_equal(r.gpr[X86_RCX], 0x23456789);
	/* a failing device leaves the registers and RIP alone and returns its error */
	d.fail = 1;
	{
		struct vcpu_regs r0 = r;
		uint8_t b[] = { 0x87, 0x0f };
		assert_int_equal(x86_decode(b, 2, X86_MODE_LONG64, &in), 0);
		assert_int_equal(x86_emulate_mmio(&in, &r, 0, &ops, &d), -99);
		assert_memory_equal(&r, &r0, sizeof(r));
	}
}

static void rip_advance_and_wrap(void **state)
{
	struct vcpu_regs r = { .rip = 0xfffe };
	struct dev d = { .value = 1 };
	struct x86_insn in;
	(void)state;

	r.rflags = 2 | X86_FLAGS_RF;
	run("8b 07", X86_MODE_REAL, &r, &d, &in); /* IP wraps at 64 KiB */
	assert_int_equal(r.rip, 0);
	assert_int_equal(r.rflags & X86_FLAGS_RF, 0);
	r.rip = 0xfffffffe;
	run("8b 07", X86_MODE_PROT32, &r, &d, &in);
	assert_int_equal(r.rip, 0);
	r.rip = 0xfffffffe;
	run("8b 07", X86_MODE_LONG64, &r, &d, &in);
	assert_int_equal(r.rip, 0x100000000ull);
	/* register-only forms have no memory access to emulate */
	{
		uint8_t b[] = { 0x89, 0xc0 };
		assert_int_equal(x86_decode(b, 2, X86_MODE_LONG64, &in), 0);
		assert_int_equal(x86_emulate_mmio(&in, &r, 0, &ops, &d), -X86_EUNSUPPORTED);
	}
}

static void effective_addresses(void **state)
{
	struct vcpu_regs r = { .rip = 0x401000 };
	struct x86_insn in;
	uint8_t b[16];
	(void)state;

	r.gpr[X86_RBX] = 0xfffffffffffff000ull;
	r.gpr[X86_RSI] = 0x10;
	r.gpr[X86_RBP] = 0x20;
	/* [rip + 0x100] counts from the next instruction */
	assert_int_equal(x86_decode(b, hex("8b 05 00 01 00 00", b), X86_MODE_LONG64, &in), 0);
	assert_int_equal(x86_mem_offset(&in, &in.mem, &r), 0x401106);
	/* [rbx + rsi*8 + 8] */
	assert_int_equal(x86_decode(b, hex("8b 44 f3 08", b), X86_MODE_LONG64, &in), 0);
	assert_int_equal(x86_mem_offset(&in, &in.mem, &r), 0xfffffffffffff088ull);
	/* 32-bit address size truncates: [ebx + esi*8 + 8] */
	assert_int_equal(x86_decode(b, hex("67 8b 44 f3 08", b), X86_MODE_LONG64, &in), 0);
	assert_int_equal(x86_mem_offset(&in, &in.mem, &r), 0xfffff088ull);
	/* 16-bit [bp+si-1] wraps at 64 KiB; linear adds the SS base */
	r.gpr[X86_RBP] = 0;
	r.gpr[X86_RSI] = 0;
	assert_int_equal(x86_decode(b, hex("8b 42 ff", b), X86_MODE_REAL, &in), 0);
	assert_int_equal(in.mem.seg, X86_SEG_SS);
	assert_int_equal(x86_mem_offset(&in, &in.mem, &r), 0xffff);
	assert_int_equal(x86_mem_linear(&in, &in.mem, &r, 0x20000), 0x2ffff);
	/* 32-bit linear addresses wrap at 4 GiB */
	r.gpr[X86_RAX] = 0x10;
	assert_int_equal(x86_decode(b, hex("8b 00", b), X86_MODE_PROT32, &in), 0);
	assert_int_equal(x86_mem_linear(&in, &in.mem, &r, 0xfffffff8ull), 8);
}

static void rep_string(void **state)
{
	struct vcpu_regs r = { .rip = 0x1000, .rflags = 2 };
	struct dev d = { 0 };
	struct x86_insn in;
	uint8_t b[16];
	(void)state;

	/* rep stosd: one iteration per call, RIP stays until rcx reaches zero */
	r.gpr[X86_RAX] = 0xaabbccdd11223344ull;
	r.gpr[X86_RDI] = 0x100;
	r.gpr[X86_RCX] = 2;
	assert_int_equal(x86_decode(b, hex("f3 ab", b), X86_MODE_LONG64, &in), 0);
	assert_int_equal(x86_emulate_mmio(&in, &r, 0xfee00100, &ops, &d), 0);
	assert_int_equal(d.wval, 0x11223344);
	assert_int_equal(d.gpa, 0xfee00100);
	assert_int_equal(r.gpr[X86_RDI], 0x104);
	assert_int_equal(r.gpr[X86_RCX], 1);
	assert_int_equal(r.rip, 0x1000);
	assert_int_equal(x86_emulate_mmio(&in, &r, 0xfee00104, &ops, &d), 0);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.rip, 0x1002);
	assert_int_equal(d.writes, 2);
	/* rcx = 0: no access, just done */
	r.rip = 0x1000;
	assert_int_equal(x86_emulate_mmio(&in, &r, 0, &ops, &d), 0);
	assert_int_equal(d.writes, 2);
	assert_int_equal(r.rip, 0x1002);
	/* std; stosw with 16-bit addressing counts di down and wraps at 64 KiB, keeping edi's top
	 */
	r.rflags |= X86_FLAGS_DF;
	r.gpr[X86_RDI] = 0xabcd0000;
	r.rip = 0x10;
	assert_int_equal(x86_decode(b, hex("ab", b), X86_MODE_REAL, &in), 0);
	assert_int_equal(x86_emulate_mmio(&in, &r, 0xa0000, &ops, &d), 0);
	assert_int_equal(d.wsize, 2);
	assert_int_equal(r.gpr[X86_RDI], 0xabcdfffe);
	assert_int_equal(r.rip, 0x11);
	/* rep movsb with 32-bit addressing in 64-bit mode: esi/edi writes zero bits 63:32 */
	r.rflags &= ~X86_FLAGS_DF;
	for (unsigned i = 0; i < sizeof(d.virt); i++)
		d.virt[i] = (uint8_t)i;
	r.gpr[X86_RSI] = 0xffffffff00000010ull;
	r.gpr[X86_RDI] = 0x20;
	r.gpr[X86_RCX] = 0xffffffff00000003ull;
	r.rip = 0x1000;
	assert_int_equal(x86_decode(b, hex("f3 67 a4", b), X86_MODE_LONG64, &in), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(r.rip, 0x1000);
		assert_int_equal(x86_emulate_mmio(&in, &r, 0, &ops, &d), 0);
	}
	assert_int_equal(r.rip, 0x1003);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.gpr[X86_RSI], 0x13);
	assert_int_equal(r.gpr[X86_RDI], 0x23);
	assert_int_equal(d.virt[0x20], 0x10);
	assert_int_equal(d.virt[0x22], 0x12);
	assert_int_equal(d.last_seg, X86_SEG_DS);
	/* movsq with an FS override on the source */
	r.gpr[X86_RSI] = 0;
	r.gpr[X86_RDI] = 0x80;
	assert_int_equal(x86_decode(b, hex("64 48 a5", b), X86_MODE_LONG64, &in), 0);
	assert_int_equal(x86_emulate_mmio(&in, &r, 0, &ops, &d), 0);
	assert_int_equal(d.last_seg, X86_SEG_FS);
	assert_int_equal(d.virt[0x87], 7);
	assert_int_equal(r.gpr[X86_RDI], 0x88);
	/* without the _virt callbacks MOVS is unsupported */
	{
		struct emul_mem_ops o2 = { dev_read, dev_write, NULL, NULL };
		assert_int_equal(x86_emulate_mmio(&in, &r, 0, &o2, &d), -X86_EUNSUPPORTED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alu_flags_vs_host),	cmocka_unit_test(alu_forms_vs_host),
		cmocka_unit_test(mov_extension_rules),	cmocka_unit_test(stores_and_xchg),
		cmocka_unit_test(rip_advance_and_wrap), cmocka_unit_test(effective_addresses),
		cmocka_unit_test(rep_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
