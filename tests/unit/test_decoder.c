/* Decoder (arch/x86/emul/decode.h): a few known answers, then a differential test against Zydis 4
 * over systematic sweeps (modes x prefixes x opcodes x ModRM x SIB) and a deterministic random
 * sweep. Whenever keel accepts, Zydis must agree on length, sizes, operands and memory operand;
 * for the opcodes keel lists, keel must accept everything Zydis accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "arch/x86/emul/decode.h"
#include "lib/kstring.h"
#include "tests/support/zydis_compare.h"

static struct zc_state zc;
static unsigned long total_compared;

static void check_or_fail(unsigned mi, const uint8_t *b, size_t len)
{
	if (!zc_check(&zc, mi, b, len))
		fail_msg("%s", zc.msg);
}

static int decode(const char *hex, enum x86_cpu_mode mode, struct x86_insn *in)
{
	uint8_t b[32];
	size_t n = 0;
	unsigned v;
	while (*hex && n < sizeof(b)) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		sscanf(hex, "%2x", &v);
		b[n++] = (uint8_t)v;
		hex += 2;
	}
	return x86_decode(b, n, mode, in);
}

static void known_answers(void **state)
{
	struct x86_insn in;
	(void)state;

	/* mov dword [rip+0x10], eax */
	assert_int_equal(decode("89 05 10 00 00 00", X86_MODE_LONG64, &in), 0);
	assert_int_equal(in.len, 6);
	assert_int_equal(in.op, X86_OP_MOV);
	assert_true(in.mem_is_dst && in.has_mem && in.mem.rip_rel);
	assert_int_equal(in.mem.disp, 0x10);
	assert_int_equal(in.reg, X86_RAX);
	assert_int_equal(in.op_size, 4);
	assert_int_equal(in.addr_size, 8);

	/* mov r9b, [r12 + r13*4 - 8] */
	assert_int_equal(decode("47 8a 4c ac f8", X86_MODE_LONG64, &in), 0);
	assert_int_equal(in.reg, 9);
	assert_int_equal(in.mem.base, 12);
	assert_int_equal(in.mem.index, 13);
	assert_int_equal(in.mem.scale, 4);
	assert_int_equal(in.mem.disp, -8);
	assert_false(in.mem_is_dst);
	assert_int_equal(in.op_size, 1);
	assert_false(in.reg_high8);

	/* mov ah, [bx+si+0x1234] in real mode; bp-based forms default to SS */
	assert_int_equal(decode("8a a0 34 12", X86_MODE_REAL, &in), 0);
	assert_true(in.reg_high8);
	assert_int_equal(in.reg, 4);
	assert_int_equal(in.mem.base, X86_RBX);
	assert_int_equal(in.mem.index, X86_RSI);
	assert_int_equal(in.mem.disp, 0x1234);
	assert_int_equal(in.addr_size, 2);
	assert_int_equal(decode("8b 46 fe", X86_MODE_REAL, &in), 0);
	assert_int_equal(in.mem.seg, X86_SEG_SS);
	assert_int_equal(in.mem.disp, -2);

	/* lock or dword [rdi], 0x80 (83 /1 ib: sign-extended) */
	assert_int_equal(decode("f0 83 0f 80", X86_MODE_LONG64, &in), 0);
	assert_true(in.lock && in.has_imm);
	assert_int_equal(in.op, X86_OP_OR);
	assert_int_equal(in.imm, (uint64_t)-128);

	/* movzx eax, word [fs:rbx] and movsx rax, byte [rdx] */
	assert_int_equal(decode("64 0f b7 03", X86_MODE_LONG64, &in), 0);
	assert_int_equal(in.op, X86_OP_MOVZX);
	assert_int_equal(in.mem_size, 2);
	assert_int_equal(in.op_size, 4);
	assert_int_equal(in.mem.seg, X86_SEG_FS);
	assert_int_equal(decode("48 0f be 02", X86_MODE_LONG64, &in), 0);
	assert_int_equal(in.op, X86_OP_MOVSX);
	assert_int_equal(in.op_size, 8);

	/* mov eax, [moffs64]; in 32-bit mode with 67 the offset is 16 bits */
	assert_int_equal(decode("a1 88 77 66 55 44 33 22 11", X86_MODE_LONG64, &in), 0);
	assert_int_equal(in.len, 9);
	assert_int_equal((uint64_t)in.mem.disp, 0x1122334455667788ull);
	assert_int_equal(decode("67 a3 34 12", X86_MODE_PROT32, &in), 0);
	assert_int_equal(in.len, 4);
	assert_true(in.mem_is_dst);

	/* rep stosd and rep movsq */
	assert_int_equal(decode("f3 ab", X86_MODE_PROT32, &in), 0);
	assert_int_equal(in.op, X86_OP_STOS);
	assert_int_equal(in.rep, X86_REP_E);
	assert_int_equal(in.mem.seg, X86_SEG_ES);
	assert_int_equal(decode("f3 48 a5", X86_MODE_LONG64, &in), 0);
	assert_int_equal(in.op, X86_OP_MOVS);
	assert_int_equal(in.op_size, 8);

	/* errors: LOCK on MOV, unsupported opcode, truncation, more than 15 bytes, REX not last */
	assert_int_equal(decode("f0 89 07", X86_MODE_LONG64, &in), -X86_EINVALID);
	assert_int_equal(decode("0f 0b", X86_MODE_LONG64, &in), -X86_EUNSUPPORTED);
	assert_int_equal(decode("c7 05 00 00", X86_MODE_LONG64, &in), -X86_ETRUNC);
	assert_int_equal(decode("", X86_MODE_LONG64, &in), -X86_ETRUNC);
	assert_int_equal(decode("67 67 67 67 67 67 67 67 67 67 67 c7 00 01 00 00 00",
				X86_MODE_LONG64, &in),
			 -X86_ETOOLONG);
	assert_int_equal(decode("48 66 89 00", X86_MODE_LONG64, &in), 0);
	assert_int_equal(in.op_size, 2); /* REX before 66 is dropped */
}

