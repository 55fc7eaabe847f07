/* x86 decoder for MMIO emulation (decode.h). Encoding facts: Intel SDM vol 2, chapter 2
 * (instruction format, prefixes, ModRM/SIB tables 2-1 to 2-3, REX 2.2.1) and appendix A (opcode
 * maps); AMD APM vol 3, 1.2 for the 64-bit-mode segment prefix rule. */
#include "arch/x86/emul/decode.h"

#include "lib/kstring.h"

struct cursor {
	const uint8_t *bytes;
	size_t len;
	size_t pos;
	int err;
};

/* Next byte, or 0 with c->err set once the bytes (or the 15-byte limit) end. */
static uint8_t next_byte(struct cursor *c)
{
	if (c->err)
		return 0;
	if (c->pos >= X86_MAX_INSN_LEN) {
		c->err = -X86_ETOOLONG;
		return 0;
	}
	if (c->pos >= c->len) {
		c->err = -X86_ETRUNC;
		return 0;
	}
	return c->bytes[c->pos++];
}

/* Little-endian immediate or displacement of n bytes, zero-extended. */
static uint64_t next_le(struct cursor *c, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)next_byte(c) << (8 * i);
	return v;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;
	return (int64_t)(v << shift) >> shift;
}

struct prefixes {
	bool opsize;   /* 66 */
	bool addrsize; /* 67 */
	bool lock;     /* F0 */
	uint8_t rep;   /* enum x86_rep: the last of F2/F3 */
	int seg;       /* enum x86_seg of the override in effect, or -1 */
	uint8_t rex;   /* 0, or the REX byte immediately before the opcode */
};

static int seg_of_prefix(uint8_t b)
{
	switch (b) {
	case 0x26:
		return X86_SEG_ES;
	case 0x2e:
		return X86_SEG_CS;
	case 0x36:
		return X86_SEG_SS;
	case 0x3e:
		return X86_SEG_DS;
	case 0x64:
		return X86_SEG_FS;
	case 0x65:
		return X86_SEG_GS;
	default:
		return -1;
	}
}

/* Reads the prefixes and returns the first opcode byte (SDM vol 2, 2.1.1 and 2.2.1). */
static uint8_t read_prefixes(struct cursor *c, bool long64, struct prefixes *p)
{
	for (;;) {
		uint8_t b = next_byte(c);
		int seg = seg_of_prefix(b);

		if (c->err)
			return 0;
		if (long64 && (b & 0xf0) == 0x40) {
			/* REX counts only when the opcode follows it directly (SDM vol 2, 2.2.1): a
			 * legacy prefix after it clears it below. */
			p->rex = b;
			continue;
		}
		if (seg >= 0) {
			/* In 64-bit mode CS, DS, ES and SS overrides are ignored; FS and GS count
			 * (AMD APM vol 3, 1.2.4). */
			if (!long64 || seg >= X86_SEG_FS)
				p->seg = seg;
		} else if (b == 0x66) {
			p->opsize = true;
		} else if (b == 0x67) {
			p->addrsize = true;
		} else if (b == 0xf0) {
			p->lock = true;
		} else if (b == 0xf2) {
			p->rep = X86_REP_NE;
		} else if (b == 0xf3) {
			p->rep = X86_REP_E;
		} else {
			return b;
		}
		p->rex = 0;
	}
}

