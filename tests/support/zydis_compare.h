/* Differential check of keel's decoder (arch/x86/emul/decode.h) against Zydis 4, shared by
 * tests/unit/test_decoder.c and tests/fuzz/fuzz_decoder.c (header only: only those two binaries
 * link -lZydis). Zydis is the reference for facts; no Zydis code is copied into keel. */
#ifndef KEEL_TESTS_SUPPORT_ZYDIS_COMPARE_H
#define KEEL_TESTS_SUPPORT_ZYDIS_COMPARE_H

#include <Zydis/Zydis.h>
#include <stdio.h>

#include "arch/x86/emul/decode.h"
#include "lib/kstring.h"

/* The Zydis machine modes we compare, with the keel mode that decodes the same way. */
struct zc_mode {
	enum x86_cpu_mode mode;
	ZydisMachineMode zmode;
	ZydisStackWidth stack;
	const char *name;
};

static const struct zc_mode zc_modes[] = {
	{ X86_MODE_REAL, ZYDIS_MACHINE_MODE_REAL_16, ZYDIS_STACK_WIDTH_16, "real" },
	{ X86_MODE_PROT16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16, "prot16" },
	{ X86_MODE_PROT32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32, "prot32" },
	{ X86_MODE_PROT16, ZYDIS_MACHINE_MODE_LONG_COMPAT_16, ZYDIS_STACK_WIDTH_16, "compat16" },
	{ X86_MODE_PROT32, ZYDIS_MACHINE_MODE_LONG_COMPAT_32, ZYDIS_STACK_WIDTH_32, "compat32" },
	{ X86_MODE_LONG64, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64, "long64" },
};
#define ZC_NR_MODES (sizeof(zc_modes) / sizeof(zc_modes[0]))

struct zc_state {
	ZydisDecoder dec[ZC_NR_MODES];
	unsigned long compared;	    /* encodings both decoders accepted and agreed on */
	unsigned long rejected;	    /* listed-opcode encodings both rejected, or unlisted ones */
	unsigned long zydis_bug592; /* known Zydis 4.0.0 mistakes tolerated (zc_mem_equal) */
	char msg[512];
};

static inline void zc_init(struct zc_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < ZC_NR_MODES; i++)
		ZydisDecoderInit(&s->dec[i], zc_modes[i].zmode, zc_modes[i].stack);
}

/* Zydis register for keel's (number, size, high8). */
static inline ZydisRegister zc_gpr(unsigned num, unsigned size, bool high8)
{
	switch (size) {
	case 1:
		return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR8, high8 || num < 4 ? num : num + 4);
	case 2:
		return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR16, num);
	case 4:
		return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR32, num);
	default:
		return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR64, num);
	}
}