/* Prefix sequences each systematic encoding is tried with. */
static const char *const prefix_sets[] = {
	"",   "66", "67", "66 67", "f0",    "f2",    "f3",	 "2e",	  "36",	   "3e",
	"26", "64", "65", "f0 66", "66 f3", "f3 67", "65 67 66", "26 64", "64 26",
};
static const uint8_t rexes[] = { 0, 0x40, 0x41, 0x42, 0x44, 0x48, 0x4f, 0x45, 0x4a };

static size_t parse_hex(const char *hex, uint8_t *b)
{
	size_t n = 0;
	unsigned v;
	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		sscanf(hex, "%2x", &v);
		b[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* Every (mode, prefixes, REX, opcode, ModRM) for the listed opcodes and their neighbours, with a
 * fixed tail for SIB/displacement/immediate, also cut short at every length. */
static void systematic_modrm(void **state)
{
	static const uint8_t tail[] = { 0x24, 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7,
					0xf8, 0x09, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e };
	unsigned long before = zc.compared;
	(void)state;

	for (unsigned mi = 0; mi < ZC_NR_MODES; mi++) {
		for (unsigned pi = 0; pi < ARRAY_SIZE(prefix_sets); pi++) {
			for (unsigned ri = 0; ri < ARRAY_SIZE(rexes); ri++) {
				if (rexes[ri] && zc_modes[mi].mode != X86_MODE_LONG64)
					continue;
				for (unsigned op = 0; op < 512; op++) {
					uint8_t b[40];
					size_t n = parse_hex(prefix_sets[pi], b);
					bool two = op >= 256;
					uint8_t o = op & 0xff;

					bool skip = two ? !(o >= 0xb0 && o <= 0xbf)
							: (o >= 0x40 && o < 0x80) ||
								    (o >= 0xc0 && o < 0xf6);
					if (skip)
						continue;
					if (rexes[ri])
						b[n++] = rexes[ri];
					if (two)
						b[n++] = 0x0f;
					b[n++] = o;
					for (unsigned modrm = 0; modrm < 256; modrm++) {
						size_t m = n;
						b[m++] = (uint8_t)modrm;
						memcpy(b + m, tail, sizeof(tail));
						m += sizeof(tail);
						check_or_fail(mi, b, m);
						/* a few cut-short buffers */
						if ((modrm & 0x1f) == 4)
							for (size_t cut = n; cut < n + 8; cut++)
								check_or_fail(mi, b, cut);
					}
				}
			}
		}
	}
	total_compared += zc.compared - before;
	printf("systematic ModRM sweep: %lu encodings compared\n", zc.compared - before);
}

/* Every SIB byte under every memory ModRM form that takes one, for a load and a store. */
static void systematic_sib(void **state)
{
	unsigned long before = zc.compared;
	(void)state;

	for (unsigned mi = 0; mi < ZC_NR_MODES; mi++)
		for (unsigned a = 0; a < 2; a++)
			for (unsigned ri = 0; ri < 16; ri++) {
				if (ri && zc_modes[mi].mode != X86_MODE_LONG64)
					continue;
				for (unsigned mod = 0; mod < 3; mod++)
					for (unsigned sib = 0; sib < 256; sib++)
						for (unsigned op = 0; op < 3; op++) {
							static const uint8_t ops[] = { 0x8b, 0x89,
										       0x81 };
							uint8_t b[24] = { 0 };
							size_t n = 0;
							if (a)
								b[n++] = 0x67;
							if (ri)
								b[n++] = 0x40 | ri;
							b[n++] = ops[op];
							b[n++] = (uint8_t)(mod << 6 | 0x1c);
							b[n++] = (uint8_t)sib;
							for (unsigned k = 0; k < 8; k++)
								b[n++] = (uint8_t)(0x80 + 17 * k);
							check_or_fail(mi, b, n);
						}
			}
	total_compared += zc.compared - before;
	printf("systematic SIB sweep: %lu encodings compared\n", zc.compared - before);
}

/* Deterministic pseudo-random byte strings; prefixes and listed opcodes are made likely so most
 * strings decode. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void random_sweep(void **state)
{
	static const uint8_t pfx[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e,
				       0x26, 0x64, 0x65, 0x40, 0x48, 0x44, 0x41, 0x4c };
	static const uint8_t ops[] = { 0x00, 0x01, 0x02, 0x03, 0x08, 0x0b, 0x10, 0x13, 0x18,
				       0x1a, 0x20, 0x23, 0x28, 0x29, 0x30, 0x33, 0x38, 0x3b,
				       0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
				       0x89, 0x8a, 0x8b, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
				       0xaa, 0xab, 0xc6, 0xc7, 0xf6, 0xf7, 0x0f };
	unsigned long before = zc.compared;
	(void)state;

	for (unsigned iter = 0; iter < 300000; iter++) {
		uint8_t b[16];
		unsigned n = 0, mi = rnd() % ZC_NR_MODES, np = rnd() % 5;
		size_t len;

		for (unsigned i = 0; i < 16; i++)
			b[i] = (uint8_t)rnd();
		if (iter % 4) {
			for (unsigned i = 0; i < np; i++)
				b[n++] = pfx[rnd() % ARRAY_SIZE(pfx)];
			b[n++] = ops[rnd() % ARRAY_SIZE(ops)];
			if (b[n - 1] == 0x0f)
				b[n++] = 0xb6 + (rnd() % 2) + 8 * (rnd() % 2);
		}
		len = iter % 7 ? 16 : 1 + rnd() % 16;
		check_or_fail(mi, b, len);
	}
	total_compared += zc.compared - before;
	printf("random sweep: %lu encodings compared\n", zc.compared - before);
}

/* The bytes of 0F op ModRM after prefix (its length first) and a REX (0x3f: none): 0 when a
 * REX is asked for outside 64-bit mode. */
static size_t special_mov_bytes(uint8_t b[8], const uint8_t prefix[3], unsigned rex,
				enum x86_cpu_mode mode, uint8_t op, unsigned modrm)
{
	size_t n = 0;
	for (unsigned k = 0; k < prefix[0]; k++)
		b[n++] = prefix[1 + k];
	if (rex != 0x3f) {
		if (mode != X86_MODE_LONG64)
			return 0;
		b[n++] = (uint8_t)rex;
	}
	b[n++] = 0x0f;
	b[n++] = op;
	b[n++] = (uint8_t)modrm;
	return n;
}

/* MOV to CR8 (the CR8-write exit's decoder): every ModRM byte after each prefix and REX
 * combination, against Zydis in 64-bit and 32-bit mode. Where Zydis sees a MOV to CR8, keel must
 * name the same source register and length; anywhere else keel must refuse. AMD's LOCK form
 * (F0 0F 22 /r, reg 0) by known answers. */
static void mov_to_cr8(void **state)
{
	(void)state;
	static const uint8_t prefixes[][3] = { { 0 }, { 1, 0x66 }, { 1, 0x2e }, { 2, 0xf3, 0x67 } };
	unsigned long agreed = 0;
	for (unsigned mi = 0; mi < ZC_NR_MODES; mi++) {
		enum x86_cpu_mode mode = zc_modes[mi].mode;
		if (mode != X86_MODE_LONG64 && mode != X86_MODE_PROT32)
			continue;
		for (unsigned p = 0; p < 4; p++)
			for (unsigned rex = 0x3f; rex <= 0x4f; rex++)
				for (unsigned modrm = 0; modrm < 256; modrm++) {
					uint8_t b[8];
					size_t n = special_mov_bytes(b, prefixes[p], rex, mode,
								     0x22, modrm);
					if (!n)
						continue;
					ZydisDecodedInstruction zi;
					ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
					bool z_cr8 = ZYAN_SUCCESS(ZydisDecoderDecodeFull(
							     &zc.dec[mi], b, n, &zi, zo)) &&
						     zi.mnemonic == ZYDIS_MNEMONIC_MOV &&
						     zo[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
						     zo[0].reg.value == ZYDIS_REGISTER_CR8;
					unsigned gpr = 99, len = 0;
					int r = x86_decode_mov_to_cr8(b, n, mode, &gpr, &len);
					if (!z_cr8) {
						assert_int_equal(r, -X86_EUNSUPPORTED);
						continue;
					}
					assert_int_equal(r, 0);
					assert_int_equal(len, zi.length);
					assert_int_equal(ZydisRegisterGetId(zo[1].reg.value), gpr);
					agreed++;
				}
	}
	printf("mov to cr8 vs zydis: %lu encodings agreed\n", agreed);
	assert_true(agreed >= 4 * 8 * 256 / 8); /* REX.R forms of each prefix set, each ModRM */

	unsigned gpr, len;
	const uint8_t lock32[] = { 0xf0, 0x0f, 0x22, 0xc3 }; /* lock mov cr0, ebx = mov cr8, ebx */
	assert_int_equal(x86_decode_mov_to_cr8(lock32, 4, X86_MODE_PROT32, &gpr, &len), 0);
	assert_int_equal(gpr, 3);
	assert_int_equal(len, 4);
	const uint8_t lock_cr1[] = { 0xf0, 0x0f, 0x22, 0xcb }; /* reg 1: CR9, no such register */
	assert_int_equal(x86_decode_mov_to_cr8(lock_cr1, 4, X86_MODE_PROT32, &gpr, &len),
			 -X86_EUNSUPPORTED);
	const uint8_t rex_b[] = { 0x45, 0x0f, 0x22, 0xc7 }; /* mov cr8, r15 */
	assert_int_equal(x86_decode_mov_to_cr8(rex_b, 4, X86_MODE_LONG64, &gpr, &len), 0);
	assert_int_equal(gpr, 15);
	assert_int_equal(x86_decode_mov_to_cr8(rex_b, 3, X86_MODE_LONG64, &gpr, &len), -X86_ETRUNC);
	const uint8_t other[] = { 0x0f, 0x20, 0xc0 }; /* mov eax, cr0 */
	assert_int_equal(x86_decode_mov_to_cr8(other, 3, X86_MODE_LONG64, &gpr, &len),
			 -X86_EUNSUPPORTED);
}

/* MOV to DRn (the DR7-write exit's decoder): every ModRM byte after each prefix set (LOCK
 * included) and REX, in 64-bit and 32-bit mode, against Zydis: where Zydis sees a MOV to DR0-DR7,
 * keel must name the same debug register, source register and length; anywhere else (DR8-DR15
 * through REX.R, LOCK, other opcodes) keel must refuse. */
static void mov_to_dr(void **state)
{
	(void)state;
	static const uint8_t prefixes[][3] = { { 0 }, { 1, 0x66 }, { 1, 0xf0 }, { 2, 0x3e, 0x67 } };
	unsigned long agreed = 0;
	for (unsigned mi = 0; mi < ZC_NR_MODES; mi++) {
		enum x86_cpu_mode mode = zc_modes[mi].mode;
		if (mode != X86_MODE_LONG64 && mode != X86_MODE_PROT32)
			continue;
		for (unsigned p = 0; p < 4; p++)
			for (unsigned rex = 0x3f; rex <= 0x4f; rex++)
				for (unsigned modrm = 0; modrm < 256; modrm++) {
					uint8_t b[8];
					size_t n = special_mov_bytes(b, prefixes[p], rex, mode,
								     0x23, modrm);
					if (!n)
						continue;
					ZydisDecodedInstruction zi;
					ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
					bool z_dr = ZYAN_SUCCESS(ZydisDecoderDecodeFull(
							    &zc.dec[mi], b, n, &zi, zo)) &&
						    zi.mnemonic == ZYDIS_MNEMONIC_MOV &&
						    zo[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
						    zo[0].reg.value >= ZYDIS_REGISTER_DR0 &&
						    zo[0].reg.value <= ZYDIS_REGISTER_DR7;
					unsigned dr = 99, gpr = 99, len = 0;
					int r = x86_decode_mov_to_dr(b, n, mode, &dr, &gpr, &len);
					if (!z_dr) {
						assert_int_equal(r, -X86_EUNSUPPORTED);
						continue;
					}
					assert_int_equal(r, 0);
					assert_int_equal(dr, zo[0].reg.value - ZYDIS_REGISTER_DR0);
					assert_int_equal(len, zi.length);
					assert_int_equal(ZydisRegisterGetId(zo[1].reg.value), gpr);
					agreed++;
				}
	}
	printf("mov to dr vs zydis: %lu encodings agreed\n", agreed);
	assert_true(agreed >= 3 * 256); /* each ModRM of the prefix sets without LOCK, 32-bit */

	unsigned dr, gpr, len;
	const uint8_t mov_dr7_rax[] = { 0x0f, 0x23, 0xf8 };
	assert_int_equal(x86_decode_mov_to_dr(mov_dr7_rax, 3, X86_MODE_LONG64, &dr, &gpr, &len), 0);
	assert_int_equal(dr, 7);
	assert_int_equal(gpr, 0);
	assert_int_equal(len, 3);
	const uint8_t rex_b[] = { 0x41, 0x0f, 0x23, 0xff }; /* mov dr7, r15 */
	assert_int_equal(x86_decode_mov_to_dr(rex_b, 4, X86_MODE_LONG64, &dr, &gpr, &len), 0);
	assert_int_equal(gpr, 15);
	assert_int_equal(len, 4);
	assert_int_equal(x86_decode_mov_to_dr(rex_b, 3, X86_MODE_LONG64, &dr, &gpr, &len),
			 -X86_ETRUNC);
	const uint8_t from_dr7[] = { 0x0f, 0x21, 0xf8 }; /* mov rax, dr7 */
	assert_int_equal(x86_decode_mov_to_dr(from_dr7, 3, X86_MODE_LONG64, &dr, &gpr, &len),
			 -X86_EUNSUPPORTED);
}

/* x86_decode_cr_write: MOV to CRn, CLTS and LMSW (register and memory forms, with a 6-byte tail
 * of displacement bytes) under prefix sets, every REX and every ModRM, in every mode, against
 * Zydis: where Zydis sees one of them, keel must name the same kind, register or memory operand
 * and length; where Zydis sees something else, keel must refuse. */
static void cr_write(void **state)
{
	(void)state;
	static const uint8_t prefixes[][3] = { { 0 }, { 1, 0x66 }, { 1, 0x64 }, { 2, 0xf3, 0x67 } };
	static const uint8_t ops[][2] = { { 0x22, 1 }, { 0x06, 0 }, { 0x01, 1 } };
	unsigned long agreed[3] = { 0, 0, 0 };
	for (unsigned mi = 0; mi < ZC_NR_MODES; mi++) {
		enum x86_cpu_mode mode = zc_modes[mi].mode;
		for (unsigned p = 0; p < 4; p++)
			for (unsigned rex = 0x3f; rex <= 0x4f; rex++)
				for (unsigned o = 0; o < 3; o++)
					for (unsigned modrm = 0; modrm < (ops[o][1] ? 256u : 1u);
					     modrm++) {
						if (rex != 0x3f && mode != X86_MODE_LONG64)
							continue;
						uint8_t b[16];
						size_t n = 0;
						for (unsigned k = 0; k < prefixes[p][0]; k++)
							b[n++] = prefixes[p][1 + k];
						if (rex != 0x3f)
							b[n++] = (uint8_t)rex;
						b[n++] = 0x0f;
						b[n++] = ops[o][0];
						if (ops[o][1])
							b[n++] = (uint8_t)modrm;
						for (unsigned k = 0; k < 6; k++) /* SIB, disp */
							b[n++] = (uint8_t)(0x25 + 0x11 * k);
						ZydisDecodedInstruction zi;
						ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
						bool zok = ZYAN_SUCCESS(ZydisDecoderDecodeFull(
							&zc.dec[mi], b, n, &zi, zo));
						ZydisMnemonic zm =
							zok ? zi.mnemonic : ZYDIS_MNEMONIC_INVALID;
						bool z_mov =
							zm == ZYDIS_MNEMONIC_MOV &&
							zo[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
							ZydisRegisterGetClass(zo[0].reg.value) ==
								ZYDIS_REGCLASS_CONTROL;
						bool z_clts = zm == ZYDIS_MNEMONIC_CLTS;
						bool z_lmsw = zm == ZYDIS_MNEMONIC_LMSW;
						struct x86_insn in;
						enum x86_cr_write kind = X86_CRW_CLTS;
						unsigned cr = 99;
						int r = x86_decode_cr_write(b, n, mode, &in, &kind,
									    &cr);
						if (!z_mov && !z_clts && !z_lmsw) {
							/* Zydis refuses MOV to CR1/5/6/7 and CR9+,
							 * which keel leaves to its caller */
							if (r == 0 && kind == X86_CRW_MOV)
								continue;
							assert_int_not_equal(r, 0);
							continue;
						}
						assert_int_equal(r, 0);
						assert_int_equal(in.len, zi.length);
						if (z_clts) {
							assert_int_equal(kind, X86_CRW_CLTS);
							agreed[1]++;
						} else if (z_mov) {
							assert_int_equal(kind, X86_CRW_MOV);
							assert_int_equal(cr,
									 ZydisRegisterGetId(
										 zo[0].reg.value));
							assert_int_equal(in.rm_reg,
									 ZydisRegisterGetId(
										 zo[1].reg.value));
							agreed[0]++;
						} else {
							assert_int_equal(kind, X86_CRW_LMSW);
							if (zo[0].type ==
							    ZYDIS_OPERAND_TYPE_MEMORY) {
								assert_true(in.has_mem);
								bool eq = zc_mem_equal(
									&zc, &in, &in.mem, &zo[0]);
								if (!eq)
									printf("%s\n", zc.msg);
								assert_true(eq);
							} else {
								assert_false(in.has_mem);
								assert_int_equal(
									in.rm_reg,
									ZydisRegisterGetId(
										zo[0].reg.value));
							}
							agreed[2]++;
						}
					}
	}
	printf("cr writes vs zydis: %lu MOV, %lu CLTS, %lu LMSW encodings agreed\n", agreed[0],
	       agreed[1], agreed[2]);
	assert_true(agreed[0] > 4000 && agreed[1] >= 24 && agreed[2] > 2000);

	/* AMD's LOCK MOV CR0 = MOV CR8; truncated forms */
	struct x86_insn in;
	enum x86_cr_write kind;
	unsigned cr;
	const uint8_t lock32[] = { 0xf0, 0x0f, 0x22, 0xc3 };
	assert_int_equal(x86_decode_cr_write(lock32, 4, X86_MODE_PROT32, &in, &kind, &cr), 0);
	assert_int_equal(cr, 8);
	assert_int_equal(in.rm_reg, 3);
	assert_int_equal(x86_decode_cr_write(lock32, 3, X86_MODE_PROT32, &in, &kind, &cr),
			 -X86_ETRUNC);
	const uint8_t lmsw_mem[] = { 0x0f, 0x01, 0x36, 0x00, 0x10 }; /* lmsw [0x1000] (16-bit) */
	assert_int_equal(x86_decode_cr_write(lmsw_mem, 4, X86_MODE_REAL, &in, &kind, &cr),
			 -X86_ETRUNC);
	assert_int_equal(x86_decode_cr_write(lmsw_mem, 5, X86_MODE_REAL, &in, &kind, &cr), 0);
	assert_int_equal(kind, X86_CRW_LMSW);
	assert_int_equal(in.len, 5);
	assert_int_equal(in.mem.base, X86_REG_NONE);
	assert_int_equal(in.mem.disp, 0x1000);
	const uint8_t lock_lmsw[] = { 0xf0, 0x0f, 0x01, 0xf0 };
	assert_int_equal(x86_decode_cr_write(lock_lmsw, 4, X86_MODE_PROT32, &in, &kind, &cr),
			 -X86_EINVALID);
	const uint8_t sgdt[] = { 0x0f, 0x01, 0x00 };
	assert_int_equal(x86_decode_cr_write(sgdt, 3, X86_MODE_PROT32, &in, &kind, &cr),
			 -X86_EUNSUPPORTED);
}

static void summary(void **state)
{
	(void)state;
	printf("decoder vs zydis: %lu encodings compared, %lu rejected by both or unlisted\n",
	       total_compared, zc.rejected);
	assert_true(total_compared > 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_answers),  cmocka_unit_test(systematic_modrm),
		cmocka_unit_test(systematic_sib), cmocka_unit_test(random_sweep),
		cmocka_unit_test(mov_to_cr8),	  cmocka_unit_test(mov_to_dr),
		cmocka_unit_test(cr_write),	  cmocka_unit_test(summary),
	};
	zc_init(&zc);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
