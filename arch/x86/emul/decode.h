/* x86 instruction decoder for the accesses guests make to emulated device memory.
 *
 * Without DecodeAssists an SVM nested page fault tells keel only the faulting guest-physical
 * address; keel fetches the bytes at CS:RIP (pagewalk.h) and decodes them here. The decoder knows
 * the legacy/REX prefix and ModRM/SIB/displacement/immediate layout of every mode (Intel SDM vol 2,
 * chapter 2) but accepts only the opcodes a guest uses on device registers (the table in
 * decode.c); anything else is X86_EUNSUPPORTED and the caller stops the VM with a state dump.
 *
 * Pure logic: any byte string is safe input, nothing is read past `len` or past 15 bytes. */
#ifndef KEEL_ARCH_X86_EMUL_DECODE_H
#define KEEL_ARCH_X86_EMUL_DECODE_H

#include "lib/types.h"

/* Architectural limit on instruction length (Intel SDM vol 2, 2.3.11). */
#define X86_MAX_INSN_LEN 15

/* The mode that decides default operand and address sizes (Intel SDM vol 1, 3.6 and vol 2,
 * 2.2.1). Compatibility mode decodes like the protected mode of the same CS.D. */
enum x86_cpu_mode {
	X86_MODE_REAL,	 /* real and virtual-8086 mode: 16-bit defaults */
	X86_MODE_PROT16, /* protected or compatibility mode, CS.D = 0 */
	X86_MODE_PROT32, /* protected or compatibility mode, CS.D = 1 */
	X86_MODE_LONG64, /* 64-bit mode: CS.L = 1 */
};

/* Errors (returned negated). */
enum x86_decode_err {
	X86_ETRUNC = 1,	  /* the bytes ended before the instruction did: fetch more */
	X86_ETOOLONG,	  /* longer than 15 bytes: #GP in the guest */
	X86_EINVALID,	  /* not a valid encoding (e.g. LOCK where it is not allowed): #UD */
	X86_EUNSUPPORTED, /* maybe valid, but not an instruction keel emulates */
};

enum x86_op {
	X86_OP_MOV,   /* 88-8B, A0-A3, C6/C7 /0 */
	X86_OP_MOVZX, /* 0F B6/B7 */
	X86_OP_MOVSX, /* 0F BE/BF */
	/* The eight group-1 ALU operations in ModRM.reg / opcode bits 5:3 order (SDM vol 2, A.4) */
	X86_OP_ADD,
	X86_OP_OR,
	X86_OP_ADC,
	X86_OP_SBB,
	X86_OP_AND,
	X86_OP_SUB,
	X86_OP_XOR,
	X86_OP_CMP,
	X86_OP_TEST, /* 84/85, F6/F7 /0 and /1 */
	X86_OP_XCHG, /* 86/87 */
	X86_OP_MOVS, /* A4/A5 */
	X86_OP_STOS, /* AA/AB */
};

/* Segment registers in their encoding order (SDM vol 2, 3.1.1.3 "Sreg"). */
enum x86_seg {
	X86_SEG_ES,
	X86_SEG_CS,
	X86_SEG_SS,
	X86_SEG_DS,
	X86_SEG_FS,
	X86_SEG_GS,
};

/* General-purpose registers by hardware number (REX extends 0-7 to 0-15). */
enum x86_gpr {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_R8,
	X86_R15 = 15,
	X86_REG_NONE = 0xff,
};

enum x86_rep {
	X86_REP_NONE,
	X86_REP_E,  /* F3: REP / REPE */
	X86_REP_NE, /* F2: REPNE (plain REP for MOVS/STOS) */
};

/* A memory operand: offset = base + index * scale + disp (+ rip of the next instruction when
 * rip_rel), truncated to the address size; its linear address adds the base of `seg`. */
struct x86_mem {
	uint8_t base;  /* enum x86_gpr, or X86_REG_NONE */
	uint8_t index; /* enum x86_gpr, or X86_REG_NONE */
	uint8_t scale; /* 1, 2, 4 or 8; 1 when there is no index */
	bool rip_rel;  /* 64-bit mode, ModRM mod=00 rm=101: relative to the next instruction */
	uint8_t seg;   /* enum x86_seg: the effective segment (override or default) */
	int64_t disp;  /* sign-extended; a moffs is zero-extended from the address size */
};