/* ModRM (+ SIB + displacement) into out->mem or out->rm_reg; returns ModRM.reg (REX.R applied). */
static unsigned decode_modrm(struct cursor *c, const struct prefixes *p, struct x86_insn *out)
{
	uint8_t modrm = next_byte(c);
	unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
	struct x86_mem *m = &out->mem;
	unsigned disp_size = 0;

	if (p->rex & 4)
		reg |= 8;
	m->base = m->index = X86_REG_NONE;
	m->scale = 1;
	if (mod == 3) {
		out->has_mem = false;
		out->rm_reg = rm | ((p->rex & 1) << 3);
		return reg;
	}
	out->has_mem = true;
	out->rm_reg = X86_REG_NONE;

	if (out->addr_size == 2) {
		/* 16-bit forms, SDM vol 2, Table 2-1 */
		static const uint8_t base16[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
						   X86_RSI, X86_RDI, X86_RBP, X86_RBX };
		static const uint8_t index16[8] = { X86_RSI,	  X86_RDI,	X86_RSI,
						    X86_RDI,	  X86_REG_NONE, X86_REG_NONE,
						    X86_REG_NONE, X86_REG_NONE };
		if (mod == 0 && rm == 6) {
			disp_size = 2;
		} else {
			m->base = base16[rm];
			m->index = index16[rm];
			disp_size = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		}
	} else {
		/* 32/64-bit forms, SDM vol 2, Tables 2-2 and 2-3, and 2.2.1.6 for RIP-relative */
		if (rm == 4) {
			uint8_t sib = next_byte(c);
			unsigned base = sib & 7, index = ((sib >> 3) & 7) | ((p->rex & 2) << 2);

			if (index != X86_RSP) {
				m->index = index;
				m->scale = 1 << (sib >> 6);
			}
			if (mod == 0 && base == 5)
				disp_size = 4;
			else
				m->base = base | ((p->rex & 1) << 3);
		} else if (mod == 0 && rm == 5) {
			disp_size = 4;
			m->rip_rel = out->mode == X86_MODE_LONG64;
		} else {
			m->base = rm | ((p->rex & 1) << 3);
		}
		if (mod == 1)
			disp_size = 1;
		else if (mod == 2)
			disp_size = 4;
	}
	m->disp = sign_extend(next_le(c, disp_size), disp_size ? disp_size : 8);
	/* rBP or rSP as base selects SS (SDM vol 1, 3.7.4.1); an override wins. */
	m->seg = m->base == X86_RBP || m->base == X86_RSP ? X86_SEG_SS : X86_SEG_DS;
	if (p->seg >= 0)
		m->seg = p->seg;
	return reg;
}

static void set_imm(struct cursor *c, struct x86_insn *out, unsigned size)
{
	out->has_imm = true;
	out->imm = (uint64_t)sign_extend(next_le(c, size), size);
}

/* Size of an Iz immediate: 2 or 4 bytes, sign-extended to 64 for 64-bit operands. */
static unsigned iz_size(const struct x86_insn *out)
{
	return out->op_size == 2 ? 2 : 4;
}

/* String operand [rSI] or [rDI] with the given segment. */
static void string_mem(struct x86_mem *m, uint8_t reg, uint8_t seg)
{
	m->base = reg;
	m->index = X86_REG_NONE;
	m->scale = 1;
	m->rip_rel = false;
	m->seg = seg;
	m->disp = 0;
}