/* Is this Zydis instruction one of the opcodes keel promises to decode? */
static inline bool zc_listed(const ZydisDecodedInstruction *zi, ZydisMachineMode zmode)
{
	uint8_t o = zi->opcode;

	if (zi->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		return false;
	if (zi->opcode_map == ZYDIS_OPCODE_MAP_0F)
		return o == 0xb6 || o == 0xb7 || o == 0xbe || o == 0xbf;
	if (zi->opcode_map != ZYDIS_OPCODE_MAP_DEFAULT)
		return false;
	if (o < 0x40 && (o & 7) < 4)
		return true;
	if (o == 0x82)
		return zmode != ZYDIS_MACHINE_MODE_LONG_64;
	if (o >= 0x80 && o <= 0x8b)
		return true;
	if ((o >= 0xa0 && o <= 0xa5) || o == 0xaa || o == 0xab)
		return true;
	if (o == 0xc6 || o == 0xc7)
		return zi->mnemonic == ZYDIS_MNEMONIC_MOV;
	if (o == 0xf6 || o == 0xf7)
		return zi->mnemonic == ZYDIS_MNEMONIC_TEST;
	return false;
}

static inline bool zc_mnemonic_ok(const struct x86_insn *in, ZydisMnemonic m)
{
	static const ZydisMnemonic alu[8] = {
		ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR,	ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB,
		ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP,
	};
	static const ZydisMnemonic movs[9] = { [1] = ZYDIS_MNEMONIC_MOVSB,
					       [2] = ZYDIS_MNEMONIC_MOVSW,
					       [4] = ZYDIS_MNEMONIC_MOVSD,
					       [8] = ZYDIS_MNEMONIC_MOVSQ };
	static const ZydisMnemonic stos[9] = { [1] = ZYDIS_MNEMONIC_STOSB,
					       [2] = ZYDIS_MNEMONIC_STOSW,
					       [4] = ZYDIS_MNEMONIC_STOSD,
					       [8] = ZYDIS_MNEMONIC_STOSQ };
	switch (in->op) {
	case X86_OP_MOV:
		return m == ZYDIS_MNEMONIC_MOV;
	case X86_OP_MOVZX:
		return m == ZYDIS_MNEMONIC_MOVZX;
	case X86_OP_MOVSX:
		return m == ZYDIS_MNEMONIC_MOVSX;
	case X86_OP_TEST:
		return m == ZYDIS_MNEMONIC_TEST;
	case X86_OP_XCHG:
		return m == ZYDIS_MNEMONIC_XCHG;
	case X86_OP_MOVS:
		return m == movs[in->op_size];
	case X86_OP_STOS:
		return m == stos[in->op_size];
	default:
		return in->op >= X86_OP_ADD && in->op <= X86_OP_CMP &&
		       m == alu[in->op - X86_OP_ADD];
	}
}

static inline ZydisRegister zc_base_reg(const struct x86_insn *in, uint8_t r)
{
	if (r == X86_REG_NONE)
		return ZYDIS_REGISTER_NONE;
	return zc_gpr(r, in->addr_size, false);
}

/* Compares keel's memory operand with a Zydis one; false + s->msg on a difference. */
static inline bool zc_mem_equal(struct zc_state *s, const struct x86_insn *in,
				const struct x86_mem *m, const ZydisDecodedOperand *zo)
{
	ZydisRegister base =
		m->rip_rel ? (in->addr_size == 8 ? ZYDIS_REGISTER_RIP : ZYDIS_REGISTER_EIP)
			   : zc_base_reg(in, m->base);
	ZydisRegister index = zc_base_reg(in, m->index);
	uint64_t amask = in->addr_size == 8 ? ~0ull : (1ull << (8 * in->addr_size)) - 1;
	unsigned zscale = zo->mem.scale ? zo->mem.scale : 1;

	/* Zydis 4.0.0 bug (zyantific/zydis#592, fixed after 4.0.0 by #593): with 67 and REX.B in
	 * 64-bit mode, SIB base=101 mod=00 is reported as [r13d] without its disp32; the SDM (vol
	 * 2, Table 2-5) says no base, disp32, and so do Zydis's own length and non-67 forms. */
	if (in->mode == X86_MODE_LONG64 && in->addr_size == 4 && m->base == X86_REG_NONE &&
	    !m->rip_rel && zo->mem.base == ZYDIS_REGISTER_R13D && zo->mem.disp.value == 0) {
		s->zydis_bug592++;
		return zo->mem.index == index &&
		       (index == ZYDIS_REGISTER_NONE || zscale == m->scale);
	}

	if (zo->mem.base != base || zo->mem.index != index ||
	    (index != ZYDIS_REGISTER_NONE && zscale != m->scale) ||
	    ((uint64_t)zo->mem.disp.value & amask) != ((uint64_t)m->disp & amask) ||
	    zo->mem.segment != (ZydisRegister)(ZYDIS_REGISTER_ES + m->seg)) {
		snprintf(s->msg, sizeof(s->msg),
			 "mem: keel base %s index %s*%u disp %#llx seg %u; zydis base %s index "
			 "%s*%u disp %#llx seg %s",
			 ZydisRegisterGetString(base), ZydisRegisterGetString(index), m->scale,
			 (unsigned long long)m->disp, m->seg, ZydisRegisterGetString(zo->mem.base),
			 ZydisRegisterGetString(zo->mem.index), zo->mem.scale,
			 (unsigned long long)zo->mem.disp.value,
			 ZydisRegisterGetString(zo->mem.segment));
		return false;
	}
	return true;
}

/* Decodes bytes with both decoders in zc_modes[mi]. Returns true when they agree: keel accepted
 * and Zydis agrees on everything keel reports, or keel rejected and the instruction is not one
 * keel promises to handle. On false, s->msg says why. */
static inline bool zc_check(struct zc_state *s, unsigned mi, const uint8_t *bytes, size_t len)
{
	const struct zc_mode *md = &zc_modes[mi];
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	struct x86_insn in;
	int rc = x86_decode(bytes, len, md->mode, &in);
	bool zok = ZYAN_SUCCESS(ZydisDecoderDecodeFull(&s->dec[mi], bytes, len, &zi, zo));
	ZydisRegister want_regs[2], got_regs[4];
	unsigned nwant = 0, ngot = 0, nmem = 0;
	const ZydisDecodedOperand *zmem[2] = { NULL, NULL }, *zimm = NULL;
	char *p;

	s->msg[0] = 0;
	if (rc) {
		if (zok && zc_listed(&zi, md->zmode)) {
			snprintf(s->msg, sizeof(s->msg),
				 "keel rejects (%d) what zydis decodes as %s", rc,
				 ZydisMnemonicGetString(zi.mnemonic));
			goto fail;
		}
		s->rejected++;
		return true;
	}
	if (!zok) {
		snprintf(s->msg, sizeof(s->msg), "keel accepts what zydis rejects");
		goto fail;
	}
	if (zi.length != in.len || !zc_mnemonic_ok(&in, zi.mnemonic) ||
	    zi.operand_width != 8 * in.op_size || zi.address_width != 8 * in.addr_size ||
	    !!(zi.attributes & ZYDIS_ATTRIB_HAS_LOCK) != in.lock) {
		snprintf(s->msg, sizeof(s->msg),
			 "keel len %u op %u opsize %u asize %u lock %d; zydis len %u %s opsize %u "
			 "asize %u lock %d",
			 in.len, in.op, in.op_size, in.addr_size, in.lock, zi.length,
			 ZydisMnemonicGetString(zi.mnemonic), zi.operand_width, zi.address_width,
			 !!(zi.attributes & ZYDIS_ATTRIB_HAS_LOCK));
		goto fail;
	}
	if ((in.op == X86_OP_MOVS || in.op == X86_OP_STOS) &&
	    !!(zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
				ZYDIS_ATTRIB_HAS_REPNE)) != (in.rep != X86_REP_NONE)) {
		snprintf(s->msg, sizeof(s->msg), "rep: keel %u, zydis attributes %#llx", in.rep,
			 (unsigned long long)zi.attributes);
		goto fail;
	}
	for (unsigned i = 0; i < zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &zo[i];
		/* string instructions have only hidden operands in Zydis */
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && nmem < 2)
			zmem[nmem++] = o;
		else if (o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			continue;
		else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && ngot < 4)
			got_regs[ngot++] = o->reg.value;
		else if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			zimm = o;
	}
	/* memory operands: MOVS lists [rDI] then [rSI]; everything else has one or none */
	if (in.op == X86_OP_MOVS) {
		if (nmem != 2 || !zc_mem_equal(s, &in, &in.mem2, zmem[0]) ||
		    !zc_mem_equal(s, &in, &in.mem, zmem[1]))
			goto fail_mem;
	} else if (nmem != (unsigned)in.has_mem ||
		   (in.has_mem && !zc_mem_equal(s, &in, &in.mem, zmem[0]))) {
		goto fail_mem;
	}
	for (unsigned i = 0; i < nmem; i++) {
		if (zmem[i]->size != 8 * in.mem_size) {
			snprintf(s->msg, sizeof(s->msg), "mem size: keel %u, zydis %u bits",
				 in.mem_size, zmem[i]->size);
			goto fail;
		}
	}
	if (in.reg != X86_REG_NONE && in.op != X86_OP_STOS)
		want_regs[nwant++] = zc_gpr(in.reg, in.op_size, in.reg_high8);
	if (in.rm_reg != X86_REG_NONE)
		want_regs[nwant++] = zc_gpr(in.rm_reg, in.mem_size, in.rm_high8);
	{
		bool same = nwant == ngot;
		for (unsigned i = 0; same && i < nwant; i++) {
			bool found = false;
			for (unsigned j = 0; j < ngot; j++)
				found |= got_regs[j] == want_regs[i];
			same = found;
		}
		if (!same) {
			snprintf(s->msg, sizeof(s->msg),
				 "registers: keel %u (%s %s), zydis %u (%s %s)", nwant,
				 nwant > 0 ? ZydisRegisterGetString(want_regs[0]) : "-",
				 nwant > 1 ? ZydisRegisterGetString(want_regs[1]) : "-", ngot,
				 ngot > 0 ? ZydisRegisterGetString(got_regs[0]) : "-",
				 ngot > 1 ? ZydisRegisterGetString(got_regs[1]) : "-");
			goto fail;
		}
	}
	if (!!zimm != in.has_imm) {
		snprintf(s->msg, sizeof(s->msg), "immediate: keel %d, zydis %d", in.has_imm,
			 !!zimm);
		goto fail;
	}
	if (zimm) {
		uint64_t mask = in.op_size == 8 ? ~0ull : (1ull << (8 * in.op_size)) - 1;
		if ((zimm->imm.value.u & mask) != (in.imm & mask)) {
			snprintf(s->msg, sizeof(s->msg), "immediate: keel %#llx, zydis %#llx",
				 (unsigned long long)in.imm, (unsigned long long)zimm->imm.value.u);
			goto fail;
		}
	}
	s->compared++;
	return true;

fail_mem:
	if (!s->msg[0])
		snprintf(s->msg, sizeof(s->msg), "memory operand count: keel %d, zydis %u",
			 in.has_mem + (in.op == X86_OP_MOVS), nmem);
fail:
	/* append the mode and bytes so a failure can be reproduced by hand */
	p = s->msg + strlen(s->msg);
	p += snprintf(p, (size_t)(s->msg + sizeof(s->msg) - p), " [%s:", md->name);
	for (size_t i = 0; i < len && i < 16 && p < s->msg + sizeof(s->msg) - 4; i++)
		p += snprintf(p, (size_t)(s->msg + sizeof(s->msg) - p), " %02x", bytes[i]);
	snprintf(p, (size_t)(s->msg + sizeof(s->msg) - p), "]");
	return false;
}

#endif