struct x86_insn {
	uint8_t len;	   /* bytes, prefixes included */
	uint8_t mode;	   /* enum x86_cpu_mode it was decoded for */
	uint8_t opmap;	   /* 0: one-byte map, 1: 0F map */
	uint8_t opcode;	   /* the opcode byte (after 0F for map 1) */
	uint8_t op;	   /* enum x86_op */
	uint8_t op_size;   /* bytes of the register / destination operand: 1, 2, 4 or 8 */
	uint8_t mem_size;  /* bytes read or written at the memory operand */
	uint8_t addr_size; /* 2, 4 or 8 */
	uint8_t rep;	   /* enum x86_rep, only kept for MOVS/STOS */
	bool lock;
	bool rex;     /* a REX prefix was in effect (byte registers 4-7 are SPL..DIL, not AH..BH) */
	bool has_mem; /* false for the register-only ModRM forms (mod = 11) */
	bool mem_is_dst; /* the memory operand is written (or, for CMP/TEST, is the left operand) */
	bool has_imm;
	struct x86_mem mem;  /* ModRM/moffs operand; MOVS: the source DS:[rSI]; STOS: ES:[rDI] */
	struct x86_mem mem2; /* MOVS only: the destination ES:[rDI] */
	uint8_t reg;	     /* register operand (ModRM.reg; rAX for moffs), or X86_REG_NONE */
	bool reg_high8;	     /* reg (4-7) names AH, CH, DH or BH */
	uint8_t rm_reg;	     /* !has_mem: the ModRM.rm register; else X86_REG_NONE */
	bool rm_high8;
	uint64_t imm; /* sign-extended to 64 bits, as the instruction uses it */
};

/* Decodes one instruction from bytes[0..len). 0 on success, or -enum x86_decode_err. */
int x86_decode(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, struct x86_insn *out);

/* For a string I/O exit (INS/OUTS, opcodes 6C-6F): the address size (2, 4 or 8) the prefixes
 * give it in mode, and the segment of its source (DS unless overridden; INS always writes ES:rDI,
 * whatever the prefix says). 0, or -X86_EUNSUPPORTED when the bytes are not INS/OUTS. */
/* For a CR0 or CR4 write exit without the register in the exit information (AMD-V without
 * DecodeAssists, or CLTS and LMSW, which it never describes): MOV to CRn (0F 22 /r, the mod field
 * ignored, with REX.R and AMD's LOCK form for CR8 and up), CLTS (0F 06) or LMSW (0F 01 /6, a
 * register or a 16-bit memory operand). For MOV, *cr is the control register and out->rm_reg the
 * source; for LMSW out->rm_reg or, when out->has_mem, out->mem holds the operand. out->len,
 * out->mode and out->addr_size are set as x86_decode sets them (for x86_mem_linear). 0,
 * -X86_ETRUNC, -X86_ETOOLONG, or -X86_EUNSUPPORTED when the bytes are none of these. */
enum x86_cr_write {
	X86_CRW_MOV,
	X86_CRW_CLTS,
	X86_CRW_LMSW,
};
int x86_decode_cr_write(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode,
			struct x86_insn *out, enum x86_cr_write *kind, unsigned *cr);

int x86_decode_string_io(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode,
			 unsigned *addr_size, enum x86_seg *seg);

/* For a CR8-write exit without the register in the exit information (AMD-V without
 * DecodeAssists): a MOV to CR8, 0F 22 /r with REX.R in 64-bit mode or AMD's LOCK-prefixed form
 * F0 0F 22 /r with reg 0 in any mode (AMD APM vol 3, "MOV CRn"). *gpr is the source register's
 * hardware number, *insn_len the instruction's length. 0, -X86_ETRUNC, or -X86_EUNSUPPORTED when
 * the bytes are anything else. */
int x86_decode_mov_to_cr8(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, unsigned *gpr,
			  unsigned *insn_len);

/* For a DR7-write exit without the register in the exit information (AMD-V without
 * DecodeAssists): a MOV to a debug register, 0F 23 /r (SDM vol 2, "MOV DRn"). *dr is the debug
 * register written, *gpr the source register's hardware number, *insn_len the instruction's
 * length. 0, -X86_ETRUNC, or -X86_EUNSUPPORTED when the bytes are anything else, or a form that
 * raises #UD (LOCK, REX.R). */
int x86_decode_mov_to_dr(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, unsigned *dr,
			 unsigned *gpr, unsigned *insn_len);

#endif