int x86_decode(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, struct x86_insn *out)
{
	struct cursor c = { .bytes = bytes, .len = len };
	struct prefixes p = { .seg = -1 };
	bool long64 = mode == X86_MODE_LONG64;
	bool def16 = mode == X86_MODE_REAL || mode == X86_MODE_PROT16;
	bool lock_ok = false;
	unsigned full_size, reg = 0;
	uint8_t b;

	memset(out, 0, sizeof(*out));
	out->mode = mode;
	out->reg = out->rm_reg = X86_REG_NONE;
	out->mem.base = out->mem.index = out->mem2.base = out->mem2.index = X86_REG_NONE;

	b = read_prefixes(&c, long64, &p);
	if (c.err)
		return c.err;

	/* Operand size: SDM vol 2, 2.2.1.2 (REX.W beats 66); address size: 2.2.1.3 */
	if (long64 && (p.rex & 8))
		full_size = 8;
	else
		full_size = def16 != p.opsize ? 2 : 4;
	if (long64)
		out->addr_size = p.addrsize ? 4 : 8;
	else
		out->addr_size = def16 != p.addrsize ? 2 : 4;
	out->rex = p.rex != 0;
	out->opcode = b;

	/* w bit (opcode bit 0) selects byte or full size for most of the one-byte map */
	out->op_size = (b & 1) ? full_size : 1;

	if (b == 0x0f) {
		out->opmap = 1;
		b = next_byte(&c);
		out->opcode = b;
		switch (b) {
		case 0xb6:
		case 0xb7:
		case 0xbe:
		case 0xbf:
			out->op = b < 0xbe ? X86_OP_MOVZX : X86_OP_MOVSX;
			out->op_size = full_size;
			out->mem_size = (b & 1) ? 2 : 1;
			reg = decode_modrm(&c, &p, out);
			break;
		default:
			return c.err ? c.err : -X86_EUNSUPPORTED;
		}
	} else if (b < 0x40 && (b & 7) < 4) {
		/* 00-3B: ALU op in bits 5:3; d (bit 1) set means the register is the destination */
		out->op = X86_OP_ADD + (b >> 3);
		reg = decode_modrm(&c, &p, out);
		out->mem_is_dst = !(b & 2);
		lock_ok = out->mem_is_dst && out->op != X86_OP_CMP;
	} else if (b == 0x80 || b == 0x81 || b == 0x83 || (b == 0x82 && !long64)) {
		/* group 1, SDM vol 2, Table A-6; 82 is 80's alias outside 64-bit mode */
		unsigned sub = decode_modrm(&c, &p, out) & 7;
		out->op = X86_OP_ADD + sub;
		out->mem_is_dst = true;
		lock_ok = sub != 7;
		set_imm(&c, out, b == 0x81 ? iz_size(out) : 1);
		goto done_noreg;
	} else if (b == 0x84 || b == 0x85 || b == 0x86 || b == 0x87 || (b >= 0x88 && b <= 0x8b)) {
		out->op = b <= 0x85 ? X86_OP_TEST : b <= 0x87 ? X86_OP_XCHG : X86_OP_MOV;
		reg = decode_modrm(&c, &p, out);
		out->mem_is_dst = !(b >= 0x8a);
		lock_ok = out->op == X86_OP_XCHG;
	} else if (b >= 0xa0 && b <= 0xa3) {
		/* moffs: an address-size offset, no ModRM (SDM vol 2, MOV, "moffs") */
		out->op = X86_OP_MOV;
		out->has_mem = true;
		out->mem.scale = 1;
		out->mem.disp = (int64_t)next_le(&c, out->addr_size);
		out->mem.seg = p.seg >= 0 ? p.seg : X86_SEG_DS;
		out->mem_is_dst = b >= 0xa2;
		reg = X86_RAX;
	} else if (b == 0xa4 || b == 0xa5 || b == 0xaa || b == 0xab) {
		/* string ops: the destination is always ES:[rDI] (SDM vol 2, MOVS) */
		uint8_t dseg = p.seg >= 0 ? p.seg : X86_SEG_DS;
		out->has_mem = true;
		out->mem_is_dst = true;
		out->rep = p.rep;
		if (b <= 0xa5) {
			out->op = X86_OP_MOVS;
			string_mem(&out->mem, X86_RSI, dseg);
			string_mem(&out->mem2, X86_RDI, X86_SEG_ES);
		} else {
			out->op = X86_OP_STOS;
			string_mem(&out->mem, X86_RDI, X86_SEG_ES);
			reg = X86_RAX;
		}
		if (out->op == X86_OP_MOVS)
			goto done_noreg;
	} else if (b == 0xc6 || b == 0xc7) {
		/* group 11: /0 is MOV Ev,Iz; /7 with mod=11 is XABORT/XBEGIN, the rest #UD */
		if ((decode_modrm(&c, &p, out) & 7) != 0)
			return c.err ? c.err : -X86_EUNSUPPORTED;
		out->op = X86_OP_MOV;
		out->mem_is_dst = true;
		set_imm(&c, out, b == 0xc7 ? iz_size(out) : 1);
		goto done_noreg;
	} else if (b == 0xf6 || b == 0xf7) {
		/* group 3: /0 and /1 are TEST Ev,Iz (SDM vol 2, Table A-6 note on /1) */
		if ((decode_modrm(&c, &p, out) & 7) > 1)
			return c.err ? c.err : -X86_EUNSUPPORTED;
		out->op = X86_OP_TEST;
		out->mem_is_dst = true;
		set_imm(&c, out, b == 0xf7 ? iz_size(out) : 1);
		goto done_noreg;
	} else {
		return -X86_EUNSUPPORTED;
	}

	out->reg = reg;
	/* Without REX, byte registers 4-7 are AH, CH, DH, BH (SDM vol 2, 2.2.1.2, Table 2-4) */
	out->reg_high8 = out->op_size == 1 && !p.rex && reg >= 4 && reg < 8;
done_noreg:
	if (c.err)
		return c.err;
	if (!out->mem_size)
		out->mem_size = out->op_size;
	out->rm_high8 = !out->has_mem && out->mem_size == 1 && !p.rex && out->rm_reg >= 4 &&
			out->rm_reg < 8;
	/* LOCK is allowed only on read-modify-write forms with a memory destination (SDM vol 2,
	 * LOCK); anything else raises #UD. */
	if (p.lock && (!lock_ok || !out->has_mem))
		return -X86_EINVALID;
	out->lock = p.lock;
	if (out->op != X86_OP_MOVS && out->op != X86_OP_STOS)
		out->rep = X86_REP_NONE;
	out->len = (uint8_t)c.pos;
	return 0;
}

/* The prefixes of a MOV to or from a control or debug register: legacy prefixes in any order (the
 * segment and size ones change nothing there), then REX in 64-bit mode, which must come right
 * before the opcode (SDM vol 2, 2.2.1). Returns where the opcode starts. */
static size_t mov_special_prefixes(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode,
				   bool *lock, uint8_t *rex)
{
	size_t i = 0;
	*lock = false;
	*rex = 0;
	for (; i < len && i < X86_MAX_INSN_LEN; i++) {
		uint8_t b = bytes[i];
		if (b == 0xf0) {
			*lock = true;
			*rex = 0;
		} else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 ||
			   b == 0x65 || b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3) {
			*rex = 0; /* a REX before another prefix is ignored */
		} else if (mode == X86_MODE_LONG64 && (b & 0xf0) == 0x40) {
			*rex = b;
		} else {
			break;
		}
	}
	return i;
}

/* 0F op ModRM after the prefixes at i: 0 or why not. The mod field is ignored: the operand is
 * always a register (SDM vol 2, MOV CRn and MOV DRn). */
static int mov_special_opcode(const uint8_t *bytes, size_t len, size_t i, uint8_t op)
{
	if (i + 3 > len || i + 3 > X86_MAX_INSN_LEN)
		return i + 3 > X86_MAX_INSN_LEN ? -X86_EUNSUPPORTED : -X86_ETRUNC;
	if (bytes[i] != 0x0f || bytes[i + 1] != op)
		return -X86_EUNSUPPORTED;
	return 0;
}

int x86_decode_mov_to_cr8(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, unsigned *gpr,
			  unsigned *insn_len)
{
	bool lock;
	uint8_t rex;
	size_t i = mov_special_prefixes(bytes, len, mode, &lock, &rex);
	int r = mov_special_opcode(bytes, len, i, 0x22);
	if (r)
		return r;
	uint8_t modrm = bytes[i + 2];
	unsigned cr = (((rex >> 2) & 1) << 3 | ((modrm >> 3) & 7)) + (lock ? 8 : 0);
	if (cr != 8)
		return -X86_EUNSUPPORTED;
	*gpr = (unsigned)((rex & 1) << 3) | (modrm & 7);
	*insn_len = (unsigned)i + 3;
	return 0;
}

int x86_decode_mov_to_dr(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, unsigned *dr,
			 unsigned *gpr, unsigned *insn_len)
{
	bool lock;
	uint8_t rex;
	size_t i = mov_special_prefixes(bytes, len, mode, &lock, &rex);
	int r = mov_special_opcode(bytes, len, i, 0x23);
	if (r)
		return r;
	/* LOCK and REX.R (DR8-DR15) are #UD (SDM vol 2, MOV DRn): no debug register written */
	if (lock || (rex & 4))
		return -X86_EUNSUPPORTED;
	uint8_t modrm = bytes[i + 2];
	*dr = (modrm >> 3) & 7;
	*gpr = (unsigned)((rex & 1) << 3) | (modrm & 7);
	*insn_len = (unsigned)i + 3;
	return 0;
}

int x86_decode_cr_write(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode,
			struct x86_insn *out, enum x86_cr_write *kind, unsigned *cr)
{
	struct cursor c = { .bytes = bytes, .len = len };
	struct prefixes p = { .seg = -1 };
	bool long64 = mode == X86_MODE_LONG64;
	bool def16 = mode == X86_MODE_REAL || mode == X86_MODE_PROT16;

	memset(out, 0, sizeof(*out));
	out->mode = mode;
	out->reg = out->rm_reg = X86_REG_NONE;
	out->mem.base = out->mem.index = out->mem2.base = out->mem2.index = X86_REG_NONE;
	uint8_t b = read_prefixes(&c, long64, &p);
	if (c.err)
		return c.err;
	if (long64)
		out->addr_size = p.addrsize ? 4 : 8;
	else
		out->addr_size = def16 != p.addrsize ? 2 : 4;
	out->rex = p.rex != 0;
	if (b != 0x0f)
		return -X86_EUNSUPPORTED;
	out->opmap = 1;
	b = next_byte(&c);
	out->opcode = b;
	*cr = 0;
	switch (b) {
	case 0x06: /* CLTS */
		if (c.err)
			return c.err;
		if (p.lock)
			return -X86_EINVALID;
		*kind = X86_CRW_CLTS;
		break;
	case 0x22: {
		/* MOV CRn, r: the operand is always a register, whatever mod says (SDM vol 2, MOV
		 * CRn); LOCK adds 8 to the register number (AMD APM vol 3, "MOV CRn") */
		uint8_t modrm = next_byte(&c);
		if (c.err)
			return c.err;
		*kind = X86_CRW_MOV;
		*cr = (((p.rex >> 2) & 1u) << 3 | ((modrm >> 3) & 7u)) + (p.lock ? 8 : 0);
		out->rm_reg = (uint8_t)(((p.rex & 1) << 3) | (modrm & 7));
		out->op_size = long64 ? 8 : 4;
		break;
	}
	case 0x01: {
		/* group 7: /6 is LMSW Ew (SDM vol 2, table A-6); LOCK is #UD */
		if (c.pos >= c.len)
			return c.pos >= X86_MAX_INSN_LEN ? -X86_ETOOLONG : -X86_ETRUNC;
		if (((c.bytes[c.pos] >> 3) & 7) != 6)
			return -X86_EUNSUPPORTED;
		decode_modrm(&c, &p, out);
		if (c.err)
			return c.err;
		if (p.lock)
			return -X86_EINVALID;
		*kind = X86_CRW_LMSW;
		out->op_size = out->mem_size = 2;
		break;
	}
	default:
		return c.err ? c.err : -X86_EUNSUPPORTED;
	}
	out->len = (uint8_t)c.pos;
	return 0;
}

int x86_decode_string_io(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode,
			 unsigned *addr_size, enum x86_seg *seg)
{
	bool addr_override = false;

	*seg = X86_SEG_DS;
	/* legacy prefixes in any order, then (64-bit mode) REX, then 6C-6F (SDM vol 2, 2.1.1) */
	for (size_t i = 0; i < len && i < X86_MAX_INSN_LEN; i++) {
		uint8_t b = bytes[i];
		switch (b) {
		case 0x67:
			addr_override = true;
			continue;
		case 0x26:
			*seg = X86_SEG_ES;
			continue;
		case 0x2e:
			*seg = X86_SEG_CS;
			continue;
		case 0x36:
			*seg = X86_SEG_SS;
			continue;
		case 0x3e:
			*seg = X86_SEG_DS;
			continue;
		case 0x64:
			*seg = X86_SEG_FS;
			continue;
		case 0x65:
			*seg = X86_SEG_GS;
			continue;
		case 0x66:
		case 0xf0:
		case 0xf2:
		case 0xf3:
			continue;
		default:
			break;
		}
		if (mode == X86_MODE_LONG64 && (b & 0xf0) == 0x40)
			continue; /* REX: no bit of it matters to INS/OUTS */
		if (b < 0x6c || b > 0x6f)
			return -X86_EUNSUPPORTED;
		switch (mode) {
		case X86_MODE_LONG64:
			*addr_size = addr_override ? 4 : 8;
			break;
		case X86_MODE_PROT32:
			*addr_size = addr_override ? 2 : 4;
			break;
		default:
			*addr_size = addr_override ? 4 : 2;
			break;
		}
		return 0;
	}
	return len < X86_MAX_INSN_LEN ? -X86_ETRUNC : -X86_ETOOLONG;
}
